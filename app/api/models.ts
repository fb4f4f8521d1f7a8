/** models:variants, models:describe and models:speed: the variant picker's numbers. */
import { makeSpec, modelFacts, VARIANT_NAMES, VARIANTS, type VariantName } from '../common/efficientnet/index.ts';
import type { TrainingSpeed } from '../common/epoch-estimate.ts';
import type { VariantSummary } from '../common/ipc/contract.ts';
import type { ApiContext } from './context.ts';
import { trainingSpeed, type DetectedBackend } from './speed.ts';

export function describeVariant(name: VariantName | `phi:${number}`): VariantSummary {
  const spec = makeSpec(name);
  const facts = modelFacts(spec);
  const row = name.startsWith('phi:') ? undefined : VARIANTS[name as VariantName];
  return {
    name,
    phi: row?.phi ?? Number(name.slice(4)),
    width: spec.width,
    depth: spec.depth,
    resolution: spec.resolution,
    dropout: spec.dropout,
    totalParams: facts.totalParams,
    macs: facts.macs,
    paperTop1: row?.paperTop1 ?? null,
  };
}

/** The backend the ladder picks here and its probe speed: measured once per process (it loads TensorFlow.js). */
async function detectBackend(env: NodeJS.ProcessEnv): Promise<DetectedBackend> {
  const { runDoctor } = await import('../cli/commands/doctor.ts');
  const result = await runDoctor(env);
  const conv = result.smoke?.timings.find((timing) => timing.what.startsWith('conv2d'));
  return {
    backend: result.report?.backend ?? null,
    device: result.report?.device ?? null,
    probeGflops: result.smoke?.ok && conv ? conv.gflops : null,
    reason: result.error?.message,
  };
}

export function modelHandlers(context: ApiContext) {
  let detected: Promise<DetectedBackend> | undefined;
  return {
    'models:speed': async (): Promise<TrainingSpeed> => {
      detected ??= detectBackend(context.env).catch((error: unknown) => {
        detected = undefined;
        throw error;
      });
      return trainingSpeed(context.store(), await detected);
    },
    'models:variants': async () => VARIANT_NAMES.map((name) => describeVariant(name)),
    'models:describe': async (which: { variant: string } | { phi: number }) =>
      describeVariant('variant' in which ? (which.variant as VariantName) : `phi:${which.phi}`),
  };
}
