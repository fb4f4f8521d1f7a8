import * as tf from '@tensorflow/tfjs';
import { perImageLoss, type LossSettings } from './losses.ts';
import type { Optimizer, TrainableWeight } from './optimizer.ts';

/** The model's output for a batch in training mode (dropout on, BatchNorm as the freeze plan says). */
export type TrainForward = (x: tf.Tensor) => tf.Tensor;

export interface StepResult {
  /** Mean loss over the step's images (weighted as trained). */
  readonly loss: number;
  readonly lossSum: number;
  readonly correct: number;
  readonly images: number;
}

/**
 * One optimizer step made of any number of micro-batches. Each micro-batch adds the gradient of its
 * SUMMED per-image loss; `apply` divides by the images of all micro-batches together. Σⱼ∇(Σᵢ∈ⱼ lᵢ)/N
 * is exactly ∇(Σᵢ lᵢ/N), the gradient of one batch of N images, so accumulation changes memory use,
 * not the mathematics (up to float rounding; BatchNorm in training mode and dropout are the
 * exceptions: they see the micro-batch, as in every framework).
 */
export class GradientAccumulator {
  private sums: tf.Tensor[] | null = null;
  private lossSum = 0;
  private correct = 0;
  private images = 0;

  constructor(
    private readonly weights: readonly TrainableWeight[],
    private readonly loss: LossSettings,
  ) {}

  get pendingImages(): number {
    return this.images;
  }

  /** Forward + backward of one micro-batch; `labels` are class indices. */
  add(forward: TrainForward, x: tf.Tensor, labels: tf.Tensor1D): void {
    const variables = this.weights.map((weight) => weight.variable);
    let predicted: tf.Tensor | undefined;
    const { value, summed } = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const output = forward(x);
        // Kept past the gradient tape's own tidy, which disposes everything the loss does not return.
        predicted = tf.keep(tf.argMax(output, -1));
        return tf.sum(perImageLoss(output, labels, this.loss)) as tf.Scalar;
      }, variables);
      // A weight the loss does not reach gets no gradient from tfjs; it gets zero here.
      const list = variables.map((variable) => grads[variable.name] ?? tf.zerosLike(variable));
      return { value, summed: this.sums ? list.map((gradient, i) => tf.add(this.sums![i]!, gradient)) : list };
    });
    if (this.sums) tf.dispose(this.sums);
    this.sums = summed;
    const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(predicted!, tf.cast(labels, predicted!.dtype)), 'int32')));
    this.lossSum += value.dataSync()[0]!;
    this.correct += hits.dataSync()[0]!;
    this.images += labels.shape[0];
    tf.dispose([value, hits, predicted!]);
  }

  /** Applies the averaged gradient with `optimizer` and resets. */
  apply(optimizer: Optimizer, learningRate: number): StepResult {
    const result: StepResult = {
      loss: this.lossSum / Math.max(1, this.images),
      lossSum: this.lossSum,
      correct: this.correct,
      images: this.images,
    };
    if (this.sums && this.images > 0) {
      const averaged = tf.tidy(() => this.sums!.map((sum) => tf.div(sum, this.images)));
      optimizer.apply(this.weights, averaged, learningRate);
      tf.dispose(averaged);
    }
    this.reset();
    return result;
  }

  reset(): void {
    if (this.sums) tf.dispose(this.sums);
    this.sums = null;
    this.lossSum = 0;
    this.correct = 0;
    this.images = 0;
  }
}
