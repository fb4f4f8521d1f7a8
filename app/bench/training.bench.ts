/**
 * Training and inference speed of EfficientNet-B0 on every tfjs backend that loads here, side by
 * side with PyTorch (torchvision's EfficientNet-B0 from Debian's python3-torchvision, 2 threads,
 * app/bench/peer/torch_bench.py) on the same machine in the same run (issue 7): B0 at 224 px batch 8
 * and at 128 px batch 16; images/s for Adam steps on random data and for forward passes; each
 * figure's ratio to PyTorch's; and memory (tensors, bytes, RSS) after each of 3 training epochs.
 * onnxruntime-node's inference figure is the `classify` benchmark's.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../backend/ladder.ts';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels/index.ts';
import { makeSpec } from '../common/efficientnet/index.ts';
import { buildEfficientNet } from '../model/builder.ts';
import { useFastCpuKernels } from '../train/cpu-kernels.ts';
import type { Benchmark, BenchFigure } from './types.ts';

interface Case {
  readonly size: number;
  readonly batch: number;
}
const CASES: readonly Case[] = [
  { size: 224, batch: 8 },
  { size: 128, batch: 16 },
];
/** Plain-JS tfjs needs many seconds per image: it trains and infers on small batches, one epoch of one step. */
const CPU_BATCH: Record<number, number> = { 224: 1, 128: 2 };
/**
 * Images per gradient computation on wasm: its heap stops at 4 GiB and tfjs keeps every
 * intermediate of the forward pass for the backward one (about 600 MiB per 224 px B0 image), so a
 * step of 8 images is 2 micro-batches of 4 whose gradients are summed, as app/train/step.ts does.
 */
const WASM_MICRO_BATCH: Record<number, number> = { 224: 4, 128: 8 };
/** Epochs of one step each after one warm-up step; memory is read after each epoch. */
const EPOCHS = 3;
const INFER_BATCHES = 3;
const CLASSES = 1000;
const PEER_SCRIPT = fileURLToPath(new URL('./peer/torch_bench.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

type PeerCase = { size: number; batch: number; train: number; infer: number; train_cpu: number };

function runPeer(): { cases: PeerCase[]; note: string } | { skipped: string } {
  const args = [
    PEER_SCRIPT,
    '--threads',
    '2',
    '--train-steps',
    '3',
    '--infer-batches',
    '5',
    ...CASES.flatMap((c) => ['--case', `${c.size}:${c.batch}`]),
  ];
  const result = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 15 * 60_000 });
  if (result.error) return { skipped: `PyTorch peer: ${PYTHON} could not run (${result.error.message}); install python3-torchvision` };
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as { error?: string; cases?: PeerCase[]; torch?: string; threads?: number };
    if (parsed.error || !parsed.cases)
      return { skipped: `PyTorch peer: ${parsed.error ?? 'no cases'} (apt-get install python3-torchvision)` };
    return { cases: parsed.cases, note: `PyTorch ${parsed.torch}, ${parsed.threads} threads; ${load()}` };
  } catch {
    return { skipped: `PyTorch peer: exit ${result.status}, ${result.stderr.trim().split('\n').pop() ?? 'no output'}` };
  }
}

/** The machine may be shared: each speed figure says how busy it was (1-minute load average). */
function load(): string {
  return `load ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`;
}

function megabytes(bytes: number): number {
  return bytes / 2 ** 20;
}

async function measureBackend(
  backend: string,
  device: string,
  figures: BenchFigure[],
  skipped: string[],
  peer: PeerCase[] | undefined,
): Promise<void> {
  for (const c of CASES) {
    try {
      await measureCase(backend, device, c, figures, peer);
    } catch (error) {
      skipped.push(`tfjs ${backend} B0 ${c.size}px: ${(error as Error).message.split('\n')[0]}`);
    }
  }
}

async function measureCase(backend: string, device: string, c: Case, figures: BenchFigure[], peer: PeerCase[] | undefined): Promise<void> {
  const batch = backend === 'cpu' ? (CPU_BATCH[c.size] ?? 1) : c.batch;
  const epochs = backend === 'cpu' ? 1 : EPOCHS;
  const label = `B0 ${c.size}px tfjs ${backend} batch ${batch}`;
  const model = buildEfficientNet(makeSpec('b0', { resolution: c.size, numClasses: CLASSES }));
  const optimizer = tf.train.adam(1e-3);
  const micro = backend === 'wasm' ? Math.min(batch, WASM_MICRO_BATCH[c.size] ?? batch) : batch;
  const parts = Math.ceil(batch / micro);
  const xs = Array.from({ length: parts }, () => tf.randomUniform([micro, c.size, c.size, 3], 0, 255));
  const ys = Array.from({ length: parts }, () => tf.oneHot(tf.randomUniform([micro], 0, CLASSES, 'int32'), CLASSES));
  const step = async () => {
    let total: tf.NamedTensorMap | undefined;
    for (let part = 0; part < parts; part++) {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(ys[part]!, model.apply(xs[part]!, { training: true }) as tf.Tensor) as tf.Scalar,
      );
      await value.data();
      value.dispose();
      if (!total) {
        total = grads;
        continue;
      }
      for (const [name, gradient] of Object.entries(grads)) {
        const sum = tf.add(total[name]!, gradient);
        tf.dispose([total[name]!, gradient]);
        total[name] = sum;
      }
    }
    optimizer.applyGradients(Object.entries(total!).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose(Object.values(total!));
  };
  await step();
  const memory: string[] = [];
  let trainMs = 0;
  const cpuStarted = process.cpuUsage();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const started = performance.now();
    await step();
    trainMs += performance.now() - started;
    const m = tf.memory();
    memory.push(
      `${m.numTensors} tensors/${megabytes(m.numBytes).toFixed(0)} MiB/RSS ${megabytes(process.memoryUsage().rss).toFixed(0)} MiB`,
    );
  }
  const cpu = process.cpuUsage(cpuStarted);
  const perCpuSecond = (epochs * batch * 1e6) / (cpu.user + cpu.system);
  const peerCase = peer?.find((p) => p.size === c.size && p.batch === c.batch);
  const train = (epochs * batch * 1000) / trainMs;
  figures.push({
    bench: 'training',
    case: `${label} train`,
    value: train,
    unit: 'images/s',
    note: `${device}; ${load()}; ${epochs} steps${parts > 1 ? ` of ${parts}×${micro} images` : ''}`,
  });
  if (peerCase) figures.push({ bench: 'training', case: `${label} train ÷ PyTorch`, value: train / peerCase.train, unit: '×' });
  figures.push({
    bench: 'training',
    case: `${label} train per CPU-second`,
    value: perCpuSecond,
    unit: 'images/CPU-s',
    note: peerCase
      ? `PyTorch ${peerCase.train_cpu.toPrecision(3)} (all threads): ratio ${(perCpuSecond / peerCase.train_cpu).toPrecision(3)}`
      : undefined,
  });
  figures.push({
    bench: 'training',
    case: `${label} memory after each epoch`,
    value: tf.memory().numTensors,
    unit: 'tensors',
    note: memory.join('; '),
  });

  const predict = async () => {
    const out = model.predict(xs[0]!) as tf.Tensor;
    await out.data();
    out.dispose();
  };
  await predict();
  const batches = backend === 'cpu' ? 1 : INFER_BATCHES;
  const started = performance.now();
  for (let i = 0; i < batches; i++) await predict();
  const infer = (batches * micro * 1000) / (performance.now() - started);
  figures.push({ bench: 'training', case: `${label} inference`, value: infer, unit: 'images/s', note: `${batches} batches of ${micro}` });
  if (peerCase) figures.push({ bench: 'training', case: `${label} inference ÷ PyTorch`, value: infer / peerCase.infer, unit: '×' });
  tf.dispose([...xs, ...ys]);
  optimizer.dispose();
  model.dispose();
}

export const trainingBenchmark: Benchmark = {
  name: 'training',
  description: 'EfficientNet-B0 training and inference images/s per tfjs backend, with PyTorch as the peer',
  async run() {
    const figures: BenchFigure[] = [];
    const skipped: string[] = [];
    // The peer first, while nothing else of this process holds the cores.
    const peer = runPeer();
    if ('skipped' in peer) skipped.push(peer.skipped);
    else {
      for (const p of peer.cases) {
        figures.push({
          bench: 'training',
          case: `B0 ${p.size}px PyTorch batch ${p.batch} train`,
          value: p.train,
          unit: 'images/s',
          note: peer.note,
        });
        figures.push({
          bench: 'training',
          case: `B0 ${p.size}px PyTorch batch ${p.batch} inference`,
          value: p.infer,
          unit: 'images/s',
          note: peer.note,
        });
      }
    }
    for (const rung of ['gpu', 'node', 'wasm', 'cpu'] as BackendName[]) {
      let device: string;
      try {
        device = (await initBackend({ env: { ...process.env, EFFNET_BACKEND: rung } })).device;
      } catch (error) {
        skipped.push(`tfjs ${rung}: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
      const backend = tf.getBackend();
      if (backend === 'wasm') registerWasmTrainingKernels();
      if (backend === 'cpu') useFastCpuKernels();
      await measureBackend(backend, device, figures, skipped, 'cases' in peer ? peer.cases : undefined);
    }
    return { figures, skipped };
  },
};
