/**
 * The search loop without training: a recording trainer stands in for the job manager (the
 * end-to-end test with real runs is app/cli/commands/scale-search.test.ts). Checks the plan,
 * the scoring and choice, and that a stopped search resumes without retraining what completed.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { parseGrid, resolveBase, searchObjective } from '../common/scaling-lab.ts';
import { temporaryFolder } from '../store/test-support.ts';
import { candidateConfig } from './job-trainer.ts';
import {
  attachLatency,
  chooseCandidate,
  objectiveCost,
  planSearch,
  runSearch,
  type CandidateOutcome,
  type CandidateTrainer,
} from './search.ts';
import { loadState, searchesFolder, stateFile, type SearchState } from './state.ts';

const temp = temporaryFolder('effnet-scaling-search-');
const env = { ...process.env, EFFNET_HOME: temp.file('home') };
after(() => temp.remove());

const plan = (id: string, maxCandidates?: number) =>
  planSearch({
    id,
    dataset: '/data/shapes',
    classes: ['a', 'b', 'c'],
    base: resolveBase('phi:-4', 32),
    grid: parseGrid('alpha=1:1.4:0.1,beta=1:1.4:0.1,gamma=1:1.4:0.1'),
    tolerance: 0.1,
    maxCandidates,
    training: { epochs: 1, batchSize: 8, learningRate: 0.01, validationSplit: 0.25, augment: false, workers: 0 },
    seed: 7,
  });

/** Accuracy as a function of the coefficients, so results are checkable; records what it trained. */
function fakeTrainer(trained: number[], stopAfter?: { count: number; controller: AbortController }): CandidateTrainer {
  let nextRun = 100;
  return async (candidate, _state, signal): Promise<CandidateOutcome> => {
    trained.push(candidate.index);
    const runId = nextRun++;
    if (stopAfter && trained.length > stopAfter.count) {
      stopAfter.controller.abort();
      assert.ok(signal.aborted);
      return { status: 'stopped', runId, accuracy: null, seconds: 0.5, message: 'stopped' };
    }
    return { status: 'completed', runId, accuracy: 0.5 + candidate.beta / 10, seconds: 2, message: null };
  };
}

describe('planSearch', () => {
  test('candidates in the constraint, with MACs, params and the default target 2 × base MACs', () => {
    const state = plan('plan-1');
    assert.equal(state.gridTotal, 125);
    assert.equal(state.candidates.length, state.gridKept);
    assert.equal(state.targetSource, 'base×2');
    assert.equal(state.targetMacs, 2 * state.baseMacs);
    for (const c of state.candidates) {
      assert.ok(Math.abs(c.alpha * c.beta ** 2 * c.gamma ** 2 - 2) <= 0.1 + 1e-12);
      assert.ok(c.macs > state.baseMacs, `candidate ${c.index} costs more than the base`);
      assert.equal(c.status, 'pending');
    }
    assert.equal(plan('plan-2', 3).candidates.length, 3);
    assert.deepEqual(
      plan('plan-2', 3).candidates.map((c) => c.index),
      [1, 2, 3],
    );
  });

  test("a candidate's training config: the base variant with its width, depth and resolution, from scratch, the search's seed", () => {
    const state = plan('plan-3', 2);
    const c = state.candidates[1]!;
    const config = candidateConfig(state, c);
    assert.deepEqual(config.model, { variant: 'phi:-4', width: c.width, depth: c.depth, resolution: c.resolution, weights: 'none' });
    assert.equal(config.seed, 7);
    assert.equal(config.epochs, 1);
    assert.equal(config.augment, null);
    assert.deepEqual(config.dataset, { path: '/data/shapes', validationSplit: 0.25 });
  });
});

describe('runSearch', () => {
  test('scores every candidate, picks the highest objective, saves the state', async () => {
    const state = plan('run-1', 4);
    const trained: number[] = [];
    const outcome = await runSearch(state, fakeTrainer(trained), { env });
    assert.deepEqual(trained, [1, 2, 3, 4]);
    assert.equal(outcome.stopped, false);
    for (const c of outcome.state.candidates) {
      assert.equal(c.status, 'completed');
      assert.equal(c.objective, searchObjective(0.5 + c.beta / 10, c.macs, state.targetMacs));
    }
    const best = Math.max(...outcome.state.candidates.map((c) => c.objective!));
    assert.equal(outcome.chosen!.objective, best);
    const saved = await loadState('run-1', env);
    assert.deepEqual(
      saved.candidates.map((c) => [c.status, c.runIds]),
      outcome.state.candidates.map((c) => [c.status, c.runIds]),
    );
    assert.deepEqual(
      readdirSync(searchesFolder(env)).filter((name) => name.endsWith('.tmp')),
      [],
      'no temporary files left',
    );
  });

  test('stopped after the first candidate, then resumed: completed candidates are not trained again', async () => {
    const controller = new AbortController();
    const first: number[] = [];
    const stopped = await runSearch(plan('resume-1', 3), fakeTrainer(first, { count: 1, controller }), { env, signal: controller.signal });
    assert.equal(stopped.stopped, true);
    assert.deepEqual(first, [1, 2], 'candidate 2 was started and then stopped');
    const saved: SearchState = await loadState('resume-1', env);
    assert.deepEqual(
      saved.candidates.map((c) => c.status),
      ['completed', 'pending', 'pending'],
    );
    assert.deepEqual(saved.candidates[1]!.runIds, [101], 'the stopped run is remembered, to continue from');

    const second: number[] = [];
    const resumed = await runSearch(saved, fakeTrainer(second), { env });
    assert.deepEqual(second, [2, 3], 'candidate 1 was skipped');
    assert.equal(resumed.stopped, false);
    assert.deepEqual(
      resumed.state.candidates.map((c) => c.status),
      ['completed', 'completed', 'completed'],
    );
    assert.deepEqual(resumed.state.candidates[0]!.runIds, [100]);
    assert.deepEqual(resumed.state.candidates[1]!.runIds, [101, 100], 'the stopped run and the one that finished it');
    assert.equal(resumed.state.candidates[1]!.seconds, 2.5);

    // A third run has nothing left to do.
    const third: number[] = [];
    await runSearch(resumed.state, fakeTrainer(third), { env });
    assert.deepEqual(third, []);
  });

  test('a failed candidate is recorded and the search goes on; an aborted signal stops before the next', async () => {
    const state = plan('fail-1', 3);
    const trainer: CandidateTrainer = async (candidate) =>
      candidate.index === 2
        ? { status: 'failed', runId: 7, accuracy: null, seconds: 1, message: 'out of memory' }
        : { status: 'completed', runId: candidate.index, accuracy: 0.6, seconds: 1, message: null };
    const outcome = await runSearch(state, trainer, { env });
    assert.deepEqual(
      outcome.state.candidates.map((c) => c.status),
      ['completed', 'failed', 'completed'],
    );
    assert.equal(outcome.state.candidates[1]!.message, 'out of memory');
    assert.notEqual(chooseCandidate(outcome.state)!.index, 2);

    const aborted = new AbortController();
    aborted.abort();
    const none: number[] = [];
    const result = await runSearch(plan('fail-2', 2), fakeTrainer(none), { env, signal: aborted.signal });
    assert.equal(result.stopped, true);
    assert.deepEqual(none, []);
    assert.equal(result.chosen, null);
  });

  test("with a latency target the objective uses each candidate's measured latency instead of MACs", async () => {
    const state = attachLatency(plan('latency-1', 3), 10, { backend: 'wasm', device: 'test', baseMs: 4, candidateMs: [5, 10, 20] });
    assert.deepEqual(objectiveCost(state, state.candidates[2]!), [20, 10]);
    const outcome = await runSearch(
      state,
      async (c) => ({ status: 'completed', runId: c.index, accuracy: 0.8, seconds: 1, message: null }),
      { env },
    );
    assert.deepEqual(
      outcome.state.candidates.map((c) => c.objective),
      [0.8 * 0.5 ** -0.07, 0.8, 0.8 * 2 ** -0.07],
    );
    assert.equal(outcome.chosen!.index, 1, 'same accuracy: the fastest wins');
    const saved = await loadState('latency-1', env);
    assert.equal(saved.targetLatencyMs, 10);
    assert.deepEqual(
      saved.candidates.map((c) => c.latencyMs),
      [5, 10, 20],
    );
    assert.throws(
      () => attachLatency(plan('latency-2', 2), 10, { backend: 'wasm', device: 'test', baseMs: 4, candidateMs: [1] }),
      RangeError,
    );
  });

  test('state files: ids are checked, a missing search is a clear error', async () => {
    assert.throws(() => stateFile('../etc', env), /not a search id/);
    await assert.rejects(loadState('nope', env), /No search with this id|cannot read/);
    assert.ok(existsSync(stateFile('run-1', env)));
  });
});
