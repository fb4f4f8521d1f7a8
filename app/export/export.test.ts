import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openModelFolder } from '../classify/tfjs-classifier.ts';
import { AppError } from '../common/errors.ts';
import { modelFacts } from '../common/efficientnet/index.ts';
import { readModelMetadata } from '../model/model-format.ts';
import { exportModel, MODEL_CARD_JSON, MODEL_CARD_MARKDOWN, type ExportResult } from './export.ts';
import { LAYER_EMITTERS } from './onnx/emitters.ts';
import { createOnnxExporter } from './onnx/onnx-exporter.ts';
import { EXPORTERS } from './registry.ts';
import { classImagePng, saveTestModel, TEST_LABELS } from './test-models.ts';
import { buildVerificationSets, type VerificationImage } from './verification-inputs.ts';
import { FLOAT_TOLERANCE, QUANTIZED_AGREEMENT, verifyExport } from './verify.ts';
import type { LayerEmitter } from './onnx/context.ts';

let root: string;
let modelDir: string;
let images: VerificationImage[];
const exported = new Map<string, ExportResult>();

before(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'effnet-export-'));
  modelDir = await saveTestModel(path.join(root, 'model'), 3);
  images = [];
  for (let label = 0; label < TEST_LABELS.length; label++) {
    for (let n = 0; n < 5; n++) {
      const file = path.join(root, 'val', TEST_LABELS[label]!, `${n}.png`);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, await classImagePng(label, 1000 + n));
      images.push({ path: file, label: TEST_LABELS[label] });
    }
  }
  // One broken file among the validation images: skipped and reported, not fatal.
  await fs.writeFile(path.join(root, 'val', 'broken.png'), 'not an image');
  images.push({ path: path.join(root, 'val', 'broken.png'), label: 'daisy' });
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const exportTo = (
  name: string,
  request: Partial<Parameters<typeof exportModel>[0]> & Pick<Parameters<typeof exportModel>[0], 'format'>,
  options = {},
) => exportModel({ modelDir, outDir: path.join(root, name), images, randomInputs: 16, ...request }, options);

test('every registered exporter, at every quantization it offers, writes an artifact that passes parity', async (t) => {
  const formats = EXPORTERS.map((exporter) => exporter.format);
  assert.equal(new Set(formats).size, formats.length, 'formats are unique');
  for (const exporter of EXPORTERS) {
    assert.ok(exporter.quantizations.includes('none'), `${exporter.format} offers float32`);
    for (const quantization of exporter.quantizations) {
      const phases: string[] = [];
      const result = await exportTo(
        `${exporter.format}-${quantization}`,
        { format: exporter.format, quantization },
        { onProgress: (p: { phase: string }) => phases.push(p.phase) },
      );
      exported.set(`${exporter.format}-${quantization}`, result);
      const v = result.verification;
      t.diagnostic(
        `${exporter.format} ${quantization}: max |Δp| ${v.overall.maxAbsDiff.toExponential(2)}, top-1 agreement images ${v.sets.images?.top1Agreement} random ${v.sets.random?.top1Agreement}, accuracy ${v.sets.images?.accuracyOriginal} → ${v.sets.images?.accuracyExported}, ${result.files.find((f) => f.name === exporter.artifact || f.name.endsWith('.bin'))?.bytes} weight bytes`,
      );
      assert.equal(result.passed, true, `${exporter.format}/${quantization} failed: ${v.failures.join(' ')}`);
      assert.equal(v.sets.images?.inputs, TEST_LABELS.length * 5);
      assert.equal(v.sets.random?.inputs, 16);
      assert.deepEqual(
        v.skippedImages.map((s) => path.basename(s.path)),
        ['broken.png'],
      );
      if (quantization === 'none') assert.ok(v.overall.maxAbsDiff <= FLOAT_TOLERANCE);
      else assert.ok(v.sets.images!.top1Agreement! >= QUANTIZED_AGREEMENT);
      // The model is a real classifier of these images, so accuracy is meaningful, and kept by the export.
      assert.ok(v.sets.images!.accuracyOriginal! >= 0.9, `accuracy ${v.sets.images!.accuracyOriginal}`);
      assert.deepEqual([...new Set(phases)], ['load', 'write', 'prepare', 'verify', 'finish']);

      const names = result.files.map((file) => file.name);
      for (const name of [exporter.artifact, 'verification.json', MODEL_CARD_JSON, MODEL_CARD_MARKDOWN])
        assert.ok(names.includes(name), `${name} in ${names}`);
      assert.deepEqual(JSON.parse(await fs.readFile(path.join(result.outDir, 'verification.json'), 'utf8')), JSON.parse(JSON.stringify(v)));
      assert.deepEqual(
        (await fs.readdir(root)).filter((name) => name.startsWith('.')),
        [],
        'no temporary folders left',
      );
    }
  }
});

test('quantized artifacts are smaller: float16 about half, uint8 about a quarter', () => {
  const weightBytes = (key: string) =>
    exported
      .get(key)!
      .files.filter((file) => file.name.endsWith('.bin') || file.name.endsWith('.onnx'))
      .reduce((sum, file) => sum + file.bytes, 0);
  for (const format of ['tfjs', 'onnx']) {
    const full = weightBytes(`${format}-none`);
    assert.ok(weightBytes(`${format}-float16`) < 0.6 * full, `${format} float16`);
    assert.ok(weightBytes(`${format}-uint8`) < 0.4 * full, `${format} uint8`);
  }
});

test('the model card describes the model, its preprocessing and its provenance', async () => {
  const result = exported.get('onnx-none')!;
  const card = JSON.parse(await fs.readFile(path.join(result.outDir, MODEL_CARD_JSON), 'utf8'));
  const { spec } = await readModelMetadata(modelDir);
  const facts = modelFacts(spec);
  assert.deepEqual(card.labels, TEST_LABELS);
  assert.equal(card.model.macs, facts.macs);
  assert.equal(card.model.parameters.total, facts.totalParams);
  assert.equal(card.model.resolution, 32);
  assert.equal(card.preprocessing.resizeShorterSideTo, 37);
  assert.deepEqual(card.preprocessing.input.range, [0, 255]);
  assert.deepEqual(card.preprocessing.normalizationInsideModel.mean, [0.485, 0.456, 0.406]);
  assert.equal(card.training.datasetFingerprint, 'sha256:feedface');
  assert.equal(card.training.runId, 'run-7');
  assert.equal(card.verification.passed, true);
  const markdown = await fs.readFile(path.join(result.outDir, MODEL_CARD_MARKDOWN), 'utf8');
  for (const text of [
    'Verification: PASSED',
    'centre 32×32',
    '0. daisy',
    'onnxruntime-node',
    'sha256:feedface',
    facts.macs.toLocaleString('en-US'),
  ]) {
    assert.ok(markdown.includes(text), `model-card.md mentions ${text}`);
  }
});

test('verifying an artifact against a model with other weights fails, with the numbers', async () => {
  const other = await saveTestModel(path.join(root, 'other-model'), 4);
  const reference = await openModelFolder(other);
  const artifact = await EXPORTERS.find((e) => e.format === 'onnx')!.open(exported.get('onnx-none')!.outDir);
  const { sets } = await buildVerificationSets(images.slice(0, 10), { labels: TEST_LABELS, inputSize: 32, randomInputs: 8 });
  const report = await verifyExport(reference, artifact, sets, { quantization: 'none' });
  await Promise.all([reference.dispose(), artifact.dispose()]);
  assert.equal(report.passed, false);
  assert.ok(report.overall.maxAbsDiff > 1e-2, `max diff ${report.overall.maxAbsDiff}`);
  assert.match(report.failures[0]!, /above the float32 tolerance 0\.0001/);
});

/** The ONNX writer with BatchNorm folding switched off and BatchNorm dropped: the classic wrong graph. */
function withoutBatchNorm(keepStandaloneBatchNorm: boolean): Record<string, LayerEmitter> {
  const noFusion =
    (emit: LayerEmitter): LayerEmitter =>
    (context) =>
      emit({ ...context, soleConsumer: () => undefined });
  return {
    ...LAYER_EMITTERS,
    Conv2D: noFusion(LAYER_EMITTERS.Conv2D!),
    DepthwiseConv2D: noFusion(LAYER_EMITTERS.DepthwiseConv2D!),
    ...(keepStandaloneBatchNorm ? {} : { BatchNormalization: (context) => context.input() }),
  };
}

test('an ONNX exporter that drops BatchNorm is marked failed; emitting BatchNorm unfused passes', async () => {
  const broken = await exportTo('broken', { format: 'onnx' }, { exporters: [createOnnxExporter({ emitters: withoutBatchNorm(false) })] });
  assert.equal(broken.passed, false);
  assert.ok(broken.verification.overall.maxAbsDiff > 1e-2);
  const card = await fs.readFile(path.join(broken.outDir, MODEL_CARD_MARKDOWN), 'utf8');
  assert.match(card, /Verification: FAILED/);

  const unfused = await exportTo(
    'unfused',
    { format: 'onnx', randomInputs: 4, images: images.slice(0, 5) },
    { exporters: [createOnnxExporter({ emitters: withoutBatchNorm(true) })] },
  );
  assert.equal(unfused.passed, true, unfused.verification.failures.join(' '));
});

test('an export never replaces a folder of other files, and leaves nothing behind when it fails', async () => {
  const occupied = path.join(root, 'occupied');
  await fs.mkdir(occupied);
  await fs.writeFile(path.join(occupied, 'thesis.docx'), 'precious');
  await assert.rejects(
    exportTo('occupied', { format: 'onnx' }),
    (error: unknown) => error instanceof AppError && error.code === 'export-out-invalid',
  );
  assert.deepEqual(await fs.readdir(occupied), ['thesis.docx']);

  await assert.rejects(
    exportTo('missing', { format: 'onnx', modelDir: path.join(root, 'no-such-model') }),
    (error: unknown) => error instanceof AppError && error.code === 'model-not-found',
  );
  await assert.rejects(exportTo('bad-q', { format: 'tfjs', quantization: 'int4' as never }), /support quantization/);
  assert.deepEqual(
    (await fs.readdir(root)).filter((name) => name.startsWith('.')),
    [],
  );
});

test('an earlier export in the folder is replaced; cancelling stops the export', async () => {
  const again = await exportTo('onnx-none', { format: 'onnx', randomInputs: 2, images: [] });
  assert.equal(again.verification.overall.inputs, 2);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(exportTo('cancelled', { format: 'onnx' }, { signal: controller.signal }), { name: 'AbortError' });
  await assert.rejects(fs.stat(path.join(root, 'cancelled')), { code: 'ENOENT' });
});
