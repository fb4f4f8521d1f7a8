import { test } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import { installNodeUtilShim, REMOVED_UTIL_FUNCTIONS } from './node-util-shim.ts';

const NAMES = Object.keys(REMOVED_UTIL_FUNCTIONS);

/** A corpus with one value of every kind the is* functions tell apart. */
const VALUES: unknown[] = [
  undefined,
  null,
  0,
  Number.NaN,
  1.5,
  '',
  'text',
  true,
  false,
  Symbol('s'),
  10n,
  {},
  [],
  [1, 2],
  () => 1,
  class {},
  new Date(0),
  /re/g,
  new Error('e'),
  new TypeError('t'),
  Object.create(null),
  Buffer.from('ab'),
  new Uint8Array(2),
  new Map(),
  Object.assign(Object.create(Error.prototype), { message: 'fake' }),
];

test('a util object missing the removed functions (as on Node ≥ 23) gets all of them', () => {
  const fake: Record<string, unknown> = { inspect: util.inspect };
  const installed = installNodeUtilShim(fake);
  assert.deepEqual(installed.sort(), [...NAMES].sort());
  // What tfjs-node's compiled CommonJS does at every op (tensorflow/tfjs#8609):
  const util_1 = fake as { isNullOrUndefined: (value: unknown) => boolean; isArray: (value: unknown) => boolean };
  assert.equal((0, util_1.isNullOrUndefined)(null), true);
  assert.equal((0, util_1.isNullOrUndefined)(0), false);
  assert.equal((0, util_1.isArray)([1]), true);
});

test('functions the runtime still has are left untouched', () => {
  const own = () => true;
  const fake: Record<string, unknown> = { isArray: own, isString: own };
  const installed = installNodeUtilShim(fake);
  assert.equal(fake.isArray, own);
  assert.equal(fake.isString, own);
  assert.ok(!installed.includes('isArray') && !installed.includes('isString'));
  assert.equal(installed.length, NAMES.length - 2);
  assert.deepEqual(installNodeUtilShim(fake), [], 'a second install defines nothing');
});

test('on this Node, the real util keeps its own functions and gains only the missing ones', () => {
  const missingBefore = NAMES.filter((name) => typeof (util as unknown as Record<string, unknown>)[name] !== 'function');
  assert.deepEqual(installNodeUtilShim().sort(), missingBefore.sort());
  for (const name of NAMES) assert.equal(typeof (util as unknown as Record<string, unknown>)[name], 'function', name);
});

for (const name of NAMES) {
  test(`shim ${name} behaves as Node's own util.${name} on every kind of value`, (t) => {
    const original = (util as unknown as Record<string, unknown>)[name];
    const shim = REMOVED_UTIL_FUNCTIONS[name]!;
    if (typeof original !== 'function' || original === shim) {
      t.skip(`this Node (${process.version}) has no original util.${name} to compare with`);
      return;
    }
    for (const value of VALUES) {
      assert.equal(shim(value), (original as (value: unknown) => boolean)(value), `${name}(${util.inspect(value)})`);
    }
  });
}
