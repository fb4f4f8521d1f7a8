/** How export parity numbers read on the Export screen and Run detail (pure, unit-tested). */
import type { ExportVerification } from '../../../../app/common/ipc/contract.ts';
import { percent } from '../../lib/format.ts';

/** A probability difference: 3.2e-7, or 0 exactly. */
export function difference(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return value === 0 ? '0' : value.toExponential(1);
}

/** The rule an export is judged by, in words: "max |Δp| ≤ 1e-4 on all inputs". */
export function limitText(criterion: ExportVerification['criterion']): string {
  const where = criterion.on === 'all' ? 'all inputs' : 'the images';
  return criterion.metric === 'maxAbsDiff'
    ? `max |Δp| ≤ ${criterion.threshold.toExponential(0)} on ${where}`
    : `top-1 agreement ≥ ${percent(criterion.threshold, 0)} on ${where}`;
}

export function quantizationText(quantization: string): string {
  return quantization === 'none' ? 'float32' : quantization;
}
