import * as tf from '@tensorflow/tfjs';
import { assertSupported, floats, release, type ConvAttrs, type KernelArgs, type WasmBackend } from './heap.ts';
import { pointer, simdKernels } from './simd.ts';

/**
 * Regular convolution gradients for the wasm backend as matrix products on the SIMD module
 * (simd-matrix-source.ts). With cols = im2col(x), [batch·outH·outW, fh·fw·inC] in the filter's own
 * (kh, kw, c) order: dW = colsᵀ · dy and dcols = dy · Wᵀ, then col2im sums dcols back into dx. A 1×1
 * stride-1 unpadded convolution (most of EfficientNet's) needs no im2col at all: cols is x itself,
 * and dcols is dx. Both products read x and dy where they lie; only the small W is transposed.
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, and its Conv2DBackpropInput is a scalar loop
 * (2.6 s for an 8×56×56×64 3×3 case whose forward takes 83 ms; platform-facts.md). Its BatchMatMul
 * (XNNPACK), which these products used before, packs its right operand as weights on every fresh
 * tensor and ran them at 1–9 GFLOP/s; the SIMD tiles run at 15–25, as fast as XNNPACK's forward
 * convolution of the same size (CPU time, min of 9, on this 2-core machine).
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

/** A transposed copy of a [rows, columns] tensor on the heap (a filter: small). */
function transposed(backend: WasmBackend, info: tf.TensorInfo, rows: number, columns: number): tf.TensorInfo {
  const out = backend.makeOutput([columns, rows], 'float32');
  const [source, target] = [floats(backend, info), floats(backend, out)];
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) target[c * rows + r] = source[r * columns + c]!;
  return out;
}

/**
 * The im2col entries of one image that read a real (unpadded) input pixel, as pairs (offset in the
 * image's im2col rows, offset in the image's x), so that im2col and col2im are flat copy loops.
 */
function patchPairs(info: Info): Int32Array {
  const { inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const columns = filterHeight * filterWidth * inChannels;
  const pairs = new Int32Array(outHeight * outWidth * filterHeight * filterWidth * 2);
  let count = 0;
  for (let oy = 0; oy < outHeight; oy++) {
    for (let ox = 0; ox < outWidth; ox++) {
      for (let kh = 0; kh < filterHeight; kh++) {
        const iy = oy * strideHeight + kh - padInfo.top;
        if (iy < 0 || iy >= inHeight) continue;
        for (let kw = 0; kw < filterWidth; kw++) {
          const ix = ox * strideWidth + kw - padInfo.left;
          if (ix < 0 || ix >= inWidth) continue;
          pairs[count++] = (oy * outWidth + ox) * columns + (kh * filterWidth + kw) * inChannels;
          pairs[count++] = (iy * inWidth + ix) * inChannels;
        }
      }
    }
  }
  return pairs.subarray(0, count);
}

/** cols[row, (kh, kw, c)] = x at that tap (zero where it reads padding), or the reverse sum when `back`. */
function im2col(info: Info, xs: Float32Array, cols: Float32Array, back: boolean): void {
  const pairs = patchPairs(info);
  const channels = info.inChannels;
  const colsPerImage = info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * channels;
  const xPerImage = info.inHeight * info.inWidth * channels;
  for (let b = 0; b < info.batchSize; b++) {
    for (let p = 0; p < pairs.length; p += 2) {
      const c = b * colsPerImage + pairs[p]!;
      const x = b * xPerImage + pairs[p + 1]!;
      if (back) for (let i = 0; i < channels; i++) xs[x + i]! += cols[c + i]!;
      else for (let i = 0; i < channels; i++) cols[c + i] = xs[x + i]!;
    }
  }
}

/** Rows of a and b per SIMD call: both blocks together about 128 KiB, so they stay in cache across tiles. */
function rowBlock(m: number, n: number): number {
  return Math.max(16, Math.floor(32768 / (m + n)));
}

/**
 * out[m, n] = aᵀ · b for a [rows, m] and b [rows, n] on the heap, by the SIMD module's `atb` one block of
 * rows at a time.
 */
function productAtB(
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  rows: number,
  m: number,
  n: number,
  shape: number[],
): tf.TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  floats(backend, out).fill(0);
  const simd = simdKernels(backend);
  const [aBase, bBase, outBase] = [pointer(backend, a), pointer(backend, b), pointer(backend, out)];
  const block = rowBlock(m, n);
  for (let r = 0; r < rows; r += block) {
    simd.atb(aBase + r * m * 4, m, bBase + r * n * 4, n, Math.min(block, rows - r), outBase);
  }
  return out;
}

/** dW = im2col(x)ᵀ · dy; a 1×1 stride-1 unpadded convolution reads x itself as im2col(x). */
export function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  const backend = args.backend as unknown as WasmBackend;
  assertSupported('Conv2DBackpropFilter', attrs, [x, dy]);
  const info = convInfo(x.shape, attrs.filterShape!, attrs);
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const columns = info.filterHeight * info.filterWidth * info.inChannels;
  if (isPointwise(info)) return productAtB(backend, x, dy, rows, columns, info.outChannels, [...info.filterShape]);
  const cols = backend.makeOutput([rows, columns], 'float32');
  const c = floats(backend, cols);
  c.fill(0);
  im2col(info, floats(backend, x), c, false);
  const dw = productAtB(backend, cols, dy, rows, columns, info.outChannels, [...info.filterShape]);
  release(backend, cols);
  return dw;
}

/**
 * out[rows, n] = a · b for a [rows, k] and b [k, n] on the heap, by the SIMD module's `ab`, over
 * blocks of k whose rows of b (about 256 KiB) stay in cache while every row of a passes them.
 */
function productAB(
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  rows: number,
  k: number,
  n: number,
  shape: number[],
): tf.TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  floats(backend, out).fill(0);
  const simd = simdKernels(backend);
  const [aBase, bBase, outBase] = [pointer(backend, a), pointer(backend, b), pointer(backend, out)];
  const depth = Math.max(8, Math.floor(65536 / n));
  for (let c = 0; c < k; c += depth) simd.ab(aBase + c * 4, k, bBase + c * n * 4, n, rows, outBase, Math.min(depth, k - c));
  return out;
}

/** dx = col2im(dy · Wᵀ); for a 1×1 stride-1 unpadded convolution dy · Wᵀ is dx itself. */
export function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  const backend = args.backend as unknown as WasmBackend;
  assertSupported('Conv2DBackpropInput', attrs, [dy, filter]);
  const info = convInfo(attrs.inputShape!, filter.shape, attrs);
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const columns = info.filterHeight * info.filterWidth * info.inChannels;
  const wT = transposed(backend, filter, columns, info.outChannels);
  if (isPointwise(info)) {
    const dx = productAB(backend, dy, wT, rows, info.outChannels, columns, [...info.inShape]);
    release(backend, wT);
    return dx;
  }
  const dcols = productAB(backend, dy, wT, rows, info.outChannels, columns, [rows, columns]);
  release(backend, wT);
  const out = backend.makeOutput([...info.inShape], 'float32');
  const dx = floats(backend, out);
  dx.fill(0);
  im2col(info, dx, floats(backend, dcols), true);
  release(backend, dcols);
  return out;
}
