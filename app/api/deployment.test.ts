/**
 * The export and classify channels, through `dispatch` as the windows and the server call them,
 * with real export and classify jobs in worker processes on a tiny test model (EFFNET_BACKEND=cpu).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Result } from '../common/errors.ts';
import type { ClassifySummary, ExportSummary, JobState, RunExport, UploadedFile } from '../common/ipc/contract.ts';
import { UPLOAD_LIMITS } from '../common/ipc/deployment.ts';
import type { AppEvent } from '../common/ipc/events.ts';
import { classImagePng, saveTestModel, testSpec, writeMixedFolder, type MixedFolder } from '../export/test-models.ts';
import { openStore } from '../store/index.ts';
import { temporaryFolder } from '../store/test-support.ts';
import { createApiContext, createApiHandlers, dispatch } from './handlers.ts';
import { uploadsFolder } from './uploads.ts';

const temp = temporaryFolder('effnet-api-deploy-');
const home = temp.file('home');
const env = { ...process.env, EFFNET_HOME: home, EFFNET_BACKEND: 'cpu' };
const context = createApiContext({ env, shell: 'browser', openStore: () => openStore(path.join(home, 'effnet.sqlite')) });
const handlers = createApiHandlers(context);
const events: AppEvent[] = [];
context.events.subscribe((event) => events.push(event));

let runId: number;
let folder: MixedFolder;

before(async () => {
  await mkdir(home, { recursive: true });
  folder = await writeMixedFolder(temp.file('images'));
  const store = context.store();
  const run = store.runs.create({ name: 'tiny', config: { dataset: { path: temp.file('images') } } });
  store.runs.start(run.id, { backend: 'cpu', device: 'CPU' });
  // A run's model is its best checkpoint's model/ folder, found through the checkpoint artifact.
  const checkpoint = path.join(home, 'runs', String(run.id), 'checkpoints', 'best');
  await saveTestModel(path.join(checkpoint, 'model'), 11, testSpec());
  store.artifacts.add(run.id, { kind: 'checkpoint-best', path: checkpoint, sha256: 'a'.repeat(64), bytes: 1, epoch: 1 });
  store.runs.finish(run.id, 'completed', null);
  runId = run.id;
});
after(async () => {
  await context.close();
  temp.remove();
});

async function value<T>(channel: string, ...args: unknown[]): Promise<T> {
  const result = (await dispatch(handlers, channel, args)) as Result<T>;
  if (!result.ok) assert.fail(`${channel} failed: ${result.error.code}: ${result.error.message}`);
  return result.value;
}
async function failure(channel: string, ...args: unknown[]) {
  const result = await dispatch(handlers, channel, args);
  assert.equal(result.ok, false, `${channel} should have failed`);
  return (result as { ok: false; error: { code: string; message: string; hint?: string } }).error;
}
/** Polls the job's channel (as a screen that missed the end event would) until the job ended. */
async function ended<T>(channel: 'exports:job' | 'classify:job', jobId: string): Promise<JobState<T>> {
  for (;;) {
    const state = await value<JobState<T>>(channel, jobId);
    if (state.job.finishedAt !== null) return state;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('an export of a run runs as a job, reports progress and parity, and is listed with its report', async () => {
  assert.deepEqual(await value('exports:list', runId), []);
  const started = await value<{ jobId: string; outDir: string }>('exports:start', { source: runId, format: 'onnx' });
  assert.equal(started.outDir, path.join(home, 'exports', `run-${runId}-onnx`), 'the default folder is the data folder’s exports/');
  const state = await ended<ExportSummary>('exports:job', started.jobId);
  assert.equal(state.job.status, 'completed', state.error?.message);
  const result = state.result!;
  assert.equal(result.passed, true);
  assert.equal(result.artifact, path.join(started.outDir, 'model.onnx'));
  assert.equal(result.runId, runId);
  assert.equal(result.verification.criterion.metric, 'maxAbsDiff');
  assert.ok(result.verification.overall.maxAbsDiff <= result.verification.criterion.threshold);
  assert.equal(result.verification.overall.top1Agreement, 1);
  assert.equal(state.progress?.phase, 'finish', 'the last progress is the end of the export');
  // The run has no split.json, so the export says it verified on random images only.
  assert.ok(
    state.warnings.some((warning) => /random images only/.test(warning)),
    state.warnings.join('\n'),
  );
  const live = events.filter((event) => event.type === 'job:event' && event.job.jobId === started.jobId);
  assert.ok(
    live.some((event) => event.type === 'job:event' && event.job.event.type === 'progress'),
    'progress arrives as job:event',
  );
  assert.ok(
    events.some((event) => event.type === 'runs:changed' && event.runId === runId),
    'Run detail is told to refresh',
  );

  const listed = await value<RunExport[]>('exports:list', runId);
  assert.equal(listed.length, 1);
  const [entry] = listed;
  assert.equal(entry!.format, 'onnx');
  assert.equal(entry!.outDir, started.outDir);
  assert.equal(entry!.exists, true);
  assert.deepEqual(entry!.verification, result.verification, 'the report read back is the one the job produced');
  assert.equal(
    entry!.bytes,
    result.files.reduce((sum, file) => sum + file.bytes, 0),
  );
});

test('dropped images (uploaded in chunks) and a folder are classified by a job, with a CSV and every skipped file', async () => {
  const sunflower = await classImagePng(3, 5);
  const daisy = await classImagePng(0, 6);
  const half = Math.floor(sunflower.length / 2);
  // One image in two chunks, one in one, one that is not an image, and the same name twice.
  const first = await value<UploadedFile>('classify:upload', {
    name: 'sunny.png',
    offset: 0,
    data: sunflower.subarray(0, half).toString('base64'),
  });
  const upload = { uploadId: first.uploadId };
  const rest = await value<UploadedFile>('classify:upload', {
    ...upload,
    name: first.name,
    offset: half,
    data: sunflower.subarray(half).toString('base64'),
  });
  assert.equal(rest.bytes, sunflower.length);
  await value('classify:upload', { ...upload, name: 'white.png', offset: 0, data: daisy.toString('base64') });
  const again = await value<UploadedFile>('classify:upload', { ...upload, name: 'white.png', offset: 0, data: daisy.toString('base64') });
  assert.equal(again.name, 'white (2).png', 'a repeated name is kept apart');
  await value('classify:upload', { ...upload, name: 'notes.jpg', offset: 0, data: Buffer.from('just text').toString('base64') });
  const uploadFolder = path.join(uploadsFolder(env), first.uploadId);
  assert.ok(existsSync(path.join(uploadFolder, 'sunny.png')));

  const csvPath = temp.file('results.csv');
  const { jobId } = await value<{ jobId: string }>('classify:start', {
    model: runId,
    inputs: [temp.file('images')],
    uploadId: first.uploadId,
    topK: 3,
    csvPath,
  });
  const state = await ended<ClassifySummary>('classify:job', jobId);
  assert.equal(state.job.status, 'completed', state.error?.message);
  const summary = state.result!;
  const dropped = summary.results.filter((result) => result.dropped);
  assert.deepEqual(dropped.map((result) => result.path).sort(), ['sunny.png', 'white (2).png', 'white.png']);
  assert.equal(dropped.find((result) => result.path === 'sunny.png')!.top[0]!.label, 'sunflowers');
  assert.equal(dropped.find((result) => result.path === 'white.png')!.top[0]!.label, 'daisy');
  assert.ok(summary.results.every((result) => result.top.length === 3));
  const fromFolder = summary.results.filter((result) => !result.dropped).map((result) => result.path);
  assert.deepEqual(fromFolder.sort(), folder.images.map((image) => image.path).sort());
  assert.deepEqual(
    summary.skipped.map((file) => file.path).sort(),
    [...folder.broken, 'notes.jpg'].sort(),
    'every unreadable file, dropped or not, is listed',
  );
  assert.ok(summary.skipped.every((file) => file.reason.length > 0));
  assert.equal(summary.ignored, folder.other.length);
  assert.equal(state.progress?.step, state.progress?.steps, 'progress reached the end');

  assert.equal(summary.csvPath, csvPath);
  const lines = readFileSync(csvPath, 'utf8').trimEnd().split('\r\n');
  assert.equal(lines[0], 'path,label,probability,label_1,probability_1,label_2,probability_2,label_3,probability_3');
  assert.equal(lines.length, 1 + summary.results.length);
  assert.ok(
    lines.some((line) => line.startsWith('sunny.png,sunflowers,')),
    'dropped images appear by name in the CSV',
  );
  await waitFor(() => !existsSync(uploadFolder));
  assert.deepEqual(readdirSync(uploadsFolder(env)), [], 'the upload is removed once classified');
});

test('bad arguments fail before any job starts, naming the field and what to do', async () => {
  const cases: [string, unknown[], RegExp][] = [
    ['exports:start', [{ source: 999, format: 'onnx' }], /^source: There is no run 999/],
    ['exports:start', [{ source: temp.file('nowhere'), format: 'tfjs' }], /^source: .*nowhere does not exist/],
    ['exports:start', [{ source: 'relative/model', format: 'tfjs' }], /^source: 'relative\/model' is not an absolute path/],
    ['exports:start', [{ source: runId, format: 'tflite' }], /argument 0\.format/],
    ['exports:start', [{ source: runId, format: 'onnx', quantization: 'int4' }], /argument 0\.quantization/],
    ['exports:start', [{ source: runId, format: 'onnx', outDir: temp.file('images') }], /^outDir: .*holds other files/],
    ['exports:start', [{ source: path.join(home, 'exports', `run-${runId}-onnx`), format: 'tfjs' }], /already an exported model \(onnx\)/],
    ['exports:job', ['job-999'], /There is no export job job-999/],
    ['exports:job', ['nonsense'], /a job id looks like job-3/],
    ['classify:start', [{ model: runId }], /^inputs: give at least one image/],
    ['classify:start', [{ model: runId, inputs: [temp.file('nope.png')] }], /^inputs\.0: .*nope\.png does not exist/],
    ['classify:start', [{ model: temp.file('images'), inputs: [temp.file('images')] }], /^model: .*holds no model/],
    [
      'classify:start',
      [{ model: runId, inputs: [temp.file('images')], csvPath: temp.file('no-folder/out.csv') }],
      /^csvPath \(its folder\)/,
    ],
    ['classify:start', [{ model: runId, inputs: [temp.file('images')], csvPath: temp.file('images') }], /^csvPath: .* is a folder/],
    ['classify:start', [{ model: runId, uploadId: 'f'.repeat(24) }], /^uploadId: there is no upload/],
    ['classify:upload', [{ name: 'a.png', offset: 5, data: '' }], /^offset: a new upload starts/],
    ['classify:upload', [{ name: 'a.png', offset: 0, data: 'not base64!' }], /data must be base64/],
    ['classify:upload', [{ name: 'a.png', offset: 0, data: 'A'.repeat((UPLOAD_LIMITS.chunkBytes / 3) * 4 + 8) }], /argument 0\.data/],
  ];
  for (const [channel, args, message] of cases) {
    const error = await failure(channel, ...args);
    assert.match(error.message, message, `${channel} ${JSON.stringify(args).slice(0, 120)}`);
  }
  // A chunk that does not continue where the file ends is refused (it would corrupt the image).
  const first = await value<UploadedFile>('classify:upload', { name: 'a.png', offset: 0, data: Buffer.from('1234').toString('base64') });
  const skip = await failure('classify:upload', { uploadId: first.uploadId, name: 'a.png', offset: 8, data: 'AAAA' });
  assert.match(skip.message, /^offset: a\.png has 4 bytes so far, but this chunk starts at 8/);
  const { jobId } = await value<{ jobId: string }>('classify:start', { model: runId, uploadId: first.uploadId });
  assert.equal((await failure('exports:job', jobId)).code, 'job-not-found', 'a classify job is not an export job');
  assert.deepEqual(await value('classify:cancel', jobId), { cancelled: true });
  const state = await ended<ClassifySummary>('classify:job', jobId);
  assert.equal(state.error?.code, 'job-cancelled', JSON.stringify(state));
  assert.equal(state.result, null);
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(condition(), 'condition not met within 2.5 s');
}
