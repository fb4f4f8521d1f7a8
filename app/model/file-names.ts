/**
 * The file names of the model folders, in a module without tfjs: code that only looks at folders
 * (model-location.ts, run by the API process to check a MODEL argument before a job starts) must
 * not load tfjs into that process.
 */

/** The tfjs LayersModel topology and weights manifest (fs-io.ts). */
export const MODEL_JSON = 'model.json';
/** The app's model description beside it (model-format.ts). */
export const METADATA_FILE = 'effnet.json';
/** The class names of an exported tfjs folder (tfjs-classifier.ts). */
export const LABELS_FILE = 'labels.json';
