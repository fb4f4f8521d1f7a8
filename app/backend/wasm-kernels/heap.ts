import type * as tf from '@tensorflow/tfjs';

/**
 * The parts of tfjs-backend-wasm's `BackendWasm` (dist/backend_wasm.js) that JS-side kernels use.
 * Tensor data lives on the wasm heap; `typedArrayFromHeap` is a view into it. Any allocation
 * (`makeOutput`, a wasm kernel call) may grow the heap and detach earlier views, so views are taken
 * only after the last allocation of a phase (the same rule the library's own JS kernels follow).
 */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  disposeData(dataId: tf.DataId): boolean;
}

export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** A float32 view of `info`'s data on the heap (valid until the next allocation). */
export function floats(backend: WasmBackend, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Frees intermediate results made inside a kernel (never the kernel's inputs or output). */
export function release(backend: WasmBackend, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Conv attributes as tfjs-core passes them to the backprop kernels. */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

export function assertSupported(kernel: string, attrs: ConvAttrs, infos: tf.TensorInfo[]): void {
  if (attrs.dataFormat === 'NCHW') throw new Error(`${kernel} on wasm: NCHW is not supported (EffNet Studio's models are NHWC)`);
  const dilations = attrs.dilations ?? 1;
  const dilated = Array.isArray(dilations) ? dilations[0] !== 1 || dilations[1] !== 1 : dilations !== 1;
  if (dilated) throw new Error(`${kernel} on wasm: dilations other than 1 are not supported`);
  for (const info of infos)
    if (info.dtype !== 'float32') throw new Error(`${kernel} on wasm: only float32 is supported, got ${info.dtype}`);
}
