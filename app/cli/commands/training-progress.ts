/**
 * Follows a training job to its end for `effnet train` and `effnet runs resume`: progress bars
 * and one line per epoch on a terminal, or one JSON object per event with --json; Ctrl-C cancels.
 */
import type { JobManager } from '../../jobs/manager.ts';
import type { QueuedTraining } from '../../jobs/training.ts';
import type { JobEvent, JobListener } from '../../jobs/types.ts';
import type { Store } from '../../store/index.ts';
import type { CliIo } from '../command.ts';
import { formatDuration, ProgressBar } from '../terminal.ts';
import { percent, runJson } from './runs-format.ts';

/** Exit code of a cancelled run: what a shell reports for Ctrl-C (128 + SIGINT). */
const CANCELLED_EXIT = 130;

/**
 * Queues the training with `queue` (which passes the listener on, so no event is missed), shows it
 * until it ends, and returns the exit code: 0 completed, 130 cancelled, 1 otherwise.
 */
export async function followTraining(
  io: CliIo,
  jobs: JobManager,
  store: Store,
  queue: (listener: JobListener) => QueuedTraining,
  json: boolean,
  intro?: (queued: QueuedTraining) => string,
): Promise<number> {
  const show = json ? jsonLines(io) : humanView(io);
  let buffered: JobEvent[] | null = [];
  // Events that arrive while `queue` runs come before the run's name line: hold them until it is out.
  const queued = queue((event) => (buffered ? buffered.push(event) : show(event)));
  const { run, job } = queued;
  if (!json) io.stdout.write(`${intro?.(queued) ?? ''}Run ${run.id}: ${run.name}\n`);
  for (const event of buffered) show(event);
  buffered = null;
  const onAbort = () => {
    if (!json) io.stderr.write('\nCancelling: finishing the current step and saving a checkpoint (Ctrl-C again quits at once)…\n');
    jobs.cancel(job.id);
  };
  io.signal.addEventListener('abort', onAbort, { once: true });
  if (io.signal.aborted) onAbort();
  const result = await job.done;
  io.signal.removeEventListener('abort', onAbort);

  const detail = store.runDetail(run.id);
  const final = detail.run;
  if (json) {
    io.stdout.write(
      `${JSON.stringify({ type: 'result', status: final.status, run: runJson(detail), summary: result.summary, error: result.error })}\n`,
    );
  } else {
    const took =
      final.startedAt !== null && final.finishedAt !== null ? ` in ${formatDuration((final.finishedAt - final.startedAt) / 1000)}` : '';
    const accuracy =
      final.bestValAccuracy === null
        ? ''
        : `: best val_accuracy ${percent(final.bestValAccuracy)} (epoch ${final.bestEpoch}), final ${percent(final.finalValAccuracy)}`;
    switch (final.status) {
      case 'completed': {
        const modelDir = (result.summary as { modelDir?: unknown } | null)?.modelDir;
        io.stdout.write(`Run ${final.id} completed${took}${accuracy}.\n${typeof modelDir === 'string' ? `Model: ${modelDir}\n` : ''}`);
        break;
      }
      case 'cancelled':
        io.stdout.write(
          `Run ${final.id} cancelled after ${plural(final.epochsDone, 'epoch')}${accuracy}.\nResume it with: effnet runs resume ${final.id}\n`,
        );
        break;
      default:
        io.stderr.write(`Run ${final.id} ${final.status}: ${final.statusMessage ?? 'no reason recorded'}\n`);
        if (result.error?.hint) io.stderr.write(`${result.error.hint}\n`);
        // Only where there is something to continue from: a run that failed at once would just fail again.
        if (final.status === 'interrupted' || detail.artifacts.some((artifact) => artifact.kind === 'checkpoint')) {
          io.stderr.write(`Resume it with: effnet runs resume ${final.id}\n`);
        }
    }
  }
  return final.status === 'completed' ? 0 : final.status === 'cancelled' ? CANCELLED_EXIT : 1;
}

function jsonLines(io: CliIo): (event: JobEvent) => void {
  return ({ runId, jobId, seq, time, event }) => {
    const { protocolVersion: _version, ...fields } = event as typeof event & { protocolVersion?: number };
    io.stdout.write(`${JSON.stringify({ runId, jobId, seq, time, ...fields })}\n`);
  };
}

function humanView(io: CliIo): (event: JobEvent) => void {
  const tty = Boolean(io.stderr.isTTY);
  let bar: { key: string; bar: ProgressBar } | null = null;
  let totalEpochs = 0;
  const clearBar = () => {
    if (bar && tty) io.stderr.write('\r\u001b[K');
    bar = null;
  };
  return ({ event }) => {
    switch (event.type) {
      case 'started': {
        const details = (event.details ?? {}) as {
          totalEpochs?: number;
          stepsPerEpoch?: number;
          classes?: string[];
          trainImages?: number;
          validationImages?: number;
          resumedAt?: { epoch: number; step: number };
        };
        totalEpochs = details.totalEpochs ?? 0;
        clearBar();
        io.stdout.write(
          `Training on ${event.backend} (${event.device}): ${details.trainImages ?? '?'} training and ${details.validationImages ?? '?'} validation images, ` +
            `${details.classes?.length ?? '?'} classes, ${totalEpochs} epochs of ${details.stepsPerEpoch ?? '?'} steps\n`,
        );
        if (details.resumedAt) io.stdout.write(`Resuming at epoch ${details.resumedAt.epoch}, step ${details.resumedAt.step}\n`);
        return;
      }
      case 'progress': {
        if (!tty || event.steps === null) return;
        const key = `${event.phase}:${event.epoch ?? ''}`;
        if (bar?.key !== key) {
          clearBar();
          const label =
            event.phase === 'train'
              ? `epoch ${event.epoch}/${totalEpochs}`
              : event.phase === 'validate'
                ? `validate ${event.epoch}`
                : event.phase;
          bar = { key, bar: new ProgressBar(io.stderr, label.padEnd(12), event.steps) };
        }
        const parts = [
          typeof event.loss === 'number' ? `loss ${event.loss.toFixed(4)}` : '',
          typeof event.imagesPerSecond === 'number' ? `${event.imagesPerSecond.toFixed(1)} img/s` : '',
          typeof event.etaSeconds === 'number' ? `run ETA ${formatDuration(event.etaSeconds)}` : '',
        ];
        bar.bar.update(event.step, parts.filter(Boolean).join(' · '));
        return;
      }
      case 'epoch': {
        clearBar();
        const metrics = Object.entries(event.metrics)
          .filter(([name]) => !name.includes('top') && !name.includes('f1'))
          .map(([name, value]) => `${name} ${value === null ? 'NaN' : name.includes('accuracy') ? percent(value) : value.toFixed(4)}`);
        io.stdout.write(`epoch ${event.epoch}/${event.epochs ?? totalEpochs}  ${metrics.join('  ')}${event.best ? '  (best)' : ''}\n`);
        return;
      }
      case 'log':
        if (event.level === 'info') {
          clearBar();
          io.stdout.write(`${event.message}\n`);
        }
        return;
      case 'warning':
        clearBar();
        io.stderr.write(`warning: ${event.message}\n`);
        return;
      case 'checkpoint':
      case 'finished':
      case 'failed':
      case 'status':
        return;
    }
  };
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
