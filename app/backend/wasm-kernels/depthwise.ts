import * as tf from '@tensorflow/tfjs';
import { filterLoop, scatterInput } from './depthwise-multiplier.ts';
import { assertSupported, floats, release, type ConvAttrs, type KernelArgs, type WasmBackend } from './heap.ts';
import { pointer, simdKernels } from './simd.ts';

/**
 * Depthwise convolution gradients for the wasm backend (tfjs-backend-wasm 4.22 registers neither;
 * platform-facts.md), one image row and filter tap per call into the SIMD module. Index
 * conventions follow tfjs-backend-cpu's DepthwiseConv2dNativeBackprop*: NHWC, filter
 * [fh, fw, channels, multiplier], output channel o = c·multiplier + m. Multipliers above 1 (none
 * in EfficientNet) run the loops in depthwise-multiplier.ts.
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
 * Calls `visit(xRow, dyRow, tap, columns)` for every output row and filter tap that reads a real
 * input row, with byte offsets of the image rows within x and dy and the run of output columns
 * whose input column is inside the image too: ox ∈ [first, first + count), reading ix = first·s + kw − pad
 * onwards (the rest read padding, which contributes nothing either way).
 */
function forEachTapRow(info: Info, visit: (xRow: number, dyRow: number, tap: number, columns: TapColumns) => void): void {
  const { batchSize, inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const pixel = info.inChannels * 4;
  const columns = Array.from({ length: filterWidth }, (_, kw): TapColumns => {
    const first = Math.max(0, Math.ceil((padInfo.left - kw) / strideWidth));
    const last = Math.min(outWidth - 1, Math.floor((inWidth - 1 + padInfo.left - kw) / strideWidth));
    return { first, count: Math.max(0, last - first + 1), ix: first * strideWidth + kw - padInfo.left };
  });
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const dyRow = (b * outHeight + oy) * outWidth * pixel;
      for (let kh = 0; kh < filterHeight; kh++) {
        const iy = oy * strideHeight + kh - padInfo.top;
        if (iy < 0 || iy >= inHeight) continue;
        const xRow = (b * inHeight + iy) * inWidth * pixel;
        for (let kw = 0; kw < filterWidth; kw++) if (columns[kw]!.count > 0) visit(xRow, dyRow, kh * filterWidth + kw, columns[kw]!);
      }
    }
  }
}

interface TapColumns {
  readonly first: number;
  readonly count: number;
  readonly ix: number;
}

/** dx[b, iy, ix, c] = Σ over the taps that read (iy, ix) of dy[b, oy, ox, c] · w[kh, kw, c]: each tap's row added in turn. */
export function depthwiseBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  const backend = args.backend as unknown as WasmBackend;
  assertSupported('DepthwiseConv2dNativeBackpropInput', attrs, [dy, filter]);
  const info = convInfo(attrs.inputShape!, filter.shape, attrs);
  if (info.outChannels !== info.inChannels) return scatterInput(backend, dy, filter, info);
  const out = backend.makeOutput([...info.inShape], 'float32');
  floats(backend, out).fill(0);
  const simd = simdKernels(backend);
  const [dxBase, dyBase, wBase] = [pointer(backend, out), pointer(backend, dy), pointer(backend, filter)];
  const channels = info.inChannels;
  const pixel = channels * 4;
  forEachTapRow(info, (xRow, dyRow, tap, { first, count, ix }) =>
    simd.dwAxpyRow(
      dyBase + dyRow + first * pixel,
      pixel,
      dxBase + xRow + ix * pixel,
      info.strideWidth * pixel,
      count,
      channels,
      wBase + tap * pixel,
    ),
  );
  return out;
}

/** dW[kh, kw, c] = Σ over batch and output positions of x[b, oy·s + kh − pad, ox·s + kw − pad, c] · dy[b, oy, ox, c]. */
export function depthwiseBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  const backend = args.backend as unknown as WasmBackend;
  assertSupported('DepthwiseConv2dNativeBackpropFilter', attrs, [x, dy]);
  const info = convInfo(x.shape, attrs.filterShape!, attrs);
  if (info.outChannels !== info.inChannels) return filterLoop(backend, x, dy, info);
  const channels = info.inChannels;
  const entries = info.filterHeight * info.filterWidth * channels;
  // f64 accumulators, one per filter entry (as tfjs-backend-cpu sums), on the heap for the SIMD rows.
  const sums = backend.makeOutput([entries * 2], 'float32');
  const out = backend.makeOutput([...info.filterShape], 'float32');
  const accBase = pointer(backend, sums);
  new Float64Array(floats(backend, sums).buffer, accBase, entries).fill(0);
  const simd = simdKernels(backend);
  const [xBase, dyBase] = [pointer(backend, x), pointer(backend, dy)];
  const pixel = channels * 4;
  forEachTapRow(info, (xRow, dyRow, tap, { first, count, ix }) =>
    simd.dwFilterRow(
      xBase + xRow + ix * pixel,
      info.strideWidth * pixel,
      dyBase + dyRow + first * pixel,
      count,
      channels,
      accBase + tap * channels * 8,
    ),
  );
  floats(backend, out).set(new Float64Array(floats(backend, sums).buffer, accBase, entries));
  release(backend, sums);
  return out;
}
