/**
 * Following an export or classify job from a screen: the state comes from the job's channel
 * (`exports:job`, `classify:job`), live `job:event`s move its progress between fetches, and the
 * end (a status event) fetches the final state with the result. A slow poll covers events missed
 * while the event stream reconnected. The job a screen started is remembered here, so leaving the
 * screen and coming back shows it again.
 */
import type { ChannelResults } from '../../../app/common/ipc/contract.ts';
import { call, onEvent } from './api.ts';

export type JobChannel = 'exports:job' | 'classify:job';
type State<C extends JobChannel> = ChannelResults[C];

/** The job each screen started last in this window. */
export const activeJobs: { export: string | null; classify: string | null } = { export: null, classify: null };

const POLL_MS = 3000;

export function followJob<C extends JobChannel>(
  channel: C,
  jobId: string,
  onState: (state: State<C>) => void,
  onError: (error: unknown) => void,
): () => void {
  let current: State<C> | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const emit = (state: State<C>) => {
    current = state;
    if (!stopped) onState(state);
  };
  const fetchState = async () => {
    clearTimeout(timer);
    try {
      // Both channels take a job id; TypeScript cannot see that through the generic channel.
      const state = (await call(channel as JobChannel, jobId)) as State<C>;
      if (stopped) return;
      emit(state);
      if (state.job.finishedAt === null) timer = setTimeout(fetchState, POLL_MS);
    } catch (error) {
      if (!stopped) onError(error);
    }
  };

  const stopEvents = onEvent((event) => {
    if (event.type !== 'job:event' || event.job.jobId !== jobId || !current) return;
    const message = event.job.event;
    if (message.type === 'progress') {
      const progress = { phase: message.phase, step: message.step, steps: message.steps, message: message.message ?? null };
      emit({ ...current, progress });
    } else if (message.type === 'started' || (message.type === 'status' && message.status !== 'queued')) {
      // Started, or ended: the channel has the new status (and, at the end, the result).
      void fetchState();
    }
  });
  void fetchState();
  return () => {
    stopped = true;
    clearTimeout(timer);
    stopEvents();
  };
}

/** A job's progress as the Loading bar shows it. */
export function progressOf(state: { progress: { step: number; steps: number | null } | null } | null): { done?: number; total?: number } {
  const progress = state?.progress;
  return progress && progress.steps ? { done: progress.step, total: progress.steps } : {};
}
