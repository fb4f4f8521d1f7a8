import type { Benchmark } from './types.ts';
import { modelFactsBenchmark } from './model-facts.bench.ts';
import { storeBenchmark } from './store.bench.ts';
import { pipelineBenchmark } from './pipeline.bench.ts';
import { classifyBenchmark } from './classify.bench.ts';
import { compareBenchmark } from './compare.bench.ts';

/** Every benchmark `npm run bench` runs, in order. */
export const BENCHMARKS: readonly Benchmark[] = [
  modelFactsBenchmark,
  storeBenchmark,
  pipelineBenchmark,
  classifyBenchmark,
  // Last: its one table (issue 7) is what the run ends with.
  compareBenchmark,
];
