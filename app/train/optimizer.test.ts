import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Optimizer, type OptimizerSettings, type TrainableWeight } from './optimizer.ts';

before(async () => {
  await tf.setBackend('cpu');
});

const BASE: OptimizerSettings = { name: 'adam', weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0.9, nesterov: false };
const START = [
  [0.5, -1.25, 2, 0.125],
  [0.3, -0.7],
];
const SHAPES = [[2, 2], [2]];
/** A fixed gradient sequence (per step, per weight). */
const GRADIENTS = Array.from({ length: 5 }, (_, step) => START.map((values) => values.map((v, i) => Math.sin(step * 3 + i + v * 7))));

function makeWeights(): TrainableWeight[] {
  return START.map((values, i) => ({
    name: `layer/w${i}`,
    variable: tf.variable(tf.tensor(values, SHAPES[i])),
    decay: SHAPES[i]!.length >= 2,
  }));
}

function run(settings: OptimizerSettings, steps: number, learningRate = 0.1): number[][] {
  const weights = makeWeights();
  const optimizer = new Optimizer(settings);
  for (let step = 0; step < steps; step++) {
    const grads = GRADIENTS[step]!.map((g, i) => tf.tensor(g, SHAPES[i]));
    optimizer.apply(weights, grads, learningRate);
    tf.dispose(grads);
  }
  const values = weights.map((w) => Array.from(w.variable.dataSync()));
  optimizer.dispose();
  tf.dispose(weights.map((w) => w.variable));
  return values;
}

/** The same gradient sequence through one of tfjs' own optimizers, an independent implementation. */
function runTfjs(optimizer: tf.Optimizer, steps: number): number[][] {
  const variables = START.map((values, i) => tf.variable(tf.tensor(values, SHAPES[i])));
  for (let step = 0; step < steps; step++) {
    const grads = Object.fromEntries(GRADIENTS[step]!.map((g, i) => [variables[i]!.name, tf.tensor(g, SHAPES[i])]));
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const values = variables.map((v) => Array.from(v.dataSync()));
  optimizer.dispose();
  tf.dispose(variables);
  return values;
}

function assertClose(actual: number[][], expected: number[][], tolerance = 1e-6): void {
  actual
    .flat()
    .forEach((value, i) => assert.ok(Math.abs(value - expected.flat()[i]!) <= tolerance, `value ${i}: ${value} vs ${expected.flat()[i]}`));
}

test('Adam matches tf.train.adam step for step', () => {
  // tfjs keeps β₂ᵗ as a float32 product (0.999 is 0.99900001 in float32), so its bias correction
  // 1 − β₂ᵗ is off by ~1e-5 relative; ours is computed in float64. Hence 2e-5, not 1e-6.
  assertClose(run(BASE, 5), runTfjs(tf.train.adam(0.1, 0.9, 0.999, 1e-7), 5), 2e-5);
});

test('SGD with momentum and with Nesterov momentum match tf.train.momentum', () => {
  assertClose(run({ ...BASE, name: 'sgd' }, 5), runTfjs(tf.train.momentum(0.1, 0.9), 5));
  assertClose(run({ ...BASE, name: 'sgd', nesterov: true }, 5), runTfjs(tf.train.momentum(0.1, 0.9, true), 5));
  assertClose(run({ ...BASE, name: 'sgd', momentum: 0 }, 5), runTfjs(tf.train.sgd(0.1), 5));
});

test('AdamW decays kernels by lr·λ·w outside the adaptive update; Adam adds λ·w to the gradient; vectors are not decayed', () => {
  const decay = 0.5;
  const plain = run(BASE, 1);
  const adamw = run({ ...BASE, name: 'adamw', weightDecay: decay }, 1);
  // First step: the adaptive part is identical, then w -= lr·λ·w0 for the kernel only.
  const expected = plain.map((values, i) => values.map((v, j) => (SHAPES[i]!.length >= 2 ? v - 0.1 * decay * START[i]![j]! : v)));
  assertClose(adamw, expected);
  // Coupled L2 changes the gradient, so Adam's normalised first step barely moves — but it must differ from AdamW.
  const adam = run({ ...BASE, weightDecay: decay }, 3);
  assert.notDeepEqual(adam, run({ ...BASE, name: 'adamw', weightDecay: decay }, 3));
  assert.deepEqual(adam[1], run(BASE, 3)[1], 'the bias vector is not decayed');
});

test('state saved after 2 steps and restored into a new optimizer continues exactly', async () => {
  for (const name of ['adam', 'adamw', 'sgd'] as const) {
    const settings = { ...BASE, name, weightDecay: 0.1 };
    const weights = makeWeights();
    const first = new Optimizer(settings);
    const step = (optimizer: Optimizer, index: number) => {
      const grads = GRADIENTS[index]!.map((g, i) => tf.tensor(g, SHAPES[i]));
      optimizer.apply(weights, grads, 0.05);
      tf.dispose(grads);
    };
    step(first, 0);
    step(first, 1);
    const state = await first.getState(weights);
    assert.equal(state.step, 2);
    assert.equal(state.slots.length, name === 'sgd' ? 2 : 4);
    first.dispose();
    const second = new Optimizer(settings);
    second.setState({ ...state, data: state.data.slice() }, weights, 'test');
    for (let i = 2; i < 5; i++) step(second, i);
    assertClose(
      weights.map((w) => Array.from(w.variable.dataSync())),
      run(settings, 5, 0.05),
      0,
    );
    second.dispose();
    tf.dispose(weights.map((w) => w.variable));
  }
});

test('restoring state for other weights or another optimizer is refused', async () => {
  const weights = makeWeights();
  const optimizer = new Optimizer(BASE);
  optimizer.apply(
    weights,
    GRADIENTS[0]!.map((g, i) => tf.tensor(g, SHAPES[i])),
    0.1,
  );
  const state = await optimizer.getState(weights);
  assert.throws(() => new Optimizer({ ...BASE, name: 'sgd' }).setState(state, weights, 'ckpt'), {
    code: 'checkpoint-mismatch',
    message: /ckpt holds adam optimizer state/,
  });
  const renamed = weights.map((w) => ({ ...w, name: `other/${w.name}` }));
  assert.throws(() => new Optimizer(BASE).setState(state, renamed, 'ckpt'), { code: 'checkpoint-mismatch', message: /slot layer\/w0\/m/ });
  optimizer.dispose();
});
