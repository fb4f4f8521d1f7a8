import { createHash } from 'node:crypto';
import type { TrainConfig } from '../common/train-config.ts';
import type { EpochMetrics } from '../common/train-types.ts';
import { TRAINER_STATE_VERSION, type TrainerState } from './checkpoint.ts';

/** Config fields a resumed run may change without changing what the steps compute. */
const RESUMABLE_CHANGES = new Set(['epochs', 'earlyStopping', 'data']);

/** sha256 of the config with sorted keys, minus the fields a resume may change. */
export function configDigest(config: TrainConfig): string {
  const kept = Object.fromEntries(Object.entries(config).filter(([key]) => !RESUMABLE_CHANGES.has(key)));
  return createHash('sha256').update(stableJson(kept)).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function initialState(
  fields: Pick<TrainerState, 'seed' | 'mode' | 'classes' | 'datasetFingerprint' | 'configDigest' | 'totalEpochs' | 'stepsPerEpoch'>,
): TrainerState {
  return {
    version: TRAINER_STATE_VERSION,
    ...fields,
    epoch: 0,
    stepInEpoch: 0,
    globalStep: 0,
    learningRate: null,
    partial: { lossSum: 0, correct: 0, images: 0 },
    best: null,
    earlyStopping: { reference: null, wait: 0 },
    stoppedEarly: false,
    history: [],
  };
}

export interface Monitor {
  readonly metric: 'val_accuracy' | 'val_loss';
  readonly minDelta: number;
  readonly patience: number | null;
}

/** Higher is better for accuracies, lower for losses. NaN is never an improvement. */
function improves(metric: Monitor['metric'], value: number, reference: number | null, minDelta: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (reference === null) return true;
  return metric === 'val_loss' ? reference - value > minDelta : value - reference > minDelta;
}

/**
 * The state after an epoch ends with `metrics`: history, the best checkpoint (any improvement, as
 * Keras' ModelCheckpoint(save_best_only)), and early stopping (an improvement must exceed minDelta,
 * and `patience` epochs without one stop the run, as Keras' EarlyStopping).
 */
export function finishEpoch(state: TrainerState, metrics: EpochMetrics, monitor: Monitor): { state: TrainerState; best: boolean } {
  const epoch = state.epoch + 1;
  const value = metrics[monitor.metric];
  const best = value !== undefined && improves(monitor.metric, value, state.best?.value ?? null, 0);
  let { reference, wait } = state.earlyStopping;
  if (value !== undefined) {
    if (improves(monitor.metric, value, reference, monitor.minDelta)) {
      reference = value;
      wait = 0;
    } else wait += 1;
  }
  const stoppedEarly = monitor.patience !== null && value !== undefined && wait >= monitor.patience && epoch < state.totalEpochs;
  return {
    best,
    state: {
      ...state,
      epoch,
      stepInEpoch: 0,
      partial: { lossSum: 0, correct: 0, images: 0 },
      best: best ? { metric: monitor.metric, value: value!, epoch } : state.best,
      earlyStopping: { reference, wait },
      stoppedEarly,
      history: [...state.history, { epoch, metrics }],
    },
  };
}
