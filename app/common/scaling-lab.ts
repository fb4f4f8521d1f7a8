/**
 * The scaling lab's arithmetic (Tan & Le 2019 §3.3; seeds/000_c56656b501cfcbff.txt §3): step 1
 * searches a small grid of α, β, γ ≥ 1 under α·β²·γ² ≈ 2 at φ = 1, step 2 scales φ with the
 * chosen coefficients. Pure TypeScript: the CLI and the renderer's "Scaling lab" share it.
 */
import { AppError } from './errors.ts';
import {
  flopsGrowth,
  makeSpec,
  MIN_RESOLUTION,
  modelFacts,
  parseVariant,
  resolveArchitecture,
  type CompoundCoefficients,
} from './efficientnet/index.ts';

/** The NAS objective's exponent (paper §4: ACC(m)·[FLOPS(m)/T]^w with w = −0.07). */
export const OBJECTIVE_EXPONENT = -0.07;
/** α·β²·γ² ≈ 2: FLOPS roughly double per unit of φ. */
export const CONSTRAINT_TARGET = 2;

export interface GridAxis {
  readonly min: number;
  readonly max: number;
  readonly step: number;
}
export type GridSpec = Readonly<Record<keyof CompoundCoefficients, GridAxis>>;

/** The default: each coefficient from 1 to 1.4 in steps of 0.05. */
export const DEFAULT_GRID: GridSpec = {
  alpha: { min: 1, max: 1.4, step: 0.05 },
  beta: { min: 1, max: 1.4, step: 0.05 },
  gamma: { min: 1, max: 1.4, step: 0.05 },
};
/** More points on one axis than this is not a "small grid search"; it is a typo. */
const MAX_AXIS_POINTS = 200;
const AXES = ['alpha', 'beta', 'gamma'] as const;

function gridError(message: string): AppError {
  return new AppError('scaling-grid-invalid', message, {
    hint: 'Write the grid as alpha=MIN:MAX:STEP,beta=…,gamma=… (or alpha=1.2 for one value); every value must be ≥ 1.',
  });
}

/** Parses `alpha=1:1.4:0.05,beta=1.1,gamma=1:1.3:0.05`; axes not named keep `fallback`'s. */
export function parseGrid(text: string, fallback: GridSpec = DEFAULT_GRID): GridSpec {
  const grid: Record<string, GridAxis> = { ...fallback };
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const match = /^(alpha|beta|gamma)=(.+)$/i.exec(part);
    if (!match) throw gridError(`Grid part '${part}' is not axis=MIN:MAX:STEP with axis alpha, beta or gamma.`);
    const numbers = match[2]!.split(':').map((n) => Number(n.trim()));
    if (numbers.length !== 1 && numbers.length !== 3) throw gridError(`Grid part '${part}' needs one value or MIN:MAX:STEP.`);
    if (numbers.some((n) => !Number.isFinite(n))) throw gridError(`Grid part '${part}' has a value that is not a number.`);
    const [min, max = min, step = 1] = numbers as [number, number?, number?];
    grid[match[1]!.toLowerCase()] = checkAxis(match[1]!.toLowerCase(), { min, max, step });
  }
  return grid as unknown as GridSpec;
}

function checkAxis(name: string, axis: GridAxis): GridAxis {
  if (axis.min < 1) throw gridError(`Grid ${name}: ${axis.min} is below 1 (the paper requires α, β, γ ≥ 1).`);
  if (axis.max < axis.min) throw gridError(`Grid ${name}: MAX ${axis.max} is below MIN ${axis.min}.`);
  if (!(axis.step > 0)) throw gridError(`Grid ${name}: STEP must be positive, got ${axis.step}.`);
  if (axisValues(axis).length > MAX_AXIS_POINTS) throw gridError(`Grid ${name}: more than ${MAX_AXIS_POINTS} values; use a larger STEP.`);
  return axis;
}

/** MIN, MIN+STEP, … ≤ MAX, counted in whole steps (so 1 + 8·0.05 is 1.4, not 1.4000000000000001). */
export function axisValues(axis: GridAxis): number[] {
  const count = Math.floor((axis.max - axis.min) / axis.step + 1e-9) + 1;
  return Array.from({ length: count }, (_, i) => Math.round((axis.min + i * axis.step) * 1e9) / 1e9);
}

export interface GridCandidate extends CompoundCoefficients {
  /** α·β²·γ². */
  readonly growth: number;
}

export interface GridResult {
  /** Every α, β, γ combination of the grid. */
  readonly total: number;
  /** Those with |α·β²·γ² − 2| ≤ tolerance, closest to 2 first (ties: α, then β, then γ ascending). */
  readonly kept: readonly GridCandidate[];
  readonly tolerance: number;
}

export function generateGrid(grid: GridSpec, tolerance: number): GridResult {
  if (!(tolerance >= 0)) throw gridError(`The tolerance must be a number ≥ 0, got ${tolerance}.`);
  const [alphas, betas, gammas] = AXES.map((axis) => axisValues(checkAxis(axis, grid[axis])));
  const kept: GridCandidate[] = [];
  for (const alpha of alphas!) {
    for (const beta of betas!) {
      for (const gamma of gammas!) {
        const growth = flopsGrowth({ alpha, beta, gamma });
        // A hair of slack: 1.05·1.05²·1.3² is 2.0 ± 1e-16 depending on the order of the products.
        if (Math.abs(growth - CONSTRAINT_TARGET) <= tolerance + 1e-12) kept.push({ alpha, beta, gamma, growth });
      }
    }
  }
  kept.sort(byCloseness);
  return { total: alphas!.length * betas!.length * gammas!.length, kept, tolerance };
}

function byCloseness(a: GridCandidate, b: GridCandidate): number {
  const distance = Math.abs(a.growth - CONSTRAINT_TARGET) - Math.abs(b.growth - CONSTRAINT_TARGET);
  if (Math.abs(distance) > 1e-12) return distance;
  return a.alpha - b.alpha || a.beta - b.beta || a.gamma - b.gamma;
}

/**
 * At most `max` candidates spread over the ways of spending the FLOPS budget: the one closest to
 * the constraint first, then repeatedly the one farthest from all chosen, measured by how much
 * of the ×2 each dimension takes (ln α, 2 ln β, 2 ln γ: FLOPS ∝ d·w²·r²). Deterministic: ties
 * go to the earlier candidate in `kept`'s order. Returned in `kept`'s order.
 */
export function spreadSubset(kept: readonly GridCandidate[], max: number): GridCandidate[] {
  if (!Number.isInteger(max) || max < 1) throw gridError(`The number of candidates must be a whole number ≥ 1, got ${max}.`);
  if (kept.length <= max) return [...kept];
  const point = (c: GridCandidate) => [Math.log(c.alpha), 2 * Math.log(c.beta), 2 * Math.log(c.gamma)];
  const points = kept.map(point);
  const nearest = points.map(() => Number.POSITIVE_INFINITY);
  const chosen = new Set<number>();
  let next = 0;
  while (chosen.size < max) {
    chosen.add(next);
    let farthest = -1;
    for (let i = 0; i < points.length; i++) {
      if (chosen.has(i)) continue;
      const d = Math.hypot(...points[i]!.map((v, k) => v - points[next]![k]!));
      nearest[i] = Math.min(nearest[i]!, d);
      if (farthest < 0 || nearest[i]! > nearest[farthest]! + 1e-12) farthest = i;
    }
    next = farthest;
  }
  return [...chosen].sort((a, b) => a - b).map((i) => kept[i]!);
}

/** The paper's search objective ACC(m)·[FLOPS(m)/T]^w (MACs stand in for FLOPS: FLOPS ≈ 2·MACs, a constant that T absorbs). */
export function searchObjective(accuracy: number, macs: number, target: number, exponent: number = OBJECTIVE_EXPONENT): number {
  if (!(macs > 0) || !(target > 0)) throw new RangeError(`MACs and the target must be positive, got ${macs} and ${target}`);
  return accuracy * (macs / target) ** exponent;
}

/** The network a search starts from: a variant (`b0`, `phi:-4`) and optionally its own resolution. */
export interface ScalingBase {
  readonly variant: string;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
}

/** `b0`…`b7` or `phi:X` (B0 scaled by φ with the paper's coefficients), at its own or the given resolution. */
export function resolveBase(variant: string, resolution?: number): ScalingBase {
  let choice;
  try {
    choice = parseVariant(variant);
  } catch (error) {
    throw new AppError('scaling-base-invalid', `Base '${variant}': ${(error as Error).message}`, {
      hint: 'Use b0, or phi:X for B0 scaled by φ = X with the paper coefficients (phi:-4 is a tiny, fast base).',
    });
  }
  if (resolution !== undefined && (!Number.isInteger(resolution) || resolution < MIN_RESOLUTION)) {
    throw new AppError('scaling-base-invalid', `Base resolution must be a whole number ≥ ${MIN_RESOLUTION}, got ${resolution}.`);
  }
  return { variant: choice.id, width: choice.width, depth: choice.depth, resolution: resolution ?? choice.resolution };
}

/** Width, depth and resolution of the base scaled by φ with the given coefficients (resolution rounded like `scaleByPhi`). */
export function scaleBase(base: ScalingBase, coefficients: CompoundCoefficients, phi = 1) {
  return {
    width: base.width * coefficients.beta ** phi,
    depth: base.depth * coefficients.alpha ** phi,
    resolution: Math.max(MIN_RESOLUTION, Math.round((base.resolution * coefficients.gamma ** phi) / 8) * 8),
  };
}

/** One member of a family: the base scaled by φ. */
export interface FamilyMember {
  readonly phi: number;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly stemFilters: number;
  readonly headFilters: number;
  /** Output channels and blocks of each of the 7 stages. */
  readonly filters: readonly number[];
  readonly repeats: readonly number[];
  readonly params: number;
  readonly macs: number;
}

export function familyMember(base: ScalingBase, coefficients: CompoundCoefficients, phi: number, numClasses = 1000): FamilyMember {
  const scaled = scaleBase(base, coefficients, phi);
  const spec = makeSpec('b0', { ...scaled, numClasses });
  const arch = resolveArchitecture(spec);
  const facts = modelFacts(spec);
  return {
    phi,
    ...scaled,
    stemFilters: arch.stemFilters,
    headFilters: arch.headFilters,
    filters: arch.stageFilters,
    repeats: arch.stageRepeats,
    params: facts.totalParams,
    macs: facts.macs,
  };
}

/** Step 2: φ = 0…phiMax (φ = 0 is the base itself). */
export function familyTable(base: ScalingBase, coefficients: CompoundCoefficients, phiMax: number, numClasses = 1000): FamilyMember[] {
  if (!Number.isInteger(phiMax) || phiMax < 0 || phiMax > 12) {
    throw new AppError('scaling-family-invalid', `φ max must be a whole number from 0 to 12, got ${phiMax}.`);
  }
  return Array.from({ length: phiMax + 1 }, (_, phi) => familyMember(base, coefficients, phi, numClasses));
}
