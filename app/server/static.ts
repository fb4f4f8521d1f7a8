/**
 * Serves the built renderer (dist/renderer): known content types only, no directory listings, and
 * no path that resolves (after decoding, and through symbolic links) outside the folder.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export type StaticLookup = { kind: 'file'; file: string; size: number; contentType: string } | { kind: 'missing' } | { kind: 'forbidden' };

/** Maps a URL path to a file inside `root`; `/` is index.html. */
export async function lookupStatic(root: string, urlPath: string): Promise<StaticLookup> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { kind: 'forbidden' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { kind: 'forbidden' };
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  // Any `..` segment is refused outright, before resolving: there is no legitimate use for one.
  if (relative.split('/').some((segment) => segment === '..')) return { kind: 'forbidden' };
  const candidate = path.resolve(root, relative);
  if (!isInside(root, candidate)) return { kind: 'forbidden' };
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(candidate)]);
    if (!isInside(realRoot, realFile)) return { kind: 'forbidden' };
    const info = await stat(realFile);
    if (!info.isFile()) return { kind: 'missing' };
    const contentType = CONTENT_TYPES[path.extname(realFile).toLowerCase()];
    if (!contentType) return { kind: 'missing' };
    return { kind: 'file', file: realFile, size: info.size, contentType };
  } catch {
    return { kind: 'missing' };
  }
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

export function sendFile(response: ServerResponse, found: Extract<StaticLookup, { kind: 'file' }>, head: boolean): void {
  const hashed = /-[A-Za-z0-9_-]{8,}\.(js|css|woff2?|svg|png)$/.test(found.file);
  response.writeHead(200, {
    'Content-Type': found.contentType,
    'Content-Length': found.size,
    // Vite names assets by content hash: they never change. index.html must always be fresh.
    'Cache-Control': hashed ? 'private, max-age=31536000, immutable' : 'no-store',
  });
  if (head) {
    response.end();
    return;
  }
  createReadStream(found.file)
    .on('error', () => response.destroy())
    .pipe(response);
}
