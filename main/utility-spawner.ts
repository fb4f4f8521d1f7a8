/**
 * The desktop app's WorkerSpawner: Electron's utilityProcess (a Node.js child that Chromium's
 * service model manages, so it works in a packaged app without a separate Node binary). Same
 * contract as ChildProcessSpawner in app/jobs/spawner.ts; the worker side finds
 * `process.parentPort` instead of `process.send` (workers/runtime.ts).
 */
import { utilityProcess } from 'electron';
import { OutputTail } from '../app/jobs/output-tail.ts';
import type { SpawnOptions, WorkerProcess, WorkerSpawner } from '../app/jobs/spawner.ts';
import type { WorkerScript } from '../app/jobs/entries.ts';

export class UtilityProcessSpawner implements WorkerSpawner {
  spawn(script: WorkerScript, options: SpawnOptions = {}): WorkerProcess {
    const child = utilityProcess.fork(script.script, [...script.args], {
      env: options.env ?? process.env,
      // Piped, so the end of a crashed worker's output can explain the crash.
      stdio: 'pipe',
      serviceName: script.name,
    });
    const tail = new OutputTail();
    child.stdout?.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
    let alive = true;
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    // Electron reports only an exit code (from waitpid: a kill shows as a non-zero code, no signal name).
    child.once('exit', (code: number) => {
      alive = false;
      for (const listener of exitListeners) listener(code, null);
    });
    return {
      get pid() {
        return child.pid;
      },
      send(message) {
        if (!alive) return false;
        child.postMessage(message);
        return true;
      },
      onMessage(listener) {
        child.on('message', listener);
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      kill() {
        if (alive) child.kill();
      },
      outputTail: () => tail.text(),
    };
  }
}
