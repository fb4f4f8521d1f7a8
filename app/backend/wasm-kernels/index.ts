import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilter, conv2dBackpropInput } from './conv.ts';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwise.ts';
import { batchNorm, share } from './elementwise.ts';
import { TRAINING_GRADIENTS } from './gradients.ts';
import { reduce, tile } from './reduce-tile.ts';
import { slice } from './slice.ts';
import { swishGradient } from './swish.ts';
import { SWISH_GRADIENT_KERNEL } from '../../model/swish.ts';

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
  // Not a tfjs kernel: app/model/swish.ts's gradient runs it where the backend registers it.
  [SWISH_GRADIENT_KERNEL]: swishGradient as tf.KernelFunc,
};

/** A fast path: the result, or null to use the package's own kernel. */
type FastPath = (args: Parameters<tf.KernelFunc>[0]) => tf.TensorInfo | null;

/**
 * Package kernels that run slowly for the shapes of a training step, replaced by fast paths for
 * those shapes (reduce-tile.ts, elementwise.ts, slice.ts); anything else still runs the package's.
 */
const WRAPPED: Readonly<Record<string, FastPath>> = {
  Identity: share,
  Cast: share,
  Tile: tile,
  Sum: (args) => reduce(args, false),
  Mean: (args) => reduce(args, true),
  FusedBatchNorm: batchNorm,
  Slice: slice,
};

let registered = false;
const fastCalls = new Map<string, number>();

/** How often each wrapped kernel took its fast path since registration (for tests and diagnostics). */
export function wasmFastCalls(): ReadonlyMap<string, number> {
  return fastCalls;
}

/**
 * Registers the kernels above for `wasm`, replacing the package's own. Call it after the wasm backend
 * is loaded (the ladder imports tfjs-backend-wasm lazily): importing the package registers its
 * kernels, and a later registration of the same name would overwrite these. Also installs the
 * Mean, Sum and FusedBatchNorm gradients of gradients.ts (the same values in fewer passes; global,
 * as tfjs gradients are).
 * Idempotent.
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
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const result = fast(args);
        if (result === null) return original.kernelFunc(args);
        fastCalls.set(kernelName, (fastCalls.get(kernelName) ?? 0) + 1);
        return result;
      },
    });
  }
  for (const gradient of TRAINING_GRADIENTS) tf.registerGradient(gradient);
  registered = true;
}
