import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/ladder.ts';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels/index.ts';
import {
  estimateWasmTrainingBytes,
  largestWasmBatch,
  WASM_TRAINING_BUDGET,
  type TrainingWorkload,
} from '../backend/wasm-kernels/memory.ts';
import { useFastCpuKernels } from './cpu-kernels.ts';

/**
 * Which tfjs backend runs what. The ladder (app/backend) picks the fastest backend that loads, and
 * training and forward passes both run on it. tfjs-backend-wasm 4.22 lacks EfficientNet's gradient
 * kernels (DepthwiseConv2dNativeBackpropInput and its filter twin, Conv2DBackpropFilter;
 * platform-facts.md): app/backend/wasm-kernels registers them, so wasm trains too (issue 7).
 *
 * Switching is cheap and safe: tfjs keeps each tensor's data on the backend that made it and moves
 * it on first use by another backend (tfjs-core DataStorage.get → engine.moveData), so the model's
 * variables follow the current backend.
 */
export interface Backends {
  /** Gradient steps: 'tensorflow', 'wasm' or 'cpu'. */
  readonly train: string;
  /** Forward-only work. */
  readonly forward: string;
  readonly device: string;
  /** Why training does not run on the ladder's backend, if it does not. */
  readonly note?: string;
}

/**
 * `workload`: the backpropagating pass (finetune and full modes; head mode trains a small head on
 * cached embeddings and needs none). One that would outgrow wasm's 4 GiB heap trains on `cpu`.
 */
export async function chooseBackends(env: NodeJS.ProcessEnv, workload?: TrainingWorkload): Promise<Backends> {
  const report = await initBackend({ env });
  const forward = report.backend;
  const tooBig = forward === 'wasm' && workload !== undefined && estimateWasmTrainingBytes(workload) > WASM_TRAINING_BUDGET;
  const train = tooBig ? 'cpu' : forward;
  if (train === 'wasm') registerWasmTrainingKernels();
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
          note: `Training steps run on the '${train}' backend, about 10× slower: a batch of ${workload?.batchSize} needs about ${((workload ? estimateWasmTrainingBytes(workload) : 0) / 2 ** 30).toFixed(1)} GiB, more than the ${forward} heap holds. A batchSize of ${workload ? largestWasmBatch(workload) : 1} or less (with accumulationSteps for the same effective batch) trains on '${forward}'. Forward passes use '${forward}'.`,
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
