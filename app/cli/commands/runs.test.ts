/**
 * `effnet runs …` against a real store in a temporary EFFNET_HOME, filled through the store's own
 * repositories the way the job manager fills it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { openStore, type Store } from '../../store/index.ts';
import { temporaryFolder } from '../../store/test-support.ts';
import { dataPaths } from '../../node/paths.ts';
import type { CliIo } from '../command.ts';
import { main } from '../main.ts';

const temp = temporaryFolder('effnet-runs-cli-');
const env = { ...process.env, EFFNET_HOME: temp.file('home') };
const sha = 'cd'.repeat(32);
let ids: { baseline: number; tuned: number; interrupted: number; resumed: number; running: number };

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const io: CliIo = {
    stdout: sink((t) => (stdout += t)),
    stderr: sink((t) => (stderr += t)),
    env,
    cwd: temp.folder,
    signal: new AbortController().signal,
  };
  const code = await main(args, io);
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> };
}

/** A run that trained `accuracies.length` epochs; val_accuracy per epoch as given. */
function trained(
  store: Store,
  name: string,
  config: Record<string, unknown>,
  accuracies: number[],
  datasetId: number,
  final: 'completed' | 'interrupted' | null,
) {
  const run = store.runs.create({ name, config: { dataset: { path: '/data/flowers' }, ...config }, datasetId, seed: 7 });
  store.runs.start(run.id, { backend: 'cpu', device: 'CPU (JavaScript)' });
  accuracies.forEach((accuracy, i) => store.metrics.recordEpoch(run.id, i + 1, { loss: 1 - accuracy, val_accuracy: accuracy }));
  if (final)
    store.runs.finish(run.id, final, final === 'interrupted' ? 'The worker process was killed by SIGKILL before the job finished.' : null);
  return run.id;
}

before(() => {
  const store = openStore(dataPaths(env).database);
  const dataset = store.datasets.upsert({
    path: '/data/flowers',
    fingerprint: 'f1',
    classes: ['daisy', 'rose'],
    split: { train: 8, validation: 2, test: 0 },
  });
  const baseline = trained(store, 'baseline', { epochs: 3, optimizer: { learningRate: 0.001 } }, [0.5, 0.75, 0.7], dataset.id, 'completed');
  const tuned = trained(store, 'tuned lr', { epochs: 3, optimizer: { learningRate: 0.01 } }, [0.6, 0.9, 0.95], dataset.id, 'completed');
  const interrupted = trained(store, 'killed', { epochs: 4 }, [0.4, 0.55], dataset.id, 'interrupted');
  const resumed = store.runs.resume(interrupted).id;
  const running = trained(store, 'in progress', { epochs: 9 }, [0.3], dataset.id, null);
  // Files of the interrupted run: one inside the data folder, one exported elsewhere.
  const checkpoint = path.join(dataPaths(env).runs, String(interrupted), 'checkpoints', 'last');
  mkdirSync(checkpoint, { recursive: true });
  writeFileSync(path.join(checkpoint, 'state.json'), '{}');
  store.artifacts.add(interrupted, { kind: 'checkpoint', path: checkpoint, sha256: sha, bytes: 2, epoch: 2 });
  writeFileSync(temp.file('export.onnx'), 'onnx');
  store.artifacts.add(interrupted, { kind: 'export', path: temp.file('export.onnx'), sha256: sha, bytes: 4 });
  store.tags.add(tuned, ['best-so-far']);
  store.close();
  ids = { baseline, tuned, interrupted, resumed, running };
});
after(() => temp.remove());

describe('effnet runs', () => {
  test('list shows every run newest first, with best and final validation accuracy', async () => {
    const { code, json } = await cli('runs', 'list', '--json');
    assert.equal(code, 0);
    const page = json() as {
      total: number;
      rows: { id: number; bestValAccuracy: number | null; finalValAccuracy: number | null; bestEpoch: number | null }[];
    };
    assert.equal(page.total, 5);
    assert.deepEqual(
      page.rows.map((row) => row.id),
      [ids.running, ids.resumed, ids.interrupted, ids.tuned, ids.baseline],
    );
    const baseline = page.rows.find((row) => row.id === ids.baseline)!;
    assert.deepEqual([baseline.bestValAccuracy, baseline.bestEpoch, baseline.finalValAccuracy], [0.75, 2, 0.7]);

    const human = await cli('runs', 'list');
    assert.match(human.stdout, /best val acc\s+final val acc/);
    assert.match(human.stdout, new RegExp(`${ids.tuned}\\s+tuned lr\\s+completed\\s+flowers\\s+3\\s+95\\.0% @3\\s+95\\.0%`));
  });

  // [options, expected ids in order]
  const filters: [string[], () => number[]][] = [
    [['--status', 'completed'], () => [ids.tuned, ids.baseline]],
    [['--status', 'interrupted', '--status', 'running'], () => [ids.running, ids.interrupted]],
    [['--tag', 'best-so-far'], () => [ids.tuned]],
    [['--search', 'LR'], () => [ids.tuned]],
    [['--sort', 'best'], () => [ids.tuned, ids.baseline, ids.interrupted, ids.running, ids.resumed]],
    [['--limit', '2'], () => [ids.running, ids.resumed]],
  ];
  for (const [options, expected] of filters) {
    test(`list ${options.join(' ')}`, async () => {
      const { code, json } = await cli('runs', 'list', ...options, '--json');
      assert.equal(code, 0);
      assert.deepEqual(
        (json().rows as { id: number }[]).map((row) => row.id),
        expected(),
      );
    });
  }

  test('show --json has the status, config and final and best validation accuracy', async () => {
    const { code, json } = await cli('runs', 'show', String(ids.tuned), '--json');
    assert.equal(code, 0);
    const run = json();
    assert.equal(run.status, 'completed');
    assert.deepEqual(run.config, { dataset: { path: '/data/flowers' }, epochs: 3, optimizer: { learningRate: 0.01 } });
    assert.equal(run.bestValAccuracy, 0.95);
    assert.equal(run.finalValAccuracy, 0.95);
    assert.deepEqual((run.metrics as Record<string, { values: number[] }>).val_accuracy!.values, [0.6, 0.9, 0.95]);
    assert.deepEqual(run.tags, ['best-so-far']);
  });

  test('show names the run a resumed run continues, and how to resume an interrupted one', async () => {
    const resumed = await cli('runs', 'show', String(ids.resumed), '--json');
    assert.deepEqual(resumed.json().lineage, [{ id: ids.interrupted, name: 'killed', status: 'interrupted' }]);
    const text = (await cli('runs', 'show', String(ids.resumed))).stdout;
    assert.match(text, new RegExp(`continues\\s+run ${ids.interrupted} \\(interrupted\\)`));
    const killed = (await cli('runs', 'show', String(ids.interrupted))).stdout;
    assert.match(killed, /status\s+interrupted: The worker process was killed by SIGKILL/);
    assert.match(killed, new RegExp(`Continue it with: effnet runs resume ${ids.interrupted}`));
  });

  test('compare lists the settings that differ and each run’s accuracy', async () => {
    const { code, json } = await cli('runs', 'compare', String(ids.baseline), String(ids.tuned), '--json');
    assert.equal(code, 0);
    assert.deepEqual(json().differences, [{ key: 'optimizer.learningRate', values: [0.001, 0.01] }]);
    const text = (await cli('runs', 'compare', String(ids.baseline), String(ids.tuned))).stdout;
    assert.match(text, /best val acc\s+75\.0% @2\s+95\.0% @3/);
    assert.match(text, /optimizer\.learningRate\s+0\.001\s+0\.01/);
  });

  test('tag adds and removes tags; note adds a note', async () => {
    assert.deepEqual((await cli('runs', 'tag', String(ids.baseline), 'baseline', 'cpu', '--json')).json().tags, ['baseline', 'cpu']);
    assert.deepEqual((await cli('runs', 'tag', String(ids.baseline), 'cpu', '--remove', '--json')).json().tags, ['baseline']);
    const note = (await cli('runs', 'note', String(ids.baseline), 'learning', 'rate', 'too', 'low', '--json')).json();
    assert.equal(note.body, 'learning rate too low');
    assert.deepEqual(
      ((await cli('runs', 'show', String(ids.baseline), '--json')).json().notes as { body: string }[]).map((n) => n.body),
      ['learning rate too low'],
    );
  });

  // [arguments, exit code, stderr pattern]
  const mistakes: [string[], number, RegExp][] = [
    [['runs', 'show'], 2, /give the run ID/],
    [['runs', 'show', 'abc'], 2, /a run ID is a whole number .*got 'abc'/],
    [['runs', 'show', '999'], 1, /There is no run 999/],
    [['runs', 'compare', '1'], 2, /two or more run IDs/],
    [['runs', 'list', '--status', 'paused'], 2, /--status must be one of queued, running/],
    [['runs', 'tag', '1'], 2, /give one or more tags/],
    [['runs', 'note', '1'], 2, /give the text of the note/],
    [['runs', 'resume', '1'], 1, /is completed; only interrupted, cancelled, failed runs can be resumed/],
  ];
  for (const [args, code, pattern] of mistakes) {
    test(`${args.join(' ')} exits ${code} saying what is wrong`, async () => {
      const result = await cli(...args);
      assert.equal(result.code, code);
      assert.match(result.stderr, pattern);
    });
  }

  test('delete refuses a running run', async () => {
    const result = await cli('runs', 'delete', String(ids.running));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /still running[\s\S]*Cancel it first/);
  });

  test('delete removes the run and its files in the data folder, never files elsewhere', async () => {
    const folder = path.join(dataPaths(env).runs, String(ids.interrupted));
    const { code, json } = await cli('runs', 'delete', String(ids.interrupted), '--json');
    assert.equal(code, 0);
    assert.deepEqual(json().keptFiles, [temp.file('export.onnx')]);
    assert.equal(existsSync(path.join(folder, 'checkpoints', 'last')), false);
    assert.equal(existsSync(folder), false);
    assert.equal(existsSync(temp.file('export.onnx')), true);
    assert.match((await cli('runs', 'show', String(ids.interrupted))).stderr, /There is no run/);
    // The run that continued it stays, no longer linked.
    assert.equal((await cli('runs', 'show', String(ids.resumed), '--json')).json().resumedFrom, null);
  });
});
