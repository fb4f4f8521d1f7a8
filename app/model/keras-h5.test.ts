import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { makeSpec, type ModelSpecOptions } from '../common/efficientnet/index.ts';
import { sharedPath } from '../node/shared-path.ts';
import { buildEfficientNet } from './builder.ts';
import { loadKerasH5, saveKerasH5 } from './keras-h5.ts';
import { modelLayout, randomizeWeights, readReferenceLayers, writeKerasLayout, type LayoutDataset } from './keras-h5-testing.ts';

let root: string;
before(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'effnet-keras-h5-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A B0-shaped model small enough for the CPU backend: 7 blocks, 8–80 channels, 32 px. */
const small = (options: ModelSpecOptions = {}) =>
  buildEfficientNet(makeSpec('b0', { width: 0.25, depth: 0.25, resolution: 32, numClasses: 5, ...options }));

/** A fixed batch of two RGB 0–255 images. */
function images(resolution = 32): tf.Tensor4D {
  return tf.tidy(() =>
    tf.mul(tf.add(tf.sin(tf.range(0, 2 * resolution * resolution * 3)), 1), 127.5).reshape([2, resolution, resolution, 3]),
  );
}

async function predict(model: tf.LayersModel): Promise<Float32Array> {
  const x = images(model.inputs[0]!.shape[1]!);
  const y = model.predict(x) as tf.Tensor;
  const data = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return data;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0);

async function rejection(promise: Promise<unknown>, code: string, mentions: readonly string[]): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail(`expected an AppError ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  for (const text of mentions) assert.ok(error.message.includes(text), `'${error.message}' should mention '${text}'`);
  return error;
}

test('model → .h5 → freshly initialised model predicts identically (max abs diff 0)', async () => {
  const original = small();
  randomizeWeights(original, 1);
  const file = path.join(root, 'round-trip.h5');
  const saved = await saveKerasH5(original, file);
  assert.equal(saved.weightedLayers, 60);

  const copy = small();
  const expected = await predict(original);
  assert.ok(maxAbsDiff(await predict(copy), expected) > 1e-3, 'a fresh model must predict differently before loading');
  const summary = await loadKerasH5(copy, file);
  assert.equal(maxAbsDiff(await predict(copy), expected), 0);
  assert.equal(summary.assigned.length, 60);
  assert.deepEqual(summary.skipped, []);
  assert.equal(summary.normalization?.quirk, 'none', 'a true variance written by us is kept');
});

test('saved files follow the Keras layout: layer_names, weight_names, /<layer>/<layer>/<weight>:0', async () => {
  const model = small();
  randomizeWeights(model, 2);
  const file = path.join(root, 'layout.h5');
  await saveKerasH5(model, file);
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const f = new h5.File(file, 'r');
  try {
    assert.deepEqual(
      f.attrs.layer_names!.value,
      model.layers.map((layer) => layer.name),
    );
    assert.equal(f.attrs.backend!.value, 'tensorflow');
    assert.match(String(f.attrs.keras_version!.value), /^\d+\.\d+/);
    const weightNames = (layer: string) =>
      Array.from((f.get(layer) as InstanceType<typeof h5.Group>).attrs.weight_names!.value as string[]);
    assert.deepEqual(weightNames('input_layer'), []);
    assert.deepEqual(weightNames('stem_bn'), ['stem_bn/gamma:0', 'stem_bn/beta:0', 'stem_bn/moving_mean:0', 'stem_bn/moving_variance:0']);
    assert.deepEqual(weightNames('normalization'), ['normalization/mean:0', 'normalization/variance:0', 'normalization/count:0']);
    const dataset = (p: string) => f.get(p) as InstanceType<typeof h5.Dataset>;
    assert.deepEqual(dataset('/stem_conv/stem_conv/kernel:0').shape, [3, 3, 3, 8]);
    assert.deepEqual(dataset('/predictions/predictions/kernel:0').shape, [1280 / 4, 5]);
    assert.equal(dataset('/normalization/normalization/count:0').dtype, '<q');
    const variance = await model.getLayer('normalization').weights[1]!.read().data();
    assert.deepEqual(dataset('/normalization/normalization/variance:0').value, Float32Array.from(variance), 'variance is written as it is');
  } finally {
    f.close();
  }
});

/** The Normalization quirk (efficientnet-facts §1.8): what the file stores and lists → the variance the model must use. */
const STD = [0.229, 0.224, 0.225];
const QUIRKS = [
  {
    name: 'official file: std stored as variance',
    stored: STD,
    rescaling1: false,
    quirk: 'stored-std',
    torch: true,
    variance: STD.map((s) => s * s),
  },
  {
    name: 'Keras ≥ 2.9 save: std stored, rescaling_1 listed',
    stored: STD,
    rescaling1: true,
    quirk: 'rescaling_1',
    torch: true,
    variance: STD.map((s) => s * s),
  },
  {
    name: 'rescaling_1 listed with other values',
    stored: [0.5, 0.6, 0.7],
    rescaling1: true,
    quirk: 'rescaling_1',
    torch: false,
    variance: [0.5 * 0.229, 0.6 * 0.224, 0.7 * 0.225],
  },
  { name: 'a true variance', stored: [0.04, 0.05, 0.06], rescaling1: false, quirk: 'none', torch: false, variance: [0.04, 0.05, 0.06] },
] as const;

for (const quirk of QUIRKS) {
  test(`Normalization import: ${quirk.name}`, async () => {
    const source = small();
    randomizeWeights(source, 3);
    const layout = await modelLayout(source);
    layout.weights.set('normalization', [
      { name: 'normalization/mean:0', shape: [3], data: Float32Array.from([0.485, 0.456, 0.406]) },
      { name: 'normalization/variance:0', shape: [3], data: Float32Array.from(quirk.stored) },
      { name: 'normalization/count:0', shape: [], data: BigInt64Array.of(0n) },
    ]);
    // Keras names: input_1 instead of our input_layer (names do not matter, positions do).
    const layerNames = layout.layerNames.map((name) => (name === 'input_layer' ? 'input_1' : name));
    if (quirk.rescaling1) layerNames.splice(layerNames.indexOf('normalization') + 1, 0, 'rescaling_1');
    const file = path.join(root, `quirk-${quirk.quirk}-${quirk.stored[0]}.h5`);
    await writeKerasLayout(file, { layerNames, weights: layout.weights });

    const model = small();
    const summary = await loadKerasH5(model, file);
    assert.equal(summary.normalization?.quirk, quirk.quirk);
    // The normalisation layer's output on one known pixel, against the formula computed here.
    const normalized = tf.model({ inputs: model.inputs, outputs: model.getLayer('normalization').output as tf.SymbolicTensor });
    const pixel = [255, 128, 0];
    const x = tf.tidy(() => tf.tile(tf.tensor4d(pixel, [1, 1, 1, 3]), [1, 32, 32, 1]));
    const y = normalized.predict(x) as tf.Tensor;
    const out = Array.from((await y.data()).slice(0, 3));
    tf.dispose([x, y]);
    const mean = [0.485, 0.456, 0.406];
    // torch / TF-reference normalisation (x/255 − mean)/std where the quirk applies; else the stored variance's.
    const expected = pixel.map((p, c) => (p / 255 - mean[c]!) / (quirk.torch ? STD[c]! : Math.sqrt(quirk.variance[c]!)));
    out.forEach((v, c) => assert.ok(Math.abs(v - expected[c]!) < 1e-5, `channel ${c}: ${v} vs ${expected[c]}`));
    // And the rest of the network came through: predictions equal the source model's.
    assert.equal(maxAbsDiff(await predict(model), await predict(await withNormalization(source, quirk.variance))), 0);
  });
}

/** `model` with its Normalization variance set to `variance` (what the import should have produced). */
async function withNormalization(model: tf.LayersModel, variance: readonly number[]): Promise<tf.LayersModel> {
  const layer = model.getLayer('normalization');
  const [, , count] = layer.getWeights();
  layer.setWeights([tf.tensor1d([0.485, 0.456, 0.406]), tf.tensor1d(Float32Array.from(variance)), count!]);
  return model;
}

test('a file from a wider model fails naming the layer and both shapes, and changes nothing', async () => {
  const wide = small({ width: 0.5 });
  const file = path.join(root, 'wide.h5');
  await saveKerasH5(wide, file);
  const model = small();
  const before = await predict(model);
  await rejection(loadKerasH5(model, file), 'weights-shape-mismatch', ['stem_conv', '[3, 3, 3, 8]', '[3, 3, 3, 16]', file]);
  assert.equal(maxAbsDiff(await predict(model), before), 0);
});

test('a different number of classes fails naming predictions, and loads with skipMismatchedTop', async () => {
  const thousand = small({ numClasses: 1000 });
  randomizeWeights(thousand, 4);
  const file = path.join(root, 'thousand.h5');
  await saveKerasH5(thousand, file);
  const model = small();
  await rejection(loadKerasH5(model, file), 'weights-shape-mismatch', ['predictions', '[320, 5]', '[320, 1000]']);

  const head = await model.getLayer('predictions').weights[0]!.read().data();
  const summary = await loadKerasH5(model, file, { skipMismatchedTop: true });
  assert.deepEqual(
    summary.skipped.map((s) => [s.layer, s.side]),
    [['predictions', 'model']],
  );
  assert.equal(summary.assigned.length, 59);
  assert.deepEqual(await model.getLayer('predictions').weights[0]!.read().data(), head, 'the classifier keeps its own weights');
  assert.deepEqual(await model.getLayer('top_bn').weights[0]!.read().data(), await thousand.getLayer('top_bn').weights[0]!.read().data());
});

test('a model without normalisation (preprocessing none) skips the file’s Normalization layer', async () => {
  const source = small();
  randomizeWeights(source, 5);
  const file = path.join(root, 'with-normalization.h5');
  await saveKerasH5(source, file);
  const model = small({ preprocessing: 'none' });
  const summary = await loadKerasH5(model, file);
  assert.deepEqual(
    summary.skipped.map((s) => [s.layer, s.side]),
    [['normalization', 'file']],
  );
  assert.equal(summary.normalization, null);
  assert.deepEqual(
    await model.getLayer('stem_conv').weights[0]!.read().data(),
    await source.getLayer('stem_conv').weights[0]!.read().data(),
  );
});

test('Keras B0 from efficientnet-b0-layers.md: 132 weighted layers load positionally; _notop (131) needs includeTop=false', async () => {
  const reference = await readReferenceLayers(sharedPath('docs/reference/efficientnet-b0-layers.md'));
  assert.equal(reference.length, 241);
  const weights = new Map<string, LayoutDataset[]>();
  let seed = 0;
  for (const layer of reference) {
    if (layer.weights.length === 0) continue;
    weights.set(
      layer.name,
      layer.weights.map((w) => {
        const size = w.shape.reduce((a, b) => a * b, 1);
        const data = w.name.endsWith('count:0') ? BigInt64Array.of(0n) : Float32Array.from({ length: size }, () => 0.5 + (seed++ % 7) / 7);
        return { name: w.name, shape: w.shape, data };
      }),
    );
  }
  const layerNames = reference.map((layer) => layer.name);
  const file = path.join(root, 'efficientnetb0.h5');
  // The reference has 241 names; split layer_names in two chunks, as Keras does for long lists.
  await writeKerasLayout(file, { layerNames, weights }, { layerNameChunks: 2 });
  const notop = path.join(root, 'efficientnetb0_notop.h5');
  const notopNames = layerNames.filter((name) => name !== 'top_dropout' && name !== 'predictions');
  await writeKerasLayout(notop, { layerNames: notopNames, weights: new Map([...weights].filter(([name]) => name !== 'predictions')) });

  const b0 = buildEfficientNet(makeSpec('b0'));
  const summary = await loadKerasH5(b0, file);
  assert.equal(summary.fileWeightedLayers, 132);
  assert.equal(summary.assigned.length, 132);
  assert.equal(summary.normalization?.quirk, 'rescaling_1', 'the reference lists rescaling_1 (a Keras ≥ 2.9 imagenet model)');

  await rejection(loadKerasH5(b0, notop), 'weights-layer-count-mismatch', ['131 weighted layers', '132', '_notop']);
  const error = await rejection(loadKerasH5(b0, notop), 'weights-layer-count-mismatch', []);
  assert.match(error.hint ?? '', /includeTop=false/);
  const b0notop = buildEfficientNet(makeSpec('b0', { includeTop: false }));
  assert.equal((await loadKerasH5(b0notop, notop)).assigned.length, 131);
  await rejection(loadKerasH5(b0notop, file), 'weights-layer-count-mismatch', ['132 weighted layers', '131']);
  const skipped = await loadKerasH5(b0notop, file, { skipMismatchedTop: true });
  assert.deepEqual(
    skipped.skipped.map((s) => [s.layer, s.side]),
    [['predictions', 'file']],
  );
  b0.dispose();
  b0notop.dispose();
});

test('a file from a deeper model fails with both weighted-layer counts', async () => {
  const file = path.join(root, 'deeper.h5');
  await saveKerasH5(small({ depth: 0.5 }), file);
  await rejection(loadKerasH5(small(), file), 'weights-layer-count-mismatch', [file, 'weighted layers', 'the model has 60']);
});

/** Files that are not Keras weights; each error must name the file. */
const BAD_FILES: { name: string; make: (file: string) => Promise<void>; code: string; mentions: string[] }[] = [
  {
    name: 'a text file',
    make: (file) => fs.writeFile(file, 'this is not HDF5 at all'),
    code: 'weights-file-invalid',
    mentions: ['not an HDF5 file'],
  },
  { name: 'an empty file', make: (file) => fs.writeFile(file, ''), code: 'weights-file-invalid', mentions: ['not an HDF5 file'] },
  {
    name: 'a truncated .h5',
    make: async (file) => {
      await saveKerasH5(small(), file);
      await fs.truncate(file, Math.floor((await fs.stat(file)).size / 2));
    },
    code: 'weights-file-invalid',
    mentions: ['cannot be read as HDF5'],
  },
  {
    name: 'an HDF5 file without layer_names',
    make: async (file) => {
      const h5 = await import('h5wasm/node');
      await h5.ready;
      const f = new h5.File(file, 'w');
      f.create_dataset({ name: 'data', data: new Float32Array([1, 2]) });
      f.close();
    },
    code: 'weights-file-invalid',
    mentions: ['layer_names'],
  },
  { name: 'a missing file', make: async () => {}, code: 'weights-file-not-found', mentions: ['does not exist'] },
];

for (const bad of BAD_FILES) {
  test(`loading ${bad.name} fails with an AppError naming the file`, async () => {
    const file = path.join(root, `bad-${bad.name.replace(/\W+/g, '-')}.h5`);
    await bad.make(file);
    await rejection(loadKerasH5(small(), file), bad.code, [file, ...bad.mentions]);
  });
}
