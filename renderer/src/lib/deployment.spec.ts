// Dropped images go to the core in chunks that fit one request; the Export and Classify routes.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { UPLOAD_LIMITS } from '../../../app/common/ipc/deployment.ts';
import type * as Api from './api.ts';

vi.mock('./api.ts', async (importOriginal) => ({ ...(await importOriginal<typeof Api>()), call: vi.fn() }));
const api = await import('./api.ts');
const call = vi.mocked(api.call);
const { uploadFiles, toBase64 } = await import('./upload.ts');
const { parseRoute, routeHash } = await import('./router.svelte.ts');

// Braces: a function returned from beforeEach is run as a cleanup hook (mockReset returns the mock).
beforeEach(() => {
  call.mockReset();
});

describe('uploadFiles', () => {
  it('sends a large image as consecutive chunks that reassemble to the same bytes', async () => {
    const size = UPLOAD_LIMITS.chunkBytes * 2 + 1000;
    const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31 + (i >> 9)) & 255);
    const received: Uint8Array[] = [];
    const calls: { uploadId?: string; name: string; offset: number }[] = [];
    call.mockImplementation((async (_channel: string, chunk: { uploadId?: string; name: string; offset: number; data: string }) => {
      calls.push({ uploadId: chunk.uploadId, name: chunk.name, offset: chunk.offset });
      received.push(Uint8Array.from(atob(chunk.data), (c) => c.charCodeAt(0)));
      // The core renames a file whose name is taken; later chunks must use the stored name.
      return { uploadId: 'e'.repeat(24), name: 'photo (2).jpg', bytes: chunk.offset + received.at(-1)!.length };
    }) as unknown as typeof api.call);
    const progress: number[] = [];
    const file = new File([bytes], 'photo.jpg', { type: 'image/jpeg' });
    const outcome = await uploadFiles([file], (sent) => progress.push(sent));

    expect(calls).toEqual([
      { uploadId: undefined, name: 'photo.jpg', offset: 0 },
      { uploadId: 'e'.repeat(24), name: 'photo (2).jpg', offset: UPLOAD_LIMITS.chunkBytes },
      { uploadId: 'e'.repeat(24), name: 'photo (2).jpg', offset: UPLOAD_LIMITS.chunkBytes * 2 },
    ]);
    const joined = new Uint8Array(received.reduce((sum, part) => sum + part.length, 0));
    received.reduce((offset, part) => (joined.set(part, offset), offset + part.length), 0);
    // (toEqual on a megabyte of elements takes seconds: compare by hand.)
    expect(joined.length).toBe(size);
    expect(joined.findIndex((value, i) => value !== bytes[i])).toBe(-1);
    expect(progress.at(-1)).toBe(size);
    expect(outcome.uploadId).toBe('e'.repeat(24));
    expect(outcome.names.get(file)).toBe('photo (2).jpg');
    expect(outcome.refused).toEqual([]);
  });

  it('leaves out images over the size limit and beyond the count, saying why', async () => {
    call.mockImplementation((async (_channel: string, chunk: { name: string }) => ({
      uploadId: 'e'.repeat(24),
      name: chunk.name,
      bytes: 1,
    })) as unknown as typeof api.call);
    const huge = new File([new Uint8Array(1)], 'huge.png');
    Object.defineProperty(huge, 'size', { value: UPLOAD_LIMITS.fileBytes + 1 });
    const many = Array.from({ length: UPLOAD_LIMITS.files + 1 }, (_, i) => new File(['x'], `${i}.png`));
    const outcome = await uploadFiles([huge, ...many]);
    expect(outcome.names.size).toBe(UPLOAD_LIMITS.files);
    expect(outcome.refused).toEqual([
      { name: 'huge.png', reason: 'larger than 20 MB' },
      { name: `${UPLOAD_LIMITS.files}.png`, reason: `only ${UPLOAD_LIMITS.files} images at a time can be dropped` },
    ]);
  });

  it('encodes bytes as standard base64', () => {
    expect(toBase64(new TextEncoder().encode('any carnal pleas'))).toBe('YW55IGNhcm5hbCBwbGVhcw==');
    expect(toBase64(new Uint8Array([0, 255, 128]))).toBe('AP+A');
  });
});

describe('routes', () => {
  it.each([
    ['#/export', { name: 'export', runId: null }],
    ['#/export/7', { name: 'export', runId: 7 }],
    ['#/export/x', { name: 'export', runId: null }],
    ['#/classify', { name: 'classify' }],
  ] as const)('%s', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
    if (hash !== '#/export/x') expect(routeHash(route)).toBe(hash);
  });
});
