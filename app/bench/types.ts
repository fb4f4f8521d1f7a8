/** One measured number: what was measured, on which case, in which unit. */
export interface BenchFigure {
  readonly bench: string;
  readonly case: string;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
}

export interface Benchmark {
  readonly name: string;
  /** Other names `npm run bench -- NAME` accepts for it (an older benchmark it replaced). */
  readonly aliases?: readonly string[];
  readonly description: string;
  run(): Promise<{
    figures: BenchFigure[];
    skipped?: string[];
    /** A benchmark that prints its own table: the text, printed after the shared table, and what the JSON keeps. */
    report?: { text: string; data: unknown };
  }>;
}
