import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { dataPaths } from '../node/paths.ts';
import { weightsCatalogue, type WeightsEntry } from './catalogue.ts';
import { weightsFilePath } from './fetch.ts';
import { digestFile, fileSize, temporaryPath, type FileDigest } from './files.ts';
import { recordImport, type WeightsKind } from './store.ts';

/** The HDF5 superblock signature (HDF5 File Format Specification, "Format Signature"). */
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A safetensors header above this is not a real one (the format caps it at 100 MB). */
const MAX_SAFETENSORS_HEADER = 100_000_000;

export interface ImportResult extends FileDigest {
  readonly kind: WeightsKind;
  /** Where the file now lives in the weights folder. */
  readonly path: string;
  /** The catalogue file it is, when its MD5 matches one (then it is filed under that name). */
  readonly entry?: WeightsEntry;
  /** The same content was already in the folder; nothing was copied. */
  readonly alreadyPresent: boolean;
}

export interface ImportOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Replaces the catalogue the MD5 is matched against (tests use generated files). */
  readonly catalogue?: readonly WeightsEntry[];
}

/**
 * Copy a local weights file into the cache for offline use. A file whose MD5 is a catalogue
 * entry's becomes that entry (so `fetch` and `resolveWeightsFile` find it); anything else is
 * filed under `imported/` and recorded in `weights/index.json` with where it came from.
 */
export async function importWeightsFile(file: string, options: ImportOptions = {}): Promise<ImportResult> {
  const env = options.env ?? process.env;
  const source = path.resolve(file);
  const kind = await detectWeightsKind(source);
  const digest = await digestFile(source);
  const entry = (options.catalogue ?? weightsCatalogue(env)).find((candidate) => candidate.md5 === digest.md5);
  const folder = dataPaths(env).weights;

  if (entry) {
    const target = weightsFilePath(entry, env);
    const alreadyPresent = await sameContent(target, digest);
    if (!alreadyPresent) await copyAtomic(source, target);
    return { ...digest, kind, path: target, entry, alreadyPresent };
  }

  const target = await importedTarget(path.join(folder, 'imported'), path.basename(source), digest);
  const alreadyPresent = await sameContent(target, digest);
  if (!alreadyPresent) await copyAtomic(source, target);
  await recordImport(
    {
      name: path.relative(folder, target).split(path.sep).join('/'),
      source,
      kind,
      md5: digest.md5,
      sha256: digest.sha256,
      bytes: digest.bytes,
      importedAt: new Date().toISOString(),
    },
    env,
  );
  return { ...digest, kind, path: target, alreadyPresent };
}

/**
 * Keras `.h5` or safetensors, judged by content, never by the extension. HDF5 may sit after a
 * user block, so its signature is looked for at 0, 512, 1024, 2048, … (HDF5 spec, superblock).
 */
export async function detectWeightsKind(file: string): Promise<WeightsKind> {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new AppError('weights-import', `${file} does not exist`, { hint: 'Check the path and try again.' });
  if (!info.isFile())
    throw new AppError('weights-import', `${file} is not a file`, { hint: 'Give the path of a .h5 or .safetensors file.' });
  const handle = await open(file, 'r');
  try {
    const read = async (offset: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    };
    for (let offset = 0; offset + HDF5_SIGNATURE.length <= info.size; offset = offset === 0 ? 512 : offset * 2) {
      if ((await read(offset, HDF5_SIGNATURE.length)).equals(HDF5_SIGNATURE)) return 'keras-h5';
    }
    const problem = await safetensorsProblem(read, info.size);
    if (problem === undefined) return 'safetensors';
    throw new AppError('weights-import', `${file} is not a weights file: it is neither HDF5 (Keras .h5) nor safetensors (${problem})`, {
      hint: 'Import a Keras .h5 file (keras.applications) or a torchvision/timm .safetensors file.',
    });
  } finally {
    await handle.close();
  }
}

/**
 * Why a file is not safetensors, or undefined when it is: an 8-byte little-endian header length,
 * a JSON object header, and tensors whose data_offsets fill the rest of the file without holes.
 */
async function safetensorsProblem(read: (offset: number, length: number) => Promise<Buffer>, size: number): Promise<string | undefined> {
  if (size < 8) return 'too short';
  const headerLength = Number((await read(0, 8)).readBigUInt64LE(0));
  if (headerLength < 2 || headerLength > MAX_SAFETENSORS_HEADER || 8 + headerLength > size) return 'no valid header length';
  let header: unknown;
  try {
    header = JSON.parse((await read(8, headerLength)).toString('utf8'));
  } catch {
    return 'header is not JSON';
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return 'header is not a JSON object';
  let end = 0;
  for (const [name, tensor] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const offsets = (tensor as { data_offsets?: unknown } | null)?.data_offsets;
    const valid =
      Array.isArray(offsets) && offsets.length === 2 && offsets.every((n) => Number.isInteger(n) && n >= 0) && offsets[0] <= offsets[1];
    if (!valid || typeof (tensor as { dtype?: unknown }).dtype !== 'string') return `tensor '${name}' has no dtype or data_offsets`;
    end = Math.max(end, offsets[1] as number);
  }
  if (end !== size - 8 - headerLength) return `tensor data ends at byte ${end} of ${size - 8 - headerLength}: truncated or corrupt`;
  return undefined;
}

async function sameContent(target: string, digest: FileDigest): Promise<boolean> {
  const bytes = await fileSize(target);
  return bytes === digest.bytes && (await digestFile(target)).md5 === digest.md5;
}

/** `imported/<name>`, or `<stem>-<md5 prefix><ext>` when a different file already has that name. */
async function importedTarget(folder: string, name: string, digest: FileDigest): Promise<string> {
  const plain = path.join(folder, name);
  if ((await fileSize(plain)) === undefined || (await sameContent(plain, digest))) return plain;
  const ext = path.extname(name);
  return path.join(folder, `${path.basename(name, ext)}-${digest.md5.slice(0, 8)}${ext}`);
}

async function copyAtomic(source: string, target: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const temporary = temporaryPath(target);
  try {
    await copyFile(source, temporary);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
