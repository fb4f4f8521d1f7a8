import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { makeSpec, modelFacts } from '../common/efficientnet/index.ts';
import { estimateEpochSeconds, formatEstimate, median, PROBE_EFFICIENCY } from '../common/epoch-estimate.ts';
import type { JsonObject } from '../common/store-types.ts';
import { openStore } from '../store/index.ts';
import { temporaryFolder } from '../store/test-support.ts';
import { runSpeed, trainingSpeed } from './speed.ts';

const temp = temporaryFolder('effnet-speed-');
const store = openStore(temp.file('effnet.sqlite'));
after(() => (store.close(), temp.remove()));

const B0_MACS = modelFacts(makeSpec('b0')).macs;
const B0_128_MACS = modelFacts(makeSpec('b0', { resolution: 128 })).macs;

/** A finished run as the recorder stores it: its `started` event and one event per epoch. */
function finishedRun(options: {
  backend: string;
  mode: 'full' | 'finetune' | 'head';
  model: JsonObject;
  trainImages: number;
  validationImages: number;
  epochSeconds: number[];
  status?: 'completed' | 'failed';
}) {
  const run = store.runs.create({ name: `${options.mode} on ${options.backend}`, config: { mode: options.mode, model: options.model } });
  store.runs.start(run.id, { backend: options.backend, device: options.backend });
  store.events.append(run.id, {
    type: 'started',
    payload: { mode: options.mode, trainImages: options.trainImages, validationImages: options.validationImages, backend: options.backend },
    time: 1,
  });
  options.epochSeconds.forEach((seconds, index) =>
    store.events.append(run.id, { type: 'epoch', payload: { epoch: index + 1, metrics: { epoch_seconds: seconds } }, time: 2 + index }),
  );
  store.runs.finish(run.id, options.status ?? 'completed');
  return store.runs.require(run.id);
}

test('a run’s speed is its epoch work over its typical steady epoch, first epoch left out', () => {
  const run = finishedRun({
    backend: 'wasm',
    mode: 'full',
    model: { variant: 'b0', resolution: 128 },
    trainImages: 400,
    validationImages: 100,
    // Epoch 1 compiles kernels; the median of the rest is 50 s.
    epochSeconds: [300, 48, 50, 90],
  });
  const work = B0_128_MACS * (400 * 3 + 100);
  assert.equal(runSpeed(store, run), work / median([48, 50, 90])!);
});

test('the estimate uses this machine’s runs on the detected backend, then the probe, then says it cannot', () => {
  // Head runs say nothing about the backbone's training speed; failed runs and other backends are not evidence.
  finishedRun({ backend: 'wasm', mode: 'head', model: { variant: 'b0' }, trainImages: 100, validationImages: 0, epochSeconds: [1, 1] });
  finishedRun({
    backend: 'tensorflow',
    mode: 'full',
    model: { variant: 'b0' },
    trainImages: 100,
    validationImages: 0,
    epochSeconds: [9, 1],
  });
  finishedRun({
    backend: 'wasm',
    mode: 'finetune',
    model: { variant: 'b0' },
    trainImages: 200,
    validationImages: 50,
    epochSeconds: [9, 100],
  });
  const wasm = trainingSpeed(store, { backend: 'wasm', device: 'WebAssembly', probeGflops: 20 });
  assert.deepEqual(wasm.basis, { kind: 'runs', runs: 2 });
  const fromRuns = [(B0_128_MACS * (400 * 3 + 100)) / 50, (B0_MACS * (200 * 2 + 50)) / 100];
  assert.ok(Math.abs(wasm.macsPerSecond! - median(fromRuns)!) < 1e-6 * wasm.macsPerSecond!);

  const gpu = trainingSpeed(store, { backend: 'webgpu', device: 'a GPU', probeGflops: 500 });
  assert.deepEqual(gpu.basis, { kind: 'probe', gflops: 500 });
  assert.equal(gpu.macsPerSecond, (500e9 * PROBE_EFFICIENCY) / 2);

  const none = trainingSpeed(store, { backend: null, device: null, probeGflops: null, reason: 'no backend works' });
  assert.deepEqual(none, { backend: null, device: null, macsPerSecond: null, basis: { kind: 'none', reason: 'no backend works' } });
});

test('epoch estimates scale with MACs, images and mode, and read as estimates', () => {
  const speed = { macsPerSecond: 1e9 };
  const b0 = estimateEpochSeconds({ macs: B0_MACS, trainImages: 1000, validationImages: 250, mode: 'full' }, speed)!;
  assert.equal(b0, (B0_MACS * (1000 * 3 + 250)) / 1e9);
  const finetune = estimateEpochSeconds({ macs: B0_MACS, trainImages: 1000, validationImages: 250, mode: 'finetune' }, speed)!;
  assert.ok(finetune < b0);
  assert.equal(
    estimateEpochSeconds({ macs: B0_MACS, trainImages: 1000, validationImages: 0, mode: 'full' }, { macsPerSecond: null }),
    null,
  );
  assert.equal(estimateEpochSeconds({ macs: B0_MACS, trainImages: 0, validationImages: 0, mode: 'full' }, speed), null);
  assert.deepEqual([0.4, 42, 89.6, 600, 5400, 7200, 50_000].map(formatEstimate), [
    '< 1 s',
    '~42 s',
    '~90 s',
    '~10 min',
    '~1.5 h',
    '~2.0 h',
    '~14 h',
  ]);
  assert.equal(formatEstimate(null), '—');
});
