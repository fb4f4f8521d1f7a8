import * as tf from '@tensorflow/tfjs';
import type { KernelArgs, WasmBackend } from './heap.ts';
import { pointer, simdKernels } from './simd.ts';

/**
 * The swish gradient kernel app/model/swish.ts runs when a backend has it: dx from dy, x and
 * s = sigmoid(x) in one SIMD pass (simd-swish-source.ts) instead of the six full-size kernels of
 * its op composition (three multiplies, a subtraction, another multiply and an add), each a read
 * and write of an activation-sized array plus tfjs' per-kernel overhead.
 */
export function swishGradient(args: KernelArgs): tf.TensorInfo {
  const { dy, x, s } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; s: tf.TensorInfo };
  const count = tf.util.sizeFromShape(x.shape);
  for (const info of [dy, x, s]) {
    if (info.dtype !== 'float32') throw new Error(`swish gradient on wasm: only float32 is supported, got ${info.dtype}`);
    if (tf.util.sizeFromShape(info.shape) !== count)
      throw new Error('swish gradient on wasm: dy, x and sigmoid(x) must have the same size');
  }
  const backend = args.backend as unknown as WasmBackend;
  const out = backend.makeOutput(x.shape, 'float32');
  simdKernels(backend).swishGrad(pointer(backend, dy), pointer(backend, x), pointer(backend, s), pointer(backend, out), count);
  return out;
}
