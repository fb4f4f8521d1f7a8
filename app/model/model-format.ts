import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { validateSpec, type ModelSpec } from '../common/efficientnet/index.ts';
import { METADATA_FILE } from './file-names.ts';
import { fileSystemHandler, MODEL_JSON } from './fs-io.ts';
import { registerEffnetLayers } from './layers.ts';
import { metadataSchema, describeIssues, type ModelMetadata, type PreprocessingInfo, type Provenance } from './model-format-schema.ts';

export type { ModelMetadata, PreprocessingInfo, Provenance } from './model-format-schema.ts';

/**
 * The project's own model format: a folder with the tfjs LayersModel (`model.json` + weight shards,
 * loadable by plain `tf.loadLayersModel` once `registerEffnetLayers()` ran) and `effnet.json`, which
 * says what the model is (spec), what its outputs mean (labels) and what its input must look like
 * (preprocessing). All of it is written in one atomic step (fs-io.ts).
 */
export { METADATA_FILE };
/** Bump when effnet.json changes incompatibly; older apps then refuse newer models with a clear message. */
export const MODEL_FORMAT_VERSION = 1;

export interface SaveModelMetadata {
  readonly spec: ModelSpec;
  /** Class names in output order; empty for a model without a classifier. */
  readonly labels: readonly string[];
  readonly provenance?: Provenance;
  /** ISO time; defaults to now. */
  readonly createdAt?: string;
}

export interface LoadedModel {
  readonly model: tf.LayersModel;
  readonly metadata: ModelMetadata;
}

/** Saves `model` into the folder `dir` (replacing a model saved there before); returns the metadata as written. */
export async function saveModel(model: tf.LayersModel, dir: string, input: SaveModelMetadata): Promise<ModelMetadata> {
  const metadata: ModelMetadata = {
    formatVersion: MODEL_FORMAT_VERSION,
    spec: input.spec,
    labels: [...input.labels],
    preprocessing: await describePreprocessing(model, input.spec),
    createdAt: input.createdAt ?? new Date().toISOString(),
    ...(input.provenance === undefined ? {} : { provenance: input.provenance }),
  };
  const file = path.join(path.resolve(dir), METADATA_FILE);
  // Validate what we write with the schema we read with, so a saved model always loads.
  const parsed = metadataSchema.safeParse(metadata);
  if (!parsed.success) throw new AppError('model-metadata-invalid', `Cannot save ${file}: ${describeIssues(parsed.error)}.`);
  checkSpec(file, metadata.spec);
  checkModelMatches(model, metadata, file);
  const text = `${JSON.stringify(metadata, null, 2)}\n`;
  await model.save(fileSystemHandler(dir, { extraFiles: { [METADATA_FILE]: text } }));
  // What a later load returns (JSON drops undefined fields such as a named variant's coefficients).
  return JSON.parse(text) as ModelMetadata;
}

/** Loads a model folder written by saveModel. Throws AppErrors naming the file and field at fault. */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const metadata = await readModelMetadata(dir);
  registerEffnetLayers();
  const jsonFile = path.join(path.resolve(dir), MODEL_JSON);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(fileSystemHandler(dir));
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('model-corrupt', `${jsonFile} could not be turned into a model: ${(error as Error).message}`, {
      hint: 'The file is damaged or was written by another program; save the model again.',
      cause: error,
    });
  }
  try {
    checkModelMatches(model, metadata, path.join(path.resolve(dir), METADATA_FILE));
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, metadata };
}

/** Reads and validates a folder's effnet.json without loading the weights (for listings). */
export async function readModelMetadata(dir: string): Promise<ModelMetadata> {
  const file = path.join(path.resolve(dir), METADATA_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new AppError(missing ? 'model-not-found' : 'model-unreadable', `${file} ${missing ? 'does not exist' : 'cannot be read'}.`, {
      hint: missing ? 'This folder is not an EffNet Studio model; choose the folder that holds model.json and effnet.json.' : undefined,
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError('model-metadata-invalid', `${file} is not valid JSON: ${(error as Error).message}`, {
      hint: 'The file is damaged; save the model again or restore it from a backup.',
    });
  }
  const version = (value as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && Number.isInteger(version) && version > MODEL_FORMAT_VERSION) {
    throw new AppError(
      'model-format-too-new',
      `${file} has formatVersion ${version}; this app reads up to ${MODEL_FORMAT_VERSION}. Update the app to open this model.`,
      { hint: 'Update the app: the model was saved by a newer version.' },
    );
  }
  const parsed = metadataSchema.safeParse(value);
  if (!parsed.success) {
    throw new AppError('model-metadata-invalid', `${file}: ${describeIssues(parsed.error)}.`, {
      hint: 'The metadata is damaged or was edited by hand; fix the field named or save the model again.',
    });
  }
  const metadata = parsed.data as ModelMetadata;
  checkSpec(file, metadata.spec);
  return metadata;
}

function checkSpec(file: string, spec: ModelSpec): void {
  try {
    validateSpec(spec);
  } catch (error) {
    throw new AppError('model-metadata-invalid', `${file}: spec: ${(error as Error).message}.`);
  }
}

/**
 * What the model's input must look like. With in-model normalisation, mean/std are read from the
 * model's Normalization layer (an imported or adapted model may differ from ImageNet's values).
 */
async function describePreprocessing(model: tf.LayersModel, spec: ModelSpec): Promise<PreprocessingInfo> {
  const base = {
    mode: spec.preprocessing,
    inputSize: [spec.resolution, spec.resolution] as [number, number],
    channels: 'rgb' as const,
    layout: 'nhwc' as const,
  };
  const normalization = model.layers.find((layer) => layer.getClassName() === 'Normalization');
  if (spec.preprocessing !== 'imagenet' || normalization === undefined) return { ...base, inputRange: null, mean: null, std: null };
  const [mean, variance] = normalization.getWeights();
  const round = (values: Float32Array | Int32Array | Uint8Array) => Array.from(values, (v) => Number(v.toPrecision(7)));
  return {
    ...base,
    inputRange: [0, 255],
    mean: round(await mean!.data()),
    std: round(Float32Array.from(await variance!.data(), (v) => Math.sqrt(v))),
  };
}

/** The graph and the metadata must describe the same model, or predictions would be mislabelled. */
function checkModelMatches(model: tf.LayersModel, metadata: ModelMetadata, file: string): void {
  const { spec, labels } = metadata;
  const inputShape = model.inputs[0]?.shape ?? [];
  if (inputShape[1] !== spec.resolution || inputShape[2] !== spec.resolution || inputShape[3] !== 3) {
    throw new AppError(
      'model-metadata-mismatch',
      `${file}: spec.resolution is ${spec.resolution}, but the model's input is [${inputShape.slice(1).join(', ')}].`,
    );
  }
  if (spec.includeTop) {
    const outputShape = model.outputs[0]?.shape ?? [];
    const classes = outputShape[outputShape.length - 1];
    if (classes !== spec.numClasses || labels.length !== spec.numClasses) {
      throw new AppError(
        'model-metadata-mismatch',
        `${file}: the model has ${classes} outputs, spec.numClasses is ${spec.numClasses} and there are ${labels.length} labels; all three must agree.`,
        { hint: 'Pass one label per output class, in output order.' },
      );
    }
  } else if (labels.length > 0) {
    throw new AppError(
      'model-metadata-mismatch',
      `${file}: a model without a classifier (includeTop false) has no labels, got ${labels.length}.`,
    );
  }
}
