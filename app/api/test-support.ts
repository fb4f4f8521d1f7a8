/**
 * Example runs for tests and the end-to-end journey until training produces real ones: a few
 * finished runs with smooth, deterministic curves, tags, a note, a checkpoint file and, per epoch,
 * a confusion matrix in the event format app/train reports, written through the store's own
 * repositories. Not used by the app.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JsonObject } from '../common/store-types.ts';
import { parseTrainConfig, type TrainConfigInput } from '../common/train-config.ts';
import type { Store } from '../store/index.ts';

export interface ExampleRun {
  readonly name: string;
  /** Training settings as a person writes them (TrainConfigInput without the dataset). */
  readonly settings: Omit<TrainConfigInput, 'dataset'>;
  readonly epochs: number;
  /** Where validation accuracy levels off, and how fast it gets there. */
  readonly plateau: number;
  readonly speed: number;
  readonly status: 'completed' | 'failed';
  readonly tags: readonly string[];
}

export const EXAMPLE_RUNS: readonly ExampleRun[] = [
  {
    name: 'b0 head baseline',
    settings: { mode: 'head', epochs: 8 },
    epochs: 8,
    plateau: 0.86,
    speed: 0.55,
    status: 'completed',
    tags: ['baseline'],
  },
  {
    name: 'b0 fine-tune lr 3e-4',
    settings: { mode: 'finetune', epochs: 8, optimizer: { learningRate: 0.0003 } },
    epochs: 8,
    plateau: 0.93,
    speed: 0.4,
    status: 'completed',
    tags: ['finetune', 'candidate'],
  },
  {
    name: 'b2 full from scratch',
    settings: { mode: 'full', epochs: 12, batchSize: 16, model: { variant: 'b2', weights: 'none' } },
    epochs: 3,
    plateau: 0.6,
    speed: 0.3,
    status: 'failed',
    tags: [],
  },
];

/** Stores the example runs (with `classes` for the confusion matrix); returns their ids. */
export function seedExampleRuns(
  store: Store,
  options: { datasetPath: string; classes: readonly string[]; runsFolder: string; now?: number },
): number[] {
  const now = options.now ?? Date.now();
  const dataset = store.datasets.upsert({
    path: options.datasetPath,
    fingerprint: 'example',
    classes: options.classes,
    split: { train: 48, validation: 12, test: 0, method: 'stratified' },
  });
  return EXAMPLE_RUNS.map((example, index) => {
    const created = now - (EXAMPLE_RUNS.length - index) * 3_600_000;
    // A complete config, as the trainer stores it: the compare view diffs these.
    const config = parseTrainConfig({ ...example.settings, dataset: { path: options.datasetPath }, seed: 42 });
    const run = store.runs.create(
      { name: example.name, config: config as unknown as JsonObject, datasetId: dataset.id, seed: 42 },
      created,
    );
    store.runs.start(run.id, { backend: 'cpu', device: 'CPU (plain JavaScript)' }, created + 1000);
    const epochs = Array.from({ length: example.epochs }, (_, i) => {
      const epoch = i + 1;
      const progress = 1 - Math.exp(-example.speed * epoch);
      const wobble = 0.012 * Math.sin(epoch * 1.7 + index);
      return {
        epoch,
        values: {
          loss: 1.9 * (1 - progress) + 0.25 + wobble,
          accuracy: Math.min(0.99, example.plateau * progress + 0.08),
          val_loss: 2.0 * (1 - progress) + 0.35 - wobble,
          val_accuracy: Math.min(0.99, example.plateau * progress + 0.04 + wobble),
        },
      };
    });
    store.metrics.recordEpochs(run.id, epochs);
    let best = -1;
    for (const { epoch, values } of epochs) {
      const isBest = values.val_accuracy > best;
      best = Math.max(best, values.val_accuracy);
      const payload = {
        epoch,
        epochs: example.epochs,
        metrics: values,
        best: isBest,
        confusion: exampleConfusion(options.classes, values.val_accuracy),
      };
      store.events.append(run.id, { type: 'epoch', payload, time: created + 1000 + epoch * 95_000 });
    }
    const folder = path.join(options.runsFolder, String(run.id));
    mkdirSync(folder, { recursive: true });
    const checkpoint = path.join(folder, 'best.ckpt.json');
    const bytes = Buffer.from(JSON.stringify({ example: example.name }));
    writeFileSync(checkpoint, bytes);
    store.artifacts.add(run.id, {
      kind: 'checkpoint',
      path: checkpoint,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      epoch: example.epochs,
    });
    if (example.tags.length) store.tags.add(run.id, example.tags);
    const finished = created + 1000 + example.epochs * 95_000;
    if (example.status === 'completed') {
      store.runs.finish(run.id, 'completed', null, finished);
    } else {
      store.runs.finish(run.id, 'failed', 'Out of memory at epoch 4: lower the batch size or pick a smaller variant.', finished);
    }
    if (index === 0) store.notes.add(run.id, 'Frozen backbone, head only: the reference to beat.', finished);
    return run.id;
  });
}

/** A confusion matrix whose diagonal holds about `accuracy` of each class's 12 validation images. */
export function exampleConfusion(classes: readonly string[], accuracy: number) {
  const perClass = 12;
  const matrix = classes.map((_, row) => {
    const correct = Math.round(perClass * Math.min(1, accuracy + (row % 2 ? 0.04 : -0.04)));
    const cells = classes.map(() => 0);
    cells[row] = correct;
    cells[(row + 1) % classes.length]! += perClass - correct;
    return cells;
  });
  return { labels: [...classes], matrix };
}
