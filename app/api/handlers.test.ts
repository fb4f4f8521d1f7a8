import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiHandlers, dispatch } from './handlers.ts';

const handlers = createApiHandlers({ env: { EFFNET_HOME: '/tmp/effnet-api-test' } });

test('a valid call returns its value as a Result', async () => {
  const result = await dispatch(handlers, 'models:variants', []);
  assert.ok(result.ok);
  const variants = result.value as { name: string; totalParams: number }[];
  assert.deepEqual(
    variants.map((v) => v.name),
    ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'],
  );
  assert.equal(variants[0]!.totalParams, 5_330_571);
});

test('app:info reports the data folder the CLI uses', async () => {
  const result = await dispatch(handlers, 'app:info', []);
  assert.ok(result.ok);
  assert.equal((result.value as { dataFolder: string }).dataFolder, '/tmp/effnet-api-test');
});

test('unknown channels and bad arguments come back as errors, never as throws', async () => {
  const unknown = await dispatch(handlers, 'fs:readFile', ['/etc/passwd']);
  assert.equal(unknown.ok, false);
  assert.match(!unknown.ok ? unknown.error.message : '', /Unknown API channel 'fs:readFile'/);
  const extra = await dispatch(handlers, 'app:info', ['unexpected']);
  assert.equal(extra.ok, false);
  assert.equal(!extra.ok && extra.error.code, 'invalid-request');
});
