// The backend ladder: tfjs-node-gpu, then tfjs-node, then WebAssembly, then plain JavaScript, all on
// the one tfjs-core that `@tensorflow/tfjs` re-exports. EFFNET_BACKEND forces one rung; a forced rung
// that cannot load is an error that says what to install, never a quiet fallback.
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import type { CudaDiagnosis } from './cuda.ts';
import {
  nextStep,
  parseBackendName,
  RUNG_INFO,
  rungStatuses,
  type BackendName,
  type LadderRequest,
  type ProbeResult,
  type RungStatus,
} from './decision.ts';
import { probeRung, type ProbeContext } from './probes.ts';

export type { BackendName } from './decision.ts';

export type RungReport = RungStatus & { readonly title: string; readonly packageName: string };

export interface BackendReport {
  /** The rung in use. */
  readonly rung: BackendName;
  /** tfjs's name for the backend now current: 'tensorflow', 'wasm' or 'cpu'. */
  readonly backend: string;
  readonly packageName: string;
  /** What computes, in words: "GPU: NVIDIA RTX 4090 (CUDA, …)", "CPU (WebAssembly, SIMD, 1 thread)". */
  readonly device: string;
  /** The rung EFFNET_BACKEND forced, if any. */
  readonly forced?: BackendName;
  readonly prefer?: BackendName;
  /** Every rung, with why it was not used. */
  readonly rungs: readonly RungReport[];
  readonly versions: {
    readonly tfjs: string;
    readonly tfjsCore: string;
    readonly tfjsNode?: string;
    readonly libtensorflow?: string;
    readonly node: string;
    readonly napi?: string;
    readonly electron?: string;
  };
  /** The CUDA/cuDNN diagnosis, when the GPU rung was tried. */
  readonly gpu?: CudaDiagnosis;
  /** util.is* functions defined for tfjs-node on Node ≥ 23 (see node-util-shim.ts). */
  readonly nodeUtilShim: readonly string[];
}

export interface InitBackendOptions {
  /** Try this rung first, then the rest of the ladder. EFFNET_BACKEND, when set, wins. */
  readonly prefer?: BackendName;
  /** Where EFFNET_BACKEND is read from (process.env by default). */
  readonly env?: NodeJS.ProcessEnv;
}

let cached: { key: string; report: Promise<BackendReport> } | undefined;
/** Ladder runs one at a time: each switches the process-wide tfjs backend. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Picks and activates a backend. Idempotent: the same request returns the same report (and makes its
 * backend current again if something switched it); a different request runs the ladder again.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const env = options.env ?? process.env;
  let request: LadderRequest;
  try {
    const forced = parseBackendName(env.EFFNET_BACKEND);
    request = forced ? { forced } : { prefer: options.prefer };
  } catch (error) {
    return Promise.reject(error);
  }
  const key = `${request.forced ?? ''}|${request.prefer ?? ''}`;
  const run = queue.then(async () => {
    if (cached?.key === key) {
      const report = await cached.report;
      if (tf.getBackend() !== report.backend) await tf.setBackend(report.backend);
      return report;
    }
    const report = runLadder(request, env);
    cached = { key, report };
    // A failure is not cached: the user may install the package and try again.
    report.catch(() => {
      if (cached?.report === report) cached = undefined;
    });
    return report;
  });
  queue = run.catch(() => undefined);
  return run;
}

/** The report of the backend now in use, if initBackend has succeeded. */
export async function currentBackendReport(): Promise<BackendReport | undefined> {
  return cached?.report.catch(() => undefined);
}

async function runLadder(request: LadderRequest, env: NodeJS.ProcessEnv): Promise<BackendReport> {
  const context: ProbeContext = { env, nodeUtilShim: [] };
  const probes: Partial<Record<BackendName, ProbeResult>> = {};
  const previous = tf.getBackend() as string | undefined;
  for (;;) {
    const step = nextStep(request, probes);
    if (step.kind === 'probe') {
      probes[step.rung] = await probeRung(step.rung, context);
      continue;
    }
    const report = buildReport(request, probes, step.kind === 'chosen' ? step.rung : undefined, context);
    if (step.kind === 'chosen') return { ...report, rung: step.rung, device: step.device };
    // Leave the process on the backend it had (importing tfjs-node switches to 'tensorflow').
    if (previous && tf.getBackend() !== previous) await tf.setBackend(previous).catch(() => false);
    const info = RUNG_INFO[step.rung];
    const asked = request.forced
      ? `EFFNET_BACKEND=${env.EFFNET_BACKEND} asks for ${info.title}, but `
      : 'No TensorFlow.js backend could be loaded: ';
    throw new AppError('backend-unavailable', `${asked}${step.reason}`, {
      hint: [step.hint ?? `Install ${info.packageName}.`, request.forced ? 'Or unset EFFNET_BACKEND to let EffNet Studio choose.' : '']
        .filter(Boolean)
        .join(' '),
      details: { rungs: report.rungs, gpu: report.gpu, versions: report.versions },
    });
  }
}

function buildReport(
  request: LadderRequest,
  probes: Partial<Record<BackendName, ProbeResult>>,
  chosen: BackendName | undefined,
  context: ProbeContext,
): Omit<BackendReport, 'rung' | 'device'> {
  const info = chosen ? RUNG_INFO[chosen] : undefined;
  return {
    backend: info?.tfjsBackend ?? String(tf.getBackend()),
    packageName: info?.packageName ?? '',
    ...(request.forced ? { forced: request.forced } : {}),
    ...(request.prefer ? { prefer: request.prefer } : {}),
    rungs: rungStatuses(request, probes, chosen).map((status) => ({
      ...status,
      title: RUNG_INFO[status.rung].title,
      packageName: RUNG_INFO[status.rung].packageName,
    })),
    versions: {
      tfjs: tf.version.tfjs,
      tfjsCore: tf.version_core,
      ...(context.tfjsNode ? { tfjsNode: context.tfjsNode } : {}),
      ...(context.libtensorflow ? { libtensorflow: context.libtensorflow } : {}),
      node: process.versions.node,
      ...(process.versions.napi ? { napi: process.versions.napi } : {}),
      ...(process.versions.electron ? { electron: process.versions.electron } : {}),
    },
    ...(context.gpu ? { gpu: context.gpu } : {}),
    nodeUtilShim: context.nodeUtilShim,
  };
}
