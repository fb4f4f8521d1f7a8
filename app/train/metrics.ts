import type { ClassMetrics, ConfusionMatrix } from '../common/train-types.ts';

/**
 * Classification metrics from predictions, accumulated batch by batch so that an evaluation never
 * holds all outputs in memory. Pure arithmetic (no tfjs): top-k is computed from the probabilities
 * the caller reads back.
 */
export class MetricAccumulator {
  private readonly confusion: number[][];
  private lossSum = 0;
  private count = 0;
  private topKHits = 0;

  constructor(
    readonly labels: readonly string[],
    readonly topK = 5,
  ) {
    this.confusion = labels.map(() => labels.map(() => 0));
  }

  /**
   * Adds a batch: `probabilities` is size × K row-major, `losses` per image (optional).
   * Returns the predicted class per image.
   */
  add(probabilities: ArrayLike<number>, trueLabels: ArrayLike<number>, losses?: ArrayLike<number>): Int32Array {
    const classes = this.labels.length;
    const size = trueLabels.length;
    const predicted = new Int32Array(size);
    const k = Math.min(this.topK, classes);
    for (let i = 0; i < size; i++) {
      const row = i * classes;
      const truth = trueLabels[i]!;
      let best = 0;
      for (let c = 1; c < classes; c++) if (probabilities[row + c]! > probabilities[row + best]!) best = c;
      predicted[i] = best;
      this.confusion[truth]![best]! += 1;
      // In the top k when fewer than k classes score strictly higher (ties count in the image's favour, as tf.math.in_top_k).
      const score = probabilities[row + truth]!;
      let higher = 0;
      for (let c = 0; c < classes; c++) if (probabilities[row + c]! > score) higher++;
      if (higher < k) this.topKHits++;
      if (losses) this.lossSum += losses[i]!;
    }
    this.count += size;
    return predicted;
  }

  get images(): number {
    return this.count;
  }

  result(): EvaluationMetrics {
    return summarise(this.labels, this.confusion, this.count, this.lossSum, this.topKHits, this.topK);
  }
}

export interface EvaluationMetrics {
  readonly loss: number;
  readonly accuracy: number;
  /** Top-k accuracy with k = min(5, classes). */
  readonly topKAccuracy: number;
  readonly topK: number;
  readonly images: number;
  readonly perClass: readonly ClassMetrics[];
  readonly confusion: ConfusionMatrix;
  /** Unweighted mean of the per-class F1 scores. */
  readonly macroF1: number;
}

function summarise(
  labels: readonly string[],
  matrix: number[][],
  count: number,
  lossSum: number,
  topKHits: number,
  topK: number,
): EvaluationMetrics {
  const correct = labels.reduce((sum, _, c) => sum + matrix[c]![c]!, 0);
  const perClass = labels.map((label, c): ClassMetrics => {
    const support = matrix[c]!.reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((sum, row) => sum + row[c]!, 0);
    const hits = matrix[c]![c]!;
    const precision = predicted > 0 ? hits / predicted : 0;
    const recall = support > 0 ? hits / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  return {
    loss: count > 0 ? lossSum / count : Number.NaN,
    accuracy: count > 0 ? correct / count : Number.NaN,
    topKAccuracy: count > 0 ? topKHits / count : Number.NaN,
    topK: Math.min(topK, labels.length),
    images: count,
    perClass,
    confusion: { labels: [...labels], matrix: matrix.map((row) => [...row]) },
    macroF1: perClass.length > 0 ? perClass.reduce((sum, one) => sum + one.f1, 0) / perClass.length : Number.NaN,
  };
}
