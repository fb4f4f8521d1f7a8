import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateWasmTrainingBytes, largestWasmBatch, WASM_TRAINING_BUDGET } from './memory.ts';
import { chooseBackends } from '../../train/backends.ts';

// Measured (`npm run bench -- compare`): B0 at 224 px left the wasm heap at 808 MiB with batch 2,
// 1636 MiB with 4 and 3156 MiB with 8 (of 4096: a ninth image's ~400 MiB would leave too little room).
const CASES = [
  { workload: { variant: 'b0', batchSize: 2 }, fits: true },
  { workload: { variant: 'b0', batchSize: 4 }, fits: true },
  { workload: { variant: 'b0', batchSize: 8 }, fits: true },
  { workload: { variant: 'b0', batchSize: 9 }, fits: false },
  { workload: { variant: 'b0', batchSize: 16, resolution: 96 }, fits: true },
  { workload: { variant: 'b0', batchSize: 32, resolution: 224 }, fits: false },
  { workload: { variant: 'b3', batchSize: 4 }, fits: false },
];

for (const { workload, fits } of CASES) {
  test(`${workload.variant} at ${workload.resolution ?? 'its'} px, batch ${workload.batchSize}: ${fits ? 'fits' : 'does not fit'} the wasm heap`, () => {
    assert.equal(estimateWasmTrainingBytes(workload) <= WASM_TRAINING_BUDGET, fits);
    const largest = largestWasmBatch(workload);
    assert.ok(estimateWasmTrainingBytes({ ...workload, batchSize: largest }) <= WASM_TRAINING_BUDGET || largest === 1);
    assert.ok(estimateWasmTrainingBytes({ ...workload, batchSize: largest + 1 }) > WASM_TRAINING_BUDGET);
  });
}

test('a batch too big for the wasm heap trains on wasm in micro-batches; only a single image too big falls back to cpu', async () => {
  const env = { ...process.env, EFFNET_BACKEND: 'wasm' };
  const big = await chooseBackends(env, { variant: 'b0', batchSize: 32 });
  assert.equal(big.train, 'wasm');
  assert.ok(big.microBatch !== undefined && big.microBatch <= 8, `micro-batch ${big.microBatch}`);
  assert.match(big.note ?? '', /Batch 32 → \d+ micro-batches/);
  const small = await chooseBackends(env, { variant: 'b0', batchSize: 4 });
  assert.equal(small.train, 'wasm');
  assert.equal(small.microBatch, undefined);
  assert.equal(small.note, undefined);
  // B7 at 600 px: one image's training pass alone is over the heap budget.
  const huge = await chooseBackends(env, { variant: 'b7', batchSize: 1 });
  assert.equal(huge.train, 'cpu');
  assert.equal(huge.forward, 'wasm');
  assert.match(huge.note ?? '', /about 10× slower/);
});
