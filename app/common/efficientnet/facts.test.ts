import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { makeSpec, modelFacts, resolveArchitecture, VARIANT_NAMES } from './index.ts';
import { sharedPath } from '../../node/shared-path.ts';

interface FixtureRow {
  variant: string;
  resolution: number;
  trainable_params: number;
  bn_moving_stats: number;
  keras_total_params: number;
  batchnorm_layers: number;
  mbconv_blocks: number;
  macs: number;
}

const fixture: FixtureRow[] = JSON.parse(readFileSync(sharedPath('fixtures/efficientnet-variants.json'), 'utf8'));

test('the fixture covers every registered variant', () => {
  assert.deepEqual(
    fixture.map((row) => row.variant),
    [...VARIANT_NAMES],
  );
});

for (const row of fixture) {
  test(`${row.variant} facts equal torchvision/Keras counts without building tensors`, () => {
    const facts = modelFacts(makeSpec(row.variant));
    assert.equal(facts.resolution, row.resolution);
    assert.equal(facts.trainableParams, row.trainable_params);
    assert.equal(facts.nonTrainableParams - 7, row.bn_moving_stats);
    assert.equal(facts.totalParams, row.keras_total_params);
    assert.equal(facts.macs, row.macs);
    assert.equal(facts.batchNormLayers, row.batchnorm_layers);
    assert.equal(facts.blocks, row.mbconv_blocks);
  });
}

test('a feature extractor drops exactly the dense layer', () => {
  const withTop = modelFacts(makeSpec('b0'));
  const notop = modelFacts(makeSpec('b0', { includeTop: false }));
  assert.equal(withTop.totalParams - notop.totalParams, 1280 * 1000 + 1000);
  assert.equal(notop.totalParams, 4_049_571); // keras.io: EfficientNetB0(include_top=False)
});

test('MACs follow the resolution: B0 at 448 px costs about four times B0 at 224', () => {
  const spec = makeSpec('b0');
  const ratio = modelFacts(spec, 448).macs / modelFacts(spec, 224).macs;
  assert.ok(ratio > 3.9 && ratio < 4.05, `ratio ${ratio}`);
});

test('B0 drop-connect rates rise linearly over the 16 blocks (efficientnet-facts §1.4)', () => {
  const arch = resolveArchitecture(makeSpec('b0'));
  const block = (name: string) => arch.blocks.find((b) => b.name === name)!;
  assert.ok(Math.abs(block('block2b').dropRate - 0.025) < 1e-12);
  assert.ok(Math.abs(block('block6d').dropRate - 0.175) < 1e-12);
  assert.equal(block('block1a').hasSkip, false);
  assert.equal(arch.blocks.filter((b) => b.hasSkip).length, 9);
  assert.equal(arch.blocks.at(-1)!.name, 'block7a');
});
