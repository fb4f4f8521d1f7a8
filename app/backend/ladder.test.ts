import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { initBackend } from './ladder.ts';
import { compareCore, explainLoadError } from './probes.ts';
import { pattern, referenceConv2d, smokeTest } from './smoke.ts';

const env = (backend?: string) => ({ ...process.env, EFFNET_BACKEND: backend });

/** A stride-1 'same' conv2d with fixed inputs, computed on the current backend. */
async function conv(): Promise<Float32Array> {
  const input = pattern(1 * 12 * 12 * 8, 11);
  const filter = pattern(3 * 3 * 8 * 16, 12);
  const result = tf.tidy(() => tf.conv2d(tf.tensor4d(input, [1, 12, 12, 8]), tf.tensor4d(filter, [3, 3, 8, 16]), 1, 'same'));
  const data = (await result.data()) as Float32Array;
  result.dispose();
  return data;
}

test('EFFNET_BACKEND=cpu and =wasm both really compute, and agree on a conv2d within 1e-5', async () => {
  const cpu = await initBackend({ env: env('cpu') });
  assert.equal(cpu.rung, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(cpu.forced, 'cpu');
  const onCpu = await conv();

  const wasm = await initBackend({ env: env('wasm') });
  assert.equal(wasm.rung, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(wasm.device, /WebAssembly.*1 thread/);
  const onWasm = await conv();

  assert.equal(onCpu.length, 12 * 12 * 16);
  const reference = referenceConv2d(pattern(12 * 12 * 8, 11), [12, 12, 8], pattern(3 * 3 * 8 * 16, 12), [3, 16]);
  let maxBetween = 0;
  for (let i = 0; i < onCpu.length; i++) {
    maxBetween = Math.max(maxBetween, Math.abs(onCpu[i]! - onWasm[i]!));
    assert.ok(Math.abs(onCpu[i]! - reference[i]!) < 1e-4, `cpu[${i}] against plain JavaScript`);
  }
  assert.ok(maxBetween <= 1e-5, `cpu and wasm differ by ${maxBetween}`);
});

test('the same request returns the same report, and puts its backend back if something switched it', async () => {
  const first = await initBackend({ env: env('wasm') });
  await tf.setBackend('cpu');
  const second = await initBackend({ env: env('wasm') });
  assert.equal(second, first);
  assert.equal(tf.getBackend(), 'wasm');
});

for (const [value, packageName] of [
  ['node', '@tensorflow/tfjs-node'],
  ['tensorflow', '@tensorflow/tfjs-node'],
  ['gpu', '@tensorflow/tfjs-node-gpu'],
] as const) {
  test(`EFFNET_BACKEND=${value} here fails with an error naming ${packageName}, and does not fall back`, async (t) => {
    await initBackend({ env: env('wasm') });
    let report;
    try {
      report = await initBackend({ env: env(value) });
    } catch (error) {
      assert.ok(error instanceof AppError, String(error));
      assert.equal(error.code, 'backend-unavailable');
      assert.match(error.message, new RegExp(`EFFNET_BACKEND=${value}`));
      assert.ok(error.message.includes(packageName), error.message);
      assert.match(error.hint ?? '', new RegExp(`npm (install|rebuild) ${packageName.replace('/', '\\/')}`));
      assert.equal(tf.getBackend(), 'wasm', 'the backend in use is unchanged');
      return;
    }
    t.skip(`${packageName} works on this machine (${report.device}), so forcing it succeeds`);
  });
}

test('automatic choice on this machine: every rung above the chosen one says why not', async () => {
  const report = await initBackend({ env: env(undefined) });
  const chosen = report.rungs.findIndex((rung) => rung.status === 'chosen');
  assert.equal(report.rungs[chosen]!.rung, report.rung);
  for (const rung of report.rungs.slice(0, chosen)) {
    assert.equal(rung.status, 'failed');
    assert.ok(rung.status === 'failed' && rung.reason.length > 10, rung.rung);
  }
  for (const rung of report.rungs.slice(chosen + 1)) assert.equal(rung.status, 'not-tried');
  assert.ok(report.gpu, 'the GPU rung was tried, so its diagnosis is in the report');
  assert.equal(report.versions.tfjs, tf.version.tfjs);
  assert.equal(report.versions.node, process.versions.node);
  assert.equal(tf.getBackend(), report.backend);
});

test('an unknown EFFNET_BACKEND is rejected before anything loads', async () => {
  await assert.rejects(
    initBackend({ env: env('webgpu') }),
    (error: unknown) => error instanceof AppError && error.code === 'backend-invalid',
  );
});

test('the smoke test checks results against plain JavaScript on the current backend', async () => {
  await initBackend({ env: env('cpu') });
  const result = await smokeTest(1);
  assert.equal(result.backend, 'cpu');
  assert.ok(result.ok && result.maxError < 1e-4, String(result.maxError));
  assert.ok(result.timings.every((timing) => timing.ms > 0 && timing.gflops > 0));
});

test('the wasm backend and @tensorflow/tfjs share one tfjs-core; a package with its own nested copy is detected', (t) => {
  assert.equal(compareCore('@tensorflow/tfjs-backend-wasm').same, true);
  // A project whose node_modules has a package that depends on a different @tensorflow/tfjs.
  const root = mkdtempSync(path.join(os.tmpdir(), 'effnet-core-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const write = (file: string, json: object) => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(json));
  };
  const modules = path.join(root, 'node_modules');
  write(path.join(modules, '@tensorflow/tfjs/package.json'), {
    name: '@tensorflow/tfjs',
    dependencies: { '@tensorflow/tfjs-core': '4.22.0' },
  });
  write(path.join(modules, '@tensorflow/tfjs-core/package.json'), { name: '@tensorflow/tfjs-core', version: '4.22.0' });
  const nested = path.join(modules, 'fake-node/node_modules/@tensorflow');
  write(path.join(modules, 'fake-node/package.json'), { name: 'fake-node', dependencies: { '@tensorflow/tfjs': '4.21.0' } });
  write(path.join(nested, 'tfjs/package.json'), { name: '@tensorflow/tfjs', dependencies: { '@tensorflow/tfjs-core': '4.21.0' } });
  write(path.join(nested, 'tfjs/node_modules/@tensorflow/tfjs-core/package.json'), { name: '@tensorflow/tfjs-core', version: '4.21.0' });
  write(path.join(modules, 'fake-peer/package.json'), { name: 'fake-peer', peerDependencies: { '@tensorflow/tfjs-core': '4.22.0' } });
  const from = pathToFileURL(path.join(root, 'index.js')).href;
  const other = compareCore('fake-node', from);
  assert.equal(other.same, false);
  assert.match(other.theirs, /fake-node.*tfjs-core$/);
  assert.equal(compareCore('fake-peer', from).same, true);
});

const LOAD_ERRORS: [string, Error, RegExp, RegExp | undefined][] = [
  [
    'addon missing after a failed install (seen here during an npm install)',
    new Error(
      'The Node.js native addon module (tfjs_binding.node) can not be found at path: /p/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node.',
    ),
    /native addon \(tfjs_binding\.node\) is missing/,
    /npm rebuild @tensorflow\/tfjs-node/,
  ],
  [
    'libtensorflow missing',
    new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory'),
    /cannot load libtensorflow/,
    /npm rebuild/,
  ],
  [
    'addon built for another Node',
    new Error('The module tfjs_binding.node was compiled against a different Node.js version using NODE_MODULE_VERSION 108.'),
    /built for another Node\.js/,
    /electron-rebuild/,
  ],
  [
    'old glibc',
    new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.29' not found (required by libtensorflow.so.2)"),
    /newer C library/,
    /EFFNET_BACKEND=wasm/,
  ],
  ['Node ≥ 23 util removal', new TypeError('(0 , util_1.isNullOrUndefined) is not a function'), /tensorflow\/tfjs#8609/, /Node\.js 22/],
  [
    'not installed',
    Object.assign(new Error("Cannot find module '@tensorflow/tfjs-node'"), { code: 'MODULE_NOT_FOUND' }),
    /is not installed/,
    /npm install @tensorflow\/tfjs-node/,
  ],
  ['anything else keeps its first line', new Error('something odd\n  at stack'), /failed to load: something odd$/, undefined],
];

for (const [name, error, reason, hint] of LOAD_ERRORS) {
  test(`load error explained: ${name}`, () => {
    const explained = explainLoadError('@tensorflow/tfjs-node', error);
    assert.equal(explained.ok, false);
    assert.match(explained.reason, reason);
    if (hint) assert.match(explained.hint ?? '', hint);
    else assert.equal(explained.hint, undefined);
  });
}
