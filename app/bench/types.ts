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
  readonly description: string;
  run(): Promise<{ figures: BenchFigure[]; skipped?: string[] }>;
}
