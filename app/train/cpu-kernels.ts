import * as tf from '@tensorflow/tfjs';
import { forEachTap } from '../backend/conv-taps.ts';

/**
 * Faster versions of the tfjs `cpu` backend kernels that dominate an EfficientNet training step.
 *
 * tfjs-backend-cpu 4.22 computes Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter with
 * `TensorBuffer.get()` per multiply (an index computation and an array allocation each time), and
 * broadcasting binary ops, non-contiguous Slice and axis reductions through `indexToLoc` per
 * element. Profiling one step of a 129k-parameter EfficientNet at 32 px (tf.profile) put 60 % of
 * the time in Conv2DBackpropFilter alone, about 60× slower than the forward convolution of the same
 * size. The kernels here compute the same sums with flat typed-array loops; each falls back to the
 * original kernel for anything outside its fast path (other dtypes, NCHW, dilations, rank > 4).
 *
 * Only the `cpu` backend is touched; `tensorflow` (libtensorflow) and `wasm` have their own kernels.
 */

type KernelArgs = Parameters<tf.KernelFunc>[0];
type CpuBackend = {
  data: { get(id: tf.DataId): { values?: tf.TypedArray } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
};
/** A fast path: the result, or null to use the original kernel. */
type FastPath = (args: KernelArgs, backend: CpuBackend) => tf.TensorInfo | null;

let installed = false;
const fastCalls = new Map<string, number>();

/** How often each kernel took its fast path since installation (for tests and diagnostics). */
export function fastKernelCalls(): ReadonlyMap<string, number> {
  return fastCalls;
}

/** Replaces the slow cpu kernels with the fast paths below. Idempotent; needs the cpu backend registered. */
export function useFastCpuKernels(): void {
  if (installed) return;
  wrap('Conv2DBackpropFilter', conv2dBackpropFilter);
  wrap('DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter);
  wrap('Slice', slice);
  for (const [name, op] of Object.entries(BINARY_OPS)) wrap(name, (args, backend) => binary(args, backend, op));
  wrap('Sum', (args, backend) => reduce(args, backend, false));
  wrap('Mean', (args, backend) => reduce(args, backend, true));
  installed = true;
}

function wrap(kernelName: string, fast: FastPath): void {
  const original = tf.getKernel(kernelName, 'cpu');
  if (!original) return;
  tf.unregisterKernel(kernelName, 'cpu');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const result = fast(args, args.backend as unknown as CpuBackend);
      if (result === null) return original.kernelFunc(args);
      fastCalls.set(kernelName, (fastCalls.get(kernelName) ?? 0) + 1);
      return result;
    },
  });
}

function floatValues(backend: CpuBackend, info: tf.TensorInfo): Float32Array | null {
  if (info.dtype !== 'float32') return null;
  const values = backend.data.get(info.dataId).values;
  return values instanceof Float32Array ? values : null;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
  filterShape: [number, number, number, number];
}

/** dW[r, c, i, o] = Σ over batch and output positions of x[b, y·s + r − pad, x·s + c − pad, i] · dy[b, y, x, o]. */
function conv2dBackpropFilter(args: KernelArgs, backend: CpuBackend): tf.TensorInfo | null {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  if (attrs.dataFormat === 'NCHW') return null;
  const xs = floatValues(backend, x);
  const dys = floatValues(backend, dy);
  if (!xs || !dys) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { inChannels, outChannels } = info;
  const sums = new Float64Array(info.filterHeight * info.filterWidth * inChannels * outChannels);
  forEachTap(info, (xOffset, dyOffset, tap) => {
    const base = tap * inChannels * outChannels;
    for (let i = 0; i < inChannels; i++) {
      const xv = xs[xOffset + i]!;
      const row = base + i * outChannels;
      for (let o = 0; o < outChannels; o++) sums[row + o]! += xv * dys[dyOffset + o]!;
    }
  });
  return backend.makeTensorInfo(info.filterShape, 'float32', Float32Array.from(sums));
}

/** The same for depthwise convolution: channel o = i·multiplier + m reads input channel i only. */
function depthwiseBackpropFilter(args: KernelArgs, backend: CpuBackend): tf.TensorInfo | null {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  const dilations = attrs.dilations ?? 1;
  if (dilations !== 1 && !(Array.isArray(dilations) && dilations[0] === 1 && dilations[1] === 1)) return null;
  const xs = floatValues(backend, x);
  const dys = floatValues(backend, dy);
  if (!xs || !dys) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const { inChannels, outChannels } = info;
  const multiplier = outChannels / inChannels;
  const sums = new Float64Array(info.filterHeight * info.filterWidth * outChannels);
  forEachTap(info, (xOffset, dyOffset, tap) => {
    const base = tap * outChannels;
    if (multiplier === 1) {
      for (let o = 0; o < outChannels; o++) sums[base + o]! += xs[xOffset + o]! * dys[dyOffset + o]!;
    } else {
      for (let o = 0; o < outChannels; o++) sums[base + o]! += xs[xOffset + Math.floor(o / multiplier)]! * dys[dyOffset + o]!;
    }
  });
  return backend.makeTensorInfo(info.filterShape, 'float32', Float32Array.from(sums));
}

/** Shapes of rank ≤ 4 padded with leading 1s to rank 4, so one 4-deep loop serves every rank. */
function toRank4(shape: readonly number[]): [number, number, number, number] | null {
  if (shape.length > 4) return null;
  const padded = [1, 1, 1, 1, ...shape].slice(-4);
  return padded as [number, number, number, number];
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = [0, 0, 0, 0];
  let stride = 1;
  for (let d = 3; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d]!;
  }
  return strides;
}

function slice(args: KernelArgs, backend: CpuBackend): tf.TensorInfo | null {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const values = floatValues(backend, x);
  const shape = toRank4(x.shape);
  if (!values || !shape) return null;
  const attrs = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size) as [number[], number[]];
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) return null; // already a subarray
  const from = [0, 0, 0, 0, ...begin].slice(-4);
  const count = [1, 1, 1, 1, ...size].slice(-4);
  const strides = stridesOf(shape);
  const out = new Float32Array(count[0]! * count[1]! * count[2]! * count[3]!);
  let at = 0;
  for (let a = 0; a < count[0]!; a++) {
    for (let b = 0; b < count[1]!; b++) {
      for (let c = 0; c < count[2]!; c++) {
        const start = (a + from[0]!) * strides[0]! + (b + from[1]!) * strides[1]! + (c + from[2]!) * strides[2]! + from[3]!;
        out.set(values.subarray(start, start + count[3]!), at);
        at += count[3]!;
      }
    }
  }
  return backend.makeTensorInfo(size, 'float32', out);
}

const BINARY_OPS: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Multiply: (a, b) => a * b,
  RealDiv: (a, b) => a / b,
};

/** Broadcasting elementwise op on float32 tensors: each operand walks the output with stride 0 on its broadcast axes. */
function binary(args: KernelArgs, backend: CpuBackend, op: (a: number, b: number) => number): tf.TensorInfo | null {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const av = floatValues(backend, a);
  const bv = floatValues(backend, b);
  if (!av || !bv) return null;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const out4 = toRank4(outShape);
  const a4 = toRank4(a.shape);
  const b4 = toRank4(b.shape);
  if (!out4 || !a4 || !b4) return null;
  if (av.length === bv.length && av.length === out4[0] * out4[1] * out4[2] * out4[3]) {
    const out = new Float32Array(av.length);
    for (let i = 0; i < out.length; i++) out[i] = op(av[i]!, bv[i]!);
    return backend.makeTensorInfo(outShape, 'float32', out);
  }
  const as = stridesOf(a4).map((s, d) => (a4[d] === 1 ? 0 : s));
  const bs = stridesOf(b4).map((s, d) => (b4[d] === 1 ? 0 : s));
  const out = new Float32Array(out4[0] * out4[1] * out4[2] * out4[3]);
  let at = 0;
  for (let i = 0; i < out4[0]; i++) {
    for (let j = 0; j < out4[1]; j++) {
      for (let k = 0; k < out4[2]; k++) {
        let ai = i * as[0]! + j * as[1]! + k * as[2]!;
        let bi = i * bs[0]! + j * bs[1]! + k * bs[2]!;
        const aStep = as[3]!;
        const bStep = bs[3]!;
        for (let l = 0; l < out4[3]; l++) {
          out[at++] = op(av[ai]!, bv[bi]!);
          ai += aStep;
          bi += bStep;
        }
      }
    }
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
}

/** Sum or mean over any axes of a float32 tensor of rank ≤ 4, accumulated in float64 as the original does. */
function reduce(args: KernelArgs, backend: CpuBackend, mean: boolean): tf.TensorInfo | null {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const values = floatValues(backend, x);
  const shape = toRank4(x.shape);
  if (!values || !shape || values.length === 0) return null;
  const attrs = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape);
  const offset = 4 - x.shape.length;
  const reduced = new Set(axes.map((axis) => axis + offset));
  const outDims = shape.map((size, d) => (reduced.has(d) ? 1 : size));
  const outStrides = stridesOf(outDims).map((s, d) => (reduced.has(d) ? 0 : s));
  const sums = new Float64Array(outDims[0]! * outDims[1]! * outDims[2]! * outDims[3]!);
  let at = 0;
  for (let i = 0; i < shape[0]; i++) {
    for (let j = 0; j < shape[1]; j++) {
      for (let k = 0; k < shape[2]; k++) {
        let to = i * outStrides[0]! + j * outStrides[1]! + k * outStrides[2]!;
        const step = outStrides[3]!;
        for (let l = 0; l < shape[3]; l++) {
          sums[to]! += values[at++]!;
          to += step;
        }
      }
    }
  }
  const count = values.length / Math.max(1, sums.length);
  const out = Float32Array.from(sums, (sum) => (mean ? sum / count : sum));
  const outShape = attrs.keepDims ? x.shape.map((size, d) => (axes.includes(d) ? 1 : size)) : x.shape.filter((_, d) => !axes.includes(d));
  return backend.makeTensorInfo(outShape, 'float32', out);
}
