import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { makeSpec } from '../../common/efficientnet/index.ts';
import { createRandom } from '../../common/random.ts';
import { buildEfficientNet } from '../../model/builder.ts';
import { chooseBackends } from '../../train/backends.ts';
import { useFastCpuKernels } from '../../train/cpu-kernels.ts';

// End to end: a small EfficientNet (every block type: depthwise 3×3 and 5×5, stride 1 and 2,
// squeeze-excite, BatchNorm in training mode) takes the same SGD steps on `cpu` and on `wasm` from
// the same weights and data; the losses must follow the same trajectory. (SGD, not Adam: Adam divides
// by √v, so a weight whose gradient is ~0 moves by ±lr on float32 rounding alone, and the
// trajectories part for reasons that have nothing to do with the kernels.)

const SIZE = 48;
const BATCH = 4;
const STEPS = 3;
const SPEC = makeSpec('b0', { width: 0.25, depth: 0.3, resolution: SIZE, numClasses: 3, dropout: 0, dropConnectRate: 0 });

function trajectory(
  backend: string,
  weights: { shape: number[]; values: Float32Array }[],
  pixels: Float32Array,
): { losses: number[]; tensors: number[] } {
  tf.setBackend(backend);
  const model = buildEfficientNet(SPEC);
  const initial = weights.map((w) => tf.tensor(w.values, w.shape));
  model.setWeights(initial);
  tf.dispose(initial);
  const optimizer = tf.train.sgd(0.01);
  const x = tf.tensor4d(pixels, [BATCH, SIZE, SIZE, 3]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
  const losses: number[] = [];
  const tensors: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
    )!;
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
    tensors.push(tf.memory().numTensors);
  }
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return { losses, tensors };
}

test('with EFFNET_BACKEND=wasm, training runs on wasm and follows the cpu loss trajectory', async (t) => {
  const backends = await chooseBackends({ ...process.env, EFFNET_BACKEND: 'wasm' });
  assert.equal(backends.train, 'wasm');
  assert.equal(backends.forward, 'wasm');
  assert.equal(backends.note, undefined);
  tf.setBackend('cpu');
  useFastCpuKernels();
  const reference = buildEfficientNet(SPEC);
  const weights = reference.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
  reference.dispose();
  const random = createRandom(3);
  const pixels = Float32Array.from({ length: BATCH * SIZE * SIZE * 3 }, () => random() * 255);
  let started = performance.now();
  const { losses: cpu } = trajectory('cpu', weights, pixels);
  const cpuSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const { losses: wasm, tensors } = trajectory('wasm', weights, pixels);
  const wasmSeconds = (performance.now() - started) / 1000;
  t.diagnostic(
    `losses cpu ${cpu.map((v) => v.toFixed(5)).join(' ')} (${cpuSeconds.toFixed(1)} s); wasm ${wasm.map((v) => v.toFixed(5)).join(' ')} (${wasmSeconds.toFixed(1)} s)`,
  );
  // The first step creates the optimizer's state; after it, the count must stay flat.
  assert.deepEqual(
    tensors.slice(1),
    tensors.slice(1).map(() => tensors[0]),
    `tensors after each step: ${tensors.join(', ')}`,
  );
  assert.ok(cpu[STEPS - 1]! < cpu[0]!, `the loss should fall over ${STEPS} steps: ${cpu.join(', ')}`);
  for (let step = 0; step < STEPS; step++) {
    const difference = Math.abs(wasm[step]! - cpu[step]!) / Math.max(1e-3, Math.abs(cpu[step]!));
    assert.ok(difference < 1e-3, `step ${step}: wasm ${wasm[step]} against cpu ${cpu[step]}`);
  }
});
