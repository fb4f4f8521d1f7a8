/**
 * Images dropped on the Classify screen in a browser: a browser never reveals a dropped file's
 * path, so the renderer sends the bytes, in chunks that fit the server's request limit, into a
 * folder of its own under the data folder's cache. `classify:start` takes the upload over and its
 * folder is removed when the job ends; uploads never classified are swept after an hour.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { UPLOAD_LIMITS, type UploadedFile } from '../common/ipc/deployment.ts';
import type { ParsedArgs } from '../common/ipc/contract.ts';
import { dataPaths } from '../node/paths.ts';
import type { ApiContext } from './context.ts';

/** An upload not classified within this long is deleted. */
const STALE_MS = 60 * 60 * 1000;

export interface Upload {
  readonly id: string;
  readonly folder: string;
  /** Stored name → bytes received. */
  readonly files: Map<string, number>;
}

const registries = new WeakMap<ApiContext, Map<string, Upload>>();

function uploads(context: ApiContext): Map<string, Upload> {
  let map = registries.get(context);
  if (!map) registries.set(context, (map = new Map()));
  return map;
}

export function uploadsFolder(env: NodeJS.ProcessEnv): string {
  return path.join(dataPaths(env).cache, 'uploads');
}

export async function receiveChunk(context: ApiContext, chunk: ParsedArgs<'classify:upload'>[0]): Promise<UploadedFile> {
  const data = Buffer.from(chunk.data, 'base64');
  if (data.byteLength > UPLOAD_LIMITS.chunkBytes) {
    throw new AppError('upload-invalid', `data: a chunk holds at most ${UPLOAD_LIMITS.chunkBytes} bytes, this one ${data.byteLength}.`);
  }
  const upload = chunk.uploadId === undefined ? await startUpload(context, chunk.offset) : findUpload(context, chunk.uploadId);
  if (chunk.offset === 0) {
    if (upload.files.size >= UPLOAD_LIMITS.files) {
      throw new AppError('upload-too-many', `name: an upload holds at most ${UPLOAD_LIMITS.files} images; ${chunk.name} is one too many.`, {
        hint: 'Classify a folder of images by its path instead: that has no limit.',
      });
    }
    const name = uniqueName(safeName(chunk.name), upload.files);
    await fs.writeFile(path.join(upload.folder, name), data, { flag: 'wx' });
    upload.files.set(name, data.byteLength);
    return { uploadId: upload.id, name, bytes: data.byteLength };
  }
  const received = upload.files.get(chunk.name);
  if (received === undefined || received !== chunk.offset) {
    throw new AppError(
      'upload-out-of-order',
      received === undefined
        ? `name: the upload has no file ${chunk.name} (start a file with offset 0).`
        : `offset: ${chunk.name} has ${received} bytes so far, but this chunk starts at ${chunk.offset}.`,
      { hint: 'Send a file’s chunks in order, one at a time.' },
    );
  }
  const bytes = received + data.byteLength;
  if (bytes > UPLOAD_LIMITS.fileBytes) {
    throw new AppError('upload-too-large', `name: ${chunk.name} is larger than ${UPLOAD_LIMITS.fileBytes / 1024 / 1024} MB.`, {
      hint: 'Classify it by its path instead (type the folder that holds it).',
    });
  }
  await fs.appendFile(path.join(upload.folder, chunk.name), data);
  upload.files.set(chunk.name, bytes);
  return { uploadId: upload.id, name: chunk.name, bytes };
}

/** Hands an upload to a job: it can no longer receive chunks; the caller removes its folder when done. */
export function takeUpload(context: ApiContext, id: string): Upload {
  const upload = findUpload(context, id);
  if (upload.files.size === 0) throw new AppError('upload-empty', `uploadId: upload ${id} holds no images.`);
  uploads(context).delete(id);
  return upload;
}

export async function removeUpload(upload: Upload): Promise<void> {
  await fs.rm(upload.folder, { recursive: true, force: true });
}

function findUpload(context: ApiContext, id: string): Upload {
  const upload = uploads(context).get(id);
  if (!upload) {
    throw new AppError('upload-not-found', `uploadId: there is no upload ${id} (it was classified already, or expired).`, {
      hint: 'Drop the images again.',
    });
  }
  return upload;
}

async function startUpload(context: ApiContext, offset: number): Promise<Upload> {
  if (offset !== 0) throw new AppError('upload-out-of-order', 'offset: a new upload starts with a file at offset 0.');
  const root = uploadsFolder(context.env);
  await sweepStale(context, root);
  const id = randomBytes(12).toString('hex');
  const folder = path.join(root, id);
  await fs.mkdir(folder, { recursive: true });
  const upload: Upload = { id, folder, files: new Map() };
  uploads(context).set(id, upload);
  return upload;
}

/** Removes upload folders nobody classified (a closed tab, an app that quit mid-upload). */
async function sweepStale(context: ApiContext, root: string): Promise<void> {
  const now = Date.now();
  const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const folder = path.join(root, entry.name);
    const info = await fs.stat(folder).catch(() => undefined);
    if (!info || now - info.mtimeMs < STALE_MS) continue;
    uploads(context).delete(entry.name);
    await fs.rm(folder, { recursive: true, force: true });
  }
}

/** A dropped file's name as a plain file name: no folders, no characters Windows refuses, an extension kept. */
export function safeName(name: string): string {
  const base = name.split(/[\\/]/).at(-1) ?? '';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go.
  const cleaned = base.replace(/[\u0000-\u001f<>:"|?*]/g, '_').trim();
  if (cleaned === '' || /^\.+$/.test(cleaned)) return 'image';
  if (cleaned.length <= 120) return cleaned;
  const extension = path.extname(cleaned).slice(0, 12);
  return cleaned.slice(0, 120 - extension.length) + extension;
}

function uniqueName(name: string, taken: ReadonlyMap<string, number>): string {
  if (!taken.has(name)) return name;
  const extension = path.extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 2; ; n++) {
    const candidate = `${stem} (${n})${extension}`;
    if (!taken.has(candidate)) return candidate;
  }
}
