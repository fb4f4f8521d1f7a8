/**
 * What the input pipeline does to each image. Batches leave the pipeline as RGB floats in 0–255:
 * normalisation is the model's first layers (efficientnet-facts §1.8), so it is not done here.
 */
import { AppError } from '../../common/errors.ts';

/**
 * The fraction of the shorter side an evaluation image keeps: resize the shorter side to
 * imageSize / 0.875, then center-crop imageSize (224 from 256). The TF reference uses
 * CROP_FRACTION = 0.875 since Nov 2021 and timm's B0 crop_pct is 0.875 (efficientnet-facts §3.2, §4.2).
 */
export const EVAL_CROP_FRACTION = 0.875;

export interface ToggleStrength {
  readonly enabled: boolean;
  /** What "stronger" means is per augmentation; see AugmentConfig. */
  readonly strength: number;
}

export interface AugmentConfig {
  /**
   * Random-resized-crop as torchvision's RandomResizedCrop (Szegedy et al. 2015): a box covering
   * `scale` of the image area with aspect ratio in `ratio`, resized to imageSize. Off: the eval crop.
   */
  readonly crop: { readonly enabled: boolean; readonly scale: readonly [number, number]; readonly ratio: readonly [number, number] };
  /** Horizontal mirror; strength = probability (0–1). */
  readonly flip: ToggleStrength;
  /** Rotation by a uniform angle in ±strength degrees (0–45); corners come from the surrounding image. */
  readonly rotation: ToggleStrength;
  /**
   * Color jitter as torchvision's ColorJitter: brightness, contrast and saturation factors in
   * [1 - strength, 1 + strength], hue shift in ±strength/4 turns, in random order. 0–1; timm's default is 0.4.
   */
  readonly colorJitter: ToggleStrength;
  /**
   * Random erasing (Zhong et al. 2017, torchvision RandomErasing): a rectangle of 2–33 % of the area,
   * aspect 0.3–3.3, filled with random pixels; strength = probability (0–1).
   */
  readonly erasing: ToggleStrength;
}

export type PipelineMode = 'train' | 'eval';

export interface PipelineConfig {
  readonly imageSize: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly epoch: number;
  /** null: no augmentation (train mode then uses the eval crop too). Ignored in eval mode. */
  readonly augment: AugmentConfig | null;
  readonly mode: PipelineMode;
  /** Keep the last, smaller batch (default true). */
  readonly keepRemainder?: boolean;
}

export const DEFAULT_AUGMENT: AugmentConfig = {
  crop: { enabled: true, scale: [0.08, 1], ratio: [3 / 4, 4 / 3] },
  flip: { enabled: true, strength: 0.5 },
  rotation: { enabled: true, strength: 10 },
  colorJitter: { enabled: true, strength: 0.4 },
  erasing: { enabled: true, strength: 0.25 },
};

/** Augmentation with every step off: train mode then equals eval mode. */
export const NO_AUGMENT: AugmentConfig = {
  crop: { ...DEFAULT_AUGMENT.crop, enabled: false },
  flip: { ...DEFAULT_AUGMENT.flip, enabled: false },
  rotation: { ...DEFAULT_AUGMENT.rotation, enabled: false },
  colorJitter: { ...DEFAULT_AUGMENT.colorJitter, enabled: false },
  erasing: { ...DEFAULT_AUGMENT.erasing, enabled: false },
};

/** The per-image part of the config: all a worker needs to turn a file into a sample. */
export interface TransformConfig {
  readonly imageSize: number;
  readonly mode: PipelineMode;
  readonly augment: AugmentConfig | null;
  readonly seed: number;
}

function invalid(field: string, message: string): AppError {
  return new AppError('pipeline-config', `${field} ${message}`, { hint: 'Check the data pipeline settings.' });
}

function checkRange(field: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max) throw invalid(field, `must be between ${min} and ${max}, got ${value}`);
}

function checkInteger(field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(field, `must be an integer from ${min}, got ${value}`);
}

export function validateAugment(augment: AugmentConfig): void {
  const { crop } = augment;
  if (!(crop.scale[0] > 0 && crop.scale[0] <= crop.scale[1] && crop.scale[1] <= 1)) {
    throw invalid('augment.crop.scale', `must satisfy 0 < min <= max <= 1, got [${crop.scale.join(', ')}]`);
  }
  if (!(crop.ratio[0] > 0 && crop.ratio[0] <= crop.ratio[1] && Number.isFinite(crop.ratio[1]))) {
    throw invalid('augment.crop.ratio', `must satisfy 0 < min <= max, got [${crop.ratio.join(', ')}]`);
  }
  checkRange('augment.flip.strength', augment.flip.strength, 0, 1);
  checkRange('augment.rotation.strength', augment.rotation.strength, 0, 45);
  checkRange('augment.colorJitter.strength', augment.colorJitter.strength, 0, 1);
  checkRange('augment.erasing.strength', augment.erasing.strength, 0, 1);
}

export function validatePipelineConfig(config: PipelineConfig): void {
  checkInteger('imageSize', config.imageSize, 8, 4096);
  checkInteger('batchSize', config.batchSize, 1, 65536);
  checkInteger('epoch', config.epoch, 0);
  if (!Number.isFinite(config.seed)) throw invalid('seed', `must be a number, got ${config.seed}`);
  if (config.mode !== 'train' && config.mode !== 'eval') throw invalid('mode', `must be 'train' or 'eval', got '${String(config.mode)}'`);
  if (config.augment) validateAugment(config.augment);
}
