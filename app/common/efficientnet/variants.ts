import { PAPER_COEFFICIENTS, scaleByPhi, type CompoundCoefficients } from './scaling.ts';

/**
 * B0–B7 as rows of coefficients (keras.applications / tensorflow/tpu `efficientnet_params`).
 * The published rows are not exactly α^φ, β^φ, γ^φ (the authors rounded them by hand), so the
 * table is the source of truth for named variants and `scaleByPhi` is used for custom φ.
 */
export interface VariantRow {
  readonly name: VariantName;
  /** The nominal compound coefficient: B<φ>. */
  readonly phi: number;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  /** Dropout before the classifier (`top_dropout`). */
  readonly dropout: number;
  /** ImageNet top-1 / top-5 reported in the paper (Table 2; seeds/000_c56656b501cfcbff.txt). */
  readonly paperTop1: number;
  readonly paperTop5: number;
}

export const VARIANT_NAMES = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

export const VARIANTS: Readonly<Record<VariantName, VariantRow>> = {
  b0: { name: 'b0', phi: 0, width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2, paperTop1: 77.3, paperTop5: 93.5 },
  b1: { name: 'b1', phi: 1, width: 1.0, depth: 1.1, resolution: 240, dropout: 0.2, paperTop1: 79.2, paperTop5: 94.5 },
  b2: { name: 'b2', phi: 2, width: 1.1, depth: 1.2, resolution: 260, dropout: 0.3, paperTop1: 80.3, paperTop5: 95.0 },
  b3: { name: 'b3', phi: 3, width: 1.2, depth: 1.4, resolution: 300, dropout: 0.3, paperTop1: 81.7, paperTop5: 95.6 },
  b4: { name: 'b4', phi: 4, width: 1.4, depth: 1.8, resolution: 380, dropout: 0.4, paperTop1: 83.0, paperTop5: 96.3 },
  b5: { name: 'b5', phi: 5, width: 1.6, depth: 2.2, resolution: 456, dropout: 0.4, paperTop1: 83.7, paperTop5: 96.7 },
  b6: { name: 'b6', phi: 6, width: 1.8, depth: 2.6, resolution: 528, dropout: 0.5, paperTop1: 84.2, paperTop5: 96.8 },
  b7: { name: 'b7', phi: 7, width: 2.0, depth: 3.1, resolution: 600, dropout: 0.5, paperTop1: 84.4, paperTop5: 97.1 },
};

export function isVariantName(value: string): value is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(value);
}

/** What a variant argument (`b3`, `phi:1.5`, `phi:-1`) resolves to before model options are added. */
export interface VariantChoice {
  /** `b0`…`b7`, or `phi:<φ>` for a custom compound-scaled variant. */
  readonly id: string;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly dropout: number;
  readonly phi: number;
  readonly coefficients?: CompoundCoefficients;
}

/**
 * Dropout for a custom φ: the published rows raise it by 0.1 every two steps of φ
 * (0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5); keep that staircase, clamped to [0.1, 0.5].
 */
export function dropoutForPhi(phi: number): number {
  const stepped = 0.2 + 0.1 * Math.floor(Math.max(phi, -2) / 2);
  return Math.min(0.5, Math.max(0.1, Math.round(stepped * 10) / 10));
}

/** Parses `b0`…`b7` or `phi:X` (case-insensitive). Throws a RangeError naming the accepted forms. */
export function parseVariant(text: string, coefficients: CompoundCoefficients = PAPER_COEFFICIENTS): VariantChoice {
  const value = text.trim().toLowerCase();
  if (isVariantName(value)) {
    const row = VARIANTS[value];
    return { id: value, width: row.width, depth: row.depth, resolution: row.resolution, dropout: row.dropout, phi: row.phi };
  }
  const match = /^phi:(-?\d+(?:\.\d+)?)$/.exec(value);
  if (match) {
    const phi = Number(match[1]);
    const scaled = scaleByPhi(phi, coefficients);
    return { id: `phi:${phi}`, ...scaled, dropout: dropoutForPhi(phi), phi, coefficients };
  }
  throw new RangeError(`Unknown variant '${text}': use b0…b7 or phi:X (for example phi:-1 or phi:1.5).`);
}
