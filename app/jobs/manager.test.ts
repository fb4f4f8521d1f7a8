/**
 * The job manager with real worker processes: the inspect worker (a dataset health check, about a
 * second for a few hundred tiny images) exercises spawning, events, persistence, cancel, pause and
 * deaths without waiting for a training run. Each job costs a process start-up (tsx + sharp).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { png, writeDataset, type FileSpec } from '../dataset/test-datasets.ts';
import { currentOwner, openStore, type Store } from '../store/index.ts';
import { temporaryFolder } from '../store/test-support.ts';
import { JobManager } from './manager.ts';
import { ChildProcessSpawner, type WorkerSpawner } from './spawner.ts';
import type { JobEvent } from './types.ts';

const temp = temporaryFolder('effnet-jobs-');
const env = { ...process.env, EFFNET_HOME: temp.file('home') };
const small = temp.file('small');
const large = temp.file('large');
let store: Store;

/** `count` distinct 32×32 PNGs in three class folders. */
function images(count: number): Record<string, FileSpec> {
  const files: Record<string, FileSpec> = {};
  for (let i = 0; i < count; i++) files[`class${i % 3}/image${i}.png`] = png(i + 1, [32, 32]);
  return files;
}

before(async () => {
  await writeDataset(small, images(60));
  await writeDataset(large, images(900));
  store = openStore(temp.file('effnet.sqlite'));
});
after(() => {
  store.close();
  temp.remove();
});

function manager(options: ConstructorParameters<typeof JobManager>[0] = {}): JobManager {
  return new JobManager({ store, env, progressIntervalMs: 0, ...options });
}

/** Resolves at the first event of a job that `match` accepts. */
function firstEvent(jobs: JobManager, target: string | number, match: (event: JobEvent) => boolean): Promise<JobEvent> {
  return new Promise((resolve) => {
    const stop = jobs.subscribe(target, (event) => {
      if (!match(event)) return;
      stop();
      resolve(event);
    });
  });
}

const isProgress = (event: JobEvent) => event.event.type === 'progress' && event.event.step > 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the job manager with the inspect worker', () => {
  test('events arrive in order, the summary comes back, and a run records every event', async () => {
    const jobs = manager();
    const run = store.runs.create({ name: 'inspect as a run', config: { dataset: small } });
    const seen: JobEvent[] = [];
    jobs.subscribe(run.id, (event) => seen.push(event));
    const handle = jobs.submit({ kind: 'inspect', payload: { dataset: small }, runId: run.id });
    const result = await handle.done;

    assert.equal(result.status, 'completed');
    const summary = result.summary as { totals: { readable: number }; classes: { name: string; count: number }[] };
    assert.equal(summary.totals.readable, 60);
    assert.deepEqual(
      summary.classes.map((c) => [c.name, c.count]),
      [
        ['class0', 20],
        ['class1', 20],
        ['class2', 20],
      ],
    );

    assert.deepEqual(
      seen.map((e) => e.seq),
      seen.map((_, i) => i + 1),
    );
    const types = seen.map((e) => (e.event.type === 'status' ? `status:${e.event.status}` : e.event.type));
    assert.deepEqual(types.slice(0, 3), ['status:queued', 'status:running', 'started']);
    assert.deepEqual(types.slice(-2), ['finished', 'status:completed']);
    assert.ok(
      types.slice(3, -2).every((type) => type === 'progress'),
      types.join(),
    );
    const steps = seen.flatMap((e) => (e.event.type === 'progress' ? [e.event.step] : []));
    assert.deepEqual(
      steps,
      [...steps].sort((a, b) => a - b),
      'progress never goes backwards',
    );
    assert.equal(steps.at(-1), 60);

    // Stored as they arrived: the same events in the same order, and the run's status.
    const stored = store.events.since(run.id);
    const workerEvents = seen.filter((e) => e.event.type !== 'status');
    assert.deepEqual(
      stored.map((e) => e.type),
      workerEvents.map((e) => e.event.type),
    );
    const after = store.runs.require(run.id);
    assert.equal(after.status, 'completed');
    assert.equal(after.backend, 'sharp');
    assert.match(after.device ?? '', /CPU/);
    assert.deepEqual(jobs.get(run.id)?.status, 'completed');
  });

  test('the queue runs at most the configured number of jobs of a kind at once', async () => {
    const jobs = manager({ concurrency: { inspect: 1 } });
    let running = 0;
    let most = 0;
    const order: string[] = [];
    jobs.subscribe('*', (event) => {
      if (event.event.type !== 'status') return;
      if (event.event.status === 'running') {
        running++;
        order.push(`start ${event.jobId}`);
      } else if (event.event.status !== 'queued') {
        running--;
        order.push(`end ${event.jobId}`);
      }
      most = Math.max(most, running);
    });
    const handles = [1, 2, 3].map(() => jobs.submit({ kind: 'inspect', payload: { dataset: small } }));
    assert.deepEqual(
      jobs.list().map((job) => job.status),
      ['running', 'queued', 'queued'],
    );
    const results = await Promise.all(handles.map((handle) => handle.done));
    assert.deepEqual(
      results.map((r) => r.status),
      ['completed', 'completed', 'completed'],
    );
    assert.equal(most, 1);
    const [a, b, c] = handles.map((h) => h.id);
    assert.deepEqual(order, [`start ${a}`, `end ${a}`, `start ${b}`, `end ${b}`, `start ${c}`, `end ${c}`]);
  });

  test('cancel stops a running job cleanly and a queued one before it starts', async () => {
    const jobs = manager({ concurrency: { inspect: 1 } });
    const run = store.runs.create({ name: 'cancelled scan', config: {} });
    const first = jobs.submit({ kind: 'inspect', payload: { dataset: large }, runId: run.id });
    const second = jobs.submit({ kind: 'inspect', payload: { dataset: large } });
    await firstEvent(jobs, first.id, isProgress);
    assert.equal(jobs.cancel(second.id), true);
    assert.equal(jobs.cancel(first.id), true);
    const [one, two] = await Promise.all([first.done, second.done]);
    assert.equal(one.status, 'cancelled');
    assert.equal(two.status, 'cancelled');
    assert.equal(jobs.get(second.id)?.pid, null, 'the queued job never started a process');
    const stored = store.runs.require(run.id);
    assert.equal(stored.status, 'cancelled');
    assert.deepEqual(store.events.since(run.id).at(-1)?.payload, { cancelled: true, summary: null });
  });

  test('a cancel sent while the worker is still loading is kept until it is ready', async () => {
    const jobs = manager();
    const handle = jobs.submit({ kind: 'inspect', payload: { dataset: large } });
    assert.equal(jobs.get(handle.id)?.status, 'running');
    jobs.cancel(handle.id);
    const seen: string[] = [];
    jobs.subscribe(handle.id, (event) => seen.push(event.event.type));
    const result = await handle.done;
    assert.equal(result.status, 'cancelled');
    assert.ok(!seen.includes('progress') || seen.filter((type) => type === 'progress').length <= 2, seen.join());
  });

  test('pause holds a job between chunks and resume lets it finish', async () => {
    const jobs = manager();
    const handle = jobs.submit({ kind: 'inspect', payload: { dataset: large } });
    await firstEvent(jobs, handle.id, isProgress);
    jobs.pause(handle.id);
    let last = Date.now();
    let latestStep = 0;
    jobs.subscribe(handle.id, (event) => {
      if (event.event.type !== 'progress') return;
      last = Date.now();
      latestStep = event.event.step;
    });
    // Paused: progress stops within one chunk and stays stopped.
    const deadline = Date.now() + 20_000;
    while (Date.now() - last < 1500 && Date.now() < deadline) await sleep(100);
    assert.ok(Date.now() - last >= 1500, 'progress stopped while paused');
    assert.equal(jobs.get(handle.id)?.status, 'running');
    assert.equal(jobs.get(handle.id)?.paused, true);
    assert.ok(latestStep < 900, `paused at ${latestStep} of 900 images`);
    jobs.resume(handle.id);
    const result = await handle.done;
    assert.equal(result.status, 'completed');
    assert.equal((result.summary as { totals: { readable: number } }).totals.readable, 900);
  });

  test('kill -9 of the worker leaves its run interrupted with the signal as the reason', async () => {
    const jobs = manager();
    const run = store.runs.create({ name: 'killed scan', config: {} });
    const handle = jobs.submit({ kind: 'inspect', payload: { dataset: large }, runId: run.id });
    await firstEvent(jobs, handle.id, isProgress);
    const pid = jobs.get(handle.id)!.pid!;
    process.kill(pid, 'SIGKILL');
    const result = await handle.done;
    assert.equal(result.status, 'interrupted');
    assert.match(result.message ?? '', /killed by SIGKILL/);
    const stored = store.runs.require(run.id);
    assert.equal(stored.status, 'interrupted');
    assert.match(stored.statusMessage ?? '', /The worker process was killed by SIGKILL/);
    assert.ok(
      store.events.since(run.id).some((e) => e.type === 'progress'),
      'progress before the kill was stored',
    );
  });

  test('shutdown cancels running jobs and refuses new ones', async () => {
    const jobs = manager();
    const handle = jobs.submit({ kind: 'inspect', payload: { dataset: large } });
    await firstEvent(jobs, handle.id, isProgress);
    await jobs.shutdown({ timeoutMs: 20_000 });
    assert.equal((await handle.done).status, 'cancelled');
    assert.throws(() => jobs.submit({ kind: 'inspect', payload: { dataset: small } }), /shutting down/);
  });
});

describe('the job manager with a misbehaving worker', () => {
  const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
  /** Starts a fixture script instead of the real launcher (a worker from "another build"). */
  const fixture = (name: string): WorkerSpawner => {
    const real = new ChildProcessSpawner();
    return { spawn: (script, options) => real.spawn({ ...script, script: path.join(fixtures, name) }, options) };
  };

  test('a worker speaking another protocol version fails its run with a clear error', async () => {
    const jobs = manager({ spawner: fixture('other-version.mjs') });
    const run = store.runs.create({ name: 'version mismatch', config: {} });
    const result = await jobs.submit({ kind: 'inspect', payload: { dataset: small }, runId: run.id }).done;
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'protocol-version');
    assert.match(result.message ?? '', /speaks message protocol version 999, but this side speaks version 1/);
    const stored = store.runs.require(run.id);
    assert.equal(stored.status, 'failed');
    assert.match(stored.statusMessage ?? '', /protocol version 999/);
  });

  test('a worker that dies before it starts fails its run (it never ran) with its output as the reason', async () => {
    const jobs = manager({ spawner: fixture('crash-on-start.mjs') });
    const run = store.runs.create({ name: 'crash on start', config: {} });
    const result = await jobs.submit({ kind: 'inspect', payload: { dataset: small }, runId: run.id }).done;
    assert.equal(result.status, 'failed');
    assert.match(result.message ?? '', /exited with code 3/);
    assert.match(result.message ?? '', /libfake\.so: cannot open shared object file/);
    assert.equal(store.runs.require(run.id).status, 'failed');
  });
});

test('a new manager marks runs left running by a dead process interrupted', () => {
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const run = store.runs.create({ name: 'orphan', config: {} });
  store.runs.start(run.id, { backend: 'cpu', device: 'CPU', owner: currentOwner(dead) });
  manager();
  const after = store.runs.require(run.id);
  assert.equal(after.status, 'interrupted');
  assert.match(after.statusMessage ?? '', /stopped while it was running/);
});
