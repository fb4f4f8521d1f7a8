import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configDiff, flattenConfig } from './config-diff.ts';

interface DiffCase {
  readonly name: string;
  readonly configs: readonly unknown[];
  readonly expected: readonly { key: string; values: readonly unknown[] }[];
}

const cases: DiffCase[] = [
  {
    name: 'identical configs have no differences',
    configs: [
      { lr: 0.001, epochs: 10 },
      { epochs: 10, lr: 0.001 },
    ],
    expected: [],
  },
  {
    name: 'only the differing leaf of a nested object is reported, by dotted key',
    configs: [
      { optimizer: { name: 'adam', lr: 0.001 }, epochs: 10 },
      { optimizer: { name: 'adam', lr: 0.01 }, epochs: 10 },
    ],
    expected: [{ key: 'optimizer.lr', values: [0.001, 0.01] }],
  },
  {
    name: 'a key missing from one config is undefined there',
    configs: [{ mixup: 0.2 }, {}, { mixup: 0.2 }],
    expected: [{ key: 'mixup', values: [0.2, undefined, 0.2] }],
  },
  {
    name: 'null differs from missing',
    configs: [{ seed: null }, {}],
    expected: [{ key: 'seed', values: [null, undefined] }],
  },
  {
    name: 'arrays compare whole, order mattering',
    configs: [{ augment: ['flip', 'crop'] }, { augment: ['crop', 'flip'] }, { augment: ['flip', 'crop'] }],
    expected: [
      {
        key: 'augment',
        values: [
          ['flip', 'crop'],
          ['crop', 'flip'],
          ['flip', 'crop'],
        ],
      },
    ],
  },
  {
    name: 'arrays of objects ignore key order inside',
    configs: [{ stages: [{ a: 1, b: 2 }] }, { stages: [{ b: 2, a: 1 }] }],
    expected: [],
  },
  {
    name: 'an empty object is a value of its own',
    configs: [{ schedule: {} }, { schedule: { warmup: 2 } }],
    expected: [
      { key: 'schedule', values: [{}, undefined] },
      { key: 'schedule.warmup', values: [undefined, 2] },
    ],
  },
  {
    name: 'a leaf that becomes an object',
    configs: [{ lr: 0.1 }, { lr: { start: 0.1, end: 0.001 } }],
    expected: [
      { key: 'lr', values: [0.1, undefined] },
      { key: 'lr.end', values: [undefined, 0.001] },
      { key: 'lr.start', values: [undefined, 0.1] },
    ],
  },
  {
    name: 'types matter: "1" is not 1',
    configs: [{ batch: 1 }, { batch: '1' }],
    expected: [{ key: 'batch', values: [1, '1'] }],
  },
  { name: 'one config has nothing to differ from', configs: [{ a: 1 }], expected: [] },
  { name: 'no configs', configs: [], expected: [] },
];

for (const one of cases) {
  test(`config diff: ${one.name}`, () => {
    assert.deepEqual(configDiff(one.configs), one.expected);
  });
}

test('flattening names every leaf by its dotted path', () => {
  assert.deepEqual(
    [...flattenConfig({ model: { variant: 'b0', head: { dropout: 0.2 } }, tags: ['x'] })],
    [
      ['model.variant', 'b0'],
      ['model.head.dropout', 0.2],
      ['tags', ['x']],
    ],
  );
});
