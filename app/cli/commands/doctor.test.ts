import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../node/shared-path.ts';
import { dataFolderStatus, type DoctorResult } from './doctor.ts';
import { runCli } from '../test-support.ts';

const run = promisify(execFile);
const BIN = path.join(PROJECT_ROOT, 'app', 'cli', 'effnet.mjs');

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'effnet-doctor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function doctor(args: string[], env: NodeJS.ProcessEnv) {
  return runCli(['doctor', ...args], { env });
}

test('the real `effnet doctor --json` reports backend, ladder, versions, system, GPU diagnosis, smoke test and data folder', async (t) => {
  const home = path.join(tempDir(t), 'home');
  const env: NodeJS.ProcessEnv = { ...process.env, EFFNET_HOME: home };
  delete env.EFFNET_BACKEND;
  const { stdout } = await run(process.execPath, [BIN, 'doctor', '--json'], { env });
  const result = JSON.parse(stdout) as DoctorResult;
  assert.equal(result.ok, true);
  assert.ok(result.report && ['gpu', 'node', 'wasm', 'cpu'].includes(result.report.rung));
  assert.ok(result.report.device.length > 0);
  assert.deepEqual(
    result.rungs.map((rung) => rung.rung),
    ['gpu', 'node', 'wasm', 'cpu'],
  );
  assert.equal(result.rungs.filter((rung) => rung.status === 'chosen').length, 1);
  assert.equal(result.versions.node, process.versions.node);
  assert.match(result.versions.tfjs ?? '', /^\d+\.\d+\.\d+$/);
  assert.ok(result.system.cpuCores > 0 && result.system.memoryBytes > 0 && result.system.cpuModel.length > 0);
  for (const field of ['gpuFound', 'gpus', 'missingLibraries', 'foundLibraries', 'verdict', 'advice'] as const)
    assert.ok(field in result.gpu, field);
  assert.ok(result.smoke?.ok, 'the chosen backend computes correctly');
  assert.equal(result.smoke.backend, result.report.backend);
  assert.equal(result.smoke.timings.length, 2);
  assert.deepEqual(result.dataFolder, {
    path: home,
    exists: false,
    writable: true,
    note: `does not exist yet; it will be created under ${path.dirname(home)}`,
  });
});

test('`effnet doctor` text names the chosen backend, every rung, the smoke timings and the GPU section', async (t) => {
  const home = tempDir(t);
  const { code, stdout } = await doctor([], { ...process.env, EFFNET_BACKEND: 'wasm', EFFNET_HOME: home });
  assert.equal(code, 0);
  assert.match(stdout, /Backend {3}'wasm': WebAssembly/);
  assert.match(stdout, /forced by EFFNET_BACKEND=wasm/);
  for (const rung of ['gpu', 'node', 'wasm', 'cpu']) assert.match(stdout, new RegExp(`[✓✗·] ${rung} `));
  assert.match(stdout, /Smoke test on 'wasm': results match plain JavaScript/);
  assert.match(stdout, /conv2d 3×3.*ms.*GFLOP\/s/);
  assert.match(stdout, /GPU \(tfjs-node-gpu needs Linux x86-64, NVIDIA driver ≥ 450\.80\.02, CUDA 11\.2, cuDNN 8\.1\)/);
  assert.match(stdout, /verdict {6}\S+/);
  assert.ok(stdout.includes(`Data folder  ${home}\n             writable`));
});

test('a forced backend that cannot load: doctor still prints the diagnosis, says what to install, exits 1', async (t) => {
  const { code, stdout } = await doctor(['--json'], { ...process.env, EFFNET_BACKEND: 'node', EFFNET_HOME: tempDir(t) });
  const result = JSON.parse(stdout) as DoctorResult;
  if (result.report) {
    t.skip(`@tensorflow/tfjs-node works here (${result.report.device})`);
    return;
  }
  assert.equal(code, 1);
  assert.equal(result.ok, false);
  assert.equal(result.error?.code, 'backend-unavailable');
  assert.match(result.error?.hint ?? '', /npm (install|rebuild) @tensorflow\/tfjs-node/);
  assert.equal(result.rungs.find((rung) => rung.rung === 'node')?.status, 'failed');
  assert.ok(result.gpu.verdict.length > 0);
  assert.equal(result.smoke, undefined);
});

test('data folder: an existing one is writable; one under a file is reported, not created', async (t) => {
  const root = tempDir(t);
  assert.deepEqual(await dataFolderStatus(root), { path: root, exists: true, writable: true, note: 'writable' });
  const file = path.join(root, 'a-file');
  writeFileSync(file, '');
  const underFile = await dataFolderStatus(path.join(file, 'home'));
  assert.equal(underFile.writable, false);
  assert.match(underFile.note, /is a file, not a folder/);
});

test('data folder: a read-only folder is reported as not writable', async (t) => {
  if (process.getuid?.() === 0) {
    t.skip('running as root: every folder is writable, so read-only cannot be observed');
    return;
  }
  const root = path.join(tempDir(t), 'locked');
  mkdirSync(root);
  chmodSync(root, 0o500);
  t.after(() => chmodSync(root, 0o700));
  const status = await dataFolderStatus(root);
  assert.equal(status.writable, false);
  assert.match(status.note, /NOT writable/);
});
