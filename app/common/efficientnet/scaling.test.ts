import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  B0_STAGES,
  flopsGrowth,
  makeSpec,
  modelFacts,
  PAPER_COEFFICIENTS,
  parseVariant,
  resolveArchitecture,
  roundFilters,
  roundRepeats,
  scaleByPhi,
  stridePadding,
  VARIANTS,
  type VariantName,
} from './index.ts';

// keras.applications' channel and repeat counts per variant (efficientnet-facts.md §1.2).
const PUBLISHED: Record<VariantName, { stem: number; stages: number[]; repeats: number[]; head: number }> = {
  b0: { stem: 32, stages: [16, 24, 40, 80, 112, 192, 320], repeats: [1, 2, 2, 3, 3, 4, 1], head: 1280 },
  b1: { stem: 32, stages: [16, 24, 40, 80, 112, 192, 320], repeats: [2, 3, 3, 4, 4, 5, 2], head: 1280 },
  b2: { stem: 32, stages: [16, 24, 48, 88, 120, 208, 352], repeats: [2, 3, 3, 4, 4, 5, 2], head: 1408 },
  b3: { stem: 40, stages: [24, 32, 48, 96, 136, 232, 384], repeats: [2, 3, 3, 5, 5, 6, 2], head: 1536 },
  b4: { stem: 48, stages: [24, 32, 56, 112, 160, 272, 448], repeats: [2, 4, 4, 6, 6, 8, 2], head: 1792 },
  b5: { stem: 48, stages: [24, 40, 64, 128, 176, 304, 512], repeats: [3, 5, 5, 7, 7, 9, 3], head: 2048 },
  b6: { stem: 56, stages: [32, 40, 72, 144, 200, 344, 576], repeats: [3, 6, 6, 8, 8, 11, 3], head: 2304 },
  b7: { stem: 64, stages: [32, 48, 80, 160, 224, 384, 640], repeats: [4, 7, 7, 10, 10, 13, 4], head: 2560 },
};

for (const [name, published] of Object.entries(PUBLISHED) as [VariantName, (typeof PUBLISHED)[VariantName]][]) {
  test(`roundFilters and roundRepeats reproduce ${name}'s published channels and repeats`, () => {
    const { width, depth } = VARIANTS[name];
    assert.equal(roundFilters(32, width), published.stem);
    assert.equal(roundFilters(1280, width), published.head);
    assert.deepEqual(
      B0_STAGES.map((stage) => roundFilters(stage.filtersOut, width)),
      published.stages,
    );
    assert.deepEqual(
      B0_STAGES.map((stage) => roundRepeats(stage.repeats, depth)),
      published.repeats,
    );
  });
}

test('roundFilters never rounds down by more than 10% and never below the divisor', () => {
  for (let filters = 1; filters <= 640; filters += 7) {
    for (const width of [0.1, 0.25, 0.5, 0.75, 1, 1.3, 2.2, 4.3]) {
      const rounded = roundFilters(filters, width);
      assert.equal(rounded % 8, 0, `${filters}·${width} → ${rounded} is not a multiple of 8`);
      assert.ok(rounded >= 8);
      assert.ok(rounded >= 0.9 * filters * width, `${filters}·${width} → ${rounded} rounds down more than 10%`);
    }
  }
  // 0.9 rule: 40·1.4 = 56 exactly; 24·1.1 = 26.4 → 24 (≥ 23.76, kept); 16·0.55 = 8.8 → 8 kept.
  assert.equal(roundFilters(24, 1.1), 24);
  assert.equal(roundFilters(16, 0.55), 8);
});

test('φ = 0 with the paper coefficients is B0; φ = −1 is strictly smaller; growth per φ is about 2', () => {
  assert.deepEqual(scaleByPhi(0), { width: 1, depth: 1, resolution: 224 });
  const smaller = modelFacts(makeSpec('phi:-1'));
  const base = modelFacts(makeSpec('b0'));
  assert.ok(smaller.totalParams < base.totalParams);
  assert.ok(smaller.macs < base.macs);
  assert.ok(Math.abs(flopsGrowth(PAPER_COEFFICIENTS) - 1.92) < 0.01);
  const one = modelFacts(makeSpec('phi:1'));
  const ratio = one.macs / base.macs;
  assert.ok(ratio > 1.6 && ratio < 2.4, `MACs grew by ${ratio} for φ=1`);
});

test('fractional φ sits between its integer neighbours', () => {
  const macs = (phi: number) => modelFacts(makeSpec(`phi:${phi}`)).macs;
  assert.ok(macs(0.5) > macs(0) && macs(0.5) < macs(1));
  assert.ok(macs(-0.5) < macs(0) && macs(-0.5) > macs(-1));
});

test('explicit width, depth and resolution override the variant and mark the spec custom', () => {
  const spec = makeSpec('b0', { width: 0.5, depth: 0.5, resolution: 96 });
  assert.equal(spec.variant, 'custom');
  assert.equal(spec.resolution, 96);
  assert.deepEqual(resolveArchitecture(spec).stageRepeats, [1, 1, 1, 2, 2, 2, 1]);
});

test('custom coefficients change the scaled model', () => {
  const wide = parseVariant('phi:2', { alpha: 1.0, beta: 1.4, gamma: 1.0 });
  assert.equal(wide.depth, 1);
  assert.equal(wide.resolution, 224);
  assert.ok(Math.abs(wide.width - 1.96) < 1e-12);
});

test('bad variant names and values are rejected with the accepted forms', () => {
  assert.throws(() => parseVariant('b9'), /use b0…b7 or phi:X/);
  assert.throws(() => parseVariant('phi:abc'), /use b0…b7 or phi:X/);
  assert.throws(() => makeSpec('b0', { numClasses: 0 }), /numClasses/);
  assert.throws(() => makeSpec('b0', { resolution: 16 }), /resolution/);
  assert.throws(() => makeSpec('b0', { dropout: 1 }), /dropout/);
  assert.throws(() => scaleByPhi(1, { alpha: 0, beta: 1, gamma: 1 }), /alpha/);
});

test('stride-2 padding: same is keras correct_pad (TF-SAME), symmetric is k//2', () => {
  // efficientnet-facts §1.7: B0 224 → (0,1); block3a at 56 with k5 → (1,2); odd 15 with k5 → (2,2).
  assert.deepEqual(stridePadding(224, 3, 'same'), [0, 1]);
  assert.deepEqual(stridePadding(56, 5, 'same'), [1, 2]);
  assert.deepEqual(stridePadding(15, 5, 'same'), [2, 2]);
  assert.deepEqual(stridePadding(33, 3, 'same'), [1, 1]);
  assert.deepEqual(stridePadding(224, 3, 'symmetric'), [1, 1]);
  assert.deepEqual(stridePadding(56, 5, 'symmetric'), [2, 2]);
});
