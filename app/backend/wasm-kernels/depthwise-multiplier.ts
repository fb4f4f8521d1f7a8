import type * as tf from '@tensorflow/tfjs';
import { floats, type WasmBackend } from './heap.ts';

/**
 * Depthwise gradients for channel multipliers above 1 (none in EfficientNet; depthwise.ts runs
 * multiplier 1 on the SIMD module): plain loops over the heap, in tfjs-backend-cpu's conventions.
 */

type Info = tf.backend_util.Conv2DInfo;

/** dx[b, iy, ix, c] += dy[b, oy, ox, c·M + m] · w[kh, kw, c, m] for every tap that reads (iy, ix). */
export function scatterInput(backend: WasmBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, info: Info): tf.TensorInfo {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
  } = info;
  const multiplier = outChannels / inChannels;
  const out = backend.makeOutput(info.inShape, 'float32');
  const dx = floats(backend, out);
  const d = floats(backend, dy);
  const w = floats(backend, filter);
  dx.fill(0);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let kh = 0; kh < filterHeight; kh++) {
        const iy = oy * strideHeight + kh - info.padInfo.top;
        if (iy < 0 || iy >= inHeight) continue;
        for (let ox = 0; ox < outWidth; ox++) {
          const dyOffset = ((b * outHeight + oy) * outWidth + ox) * outChannels;
          for (let kw = 0; kw < filterWidth; kw++) {
            const ix = ox * strideWidth + kw - info.padInfo.left;
            if (ix < 0 || ix >= inWidth) continue;
            const dxOffset = ((b * inHeight + iy) * inWidth + ix) * inChannels;
            const tap = (kh * filterWidth + kw) * outChannels;
            for (let c = 0; c < inChannels; c++) {
              let sum = 0;
              for (let m = 0; m < multiplier; m++) sum += d[dyOffset + c * multiplier + m]! * w[tap + c * multiplier + m]!;
              dx[dxOffset + c]! += sum;
            }
          }
        }
      }
    }
  }
  return out;
}

/** dW[kh, kw, c, m] = Σ x[b, iy, ix, c] · dy[b, oy, ox, c·M + m] over batch and output positions. */
export function filterLoop(backend: WasmBackend, x: tf.TensorInfo, dy: tf.TensorInfo, info: Info): tf.TensorInfo {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
  } = info;
  const multiplier = outChannels / inChannels;
  const sums = new Float64Array(filterHeight * filterWidth * outChannels);
  const xs = floats(backend, x);
  const d = floats(backend, dy);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let kh = 0; kh < filterHeight; kh++) {
        const iy = oy * strideHeight + kh - info.padInfo.top;
        if (iy < 0 || iy >= inHeight) continue;
        for (let ox = 0; ox < outWidth; ox++) {
          const dyOffset = ((b * outHeight + oy) * outWidth + ox) * outChannels;
          for (let kw = 0; kw < filterWidth; kw++) {
            const ix = ox * strideWidth + kw - info.padInfo.left;
            if (ix < 0 || ix >= inWidth) continue;
            const xOffset = ((b * inHeight + iy) * inWidth + ix) * inChannels;
            const tap = (kh * filterWidth + kw) * outChannels;
            for (let o = 0; o < outChannels; o++) sums[tap + o]! += xs[xOffset + Math.floor(o / multiplier)]! * d[dyOffset + o]!;
          }
        }
      }
    }
  }
  const out = backend.makeOutput([...info.filterShape], 'float32');
  floats(backend, out).set(sums);
  return out;
}
