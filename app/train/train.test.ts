import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TrainConfigInput } from '../common/train-config.ts';
import { MISCLASSIFIED_PER_CELL, type TrainEvent, type TrainSummary } from '../common/train-types.ts';
import { readModelMetadata } from '../model/model-format.ts';
import { loadTrainingData } from './data.ts';
import { evaluate, predictFiles } from './evaluate.ts';
import { train } from './train.ts';
import { temporaryFolder, testEnvironment, writeSyntheticDataset } from './test-support.ts';

// End to end on the cpu backend: a generated 3-class dataset (72 PNGs, 40×40), a 7-block
// EfficientNet at 32 px trained from scratch, then a head-mode run on new images of new class names
// that reuses the first model's backbone. Chance is 1/3.
let folder: { dir: string; remove: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let full: TrainSummary | undefined;

before(async () => {
  folder = await temporaryFolder('effnet-train-');
  await writeSyntheticDataset(path.join(folder.dir, 'colours'), { perClass: 24, size: 40, seed: 1 });
  await writeSyntheticDataset(path.join(folder.dir, 'renamed'), { perClass: 24, size: 40, seed: 2, names: ['cool', 'leafy', 'warm'] });
  env = testEnvironment(path.join(folder.dir, 'home'));
});

after(() => folder.remove());

const onlyFlips = { crop: { enabled: false }, rotation: { enabled: false }, colorJitter: { enabled: false }, erasing: { enabled: false } };

test('full mode trains a small EfficientNet from scratch far above chance', async () => {
  const started = performance.now();
  const events: TrainEvent[] = [];
  const config: TrainConfigInput = {
    dataset: { path: path.join(folder.dir, 'colours'), validationSplit: 0.25 },
    mode: 'full',
    model: { variant: 'b0', width: 0.25, depth: 0.2, resolution: 32, weights: 'none', dropout: 0.1, bnMomentum: 0.8 },
    epochs: 5,
    batchSize: 8,
    seed: 7,
    optimizer: { name: 'adamw', learningRate: 0.01 },
    augment: onlyFlips,
    data: { workers: 0 },
  };
  full = await train(config, { onEvent: (event) => events.push(event) }, { runDir: path.join(folder.dir, 'full'), env });
  const seconds = (performance.now() - started) / 1000;
  const accuracies = full.history.map((record) => record.metrics.val_accuracy);
  console.log(`full mode: ${seconds.toFixed(1)} s, val_accuracy by epoch ${accuracies.map((a) => a?.toFixed(3)).join(' ')}`);

  assert.equal(full.status, 'completed');
  assert.ok(full.best && full.best.value >= 0.8, `best val_accuracy ${full.best?.value} (chance 0.33)`);
  const startedEvent = events.find((event) => event.type === 'started');
  assert.ok(startedEvent?.type === 'started');
  assert.deepEqual(startedEvent.classes, ['blue', 'green', 'red']);
  assert.equal(startedEvent.backend, 'cpu');
  assert.equal(startedEvent.trainImages + startedEvent.validationImages, 72);
  const epochs = events.filter((event) => event.type === 'epoch');
  assert.equal(epochs.length, 5);
  for (const epoch of epochs) {
    assert.ok(epoch.type === 'epoch' && epoch.confusion && epoch.perClass);
    const total = epoch.confusion.matrix.flat().reduce((a, b) => a + b, 0);
    assert.equal(total, startedEvent.validationImages);
    // Every off-diagonal count is backed by that cell's images, most confidently wrong first.
    const { labels, matrix } = epoch.confusion;
    const cells = new Map((epoch.misclassified ?? []).map((cell) => [`${cell.actual}>${cell.predicted}`, cell]));
    labels.forEach((actual, t) =>
      labels.forEach((predicted, p) => {
        const cell = cells.get(`${actual}>${predicted}`);
        const wrong = t === p ? 0 : matrix[t]![p]!;
        assert.equal(cell?.count ?? 0, wrong, `${actual} predicted as ${predicted}, epoch ${epoch.epoch}`);
        if (!cell) return;
        assert.equal(cell.items.length, Math.min(wrong, MISCLASSIFIED_PER_CELL));
        assert.ok(
          cell.items.every((item) => item.path.startsWith(`${actual}/`)),
          'paths are dataset-relative, in the true class',
        );
        const confidences = cell.items.map((item) => item.confidence);
        assert.deepEqual(
          confidences,
          [...confidences].sort((a, b) => b - a),
        );
      }),
    );
    for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'val_top3_accuracy', 'learning_rate']) {
      assert.ok(Number.isFinite(epoch.metrics[key]), `${key} in epoch ${epoch.epoch}`);
    }
  }
  assert.ok(
    epochs.some((epoch) => epoch.type === 'epoch' && (epoch.misclassified?.length ?? 0) > 0),
    'an early epoch gets some images wrong, so the cell check above is not vacuous',
  );
  const progress = events.filter((event) => event.type === 'progress' && event.phase === 'train');
  assert.equal(progress.length, 5 * startedEvent.stepsPerEpoch);
  assert.ok(progress.every((event) => event.type === 'progress' && event.imagesPerSecond! > 0 && event.etaSeconds! >= 0));

  // The final model is the best epoch's (restoreBest), and evaluating it reproduces that epoch's metrics.
  const metadata = await readModelMetadata(full.modelDir!);
  assert.deepEqual(metadata.labels, ['blue', 'green', 'red']);
  const data = await loadTrainingData({ path: path.join(folder.dir, 'colours'), validationSplit: 0.25, testSplit: 0, splitSeed: 42 });
  const report = await evaluate(full.modelDir!, data.validation, { root: data.root, env, workers: 0, batchSize: 8 });
  assert.ok(
    Math.abs(report.metrics.accuracy - full.best!.value) < 1e-9,
    `evaluate() ${report.metrics.accuracy} vs best epoch ${full.best!.value}`,
  );
  const wrong = report.metrics.images - Math.round(report.metrics.accuracy * report.metrics.images);
  assert.equal(
    report.misclassified!.reduce((sum, cell) => sum + cell.items.length, 0),
    wrong,
  );
  for (const cell of report.misclassified!) {
    assert.notEqual(cell.actual, cell.predicted);
    for (const item of cell.items)
      assert.ok(item.path.startsWith(`${cell.actual}/`), `${item.path} is listed under true class ${cell.actual}`);
  }

  await assert.rejects(evaluate(full.modelDir!, [{ path: 'red/000.png', label: 'purple' }], { root: data.root, env }), {
    code: 'evaluate-unknown-label',
    message: /red\/000\.png is labelled 'purple'/,
  });

  const files = data.validation.slice(0, 3).map((item) => path.join(data.root, item.path));
  const { predictions } = await predictFiles(full.modelDir!, files, { env, workers: 0, topK: 3 });
  assert.equal(predictions.length, 3);
  for (const prediction of predictions) {
    assert.equal(prediction.top.length, 3);
    assert.ok(prediction.top[0]!.probability >= prediction.top[1]!.probability);
    assert.ok(Math.abs(prediction.top.reduce((sum, one) => sum + one.probability, 0) - 1) < 1e-4);
  }
});

test('head mode trains a new classifier on a frozen backbone, computing embeddings once', async (t) => {
  if (!full?.modelDir) return t.skip('needs the model of the full-mode test');
  const config: TrainConfigInput = {
    dataset: { path: path.join(folder.dir, 'renamed'), validationSplit: 0.25 },
    mode: 'head',
    model: { initialModel: full.modelDir },
    epochs: 10,
    batchSize: 8,
    seed: 5,
    optimizer: { name: 'adam', learningRate: 0.05 },
    data: { workers: 0 },
  };
  const runs: { seconds: number; logs: string[]; summary: TrainSummary }[] = [];
  for (const name of ['head-1', 'head-2']) {
    const started = performance.now();
    const logs: string[] = [];
    const summary = await train(
      config,
      { onEvent: (event) => event.type === 'log' && logs.push(event.message) },
      { runDir: path.join(folder.dir, name), env },
    );
    runs.push({ seconds: (performance.now() - started) / 1000, logs, summary });
  }
  const [first, second] = runs as [(typeof runs)[0], (typeof runs)[0]];
  console.log(
    `head mode: ${first.seconds.toFixed(1)} s computing embeddings, ${second.seconds.toFixed(1)} s from the cache; ` +
      `val_accuracy by epoch ${first.summary.history.map((r) => r.metrics.val_accuracy?.toFixed(3)).join(' ')}, loss ${first.summary.history.map((r) => r.metrics.loss?.toFixed(3)).join(' ')}`,
  );
  assert.ok(first.summary.best && first.summary.best.value >= 0.8, `best val_accuracy ${first.summary.best?.value}`);
  const losses = first.summary.history.map((record) => record.metrics.loss!);
  assert.ok(
    // A new (glorot-initialised) classifier: the first epoch's mean loss is well above what it learns to
    // (a classifier copied from the full-mode model would start at its low loss).
    losses[0]! > 2 * Math.min(...losses.slice(1)) && Math.min(...losses.slice(1)) < 0.3,
    `the new classifier starts high and learns: ${losses.join(', ')}`,
  );
  assert.ok(first.logs.some((line) => line.startsWith('Computing embeddings of 72 images')));
  assert.ok(second.logs.some((line) => line.startsWith('Using cached embeddings')));
  assert.deepEqual(
    second.summary.history,
    first.summary.history.map((r) => ({
      ...r,
      metrics: { ...r.metrics, epoch_seconds: second.summary.history[r.epoch - 1]!.metrics.epoch_seconds! },
    })),
  );
  // The artifact is a whole model with the new classes, usable like any other.
  const metadata = await readModelMetadata(first.summary.modelDir!);
  assert.deepEqual(metadata.labels, ['cool', 'leafy', 'warm']);
  assert.equal(metadata.spec.resolution, 32);
});
