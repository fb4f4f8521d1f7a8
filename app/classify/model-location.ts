/**
 * What a MODEL / RUN argument points at: the app's model folder, a training checkpoint or run
 * folder (its best checkpoint), an exported tfjs folder, an .onnx file (or an ONNX export folder),
 * or a run of the experiment store by id. `effnet export` and `effnet classify` share this.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import type { RunRow } from '../common/store-types.ts';
import { LABELS_FILE, METADATA_FILE, MODEL_JSON } from '../model/file-names.ts';

export type ModelLocation =
  | {
      readonly kind: 'model';
      /** The model-format folder (effnet.json + model.json). */
      readonly dir: string;
      /** The training checkpoint it belongs to (holds split.json), if any. */
      readonly checkpoint?: string;
      readonly run?: RunRow;
    }
  | { readonly kind: 'tfjs'; readonly dir: string }
  | { readonly kind: 'onnx'; readonly file: string };

/** The part of the store this needs (the real Store fits; tests can pass a small fake). */
export interface RunLookup {
  readonly runs: { get(id: number): RunRow | undefined };
  readonly artifacts: { list(runId: number): readonly { kind: string; path: string; epoch: number | null }[] };
}

export interface LocateOptions {
  readonly cwd: string;
  /** Opens the store for run ids; absent when no store exists. */
  readonly openStore?: () => RunLookup | undefined;
}

export async function locateModel(argument: string, options: LocateOptions): Promise<ModelLocation> {
  const full = path.resolve(options.cwd, argument);
  const stat = await fs.stat(full).catch(() => undefined);
  if (stat) return locatePath(full, stat.isDirectory());
  const id = /^(?:run[:#]?)?(\d+)$/i.exec(argument.trim())?.[1];
  if (id !== undefined) return locateRun(Number(id), options);
  throw new AppError('model-not-found', `'${argument}' is neither a file or folder nor a run id.`, {
    hint: 'Pass a model folder, a checkpoint or run folder, an exported tfjs folder, an .onnx file, or a run id (see `effnet runs`).',
  });
}

async function locatePath(full: string, isDirectory: boolean): Promise<ModelLocation> {
  if (!isDirectory) {
    if (full.toLowerCase().endsWith('.onnx')) return { kind: 'onnx', file: full };
    const name = path.basename(full);
    if (name === MODEL_JSON || name === METADATA_FILE) return locatePath(path.dirname(full), true);
    throw new AppError('model-not-found', `${full} is not a model: expected a folder, model.json or an .onnx file.`);
  }
  const has = (...parts: string[]) => exists(path.join(full, ...parts));
  if (await has(METADATA_FILE)) return { kind: 'model', dir: full };
  if (await has('model', METADATA_FILE)) return { kind: 'model', dir: path.join(full, 'model'), checkpoint: full };
  for (const which of ['best', 'last']) {
    if (await has('checkpoints', which, 'model', METADATA_FILE)) {
      return { kind: 'model', dir: path.join(full, 'checkpoints', which, 'model'), checkpoint: path.join(full, 'checkpoints', which) };
    }
  }
  if ((await has(MODEL_JSON)) && (await has(LABELS_FILE))) return { kind: 'tfjs', dir: full };
  if (await has('model.onnx')) return { kind: 'onnx', file: path.join(full, 'model.onnx') };
  throw new AppError('model-not-found', `${full} holds no model this app can read.`, {
    hint: 'Expected effnet.json (a saved model), a checkpoint or run folder, model.json with labels.json (a tfjs export) or model.onnx.',
  });
}

/** A run's best checkpoint (else its latest), from the checkpoint artifacts the run recorded. */
async function locateRun(id: number, options: LocateOptions): Promise<ModelLocation> {
  const store = options.openStore?.();
  const run = store?.runs.get(id);
  if (!store || !run) {
    throw new AppError('run-not-found', `There is no run ${id}${store ? '' : ' (no experiment store yet)'}.`, {
      hint: 'List the runs with `effnet runs`, or pass a model folder instead.',
    });
  }
  const checkpoints = store.artifacts
    .list(id)
    .filter((artifact) => artifact.kind.startsWith('checkpoint') || artifact.kind === 'model')
    .sort((a, b) => rank(b, run) - rank(a, run));
  for (const artifact of checkpoints) {
    const found = await locatePath(artifact.path, true).catch(() => undefined);
    if (found?.kind === 'model') return { ...found, run };
  }
  throw new AppError('run-no-model', `Run ${id} (${run.name}) has no saved model yet.`, {
    hint:
      run.status === 'running'
        ? 'Wait for its first checkpoint (the end of the first epoch).'
        : 'Only runs that finished at least one epoch have a model.',
  });
}

/** Prefer the best checkpoint (training records it as `checkpoint-best`), then the best epoch, then the latest. */
function rank(artifact: { path: string; epoch: number | null; kind: string }, run: RunRow): number {
  if (artifact.kind === 'checkpoint-best' || path.basename(artifact.path) === 'best') return 3e9;
  if (run.bestEpoch !== null && artifact.epoch === run.bestEpoch) return 2e9;
  return artifact.epoch ?? 0;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}
