import * as tf from '@tensorflow/tfjs';

/**
 * Gradients that tfjs-core 4.22 computes in many more full-size passes than needed; registered by
 * registerWasmTrainingKernels (index.ts), global as tfjs gradients are (so cpu uses them too).
 *
 * Mean and Sum broadcast dy with one Tile instead of tfjs-core 4.22's
 * `mul(reshape(dy), ones(x.shape))` (and, for Mean, a division of the result). `ones` fills a
 * full-size array in JavaScript and copies it onto the backend: in a B0 training step on wasm that
 * was 12 % of the step's CPU time (BatchNormalization's moments and global pooling take a Mean of
 * every activation), before the multiply and divide passes over the same size. Here Mean's division
 * happens on the small dy, then reshape and Tile (wasm's is copy-doubling, reduce-tile.ts): one
 * full-size pass. The values are the same bit for bit — dy·1/n and dy/n round alike — so the
 * override is safe for every backend, though only the wasm registration installs it.
 */
function spread(dy: tf.Tensor, x: tf.Tensor, axis: number | number[], divisor?: number): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const expanded = x.shape.map((size, d) => (axes.includes(d) ? 1 : size));
  const reps = x.shape.map((size, d) => (axes.includes(d) ? size : 1));
  const values = tf.cast(dy, 'float32');
  const scaled = divisor === undefined ? values : tf.div(values, divisor);
  return tf.tile(tf.reshape(scaled, expanded), reps);
}

const reduced = (x: tf.Tensor, axis: number | number[]) =>
  tf.util.parseAxisParam(axis, x.shape).reduce((count, d) => count * x.shape[d]!, 1);

/**
 * FusedBatchNorm (every BatchNormalization layer in training): with σ⁻¹ = 1/√(variance + ε) and
 * sums Σ over the reduced axes, dx = dy·scale·σ⁻¹, dmean = −scale·σ⁻¹·Σdy, dvariance =
 * −½·scale·σ⁻³·Σdy(x − mean), dscale = σ⁻¹·Σdy(x − mean), doffset = Σdy: five full-size passes (x − mean,
 * its product with dy, two sums, dx). tfjs-core's formula takes fourteen (it tiles σ⁻¹, multiplies by
 * scale and −1 and −½σ⁻³ at full size before each sum) and keeps x − mean and dy·scale alive until the
 * whole backward pass ends. The values agree to float32 rounding (gradients.test.ts). Unlike tfjs-core's,
 * this also sums over the broadcast axes of statistics shaped [1, 1, 1, C].
 */
const batchNormGradient: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const gradient = dy as tf.Tensor;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const total = (t: tf.Tensor) => tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, mean.shape);
    // The per-channel pieces, computed once (the full-size intermediates freed at once).
    const [inverse, gain, sumDy, sumDyCentered] = tf.tidy(() => {
      const inverse = tf.rsqrt(tf.add(variance, varianceEpsilon));
      const gain = scale === undefined ? inverse : tf.mul(scale, inverse);
      return [inverse, gain, total(gradient), total(tf.mul(gradient, tf.sub(x, mean)))];
    });
    const scaled = (t: tf.Tensor) => (scale === undefined ? t : tf.mul(t, scale));
    return {
      x: () => tf.reshape(tf.mul(gradient, gain), x.shape),
      mean: () => tf.reshape(tf.neg(tf.mul(gain, sumDy)), mean.shape),
      variance: () => tf.reshape(scaled(tf.mul(tf.mul(tf.pow(inverse, 3), -0.5), sumDyCentered)), mean.shape),
      scale: () => tf.reshape(tf.mul(inverse, sumDyCentered), mean.shape),
      offset: () => tf.reshape(sumDy, mean.shape),
    };
  },
};

export const TRAINING_GRADIENTS: readonly tf.GradConfig[] = [
  batchNormGradient,
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const { axis } = attrs as unknown as { axis: number | number[] };
      return { x: () => spread(dy as tf.Tensor, x, axis, reduced(x, axis)) };
    },
  },
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const { axis } = attrs as unknown as { axis: number | number[] };
      return { x: () => spread(dy as tf.Tensor, x, axis) };
    },
  },
];
