import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { classImagePng, saveTestModel, TEST_LABELS } from '../../export/test-models.ts';
import { dataPaths } from '../../node/paths.ts';
import { openStore } from '../../store/index.ts';
import { runCli } from '../test-support.ts';

let folder = '';
let env: NodeJS.ProcessEnv;
let checkpoint = '';

function cli(args: string[]) {
  return runCli(args, { env, cwd: folder });
}

before(async () => {
  folder = await fs.mkdtemp(path.join(os.tmpdir(), 'effnet-export-cli-'));
  env = { EFFNET_HOME: path.join(folder, 'home'), EFFNET_BACKEND: 'cpu' };
  // A run as training leaves it: checkpoints/best/{model/, split.json} and a dataset of class folders.
  checkpoint = path.join(folder, 'runs', '1', 'checkpoints', 'best');
  await saveTestModel(path.join(checkpoint, 'model'), 3);
  const val: string[] = [];
  for (let label = 0; label < TEST_LABELS.length; label++) {
    for (let n = 0; n < 3; n++) {
      const relative = `${TEST_LABELS[label]}/${n}.png`;
      await fs.mkdir(path.join(folder, 'flowers', TEST_LABELS[label]!), { recursive: true });
      await fs.writeFile(path.join(folder, 'flowers', relative), await classImagePng(label, 40 + n));
      if (n < 2) val.push(relative);
    }
  }
  await fs.writeFile(path.join(checkpoint, 'split.json'), JSON.stringify({ version: 1, train: [], val, test: [] }));
});
after(() => fs.rm(folder, { recursive: true, force: true }));

test('export MODEL_DIR --format onnx writes a verified folder and says so', async () => {
  const { code, stdout, stderr } = await cli([
    'export',
    path.join(checkpoint, 'model'),
    '--format',
    'onnx',
    '--out',
    'out-onnx',
    '--images',
    'flowers',
    '--random',
    '4',
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^exported: .*out-onnx \(onnx, /);
  assert.match(stdout, /images \(15\)\s+max \|Δp\| \S+, top-1 agreement 100\.00%, accuracy/);
  assert.match(stdout, /random \(4\)/);
  for (const name of ['model.onnx', 'verification.json', 'model-card.md', 'model-card.json'])
    await fs.stat(path.join(folder, 'out-onnx', name));
});

test("export RUN uses the run's validation images and records the export as artifacts of the run", async () => {
  const store = openStore(dataPaths(env).database);
  const run = store.runs.create({ name: 'flowers', config: { dataset: { path: path.join(folder, 'flowers') } } });
  store.artifacts.add(run.id, { kind: 'checkpoint', path: checkpoint, sha256: 'a'.repeat(64), bytes: 1, epoch: 1 });
  store.close();

  const { code, stdout, stderr } = await cli([
    'export',
    String(run.id),
    '--format',
    'tfjs',
    '--quantize',
    'float16',
    '--out',
    'out-tfjs',
    '--random',
    '2',
    '--json',
  ]);
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout);
  assert.equal(result.passed, true);
  assert.equal(result.verification.sets.images.inputs, 10, 'the two validation images per class of split.json');
  assert.equal(result.verification.sets.images.accuracyOriginal, 1);
  const card = JSON.parse(await fs.readFile(path.join(folder, 'out-tfjs', 'model-card.json'), 'utf8'));
  assert.deepEqual(Object.keys(card.metrics), ['best_val_accuracy', 'best_epoch', 'final_val_accuracy', 'epochs']);

  const reopened = openStore(dataPaths(env).database);
  const kinds = reopened.artifacts.list(run.id).map((a) => `${a.kind}:${path.basename(a.path)}`);
  reopened.close();
  assert.deepEqual(kinds.sort(), ['checkpoint:best', 'export-verification:verification.json', 'export:model.json']);
});

test('bad command lines are usage errors (exit 2); unknown models are errors (exit 1)', async () => {
  const model = path.join(checkpoint, 'model');
  for (const [args, message] of [
    [['export', model, '--out', 'x'], /--format is required/],
    [['export', model, '--format', 'tflite', '--out', 'x'], /--format must be one of tfjs, onnx/],
    [['export', model, '--format', 'onnx', '--quantize', 'int4', '--out', 'x'], /--quantize must be one of none, float16, uint8/],
    [['export', model, '--format', 'onnx'], /--out DIR is required/],
    [['export', model, '--format', 'onnx', '--out', 'x', '--random', '-1'], /--random must be a whole number/],
  ] as const) {
    const { code, stderr } = await cli([...args]);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, message);
  }
  const { code, stderr } = await cli(['export', '99', '--format', 'onnx', '--out', 'x']);
  assert.equal(code, 1);
  assert.match(stderr, /There is no run 99/);
  const exported = await cli(['export', 'out-onnx', '--format', 'onnx', '--out', 'x']);
  assert.equal(exported.code, 1);
  assert.match(exported.stderr, /already an exported model/);
});
