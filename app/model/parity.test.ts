import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { makeSpec, modelFacts, type ModelSpec, type PaddingMode } from '../common/efficientnet/index.ts';
import { sharedPath } from '../node/shared-path.ts';
import { buildEfficientNet } from './builder.ts';
import { readSafetensors, type SafeTensor } from './safetensors.ts';
import { importTorchWeights } from './torch-import.ts';

/**
 * Numerical parity with torchvision (fixtures/README.md): every case in cases.json, so a case
 * added to the folder is tested without code changes. EFFNET_PARITY_DIR points at another folder.
 */
const folder = process.env.EFFNET_PARITY_DIR ?? sharedPath('fixtures/efficientnet-parity');
const TOLERANCE = 1e-3;

interface ParityCase {
  name: string;
  padding: PaddingMode;
  width: number;
  depth: number;
  resolution: number;
  batch: number;
  num_classes: number;
  bn_epsilon: number;
  dropout: number;
  trainable_params: number;
  files: { weights: string; io: string };
}

const cases: ParityCase[] = JSON.parse(readFileSync(path.join(folder, 'cases.json'), 'utf8'));
// wasm is about ten times faster than the pure-JS cpu backend and just as exact.
const backend = (await tf.setBackend('wasm')) ? 'wasm' : 'cpu';
if (backend === 'cpu') await tf.setBackend('cpu');

function specFor(parityCase: ParityCase, padding: PaddingMode = parityCase.padding): ModelSpec {
  // The fixture input goes straight to stem_conv and `logits` are pre-softmax.
  return makeSpec('b0', {
    variant: parityCase.name,
    width: parityCase.width,
    depth: parityCase.depth,
    resolution: parityCase.resolution,
    padding,
    bnEpsilon: parityCase.bn_epsilon,
    numClasses: parityCase.num_classes,
    dropout: parityCase.dropout,
    preprocessing: 'none',
    classifierActivation: 'linear',
  });
}

/** Max |a − b| of the feature map (top_activation) and the logits against the fixture. */
function run(parityCase: ParityCase, spec: ModelSpec): { featureMap: number; logits: number } {
  const model = buildEfficientNet(spec);
  try {
    importTorchWeights(model, path.join(folder, parityCase.files.weights));
    const io = readSafetensors(path.join(folder, parityCase.files.io));
    const get = (name: string): SafeTensor => {
      const tensor = io.get(name);
      assert.ok(tensor, `${parityCase.files.io} has no '${name}'`);
      return tensor;
    };
    return tf.tidy(() => {
      const input = get('input_nhwc');
      assert.deepEqual(input.shape, [parityCase.batch, parityCase.resolution, parityCase.resolution, 3]);
      const probe = tf.model({
        inputs: model.inputs,
        outputs: [model.getLayer('top_activation').output as tf.SymbolicTensor, model.outputs[0]!],
      });
      const [featureMap, logits] = probe.predict(tf.tensor(input.data, [...input.shape])) as tf.Tensor[];
      const maxDiff = (actual: tf.Tensor, name: string) => {
        const expected = get(name);
        assert.deepEqual(actual.shape, expected.shape, `${name} shape`);
        return tf.max(tf.abs(tf.sub(actual, tf.tensor(expected.data, [...expected.shape])))).dataSync()[0]!;
      };
      return { featureMap: maxDiff(featureMap!, 'feature_map_nhwc'), logits: maxDiff(logits!, 'logits') };
    });
  } finally {
    model.dispose();
  }
}

test('the parity folder lists cases', () => {
  assert.ok(cases.length > 0, `${folder}/cases.json lists no cases`);
});

for (const parityCase of cases) {
  test(`parity with torchvision: ${parityCase.name} (${parityCase.padding}, w${parityCase.width} d${parityCase.depth}, ${parityCase.resolution} px)`, () => {
    const spec = specFor(parityCase);
    assert.equal(modelFacts(spec).trainableParams, parityCase.trainable_params, 'trainable parameters equal torchvision’s');
    const diff = run(parityCase, spec);
    console.log(`parity ${parityCase.name} feature_map=${diff.featureMap} logits=${diff.logits}`);
    assert.ok(diff.featureMap <= TOLERANCE, `feature map differs by ${diff.featureMap} (backend ${backend})`);
    assert.ok(diff.logits <= TOLERANCE, `logits differ by ${diff.logits} (backend ${backend})`);
  });
}

// The control: the same weights with the other padding mode must miss, or the test above could not fail.
const cost = (c: ParityCase) => c.width ** 2 * c.depth * c.resolution ** 2 * c.batch;
const control = [...cases].sort((a, b) => cost(a) - cost(b))[0];
if (control) {
  test(`the wrong padding mode misses the fixture (${control.name})`, () => {
    const diff = run(control, specFor(control, control.padding === 'same' ? 'symmetric' : 'same'));
    assert.ok(diff.featureMap > 100 * TOLERANCE, `feature map differs by only ${diff.featureMap}`);
  });
}
