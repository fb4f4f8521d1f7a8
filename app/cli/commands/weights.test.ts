import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../main.ts';
import { fakeH5, startTestServer, type TestServer } from '../../weights/test-server.ts';

let server: TestServer;
let home: string;

before(async () => {
  server = await startTestServer();
  home = await mkdtemp(path.join(os.tmpdir(), 'effnet-weights-cli-'));
});
after(() => server.close());

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const capture = () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  };
  const stdout = capture();
  const stderr = capture();
  const code = await main(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { EFFNET_HOME: home, EFFNET_WEIGHTS_BASE_URL: server.baseUrl, ...env },
    cwd: home,
    signal: new AbortController().signal,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

test('weights list shows all 16 files, none cached, with approximate sizes', async () => {
  const { code, stdout } = await run(['weights', 'list', '--json']);
  assert.equal(code, 0);
  const listing = JSON.parse(stdout);
  assert.equal(listing.folder, path.join(home, 'weights'));
  assert.equal(listing.catalogue.length, 16);
  assert.ok(listing.catalogue.every((e: { cached: boolean }) => !e.cached));
  assert.equal(listing.catalogue[0].url, `${server.baseUrl}efficientnetb0.h5`);
  const text = await run(['weights', 'list']);
  assert.match(text.stdout, /B7 +notop +- +~246\.1 MiB +efficientnetb7_notop\.h5/);
  assert.match(text.stdout, /approximate/);
});

test('weights fetch against a file with the wrong MD5 fails with exit 1 and says the partial file was deleted', async () => {
  // The production catalogue's MD5 cannot match a generated file: exactly the mismatch path.
  server.route('/efficientnetb1_notop.h5', { body: fakeH5(5000) });
  const { code, stderr } = await run(['weights', 'fetch', 'b1', '--notop']);
  assert.equal(code, 1);
  assert.match(stderr, /MD5 mismatch for efficientnetb1_notop\.h5/);
  assert.match(stderr, /partial file was deleted/);
  await assert.rejects(stat(path.join(home, 'weights', 'efficientnetb1_notop.h5.part')));
});

test('weights fetch reports HTTP errors with the URL', async () => {
  const { code, stderr } = await run(['weights', 'fetch', 'b5']);
  assert.equal(code, 1);
  assert.ok(stderr.includes(`HTTP 404 Not Found from ${server.baseUrl}efficientnetb5.h5`), stderr);
});

test('weights fetch needs exactly one known variant', async () => {
  assert.equal((await run(['weights', 'fetch'])).code, 2);
  const unknown = await run(['weights', 'fetch', 'b9']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no ImageNet weights for 'b9'/);
});

test('weights import files a local .h5 and a non-weights file is refused by name', async () => {
  const source = path.join(home, 'mine.h5');
  await writeFile(source, fakeH5(3000, 5));
  const imported = await run(['weights', 'import', 'mine.h5', '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const result = JSON.parse(imported.stdout);
  assert.equal(result.kind, 'keras-h5');
  assert.equal(result.catalogue, null);
  assert.deepEqual(await readFile(result.path), fakeH5(3000, 5));
  assert.match((await run(['weights', 'list'])).stdout, /Imported:\n[\s\S]*imported\/mine\.h5 +keras-h5/);

  await writeFile(path.join(home, 'readme.txt'), 'hello');
  const refused = await run(['weights', 'import', 'readme.txt']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /readme\.txt is not a weights file/);
});
