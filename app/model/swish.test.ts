import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createRandom } from '../common/random.ts';
import { registerEffnetLayers } from './layers.ts';
import { swish } from './swish.ts';

// swish.ts replaces tfjs-layers' 'swish' for speed; it must compute exactly what it replaces: the
// forward bit for bit, and the gradient bit for bit against tfjs autodiff over tfjs-layers' own
// formula, mul(sigmoid(mul(x, alpha)), x) (node_modules/@tensorflow/tfjs-layers/dist/activations.js).
// wasm: app/backend/wasm-kernels/swish.test.ts.

const composed = (x: tf.Tensor) => tf.mul(tf.sigmoid(tf.mul(x, 1)), x);

const SHAPES = [[1], [7], [4, 9], [2, 5, 3, 7], [3, 4, 4, 16]];

/** Uniform in ±8, with the edges sigmoid saturates or is exactly ½ at spliced in. */
function values(shape: number[], seed: number): Float32Array {
  const random = createRandom(seed);
  const edges = [0, -0, 40, -40, 100, -100, 1e-30, -3.5];
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) =>
    i % 5 === 4 ? edges[i % edges.length]! : random() * 16 - 8,
  );
}

/** value and d(Σ w·f(x))/dx, so dy is not all ones. */
function valueAndGradient(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, w: tf.Tensor): { y: Float32Array; dx: Float32Array } {
  return tf.tidy(() => ({
    y: f(x).dataSync() as Float32Array,
    dx: tf
      .grad((input: tf.Tensor) => tf.sum(tf.mul(f(input), w)))(x)
      .dataSync() as Float32Array,
  }));
}

before(() => {
  tf.setBackend('cpu');
  registerEffnetLayers();
});

for (const [index, shape] of SHAPES.entries()) {
  test(`swish of [${shape}] on cpu: forward and gradient bit-identical to tfjs-layers' composition`, () => {
    const [x, w] = [tf.tensor(values(shape, 10 + index), shape), tf.tensor(values(shape, 90 + index), shape)];
    const expected = valueAndGradient(composed, x, w);
    const actual = valueAndGradient(swish, x, w);
    assert.deepEqual(actual.y, expected.y);
    assert.deepEqual(actual.dx, expected.dx);
    assert.ok(actual.dx.some((v) => v !== 0));
    tf.dispose([x, w]);
  });
}

test("the 'swish' activation name (Activation and Conv2D layers) uses swish.ts and serializes as 'swish'", async () => {
  const shape = [2, 5, 5, 3];
  const [x, w] = [tf.tensor(values(shape, 7), shape), tf.tensor(values([2, 5, 5, 4], 8), [2, 5, 5, 4])];
  const activation = tf.layers.activation({ activation: 'swish' });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'swish', biasInitializer: 'glorotNormal' });
  conv.apply(x);
  const [kernel, bias] = conv.getWeights() as [tf.Tensor4D, tf.Tensor1D];
  assert.equal(activation.getConfig().activation, 'swish');
  // tfjs-layers' own swish multiplies twice (x·1, then by x); swish.ts once.
  const multiplies = async (layer: tf.layers.Layer) =>
    (await tf.profile(() => layer.apply(x) as tf.Tensor)).kernels.filter((k) => k.name === 'Multiply').length;
  assert.equal(await multiplies(activation), 1);
  assert.equal(await multiplies(conv), 1);
  assert.equal(conv.getConfig().activation, 'swish');
  const upstream = tf.tensor(values(shape, 9), shape);
  assert.deepEqual(
    valueAndGradient((t) => activation.apply(t) as tf.Tensor, x, upstream),
    valueAndGradient(composed, x, upstream),
  );
  const viaConv = valueAndGradient((t) => conv.apply(t) as tf.Tensor, x, w);
  const reference = valueAndGradient((t) => composed(tf.add(tf.conv2d(t as tf.Tensor4D, kernel, 1, 'valid'), bias)), x, w);
  assert.deepEqual(viaConv, reference);
  // The replacement is tfjs-layers' Swish class under the same name, so a model's JSON is unchanged.
  const model = tf.sequential({ layers: [tf.layers.activation({ activation: 'swish', inputShape: [3] })] });
  const json = JSON.parse(JSON.stringify(model.toJSON(null, false))) as { config: { layers: { config: { activation: string } }[] } };
  assert.equal(json.config.layers[0]!.config.activation, 'swish');
  tf.dispose([x, w, upstream]);
  model.dispose();
});

test('swish leaves no tensors behind, forward or backward', () => {
  const x = tf.tensor(values([3, 4], 3), [3, 4]);
  const run = () =>
    tf.tidy(() =>
      tf
        .grad((t: tf.Tensor) => tf.sum(swish(t)))(x)
        .dataSync(),
    );
  run();
  const before = tf.memory().numTensors;
  run();
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
