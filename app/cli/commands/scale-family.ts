/**
 * `effnet scale family`: step 2 of compound scaling (Tan & Le 2019 §3.3): with α, β, γ fixed,
 * the networks for φ = 0…N (φ = 0 is the base). Pure arithmetic, instant.
 */
import { flopsGrowth, PAPER_COEFFICIENTS, type CompoundCoefficients } from '../../common/efficientnet/index.ts';
import { familyTable, resolveBase, type FamilyMember, type ScalingBase } from '../../common/scaling-lab.ts';
import { parseNumberOption, parseOptions, UsageError, writeJson, type Command } from '../command.ts';
import { formatCount, formatTable } from '../terminal.ts';
import { CONSTRAINT_TOLERANCE } from './scale.ts';

/** `--base b0|phi:X` and `--base-resolution N` as a ScalingBase; bad values are usage errors. */
export function parseBaseOptions(base: string | undefined, resolution: string | undefined): ScalingBase {
  const pixels = parseNumberOption('base-resolution', resolution, (n) => Number.isInteger(n) && n >= 32, 'a whole number ≥ 32');
  try {
    return resolveBase(base ?? 'b0', pixels);
  } catch (error) {
    throw new UsageError(`--base: ${(error as Error).message}`);
  }
}

/** The model section of a training config (`effnet train --config`) that trains this member. */
export function memberModelConfig(base: ScalingBase, member: FamilyMember) {
  return { variant: base.variant, width: member.width, depth: member.depth, resolution: member.resolution };
}

export function familyTableText(members: readonly FamilyMember[]): string {
  return formatTable(
    ['φ', 'width', 'depth', 'px', 'filters (stem; stages 1-7; head)', 'repeats', 'params', 'MACs'],
    members.map((m) => [
      String(m.phi),
      m.width.toFixed(3),
      m.depth.toFixed(3),
      String(m.resolution),
      `${m.stemFilters}; ${m.filters.join(' ')}; ${m.headFilters}`,
      m.repeats.join(' '),
      formatCount(m.params),
      formatCount(m.macs),
    ]),
    [true, true, true, true, false, false, true, true],
  );
}

export const scaleFamilyCommand: Command = {
  name: 'scale family',
  summary: 'Step 2 of compound scaling: the family φ = 0…N for chosen α, β, γ (filters, repeats, resolution, parameters, MACs).',
  usage: `Usage: effnet scale family [--alpha A --beta B --gamma G] --phi-max N [--base b0|phi:X] [--base-resolution PX] [--classes K] [--json]

  --alpha/--beta/--gamma  depth, width and resolution bases (default the paper's 1.2, 1.1, 1.15);
                          \`effnet scale search\` prints the ones it chose for your data
  --phi-max N             the largest φ (0…12); φ = 0 is the base itself
  --base V                the network φ = 0 stands for: b0 (default) or phi:X (B0 scaled by the paper's coefficients)
  --base-resolution PX    the base's input size (default the variant's; 224 for b0)
  --classes K             classifier outputs counted in parameters and MACs (default 1000, ImageNet)
  --json                  machine-readable output, with a training-config model section per member`,
  async run(args, io) {
    const { values } = parseOptions(
      args,
      {
        alpha: { type: 'string' },
        beta: { type: 'string' },
        gamma: { type: 'string' },
        'phi-max': { type: 'string' },
        base: { type: 'string' },
        'base-resolution': { type: 'string' },
        classes: { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    const atLeastOne = (n: number) => n >= 1;
    const coefficients: CompoundCoefficients = {
      alpha: parseNumberOption('alpha', values.alpha, atLeastOne, 'a number ≥ 1') ?? PAPER_COEFFICIENTS.alpha,
      beta: parseNumberOption('beta', values.beta, atLeastOne, 'a number ≥ 1') ?? PAPER_COEFFICIENTS.beta,
      gamma: parseNumberOption('gamma', values.gamma, atLeastOne, 'a number ≥ 1') ?? PAPER_COEFFICIENTS.gamma,
    };
    const phiMax = parseNumberOption(
      'phi-max',
      values['phi-max'],
      (n) => Number.isInteger(n) && n >= 0 && n <= 12,
      'a whole number from 0 to 12',
    );
    if (phiMax === undefined) throw new UsageError('--phi-max is required (for example --phi-max 7 for the size of B0…B7)');
    const classes = parseNumberOption('classes', values.classes, (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1') ?? 1000;
    const base = parseBaseOptions(values.base, values['base-resolution']);
    const members = familyTable(base, coefficients, phiMax, classes);
    const growth = flopsGrowth(coefficients);
    const constraint = {
      value: growth,
      target: 2,
      tolerance: CONSTRAINT_TOLERANCE,
      satisfied: Math.abs(growth - 2) <= CONSTRAINT_TOLERANCE,
    };
    if (values.json) {
      writeJson(io, {
        coefficients,
        constraint,
        base,
        classes,
        members: members.map((m) => ({ ...m, model: memberModelConfig(base, m) })),
      });
      return 0;
    }
    io.stdout.write(
      [
        `α = ${coefficients.alpha}, β = ${coefficients.beta}, γ = ${coefficients.gamma}; base ${base.variant} at ${base.resolution} px; ${classes} classes`,
        `α·β²·γ² = ${growth.toFixed(4)} (target ≈ 2 ± ${CONSTRAINT_TOLERANCE}: ${constraint.satisfied ? 'satisfied' : 'NOT satisfied'}): MACs grow about ×${growth.toFixed(2)} per φ`,
        '',
      ].join('\n'),
    );
    io.stdout.write(familyTableText(members));
    io.stdout.write(
      `\nTrain a member: put its width, depth and resolution (--json shows them as "model") in a config for \`effnet train --config\`.\n`,
    );
    return 0;
  },
};
