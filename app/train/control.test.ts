import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TrainConfigInput } from '../common/train-config.ts';
import type { TrainEvent } from '../common/train-types.ts';
import { readCheckpoint } from './checkpoint.ts';
import { train } from './train.ts';
import { temporaryFolder, testEnvironment, writeSyntheticDataset } from './test-support.ts';

// Run control through the public API, in head mode on a random backbone: its steps take
// milliseconds (embeddings are computed once), and its validation accuracy stays at chance, which
// is exactly what early stopping needs to see.
let folder: { dir: string; remove: () => Promise<void> };
let env: NodeJS.ProcessEnv;

before(async () => {
  folder = await temporaryFolder('effnet-control-');
  await writeSyntheticDataset(path.join(folder.dir, 'data'), { perClass: 4, size: 36, seed: 9 });
  env = testEnvironment(path.join(folder.dir, 'home'));
});

after(() => folder.remove());

function config(overrides: Partial<TrainConfigInput> = {}): TrainConfigInput {
  return {
    dataset: { path: path.join(folder.dir, 'data'), validationSplit: 0.25 },
    mode: 'head',
    model: { variant: 'b0', width: 0.25, depth: 0.2, resolution: 32, weights: 'none' },
    epochs: 3,
    batchSize: 3,
    seed: 4,
    data: { workers: 0 },
    ...overrides,
  };
}

test('the pause gate is awaited before every optimizer step, and no step runs while it holds', async () => {
  const events: string[] = [];
  let release: (() => void) | undefined;
  let gates = 0;
  const summary = await train(
    config(),
    {
      onEvent: (event) => {
        if (event.type === 'progress' && event.phase === 'train') events.push(`step ${event.globalStep}`);
      },
      pauseGate: () => {
        gates++;
        events.push('gate');
        if (gates !== 2) return Promise.resolve();
        // Hold the second step for a while; it must not start before the gate opens.
        return new Promise<void>((resolve) => {
          release = () => {
            events.push('released');
            resolve();
          };
          setTimeout(() => release!(), 150);
        });
      },
    },
    { runDir: path.join(folder.dir, 'paused'), env },
  );
  assert.equal(summary.status, 'completed');
  assert.equal(gates, summary.globalSteps);
  assert.deepEqual(events.slice(0, 5), ['gate', 'step 1', 'gate', 'released', 'step 2']);
});

test('a run with no improvement for `patience` epochs stops early and keeps the best epoch’s model', async () => {
  const events: TrainEvent[] = [];
  const summary = await train(
    config({ epochs: 8, monitor: 'val_loss', earlyStopping: { patience: 2, minDelta: 0.5 } }),
    { onEvent: (event) => events.push(event) },
    { runDir: path.join(folder.dir, 'early'), env },
  );
  assert.equal(summary.status, 'stopped-early');
  assert.equal(summary.epochsDone, 3, 'epoch 1 sets the reference; epochs 2 and 3 do not beat it by 0.5');
  assert.ok(summary.modelDir);
  assert.ok(events.some((event) => event.type === 'warning' && event.code === 'frozen-random-backbone'));
  const state = (await readCheckpoint(summary.lastCheckpoint!)).state;
  assert.equal(state.stoppedEarly, true);
  assert.equal(state.globalStep, 3 * state.stepsPerEpoch);
  const restored = events.find((event) => event.type === 'log' && event.message.startsWith('Final model: the best epoch'));
  assert.equal(Boolean(restored), summary.best!.epoch !== 3, 'the final model is the best epoch’s when that is not the last');
});

test('cancelling before the first step still leaves a resumable checkpoint; a bad config names its field', async () => {
  const controller = new AbortController();
  const summary = await train(
    config(),
    {
      signal: controller.signal,
      onEvent: () => {},
      pauseGate: async () => controller.abort(),
    },
    { runDir: path.join(folder.dir, 'cancelled'), env },
  );
  assert.equal(summary.status, 'cancelled');
  assert.equal(summary.globalSteps, 0);
  // A checkpoint at step 0 is still written, so a cancelled run can always be resumed.
  assert.deepEqual(await fs.readdir(path.join(folder.dir, 'cancelled', 'checkpoints')), ['last']);

  await assert.rejects(train({ ...config(), batchSize: 0 }, { onEvent: () => {} }, { runDir: path.join(folder.dir, 'bad'), env }), {
    code: 'train-config-invalid',
    message: /^Training config: batchSize: /,
  });
  await assert.rejects(
    train(
      config({ dataset: { path: path.join(folder.dir, 'missing') } }),
      { onEvent: () => {} },
      { runDir: path.join(folder.dir, 'bad'), env },
    ),
    {
      code: 'not-found',
    },
  );
});
