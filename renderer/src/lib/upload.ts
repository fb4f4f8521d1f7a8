/**
 * Sending dropped images to the core. A browser never reveals a dropped file's path, so the bytes
 * travel as base64 in `classify:upload` calls of at most UPLOAD_LIMITS.chunkBytes (the server
 * takes 1 MiB per request), one after the other. In the desktop app a dropped file has a path and
 * nothing is uploaded. Files over the size limit are left out, with the reason.
 */
import { UPLOAD_LIMITS } from '../../../app/common/ipc/deployment.ts';
import { call } from './api.ts';

export interface UploadOutcome {
  readonly uploadId: string | null;
  /** Each uploaded file's stored name (as results name it), by the File it came from. */
  readonly names: Map<File, string>;
  readonly refused: { name: string; reason: string }[];
}

export async function uploadFiles(
  files: readonly File[],
  onProgress?: (sentBytes: number, totalBytes: number) => void,
): Promise<UploadOutcome> {
  const refused: { name: string; reason: string }[] = [];
  const accepted: File[] = [];
  for (const file of files) {
    if (file.size > UPLOAD_LIMITS.fileBytes)
      refused.push({ name: file.name, reason: `larger than ${UPLOAD_LIMITS.fileBytes / 1024 / 1024} MB` });
    else if (accepted.length >= UPLOAD_LIMITS.files)
      refused.push({ name: file.name, reason: `only ${UPLOAD_LIMITS.files} images at a time can be dropped` });
    else accepted.push(file);
  }
  const total = accepted.reduce((sum, file) => sum + file.size, 0);
  const names = new Map<File, string>();
  let uploadId: string | undefined;
  let sent = 0;
  for (const file of accepted) {
    let name = file.name || 'image';
    for (let offset = 0; offset === 0 || offset < file.size; offset += UPLOAD_LIMITS.chunkBytes) {
      const bytes = new Uint8Array(await file.slice(offset, offset + UPLOAD_LIMITS.chunkBytes).arrayBuffer());
      const stored = await call('classify:upload', { uploadId, name, offset, data: toBase64(bytes) });
      uploadId = stored.uploadId;
      name = stored.name;
      sent += bytes.byteLength;
      onProgress?.(sent, total);
      if (file.size === 0) break;
    }
    names.set(file, name);
  }
  return { uploadId: uploadId ?? null, names, refused };
}

export function toBase64(bytes: Uint8Array): string {
  // btoa takes a "binary string"; build it in slices so large chunks do not overflow the call stack.
  let binary = '';
  for (let start = 0; start < bytes.length; start += 0x8000) binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  return btoa(binary);
}
