import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { swapInFolder, writeDurably } from '../node/durable.ts';
import type { ModelSpec } from '../common/efficientnet/index.ts';
import type { EpochRecord } from '../common/train-types.ts';
import type { SavedSplit } from '../dataset/split.ts';
import { loadModel, saveModel, type Provenance } from '../model/model-format.ts';
import type { OptimizerState } from './optimizer.ts';

/**
 * A checkpoint is a folder: `model/` (the model-format folder, loadable by loadModel and by every
 * exporter), `optimizer.bin` + `optimizer.json` (slot tensors by weight name), `split.json` (the
 * exact file lists trained on) and `trainer.json` (where the run is). The folder is assembled under
 * a temporary name beside its destination and renamed into place, so a crash leaves the previous
 * checkpoint or the new one, never a mix (the same scheme as app/model/fs-io.ts).
 */

export const CHECKPOINTS_FOLDER = 'checkpoints';
export const LAST_CHECKPOINT = 'last';
export const BEST_CHECKPOINT = 'best';
const TRAINER_FILE = 'trainer.json';
const OPTIMIZER_JSON = 'optimizer.json';
const OPTIMIZER_BIN = 'optimizer.bin';
const SPLIT_FILE = 'split.json';
const MODEL_FOLDER = 'model';
export const TRAINER_STATE_VERSION = 1;

/** Where a run is: enough to continue it exactly. Epochs are 0-based here (the epoch in progress). */
export interface TrainerState {
  readonly version: typeof TRAINER_STATE_VERSION;
  readonly seed: number;
  readonly mode: string;
  readonly classes: readonly string[];
  readonly datasetFingerprint: string;
  /** sha256 of the config (without the fields a resume may change), to warn when a resume changes it. */
  readonly configDigest: string;
  readonly totalEpochs: number;
  readonly stepsPerEpoch: number;
  /** The epoch in progress (0-based); equals totalEpochs when training is over. */
  readonly epoch: number;
  /** Optimizer steps of `epoch` already taken. */
  readonly stepInEpoch: number;
  /** Optimizer steps since the run began (epoch × stepsPerEpoch + stepInEpoch): the schedule's position. */
  readonly globalStep: number;
  /** The rate of the last step taken (for people reading the file; the schedule recomputes it from globalStep). */
  readonly learningRate: number | null;
  /** Running sums of the epoch in progress, so a resumed epoch reports the same train metrics. */
  readonly partial: { readonly lossSum: number; readonly correct: number; readonly images: number };
  /** Best monitored value so far (1-based epoch). */
  readonly best: { readonly metric: string; readonly value: number; readonly epoch: number } | null;
  /** Early stopping: the value improvements are measured against, and epochs since one. */
  readonly earlyStopping: { readonly reference: number | null; readonly wait: number };
  readonly stoppedEarly: boolean;
  readonly history: readonly EpochRecord[];
}

export interface CheckpointContent {
  readonly model: tf.LayersModel;
  readonly spec: ModelSpec;
  readonly labels: readonly string[];
  readonly provenance?: Provenance;
  readonly optimizer: OptimizerState;
  readonly split: SavedSplit;
  readonly state: TrainerState;
}

export interface WrittenCheckpoint {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

export function checkpointPath(runDir: string, which: typeof LAST_CHECKPOINT | typeof BEST_CHECKPOINT): string {
  return path.join(path.resolve(runDir), CHECKPOINTS_FOLDER, which);
}

export async function writeCheckpoint(dir: string, content: CheckpointContent): Promise<WrittenCheckpoint> {
  const target = path.resolve(dir);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = await fs.mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.saving-`));
  try {
    await saveModel(content.model, path.join(temp, MODEL_FOLDER), {
      spec: content.spec,
      labels: content.labels,
      provenance: content.provenance,
    });
    const { data, ...optimizerMeta } = content.optimizer;
    await writeDurably(path.join(temp, OPTIMIZER_BIN), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    await writeDurably(path.join(temp, OPTIMIZER_JSON), `${JSON.stringify(optimizerMeta)}\n`);
    await writeDurably(path.join(temp, SPLIT_FILE), `${JSON.stringify(content.split)}\n`);
    // Written last: a folder with trainer.json is complete.
    await writeDurably(path.join(temp, TRAINER_FILE), `${JSON.stringify(content.state, null, 2)}\n`);
    await swapInFolder(temp, target);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    if (error instanceof AppError) throw error;
    throw new AppError('checkpoint-write-failed', `Could not write the checkpoint ${target}: ${(error as Error).message}`, {
      hint: 'Check that the run folder is writable and the disk has space.',
      cause: error,
    });
  }
  return { path: target, ...(await digestFolder(target)) };
}

/** Copies a finished checkpoint folder to `dir` (the best checkpoint is a copy of the last one), atomically. */
export async function copyCheckpoint(from: string, dir: string): Promise<WrittenCheckpoint> {
  const target = path.resolve(dir);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = await fs.mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.saving-`));
  try {
    await fs.cp(from, temp, { recursive: true });
    await swapInFolder(temp, target);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw new AppError('checkpoint-write-failed', `Could not copy the checkpoint to ${target}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { path: target, ...(await digestFolder(target)) };
}

export interface LoadedCheckpoint {
  readonly dir: string;
  readonly state: TrainerState;
  readonly optimizer: OptimizerState;
  readonly split: SavedSplit;
  readonly modelDir: string;
}

/** Accepts a checkpoint folder or a run folder (its last checkpoint is used). */
export async function readCheckpoint(location: string): Promise<LoadedCheckpoint> {
  let dir = path.resolve(location);
  if (!(await exists(path.join(dir, TRAINER_FILE))) && (await exists(path.join(dir, CHECKPOINTS_FOLDER, LAST_CHECKPOINT, TRAINER_FILE)))) {
    dir = path.join(dir, CHECKPOINTS_FOLDER, LAST_CHECKPOINT);
  }
  const file = path.join(dir, TRAINER_FILE);
  const state = parseJson(file, await readOrExplain(file)) as TrainerState;
  if (state?.version !== TRAINER_STATE_VERSION || !Array.isArray(state.classes) || typeof state.epoch !== 'number') {
    throw new AppError(
      'checkpoint-invalid',
      `${file} is not a trainer state this version can resume (version ${String(state?.version)}).`,
      {
        hint: 'Resume from a checkpoint written by this version of EffNet Studio, or start a new run.',
      },
    );
  }
  const metaFile = path.join(dir, OPTIMIZER_JSON);
  const meta = parseJson(metaFile, await readOrExplain(metaFile)) as Omit<OptimizerState, 'data'>;
  const bytes = await readOrExplain(path.join(dir, OPTIMIZER_BIN));
  const expected = meta.slots.reduce((sum, slot) => sum + slot.shape.reduce((a, b) => a * b, 1), 0) * 4;
  if (bytes.byteLength !== expected) {
    throw new AppError(
      'checkpoint-invalid',
      `${path.join(dir, OPTIMIZER_BIN)} holds ${bytes.byteLength} bytes, ${metaFile} describes ${expected}.`,
      {
        hint: 'The checkpoint is damaged; resume from the other checkpoint (best or last) or start a new run.',
      },
    );
  }
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const splitFile = path.join(dir, SPLIT_FILE);
  const split = parseJson(splitFile, await readOrExplain(splitFile)) as SavedSplit;
  return { dir, state, optimizer: { ...meta, data }, split, modelDir: path.join(dir, MODEL_FOLDER) };
}

/** Copies a checkpoint's weights into `model` (same architecture), layer by layer by name. */
export async function restoreWeights(model: tf.LayersModel, modelDir: string): Promise<void> {
  const { model: saved } = await loadModel(modelDir);
  try {
    for (const layer of model.layers) {
      const values = layer.weights.length > 0 ? saved.getLayer(layer.name).getWeights() : [];
      const mismatch =
        values.length !== layer.weights.length || values.some((value, i) => !sameShape(value.shape, layer.weights[i]!.shape));
      if (mismatch) {
        throw new AppError('checkpoint-mismatch', `${modelDir}: layer ${layer.name} does not match the model being trained.`, {
          hint: 'Resume with the same model settings the run was started with.',
        });
      }
      if (values.length > 0) layer.setWeights(values);
    }
  } finally {
    saved.dispose();
  }
}

function sameShape(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

/** sha256 over every file's relative path and content, in path order, and the total bytes. */
export async function digestFolder(dir: string): Promise<{ sha256: string; bytes: number }> {
  const files = (await fs.readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
  const hash = createHash('sha256');
  let bytes = 0;
  for (const name of files) {
    const content = await fs.readFile(path.join(dir, name));
    hash.update(`${name}\n${content.byteLength}\n`);
    hash.update(content);
    bytes += content.byteLength;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

async function readOrExplain(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new AppError(
      missing ? 'checkpoint-not-found' : 'checkpoint-unreadable',
      `${file} ${missing ? 'does not exist' : 'cannot be read'}.`,
      {
        hint: missing ? 'Give a checkpoint folder (it holds trainer.json) or a run folder with checkpoints/last.' : undefined,
        cause: error,
      },
    );
  }
}

function parseJson(file: string, content: Buffer): unknown {
  try {
    return JSON.parse(content.toString('utf8'));
  } catch (error) {
    throw new AppError('checkpoint-invalid', `${file} is not valid JSON: ${(error as Error).message}`, {
      hint: 'The checkpoint is damaged; resume from the other checkpoint (best or last) or start a new run.',
    });
  }
}
