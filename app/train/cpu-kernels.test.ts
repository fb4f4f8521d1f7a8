import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fastKernelCalls, useFastCpuKernels } from './cpu-kernels.ts';

// Every case is computed twice in this process: first with tfjs' own cpu kernels, then with the fast
// ones installed. The fast kernels must agree to float32 rounding.

/** `kernel`: the kernel whose fast path the case must take (so a case cannot pass by falling back). */
type Case = { name: string; kernel: string; run: () => tf.Tensor };

const random = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

const CONV_CASES: Case[] = [
  ...(
    [
      // x shape, filter shape, stride, padding
      [[2, 8, 8, 3], [3, 3, 3, 4], 1, 'same'],
      [[2, 9, 9, 3], [3, 3, 3, 5], 2, 'valid'],
      [[1, 10, 10, 4], [5, 5, 4, 2], 2, 'same'],
      [[3, 6, 6, 8], [1, 1, 8, 16], 1, 'valid'],
      [[2, 7, 5, 2], [3, 2, 2, 3], [2, 1], 'same'],
    ] as const
  ).map(([xShape, filterShape, strides, pad], i) => ({
    name: `Conv2DBackpropFilter x${xShape} w${filterShape} s${strides} ${pad}`,
    kernel: 'Conv2DBackpropFilter',
    run: () =>
      tf.grad((filter: tf.Tensor) =>
        tf.sum(
          tf.mul(tf.conv2d(random([...xShape], i) as tf.Tensor4D, filter as tf.Tensor4D, strides as number | [number, number], pad), 1.5),
        ),
      )(random([...filterShape], 100 + i)),
  })),
  ...(
    [
      [[2, 8, 8, 3], [3, 3, 3, 1], 1, 'same'],
      [[2, 9, 9, 4], [5, 5, 4, 1], 2, 'valid'],
      [[1, 8, 8, 2], [3, 3, 2, 3], 2, 'same'],
    ] as const
  ).map(([xShape, filterShape, strides, pad], i) => ({
    name: `DepthwiseConv2dNativeBackpropFilter x${xShape} w${filterShape} s${strides} ${pad}`,
    kernel: 'DepthwiseConv2dNativeBackpropFilter',
    run: () =>
      tf.grad((filter: tf.Tensor) =>
        tf.sum(tf.square(tf.depthwiseConv2d(random([...xShape], 20 + i) as tf.Tensor4D, filter as tf.Tensor4D, strides, pad))),
      )(random([...filterShape], 200 + i)),
  })),
];

const ELEMENTWISE_CASES: Case[] = [
  {
    name: 'Slice of a 4-D tensor (not contiguous)',
    kernel: 'Slice',
    run: () => tf.slice(random([2, 5, 6, 3], 1), [0, 1, 2, 1], [2, 3, 3, 2]),
  },
  { name: 'Slice of a 3-D tensor', kernel: 'Slice', run: () => tf.slice(random([4, 5, 6], 2), [1, 0, 3], [2, 5, 2]) },
  { name: 'Slice of a 2-D tensor', kernel: 'Slice', run: () => tf.slice(random([6, 7], 3), [2, 1], [3, 4]) },
  { name: 'Multiply by a per-channel vector', kernel: 'Multiply', run: () => tf.mul(random([2, 4, 4, 5], 4), random([5], 5)) },
  {
    name: 'Multiply by a per-sample, per-channel map (squeeze-excite)',
    kernel: 'Multiply',
    run: () => tf.mul(random([2, 4, 4, 5], 6), random([2, 1, 1, 5], 7)),
  },
  { name: 'Add with broadcasting on both sides', kernel: 'Add', run: () => tf.add(random([3, 1, 4], 8), random([1, 5, 1], 9)) },
  { name: 'Sub of a [1,1,1,C] mean', kernel: 'Sub', run: () => tf.sub(random([2, 3, 3, 4], 10), random([1, 1, 1, 4], 11)) },
  { name: 'RealDiv by a scalar', kernel: 'RealDiv', run: () => tf.div(random([2, 3, 4], 12), tf.scalar(3)) },
  { name: 'Add of equal shapes', kernel: 'Add', run: () => tf.add(random([7, 3], 13), random([7, 3], 14)) },
  { name: 'Sum over batch and space (BatchNorm statistics)', kernel: 'Sum', run: () => tf.sum(random([2, 4, 4, 6], 15), [0, 1, 2]) },
  { name: 'Sum over the last axis, keepDims', kernel: 'Sum', run: () => tf.sum(random([3, 4, 5], 16), -1, true) },
  { name: 'Sum over everything', kernel: 'Sum', run: () => tf.sum(random([3, 4, 5], 17)) },
  { name: 'Mean over space (global average pooling)', kernel: 'Mean', run: () => tf.mean(random([2, 5, 5, 3], 18), [1, 2], true) },
  { name: 'Mean over the middle axes', kernel: 'Mean', run: () => tf.mean(random([2, 3, 4, 5], 19), [1, 2]) },
];

const CASES = [...CONV_CASES, ...ELEMENTWISE_CASES];
const reference = new Map<string, { shape: number[]; values: Float32Array }>();
let originalMilliseconds = 0;

/** Milliseconds for one filter gradient of a 1×1 convolution, the most common one in EfficientNet. */
function timeFilterGradient(): number {
  const x = random([8, 16, 16, 32], 30);
  const dy = random([8, 16, 16, 64], 31);
  const started = performance.now();
  const result = tf
    .engine()
    .runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, 32, 64] });
  (result as tf.Tensor).dataSync();
  const elapsed = performance.now() - started;
  tf.dispose([x, dy, result as tf.Tensor]);
  return elapsed;
}

before(async () => {
  await tf.setBackend('cpu');
  for (const { name, run } of CASES) {
    const result = tf.tidy(run);
    reference.set(name, { shape: result.shape, values: result.dataSync() as Float32Array });
    result.dispose();
  }
  originalMilliseconds = timeFilterGradient();
  useFastCpuKernels();
});

for (const { name, kernel, run } of CASES) {
  test(`${name}: the fast kernel agrees with tfjs' own`, () => {
    const expected = reference.get(name)!;
    const callsBefore = fastKernelCalls().get(kernel) ?? 0;
    const result = tf.tidy(run);
    assert.ok((fastKernelCalls().get(kernel) ?? 0) > callsBefore, `the case ran ${kernel}'s fast path`);
    assert.deepEqual(result.shape, expected.shape);
    const values = result.dataSync();
    result.dispose();
    const scale = Math.max(1, ...expected.values.map(Math.abs));
    values.forEach((value, i) =>
      assert.ok(Math.abs(value - expected.values[i]!) <= 1e-5 * scale, `element ${i}: ${value} vs ${expected.values[i]}`),
    );
  });
}

test('integer tensors still go through the original kernels', () => {
  const sum = tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0);
  assert.equal(sum.dtype, 'int32');
  assert.deepEqual(Array.from(sum.dataSync()), [4, 6]);
  const product = tf.mul(tf.tensor1d([2, 3], 'int32'), tf.tensor1d([4, 5], 'int32'));
  assert.equal(product.dtype, 'int32');
  assert.deepEqual(Array.from(product.dataSync()), [8, 15]);
  tf.dispose([sum, product]);
});

test('the filter gradient of a 1×1 convolution is several times faster than with tfjs’ own kernel', () => {
  const fast = timeFilterGradient();
  console.log(`Conv2DBackpropFilter 8×16×16×32 → 1×1×32×64: tfjs ${originalMilliseconds.toFixed(0)} ms, fast ${fast.toFixed(1)} ms`);
  // The measured gap is 30–100×; 3× leaves room for a busy machine.
  assert.ok(fast * 3 < originalMilliseconds, `fast ${fast} ms vs original ${originalMilliseconds} ms`);
});
