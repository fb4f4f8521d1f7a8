import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { setLayerWeights, transposeData } from './assign.ts';

await tf.setBackend('cpu');

function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 2] });
  const conv = tf.layers.conv2d({ filters: 3, kernelSize: 1, useBias: true, name: 'conv' }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: conv, name: 'small' });
}

test('setLayerWeights writes the values in the layer’s order', () => {
  const model = smallModel();
  const kernel = Float32Array.from({ length: 6 }, (_, i) => i + 1);
  setLayerWeights(model, 'conv', [
    { shape: [1, 1, 2, 3], data: kernel },
    { shape: [3], data: new Float32Array([7, 8, 9]) },
  ]);
  const [k, b] = model.getLayer('conv').getWeights();
  assert.deepEqual(Array.from(k!.dataSync()), Array.from(kernel));
  assert.deepEqual(Array.from(b!.dataSync()), [7, 8, 9]);
});

const MISTAKES: [string, Parameters<typeof setLayerWeights>[1], Parameters<typeof setLayerWeights>[2], string, RegExp][] = [
  [
    'a wrong shape names the layer and both shapes',
    'conv',
    [
      { shape: [1, 1, 3, 2], data: new Float32Array(6) },
      { shape: [3], data: new Float32Array(3) },
    ],
    'weights-shape-mismatch',
    /Layer 'conv' weight 0 \(conv\/kernel\) has shape \[1, 1, 2, 3\] but the value has shape \[1, 1, 3, 2\]/,
  ],
  [
    'too few numbers for the shape',
    'conv',
    [
      { shape: [1, 1, 2, 3], data: new Float32Array(5) },
      { shape: [3], data: new Float32Array(3) },
    ],
    'weights-shape-mismatch',
    /with 5 numbers/,
  ],
  [
    'a wrong weight count',
    'conv',
    [{ shape: [1, 1, 2, 3], data: new Float32Array(6) }],
    'weights-count-mismatch',
    /has 2 weights .* but 1 were given/,
  ],
  ['an unknown layer', 'dense', [], 'weights-layer-missing', /Model 'small' has no layer named 'dense'/],
];
for (const [what, layer, values, code, message] of MISTAKES) {
  test(`setLayerWeights: ${what}`, () => {
    const model = smallModel();
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    assert.throws(
      () => setLayerWeights(model, layer, values),
      (error: unknown) => error instanceof AppError && error.code === code && message.test(error.message),
    );
    assert.deepEqual(
      model.getWeights().map((w) => Array.from(w.dataSync())),
      before,
    );
  });
}

for (const [shape, permutation] of [
  [
    [5, 3, 3, 2],
    [2, 3, 1, 0],
  ],
  [
    [6, 1, 5, 5],
    [2, 3, 0, 1],
  ],
  [
    [7, 11],
    [1, 0],
  ],
  [
    [2, 3, 4],
    [0, 1, 2],
  ],
] as [number[], number[]][]) {
  test(`transposeData matches tf.transpose for [${shape}] by [${permutation}]`, () => {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 0.5 - 3);
    const result = transposeData(data, shape, permutation);
    const expected = tf.transpose(tf.tensor(data, shape), permutation);
    assert.deepEqual(result.shape, expected.shape);
    assert.deepEqual(Array.from(result.data), Array.from(expected.dataSync()));
  });
}
