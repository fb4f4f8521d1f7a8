import type { Benchmark } from './types.ts';
import { modelFactsBenchmark } from './model-facts.bench.ts';
import { storeBenchmark } from './store.bench.ts';
import { pipelineBenchmark } from './pipeline.bench.ts';
import { classifyBenchmark } from './classify.bench.ts';
import { trainingBenchmark } from './training.bench.ts';

/** Every benchmark `npm run bench` runs, in order. */
export const BENCHMARKS: readonly Benchmark[] = [
  modelFactsBenchmark,
  storeBenchmark,
  pipelineBenchmark,
  classifyBenchmark,
  trainingBenchmark,
];
