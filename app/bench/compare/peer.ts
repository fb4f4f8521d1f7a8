import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './rows.ts';

/** What app/bench/peer/torch_bench.py measured for one row. */
export interface PeerCase {
  readonly size: number;
  readonly batch: number;
  readonly params: number;
  /** Images/s from the median step time. */
  readonly train: number;
  readonly infer: number;
  /** Training images per CPU-second (all threads). */
  readonly train_cpu: number;
  readonly train_ms: readonly number[];
  readonly infer_ms: readonly number[];
}

export type PeerResult =
  | { readonly cases: readonly PeerCase[]; readonly torch: string; readonly torchvision: string; readonly threads: number }
  | { readonly skipped: string };

const SCRIPT = fileURLToPath(new URL('../peer/torch_bench.py', import.meta.url));
/** Debian's interpreter: python3-torchvision installs for it, not for a virtualenv's. */
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';

/**
 * PyTorch (torchvision's EfficientNet built with each row's width and depth) on the same batches,
 * with `threads` threads. Skipped, with the reason, where python3 or torchvision is missing.
 */
export function runPeer(rows: readonly BenchRow[], threads: number, trainSteps: number, inferBatches: number): PeerResult {
  if (!existsSync(PYTHON)) return { skipped: `PyTorch: ${PYTHON} does not exist (apt-get install python3-torchvision)` };
  const args = [
    SCRIPT,
    '--threads',
    String(threads),
    '--train-steps',
    String(trainSteps),
    '--infer-batches',
    String(inferBatches),
    ...rows.flatMap((row) => ['--case', `${row.size}:${row.batch}:${row.spec.width}:${row.spec.depth}`]),
  ];
  const result = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 20 * 60_000 });
  if (result.error) return { skipped: `PyTorch: ${PYTHON} could not run (${result.error.message})` };
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as { error?: string; cases?: PeerCase[]; torch?: string; torchvision?: string; threads?: number };
    if (parsed.error || !parsed.cases)
      return { skipped: `PyTorch: ${parsed.error ?? 'no cases measured'} (apt-get install python3-torchvision)` };
    return { cases: parsed.cases, torch: parsed.torch ?? '?', torchvision: parsed.torchvision ?? '?', threads: parsed.threads ?? threads };
  } catch {
    const reason = result.stderr.trim().split('\n').pop() || `exit ${result.status}, no output`;
    return { skipped: `PyTorch: torch_bench.py failed: ${reason}` };
  }
}
