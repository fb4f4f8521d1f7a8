import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { RunRow } from '../common/store-types.ts';
import { onnxExporter } from '../export/onnx/onnx-exporter.ts';
import { tfjsExporter } from '../export/tfjs/tfjs-exporter.ts';
import { loadModel } from '../model/model-format.ts';
import { saveTestModel, TEST_LABELS, writeMixedFolder, type MixedFolder } from '../export/test-models.ts';
import { classifyFiles, collectImages, openClassifier, topPredictions, type ClassifyResult } from './classify.ts';
import { locateModel, type ModelLocation, type RunLookup } from './model-location.ts';
import { csvField, formatCsv, formatJson } from './output.ts';

let root: string;
let modelDir: string;
let folder: MixedFolder;
const locations: Record<string, ModelLocation> = {};

before(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'effnet-classify-'));
  modelDir = await saveTestModel(path.join(root, 'run', 'checkpoints', 'best', 'model'), 3);
  const source = await loadModel(modelDir);
  for (const exporter of [tfjsExporter, onnxExporter]) {
    const dir = path.join(root, `export-${exporter.format}`);
    await fs.mkdir(dir);
    await exporter.write(source, dir, 'none');
  }
  source.model.dispose();
  folder = await writeMixedFolder(path.join(root, 'photos'));
  locations.model = await locateModel(modelDir, { cwd: root });
  locations.tfjs = await locateModel('export-tfjs', { cwd: root });
  locations.onnx = await locateModel('export-onnx/model.onnx', { cwd: root });
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

test('model arguments: model, checkpoint and run folders, exported folders, .onnx files and run ids', async () => {
  const fakeRun = { id: 12, name: 'flowers', status: 'completed', bestEpoch: 3, config: {} } as unknown as RunRow;
  const store: RunLookup = {
    runs: { get: (id) => (id === 12 ? fakeRun : undefined) },
    artifacts: {
      list: () => [
        { kind: 'checkpoint', path: path.join(root, 'run', 'checkpoints', 'last'), epoch: 4 },
        { kind: 'checkpoint-best', path: path.join(root, 'run', 'checkpoints', 'best'), epoch: 3 },
      ],
    },
  };
  const cases: [string, Partial<ModelLocation> & { kind: string }][] = [
    [modelDir, { kind: 'model', dir: modelDir }],
    [path.join(modelDir, 'effnet.json'), { kind: 'model', dir: modelDir }],
    ['run/checkpoints/best', { kind: 'model', dir: modelDir, checkpoint: path.join(root, 'run', 'checkpoints', 'best') }],
    ['run', { kind: 'model', dir: modelDir, checkpoint: path.join(root, 'run', 'checkpoints', 'best') }],
    ['export-tfjs', { kind: 'tfjs', dir: path.join(root, 'export-tfjs') }],
    ['export-onnx', { kind: 'onnx', file: path.join(root, 'export-onnx', 'model.onnx') }],
    ['export-onnx/model.onnx', { kind: 'onnx', file: path.join(root, 'export-onnx', 'model.onnx') }],
    ['12', { kind: 'model', dir: modelDir, checkpoint: path.join(root, 'run', 'checkpoints', 'best'), run: fakeRun }],
    ['run:12', { kind: 'model', dir: modelDir }],
  ];
  for (const [argument, expected] of cases) {
    const found = await locateModel(argument, { cwd: root, openStore: () => store });
    for (const [key, value] of Object.entries(expected))
      assert.deepEqual((found as Record<string, unknown>)[key], value, `${argument}: ${key}`);
  }
  for (const [argument, code] of [
    ['photos', 'model-not-found'],
    ['no-such-thing', 'model-not-found'],
    ['13', 'run-not-found'],
  ] as const) {
    await assert.rejects(locateModel(argument, { cwd: root, openStore: () => store }), { code }, argument);
  }
  await assert.rejects(locateModel('12', { cwd: root }), { code: 'run-not-found', message: /no experiment store/ });
});

test('folders recurse by extension; named files are taken as given; missing paths are reported', async () => {
  const { files, ignored, missing } = await collectImages(['photos', 'photos/notes.txt', 'gone.png'], root);
  const expected = [...folder.images.map((i) => i.path), ...folder.broken, ...folder.other].sort();
  assert.deepEqual([...files].sort(), expected);
  assert.equal(ignored, 1, 'notes.txt inside the folder is not an image by name');
  assert.deepEqual(missing, [{ path: path.join(root, 'gone.png'), reason: 'no such file or folder' }]);
});

const results = new Map<string, ClassifyResult>();

test('every kind of model classifies the mixed folder; unreadable files are skipped with a reason', async (t) => {
  const { files } = await collectImages(['photos'], root);
  for (const [kind, location] of Object.entries(locations)) {
    const classifier = await openClassifier(location);
    const progress: number[] = [];
    const result = await classifyFiles(classifier, files, { topK: 3, batchSize: 4, onProgress: (done) => progress.push(done) });
    await classifier.dispose();
    results.set(kind, result);
    assert.equal(files.length, 9);
    assert.deepEqual(progress, [4, 8, 9]);
    assert.deepEqual(result.skipped.map((s) => path.basename(s.path)).sort(), ['empty.jpg', 'not-really.jpg', 'truncated.png'], kind);
    const reasons = Object.fromEntries(result.skipped.map((s) => [path.basename(s.path), s.reason]));
    assert.match(reasons['empty.jpg']!, /empty/);
    assert.match(reasons['not-really.jpg']!, /text/);
    assert.match(reasons['truncated.png']!, /truncated/);
    assert.equal(result.results.length, folder.images.length);
    const right = folder.images.filter((image) => result.results.find((r) => r.path === image.path)?.top[0]?.label === image.label).length;
    t.diagnostic(`${kind} (${classifier.runtime}): ${right}/${folder.images.length} right`);
    assert.ok(right >= folder.images.length - 1, `${kind}: ${right} right`);
    for (const r of result.results) {
      assert.equal(r.top.length, 3);
      assert.ok(r.top[0]!.probability >= r.top[1]!.probability && r.top[1]!.probability >= r.top[2]!.probability);
    }
  }
  // The same images through three runtimes: the same answers.
  const labels = (kind: string) => results.get(kind)!.results.map((r) => `${path.basename(r.path)}=${r.top[0]!.label}`);
  assert.deepEqual(labels('onnx'), labels('model'));
  assert.deepEqual(labels('tfjs'), labels('model'));
  const probability = (kind: string) => results.get(kind)!.results.map((r) => r.top[0]!.probability);
  assert.ok(probability('onnx').every((p, i) => Math.abs(p - probability('model')[i]!) < 1e-4));
});

test('CSV: path, label, probability, then the top k; quoted where needed', () => {
  assert.equal(csvField('plain.jpg'), 'plain.jpg');
  assert.equal(csvField('a,b.jpg'), '"a,b.jpg"');
  assert.equal(csvField('say "hi".png'), '"say ""hi"".png"');
  assert.equal(csvField('line\nbreak'), '"line\nbreak"');
  const csv = formatCsv(results.get('onnx')!, 3, path.join(root, 'photos'));
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines[0], 'path,label,probability,label_1,probability_1,label_2,probability_2,label_3,probability_3');
  assert.equal(lines.length, 1 + folder.images.length);
  const quoted = lines.find((line) => line.startsWith('"nested/deeper/'))!;
  assert.ok(quoted.startsWith('"nested/deeper/""quoted"", name.'), quoted);
  const field = /^"(?:[^"]|"")*",/.exec(quoted)![0];
  assert.equal(field.slice(1, -2).replace(/""/g, '"'), path.relative(path.join(root, 'photos'), folder.images[2]!.path));
  const cells = quoted.slice(field.length).split(',');
  assert.equal(cells.length, 2 + 3 * 2);
  assert.equal(cells[0], cells[2], 'the top-1 label repeats as label_1');
  assert.ok(TEST_LABELS.includes(cells[0]!));
  assert.match(cells[1]!, /^0\.\d{4}$|^1\.0000$/);
});

test('JSON: results with path, label, probability and top; skipped with reasons', () => {
  const json = JSON.parse(formatJson(results.get('tfjs')!, { model: 'm', runtime: 'r', topK: 3 }, root));
  assert.deepEqual(Object.keys(json), ['model', 'runtime', 'topK', 'results', 'skipped']);
  assert.deepEqual(Object.keys(json.results[0]), ['path', 'label', 'probability', 'top']);
  assert.equal(json.results[0].top.length, 3);
  assert.ok(json.results.every((r: { path: string }) => r.path.startsWith('photos/')));
  assert.equal(json.skipped.length, 3);
});

test('top k orders by probability, ties by class order', () => {
  assert.deepEqual(
    topPredictions(Float32Array.from([0.1, 0.4, 0.1, 0.4]), ['a', 'b', 'c', 'd'], 3).map((p) => p.label),
    ['b', 'd', 'a'],
  );
});
