import * as tf from '@tensorflow/tfjs';
import { assertSupported, floats, release, runWasmKernel, type ConvAttrs, type KernelArgs, type WasmBackend } from './heap.ts';

/**
 * Depthwise convolution gradients for the wasm backend (tfjs-backend-wasm 4.22 registers neither;
 * platform-facts.md). Index conventions follow tfjs-backend-cpu's DepthwiseConv2dNativeBackprop*:
 * NHWC, filter [fh, fw, channels, multiplier], output channel o = c·multiplier + m.
 */

type Info = tf.backend_util.Conv2DInfo;

function convInfo(inputShape: number[], filterShape: number[], attrs: ConvAttrs): Info {
  return tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
}

/**
 * dx = the gradient spread back through the filter. With multiplier 1 this is a forward depthwise
 * convolution (stride 1, 'valid') of dy — dilated by the stride and padded by (filter − 1 − pad) —
 * with the spatially flipped filter, so it runs on wasm's own SIMD depthwise kernel; otherwise a
 * scatter loop over the heap.
 */
export function depthwiseBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  const backend = args.backend as unknown as WasmBackend;
  assertSupported('DepthwiseConv2dNativeBackpropInput', attrs, [dy, filter]);
  const info = convInfo(attrs.inputShape!, filter.shape, attrs);
  const top = info.filterHeight - 1 - info.padInfo.top;
  const left = info.filterWidth - 1 - info.padInfo.left;
  if (info.outChannels === info.inChannels && top >= 0 && left >= 0) return viaForwardConv(backend, dy, filter, info, top, left);
  return scatterInput(backend, dy, filter, info);
}

function viaForwardConv(
  backend: WasmBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: Info,
  top: number,
  left: number,
): tf.TensorInfo {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: channels,
    outHeight,
    outWidth,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
  } = info;
  const paddedHeight = inHeight + filterHeight - 1;
  const paddedWidth = inWidth + filterWidth - 1;
  const padded = backend.makeOutput([batchSize, paddedHeight, paddedWidth, channels], 'float32');
  const flipped = backend.makeOutput(filter.shape, 'float32');
  const p = floats(backend, padded);
  const d = floats(backend, dy);
  const w = floats(backend, filter);
  const f = floats(backend, flipped);
  p.fill(0);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const from = ((filterHeight - 1 - kh) * filterWidth + (filterWidth - 1 - kw)) * channels;
      f.set(w.subarray(from, from + channels), (kh * filterWidth + kw) * channels);
    }
  }
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const py = top + oy * strideHeight;
      if (py >= paddedHeight) break;
      const dyRow = (b * outHeight + oy) * outWidth * channels;
      const pRow = (b * paddedHeight + py) * paddedWidth * channels;
      if (strideWidth === 1) {
        const count = Math.min(outWidth, paddedWidth - left);
        p.set(d.subarray(dyRow, dyRow + count * channels), pRow + left * channels);
        continue;
      }
      for (let ox = 0; ox < outWidth; ox++) {
        const px = left + ox * strideWidth;
        if (px >= paddedWidth) break;
        const source = dyRow + ox * channels;
        const target = pRow + px * channels;
        for (let c = 0; c < channels; c++) p[target + c] = d[source + c]!;
      }
    }
  }
  const dx = runWasmKernel('DepthwiseConv2dNative', backend, { x: padded, filter: flipped }, { strides: 1, pad: 'valid', dilations: 1 });
  release(backend, padded, flipped);
  return dx;
}

/** dx[b, iy, ix, c] += dy[b, oy, ox, c·M + m] · w[kh, kw, c, m] for every tap that reads (iy, ix). */
function scatterInput(backend: WasmBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, info: Info): tf.TensorInfo {
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

/** dW[kh, kw, c, m] = Σ over batch and output positions of x[b, oy·s + kh − pad, ox·s + kw − pad, c] · dy[b, oy, ox, c·M + m]. */
export function depthwiseBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  const backend = args.backend as unknown as WasmBackend;
  assertSupported('DepthwiseConv2dNativeBackpropFilter', attrs, [x, dy]);
  const info = convInfo(x.shape, attrs.filterShape!, attrs);
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
            if (multiplier === 1) {
              for (let c = 0; c < outChannels; c++) sums[tap + c]! += xs[xOffset + c]! * d[dyOffset + c]!;
            } else {
              for (let o = 0; o < outChannels; o++) sums[tap + o]! += xs[xOffset + Math.floor(o / multiplier)]! * d[dyOffset + o]!;
            }
          }
        }
      }
    }
  }
  const out = backend.makeOutput([...info.filterShape], 'float32');
  floats(backend, out).set(sums);
  return out;
}
