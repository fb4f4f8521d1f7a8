import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilter, conv2dBackpropInput } from './conv.ts';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwise.ts';
import { reduce, tile } from './reduce-tile.ts';

/**
 * Gradient kernels that make `wasm` a complete training backend for EfficientNet (issue 7).
 * A training step of a B0-like model on tfjs-backend-wasm 4.22 stops at three missing kernels —
 * Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropInput and DepthwiseConv2dNativeBackpropFilter —
 * and its Conv2DBackpropInput is a slow scalar loop, so that one is replaced too.
 */
export const WASM_TRAINING_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  Conv2DBackpropFilter: conv2dBackpropFilter as tf.KernelFunc,
  Conv2DBackpropInput: conv2dBackpropInput as tf.KernelFunc,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput as tf.KernelFunc,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter as tf.KernelFunc,
};

let registered = false;

/**
 * Package kernels replaced by faster versions for the shapes a training step uses (reduce-tile.ts);
 * each gets the package's own kernel to fall back on.
 */
/**
 * Identity (tf.clone, and the gradient plumbing of every layer: ~6 % of a step's kernel time) copies
 * the tensor on wasm; the cpu backend shares the buffer and counts references, which is safe
 * because tfjs tensors are immutable. The same here, as wasm's own Reshape does.
 */
function shareIdentity(args: Parameters<tf.KernelFunc>[0], original: tf.KernelFunc): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return original(args) as tf.TensorInfo;
  (args.backend as unknown as { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const WRAPPED: Readonly<Record<string, (args: Parameters<tf.KernelFunc>[0], original: tf.KernelFunc) => tf.TensorInfo>> = {
  Identity: shareIdentity,
  Tile: tile,
  Sum: (args, original) => reduce(args, original, false),
  Mean: (args, original) => reduce(args, original, true),
};

/**
 * Registers the kernels above for `wasm`, replacing the package's own. Call it after the wasm backend
 * is loaded (the ladder imports tfjs-backend-wasm lazily): importing the package registers its
 * kernels, and a later registration of the same name would overwrite these. Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  if (!tf.getKernel('BatchMatMul', 'wasm')) throw new Error('registerWasmTrainingKernels: load the wasm backend first');
  for (const [kernelName, kernelFunc] of Object.entries(WASM_TRAINING_KERNELS)) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  for (const [kernelName, fast] of Object.entries(WRAPPED)) {
    const original = tf.getKernel(kernelName, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: (args) => fast(args, original.kernelFunc) });
  }
  registered = true;
}
