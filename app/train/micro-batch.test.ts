import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WASM_TRAINING_BUDGET } from '../backend/wasm-kernels/memory.ts';
import { chooseBackends } from './backends.ts';
import type { RawBatch } from './evaluation.ts';
import { partSizes, planMicroBatches, splitBatch, wasmTrainingBudget, WASM_BUDGET_VARIABLE } from './micro-batch.ts';

const MIB = 2 ** 20;

// (variant, image size, batch[, budget]) → passes. The default budget is 3.5 GiB of the 4 GiB heap;
// B0 at 224 px is estimated at 448 MiB per image (memory.ts), so 8 images fit one pass.
const PLANS = [
  { variant: 'b0', resolution: 224, batchSize: 1, sizes: [1] },
  { variant: 'b0', resolution: 224, batchSize: 4, sizes: [4] },
  { variant: 'b0', resolution: 224, batchSize: 8, sizes: [8] },
  { variant: 'b0', resolution: 224, batchSize: 9, sizes: [5, 4] },
  { variant: 'b0', resolution: 224, batchSize: 16, sizes: [8, 8] },
  { variant: 'b0', resolution: 224, batchSize: 32, sizes: [8, 8, 8, 8] },
  // The resolution defaults to the variant's own.
  { variant: 'b0', resolution: undefined, batchSize: 10, sizes: [5, 5] },
  // B0 at 128 px: (128/224)² of the memory, 146 MiB per image, 24 images per pass.
  { variant: 'b0', resolution: 128, batchSize: 24, sizes: [24] },
  { variant: 'b0', resolution: 128, batchSize: 25, sizes: [13, 12] },
  { variant: 'b0', resolution: 128, batchSize: 64, sizes: [22, 21, 21] },
  // φ = −2 (width 0.83, depth 0.69) at 128 px: 84 MiB per image, 42 images per pass.
  { variant: 'phi:-2', resolution: 128, batchSize: 16, sizes: [16] },
  { variant: 'phi:-2', resolution: 128, batchSize: 64, sizes: [32, 32] },
  // B3 at 300 px needs about 1.3 GiB per image: two at a time.
  { variant: 'b3', resolution: undefined, batchSize: 4, sizes: [2, 2] },
  // A forced small budget (what the end-to-end test uses): B0 at 32 px is about 9 MiB per image.
  { variant: 'b0', resolution: 32, batchSize: 4, budgetMib: 30, sizes: [2, 2] },
  { variant: 'b0', resolution: 32, batchSize: 9, budgetMib: 30, sizes: [3, 3, 3] },
];

for (const { variant, resolution, batchSize, budgetMib, sizes } of PLANS) {
  test(`${variant} at ${resolution ?? 'its own size'} px, batch ${batchSize}${budgetMib ? `, ${budgetMib} MiB` : ''}: passes of ${sizes.join(', ')}`, () => {
    const budget = budgetMib === undefined ? WASM_TRAINING_BUDGET : budgetMib * MIB;
    const plan = planMicroBatches({ variant, resolution, batchSize }, budget);
    assert.equal(plan.fits, true);
    assert.equal(plan.parts, sizes.length);
    assert.equal(plan.microBatch, Math.max(...sizes));
    assert.deepEqual(partSizes(batchSize, plan.microBatch), sizes);
    // The parts are what the heap holds: the largest fits, one image more would not (when split).
    const perImage = plan.batchBytes / batchSize;
    assert.ok(plan.microBatch * perImage <= budget);
    if (plan.parts > 1) assert.ok(Math.ceil(batchSize / (plan.parts - 1)) * perImage > budget, 'one pass fewer would not fit');
  });
}

test('a workload of which not even one image fits the heap is marked as not fitting', () => {
  const plan = planMicroBatches({ variant: 'b7', batchSize: 2 });
  assert.equal(plan.fits, false);
  assert.ok(plan.batchBytes / 2 > WASM_TRAINING_BUDGET);
});

test('a short last batch is split evenly too, and a batch that fits is left whole', () => {
  assert.deepEqual(partSizes(3, 4), [3]);
  assert.deepEqual(partSizes(7, 4), [4, 3]);
  assert.deepEqual(partSizes(9, 4), [3, 3, 3]);
  assert.deepEqual(partSizes(1, 1), [1]);
});

test('splitBatch cuts images, labels and paths at the same places, as views in order', () => {
  const perImage = 2 * 2 * 3;
  const batch: RawBatch = {
    data: Float32Array.from({ length: 5 * perImage }, (_, i) => i),
    shape: [5, 2, 2, 3],
    labels: Int32Array.from([0, 1, 2, 0, 1]),
    paths: ['a', 'b', 'c', 'd', 'e'],
    size: 5,
    index: 7,
  };
  const parts = splitBatch(batch, 2);
  assert.deepEqual(
    parts.map((part) => [part.size, part.shape, [...part.labels], part.paths, part.index]),
    [
      [2, [2, 2, 2, 3], [0, 1], ['a', 'b'], 7],
      [2, [2, 2, 2, 3], [2, 0], ['c', 'd'], 7],
      [1, [1, 2, 2, 3], [1], ['e'], 7],
    ],
  );
  assert.deepEqual(
    parts.flatMap((part) => [...part.data]),
    [...batch.data],
  );
  assert.equal(parts[1]!.data.buffer, batch.data.buffer, 'a view, not a copy');
  assert.deepEqual(splitBatch(batch, 5), [batch]);
});

test(`${WASM_BUDGET_VARIABLE} sets the budget in MiB; nonsense is an error that says what to set`, () => {
  assert.equal(wasmTrainingBudget({}), WASM_TRAINING_BUDGET);
  assert.equal(wasmTrainingBudget({ [WASM_BUDGET_VARIABLE]: '512' }), 512 * MIB);
  for (const bad of ['0', '-1', 'lots', '5000']) {
    assert.throws(
      () => wasmTrainingBudget({ [WASM_BUDGET_VARIABLE]: bad }),
      (error: Error & { hint?: string }) => {
        assert.match(error.message, new RegExp(`${WASM_BUDGET_VARIABLE}='${bad}'`));
        assert.match(error.hint ?? '', /at most 4095/);
        return true;
      },
    );
  }
});

test('on wasm a batch too big for the heap stays on wasm in micro-batches; only one that cannot fit an image goes to cpu', async () => {
  const env = { ...process.env, EFFNET_BACKEND: 'wasm' };
  const big = await chooseBackends(env, { variant: 'b0', resolution: 224, batchSize: 32, batchNormTrains: true });
  assert.equal(big.train, 'wasm');
  assert.equal(big.forward, 'wasm');
  assert.equal(big.microBatch, 8);
  assert.match(big.note ?? '', /^Batch 32 → 4 micro-batches of 8 on wasm: .* about 14\.0 GiB, more than the 3\.5 GiB/);
  assert.match(big.note ?? '', /effective batch stays 32; BatchNorm normalises each micro-batch .*"ghost batch norm"/);

  const frozen = await chooseBackends(env, { variant: 'b0', resolution: 224, batchSize: 16, batchNormTrains: false });
  assert.equal(frozen.microBatch, 8);
  assert.match(frozen.note ?? '', /^Batch 16 → 2 micro-batches of 8 on wasm: .*BatchNorm runs in inference mode/);

  const small = await chooseBackends(env, { variant: 'b0', batchSize: 4 });
  assert.equal(small.train, 'wasm');
  assert.equal(small.microBatch, undefined);
  assert.equal(small.note, undefined);

  const huge = await chooseBackends(env, { variant: 'b7', batchSize: 2 });
  assert.equal(huge.train, 'cpu');
  assert.equal(huge.microBatch, undefined);
  assert.match(huge.note ?? '', /one b7 image .* needs about \d+\.\d GiB/);

  // Other backends have no 4 GiB heap: nothing is split there.
  const cpu = await chooseBackends({ ...process.env, EFFNET_BACKEND: 'cpu' }, { variant: 'b0', batchSize: 32 });
  assert.equal(cpu.train, 'cpu');
  assert.equal(cpu.microBatch, undefined);
});
