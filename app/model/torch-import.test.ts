import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { makeSpec, resolveArchitecture, type ModelSpecOptions } from '../common/efficientnet/index.ts';
import { sharedPath } from '../node/shared-path.ts';
import { buildEfficientNet } from './builder.ts';
import { readSafetensors, type SafeTensor } from './safetensors.ts';
import { describeTorchWeights, importTorchWeights, inferTorchSpecOptions } from './torch-import.ts';

await tf.setBackend('cpu');

const fixture = (name: string) => sharedPath(`fixtures/efficientnet-parity/${name}`);
const TINY = fixture('tiny_symmetric.weights.safetensors');
const torchvision = readSafetensors(TINY);
// tiny_symmetric in cases.json: width 0.25, depth 0.34, 64 px, 10 classes, symmetric, eps 1e-5.
const tinyOptions: ModelSpecOptions = { width: 0.25, depth: 0.34, resolution: 64, numClasses: 10, padding: 'symmetric', bnEpsilon: 1e-5 };
const tiny = (options: ModelSpecOptions = {}) =>
  buildEfficientNet(makeSpec('b0', { ...tinyOptions, preprocessing: 'none', classifierActivation: 'linear', ...options }));

/**
 * torchvision → timm names, written from efficientnet-facts §3.1/§3.2 (timm's
 * DepthwiseSeparableConv in stage 1, InvertedResidual after), independently of torch-import.ts.
 */
function toTimm(tensors: Map<string, SafeTensor>): Map<string, SafeTensor> {
  const stage1: Record<string, string> = {
    '0.0': 'conv_dw',
    '0.1': 'bn1',
    '1.fc1': 'se.conv_reduce',
    '1.fc2': 'se.conv_expand',
    '2.0': 'conv_pw',
    '2.1': 'bn2',
  };
  const later: Record<string, string> = {
    '0.0': 'conv_pw',
    '0.1': 'bn1',
    '1.0': 'conv_dw',
    '1.1': 'bn2',
    '2.fc1': 'se.conv_reduce',
    '2.fc2': 'se.conv_expand',
    '3.0': 'conv_pwl',
    '3.1': 'bn3',
  };
  const renamed = new Map<string, SafeTensor>();
  for (const [name, tensor] of tensors) {
    let target: string;
    const block = /^features\.(\d+)\.(\d+)\.block\.(\d+\.(?:fc\d|\d))\.(\w+)$/.exec(name);
    if (block) {
      const [, stage, index, module, param] = block as unknown as string[];
      target = `blocks.${Number(stage) - 1}.${index}.${(stage === '1' ? stage1 : later)[module!]}.${param}`;
    } else {
      target = name
        .replace(/^features\.0\.0\./, 'conv_stem.')
        .replace(/^features\.0\.1\./, 'bn1.')
        .replace(/^features\.8\.0\./, 'conv_head.')
        .replace(/^features\.8\.1\./, 'bn2.')
        .replace(/^classifier\.1\./, 'classifier.');
    }
    renamed.set(target, tensor);
    // timm's BatchNormAct2d keeps num_batches_tracked, which the importer must ignore.
    if (target.endsWith('.running_var')) {
      renamed.set(target.replace('running_var', 'num_batches_tracked'), { dtype: 'I64', shape: [], data: new Float32Array([100]) });
    }
  }
  return renamed;
}

const snapshot = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

test('timm-named weights load into the same model as the torchvision names', () => {
  const timm = toTimm(torchvision);
  assert.ok(timm.has('blocks.0.0.conv_dw.weight') && timm.has('blocks.3.1.conv_pwl.weight') && timm.has('conv_head.weight'));
  const fromTorchvision = tiny();
  const fromTimm = tiny();
  try {
    // Every weighted layer (preprocessing is off here) takes every tensor of the file.
    const weighted = fromTorchvision.layers.filter((layer) => layer.weights.length > 0).length;
    assert.deepEqual(importTorchWeights(fromTorchvision, TINY), { layout: 'torchvision', layers: weighted, tensors: torchvision.size });
    const report = importTorchWeights(fromTimm, timm);
    assert.equal(report.layout, 'timm');
    assert.deepEqual(snapshot(fromTimm), snapshot(fromTorchvision));
    assert.deepEqual(describeTorchWeights(timm), { ...describeTorchWeights(torchvision), layout: 'timm' });
  } finally {
    fromTorchvision.dispose();
    fromTimm.dispose();
  }
});

test('PyTorch layouts are transposed: conv OIHW→HWIO, depthwise (C,1,k,k)→(k,k,C,1), Linear (out,in)→(in,out)', () => {
  const model = tiny();
  try {
    importTorchWeights(model, torchvision);
    const at = (layer: string) => model.getLayer(layer).getWeights()[0]!;
    // stem: torch [8,3,3,3] (o,i,h,w) → tfjs [3,3,3,8] (h,w,i,o)
    const stem = torchvision.get('features.0.0.weight')!.data;
    const stemTf = at('stem_conv').arraySync() as number[][][][];
    assert.equal(stemTf[2]![1]![0]![5], stem[((5 * 3 + 0) * 3 + 2) * 3 + 1]);
    // block2a depthwise: torch [C,1,3,3] → tfjs [3,3,C,1]
    const dw = torchvision.get('features.2.0.block.1.0.weight')!;
    const dwTf = at('block2a_dwconv').arraySync() as number[][][][];
    assert.deepEqual(at('block2a_dwconv').shape, [3, 3, dw.shape[0], 1]);
    assert.equal(dwTf[0]![2]![7]![0], dw.data[7 * 9 + 0 * 3 + 2]);
    // classifier: torch [10,320] → tfjs [320,10]
    const dense = torchvision.get('classifier.1.weight')!.data;
    const denseTf = at('predictions').arraySync() as number[][];
    assert.equal(denseTf[123]![4], dense[4 * 320 + 123]);
    // BN: running_var → moving_variance (4th weight)
    assert.deepEqual(
      Array.from(model.getLayer('top_bn').getWeights()[3]!.dataSync()),
      Array.from(torchvision.get('features.8.1.running_var')!.data),
    );
  } finally {
    model.dispose();
  }
});

function expectAppError(fn: () => unknown, code: string, check: (error: AppError) => void = () => {}) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    check(error);
    return true;
  });
}

test('missing and unexpected tensors are listed by name, and nothing is written', () => {
  const model = tiny();
  try {
    const before = snapshot(model);
    const broken = new Map(torchvision);
    broken.delete('features.4.1.block.1.1.running_var');
    broken.set('features.9.0.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    expectAppError(
      () => importTorchWeights(model, broken, { label: 'broken.safetensors' }),
      'torch-weights-mismatch',
      (error) => {
        assert.match(error.message, /broken\.safetensors/);
        assert.match(error.message, /features\.4\.1\.block\.1\.1\.running_var/);
        assert.match(error.message, /features\.9\.0\.weight/);
        assert.deepEqual(error.details, {
          missing: ['features.4.1.block.1.1.running_var'],
          unexpected: ['features.9.0.weight'],
          layout: 'torchvision',
        });
      },
    );
    assert.deepEqual(snapshot(model), before);
  } finally {
    model.dispose();
  }
});

test('a different width is a shape error naming the layer, both shapes and the file tensor; the model is untouched', () => {
  const model = tiny({ width: 0.5 });
  try {
    const before = snapshot(model);
    expectAppError(
      () => importTorchWeights(model, TINY),
      'weights-shape-mismatch',
      (error) => assert.match(error.message, /'stem_conv'.*\[3, 3, 3, 16\].*'features\.0\.0\.weight'.*\[8, 3, 3, 3\]/),
    );
    assert.deepEqual(snapshot(model), before);
  } finally {
    model.dispose();
  }
});

test('a different depth is reported as missing/unexpected blocks', () => {
  const model = tiny({ depth: 1 });
  try {
    expectAppError(
      () => importTorchWeights(model, torchvision),
      'torch-weights-mismatch',
      (error) => {
        const { missing, unexpected } = error.details as { missing: string[]; unexpected: string[] };
        assert.ok(missing.includes('features.2.1.block.0.0.weight'), missing.join());
        assert.deepEqual(unexpected, []);
      },
    );
  } finally {
    model.dispose();
  }
});

test('another class count: a shape error that suggests ignoreClassifier, which then loads the rest', () => {
  const model = tiny({ numClasses: 4 });
  try {
    expectAppError(
      () => importTorchWeights(model, torchvision),
      'weights-shape-mismatch',
      (error) => {
        assert.match(error.message, /'predictions'.*\[320, 4\].*'classifier\.1\.weight'.*\[10, 320\]/);
        assert.match(error.hint ?? '', /ignoreClassifier/);
      },
    );
    const classifier = model
      .getLayer('predictions')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    const report = importTorchWeights(model, torchvision, { ignoreClassifier: true });
    assert.equal(report.tensors, torchvision.size - 2);
    assert.deepEqual(
      model
        .getLayer('predictions')
        .getWeights()
        .map((w) => Array.from(w.dataSync())),
      classifier,
    );
    assert.deepEqual(
      Array.from(model.getLayer('top_bn').getWeights()[0]!.dataSync()),
      Array.from(torchvision.get('features.8.1.weight')!.data),
    );
  } finally {
    model.dispose();
  }
});

test("a feature extractor rejects the file's classifier unless told to ignore it", () => {
  const model = tiny({ includeTop: false });
  try {
    expectAppError(
      () => importTorchWeights(model, torchvision),
      'torch-weights-mismatch',
      (error) => {
        assert.deepEqual((error.details as { unexpected: string[] }).unexpected, ['classifier.1.weight', 'classifier.1.bias']);
        assert.match(error.hint ?? '', /ignoreClassifier/);
      },
    );
    importTorchWeights(model, torchvision, { ignoreClassifier: true });
  } finally {
    model.dispose();
  }
});

test("DataParallel's module. prefix is stripped; unknown names are a clear error", () => {
  const model = tiny();
  try {
    const prefixed = new Map([...torchvision].map(([name, tensor]) => [`module.${name}`, tensor]));
    assert.equal(importTorchWeights(model, prefixed).layout, 'torchvision');
    expectAppError(
      () =>
        importTorchWeights(model, new Map([['encoder.weight', torchvision.get('features.0.0.weight')!]]), { label: 'other.safetensors' }),
      'torch-layout-unknown',
      (error) => assert.match(error.message, /other\.safetensors is not a torchvision or timm EfficientNet/),
    );
  } finally {
    model.dispose();
  }
});

test('the spec is read from the file: B0 at 1000 classes is recognised, a custom width/depth is not', () => {
  const b0 = inferTorchSpecOptions(fixture('b0_same_128.weights.safetensors'));
  assert.equal(b0.variant, 'b0');
  assert.deepEqual(b0.info.stageRepeats, [1, 2, 2, 3, 3, 4, 1]);
  assert.deepEqual(b0.options, { padding: 'symmetric', bnEpsilon: 1e-5, includeTop: true, preprocessing: 'imagenet', numClasses: 1000 });
  assert.ok(b0.notes.some((note) => /No model name/.test(note)));

  const custom = inferTorchSpecOptions(torchvision);
  assert.equal(custom.variant, null);
  assert.equal(custom.info.numClasses, 10);
  const arch = resolveArchitecture(makeSpec('b0', tinyOptions));
  assert.deepEqual(custom.info.stageRepeats, arch.stageRepeats);
  assert.deepEqual(custom.info.stageFilters, arch.stageFilters);
  assert.equal(custom.info.headFilters, arch.headFilters);
});

const NAMED: [string, { padding: string; bnEpsilon: number }][] = [
  ['tf_efficientnet_b0', { padding: 'same', bnEpsilon: 1e-3 }],
  ['timm/tf_efficientnet_b0.ns_jft_in1k', { padding: 'same', bnEpsilon: 1e-3 }],
  ['efficientnet_b0.ra_in1k', { padding: 'symmetric', bnEpsilon: 1e-5 }],
  ['efficientnet_b0_rwightman.safetensors', { padding: 'symmetric', bnEpsilon: 1e-5 }],
];
for (const [name, expected] of NAMED) {
  test(`the model name '${name}' decides padding and BN epsilon`, () => {
    const { options } = inferTorchSpecOptions(torchvision, name);
    assert.deepEqual({ padding: options.padding, bnEpsilon: options.bnEpsilon }, expected);
  });
}
