/**
 * Scaling searches running in the API process (the Electron main process or `effnet serve`): this
 * process only orchestrates, in order, saving the state file around each candidate
 * (app/scaling/search.ts runSearch); every candidate trains as an ordinary run in a worker process
 * of the context's job manager (app/scaling/job-trainer.ts). One search at a time: candidates of
 * two searches would queue behind each other on the one training slot anyway. Closing the
 * context stops the running candidate after its step, so the search stays resumable.
 */
import { AppError, toErrorData } from '../common/errors.ts';
import type { AppEvent } from '../common/ipc/events.ts';
import type { ScalingProgress } from '../common/ipc/scaling.ts';
import { jobTrainer } from '../scaling/job-trainer.ts';
import { runSearch, type SearchEvent } from '../scaling/search.ts';
import { saveState, type CandidateState, type SearchState } from '../scaling/state.ts';
import type { JobEvent } from '../jobs/types.ts';
import type { ApiContext } from './context.ts';

type Phase = Extract<AppEvent, { type: 'scaling:progress' }>['phase'];

export interface ActiveSearch {
  readonly id: string;
  /** The live state: runSearch changes it in place and saves it after every change. */
  readonly state: SearchState;
  readonly stopping: boolean;
  readonly progress: ScalingProgress | null;
}

interface Active extends ActiveSearch {
  readonly controller: AbortController;
  stopping: boolean;
  progress: ScalingProgress | null;
  done: Promise<void>;
}

export class ScalingRunner {
  readonly #context: ApiContext;
  readonly #active = new Map<string, Active>();
  /** Why a search of this session ended without being asked to (shown until it is resumed). */
  readonly #errors = new Map<string, string>();

  constructor(context: ApiContext) {
    this.#context = context;
    context.onClose(() => this.stopAll());
  }

  active(id: string): ActiveSearch | undefined {
    return this.#active.get(id);
  }

  error(id: string): string | null {
    return this.#errors.get(id) ?? null;
  }

  /** Throws when a search is already running here (see the file comment). */
  requireIdle(): void {
    const [running] = this.#active.values();
    if (running) {
      throw new AppError('scaling-busy', `Scaling search ${running.id} is running; one search runs at a time.`, {
        hint: 'Stop it (it stays resumable) or wait for it to finish, then start or resume this one.',
      });
    }
  }

  /** Starts training the search's candidates that are not completed; resolves once it is under way. */
  begin(state: SearchState): ActiveSearch {
    this.requireIdle();
    this.#errors.delete(state.id);
    const active: Active = {
      id: state.id,
      state,
      controller: new AbortController(),
      stopping: false,
      progress: null,
      done: Promise.resolve(),
    };
    this.#active.set(state.id, active);
    this.publish(state.id, 'started');
    active.done = this.#run(active).finally(() => {
      this.#active.delete(state.id);
      this.publish(state.id, 'ended', { message: this.#errors.get(state.id) ?? null });
    });
    return active;
  }

  /** Asks the running candidate to stop after its step; false when the search is not running here. */
  stop(id: string): boolean {
    const active = this.#active.get(id);
    if (!active) return false;
    if (!active.stopping) {
      active.stopping = true;
      active.controller.abort();
      this.publish(id, 'stopping', { candidate: active.progress?.candidate ?? null });
    }
    return true;
  }

  /** Stops every search and waits until each has saved its state (the context's close waits for it). */
  async stopAll(): Promise<void> {
    const running = [...this.#active.values()];
    for (const active of running) this.stop(active.id);
    await Promise.allSettled(running.map((active) => active.done));
  }

  /** Resolves when the search has ended here (tests, and the context's close). */
  async settled(id: string): Promise<void> {
    await this.#active.get(id)?.done;
  }

  publish(
    searchId: string,
    phase: Phase,
    fields: { candidate?: number | null; runId?: number | null; message?: string | null } = {},
  ): void {
    this.#context.events.publish({
      type: 'scaling:progress',
      searchId,
      phase,
      candidate: fields.candidate ?? null,
      runId: fields.runId ?? null,
      message: fields.message ?? null,
    });
  }

  async #run(active: Active): Promise<void> {
    const { state } = active;
    try {
      const trainer = jobTrainer(this.#context.jobs(), this.#context.store(), {
        env: this.#context.env,
        listener: (candidate, event) => this.#onJobEvent(active, candidate, event),
      });
      await runSearch(state, trainer, {
        signal: active.controller.signal,
        env: this.#context.env,
        onEvent: (event) => this.#onSearchEvent(active, event),
      });
    } catch (error) {
      // The search itself broke (the dataset vanished, the disk is full, the app is closing): the
      // candidate in training goes back to pending, so a resume retrains or continues it.
      const message = toErrorData(error).message;
      this.#errors.set(state.id, message);
      for (const candidate of state.candidates) {
        if (candidate.status !== 'running') continue;
        candidate.status = 'pending';
        candidate.message = message;
      }
      await saveState(state, this.#context.env).catch(() => {});
    }
  }

  #onSearchEvent(active: Active, event: SearchEvent): void {
    const { candidate, of } = event;
    if (event.type === 'candidate-started') {
      active.progress = {
        candidate: candidate.index,
        of,
        runId: null,
        epoch: null,
        epochs: active.state.training.epochs,
        step: null,
        steps: null,
        phase: null,
      };
      this.publish(active.id, 'candidate-started', { candidate: candidate.index });
    } else {
      const runId = active.progress?.runId ?? candidate.runIds.at(-1) ?? null;
      active.progress = null;
      this.publish(active.id, 'candidate-ended', { candidate: candidate.index, runId, message: candidate.message });
    }
  }

  /** Keeps the running candidate's progress, for a screen that opens the search mid-candidate. */
  #onJobEvent(active: Active, candidate: CandidateState, { runId, event }: JobEvent): void {
    const progress = active.progress;
    if (!progress || progress.candidate !== candidate.index) return;
    if (progress.runId !== runId && runId !== null) {
      active.progress = { ...progress, runId };
      this.publish(active.id, 'candidate-run', { candidate: candidate.index, runId });
      return;
    }
    if (event.type === 'progress') {
      active.progress = {
        ...progress,
        epoch: event.epoch ?? progress.epoch,
        epochs: event.epochs ?? progress.epochs,
        step: event.step,
        steps: event.steps,
        phase: event.phase,
      };
    } else if (event.type === 'epoch') {
      active.progress = { ...progress, epoch: event.epoch, epochs: event.epochs ?? progress.epochs, phase: null };
      this.publish(active.id, 'epoch', { candidate: candidate.index, runId });
    }
  }
}
