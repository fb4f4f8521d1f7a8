import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PROJECT_ROOT } from '../../node/shared-path.ts';
import { buildTestModel, testSpec, TEST_LABELS } from '../test-models.ts';
import { randomImages } from '../verification-inputs.ts';
import { nodeLoadSnippet } from './tfjs-exporter.ts';
import { writeTfjsExport } from './tfjs-writer.ts';

let root: string;
let model: tf.LayersModel;
const spec = testSpec();

before(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'effnet-tfjs-export-'));
  model = buildTestModel(spec, 3);
  for (const quantization of ['none', 'float16', 'uint8'] as const) {
    await writeTfjsExport(model, path.join(root, quantization), { quantization, labels: TEST_LABELS });
  }
});
after(async () => {
  model.dispose();
  await fs.rm(root, { recursive: true, force: true });
});

const readModelJson = async (name: string) => JSON.parse(await fs.readFile(path.join(root, name, 'model.json'), 'utf8'));

test('the export uses only layers plain tfjs knows: preprocessing is one 1×1 DepthwiseConv2D', async () => {
  const json = await readModelJson('none');
  const layers = json.modelTopology.config.layers as { name: string; class_name: string; inbound_nodes: unknown }[];
  const classes = new Set(layers.map((layer) => layer.class_name));
  assert.ok(!classes.has('Normalization') && !classes.has('Rescaling'), [...classes].join(', '));
  const normalization = layers.find((layer) => layer.name === 'normalization')!;
  assert.equal(normalization.class_name, 'DepthwiseConv2D');
  assert.deepEqual(normalization.inbound_nodes, [[['input_layer', 0, 0, {}]]]);
  const names = json.weightsManifest[0].weights.map((w: { name: string }) => w.name);
  assert.ok(names.includes('normalization/depthwise_kernel') && !names.includes('normalization/mean'));
  assert.deepEqual(JSON.parse(await fs.readFile(path.join(root, 'none', 'labels.json'), 'utf8')), TEST_LABELS);
});

test('quantized manifests: conv and dense kernels as float16 or uint8 (min/scale), BatchNorm kept float32', async () => {
  for (const quantization of ['float16', 'uint8'] as const) {
    const weights = (await readModelJson(quantization)).weightsManifest[0].weights as {
      name: string;
      quantization?: { dtype: string; min?: number; scale?: number };
    }[];
    const quantized = weights.filter((w) => w.quantization);
    assert.ok(quantized.length > 0);
    for (const weight of quantized) {
      assert.match(weight.name, /kernel$/);
      assert.equal(weight.quantization!.dtype, quantization);
      if (quantization === 'uint8') assert.ok(Number.isFinite(weight.quantization!.min) && weight.quantization!.scale! > 0);
    }
    assert.ok(weights.filter((w) => /moving_variance|gamma|bias/.test(w.name)).every((w) => !w.quantization));
    assert.ok(
      weights
        .filter((w) => /(project_conv|expand_conv|dwconv|predictions)\/(depthwise_)?kernel$/.test(w.name))
        .every((w) => w.quantization),
    );
  }
});

test('a separate Node process with nothing but @tensorflow/tfjs loads it and predicts what the app does', async (t) => {
  const pixels = randomImages(4, spec.resolution, 21);
  const pixelFile = path.join(root, 'pixels.bin');
  await fs.writeFile(pixelFile, new Uint8Array(pixels.buffer));
  const expected = (model.predict(tf.tensor4d(pixels, [4, 32, 32, 3])) as tf.Tensor).dataSync();
  for (const quantization of ['none', 'float16', 'uint8'] as const) {
    // The model card's own snippet, then a prediction; run from the project root so the bare import resolves.
    const script = `${nodeLoadSnippet(path.join(root, quantization))}
const bytes = await fs.readFile(${JSON.stringify(pixelFile)});
const pixels = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const probabilities = await model.predict(tf.tensor4d(pixels, [4, 32, 32, 3])).data();
console.log(JSON.stringify({ labels, probabilities: Array.from(probabilities), backend: tf.getBackend() }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as { labels: string[]; probabilities: number[]; backend: string };
    assert.deepEqual(result.labels, TEST_LABELS);
    const max = Math.max(...result.probabilities.map((p, i) => Math.abs(p - expected[i]!)));
    t.diagnostic(`${quantization}: plain tfjs (${result.backend}) in a child process, max |Δp| ${max.toExponential(2)}`);
    assert.ok(max < (quantization === 'none' ? 1e-4 : 0.3), `${quantization}: ${max}`);
  }
});
