import * as tf from '@tensorflow/tfjs';
import { installSwish } from './swish.ts';

/** ImageNet channel statistics (RGB, on 0–1 pixels), the ones torchvision, timm and the TF reference use. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];
/** Variance = std². keras.applications' h5 files store the std itself here (tensorflow#49930; efficientnet-facts §1.8). */
export const IMAGENET_VARIANCE: readonly number[] = IMAGENET_STD.map((std) => std * std);

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface NormalizationArgs extends LayerArgs {
  /** Only the channel axis (-1) is supported: the model is channels-last. */
  axis?: number;
  /** Initial per-channel mean and variance; the weights loaded later replace them. */
  mean?: readonly number[] | null;
  variance?: readonly number[] | null;
}

/**
 * Keras' `Normalization(axis=-1)` as keras.applications' EfficientNet holds it: non-trainable
 * weights `mean` [C], `variance` [C] and `count` [] in that order, so Keras .h5 weights line up
 * positionally and parameter counts equal Keras' (B0 = 5,330,571). Computes
 * `(x − mean) / max(√variance, 1e-7)`, as Keras does. The class name is Keras', so a Keras model
 * converted to TF.js JSON finds this class too.
 *
 * Unlike a Keras model built with `weights=None`, the defaults are ImageNet's true mean and
 * variance (std²), so the model does the torchvision/TF-reference normalisation without Keras'
 * extra `rescaling_1` layer. An importer of Keras' imagenet .h5 must therefore store
 * `variance = h5_variance²`: those files hold the std in `variance` and fix it up with rescaling_1.
 */
export class Normalization extends tf.layers.Layer {
  static className = 'Normalization';
  private readonly axis: number;
  private readonly initialMean: readonly number[];
  private readonly initialVariance: readonly number[];
  private mean: tf.LayerVariable | null = null;
  private variance: tf.LayerVariable | null = null;

  constructor(args: NormalizationArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    if (this.axis !== -1 && this.axis !== 3) {
      throw new Error(`Normalization supports the channel axis (-1) only, got axis ${this.axis}`);
    }
    this.initialMean = args.mean ?? IMAGENET_MEAN;
    this.initialVariance = args.variance ?? IMAGENET_VARIANCE;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null) throw new Error('Normalization needs a known channel count');
    const values = (name: string, list: readonly number[]) => {
      if (list.length !== channels) {
        throw new Error(`Normalization '${this.name}': ${name} has ${list.length} values for ${channels} channels`);
      }
      return list;
    };
    const zeros = tf.initializers.zeros();
    this.mean = this.addWeight('mean', [channels], 'float32', zeros, undefined, false);
    this.variance = this.addWeight('variance', [channels], 'float32', tf.initializers.ones(), undefined, false);
    // Keras stores the number of samples `adapt` saw (int64); kept as float32 for one weight dtype.
    this.addWeight('count', [], 'float32', zeros, undefined, false);
    const initial = [
      tf.tensor1d(values('mean', this.initialMean) as number[]),
      tf.tensor1d(values('variance', this.initialVariance) as number[]),
    ];
    this.mean.write(initial[0]!);
    this.variance.write(initial[1]!);
    tf.dispose(initial);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const input = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const std = tf.maximum(tf.sqrt(this.variance!.read()), 1e-7);
      return tf.div(tf.sub(input, this.mean!.read()), std);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    // Keras' config keys; mean/variance stay null because the values live in the weights.
    return { ...super.getConfig(), axis: this.axis, mean: null, variance: null, invert: false };
  }
}

let registered = false;

/**
 * Registers every custom layer the EfficientNet graph uses, so `tf.models.modelFromJSON` and
 * `tf.loadLayersModel` can rebuild a saved model, and swaps in swish.ts's 'swish' (same name and
 * outputs, a cheaper gradient). Safe to call any number of times.
 */
export function registerEffnetLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(Normalization);
  installSwish();
  registered = true;
}
