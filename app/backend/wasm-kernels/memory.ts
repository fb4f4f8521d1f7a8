import { makeSpec } from '../../common/efficientnet/index.ts';

/**
 * Whether a training forward/backward pass fits the wasm heap. tfjs-backend-wasm's heap stops at
 * 4 GiB (Emscripten getHeapMax: 4294901760 in tfjs-backend-wasm 4.22) and an allocation beyond it
 * aborts the whole wasm module ("Aborted()"), after which no wasm kernel runs again. tfjs keeps
 * every intermediate of the forward pass for the backward one. Measured with the fused swish
 * gradient (app/model/swish.ts) and the SIMD kernels: one B0 training step at 224 px left the heap
 * at 808 MiB with 2 images and 1636 MiB with 4, i.e. about 414 MiB per image (weights, gradients
 * and AdamW state of B0 are under 100 MiB). Activations scale with the pixels, the width
 * (channels) and the depth (layers), so this is an estimate, rounded up by 8 %.
 */
const BYTES_PER_B0_IMAGE_AT_224 = 448 * 2 ** 20;
/** What a pass may use: the rest is weights, gradients, optimizer state and fragmentation. */
export const WASM_TRAINING_BUDGET = 3.5 * 2 ** 30;

export interface TrainingWorkload {
  readonly batchSize: number;
  readonly variant: string;
  readonly resolution?: number;
}

export function estimateWasmTrainingBytes(workload: TrainingWorkload): number {
  const spec = makeSpec(workload.variant, workload.resolution === undefined ? {} : { resolution: workload.resolution });
  return BYTES_PER_B0_IMAGE_AT_224 * workload.batchSize * (spec.resolution / 224) ** 2 * spec.width * spec.depth;
}

/** The largest batch that fits the budget (at least 1). */
export function largestWasmBatch(workload: TrainingWorkload): number {
  const perImage = estimateWasmTrainingBytes({ ...workload, batchSize: 1 });
  return Math.max(1, Math.floor(WASM_TRAINING_BUDGET / perImage));
}
