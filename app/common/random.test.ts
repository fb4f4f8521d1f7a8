import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRandom, randomInt, shuffleInPlace } from './random.ts';

test('createRandom reproduces the published mulberry32 sequence, so saved seeds stay valid', () => {
  // mulberry32(1) and mulberry32(42) from the reference JavaScript implementation.
  const one = createRandom(1);
  assert.equal(one(), 0.6270739405881613);
  const answer = createRandom(42);
  assert.deepEqual([answer(), answer(), answer()], [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
});

test('the same seed gives the same sequence and different seeds differ', () => {
  const take = (seed: number) => {
    const random = createRandom(seed);
    return Array.from({ length: 8 }, () => random());
  };
  assert.deepEqual(take(7), take(7));
  assert.notDeepEqual(take(7), take(8));
  assert.notDeepEqual(take(2 ** 32 + 7), take(7), 'seeds above 2^32 are not truncated to the same state');
  assert.throws(() => createRandom(Number.NaN), RangeError);
});

test('values lie in [0, 1) and are roughly uniform', () => {
  const random = createRandom(123);
  const buckets = new Array<number>(10).fill(0);
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const value = random();
    assert.ok(value >= 0 && value < 1);
    buckets[Math.floor(value * 10)]!++;
  }
  for (const count of buckets) assert.ok(Math.abs(count - n / 10) < n / 50, `bucket count ${count} far from ${n / 10}`);
});

test('randomInt covers both ends and shuffleInPlace is a deterministic permutation', () => {
  const random = createRandom(5);
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(randomInt(random, 3, 6));
  assert.deepEqual([...seen].sort(), [3, 4, 5, 6]);
  const a = shuffleInPlace([...Array(20).keys()], createRandom(9));
  const b = shuffleInPlace([...Array(20).keys()], createRandom(9));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, [...Array(20).keys()]);
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    [...Array(20).keys()],
  );
});
