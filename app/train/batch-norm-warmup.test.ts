import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { batchNormWarmup, warmupMomentum } from './batch-norm-warmup.ts';

test('the warm-up momentum is a running mean, capped by the target', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 9, 10, 1000].map((update) => warmupMomentum(update, 0.9)),
    [0, 0.5, 2 / 3, 0.75, 0.9, 0.9, 0.9],
  );
});

test('with the warm-up the moving mean is the exact mean of the batches seen, whatever it started at', async () => {
  await tf.setBackend('cpu');
  const input = tf.input({ shape: [1, 1, 2] });
  const layer = tf.layers.batchNormalization({ axis: 3, momentum: 0.99 });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  const update = batchNormWarmup(model, 0.9);
  const batchMeans = [
    [4, -2],
    [6, 0],
    [2, 5],
  ];
  batchMeans.forEach(([a, b], index) => {
    update(index);
    // Two images whose mean is (a, b).
    tf.tidy(() => model.apply(tf.tensor4d([a! - 1, b! + 1, a! + 1, b! - 1], [2, 1, 1, 2]), { training: true }) as tf.Tensor);
  });
  const movingMean = Array.from(await layer.getWeights()[2]!.data());
  assert.deepEqual(
    movingMean.map((value) => Number(value.toFixed(5))),
    [4, 1],
  );
});
