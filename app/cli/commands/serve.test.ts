import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { CliIo } from '../command.ts';
import { main } from '../main.ts';

/** Starts `effnet serve ARGS` in-process; resolves once it printed its first line, with a stop function. */
async function serve(args: string[]) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'effnet-serve-cli-'));
  const controller = new AbortController();
  let stdout = '';
  let stderr = '';
  let firstLine: (line: string) => void;
  const ready = new Promise<string>((resolve) => (firstLine = resolve));
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const io: CliIo = {
    stdout: sink((s) => {
      stdout += s;
      if (stdout.includes('\n')) firstLine(stdout.split('\n')[0]!);
    }),
    stderr: sink((s) => (stderr += s)),
    env: { ...process.env, EFFNET_HOME: home },
    cwd: process.cwd(),
    signal: controller.signal,
  };
  const exit = main(['serve', ...args], io);
  const line = await Promise.race([ready, exit.then((code) => `exited ${code}: ${stderr}`)]);
  return {
    line,
    stderr: () => stderr,
    stop: async () => {
      controller.abort();
      const code = await exit;
      rmSync(home, { recursive: true, force: true });
      return code;
    },
  };
}

test('`effnet serve --port 0 --json` prints a loopback URL with a token that opens the API, and stops on Ctrl-C', async () => {
  const server = await serve(['--port', '0', '--json']);
  try {
    const ready = JSON.parse(server.line) as { url: string; host: string; port: number };
    assert.equal(ready.host, '127.0.0.1');
    const url = new URL(ready.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.ok(ready.port > 0 && url.port === String(ready.port));
    const token = url.searchParams.get('token')!;
    const response = await fetch(new URL('/api/models:variants', url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: '[]',
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { value: unknown[] }).value.length, 8);
    assert.doesNotMatch(server.stderr(), /warning: listening on/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('another host is served only when asked, with a warning', async () => {
  const server = await serve(['--host', '0.0.0.0', '--port', '0', '--json']);
  try {
    assert.match(server.stderr(), /warning: listening on 0\.0\.0\.0, not only this machine/);
    assert.match(server.stderr(), /SSH tunnel/);
  } finally {
    await server.stop();
  }
});

test('bad options are usage errors that name the option', async () => {
  const server = await serve(['--port', '70000']);
  assert.match(server.line, /exited 2/);
  assert.match(server.stderr(), /--port must be a whole number from 0 to 65535, got '70000'/);
  await server.stop();
});
