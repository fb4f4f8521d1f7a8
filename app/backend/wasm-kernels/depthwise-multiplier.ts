import type * as tf from '@tensorflow/tfjs';
import { forEachTap } from '../conv-taps.ts';
import { floats, type WasmBackend } from './heap.ts';

/**
 * Depthwise gradients for channel multipliers above 1 (none in EfficientNet; depthwise.ts runs
 * multiplier 1 on the SIMD module): plain loops over the heap, in tfjs-backend-cpu's conventions.
 */

type Info = tf.backend_util.Conv2DInfo;

/** dx[b, iy, ix, c] += dy[b, oy, ox, c·M + m] · w[kh, kw, c, m] for every tap that reads (iy, ix). */
export function scatterInput(backend: WasmBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, info: Info): tf.TensorInfo {
  const { inChannels, outChannels } = info;
  const multiplier = outChannels / inChannels;
  const out = backend.makeOutput(info.inShape, 'float32');
  const dx = floats(backend, out);
  const d = floats(backend, dy);
  const w = floats(backend, filter);
  dx.fill(0);
  forEachTap(info, (xOffset, dyOffset, tap) => {
    const base = tap * outChannels;
    for (let c = 0; c < inChannels; c++) {
      let sum = 0;
      for (let m = 0; m < multiplier; m++) sum += d[dyOffset + c * multiplier + m]! * w[base + c * multiplier + m]!;
      dx[xOffset + c]! += sum;
    }
  });
  return out;
}

/** dW[kh, kw, c, m] = Σ x[b, iy, ix, c] · dy[b, oy, ox, c·M + m] over batch and output positions. */
export function filterLoop(backend: WasmBackend, x: tf.TensorInfo, dy: tf.TensorInfo, info: Info): tf.TensorInfo {
  const { inChannels, outChannels } = info;
  const multiplier = outChannels / inChannels;
  const sums = new Float64Array(info.filterHeight * info.filterWidth * outChannels);
  const xs = floats(backend, x);
  const d = floats(backend, dy);
  forEachTap(info, (xOffset, dyOffset, tap) => {
    const base = tap * outChannels;
    for (let o = 0; o < outChannels; o++) sums[base + o]! += xs[xOffset + Math.floor(o / multiplier)]! * d[dyOffset + o]!;
  });
  const out = backend.makeOutput([...info.filterShape], 'float32');
  floats(backend, out).set(sums);
  return out;
}
