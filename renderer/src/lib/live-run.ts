/**
 * What the live view of a training run shows, folded from its events: stored ones first (a view
 * opened mid-run catches up), then live ones. Events are the worker's messages without the
 * protocol version, as both the store and the job manager carry them. Pure: unit-tested.
 */
import type { RunStatus } from '../../../app/common/store-types.ts';

export interface LiveState {
  readonly status: RunStatus | null;
  readonly paused: boolean;
  readonly phase: string | null;
  readonly epoch: number | null;
  readonly epochs: number | null;
  readonly step: number | null;
  readonly steps: number | null;
  readonly imagesPerSecond: number | null;
  readonly etaSeconds: number | null;
  readonly learningRate: number | null;
  /** Training loss per optimizer step, for the live chart. */
  readonly stepLoss: readonly { x: number; y: number | null }[];
  /** Newest last; at most LOG_LINES. */
  readonly log: readonly { time: number; level: 'info' | 'warning' | 'error' | 'debug'; text: string }[];
  readonly device: string | null;
  readonly message: string | null;
}

export const LOG_LINES = 300;
const MAX_STEP_POINTS = 2000;

export const EMPTY_LIVE: LiveState = {
  status: null,
  paused: false,
  phase: null,
  epoch: null,
  epochs: null,
  step: null,
  steps: null,
  imagesPerSecond: null,
  etaSeconds: null,
  learningRate: null,
  stepLoss: [],
  log: [],
  device: null,
  message: null,
};

type Loose = { readonly type: string; readonly [key: string]: unknown };
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function withLog(state: LiveState, time: number, level: LiveState['log'][number]['level'], text: string): LiveState {
  const log = [...state.log, { time, level, text }];
  return { ...state, log: log.length > LOG_LINES ? log.slice(log.length - LOG_LINES) : log };
}

export function reduceLive(state: LiveState, event: Loose, time: number): LiveState {
  switch (event.type) {
    case 'status': {
      const status = event.status as RunStatus;
      const paused = event.paused === true;
      let next: LiveState = { ...state, status, paused, message: (event.message as string | null) ?? null };
      if (paused !== state.paused) next = withLog(next, time, 'info', paused ? 'Paused.' : 'Resumed.');
      return next;
    }
    case 'started': {
      const next = { ...state, status: 'running' as const, device: String(event.device ?? '') };
      return withLog(next, time, 'info', `Started on ${next.device}.`);
    }
    case 'progress': {
      const loss = num(event.loss);
      const globalStep = num(event.globalStep);
      let stepLoss = state.stepLoss;
      if (event.phase === 'train' && loss !== null && globalStep !== null && globalStep !== stepLoss.at(-1)?.x) {
        stepLoss = [...stepLoss, { x: globalStep, y: loss }];
        if (stepLoss.length > MAX_STEP_POINTS) stepLoss = stepLoss.filter((_, i) => i % 2 === 0);
      }
      return {
        ...state,
        status: state.status === 'queued' || state.status === null ? 'running' : state.status,
        phase: String(event.phase ?? state.phase),
        epoch: num(event.epoch) ?? state.epoch,
        epochs: num(event.epochs) ?? state.epochs,
        step: num(event.step),
        steps: num(event.steps),
        imagesPerSecond: num(event.imagesPerSecond) ?? state.imagesPerSecond,
        etaSeconds: num(event.etaSeconds),
        learningRate: num(event.learningRate) ?? state.learningRate,
        stepLoss,
      };
    }
    case 'epoch': {
      const metrics = (event.metrics ?? {}) as Record<string, number | null>;
      const shown = ['loss', 'accuracy', 'val_loss', 'val_accuracy']
        .filter((name) => typeof metrics[name] === 'number')
        .map(
          (name) =>
            `${name} ${name.includes('acc') ? `${((metrics[name] as number) * 100).toFixed(1)}%` : (metrics[name] as number).toFixed(4)}`,
        );
      const next = { ...state, epoch: num(event.epoch) ?? state.epoch, epochs: num(event.epochs) ?? state.epochs };
      return withLog(
        next,
        time,
        'info',
        `Epoch ${event.epoch}${next.epochs ? `/${next.epochs}` : ''}: ${shown.join(', ')}${event.best ? ' (best so far)' : ''}`,
      );
    }
    case 'checkpoint':
      return withLog(state, time, 'debug', `Checkpoint saved (epoch ${event.epoch}${event.best ? ', best' : ''}).`);
    case 'log':
      return withLog(state, time, event.level === 'debug' ? 'debug' : 'info', String(event.message ?? ''));
    case 'warning':
      return withLog(state, time, 'warning', String(event.message ?? ''));
    case 'finished': {
      const cancelled = event.cancelled === true;
      return withLog(
        { ...state, status: cancelled ? 'cancelled' : 'completed', etaSeconds: null },
        time,
        'info',
        cancelled ? 'Cancelled; a checkpoint was saved.' : 'Finished.',
      );
    }
    case 'failed':
      return withLog(
        { ...state, status: 'failed', etaSeconds: null, message: String(event.message ?? '') },
        time,
        'error',
        `Failed: ${event.message}${event.hint ? ` ${event.hint}` : ''}`,
      );
    default:
      return state;
  }
}

export function formatEta(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
