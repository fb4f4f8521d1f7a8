import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createRandom } from '../../common/random.ts';
import { initBackend } from '../ladder.ts';
import { registerWasmTrainingKernels } from './index.ts';

// Every case computes the gradients of a convolution with respect to its input and its filter on
// tfjs' reference `cpu` backend and on `wasm` with the kernels registered here; they must agree to
// float32 rounding. The tables cover what EfficientNet uses (3×3 and 5×5 depthwise, stride 1 and 2,
// 1×1 pointwise, the 3×3 stride-2 stem) and the rest of the list: 'same', 'valid' and explicit
// padding, odd and even sizes, batch > 1, and depthwise multipliers above 1 (the scatter path).

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
type Case = { x: [number, number, number, number]; w: [number, number, number, number]; stride: number | [number, number]; pad: Pad };

const DEPTHWISE: Case[] = [
  { x: [2, 8, 8, 4], w: [3, 3, 4, 1], stride: 1, pad: 'same' },
  { x: [2, 9, 9, 4], w: [3, 3, 4, 1], stride: 2, pad: 'same' },
  { x: [2, 10, 10, 3], w: [3, 3, 3, 1], stride: 2, pad: 'same' },
  { x: [1, 11, 11, 6], w: [5, 5, 6, 1], stride: 1, pad: 'same' },
  { x: [3, 12, 12, 5], w: [5, 5, 5, 1], stride: 2, pad: 'same' },
  { x: [2, 9, 10, 4], w: [3, 3, 4, 1], stride: 2, pad: 'valid' },
  // Keras' stride-2 layers: ZeroPadding2D (more at the bottom/right) then 'valid'.
  {
    x: [2, 8, 8, 4],
    w: [3, 3, 4, 1],
    stride: 2,
    pad: [
      [0, 0],
      [0, 1],
      [0, 1],
      [0, 0],
    ],
  },
  {
    x: [2, 7, 7, 4],
    w: [5, 5, 4, 1],
    stride: 2,
    pad: [
      [0, 0],
      [2, 2],
      [1, 2],
      [0, 0],
    ],
  },
  { x: [2, 8, 8, 3], w: [3, 3, 3, 2], stride: 1, pad: 'same' },
  { x: [1, 9, 9, 2], w: [5, 5, 2, 3], stride: 2, pad: 'valid' },
  // Channel counts that take every SIMD path: 16 at a time, then 4, then one (23 = 16 + 4 + 3).
  { x: [2, 7, 6, 23], w: [3, 3, 23, 1], stride: 1, pad: 'same' },
  { x: [3, 9, 8, 40], w: [5, 5, 40, 1], stride: 2, pad: 'same' },
  { x: [2, 6, 6, 16], w: [3, 3, 16, 1], stride: 2, pad: 'valid' },
];

const REGULAR: Case[] = [
  { x: [2, 6, 6, 8], w: [1, 1, 8, 16], stride: 1, pad: 'same' },
  { x: [3, 5, 7, 16], w: [1, 1, 16, 4], stride: 1, pad: 'valid' },
  { x: [2, 16, 16, 3], w: [3, 3, 3, 8], stride: 2, pad: 'same' },
  {
    x: [2, 15, 15, 3],
    w: [3, 3, 3, 8],
    stride: 2,
    pad: [
      [0, 0],
      [0, 1],
      [0, 1],
      [0, 0],
    ],
  },
  { x: [2, 9, 9, 5], w: [3, 3, 5, 6], stride: 1, pad: 'same' },
  { x: [1, 10, 11, 4], w: [5, 5, 4, 3], stride: 2, pad: 'valid' },
  {
    x: [2, 8, 8, 4],
    w: [5, 5, 4, 2],
    stride: 1,
    pad: [
      [0, 0],
      [2, 1],
      [1, 2],
      [0, 0],
    ],
  },
  { x: [2, 8, 8, 6], w: [1, 1, 6, 5], stride: 2, pad: 'valid' },
  // 1×1 as matrix products: tiles of 4×8, then 4 columns, 1 column, 1 row (13 = 4·3 + 1, 21 = 8·2 + 4 + 1),
  // several blocks of rows (1152 rows), several blocks of the summed channels (4096 in, 24 out).
  { x: [3, 5, 7, 13], w: [1, 1, 13, 21], stride: 1, pad: 'same' },
  { x: [3, 5, 7, 21], w: [1, 1, 21, 13], stride: 1, pad: 'valid' },
  { x: [2, 24, 24, 40], w: [1, 1, 40, 48], stride: 1, pad: 'same' },
  { x: [1, 2, 2, 4096], w: [1, 1, 4096, 24], stride: 1, pad: 'valid' },
  { x: [2, 7, 7, 8], w: [1, 1, 8, 16], stride: 2, pad: 'same' },
];

function values(shape: number[], seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1);
}

/** Gradients of Σ(conv(x, w) · g) for a fixed random g, so every output position matters differently. */
function gradients(backend: string, depthwise: boolean, c: Case, seed: number): { dx: Float32Array; dw: Float32Array } {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(values(c.x, seed), c.x);
    const w = tf.tensor4d(values(c.w, seed + 1), c.w);
    const conv = (a: tf.Tensor4D, b: tf.Tensor4D) =>
      depthwise ? tf.depthwiseConv2d(a, b, c.stride as [number, number], c.pad) : tf.conv2d(a, b, c.stride as [number, number], c.pad);
    const shape = conv(x, w).shape;
    const g = tf.tensor(values(shape, seed + 2), shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), g)))([x, w]);
    return { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length);
  let scale = 1e-6;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / scale);
  return worst;
}

before(async () => {
  await initBackend({ env: { EFFNET_BACKEND: 'wasm' } });
  registerWasmTrainingKernels();
});

for (const [kind, cases] of [
  ['depthwise', DEPTHWISE],
  ['conv2d', REGULAR],
] as const) {
  for (const [index, c] of cases.entries()) {
    test(`${kind} x${c.x} w${c.w} stride ${c.stride} pad ${JSON.stringify(c.pad)}: wasm gradients match cpu`, (t) => {
      const seed = 1000 * index + (kind === 'depthwise' ? 1 : 2);
      const expected = gradients('cpu', kind === 'depthwise', c, seed);
      const actual = gradients('wasm', kind === 'depthwise', c, seed);
      t.diagnostic(
        `max error relative to the largest gradient: dx ${maxRelativeError(actual.dx, expected.dx).toExponential(1)}, dw ${maxRelativeError(actual.dw, expected.dw).toExponential(1)}`,
      );
      assert.ok(maxRelativeError(actual.dx, expected.dx) < 1e-5, `dx differs by ${maxRelativeError(actual.dx, expected.dx)}`);
      assert.ok(maxRelativeError(actual.dw, expected.dw) < 1e-5, `dw differs by ${maxRelativeError(actual.dw, expected.dw)}`);
    });
  }
}

test('the wasm gradient kernels leave no tensors or heap buffers behind', () => {
  tf.setBackend('wasm');
  const c = REGULAR[2]!;
  const all = () => {
    for (const pointwise of [c, REGULAR[0]!]) gradients('wasm', false, pointwise, 7);
    for (const depthwise of [DEPTHWISE[1]!, DEPTHWISE[8]!]) gradients('wasm', true, depthwise, 7);
  };
  all();
  const before = tf.memory().numTensors;
  const backend = tf.backend() as unknown as { dataIdMap: { numDataIds(): number } };
  const buffers = backend.dataIdMap.numDataIds();
  for (let i = 0; i < 3; i++) all();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(backend.dataIdMap.numDataIds(), buffers);
});
