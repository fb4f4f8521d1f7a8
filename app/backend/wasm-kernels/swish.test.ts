import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createRandom } from '../../common/random.ts';
import { SWISH_GRADIENT_KERNEL, swish } from '../../model/swish.ts';
import { initBackend } from '../ladder.ts';
import { registerWasmTrainingKernels } from './index.ts';

// app/model/swish.ts on wasm: the gradient runs as one SIMD kernel (swish.ts, simd-swish-source.ts),
// and must be bit-identical to wasm's own kernels running tfjs-layers' composition under autodiff,
// and agree with cpu to float rounding (the backends' sigmoids differ in the last bits).

const composed = (x: tf.Tensor) => tf.mul(tf.sigmoid(tf.mul(x, 1)), x);

// Sizes 1 and 7 run only the scalar tail; 36, 630 and 768 the SIMD loop (with and without a tail).
const SHAPES = [[1], [7], [4, 9], [2, 5, 3, 7], [3, 4, 4, 16], [2, 56, 56, 24]];

function values(shape: number[], seed: number): Float32Array {
  const random = createRandom(seed);
  const edges = [0, -0, 40, -40, 100, -100, 1e-30, -3.5];
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) =>
    i % 5 === 4 ? edges[i % edges.length]! : random() * 16 - 8,
  );
}

function valueAndGradient(backend: string, f: (x: tf.Tensor) => tf.Tensor, shape: number[], seed: number) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const [x, w] = [tf.tensor(values(shape, seed), shape), tf.tensor(values(shape, seed + 1), shape)];
    return {
      y: f(x).dataSync() as Float32Array,
      dx: tf
        .grad((input: tf.Tensor) => tf.sum(tf.mul(f(input), w)))(x)
        .dataSync() as Float32Array,
    };
  });
}

before(async () => {
  await initBackend({ env: { EFFNET_BACKEND: 'wasm' } });
  registerWasmTrainingKernels();
});

for (const [index, shape] of SHAPES.entries()) {
  test(`swish of [${shape}] on wasm: bit-identical to the composition on wasm, close to cpu`, () => {
    const seed = 40 + 2 * index;
    const actual = valueAndGradient('wasm', swish, shape, seed);
    const expected = valueAndGradient('wasm', composed, shape, seed);
    assert.deepEqual(actual.y, expected.y);
    assert.deepEqual(actual.dx, expected.dx);
    const cpu = valueAndGradient('cpu', swish, shape, seed);
    for (const [name, a, b] of [['y', actual.y, cpu.y] as const, ['dx', actual.dx, cpu.dx] as const])
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-5 * Math.max(1, Math.abs(b[i]!)), `${name}[${i}]: wasm ${v}, cpu ${b[i]}`));
  });
}

test('on wasm the swish gradient is one kernel, and it leaves no tensors or heap buffers behind', async () => {
  tf.setBackend('wasm');
  const x = tf.tensor(values([3, 5, 5, 8], 1), [3, 5, 5, 8]);
  const run = () =>
    tf.tidy(() =>
      tf
        .grad((t: tf.Tensor) => tf.sum(swish(t)))(x)
        .dataSync(),
    );
  const { kernels } = await tf.profile(run);
  const names = kernels.map((k) => k.name);
  assert.ok(names.includes(SWISH_GRADIENT_KERNEL), `kernels: ${names.join(', ')}`);
  assert.equal(names.filter((n) => n === 'Multiply' || n === 'Sub' || n === 'Add').length, 1, `kernels: ${names.join(', ')}`);
  const backend = tf.backend() as unknown as { dataIdMap: { numDataIds(): number } };
  const [tensors, buffers] = [tf.memory().numTensors, backend.dataIdMap.numDataIds()];
  run();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend.dataIdMap.numDataIds(), buffers);
  x.dispose();
});
