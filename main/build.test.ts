/**
 * What main/build.ts writes, run the way the desktop app runs it: plain `node`, no TypeScript
 * loader, packages from a node_modules without tsx (electron-builder.yml leaves it out). Electron
 * itself is not installed here; its utilityProcess starts the same dist/workers/launch.mjs.
 *
 * EFFNET_TEST_BUILT_APP=<folder> runs the same checks on an existing app folder (dist/,
 * package.json, node_modules), such as an app.asar extracted with `npx asar extract`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runInThisContext } from 'node:vm';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import sharp from 'sharp';
import { CHANNELS } from '../app/common/ipc/contract.ts';
import { PICK_PATH_CHANNEL, type DesktopBridge } from '../app/common/ipc/desktop.ts';
import { EVENTS_CHANNEL } from '../app/common/ipc/events.ts';
import { parseWorkerMessage, PROTOCOL_VERSION, type WorkerMessage } from '../app/common/protocol.ts';
import { workerScript } from '../app/jobs/entries.ts';
import { ChildProcessSpawner } from '../app/jobs/spawner.ts';
import { RESOURCES_ENV } from '../app/node/resources.ts';
import { PROJECT_ROOT } from '../app/node/shared-path.ts';
import { buildShell, MAIN_BUNDLE } from './build.ts';

/** Packages the installers leave out (electron-builder.yml `files`): the built app must not need them. */
const NOT_SHIPPED = new Set(['tsx', 'esbuild', '@esbuild', '.bin']);

const scratch = mkdtempSync(path.join(os.tmpdir(), 'effnet-build-'));
const given = process.env.EFFNET_TEST_BUILT_APP;
const appFolder = given ? path.resolve(given) : path.join(scratch, 'app');
const dataset = path.join(scratch, 'dataset');
let probeScript = '';

before(async () => {
  if (!given) {
    mkdirSync(appFolder);
    await buildShell(path.join(appFolder, 'dist'));
    // As in app.asar: package.json beside dist/ (the app root), node_modules without tsx, and
    // no resources/ (extraResources puts it outside the archive).
    writeFileSync(
      path.join(appFolder, 'package.json'),
      JSON.stringify({ name: 'effnet-studio', type: 'module', main: 'dist/main/main.js' }),
    );
    mkdirSync(path.join(appFolder, 'node_modules'));
    for (const name of readdirSync(path.join(PROJECT_ROOT, 'node_modules'))) {
      if (!NOT_SHIPPED.has(name)) symlinkSync(path.join(PROJECT_ROOT, 'node_modules', name), path.join(appFolder, 'node_modules', name));
    }
  }
  for (const [name, color] of [
    ['red', { r: 220, g: 10, b: 10 }],
    ['blue', { r: 10, g: 10, b: 220 }],
  ] as const) {
    mkdirSync(path.join(dataset, name), { recursive: true });
    for (const index of [1, 2]) {
      await sharp({ create: { width: 24, height: 16, channels: 3, background: color } })
        .png()
        .toFile(path.join(dataset, name, `${index}.png`));
    }
  }
  probeScript = await buildProbe();
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A bundle in dist/main/ (where the main process's is) of app code that finds its files: the
 * pipeline's thread entry, the workers folder, a resource. It prints what it found as JSON.
 */
async function buildProbe(): Promise<string> {
  const source = path.join(scratch, 'probe.ts');
  const app = (relative: string) => JSON.stringify(path.join(PROJECT_ROOT, 'app', relative));
  writeFileSync(
    source,
    `import { WorkerPool } from ${app('dataset/pipeline/worker-pool.ts')};
import { WORKERS_FOLDER } from ${app('jobs/entries.ts')};
import { FROM_SOURCE, readResource, resourcePath } from ${app('node/resources.ts')};
import { toErrorData } from ${app('common/errors.ts')};

const resource = { path: resourcePath('onnx/onnx.proto3'), read: '' };
try {
  resource.read = readResource('onnx/onnx.proto3').includes('message ModelProto') ? 'ok' : 'wrong file';
} catch (error) {
  resource.read = toErrorData(error).code;
}
const pool = await WorkerPool.start(1, { transform: { imageSize: 8, mode: 'eval', augment: null, seed: 1 }, cacheBytes: 0 });
const outcome = await pool.run({ id: 1, path: process.argv[2], index: 0, epoch: 0 });
await pool.close();
const means = [0, 1, 2].map((channel) => {
  if (outcome.kind !== 'sample') return null;
  let sum = 0;
  for (let i = channel; i < outcome.image.length; i += 3) sum += outcome.image[i];
  return sum / (outcome.image.length / 3);
});
console.log(JSON.stringify({ fromSource: FROM_SOURCE, workers: WORKERS_FOLDER, resource, outcome: outcome.kind, length: outcome.kind === 'sample' ? outcome.image.length : 0, means }));
`,
  );
  const outfile = path.join(appFolder, 'dist', 'main', 'probe.mjs');
  await build({ ...MAIN_BUNDLE, entryPoints: [source], outfile, sourcemap: false, metafile: false });
  return outfile;
}

interface ProbeReport {
  fromSource: boolean;
  workers: string;
  resource: { path: string; read: string };
  outcome: string;
  length: number;
  means: number[];
}

function runProbe(env: NodeJS.ProcessEnv): ProbeReport {
  const result = spawnSync(process.execPath, [probeScript, path.join(dataset, 'red', '1.png')], { env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as ProbeReport;
}

/** The environment without anything that could load tsx into a child. */
function plainEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _options, [RESOURCES_ENV]: _resources, ...env } = process.env;
  return { ...env, ...extra };
}

test('the preload is small, bundles no package, and forwards exactly the contract channels', async () => {
  const file = path.join(appFolder, 'dist', 'main', 'preload.cjs');
  const code = readFileSync(file, 'utf8');
  assert.ok(code.length < 10_000, `preload.cjs is ${code.length} bytes`);
  assert.doesNotMatch(code, /node_modules\//, 'a package (zod?) was bundled into the preload');

  // Run it as Electron's sandboxed preload does: CommonJS, with `electron` the only module.
  const invoked: unknown[][] = [];
  const listeners: ((...args: unknown[]) => void)[] = [];
  let exposed: DesktopBridge | undefined;
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: DesktopBridge) => key === 'desktop' && (exposed = api) },
    ipcRenderer: {
      invoke: (...args: unknown[]) => (invoked.push(args), Promise.resolve({ ok: true, value: null })),
      on: (channel: string, listener: (...args: unknown[]) => void) => channel === EVENTS_CHANNEL && listeners.push(listener),
      removeListener: () => undefined,
    },
    webUtils: { getPathForFile: () => '/dropped' },
  };
  const requireStub = (name: string) => {
    if (name !== 'electron') throw new Error(`the preload required '${name}'`);
    return electron;
  };
  const module = { exports: {} };
  runInThisContext(`(function (require, module, exports, process) {${code}\n})`)(requireStub, module, module.exports, {
    platform: 'linux',
  });
  assert.ok(exposed, 'window.desktop was not exposed');
  const bridge = exposed;

  // Any channel with any arguments: checking them is main's job, the preload only forwards.
  const invoke = bridge.invoke as (channel: string, ...args: unknown[]) => Promise<{ ok: boolean }>;
  for (const channel of CHANNELS) void invoke(channel, { probe: channel });
  assert.deepEqual(
    invoked,
    CHANNELS.map((channel) => [channel, { probe: channel }]),
  );
  invoked.length = 0;
  const refused = await invoke('no:such-channel');
  assert.equal(refused.ok, false);
  assert.equal(invoked.length, 0, 'an unknown channel reached ipcRenderer');
  await bridge.pickPath('folder', 'Open');
  assert.deepEqual(invoked, [[PICK_PATH_CHANNEL, 'folder', 'Open']]);
  // The renderer gets the event, never Electron's IpcRendererEvent (it exposes `sender`).
  const seen: unknown[] = [];
  bridge.onEvent((event) => seen.push(event));
  listeners[0]!({ sender: 'ipc internals' }, { type: 'app:ping' });
  assert.deepEqual(seen, [{ type: 'app:ping' }]);
});

test('the compiled worker runs a job under plain node: handshake, progress, summary', async () => {
  const worker = new ChildProcessSpawner().spawn(workerScript('inspect', path.join(appFolder, 'dist', 'workers')), { env: plainEnv() });
  const messages: WorkerMessage[] = [];
  const code = await new Promise<number | null>((resolve) => {
    worker.onMessage((raw) => {
      const message = parseWorkerMessage(raw);
      messages.push(message);
      if (message.type === 'ready')
        worker.send({ protocolVersion: PROTOCOL_VERSION, type: 'start', job: { kind: 'inspect', payload: { dataset } } });
    });
    worker.onExit((exitCode) => resolve(exitCode));
  });
  assert.equal(code, 0, `${JSON.stringify(messages)}\n${worker.outputTail()}`);
  assert.deepEqual(messages[0], { type: 'ready', protocolVersion: PROTOCOL_VERSION, pid: worker.pid, kind: 'inspect' });
  const finished = messages.at(-1)!;
  assert.ok(finished.type === 'finished', JSON.stringify(finished));
  const report = finished.summary as { totals: { readable: number }; classes: { name: string }[] };
  assert.equal(report.totals.readable, 4);
  assert.deepEqual(report.classes.map((c) => c.name).sort(), ['blue', 'red']);
});

test('the compiled launcher refuses a name that is not a worker', () => {
  const result = spawnSync(process.execPath, [path.join(appFolder, 'dist', 'workers', 'launch.mjs'), '../../etc/passwd'], {
    env: plainEnv(),
    encoding: 'utf8',
  });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /expected a worker name \(train, evaluate, inspect, export, classify\), got '\.\.\/\.\.\/etc\/passwd'/);
});

test('bundled app code starts the compiled pipeline thread, which decodes an image', () => {
  const report = runProbe(plainEnv());
  assert.equal(report.fromSource, false);
  assert.equal(report.workers, path.join(appFolder, 'dist', 'workers'));
  assert.equal(report.outcome, 'sample');
  assert.equal(report.length, 8 * 8 * 3);
  // A red image: red high, green and blue low (0–255 floats, HWC).
  assert.ok(report.means[0]! > 200 && report.means[1]! < 40 && report.means[2]! < 40, JSON.stringify(report.means));
});

test(`bundled app code reads resources from ${RESOURCES_ENV} (set by main), else beside package.json`, () => {
  const resources = path.join(PROJECT_ROOT, 'resources');
  const told = runProbe(plainEnv({ [RESOURCES_ENV]: resources }));
  assert.deepEqual(told.resource, { path: path.join(resources, 'onnx', 'onnx.proto3'), read: 'ok' });
  // The app folder has no resources/ (as in app.asar): the fallback looks there and says so.
  const untold = runProbe(plainEnv());
  assert.deepEqual(untold.resource, { path: path.join(appFolder, 'resources', 'onnx', 'onnx.proto3'), read: 'resource-missing' });
});
