import fs from 'node:fs/promises';
import path from 'node:path';
import type * as H5Module from 'h5wasm/node';
import { AppError } from '../common/errors.ts';

/**
 * Keras' legacy `save_weights` HDF5 layout, as plain data (efficientnet-facts §1.11; Keras
 * `legacy/saving/legacy_h5_format.py`): root attributes `layer_names`, `backend`, `keras_version`;
 * one group per layer with a `weight_names` attribute; each weight a dataset at
 * `/<layer>/<weight name>`, e.g. `/stem_conv/stem_conv/kernel:0`. HDF5 is read and written with
 * h5wasm (the HDF5 C library in WebAssembly), so no native module or Python is needed.
 */

export interface KerasWeightEntry {
  /** As listed in `weight_names`, e.g. `stem_conv/kernel:0`. */
  readonly name: string;
  /** Dataset path in the file, e.g. `/stem_conv/stem_conv/kernel:0`. */
  readonly path: string;
  readonly shape: readonly number[];
}

export interface KerasLayerEntry {
  readonly name: string;
  readonly weights: readonly KerasWeightEntry[];
}

export interface KerasWeightFile {
  readonly file: string;
  /** Every layer in `layer_names` order, weightless ones included. */
  readonly layers: readonly KerasLayerEntry[];
  readonly backend?: string;
  readonly kerasVersion?: string;
  read(weight: KerasWeightEntry): Float32Array;
  close(): void;
}

export interface KerasWeightToWrite {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** Keras keeps Normalization's `count` as int64. */
  readonly dtype: 'float32' | 'int64';
}

export interface KerasFileContent {
  readonly layers: readonly { readonly name: string; readonly weights: readonly KerasWeightToWrite[] }[];
  readonly backend: string;
  readonly kerasVersion: string;
}

type H5 = typeof H5Module;
type H5Group = InstanceType<H5['Group']>;
let h5wasm: Promise<H5> | undefined;

/** h5wasm, loaded once; its default error handler prints HDF5's stack and returns -1, so make it throw. */
function loadH5(): Promise<H5> {
  h5wasm ??= import('h5wasm/node').then(async (module) => {
    const wasm = await module.ready;
    wasm.activate_throwing_error_handler();
    return module;
  });
  return h5wasm;
}

/** HDF5 files start with this signature (at 0, or at 512·2ⁿ after a user block). */
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Keras splits an attribute into `name0`, `name1`… when it exceeds HDF5's 64 KiB object header limit. */
const HDF5_OBJECT_HEADER_LIMIT = 64512;

export async function openKerasWeightFile(file: string): Promise<KerasWeightFile> {
  const absolute = path.resolve(file);
  await checkSignature(absolute);
  const h5 = await loadH5();
  let handle: InstanceType<H5['File']>;
  try {
    handle = new h5.File(absolute, 'r');
  } catch (error) {
    throw unreadable(absolute, error);
  }
  try {
    let root: H5Group = handle;
    // A whole-model .h5 (`model.save('x.h5')`) keeps the same layout under /model_weights.
    if (!hasAttribute(root, 'layer_names') && root.get('model_weights') instanceof h5.Group) {
      root = root.get('model_weights') as H5Group;
    }
    const layerNames = readStringList(root, 'layer_names');
    if (layerNames === undefined) {
      // Keras 3's own `.weights.h5` keeps variables under /layers/<name>/vars/<i>: another layout.
      const keras3 = root.get('layers') instanceof h5.Group || root.get('vars') instanceof h5.Group;
      throw new AppError(
        'weights-file-invalid',
        `${absolute} is an HDF5 file but not Keras legacy weights: it has no 'layer_names' attribute` +
          (keras3 ? " (it looks like Keras 3's .weights.h5 format, which is not supported)." : '.'),
        { hint: "Use a keras.applications weights file, or save with tf.keras 2's model.save_weights('….h5') (legacy HDF5 layout)." },
      );
    }
    const layers = layerNames.map((name): KerasLayerEntry => {
      const group = root.get(name);
      if (!(group instanceof h5.Group)) {
        throw new AppError('weights-file-invalid', `${absolute}: layer '${name}' is listed in layer_names but has no group.`);
      }
      const weights = (readStringList(group, 'weight_names') ?? []).map((weightName): KerasWeightEntry => {
        const dataset = group.get(weightName);
        if (!(dataset instanceof h5.Dataset)) {
          throw new AppError('weights-file-invalid', `${absolute}: dataset ${group.path}/${weightName} is missing.`);
        }
        return { name: weightName, path: dataset.path, shape: dataset.shape ?? [] };
      });
      return { name, weights };
    });
    const rootAttribute = (name: string) => readStringList(root, name)?.[0] ?? readStringList(handle, name)?.[0];
    return {
      file: absolute,
      layers,
      backend: rootAttribute('backend'),
      kerasVersion: rootAttribute('keras_version'),
      read: (weight) => {
        try {
          return toFloat32((handle.get(weight.path) as InstanceType<H5['Dataset']>).value, `${absolute}: ${weight.path}`);
        } catch (error) {
          throw error instanceof AppError ? error : unreadable(absolute, error);
        }
      },
      close: () => handle.close(),
    };
  } catch (error) {
    handle.close();
    throw error instanceof AppError ? error : unreadable(absolute, error);
  }
}

async function checkSignature(file: string): Promise<void> {
  let head: Buffer;
  try {
    const handle = await fs.open(file, 'r');
    try {
      head = Buffer.alloc(8);
      await handle.read(head, 0, 8, 0);
    } finally {
      await handle.close();
    }
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new AppError(
      missing ? 'weights-file-not-found' : 'weights-file-unreadable',
      `${file} ${missing ? 'does not exist' : 'cannot be read'}.`,
      {
        cause: error,
      },
    );
  }
  // Keras never writes a user block, so the signature is at offset 0.
  if (!head.equals(HDF5_SIGNATURE)) {
    throw new AppError('weights-file-invalid', `${file} is not an HDF5 file (no HDF5 signature at its start).`, {
      hint: 'Expected Keras .h5 weights, e.g. efficientnetb0.h5 or efficientnetb0_notop.h5 from keras.applications.',
    });
  }
}

/** HDF5's error stack as one line: its most specific "minor:" entry says what was wrong (e.g. truncated file). */
function unreadable(file: string, error: unknown): AppError {
  const text = error instanceof Error ? error.message : String(error);
  const minors = [...text.matchAll(/minor: (.+)/g)].map((match) => match[1]!.trim());
  const detail = minors.filter((m) => !/^(Unable to|Can't) (open|get|set)/i.test(m)).at(-1) ?? minors.at(-1) ?? text.split('\n')[0];
  return new AppError('weights-file-invalid', `${file} cannot be read as HDF5: ${detail}.`, {
    hint: 'The file is damaged or incomplete (an interrupted download?); download or export it again.',
    cause: error,
  });
}

function hasAttribute(group: H5Group, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(group.attrs, name);
}

/** A string-list attribute, joined from Keras' chunks `name0`, `name1`… when it was split. */
function readStringList(group: H5Group, name: string): string[] | undefined {
  const attrs = group.attrs;
  if (attrs[name] !== undefined) return toStrings(attrs[name].value);
  if (attrs[`${name}0`] === undefined) return undefined;
  const list: string[] = [];
  for (let chunk = 0; attrs[`${name}${chunk}`] !== undefined; chunk++) list.push(...toStrings(attrs[`${name}${chunk}`]!.value));
  return list;
}

function toStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.map((item) => (item instanceof Uint8Array ? Buffer.from(item).toString('utf8') : String(item)));
  // h5py stores an empty list as an empty float64 array.
  if (ArrayBuffer.isView(value) && (value as unknown as { length: number }).length === 0) return [];
  if (value instanceof Uint8Array) return [Buffer.from(value).toString('utf8')];
  return [String(value)];
}

function toFloat32(value: unknown, where: string): Float32Array {
  if (value instanceof Float32Array) return value;
  if (value instanceof Float64Array || value instanceof Int32Array || value instanceof Int16Array || value instanceof Int8Array) {
    return Float32Array.from(value);
  }
  if (value instanceof Uint32Array || value instanceof Uint16Array || value instanceof Uint8Array) return Float32Array.from(value);
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) return Float32Array.from(value, Number);
  if (typeof value === 'number') return Float32Array.of(value);
  if (typeof value === 'bigint') return Float32Array.of(Number(value));
  if (typeof value === 'boolean') return Float32Array.of(value ? 1 : 0);
  throw new AppError('weights-file-invalid', `${where}: unsupported data type (expected float32, float64 or integers).`);
}

/** Writes `content` in Keras' layout, atomically: a temporary file beside `file`, fsynced, renamed over it. */
export async function writeKerasWeightFile(file: string, content: KerasFileContent): Promise<number> {
  const absolute = path.resolve(file);
  await fs.mkdir(path.dirname(absolute), { recursive: true });
  const temp = path.join(path.dirname(absolute), `.${path.basename(absolute)}.saving-${process.pid}-${Date.now()}`);
  const h5 = await loadH5();
  try {
    const handle = new h5.File(temp, 'w');
    try {
      writeStringList(
        handle,
        'layer_names',
        content.layers.map((layer) => layer.name),
      );
      writeString(handle, 'backend', content.backend);
      writeString(handle, 'keras_version', content.kerasVersion);
      // Keras creates the groups in name order; readers follow layer_names, so only the content matters.
      for (const layer of [...content.layers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const group = handle.create_group(layer.name);
        writeStringList(
          group,
          'weight_names',
          layer.weights.map((weight) => weight.name),
        );
        for (const weight of layer.weights) writeDataset(group, weight);
      }
    } finally {
      handle.close();
    }
    const written = await fs.open(temp, 'r+');
    try {
      await written.sync();
    } finally {
      await written.close();
    }
    await fs.rename(temp, absolute);
    return (await fs.stat(absolute)).size;
  } catch (error) {
    await fs.rm(temp, { force: true });
    if (error instanceof AppError) throw error;
    throw new AppError('weights-save-failed', `Could not write ${absolute}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
}

function writeString(group: H5Group, name: string, value: string): void {
  // h5py stores Python bytes as fixed-length strings, as Keras' `.encode('utf8')` produces.
  group.create_attribute(name, value, null, `S${Math.max(1, Buffer.byteLength(value))}`);
}

function writeStringList(group: H5Group, name: string, values: readonly string[]): void {
  if (values.length === 0) {
    group.create_attribute(name, new Float64Array(0), [0], '<d'); // what h5py writes for []
    return;
  }
  const width = Math.max(1, ...values.map((value) => Buffer.byteLength(value)));
  const chunks = Math.ceil((width * values.length) / HDF5_OBJECT_HEADER_LIMIT);
  const perChunk = Math.ceil(values.length / chunks);
  for (let chunk = 0; chunk < chunks; chunk++) {
    const part = values.slice(chunk * perChunk, (chunk + 1) * perChunk);
    group.create_attribute(chunks === 1 ? name : `${name}${chunk}`, [...part], [part.length], `S${width}`);
  }
}

/** A dataset at the group-relative path `weight.name` (`stem_conv/kernel:0`), creating the inner groups as h5py does. */
function writeDataset(group: H5Group, weight: KerasWeightToWrite): void {
  const parts = weight.name.split('/');
  let parent = group;
  for (const part of parts.slice(0, -1)) {
    const existing = parent.get(part);
    parent = existing === null ? parent.create_group(part) : (existing as H5Group);
  }
  const int64 = weight.dtype === 'int64';
  parent.create_dataset({
    name: parts.at(-1)!,
    data: int64 ? BigInt64Array.from(weight.data, (v) => BigInt(Math.round(v))) : weight.data,
    shape: [...weight.shape],
    dtype: int64 ? '<q' : '<f',
  });
}
