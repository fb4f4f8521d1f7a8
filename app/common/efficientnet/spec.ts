import { B0_STAGES, DEFAULT_DROP_CONNECT_RATE, type StageSpec } from './blocks.ts';
import { parseVariant } from './variants.ts';
import type { CompoundCoefficients } from './scaling.ts';

export type PaddingMode = 'same' | 'symmetric';
export type Preprocessing = 'imagenet' | 'none';
export type ClassifierActivation = 'softmax' | 'linear';

/**
 * Everything that determines an EfficientNet's graph. Serialised into saved models' metadata,
 * so every field is plain data.
 */
export interface ModelSpec {
  /** `b0`…`b7`, `phi:X`, or `custom`. */
  readonly variant: string;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly dropout: number;
  /** Stochastic depth rate reached by the last block; block i uses rate·i/blocks (0 disables). */
  readonly dropConnectRate: number;
  readonly numClasses: number;
  readonly includeTop: boolean;
  /** With `includeTop: false`: global pooling of the feature map, or `none` for the raw map. */
  readonly pooling: 'avg' | 'max' | 'none';
  /** `same`: TensorFlow/Keras (stride-2 layers pad bottom/right more); `symmetric`: torchvision/timm. */
  readonly padding: PaddingMode;
  readonly bnEpsilon: number;
  readonly bnMomentum: number;
  /** `imagenet`: input is RGB 0–255 and the model normalises with ImageNet mean/std itself. */
  readonly preprocessing: Preprocessing;
  readonly classifierActivation: ClassifierActivation;
  readonly coefficients?: CompoundCoefficients;
  readonly stages: readonly StageSpec[];
}

export type ModelSpecOptions = Partial<Omit<ModelSpec, 'stages'>> & { stages?: readonly StageSpec[] };

/** Keras' defaults: BN momentum 0.99, epsilon 1e-3, `same` padding, ImageNet preprocessing, softmax top. */
export const SPEC_DEFAULTS = {
  dropConnectRate: DEFAULT_DROP_CONNECT_RATE,
  numClasses: 1000,
  includeTop: true,
  pooling: 'avg',
  padding: 'same',
  bnEpsilon: 1e-3,
  bnMomentum: 0.99,
  preprocessing: 'imagenet',
  classifierActivation: 'softmax',
} as const;

/**
 * A full spec from a variant argument (`b0`, `phi:-1`) plus options; explicit width, depth or
 * resolution override the variant's. Throws a RangeError naming the bad field.
 */
export function makeSpec(variant: string, options: ModelSpecOptions = {}): ModelSpec {
  const choice = parseVariant(variant, options.coefficients);
  const overridden = options.width !== undefined || options.depth !== undefined || options.resolution !== undefined;
  const spec: ModelSpec = {
    ...SPEC_DEFAULTS,
    ...stripUndefined(options),
    variant: overridden && options.variant === undefined ? 'custom' : (options.variant ?? choice.id),
    width: options.width ?? choice.width,
    depth: options.depth ?? choice.depth,
    resolution: options.resolution ?? choice.resolution,
    dropout: options.dropout ?? choice.dropout,
    coefficients: options.coefficients ?? choice.coefficients,
    stages: options.stages ?? B0_STAGES,
  };
  validateSpec(spec);
  return spec;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function validateSpec(spec: ModelSpec): void {
  const positive = (field: string, value: number) => {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${field} must be a positive number, got ${value}`);
  };
  positive('width', spec.width);
  positive('depth', spec.depth);
  if (!Number.isInteger(spec.resolution) || spec.resolution < 32) {
    throw new RangeError(`resolution must be an integer of at least 32 pixels, got ${spec.resolution}`);
  }
  if (!Number.isInteger(spec.numClasses) || spec.numClasses < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${spec.numClasses}`);
  }
  for (const [field, value] of [
    ['dropout', spec.dropout],
    ['dropConnectRate', spec.dropConnectRate],
  ] as const) {
    if (!(value >= 0 && value < 1)) throw new RangeError(`${field} must be in [0, 1), got ${value}`);
  }
  if (!(spec.bnEpsilon > 0)) throw new RangeError(`bnEpsilon must be positive, got ${spec.bnEpsilon}`);
  if (!(spec.bnMomentum >= 0 && spec.bnMomentum < 1)) throw new RangeError(`bnMomentum must be in [0, 1), got ${spec.bnMomentum}`);
  if (spec.padding !== 'same' && spec.padding !== 'symmetric') {
    throw new RangeError(`padding must be 'same' or 'symmetric', got '${String(spec.padding)}'`);
  }
}
