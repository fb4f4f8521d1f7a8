/**
 * Worker: evaluates a trained model on a dataset split (app/train/evaluate.ts): loss, accuracy,
 * top-k, per-class metrics, the confusion matrix and the misclassified images. The summary is the
 * EvaluationReport.
 */
import { AppError } from '../app/common/errors.ts';
import { initBackend } from '../app/backend/ladder.ts';
import { DEFAULT_RATIOS, DEFAULT_SEED } from '../app/dataset/split.ts';
import { loadTrainingData } from '../app/train/data.ts';
import { evaluate } from '../app/train/evaluate.ts';
import { runWorker } from './runtime.ts';

/** At most this many progress events a second. */
const PROGRESS_INTERVAL_MS = 200;

runWorker({
  kind: 'evaluate',
  async run(payload, context) {
    const backend = await initBackend({ env: process.env });
    context.emit({ type: 'started', backend: backend.backend, device: backend.device });
    let last = 0;
    const progress = (phase: string, step: number, steps: number) => {
      const now = Date.now();
      if (now - last < PROGRESS_INTERVAL_MS && step < steps) return;
      last = now;
      context.emit({ type: 'progress', phase, step, steps });
    };
    const data = await loadTrainingData(
      {
        path: payload.dataset,
        validationSplit: payload.validationSplit ?? DEFAULT_RATIOS.val,
        testSplit: payload.testSplit ?? DEFAULT_RATIOS.test,
        splitSeed: payload.splitSeed ?? DEFAULT_SEED,
      },
      { signal: context.signal, onProgress: ({ done, total }) => progress('scan', done, total) },
    );
    for (const warning of data.warnings) context.emit({ type: 'warning', ...warning });
    const split = payload.split ?? 'val';
    const items =
      split === 'all'
        ? [...data.train, ...data.validation, ...data.test]
        : split === 'train'
          ? data.train
          : split === 'val'
            ? data.validation
            : data.test;
    if (items.length === 0) {
      throw new AppError('evaluate-empty', `The ${split} split of ${data.source} has no images.`, {
        hint:
          split === 'test' ? 'Split off a test set first (effnet dataset split --test X), or evaluate on val.' : 'Choose another split.',
      });
    }
    context.emit({ type: 'log', level: 'info', message: `Evaluating ${items.length} ${split} images of ${data.source}.` });
    return evaluate(payload.model, items, {
      root: data.root,
      batchSize: payload.batchSize,
      env: process.env,
      signal: context.signal,
      onProgress: (done, total) => progress('evaluate', done, total),
    });
  },
});
