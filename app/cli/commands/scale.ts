import {
  flopsGrowth,
  makeSpec,
  modelFacts,
  PAPER_COEFFICIENTS,
  resolveArchitecture,
  type CompoundCoefficients,
} from '../../common/efficientnet/index.ts';
import { parseNumberOption, parseOptions, UsageError, writeJson, type Command } from '../command.ts';
import { formatCount, formatTable } from '../terminal.ts';

/** How far α·β²·γ² may sit from 2 and still count as "≈ 2" (the paper's B0 search gives 1.92). */
export const CONSTRAINT_TOLERANCE = 0.1;

export function describeScaledVariant(
  phi: number,
  coefficients: CompoundCoefficients,
  overrides: { width?: number; depth?: number; resolution?: number } = {},
) {
  const spec = makeSpec(`phi:${phi}`, { coefficients, ...overrides });
  const arch = resolveArchitecture(spec);
  const facts = modelFacts(spec);
  const growth = flopsGrowth(coefficients);
  return {
    phi,
    coefficients,
    width: spec.width,
    depth: spec.depth,
    resolution: spec.resolution,
    dropout: spec.dropout,
    stemFilters: arch.stemFilters,
    headFilters: arch.headFilters,
    stages: spec.stages.map((stage, i) => ({
      stage: i + 1,
      kernelSize: stage.kernelSize,
      stride: stage.stride,
      filters: arch.stageFilters[i]!,
      repeats: arch.stageRepeats[i]!,
    })),
    totalParams: facts.totalParams,
    trainableParams: facts.trainableParams,
    macs: facts.macs,
    constraint: {
      value: growth,
      target: 2,
      tolerance: CONSTRAINT_TOLERANCE,
      satisfied: Math.abs(growth - 2) <= CONSTRAINT_TOLERANCE,
    },
  };
}

export const scaleCommand: Command = {
  name: 'scale',
  summary: 'A custom compound-scaled variant for any φ: widths, repeats, resolution, parameters, MACs.',
  usage: `Usage: effnet scale --phi X [--alpha A --beta B --gamma G] [--width W --depth D --resolution R] [--json]

  --phi X          compound coefficient; fractional and negative values allowed (φ=-1 is smaller than B0)
  --alpha/--beta/--gamma
                   depth, width and resolution bases (default the paper's 1.2, 1.1, 1.15)
  --width/--depth/--resolution
                   explicit overrides of the scaled coefficients
  --json           machine-readable output`,
  async run(args, io) {
    const { values } = parseOptions(
      args,
      {
        phi: { type: 'string' },
        alpha: { type: 'string' },
        beta: { type: 'string' },
        gamma: { type: 'string' },
        width: { type: 'string' },
        depth: { type: 'string' },
        resolution: { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    const positive = (n: number) => n > 0;
    const phi = parseNumberOption('phi', values.phi, () => true, 'a number');
    if (phi === undefined) throw new UsageError('--phi is required (for example --phi 1.5 or --phi -1)');
    const coefficients: CompoundCoefficients = {
      alpha: parseNumberOption('alpha', values.alpha, positive, 'a positive number') ?? PAPER_COEFFICIENTS.alpha,
      beta: parseNumberOption('beta', values.beta, positive, 'a positive number') ?? PAPER_COEFFICIENTS.beta,
      gamma: parseNumberOption('gamma', values.gamma, positive, 'a positive number') ?? PAPER_COEFFICIENTS.gamma,
    };
    const overrides = {
      width: parseNumberOption('width', values.width, positive, 'a positive number'),
      depth: parseNumberOption('depth', values.depth, positive, 'a positive number'),
      resolution: parseNumberOption('resolution', values.resolution, (n) => Number.isInteger(n) && n >= 32, 'an integer of at least 32'),
    };
    const result = describeScaledVariant(phi, coefficients, overrides);
    if (values.json) {
      writeJson(io, result);
      return 0;
    }
    const c = result.constraint;
    io.stdout.write(
      [
        `φ = ${phi}   α = ${coefficients.alpha}, β = ${coefficients.beta}, γ = ${coefficients.gamma}`,
        `α·β²·γ² = ${c.value.toFixed(4)} (target ≈ 2 ± ${c.tolerance}: ${c.satisfied ? 'satisfied' : 'NOT satisfied'})`,
        `width ${result.width.toFixed(4)}, depth ${result.depth.toFixed(4)}, resolution ${result.resolution} px, dropout ${result.dropout}`,
        `stem ${result.stemFilters} filters, head ${result.headFilters} filters`,
        '',
      ].join('\n'),
    );
    io.stdout.write(
      formatTable(
        ['stage', 'kernel', 'stride', 'filters', 'repeats'],
        result.stages.map((s) => [
          String(s.stage),
          `${s.kernelSize}x${s.kernelSize}`,
          String(s.stride),
          String(s.filters),
          String(s.repeats),
        ]),
        [true, true, true, true, true],
      ),
    );
    io.stdout.write(
      `\nparameters ${formatCount(result.totalParams)} (${result.totalParams}), MACs ${formatCount(result.macs)} (${result.macs}) at ${result.resolution} px\n`,
    );
    return 0;
  },
};
