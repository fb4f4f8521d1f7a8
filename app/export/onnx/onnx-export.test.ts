import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { softmaxRows } from '../../classify/classifier.ts';
import { resolveArchitecture } from '../../common/efficientnet/index.ts';
import { buildTestModel, testSpec, TEST_LABELS } from '../test-models.ts';
import { randomImages } from '../verification-inputs.ts';
import type { Quantization } from '../quantize.ts';
import { samePads } from './emitters.ts';
import { buildOnnxModel, ONNX_OPSET } from './onnx-writer.ts';
import { DataType, decodeModel, encodeModel, type ModelProto } from './proto.ts';

let root: string;
let model: tf.LayersModel;
const spec = testSpec();
const written = new Map<Quantization, { file: string; proto: ModelProto }>();

before(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'effnet-onnx-'));
  model = buildTestModel(spec, 3);
  for (const quantization of ['none', 'float16', 'uint8'] as const) {
    const bytes = encodeModel(buildOnnxModel(model, { quantization, metadata: { labels: JSON.stringify(TEST_LABELS) } }));
    const file = path.join(root, `${quantization}.onnx`);
    await fs.writeFile(file, bytes);
    // Read back through the schema: what a consumer of the file sees.
    written.set(quantization, { file, proto: decodeModel(bytes) });
  }
});
after(async () => {
  model.dispose();
  await fs.rm(root, { recursive: true, force: true });
});

const ops = (proto: ModelProto) => proto.graph.node.map((node) => node.op_type);
const attribute = (node: ModelProto['graph']['node'][number], name: string) => node.attribute.find((a) => a.name === name);

test('the graph: opset 13, NHWC input with a dynamic batch, Transpose first, probabilities and logits out', () => {
  const { proto } = written.get('none')!;
  assert.equal(proto.opset_import[0]!.version, ONNX_OPSET);
  assert.ok(ONNX_OPSET >= 13);
  const input = proto.graph.input[0]!;
  assert.equal(input.name, 'input');
  assert.deepEqual(
    input.type.tensor_type.shape.dim.map((d) => d.dim_param || d.dim_value),
    ['batch', 32, 32, 3],
  );
  assert.deepEqual(
    proto.graph.output.map((o) => [o.name, o.type.tensor_type.shape.dim.map((d) => d.dim_param || d.dim_value)]),
    [
      ['probabilities', ['batch', 5]],
      ['logits', ['batch', 5]],
    ],
  );
  const first = proto.graph.node[0]!;
  assert.equal(first.op_type, 'Transpose');
  assert.deepEqual(attribute(first, 'perm')!.ints, [0, 3, 1, 2]);
  // Preprocessing inside: x·(1/255), then (x − mean)/std, before the stem convolution.
  assert.deepEqual(ops(proto).slice(1, 4), ['Mul', 'Sub', 'Div']);
  assert.deepEqual(JSON.parse(proto.metadata_props.find((p) => p.key === 'labels')!.value), TEST_LABELS);
});

test('BatchNorm is folded, swish is x·sigmoid(x), depthwise convolutions are grouped, SE uses GlobalAveragePool', () => {
  const { proto } = written.get('none')!;
  const list = ops(proto);
  const arch = resolveArchitecture(spec);
  assert.ok(!list.includes('BatchNormalization'));
  assert.ok(!list.includes('Pad'), 'zero padding is inside the Conv pads');
  const convs = proto.graph.node.filter((node) => node.op_type === 'Conv');
  const expand = arch.blocks.filter((b) => b.expandRatio !== 1).length;
  // stem + per block (expand?, depthwise, se reduce, se expand, project) + top.
  assert.equal(convs.length, 2 + arch.blocks.length * 4 + expand);
  const grouped = convs.filter((node) => Number(attribute(node, 'group')?.i ?? 1) > 1);
  assert.deepEqual(
    grouped.map((node) => Number(attribute(node, 'group')!.i)),
    arch.blocks.map((b) => b.expandedFilters),
  );
  // Folded convolutions carry a bias (from BN's shift), so every Conv has 3 inputs.
  assert.ok(convs.every((node) => node.input.length === 3));
  // Swish: a Sigmoid whose input is also multiplied by its output.
  const swishes = proto.graph.node.filter(
    (node) =>
      node.op_type === 'Mul' && node.input.some((name) => proto.graph.node.find((n) => n.output[0] === name)?.op_type === 'Sigmoid'),
  );
  assert.ok(swishes.length >= 2 + arch.blocks.length * 2, `${swishes.length} sigmoid-gated Muls`);
  assert.equal(list.filter((op) => op === 'GlobalAveragePool').length, arch.blocks.length + 1);
  assert.equal(list.at(-1), 'Softmax');
});

test("'same' padding becomes explicit asymmetric pads: the stem pads bottom/right only at even sizes", () => {
  const stem = written.get('none')!.proto.graph.node.find((node) => node.op_type === 'Conv')!;
  assert.deepEqual(attribute(stem, 'pads')!.ints, [0, 0, 1, 1]);
  assert.deepEqual(attribute(stem, 'strides')!.ints, [2, 2]);
  for (const [size, kernel, stride, expected] of [
    [32, 3, 2, [0, 1]],
    [33, 3, 2, [1, 1]],
    [16, 5, 2, [1, 2]],
    [16, 3, 1, [1, 1]],
    [16, 1, 1, [0, 0]],
  ] as const) {
    assert.deepEqual(samePads(size, kernel, stride, 1), expected, `${size}/${kernel}/${stride}`);
  }
});

test('quantized graphs: float16 weights with Cast, uint8 weights per channel with DequantizeLinear', () => {
  const half = written.get('float16')!.proto;
  assert.ok(half.graph.initializer.some((t) => t.data_type === DataType.FLOAT16));
  assert.equal(ops(half).filter((op) => op === 'Cast').length, ops(half).filter((op) => op === 'Conv' || op === 'Gemm').length);
  const bytes = written.get('uint8')!.proto;
  const dequantize = bytes.graph.node.filter((node) => node.op_type === 'DequantizeLinear');
  assert.equal(dequantize.length, ops(bytes).filter((op) => op === 'Conv' || op === 'Gemm').length);
  const scale = bytes.graph.initializer.find((t) => t.name === dequantize[0]!.input[1])!;
  assert.ok(scale.dims[0]! > 1, 'one scale per output channel');
});

test('onnxruntime-node runs every variant at batch sizes 1 and 3, matching tfjs', async (t) => {
  const pixels = randomImages(3, 32, 9);
  const expected = (model.predict(tf.tensor4d(pixels, [3, 32, 32, 3])) as tf.Tensor).dataSync() as Float32Array;
  for (const [quantization, { file }] of written) {
    const session = await ort.InferenceSession.create(file);
    for (const batch of [1, 3]) {
      const out = await session.run({ input: new ort.Tensor('float32', pixels.subarray(0, batch * 32 * 32 * 3), [batch, 32, 32, 3]) });
      const probabilities = out.probabilities!.data as Float32Array;
      const logits = out.logits!.data as Float32Array;
      assert.deepEqual(out.probabilities!.dims, [batch, 5]);
      let max = 0;
      for (let i = 0; i < probabilities.length; i++) max = Math.max(max, Math.abs(probabilities[i]! - expected[i]!));
      t.diagnostic(`${quantization} batch ${batch}: max |Δp| vs tfjs ${max.toExponential(2)}`);
      assert.ok(max < (quantization === 'none' ? 1e-4 : 0.3), `${quantization}: ${max}`);
      const fromLogits = softmaxRows(Float32Array.from(logits), batch);
      assert.ok(
        fromLogits.every((p, i) => Math.abs(p - probabilities[i]!) < 1e-6),
        'probabilities = softmax(logits)',
      );
    }
    await session.release();
  }
});

test('torchvision padding and a linear classifier export too (symmetric pads, softmax added)', async () => {
  const other = testSpec({ padding: 'symmetric', classifierActivation: 'linear', resolution: 33 });
  const linear = buildTestModel(other, 8);
  const proto = buildOnnxModel(linear, { quantization: 'none' });
  const stem = proto.graph.node.find((node) => node.op_type === 'Conv')!;
  assert.deepEqual(attribute(stem, 'pads')!.ints, [1, 1, 1, 1]);
  const session = await ort.InferenceSession.create(encodeModel(proto));
  const pixels = randomImages(2, 33, 4);
  const out = await session.run({ input: new ort.Tensor('float32', pixels, [2, 33, 33, 3]) });
  const logits = (linear.predict(tf.tensor4d(pixels, [2, 33, 33, 3])) as tf.Tensor).dataSync() as Float32Array;
  const probabilities = softmaxRows(logits, 2);
  assert.ok((out.logits!.data as Float32Array).every((v, i) => Math.abs(v - logits[i]!) < 1e-3));
  assert.ok((out.probabilities!.data as Float32Array).every((v, i) => Math.abs(v - probabilities[i]!) < 1e-4));
  await session.release();
  linear.dispose();
});

/** Debian's python3-onnx (installed by .ci/run); pyenv's python3 may shadow it, so try both. */
function pythonWithOnnx(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import onnx'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

test('onnx.checker.check_model(full_check=True) accepts every variant', (t) => {
  const python = pythonWithOnnx();
  if (!python) {
    t.skip(
      "python3 -c 'import onnx' fails: install Debian's python3-onnx (apt-get install -y python3-onnx) to run the official ONNX checker",
    );
    return;
  }
  const files = [...written.values()].map((entry) => entry.file);
  const script = `import sys, onnx
for f in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(f), full_check=True)
print(onnx.__version__)`;
  const version = execFileSync(python, ['-c', script, ...files], { encoding: 'utf8' });
  t.diagnostic(`onnx ${version.trim()} checked ${files.length} files with full_check=True`);
});
