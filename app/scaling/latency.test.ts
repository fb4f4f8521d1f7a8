import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveBase, scaleBase } from '../common/scaling-lab.ts';
import { measureLatency } from './latency.ts';

test('measures a positive, finite latency per network on the inference backend', async () => {
  const base = resolveBase('phi:-8', 32);
  const bigger = scaleBase(base, { alpha: 1, beta: 1.4, gamma: 1.4 });
  const measured: number[] = [];
  const report = await measureLatency([base, bigger], 3, { runs: 3, onMeasured: (index) => measured.push(index) });
  console.log(`latency on ${report.device} (${report.backend}): ${report.ms.map((ms) => ms.toFixed(2)).join(' ms, ')} ms`);
  assert.equal(report.ms.length, 2);
  assert.deepEqual(measured, [0, 1]);
  for (const ms of report.ms) assert.ok(Number.isFinite(ms) && ms > 0);
  assert.ok(['wasm', 'cpu', 'tensorflow'].includes(report.backend));
});
