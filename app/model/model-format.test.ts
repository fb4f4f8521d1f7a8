import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { makeSpec, type ModelSpec } from '../common/efficientnet/index.ts';
import { buildEfficientNet } from './builder.ts';
import { MODEL_JSON } from './fs-io.ts';
import { randomizeWeights } from './keras-h5-testing.ts';
import { registerEffnetLayers } from './layers.ts';
import { loadModel, METADATA_FILE, MODEL_FORMAT_VERSION, readModelMetadata, saveModel, type ModelMetadata } from './model-format.ts';

const LABELS = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];
const spec: ModelSpec = makeSpec('b0', { width: 0.25, depth: 0.25, resolution: 32, numClasses: LABELS.length });

let root: string;
let saved: string;
let original: tf.LayersModel;
let written: ModelMetadata;

before(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'effnet-model-format-'));
  original = buildEfficientNet(spec);
  randomizeWeights(original, 11);
  // Keep the input normalisation at ImageNet's values so the described preprocessing is checkable.
  const [, , count] = original.getLayer('normalization').getWeights();
  original
    .getLayer('normalization')
    .setWeights([tf.tensor1d([0.485, 0.456, 0.406]), tf.tensor1d([0.229, 0.224, 0.225].map((s) => s * s)), count!]);
  saved = path.join(root, 'flowers');
  written = await saveModel(original, saved, {
    spec,
    labels: LABELS,
    provenance: { runId: 'run-42', datasetFingerprint: 'sha256:abc123' },
    createdAt: '2025-01-02T03:04:05.000Z',
  });
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function predict(model: tf.LayersModel): Promise<Float32Array> {
  const x = tf.tidy(() => tf.mul(tf.add(tf.sin(tf.range(0, 2 * 32 * 32 * 3)), 1), 127.5).reshape([2, 32, 32, 3]));
  const y = model.predict(x) as tf.Tensor;
  const data = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return data;
}

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

/** A copy of the saved model folder, for tests that damage it. */
async function copyOfSaved(name: string): Promise<string> {
  const dir = path.join(root, name);
  await fs.cp(saved, dir, { recursive: true });
  return dir;
}

test('save → load gives identical predictions and the same metadata', async () => {
  const fresh = buildEfficientNet(spec);
  const expected = await predict(original);
  assert.ok(
    (await predict(fresh)).some((v, i) => Math.abs(v - expected[i]!) > 1e-4),
    'a fresh model must predict differently',
  );

  const { model, metadata } = await loadModel(saved);
  assert.deepEqual(await predict(model), expected);
  assert.deepEqual(metadata, written);
  assert.equal(metadata.formatVersion, MODEL_FORMAT_VERSION);
  assert.deepEqual(metadata.spec, JSON.parse(JSON.stringify(spec)), 'the spec, less undefined fields (JSON has none)');
  assert.deepEqual(metadata.labels, LABELS);
  assert.deepEqual(metadata.provenance, { runId: 'run-42', datasetFingerprint: 'sha256:abc123' });
  assert.equal(metadata.createdAt, '2025-01-02T03:04:05.000Z');
  assert.deepEqual(metadata.preprocessing, {
    mode: 'imagenet',
    inputSize: [32, 32],
    channels: 'rgb',
    layout: 'nhwc',
    inputRange: [0, 255],
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  });
});

test('the folder holds model.json, weight shards and effnet.json', async () => {
  const files = (await fs.readdir(saved)).sort();
  assert.deepEqual(files, [METADATA_FILE, 'group1-shard1of1.bin', MODEL_JSON]);
  const json = JSON.parse(await fs.readFile(path.join(saved, MODEL_JSON), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, ['group1-shard1of1.bin']);
});

test('model.json loads with plain tf.loadLayersModel once registerEffnetLayers() ran', async () => {
  registerEffnetLayers();
  // A minimal handler written here, so no loader code of the project is involved.
  const handler: tf.io.IOHandler = {
    load: async () => {
      const json = JSON.parse(await fs.readFile(path.join(saved, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
      const group = json.weightsManifest[0]!;
      const shards = await Promise.all(group.paths.map((name) => fs.readFile(path.join(saved, name))));
      const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
      return { modelTopology: json.modelTopology, weightSpecs: group.weights, weightData };
    },
  };
  const model = await tf.loadLayersModel(handler);
  assert.deepEqual(await predict(model), await predict(original));
});

test('readModelMetadata reads effnet.json without the weights', async () => {
  const dir = await copyOfSaved('metadata-only');
  await fs.rm(path.join(dir, 'group1-shard1of1.bin'));
  assert.deepEqual(await readModelMetadata(dir), written);
});

test('saving refuses labels that do not match the classifier, and writes nothing', async () => {
  const dir = path.join(root, 'four-labels');
  await rejection(saveModel(original, dir, { spec, labels: LABELS.slice(0, 4) }), 'model-metadata-mismatch', ['4 labels', '5 outputs']);
  await assert.rejects(fs.stat(dir), { code: 'ENOENT' });
});

type Edit = (metadata: Record<string, unknown> & { spec: Record<string, unknown> }) => void;

/** Damaged effnet.json contents → the error and the field it must name. */
const BAD_METADATA: { name: string; edit?: Edit; text?: string; code: string; mentions: string[] }[] = [
  { name: 'not JSON', text: '{"formatVersion": 1,', code: 'model-metadata-invalid', mentions: ['not valid JSON'] },
  {
    name: 'a newer formatVersion',
    edit: (m) => (m.formatVersion = 2),
    code: 'model-format-too-new',
    mentions: ['formatVersion 2', 'Update the app'],
  },
  { name: 'no formatVersion', edit: (m) => delete m.formatVersion, code: 'model-metadata-invalid', mentions: ['formatVersion'] },
  { name: 'a negative width', edit: (m) => (m.spec.width = -1), code: 'model-metadata-invalid', mentions: ['spec.width'] },
  { name: 'an unknown padding', edit: (m) => (m.spec.padding = 'reflect'), code: 'model-metadata-invalid', mentions: ['spec.padding'] },
  {
    name: 'a stride of 3',
    edit: (m) => ((m.spec.stages as Record<string, unknown>[])[0]!.stride = 3),
    code: 'model-metadata-invalid',
    mentions: ['spec.stages[0].stride'],
  },
  {
    name: 'labels that are not strings',
    edit: (m) => (m.labels = [1, 2, 3, 4, 5]),
    code: 'model-metadata-invalid',
    mentions: ['labels[0]'],
  },
  {
    name: 'duplicate labels',
    edit: (m) => (m.labels = ['a', 'a', 'b', 'c', 'd']),
    code: 'model-metadata-invalid',
    mentions: ['labels', 'unique'],
  },
  { name: 'a label missing', edit: (m) => (m.labels = LABELS.slice(1)), code: 'model-metadata-mismatch', mentions: ['4 labels'] },
  { name: 'a wrong createdAt', edit: (m) => (m.createdAt = 'yesterday'), code: 'model-metadata-invalid', mentions: ['createdAt'] },
  {
    name: 'a resolution the model does not take',
    edit: (m) => (m.spec.resolution = 64),
    code: 'model-metadata-mismatch',
    mentions: ['spec.resolution'],
  },
  { name: 'no preprocessing', edit: (m) => delete m.preprocessing, code: 'model-metadata-invalid', mentions: ['preprocessing'] },
];

for (const bad of BAD_METADATA) {
  test(`loading fails naming effnet.json when it has ${bad.name}`, async () => {
    const dir = await copyOfSaved(`metadata-${bad.name.replace(/\W+/g, '-')}`);
    const file = path.join(dir, METADATA_FILE);
    if (bad.text !== undefined) await fs.writeFile(file, bad.text);
    else {
      const metadata = JSON.parse(await fs.readFile(file, 'utf8'));
      bad.edit!(metadata);
      await fs.writeFile(file, JSON.stringify(metadata));
    }
    await rejection(loadModel(dir), bad.code, [file, ...bad.mentions]);
  });
}

/** Damaged model files → the file the error must name. */
const BAD_MODEL: { name: string; damage: (dir: string) => Promise<void>; code: string; names: string }[] = [
  { name: 'effnet.json is missing', damage: (dir) => fs.rm(path.join(dir, METADATA_FILE)), code: 'model-not-found', names: METADATA_FILE },
  {
    name: 'model.json is corrupt',
    damage: (dir) => fs.writeFile(path.join(dir, MODEL_JSON), '{"modelTop'),
    code: 'model-corrupt',
    names: MODEL_JSON,
  },
  {
    name: 'a weight shard is missing',
    damage: (dir) => fs.rm(path.join(dir, 'group1-shard1of1.bin')),
    code: 'model-not-found',
    names: 'group1-shard1of1.bin',
  },
  {
    name: 'model.json names a layer class nobody registered',
    damage: async (dir) => {
      const file = path.join(dir, MODEL_JSON);
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('"class_name":"Normalization"', '"class_name":"Mystery"'));
    },
    code: 'model-corrupt',
    names: MODEL_JSON,
  },
];

for (const bad of BAD_MODEL) {
  test(`loading fails with an AppError naming the file when ${bad.name}`, async () => {
    const dir = await copyOfSaved(`model-${bad.name.replace(/\W+/g, '-')}`);
    await bad.damage(dir);
    await rejection(loadModel(dir), bad.code, [bad.names]);
  });
}
