/**
 * A scaling search's state: what it searches (dataset, base, grid, budget, seed, target) and how
 * far each candidate got. One JSON file per search in `<data folder>/scaling/<id>.json`, written
 * atomically after every change, so a stopped search (Ctrl-C, a crash) resumes from the file. The
 * candidates' runs themselves are ordinary runs in the experiment store, tagged `searchTag(id)`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import type { ScalingCandidateStatus, ScalingPlannedCandidate } from '../common/ipc/scaling.ts';
import type { GridSpec, ScalingBase } from '../common/scaling-lab.ts';
import { dataPaths } from '../node/paths.ts';
import { writeFileAtomic } from '../weights/files.ts';

export const STATE_VERSION = 1;

export type CandidateStatus = ScalingCandidateStatus;

/** A candidate's architecture (defined once with the UI's view of it), plus its progress in the search. */
export interface CandidateState extends ScalingPlannedCandidate {
  /** Median ms per image on this machine, when the target is a latency (see ./latency.ts). */
  latencyMs: number | null;
  status: CandidateStatus;
  /** Every run that trained it, oldest first (a candidate stopped and resumed has two). */
  runIds: number[];
  /** Best validation accuracy of its proxy training (0…1). */
  accuracy: number | null;
  /** ACC·(MACs/T)^w. */
  objective: number | null;
  /** Training time of its runs together. */
  seconds: number | null;
  message: string | null;
}

/** Proxy training: the same for every candidate, so only the architecture differs. */
export interface ProxyTraining {
  /** The most epochs a candidate trains (with only a time budget: a cap, and a constant learning rate). */
  readonly epochs: number;
  /**
   * Wall-clock budget per candidate: its run is stopped after the step that passes it, and scored
   * by its best completed epoch. Depends on this machine and its load; epochs compare more fairly.
   */
  readonly minutes?: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly validationSplit: number;
  readonly augment: boolean;
  /** Decoding threads (0: on the training thread). */
  readonly workers?: number;
}

export interface SearchState {
  readonly version: number;
  readonly id: string;
  readonly createdAt: number;
  /** Absolute dataset path. */
  readonly dataset: string;
  readonly classes: readonly string[];
  readonly base: ScalingBase;
  readonly grid: GridSpec;
  readonly tolerance: number;
  /** Every combination of the grid, and how many satisfy the constraint. */
  readonly gridTotal: number;
  readonly gridKept: number;
  readonly maxCandidates: number | null;
  readonly training: ProxyTraining;
  readonly seed: number;
  /** T of the objective, in MACs (used unless `targetLatencyMs` is set). */
  readonly targetMacs: number;
  /** T as a latency in ms per image measured on this machine: the objective then uses candidates' latencies. */
  targetLatencyMs?: number;
  /** Where the latencies were measured, and the base's own. */
  latency?: { readonly backend: string; readonly device: string; readonly baseMs: number };
  /** `user`: --target-macs; `base×2`: the base's MACs × 2, what φ = 1 should cost under the constraint. */
  readonly targetSource: 'user' | 'base×2';
  readonly baseMacs: number;
  readonly baseParams: number;
  candidates: CandidateState[];
  updatedAt: number;
}

/** The store tag every candidate run of a search carries. */
export function searchTag(id: string): string {
  return `scale-search:${id}`;
}

export function newSearchId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `s${stamp}-${randomBytes(2).toString('hex')}`;
}

export function searchesFolder(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataPaths(env).root, 'scaling');
}

export function stateFile(id: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw new AppError('scaling-search-invalid', `'${id}' is not a search id (letters, digits, - and _).`, {
      hint: 'Use the id `effnet scale search` printed when it started (for example s20260101120000-ab12).',
    });
  }
  return path.join(searchesFolder(env), `${id}.json`);
}

export async function saveState(state: SearchState, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = stateFile(state.id, env);
  await mkdir(path.dirname(file), { recursive: true });
  state.updatedAt = Date.now();
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
  return file;
}

export async function loadState(id: string, env: NodeJS.ProcessEnv = process.env): Promise<SearchState> {
  const file = stateFile(id, env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new AppError(missing ? 'not-found' : 'unreadable', `Scaling search ${id}: cannot read ${file}: ${(error as Error).message}`, {
      hint: missing ? `No search with this id in ${searchesFolder(env)}; check EFFNET_HOME and the id.` : undefined,
    });
  }
  let state: SearchState;
  try {
    state = JSON.parse(text) as SearchState;
  } catch (error) {
    throw new AppError('unreadable', `Scaling search ${id}: ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (state.version !== STATE_VERSION || state.id !== id || !Array.isArray(state.candidates)) {
    throw new AppError('unreadable', `Scaling search ${id}: ${file} is not a version ${STATE_VERSION} search state.`);
  }
  return state;
}
