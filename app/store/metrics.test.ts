import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../common/errors.ts';
import { STEP_CHUNK } from './step-metrics.ts';
import { openStore, type Store } from './store.ts';
import { temporaryFolder } from './test-support.ts';

function newStore(t: { after: (fn: () => void) => void }): Store {
  const temp = temporaryFolder();
  const store = openStore(temp.file('effnet.sqlite'));
  t.after(() => {
    store.close();
    temp.remove();
  });
  return store;
}

interface SummaryCase {
  readonly name: string;
  /** Epoch writes in order: [epoch, metrics]. */
  readonly writes: readonly [number, Record<string, number>][];
  readonly expected: { epochsDone: number; bestValAccuracy: number | null; bestEpoch: number | null; finalValAccuracy: number | null };
}

const summaryCases: SummaryCase[] = [
  {
    name: 'rising accuracy: best is final',
    writes: [
      [1, { val_accuracy: 0.5 }],
      [2, { val_accuracy: 0.6 }],
      [3, { val_accuracy: 0.7 }],
    ],
    expected: { epochsDone: 3, bestValAccuracy: 0.7, bestEpoch: 3, finalValAccuracy: 0.7 },
  },
  {
    name: 'overfitting: best is a middle epoch, not the last',
    writes: [
      [1, { val_accuracy: 0.5 }],
      [2, { val_accuracy: 0.9 }],
      [3, { val_accuracy: 0.6 }],
    ],
    expected: { epochsDone: 3, bestValAccuracy: 0.9, bestEpoch: 2, finalValAccuracy: 0.6 },
  },
  {
    name: 'a tie: the earlier epoch is best',
    writes: [
      [1, { val_accuracy: 0.8 }],
      [2, { val_accuracy: 0.8 }],
    ],
    expected: { epochsDone: 2, bestValAccuracy: 0.8, bestEpoch: 1, finalValAccuracy: 0.8 },
  },
  {
    name: 'diverged: a NaN last epoch is final (null) but never best',
    writes: [
      [1, { val_accuracy: 0.7, loss: 1 }],
      [2, { val_accuracy: NaN, loss: NaN }],
    ],
    expected: { epochsDone: 2, bestValAccuracy: 0.7, bestEpoch: 1, finalValAccuracy: null },
  },
  {
    name: 'no validation metric: only epochs done',
    writes: [
      [1, { loss: 2 }],
      [2, { loss: 1 }],
    ],
    expected: { epochsDone: 2, bestValAccuracy: null, bestEpoch: null, finalValAccuracy: null },
  },
  {
    name: 'an epoch written again replaces its value (best follows)',
    writes: [
      [1, { val_accuracy: 0.9 }],
      [2, { val_accuracy: 0.5 }],
      [1, { val_accuracy: 0.4 }],
    ],
    expected: { epochsDone: 2, bestValAccuracy: 0.5, bestEpoch: 2, finalValAccuracy: 0.5 },
  },
  {
    name: 'an evaluation before training is epoch 0',
    writes: [[0, { val_accuracy: 0.1 }]],
    expected: { epochsDone: 0, bestValAccuracy: 0.1, bestEpoch: 0, finalValAccuracy: 0.1 },
  },
];

for (const summary of summaryCases) {
  test(`run summary: ${summary.name}`, (t) => {
    const store = newStore(t);
    const run = store.runs.create({ name: 'r', config: {} });
    for (const [epoch, values] of summary.writes) store.metrics.recordEpoch(run.id, epoch, values);
    const { epochsDone, bestValAccuracy, bestEpoch, finalValAccuracy } = store.runs.require(run.id);
    assert.deepEqual({ epochsDone, bestValAccuracy, bestEpoch, finalValAccuracy }, summary.expected);
  });
}

test('epoch series come back by name in epoch order, NaN as null', (t) => {
  const store = newStore(t);
  const run = store.runs.create({ name: 'r', config: {} });
  store.metrics.recordEpochs(run.id, [
    { epoch: 2, values: { loss: 0.5, val_accuracy: 0.75 } },
    { epoch: 1, values: { loss: 1.5, val_accuracy: 0.25 } },
    { epoch: 3, values: { loss: NaN, val_accuracy: 0.5 } },
  ]);
  assert.deepEqual(store.metrics.series(run.id), {
    loss: { epochs: [1, 2, 3], values: [1.5, 0.5, null] },
    val_accuracy: { epochs: [1, 2, 3], values: [0.25, 0.75, 0.5] },
  });
  assert.deepEqual(store.metrics.names(run.id), ['loss', 'val_accuracy']);
});

test('step metrics appended in batches of any size read back in order, as float32, 8 bytes a point', (t) => {
  const store = newStore(t);
  const run = store.runs.create({ name: 'r', config: {} });
  const loss = (step: number) => (step === 333 ? NaN : 2 / (1 + step) + 0.1);
  let step = 0;
  // Uneven batches cross chunk boundaries in every way: within, exactly at, and over several.
  for (const size of [1, 7, STEP_CHUNK - 8, STEP_CHUNK, 300, 1, 1, 91]) {
    const points = Array.from({ length: size }, () => {
      step += 3; // logged every third step
      return { step, values: { loss: loss(step), accuracy: step / 10_000 } };
    });
    store.steps.append(run.id, points);
  }
  const total = step / 3;
  const series = store.steps.series(run.id);
  const expectedSteps = Array.from({ length: total }, (_, i) => 3 * (i + 1));
  assert.deepEqual(series.loss!.steps, expectedSteps);
  assert.deepEqual(
    series.loss!.values,
    expectedSteps.map((s) => Math.fround(loss(s))),
  );
  assert.deepEqual(
    series.accuracy!.values,
    expectedSteps.map((s) => Math.fround(s / 10_000)),
  );

  const chunks = store.db
    .prepare("SELECT count, length(steps) + length(vals) AS bytes FROM step_metrics WHERE name = 'loss' ORDER BY chunk")
    .all() as {
    count: number;
    bytes: number;
  }[];
  assert.equal(chunks.length, Math.ceil(total / STEP_CHUNK), 'chunks are filled before a new one starts');
  assert.ok(chunks.every((chunk) => chunk.count <= STEP_CHUNK && chunk.bytes === chunk.count * 8));

  const after = store.steps.series(run.id, 3 * (total - 5));
  assert.deepEqual(after.loss!.steps, expectedSteps.slice(-5), 'afterStep returns only newer points');
});

test('a step batch that goes backwards is refused whole', (t) => {
  const store = newStore(t);
  const run = store.runs.create({ name: 'r', config: {} });
  store.steps.append(run.id, [{ step: 10, values: { loss: 1 } }]);
  assert.throws(
    () =>
      store.steps.append(run.id, [
        { step: 11, values: { loss: 1, accuracy: 0.5 } },
        { step: 5, values: { loss: 1 } },
      ]),
    (error: unknown) =>
      error instanceof AppError && error.code === 'metric-invalid' && /step 5 of loss is not after step 11/.test(error.message),
  );
  assert.deepEqual(store.steps.series(run.id), { loss: { steps: [10], values: [1] } }, 'nothing of the refused batch was kept');
});
