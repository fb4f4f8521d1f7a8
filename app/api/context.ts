/**
 * What every handler may use: the environment (for the data folder), the live-event bus, the
 * experiment store and the job manager. The store and the job manager are opened on first use by
 * whichever process serves the API (the Electron main process or `effnet serve`) and closed with
 * the context; every job event is republished on the bus for the windows and event streams.
 */
import type { AppEvent } from '../common/ipc/events.ts';
import { JobManager } from '../jobs/manager.ts';
import type { WorkerSpawner } from '../jobs/spawner.ts';
import { openAppStore, type Store } from '../store/index.ts';

export type EventListener = (event: AppEvent) => void;

/** Fan-out of AppEvents to the open windows or event-stream connections. */
export class EventBus {
  readonly #listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: AppEvent): void {
    for (const listener of this.#listeners) {
      // One broken connection must not stop the others from hearing the event.
      try {
        listener(event);
      } catch (error) {
        console.warn(`An event listener failed on ${event.type}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  get size(): number {
    return this.#listeners.size;
  }
}

export interface ApiContext {
  readonly env: NodeJS.ProcessEnv;
  readonly shell: 'desktop' | 'browser';
  readonly events: EventBus;
  /** The experiment store, opened on first use. */
  store(): Store;
  /** The job manager, started on first use (training runs in its worker processes). */
  jobs(): JobManager;
  /** Stops the jobs (running ones save a checkpoint) and closes the store. */
  close(): Promise<void>;
  /**
   * Work that must stop cleanly on close (a scaling search): `stop` is called as close begins,
   * before the jobs stop; close waits for its promise after the jobs stopped, before the store closes.
   */
  onClose(stop: () => Promise<void>): void;
}

export interface ContextOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly shell: 'desktop' | 'browser';
  /** Tests pass their own store; the app opens `dataPaths().database`. */
  readonly openStore?: () => Store;
  /** Electron passes its utilityProcess spawner and the bundled workers folder; elsewhere child_process. */
  readonly spawner?: WorkerSpawner;
  readonly workersFolder?: string;
}

export function createApiContext(options: ContextOptions): ApiContext {
  const env = options.env ?? process.env;
  const events = new EventBus();
  let store: Store | undefined;
  let jobs: JobManager | undefined;
  const closeHooks: (() => Promise<void>)[] = [];
  const open = options.openStore ?? (() => openAppStore(env).store);
  const context: ApiContext = {
    env,
    shell: options.shell,
    events,
    store: () => (store ??= open()),
    jobs: () => {
      if (!jobs) {
        jobs = new JobManager({ store: context.store(), env, spawner: options.spawner, workersFolder: options.workersFolder });
        jobs.subscribe('*', (job) => {
          events.publish({ type: 'job:event', job });
          // A run's row changes when it starts and ends: lists refresh on these.
          if (job.runId !== null && (job.event.type === 'status' || job.event.type === 'started' || job.event.type === 'epoch')) {
            events.publish({ type: 'runs:changed', runId: job.runId });
          }
        });
      }
      return jobs;
    },
    onClose: (stop) => void closeHooks.push(stop),
    close: async () => {
      // Started first, so a search marks its candidate stopped (resumable) rather than failed.
      const stopping = closeHooks.map((stop) => stop());
      await jobs?.shutdown({ timeoutMs: 15_000 });
      await Promise.allSettled(stopping);
      jobs = undefined;
      store?.close();
      store = undefined;
    },
  };
  return context;
}
