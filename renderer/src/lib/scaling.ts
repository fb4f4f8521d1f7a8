/**
 * The Scaling lab's search form as data: the defaults (α, β, γ from 1 to 1.4 in steps of
 * 0.05, kept within 2 ± 0.1), the problems to show before anything starts, and the arguments of
 * `scaling:plan` (the live preview) and `scaling:start`. Pure: scaling.spec.ts covers it.
 */
import type { ChannelArgs, ScalingCandidateStatus, ScalingSearchStatus } from '../../../app/common/ipc/contract.ts';
import { DEFAULT_GRID } from '../../../app/common/scaling-lab.ts';

export type Axis = 'alpha' | 'beta' | 'gamma';
export const AXES: readonly { key: Axis; symbol: string; scales: string }[] = [
  { key: 'alpha', symbol: 'α', scales: 'depth' },
  { key: 'beta', symbol: 'β', scales: 'width' },
  { key: 'gamma', symbol: 'γ', scales: 'resolution' },
];

export interface SearchForm {
  dataset: string;
  /** `b0`, or `phi` (B0 scaled by φ with the paper's coefficients: smaller and quicker for φ < 0). */
  base: 'b0' | 'phi';
  phi: number;
  /** null: the base's own input size. */
  resolution: number | null;
  grid: Record<Axis, { min: number; max: number; step: number }>;
  tolerance: number;
  /** null: every kept candidate. */
  maxCandidates: number | null;
  epochs: number | null;
  minutes: number | null;
  target: 'macs' | 'latency';
  /** null: 2 × the base's MACs. */
  targetMacs: number | null;
  targetMs: number | null;
  /** null: drawn when the search starts, and recorded. */
  seed: number | null;
  batchSize: number;
  learningRate: number;
  validationSplit: number;
  augment: boolean;
}

export function defaultSearchForm(dataset = ''): SearchForm {
  return {
    dataset,
    base: 'phi',
    phi: -4,
    resolution: null,
    grid: { alpha: { ...DEFAULT_GRID.alpha }, beta: { ...DEFAULT_GRID.beta }, gamma: { ...DEFAULT_GRID.gamma } },
    tolerance: 0.1,
    // Each candidate is a whole training run: a spread of 6 shows the trade-off without taking all day.
    maxCandidates: 6,
    epochs: 3,
    minutes: null,
    target: 'macs',
    targetMacs: null,
    targetMs: null,
    seed: null,
    batchSize: 16,
    // Candidates train from random weights: the trainer's from-scratch rate.
    learningRate: 0.01,
    validationSplit: 0.2,
    augment: true,
  };
}

export function baseVariant(form: Pick<SearchForm, 'base' | 'phi'>): string {
  return form.base === 'b0' ? 'b0' : `phi:${form.phi}`;
}

const finite = (n: number | null): n is number => typeof n === 'number' && Number.isFinite(n);

/** What is wrong with the form, by field; empty when it can start. */
export function searchProblems(form: SearchForm): Record<string, string> {
  const problems: Record<string, string> = {};
  if (form.dataset.trim() === '') problems.dataset = 'Give the dataset folder or manifest.';
  if (form.base === 'phi' && (!finite(form.phi) || form.phi < -8 || form.phi > 8)) problems.phi = 'φ must be between −8 and 8.';
  if (form.resolution !== null && (!Number.isInteger(form.resolution) || form.resolution < 32)) {
    problems.resolution = 'A whole number of pixels, at least 32.';
  }
  for (const { key, symbol } of AXES) {
    const axis = form.grid[key];
    if (![axis.min, axis.max, axis.step].every(finite)) problems[key] = `${symbol}: fill in min, max and step.`;
    else if (axis.min < 1) problems[key] = `${symbol}: the paper requires values ≥ 1.`;
    else if (axis.max < axis.min) problems[key] = `${symbol}: max is below min.`;
    else if (axis.step <= 0) problems[key] = `${symbol}: the step must be positive.`;
  }
  if (!finite(form.tolerance) || form.tolerance < 0 || form.tolerance >= 2) problems.tolerance = 'From 0 to below 2.';
  if (form.maxCandidates !== null && (!Number.isInteger(form.maxCandidates) || form.maxCandidates < 1)) {
    problems.maxCandidates = 'A whole number ≥ 1, or empty for all.';
  }
  if (form.epochs === null && form.minutes === null) problems.budget = 'Give epochs, minutes, or both.';
  if (form.epochs !== null && (!Number.isInteger(form.epochs) || form.epochs < 1)) problems.budget = 'Epochs: a whole number ≥ 1.';
  if (form.minutes !== null && !(form.minutes > 0)) problems.budget = 'Minutes: a positive number.';
  if (form.target === 'macs' && form.targetMacs !== null && !(form.targetMacs > 0))
    problems.target = 'A positive number of MACs, or empty.';
  if (form.target === 'latency' && !(finite(form.targetMs) && form.targetMs > 0)) problems.target = 'Give the latency target in ms.';
  if (form.seed !== null && (!Number.isInteger(form.seed) || form.seed < 0)) problems.seed = 'A whole number ≥ 0, or empty.';
  if (!(Number.isInteger(form.batchSize) && form.batchSize >= 1)) problems.batchSize = 'A whole number ≥ 1.';
  if (!(form.learningRate > 0)) problems.learningRate = 'Above 0.';
  if (!(form.validationSplit > 0 && form.validationSplit < 1)) problems.validationSplit = 'Between 0 and 1.';
  return problems;
}

/** Problems that stop the preview (the dataset and budget do not matter to it). */
export function previewProblems(problems: Record<string, string>): string[] {
  return ['phi', 'resolution', 'alpha', 'beta', 'gamma', 'tolerance', 'maxCandidates'].flatMap((key) =>
    problems[key] ? [problems[key]] : [],
  );
}

export function planArgs(form: SearchForm, numClasses: number | null): ChannelArgs<'scaling:plan'>[0] {
  return {
    base: { variant: baseVariant(form), ...(form.resolution === null ? {} : { resolution: form.resolution }) },
    grid: form.grid,
    tolerance: form.tolerance,
    ...(form.maxCandidates === null ? {} : { maxCandidates: form.maxCandidates }),
    ...(numClasses === null ? {} : { numClasses }),
  };
}

export function startArgs(form: SearchForm): ChannelArgs<'scaling:start'>[0] {
  const { numClasses: _ignored, ...plan } = planArgs(form, null);
  return {
    ...plan,
    dataset: form.dataset.trim(),
    budget: { ...(form.epochs === null ? {} : { epochs: form.epochs }), ...(form.minutes === null ? {} : { minutes: form.minutes }) },
    batchSize: form.batchSize,
    learningRate: form.learningRate,
    validationSplit: form.validationSplit,
    augment: form.augment,
    ...(form.seed === null ? {} : { seed: form.seed }),
    ...(form.target === 'latency'
      ? { target: { latencyMs: form.targetMs! } }
      : form.targetMacs === null
        ? {}
        : { target: { macs: form.targetMacs } }),
  };
}

export const SEARCH_STATUS_LABELS: Record<ScalingSearchStatus, string> = {
  running: 'Running',
  stopping: 'Stopping…',
  stopped: 'Stopped (resumable)',
  completed: 'Completed',
  failed: 'Finished with failures',
};

/** A candidate's status as the table shows it: one marked running in a search that is not running was interrupted. */
export function candidateLabel(status: ScalingCandidateStatus, runIds: readonly number[], searchRunning: boolean): string {
  if (status === 'running') return searchRunning ? 'running' : 'interrupted';
  if (status === 'pending' && runIds.length > 0) return 'stopped';
  return status;
}

/** 1.23 M, 456 K: MACs and parameters in the tables. */
export function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}
