import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { makeSpec } from '../common/efficientnet/index.ts';
import type { TrainMode } from '../common/train-config.ts';
import { buildEfficientNet } from '../model/builder.ts';
import { applyFreezePlan, blockNames, forceInference, trainableWeights } from './freeze.ts';
import { Optimizer } from './optimizer.ts';
import { GradientAccumulator } from './step.ts';

before(async () => {
  await tf.setBackend('cpu');
});

const SPEC = makeSpec('b0', { width: 0.25, depth: 0.2, resolution: 32, numClasses: 3, dropout: 0, dropConnectRate: 0 });

function movingStatistics(model: tf.LayersModel): Float32Array[] {
  return model.layers
    .filter((layer) => layer.getClassName() === 'BatchNormalization')
    .flatMap((layer) =>
      layer.weights.filter((w) => /moving_(mean|variance)/.test(w.originalName)).map((w) => w.read().dataSync() as Float32Array),
    );
}

function changed(before: Float32Array[], after: Float32Array[]): number {
  return before.filter((values, i) => values.some((v, j) => v !== after[i]![j])).length;
}

test('tfjs BatchNormalization with trainable=false still updates its moving statistics in a training call; forceInference stops that', () => {
  const layer = tf.layers.batchNormalization({ momentum: 0.5 });
  const x = tf.randomNormal([8, 4], 3, 2, 'float32', 1);
  layer.apply(x); // build
  layer.trainable = false;
  const mean = () => layer.getWeights()[2]!.dataSync().slice();
  const start = mean();
  tf.tidy(() => {
    layer.apply(x, { training: true });
  });
  const afterPlainFreeze = mean();
  assert.ok(
    afterPlainFreeze.some((v, i) => v !== start[i]),
    'tfjs ignores trainable=false here (unlike Keras 2+): the moving mean moved',
  );

  forceInference(layer);
  const output = tf.tidy(() => layer.apply(x, { training: true }) as tf.Tensor);
  assert.deepEqual(mean(), afterPlainFreeze, 'a forced-inference BatchNorm keeps its moving mean');
  // …and normalises with the moving statistics, exactly as in inference.
  const inference = tf.tidy(() => layer.apply(x, { training: false }) as tf.Tensor);
  assert.deepEqual(output.dataSync(), inference.dataSync());
  tf.dispose([x, output, inference]);
  layer.dispose();
});

const PLANS: { mode: TrainMode; unfreeze: number; expect: (model: tf.LayersModel, blocks: string[]) => string[] }[] = [
  { mode: 'head', unfreeze: 3, expect: () => ['predictions'] },
  {
    mode: 'finetune',
    unfreeze: 2,
    expect: (model, blocks) =>
      model.layers
        .filter((l) => l.getClassName() !== 'BatchNormalization' && l.weights.length > 0)
        .map((l) => l.name)
        .filter((name) => blocks.slice(-2).some((b) => name.startsWith(`${b}_`)) || name === 'top_conv' || name === 'predictions'),
  },
  {
    mode: 'full',
    unfreeze: 3,
    // Everything with weights except the input Normalization, whose mean/variance are never trained.
    expect: (model) => model.layers.filter((l) => l.weights.length > 0 && l.name !== 'normalization').map((l) => l.name),
  },
];

for (const { mode, unfreeze, expect } of PLANS) {
  test(`${mode} mode trains exactly its layers, and only full mode moves BatchNorm statistics`, () => {
    const model = buildEfficientNet(SPEC);
    const blocks = blockNames(model);
    assert.deepEqual(blocks, ['block1a', 'block2a', 'block3a', 'block4a', 'block5a', 'block6a', 'block7a']);
    const plan = applyFreezePlan(model, mode, unfreeze);
    assert.deepEqual(plan.trainableLayers, expect(model, blocks));
    assert.equal(plan.inferenceBatchNorms.length, mode === 'full' ? 0 : 22);

    const weights = trainableWeights(model);
    assert.ok(weights.every((w) => w.decay === w.variable.shape.length >= 2));
    const trainedBefore = weights.map((w) => w.variable.dataSync().slice());
    const statistics = movingStatistics(model);
    const frozen = model.weights.filter((w) => !w.trainable && !/moving_/.test(w.originalName)).map((w) => w.read().dataSync().slice());

    const accumulator = new GradientAccumulator(weights, { numClasses: 3, labelSmoothing: 0, classWeights: null, probabilities: true });
    // Adam's first step moves every weight with a non-zero gradient by about the learning rate, however
    // small the gradient (random weights with BatchNorm in inference mode make them tiny).
    const optimizer = new Optimizer({
      name: 'adam',
      weightDecay: 0,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-30,
      momentum: 0,
      nesterov: false,
    });
    const x = tf.randomUniform([4, 32, 32, 3], 0, 255, 'float32', 2);
    const labels = tf.tensor1d([0, 1, 2, 0], 'int32');
    accumulator.add((input) => model.apply(input, { training: true }) as tf.Tensor, x, labels);
    accumulator.apply(optimizer, 0.01);
    tf.dispose([x, labels]);

    assert.ok(
      weights.every((w, i) => w.variable.dataSync().some((v, j) => v !== trainedBefore[i]![j])),
      'every trainable weight moved',
    );
    const frozenAfter = model.weights.filter((w) => !w.trainable && !/moving_/.test(w.originalName)).map((w) => w.read().dataSync());
    assert.deepEqual(frozenAfter, frozen, 'frozen weights did not move');
    const moved = changed(statistics, movingStatistics(model));
    if (mode === 'full') assert.equal(moved, statistics.length, 'full mode updates every moving mean and variance');
    else assert.equal(moved, 0, `${mode} mode keeps every moving statistic`);
    optimizer.dispose();
    model.dispose();
  });
}
