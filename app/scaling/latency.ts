/**
 * Measured latency as the search's cost, the alternative the paper mentions to FLOPS (MnasNet's
 * objective uses latency on a target device): one image through each candidate's network on this
 * machine's inference backend (the backend ladder: tensorflow, else wasm, else cpu), the fastest
 * of a few timed passes after two warm-ups (on a shared machine the minimum is the least disturbed
 * by other processes; the median moved by ±30% between runs here). Random weights: latency does not depend on their values.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/ladder.ts';
import { makeSpec } from '../common/efficientnet/index.ts';
import { buildEfficientNet } from '../model/builder.ts';

export interface LatencyReport {
  readonly backend: string;
  readonly device: string;
  /** Milliseconds per image (fastest pass), in the order of `shapes`. */
  readonly ms: readonly number[];
}

export interface Shape {
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
}

export async function measureLatency(
  shapes: readonly Shape[],
  numClasses: number,
  options: { env?: NodeJS.ProcessEnv; runs?: number; onMeasured?: (index: number, ms: number) => void } = {},
): Promise<LatencyReport> {
  const report = await initBackend({ env: options.env, prefer: 'wasm' });
  const runs = options.runs ?? 10;
  const ms: number[] = [];
  // The first network measured also pays the backend's one-time costs (kernel setup, JIT): measure
  // it twice and drop the first.
  const order = shapes.length > 0 ? [shapes[0]!, ...shapes] : [];
  for (const [position, shape] of order.entries()) {
    const index = position - 1;
    const model = buildEfficientNet(makeSpec('b0', { ...shape, numClasses, dropConnectRate: 0 }));
    const input = tf.randomUniform([1, shape.resolution, shape.resolution, 3], 0, 255);
    try {
      const pass = async () => {
        const output = model.predict(input) as tf.Tensor;
        await output.data();
        output.dispose();
      };
      await pass();
      await pass();
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        await pass();
        times.push(performance.now() - started);
      }
      if (index < 0) continue;
      ms.push(Math.min(...times));
      options.onMeasured?.(index, ms.at(-1)!);
    } finally {
      input.dispose();
      model.dispose();
    }
  }
  return { backend: report.backend, device: report.device, ms };
}
