import * as tf from '@tensorflow/tfjs';

/**
 * Swish (x·sigmoid(x), Ramachandran et al. 2017), the activation of every EfficientNet block, with a
 * hand-written gradient. tfjs-layers 4.22's `swish` is `mul(sigmoid(mul(x, 1)), x)` composed from
 * ops, so autodiff runs three forward passes and seven backward ones (dy·x, the Sigmoid gradient's
 * 1 − s, s·(1 − s) and its product, ·1, dy·s, the sum of the two paths) over every activation of the
 * model: with BatchNormalization's chain, that was about a third of a B0 training step on wasm
 * (wasm-kernels/README.md). Here the forward is sigmoid and one multiply (x·1 is x exactly, and
 * float multiplication commutes, so the output is bit for bit tfjs-layers'), and the backward is
 * one kernel where a backend has one (wasm: wasm-kernels/swish.ts, a single SIMD pass) and
 * otherwise the same formula from ops.
 *
 * The gradient is computed as autodiff of the composition computes it, in the same order and
 * float32 rounding: dx = dy·s + (dy·x)·(s·(1 − s)), so it is bit-identical to the one it replaces.
 */

/** The kernel a backend may register to compute the whole gradient in one pass (inputs dy, x, s). */
export const SWISH_GRADIENT_KERNEL = 'EffnetSwishGrad';

/** dx = dy·s + (dy·x)·(s·(1 − s)) from ops: what tfjs autodiff of mul(sigmoid(x), x) computes. */
export function swishGradientFromOps(dy: tf.Tensor, x: tf.Tensor, s: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(dy, s), tf.mul(tf.mul(dy, x), tf.mul(s, tf.sub(1, s)))));
}

function swishGradient(dy: tf.Tensor, x: tf.Tensor, s: tf.Tensor): tf.Tensor {
  const fused = [dy, x, s].every((t) => t.dtype === 'float32') && tf.getKernel(SWISH_GRADIENT_KERNEL, tf.getBackend()) !== undefined;
  if (!fused) return swishGradientFromOps(dy, x, s);
  return tf.engine().runKernel(SWISH_GRADIENT_KERNEL, { dy, x, s } as unknown as tf.NamedTensorMap) as tf.Tensor;
}

/** swish(x) with the gradient above; on any backend. */
export const swish: (x: tf.Tensor) => tf.Tensor = tf.customGrad((x, save) => {
  const input = x as tf.Tensor;
  const s = tf.sigmoid(input);
  (save as tf.GradSaveFunc)([input, s]);
  return {
    value: tf.mul(s, input),
    gradFunc: (dy, saved) => swishGradient(dy as tf.Tensor, saved[0]!, saved[1]!),
  };
}) as (x: tf.Tensor) => tf.Tensor;

type ActivationClass = (new () => { apply(x: tf.Tensor, alpha?: number): tf.Tensor }) & { className: string };

let installed = false;

/**
 * Makes the activation named 'swish' (Activation layers, Conv2D's `activation: 'swish'`, models
 * built or loaded after this) compute with `swish` above. It subclasses tfjs-layers' own Swish and
 * registers it under the same class name, so configs, saved models, the Keras .h5 import and the
 * exporters, which all read the name 'swish', are unchanged. An alpha other than 1 (Keras' swish
 * has none; tfjs' apply takes one) keeps tfjs' formula. Idempotent.
 */
export function installSwish(): void {
  if (installed) return;
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['swish'];
  if (!entry) throw new Error("installSwish: tfjs-layers registered no 'swish' activation");
  const Base = entry[0] as unknown as ActivationClass;
  class Swish extends Base {
    static override className = 'swish';
    override apply(x: tf.Tensor, alpha = 1): tf.Tensor {
      return alpha === 1 ? swish(x) : super.apply(x, alpha);
    }
  }
  tf.serialization.registerClass(Swish as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  installed = true;
}
