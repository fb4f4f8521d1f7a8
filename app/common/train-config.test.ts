import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectiveWeightDecay, parseTrainConfig } from './train-config.ts';

const dataset = { path: '/data/flowers' };

test('a config with only a dataset gets every default', () => {
  const config = parseTrainConfig({ dataset });
  assert.equal(config.mode, 'head');
  assert.deepEqual(config.dataset, { path: '/data/flowers', validationSplit: 0.2, testSplit: 0, splitSeed: 42 });
  assert.equal(config.model.variant, 'b0');
  assert.equal(config.model.weights, 'imagenet');
  assert.equal(config.optimizer.name, 'adamw');
  assert.equal(effectiveWeightDecay(config.optimizer), 0.01);
  assert.equal(effectiveWeightDecay(parseTrainConfig({ dataset, optimizer: { name: 'sgd' } }).optimizer), 0);
  assert.equal(effectiveWeightDecay(parseTrainConfig({ dataset, optimizer: { name: 'adamw', weightDecay: 0 } }).optimizer), 0);
  assert.equal(config.earlyStopping.patience, null);
  assert.equal(config.augment?.flip.strength, 0.5);
  assert.equal(config.augment?.crop.enabled, true);
  assert.equal(config.seed, undefined);
  // The output is plain JSON and parses to itself: the store keeps it, a resume re-reads it.
  assert.deepEqual(parseTrainConfig(JSON.parse(JSON.stringify(config))), config);
});

test('partial nested settings keep the other defaults', () => {
  const config = parseTrainConfig({ dataset, augment: { rotation: { enabled: false } }, optimizer: { learningRate: 0.01 } });
  assert.deepEqual(config.augment?.rotation, { enabled: false, strength: 10 });
  assert.equal(config.augment?.erasing.enabled, false);
  assert.equal(config.optimizer.learningRate, 0.01);
  assert.equal(config.optimizer.beta2, 0.999);
  assert.equal(parseTrainConfig({ dataset, augment: null }).augment, null);
});

const INVALID: { input: unknown; field: string; message: RegExp }[] = [
  { input: {}, field: 'dataset', message: /expected object/ },
  { input: { dataset: { path: '' } }, field: 'dataset.path', message: /Too small/ },
  { input: { dataset, mode: 'partial' }, field: 'mode', message: /head.*finetune.*full/ },
  { input: { dataset, epochs: 0 }, field: 'epochs', message: /Too small/ },
  { input: { dataset, batchSize: 2.5 }, field: 'batchSize', message: /expected int/ },
  { input: { dataset, optimizer: { learningRate: -1 } }, field: 'optimizer.learningRate', message: /Too small/ },
  { input: { dataset, optimizer: { learningrate: 0.1 } }, field: 'optimizer.learningrate', message: /unknown field/ },
  { input: { dataset, optimiser: {} }, field: 'optimiser', message: /unknown field/ },
  { input: { dataset, labelSmoothing: 1 }, field: 'labelSmoothing', message: /Too big/ },
  { input: { dataset, classWeights: 'inverse' }, field: 'classWeights', message: /Invalid/ },
  { input: { dataset, classWeights: { cat: -1 } }, field: 'classWeights.cat', message: /Too small/ },
  { input: { dataset, augment: { crop: { scale: [0.9, 0.2] } } }, field: 'augment.crop.scale', message: /min <= max/ },
  { input: { dataset, augment: { flip: { strength: 2 } } }, field: 'augment.flip.strength', message: /Too big/ },
  { input: { dataset, model: { resolution: 16 } }, field: 'model.resolution', message: /Too small/ },
  { input: { dataset, earlyStopping: { patience: 0 } }, field: 'earlyStopping.patience', message: /Too small/ },
  { input: { dataset, seed: -3 }, field: 'seed', message: /Too small/ },
];

for (const { input, field, message } of INVALID) {
  test(`an invalid ${field} is refused, naming the field`, () => {
    assert.throws(
      () => parseTrainConfig(input),
      (error: Error & { code?: string; details?: { issues: { field: string }[] } }) => {
        assert.equal(error.code, 'train-config-invalid');
        assert.ok(error.message.startsWith(`Training config: ${field}: `), error.message);
        assert.match(error.message, message);
        assert.equal(error.details?.issues[0]?.field, field);
        return true;
      },
    );
  });
}
