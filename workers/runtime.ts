/**
 * What every worker process shares: the handshake (`ready`, then the parent's `start`), validation
 * of every message both ways, `cancel`/`pause`/`resume`, exceptions turned into `failed` messages
 * (errors are data across the boundary, STYLE.md §6), and a clean exit once the last message is out.
 *
 * A worker runs under child_process.fork (Node's IPC channel, `process.send`) or under Electron's
 * utilityProcess.fork (`process.parentPort`); `connect()` picks whichever exists.
 */
import { toErrorData } from '../app/common/errors.ts';
import {
  jobSchema,
  parseParentMessage,
  parseWorkerMessage,
  unsupported,
  versioned,
  type JobKind,
  type JobPayload,
  type ParentMessage,
  type WorkerEventInput,
  type WorkerMessage,
} from '../app/common/protocol.ts';

export interface JobContext {
  /** Aborted by `cancel` (or the parent going away): stop after the current step, save, return. */
  readonly signal: AbortSignal;
  /** Resolves at once unless the job is paused; then when it is resumed or cancelled. */
  pauseGate(): Promise<void>;
  /** Sends one event to the parent (validated here first, so a malformed event fails in the job). */
  emit(event: WorkerEventInput): void;
}

export interface JobDefinition<K extends JobKind> {
  readonly kind: K;
  /** Does the job; resolves to its summary (JSON). It emits `started` once it knows its backend and device. */
  run(payload: JobPayload<K>, context: JobContext): Promise<unknown>;
}

/** The channel to the parent process, whichever kind of process this is. */
interface ParentPort {
  send(message: WorkerMessage): Promise<void>;
  onMessage(listener: (raw: unknown) => void): void;
  onDisconnect(listener: () => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

function connect(): ParentPort {
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort) {
    return {
      send: async (message) => electronPort.postMessage(message),
      onMessage: (listener) => electronPort.on('message', (event) => listener(event.data)),
      // Electron ends utility processes with their parent; nothing to watch.
      onDisconnect: () => undefined,
    };
  }
  if (process.send) {
    return {
      send: (message) =>
        new Promise((resolve, reject) => {
          if (!process.connected) return reject(new Error('the parent process has gone'));
          process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
        }),
      onMessage: (listener) => process.on('message', listener),
      onDisconnect: (listener) => process.on('disconnect', listener),
    };
  }
  process.stderr.write('This is an EffNet Studio worker: the job manager starts it (see app/jobs/manager.ts).\n');
  process.exit(2);
}

/** Runs one job in this process, then exits: 0 after `finished`, 1 after `failed`. */
export function runWorker<K extends JobKind>(definition: JobDefinition<K>): void {
  const port = connect();
  const cancel = new AbortController();
  let resumeWaiters: (() => void)[] = [];
  let paused = false;
  let started = false;
  let lastSend: Promise<void> = Promise.resolve();
  let ending = false;

  const send = (message: WorkerMessage) => {
    lastSend = lastSend.then(() => port.send(message)).catch(() => undefined);
  };
  const release = () => {
    paused = false;
    const waiters = resumeWaiters;
    resumeWaiters = [];
    for (const wake of waiters) wake();
  };
  const exit = async (code: number) => {
    await lastSend;
    process.exit(code);
  };
  const fail = (error: unknown) => {
    if (ending) return;
    ending = true;
    send(versioned({ type: 'failed' as const, ...toErrorData(error) }));
    void exit(1);
  };
  const context: JobContext = {
    signal: cancel.signal,
    pauseGate: () => (paused && !cancel.signal.aborted ? new Promise((resolve) => resumeWaiters.push(resolve)) : Promise.resolve()),
    // Validated in the form that crosses the channel: JSON turns NaN into null, drops undefined.
    emit: (event) => send(parseWorkerMessage(JSON.parse(JSON.stringify(versioned(event))))),
  };

  const start = async (job: ParentMessage & { type: 'start' }) => {
    if (started) throw new Error('The job manager sent a second start message to the same worker.');
    started = true;
    if (job.job.kind !== definition.kind) {
      throw new Error(`This is the ${definition.kind} worker; it cannot run a ${job.job.kind} job.`);
    }
    const payload = jobSchema.parse(job.job).payload as JobPayload<K>;
    let summary: unknown;
    try {
      summary = await definition.run(payload, context);
    } catch (error) {
      // A job stopped by `cancel` may end by throwing its own "cancelled" error: that is a cancel, not a failure.
      if (!(cancel.signal.aborted && toErrorData(error).code === 'cancelled')) throw error;
      summary = null;
    }
    if (ending) return;
    ending = true;
    send(versioned({ type: 'finished' as const, cancelled: cancel.signal.aborted, summary: toJson(summary) }));
    await exit(0);
  };

  const handle = (message: ParentMessage) => {
    switch (message.type) {
      case 'start':
        start(message).catch(fail);
        return;
      case 'cancel':
        cancel.abort();
        release();
        return;
      case 'pause':
        paused = true;
        return;
      case 'resume':
        release();
        return;
      default:
        unsupported(message, 'parent');
    }
  };

  port.onMessage((raw) => {
    try {
      handle(parseParentMessage(raw));
    } catch (error) {
      fail(error);
    }
  });
  // Nobody is left to record what this job does: stop it the way `cancel` does (a checkpoint is saved).
  port.onDisconnect(() => {
    cancel.abort();
    release();
    if (!started) process.exit(0);
  });
  // Ctrl-C in a terminal reaches the whole process group: the parent decides (it sends `cancel`).
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => {
    cancel.abort();
    release();
  });
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);

  send(versioned({ type: 'ready' as const, pid: process.pid, kind: definition.kind }));
}

/** The summary as plain JSON (class instances, undefined and NaN do not cross the channel as such). */
function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}
