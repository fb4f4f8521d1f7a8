/**
 * The export and classify jobs run in real worker processes: what the desktop app and the server
 * use so that loading runtimes and running parity images never blocks their own process.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { saveTestModel, testSpec, writeMixedFolder, type MixedFolder } from '../export/test-models.ts';
import { temporaryFolder } from '../store/test-support.ts';
import { JobManager } from './manager.ts';
import type { JobEvent } from './types.ts';

const temp = temporaryFolder('effnet-export-jobs-');
const env = { ...process.env, EFFNET_HOME: temp.file('home'), EFFNET_BACKEND: 'cpu' };
let modelDir: string;
let folder: MixedFolder;

before(async () => {
  modelDir = await saveTestModel(temp.file('model'), 11, testSpec());
  folder = await writeMixedFolder(temp.file('images'));
});
after(() => temp.remove());

test('an export job writes a verified ONNX export and reports its progress and parity', async () => {
  const jobs = new JobManager({ env, progressIntervalMs: 0 });
  const events: JobEvent[] = [];
  const outDir = temp.file('export-onnx');
  const handle = jobs.submit({ kind: 'export', payload: { source: modelDir, format: 'onnx', outDir, randomInputs: 8 } });
  jobs.subscribe(handle.id, (event) => events.push(event));
  const result = await handle.done;
  assert.equal(result.status, 'completed', result.message ?? '');
  const summary = result.summary as { passed: boolean; artifact: string; verification: { random: { maxAbsDifference: number } | null } };
  assert.equal(summary.passed, true);
  assert.equal(summary.artifact, path.join(outDir, 'model.onnx'));
  assert.ok(existsSync(path.join(outDir, 'verification.json')));
  assert.ok(
    events.some((event) => event.event.type === 'progress'),
    'progress events arrive',
  );
});

test('a classify job labels the readable images and lists every broken file with its reason', async () => {
  const jobs = new JobManager({ env, progressIntervalMs: 0 });
  const result = await jobs.submit({ kind: 'classify', payload: { model: modelDir, inputs: [temp.file('images')], topK: 2 } }).done;
  assert.equal(result.status, 'completed', result.message ?? '');
  const summary = result.summary as { results: { path: string; top: { label: string }[] }[]; skipped: { path: string; reason: string }[] };
  assert.deepEqual(summary.results.map((r) => r.path).sort(), folder.images.map((image) => image.path).sort());
  assert.ok(summary.results.every((r) => r.top.length === 2));
  assert.deepEqual(summary.skipped.map((s) => s.path).sort(), [...folder.broken].sort());
  assert.ok(summary.skipped.every((s) => s.reason.length > 0));
});

test('a bad export request fails with the reason instead of crashing the worker', async () => {
  const jobs = new JobManager({ env, progressIntervalMs: 0 });
  const result = await jobs.submit({ kind: 'export', payload: { source: temp.file('nowhere'), format: 'tfjs', outDir: temp.file('x') } })
    .done;
  assert.equal(result.status, 'failed');
  assert.match(result.message ?? '', /nowhere/);
});
