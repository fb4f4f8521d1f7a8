import { makeSpec, modelFacts, VARIANT_NAMES } from '../common/efficientnet/index.ts';
import type { Benchmark } from './types.ts';

/** The UI recomputes parameters and MACs as the user drags φ: this must stay instant. */
export const modelFactsBenchmark: Benchmark = {
  name: 'model-facts',
  description: 'parameters and MACs for B0–B7 computed from the block table (no tensors)',
  async run() {
    const rounds = 2000;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) for (const name of VARIANT_NAMES) modelFacts(makeSpec(name));
    const perCall = (performance.now() - started) / (rounds * VARIANT_NAMES.length);
    return { figures: [{ bench: 'model-facts', case: 'one variant', value: perCall * 1000, unit: 'µs/call' }] };
  },
};
