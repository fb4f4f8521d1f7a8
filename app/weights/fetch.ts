import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { dataPaths } from '../node/paths.ts';
import { catalogueEntry, fetchCommand, type WeightsEntry } from './catalogue.ts';
import { downloadToPart, type DownloadProgress } from './download.ts';
import { digestFile, fileSize, isMissing } from './files.ts';

export interface FetchWeightsOptions {
  /** With the ImageNet classifier (default) or without it (`_notop.h5`). */
  readonly top?: boolean;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Abort (Ctrl-C) stops the download and keeps the `.part` file for the next call to resume. */
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  /** Replaces the catalogue entry (tests serve generated files with their own MD5). */
  readonly entry?: WeightsEntry;
  readonly timeoutMs?: number;
}

export interface FetchWeightsResult {
  readonly entry: WeightsEntry;
  readonly path: string;
  readonly bytes: number;
  readonly md5: string;
  /** `cached`: the file was already there and its MD5 matched; nothing was downloaded. */
  readonly status: 'cached' | 'downloaded';
  /** Bytes taken from an earlier partial download (0 when it started afresh). */
  readonly resumedFrom: number;
  /** A cached file whose MD5 no longer matched was replaced. */
  readonly replacedCorrupt: boolean;
}

/** Where an entry's file lives in the cache (EFFNET_HOME/weights), shared by CLI, server and app. */
export function weightsFilePath(entry: Pick<WeightsEntry, 'fileName'>, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataPaths(env).weights, entry.fileName);
}

export function partialFilePath(entry: Pick<WeightsEntry, 'fileName'>, env: NodeJS.ProcessEnv = process.env): string {
  return `${weightsFilePath(entry, env)}.part`;
}

/**
 * Download one catalogue file into the cache: idempotent (a cached file with the right MD5 is
 * left alone), resumable (`.part` + HTTP Range), verified (MD5 of the completed `.part`, then an
 * atomic rename, so the cache never holds an unverified file under the final name).
 */
export async function fetchWeights(variant: string, options: FetchWeightsOptions = {}): Promise<FetchWeightsResult> {
  const env = options.env ?? process.env;
  const entry = options.entry ?? catalogueEntry(variant, options.top ?? true, env);
  const target = weightsFilePath(entry, env);
  const part = partialFilePath(entry, env);
  await mkdir(path.dirname(target), { recursive: true });

  let replacedCorrupt = false;
  if ((await fileSize(target)) !== undefined) {
    const digest = await digestFile(target);
    if (digest.md5 === entry.md5) {
      return { entry, path: target, bytes: digest.bytes, md5: digest.md5, status: 'cached', resumedFrom: 0, replacedCorrupt };
    }
    // Only a verified file is ever renamed into place, so a mismatch means it changed on disk.
    await rm(target, { force: true });
    replacedCorrupt = true;
  }

  const release = await lockDownload(part, entry);
  try {
    const result = await downloadToPart(entry.url, part, {
      signal: options.signal,
      onProgress: options.onProgress,
      timeoutMs: options.timeoutMs,
      resumeCommand: fetchCommand(entry),
    });
    const digest = await digestFile(part);
    if (digest.md5 !== entry.md5) {
      await rm(part, { force: true });
      throw new AppError(
        'weights-checksum',
        `MD5 mismatch for ${entry.fileName} from ${entry.url}: got ${digest.md5}, expected ${entry.md5}. The partial file was deleted.`,
        {
          hint: `Run \`${fetchCommand(entry)}\` again to download afresh; if it fails again, download the file elsewhere and use \`effnet weights import FILE\`.`,
          details: { expected: entry.md5, actual: digest.md5, bytes: digest.bytes },
        },
      );
    }
    await rename(part, target);
    return {
      entry,
      path: target,
      bytes: digest.bytes,
      md5: digest.md5,
      status: 'downloaded',
      resumedFrom: result.resumedFrom,
      replacedCorrupt,
    };
  } finally {
    await release();
  }
}

/**
 * One downloader per file across processes (the CLI and the desktop app share the cache): two
 * writers appending to one `.part` would corrupt it. A lock left by a dead process is taken over.
 */
async function lockDownload(part: string, entry: WeightsEntry): Promise<() => Promise<void>> {
  const lock = `${part}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lock, 'wx');
      heldLocks.add(lock);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        heldLocks.delete(lock);
        await rm(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(lock, 'utf8').catch((e: unknown) => (isMissing(e) ? '' : Promise.reject(e))));
      const busy = owner === process.pid ? heldLocks.has(lock) : Number.isInteger(owner) && owner > 0 && processAlive(owner);
      if (busy) {
        throw new AppError('weights-busy', `${entry.fileName} is already being downloaded by process ${owner}`, {
          hint: 'Wait for that download to finish, or stop it, then try again.',
        });
      }
      await rm(lock, { force: true });
    }
  }
  throw new AppError('weights-busy', `Could not lock ${lock} for the download of ${entry.fileName}`, {
    hint: 'Another download of this file may have just started; try again.',
  });
}

/** Locks this process holds: a lock file with our own pid is only stale if it is not in here. */
const heldLocks = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
