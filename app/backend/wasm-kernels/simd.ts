import type * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './heap.ts';
import { SIMD_WASM_BASE64 } from './simd-binary.ts';

/**
 * Our SIMD module (simd-source.ts), instantiated on tfjs-backend-wasm's own WebAssembly.Memory so it
 * reads and writes tensors where they lie: no copies in or out. The heap may grow under it (every
 * allocation can); a memory import sees the growth, and tensor offsets never move. Pointers cross
 * as i32: an offset above 2 GiB wraps to a negative JS int32 with the same bits, which wasm reads
 * back as the same unsigned address.
 */
export interface SimdKernels {
  dwFilterRow(x: number, xStep: number, dy: number, count: number, channels: number, acc: number): void;
  rowSums(x: number, xStep: number, count: number, channels: number, acc: number): void;
  dwAxpyRow(source: number, sourceStep: number, target: number, targetStep: number, count: number, channels: number, w: number): void;
  batchNorm(x: number, count: number, period: number, out: number, mean: number, multiplier: number, offset: number): void;
  atb(a: number, m: number, b: number, n: number, rows: number, out: number): void;
  ab(a: number, k: number, b: number, n: number, rows: number, out: number, depth: number): void;
  copyRows(source: number, sourceStride: number, target: number, targetStride: number, rowBytes: number, count: number): void;
  swishGrad(dy: number, x: number, s: number, out: number, count: number): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm beyond heap.ts's that pointers need. */
interface PointerBackend {
  wasm: { asm: { memory: WebAssembly.Memory } };
  getMemoryOffset(dataId: tf.DataId): number;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

export function simdKernels(backend: WasmBackend): SimdKernels {
  const memory = (backend as unknown as PointerBackend).wasm.asm.memory;
  let kernels = instances.get(memory);
  if (kernels) return kernels;
  compiled ??= compile();
  const exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as Record<string, (...args: number[]) => void>;
  kernels = {
    dwFilterRow: exports.dwFilterRow!,
    rowSums: exports.rowSums!,
    dwAxpyRow: exports.dwAxpyRow!,
    batchNorm: exports.batchNorm!,
    atb: exports.atb!,
    ab: exports.ab!,
    copyRows: exports.copyRows!,
    swishGrad: exports.swishGrad!,
  } as SimdKernels;
  instances.set(memory, kernels);
  return kernels;
}

/** Fixed-width SIMD is in every Node ≥ 16.4 and Electron on x86-64 (SSE4.1) and arm64, as tfjs-backend-wasm's SIMD build assumes. */
function compile(): WebAssembly.Module {
  try {
    return new WebAssembly.Module(Buffer.from(SIMD_WASM_BASE64, 'base64'));
  } catch (error) {
    throw new Error(`wasm training kernels: this JavaScript engine cannot compile WebAssembly SIMD (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/** The byte offset of a tensor's data on the wasm heap. */
export function pointer(backend: WasmBackend, info: tf.TensorInfo): number {
  return (backend as unknown as PointerBackend).getMemoryOffset(info.dataId);
}
