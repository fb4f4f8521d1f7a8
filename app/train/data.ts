import { access } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import type { TrainConfig } from '../common/train-config.ts';
import { datasetFingerprint } from '../dataset/fingerprint.ts';
import { openDataset } from '../dataset/readers/registry.ts';
import { scanItems, type ScanProgress } from '../dataset/scan.ts';
import { applySplit, loadSplit, makeSplit, type SavedSplit } from '../dataset/split.ts';
import type { Dataset, DatasetItem } from '../dataset/types.ts';
import { SPLIT_FILE_NAME } from '../dataset/walk.ts';

/** An image to train or evaluate on: path relative to the dataset root (POSIX separators) and class index. */
export interface LabeledItem {
  readonly path: string;
  readonly label: string;
  readonly labelIndex: number;
}

export interface TrainingData {
  readonly root: string;
  readonly source: string;
  readonly classes: readonly string[];
  readonly fingerprint: string;
  readonly train: readonly LabeledItem[];
  readonly validation: readonly LabeledItem[];
  readonly test: readonly LabeledItem[];
  /** The file lists trained on (kept in every checkpoint, so a resume uses exactly these). */
  readonly split: SavedSplit;
  /** Where the split came from. */
  readonly splitOrigin: 'checkpoint' | 'dataset-file' | 'made';
  readonly warnings: readonly { readonly code: string; readonly message: string }[];
}

export interface LoadDataOptions {
  /** The split of the run being resumed: wins over everything else. */
  readonly split?: SavedSplit;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScanProgress) => void;
}

/**
 * Opens the dataset with the app/dataset readers, fingerprints it (file hashes, no decoding) and
 * decides the split: the resumed run's, else the dataset's saved `effnet-split.json`, else a
 * stratified split made from the config's fractions and seed.
 */
export async function loadTrainingData(settings: TrainConfig['dataset'], options: LoadDataOptions = {}): Promise<TrainingData> {
  const dataset = await openDataset(settings.path, settings.format ? { format: settings.format } : {});
  if (dataset.classes.length < 2) {
    throw new AppError('dataset-too-small', `${dataset.source} has ${dataset.classes.length} class(es); a classifier needs at least 2.`, {
      hint: 'Put each class in its own folder (or give a manifest with a label column).',
    });
  }
  const scanned = await scanItems(dataset.root, dataset.items, { decode: false, signal: options.signal, onProgress: options.onProgress });
  const fingerprint = datasetFingerprint(scanned);
  const warnings: { code: string; message: string }[] = [];
  const unreadable = scanned.filter((entry) => entry.error);
  if (unreadable.length > 0) {
    warnings.push({
      code: 'unreadable-images',
      message: `${unreadable.length} file(s) of ${dataset.source} cannot be read and are left out.`,
    });
  }

  let split: SavedSplit;
  let origin: TrainingData['splitOrigin'];
  const splitFile = path.join(dataset.root, SPLIT_FILE_NAME);
  if (options.split) {
    split = options.split;
    origin = 'checkpoint';
  } else if (await fileExists(splitFile)) {
    split = await loadSplit(splitFile);
    origin = 'dataset-file';
  } else {
    split = makeSplit(dataset, scanned, {
      ratios: { val: settings.validationSplit, test: settings.testSplit },
      seed: settings.splitSeed,
      fingerprint,
    });
    origin = 'made';
  }
  const applied = applySplit(split, dataset, fingerprint, origin === 'dataset-file' ? splitFile : 'the split');
  if (applied.unassigned.length > 0) {
    warnings.push({
      code: 'split-unassigned',
      message: `${applied.unassigned.length} image(s) were added to the dataset after its split was made and are not used.`,
    });
  }
  const label = labeler(dataset);
  const data: TrainingData = {
    root: dataset.root,
    source: dataset.source,
    classes: dataset.classes,
    fingerprint,
    train: applied.train.map(label),
    validation: applied.val.map(label),
    test: applied.test.map(label),
    split,
    splitOrigin: origin,
    warnings,
  };
  if (data.train.length === 0) {
    throw new AppError('dataset-too-small', `${dataset.source}: the training split is empty.`, {
      hint: 'Add images, or lower validationSplit/testSplit.',
    });
  }
  if (data.validation.length === 0) {
    warnings.push({
      code: 'no-validation',
      message: 'There is no validation split: no validation metrics, best checkpoint or early stopping.',
    });
  }
  return data;
}

function labeler(dataset: Dataset): (item: DatasetItem) => LabeledItem {
  const index = new Map(dataset.classes.map((name, i) => [name, i]));
  return (item) => ({ path: item.path, label: item.label, labelIndex: index.get(item.label)! });
}

/** Training images per class, in class order. */
export function classCounts(items: readonly LabeledItem[], classes: readonly string[]): number[] {
  const counts = classes.map(() => 0);
  for (const item of items) counts[item.labelIndex]! += 1;
  return counts;
}

async function fileExists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
