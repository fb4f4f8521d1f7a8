/**
 * The learning rate per optimizer step: a linear warmup, then cosine decay (Loshchilov & Hutter,
 * SGDR 2017, without restarts) or a constant rate. A pure function of the step index, so a resumed
 * run continues the schedule exactly where it stopped.
 */

export interface ScheduleSettings {
  readonly name: 'cosine' | 'constant';
  readonly learningRate: number;
  readonly minLearningRate: number;
  /** Steps of linear warmup (0: none). */
  readonly warmupSteps: number;
  /** Optimizer steps in the whole run. */
  readonly totalSteps: number;
}

/** The rate for the optimizer step `step` (0-based). */
export function learningRateAt(step: number, settings: ScheduleSettings): number {
  const { learningRate, minLearningRate, warmupSteps, totalSteps } = settings;
  // Warmup ends AT the base rate on its last step, and starts at base/warmupSteps rather than 0
  // so that the first step already moves the weights (timm's warmup does the same).
  if (step < warmupSteps) return (learningRate * (step + 1)) / warmupSteps;
  if (settings.name === 'constant') return learningRate;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return minLearningRate + (learningRate - minLearningRate) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Warmup epochs (fractions allowed) in steps, never more than the run has. */
export function warmupStepsFor(warmupEpochs: number, stepsPerEpoch: number, totalSteps: number): number {
  return Math.min(totalSteps, Math.round(warmupEpochs * stepsPerEpoch));
}
