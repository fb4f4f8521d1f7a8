/**
 * How long an epoch will take, before anything trains: the work of an epoch in multiply-adds, over
 * a training speed in multiply-adds per second measured on this machine (from its own finished
 * runs, or from the backend's convolution probe). Pure: the New run screen and the API share it.
 *
 * The cost model is the usual one: a backward pass costs about twice the forward (gradients for
 * inputs and for weights), so a training image costs ~3 forward passes. Fine-tuning stops the
 * backward pass at the first trainable block; head mode computes each image's embedding once (its
 * first epoch) and then trains only the classifier, which is negligible next to the backbone.
 */
import type { TrainMode } from './train-config.ts';

/** Forward passes' worth of work per training image, by mode. */
export const TRAINING_PASSES: Readonly<Record<TrainMode, number>> = {
  full: 3,
  // The last blocks hold most of the weights but little of the compute; the backward pass through
  // them adds about one forward pass's worth on B0 with the default three unfrozen blocks.
  finetune: 2,
  head: 1,
};

/**
 * Effective training speed as a share of the probe's single-convolution speed: on the wasm backend
 * with its SIMD training kernels a B0 step at 224 px reaches ~0.3 of the 3×3 convolution probe's
 * GFLOP/s (2.84 images/s × 3 passes × 0.39 G multiply-adds ≈ 6.6 GFLOP/s against the probe's ~20;
 * depthwise convolutions, BatchNorm and elementwise passes run far below a dense convolution;
 * measured with `npm run bench -- compare`). Only used until this machine has finished a run.
 */
export const PROBE_EFFICIENCY = 0.3;

export interface EpochWork {
  readonly macs: number;
  readonly trainImages: number;
  readonly validationImages: number;
  readonly mode: TrainMode;
}

/** Multiply-adds of one epoch (validation is forward only). */
export function epochMacs(work: EpochWork): number {
  return work.macs * (work.trainImages * TRAINING_PASSES[work.mode] + work.validationImages);
}

export type SpeedBasis =
  | { readonly kind: 'runs'; readonly runs: number }
  | { readonly kind: 'probe'; readonly gflops: number }
  | { readonly kind: 'none'; readonly reason: string };

/** This machine's training speed on its chosen backend. */
export interface TrainingSpeed {
  readonly backend: string | null;
  readonly device: string | null;
  /** Multiply-adds per second an epoch achieves; null when nothing could be measured. */
  readonly macsPerSecond: number | null;
  readonly basis: SpeedBasis;
}

/** Seconds per epoch, or null when the speed is unknown. Head mode's later epochs are near-free. */
export function estimateEpochSeconds(work: EpochWork, speed: Pick<TrainingSpeed, 'macsPerSecond'>): number | null {
  if (!speed.macsPerSecond || speed.macsPerSecond <= 0) return null;
  if (work.trainImages + work.validationImages <= 0) return null;
  return epochMacs(work) / speed.macsPerSecond;
}

/** The middle value (mean of the two middle ones for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `~40 s`, `~3 min`, `~1.5 h`: an estimate reads as one. */
export function formatEstimate(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  if (seconds < 1) return '< 1 s';
  if (seconds < 90) return `~${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `~${Math.round(seconds / 60)} min`;
  const hours = seconds / 3600;
  return `~${hours < 10 ? hours.toFixed(1) : Math.round(hours)} h`;
}
