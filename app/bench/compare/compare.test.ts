import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { makeSpec } from '../../common/efficientnet/index.ts';
import { buildOnnxModel, ONNX_INPUT, ONNX_PROBABILITIES } from '../../export/onnx/onnx-writer.ts';
import { encodeModel } from '../../export/onnx/proto.ts';
import { randomImages } from '../../export/verification-inputs.ts';
import { buildEfficientNet } from '../../model/builder.ts';
import { judgeTargets, type CompareResult } from './report.ts';
import { ROWS } from './rows.ts';
import { judgeMemory, type EpochMemory } from './tfjs.ts';
import { sessionOptions, withNchwInput } from './ort.ts';

const epoch = (tensors: number, rssMiB: number, wasmHeapMiB?: number): EpochMemory => ({
  epoch: 0,
  tensors,
  tensorMiB: 0,
  rssMiB,
  ...(wasmHeapMiB === undefined ? {} : { wasmHeapMiB }),
});

const MEMORY = [
  { name: 'the same everywhere', epochs: [epoch(400, 2000, 3000), epoch(400, 2000, 3000), epoch(400, 2000, 3000)], flat: true },
  { name: 'RSS up 5 %', epochs: [epoch(400, 2000), epoch(400, 2050), epoch(400, 2100)], flat: true },
  { name: 'RSS up 20 %', epochs: [epoch(400, 2000), epoch(400, 2200), epoch(400, 2400)], flat: false, grew: /RSS 2000→2400/ },
  {
    name: 'a tensor leaked per epoch',
    epochs: [epoch(400, 2000), epoch(401, 2000), epoch(402, 2000)],
    flat: false,
    grew: /tensors 400→401→402/,
  },
  {
    name: 'the wasm heap grew',
    epochs: [epoch(400, 2000, 3000), epoch(400, 2000, 3100), epoch(400, 2000, 3100)],
    flat: false,
    grew: /wasm heap/,
  },
];

for (const { name, epochs, flat, grew } of MEMORY) {
  test(`memory across epochs: ${name} → ${flat ? 'flat' : 'grew'}`, () => {
    const verdict = judgeMemory(epochs);
    assert.equal(verdict.flat, flat);
    if (grew) assert.match(verdict.reason, grew);
  });
}

test('targets: WASM training ≥ 0.5× PyTorch (stretch 1×), onnxruntime-node inference ≥ 1×; missing figures are not judged', () => {
  const row = ROWS[0]!;
  const peer = {
    size: row.size,
    batch: row.batch,
    params: row.trainableParams,
    train: 2,
    infer: 8,
    train_cpu: 1,
    train_ms: [],
    infer_ms: [],
  };
  const wasm = (rate: number) => ({
    runtime: 'tfjs wasm',
    threads: '1',
    measurement: {
      backend: 'wasm',
      device: '',
      batch: 8,
      microBatch: 4,
      parts: 2,
      train: { rate, stepMs: [], perCpuSecond: 1 },
      memory: [],
    },
  });
  const ortAt = (rate: number) => ({
    version: '',
    rate,
    batchMs: [],
    options: {},
    defaultOptionsRate: 0,
    nchwInputRate: 0,
    oneThreadRate: 0,
    noSpinningRate: 0,
    operators: {},
  });
  const result = (rows: CompareResult['rows']) => ({ settings: { epochs: 3 }, rows }) as unknown as CompareResult;
  const cases = [
    { wasm: 0.9, ort: 8, expected: [false, true] },
    { wasm: 1.0, ort: 7.9, expected: [true, false] },
    { wasm: 2.5, ort: 20, expected: [true, true] },
  ];
  for (const c of cases) {
    const targets = judgeTargets(result([{ row, peer, tfjs: [wasm(c.wasm)], ort: ortAt(c.ort) }]));
    assert.deepEqual(
      targets.map((t) => t.met),
      c.expected,
      JSON.stringify(c),
    );
  }
  assert.match(judgeTargets(result([{ row, peer, tfjs: [wasm(2.5)], ort: ortAt(20) }]))[0]!.detail, /stretch met/);
  const unjudged = judgeTargets(result([{ row, tfjs: [wasm(2)], ort: ortAt(20) }]));
  assert.deepEqual(
    unjudged.map((t) => t.met),
    [null, null],
  );
});

test('the NCHW-input variant of an exported graph computes what the NHWC original does', async () => {
  tf.setBackend('cpu');
  const size = 32;
  const model = buildEfficientNet(makeSpec('b0', { width: 0.25, depth: 0.2, resolution: size, numClasses: 3 }));
  const proto = buildOnnxModel(model, { quantization: 'none' });
  model.dispose();
  const pixels = randomImages(2, size, 4);
  // The same images transposed to NCHW by hand.
  const planar = new Float32Array(pixels.length);
  for (let n = 0; n < 2; n++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < 3; c++) planar[((n * 3 + c) * size + y) * size + x] = pixels[((n * size + y) * size + x) * 3 + c]!;
  const run = async (bytes: Uint8Array, tensor: ort.Tensor) => {
    const session = await ort.InferenceSession.create(bytes, sessionOptions(2));
    const out = await session.run({ [ONNX_INPUT]: tensor });
    const values = Float32Array.from(out[ONNX_PROBABILITIES]!.data as Float32Array);
    await session.release();
    return values;
  };
  const nhwc = await run(encodeModel(proto), new ort.Tensor('float32', pixels, [2, size, size, 3]));
  const nchw = await run(encodeModel(withNchwInput(proto)), new ort.Tensor('float32', planar, [2, 3, size, size]));
  assert.equal(proto.graph.node.filter((node) => node.op_type === 'Transpose').length, 1);
  assert.equal(withNchwInput(proto).graph.node.filter((node) => node.op_type === 'Transpose').length, 0);
  for (let i = 0; i < nhwc.length; i++) assert.ok(Math.abs(nhwc[i]! - nchw[i]!) < 1e-5, `probability ${i}: ${nhwc[i]} vs ${nchw[i]}`);
});
