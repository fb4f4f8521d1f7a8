import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { catalogueEntry, type WeightsEntry } from './catalogue.ts';
import { fetchWeights, partialFilePath, weightsFilePath } from './fetch.ts';
import { listWeights, resolveWeightsFile } from './store.ts';
import { fakeH5, md5, startTestServer, type TestServer } from './test-server.ts';

const BODY = fakeH5(200_000, 7);
let server: TestServer;
let env: NodeJS.ProcessEnv;

before(async () => {
  server = await startTestServer();
});
after(() => server.close());
beforeEach(async () => {
  env = { EFFNET_HOME: await mkdtemp(path.join(os.tmpdir(), 'effnet-fetch-')), EFFNET_WEIGHTS_BASE_URL: server.baseUrl };
  server.requests.length = 0;
});

/** The real b0 catalogue entry, served from 127.0.0.1 at `name` with the generated file's MD5. */
function entryFor(name: string, body: Buffer = BODY): WeightsEntry {
  return { ...catalogueEntry('b0', true, env), url: `${server.baseUrl}${name}`, md5: md5(body) };
}

function rejectsWith(code: string, ...fragments: string[]) {
  return (error: unknown) => {
    assert.ok(error instanceof AppError, `an AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `'${error.message}' mentions '${fragment}'`);
    return true;
  };
}

test('a complete download is verified and renamed into the cache; a second fetch finds it cached', async () => {
  server.route('/complete.h5', { body: BODY });
  const seen: number[] = [];
  const first = await fetchWeights('b0', { entry: entryFor('complete.h5'), env, onProgress: (p) => seen.push(p.received) });
  assert.equal(first.status, 'downloaded');
  assert.equal(first.path, path.join(env.EFFNET_HOME!, 'weights', 'efficientnetb0.h5'));
  assert.deepEqual(await readFile(first.path), BODY);
  assert.equal(seen.at(-1), BODY.length);
  await assert.rejects(stat(`${first.path}.part`), { code: 'ENOENT' });

  const second = await fetchWeights('b0', { entry: entryFor('complete.h5'), env });
  assert.equal(second.status, 'cached');
  assert.equal(server.requests.length, 1, 'the cached file is not downloaded again');
});

test('a download cut off mid-way keeps the .part; the next fetch resumes it with a Range request', async () => {
  server.route('/cut.h5', { body: BODY, cutAfter: 80_000 });
  const entry = entryFor('cut.h5');
  await assert.rejects(fetchWeights('b0', { entry, env }), rejectsWith('weights-interrupted', 'cut.h5', 'partial file is kept'));
  const partial = (await stat(partialFilePath(entry, env))).size;
  assert.equal(partial, 80_000);

  const result = await fetchWeights('b0', { entry, env });
  assert.equal(result.status, 'downloaded');
  assert.equal(result.resumedFrom, partial);
  assert.deepEqual(
    server.requests.map((r) => r.range),
    [undefined, `bytes=${partial}-`],
  );
  assert.deepEqual(await readFile(result.path), BODY);
});

test('a server that ignores Range gets a clean restart instead of a doubled file', async () => {
  server.route('/norange.h5', { body: BODY, ignoreRange: true, cutAfter: 50_000 });
  const entry = entryFor('norange.h5');
  await assert.rejects(fetchWeights('b0', { entry, env }), rejectsWith('weights-interrupted'));
  const result = await fetchWeights('b0', { entry, env });
  assert.equal(result.resumedFrom, 0);
  assert.equal(server.requests[1]?.range, 'bytes=50000-');
  assert.deepEqual(await readFile(result.path), BODY);
});

test('a .part that is already whole (416 from the server) is verified and kept', async () => {
  server.route('/whole.h5', { body: BODY });
  const entry = entryFor('whole.h5');
  await fetchWeights('b0', { entry, env });
  const target = weightsFilePath(entry, env);
  await rm(target);
  await writeFile(partialFilePath(entry, env), BODY);
  const result = await fetchWeights('b0', { entry, env });
  assert.equal(result.status, 'downloaded');
  assert.equal(server.requests.at(-1)?.range, `bytes=${BODY.length}-`);
  assert.deepEqual(await readFile(target), BODY);
});

test('a wrong hash deletes the partial file and says so', async () => {
  server.route('/wrong.h5', { body: BODY });
  const entry = { ...entryFor('wrong.h5'), md5: '0123456789abcdef0123456789abcdef' };
  await assert.rejects(
    fetchWeights('b0', { entry, env }),
    rejectsWith('weights-checksum', 'MD5 mismatch', md5(BODY), '0123456789abcdef0123456789abcdef', 'partial file was deleted'),
  );
  await assert.rejects(stat(partialFilePath(entry, env)), { code: 'ENOENT' });
  await assert.rejects(stat(weightsFilePath(entry, env)), { code: 'ENOENT' });
});

test('a cached file whose MD5 changed on disk is downloaded again', async () => {
  server.route('/rotten.h5', { body: BODY });
  const entry = entryFor('rotten.h5');
  await fetchWeights('b0', { entry, env });
  await writeFile(weightsFilePath(entry, env), BODY.subarray(0, 1000));
  const result = await fetchWeights('b0', { entry, env });
  assert.equal(result.replacedCorrupt, true);
  assert.deepEqual(await readFile(result.path), BODY);
});

for (const [status, route] of [
  [500, { status: 500 }],
  [404, undefined],
] as const) {
  test(`HTTP ${status} is reported with the status and the URL`, async () => {
    if (route) server.route(`/status-${status}.h5`, route);
    const entry = entryFor(`status-${status}.h5`);
    await assert.rejects(fetchWeights('b0', { entry, env }), rejectsWith('weights-http', `HTTP ${status}`, entry.url));
    await assert.rejects(stat(partialFilePath(entry, env)), { code: 'ENOENT' });
  });
}

test('redirects are followed (storage.googleapis.com may send them)', async () => {
  server.route('/final.h5', { body: BODY });
  server.route('/moved.h5', { redirectTo: '/final.h5' });
  const result = await fetchWeights('b0', { entry: entryFor('moved.h5'), env });
  assert.deepEqual(await readFile(result.path), BODY);
  assert.deepEqual(
    server.requests.map((r) => r.path),
    ['/moved.h5', '/final.h5'],
  );
});

test('a stalled server times out with a message about the connection and import, keeping the .part', async () => {
  server.route('/stall.h5', { body: BODY, stallAfter: 30_000 });
  const entry = entryFor('stall.h5');
  await assert.rejects(fetchWeights('b0', { entry, env, timeoutMs: 1000 }), (error: unknown) => {
    assert.ok(error instanceof AppError && error.code === 'weights-timeout', String(error));
    assert.match(error.message, /timed out/);
    assert.match(error.hint ?? '', /Check your connection.*effnet weights import FILE/);
    return true;
  });
  assert.equal((await stat(partialFilePath(entry, env))).size, 30_000);
});

test('an unreachable server is a clear network error', async () => {
  const entry = { ...entryFor('x.h5'), url: 'http://127.0.0.1:1/x.h5' };
  await assert.rejects(fetchWeights('b0', { entry, env }), rejectsWith('weights-network', 'http://127.0.0.1:1/x.h5'));
});

test('Ctrl-C (the abort signal) stops cleanly and keeps the .part for the next fetch', async () => {
  server.route('/slow.h5', { body: BODY, stallAfter: 40_000 });
  const entry = entryFor('slow.h5');
  const controller = new AbortController();
  const fetching = fetchWeights('b0', {
    entry,
    env,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.received >= 40_000) controller.abort();
    },
  });
  await assert.rejects(fetching, (error: unknown) => {
    assert.ok(error instanceof AppError && error.code === 'cancelled', String(error));
    assert.match(error.hint ?? '', /effnet weights fetch b0/);
    return true;
  });
  assert.equal((await stat(partialFilePath(entry, env))).size, 40_000);
  await assert.rejects(stat(`${partialFilePath(entry, env)}.lock`), { code: 'ENOENT' }, 'the lock is released');

  server.route('/slow.h5', { body: BODY });
  const result = await fetchWeights('b0', { entry, env });
  assert.equal(result.resumedFrom, 40_000);
  assert.deepEqual(await readFile(result.path), BODY);
});

test('a second download of the same file while one runs is refused, not interleaved', async () => {
  server.route('/busy.h5', { body: BODY, stallAfter: 10_000 });
  const entry = entryFor('busy.h5');
  const controller = new AbortController();
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const first = fetchWeights('b0', { entry, env, signal: controller.signal, onProgress: (p) => p.received > 0 && started() });
  await running;
  await assert.rejects(fetchWeights('b0', { entry, env }), rejectsWith('weights-busy', 'efficientnetb0.h5'));
  controller.abort();
  await assert.rejects(first, rejectsWith('cancelled'));
});

test('resolveWeightsFile names the fetch command until the file is there, and listWeights shows the state', async () => {
  await assert.rejects(resolveWeightsFile('b0', false, env), (error: unknown) => {
    assert.ok(error instanceof AppError && error.code === 'weights-missing');
    assert.match(error.hint ?? '', /effnet weights fetch b0 --notop/);
    return true;
  });
  server.route('/efficientnetb0_notop.h5', { body: BODY, cutAfter: 1234 });
  const notop = { ...catalogueEntry('b0', false, env), md5: md5(BODY) };
  await assert.rejects(fetchWeights('b0', { top: false, entry: notop, env }));
  let listing = await listWeights(env);
  const state = () => listing.catalogue.find((e) => e.variant === 'b0' && !e.top)!;
  assert.equal(listing.catalogue.length, 16);
  assert.equal(state().cached, false);
  assert.equal(state().partialBytes, 1234);

  await fetchWeights('b0', { top: false, entry: notop, env });
  listing = await listWeights(env);
  assert.equal(state().cached, true);
  assert.equal(state().bytes, BODY.length);
  assert.equal(state().partialBytes, undefined);
  assert.equal(await resolveWeightsFile('B0', false, env), state().path);
  assert.equal(listing.catalogue.filter((e) => e.cached).length, 1);
});
