/** Axis arithmetic for the SVG charts: "nice" tick values (1, 2, 5 × 10ⁿ) and linear scales. */

export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    return niceTicks(min - pad, max + pad, count);
  }
  const span = max - min;
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const first = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let value = first; value <= max + step * 1e-9; value += step) ticks.push(Number(value.toFixed(10)));
  return ticks;
}

/** The domain a series set needs, widened to whole ticks so lines never touch the frame. */
/** `count` must match the tick count the chart asks niceTicks for, so the domain ends on ticks. */
export function extent(values: readonly number[], count = 4): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let min = Math.min(...finite);
  let max = Math.max(...finite);
  if (min === max) {
    min -= 0.5;
    max += 0.5;
  }
  const ticks = niceTicks(min, max, count);
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : (max - min) / 4;
  // Rounded: 5 × 0.2 must be 1, not 0.9999999999999998, or the top tick falls outside the domain.
  const round = (value: number) => Number(value.toFixed(10));
  return [round(Math.floor(min / step + 1e-9) * step), round(Math.ceil(max / step - 1e-9) * step)];
}

export function scale(domain: readonly [number, number], range: readonly [number, number]): (value: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** A tick label with as few digits as the step needs. */
export function tickLabel(value: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const digits = Math.max(0, Math.min(4, -Math.floor(Math.log10(step) + 1e-9)));
  return value.toFixed(digits);
}

/** Distinct, colour-blind-friendly line colours (Okabe–Ito), in the order runs are added. */
export const SERIES_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#7a5c00', '#000000'];

export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly { x: number; y: number | null }[];
  readonly dashed?: boolean;
}

/** A metric series from the store as chart points (epochs on x). */
export function toPoints(
  series: { epochs: readonly number[]; values: readonly (number | null)[] } | undefined,
): { x: number; y: number | null }[] {
  if (!series) return [];
  return series.epochs.map((epoch, i) => ({ x: epoch, y: series.values[i] ?? null }));
}
