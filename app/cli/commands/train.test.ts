/**
 * The done-criterion, end to end through the CLI, the job manager, a real worker process
 * and the store: `effnet train` on a generated 3-class dataset learns a tiny EfficientNet far above
 * chance, and a run stopped by Ctrl-C or by `kill -9` of its worker is finished by
 * `effnet runs resume`. Tiny on purpose (72 images of 40 px, a 7-block B0 at 32 px, cpu backend).
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { dataPaths } from '../../node/paths.ts';
import { openStore } from '../../store/index.ts';
import { temporaryFolder } from '../../store/test-support.ts';
import { writeSyntheticDataset } from '../../train/test-support.ts';
import type { CliIo } from '../command.ts';
import { main } from '../main.ts';

const temp = temporaryFolder('effnet-train-cli-');
const env = { ...process.env, EFFNET_HOME: temp.file('home'), EFFNET_BACKEND: 'cpu' };
const dataset = temp.file('shapes');
const tinyConfig = temp.file('tiny.json');
/** A 7-block B0 (width 0.25, depth 0.2) that learns these shapes in a few epochs at 32 px. */
const TINY = {
  model: { width: 0.25, depth: 0.2, dropout: 0.1, bnMomentum: 0.8 },
  augment: { crop: { enabled: false }, rotation: { enabled: false }, colorJitter: { enabled: false }, erasing: { enabled: false } },
  data: { workers: 0 },
};
const COMMON = [
  '--config',
  tinyConfig,
  '--variant',
  'b0',
  '--mode',
  'full',
  '--batch-size',
  '8',
  '--lr',
  '0.01',
  '--image-size',
  '32',
  '--weights',
  'none',
  '--val-split',
  '0.25',
  '--seed',
  '7',
];

type Line = Record<string, unknown> & { type: string };

/** Runs the CLI in this process; `onLine` sees each --json line as it is written. */
async function cli(args: string[], options: { onLine?: (line: Line) => void; onText?: (text: string) => void; signal?: AbortSignal } = {}) {
  let stdout = '';
  let stderr = '';
  let pending = '';
  const stdoutSink = new Writable({
    write(chunk, _encoding, done) {
      stdout += String(chunk);
      pending += String(chunk);
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        const text = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        options.onText?.(text);
        if (options.onLine && text.startsWith('{') && text.endsWith('}')) options.onLine(JSON.parse(text) as Line);
      }
      done();
    },
  });
  const stderrSink = new Writable({
    write(chunk, _encoding, done) {
      stderr += String(chunk);
      done();
    },
  });
  const io: CliIo = {
    stdout: stdoutSink,
    stderr: stderrSink,
    env,
    cwd: temp.folder,
    signal: options.signal ?? new AbortController().signal,
  };
  const code = await main(args, io);
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => JSON.parse(line) as Line);
  return { code, stdout, stderr, lines };
}

const withStore = <T>(read: (store: ReturnType<typeof openStore>) => T): T => {
  const store = openStore(dataPaths(env).database);
  try {
    return read(store);
  } finally {
    store.close();
  }
};

before(async () => {
  await writeSyntheticDataset(dataset, { perClass: 24, size: 40, seed: 1 });
  writeFileSync(tinyConfig, JSON.stringify(TINY));
});
after(() => temp.remove());

describe('effnet train', () => {
  // [arguments, exit code, stderr pattern]: refused before any run is recorded.
  const mistakes: [string[], number, RegExp][] = [
    [['train'], 2, /give the DATASET folder or manifest/],
    [['train', '/no/such/folder'], 1, /Dataset \/no\/such\/folder does not exist/],
    [['train', dataset, '--variant', 'b9'], 2, /--variant: Unknown variant 'b9'/],
    [['train', dataset, '--mode', 'partial'], 2, /--mode must be one of head, finetune, full, got 'partial'/],
    [['train', dataset, '--epochs', '0'], 2, /--epochs must be a whole number ≥ 1, got '0'/],
    [['train', dataset, '--lr', 'fast'], 2, /--lr must be a positive number up to 10, got 'fast'/],
    [['train', dataset, '--config', tinyConfig, '--val-split', '1'], 2, /--val-split must be a fraction/],
    [['train', dataset, '--config', temp.file('missing.json')], 1, /Cannot read the training config/],
  ];
  for (const [args, code, pattern] of mistakes) {
    test(`${args.slice(1).join(' ').replace(temp.folder, '…')} exits ${code} saying what is wrong`, async () => {
      const result = await cli(args);
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, pattern);
    });
  }

  test('a misspelt config field is named, and no run is recorded for it', async () => {
    const bad = temp.file('bad.json');
    writeFileSync(bad, JSON.stringify({ optimizer: { learningrate: 1 } }));
    const result = await cli(['train', dataset, '--config', bad]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Training config: optimizer\.learningrate: unknown field/);
    assert.equal(existsSync(dataPaths(env).database) ? withStore((store) => store.runList.list().total) : 0, 0);
  });

  test('learns a tiny EfficientNet far above chance; the run and its metrics are in the store', async () => {
    const started = performance.now();
    const { code, lines, stderr } = await cli(['train', dataset, ...COMMON, '--epochs', '4', '--name', 'shapes from scratch', '--json']);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(code, 0, stderr);
    const result = lines.at(-1)!;
    assert.equal(result.type, 'result');
    const run = result.run as { id: number; status: string; bestValAccuracy: number; finalValAccuracy: number; epochsDone: number };
    const accuracies = lines.filter((line) => line.type === 'epoch').map((line) => (line.metrics as { val_accuracy: number }).val_accuracy);
    console.log(`effnet train: ${seconds.toFixed(1)} s, val_accuracy by epoch ${accuracies.map((a) => a.toFixed(3)).join(' ')}`);
    assert.equal(run.status, 'completed');
    assert.ok(run.bestValAccuracy >= 0.8, `best val_accuracy ${run.bestValAccuracy} (chance 0.33)`);

    // One JSON object per event, in the order the worker sent them.
    const types = lines.map((line) => (line.type === 'status' ? `status:${line.status as string}` : line.type));
    assert.deepEqual(types.slice(0, 2), ['status:queued', 'status:running']);
    assert.deepEqual(types.slice(-3), ['finished', 'status:completed', 'result']);
    assert.equal(types.filter((type) => type === 'epoch').length, 4);
    assert.ok(types.indexOf('started') < types.indexOf('epoch'));
    assert.deepEqual(
      lines.slice(0, -1).map((line) => line.seq),
      lines.slice(0, -1).map((_, i) => i + 1),
    );

    withStore((store) => {
      const detail = store.runDetail(run.id);
      assert.equal(detail.run.name, 'shapes from scratch');
      assert.equal(detail.run.status, 'completed');
      assert.equal(detail.run.backend, 'cpu');
      assert.equal(detail.run.seed, 7);
      assert.deepEqual(detail.dataset?.classes, ['blue', 'green', 'red']);
      assert.deepEqual(detail.metrics.val_accuracy?.epochs, [1, 2, 3, 4]);
      assert.deepEqual(detail.metrics.val_accuracy?.values, accuracies);
      assert.equal(detail.run.bestValAccuracy, Math.max(...accuracies));
      assert.ok(detail.artifacts.some((artifact) => artifact.kind === 'checkpoint' && existsSync(artifact.path)));
      const steps = store.steps.series(run.id).loss!;
      assert.deepEqual(
        steps.steps,
        Array.from({ length: steps.steps.length }, (_, i) => i + 1),
        'a loss for every optimizer step',
      );
      assert.equal(steps.steps.length, 4 * 7, '4 epochs of 7 steps (54 training images in batches of 8)');
      const stored = store.events.since(run.id, 0, 10_000).map((event) => event.type);
      assert.deepEqual(
        stored.filter((type) => type !== 'progress'),
        types.filter((type) => !type.startsWith('status') && type !== 'result' && type !== 'progress'),
      );
    });
  });

  test('Ctrl-C cancels with a checkpoint; kill -9 leaves the run interrupted; runs resume finishes it', async () => {
    // 1. Ctrl-C as the first epoch starts: the worker finishes its step and saves a checkpoint.
    const interrupt = new AbortController();
    const first = await cli(['train', dataset, ...COMMON, '--epochs', '2'], {
      signal: interrupt.signal,
      onText: (text) => text.startsWith('Training on') && interrupt.abort(),
    });
    assert.equal(first.code, 130, first.stderr);
    const a = Number(/^Run (\d+):/.exec(first.stdout)?.[1]);
    assert.match(first.stderr, /Cancelling: finishing the current step and saving a checkpoint/);
    assert.match(first.stdout, new RegExp(`Run ${a} cancelled after 0 epochs[\\s\\S]*Resume it with: effnet runs resume ${a}\n`));
    withStore((store) => {
      assert.equal(store.runs.require(a).status, 'cancelled');
      const checkpoint = store.artifacts.list(a).find((artifact) => artifact.kind === 'checkpoint');
      assert.ok(checkpoint && existsSync(checkpoint.path), 'a checkpoint was saved on cancel');
      assert.equal(checkpoint.epoch, 1);
    });

    // 2. Resume it, and kill -9 the worker as soon as it has checkpointed the end of epoch 1.
    let pid = 0;
    const second = await cli(['runs', 'resume', String(a), '--json'], {
      onLine: (line) => {
        if (line.type === 'status' && line.status === 'running') pid = line.pid as number;
        if (line.type === 'checkpoint' && pid) process.kill(pid, 'SIGKILL');
      },
    });
    assert.equal(second.code, 1);
    const b = (second.lines.at(-1)!.run as { id: number }).id;
    withStore((store) => {
      const run = store.runs.require(b);
      assert.equal(run.status, 'interrupted');
      assert.equal(run.resumedFrom, a);
      assert.match(run.statusMessage ?? '', /The worker process was killed by SIGKILL/);
      assert.deepEqual(store.metrics.series(b).val_accuracy?.epochs, [1]);
    });

    // 3. `effnet runs resume` finishes the interrupted run as a new run from its checkpoint.
    const third = await cli(['runs', 'resume', String(b), '--json']);
    assert.equal(third.code, 0, third.stderr);
    const started = third.lines.find((line) => line.type === 'started')!;
    assert.equal((started.details as { resumedAt?: { epoch: number } }).resumedAt?.epoch, 2);
    assert.deepEqual(
      third.lines.filter((line) => line.type === 'epoch').map((line) => line.epoch),
      [2],
    );
    const c = (third.lines.at(-1)!.run as { id: number }).id;
    const shown = await cli(['runs', 'show', String(c), '--json']);
    const run = JSON.parse(shown.stdout) as {
      status: string;
      resumedFrom: number;
      epochsDone: number;
      lineage: { id: number }[];
      metrics: Record<string, { epochs: number[] }>;
    };
    assert.equal(run.status, 'completed');
    assert.equal(run.resumedFrom, b);
    assert.deepEqual(
      run.lineage.map((one) => one.id),
      [b, a],
    );
    assert.deepEqual(run.metrics.val_accuracy?.epochs, [1, 2], 'epoch 1 (from the checkpoint) and epoch 2 (trained here)');
    assert.equal(run.epochsDone, 2);
  });
});
