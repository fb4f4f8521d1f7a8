import os from 'node:os';
import { makeSpec, modelFacts, type ModelSpec } from '../../common/efficientnet/index.ts';

/**
 * The models `npm run bench -- compare` measures (issue 7): EfficientNet-B0 at its 224 px, and a
 * small variant at 128 px: φ = −2 of the paper's compound scaling (width 0.83, depth 0.69: 15 MBConv
 * blocks instead of 16, 3.46 M trainable parameters instead of 5.29 M), fed 128 px images instead
 * of its own 168. PyTorch builds the same networks (torchvision's EfficientNet with the same width
 * and depth multipliers; the parameter counts are compared in the output).
 */
export interface BenchRow {
  readonly id: string;
  readonly label: string;
  /** As the trainer's config names it (`b0`, `phi:-2`): what the wasm memory estimate reads. */
  readonly variant: string;
  readonly spec: ModelSpec;
  readonly size: number;
  /** Images per training step and per inference batch, the same for every runtime except tfjs `cpu`. */
  readonly batch: number;
  /** tfjs `cpu` (plain JavaScript) needs seconds per image: its batch. */
  readonly cpuBatch: number;
  readonly trainableParams: number;
}

const CLASSES = 1000;

function row(id: string, label: string, variant: string, size: number, batch: number, cpuBatch: number): BenchRow {
  const spec = makeSpec(variant, { resolution: size, numClasses: CLASSES });
  return { id, label, variant, spec, size, batch, cpuBatch, trainableParams: modelFacts(spec).trainableParams };
}

export const ROWS: readonly BenchRow[] = [
  row('b0-224', 'B0 224 px', 'b0', 224, 8, 1),
  row('phi-2-128', 'φ−2 128 px', 'phi:-2', 128, 16, 2),
];

/** The machine, in words and numbers, for the output and the JSON. */
export function machine(): { cpu: string; cores: number; memoryGiB: number; load: readonly number[]; node: string; platform: string } {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    load: os.loadavg().map((value) => Math.round(value * 100) / 100),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

/** The median of some numbers (step times): one slow step from a busy neighbour does not move it. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A comma-separated list from an environment variable, or undefined when unset. */
export function listFromEnv(name: string): string[] | undefined {
  const raw = process.env[name]?.trim();
  return raw ? raw.split(',').map((item) => item.trim()) : undefined;
}
