/**
 * The Scaling lab's channels end to end: a real search of 2 candidates (a 32 px φ = −8 base, 1
 * epoch each, a generated 3-class dataset) trained by worker processes through the job manager,
 * stopped through `scaling:stop`, resumed in a new context (the app restarted), stopped again by
 * closing the context (the app quit), and finished by a third. Then the chosen coefficients, the
 * chart, the family and a family member trained as a run. Plus the preview and bad input.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Result } from '../common/errors.ts';
import type { AppEvent } from '../common/ipc/events.ts';
import type { ChannelResults, ScalingSearchDetail } from '../common/ipc/contract.ts';
import { DEFAULT_GRID, familyMember, parseGrid, resolveBase } from '../common/scaling-lab.ts';
import { planSearch } from '../scaling/search.ts';
import { loadState, saveState } from '../scaling/state.ts';
import { temporaryFolder } from '../store/test-support.ts';
import { writeSyntheticDataset } from '../train/test-support.ts';
import { createApiContext, createApiHandlers, dispatch, type ApiContext } from './handlers.ts';

const temp = temporaryFolder('effnet-api-scaling-');
const env = { ...process.env, EFFNET_HOME: temp.file('home'), EFFNET_BACKEND: 'cpu' };
const dataset = temp.file('shapes');
const EVENT_TIMEOUT_MS = 120_000;

interface Session {
  readonly context: ApiContext;
  readonly events: AppEvent[];
  value<K extends keyof ChannelResults>(channel: K, ...args: unknown[]): Promise<ChannelResults[K]>;
  failure(channel: string, ...args: unknown[]): Promise<{ code: string; message: string; hint?: string }>;
  /** Resolves with the first event (already seen or to come) that matches. */
  event(match: (event: AppEvent) => boolean): Promise<AppEvent>;
}

/** A context with its handlers and every event it published: one "app session". */
function session(): Session {
  const context = createApiContext({ env, shell: 'browser' });
  const handlers = createApiHandlers(context);
  const events: AppEvent[] = [];
  const waiting = new Set<{ match: (event: AppEvent) => boolean; resolve: (event: AppEvent) => void }>();
  context.events.subscribe((event) => {
    events.push(event);
    for (const waiter of waiting) {
      if (!waiter.match(event)) continue;
      waiting.delete(waiter);
      waiter.resolve(event);
    }
  });
  return {
    context,
    events,
    async value(channel, ...args) {
      const result = (await dispatch(handlers, channel, args)) as Result<never>;
      if (!result.ok) assert.fail(`${channel} failed: ${result.error.code}: ${result.error.message}`);
      return result.value;
    },
    async failure(channel, ...args) {
      const result = await dispatch(handlers, channel, args);
      assert.equal(result.ok, false, `${channel} should have failed`);
      return (result as { ok: false; error: { code: string; message: string; hint?: string } }).error;
    },
    event(match) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      // The timer also keeps the event loop alive: the worker's pipes alone do not (the test
      // runner would end the test as "still pending").
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event in ${EVENT_TIMEOUT_MS / 1000} s`)), EVENT_TIMEOUT_MS);
        waiting.add({ match, resolve: (event) => (clearTimeout(timer), resolve(event)) });
      });
    },
  };
}

const progress = (id: string, phase: string, candidate?: number) => (event: AppEvent) =>
  event.type === 'scaling:progress' &&
  event.searchId === id &&
  event.phase === phase &&
  (candidate === undefined || event.candidate === candidate);
/** The worker of this run has its backend: training is under way. */
const started = (runId: number) => (event: AppEvent) =>
  event.type === 'job:event' && event.job.runId === runId && event.job.event.type === 'started';
const runOf = async (s: Session, id: string, candidate: number) => {
  const event = await s.event(progress(id, 'candidate-run', candidate));
  return (event as { runId: number }).runId;
};

const search = {
  dataset,
  base: { variant: 'phi:-8', resolution: 32 },
  grid: DEFAULT_GRID,
  tolerance: 0.1,
  maxCandidates: 2,
  budget: { epochs: 1 },
  batchSize: 8,
  learningRate: 0.01,
  validationSplit: 0.25,
  augment: false,
  seed: 11,
};

before(async () => {
  await writeSyntheticDataset(dataset, { perClass: 8, size: 32, seed: 3 });
});
after(() => temp.remove());

describe('scaling:plan', () => {
  const s = session();
  after(() => s.context.close());

  test('the kept candidates of the default grid: within the tolerance, with the grid size and costs', async () => {
    const plan = await s.value('scaling:plan', {
      base: { variant: 'phi:-4', resolution: 64 },
      grid: DEFAULT_GRID,
      tolerance: 0.1,
      numClasses: 3,
    });
    assert.equal(plan.gridTotal, 9 ** 3);
    assert.equal(plan.candidates.length, plan.gridKept);
    assert.ok(plan.gridKept > 10 && plan.gridKept < plan.gridTotal, `${plan.gridKept} kept`);
    assert.equal(plan.targetMacs, 2 * plan.baseMacs);
    for (const c of plan.candidates) {
      assert.ok(Math.abs(c.alpha * c.beta ** 2 * c.gamma ** 2 - 2) <= 0.1 + 1e-9, `${c.alpha} ${c.beta} ${c.gamma}`);
      assert.ok(c.macs > plan.baseMacs && c.params >= plan.baseParams);
    }
    const tighter = await s.value('scaling:plan', { base: { variant: 'phi:-4', resolution: 64 }, grid: DEFAULT_GRID, tolerance: 0.02 });
    assert.ok(tighter.gridKept < plan.gridKept, 'a smaller tolerance keeps fewer');
    const spread = await s.value('scaling:plan', { base: { variant: 'b0' }, grid: DEFAULT_GRID, tolerance: 0.1, maxCandidates: 4 });
    assert.equal(spread.candidates.length, 4);
    assert.equal(spread.gridKept, plan.gridKept);
    assert.equal(spread.base.resolution, 224);
  });

  test('bad grids, bases and tolerances are errors that say what to change', async () => {
    const plan = (grid: string, extra: object = {}) => ({ base: { variant: 'b0' }, grid: parseGrid(grid), tolerance: 0.1, ...extra });
    const cases: [unknown, string, RegExp][] = [
      [plan('alpha=1,beta=1,gamma=1'), 'scaling-grid-empty', /No α, β, γ of the grid \(1 combinations\)/],
      [{ ...plan(''), grid: { ...DEFAULT_GRID, beta: { min: 0.5, max: 1.2, step: 0.1 } } }, 'scaling-grid-invalid', /beta: 0.5 is below 1/],
      [{ ...plan(''), grid: { ...DEFAULT_GRID, gamma: { min: 1, max: 1.4, step: 0 } } }, 'scaling-grid-invalid', /STEP must be positive/],
      [{ ...plan(''), base: { variant: 'b9' } }, 'scaling-base-invalid', /Base 'b9'/],
      [plan('', { tolerance: 2 }), 'invalid-request', /tolerance/],
      [plan('', { maxCandidates: 0 }), 'invalid-request', /maxCandidates/],
    ];
    for (const [args, code, message] of cases) {
      const error = await s.failure('scaling:plan', args);
      assert.equal(error.code, code, JSON.stringify(args));
      assert.match(error.message, message);
    }
  });
});

describe('scaling:family', () => {
  const s = session();
  after(() => s.context.close());

  test('φ = 0…N for given coefficients: φ = 0 is the base, costs grow, the constraint is checked', async () => {
    const family = await s.value('scaling:family', { alpha: 1.2, beta: 1.1, gamma: 1.15, phiMax: 3 });
    assert.deepEqual(
      family.members.map((m) => m.phi),
      [0, 1, 2, 3],
    );
    assert.equal(family.members[0]!.resolution, 224);
    assert.deepEqual(family.members[1]!.model, { variant: 'b0', width: 1.1, depth: 1.2, resolution: 256 });
    for (let phi = 1; phi <= 3; phi++) assert.ok(family.members[phi]!.macs > family.members[phi - 1]!.macs);
    assert.equal(family.constraint.satisfied, true);
    const off = await s.value('scaling:family', { alpha: 1.4, beta: 1.4, gamma: 1.4, phiMax: 0 });
    assert.equal(off.constraint.satisfied, false);
    assert.equal((await s.failure('scaling:family', { alpha: 0.9, beta: 1, gamma: 1, phiMax: 1 })).code, 'invalid-request');
    assert.equal((await s.failure('scaling:family', { alpha: 1.2, beta: 1.1, gamma: 1.15, phiMax: 13 })).code, 'invalid-request');
  });
});

describe('a search through the channels', () => {
  test('start, stop, resume after a restart, stop by closing, resume and finish; then the family', async (t) => {
    const clock = performance.now();
    // Session 1: start; stop while candidate 2 trains.
    const one = session();
    const { id, candidates } = await one.value('scaling:start', search);
    assert.equal(candidates, 2);
    assert.equal((await one.failure('scaling:start', search)).code, 'scaling-busy', 'one search at a time');
    assert.equal((await one.failure('scaling:resume', id)).code, 'scaling-running');
    const firstRun = await runOf(one, id, 1);
    const secondRun = await runOf(one, id, 2);
    await one.event(started(secondRun));
    const live = await one.value('scaling:get', { id });
    assert.equal(live.status, 'running');
    assert.equal(live.progress?.candidate, 2);
    assert.equal(live.progress?.runId, secondRun);
    assert.deepEqual(await one.value('scaling:stop', id), { stopping: true });
    await one.event(progress(id, 'ended'));
    const stopped = await one.value('scaling:get', { id });
    assert.equal(stopped.status, 'stopped');
    assert.deepEqual(
      stopped.search.candidates.map((c) => [c.status, c.runIds]),
      [
        ['completed', [firstRun]],
        ['pending', [secondRun]],
      ],
    );
    assert.equal(one.context.store().runs.require(secondRun).status, 'cancelled');
    assert.deepEqual(await one.value('scaling:stop', id), { stopping: false }, 'nothing runs any more');
    const seen = one.events.flatMap((e) => (e.type === 'scaling:progress' && e.searchId === id ? [`${e.phase}${e.candidate ?? ''}`] : []));
    for (const phase of [
      'started',
      'candidate-started1',
      'candidate-run1',
      'epoch1',
      'candidate-ended1',
      'candidate-started2',
      'stopping2',
      'ended',
    ]) {
      assert.ok(seen.includes(phase), `${phase} in ${seen.join(' ')}`);
    }
    await one.context.close();
    t.diagnostic(`session 1: ${((performance.now() - clock) / 1000).toFixed(1)} s`);

    // Session 2 (the app restarted): the search is listed as stopped; resume, then quit mid-candidate.
    const two = session();
    const listed = await two.value('scaling:list');
    assert.deepEqual(
      listed.map((summary) => [summary.id, summary.status, summary.completed, summary.candidates]),
      [[id, 'stopped', 1, 2]],
    );
    assert.deepEqual(await two.value('scaling:resume', id), { id, candidates: 1 });
    const thirdRun = await runOf(two, id, 2);
    assert.ok(!two.events.some(progress(id, 'candidate-started', 1)), 'candidate 1 is not trained again');
    // Quit while its worker is still loading (before training started): it must stop cleanly too.
    await two.context.close();
    assert.ok(two.events.some(progress(id, 'stopping', 2)) && two.events.some(progress(id, 'ended')));
    const afterQuit = await loadState(id, env);
    assert.equal(afterQuit.candidates[1]!.status, 'pending', 'closing the app leaves the candidate resumable, not failed');
    assert.deepEqual(afterQuit.candidates[1]!.runIds, [secondRun, thirdRun]);

    t.diagnostic(`session 2: ${((performance.now() - clock) / 1000).toFixed(1)} s`);
    // Session 3: resume and finish.
    const three = session();
    await three.value('scaling:resume', id);
    const lastRun = await runOf(three, id, 2);
    await three.event(progress(id, 'ended'));
    const done: ScalingSearchDetail = await three.value('scaling:get', { id, phiMax: 3 });
    t.diagnostic(`search of 2 candidates with 2 stops: ${((performance.now() - clock) / 1000).toFixed(1)} s`);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.equal(done.progress, null);
    const [c1, c2] = done.search.candidates;
    assert.deepEqual(c1!.runIds, [firstRun], 'candidate 1 kept its one run');
    assert.deepEqual(c2!.runIds, [secondRun, thirdRun, lastRun]);
    const store = three.context.store();
    assert.equal(store.runs.require(lastRun).resumedFrom, thirdRun, 'the last run continues the stopped one');
    for (const c of done.search.candidates) {
      assert.equal(c.status, 'completed');
      assert.equal(c.accuracy, store.runs.require(c.runIds.at(-1)!).bestValAccuracy);
      assert.ok(Math.abs(c.objective! - c.accuracy! * (c.macs / done.search.targetMacs) ** -0.07) < 1e-12);
    }
    // Every candidate run is an ordinary run carrying the search's tag.
    const tagged = store.runList.list({ tags: [done.tag] }).rows.map((row) => row.id);
    assert.deepEqual(tagged.sort(), [firstRun, secondRun, thirdRun, lastRun].sort());
    assert.equal(done.chosen!.objective, Math.max(c1!.objective!, c2!.objective!));
    assert.equal(done.constraint!.satisfied, true);
    assert.deepEqual(
      done.chart.series.map((series) => [series.id, series.points.length]),
      [
        ['b-series', 8],
        ['candidates', 2],
        ['family', 4],
      ],
    );
    assert.equal(done.family[1]!.macs, done.chosen!.macs, 'φ = 1 of the family is the chosen candidate');
    assert.equal((await three.failure('scaling:resume', id)).code, 'scaling-finished');

    // Step 2: family member φ = 0 queued as an ordinary run, tagged, listed under its member.
    // (Its accuracy reaching the table and chart is checked below without training.)
    const { runId } = await three.value('scaling:trainMember', { searchId: id, phi: 0, epochs: 1 });
    assert.deepEqual(store.tags.forRun(runId), ['scale-family', `scale-family:${id}`]);
    const config = store.runs.require(runId).config as { model: Record<string, unknown>; seed: number; dataset: { path: string } };
    assert.deepEqual(config.model, { ...done.family[0]!.model, weights: 'none' });
    assert.equal(config.seed, 11);
    assert.equal(config.dataset.path, dataset);
    const family = await three.value('scaling:family', { searchId: id, alpha: c1!.alpha, beta: c1!.beta, gamma: c1!.gamma, phiMax: 1 });
    assert.deepEqual(
      family.members.map((member) => member.runs.map((run) => run.id)),
      [[runId], []],
    );
    await three.context.close();
  });
});

describe('a latency target', () => {
  const s = session();
  after(() => s.context.close());

  test('every candidate is measured before the search starts, and the objective uses the latencies', async () => {
    const { id } = await s.value('scaling:start', { ...search, target: { latencyMs: 5 } });
    // Stopped before any candidate trains: what matters here is the plan it saved.
    await s.value('scaling:stop', id);
    await s.event(progress(id, 'ended'));
    const detail = await s.value('scaling:get', { id });
    assert.equal(detail.search.targetLatencyMs, 5);
    assert.ok(detail.search.latency && detail.search.latency.baseMs > 0);
    for (const c of detail.search.candidates) assert.ok(c.latencyMs !== null && c.latencyMs > 0, `candidate ${c.index}`);
    assert.ok(s.events.filter(progress(id, 'measuring')).length >= 2, 'measuring progress is published');
    assert.equal(detail.status, 'stopped');
    assert.ok(detail.search.candidates.every((c) => c.runIds.length === 0));
  });
});

describe('bad requests', () => {
  const s = session();
  after(() => s.context.close());

  test('name the field, the file or the search, and what to do', async () => {
    const one = temp.file('one-class');
    mkdirSync(`${one}/only`, { recursive: true });
    writeFileSync(`${one}/only/a.png`, '');
    const cases: [string, unknown[], string, RegExp][] = [
      ['scaling:start', [{ ...search, dataset: temp.file('missing') }], 'invalid-path', /dataset: .*missing does not exist/],
      ['scaling:start', [{ ...search, dataset: 'relative/path' }], 'invalid-path', /not an absolute path/],
      ['scaling:start', [{ ...search, dataset: one }], 'scaling-dataset', /1 class\(es\); a search needs at least 2/],
      ['scaling:start', [{ ...search, budget: { epochs: 0 } }], 'invalid-request', /budget\.epochs/],
      ['scaling:start', [{ ...search, target: { macs: 1, latencyMs: 1 } }], 'invalid-request', /target/],
      ['scaling:start', [{ ...search, grid: parseGrid('alpha=1,beta=1,gamma=1') }], 'scaling-grid-empty', /No α, β, γ/],
      ['scaling:get', [{ id: 'no-such-search' }], 'not-found', /No search with this id|cannot read/],
      ['scaling:get', [{ id: '../../etc/passwd' }], 'invalid-request', /search id/],
      ['scaling:stop', ['no-such-search'], 'not-found', /no-such-search/],
      ['scaling:resume', ['no-such-search'], 'not-found', /no-such-search/],
      ['scaling:trainMember', [{ searchId: 'no-such-search', phi: 1, epochs: 1 }], 'not-found', /no-such-search/],
    ];
    for (const [channel, args, code, message] of cases) {
      const error = await s.failure(channel, ...args);
      assert.equal(error.code, code, `${channel} ${JSON.stringify(args)}: ${error.message}`);
      assert.match(error.message, message);
    }
  });

  test("a trained member's best accuracy joins the family table and the chart's family line", async () => {
    const state = planSearch({
      id: 'finished',
      dataset,
      classes: ['blue', 'green', 'red'],
      base: resolveBase('phi:-8', 32),
      grid: DEFAULT_GRID,
      tolerance: 0.1,
      maxCandidates: 2,
      training: { epochs: 1, batchSize: 8, learningRate: 0.01, validationSplit: 0.25, augment: false },
      seed: 1,
    });
    state.candidates.forEach((c, i) => Object.assign(c, { status: 'completed', accuracy: 0.5 + i / 10, objective: 0.5 + i / 10 }));
    await saveState(state, env);
    const chosen = state.candidates[1]!;
    const member = familyMember(state.base, chosen, 2, 3);
    const store = s.context.store();
    const runs = [0.6, 0.7].map((best) => {
      const run = store.runs.create({
        name: `φ=2 ${best}`,
        config: { model: { variant: 'phi:-8', width: member.width, depth: member.depth, resolution: member.resolution } },
      });
      store.tags.add(run.id, ['scale-family:finished']);
      store.runs.start(run.id, { backend: 'cpu', device: 'cpu' });
      store.metrics.recordEpochs(run.id, [{ epoch: 1, values: { val_accuracy: best } }]);
      store.runs.finish(run.id, 'completed', null);
      return run.id;
    });
    const detail = await s.value('scaling:get', { id: 'finished', phiMax: 3 });
    assert.equal(detail.chosen!.index, 2);
    assert.deepEqual(
      detail.family.map((m) => [m.phi, m.accuracy, m.runs.map((run) => run.id)]),
      [
        [0, null, []],
        [1, 0.6, []],
        [2, 0.7, runs],
        [3, null, []],
      ],
    );
    assert.deepEqual(
      detail.chart.series.find((series) => series.id === 'family')!.points.map((point) => point.accuracy),
      [null, 60, 70, null],
    );
  });

  test('a planned search that never trained: listed as stopped, no coefficients to train a member with', async () => {
    const state = planSearch({
      id: 'never-ran',
      dataset,
      classes: ['blue', 'green', 'red'],
      base: resolveBase('phi:-8', 32),
      grid: DEFAULT_GRID,
      tolerance: 0.1,
      maxCandidates: 2,
      training: { epochs: 1, batchSize: 8, learningRate: 0.01, validationSplit: 0.25, augment: false },
      seed: 1,
    });
    await saveState(state, env);
    const detail = await s.value('scaling:get', { id: 'never-ran' });
    assert.equal(detail.status, 'stopped');
    assert.equal(detail.chosen, null);
    assert.deepEqual(detail.family, []);
    assert.deepEqual(
      detail.chart.series.map((series) => series.points.length),
      [8, 0, 0],
    );
    const error = await s.failure('scaling:trainMember', { searchId: 'never-ran', phi: 1, epochs: 1 });
    assert.equal(error.code, 'scaling-no-choice');
    assert.match(error.hint!, /give the coefficients/);
    const listed = await s.value('scaling:list');
    assert.ok(listed.some((summary) => summary.id === 'never-ran' && summary.status === 'stopped' && summary.chosen === null));
  });
});
