import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createRandom } from '../../common/random.ts';
import { initBackend } from '../ladder.ts';
import { registerWasmTrainingKernels, wasmFastCalls } from './index.ts';

// The package kernels replaced on wasm for speed (index.ts WRAPPED): every case must match the cpu
// backend, and must take the fast path it is listed under (or, with `fast: null`, the package's own
// kernel), so a case cannot pass by quietly falling back.

type Case = { name: string; shapes: number[][]; run: (...x: tf.Tensor[]) => tf.Tensor; fast: string | null };

const CASES: Case[] = [
  { name: 'tile a channel vector to NHWC', shapes: [[1, 1, 1, 5]], run: (x) => tf.tile(x, [2, 3, 4, 1]), fast: 'Tile' },
  { name: 'tile every axis', shapes: [[2, 3, 2]], run: (x) => tf.tile(x, [3, 2, 2]), fast: 'Tile' },
  { name: 'tile a vector', shapes: [[4]], run: (x) => tf.tile(x, [5]), fast: 'Tile' },
  { name: 'tile int32', shapes: [[2, 3]], run: (x) => tf.tile(tf.cast(tf.mul(x, 10), 'int32'), [2, 3]), fast: 'Tile' },
  { name: 'sum over batch, height, width', shapes: [[3, 5, 4, 6]], run: (x) => tf.sum(x, [0, 1, 2]), fast: 'Sum' },
  // 23 channels take the 16-, 4- and 1-channel paths; 1600 rows of 3 take several row blocks.
  { name: 'sum over batch, height, width of 23 channels', shapes: [[2, 9, 7, 23]], run: (x) => tf.sum(x, [0, 1, 2]), fast: 'Sum' },
  { name: 'sum of 1600 rows of 3', shapes: [[1, 40, 40, 3]], run: (x) => tf.sum(x, [0, 1, 2]), fast: 'Sum' },
  { name: 'sum over height, width, keepDims', shapes: [[2, 5, 4, 6]], run: (x) => tf.sum(x, [1, 2], true), fast: 'Sum' },
  { name: 'sum over the last axis', shapes: [[3, 7]], run: (x) => tf.sum(x, -1), fast: null },
  { name: 'sum over non-adjacent axes', shapes: [[2, 3, 4, 5]], run: (x) => tf.sum(x, [0, 2]), fast: null },
  { name: 'sum of everything', shapes: [[4, 5]], run: (x) => tf.sum(x), fast: null },
  { name: 'mean over height, width (global pooling)', shapes: [[3, 6, 5, 20]], run: (x) => tf.mean(x, [1, 2]), fast: 'Mean' },
  { name: 'mean over batch, keepDims', shapes: [[4, 3, 2]], run: (x) => tf.mean(x, 0, true), fast: 'Mean' },
  {
    name: 'batch norm with every parameter, 7 channels',
    shapes: [[2, 5, 3, 7], [7], [7], [7], [7]],
    run: (x, m, v, o, s) => tf.batchNorm(x!, m!, tf.add(tf.abs(v!), 0.5), o, s, 1e-3),
    fast: 'FusedBatchNorm',
  },
  {
    name: 'batch norm without scale or offset, [1, 1, 1, C] statistics',
    shapes: [
      [3, 4, 4, 16],
      [1, 1, 1, 16],
      [1, 1, 1, 16],
    ],
    run: (x, m, v) => tf.batchNorm(x!, m!, tf.add(tf.abs(v!), 0.5), undefined, undefined, 1e-3),
    fast: 'FusedBatchNorm',
  },
  {
    name: 'batch norm of a rank-2 input',
    shapes: [[6, 5], [5], [5], [5], [5]],
    run: (x, m, v, o, s) => tf.batchNorm(x!, m!, tf.add(tf.abs(v!), 0.5), o, s, 1e-3),
    fast: 'FusedBatchNorm',
  },
  {
    name: 'batch norm with full-shape statistics',
    shapes: [
      [2, 3, 4],
      [2, 3, 4],
      [2, 3, 4],
    ],
    run: (x, m, v) => tf.batchNorm(x!, m!, tf.add(tf.abs(v!), 0.5)),
    fast: null,
  },
  { name: 'slice of a padding gradient', shapes: [[4, 9, 9, 5]], run: (x) => tf.slice(x, [0, 0, 0, 0], [4, 8, 8, 5]), fast: 'Slice' },
  { name: 'slice from an offset, to the end', shapes: [[4, 9, 9, 5]], run: (x) => tf.slice(x, [1, 1, 1, 1], [2, -1, 3, 2]), fast: 'Slice' },
  { name: 'slice of a vector', shapes: [[6]], run: (x) => tf.slice(x, [2], [3]), fast: 'Slice' },
  { name: 'slice of rank 5', shapes: [[2, 3, 4, 5, 6]], run: (x) => tf.slice(x, [1, 0, 1, 2, 0], [1, 3, 2, 2, 6]), fast: 'Slice' },
  { name: 'slice of int32', shapes: [[3, 4]], run: (x) => tf.slice(tf.cast(tf.mul(x, 10), 'int32'), [1, 1], [2, 2]), fast: 'Slice' },
  { name: 'slice of bool', shapes: [[3, 5]], run: (x) => tf.slice(tf.greater(x, 0), [0, 1], [3, 3]), fast: 'Slice' },
  { name: 'cast float32 to float32', shapes: [[3, 4]], run: (x) => tf.cast(x, 'float32'), fast: 'Cast' },
  { name: 'cast float32 to int32', shapes: [[3, 4]], run: (x) => tf.cast(tf.mul(x, 10), 'int32'), fast: null },
];

function values(shape: number[], seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1);
}

before(async () => {
  await initBackend({ env: { EFFNET_BACKEND: 'wasm' } });
  registerWasmTrainingKernels();
});

for (const [index, c] of CASES.entries()) {
  test(`${c.name}: wasm matches cpu${c.fast ? ` on the fast ${c.fast}` : ' on the package kernel'}`, () => {
    const inputs = c.shapes.map((shape, k) => values(shape, 500 + 10 * index + k));
    const on = (backend: string) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const y = c.run(...inputs.map((v, k) => tf.tensor(v, c.shapes[k])));
        return { shape: y.shape, dtype: y.dtype, data: Array.from(y.dataSync()) };
      });
    };
    const expected = on('cpu');
    const calls = c.fast ? (wasmFastCalls().get(c.fast) ?? 0) : 0;
    const actual = on('wasm');
    if (c.fast) assert.ok((wasmFastCalls().get(c.fast) ?? 0) > calls, `${c.fast} did not take its fast path`);
    assert.deepEqual([actual.shape, actual.dtype], [expected.shape, expected.dtype]);
    actual.data.forEach((v, i) =>
      assert.ok(
        Math.abs(v - expected.data[i]!) <= 1e-5 * Math.max(1, Math.abs(expected.data[i]!)),
        `element ${i}: ${v} vs ${expected.data[i]}`,
      ),
    );
  });
}

test('a clone or same-dtype cast on wasm shares the buffer and outlives its source', () => {
  tf.setBackend('wasm');
  for (const copyOf of [tf.clone, (t: tf.Tensor) => tf.cast(t, 'float32')]) {
    const source = tf.tensor1d([1, 2, 3]);
    const copy = copyOf(source);
    source.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3]);
    const variable = tf.variable(copy);
    variable.assign(tf.tensor1d([4, 5, 6]));
    assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3], 'assigning to a variable made from the copy changed the copy');
    tf.dispose([copy, variable]);
  }
});

test('the fast paths leave no tensors or heap buffers behind', () => {
  tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { dataIdMap: { numDataIds(): number } };
  const run = () => {
    for (const [index, c] of CASES.entries())
      tf.tidy(() => c.run(...c.shapes.map((shape, k) => tf.tensor(values(shape, index + k), shape))).dataSync());
  };
  run();
  const tensors = tf.memory().numTensors;
  const buffers = backend.dataIdMap.numDataIds();
  run();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend.dataIdMap.numDataIds(), buffers);
});
