import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { fileSystemHandler, MODEL_JSON, SHARD_BYTES } from './fs-io.ts';

let root: string;
before(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'effnet-fs-io-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A small dense model whose weights are random, so two of them predict differently. */
function denseModel(inputs: number, units: number, seed: number): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: 'ones' }),
    ],
  });
  return model;
}

async function predict(model: tf.LayersModel, inputs: number): Promise<Float32Array> {
  const x = tf.tensor2d(
    Array.from({ length: 2 * inputs }, (_, i) => Math.sin(i)),
    [2, inputs],
  );
  const y = model.predict(x) as tf.Tensor;
  const data = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return data;
}

async function expectAppError(promise: Promise<unknown>, code: string, mentions: string[]): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail('expected an AppError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  for (const text of mentions) assert.ok(error.message.includes(text), `'${error.message}' should mention '${text}'`);
  return error;
}

test('a model saved in small shards loads back with identical predictions', async () => {
  const dir = path.join(root, 'small-shards');
  const model = denseModel(20, 30, 1);
  await model.save(fileSystemHandler(dir, { shardBytes: 1000 }));

  const files = (await fs.readdir(dir)).sort();
  const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON), 'utf8'));
  const paths: string[] = json.weightsManifest[0].paths;
  // (20·30 + 30 + 30·3 + 3) · 4 bytes = 2892 bytes → 3 shards of ≤ 1000 bytes.
  assert.deepEqual(paths, ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin']);
  assert.deepEqual(files, [MODEL_JSON, ...paths].sort());
  const sizes = await Promise.all(paths.map(async (name) => (await fs.stat(path.join(dir, name))).size));
  assert.deepEqual(sizes, [1000, 1000, 892]);
  assert.equal(json.format, 'layers-model');

  const loaded = await tf.loadLayersModel(fileSystemHandler(dir));
  const other = denseModel(20, 30, 99);
  assert.notDeepEqual(
    await predict(other, 20),
    await predict(model, 20),
    'differently seeded models must differ for this test to mean anything',
  );
  assert.deepEqual(await predict(loaded, 20), await predict(model, 20));
});

test('shards are 4 MiB by default, as the tfjs converter writes them', async () => {
  const dir = path.join(root, 'default-shards');
  const model = denseModel(1100, 1000, 2); // 1100·1000 + 1000 + 3000 + 3 floats ≈ 4.4 MB
  await model.save(fileSystemHandler(dir));
  const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON), 'utf8'));
  assert.deepEqual(json.weightsManifest[0].paths, ['group1-shard1of2.bin', 'group1-shard2of2.bin']);
  const total = (1100 * 1000 + 1000 + 1000 * 3 + 3) * 4;
  assert.equal((await fs.stat(path.join(dir, 'group1-shard1of2.bin'))).size, SHARD_BYTES);
  assert.equal((await fs.stat(path.join(dir, 'group1-shard2of2.bin'))).size, total - SHARD_BYTES);
});

test('saving over a model folder replaces it whole and leaves no temporary folders', async () => {
  const dir = path.join(root, 'replaced');
  const first = denseModel(20, 30, 3);
  await first.save(fileSystemHandler(dir, { shardBytes: 1000, extraFiles: { 'notes.txt': 'first' } }));
  const second = denseModel(20, 8, 4);
  await second.save(fileSystemHandler(dir));

  assert.deepEqual((await fs.readdir(dir)).sort(), ['group1-shard1of1.bin', MODEL_JSON]);
  const loaded = await tf.loadLayersModel(fileSystemHandler(dir));
  assert.deepEqual(await predict(loaded, 20), await predict(second, 20));
  assert.deepEqual(
    (await fs.readdir(root)).filter((name) => name.startsWith('.')),
    [],
  );
});

test('a save that fails half-way leaves the previous model intact', async () => {
  const dir = path.join(root, 'failed-save');
  const first = denseModel(20, 30, 5);
  await first.save(fileSystemHandler(dir));
  const before = await predict(first, 20);
  // A file whose content cannot be written fails after model.json and the shards were written.
  const broken = { 'z-last.bin': 42 as unknown as string };
  await assert.rejects(denseModel(20, 30, 6).save(fileSystemHandler(dir, { extraFiles: broken })), AppError);

  const loaded = await tf.loadLayersModel(fileSystemHandler(dir));
  assert.deepEqual(await predict(loaded, 20), before);
  assert.deepEqual(
    (await fs.readdir(root)).filter((name) => name.startsWith('.')),
    [],
  );
});

test('saving never replaces a folder that holds other files than a model', async () => {
  const dir = path.join(root, 'documents');
  await fs.mkdir(dir);
  await fs.writeFile(path.join(dir, 'thesis.docx'), 'precious');
  await expectAppError(denseModel(4, 4, 7).save(fileSystemHandler(dir)), 'model-save-failed', [dir]);
  assert.equal(await fs.readFile(path.join(dir, 'thesis.docx'), 'utf8'), 'precious');
});

/** Broken model folders and the file each error must name. */
const CORRUPTIONS: { name: string; damage: (dir: string) => Promise<void>; code: string; names: string }[] = [
  {
    name: 'model.json is not JSON',
    damage: (dir) => fs.writeFile(path.join(dir, MODEL_JSON), '{"modelTopology": '),
    code: 'model-corrupt',
    names: MODEL_JSON,
  },
  {
    name: 'model.json lacks the weights manifest',
    damage: (dir) => fs.writeFile(path.join(dir, MODEL_JSON), '{"modelTopology": {}}'),
    code: 'model-corrupt',
    names: MODEL_JSON,
  },
  { name: 'model.json is missing', damage: (dir) => fs.rm(path.join(dir, MODEL_JSON)), code: 'model-not-found', names: MODEL_JSON },
  {
    name: 'a shard is missing',
    damage: (dir) => fs.rm(path.join(dir, 'group1-shard2of3.bin')),
    code: 'model-not-found',
    names: 'group1-shard2of3.bin',
  },
  {
    name: 'a shard is truncated',
    damage: (dir) => fs.truncate(path.join(dir, 'group1-shard3of3.bin'), 100),
    code: 'model-corrupt',
    names: 'group1-shard3of3.bin',
  },
  {
    name: 'a weight path leaves the folder',
    damage: async (dir) => {
      const file = path.join(dir, MODEL_JSON);
      const json = JSON.parse(await fs.readFile(file, 'utf8'));
      json.weightsManifest[0].paths[0] = '../../etc/passwd';
      await fs.writeFile(file, JSON.stringify(json));
    },
    code: 'model-corrupt',
    names: '../../etc/passwd',
  },
];

for (const corruption of CORRUPTIONS) {
  test(`loading fails with an AppError naming the file when ${corruption.name}`, async () => {
    const dir = path.join(root, `corrupt-${corruption.name.replace(/\W+/g, '-')}`);
    await denseModel(20, 30, 8).save(fileSystemHandler(dir, { shardBytes: 1000 }));
    await corruption.damage(dir);
    await expectAppError(tf.loadLayersModel(fileSystemHandler(dir)), corruption.code, [corruption.names]);
  });
}
