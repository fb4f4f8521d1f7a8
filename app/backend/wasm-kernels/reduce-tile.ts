import * as tf from '@tensorflow/tfjs';
import { floats, type KernelArgs, type WasmBackend } from './heap.ts';

/**
 * Replacements for tfjs-backend-wasm kernels that dominate an EfficientNet training step in NHWC.
 * Measured on a 16×32×32×96 tensor (2 cores, Node 20): wasm's Tile took 290 ms to broadcast a
 * per-channel vector over it (FusedBatchNorm's gradient tiles 1/√variance to the full shape: 28 % of
 * a step's kernel time), and Sum over axes [0, 1, 2] (every BatchNorm and bias gradient) 16 ms,
 * because wasm transposes the reduced axes to the end first. Anything outside the fast paths below
 * (other dtypes, other axes) goes to the package's kernel.
 */

type Fallback = tf.KernelFunc;

/** out = x repeated reps[d] times along each axis d: copy x once, then double blocks with copyWithin. */
export function tile(args: KernelArgs, fallback: Fallback): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const reps = (args.attrs as { reps: number[] }).reps;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return fallback(args) as tf.TensorInfo;
  const backend = args.backend as unknown as WasmBackend;
  const rank = x.shape.length;
  const outShape = x.shape.map((size, d) => size * reps[d]!);
  const out = backend.makeOutput(outShape, x.dtype);
  const source = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  if (target.length === 0) return out;
  const outStrides = strides(outShape);
  const inStrides = strides(x.shape);
  const fill = (d: number, inOffset: number, outOffset: number): void => {
    const size = x.shape[d]!;
    if (d === rank - 1) {
      target.set(source.subarray(inOffset, inOffset + size), outOffset);
    } else {
      for (let i = 0; i < size; i++) fill(d + 1, inOffset + i * inStrides[d]!, outOffset + i * outStrides[d]!);
    }
    const block = size * outStrides[d]!;
    const total = block * reps[d]!;
    for (let done = block; done < total; done *= 2)
      target.copyWithin(outOffset + done, outOffset, outOffset + Math.min(done, total - done));
  };
  if (rank === 0) target[0] = source[0]!;
  else fill(0, 0, 0);
  return out;
}

function strides(shape: readonly number[]): number[] {
  const result = new Array<number>(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    result[d] = stride;
    stride *= shape[d]!;
  }
  return result;
}

/**
 * Sum or mean over a contiguous run of axes that leaves at least one axis after it (NHWC's [0, 1, 2]
 * for BatchNorm and bias gradients, [1, 2] for global pooling): out[o, i] = Σₘ x[o, m, i], read
 * row by row, four rows per pass. (ones · x on wasm's BatchMatMul looked 9× faster on a reused
 * tensor, but XNNPACK packs its right operand as weights, so on fresh tensors in a training step it
 * was 3× slower than this loop.)
 */
export function reduce(args: KernelArgs, fallback: Fallback, mean: boolean): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
  if (x.dtype !== 'float32') return fallback(args) as tf.TensorInfo;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const first = axes[0];
  const last = axes[axes.length - 1];
  const contiguous = first !== undefined && last !== undefined && last - first + 1 === axes.length;
  if (!contiguous || last === x.shape.length - 1) return fallback(args) as tf.TensorInfo;
  const product = (from: number, to: number) => x.shape.slice(from, to).reduce((a, b) => a * b, 1);
  const outer = product(0, first);
  const middle = product(first, last + 1);
  const inner = product(last + 1, x.shape.length);
  const outShape = keepDims ? x.shape.map((size, d) => (axes.includes(d) ? 1 : size)) : x.shape.filter((_, d) => !axes.includes(d));
  const backend = args.backend as unknown as WasmBackend;
  const out = backend.makeOutput(outShape, 'float32');
  const xs = floats(backend, x);
  const sums = floats(backend, out);
  const row = new Float32Array(inner);
  for (let o = 0; o < outer; o++) {
    row.fill(0);
    const base = o * middle * inner;
    let m = 0;
    for (; m + 4 <= middle; m += 4) {
      const r = base + m * inner;
      for (let i = 0; i < inner; i++) row[i]! += xs[r + i]! + xs[r + inner + i]! + xs[r + 2 * inner + i]! + xs[r + 3 * inner + i]!;
    }
    for (; m < middle; m++) {
      const r = base + m * inner;
      for (let i = 0; i < inner; i++) row[i]! += xs[r + i]!;
    }
    if (mean && middle > 0) for (let i = 0; i < inner; i++) row[i]! /= middle;
    sums.set(row, o * inner);
  }
  return out;
}
