import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TrainConfigInput } from '../common/train-config.ts';
import type { TrainEvent } from '../common/train-types.ts';
import { loadModel } from '../model/model-format.ts';
import { WASM_BUDGET_VARIABLE } from './micro-batch.ts';
import { train } from './train.ts';
import { temporaryFolder, writeSyntheticDataset } from './test-support.ts';

// End to end on wasm: the same tiny run (a 7-block EfficientNet at 32 px, 9 training images in
// batches of 4, SGD) once with the default heap budget, where every batch is one pass, and once with
// a 30 MiB budget, where the trainer splits each batch into passes of at most 2 images. In finetune
// mode every BatchNorm runs in inference mode, so the two must end at the same weights (up to float
// rounding); in full mode BatchNorm sees each micro-batch's own statistics, so they must not.
let folder: { dir: string; remove: () => Promise<void> };

before(async () => {
  folder = await temporaryFolder('effnet-micro-');
  await writeSyntheticDataset(path.join(folder.dir, 'data'), { perClass: 4, size: 36, seed: 5 });
});

after(() => folder.remove());

async function run(
  name: string,
  mode: 'finetune' | 'full',
  learningRate: number,
  budgetMib?: number,
): Promise<{ weights: Map<string, Float32Array>; logs: string[]; backend: string }> {
  const config: TrainConfigInput = {
    dataset: { path: path.join(folder.dir, 'data'), validationSplit: 0.25 },
    mode,
    unfreezeBlocks: 3,
    model: { variant: 'b0', width: 0.25, depth: 0.2, resolution: 32, weights: 'none', dropout: 0, dropConnectRate: 0, bnMomentum: 0.9 },
    epochs: 1,
    batchSize: 4,
    seed: 3,
    optimizer: { name: 'sgd', learningRate, momentum: 0.9 },
    augment: { crop: { enabled: false }, rotation: { enabled: false }, colorJitter: { enabled: false }, erasing: { enabled: false } },
    data: { workers: 0 },
  };
  const env: NodeJS.ProcessEnv = { ...process.env, EFFNET_BACKEND: 'wasm', EFFNET_HOME: path.join(folder.dir, 'home') };
  if (budgetMib === undefined) delete env[WASM_BUDGET_VARIABLE];
  else env[WASM_BUDGET_VARIABLE] = String(budgetMib);
  const events: TrainEvent[] = [];
  const summary = await train(config, { onEvent: (event) => events.push(event) }, { runDir: path.join(folder.dir, name), env });
  assert.equal(summary.status, 'completed');
  const { model } = await loadModel(summary.modelDir!);
  const weights = new Map(model.weights.map((weight) => [weight.originalName, weight.read().dataSync() as Float32Array]));
  model.dispose();
  const logs = events.flatMap((event) => (event.type === 'log' ? [event.message] : []));
  return { weights, logs, backend: summary.backend };
}

function maxDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let worst = 0;
  for (const [name, values] of a) {
    const other = b.get(name)!;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! - other[i]!));
  }
  return worst;
}

test('a batch split into micro-batches to fit the wasm heap trains to the same weights as the whole batch', async (t) => {
  // A learning rate of ~0 gives the seed's initial weights: how far training moves them.
  const initial = await run('initial', 'finetune', 1e-12);
  const whole = await run('whole', 'finetune', 0.05);
  const split = await run('split', 'finetune', 0.05, 30);
  assert.equal(whole.backend, 'wasm');
  assert.equal(split.backend, 'wasm');
  assert.ok(!whole.logs.some((message) => message.includes('micro-batches')), whole.logs.join('\n'));
  const note = split.logs.find((message) => message.startsWith('Batch 4 → 2 micro-batches of 2 on wasm'));
  assert.ok(note, `the log says what was chosen: ${split.logs.join('\n')}`);
  assert.match(note, /BatchNorm runs in inference mode/);
  const moved = maxDifference(initial.weights, whole.weights);
  const difference = maxDifference(whole.weights, split.weights);
  t.diagnostic(
    `finetune: training moved weights by up to ${moved.toExponential(2)}; whole vs micro-batched: ${difference.toExponential(2)}`,
  );
  assert.ok(moved > 1e-3, `training should move the weights: ${moved}`);
  assert.ok(difference < 1e-5, `weights differ by ${difference}`);

  // Full mode: BatchNorm normalises each micro-batch on its own ("ghost batch"), and the log says so.
  const wholeFull = await run('whole-full', 'full', 0.005);
  const splitFull = await run('split-full', 'full', 0.005, 30);
  assert.ok(splitFull.logs.some((message) => /micro-batches of 2 on wasm.*"ghost batch norm"/.test(message)));
  const ghost = maxDifference(wholeFull.weights, splitFull.weights);
  t.diagnostic(`full: whole vs micro-batched (ghost batch norm): ${ghost.toExponential(2)}`);
  assert.ok(ghost > 1e-4, `full mode must see the micro-batches' own BatchNorm statistics: ${ghost}`);
});
