/**
 * The experiment store: one SQLite database in the app's data folder, opened once per process.
 * Reads and writes go through the repositories; `transaction` groups writes that belong together
 * (an `epoch` event and its metrics) so a crash keeps both or neither.
 */
import { dataPaths } from '../node/paths.ts';
import type { MetricSeries, RunComparison, RunDetail } from '../common/store-types.ts';
import { integrityCheck, openDatabase, schemaVersion, type Db, type OpenOptions } from './database.ts';
import { ArtifactRepository } from './artifacts.ts';
import { DatasetRepository } from './datasets.ts';
import { EventRepository } from './events.ts';
import { MetricRepository } from './metrics.ts';
import { NoteRepository } from './notes.ts';
import { RunListQueries } from './run-list.ts';
import { RunRepository } from './runs.ts';
import { StepMetricRepository } from './step-metrics.ts';
import { TagRepository } from './tags.ts';

export class Store {
  readonly db: Db;
  readonly file: string;
  readonly datasets: DatasetRepository;
  readonly runs: RunRepository;
  readonly metrics: MetricRepository;
  readonly steps: StepMetricRepository;
  readonly artifacts: ArtifactRepository;
  readonly tags: TagRepository;
  readonly notes: NoteRepository;
  readonly events: EventRepository;
  readonly runList: RunListQueries;

  constructor(db: Db, file: string) {
    this.db = db;
    this.file = file;
    this.datasets = new DatasetRepository(db);
    this.runs = new RunRepository(db);
    this.metrics = new MetricRepository(db);
    this.steps = new StepMetricRepository(db);
    this.artifacts = new ArtifactRepository(db);
    this.tags = new TagRepository(db);
    this.notes = new NoteRepository(db);
    this.events = new EventRepository(db);
    this.runList = new RunListQueries(db);
  }

  /** Runs `fn` in one IMMEDIATE transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Everything the run page shows, in one read transaction (a consistent snapshot). */
  runDetail(id: number): RunDetail {
    return this.db.transaction(() => {
      const run = this.runs.require(id);
      return {
        run,
        dataset: run.datasetId === null ? null : (this.datasets.get(run.datasetId) ?? null),
        metrics: this.metrics.series(id),
        artifacts: this.artifacts.list(id),
        tags: this.tags.forRun(id),
        notes: this.notes.forRun(id),
        lastEventSeq: this.events.lastSeq(id),
      };
    })();
  }

  /** Epoch series of several runs side by side; `names` limits the metrics (default: all of them). */
  compare(ids: readonly number[], names?: readonly string[]): RunComparison {
    return this.db.transaction(() => {
      const runs = ids.map((id) => this.runs.require(id));
      const series = ids.map((id) => this.metrics.series(id));
      const wanted = names ?? [...new Set(series.flatMap((one) => Object.keys(one)))].sort();
      const empty: MetricSeries = { epochs: [], values: [] };
      const metrics: Record<string, MetricSeries[]> = {};
      for (const name of wanted) metrics[name] = series.map((one) => one[name] ?? empty);
      return { runs, metrics };
    })();
  }

  schemaVersion(): number {
    return schemaVersion(this.db);
  }

  integrityCheck(): string {
    return integrityCheck(this.db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openStore(file: string, options: OpenOptions = {}): Store {
  return new Store(openDatabase(file, options), file);
}

/**
 * The app's store (`dataPaths().database`), with runs whose process died marked `interrupted`:
 * call once at start in the process that owns the data folder.
 */
export function openAppStore(env: NodeJS.ProcessEnv = process.env): { store: Store; interrupted: number[] } {
  const store = openStore(dataPaths(env).database);
  try {
    const interrupted = store.runs.markStaleRunsInterrupted('EffNet Studio stopped while this run was training.');
    return { store, interrupted };
  } catch (error) {
    store.close();
    throw error;
  }
}
