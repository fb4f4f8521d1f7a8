/**
 * Starting worker processes, behind one interface: child_process here (the CLI, the headless
 * server, tests) and Electron's utilityProcess in the desktop app (main/utility-spawner.ts). The
 * job manager sees only WorkerSpawner and WorkerProcess.
 */
import { fork } from 'node:child_process';
import type { ParentMessage } from '../common/protocol.ts';
import type { WorkerScript } from './entries.ts';
import { OutputTail } from './output-tail.ts';

export interface WorkerProcess {
  /** Undefined when the process could not be started. */
  readonly pid: number | undefined;
  /** Sends a message if the process is still connected; returns whether it was sent. */
  send(message: ParentMessage): boolean;
  onMessage(listener: (raw: unknown) => void): void;
  /** Called once, after the process has exited and its output is read. `signal` is null for a normal exit. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(signal?: NodeJS.Signals): void;
  /** The last lines it wrote to stdout and stderr (crash reasons, native backend logs). */
  outputTail(): string;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
}

export interface WorkerSpawner {
  spawn(script: WorkerScript, options?: SpawnOptions): WorkerProcess;
}

export interface ChildProcessSpawnerOptions {
  /** Node flags for the worker, such as `--max-old-space-size=8192`. Nothing is inherited from this process. */
  readonly execArgv?: readonly string[];
}

export class ChildProcessSpawner implements WorkerSpawner {
  constructor(private readonly options: ChildProcessSpawnerOptions = {}) {}

  spawn(script: WorkerScript, options: SpawnOptions = {}): WorkerProcess {
    // execArgv is explicit so the worker does not inherit `--test` or inspector flags from this
    // process; the launcher registers the TypeScript loader itself. stdout is piped too: a worker
    // must never write into the CLI's --json output.
    const child = fork(script.script, [...script.args], {
      execArgv: [...(this.options.execArgv ?? [])],
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const tail = new OutputTail();
    child.stdout?.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    let exited = false;
    const exit = (code: number | null, signal: string | null) => {
      if (exited) return;
      exited = true;
      for (const listener of exitListeners) listener(code, signal);
    };
    // 'close' comes after 'exit' once stdout and stderr are drained, so the tail is complete.
    child.on('close', (code, signal) => exit(code, signal));
    child.on('error', (error) => {
      tail.push(`\n${error.message}\n`);
      // A process that never started gets no 'close'.
      if (child.pid === undefined) queueMicrotask(() => exit(null, null));
    });
    return {
      get pid() {
        return child.pid;
      },
      send(message) {
        if (!child.connected) return false;
        // The callback swallows a channel closing under us: the exit handler reports the death.
        child.send(message, (error: Error | null) => {
          if (error) tail.push(`\n(could not send '${message.type}' to the worker: ${error.message})\n`);
        });
        return true;
      },
      onMessage(listener) {
        child.on('message', listener);
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      kill(signal = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
      outputTail: () => tail.text(),
    };
  }
}
