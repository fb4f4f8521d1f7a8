import * as tf from '@tensorflow/tfjs';
import { floats, release, type KernelArgs, type WasmBackend } from './heap.ts';
import { pointer, simdKernels } from './simd.ts';

/**
 * Elementwise kernels of an EfficientNet training step that tfjs-backend-wasm 4.22 runs slowly.
 * (Its broadcasting binary ops are not among them: XNNPACK's, measured against a SIMD loop of ours
 * on the shapes of a B0 step, per-channel, per-image and scalar, ran as fast or faster.)
 */

/** A heap copy of `values` repeated to a multiple of 4 elements (the SIMD loop's period requirement). */
function periodic(backend: WasmBackend, values: Float32Array[]): { info: tf.TensorInfo; period: number } {
  const period = values[0]!.length;
  const repeats = period % 4 === 0 ? 1 : period % 2 === 0 ? 2 : 4;
  const info = backend.makeOutput([values.length * period * repeats], 'float32');
  const target = floats(backend, info);
  values.forEach((v, k) => {
    for (let r = 0; r < repeats; r++) target.set(v, (k * repeats + r) * period);
  });
  return { info, period: period * repeats };
}

/**
 * FusedBatchNorm with per-channel statistics (what a Keras BatchNormalization layer passes):
 * out = (x − mean) · scale/√(variance + ε) + offset in one SIMD pass. tfjs-backend-wasm's kernel
 * took 4.7 ns an element: 22.6 ms of CPU for a 4×112×112×96 activation, against 4.6 ms here.
 */
export function batchNorm(args: KernelArgs): tf.TensorInfo | null {
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const epsilon = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
  const channels = x!.shape[x!.shape.length - 1] ?? 1;
  const params = [mean, variance, offset, scale].filter((p) => p !== undefined);
  if ([x!, ...params].some((p) => p.dtype !== 'float32') || params.some((p) => tf.util.sizeFromShape(p.shape) !== channels)) return null;
  const backend = args.backend as unknown as WasmBackend;
  const read = (p: tf.TensorInfo | undefined, missing: number) =>
    p ? floats(backend, p).slice() : new Float32Array(channels).fill(missing);
  const [m, v, o, s] = [read(mean, 0), read(variance, 1), read(offset, 0), read(scale, 1)];
  const multiplier = s.map((value, c) => value / Math.sqrt(v[c]! + epsilon));
  const { info: vectors, period } = periodic(backend, [m, multiplier, o]);
  const out = backend.makeOutput(x!.shape, 'float32');
  const base = pointer(backend, vectors);
  const count = tf.util.sizeFromShape(x!.shape);
  simdKernels(backend).batchNorm(pointer(backend, x!), count, period, pointer(backend, out), base, base + period * 4, base + period * 8);
  release(backend, vectors);
  return out;
}

/**
 * Identity (tf.clone, and the gradient plumbing of every layer: ~6 % of a step's kernel time) and
 * Cast to the dtype a tensor already has (tfjs-core's Multiply gradient casts its operand to float32
 * every time: 318 copies a step) copy the tensor on wasm; the cpu backend shares the buffer and
 * counts references, which is safe because tfjs tensors are immutable. The same here, as wasm's own
 * Reshape does.
 */
export function share(args: KernelArgs): tf.TensorInfo | null {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const dtype = (args.attrs as { dtype?: tf.DataType } | undefined)?.dtype ?? x.dtype;
  if (x.dtype !== dtype || x.dtype === 'string') return null;
  (args.backend as unknown as { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
