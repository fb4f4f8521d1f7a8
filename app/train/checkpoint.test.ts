import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { makeSpec } from '../common/efficientnet/index.ts';
import { buildEfficientNet } from '../model/builder.ts';
import {
  checkpointPath,
  copyCheckpoint,
  digestFolder,
  readCheckpoint,
  restoreWeights,
  writeCheckpoint,
  type CheckpointContent,
} from './checkpoint.ts';
import { initialState } from './run-state.ts';
import { temporaryFolder } from './test-support.ts';

let folder: { dir: string; remove: () => Promise<void> };
const spec = makeSpec('b0', { width: 0.25, depth: 0.2, resolution: 32, numClasses: 2 });

before(async () => {
  await tf.setBackend('cpu');
  folder = await temporaryFolder('effnet-checkpoint-');
});
after(() => folder.remove());

function content(model: tf.LayersModel, epoch: number): CheckpointContent {
  return {
    model,
    spec,
    labels: ['a', 'b'],
    optimizer: {
      name: 'adamw',
      step: 7,
      slots: [{ weight: 'predictions/bias', slot: 'm', shape: [2] }],
      data: Float32Array.from([0.25, -4]),
    },
    split: {
      version: 1,
      seed: 1,
      ratios: { val: 0.5, test: 0 },
      strategy: 'stratified',
      fingerprint: 'f',
      train: ['a/1.png'],
      val: ['b/1.png'],
      test: [],
      excluded: [],
    },
    state: {
      ...initialState({
        seed: 3,
        mode: 'full',
        classes: ['a', 'b'],
        datasetFingerprint: 'f',
        configDigest: 'c',
        totalEpochs: 5,
        stepsPerEpoch: 4,
      }),
      epoch,
      stepInEpoch: 2,
    },
  };
}

test('a checkpoint round-trips model weights, optimizer state, split and trainer state', async () => {
  const run = path.join(folder.dir, 'run');
  const model = buildEfficientNet(spec);
  const written = await writeCheckpoint(checkpointPath(run, 'last'), content(model, 1));
  assert.equal(written.path, path.join(run, 'checkpoints', 'last'));
  assert.deepEqual(await digestFolder(written.path), { sha256: written.sha256, bytes: written.bytes });

  const loaded = await readCheckpoint(run); // a run folder resolves to its last checkpoint
  assert.equal(loaded.dir, written.path);
  assert.equal(loaded.state.epoch, 1);
  assert.equal(loaded.state.stepInEpoch, 2);
  assert.deepEqual(Array.from(loaded.optimizer.data), [0.25, -4]);
  assert.equal(loaded.optimizer.step, 7);
  assert.deepEqual(loaded.split.val, ['b/1.png']);

  const other = buildEfficientNet(spec);
  await restoreWeights(other, loaded.modelDir);
  model.weights.forEach((weight, i) =>
    assert.deepEqual(other.weights[i]!.read().dataSync(), weight.read().dataSync(), weight.originalName),
  );
  model.dispose();
  other.dispose();
});

test('writing again replaces the checkpoint in one step and leaves no temporary folders', async () => {
  const run = path.join(folder.dir, 'replace');
  const model = buildEfficientNet(spec);
  const first = await writeCheckpoint(checkpointPath(run, 'last'), content(model, 1));
  const second = await writeCheckpoint(checkpointPath(run, 'last'), content(model, 2));
  assert.notEqual(first.sha256, second.sha256);
  assert.equal((await readCheckpoint(second.path)).state.epoch, 2);
  const best = await copyCheckpoint(second.path, checkpointPath(run, 'best'));
  assert.equal(best.sha256, second.sha256, 'the best checkpoint is an exact copy');
  assert.deepEqual((await fs.readdir(path.join(run, 'checkpoints'))).sort(), ['best', 'last']);
  model.dispose();
});

test('damaged or foreign checkpoints are refused with the file named', async () => {
  const run = path.join(folder.dir, 'damaged');
  const model = buildEfficientNet(spec);
  const { path: dir } = await writeCheckpoint(checkpointPath(run, 'last'), content(model, 1));
  model.dispose();
  await fs.writeFile(path.join(dir, 'optimizer.bin'), new Uint8Array(3));
  await assert.rejects(readCheckpoint(dir), { code: 'checkpoint-invalid', message: /optimizer\.bin holds 3 bytes/ });
  await fs.writeFile(path.join(dir, 'trainer.json'), '{"version": 99}');
  await assert.rejects(readCheckpoint(dir), {
    code: 'checkpoint-invalid',
    message: /trainer\.json is not a trainer state this version can resume/,
  });
  await assert.rejects(readCheckpoint(path.join(folder.dir, 'nowhere')), {
    code: 'checkpoint-not-found',
    message: /nowhere.*trainer\.json does not exist/,
  });
  const wider = buildEfficientNet(makeSpec('b0', { width: 0.5, depth: 0.2, resolution: 32, numClasses: 2 }));
  await assert.rejects(restoreWeights(wider, path.join(dir, 'model')), {
    code: 'checkpoint-mismatch',
    message: /layer stem_conv does not match/,
  });
  wider.dispose();
});
