import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../common/errors.ts';
import {
  ladderOrder,
  nextStep,
  parseBackendName,
  rungStatuses,
  type BackendName,
  type LadderRequest,
  type ProbeResult,
} from './decision.ts';

const OK = (device: string): ProbeResult => ({ ok: true, device });
const NO = (reason: string): ProbeResult => ({ ok: false, reason, hint: `fix ${reason}` });

/** Drives the step function as ladder.ts does; records which rungs were probed, in order. */
function drive(request: LadderRequest, machine: Record<BackendName, ProbeResult>) {
  const probes: Partial<Record<BackendName, ProbeResult>> = {};
  const probed: BackendName[] = [];
  for (let i = 0; i < 10; i++) {
    const step = nextStep(request, probes);
    if (step.kind !== 'probe') return { step, probed, probes };
    probed.push(step.rung);
    probes[step.rung] = machine[step.rung];
  }
  throw new Error('the ladder did not finish');
}

const LINUX_GPU = { gpu: OK('GPU: RTX'), node: OK('libtf'), wasm: OK('wasm'), cpu: OK('js') };
const LINUX_NO_CUDA = { gpu: NO('no cudnn'), node: OK('libtf'), wasm: OK('wasm'), cpu: OK('js') };
const PLAIN_NPM = { gpu: NO('gpu not installed'), node: NO('node not installed'), wasm: OK('wasm'), cpu: OK('js') };
const BROKEN_WASM = { gpu: NO('gpu not installed'), node: NO('node not installed'), wasm: NO('wasm file missing'), cpu: OK('js') };

const CASES: {
  name: string;
  request: LadderRequest;
  machine: Record<BackendName, ProbeResult>;
  probed: BackendName[];
  outcome: { kind: 'chosen' | 'failed'; rung: BackendName };
}[] = [
  {
    name: 'a working GPU wins and nothing else is loaded',
    request: {},
    machine: LINUX_GPU,
    probed: ['gpu'],
    outcome: { kind: 'chosen', rung: 'gpu' },
  },
  {
    name: 'no cuDNN falls to tfjs-node',
    request: {},
    machine: LINUX_NO_CUDA,
    probed: ['gpu', 'node'],
    outcome: { kind: 'chosen', rung: 'node' },
  },
  {
    name: 'plain npm install falls to wasm',
    request: {},
    machine: PLAIN_NPM,
    probed: ['gpu', 'node', 'wasm'],
    outcome: { kind: 'chosen', rung: 'wasm' },
  },
  {
    name: 'a broken wasm install falls to cpu',
    request: {},
    machine: BROKEN_WASM,
    probed: ['gpu', 'node', 'wasm', 'cpu'],
    outcome: { kind: 'chosen', rung: 'cpu' },
  },
  {
    name: 'forced cpu skips a working GPU',
    request: { forced: 'cpu' },
    machine: LINUX_GPU,
    probed: ['cpu'],
    outcome: { kind: 'chosen', rung: 'cpu' },
  },
  {
    name: 'forced wasm probes only wasm',
    request: { forced: 'wasm' },
    machine: PLAIN_NPM,
    probed: ['wasm'],
    outcome: { kind: 'chosen', rung: 'wasm' },
  },
  {
    name: 'forced gpu without CUDA fails, no fallback',
    request: { forced: 'gpu' },
    machine: LINUX_NO_CUDA,
    probed: ['gpu'],
    outcome: { kind: 'failed', rung: 'gpu' },
  },
  {
    name: 'forced node not installed fails',
    request: { forced: 'node' },
    machine: PLAIN_NPM,
    probed: ['node'],
    outcome: { kind: 'failed', rung: 'node' },
  },
  {
    name: 'forced wasm that is broken fails',
    request: { forced: 'wasm' },
    machine: BROKEN_WASM,
    probed: ['wasm'],
    outcome: { kind: 'failed', rung: 'wasm' },
  },
  {
    name: 'prefer wasm tries wasm first',
    request: { prefer: 'wasm' },
    machine: LINUX_GPU,
    probed: ['wasm'],
    outcome: { kind: 'chosen', rung: 'wasm' },
  },
  {
    name: 'prefer node falls back down the ladder',
    request: { prefer: 'node' },
    machine: PLAIN_NPM,
    probed: ['node', 'gpu', 'wasm'],
    outcome: { kind: 'chosen', rung: 'wasm' },
  },
];

for (const c of CASES) {
  test(`ladder: ${c.name}`, () => {
    const { step, probed } = drive(c.request, c.machine);
    assert.deepEqual(probed, c.probed);
    assert.equal(step.kind, c.outcome.kind);
    assert.equal(step.rung, c.outcome.rung);
    if (step.kind === 'failed') {
      const probe = c.machine[step.rung] as Extract<ProbeResult, { ok: false }>;
      assert.equal(step.reason, probe.reason);
      assert.equal(step.hint, probe.hint);
    }
    if (step.kind === 'chosen') assert.equal(step.device, (c.machine[step.rung] as Extract<ProbeResult, { ok: true }>).device);
  });
}

test('the report gives every rung a status: chosen, failed with its reason, or not tried and why', () => {
  const { probes } = drive({}, LINUX_NO_CUDA);
  const statuses = rungStatuses({}, probes, 'node');
  assert.deepEqual(
    statuses.map((s) => [s.rung, s.status]),
    [
      ['gpu', 'failed'],
      ['node', 'chosen'],
      ['wasm', 'not-tried'],
      ['cpu', 'not-tried'],
    ],
  );
  assert.equal(statuses[0]!.status === 'failed' && statuses[0]!.reason, 'no cudnn');
  const forced = rungStatuses({ forced: 'cpu' }, { cpu: OK('js') }, 'cpu');
  assert.match(forced[0]!.status === 'not-tried' ? forced[0]!.reason : '', /EFFNET_BACKEND forces 'cpu'/);
});

test('ladder order: full ladder, forced rung alone, preferred rung first', () => {
  assert.deepEqual(ladderOrder({}), ['gpu', 'node', 'wasm', 'cpu']);
  assert.deepEqual(ladderOrder({ forced: 'node' }), ['node']);
  assert.deepEqual(ladderOrder({ prefer: 'cpu' }), ['cpu', 'gpu', 'node', 'wasm']);
});

const NAMES: [string | undefined, BackendName | undefined][] = [
  [undefined, undefined],
  ['', undefined],
  ['  auto ', undefined],
  ['gpu', 'gpu'],
  ['GPU', 'gpu'],
  ['tfjs-node-gpu', 'gpu'],
  ['cuda', 'gpu'],
  ['node', 'node'],
  ['tensorflow', 'node'],
  ['tfjs-node', 'node'],
  [' wasm', 'wasm'],
  ['cpu', 'cpu'],
];

for (const [value, expected] of NAMES) {
  test(`EFFNET_BACKEND=${JSON.stringify(value)} means ${expected ?? 'choose automatically'}`, () => {
    assert.equal(parseBackendName(value), expected);
  });
}

for (const value of ['webgl', 'gpu0', 'tfjs']) {
  test(`EFFNET_BACKEND=${value} is rejected with the accepted values`, () => {
    assert.throws(
      () => parseBackendName(value),
      (error: unknown) =>
        error instanceof AppError &&
        error.code === 'backend-invalid' &&
        error.message.includes(value) &&
        /gpu, node, wasm, cpu/.test(error.hint ?? ''),
    );
  });
}
