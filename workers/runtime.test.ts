/**
 * The worker side of the protocol, talking to a real worker process (the inspect worker) without
 * the job manager: what it does with messages it must refuse, and how its errors come back as data.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerScript } from '../app/jobs/entries.ts';
import { ChildProcessSpawner } from '../app/jobs/spawner.ts';
import { parseWorkerMessage, PROTOCOL_VERSION, type WorkerMessage } from '../app/common/protocol.ts';

interface Conversation {
  readonly messages: WorkerMessage[];
  readonly code: number | null;
}

/** Starts the inspect worker, answers its `ready` with `reply`, and collects what it says until it exits. */
function converse(reply: unknown): Promise<Conversation> {
  const worker = new ChildProcessSpawner().spawn(workerScript('inspect'));
  const messages: WorkerMessage[] = [];
  return new Promise((resolve) => {
    worker.onMessage((raw) => {
      const message = parseWorkerMessage(raw);
      messages.push(message);
      if (message.type === 'ready') worker.send(reply as never);
    });
    worker.onExit((code) => resolve({ messages, code }));
  });
}

const v = PROTOCOL_VERSION;
// [what the parent sends, expected error code, text in the error message]
const REFUSED: [string, unknown, string, RegExp][] = [
  [
    'a start from another protocol version',
    { protocolVersion: v + 1, type: 'start', job: { kind: 'inspect', payload: { dataset: '/x' } } },
    'protocol-version',
    new RegExp(`The job manager speaks message protocol version ${v + 1}, but this side speaks version ${v}`),
  ],
  [
    'an unknown message type',
    { protocolVersion: v, type: 'explode' },
    'protocol-unsupported',
    /Unsupported message type 'explode' from the parent/,
  ],
  [
    'a start with an empty dataset path',
    { protocolVersion: v, type: 'start', job: { kind: 'inspect', payload: { dataset: '' } } },
    'protocol-invalid',
    /job\.payload\.dataset/,
  ],
  [
    'a job of another kind',
    { protocolVersion: v, type: 'start', job: { kind: 'train', payload: { config: {}, runDir: '/tmp/r' } } },
    'internal',
    /This is the inspect worker; it cannot run a train job/,
  ],
  [
    'a dataset that does not exist (an AppError, with its hint)',
    { protocolVersion: v, type: 'start', job: { kind: 'inspect', payload: { dataset: '/no/such/dataset' } } },
    'not-found',
    /Dataset \/no\/such\/dataset does not exist/,
  ],
];

for (const [what, reply, code, message] of REFUSED) {
  test(`the worker answers ${what} with a failed message and exits 1`, async () => {
    const conversation = await converse(reply);
    assert.equal(conversation.messages[0]?.type, 'ready');
    const last = conversation.messages.at(-1)!;
    assert.equal(last.type, 'failed', JSON.stringify(conversation.messages));
    assert.ok(last.type === 'failed');
    assert.equal(last.code, code);
    assert.match(last.message, message);
    if (code === 'not-found') assert.match(last.hint ?? '', /Check the path/);
    assert.equal(conversation.code, 1);
  });
}

test('a worker started by hand (no parent channel) says what it is and exits 2', async () => {
  const { spawnSync } = await import('node:child_process');
  const { script, args } = workerScript('inspect');
  const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /This is an EffNet Studio worker: the job manager starts it/);
});
