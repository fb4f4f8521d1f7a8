import { DEPTH_DIVISOR } from './blocks.ts';

/**
 * Compound scaling (Tan & Le 2019, §3.3): depth d = α^φ, width w = β^φ, resolution r = γ^φ,
 * under α·β²·γ² ≈ 2 so that FLOPS grow by about 2^φ. The paper's grid search on B0 found these.
 */
export interface CompoundCoefficients {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

export const PAPER_COEFFICIENTS: CompoundCoefficients = { alpha: 1.2, beta: 1.1, gamma: 1.15 };

/** The base resolution compound scaling starts from (B0). */
export const BASE_RESOLUTION = 224;
/** keras.applications `min_size`: smaller inputs cannot pass five stride-2 layers meaningfully. */
export const MIN_RESOLUTION = 32;

/** α·β²·γ²: FLOPS grow by this factor per unit of φ; the paper constrains it to ≈ 2. */
export function flopsGrowth(c: CompoundCoefficients): number {
  return c.alpha * c.beta ** 2 * c.gamma ** 2;
}

/**
 * Channels after width scaling, exactly as keras.applications' `round_filters`: round to the
 * nearest multiple of the divisor, never below the divisor, and never more than 10% below the
 * scaled value (rounding down that far would cost accuracy; timm's `round_channels` agrees).
 */
export function roundFilters(filters: number, width: number, divisor = DEPTH_DIVISOR): number {
  const scaled = filters * width;
  let rounded = Math.max(divisor, Math.floor(Math.floor(scaled + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * scaled) rounded += divisor;
  return rounded;
}

/** Blocks in a stage after depth scaling: keras.applications' `round_repeats` (ceil). */
export function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(depth * repeats);
}

export interface ScaledCoefficients {
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
}

/**
 * Width, depth and input resolution for any φ (fractional and negative φ included: φ = -1 is a
 * model smaller than B0). Resolution is rounded to a multiple of 8 so every stride-2 stage sees
 * whole pixels in practice, and kept at or above keras' minimum of 32.
 */
export function scaleByPhi(phi: number, coefficients: CompoundCoefficients = PAPER_COEFFICIENTS): ScaledCoefficients {
  if (!Number.isFinite(phi)) throw new RangeError(`φ must be a finite number, got ${phi}`);
  for (const [name, value] of Object.entries(coefficients)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`${name} must be a positive number, got ${value}`);
    }
  }
  const width = coefficients.beta ** phi;
  const depth = coefficients.alpha ** phi;
  const resolution = Math.max(MIN_RESOLUTION, Math.round((BASE_RESOLUTION * coefficients.gamma ** phi) / 8) * 8);
  return { width, depth, resolution };
}
