import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { AppError } from '../common/errors.ts';
import { fileSize } from './files.ts';

export interface DownloadProgress {
  /** Bytes in the partial file so far, the resumed part included. */
  readonly received: number;
  /** The whole file's size when the server says it (Content-Length / Content-Range). */
  readonly total: number | undefined;
  /** Where this attempt started: > 0 when a partial file was resumed. */
  readonly resumedFrom: number;
}

export interface DownloadOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** No byte for this long (connecting or mid-body) fails the download; default 30 s. */
  readonly timeoutMs?: number;
  /** Said in errors that leave a partial file: how to continue (e.g. `effnet weights fetch b0`). */
  readonly resumeCommand?: string;
}

export interface DownloadResult {
  readonly bytes: number;
  readonly resumedFrom: number;
  /** The partial file was discarded because the server ignored or mis-answered the Range request. */
  readonly restarted: boolean;
}

const MAX_REDIRECTS = 5;
/** Received bytes waiting for the disk before the response is paused. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const OFFLINE_HINT = 'Check your connection, or download the file elsewhere and use `effnet weights import FILE`.';

/**
 * Download `url` into `partPath`, resuming what is already there with an HTTP Range request.
 * The partial file is always a prefix of the download, so it is kept on every failure
 * (cut-off connection, timeout, Ctrl-C) and the next call continues from its size.
 * A server that ignores Range (200 instead of 206) gets a clean restart from byte 0.
 */
export async function downloadToPart(url: string, partPath: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  let restarted = false;
  // At most two rounds: a resume, then (if the server's range answer does not fit) a clean restart.
  for (let round = 0; round < 2; round++) {
    const existing = (await fileSize(partPath)) ?? 0;
    const headers: Record<string, string> = existing > 0 ? { Range: `bytes=${existing}-` } : {};
    const response = await request(url, headers, options);
    const outcome = rangeOutcome(response, existing);
    if (outcome.kind === 'complete') {
      response.resume();
      return { bytes: existing, resumedFrom: existing, restarted };
    }
    if (outcome.kind === 'restart') {
      response.destroy();
      await rm(partPath, { force: true });
      restarted = true;
      continue;
    }
    const start = outcome.kind === 'append' ? existing : 0;
    if (outcome.kind === 'replace' && existing > 0) restarted = true;
    const received = await receiveBody(response, partPath, start, outcome.total, url, options);
    return { bytes: received, resumedFrom: start, restarted };
  }
  throw new AppError('weights-http', `The server at ${url} does not answer Range requests consistently`, { hint: OFFLINE_HINT });
}

type RangeOutcome =
  | { kind: 'append'; total: number | undefined }
  | { kind: 'replace'; total: number | undefined }
  | { kind: 'complete' }
  | { kind: 'restart' };

/** What a response means for the partial file of `existing` bytes (RFC 9110 §14). */
function rangeOutcome(response: IncomingMessage, existing: number): RangeOutcome {
  const status = response.statusCode ?? 0;
  const length = numberHeader(response.headers['content-length']);
  if (status === 200) return { kind: 'replace', total: length };
  const contentRange = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers['content-range'] ?? '');
  if (status === 206) {
    if (!contentRange || Number(contentRange[1]) !== existing) return { kind: 'restart' };
    return { kind: 'append', total: contentRange[3] === '*' ? undefined : Number(contentRange[3]) };
  }
  if (status === 416) {
    // The partial file is already whole (the last attempt died between the last byte and the
    // rename) when the server's size equals it; anything else is stale, so start over.
    const whole = /^bytes \*\/(\d+)$/.exec(response.headers['content-range'] ?? '');
    return whole && Number(whole[1]) === existing ? { kind: 'complete' } : { kind: 'restart' };
  }
  response.resume();
  throw new AppError('weights-http', `HTTP ${status} ${response.statusMessage ?? ''}`.trimEnd() + ` from ${response.url || '(server)'}`, {
    hint: status === 404 ? 'The file is not at that address; check EFFNET_WEIGHTS_BASE_URL if you set it.' : OFFLINE_HINT,
    details: { status },
  });
}

function numberHeader(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** One GET, following redirects (storage.googleapis.com may send them); resolves on the response head. */
async function request(url: string, headers: Record<string, string>, options: DownloadOptions): Promise<IncomingMessage> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await get(current, headers, options);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location) {
      response.resume();
      current = new URL(location, current).href;
      continue;
    }
    // IncomingMessage.url is empty on client responses; keep the final address for messages.
    response.url = current;
    return response;
  }
  throw new AppError('weights-http', `Too many redirects (more than ${MAX_REDIRECTS}) starting at ${url}`, { hint: OFFLINE_HINT });
}

function get(url: string, headers: Record<string, string>, options: DownloadOptions): Promise<IncomingMessage> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return Promise.reject(new AppError('weights-url', `Cannot download ${url}: only http and https addresses are supported`));
  }
  const client = parsed.protocol === 'https:' ? https : http;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(cancelled(url, options));
    const req = client.get(parsed, { headers: { 'User-Agent': 'effnet-studio', ...headers } });
    const onAbort = () => req.destroy(cancelled(url, options));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.setTimeout(timeoutMs, () => req.destroy(timedOut(url, timeoutMs)));
    req.once('response', (response) => {
      options.signal?.removeEventListener('abort', onAbort);
      req.setTimeout(0);
      resolve(response);
    });
    // `on`, not `once`: a destroyed request may report a second error after the first.
    req.on('error', (error) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(error instanceof AppError ? error : networkError(url, error));
    });
  });
}

/**
 * Stream the body into the partial file. On any failure the bytes already received are still
 * flushed (the file is ended, not destroyed), so the `.part` is exactly what arrived and a
 * resume asks for the right offset.
 */
async function receiveBody(
  response: IncomingMessage,
  partPath: string,
  start: number,
  total: number | undefined,
  url: string,
  options: DownloadOptions,
): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let received = start;
  let failure: AppError | undefined;
  let writeError: Error | undefined;
  let idle: NodeJS.Timeout | undefined;
  const stop = (error: AppError) => {
    failure ??= error;
    response.destroy(error);
  };
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => stop(timedOut(url, timeoutMs)), timeoutMs);
  };
  const onAbort = () => stop(cancelled(url, options));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const out = createWriteStream(partPath, { flags: start > 0 ? 'a' : 'w' });
  out.on('error', (error) => {
    writeError ??= error;
    response.destroy(error);
  });
  options.onProgress?.({ received, total, resumedFrom: start });
  armIdle();
  let readError: unknown;
  // 'data' events rather than async iteration: a destroyed stream drops what it has buffered,
  // and every byte that arrived before a cut-off should be in the .part. The response is only
  // paused when the disk falls far behind.
  await new Promise<void>((resolve) => {
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      armIdle();
      options.onProgress?.({ received, total, resumedFrom: start });
      out.write(chunk);
      if (out.writableLength > MAX_BUFFERED_BYTES && !response.isPaused()) {
        response.pause();
        out.once('drain', () => response.resume());
      }
    });
    response.once('error', (error) => {
      readError = error;
      resolve();
    });
    response.once('end', resolve);
    response.once('close', resolve);
  });
  clearTimeout(idle);
  options.signal?.removeEventListener('abort', onAbort);
  if (!writeError) await new Promise<void>((resolve) => out.end(() => resolve()));
  if (writeError) {
    throw new AppError('weights-write', `Could not write ${partPath}: ${writeError.message}`, {
      hint: 'Check the free space and permissions of the weights folder (EFFNET_HOME).',
      cause: writeError,
    });
  }
  if (failure) throw withPartial(failure, received);
  if (readError instanceof AppError) throw readError;
  if (readError !== undefined || !response.complete || (total !== undefined && received !== total)) {
    throw interrupted(url, received, total, options);
  }
  return received;
}

function withPartial(error: AppError, received: number): AppError {
  return new AppError(error.code, error.message, { hint: error.hint, details: { ...(error.details as object), partialBytes: received } });
}

function resumeSentence(options: DownloadOptions): string {
  return options.resumeCommand ? `Run \`${options.resumeCommand}\` again to resume.` : 'Run the download again to resume.';
}

function cancelled(url: string, options: DownloadOptions): AppError {
  return new AppError('cancelled', `Download of ${url} stopped; the partial file is kept`, { hint: resumeSentence(options) });
}

function timedOut(url: string, timeoutMs: number): AppError {
  return new AppError('weights-timeout', `No data from ${url} for ${Math.round(timeoutMs / 1000)} s: the download timed out`, {
    hint: `${OFFLINE_HINT} A partial file is kept and resumed next time.`,
  });
}

function interrupted(url: string, received: number, total: number | undefined, options: DownloadOptions): AppError {
  const of = total === undefined ? '' : ` of ${total}`;
  return new AppError('weights-interrupted', `The connection to ${url} closed after ${received}${of} bytes; the partial file is kept`, {
    hint: resumeSentence(options),
    details: { partialBytes: received, total },
  });
}

function networkError(url: string, error: Error): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  return new AppError('weights-network', `Could not download ${url}: ${code ?? error.message}`, { hint: OFFLINE_HINT, cause: error });
}
