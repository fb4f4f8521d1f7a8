/**
 * Candidates trained as ordinary runs: each goes through the job manager (a worker process, every
 * event in the experiment store) exactly like `effnet train`, and carries the search's tag. A
 * candidate stopped mid-training continues from its checkpoint as a resumed run (`resumeRun`),
 * so its accuracy covers the whole proxy budget.
 */
import type { TrainConfigInput } from '../common/train-config.ts';
import type { JobManager } from '../jobs/manager.ts';
import { queueTraining, resumeRun, type QueuedTraining } from '../jobs/training.ts';
import type { JobListener } from '../jobs/types.ts';
import type { Store } from '../store/index.ts';
import type { CandidateOutcome, CandidateTrainer } from './search.ts';
import { searchTag, type CandidateState, type SearchState } from './state.ts';

/** Every candidate run also carries this tag, so the runs list can filter all searches at once. */
export const SEARCH_TAG = 'scale-search';

/**
 * The candidate's training config: the base variant with the candidate's width, depth and
 * resolution, trained from random weights (a scaled network has no ImageNet weights), with the
 * search's budget and seed, so candidates differ in architecture only.
 */
export function candidateConfig(state: SearchState, candidate: CandidateState): TrainConfigInput {
  const t = state.training;
  return {
    dataset: { path: state.dataset, validationSplit: t.validationSplit },
    mode: 'full',
    model: {
      variant: state.base.variant,
      width: candidate.width,
      depth: candidate.depth,
      resolution: candidate.resolution,
      weights: 'none',
    },
    epochs: t.epochs,
    // A cosine schedule over a cap that the time budget cuts short would barely decay: keep it flat.
    ...(t.minutes === undefined ? {} : { schedule: { name: 'constant' } }),
    batchSize: t.batchSize,
    optimizer: { learningRate: t.learningRate },
    seed: state.seed,
    ...(t.augment ? {} : { augment: null }),
    ...(t.workers === undefined ? {} : { data: { workers: t.workers } }),
  };
}

export function candidateName(state: SearchState, candidate: CandidateState): string {
  return `${state.id} #${candidate.index} α=${candidate.alpha} β=${candidate.beta} γ=${candidate.gamma}`;
}

export interface JobTrainerOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Sees every event of every candidate's job (progress bars, --json lines). */
  readonly listener?: (candidate: CandidateState, listener: Parameters<JobListener>[0]) => void;
}

export function jobTrainer(jobs: JobManager, store: Store, options: JobTrainerOptions = {}): CandidateTrainer {
  return async (candidate, state, signal) => {
    // The time budget counts from the worker's `started` (after loading data and building the
    // model), minus what earlier runs of this candidate already trained.
    const budgetMs = state.training.minutes === undefined ? null : state.training.minutes * 60_000 - (candidate.seconds ?? 0) * 1000;
    let budgetTimer: NodeJS.Timeout | null = null;
    let budgetSpent = false;
    let cancel = () => {};
    const listener: JobListener = (event) => {
      if (budgetMs !== null && budgetTimer === null && event.event.type === 'started') {
        budgetTimer = setTimeout(
          () => {
            budgetSpent = true;
            cancel();
          },
          Math.max(0, budgetMs),
        );
      }
      options.listener?.(candidate, event);
    };
    const previous = candidate.runIds.length > 0 ? store.runs.get(candidate.runIds.at(-1)!) : undefined;
    const name = candidateName(state, candidate);
    let queued: QueuedTraining;
    if (previous && (previous.status === 'cancelled' || previous.status === 'interrupted')) {
      queued = resumeRun(jobs, store, previous.id, { name, listener }, options.env);
    } else {
      queued = queueTraining(jobs, store, { config: candidateConfig(state, candidate), name, listener }, options.env);
    }
    const runId = queued.run.id;
    store.tags.add(runId, [searchTag(state.id), SEARCH_TAG]);
    cancel = () => jobs.cancel(queued.job.id);
    signal.addEventListener('abort', cancel, { once: true });
    if (signal.aborted) cancel();
    const result = await queued.job.done.finally(() => budgetTimer && clearTimeout(budgetTimer));
    signal.removeEventListener('abort', cancel);
    const run = store.runs.require(runId);
    const seconds = run.startedAt !== null && run.finishedAt !== null ? (run.finishedAt - run.startedAt) / 1000 : 0;
    const outcome = (status: CandidateOutcome['status'], message: string | null): CandidateOutcome => ({
      status,
      runId,
      accuracy: run.bestValAccuracy,
      seconds,
      message,
    });
    if (result.status === 'completed') return outcome('completed', null);
    if (budgetSpent && !signal.aborted && result.status === 'cancelled') {
      return run.bestValAccuracy === null
        ? outcome('failed', `The ${state.training.minutes}-minute budget ended before the first epoch did; give more minutes.`)
        : outcome('completed', `Stopped by the ${state.training.minutes}-minute budget after ${run.epochsDone} epoch(s).`);
    }
    if (signal.aborted && (result.status === 'cancelled' || result.status === 'interrupted')) {
      return outcome('stopped', `Stopped after ${run.epochsDone} epoch(s); resume the search to finish it.`);
    }
    return outcome('failed', result.error?.message ?? result.message ?? `The run ended ${result.status}.`);
  };
}
