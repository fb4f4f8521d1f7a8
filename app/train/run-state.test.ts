import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTrainConfig } from '../common/train-config.ts';
import type { TrainerState } from './checkpoint.ts';
import { configDigest, finishEpoch, initialState, type Monitor } from './run-state.ts';

function runEpochs(values: number[], monitor: Monitor, totalEpochs = values.length): { state: TrainerState; best: boolean[] } {
  let state = initialState({
    seed: 1,
    mode: 'full',
    classes: ['a', 'b'],
    datasetFingerprint: 'f',
    configDigest: 'c',
    totalEpochs,
    stepsPerEpoch: 3,
  });
  const best: boolean[] = [];
  for (const value of values) {
    if (state.stoppedEarly) break;
    const next = finishEpoch(state, { [monitor.metric]: value, loss: 1 }, monitor);
    state = next.state;
    best.push(next.best);
  }
  return { state, best };
}

const CASES: { name: string; values: number[]; monitor: Monitor; bestEpoch: number; bestFlags: boolean[]; stoppedAfter: number | null }[] =
  [
    {
      name: 'accuracy: higher is better; no patience never stops',
      values: [0.5, 0.7, 0.6, 0.8],
      monitor: { metric: 'val_accuracy', minDelta: 0, patience: null },
      bestEpoch: 4,
      bestFlags: [true, true, false, true],
      stoppedAfter: null,
    },
    {
      name: 'loss: lower is better; patience 2 stops after two epochs without improvement',
      values: [1.0, 0.8, 0.9, 0.85, 0.5],
      monitor: { metric: 'val_loss', minDelta: 0, patience: 2 },
      bestEpoch: 2,
      bestFlags: [true, true, false, false],
      stoppedAfter: 4,
    },
    {
      name: 'improvements within minDelta count for the best checkpoint but not for early stopping (as Keras)',
      values: [0.5, 0.505, 0.509, 0.6],
      monitor: { metric: 'val_accuracy', minDelta: 0.01, patience: 2 },
      bestEpoch: 3,
      bestFlags: [true, true, true],
      stoppedAfter: 3,
    },
    {
      name: 'NaN is never an improvement',
      values: [Number.NaN, 0.4, Number.NaN],
      monitor: { metric: 'val_loss', minDelta: 0, patience: null },
      bestEpoch: 2,
      bestFlags: [false, true, false],
      stoppedAfter: null,
    },
    {
      name: 'running out of patience on the last epoch is not early stopping',
      values: [0.5, 0.4, 0.4],
      monitor: { metric: 'val_accuracy', minDelta: 0, patience: 2 },
      bestEpoch: 1,
      bestFlags: [true, false, false],
      stoppedAfter: null,
    },
  ];

for (const { name, values, monitor, bestEpoch, bestFlags, stoppedAfter } of CASES) {
  test(name, () => {
    const { state, best } = runEpochs(values, monitor);
    assert.equal(state.best?.epoch, bestEpoch);
    assert.deepEqual(best, bestFlags);
    assert.equal(state.stoppedEarly, stoppedAfter !== null);
    if (stoppedAfter !== null) assert.equal(state.epoch, stoppedAfter);
    assert.equal(state.history.length, state.epoch);
    assert.deepEqual(state.partial, { lossSum: 0, correct: 0, images: 0 });
  });
}

test('the config digest ignores what a resume may change and nothing else', () => {
  const base = parseTrainConfig({ dataset: { path: '/d' }, seed: 1 });
  assert.equal(
    configDigest(base),
    configDigest(parseTrainConfig({ seed: 1, dataset: { path: '/d' }, epochs: 50, earlyStopping: { patience: 3 }, data: { workers: 0 } })),
  );
  assert.notEqual(
    configDigest(base),
    configDigest(parseTrainConfig({ dataset: { path: '/d' }, seed: 1, optimizer: { learningRate: 0.01 } })),
  );
  assert.notEqual(configDigest(base), configDigest(parseTrainConfig({ dataset: { path: '/d' }, seed: 2 })));
});
