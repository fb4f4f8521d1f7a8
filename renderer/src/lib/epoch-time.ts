/**
 * The New run screen's time-per-epoch column: the shared estimate (app/common/epoch-estimate.ts)
 * applied to the form's dataset counts, mode and resolution, and a line saying what it rests on.
 */
import { estimateEpochSeconds, type TrainingSpeed } from '../../../app/common/epoch-estimate.ts';
import type { VariantSummary } from '../../../app/common/ipc/contract.ts';
import type { TrainMode } from '../../../app/common/train-config.ts';

export interface EpochImages {
  readonly train: number;
  readonly validation: number;
}

/** Seconds per epoch of `row` at the form's resolution (MACs grow with the pixel count). */
export function variantEpochSeconds(
  row: VariantSummary,
  options: { images: EpochImages | null; mode: TrainMode; resolution: number | null; speed: TrainingSpeed | null },
): number | null {
  if (!options.images || !options.speed) return null;
  const scale = options.resolution ? (options.resolution / row.resolution) ** 2 : 1;
  return estimateEpochSeconds(
    { macs: row.macs * scale, trainImages: options.images.train, validationImages: options.images.validation, mode: options.mode },
    options.speed,
  );
}

export function estimateNote(speed: TrainingSpeed | null, images: EpochImages | null, mode: TrainMode): string | null {
  if (!speed) return null;
  if (!images) return 'Open a dataset to see the estimated time per epoch on this machine.';
  const where = speed.backend ? ` on ${speed.backend}${speed.device ? ` (${speed.device})` : ''}` : '';
  const head = mode === 'head' ? ' Head mode: the first epoch computes the embeddings; later epochs take seconds.' : '';
  switch (speed.basis.kind) {
    case 'runs':
      return `Time per epoch estimated${where} from this machine's last ${speed.basis.runs === 1 ? 'run' : `${speed.basis.runs} runs`}.${head}`;
    case 'probe':
      return `Time per epoch estimated${where} from a quick speed probe (${speed.basis.gflops.toFixed(1)} GFLOP/s); it gets sharper after your first run.${head}`;
    case 'none':
      return `No time estimate: ${speed.basis.reason}`;
  }
}
