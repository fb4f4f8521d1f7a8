// The Scaling lab's form: defaults, problems per field, and arguments the channels' own schemas accept.
import { describe, expect, it } from 'vitest';
import { CHANNEL_ARGS } from '../../../app/common/ipc/contract.ts';
import { generateGrid } from '../../../app/common/scaling-lab.ts';
import { candidateLabel, defaultSearchForm, planArgs, previewProblems, searchProblems, startArgs, type SearchForm } from './scaling.ts';

const form = (change: (f: SearchForm) => void = () => {}) => {
  const f = defaultSearchForm('/data/pets');
  change(f);
  return f;
};

describe('the search form', () => {
  it("defaults to the issue's grid (1…1.4 by 0.05, within 2 ± 0.1), which keeps candidates", () => {
    const f = form();
    expect(searchProblems(f)).toEqual({});
    expect(f.grid.alpha).toEqual({ min: 1, max: 1.4, step: 0.05 });
    expect(generateGrid(f.grid, f.tolerance).kept.length).toBeGreaterThan(f.maxCandidates!);
  });

  it.each<[string, (f: SearchForm) => void, string, RegExp]>([
    ['no dataset', (f) => (f.dataset = ' '), 'dataset', /dataset folder/],
    ['α below 1', (f) => (f.grid.alpha.min = 0.9), 'alpha', /α: .*≥ 1/],
    ['β max below min', (f) => (f.grid.beta.max = 0.9), 'beta', /max is below min/],
    ['γ step 0', (f) => (f.grid.gamma.step = 0), 'gamma', /step must be positive/],
    ['an empty grid field', (f) => (f.grid.gamma.max = null as unknown as number), 'gamma', /fill in/],
    ['tolerance 2', (f) => (f.tolerance = 2), 'tolerance', /below 2/],
    ['no budget', (f) => ((f.epochs = null), (f.minutes = null)), 'budget', /epochs, minutes, or both/],
    ['a fractional epoch', (f) => (f.epochs = 1.5), 'budget', /whole number/],
    ['a latency target without a value', (f) => (f.target = 'latency'), 'target', /latency target/],
    ['a small image size', (f) => (f.resolution = 16), 'resolution', /at least 32/],
    ['a negative seed', (f) => (f.seed = -1), 'seed', /≥ 0/],
  ])('%s is a problem of its field', (_name, change, field, message) => {
    const problems = searchProblems(form(change));
    expect(Object.keys(problems)).toEqual([field]);
    expect(problems[field]).toMatch(message);
  });

  it('the preview waits only for grid and base problems, not the dataset or budget', () => {
    expect(previewProblems(searchProblems(form((f) => ((f.dataset = ''), (f.epochs = null)))))).toEqual([]);
    expect(previewProblems(searchProblems(form((f) => (f.grid.alpha.min = 0.5))))).toHaveLength(1);
  });

  it("the channels' own schemas accept the arguments the form builds", () => {
    const plan = CHANNEL_ARGS['scaling:plan'].parse([planArgs(form(), 3)])[0];
    expect(plan).toMatchObject({ base: { variant: 'phi:-4' }, tolerance: 0.1, maxCandidates: 6, numClasses: 3 });
    const start = CHANNEL_ARGS['scaling:start'].parse([startArgs(form())])[0];
    expect(start).toMatchObject({ dataset: '/data/pets', budget: { epochs: 3 }, batchSize: 16, augment: true });
    expect(start.target).toBeUndefined();
    expect(start.seed).toBeUndefined();
    const custom = startArgs(
      form((f) => {
        f.base = 'b0';
        f.resolution = 96;
        f.maxCandidates = null;
        f.minutes = 2.5;
        f.target = 'latency';
        f.targetMs = 4;
        f.seed = 7;
      }),
    );
    expect(CHANNEL_ARGS['scaling:start'].parse([custom])[0]).toMatchObject({
      base: { variant: 'b0', resolution: 96 },
      budget: { epochs: 3, minutes: 2.5 },
      target: { latencyMs: 4 },
      seed: 7,
    });
    expect('maxCandidates' in custom).toBe(false);
    expect(startArgs(form((f) => (f.targetMacs = 5e6))).target).toEqual({ macs: 5e6 });
  });

  it.each([
    ['running', [3], true, 'running'],
    ['running', [3], false, 'interrupted'],
    ['pending', [3], false, 'stopped'],
    ['pending', [], false, 'pending'],
    ['completed', [1], false, 'completed'],
  ] as const)('a %s candidate with runs %j (search running: %s) reads %s', (status, runs, running, label) => {
    expect(candidateLabel(status, runs, running)).toBe(label);
  });
});
