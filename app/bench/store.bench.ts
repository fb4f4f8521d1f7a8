/**
 * The experiment store at the size the issue names: 1,000 runs of 100 epochs with 8 metrics each
 * (800,000 metric rows, 102,000 events), then the queries the UI makes, each timed as the median
 * of several calls. Writes are timed too: events arrive per step during training.
 */
import { statSync } from 'node:fs';
import { openStore, type Store } from '../store/store.ts';
import { temporaryFolder } from '../store/test-support.ts';
import { RUN_STATUSES } from '../common/store-types.ts';
import type { Benchmark, BenchFigure } from './types.ts';

const RUNS = 1000;
const EPOCHS = 100;
const METRICS = [
  'loss',
  'accuracy',
  'val_loss',
  'val_accuracy',
  'top5_accuracy',
  'val_top5_accuracy',
  'learning_rate',
  'images_per_second',
];
const TAGS = ['baseline', 'augment', 'b0', 'b3', 'frozen', 'long'];
const REPEATS = 21;

/** Wall and CPU time of one call; on a shared machine CPU time is the steadier of the two. */
interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

function time(fn: () => unknown): Timing {
  const cpu = process.cpuUsage();
  const started = performance.now();
  fn();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

/** Median wall and CPU milliseconds of `repeats` calls, after a few untimed calls to warm caches. */
function median(fn: (i: number) => unknown, repeats = REPEATS): Timing {
  for (let i = 0; i < 3; i++) fn(i);
  const timings = Array.from({ length: repeats }, (_, i) => time(() => fn(i)));
  const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { wallMs: middle(timings.map((t) => t.wallMs)), cpuMs: middle(timings.map((t) => t.cpuMs)) };
}

export function seedBenchmarkStore(store: Store): { ids: number[]; stepRun: number } {
  let state = 7;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const datasets = [0, 1, 2, 3, 4].map(
    (i) =>
      store.datasets.upsert({
        path: `/data/set-${i}`,
        fingerprint: `f${i}`,
        classes: ['a', 'b', 'c'],
        split: { train: 800, validation: 100, test: 100 },
      }).id,
  );
  const ids: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    store.transaction(() => {
      const created = 1_700_000_000_000 + r * 60_000;
      const run = store.runs.create(
        {
          name: `b${r % 8} lr ${(0.001 * (1 + (r % 10))).toFixed(3)} run ${r}`,
          config: { epochs: EPOCHS, lr: 0.001 * (1 + (r % 10)), variant: `b${r % 8}` },
          datasetId: datasets[r % 5]!,
        },
        created,
      );
      ids.push(run.id);
      store.runs.start(run.id, { backend: 'cpu', device: 'cpu', owner: { pid: 1, host: 'bench', boot: 'old-boot' } }, created + 1000);
      const ceiling = 0.6 + 0.35 * next();
      store.metrics.recordEpochs(
        run.id,
        Array.from({ length: EPOCHS }, (_, e) => ({
          epoch: e + 1,
          values: Object.fromEntries(
            METRICS.map((name, m) => [name, name === 'val_accuracy' ? ceiling * (1 - Math.exp(-e / 10)) + 0.02 * next() : m + next()]),
          ),
        })),
      );
      store.events.appendMany(run.id, [
        { type: 'started', payload: { pid: 1 }, time: created + 1000 },
        ...Array.from({ length: EPOCHS }, (_, e) => ({
          type: 'epoch' as const,
          payload: { epoch: e + 1 },
          time: created + 1000 + e * 30_000,
        })),
        { type: 'finished', payload: {}, time: created + 1000 + EPOCHS * 30_000 },
      ]);
      const status = RUN_STATUSES[2 + (r % 4)] as 'completed' | 'failed' | 'cancelled' | 'interrupted';
      store.runs.finish(run.id, r % 10 < 7 ? 'completed' : status, null, created + 1000 + EPOCHS * 30_000 + Math.floor(next() * 600_000));
      for (const kind of ['checkpoint', 'model', 'export']) {
        store.artifacts.add(run.id, { kind, path: `/runs/${run.id}/${kind}`, sha256: 'a'.repeat(64), bytes: 20_000_000 }, created);
      }
      store.tags.add(
        run.id,
        TAGS.filter(() => next() < 0.3),
      );
      if (r % 10 === 0) store.notes.add(run.id, `note on run ${r}`, created);
    });
  }
  // One run with per-step metrics for a long training: 20,000 steps of loss and accuracy.
  const stepRun = ids[0]!;
  for (let chunk = 0; chunk < 20; chunk++) {
    store.steps.append(
      stepRun,
      Array.from({ length: 1000 }, (_, i) => ({ step: chunk * 1000 + i, values: { loss: 1 / (1 + chunk * 1000 + i), accuracy: next() } })),
    );
  }
  return { ids, stepRun };
}

export const storeBenchmark: Benchmark = {
  name: 'store',
  description: `experiment store: ${RUNS} runs × ${EPOCHS} epochs × ${METRICS.length} metrics, UI queries and event appends`,
  async run() {
    const temp = temporaryFolder('effnet-store-bench-');
    const figures: BenchFigure[] = [];
    const add = (name: string, value: number, unit = 'ms', note?: string) =>
      figures.push({ bench: 'store', case: name, value, unit, note });
    try {
      const file = temp.file('effnet.sqlite');
      let store = openStore(file);
      const seeding = performance.now();
      const { ids, stepRun } = seedBenchmarkStore(store);
      add('seed 1,000 runs', (performance.now() - seeding) / 1000, 's', `${RUNS * EPOCHS * METRICS.length} metric rows`);
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      add('database size', statSync(file).size / 1e6, 'MB');
      store.close();

      // What the app does at start: open, check the schema, look for runs left `running`.
      const opening = performance.now();
      store = openStore(file);
      store.runs.markStaleRunsInterrupted('bench');
      add('open + stale-run check', performance.now() - opening);

      const pick = (i: number) => ids[(i * 37) % ids.length]!;
      const query = (name: string, timing: Timing, note = '') =>
        add(name, timing.wallMs, 'ms', `${note}${note ? '; ' : ''}cpu ${timing.cpuMs.toFixed(2)} ms`);
      query(
        'list: completed, by best val acc',
        median(() => store.runList.list({ status: 'completed', sort: 'bestValAccuracy', limit: 50 })),
        'page of 50',
      );
      query(
        'list: tag filter, by created',
        median(() => store.runList.list({ tags: ['augment'], limit: 50 })),
      );
      query(
        'list: two tags + search, by final val acc',
        median(() => store.runList.list({ tags: ['b0', 'long'], search: 'lr 0.00', sort: 'finalValAccuracy' })),
      );
      query(
        'list: by duration, page 10',
        median(() => store.runList.list({ sort: 'duration', limit: 50, offset: 450 })),
      );
      query(
        'run detail',
        median((i) => store.runDetail(pick(i))),
        `${EPOCHS * METRICS.length} metric points`,
      );
      query(
        'events since seq 50',
        median((i) => store.events.since(pick(i), 50)),
      );
      query(
        'compare 5 runs',
        median((i) => store.compare([0, 1, 2, 3, 4].map((k) => pick(i + k)))),
        'all 8 metrics',
      );
      query(
        'step series, 20,000 steps × 2',
        median(() => store.steps.series(stepRun), 7),
      );

      // Writes during training, on a fresh run; each figure is the mean over many writes.
      const live = store.runs.create({ name: 'live', config: {} });
      store.runs.start(live.id, { backend: 'cpu', device: 'cpu' });
      const write = (name: string, count: number, unit: string, fn: () => void) => {
        const timing = time(fn);
        add(name, (timing.wallMs / count) * 1000, unit, `cpu ${((timing.cpuMs / count) * 1000).toFixed(1)} ${unit}`);
      };
      const events = 2000;
      write('append event (own commit)', events, 'µs/event', () => {
        for (let i = 0; i < events; i++)
          store.events.append(live.id, { type: 'progress', payload: { step: i, loss: 1 / (i + 1), accuracy: 0.5 } });
      });
      write('append events, batches of 100', events, 'µs/event', () => {
        for (let b = 0; b < events / 100; b++) {
          store.events.appendMany(
            live.id,
            Array.from({ length: 100 }, (_, i) => ({
              type: 'progress' as const,
              payload: { step: b * 100 + i, loss: 0.1, accuracy: 0.5 },
            })),
          );
        }
      });
      write('append step point (2 metrics)', events, 'µs/step', () => {
        for (let step = 0; step < events; step++) store.steps.append(live.id, [{ step, values: { loss: 1 / (step + 1), accuracy: 0.5 } }]);
      });
      write('record epoch (event + 8 metrics + summary)', 200, 'µs/epoch', () => {
        for (let epoch = 1; epoch <= 200; epoch++) {
          store.transaction(() => {
            store.events.append(live.id, { type: 'epoch', payload: { epoch } });
            store.metrics.recordEpoch(live.id, epoch, Object.fromEntries(METRICS.map((name) => [name, Math.random()])));
          });
        }
      });
      store.close();
    } finally {
      temp.remove();
    }
    return { figures };
  },
};
