import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { swapInFolder, writeDurably } from '../node/durable.ts';
import { MODEL_JSON } from './file-names.ts';

/**
 * A tfjs IOHandler for the file system, in plain Node (tfjs-node's `file://` handler is not
 * available: libtensorflow cannot be installed everywhere). The layout is the one the tfjs
 * converter writes and `tf.loadLayersModel` reads: `model.json` (modelTopology + weightsManifest)
 * beside weight shards named `group1-shardNofM.bin` of at most 4 MiB each (the converter's
 * default `shard_size_bytes`, which also keeps shards cacheable by browsers).
 *
 * A save is atomic: every file goes into a temporary folder beside the destination, is fsynced,
 * and the folder is renamed into place, so a crash leaves either the old model or the new one.
 */

export { MODEL_JSON };
export const SHARD_BYTES = 4 * 1024 * 1024;

export interface FileSystemHandlerOptions {
  /** More files written into the same folder in the same atomic step (e.g. `effnet.json`). */
  readonly extraFiles?: Readonly<Record<string, string | Uint8Array>>;
  readonly shardBytes?: number;
}

/** `tf.io.IOHandler` reading and writing the model folder `dir`. */
export function fileSystemHandler(dir: string, options: FileSystemHandlerOptions = {}): tf.io.IOHandler {
  return {
    save: (artifacts) => saveArtifacts(dir, artifacts, options),
    load: () => loadArtifacts(dir),
  };
}

async function saveArtifacts(dir: string, artifacts: tf.io.ModelArtifacts, options: FileSystemHandlerOptions): Promise<tf.io.SaveResult> {
  if (artifacts.modelTopology instanceof ArrayBuffer || artifacts.modelTopology === undefined) {
    throw new AppError('model-save-failed', `Cannot save to ${dir}: only layers models (JSON topology) can be saved here.`);
  }
  const weights = new tf.io.CompositeArrayBuffer(artifacts.weightData ?? []);
  const shardBytes = options.shardBytes ?? SHARD_BYTES;
  const shardCount = Math.ceil(weights.byteLength / shardBytes);
  const files = new Map<string, string | Uint8Array>();
  const paths: string[] = [];
  for (let i = 0; i < shardCount; i++) {
    const name = `group1-shard${i + 1}of${shardCount}.bin`;
    paths.push(name);
    files.set(name, new Uint8Array(weights.slice(i * shardBytes, Math.min((i + 1) * shardBytes, weights.byteLength))));
  }
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
    ...(artifacts.trainingConfig === undefined ? {} : { trainingConfig: artifacts.trainingConfig }),
    ...(artifacts.userDefinedMetadata === undefined ? {} : { userDefinedMetadata: artifacts.userDefinedMetadata }),
  };
  files.set(MODEL_JSON, JSON.stringify(modelJson));
  for (const [name, content] of Object.entries(options.extraFiles ?? {})) {
    if (files.has(name) || path.basename(name) !== name) {
      throw new AppError('model-save-failed', `Cannot save ${name} beside the model: the name is taken or not a plain file name.`);
    }
    files.set(name, content);
  }
  await writeFolderAtomically(dir, files);
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
}

/**
 * Writes `files` as the folder `dir`, replacing a previous model folder there. An existing folder is
 * only replaced when it holds a model.json or nothing, so a mistyped path never deletes a user's files.
 */
export async function writeFolderAtomically(dir: string, files: ReadonlyMap<string, string | Uint8Array>): Promise<void> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const base = path.basename(target);
  await checkReplaceable(target);
  await fs.mkdir(parent, { recursive: true });
  const temp = await fs.mkdtemp(path.join(parent, `.${base}.saving-`));
  try {
    for (const [name, content] of files) await writeDurably(path.join(temp, name), content);
    // A crash between swapInFolder's two renames leaves both complete folders on disk (see the
    // hint in loadArtifacts), never a half-written model.
    await swapInFolder(temp, target);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    if (error instanceof AppError) throw error;
    throw new AppError('model-save-failed', `Could not save the model to ${target}: ${(error as Error).message}`, {
      hint: 'Check that the folder is writable and the disk has space.',
      cause: error,
    });
  }
}

async function checkReplaceable(target: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(target);
  } catch {
    return;
  }
  if (!stat.isDirectory()) {
    throw new AppError('model-save-failed', `Cannot save a model to ${target}: a file with that name exists.`, {
      hint: 'Choose a folder path for the model.',
    });
  }
  const entries = await fs.readdir(target);
  if (entries.length > 0 && !entries.includes(MODEL_JSON)) {
    throw new AppError('model-save-failed', `Cannot save a model to ${target}: the folder holds other files and no model.json.`, {
      hint: 'Saving replaces the whole folder; choose an empty or new folder.',
    });
  }
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

async function loadArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const target = path.resolve(dir);
  const jsonFile = path.join(target, MODEL_JSON);
  const modelJson = parseModelJson(jsonFile, await readOrExplain(jsonFile, target));
  const buffers: ArrayBuffer[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  for (const group of modelJson.weightsManifest) {
    let bytes = 0;
    for (const name of group.paths) {
      const shard = path.resolve(target, name);
      if (path.dirname(shard) !== target) {
        throw new AppError('model-corrupt', `${jsonFile}: weight path '${name}' points outside the model folder.`);
      }
      const data = await readOrExplain(shard, target);
      bytes += data.byteLength;
      buffers.push(ownBuffer(data));
    }
    const expected = group.weights.reduce((sum, spec) => sum + specBytes(spec), 0);
    if (Number.isFinite(expected) && bytes !== expected) {
      throw new AppError(
        'model-corrupt',
        `${group.paths.map((name) => path.join(target, name)).join(', ')}: the weight shards hold ${bytes} bytes, but ${jsonFile} describes ${expected}.`,
        { hint: 'The shards are truncated or belong to another model; save the model again or restore the folder from a backup.' },
      );
    }
    weightSpecs.push(...group.weights);
  }
  return {
    modelTopology: modelJson.modelTopology,
    weightSpecs,
    weightData: buffers,
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
    trainingConfig: modelJson.trainingConfig,
    userDefinedMetadata: modelJson.userDefinedMetadata,
  };
}

/** The bytes of `data` as an ArrayBuffer of their own (readFile's usually is; copy only when not). */
function ownBuffer(data: Buffer): ArrayBuffer {
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  return (whole ? data.buffer : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) as ArrayBuffer;
}

/** Bytes a weight occupies in a shard; NaN for string weights, whose size the manifest does not say. */
function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = DTYPE_BYTES[dtype];
  return bytes === undefined ? Number.NaN : count * bytes;
}

async function readOrExplain(file: string, dir: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const leftovers = (await fs.readdir(path.dirname(dir)).catch(() => [] as string[])).filter((name) =>
        name.startsWith(`.${path.basename(dir)}.replaced-`),
      );
      throw new AppError('model-not-found', `${file} does not exist.`, {
        hint:
          leftovers.length > 0
            ? `A save was interrupted; the previous model is in ${leftovers.map((name) => path.join(path.dirname(dir), name)).join(', ')}.`
            : 'Check the model folder path, or save the model again.',
      });
    }
    throw new AppError('model-unreadable', `Cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

function parseModelJson(file: string, content: Buffer): tf.io.ModelJSON {
  let value: unknown;
  try {
    value = JSON.parse(content.toString('utf8'));
  } catch (error) {
    throw new AppError('model-corrupt', `${file} is not valid JSON: ${(error as Error).message}`, {
      hint: 'The file is damaged; save the model again or restore it from a backup.',
    });
  }
  const bad = (field: string, what: string) =>
    new AppError('model-corrupt', `${file}: ${field} ${what}.`, { hint: 'The file is damaged or not a TensorFlow.js layers model.' });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('the content', 'is not a JSON object');
  const json = value as Record<string, unknown>;
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null) throw bad('modelTopology', 'is missing');
  if (!Array.isArray(json.weightsManifest)) throw bad('weightsManifest', 'is missing or not a list');
  json.weightsManifest.forEach((group: unknown, g) => {
    const entry = group as { paths?: unknown; weights?: unknown } | null;
    if (!Array.isArray(entry?.paths) || !entry.paths.every((p) => typeof p === 'string')) {
      throw bad(`weightsManifest[${g}].paths`, 'is not a list of file names');
    }
    if (!Array.isArray(entry.weights)) throw bad(`weightsManifest[${g}].weights`, 'is not a list');
    entry.weights.forEach((spec: unknown, w) => {
      const weight = spec as { name?: unknown; shape?: unknown; dtype?: unknown } | null;
      const valid =
        typeof weight?.name === 'string' &&
        typeof weight.dtype === 'string' &&
        Array.isArray(weight.shape) &&
        weight.shape.every((d) => Number.isInteger(d) && d >= 0);
      if (!valid) throw bad(`weightsManifest[${g}].weights[${w}]`, 'needs a name, a dtype and a shape of whole numbers');
    });
  });
  return json as unknown as tf.io.ModelJSON;
}
