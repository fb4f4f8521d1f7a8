/** models:variants and models:describe: the variant picker's numbers. */
import { makeSpec, modelFacts, VARIANT_NAMES, VARIANTS, type VariantName } from '../common/efficientnet/index.ts';
import type { VariantSummary } from '../common/ipc/contract.ts';

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

export function modelHandlers() {
  return {
    'models:variants': async () => VARIANT_NAMES.map((name) => describeVariant(name)),
    'models:describe': async (which: { variant: string } | { phi: number }) =>
      describeVariant('variant' in which ? (which.variant as VariantName) : `phi:${which.phi}`),
  };
}
