import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeImagenetPredictions, IMAGENET_CLASS_COUNT, imagenetClasses, imagenetShortName } from './imagenet-classes.ts';

test('there are 1000 class names, and all but the two ImageNet "crane"s are unique by short name', () => {
  const names = imagenetClasses();
  assert.equal(names.length, IMAGENET_CLASS_COUNT);
  assert.equal(new Set(names).size, 999, 'only 134 and 517 share the full name "crane"');
  const shortNames = names.map((_, index) => imagenetShortName(index));
  assert.equal(new Set(shortNames).size, 998, 'crane twice, maillot twice (638 "maillot", 639 "maillot, tank suit")');
});

/** Well-known ids of the standard ILSVRC-2012 order, as in @tensorflow-models/mobilenet and Keras. */
const knownClasses: [number, string][] = [
  [0, 'tench'],
  [1, 'goldfish'],
  [134, 'crane'],
  [207, 'golden retriever'],
  [281, 'tabby'],
  [282, 'tiger cat'],
  [285, 'Egyptian cat'],
  [409, 'analog clock'],
  [517, 'crane'],
  [999, 'toilet tissue'],
];

for (const [index, name] of knownClasses) {
  test(`class ${index} is ${name}`, () => {
    assert.equal(imagenetShortName(index), name);
  });
}

test('the full name keeps every synonym', () => {
  assert.equal(imagenetClasses()[281], 'tabby, tabby cat');
  assert.equal(imagenetClasses()[0], 'tench, Tinca tinca');
});

test('an index outside 0–999 is a RangeError', () => {
  assert.throws(() => imagenetShortName(1000), RangeError);
  assert.throws(() => imagenetShortName(-1), RangeError);
});

test('decodeImagenetPredictions names the k most probable classes, most probable first', () => {
  const probabilities = new Float32Array(IMAGENET_CLASS_COUNT).fill(0.0001);
  probabilities[281] = 0.6;
  probabilities[285] = 0.25;
  probabilities[207] = 0.1;
  const top = decodeImagenetPredictions(probabilities, 3);
  assert.deepEqual(
    top.map((p) => [p.index, p.name]),
    [
      [281, 'tabby, tabby cat'],
      [285, 'Egyptian cat'],
      [207, 'golden retriever'],
    ],
  );
  assert.ok(Math.abs(top[0]!.probability - 0.6) < 1e-6);
  assert.throws(() => decodeImagenetPredictions(new Float32Array(10)), /1000 values, got 10/);
});
