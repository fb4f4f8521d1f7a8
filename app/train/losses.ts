import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import type { TrainConfig } from '../common/train-config.ts';

/** Keras' backend epsilon: probabilities are clipped to [ε, 1 − ε] before the log, as Keras' categorical_crossentropy does. */
export const PROBABILITY_EPSILON = 1e-7;

export interface LossSettings {
  readonly numClasses: number;
  /** ε of label smoothing (Szegedy et al. 2016): targets become (1 − ε)·onehot + ε/K. */
  readonly labelSmoothing: number;
  /** One weight per class, or null for all ones. */
  readonly classWeights: Float32Array | null;
  /** The model's output is a softmax (else logits). */
  readonly probabilities: boolean;
}

/**
 * Per-image cross-entropy of the model output against integer labels, with label smoothing and class
 * weights. Returned unreduced: the step sums it and divides by the images of the whole (accumulated)
 * batch, which is what makes N micro-batches equal to one large batch, and matches Keras' class_weight
 * reduction (Σ wᵢ·lossᵢ / n, not / Σ wᵢ).
 */
export function perImageLoss(output: tf.Tensor, labels: tf.Tensor1D, settings: LossSettings, weighted = true): tf.Tensor1D {
  return tf.tidy(() => {
    const { numClasses, labelSmoothing } = settings;
    let target = tf.oneHot(labels, numClasses).toFloat();
    if (labelSmoothing > 0) target = tf.add(tf.mul(target, 1 - labelSmoothing), labelSmoothing / numClasses);
    const logProbabilities = settings.probabilities
      ? tf.log(tf.clipByValue(output, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON))
      : tf.logSoftmax(output);
    let loss = tf.neg(tf.sum(tf.mul(target, logProbabilities), -1)) as tf.Tensor1D;
    if (weighted && settings.classWeights) loss = tf.mul(loss, tf.gather(tf.tensor1d(settings.classWeights), labels));
    return loss;
  });
}

/**
 * Class weights from the configured choice and the training images per class: `balanced` is
 * n / (K · countₖ) (scikit-learn's compute_class_weight, the formula Keras' imbalanced-data guide
 * uses); a record gives weights by class name, 1 for classes it leaves out.
 */
export function resolveClassWeights(
  choice: TrainConfig['classWeights'],
  classes: readonly string[],
  counts: readonly number[],
): Float32Array | null {
  if (choice === 'none') return null;
  if (choice === 'balanced') {
    const total = counts.reduce((a, b) => a + b, 0);
    // A class without training images never appears in a loss; give it 0 rather than Infinity.
    return Float32Array.from(counts, (count) => (count > 0 ? total / (classes.length * count) : 0));
  }
  const unknown = Object.keys(choice).filter((name) => !classes.includes(name));
  if (unknown.length > 0) {
    throw new AppError('train-config-invalid', `Training config: classWeights.${unknown[0]}: the dataset has no class '${unknown[0]}'.`, {
      hint: `Classes are: ${classes.join(', ')}.`,
    });
  }
  return Float32Array.from(classes, (name) => choice[name] ?? 1);
}
