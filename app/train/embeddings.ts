import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../common/efficientnet/index.ts';
import { EVAL_CROP_FRACTION } from '../dataset/pipeline/config.ts';
import { DataPipeline, type PipelineOptions } from '../dataset/pipeline/pipeline.ts';
import type { LabeledItem } from './data.ts';

/**
 * Head mode's frozen-backbone features: the `avg_pool` output of every image, computed once and
 * cached under the app's cache folder. The key covers everything the numbers depend on (dataset
 * fingerprint, the backbone part of the spec, the starting weights, the input size and the eval
 * crop), so a second head-mode run on the same data trains in seconds without decoding an image.
 */

export const EMBEDDINGS_FOLDER = 'embeddings';
const CACHE_VERSION = 1;

export interface EmbeddingKeyParts {
  readonly datasetFingerprint: string;
  readonly spec: ModelSpec;
  readonly weightsIdentity: string;
}

export function embeddingCacheKey(parts: EmbeddingKeyParts): string {
  // The classifier part of the spec (classes, dropout, activation) does not change the features.
  const { numClasses: _classes, dropout: _dropout, classifierActivation: _activation, ...backbone } = parts.spec;
  const text = JSON.stringify({
    version: CACHE_VERSION,
    dataset: parts.datasetFingerprint,
    backbone,
    weights: parts.weightsIdentity,
    imageSize: parts.spec.resolution,
    crop: EVAL_CROP_FRACTION,
  });
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export interface Embeddings {
  readonly dim: number;
  /** Row i is the embedding of paths[i]. */
  readonly paths: readonly string[];
  readonly values: Float32Array;
}

interface CacheMeta {
  readonly version: number;
  readonly dim: number;
  readonly paths: readonly string[];
}

export async function readEmbeddingCache(cacheDir: string, key: string): Promise<Embeddings | null> {
  const base = path.join(cacheDir, EMBEDDINGS_FOLDER, key);
  try {
    const meta = JSON.parse(await fs.readFile(`${base}.json`, 'utf8')) as CacheMeta;
    const bytes = await fs.readFile(`${base}.bin`);
    if (meta.version !== CACHE_VERSION || bytes.byteLength !== meta.paths.length * meta.dim * 4) return null;
    return {
      dim: meta.dim,
      paths: meta.paths,
      values: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    };
  } catch {
    return null; // missing or damaged: recompute
  }
}

/** Writes the cache entry: the .bin first, then the .json that makes it valid, each via temp + rename. */
export async function writeEmbeddingCache(cacheDir: string, key: string, embeddings: Embeddings): Promise<void> {
  const folder = path.join(cacheDir, EMBEDDINGS_FOLDER);
  await fs.mkdir(folder, { recursive: true });
  const base = path.join(folder, key);
  const meta: CacheMeta = { version: CACHE_VERSION, dim: embeddings.dim, paths: embeddings.paths };
  const { values } = embeddings;
  await writeAtomically(`${base}.bin`, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  await writeAtomically(`${base}.json`, JSON.stringify(meta));
}

async function writeAtomically(file: string, content: string | Uint8Array): Promise<void> {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temp, content);
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

export interface ComputeOptions {
  readonly root: string;
  readonly batchSize: number;
  readonly pipeline: PipelineOptions;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Runs the backbone (in inference mode, on the current backend) over `items` and returns their
 * pooled features. Items that cannot be decoded are left out (the pipeline reports them).
 */
export async function computeEmbeddings(
  model: tf.LayersModel,
  items: readonly LabeledItem[],
  options: ComputeOptions,
): Promise<Embeddings | null> {
  const features = tf.model({ inputs: model.inputs, outputs: model.getLayer('avg_pool').output as tf.SymbolicTensor });
  const dim = features.outputs[0]!.shape[1] as number;
  const size = model.inputs[0]!.shape[1] as number;
  const pipeline = await DataPipeline.open(
    items.map((item) => ({ path: item.path, labelIndex: item.labelIndex })),
    { imageSize: size, batchSize: options.batchSize, shuffle: false, seed: 0, epoch: 0, augment: null, mode: 'eval' },
    { ...options.pipeline, root: options.root },
  );
  const rows: Float32Array[] = [];
  const paths: string[] = [];
  let done = 0;
  try {
    for await (const batch of pipeline.batches()) {
      if (options.signal?.aborted) return null;
      const output = tf.tidy(() => features.predict(tf.tensor4d(batch.images, [batch.size, size, size, 3])) as tf.Tensor);
      rows.push((await output.data()) as Float32Array);
      output.dispose();
      paths.push(...batch.paths);
      done += batch.size;
      options.onProgress?.(done, items.length);
    }
  } finally {
    await pipeline.close();
  }
  const values = new Float32Array(paths.length * dim);
  let offset = 0;
  for (const row of rows) {
    values.set(row, offset);
    offset += row.length;
  }
  return { dim, paths, values };
}

/** Rows of `embeddings` for `items`, in item order; items without a row are left out. */
export function selectRows(
  embeddings: Embeddings,
  items: readonly LabeledItem[],
): { values: Float32Array; labels: Int32Array; paths: string[] } {
  const row = new Map(embeddings.paths.map((p, i) => [p, i]));
  const kept = items.filter((item) => row.has(item.path));
  const values = new Float32Array(kept.length * embeddings.dim);
  kept.forEach((item, i) => {
    const from = row.get(item.path)! * embeddings.dim;
    values.set(embeddings.values.subarray(from, from + embeddings.dim), i * embeddings.dim);
  });
  return { values, labels: Int32Array.from(kept, (item) => item.labelIndex), paths: kept.map((item) => item.path) };
}

/** The union of two embedding sets (rows of `extra` win for paths in both). */
export function mergeEmbeddings(base: Embeddings | null, extra: Embeddings): Embeddings {
  if (!base) return extra;
  const extraPaths = new Set(extra.paths);
  const keep = base.paths.map((p, i) => [p, i] as const).filter(([p]) => !extraPaths.has(p));
  const values = new Float32Array((keep.length + extra.paths.length) * extra.dim);
  keep.forEach(([, i], to) => values.set(base.values.subarray(i * base.dim, (i + 1) * base.dim), to * extra.dim));
  values.set(extra.values, keep.length * extra.dim);
  return { dim: extra.dim, paths: [...keep.map(([p]) => p), ...extra.paths], values };
}
