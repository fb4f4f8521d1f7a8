/**
 * Prepares one app for the whole run: builds the renderer when its sources are newer than the
 * build, makes a temporary EFFNET_HOME with a generated dataset and example runs, and starts
 * `effnet serve --port 0`. Returns the teardown that stops the server and removes the folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { prepareHome } from './fixtures/prepare-home.ts';
import type { E2eState } from './helpers/app.ts';
import { chromiumPath } from './helpers/browser.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function newest(folder: string): number {
  let latest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

function buildRendererIfNeeded(): void {
  const index = path.join(root, 'dist', 'renderer', 'index.html');
  const sources = Math.max(newest(path.join(root, 'renderer')), newest(path.join(root, 'app', 'common')));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  console.log('e2e: building the renderer (its sources are newer than dist/renderer)…');
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '-c', 'renderer/vite.config.ts', '--logLevel', 'warn'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) throw new Error('Building the renderer failed (see above).');
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!chromiumPath()) {
    throw new Error('Chromium is not installed: run `apt-get install -y chromium` (or set CHROMIUM_PATH to a Chromium binary).');
  }
  buildRendererIfNeeded();
  const home = mkdtempSync(path.join(os.tmpdir(), 'effnet-e2e-'));
  const { dataset, classes, queries } = await prepareHome(home);

  const server = spawn(process.execPath, [path.join(root, 'app', 'cli', 'effnet.mjs'), 'serve', '--port', '0', '--json'], {
    cwd: root,
    env: { ...process.env, EFFNET_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('effnet serve did not print its URL within 60 s')), 60_000);
    server.once('exit', (code) => reject(new Error(`effnet serve exited early with code ${code}`)));
    createInterface({ input: server.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as { url: string; port: number });
    });
  });
  const url = new URL(ready.url);
  const state: E2eState = { url: ready.url, origin: url.origin, token: url.searchParams.get('token')!, home, dataset, classes, queries };
  process.env.EFFNET_E2E_STATE = JSON.stringify(state);
  console.log(`e2e: effnet serve at ${url.origin}, data in ${home}`);

  return async () => {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  };
}
