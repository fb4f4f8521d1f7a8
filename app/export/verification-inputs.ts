/**
 * The inputs an export is verified on: the run's validation images (or images the caller passes),
 * preprocessed exactly as evaluation does, plus seeded random images, which reach parts of the
 * input space real photos do not (saturated pixels, noise) and need no dataset at all.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadEvalImage } from '../classify/preprocess.ts';
import { AppError, toErrorData } from '../common/errors.ts';
import { createRandom } from '../common/random.ts';
import { openDataset } from '../dataset/readers/registry.ts';
import type { VerificationReport, VerificationSet } from './verify.ts';

export interface VerificationImage {
  readonly path: string;
  /** The true class name, when known (accuracy is reported for these). */
  readonly label?: string;
}

export interface VerificationInputOptions {
  readonly labels: readonly string[];
  readonly inputSize: number;
  /** Images beyond this many are thinned out evenly (default 256). */
  readonly maxImages?: number;
  /** Random images (default 32). */
  readonly randomInputs?: number;
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly onImage?: (done: number, total: number) => void;
}

export const DEFAULT_MAX_IMAGES = 256;
export const DEFAULT_RANDOM_INPUTS = 32;

export async function buildVerificationSets(
  images: readonly VerificationImage[],
  options: VerificationInputOptions,
): Promise<{ sets: VerificationSet[]; skipped: VerificationReport['skippedImages'] }> {
  const size = options.inputSize * options.inputSize * 3;
  const chosen = thinOut(images, options.maxImages ?? DEFAULT_MAX_IMAGES);
  const pixels: Float32Array[] = [];
  const labels: number[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const [i, image] of chosen.entries()) {
    options.signal?.throwIfAborted();
    try {
      pixels.push(await loadEvalImage(image.path, options.inputSize));
      labels.push(image.label === undefined ? -1 : options.labels.indexOf(image.label));
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'unreadable') throw error;
      skipped.push({ path: image.path, reason: toErrorData(error).message });
    }
    options.onImage?.(i + 1, chosen.length);
  }
  const sets: VerificationSet[] = [];
  if (pixels.length > 0) {
    const all = new Float32Array(pixels.length * size);
    pixels.forEach((one, i) => all.set(one, i * size));
    sets.push({ name: 'images', pixels: all, count: pixels.length, labels: Int32Array.from(labels) });
  }
  const randomCount = options.randomInputs ?? DEFAULT_RANDOM_INPUTS;
  if (randomCount > 0)
    sets.push({ name: 'random', pixels: randomImages(randomCount, options.inputSize, options.seed ?? 20240501), count: randomCount });
  return { sets, skipped };
}

/**
 * Seeded random images, NHWC 0–255: per image a random colour, a random wave pattern and random
 * noise, clipped to 0–255. Pure per-pixel noise would be a poor probe: global pooling averages it
 * to nearly the same features for every image, so all images would get the same prediction.
 */
export function randomImages(count: number, size: number, seed: number): Float32Array {
  const random = createRandom(seed);
  const pixels = new Float32Array(count * size * size * 3);
  for (let i = 0, at = 0; i < count; i++) {
    const colour = [random() * 255, random() * 255, random() * 255];
    const amplitude = random() * 128;
    const [fx, fy, phase] = [random() * 0.8, random() * 0.8, random() * 2 * Math.PI];
    const noise = random() * 64;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          const value = colour[c]! + amplitude * Math.sin(fx * x + fy * y + phase + c) + (random() * 2 - 1) * noise;
          pixels[at++] = Math.min(255, Math.max(0, value));
        }
      }
    }
  }
  return pixels;
}

/** Every k-th item so that at most `max` remain, spread over the whole list (and so over the classes). */
function thinOut<T>(items: readonly T[], max: number): readonly T[] {
  if (items.length <= max) return items;
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]!);
}

/**
 * The validation images of a training checkpoint: its split.json (the exact file lists trained
 * on) applied to the dataset at `datasetPath`. Files that have gone missing are left out.
 */
export async function checkpointValidationImages(checkpointDir: string, datasetPath: string): Promise<VerificationImage[]> {
  const file = path.join(checkpointDir, 'split.json');
  let split: { val?: unknown };
  try {
    split = JSON.parse(await fs.readFile(file, 'utf8')) as { val?: unknown };
  } catch (error) {
    throw new AppError('checkpoint-invalid', `${file} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const val = Array.isArray(split.val) ? (split.val as unknown[]).filter((entry): entry is string => typeof entry === 'string') : [];
  const dataset = await openDataset(datasetPath);
  const byPath = new Map(dataset.items.map((item) => [item.path, item]));
  return val.flatMap((listed) => {
    const item = byPath.get(listed);
    return item ? [{ path: path.resolve(dataset.root, item.path), label: item.label }] : [];
  });
}

/** Images of a dataset folder or manifest for `--images`: its validation split when it has one, else all. */
export async function datasetImages(location: string): Promise<VerificationImage[]> {
  const dataset = await openDataset(location);
  const validation = dataset.items.filter((item) => item.split === 'val');
  const items = validation.length > 0 ? validation : dataset.items;
  return items.map((item) => ({ path: path.resolve(dataset.root, item.path), label: item.label }));
}
