import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from './errors.ts';
import {
  PARENT_MESSAGE_TYPES,
  parseParentMessage,
  parseWorkerMessage,
  PROTOCOL_VERSION,
  ProtocolError,
  unsupported,
  WORKER_MESSAGE_TYPES,
  type ParentMessage,
  type WorkerMessage,
} from './protocol.ts';

const v = PROTOCOL_VERSION;
const sha = 'ab'.repeat(32);

/** One valid example of every worker message type (a test below checks the table covers them all). */
const GOOD_WORKER: readonly WorkerMessage[] = [
  { protocolVersion: v, type: 'ready', pid: 4242, kind: 'train' },
  { protocolVersion: v, type: 'started', backend: 'cpu', device: 'CPU (JavaScript)' },
  {
    protocolVersion: v,
    type: 'started',
    backend: 'wasm',
    device: 'CPU (WebAssembly, SIMD)',
    details: { mode: 'head', classes: ['a', 'b'] },
  },
  { protocolVersion: v, type: 'progress', phase: 'scan', step: 10, steps: 300 },
  {
    protocolVersion: v,
    type: 'progress',
    phase: 'train',
    epoch: 2,
    step: 3,
    steps: 8,
    globalStep: 11,
    loss: null,
    learningRate: 0.001,
    imagesPerSecond: 40.5,
    etaSeconds: null,
  },
  { protocolVersion: v, type: 'epoch', epoch: 1, metrics: { loss: 0.9, val_accuracy: 0.5, val_loss: null } },
  {
    protocolVersion: v,
    type: 'epoch',
    epoch: 3,
    epochs: 5,
    best: true,
    metrics: { accuracy: 1 },
    perClass: [{ label: 'cat', precision: 1, recall: 0.5, f1: 0.667, support: 2 }],
    confusion: {
      labels: ['cat', 'dog'],
      matrix: [
        [1, 1],
        [0, 2],
      ],
    },
  },
  { protocolVersion: v, type: 'checkpoint', epoch: 2, step: 8, path: '/runs/3/last', best: false, sha256: sha, bytes: 1234 },
  { protocolVersion: v, type: 'log', level: 'info', message: 'computing embeddings' },
  { protocolVersion: v, type: 'warning', code: 'small-class', message: 'class x has 1 image', details: { class: 'x' } },
  { protocolVersion: v, type: 'finished', cancelled: false, summary: { epochs: 3 } },
  { protocolVersion: v, type: 'finished', cancelled: true, summary: null },
  { protocolVersion: v, type: 'failed', code: 'not-found', message: 'Dataset /x does not exist', hint: 'Check the path.' },
];

const GOOD_PARENT: readonly ParentMessage[] = [
  { protocolVersion: v, type: 'start', job: { kind: 'inspect', payload: { dataset: '/data/flowers' } } },
  { protocolVersion: v, type: 'start', job: { kind: 'inspect', payload: { dataset: '/data/flowers', concurrency: 4 } } },
  {
    protocolVersion: v,
    type: 'start',
    job: { kind: 'export', payload: { source: '12', format: 'onnx', outDir: '/out', quantization: 'uint8' } },
  },
  { protocolVersion: v, type: 'start', job: { kind: 'classify', payload: { model: '/m/model.onnx', inputs: ['/photos'], topK: 3 } } },
  {
    protocolVersion: v,
    type: 'start',
    job: { kind: 'train', payload: { config: { epochs: 3 }, runDir: '/runs/1', resumeFrom: '/runs/0/last' } },
  },
  { protocolVersion: v, type: 'start', job: { kind: 'evaluate', payload: { model: '/runs/1/model', dataset: '/data/x', split: 'test' } } },
  { protocolVersion: v, type: 'cancel' },
  { protocolVersion: v, type: 'pause' },
  { protocolVersion: v, type: 'resume' },
];

/** [what is wrong, message, error code, text the error message contains] */
const BAD_WORKER: readonly [string, unknown, string, string][] = [
  ['not an object', 'ready', 'protocol-invalid', 'not an object'],
  ['null', null, 'protocol-invalid', 'not an object'],
  ['an array', [1], 'protocol-invalid', 'not an object (an array)'],
  ['no version', { type: 'ready', pid: 1, kind: 'train' }, 'protocol-version', 'version none'],
  [
    'an older version',
    { protocolVersion: v - 1, type: 'log', level: 'info', message: 'x' },
    'protocol-version',
    `version ${v - 1}, but this side speaks version ${v}`,
  ],
  ['a newer version', { protocolVersion: v + 1, type: 'log', level: 'info', message: 'x' }, 'protocol-version', `version ${v + 1}`],
  ['the version as text', { protocolVersion: String(v), type: 'log', level: 'info', message: 'x' }, 'protocol-version', `version "${v}"`],
  ['no type', { protocolVersion: v }, 'protocol-invalid', 'without a type'],
  ['an unknown type', { protocolVersion: v, type: 'explode' }, 'protocol-unsupported', "Unsupported message type 'explode'"],
  ['a parent type', { protocolVersion: v, type: 'cancel' }, 'protocol-unsupported', "Unsupported message type 'cancel'"],
  ['an inherited name as type', { protocolVersion: v, type: 'toString' }, 'protocol-unsupported', "'toString'"],
  ['an unknown job kind', { protocolVersion: v, type: 'ready', pid: 1, kind: 'publish' }, 'protocol-invalid', 'kind'],
  ['started without a device', { protocolVersion: v, type: 'started', backend: 'cpu' }, 'protocol-invalid', 'device'],
  ['a negative step', { protocolVersion: v, type: 'progress', phase: 'train', step: -1, steps: 3 }, 'protocol-invalid', 'step'],
  ['a fractional step', { protocolVersion: v, type: 'progress', phase: 'train', step: 1.5, steps: 3 }, 'protocol-invalid', 'step'],
  ['a metric as text', { protocolVersion: v, type: 'epoch', epoch: 1, metrics: { loss: '0.5' } }, 'protocol-invalid', 'metrics.loss'],
  ['a metric with no name', { protocolVersion: v, type: 'epoch', epoch: 1, metrics: { '': 1 } }, 'protocol-invalid', 'metrics'],
  [
    'a bad checkpoint hash',
    { protocolVersion: v, type: 'checkpoint', epoch: 1, step: 1, path: '/x', best: false, sha256: 'xyz', bytes: 1 },
    'protocol-invalid',
    'sha256',
  ],
  ['an unknown field', { protocolVersion: v, type: 'log', level: 'info', message: 'x', colour: 'red' }, 'protocol-invalid', 'colour'],
  ['a bad log level', { protocolVersion: v, type: 'log', level: 'shout', message: 'x' }, 'protocol-invalid', 'level'],
  ['finished without cancelled', { protocolVersion: v, type: 'finished', summary: {} }, 'protocol-invalid', 'cancelled'],
  ['failed without a code', { protocolVersion: v, type: 'failed', message: 'boom' }, 'protocol-invalid', 'code'],
];

const BAD_PARENT: readonly [string, unknown, string, string][] = [
  [
    'a mismatched version',
    { protocolVersion: 99, type: 'cancel' },
    'protocol-version',
    'The job manager speaks message protocol version 99',
  ],
  ['an unknown type', { protocolVersion: v, type: 'shutdown' }, 'protocol-unsupported', "Unsupported message type 'shutdown'"],
  ['a worker type', { protocolVersion: v, type: 'finished', cancelled: false, summary: null }, 'protocol-unsupported', "'finished'"],
  ['start without a job', { protocolVersion: v, type: 'start' }, 'protocol-invalid', 'job'],
  ['an unknown job kind', { protocolVersion: v, type: 'start', job: { kind: 'publish', payload: {} } }, 'protocol-invalid', 'job.kind'],
  [
    'an export format that does not exist',
    { protocolVersion: v, type: 'start', job: { kind: 'export', payload: { source: '12', format: 'tflite', outDir: '/out' } } },
    'protocol-invalid',
    'job.payload.format',
  ],
  [
    'a classify job with nothing to classify',
    { protocolVersion: v, type: 'start', job: { kind: 'classify', payload: { model: '/m', inputs: [] } } },
    'protocol-invalid',
    'job.payload.inputs',
  ],
  [
    'a payload of another kind',
    { protocolVersion: v, type: 'start', job: { kind: 'inspect', payload: { config: {}, runDir: '/r' } } },
    'protocol-invalid',
    'job.payload',
  ],
  [
    'an empty dataset path',
    { protocolVersion: v, type: 'start', job: { kind: 'inspect', payload: { dataset: '' } } },
    'protocol-invalid',
    'job.payload.dataset',
  ],
  [
    'a bad split',
    { protocolVersion: v, type: 'start', job: { kind: 'evaluate', payload: { model: '/m', dataset: '/d', split: 'dev' } } },
    'protocol-invalid',
    'split',
  ],
  ['cancel with extra fields', { protocolVersion: v, type: 'cancel', now: true }, 'protocol-invalid', 'now'],
];

describe('worker → parent messages', () => {
  for (const message of GOOD_WORKER) {
    test(`accepts ${message.type} ${JSON.stringify(message).slice(0, 60)}`, () => {
      assert.deepEqual(parseWorkerMessage(structuredClone(message)), message);
    });
  }
  for (const [what, raw, code, text] of BAD_WORKER) {
    test(`rejects ${what}`, () => {
      assert.throws(
        () => parseWorkerMessage(raw),
        (error: unknown) => error instanceof ProtocolError && error.code === code && error.message.includes(text),
      );
    });
  }
  test('the table has an example of every message type', () => {
    assert.deepEqual(new Set(GOOD_WORKER.map((m) => m.type)), new Set(WORKER_MESSAGE_TYPES));
  });
  test('a NaN metric crosses JSON as null and is accepted', () => {
    const sent = JSON.parse(JSON.stringify({ protocolVersion: v, type: 'epoch', epoch: 1, metrics: { loss: Number.NaN } }));
    assert.deepEqual(parseWorkerMessage(sent), { protocolVersion: v, type: 'epoch', epoch: 1, metrics: { loss: null } });
  });
});

describe('parent → worker messages', () => {
  for (const message of GOOD_PARENT) {
    test(`accepts ${message.type} ${JSON.stringify(message).slice(0, 70)}`, () => {
      assert.deepEqual(parseParentMessage(structuredClone(message)), message);
    });
  }
  for (const [what, raw, code, text] of BAD_PARENT) {
    test(`rejects ${what}`, () => {
      assert.throws(
        () => parseParentMessage(raw),
        (error: unknown) => error instanceof ProtocolError && error.code === code && error.message.includes(text),
      );
    });
  }
  test('the table has an example of every message type', () => {
    assert.deepEqual(new Set(GOOD_PARENT.map((m) => m.type)), new Set(PARENT_MESSAGE_TYPES));
  });
});

test('a version mismatch says what to do and survives as error data', () => {
  try {
    parseWorkerMessage({ protocolVersion: v + 1, type: 'ready', pid: 1, kind: 'train' });
    assert.fail('expected a ProtocolError');
  } catch (error) {
    assert.ok(error instanceof AppError);
    assert.match(error.hint ?? '', /different builds/);
    const back = AppError.fromData(JSON.parse(JSON.stringify(error.toData())));
    assert.equal(back.code, 'protocol-version');
    assert.deepEqual(back.details, { from: 'worker', expected: v, received: v + 1 });
  }
});

test("a receiver's default branch rejects a type it does not know", () => {
  const message = { protocolVersion: v, type: 'teleport' } as unknown as never;
  assert.throws(() => unsupported(message, 'parent'), /Unsupported message type 'teleport' from the parent/);
});
