/**
 * Export parity: the same inputs through the exported artifact (in its own runtime) and the trained
 * model, compared. Exported models that silently differ from the app are the top complaint about
 * today's tools (product-landscape §3.2.1, §4.5), so every export carries this report and fails
 * when float32 differs by more than 1e-4 or a quantized export agrees on fewer than 99% of top-1s.
 */
import { argmaxRows, type Classifier } from '../classify/classifier.ts';
import type { Quantization } from './quantize.ts';

export const FLOAT_TOLERANCE = 1e-4;
export const QUANTIZED_AGREEMENT = 0.99;

/** A batch of preprocessed inputs (NHWC 0–255) with, for images, the true class index (−1 unknown). */
export interface VerificationSet {
  readonly name: 'images' | 'random';
  readonly pixels: Float32Array;
  readonly count: number;
  readonly labels?: Int32Array;
}

export interface SetReport {
  readonly inputs: number;
  readonly maxAbsDiff: number;
  readonly meanAbsDiff: number;
  readonly top1Agreement: number | null;
  /** Inputs with a known class, and accuracy on them; null without any. */
  readonly labeled: number;
  readonly accuracyOriginal: number | null;
  readonly accuracyExported: number | null;
}

export interface VerificationReport {
  readonly version: 1;
  readonly passed: boolean;
  readonly quantization: Quantization;
  /** What was judged: max |Δp| over all inputs (float32), top-1 agreement over the images, else all inputs (quantized). */
  readonly criterion: { readonly metric: 'maxAbsDiff' | 'top1Agreement'; readonly threshold: number; readonly on: 'all' | 'images' };
  /** The exported artifact's runtime and the reference's. */
  readonly runtime: string;
  readonly reference: string;
  readonly sets: Readonly<Partial<Record<VerificationSet['name'], SetReport>>>;
  readonly overall: SetReport;
  /** Why it failed, in sentences with the numbers; empty when it passed. */
  readonly failures: readonly string[];
  /** Images that could not be read and were left out. */
  readonly skippedImages: readonly { readonly path: string; readonly reason: string }[];
  readonly createdAt: string;
}

export interface VerifyOptions {
  readonly quantization: Quantization;
  readonly batchSize?: number;
  readonly skippedImages?: VerificationReport['skippedImages'];
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export async function verifyExport(
  reference: Classifier,
  exported: Classifier,
  sets: readonly VerificationSet[],
  options: VerifyOptions,
): Promise<VerificationReport> {
  const batchSize = options.batchSize ?? 16;
  const total = sets.reduce((sum, set) => sum + set.count, 0);
  const size = reference.inputSize * reference.inputSize * 3;
  const classes = reference.labels.length;
  let done = 0;
  const collected: { reference: Float32Array; exported: Float32Array; labels?: Int32Array; set: VerificationSet }[] = [];
  for (const set of sets) {
    const ours = new Float32Array(set.count * classes);
    const theirs = new Float32Array(set.count * classes);
    for (let start = 0; start < set.count; start += batchSize) {
      options.signal?.throwIfAborted();
      const count = Math.min(batchSize, set.count - start);
      const batch = set.pixels.subarray(start * size, (start + count) * size);
      ours.set(await reference.predict(batch, count), start * classes);
      theirs.set(await exported.predict(batch, count), start * classes);
      done += count;
      options.onProgress?.(done, total);
    }
    collected.push({ reference: ours, exported: theirs, labels: set.labels, set });
  }

  const reports: Partial<Record<VerificationSet['name'], SetReport>> = {};
  for (const entry of collected) reports[entry.set.name] = compare(entry.reference, entry.exported, entry.set.count, entry.labels);
  const overall = compare(
    concat(collected.map((entry) => entry.reference)),
    concat(collected.map((entry) => entry.exported)),
    total,
    concatInt(collected.map((entry) => entry.labels ?? new Int32Array(entry.set.count).fill(-1))),
  );

  // Quantized exports are judged on real images when there are any: random inputs are off the data
  // the model knows, where near-ties are common and a flip says nothing about deployment accuracy.
  const quantized = options.quantization !== 'none';
  const judged = quantized && reports.images ? reports.images : overall;
  const judgedOn = judged === overall ? `${total} inputs` : `${judged.inputs} images`;
  const criterion = quantized
    ? ({ metric: 'top1Agreement', threshold: QUANTIZED_AGREEMENT, on: judged === overall ? 'all' : 'images' } as const)
    : ({ metric: 'maxAbsDiff', threshold: FLOAT_TOLERANCE, on: 'all' } as const);
  const failures: string[] = [];
  if (total === 0) failures.push('No inputs were run through the artifact, so nothing was verified.');
  else if (!quantized && !(overall.maxAbsDiff <= FLOAT_TOLERANCE)) {
    failures.push(
      `The largest difference in probabilities is ${overall.maxAbsDiff.toExponential(3)}, above the float32 tolerance ${FLOAT_TOLERANCE} (top-1 agreement ${percent(overall.top1Agreement)}).`,
    );
  } else if (quantized && !((judged.top1Agreement ?? 0) >= QUANTIZED_AGREEMENT)) {
    failures.push(
      `The ${options.quantization} artifact agrees with the trained model on the top class for ${percent(judged.top1Agreement)} of ${judgedOn}, below ${percent(QUANTIZED_AGREEMENT)} (max difference ${judged.maxAbsDiff.toExponential(3)}).`,
    );
  }
  return {
    version: 1,
    passed: failures.length === 0,
    quantization: options.quantization,
    criterion,
    runtime: exported.runtime,
    reference: reference.runtime,
    sets: reports,
    overall,
    failures,
    skippedImages: options.skippedImages ?? [],
    createdAt: new Date().toISOString(),
  };
}

function compare(reference: Float32Array, exported: Float32Array, count: number, labels?: Int32Array): SetReport {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const diff = Math.abs(reference[i]! - exported[i]!);
    // NaN must fail the check, so it becomes an infinite difference.
    const value = Number.isNaN(diff) ? Infinity : diff;
    max = Math.max(max, value);
    sum += value;
  }
  const ours = argmaxRows(reference, Math.max(count, 1));
  const theirs = argmaxRows(exported, Math.max(count, 1));
  let agree = 0;
  let labeled = 0;
  let rightOurs = 0;
  let rightTheirs = 0;
  for (let i = 0; i < count; i++) {
    if (ours[i] === theirs[i]) agree++;
    const label = labels?.[i] ?? -1;
    if (label < 0) continue;
    labeled++;
    if (ours[i] === label) rightOurs++;
    if (theirs[i] === label) rightTheirs++;
  }
  return {
    inputs: count,
    maxAbsDiff: max,
    meanAbsDiff: reference.length > 0 ? sum / reference.length : 0,
    top1Agreement: count > 0 ? agree / count : null,
    labeled,
    accuracyOriginal: labeled > 0 ? rightOurs / labeled : null,
    accuracyExported: labeled > 0 ? rightTheirs / labeled : null,
  };
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => (out.set(part, offset), offset + part.length), 0);
  return out;
}

function concatInt(parts: readonly Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => (out.set(part, offset), offset + part.length), 0);
  return out;
}

function percent(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(2)}%`;
}
