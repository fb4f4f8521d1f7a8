// The renderer's pure helpers: axis ticks, per-class scores, the New run form and the live view.
import { describe, expect, it } from 'vitest';
import { trainConfigSchema } from '../../../app/common/train-config.ts';
import { extent, niceTicks } from './chart.ts';
import { accuracy, classScores } from './classification.ts';
import { EMPTY_LIVE, formatEta, reduceLive, LOG_LINES } from './live-run.ts';
import { defaultForm, formWarnings, suggestedLearningRate, toConfig, validateForm } from './new-run.ts';

describe('chart axes', () => {
  it.each([
    [
      [0.35, 0.97],
      [0.2, 1],
    ],
    [
      [0.25, 1.9],
      [0, 2],
    ],
    [
      [5, 5],
      [4.5, 5.5],
    ],
  ])('extent of %j is %j, whole ticks at both ends', (values, expected) => {
    const domain = extent(values);
    expect(domain).toEqual(expected);
    const ticks = niceTicks(domain[0], domain[1], 4);
    expect(ticks[0]).toBe(domain[0]);
    expect(ticks.at(-1)).toBe(domain[1]);
  });
  it('ticks step by 1, 2, 2.5 or 5 × 10ⁿ', () => {
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
  });
});

describe('per-class scores from a confusion matrix', () => {
  // rows: true class; columns: predicted.
  const classes = ['cat', 'dog', 'fox'];
  const matrix = [
    [8, 2, 0],
    [1, 9, 0],
    [0, 0, 0],
  ];
  it('computes precision, recall and F1 per class', () => {
    const [cat, dog, fox] = classScores(classes, matrix);
    expect(cat).toMatchObject({ support: 10, precision: 8 / 9, recall: 0.8 });
    expect(cat!.f1).toBeCloseTo((2 * (8 / 9) * 0.8) / (8 / 9 + 0.8));
    expect(dog).toMatchObject({ support: 10, precision: 9 / 11, recall: 0.9 });
    // A class never predicted and with no images has undefined scores, not zeros.
    expect(fox).toMatchObject({ support: 0, precision: null, recall: null, f1: null });
    expect(accuracy(matrix)).toBeCloseTo(17 / 20);
  });
});

describe('the New run form', () => {
  it('defaults to a valid config the trainer accepts', () => {
    const form = { ...defaultForm('/data/flowers') };
    expect(validateForm(form)).toEqual({});
    const parsed = trainConfigSchema.parse(toConfig(form));
    expect(parsed.model.variant).toBe('b0');
    expect(parsed.mode).toBe('head');
    expect(parsed.optimizer.learningRate).toBe(0.001);
    expect(parsed.earlyStopping.patience).toBeNull();
  });
  it.each([
    [{ dataset: '' }, 'dataset', /Choose a dataset/],
    [{ learningRate: 0 }, 'learningRate', /0/],
    [{ variant: 'custom', phi: 12, weights: 'none' as const }, 'variant', /between −4 and 8/],
    [{ variant: 'custom', phi: 1, weights: 'imagenet' as const }, 'weights', /B0–B7 only/],
    [{ resolution: 8 }, 'resolution', /32/],
  ])('%j is reported on the %s field', (change, field, message) => {
    const problems = validateForm({ ...defaultForm('/data'), ...change });
    expect(problems[field]).toMatch(message);
  });
  it('a custom φ becomes phi:X, and empty optional fields stay defaults', () => {
    const config = toConfig({ ...defaultForm('/data'), variant: 'custom', phi: -2, weights: 'none', resolution: 32, seed: 7 });
    expect(config.model).toMatchObject({ variant: 'phi:-2', weights: 'none', resolution: 32 });
    expect(config.seed).toBe(7);
    expect(toConfig(defaultForm('/data')).seed).toBeUndefined();
  });
  it('warns when the ImageNet weights are not downloaded, naming the command', () => {
    const warnings = formWarnings(defaultForm('/data'), { cached: false, fetchCommand: 'effnet weights fetch b0 --notop' });
    expect(warnings.join(' ')).toContain('effnet weights fetch b0 --notop');
    expect(formWarnings(defaultForm('/data'), { cached: true, fetchCommand: '' })).toEqual([]);
  });
  it("suggests the trainer's higher from-scratch learning rate only for full training from random weights", () => {
    expect(suggestedLearningRate('full', 'none')).toBe(1e-2);
    expect(suggestedLearningRate('full', 'imagenet')).toBe(1e-3);
    expect(suggestedLearningRate('finetune', 'none')).toBe(1e-4);
    const scratch = { ...defaultForm('/data'), mode: 'full' as const, weights: 'none' as const, learningRate: 1e-2 };
    expect(formWarnings(scratch, null)).toEqual([]);
    expect(formWarnings({ ...scratch, weights: 'imagenet' }, { cached: true, fetchCommand: '' }).join(' ')).toContain(
      'destroys pretrained',
    );
  });
});

describe('the live view of a run', () => {
  it('folds progress, epochs, pauses and the end into what the panel shows', () => {
    let state = reduceLive(EMPTY_LIVE, { type: 'status', status: 'queued', paused: false, message: null }, 1);
    state = reduceLive(state, { type: 'started', backend: 'cpu', device: 'CPU (plain JavaScript)' }, 2);
    state = reduceLive(
      state,
      {
        type: 'progress',
        phase: 'train',
        epoch: 1,
        epochs: 2,
        step: 3,
        steps: 4,
        loss: 1.5,
        globalStep: 3,
        imagesPerSecond: 12.5,
        etaSeconds: 90,
      },
      3,
    );
    expect(state).toMatchObject({ status: 'running', epoch: 1, epochs: 2, step: 3, steps: 4, imagesPerSecond: 12.5, etaSeconds: 90 });
    expect(state.stepLoss).toEqual([{ x: 3, y: 1.5 }]);
    state = reduceLive(state, { type: 'epoch', epoch: 1, epochs: 2, metrics: { loss: 1.2, val_accuracy: 0.5 }, best: true }, 4);
    expect(state.log.at(-1)!.text).toBe('Epoch 1/2: loss 1.2000, val_accuracy 50.0% (best so far)');
    state = reduceLive(state, { type: 'status', status: 'running', paused: true, message: null }, 5);
    expect(state.paused).toBe(true);
    expect(state.log.at(-1)!.text).toBe('Paused.');
    state = reduceLive(state, { type: 'failed', code: 'oom', message: 'Out of memory.', hint: 'Lower the batch size.' }, 6);
    expect(state.status).toBe('failed');
    expect(state.log.at(-1)).toMatchObject({ level: 'error', text: 'Failed: Out of memory. Lower the batch size.' });
  });
  it('keeps only the newest log lines', () => {
    let state = EMPTY_LIVE;
    for (let i = 0; i < LOG_LINES + 20; i++) state = reduceLive(state, { type: 'log', level: 'info', message: `line ${i}` }, i);
    expect(state.log).toHaveLength(LOG_LINES);
    expect(state.log.at(-1)!.text).toBe(`line ${LOG_LINES + 19}`);
  });
  it.each([
    [null, '—'],
    [42, '42 s'],
    [125, '2 min 05 s'],
    [7260, '2 h 01 min'],
  ])('ETA %s reads %s', (seconds, text) => expect(formatEta(seconds)).toBe(text));
});
