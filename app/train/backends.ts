import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/ladder.ts';
import { useFastCpuKernels } from './cpu-kernels.ts';

/**
 * Which tfjs backend runs what. The ladder (app/backend) picks the fastest backend that loads; the
 * `wasm` backend has no gradient kernels for EfficientNet (DepthwiseConv2dNativeBackpropInput and
 * its filter twin are not registered in tfjs-backend-wasm 4.22; platform-facts.md), so when the
 * ladder lands on wasm, training steps run on `cpu` and only forward passes (embeddings,
 * validation) use wasm, about 10× faster there than on cpu.
 *
 * Switching is cheap and safe: tfjs keeps each tensor's data on the backend that made it and moves
 * it on first use by another backend (tfjs-core DataStorage.get → engine.moveData), so the model's
 * variables follow the current backend.
 */
export interface Backends {
  /** Gradient steps: 'tensorflow' or 'cpu'. */
  readonly train: string;
  /** Forward-only work. */
  readonly forward: string;
  readonly device: string;
  /** Why training does not run on the ladder's backend, if it does not. */
  readonly note?: string;
}

export async function chooseBackends(env: NodeJS.ProcessEnv): Promise<Backends> {
  const report = await initBackend({ env });
  const forward = report.backend;
  const train = forward === 'wasm' ? 'cpu' : forward;
  if (train === 'cpu') {
    await tf.ready();
    useFastCpuKernels();
  }
  if (tf.getBackend() !== train && !(await tf.setBackend(train))) throw new Error(`the ${train} backend could not be started`);
  return {
    train,
    forward,
    device: report.device,
    ...(forward !== train
      ? {
          note: `Training steps run on the '${train}' backend: '${forward}' has no gradient kernels for EfficientNet. Forward passes use '${forward}'.`,
        }
      : {}),
  };
}

/** Runs `work` with `backend` current, then returns to `after`. */
export async function onBackend<T>(backend: string, after: string, work: () => Promise<T>): Promise<T> {
  if (backend === after) return work();
  await tf.setBackend(backend);
  try {
    return await work();
  } finally {
    await tf.setBackend(after);
  }
}
