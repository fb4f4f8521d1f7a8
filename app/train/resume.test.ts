import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { TrainConfigInput } from '../common/train-config.ts';
import type { TrainEvent } from '../common/train-types.ts';
import { loadModel } from '../model/model-format.ts';
import { train } from './train.ts';
import { temporaryFolder, testEnvironment, writeSyntheticDataset } from './test-support.ts';

// A 12-image dataset and a 7-block EfficientNet at 32 px: every step takes a fraction of a second on
// the cpu backend, and the run still has BatchNorm, dropout, stochastic depth and augmentation, the
// parts that make resuming exactly hard.
let folder: { dir: string; remove: () => Promise<void> };
let env: NodeJS.ProcessEnv;

before(async () => {
  folder = await temporaryFolder('effnet-resume-');
  await writeSyntheticDataset(path.join(folder.dir, 'data'), { perClass: 4, size: 36, seed: 3 });
  env = testEnvironment(path.join(folder.dir, 'home'));
});

after(() => folder.remove());

function config(overrides: Partial<TrainConfigInput> = {}): TrainConfigInput {
  return {
    dataset: { path: path.join(folder.dir, 'data'), validationSplit: 0.25 },
    mode: 'full',
    model: { variant: 'b0', width: 0.25, depth: 0.2, resolution: 32, weights: 'none', bnMomentum: 0.9 },
    epochs: 4,
    batchSize: 3,
    seed: 11,
    labelSmoothing: 0.1,
    classWeights: 'balanced',
    schedule: { warmupEpochs: 1 },
    data: { workers: 0 },
    ...overrides,
  };
}

async function weightsOf(dir: string): Promise<Map<string, Float32Array>> {
  const { model } = await loadModel(dir);
  const values = new Map(model.weights.map((weight) => [weight.originalName, weight.read().dataSync() as Float32Array]));
  model.dispose();
  return values;
}

function maxDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let worst = 0;
  for (const [name, values] of a) {
    const other = b.get(name)!;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! - other[i]!));
  }
  return worst;
}

test('4 epochs straight equal 2 epochs, a cancel mid-epoch, and a resume; tensors stay flat across epochs', async () => {
  const started = performance.now();
  const straightDir = path.join(folder.dir, 'straight');
  const tensorsAtEpoch = new Map<number, number>();
  const straight = await train(
    config(),
    {
      onEvent: (event) => {
        if (event.type === 'epoch') tensorsAtEpoch.set(event.epoch, tf.memory().numTensors);
      },
    },
    { runDir: straightDir, env },
  );
  assert.equal(straight.status, 'completed');
  assert.equal(straight.epochsDone, 4);
  // The optimizer's slots exist from the first step on; after that nothing may accumulate.
  assert.equal(tensorsAtEpoch.get(4), tensorsAtEpoch.get(2), `tensors by epoch: ${JSON.stringify([...tensorsAtEpoch])}`);

  // Cancel after the first step of epoch 2: the run must stop after that step and checkpoint it.
  const firstDir = path.join(folder.dir, 'first-half');
  const controller = new AbortController();
  const checkpoints: Extract<TrainEvent, { type: 'checkpoint' }>[] = [];
  const interrupted = await train(
    config(),
    {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'progress' && event.phase === 'train' && event.epoch === 2 && event.step === 1) controller.abort();
        if (event.type === 'checkpoint') checkpoints.push(event);
      },
    },
    { runDir: firstDir, env },
  );
  assert.equal(interrupted.status, 'cancelled');
  assert.equal(interrupted.modelDir, null);
  assert.deepEqual(
    checkpoints.map((c) => [c.epoch, c.step, c.best]),
    [
      [1, 3, false],
      [1, 3, true],
      [2, 1, false],
    ],
  );
  assert.equal(interrupted.globalSteps, 4);

  const resumedEvents: TrainEvent[] = [];
  const resumed = await train(
    config(),
    { onEvent: (event) => resumedEvents.push(event) },
    { runDir: path.join(folder.dir, 'second-half'), resumeFrom: firstDir, env },
  );
  assert.equal(resumed.status, 'completed');
  const startedEvent = resumedEvents.find((event) => event.type === 'started');
  assert.deepEqual(startedEvent?.type === 'started' ? startedEvent.resumedAt : null, { epoch: 2, step: 1 });
  const firstProgress = resumedEvents.find((event) => event.type === 'progress' && event.phase === 'train');
  assert.equal(firstProgress?.type === 'progress' ? firstProgress.globalStep : null, 5, 'the resumed run starts with the 5th step');

  // Same learning-rate schedule position, optimizer state, data order, augmentation and dropout
  // masks: on the deterministic cpu backend the weights agree to the last bit.
  const difference = maxDifference(
    await weightsOf(straight.lastCheckpoint! + '/model'),
    await weightsOf(resumed.lastCheckpoint! + '/model'),
  );
  assert.ok(difference <= 1e-6, `final weights differ by ${difference}`);
  assert.deepEqual(
    resumed.history.map((record) => ({ ...record.metrics, epoch_seconds: 0 })),
    straight.history.map((record) => ({ ...record.metrics, epoch_seconds: 0 })),
    'every epoch, including the interrupted one, reports the same metrics',
  );
  assert.deepEqual(resumed.best, straight.best);
  console.log(
    `resume test: ${((performance.now() - started) / 1000).toFixed(1)} s, tensors by epoch ${JSON.stringify([...tensorsAtEpoch])}, max weight difference ${difference}`,
  );
});

test('N micro-batches per step equal one batch of N×size (no BatchNorm updates, no dropout)', async () => {
  // finetune keeps every BatchNorm in inference mode; with dropout, stochastic depth and augmentation
  // off, nothing depends on how a step's images are split into forward passes.
  const common = {
    mode: 'finetune' as const,
    unfreezeBlocks: 16,
    model: { variant: 'b0', width: 0.25, depth: 0.2, resolution: 32, weights: 'none' as const, dropout: 0, dropConnectRate: 0 },
    augment: null,
    epochs: 2,
    optimizer: { name: 'sgd' as const, learningRate: 0.5 },
    labelSmoothing: 0,
    classWeights: 'none' as const,
    schedule: { name: 'constant' as const },
  };
  const initial = await train(
    config({ ...common, epochs: 1, optimizer: { name: 'sgd', learningRate: 1e-12 } }),
    { onEvent: () => {} },
    { runDir: path.join(folder.dir, 'initial'), env },
  );
  const big = await train(config({ ...common, batchSize: 4 }), { onEvent: () => {} }, { runDir: path.join(folder.dir, 'big'), env });
  const micro = await train(
    config({ ...common, batchSize: 2, accumulationSteps: 2 }),
    { onEvent: () => {} },
    { runDir: path.join(folder.dir, 'micro'), env },
  );
  const start = await weightsOf(initial.modelDir!);
  const a = await weightsOf(big.modelDir!);
  const b = await weightsOf(micro.modelDir!);
  // Compare the updates, not the weights: they are what accumulation could get wrong.
  let largest = 0;
  let mismatch = 0;
  for (const [name, before] of start) {
    const [x, y] = [a.get(name)!, b.get(name)!];
    for (let i = 0; i < before.length; i++) {
      largest = Math.max(largest, Math.abs(x[i]! - before[i]!));
      mismatch = Math.max(mismatch, Math.abs(x[i]! - y[i]!));
    }
  }
  assert.ok(largest > 1e-3, `the runs must have moved the weights (largest update ${largest})`);
  assert.ok(
    mismatch <= 1e-5 * Math.max(1, largest),
    `accumulated and single-batch updates differ by ${mismatch} (largest update ${largest})`,
  );
  console.log(`accumulation: largest update ${largest}, difference ${mismatch}`);
});
