import * as tf from '@tensorflow/tfjs';
import { floats, release, type KernelArgs, type WasmBackend } from './heap.ts';
import { pointer, simdKernels } from './simd.ts';

/**
 * Replacements for tfjs-backend-wasm kernels that dominate an EfficientNet training step in NHWC.
 * Measured on a 16×32×32×96 tensor (2 cores, Node 20): wasm's Tile took 290 ms to broadcast a
 * per-channel vector over it (FusedBatchNorm's gradient tiles 1/√variance to the full shape: 28 % of
 * a step's kernel time), and Sum over axes [0, 1, 2] (every BatchNorm and bias gradient) 16 ms,
 * because wasm transposes the reduced axes to the end first. Anything outside the fast paths below
 * (other dtypes, other axes) goes to the package's kernel.
 */

/** out = x repeated reps[d] times along each axis d: copy x once, then double blocks with copyWithin. */
export function tile(args: KernelArgs): tf.TensorInfo | null {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const reps = (args.attrs as { reps: number[] }).reps;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return null;
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
 * for BatchNorm and bias gradients, [1, 2] for global pooling): out[o, i] = Σₘ x[o, m, i], by the
 * SIMD module's `rowSums` (f64 sums, as tfjs-backend-cpu's; 2–3× faster than the JS row loop it
 * replaced). (ones · x on wasm's BatchMatMul looked faster on a reused tensor, but XNNPACK packs its
 * right operand as weights, so on fresh tensors in a training step it was 3× slower.)
 */
export function reduce(args: KernelArgs, mean: boolean): tf.TensorInfo | null {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
  if (x.dtype !== 'float32') return null;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const first = axes[0];
  const last = axes[axes.length - 1];
  const contiguous = first !== undefined && last !== undefined && last - first + 1 === axes.length;
  if (!contiguous || last === x.shape.length - 1) return null;
  const product = (from: number, to: number) => x.shape.slice(from, to).reduce((a, b) => a * b, 1);
  const outer = product(0, first);
  const middle = product(first, last + 1);
  const inner = product(last + 1, x.shape.length);
  const outShape = keepDims ? x.shape.map((size, d) => (axes.includes(d) ? 1 : size)) : x.shape.filter((_, d) => !axes.includes(d));
  const backend = args.backend as unknown as WasmBackend;
  const sums = backend.makeOutput([inner * 2], 'float32');
  const out = backend.makeOutput(outShape, 'float32');
  const simd = simdKernels(backend);
  const [xBase, sumsBase] = [pointer(backend, x), pointer(backend, sums)];
  const scale = mean && middle > 0 ? 1 / middle : 1;
  // Blocks of rows that fit in cache, each summed in f32 registers over all its channels in turn.
  const block = Math.max(1, Math.min(256, Math.floor(4096 / inner)));
  const results = floats(backend, out);
  const totals = new Float64Array(results.buffer, sumsBase, inner);
  for (let o = 0; o < outer; o++) {
    totals.fill(0);
    const base = xBase + o * middle * inner * 4;
    for (let m = 0; m < middle; m += block) simd.rowSums(base + m * inner * 4, inner * 4, Math.min(block, middle - m), inner, sumsBase);
    for (let i = 0; i < inner; i++) results[o * inner + i] = totals[i]! * scale;
  }
  release(backend, sums);
  return out;
}
