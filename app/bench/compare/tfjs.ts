import * as tf from '@tensorflow/tfjs';
import { createRandom } from '../../common/random.ts';
import { randomImages } from '../../export/verification-inputs.ts';
import { buildEfficientNet } from '../../model/builder.ts';
import type { RawBatch } from '../../train/evaluation.ts';
import { trainableWeights } from '../../train/freeze.ts';
import { planMicroBatches, splitBatch } from '../../train/micro-batch.ts';
import { Optimizer } from '../../train/optimizer.ts';
import { GradientAccumulator } from '../../train/step.ts';
import { median, type BenchRow } from './rows.ts';

/** Memory after one epoch: tfjs' tensors, the process's RSS and, on wasm, the wasm heap (it never shrinks). */
export interface EpochMemory {
  readonly epoch: number;
  readonly tensors: number;
  readonly tensorMiB: number;
  readonly rssMiB: number;
  readonly wasmHeapMiB?: number;
}

export interface TfjsMeasurement {
  readonly backend: string;
  readonly device: string;
  readonly batch: number;
  /** Images per forward/backward pass (wasm splits a batch its heap cannot hold: app/train/micro-batch.ts). */
  readonly microBatch: number;
  readonly parts: number;
  readonly train?: { readonly rate: number; readonly stepMs: readonly number[]; readonly perCpuSecond: number };
  readonly infer?: { readonly rate: number; readonly batchMs: readonly number[] };
  readonly memory: readonly EpochMemory[];
  readonly flat?: { readonly flat: boolean; readonly reason: string };
  readonly skipped?: string;
}

export interface TfjsSettings {
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly inferBatches: number;
  /** A warm-up step slower than this skips the rest (plain-JavaScript `cpu`). */
  readonly capSeconds: number;
}

const MIB = 2 ** 20;
const LEARNING_RATE = 1e-3;

function wasmHeapBytes(): number | undefined {
  return (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length;
}

function readMemory(epoch: number): EpochMemory {
  const m = tf.memory();
  const heap = wasmHeapBytes();
  return {
    epoch,
    tensors: m.numTensors,
    tensorMiB: Math.round(m.numBytes / MIB),
    rssMiB: Math.round(process.memoryUsage().rss / MIB),
    ...(heap === undefined ? {} : { wasmHeapMiB: Math.round(heap / MIB) }),
  };
}

/**
 * Flat: the same tensors after every epoch, the same wasm heap, and RSS within 10 % of the first
 * epoch's (V8's garbage collector moves it by a few percent on its own).
 */
export function judgeMemory(memory: readonly EpochMemory[]): { flat: boolean; reason: string } {
  const first = memory[0]!;
  const last = memory.at(-1)!;
  const problems: string[] = [];
  if (memory.some((m) => m.tensors !== first.tensors)) problems.push(`tensors ${memory.map((m) => m.tensors).join('→')}`);
  if (memory.some((m) => m.wasmHeapMiB !== first.wasmHeapMiB)) problems.push(`wasm heap ${memory.map((m) => m.wasmHeapMiB).join('→')} MiB`);
  if (last.rssMiB > first.rssMiB * 1.1) problems.push(`RSS ${first.rssMiB}→${last.rssMiB} MiB`);
  const summary =
    `tensors ${memory.map((m) => m.tensors).join('/')}, RSS ${memory.map((m) => m.rssMiB).join('/')} MiB` +
    (first.wasmHeapMiB === undefined ? '' : `, wasm heap ${memory.map((m) => m.wasmHeapMiB).join('/')} MiB`);
  return problems.length === 0 ? { flat: true, reason: summary } : { flat: false, reason: `grew: ${problems.join('; ')}` };
}

/**
 * Training and inference images/s of `row` on the current tfjs backend, through the trainer's own
 * step (GradientAccumulator: summed per-image cross-entropy, micro-batches on wasm where the heap
 * needs them; the trainer's Adam), BatchNorm in training mode as in full mode. One warm-up step and
 * one warm-up inference batch are not timed. Each epoch is `stepsPerEpoch` steps and one inference
 * batch; memory is read after each.
 */
export async function measureTfjs(backend: string, device: string, row: BenchRow, settings: TfjsSettings): Promise<TfjsMeasurement> {
  const batch = backend === 'cpu' ? row.cpuBatch : row.batch;
  const plan = backend === 'wasm' ? planMicroBatches({ variant: row.variant, resolution: row.size, batchSize: batch }) : undefined;
  const microBatch = plan?.microBatch ?? batch;
  const random = createRandom(7);
  const data: RawBatch = {
    data: randomImages(batch, row.size, 1),
    shape: [batch, row.size, row.size, 3],
    labels: Int32Array.from({ length: batch }, () => Math.floor(random() * row.spec.numClasses)),
    paths: Array.from({ length: batch }, (_, i) => `random-${i}`),
    size: batch,
    index: 0,
  };
  const model = buildEfficientNet(row.spec);
  const optimizer = new Optimizer({ name: 'adam', weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0, nesterov: false });
  const accumulator = new GradientAccumulator(trainableWeights(model), {
    numClasses: row.spec.numClasses,
    labelSmoothing: 0,
    classWeights: null,
    probabilities: row.spec.classifierActivation === 'softmax',
  });
  const forward = (x: tf.Tensor) => model.apply(x, { training: true }) as tf.Tensor;
  const input = tf.tensor(data.data, [...data.shape]);
  const step = () => {
    for (const piece of splitBatch(data, microBatch)) {
      const x = tf.tensor(piece.data, [...piece.shape]);
      const labels = tf.tensor1d(piece.labels, 'int32');
      try {
        accumulator.add(forward, x, labels);
      } finally {
        tf.dispose([x, labels]);
      }
    }
    accumulator.apply(optimizer, LEARNING_RATE);
  };
  const infer = async () => {
    const output = model.predict(input) as tf.Tensor;
    await output.data();
    output.dispose();
  };
  const base = { backend, device, batch, microBatch, parts: plan?.parts ?? 1 };
  try {
    let started = performance.now();
    step();
    const warmUp = (performance.now() - started) / 1000;
    if (warmUp > settings.capSeconds) {
      return {
        ...base,
        memory: [],
        skipped: `too slow, skipped: the warm-up step of ${batch} image${batch > 1 ? 's' : ''} took ${warmUp.toFixed(0)} s (cap ${settings.capSeconds} s)`,
      };
    }
    await infer();
    const stepMs: number[] = [];
    const batchMs: number[] = [];
    const memory: EpochMemory[] = [];
    let cpuSeconds = 0;
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      for (let s = 0; s < settings.stepsPerEpoch; s++) {
        const cpuStarted = process.cpuUsage();
        started = performance.now();
        step();
        stepMs.push(performance.now() - started);
        const cpu = process.cpuUsage(cpuStarted);
        cpuSeconds += (cpu.user + cpu.system) / 1e6;
      }
      // Inference of the epoch ("validation"), timed on its own.
      for (let b = 0; b < Math.max(1, Math.round(settings.inferBatches / settings.epochs)); b++) {
        started = performance.now();
        await infer();
        batchMs.push(performance.now() - started);
      }
      memory.push(readMemory(epoch));
      if (epoch === settings.epochs) {
        return {
          ...base,
          train: { rate: (batch * 1000) / median(stepMs), stepMs, perCpuSecond: (stepMs.length * batch) / cpuSeconds },
          infer: { rate: (batch * 1000) / median(batchMs), batchMs },
          memory,
          ...(settings.epochs >= 3 ? { flat: judgeMemory(memory) } : {}),
        };
      }
    }
    throw new Error('no epochs to measure');
  } finally {
    accumulator.reset();
    optimizer.dispose();
    input.dispose();
    model.dispose();
  }
}
