import * as tf from '@tensorflow/tfjs';
import type { KernelArgs, WasmBackend } from './heap.ts';
import { pointer, simdKernels } from './simd.ts';

/**
 * Slice as copies of contiguous rows. In an EfficientNet step it is the gradient of the
 * ZeroPadding2D before each stride-2 depthwise convolution (4×113×113×96 → 4×112×112×96 at 224 px),
 * and tfjs-backend-wasm 4.22 copies it element by element: 17.6 ms of CPU, against 3.3 ms here. Every
 * trailing axis that is kept whole joins the row, so an NHWC slice of whole pixels copies rows of
 * pixels. Strings and empty slices go to the package's kernel.
 */
export function slice(args: KernelArgs): tf.TensorInfo | null {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
  if (x.dtype === 'string' || x.dtype === 'complex64') return null;
  const [start, sizes] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
  const rank = x.shape.length;
  if (rank === 0 || sizes.some((s) => s === 0)) return null;
  const backend = args.backend as unknown as WasmBackend;
  const bytes = tf.util.bytesPerElement(x.dtype);
  const xStrides = stridesOf(x.shape);
  const outStrides = stridesOf(sizes);
  // The last axis cut short; everything after it is whole and joins the row.
  let partial = rank - 1;
  while (partial > 0 && sizes[partial] === x.shape[partial]) partial--;
  const rowBytes = sizes[partial]! * xStrides[partial]! * bytes;
  const out = backend.makeOutput(sizes, x.dtype);
  const simd = simdKernels(backend);
  const xBase = pointer(backend, x) + start.reduce((sum, s, d) => sum + s * xStrides[d]!, 0) * bytes;
  const outBase = pointer(backend, out);
  if (partial === 0) {
    simd.copyRows(xBase, 0, outBase, 0, rowBytes, 1);
    return out;
  }
  const rows = partial - 1;
  const visit = (d: number, source: number, target: number): void => {
    if (d === rows) {
      simd.copyRows(source, xStrides[d]! * bytes, target, outStrides[d]! * bytes, rowBytes, sizes[d]!);
      return;
    }
    for (let i = 0; i < sizes[d]!; i++) visit(d + 1, source + i * xStrides[d]! * bytes, target + i * outStrides[d]! * bytes);
  };
  visit(0, xBase, outBase);
  return out;
}

function stridesOf(shape: readonly number[]): number[] {
  const result = new Array<number>(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    result[d] = stride;
    stride *= shape[d]!;
  }
  return result;
}
