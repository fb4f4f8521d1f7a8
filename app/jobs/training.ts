/**
 * Training runs on top of the job manager: a run row per training, its folder in the data
 * folder, and resuming. Resuming follows the store's design (store-types.ts RUN_TRANSITIONS): a
 * stopped run never changes again; its continuation is a NEW run linked by `resumedFrom` that
 * starts from the last checkpoint of the chain. The new run gets a copy of the epoch metrics that
 * checkpoint already contains, so its charts, best and final accuracy cover the whole training.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseTrainConfig, type TrainConfig, type TrainConfigInput } from '../common/train-config.ts';
import type { ArtifactRow, JsonObject, RunRow } from '../common/store-types.ts';
import { dataPaths } from '../node/paths.ts';
import type { EpochMetrics, Store } from '../store/index.ts';
import type { JobManager } from './manager.ts';
import type { JobHandle, JobListener } from './types.ts';

export interface TrainingRequest {
  readonly config: TrainConfigInput;
  readonly name?: string;
  /** Sees every event of the job, from its first (see SubmitRequest.listener). */
  readonly listener?: JobListener;
}

export interface QueuedTraining {
  readonly run: RunRow;
  readonly job: JobHandle;
  /** The checkpoint it continues from (resumed runs only). */
  readonly resumeFrom: string | null;
}

/** The folder where a run's checkpoints and final model go. */
export function runFolder(runId: number, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataPaths(env).runs, String(runId));
}

/**
 * Validates the config, fills in its defaults and a seed (drawn here when absent, so the run row
 * records it and a resume reproduces it), creates the queued run and queues its training job.
 */
export function queueTraining(
  jobs: JobManager,
  store: Store,
  request: TrainingRequest,
  env: NodeJS.ProcessEnv = process.env,
): QueuedTraining {
  const parsed = parseTrainConfig(request.config);
  const config: TrainConfig = {
    ...parsed,
    dataset: { ...parsed.dataset, path: path.resolve(parsed.dataset.path) },
    seed: parsed.seed ?? Math.floor(Math.random() * 0x100000000),
  };
  const run = store.runs.create({ name: request.name ?? defaultName(config), config: config as unknown as JsonObject, seed: config.seed });
  const job = jobs.submit({
    kind: 'train',
    payload: { config: config as unknown as JsonObject, runDir: runFolder(run.id, env), runId: run.id },
    runId: run.id,
    listener: request.listener,
  });
  return { run, job, resumeFrom: null };
}

/**
 * Continues an interrupted, cancelled or failed run as a new run from the newest checkpoint of
 * its chain (the run itself, else the run it resumed, …). Without any checkpoint the new run
 * starts from the beginning with the same config and seed. `epochs` extends the training.
 */
export function resumeRun(
  jobs: JobManager,
  store: Store,
  runId: number,
  options: { epochs?: number; name?: string; listener?: JobListener } = {},
  env: NodeJS.ProcessEnv = process.env,
): QueuedTraining {
  const from = store.runs.require(runId);
  const checkpoint = lastCheckpoint(store, from);
  const config = parseTrainConfig(options.epochs === undefined ? from.config : { ...from.config, epochs: options.epochs });
  const run = store.transaction(() => {
    const created = store.runs.resume(runId, { config: config as unknown as JsonObject, name: options.name });
    if (checkpoint) copyEpochs(store, checkpoint.run.id, created.id, checkpoint.artifact.epoch ?? 0);
    return store.runs.require(created.id);
  });
  const job = jobs.submit({
    kind: 'train',
    payload: {
      config: config as unknown as JsonObject,
      runDir: runFolder(run.id, env),
      runId: run.id,
      ...(checkpoint ? { resumeFrom: checkpoint.artifact.path } : {}),
    },
    runId: run.id,
    listener: options.listener,
  });
  return { run, job, resumeFrom: checkpoint?.artifact.path ?? null };
}

/** The newest `checkpoint` artifact that still exists, in the run or the runs it continues. */
export function lastCheckpoint(store: Store, run: RunRow): { run: RunRow; artifact: ArtifactRow } | null {
  const seen = new Set<number>();
  for (let current: RunRow | undefined = run; current && !seen.has(current.id); current = store.runs.get(current.resumedFrom ?? -1)) {
    seen.add(current.id);
    const artifact = store.artifacts
      .list(current.id)
      .filter((one) => one.kind === 'checkpoint' && existsSync(one.path))
      .sort((a, b) => (a.epoch ?? 0) - (b.epoch ?? 0) || a.createdAt - b.createdAt)
      .at(-1);
    if (artifact) return { run: current, artifact };
  }
  return null;
}

/** Copies the epoch metrics up to `epoch` (what the checkpoint contains) into the new run. */
function copyEpochs(store: Store, fromId: number, toId: number, epoch: number): void {
  const byEpoch = new Map<number, Record<string, number>>();
  for (const [name, series] of Object.entries(store.metrics.series(fromId))) {
    series.epochs.forEach((e, i) => {
      if (e > epoch) return;
      const values = byEpoch.get(e) ?? {};
      values[name] = series.values[i] ?? Number.NaN;
      byEpoch.set(e, values);
    });
  }
  const epochs: EpochMetrics[] = [...byEpoch].sort(([a], [b]) => a - b).map(([e, values]) => ({ epoch: e, values }));
  store.metrics.recordEpochs(toId, epochs);
}

export function defaultName(config: TrainConfig): string {
  return `${config.model.variant} ${config.mode} on ${path.basename(config.dataset.path)}`;
}
