import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { perImageLoss, resolveClassWeights } from './losses.ts';
import { MetricAccumulator } from './metrics.ts';

before(async () => {
  await tf.setBackend('cpu');
});

const LABELS = ['cat', 'dog', 'fox'];
// Six images: rows of probabilities and their true classes.
const PROBABILITIES = [
  [0.7, 0.2, 0.1], // cat → cat
  [0.1, 0.6, 0.3], // cat → dog (cat is last: not in the top 2)
  [0.2, 0.5, 0.3], // dog → dog
  [0.3, 0.3, 0.4], // dog → fox (a tie for second place counts as in the top 2)
  [0.1, 0.1, 0.8], // fox → fox
  [0.5, 0.4, 0.1], // fox → cat (fox is last: not in the top 2)
];
const TRUTH = [0, 0, 1, 1, 2, 2];

test('accuracy, top-k, confusion matrix and per-class precision/recall/F1 from predictions', () => {
  const accumulator = new MetricAccumulator(LABELS, 2);
  // Two batches, to check that accumulation across batches is the same as one pass.
  accumulator.add(PROBABILITIES.slice(0, 4).flat(), TRUTH.slice(0, 4), [1, 2, 3, 4]);
  const predicted = accumulator.add(PROBABILITIES.slice(4).flat(), TRUTH.slice(4), [5, 6]);
  assert.deepEqual([...predicted], [2, 0]);
  const result = accumulator.result();
  assert.deepEqual(result.confusion.matrix, [
    [1, 1, 0],
    [0, 1, 1],
    [1, 0, 1],
  ]);
  assert.equal(result.accuracy, 3 / 6);
  assert.equal(result.topK, 2);
  assert.equal(result.topKAccuracy, 4 / 6);
  assert.equal(result.loss, 21 / 6);
  const expected = [
    { label: 'cat', precision: 1 / 2, recall: 1 / 2, f1: 1 / 2, support: 2 },
    { label: 'dog', precision: 1 / 2, recall: 1 / 2, f1: 1 / 2, support: 2 },
    { label: 'fox', precision: 1 / 2, recall: 1 / 2, f1: 1 / 2, support: 2 },
  ];
  assert.deepEqual(result.perClass, expected);
  assert.equal(result.macroF1, 0.5);
});

test('a class never predicted has precision 0, and one with no images has recall 0, without NaN', () => {
  const accumulator = new MetricAccumulator(LABELS);
  accumulator.add([0.9, 0.05, 0.05, 0.8, 0.1, 0.1], [0, 1]);
  const [cat, dog, fox] = accumulator.result().perClass;
  assert.deepEqual(cat, { label: 'cat', precision: 0.5, recall: 1, f1: 2 / 3, support: 1 });
  assert.deepEqual(dog, { label: 'dog', precision: 0, recall: 0, f1: 0, support: 1 });
  assert.deepEqual(fox, { label: 'fox', precision: 0, recall: 0, f1: 0, support: 0 });
  assert.equal(accumulator.result().topKAccuracy, 1, 'top-5 of 3 classes always hits');
});

const LOSS_CASES = [
  { name: 'plain cross-entropy', smoothing: 0, weights: null, expected: [-Math.log(0.7), -Math.log(0.5)] },
  {
    name: 'label smoothing 0.3: targets 0.8/0.1/0.1',
    smoothing: 0.3,
    weights: null,
    expected: [
      -(0.8 * Math.log(0.7) + 0.1 * Math.log(0.2) + 0.1 * Math.log(0.1)),
      -(0.1 * Math.log(0.2) + 0.8 * Math.log(0.5) + 0.1 * Math.log(0.3)),
    ],
  },
  {
    name: 'class weights multiply each image by its class weight',
    smoothing: 0,
    weights: [2, 0.5, 1],
    expected: [-2 * Math.log(0.7), -0.5 * Math.log(0.5)],
  },
];

for (const { name, smoothing, weights, expected } of LOSS_CASES) {
  test(`per-image loss: ${name}`, () => {
    const output = tf.tensor2d([PROBABILITIES[0]!, PROBABILITIES[2]!]);
    const labels = tf.tensor1d([0, 1], 'int32');
    const settings = { numClasses: 3, labelSmoothing: smoothing, classWeights: weights && Float32Array.from(weights), probabilities: true };
    const losses = perImageLoss(output, labels, settings).dataSync();
    expected.forEach((value, i) => assert.ok(Math.abs(losses[i]! - value) < 1e-5, `${losses[i]} vs ${value}`));
    // The same from logits: log-probabilities of the softmax.
    const logits = tf.log(output);
    const fromLogits = perImageLoss(logits, labels, { ...settings, probabilities: false }).dataSync();
    expected.forEach((value, i) => assert.ok(Math.abs(fromLogits[i]! - value) < 1e-5));
    tf.dispose([output, labels, logits]);
  });
}

test('class weights: balanced is n / (classes × count), a record names classes, none is null', () => {
  assert.deepEqual(resolveClassWeights('balanced', LABELS, [10, 30, 20]), Float32Array.from([2, 2 / 3, 1]));
  assert.deepEqual(resolveClassWeights('balanced', LABELS, [10, 0, 20]), Float32Array.from([1, 0, 0.5]));
  assert.deepEqual(resolveClassWeights({ dog: 3 }, LABELS, [1, 1, 1]), Float32Array.from([1, 3, 1]));
  assert.equal(resolveClassWeights('none', LABELS, [1, 1, 1]), null);
  assert.throws(() => resolveClassWeights({ wolf: 2 }, LABELS, [1, 1, 1]), {
    code: 'train-config-invalid',
    message: /classWeights\.wolf: the dataset has no class 'wolf'/,
  });
});
