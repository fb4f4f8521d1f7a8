/**
 * Offline classification of files and folders: collect the images (folders recurse), preprocess
 * each as evaluation does, run them through a Classifier in batches, keep the top k. A file that
 * cannot be read is reported and skipped, never fatal (the same rule as the training pipeline).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { listFolder } from '../dataset/walk.ts';
import type { Classifier } from './classifier.ts';
import { openExportedTfjs, openModelFolder } from './tfjs-classifier.ts';
import { openOnnxFile } from './onnx-classifier.ts';
import type { ModelLocation } from './model-location.ts';
import { loadEvalImage } from './preprocess.ts';

export interface Prediction {
  readonly label: string;
  readonly probability: number;
}

export interface ClassifiedFile {
  readonly path: string;
  /** The k most probable classes, most probable first. */
  readonly top: readonly Prediction[];
}

export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
}

export interface ClassifyResult {
  readonly results: ClassifiedFile[];
  readonly skipped: SkippedFile[];
}

export interface ClassifyOptions {
  readonly topK?: number;
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export function openClassifier(location: ModelLocation): Promise<Classifier> {
  switch (location.kind) {
    case 'model':
      return openModelFolder(location.dir);
    case 'tfjs':
      return openExportedTfjs(location.dir);
    case 'onnx':
      return openOnnxFile(location.file);
  }
}

/**
 * The files to classify: named files as given (whatever their extension, so a wrongly named file
 * is reported rather than silently dropped), folders recursively by image extension, in path order.
 */
export async function collectImages(
  inputs: readonly string[],
  cwd: string,
): Promise<{
  files: string[];
  /** Files in the folders that are not images by extension (not read). */ ignored: number;
  missing: SkippedFile[];
}> {
  const files: string[] = [];
  const missing: SkippedFile[] = [];
  let ignored = 0;
  for (const input of inputs) {
    const full = path.resolve(cwd, input);
    const stat = await fs.stat(full).catch(() => undefined);
    if (!stat) missing.push({ path: full, reason: 'no such file or folder' });
    else if (stat.isDirectory()) {
      const listing = await listFolder(full, full);
      files.push(...listing.images.map((relative) => path.join(full, ...relative.split('/'))).sort());
      ignored += listing.ignored.length;
    } else files.push(full);
  }
  return { files: [...new Set(files)], ignored, missing };
}

export async function classifyFiles(
  classifier: Classifier,
  files: readonly string[],
  options: ClassifyOptions = {},
): Promise<ClassifyResult> {
  const topK = Math.min(options.topK ?? 5, classifier.labels.length);
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new AppError('invalid-argument', `batch size must be a whole number of at least 1, got ${batchSize}`);
  const size = classifier.inputSize * classifier.inputSize * 3;
  const results: ClassifiedFile[] = [];
  const skipped: SkippedFile[] = [];
  let done = 0;
  for (let start = 0; start < files.length; start += batchSize) {
    options.signal?.throwIfAborted();
    const chunk = files.slice(start, start + batchSize);
    const loaded: { path: string; pixels: Float32Array }[] = [];
    // Decoding is native (sharp) and asynchronous: a batch's files decode concurrently.
    const outcomes = await Promise.all(
      chunk.map((file) =>
        loadEvalImage(file, classifier.inputSize).then(
          (pixels) => ({ file, pixels }),
          (error: unknown) => ({ file, error }),
        ),
      ),
    );
    for (const outcome of outcomes) {
      if ('pixels' in outcome) loaded.push({ path: outcome.file, pixels: outcome.pixels });
      else if (outcome.error instanceof AppError && outcome.error.code === 'unreadable') {
        skipped.push({
          path: outcome.file,
          reason: (outcome.error.details as { reason?: string } | undefined)?.reason ?? outcome.error.message,
        });
      } else throw outcome.error;
    }
    if (loaded.length > 0) {
      const batch = new Float32Array(loaded.length * size);
      loaded.forEach((item, i) => batch.set(item.pixels, i * size));
      const probabilities = await classifier.predict(batch, loaded.length);
      const classes = classifier.labels.length;
      loaded.forEach((item, i) =>
        results.push({
          path: item.path,
          top: topPredictions(probabilities.subarray(i * classes, (i + 1) * classes), classifier.labels, topK),
        }),
      );
    }
    done += chunk.length;
    options.onProgress?.(done, files.length);
  }
  return { results, skipped };
}

export function topPredictions(probabilities: Float32Array, labels: readonly string[], k: number): Prediction[] {
  return Array.from(probabilities, (probability, index) => ({ index, probability }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, k)
    .map(({ index, probability }) => ({ label: labels[index]!, probability }));
}
