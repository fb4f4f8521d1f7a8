/**
 * Training from scratch with the DEFAULT recipe learns: only what a new user sets on the command
 * line (variant, mode, weights, epochs, image size) is given. Before the defaults were fixed this
 * stayed at chance (BatchNorm moving averages at Keras' 0.99 had not settled after a few dozen
 * steps, the classifier started confidently wrong, and 8 % crops of small images hid the object).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { effectiveBatchNormMomentum, parseTrainConfig, scratchBatchNormMomentum } from '../common/train-config.ts';
import type { TrainEvent } from '../common/train-types.ts';
import { temporaryFolder, testEnvironment, writeSyntheticDataset } from './test-support.ts';
import { train } from './train.ts';

test('scratchBatchNormMomentum settles the moving averages within an epoch, between 0.9 and 0.99', () => {
  const cases: [microBatches: number, momentum: number][] = [
    [1, 0.9],
    [2, 0.9],
    [7, 0.9],
    [20, 0.9],
    [44, 0.901],
    [100, 0.955],
    [459, 0.99],
    [100000, 0.99],
  ];
  for (const [microBatches, momentum] of cases) {
    const actual = scratchBatchNormMomentum(microBatches);
    assert.equal(actual, momentum, `${microBatches} micro-batches`);
    // What is left of the initial mean 0 / variance 1 after one epoch: at most 1 % unless clamped at 0.99.
    if (momentum > 0.9 && momentum < 0.99) assert.ok(actual ** microBatches < 0.011, `${microBatches}: ${actual ** microBatches}`);
  }
});

test('effectiveBatchNormMomentum: derived only for full mode from random weights, never over a configured value', () => {
  const dataset = { path: '/data' };
  const table: [input: Record<string, unknown>, expected: number | undefined][] = [
    [{ mode: 'full', model: { weights: 'none' }, batchSize: 4 }, 0.944], // 320 images: 80 micro-batches
    [{ mode: 'full', model: { weights: 'none' }, batchSize: 16 }, 0.9], // 20 micro-batches: the floor
    [{ mode: 'full', model: { weights: 'none', bnMomentum: 0.97 }, batchSize: 16 }, 0.97],
    [{ mode: 'full', model: { weights: 'imagenet' }, batchSize: 16 }, undefined],
    [{ mode: 'finetune', model: { weights: 'none' }, batchSize: 16 }, undefined],
    [{ mode: 'full', model: { weights: 'none', initialModel: '/models/a' }, batchSize: 16 }, undefined],
  ];
  for (const [input, expected] of table) {
    assert.equal(effectiveBatchNormMomentum(parseTrainConfig({ dataset, ...input }), 320), expected, JSON.stringify(input));
  }
  assert.deepEqual(parseTrainConfig({ dataset }).augment?.crop.scale, [0.5, 1]);
});

test('full training from random weights with default options learns a 3-class dataset', async (t) => {
  const temp = await temporaryFolder('effnet-defaults-');
  t.after(temp.remove);
  const root = path.join(temp.dir, 'shapes');
  await writeSyntheticDataset(root, { perClass: 24, size: 40, seed: 1 });
  const events: TrainEvent[] = [];
  const summary = await train(
    // Only what `effnet train DATASET --variant phi:-4 --mode full --weights none --epochs 5 --image-size 32`
    // sets, plus a seed so the test is deterministic.
    { dataset: { path: root }, mode: 'full', model: { variant: 'phi:-4', weights: 'none', resolution: 32 }, epochs: 5, seed: 1 },
    { onEvent: (event) => events.push(event) },
    { runDir: path.join(temp.dir, 'run'), env: testEnvironment(path.join(temp.dir, 'home')) },
  );
  const history = summary.history.map(
    (epoch) => `${epoch.epoch}: ${epoch.metrics.accuracy?.toFixed(3)}/${epoch.metrics.val_accuracy?.toFixed(3)}`,
  );
  assert.equal(summary.status, 'completed');
  assert.ok(summary.best && summary.best.value >= 0.8, `best val_accuracy ${summary.best?.value} (chance 0.33); train/val ${history}`);
  assert.ok(
    events.some(
      (event) =>
        event.type === 'log' &&
        event.message === 'From random weights: learning rate 0.01, BatchNorm momentum 0.9 after a running average over the first steps.',
    ),
  );
});
