import { AppError } from '../common/errors.ts';
import { makeSpec } from '../common/efficientnet/index.ts';
import { estimateWasmTrainingBytes, WASM_TRAINING_BUDGET, type TrainingWorkload } from '../backend/wasm-kernels/memory.ts';
import type { RawBatch } from './evaluation.ts';

/**
 * Automatic micro-batching on wasm (issue 7). tfjs-backend-wasm's heap stops at 4 GiB and a pass
 * that outgrows it aborts the module (app/backend/wasm-kernels/memory.ts), so B0 at 224 px cannot
 * backpropagate more than about 5 images at once there. Instead of leaving wasm for the ~10× slower
 * `cpu` backend, each batch is cut into micro-batches that fit, and the trainer's gradient
 * accumulation (step.ts: Σ of summed per-image losses ÷ images of the step) joins them into one
 * optimizer step — the same step as one pass over the whole batch, except that BatchNorm in training
 * mode normalises each micro-batch with its own statistics ("ghost batch normalisation",
 * Hoffer et al. 2017).
 */

/** How much of the wasm heap (MiB) one training pass may use; the default is WASM_TRAINING_BUDGET. */
export const WASM_BUDGET_VARIABLE = 'EFFNET_WASM_TRAINING_MB';
/** Emscripten's getHeapMax in tfjs-backend-wasm 4.22: a budget above it can only abort the module. */
const WASM_HEAP_MAX_MIB = 4095;

export interface MicroBatchPlan {
  readonly batchSize: number;
  /** Images per forward/backward pass: the largest part (parts differ by at most one image). */
  readonly microBatch: number;
  /** Passes per batch of `batchSize`. */
  readonly parts: number;
  /** Whether even one image fits the budget; if not, wasm cannot train this workload at all. */
  readonly fits: boolean;
  /** Estimated heap use of one pass over the whole batch. */
  readonly batchBytes: number;
  readonly budgetBytes: number;
}

/** The training-pass budget from EFFNET_WASM_TRAINING_MB (MiB), else WASM_TRAINING_BUDGET. */
export function wasmTrainingBudget(env: NodeJS.ProcessEnv): number {
  const raw = env[WASM_BUDGET_VARIABLE]?.trim();
  if (!raw) return WASM_TRAINING_BUDGET;
  const mib = Number(raw);
  if (!Number.isFinite(mib) || mib <= 0 || mib > WASM_HEAP_MAX_MIB) {
    throw new AppError('backend-invalid', `${WASM_BUDGET_VARIABLE}='${raw}' is not a heap budget in MiB`, {
      hint: `Set it to a number of MiB above 0 and at most ${WASM_HEAP_MAX_MIB} (the wasm heap's limit), or unset it for ${WASM_TRAINING_BUDGET / 2 ** 20}.`,
    });
  }
  return mib * 2 ** 20;
}

/**
 * The fewest passes whose images each fit `budgetBytes`, with the images spread evenly over them
 * (32 images at 5 per pass: 7 passes of 5, 5, 5, 5, 4, 4, 4, not 6 of 5 and one of 2), so each
 * micro-batch's BatchNorm statistics rest on about as many images as the others'.
 */
export function planMicroBatches(workload: TrainingWorkload, budgetBytes: number = WASM_TRAINING_BUDGET): MicroBatchPlan {
  const perImage = estimateWasmTrainingBytes({ ...workload, batchSize: 1 });
  const fitting = Math.floor(budgetBytes / perImage);
  const parts = Math.ceil(workload.batchSize / Math.max(1, fitting));
  return {
    batchSize: workload.batchSize,
    microBatch: Math.ceil(workload.batchSize / parts),
    parts,
    fits: fitting >= 1,
    batchBytes: estimateWasmTrainingBytes(workload),
    budgetBytes,
  };
}

/** Sizes of the passes for a batch of `size` images at most `microBatch` each, spread evenly. */
export function partSizes(size: number, microBatch: number): number[] {
  const parts = Math.max(1, Math.ceil(size / microBatch));
  const base = Math.floor(size / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < size % parts ? 1 : 0));
}

/** The batch as micro-batches of at most `microBatch` images: views of its data, in order. */
export function splitBatch(batch: RawBatch, microBatch: number): RawBatch[] {
  if (batch.size <= microBatch) return [batch];
  const perImage = batch.data.length / batch.size;
  const parts: RawBatch[] = [];
  let start = 0;
  for (const size of partSizes(batch.size, microBatch)) {
    const end = start + size;
    parts.push({
      data: batch.data.subarray(start * perImage, end * perImage),
      shape: [size, ...batch.shape.slice(1)],
      labels: batch.labels.subarray(start, end),
      paths: batch.paths.slice(start, end),
      size,
      index: batch.index,
    });
    start = end;
  }
  return parts;
}

/** The image size a workload trains at: its own, or its variant's. */
export function resolutionOf(workload: TrainingWorkload): number {
  return workload.resolution ?? makeSpec(workload.variant).resolution;
}

/** What the log says about a plan: "Batch 32 → 7 micro-batches of 4–5 on wasm: …". */
export function describePlan(plan: MicroBatchPlan, workload: TrainingWorkload, batchNormTrains: boolean): string {
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
  const sizes = partSizes(plan.batchSize, plan.microBatch);
  const smallest = Math.min(...sizes);
  const of = smallest === plan.microBatch ? `${plan.microBatch}` : `${smallest}–${plan.microBatch}`;
  const batchNorm = batchNormTrains
    ? `BatchNorm normalises each micro-batch with its own statistics ("ghost batch norm"), the one difference from a single pass over ${plan.batchSize}.`
    : `BatchNorm runs in inference mode here, so the step equals one pass over ${plan.batchSize} up to float rounding.`;
  return (
    `Batch ${plan.batchSize} → ${plan.parts} micro-batches of ${of} on wasm: a training pass over ${plan.batchSize} ${workload.variant} ` +
    `images at ${resolutionOf(workload)} px needs about ${gib(plan.batchBytes)} GiB, more than the ${gib(plan.budgetBytes)} GiB of the 4 GiB wasm heap ` +
    `one pass may use (${WASM_BUDGET_VARIABLE} sets it in MiB). Their gradients are summed into one optimizer step, so the ` +
    `effective batch stays ${plan.batchSize}; ${batchNorm}`
  );
}
