import * as tf from '@tensorflow/tfjs';
import { assertSupported, floats, release, reshape, runWasmKernel, type ConvAttrs, type KernelArgs, type WasmBackend } from './heap.ts';

/**
 * Regular convolution gradients for the wasm backend as matrix products on wasm's XNNPACK
 * BatchMatMul. With cols = im2col(x), [batch·outH·outW, fh·fw·inC] in the filter's own (kh, kw, c)
 * order: dW = colsᵀ · dy and dcols = dy · Wᵀ, then col2im sums dcols back into dx. A 1×1 stride-1
 * unpadded convolution (most of EfficientNet's) needs no im2col at all: cols is x itself.
 * wasm's BatchMatMul runs transposed operands about 9× slower than plain ones (0.75 against 7
 * GFLOP/s on an 8192×240 by 8192×40 product here), and its Transpose kernel is slower still, so the
 * operands are transposed in JS first (the smaller one, in cache-sized blocks) and every product is
 * a plain one.
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, and its Conv2DBackpropInput is a scalar loop
 * (2.6 s for an 8×56×56×64 3×3 case whose forward takes 83 ms; platform-facts.md).
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
  );
}

function isPointwise(info: Info): boolean {
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  return filterHeight === 1 && filterWidth === 1 && strideHeight === 1 && strideWidth === 1 && padInfo.top === 0 && padInfo.left === 0;
}

function matMul(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo {
  return runWasmKernel('BatchMatMul', backend, { a, b }, { transposeA, transposeB });
}

/** out[c·rows + r] = in[r·columns + c], in square blocks so both sides stay in cache. */
function transposeInto(source: Float32Array, rows: number, columns: number, target: Float32Array): void {
  const block = 64;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let c0 = 0; c0 < columns; c0 += block) {
      const c1 = Math.min(columns, c0 + block);
      for (let r = r0; r < r1; r++) {
        const from = r * columns;
        for (let c = c0; c < c1; c++) target[c * rows + r] = source[from + c]!;
      }
    }
  }
}

/** A transposed copy of a [rows, columns] tensor on the heap. */
function transposed(backend: WasmBackend, info: tf.TensorInfo, rows: number, columns: number): tf.TensorInfo {
  const out = backend.makeOutput([columns, rows], 'float32');
  transposeInto(floats(backend, info), rows, columns, floats(backend, out));
  return out;
}

/** Calls `visit(colsOffset, xOffset)` for every im2col entry that reads a real (unpadded) input pixel. */
function forEachPatch(info: Info, visit: (colsOffset: number, xOffset: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } =
    info;
  const rowLength = filterHeight * filterWidth * inChannels;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const row = ((b * outHeight + oy) * outWidth + ox) * rowLength;
        for (let kh = 0; kh < filterHeight; kh++) {
          const iy = oy * strideHeight + kh - padInfo.top;
          if (iy < 0 || iy >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const ix = ox * strideWidth + kw - padInfo.left;
            if (ix < 0 || ix >= inWidth) continue;
            visit(row + (kh * filterWidth + kw) * inChannels, ((b * inHeight + iy) * inWidth + ix) * inChannels);
          }
        }
      }
    }
  }
}

export function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  const backend = args.backend as unknown as WasmBackend;
  assertSupported('Conv2DBackpropFilter', attrs, [x, dy]);
  const info = convInfo(x.shape, attrs.filterShape!, attrs);
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const columns = info.filterHeight * info.filterWidth * info.inChannels;
  const outChannels = info.outChannels;
  if (isPointwise(info) && outChannels < columns) {
    // dWᵀ = dyᵀ · x: transposing dy is cheaper; the small [outC, inC] result is transposed back.
    const dyT = transposed(backend, dy, rows, outChannels);
    const x2 = reshape(backend, x, [rows, columns]);
    const product = matMul(backend, dyT, x2, false, false);
    const dw = backend.makeOutput([...info.filterShape], 'float32');
    transposeInto(floats(backend, product), outChannels, columns, floats(backend, dw));
    release(backend, dyT, x2, product);
    return dw;
  }
  let colsT: tf.TensorInfo;
  if (isPointwise(info)) {
    colsT = transposed(backend, x, rows, columns);
  } else {
    // im2col written transposed, [fh·fw·inC, rows], so the product below is a plain one.
    colsT = backend.makeOutput([columns, rows], 'float32');
    const c = floats(backend, colsT);
    const xs = floats(backend, x);
    const channels = info.inChannels;
    c.fill(0);
    forEachPatch(info, (colsOffset, xOffset) => {
      const row = Math.floor(colsOffset / columns);
      const column = colsOffset - row * columns;
      for (let i = 0; i < channels; i++) c[(column + i) * rows + row] = xs[xOffset + i]!;
    });
  }
  const dy2 = reshape(backend, dy, [rows, outChannels]);
  const product = matMul(backend, colsT, dy2, false, false);
  const dw = reshape(backend, product, [...info.filterShape]);
  release(backend, colsT, dy2, product);
  return dw;
}

export function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  const backend = args.backend as unknown as WasmBackend;
  assertSupported('Conv2DBackpropInput', attrs, [dy, filter]);
  const info = convInfo(attrs.inputShape!, filter.shape, attrs);
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const columns = info.filterHeight * info.filterWidth * info.inChannels;
  const dy2 = reshape(backend, dy, [rows, info.outChannels]);
  const wT = transposed(backend, filter, columns, info.outChannels);
  const dcols = matMul(backend, dy2, wT, false, false);
  release(backend, dy2, wT);
  if (isPointwise(info)) {
    const dx = reshape(backend, dcols, [...info.inShape]);
    release(backend, dcols);
    return dx;
  }
  const out = backend.makeOutput([...info.inShape], 'float32');
  const dx = floats(backend, out);
  const c = floats(backend, dcols);
  const channels = info.inChannels;
  dx.fill(0);
  forEachPatch(info, (colsOffset, xOffset) => {
    for (let i = 0; i < channels; i++) dx[xOffset + i]! += c[colsOffset + i]!;
  });
  release(backend, dcols);
  return out;
}
