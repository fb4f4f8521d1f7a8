import assert from 'node:assert/strict';
import { test } from 'node:test';
import { learningRateAt, warmupStepsFor, type ScheduleSettings } from './schedule.ts';

const COSINE: ScheduleSettings = { name: 'cosine', learningRate: 0.1, minLearningRate: 0, warmupSteps: 0, totalSteps: 100 };

const CASES: { name: string; settings: ScheduleSettings; step: number; expected: number }[] = [
  { name: 'cosine starts at the base rate', settings: COSINE, step: 0, expected: 0.1 },
  { name: 'cosine is at half the rate halfway', settings: COSINE, step: 50, expected: 0.05 },
  { name: 'cosine at a quarter', settings: COSINE, step: 25, expected: 0.05 * (1 + Math.cos(Math.PI / 4)) },
  { name: 'cosine ends at the minimum', settings: { ...COSINE, minLearningRate: 0.01 }, step: 100, expected: 0.01 },
  { name: 'cosine does not go past its end', settings: COSINE, step: 150, expected: 0 },
  { name: 'warmup starts at base/warmup', settings: { ...COSINE, warmupSteps: 10 }, step: 0, expected: 0.01 },
  { name: 'warmup is linear', settings: { ...COSINE, warmupSteps: 10 }, step: 4, expected: 0.05 },
  { name: 'warmup reaches the base rate on its last step', settings: { ...COSINE, warmupSteps: 10 }, step: 9, expected: 0.1 },
  { name: 'cosine decays over the steps after warmup', settings: { ...COSINE, warmupSteps: 10 }, step: 55, expected: 0.05 },
  { name: 'constant after warmup', settings: { ...COSINE, name: 'constant', warmupSteps: 4 }, step: 80, expected: 0.1 },
  { name: 'constant warmup', settings: { ...COSINE, name: 'constant', warmupSteps: 4 }, step: 1, expected: 0.05 },
];

for (const { name, settings, step, expected } of CASES) {
  test(name, () =>
    assert.ok(Math.abs(learningRateAt(step, settings) - expected) < 1e-12, `${learningRateAt(step, settings)} vs ${expected}`),
  );
}

test('warmup epochs become steps, never more than the run', () => {
  assert.equal(warmupStepsFor(1.5, 10, 100), 15);
  assert.equal(warmupStepsFor(0, 10, 100), 0);
  assert.equal(warmupStepsFor(20, 10, 100), 100);
});

test('the rate is a pure function of the step (what resuming relies on)', () => {
  const settings = { ...COSINE, warmupSteps: 7, totalSteps: 40 };
  const forward = Array.from({ length: 40 }, (_, step) => learningRateAt(step, settings));
  const again = Array.from({ length: 40 }, (_, i) => learningRateAt(39 - i, settings)).reverse();
  assert.deepEqual(forward, again);
  assert.ok(forward.every((rate) => rate > 0 && rate <= 0.1));
});
