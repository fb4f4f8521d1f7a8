import * as tf from '@tensorflow/tfjs';
import type { MisclassifiedCell } from '../common/train-types.ts';
import { perImageLoss, type LossSettings } from './losses.ts';
import { MetricAccumulator, type EvaluationMetrics } from './metrics.ts';

/** A batch of model inputs as plain data: images (NHWC, RGB 0–255) or head-mode embeddings. */
export interface RawBatch {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  readonly labels: Int32Array;
  readonly paths: readonly string[];
  readonly size: number;
  /** Position of the batch in its epoch (micro-batch index). */
  readonly index: number;
}

/** The model's output in inference mode. */
export type EvalForward = (x: tf.Tensor) => tf.Tensor;

export interface EvaluationResult {
  readonly metrics: EvaluationMetrics;
  /** Present when asked for: every wrong prediction, grouped by confusion cell. */
  readonly misclassified?: readonly MisclassifiedCell[];
}

export interface EvaluateBatchesOptions {
  readonly collectMisclassified?: boolean;
  /** Keep only this many images per cell (the most confident); `count` still says how many there were. */
  readonly misclassifiedPerCell?: number;
  readonly signal?: AbortSignal;
  readonly onBatch?: (images: number) => void;
}

/**
 * Runs `forward` over the batches and accumulates loss (label smoothing as trained, no class
 * weights: Keras applies class_weight to training only), accuracy, top-5, per-class metrics and the
 * confusion matrix. Returns null when `signal` aborts it.
 */
export async function evaluateBatches(
  batches: AsyncIterable<RawBatch>,
  forward: EvalForward,
  labels: readonly string[],
  loss: LossSettings,
  options: EvaluateBatchesOptions = {},
): Promise<EvaluationResult | null> {
  const accumulator = new MetricAccumulator(labels);
  const cells = new Map<string, { path: string; confidence: number }[]>();
  for await (const batch of batches) {
    if (options.signal?.aborted) return null;
    const [probabilities, losses] = tf.tidy(() => {
      const x = tf.tensor(batch.data, [...batch.shape]);
      const y = tf.tensor1d(batch.labels, 'int32');
      const output = forward(x);
      const probs = loss.probabilities ? output : tf.softmax(output);
      return [probs, perImageLoss(output, y, loss, false)];
    });
    const values = (await probabilities.data()) as Float32Array;
    const lossValues = (await losses.data()) as Float32Array;
    tf.dispose([probabilities, losses]);
    const predicted = accumulator.add(values, batch.labels, lossValues);
    if (options.collectMisclassified) {
      predicted.forEach((p, i) => {
        const actual = batch.labels[i]!;
        if (p === actual) return;
        const key = `${actual},${p}`;
        const list = cells.get(key) ?? [];
        const confidence = values[i * labels.length + p]!;
        // A diverged model's NaN must not make the epoch's event invalid.
        list.push({ path: batch.paths[i]!, confidence: Number.isFinite(confidence) ? confidence : 0 });
        cells.set(key, list);
      });
    }
    options.onBatch?.(accumulator.images);
  }
  const metrics = accumulator.result();
  if (!options.collectMisclassified) return { metrics };
  const misclassified = [...cells.entries()]
    .map(([key, items]) => {
      const [actual, predicted] = key.split(',').map(Number) as [number, number];
      const sorted = items.sort((a, b) => b.confidence - a.confidence);
      const kept = options.misclassifiedPerCell === undefined ? sorted : sorted.slice(0, options.misclassifiedPerCell);
      return { actual: labels[actual]!, predicted: labels[predicted]!, count: items.length, items: kept };
    })
    .sort((a, b) => b.items.length - a.items.length);
  return { metrics, misclassified };
}
