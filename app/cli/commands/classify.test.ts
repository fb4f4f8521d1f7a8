import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { onnxExporter } from '../../export/onnx/onnx-exporter.ts';
import { saveTestModel, TEST_LABELS, writeMixedFolder, type MixedFolder } from '../../export/test-models.ts';
import { loadModel } from '../../model/model-format.ts';
import { runCli } from '../test-support.ts';

let folder = '';
let mixed: MixedFolder;

function cli(args: string[]) {
  return runCli(args, { env: { EFFNET_HOME: path.join(folder, 'home'), EFFNET_BACKEND: 'cpu' }, cwd: folder });
}

before(async () => {
  await tf.setBackend('cpu');
  folder = await fs.mkdtemp(path.join(os.tmpdir(), 'effnet-classify-cli-'));
  await saveTestModel(path.join(folder, 'model'), 3);
  const source = await loadModel(path.join(folder, 'model'));
  await fs.mkdir(path.join(folder, 'onnx'));
  await onnxExporter.write(source, path.join(folder, 'onnx'), 'none');
  source.model.dispose();
  mixed = await writeMixedFolder(path.join(folder, 'photos'));
});
after(() => fs.rm(folder, { recursive: true, force: true }));

test('classify an .onnx file over a mixed folder: a table, broken files reported on stderr', async () => {
  const { code, stdout, stderr } = await cli(['classify', 'onnx/model.onnx', 'photos', '--top-k', '2']);
  assert.equal(code, 0, stderr);
  const lines = stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^path\s+label\s+probability\s+next 1$/);
  assert.equal(lines.length, 2 + mixed.images.length);
  for (const name of ['empty.jpg', 'not-really.jpg', 'truncated.png']) assert.match(stderr, new RegExp(`skipped photos/broken/${name}: `));
  assert.match(stderr, /classified 6 image\(s\) with onnxruntime-node .*skipped 3 unreadable, ignored 1 non-image file\(s\)/);
});

test('--format csv --out FILE writes proper CSV; --format json prints results and skipped files', async () => {
  const csvRun = await cli(['classify', 'model', 'photos', '--format', 'csv', '--out', 'results.csv', '--top-k', '3', '--batch-size', '2']);
  assert.equal(csvRun.code, 0, csvRun.stderr);
  assert.equal(csvRun.stdout, '');
  const csv = await fs.readFile(path.join(folder, 'results.csv'), 'utf8');
  const rows = csv.trimEnd().split('\r\n');
  assert.equal(rows[0], 'path,label,probability,label_1,probability_1,label_2,probability_2,label_3,probability_3');
  assert.equal(rows.length, 1 + mixed.images.length);
  assert.ok(rows.some((row) => row.startsWith('"photos/nested/deeper/""quoted"", name.')));
  for (const image of mixed.images) {
    const row = rows.find((line) => line.includes(path.basename(image.path).replace(/"/g, '""')))!;
    assert.ok(row.includes(`,${image.label},`), `${image.path}: ${row}`);
  }

  const jsonRun = await cli(['classify', 'model', 'photos', '--format', 'json', '--top-k', '9']);
  assert.equal(jsonRun.code, 0, jsonRun.stderr);
  const json = JSON.parse(jsonRun.stdout);
  assert.equal(json.topK, TEST_LABELS.length, 'top-k is capped at the number of classes');
  assert.equal(json.results.length, mixed.images.length);
  assert.deepEqual(json.skipped.map((s: { path: string }) => path.basename(s.path)).sort(), [
    'empty.jpg',
    'not-really.jpg',
    'truncated.png',
  ]);
});

test('nothing readable is a failure; bad options are usage errors', async () => {
  const broken = await cli(['classify', 'onnx', 'photos/broken']);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /classified 0 image/);
  for (const [args, message] of [
    [['classify', 'model'], /give a MODEL and at least one IMAGE or DIR/],
    [['classify', 'model', 'photos', '--format', 'xml'], /--format must be one of table, json, csv/],
    [['classify', 'model', 'photos', '--top-k', '0'], /--top-k must be a whole number/],
  ] as const) {
    const { code, stderr } = await cli([...args]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
  }
});
