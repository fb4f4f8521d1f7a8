import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createRandom } from '../../common/random.ts';
import { initBackend } from '../ladder.ts';
import { registerWasmTrainingKernels, wasmFastCalls } from './index.ts';

// The Mean and Sum gradients installed by registerWasmTrainingKernels (gradients.ts) must give,
// bit for bit, what tfjs-core's own formula gives: dy reshaped, times ones(x.shape), divided by the
// reduced count for Mean. Each case differentiates Σ(reduce(x) · w) for a random w, on wasm and cpu.
// (Assertions about the cpu backend hold because the tfjs gradient registry is shared by backends.)

type Case = { op: 'mean' | 'sum'; shape: number[]; axis: number | number[] | undefined; keepDims: boolean };

const CASES: Case[] = [
  { op: 'mean', shape: [3, 5, 4, 6], axis: [0, 1, 2], keepDims: false }, // BatchNormalization's moments
  { op: 'mean', shape: [2, 7, 7, 12], axis: [1, 2], keepDims: true }, // squeeze-excite pooling
  { op: 'mean', shape: [4, 3], axis: -1, keepDims: false },
  { op: 'mean', shape: [2, 3, 4], axis: undefined, keepDims: false },
  { op: 'sum', shape: [4, 10], axis: 1, keepDims: false }, // the cross-entropy's sum over classes
  { op: 'sum', shape: [2, 3, 4, 5], axis: [0, 2], keepDims: true },
  { op: 'sum', shape: [5], axis: 0, keepDims: false },
];

function values(shape: number[], seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1);
}

/** tfjs-core 4.22's Mean/Sum gradient formula, written out. */
function reference(c: Case, w: tf.Tensor): tf.Tensor {
  const axes = c.axis === undefined ? c.shape.map((_, d) => d) : tf.util.parseAxisParam(c.axis, c.shape);
  const expanded = c.shape.map((size, d) => (axes.includes(d) ? 1 : size));
  const product = tf.mul(tf.reshape(w, expanded), tf.ones(c.shape, 'float32'));
  return c.op === 'sum'
    ? product
    : tf.div(
        product,
        axes.reduce((n, d) => n * c.shape[d]!, 1),
      );
}

before(async () => {
  await initBackend({ env: { EFFNET_BACKEND: 'wasm' } });
  registerWasmTrainingKernels();
});

for (const [index, c] of CASES.entries()) {
  test(`the gradient of ${c.op} over ${JSON.stringify(c.axis)} of ${c.shape} is tfjs' to the bit`, () => {
    const x = values(c.shape, 40 + index);
    for (const backend of ['wasm', 'cpu']) {
      tf.setBackend(backend);
      const tiles = wasmFastCalls().get('Tile') ?? 0;
      tf.tidy(() => {
        const reduce = c.op === 'mean' ? tf.mean : tf.sum;
        const outShape = reduce(tf.zeros(c.shape), c.axis, c.keepDims).shape;
        const w = tf.tensor(values(outShape, 90 + index), outShape);
        const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(reduce(input, c.axis, c.keepDims), w)))(tf.tensor(x, c.shape));
        assert.deepEqual(dx.shape, c.shape);
        assert.deepEqual(Array.from(dx.dataSync()), Array.from(reference(c, w).dataSync()), `on ${backend}`);
      });
      // The override is the one that ran: it broadcasts dy with a Tile, tfjs-core's with a Multiply.
      if (backend === 'wasm') assert.ok((wasmFastCalls().get('Tile') ?? 0) > tiles, 'the gradient did not tile dy');
    }
  });
}

// FusedBatchNorm's gradient (gradients.ts) against tfjs-core 4.22's formula, written out below, for
// statistics shaped [C] as Keras passes them; with statistics shaped [1, 1, 1, C] (which tfjs-core's
// formula does not reduce) it must give the same values, reshaped.

// Keras passes both scale (gamma) and offset (beta); tfjs 4.22 cannot differentiate a batch norm
// without them (it saves and walks the missing inputs), so every case has both.
const NORM_SHAPES: [number, number, number, number][] = [
  [2, 5, 4, 6],
  [3, 4, 4, 16],
  [1, 3, 3, 9],
];
const EPSILON = 1e-3;

/** tfjs-core 4.22's FusedBatchNorm gradient for rank-1 statistics: [dx, dmean, dvariance, dscale, doffset]. */
function normReference(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, scale: tf.Tensor, dy: tf.Tensor): tf.Tensor[] {
  const axes = [0, 1, 2];
  const scaleValue = scale;
  const centered = tf.sub(x, mean);
  const dyScaled = tf.mul(dy, scaleValue);
  const inverse = tf.rsqrt(tf.add(variance, tf.scalar(EPSILON)));
  const minusHalfCube = tf.mul(tf.mul(tf.mul(inverse, inverse), inverse), tf.scalar(-0.5));
  const tiled = tf.tile(tf.reshape(inverse, [1, 1, 1, mean.shape[0]!]), [...x.shape.slice(0, 3), 1]);
  return [
    tf.mul(tf.mul(dy, tiled), scaleValue),
    tf.sum(tf.mul(tf.mul(inverse, tf.scalar(-1)), dyScaled), axes),
    tf.sum(tf.mul(tf.mul(minusHalfCube, centered), dyScaled), axes),
    tf.sum(tf.mul(dy, tf.mul(centered, inverse)), axes),
    tf.sum(dy, axes),
  ];
}

function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  const [a, e] = [actual.dataSync(), expected.dataSync()];
  assert.equal(a.length, e.length, what);
  const scale = Math.max(1e-6, ...Array.from(e, Math.abs));
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - e[i]!) <= 1e-5 * scale, `${what}[${i}]: ${a[i]} vs ${e[i]}`);
}

for (const [index, shape] of NORM_SHAPES.entries()) {
  const channels = shape[3];
  test(`the batch norm gradient of ${shape} is tfjs' to float32 rounding`, () => {
    for (const backend of ['wasm', 'cpu']) {
      tf.setBackend(backend);
      tf.tidy(() => {
        const [x, dy] = [tf.tensor(values(shape, 7 + index), shape), tf.tensor(values(shape, 8 + index), shape)];
        const vector = (seed: number, shift = 0) => tf.add(tf.tensor1d(values([channels], seed)), shift);
        const inputs = [x, vector(11), tf.abs(vector(12, 0.2)), vector(13), vector(14)];
        const expected = normReference(x, inputs[1]!, inputs[2]!, inputs[3]!, dy);
        for (const statistics of [[channels], [1, 1, 1, channels]]) {
          const grads = tf.grads((...t: tf.Tensor[]) => {
            const [xs, m, v, s, o] = [t[0] as tf.Tensor4D, ...t.slice(1).map((p) => p.reshape(statistics))];
            return tf.sum(tf.mul(tf.batchNorm(xs, m!, v!, o, s, EPSILON), dy));
          })(inputs);
          grads.forEach((g, k) =>
            assertClose(
              g,
              expected[k]!,
              `${backend}, ${statistics.length}-d statistics, d${['x', 'mean', 'variance', 'scale', 'offset'][k]}`,
            ),
          );
        }
      });
    }
  });
}
