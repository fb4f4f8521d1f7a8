import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { makeSpec, modelFacts, resolveArchitecture, type ModelSpec, type ModelSpecOptions } from '../common/efficientnet/index.ts';
import { PROJECT_ROOT, sharedPath } from '../node/shared-path.ts';
import { buildEfficientNet, modelName } from './builder.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from './layers.ts';
import { writeSafetensors } from './safetensors.ts';

// wasm runs these forward passes about ten times faster than the pure-JS cpu backend.
const backend = (await tf.setBackend('wasm')) ? 'wasm' : 'cpu';
if (backend === 'cpu') await tf.setBackend('cpu');

const size = (shape: readonly (number | null)[]) => shape.reduce<number>((product, d) => product * (d ?? 1), 1);
const count = (weights: readonly tf.LayerVariable[]) => weights.reduce((sum, w) => sum + size(w.shape), 0);

/**
 * efficientnet-facts §1.6, Keras with `weights=None` (no `rescaling_1`, like ours): len(model.layers),
 * layers with weights, len(model.weights), len(model.trainable_weights), BatchNormalization layers.
 */
const KERAS_COUNTS: Record<string, { layers: number; weighted: number; weights: number; trainable: number; batchNorm: number }> = {
  b0: { layers: 240, weighted: 132, weights: 314, trainable: 213, batchNorm: 49 },
  b1: { layers: 342, weighted: 186, weights: 442, trainable: 301, batchNorm: 69 },
  b2: { layers: 342, weighted: 186, weights: 442, trainable: 301, batchNorm: 69 },
  b3: { layers: 387, weighted: 210, weights: 499, trainable: 340, batchNorm: 78 },
  b4: { layers: 477, weighted: 258, weights: 613, trainable: 418, batchNorm: 96 },
  b5: { layers: 579, weighted: 312, weights: 741, trainable: 506, batchNorm: 116 },
  b6: { layers: 669, weighted: 360, weights: 855, trainable: 584, batchNorm: 134 },
  b7: { layers: 816, weighted: 438, weights: 1040, trainable: 711, batchNorm: 163 },
};

/**
 * The registry walk. B3–B7 build 12–67 M random weights (about 14 s together on one free core,
 * several times that on the shared 2-core CI machine), so they run only with
 * EFFNET_TEST_LARGE_VARIANTS=1 (all pass). Skipping them loses little: every variant is the same
 * loop over the same table, B0–B2 and the φ/width variants below exercise every branch (depth
 * rounding, width rounding, both paddings, every top), and facts.test.ts checks the counts of
 * all eight variants against torchvision.
 */
const LARGE = new Set(['b3', 'b4', 'b5', 'b6', 'b7']);
const runLarge = process.env.EFFNET_TEST_LARGE_VARIANTS === '1';
const SPECS: [string, ModelSpecOptions][] = [
  ...Object.keys(KERAS_COUNTS).map((variant) => [variant, {}] as [string, ModelSpecOptions]),
  ['b0', { includeTop: false, pooling: 'avg' }],
  ['b0', { includeTop: false, pooling: 'max', preprocessing: 'none' }],
  ['b2', { includeTop: false, pooling: 'none', numClasses: 3 }],
  ['b1', { numClasses: 17, dropout: 0, dropConnectRate: 0 }],
  ['phi:-1', {}],
  ['phi:-2.5', { padding: 'symmetric' }],
  ['b0', { width: 0.25, depth: 0.34, resolution: 64, numClasses: 10 }],
];

for (const [variant, options] of SPECS) {
  const spec = makeSpec(variant, options);
  const label = `${variant} ${JSON.stringify(options)}`;
  test(`${label}: parameter counts equal modelFacts`, (t) => {
    if (LARGE.has(variant) && !runLarge) {
      t.skip(
        `${variant} builds ${(modelFacts(spec).totalParams / 1e6).toFixed(0)} M random weights; set EFFNET_TEST_LARGE_VARIANTS=1 to build it`,
      );
      return;
    }
    const model = buildEfficientNet(spec);
    try {
      const facts = modelFacts(spec);
      assert.equal(model.countParams(), facts.totalParams);
      assert.equal(count(model.trainableWeights), facts.trainableParams);
      assert.equal(count(model.nonTrainableWeights), facts.nonTrainableParams);
      assert.equal(model.name, modelName(spec));
      assert.deepEqual(model.inputs[0]!.shape, [null, spec.resolution, spec.resolution, 3]);
      const expectedOutput = spec.includeTop
        ? [null, spec.numClasses]
        : spec.pooling === 'none'
          ? [null, facts.featureMapSize, facts.featureMapSize, facts.featureChannels]
          : [null, facts.featureChannels];
      assert.deepEqual(model.outputs[0]!.shape, expectedOutput);
      const batchNorm = model.layers.filter((layer) => layer.getClassName() === 'BatchNormalization').length;
      assert.equal(batchNorm, facts.batchNormLayers);
      const keras = KERAS_COUNTS[variant];
      if (keras && Object.keys(options).length === 0) {
        assert.equal(model.layers.length, keras.layers, 'len(model.layers)');
        assert.equal(model.layers.filter((layer) => layer.weights.length > 0).length, keras.weighted, 'layers with weights');
        assert.equal(model.weights.length, keras.weights, 'len(model.weights)');
        assert.equal(model.trainableWeights.length, keras.trainable, 'len(model.trainable_weights)');
      }
    } finally {
      model.dispose();
    }
  });
}

interface ReferenceLayer {
  name: string;
  className: string;
  weights: { name: string; shape: number[]; trainable: boolean }[];
}

/** Rows of efficientnet-b0-layers.md: `| # | \`name\` | Class | kernel[3, 3, 3, 32], ... | paths |`. */
function referenceLayers(): ReferenceLayer[] {
  const text = readFileSync(sharedPath('docs/reference/efficientnet-b0-layers.md'), 'utf8');
  const rows: ReferenceLayer[] = [];
  for (const line of text.split('\n')) {
    const match = /^\| \d+ \| `([^`]+)` \| (\w+) \| ([^|]*) \|/.exec(line);
    if (!match) continue;
    const weights = [...match[3]!.matchAll(/(\w+)\[([\d, ]*)\]( \(non-trainable\))?/g)].map((w) => ({
      name: w[1]!,
      shape: w[2]!.trim() === '' ? [] : w[2]!.split(',').map(Number),
      trainable: w[3] === undefined,
    }));
    rows.push({ name: match[1]!, className: match[2]!, weights });
  }
  return rows;
}

test("B0's layers, classes, weight names, shapes and trainability equal keras.applications' list", () => {
  const reference = referenceLayers();
  assert.equal(reference.length, 241, 'the reference lists 241 layers');
  // Keras adds rescaling_1 (1/√std) only with weights="imagenet"; our Normalization holds std² instead.
  const expected = reference.filter((layer) => layer.name !== 'rescaling_1');
  const model = buildEfficientNet(makeSpec('b0'));
  try {
    const actual: ReferenceLayer[] = model.layers.map((layer) => ({
      name: layer.name,
      className: layer.getClassName(),
      weights: layer.weights.map((w) => ({
        name: w.originalName.split('/').at(-1)!,
        shape: [...w.shape] as number[],
        trainable: w.trainable,
      })),
    }));
    assert.deepEqual(
      actual.map((layer) => layer.name),
      expected.map((layer) => layer.name),
    );
    assert.deepEqual(actual, expected);
  } finally {
    model.dispose();
  }
});

test('the preprocessing layers compute (x/255 − ImageNet mean) / ImageNet std per channel', () => {
  const model = buildEfficientNet(makeSpec('b0', { resolution: 32 }));
  try {
    const preprocess = tf.model({ inputs: model.inputs, outputs: model.getLayer('normalization').output as tf.SymbolicTensor });
    const pixels = [0, 255, 128, 17, 200, 90];
    const x = tf.tensor4d(
      Array.from({ length: 32 * 32 * 3 }, (_, i) => pixels[i % pixels.length]!),
      [1, 32, 32, 3],
    );
    const out = (preprocess.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < 12; i++) {
      const channel = i % 3;
      const expected = (pixels[i % pixels.length]! / 255 - IMAGENET_MEAN[channel]!) / IMAGENET_STD[channel]!;
      assert.ok(Math.abs(out[i]! - expected) < 1e-5, `value ${i}: ${out[i]} vs ${expected}`);
    }
  } finally {
    model.dispose();
  }
});

test('initializers: He truncated normal for convolutions (not the uniform tfjs falls back to), uniform ±1/√classes for the classifier', () => {
  const model = buildEfficientNet(makeSpec('b0', { resolution: 32 }));
  try {
    const kernel = model.getLayer('top_conv').getWeights()[0]!.dataSync<'float32'>(); // [1, 1, 320, 1280]: fan_out 1280
    const std = Math.sqrt(kernel.reduce((sum, v) => sum + v * v, 0) / kernel.length);
    assert.ok(Math.abs(std / Math.sqrt(2 / 1280) - 1) < 0.03, `std ${std}`);
    // A uniform with that std never exceeds √(6/fan_out); a truncated normal does ~8% of the time.
    const beyond = kernel.filter((v) => Math.abs(v) > Math.sqrt(6 / 1280)).length / kernel.length;
    assert.ok(beyond > 0.05 && beyond < 0.12, `fraction beyond the uniform limit: ${beyond}`);
    const depthwise = model.getLayer('block6b_dwconv').getWeights()[0]!.dataSync<'float32'>(); // 5×5 kernels: fan_out 25
    const dwStd = Math.sqrt(depthwise.reduce((sum, v) => sum + v * v, 0) / depthwise.length);
    assert.ok(Math.abs(dwStd / Math.sqrt(2 / 25) - 1) < 0.05, `depthwise std ${dwStd}`);
    const dense = model.getLayer('predictions').getWeights()[0]!.dataSync<'float32'>();
    const limit = 1 / Math.sqrt(1000);
    assert.ok(dense.every((v) => Math.abs(v) <= limit));
    assert.ok(dense.reduce((max, v) => Math.max(max, Math.abs(v)), 0) > 0.99 * limit);
    assert.ok(
      model
        .getLayer('predictions')
        .getWeights()[1]!
        .dataSync()
        .every((v) => v === 0),
    );
  } finally {
    model.dispose();
  }
});

function tinySpec(options: ModelSpecOptions): ModelSpec {
  return makeSpec('b0', { width: 0.25, depth: 1, resolution: 32, numClasses: 5, dropout: 0, ...options });
}

test('drop-connect layers exist exactly for residual blocks, drop whole samples, and act only in training', () => {
  const spec = tinySpec({ dropConnectRate: 0.8 });
  const dropping = buildEfficientNet(spec);
  const plain = buildEfficientNet(tinySpec({ dropConnectRate: 0 }));
  try {
    const expected = resolveArchitecture(spec)
      .blocks.filter((block) => block.hasSkip && block.dropRate > 0)
      .map((block) => ({ name: `${block.name}_drop`, rate: block.dropRate, noiseShape: [null, 1, 1, 1] }));
    const actual = dropping.layers
      .filter((layer) => layer.name.endsWith('_drop'))
      .map((layer) => {
        const config = layer.getConfig();
        return { name: layer.name, rate: config.rate, noiseShape: config.noiseShape };
      });
    assert.equal(actual.length, 9);
    assert.deepEqual(actual, expected);
    assert.equal(plain.layers.filter((layer) => layer.name.endsWith('_drop')).length, 0);

    plain.setWeights(dropping.getWeights());
    const x = tf.randomNormal([4, 32, 32, 3], 100, 50, 'float32', 7);
    const infer = (model: tf.LayersModel) => (model.predict(x) as tf.Tensor).dataSync();
    const train = (model: tf.LayersModel) => (model.apply(x, { training: true }) as tf.Tensor).dataSync();
    assert.deepEqual(infer(dropping), infer(dropping), 'predict is deterministic');
    assert.deepEqual(infer(dropping), infer(plain), 'inference ignores drop-connect');
    assert.deepEqual(train(plain), train(plain), 'without drop-connect training mode is deterministic too');
    assert.notDeepEqual(train(dropping), train(dropping), 'training mode drops residual branches at random');
  } finally {
    dropping.dispose();
    plain.dispose();
  }
});

for (const resolution of [64, 75]) {
  test(`same and symmetric padding give the same shapes at ${resolution} px and differ only in where stride-2 layers pad`, () => {
    const same = buildEfficientNet(tinySpec({ resolution, padding: 'same', includeTop: false, pooling: 'none' }));
    const symmetric = buildEfficientNet(tinySpec({ resolution, padding: 'symmetric', includeTop: false, pooling: 'none' }));
    try {
      // Every layer but the padding layers themselves (which pad by different amounts) has the same output shape.
      const shapes = (model: tf.LayersModel) => model.layers.filter((l) => !l.name.endsWith('_pad')).map((l) => [l.name, l.outputShape]);
      assert.deepEqual(shapes(same), shapes(symmetric));
      assert.equal(same.layers.length, symmetric.layers.length);
      const pads = (model: tf.LayersModel) => model.layers.filter((l) => l.name.endsWith('_pad')).map((l) => l.getConfig().padding);
      // TF-SAME pads (k//2 − 1, k//2) on even sizes; torchvision k//2 on both sides (efficientnet-facts §1.7).
      assert.deepEqual(pads(symmetric), [
        [
          [1, 1],
          [1, 1],
        ],
        ...[3, 5, 3, 5].map((k) => [
          [k >> 1, k >> 1],
          [k >> 1, k >> 1],
        ]),
      ]);
      assert.deepEqual(
        pads(same)[0],
        resolution % 2 === 0
          ? [
              [0, 1],
              [0, 1],
            ]
          : [
              [1, 1],
              [1, 1],
            ],
      );
      symmetric.setWeights(same.getWeights());
      const x = tf.randomNormal([1, resolution, resolution, 3], 100, 50, 'float32', 3);
      // With equal weights, the stem sees the image shifted by one pixel on even sizes (and only the
      // later stride-2 layers differ on odd ones): the numbers must change.
      const stem = (model: tf.LayersModel) =>
        tf.model({ inputs: model.inputs, outputs: model.getLayer('block2a_dwconv').output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
      const difference = tf.max(tf.abs(tf.sub(stem(same), stem(symmetric)))).dataSync()[0]!;
      assert.ok(difference > 0.1, `the paddings must change the numbers (max diff ${difference})`);
    } finally {
      same.dispose();
      symmetric.dispose();
    }
  });
}

test('a model saved with toJSON comes back with only registerEffnetLayers() and predicts the same', () => {
  const model = buildEfficientNet(tinySpec({ resolution: 40, dropConnectRate: 0.2, dropout: 0.3 }));
  const folder = mkdtempSync(path.join(os.tmpdir(), 'effnet-json-'));
  try {
    const json = model.toJSON(null, true) as string;
    const weightsFile = path.join(folder, 'weights.safetensors');
    writeSafetensors(
      weightsFile,
      new Map(model.weights.map((w, i) => [`w${String(i).padStart(4, '0')}`, { shape: w.shape as number[], data: w.read().dataSync() }])),
    );
    const jsonFile = path.join(folder, 'model.json');
    const input = Array.from({ length: 2 * 40 * 40 * 3 }, (_, i) => (i * 37) % 256);
    const expected = Array.from((model.predict(tf.tensor4d(input, [2, 40, 40, 3])) as tf.Tensor).dataSync());
    writeFileAtomic(jsonFile, json);
    // A fresh process that imports nothing but tfjs and layers.ts: proves the JSON needs no other registration.
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import '@tensorflow/tfjs-backend-wasm';
      import { readFileSync } from 'node:fs';
      import { registerEffnetLayers } from ${JSON.stringify(path.join(PROJECT_ROOT, 'app/model/layers.ts'))};
      import { readSafetensors } from ${JSON.stringify(path.join(PROJECT_ROOT, 'app/model/safetensors.ts'))};
      // wasm runs these forward passes about ten times faster than the pure-JS cpu backend.
const backend = (await tf.setBackend('wasm')) ? 'wasm' : 'cpu';
if (backend === 'cpu') await tf.setBackend('cpu');
      const topology = JSON.parse(readFileSync(${JSON.stringify(jsonFile)}, 'utf8'));
      let unregistered = 'loaded';
      try { await tf.models.modelFromJSON({ modelTopology: topology }); } catch (error) { unregistered = String(error.message); }
      registerEffnetLayers();
      registerEffnetLayers();
      const model = await tf.models.modelFromJSON({ modelTopology: topology });
      model.setWeights([...readSafetensors(${JSON.stringify(weightsFile)}).values()].map((t) => tf.tensor(t.data, t.shape)));
      const input = Array.from({ length: 2 * 40 * 40 * 3 }, (_, i) => (i * 37) % 256);
      const output = Array.from(model.predict(tf.tensor4d(input, [2, 40, 40, 3])).dataSync());
      console.log(JSON.stringify({ unregistered, name: model.name, layers: model.layers.map((l) => l.name), params: model.countParams(), output }));
    `;
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.match(result.unregistered, /Normalization/);
    assert.equal(result.name, model.name);
    assert.deepEqual(
      result.layers,
      model.layers.map((layer) => layer.name),
    );
    assert.equal(result.params, model.countParams());
    assert.equal(result.output.length, expected.length);
    result.output.forEach((value: number, i: number) => assert.ok(Math.abs(value - expected[i]!) < 1e-5));
  } finally {
    model.dispose();
    rmSync(folder, { recursive: true, force: true });
  }
});

function writeFileAtomic(file: string, text: string) {
  // Test scratch only; the real writers live in safetensors.ts.
  execFileSync(process.execPath, ['-e', `require('fs').writeFileSync(process.argv[1], process.argv[2])`, file, text]);
}
