import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/ladder.ts';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels/index.ts';
import type { TrainingWorkload } from '../backend/wasm-kernels/memory.ts';
import { useFastCpuKernels } from './cpu-kernels.ts';
import { describePlan, planMicroBatches, resolutionOf, wasmTrainingBudget, WASM_BUDGET_VARIABLE } from './micro-batch.ts';

/**
 * Which tfjs backend runs what. The ladder (app/backend) picks the fastest backend that loads, and
 * training and forward passes both run on it. tfjs-backend-wasm 4.22 lacks EfficientNet's gradient
 * kernels (DepthwiseConv2dNativeBackpropInput and its filter twin, Conv2DBackpropFilter;
 * platform-facts.md): app/backend/wasm-kernels registers them, so wasm trains too (issue 7).
 * wasm's heap stops at 4 GiB: a batch whose training pass would not fit is cut into micro-batches
 * (micro-batch.ts) and trained on wasm all the same; only a workload of which not even one image
 * fits trains on `cpu`.
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
  /** Why training does not run on the ladder's backend, or runs in micro-batches, if so. */
  readonly note?: string;
  /** Images per forward/backward pass when a batch must be split to fit the wasm heap; absent: whole batches. */
  readonly microBatch?: number;
}

/** The backpropagating pass of a run: its model, image size and batch. */
export interface TrainingPass extends TrainingWorkload {
  /** BatchNorm normalises with batch statistics (full mode), so micro-batches change it. */
  readonly batchNormTrains?: boolean;
}

/**
 * `workload`: the backpropagating pass (finetune and full modes; head mode trains a small head on
 * cached embeddings and needs none). On wasm it is planned into micro-batches that fit the heap.
 */
export async function chooseBackends(env: NodeJS.ProcessEnv, workload?: TrainingPass): Promise<Backends> {
  const report = await initBackend({ env });
  const forward = report.backend;
  const plan = forward === 'wasm' && workload !== undefined ? planMicroBatches(workload, wasmTrainingBudget(env)) : undefined;
  const train = plan && !plan.fits ? 'cpu' : forward;
  if (train === 'wasm') registerWasmTrainingKernels();
  if (train === 'cpu') {
    await tf.ready();
    useFastCpuKernels();
  }
  if (tf.getBackend() !== train && !(await tf.setBackend(train))) throw new Error(`the ${train} backend could not be started`);
  let note: string | undefined;
  if (plan && workload && !plan.fits) {
    note =
      `Training steps run on the 'cpu' backend, about 10× slower: one ${workload.variant} image at ${resolutionOf(workload)} px ` +
      `needs about ${(plan.batchBytes / plan.batchSize / 2 ** 30).toFixed(1)} GiB for a training pass, more than the ` +
      `${(plan.budgetBytes / 2 ** 30).toFixed(1)} GiB of the wasm heap one pass may use (${WASM_BUDGET_VARIABLE}); a smaller model.resolution or variant trains on '${forward}'. Forward passes use '${forward}'.`;
  } else if (plan && workload && plan.parts > 1) {
    note = describePlan(plan, workload, workload.batchNormTrains ?? true);
  }
  return {
    train,
    forward,
    device: report.device,
    ...(note ? { note } : {}),
    ...(plan && plan.fits && plan.parts > 1 ? { microBatch: plan.microBatch } : {}),
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
