/**
 * `models:speed`: how fast this machine trains, for the New run screen's time-per-epoch column.
 * Its own finished runs on the detected backend are the best evidence (they include the data
 * pipeline, validation and everything else an epoch does); before there are any, the backend
 * probe's convolution speed scaled by a measured efficiency (app/common/epoch-estimate.ts).
 */
import { makeSpec, modelFacts } from '../common/efficientnet/index.ts';
import { epochMacs, median, PROBE_EFFICIENCY, type TrainingSpeed } from '../common/epoch-estimate.ts';
import type { TrainMode } from '../common/train-config.ts';
import type { RunRow } from '../common/store-types.ts';
import type { Store } from '../store/index.ts';

/** Recent runs are enough; older ones may predate a faster backend or kernel. */
const CALIBRATION_RUNS = 10;
const EVENT_PAGE = 1000;

export interface DetectedBackend {
  readonly backend: string | null;
  readonly device: string | null;
  /** The fastest convolution the probe measured, GFLOP/s. */
  readonly probeGflops: number | null;
  readonly reason?: string;
}

/** Multiply-adds per second of one finished run's epochs, or null when it lacks what that needs. */
export function runSpeed(store: Store, run: RunRow): number | null {
  let started: { trainImages: number; validationImages: number; mode: TrainMode; resumedEpoch: number | null } | null = null;
  const seconds: { epoch: number; value: number }[] = [];
  for (let after = 0; ;) {
    const page = store.events.since(run.id, after, EVENT_PAGE);
    for (const event of page) {
      const payload = event.payload as Record<string, unknown>;
      if (event.type === 'started' && typeof payload.trainImages === 'number') {
        const resumedAt = payload.resumedAt as { epoch?: number } | undefined;
        started = {
          trainImages: payload.trainImages,
          validationImages: Number(payload.validationImages ?? 0),
          mode: payload.mode as TrainMode,
          resumedEpoch: resumedAt?.epoch ?? null,
        };
      }
      const metrics = payload.metrics as Record<string, unknown> | undefined;
      if (event.type === 'epoch' && typeof metrics?.epoch_seconds === 'number' && typeof payload.epoch === 'number') {
        seconds.push({ epoch: payload.epoch, value: metrics.epoch_seconds });
      }
    }
    if (page.length < EVENT_PAGE) break;
    after = page.at(-1)!.seq;
  }
  // Head mode's epochs are embeddings once, then a tiny classifier: they say nothing about the backbone's speed.
  if (!started || started.mode === 'head' || !['full', 'finetune'].includes(started.mode)) return null;
  // The first epoch pays for kernel compilation and a resumed epoch did part of its steps: skip them when others exist.
  const steady = seconds.filter((entry) => entry.epoch > 1 && entry.epoch !== started.resumedEpoch);
  const typical = median((steady.length ? steady : seconds).map((entry) => entry.value));
  if (typical === null || typical <= 0) return null;
  const macs = runMacs(run);
  if (macs === null) return null;
  return epochMacs({ macs, trainImages: started.trainImages, validationImages: started.validationImages, mode: started.mode }) / typical;
}

function runMacs(run: RunRow): number | null {
  const model = (run.config as { model?: { variant?: unknown; width?: unknown; depth?: unknown; resolution?: unknown } }).model;
  if (!model || typeof model.variant !== 'string') return null;
  const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
  try {
    const spec = makeSpec(model.variant, { width: number(model.width), depth: number(model.depth), resolution: number(model.resolution) });
    return modelFacts(spec).macs;
  } catch {
    return null;
  }
}

/** The speed from this machine's recent runs on `backend`, else from the probe. */
export function trainingSpeed(store: Store, detected: DetectedBackend): TrainingSpeed {
  const base = { backend: detected.backend, device: detected.device };
  if (detected.backend) {
    const recent = store.runList
      .list({ status: 'completed', sort: 'created', direction: 'desc', limit: 50 })
      .rows.map((row) => store.runs.get(row.id))
      .filter((run): run is RunRow => run !== undefined && run.backend === detected.backend);
    const speeds = recent
      .slice(0, CALIBRATION_RUNS * 2)
      .map((run) => runSpeed(store, run))
      .filter((speed): speed is number => speed !== null)
      .slice(0, CALIBRATION_RUNS);
    const measured = median(speeds);
    if (measured !== null) return { ...base, macsPerSecond: measured, basis: { kind: 'runs', runs: speeds.length } };
  }
  if (detected.probeGflops) {
    // GFLOP/s counts a multiply-add as two operations.
    const macsPerSecond = (detected.probeGflops * 1e9 * PROBE_EFFICIENCY) / 2;
    return { ...base, macsPerSecond, basis: { kind: 'probe', gflops: detected.probeGflops } };
  }
  return { ...base, macsPerSecond: null, basis: { kind: 'none', reason: detected.reason ?? 'No backend could be measured.' } };
}
