/** Training channels: start, cancel, pause, resume, continue a stopped run, and the jobs list. */
import { AppError } from '../common/errors.ts';
import type { JobSummary, ParsedArgs } from '../common/ipc/contract.ts';
import type { JobInfo } from '../jobs/types.ts';
import { queueTraining, resumeRun } from '../jobs/training.ts';
import type { ApiContext } from './context.ts';
import { requirePath } from './paths.ts';

export function trainingHandlers(context: ApiContext) {
  /** The job of a run, with a message that says what to do when there is none. */
  function jobOf(runId: number): JobInfo {
    const job = context.jobs().get(runId);
    if (!job) {
      const run = context.store().runs.require(runId);
      throw new AppError('no-job', `Run ${runId} (${run.name}) is ${run.status} and is not training in this session.`, {
        hint:
          run.status === 'running'
            ? 'It is training in another process (the CLI?): control it there.'
            : 'Continue it as a new run instead.',
      });
    }
    return job;
  }

  return {
    'training:start': async ({ config, name }: ParsedArgs<'training:start'>[0]) => {
      const dataset = await requirePath(config.dataset.path, 'file-or-folder', 'config.dataset.path');
      const queued = queueTraining(
        context.jobs(),
        context.store(),
        { config: { ...config, dataset: { ...config.dataset, path: dataset } }, name },
        context.env,
      );
      context.events.publish({ type: 'runs:changed', runId: queued.run.id });
      return { runId: queued.run.id, jobId: queued.job.id };
    },
    'training:cancel': async (runId: number) => {
      jobOf(runId);
      return { cancelled: context.jobs().cancel(runId) };
    },
    'training:pause': async (runId: number): Promise<JobSummary> => {
      jobOf(runId);
      context.jobs().pause(runId);
      return jobOf(runId);
    },
    'training:resume': async (runId: number): Promise<JobSummary> => {
      jobOf(runId);
      context.jobs().resume(runId);
      return jobOf(runId);
    },
    'training:continue': async (runId: number, options: ParsedArgs<'training:continue'>[1]) => {
      const queued = resumeRun(context.jobs(), context.store(), runId, options, context.env);
      context.events.publish({ type: 'runs:changed', runId: queued.run.id });
      return { runId: queued.run.id, jobId: queued.job.id };
    },
    'training:jobs': async (): Promise<JobSummary[]> => context.jobs().list(),
  };
}
