/**
 * `npm run bench -- compare` (issue 7): one table, measured side by side in one run on one machine.
 * For EfficientNet-B0 at 224 px and a small variant (φ = −2) at 128 px: training and inference
 * images/s on every tfjs backend that loads, onnxruntime-node inference of the model exported to
 * ONNX by app/export, and PyTorch (torchvision, same networks, batches and thread count) as the
 * peer, each figure's ratio to PyTorch's; the targets, judged; memory after each of 3
 * epochs. Figures and the whole result go into the JSON `npm run bench` writes.
 *
 * Environment: COMPARE_ROWS=b0-224,phi-2-128 and COMPARE_RUNTIMES=torch,wasm,cpu,node,gpu,ort
 * pick what runs (default: all); BENCH_PYTHON the interpreter with torchvision.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../backend/ladder.ts';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels/index.ts';
import { useFastCpuKernels } from '../train/cpu-kernels.ts';
import { measureOrt } from './compare/ort.ts';
import { runPeer } from './compare/peer.ts';
import { busy, figuresOf, formatReport, judgeTargets, type CompareResult, type RowResult, type TfjsResult } from './compare/report.ts';
import { listFromEnv, machine, ROWS } from './compare/rows.ts';
import { measureTfjs, type TfjsSettings } from './compare/tfjs.ts';
import type { Benchmark } from './types.ts';

const SETTINGS: TfjsSettings = { epochs: 3, stepsPerEpoch: 2, inferBatches: 6, capSeconds: 90 };
/** Plain JavaScript needs seconds per image: one warm-up and one timed step, one timed batch. */
const CPU_SETTINGS: TfjsSettings = { epochs: 1, stepsPerEpoch: 1, inferBatches: 1, capSeconds: 90 };

const RUNGS: readonly { rung: BackendName; runtime: string }[] = [
  { rung: 'gpu', runtime: 'tfjs-node-gpu' },
  { rung: 'node', runtime: 'tfjs-node' },
  { rung: 'wasm', runtime: 'tfjs wasm' },
  { rung: 'cpu', runtime: 'tfjs cpu' },
];

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

export async function runCompare(): Promise<CompareResult> {
  const started = new Date().toISOString();
  const startMachine = machine();
  const threads = startMachine.cores;
  const rowIds = listFromEnv('COMPARE_ROWS');
  const runtimes = listFromEnv('COMPARE_RUNTIMES');
  const wanted = (name: string) => !runtimes || runtimes.includes(name);
  const rows = ROWS.filter((row) => !rowIds || rowIds.includes(row.id));
  if (rows.length === 0) throw new Error(`COMPARE_ROWS names no row; known: ${ROWS.map((row) => row.id).join(', ')}`);
  const skipped: string[] = [];

  // The peer first, while nothing else of this process holds the cores.
  const peer = wanted('torch')
    ? runPeer(rows, threads, SETTINGS.epochs * SETTINGS.stepsPerEpoch, SETTINGS.inferBatches)
    : { skipped: 'PyTorch: not in COMPARE_RUNTIMES' };
  const results = new Map<string, { tfjs: TfjsResult[]; ort?: RowResult['ort']; ortSkipped?: string }>(
    rows.map((row) => [row.id, { tfjs: [] }]),
  );

  for (const { rung, runtime } of RUNGS) {
    if (!wanted(rung)) continue;
    let device: string;
    try {
      device = (await initBackend({ env: { ...process.env, EFFNET_BACKEND: rung } })).device;
    } catch (error) {
      skipped.push(`${runtime}: ${firstLine(error)}`);
      continue;
    }
    const backend = tf.getBackend();
    if (backend === 'wasm') registerWasmTrainingKernels();
    if (backend === 'cpu') useFastCpuKernels();
    const threadCount = backend === 'tensorflow' ? 'all' : '1';
    for (const row of rows) {
      console.error(`compare: ${row.label} on ${runtime}…`);
      try {
        const measurement = await measureTfjs(backend, device, row, backend === 'cpu' ? CPU_SETTINGS : SETTINGS);
        results.get(row.id)!.tfjs.push({ runtime, threads: threadCount, measurement });
      } catch (error) {
        results.get(row.id)!.tfjs.push({ runtime, threads: threadCount, skipped: `failed: ${firstLine(error)}` });
      }
    }
  }

  if (wanted('ort')) {
    for (const row of rows) {
      console.error(`compare: ${row.label} on onnxruntime-node…`);
      try {
        results.get(row.id)!.ort = await measureOrt(row, threads, SETTINGS.inferBatches);
      } catch (error) {
        results.get(row.id)!.ortSkipped = `failed: ${firstLine(error)}`;
      }
    }
  } else skipped.push('onnxruntime-node: not in COMPARE_RUNTIMES');

  return {
    started,
    machine: startMachine,
    loadAtEnd: machine().load,
    threads,
    settings: SETTINGS,
    peer,
    rows: rows.map((row, index) => {
      // torch_bench.py answers the cases in the order asked; the table flags a parameter count that differs.
      const peerCase = 'cases' in peer ? peer.cases[index] : undefined;
      return { row, ...(peerCase ? { peer: peerCase } : {}), ...results.get(row.id)! };
    }),
    skipped,
  };
}

export const compareBenchmark: Benchmark = {
  name: 'compare',
  aliases: ['training'],
  description: 'B0 224 px and φ−2 128 px: training and inference images/s per tfjs backend, onnxruntime-node and PyTorch, in one table',
  async run() {
    const result = await runCompare();
    const targets = judgeTargets(result);
    const { rows, ...rest } = result;
    return {
      figures: figuresOf(result),
      report: {
        text: formatReport(result, targets),
        data: {
          ...rest,
          busy: busy(result),
          rows: rows.map(({ row, ...figures }) => ({
            row: { ...row, spec: { width: row.spec.width, depth: row.spec.depth } },
            ...figures,
          })),
          targets,
        },
      },
    };
  },
};
