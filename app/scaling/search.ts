/**
 * Step 1 of compound scaling (Tan & Le 2019 §3.3) on the user's data: plan the candidates of a
 * grid under α·β²·γ² ≈ 2, train each with the same short proxy budget and seed, score each by
 * validation accuracy and by ACC·(MACs/T)^w, and pick the best. Training itself is behind
 * `CandidateTrainer` (the job manager in ./job-trainer.ts); this file owns the order, the state
 * file and resuming: candidates already completed are never trained again.
 */
import {
  generateGrid,
  scaleBase,
  searchObjective,
  spreadSubset,
  CONSTRAINT_TARGET,
  type GridSpec,
  type ScalingBase,
} from '../common/scaling-lab.ts';
import { makeSpec, modelFacts } from '../common/efficientnet/index.ts';
import { AppError } from '../common/errors.ts';
import { newSearchId, saveState, STATE_VERSION, type CandidateState, type ProxyTraining, type SearchState } from './state.ts';

export interface PlanOptions {
  readonly dataset: string;
  readonly classes: readonly string[];
  readonly base: ScalingBase;
  readonly grid: GridSpec;
  readonly tolerance: number;
  readonly maxCandidates?: number;
  readonly training: ProxyTraining;
  readonly seed: number;
  readonly targetMacs?: number;
  readonly id?: string;
}

function facts(scaled: { width: number; depth: number; resolution: number }, numClasses: number) {
  return modelFacts(makeSpec('b0', { ...scaled, numClasses }));
}

/** The search's state before any training: the candidates (a spread subset when the grid is larger than maxCandidates). */
export function planSearch(options: PlanOptions, now = Date.now()): SearchState {
  const { total, kept } = generateGrid(options.grid, options.tolerance);
  if (kept.length === 0) {
    throw new AppError(
      'scaling-grid-empty',
      `No α, β, γ of the grid (${total} combinations) has α·β²·γ² within ${options.tolerance} of 2.`,
      {
        hint: 'Widen the grid or raise --tolerance.',
      },
    );
  }
  const chosen = options.maxCandidates === undefined ? kept : spreadSubset(kept, options.maxCandidates);
  const numClasses = options.classes.length;
  const base = facts(options.base, numClasses);
  const candidates: CandidateState[] = chosen.map((c, i) => {
    const scaled = scaleBase(options.base, c);
    const f = facts(scaled, numClasses);
    return {
      index: i + 1,
      alpha: c.alpha,
      beta: c.beta,
      gamma: c.gamma,
      growth: c.growth,
      ...scaled,
      params: f.totalParams,
      macs: f.macs,
      latencyMs: null,
      status: 'pending',
      runIds: [],
      accuracy: null,
      objective: null,
      seconds: null,
      message: null,
    };
  });
  if (options.targetMacs !== undefined && !(options.targetMacs > 0)) {
    throw new AppError('scaling-target-invalid', `The target must be a positive number of MACs, got ${options.targetMacs}.`);
  }
  return {
    version: STATE_VERSION,
    id: options.id ?? newSearchId(new Date(now)),
    createdAt: now,
    dataset: options.dataset,
    classes: options.classes,
    base: options.base,
    grid: options.grid,
    tolerance: options.tolerance,
    gridTotal: total,
    gridKept: kept.length,
    maxCandidates: options.maxCandidates ?? null,
    training: options.training,
    seed: options.seed,
    targetMacs: options.targetMacs ?? CONSTRAINT_TARGET * base.macs,
    targetSource: options.targetMacs === undefined ? 'base×2' : 'user',
    baseMacs: base.macs,
    baseParams: base.totalParams,
    candidates,
    updatedAt: now,
  };
}

export interface CandidateOutcome {
  /** `stopped`: cancelled by the search's signal; the candidate stays pending for a resume. */
  readonly status: 'completed' | 'failed' | 'stopped';
  readonly runId: number | null;
  readonly accuracy: number | null;
  readonly seconds: number;
  readonly message: string | null;
}

/** Trains one candidate as a run tagged with the search; resolves when the run has ended. */
export type CandidateTrainer = (candidate: CandidateState, state: SearchState, signal: AbortSignal) => Promise<CandidateOutcome>;

export type SearchEvent =
  | { readonly type: 'candidate-started'; readonly candidate: CandidateState; readonly of: number }
  | { readonly type: 'candidate-ended'; readonly candidate: CandidateState; readonly of: number };

export interface RunSearchOptions {
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: SearchEvent) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Where the state goes after every change (default: the data folder's scaling/ file). */
  readonly save?: (state: SearchState) => Promise<unknown>;
}

export interface SearchOutcome {
  readonly state: SearchState;
  /** True when the signal stopped it before every candidate had its turn. */
  readonly stopped: boolean;
  readonly chosen: CandidateState | null;
}

/** Trains every candidate not yet completed, in order, saving the state around each. */
export async function runSearch(state: SearchState, trainer: CandidateTrainer, options: RunSearchOptions = {}): Promise<SearchOutcome> {
  const signal = options.signal ?? new AbortController().signal;
  const save = options.save ?? ((s: SearchState) => saveState(s, options.env));
  const of = state.candidates.length;
  let stopped = false;
  await save(state);
  for (const candidate of state.candidates) {
    if (candidate.status === 'completed') continue;
    if (signal.aborted) {
      stopped = true;
      break;
    }
    candidate.status = 'running';
    candidate.message = null;
    await save(state);
    options.onEvent?.({ type: 'candidate-started', candidate, of });
    const outcome = await trainer(candidate, state, signal);
    if (outcome.runId !== null && !candidate.runIds.includes(outcome.runId)) candidate.runIds.push(outcome.runId);
    candidate.seconds = (candidate.seconds ?? 0) + outcome.seconds;
    candidate.message = outcome.message;
    if (outcome.status === 'completed' && outcome.accuracy !== null) {
      candidate.status = 'completed';
      candidate.accuracy = outcome.accuracy;
      candidate.objective = searchObjective(outcome.accuracy, ...objectiveCost(state, candidate));
    } else if (outcome.status === 'completed') {
      candidate.status = 'failed';
      candidate.message = 'The run finished without a validation accuracy (is the validation split empty?).';
    } else {
      candidate.status = outcome.status === 'stopped' ? 'pending' : 'failed';
    }
    await save(state);
    options.onEvent?.({ type: 'candidate-ended', candidate, of });
    if (outcome.status === 'stopped') {
      stopped = true;
      break;
    }
  }
  return { state, stopped, chosen: chooseCandidate(state) };
}

/** The objective's FLOPS(m) and T: MACs, or measured latencies when the search has a latency target. */
export function objectiveCost(state: SearchState, candidate: CandidateState): [cost: number, target: number] {
  if (state.targetLatencyMs !== undefined) {
    if (candidate.latencyMs === null)
      throw new AppError('scaling-latency-missing', `Candidate ${candidate.index} has no measured latency.`);
    return [candidate.latencyMs, state.targetLatencyMs];
  }
  return [candidate.macs, state.targetMacs];
}

/** Switches a planned search to a latency target, with every candidate's measured latency (ms per image). */
export function attachLatency(
  state: SearchState,
  targetMs: number,
  measured: { backend: string; device: string; baseMs: number; candidateMs: readonly number[] },
): SearchState {
  if (!(targetMs > 0)) throw new AppError('scaling-target-invalid', `The latency target must be a positive number of ms, got ${targetMs}.`);
  if (measured.candidateMs.length !== state.candidates.length) throw new RangeError('one latency per candidate expected');
  state.candidates.forEach((c, i) => (c.latencyMs = measured.candidateMs[i]!));
  state.targetLatencyMs = targetMs;
  state.latency = { backend: measured.backend, device: measured.device, baseMs: measured.baseMs };
  return state;
}

/** The completed candidate with the highest objective (ties: higher accuracy, then closer to 2, then earlier). */
export function chooseCandidate(state: SearchState): CandidateState | null {
  const done = state.candidates.filter((c) => c.status === 'completed' && c.objective !== null);
  done.sort(
    (a, b) =>
      b.objective! - a.objective! ||
      b.accuracy! - a.accuracy! ||
      Math.abs(a.growth - CONSTRAINT_TARGET) - Math.abs(b.growth - CONSTRAINT_TARGET) ||
      a.index - b.index,
  );
  return done[0] ?? null;
}
