// The backend ladder as pure data and a pure step function: given what the probes found so far,
// say which rung to probe next or what the outcome is. ladder.ts drives it with real probes; tests
// drive it with tables of probe results, without any native module.
import { AppError } from '../common/errors.ts';

/** The rungs, fastest first. `gpu` and `node` both run tfjs's 'tensorflow' backend (libtensorflow). */
export const RUNGS = ['gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof RUNGS)[number];

export interface RungInfo {
  /** The tfjs backend name the rung registers. */
  readonly tfjsBackend: 'tensorflow' | 'wasm' | 'cpu';
  /** The npm package that provides it. */
  readonly packageName: string;
  readonly title: string;
}

export const RUNG_INFO: Readonly<Record<BackendName, RungInfo>> = {
  gpu: { tfjsBackend: 'tensorflow', packageName: '@tensorflow/tfjs-node-gpu', title: 'TensorFlow on an NVIDIA GPU (CUDA)' },
  node: { tfjsBackend: 'tensorflow', packageName: '@tensorflow/tfjs-node', title: 'TensorFlow on the CPU (libtensorflow)' },
  wasm: { tfjsBackend: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm', title: 'WebAssembly on the CPU (SIMD)' },
  cpu: { tfjsBackend: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu', title: 'plain JavaScript on the CPU' },
};

/** Accepted spellings of EFFNET_BACKEND, mapped to rungs. */
const ALIASES: Readonly<Record<string, BackendName>> = {
  gpu: 'gpu',
  cuda: 'gpu',
  'tfjs-node-gpu': 'gpu',
  node: 'node',
  tensorflow: 'node',
  'tfjs-node': 'node',
  wasm: 'wasm',
  cpu: 'cpu',
};

/**
 * EFFNET_BACKEND as a rung, or undefined when unset/empty/`auto`. A value we do not know is a user
 * error, not a reason to pick something else silently.
 */
export function parseBackendName(value: string | undefined, source = 'EFFNET_BACKEND'): BackendName | undefined {
  if (value === undefined) return undefined;
  const key = value.trim().toLowerCase();
  if (key === '' || key === 'auto') return undefined;
  const name = ALIASES[key];
  if (!name) {
    throw new AppError('backend-invalid', `${source}='${value}' is not a backend`, {
      hint: `Use one of gpu, node, wasm, cpu (also: tensorflow, tfjs-node, tfjs-node-gpu), or unset ${source} to let EffNet Studio choose.`,
    });
  }
  return name;
}

/** What a probe learned about one rung. */
export type ProbeResult =
  { readonly ok: true; readonly device: string } | { readonly ok: false; readonly reason: string; readonly hint?: string };

export interface LadderRequest {
  /** Forced rung (EFFNET_BACKEND): only this one is tried, and failing to load it is an error. */
  readonly forced?: BackendName;
  /** Preferred rung: tried first, then the rest of the ladder in order. */
  readonly prefer?: BackendName;
}

/** The order in which rungs are tried for a request. */
export function ladderOrder(request: LadderRequest): BackendName[] {
  if (request.forced) return [request.forced];
  if (request.prefer) return [request.prefer, ...RUNGS.filter((rung) => rung !== request.prefer)];
  return [...RUNGS];
}

export type LadderStep =
  | { readonly kind: 'probe'; readonly rung: BackendName }
  | { readonly kind: 'chosen'; readonly rung: BackendName; readonly device: string }
  | { readonly kind: 'failed'; readonly rung: BackendName; readonly reason: string; readonly hint?: string };

/**
 * The next step of the ladder: the first rung in order without a probe result is probed; the first
 * one that probed ok is chosen. A forced rung that failed ends the ladder with `failed`: we never
 * fall back when the user asked for a specific backend.
 */
export function nextStep(request: LadderRequest, probes: Partial<Readonly<Record<BackendName, ProbeResult>>>): LadderStep {
  const order = ladderOrder(request);
  for (const rung of order) {
    const probe = probes[rung];
    if (!probe) return { kind: 'probe', rung };
    if (probe.ok) return { kind: 'chosen', rung, device: probe.device };
  }
  // Every rung in the order failed. Unforced, `cpu` is last and cannot fail short of a broken
  // install, so this reports the last rung's reason.
  const last = order[order.length - 1]!;
  const probe = probes[last] as Extract<ProbeResult, { ok: false }>;
  return { kind: 'failed', rung: last, reason: probe.reason, hint: probe.hint };
}

/** Status of each rung for the report: chosen, failed with a reason, or not tried. */
export type RungStatus =
  | { readonly rung: BackendName; readonly status: 'chosen'; readonly device: string }
  | { readonly rung: BackendName; readonly status: 'failed'; readonly reason: string; readonly hint?: string }
  | { readonly rung: BackendName; readonly status: 'not-tried'; readonly reason: string };

export function rungStatuses(
  request: LadderRequest,
  probes: Partial<Readonly<Record<BackendName, ProbeResult>>>,
  chosen: BackendName | undefined,
): RungStatus[] {
  return RUNGS.map((rung): RungStatus => {
    const probe = probes[rung];
    if (rung === chosen && probe?.ok) return { rung, status: 'chosen', device: probe.device };
    if (probe && !probe.ok) return { rung, status: 'failed', reason: probe.reason, hint: probe.hint };
    if (probe?.ok) return { rung, status: 'not-tried', reason: 'loads, but another rung was chosen' };
    if (request.forced) return { rung, status: 'not-tried', reason: `skipped: EFFNET_BACKEND forces '${request.forced}'` };
    return { rung, status: 'not-tried', reason: chosen ? `not needed: '${chosen}' loaded first` : 'not tried' };
  });
}
