/**
 * A model ready to classify, whatever runtime holds it: the app's tfjs model, an exported tfjs
 * folder, or an ONNX file in onnxruntime-node. Export verification and `effnet classify` use the
 * same classifiers, so what the verification proves is what classify runs.
 */

export interface Classifier {
  /** Class names in output order. */
  readonly labels: readonly string[];
  /** The square input size in pixels (the model's resolution). */
  readonly inputSize: number;
  /** What runs it, in words: `tfjs (cpu)`, `onnxruntime-node 1.30.0`. */
  readonly runtime: string;
  /**
   * Class probabilities for `count` images given as NHWC float32 RGB in 0–255 (the evaluation
   * preprocessing's output), `count × labels.length` values, image by image.
   */
  predict(pixels: Float32Array, count: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** Row-wise softmax of `count` rows, for models whose output layer is linear (logits). */
export function softmaxRows(values: Float32Array, count: number): Float32Array {
  const classes = values.length / count;
  const out = new Float32Array(values.length);
  for (let row = 0; row < count; row++) {
    const start = row * classes;
    let max = -Infinity;
    for (let i = 0; i < classes; i++) max = Math.max(max, values[start + i]!);
    let sum = 0;
    for (let i = 0; i < classes; i++) sum += out[start + i] = Math.exp(values[start + i]! - max);
    for (let i = 0; i < classes; i++) out[start + i]! /= sum;
  }
  return out;
}

/** Index of the largest value of each row. */
export function argmaxRows(values: Float32Array, count: number): Int32Array {
  const classes = values.length / count;
  const out = new Int32Array(count);
  for (let row = 0; row < count; row++) {
    let best = 0;
    for (let i = 1; i < classes; i++) if (values[row * classes + i]! > values[row * classes + best]!) best = i;
    out[row] = best;
  }
  return out;
}
