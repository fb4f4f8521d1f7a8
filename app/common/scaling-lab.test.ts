import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeSpec, modelFacts, PAPER_COEFFICIENTS, resolveArchitecture, scaleByPhi, VARIANTS } from './efficientnet/index.ts';
import { AppError } from './errors.ts';
import { bSeriesPoints, renderScalingChartSvg, scalingChartData } from './scaling-chart.ts';
import {
  axisValues,
  DEFAULT_GRID,
  familyTable,
  generateGrid,
  parseGrid,
  resolveBase,
  scaleBase,
  searchObjective,
  spreadSubset,
  type GridSpec,
} from './scaling-lab.ts';

const axis = (min: number, max: number, step: number) => ({ min, max, step });
const grid = (a: [number, number, number], b: [number, number, number], g: [number, number, number]): GridSpec => ({
  alpha: axis(...a),
  beta: axis(...b),
  gamma: axis(...g),
});
const key = (c: { alpha: number; beta: number; gamma: number }) => `${c.alpha}/${c.beta}/${c.gamma}`;

describe('grid', () => {
  test('axis values are counted in whole steps, without float drift', () => {
    assert.deepEqual(axisValues(axis(1, 1.4, 0.05)), [1, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4]);
    assert.deepEqual(axisValues(axis(1.2, 1.2, 0.05)), [1.2]);
    assert.deepEqual(axisValues(axis(1, 1.3, 0.1)), [1, 1.1, 1.2, 1.3]);
  });

  // Each case: a grid, a tolerance, and the exact set that must survive (checked by hand from α·β²·γ²).
  const cases: { name: string; grid: GridSpec; tolerance: number; total: number; kept: string[] }[] = [
    {
      name: "the paper's point alone (1.2·1.1²·1.15² = 1.9203)",
      grid: grid([1.2, 1.2, 1], [1.1, 1.1, 1], [1.15, 1.15, 1]),
      tolerance: 0.1,
      total: 1,
      kept: ['1.2/1.1/1.15'],
    },
    {
      name: "the paper's point is dropped by a tolerance tighter than its 0.0797 gap",
      grid: grid([1.2, 1.2, 1], [1.1, 1.1, 1], [1.15, 1.15, 1]),
      tolerance: 0.05,
      total: 1,
      kept: [],
    },
    {
      name: 'one dimension takes all of the ×2 (α = 2 only with α allowed past 1.4)',
      grid: grid([1, 2, 0.5], [1, 1, 1], [1, 1, 1]),
      tolerance: 0,
      total: 3,
      kept: ['2/1/1'],
    },
    {
      name: 'a 2×2×2 grid: only 1.4·1.2²·1 = 2.016 and 1.4·1·1.2² = 2.016 are within 0.05',
      grid: grid([1, 1.4, 0.4], [1, 1.2, 0.2], [1, 1.2, 0.2]),
      tolerance: 0.05,
      total: 8,
      kept: ['1.4/1/1.2', '1.4/1.2/1'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = generateGrid(c.grid, c.tolerance);
      assert.equal(result.total, c.total);
      assert.deepEqual(result.kept.map(key).sort(), [...c.kept].sort());
    });
  }

  test('the default grid: 9³ = 729 combinations, every kept one within ±0.1 of 2 and ≥ 1, closest first', () => {
    const { total, kept } = generateGrid(DEFAULT_GRID, 0.1);
    assert.equal(total, 729);
    // Brute force the same filter independently.
    const values = [1, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4];
    let expected = 0;
    for (const a of values) for (const b of values) for (const g of values) if (Math.abs(a * b * b * g * g - 2) <= 0.1 + 1e-12) expected++;
    assert.equal(kept.length, expected);
    assert.ok(kept.length > 10 && kept.length < total);
    for (const c of kept) {
      assert.ok(c.alpha >= 1 && c.beta >= 1 && c.gamma >= 1);
      assert.ok(Math.abs(c.alpha * c.beta ** 2 * c.gamma ** 2 - 2) <= 0.1 + 1e-12, key(c));
    }
    const gaps = kept.map((c) => Math.abs(c.growth - 2));
    // Sorted by the gap (products equal on paper may differ in the last bit: those count as ties).
    for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i]! >= gaps[i - 1]! - 1e-12, `order at ${i}`);
    assert.ok(
      kept.some((c) => key(c) === '1.2/1.1/1.15'),
      "the paper's coefficients are in the default grid",
    );
  });

  const bad: [string, string][] = [
    ['alpha=0.9:1.4:0.05', 'below 1'],
    ['alpha=1.4:1:0.05', 'below MIN'],
    ['beta=1:1.4:0', 'STEP must be positive'],
    ['gamma=1:x:0.1', 'not a number'],
    ['delta=1:1.4:0.05', 'alpha, beta or gamma'],
    ['alpha=1:1.4', 'one value or MIN:MAX:STEP'],
    ['alpha=1:100:0.001', 'more than 200'],
  ];
  for (const [text, message] of bad) {
    test(`parseGrid rejects ${text}`, () => {
      assert.throws(
        () => parseGrid(text),
        (error: unknown) => error instanceof AppError && error.code === 'scaling-grid-invalid' && error.message.includes(message),
      );
    });
  }

  test('parseGrid: named axes replace the default, others keep it; one value is a fixed axis', () => {
    const parsed = parseGrid('alpha=1.2, gamma=1:1.2:0.1');
    assert.deepEqual(parsed.alpha, axis(1.2, 1.2, 1));
    assert.deepEqual(parsed.beta, DEFAULT_GRID.beta);
    assert.deepEqual(axisValues(parsed.gamma), [1, 1.1, 1.2]);
  });
});

describe('spread subset', () => {
  const { kept } = generateGrid(DEFAULT_GRID, 0.1);
  test('deterministic, distinct, from the kept set, starting with the one closest to 2', () => {
    const a = spreadSubset(kept, 5);
    assert.deepEqual(a.map(key), spreadSubset(kept, 5).map(key));
    assert.equal(new Set(a.map(key)).size, 5);
    assert.ok(a.map(key).includes(key(kept[0]!)));
    for (const c of a) assert.ok(kept.includes(c));
  });
  test('spreads out: the subset covers more of the grid than the N closest to 2', () => {
    const spread = (set: readonly { alpha: number; beta: number; gamma: number }[]) =>
      ['alpha', 'beta', 'gamma'].reduce((sum, k) => {
        const v = set.map((c) => c[k as 'alpha']);
        return sum + Math.max(...v) - Math.min(...v);
      }, 0);
    assert.ok(spread(spreadSubset(kept, 3)) > spread(kept.slice(0, 3)));
  });
  test('a grid smaller than the limit is kept whole', () => {
    assert.equal(spreadSubset(kept, kept.length + 5).length, kept.length);
  });
});

test('objective ACC·(MACs/T)^-0.07: equal to ACC at T, ×2^-0.07 per doubling', () => {
  const cases: [number, number, number, number][] = [
    [0.8, 1e6, 1e6, 0.8],
    [0.8, 2e6, 1e6, 0.8 * 2 ** -0.07],
    [0.5, 1e6, 4e6, 0.5 * 4 ** 0.07],
    [1, 400e6, 400e6, 1],
  ];
  for (const [accuracy, macs, target, expected] of cases) {
    assert.ok(Math.abs(searchObjective(accuracy, macs, target) - expected) < 1e-12, `${accuracy} ${macs} ${target}`);
  }
  assert.ok(Math.abs(2 ** -0.07 - 0.95264) < 1e-5, 'doubling MACs costs about 4.7% of the objective');
  assert.throws(() => searchObjective(0.5, 0, 1), RangeError);
});

describe('candidates and family', () => {
  test('a candidate is the base × (β, α) with resolution base·γ rounded to a multiple of 8 (≥ 32)', () => {
    const base = resolveBase('phi:-4', 32);
    assert.deepEqual(base, { variant: 'phi:-4', width: 1.1 ** -4, depth: 1.2 ** -4, resolution: 32 });
    const cases: [number, number][] = [
      [1, 32],
      [1.1, 32],
      [1.15, 40],
      [1.4, 48],
    ];
    for (const [gamma, px] of cases) {
      const scaled = scaleBase(base, { alpha: 1.25, beta: 1.1, gamma });
      assert.equal(scaled.resolution, px, `γ=${gamma}`);
      assert.ok(Math.abs(scaled.width - base.width * 1.1) < 1e-12);
      assert.ok(Math.abs(scaled.depth - base.depth * 1.25) < 1e-12);
    }
    assert.throws(() => resolveBase('b9'), AppError);
    assert.throws(() => resolveBase('b0', 20), AppError);
  });

  test('φ = 0 of a family is the base itself', () => {
    for (const [variant, px] of [
      ['b0', undefined],
      ['phi:-4', 32],
    ] as const) {
      const base = resolveBase(variant, px);
      const [zero] = familyTable(base, { alpha: 1.3, beta: 1.05, gamma: 1.2 }, 0, 10);
      const facts = modelFacts(makeSpec(variant, { resolution: base.resolution, numClasses: 10 }));
      const arch = resolveArchitecture(makeSpec(variant));
      assert.equal(zero!.macs, facts.macs);
      assert.equal(zero!.params, facts.totalParams);
      assert.deepEqual(zero!.filters, arch.stageFilters);
      assert.deepEqual(zero!.repeats, arch.stageRepeats);
    }
  });

  test("from B0 with the paper's coefficients the family matches `scaleByPhi` and MACs grow ≈ α·β²·γ² per φ", () => {
    const family = familyTable(resolveBase('b0'), PAPER_COEFFICIENTS, 7);
    for (const member of family) {
      const expected = scaleByPhi(member.phi, PAPER_COEFFICIENTS);
      assert.equal(member.resolution, expected.resolution);
      assert.ok(Math.abs(member.width - expected.width) < 1e-12 && Math.abs(member.depth - expected.depth) < 1e-12);
    }
    const growth = 1.2 * 1.1 ** 2 * 1.15 ** 2;
    const perPhi = (family[7]!.macs / family[0]!.macs) ** (1 / 7);
    assert.ok(Math.abs(perPhi - growth) / growth < 0.05, `MACs ×${perPhi.toFixed(3)} per φ, α·β²·γ² = ${growth.toFixed(3)}`);
    // Step by step the rounding of channels, repeats and pixels moves it, but never far.
    for (let phi = 1; phi <= 7; phi++) {
      const step = family[phi]!.macs / family[phi - 1]!.macs;
      assert.ok(step > growth * 0.8 && step < growth * 1.25, `φ ${phi - 1}→${phi}: ×${step.toFixed(3)}`);
    }
    // Same ballpark as the published B7 (37B FLOPS in the paper's table, counted as MACs).
    assert.ok(family[7]!.macs > 30e9 && family[7]!.macs < 45e9);
    assert.throws(() => familyTable(resolveBase('b0'), PAPER_COEFFICIENTS, 13), AppError);
  });
});

describe('chart', () => {
  test('B0–B7 with their MACs and the published top-1', () => {
    const points = bSeriesPoints();
    assert.deepEqual(
      points.map((p) => p.accuracy),
      Object.values(VARIANTS).map((v) => v.paperTop1),
    );
    assert.equal(points[0]!.macs, modelFacts(makeSpec('b0')).macs);
    for (let i = 1; i < points.length; i++) assert.ok(points[i]!.macs > points[i - 1]!.macs);
  });

  test('the SVG draws every measured point as a circle and every point on the MACs strip', () => {
    const data = scalingChartData({
      title: 'Search <test> & co',
      candidates: [
        { label: '#1', macs: 5e6, accuracy: 0.5, chosen: false },
        { label: '#2', macs: 8e6, accuracy: 0.75, chosen: true },
      ],
      family: [
        { phi: 0, macs: 3e6, accuracy: null },
        { phi: 1, macs: 8e6, accuracy: 0.75 },
        { phi: 2, macs: 16e6, accuracy: null },
      ],
    });
    assert.deepEqual(
      data.series.find((s) => s.id === 'candidates')!.points.map((p) => p.accuracy),
      [50, 75],
    );
    const svg = renderScalingChartSvg(data);
    assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'));
    assert.ok(svg.includes('Search &lt;test&gt; &amp; co'));
    assert.equal((svg.match(/<circle /g) ?? []).length, 8 + 2 + 1, 'B0–B7, two candidates, one trained family member');
    assert.equal((svg.match(/<rect x="[^"]+" y="[^"]+" width="7"/g) ?? []).length, 8 + 2 + 3);
    assert.equal((svg.match(/r="7"/g) ?? []).length, 1, 'the chosen candidate is ringed');
    assert.ok(svg.includes('>1M<') && svg.includes('>100B<'), 'log axis spans the tiny candidates and B7');
  });
});
