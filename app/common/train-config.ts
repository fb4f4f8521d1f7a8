/**
 * What a training run does, as one validated, JSON-serialisable object: the CLI, the desktop app
 * and the job manager all build it, the store keeps it with the run, and the train worker checks it
 * again on arrival. Every field has a default a first-time user can live with; unknown fields are
 * errors (a misspelt `learningrate` must not silently train with the default).
 *
 * Pure TypeScript (zod only): the renderer builds and validates configs too.
 */
import { z } from 'zod';
import { AppError } from './errors.ts';

export const TRAIN_MODES = ['head', 'finetune', 'full'] as const;
/**
 * `head`: the backbone is frozen and only the classifier trains, on embeddings computed once.
 * `finetune`: the top `unfreezeBlocks` MBConv blocks, the head convolution and the classifier train,
 * with every BatchNorm kept in inference mode (Keras' transfer-learning guide). `full`: every layer.
 */
export type TrainMode = (typeof TRAIN_MODES)[number];

export const OPTIMIZER_NAMES = ['adam', 'adamw', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** AdamW's weight decay when none is given: PyTorch's `torch.optim.AdamW` default. */
export const ADAMW_DEFAULT_WEIGHT_DECAY = 0.01;

/**
 * The default augmentation is deliberately light: horizontal flips and a random-resized crop that
 * keeps at least half the image; rotation, colour jitter and random erasing are there to switch on.
 * timm and torchvision's ImageNet recipe (crop scale 0.08–1, colour jitter 0.4) is tuned for 224 px
 * images over hundreds of epochs; this app's usual run is a few hundred 32–64 px images for a few
 * epochs, where strong augmentation only slows learning. Measured on a 10-class Fashion-MNIST subset
 * (320 training images, 32 px, phi:-4 from scratch, 6 epochs; validation accuracy): no augmentation
 * 41 %, flips 54 %, flips + crop 0.5–1 48 %, + rotation 36 %, + colour jitter 19 %, the old default
 * (crop 0.08–1, rotation, jitter, erasing) 10–26 %. The same direction as EfficientNetV2's progressive
 * learning (Tan & Le 2021, §4: weaker augmentation for smaller images), the CIFAR recipe of flips
 * and small crops (He et al. 2016, §4.2), and timm's defaults, where random erasing is off (reprob 0).
 * For long runs on larger images, set e.g. crop.scale [0.08, 1] and colorJitter/erasing enabled.
 */
export const DEFAULT_CROP_SCALE = [0.5, 1] as const;

const positive = z.number().positive();
const fraction = z.number().min(0).lt(1);
const probability = z.number().min(0).max(1);
const toggle = (strength: z.ZodNumber, enabled: boolean, value: number) =>
  z.strictObject({ enabled: z.boolean().default(enabled), strength: strength.default(value) }).prefault({});

/** The data pipeline's augmentations (app/dataset/pipeline/config.ts AugmentConfig), with the training defaults above. */
export const augmentSchema = z.strictObject({
  crop: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Area fraction of the crop; the default keeps at least half the image (DEFAULT_CROP_SCALE). */
      scale: z.tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)]).default([...DEFAULT_CROP_SCALE]),
      ratio: z.tuple([positive, positive]).default([3 / 4, 4 / 3]),
    })
    .refine((crop) => crop.scale[0] <= crop.scale[1], { message: 'scale must be [min, max] with min <= max', path: ['scale'] })
    .refine((crop) => crop.ratio[0] <= crop.ratio[1], { message: 'ratio must be [min, max] with min <= max', path: ['ratio'] })
    .prefault({}),
  flip: toggle(probability, true, 0.5),
  rotation: toggle(z.number().min(0).max(45), false, 10),
  colorJitter: toggle(probability, false, 0.4),
  erasing: toggle(probability, false, 0.25),
});

export const trainConfigSchema = z.strictObject({
  dataset: z.strictObject({
    /** A dataset folder or a CSV/TSV manifest (app/dataset readers). */
    path: z.string().min(1),
    format: z.enum(['class-folders', 'split-folders', 'manifest']).optional(),
    /** Fractions held out when the dataset is not already split (a saved effnet-split.json wins). */
    validationSplit: fraction.default(0.2),
    testSplit: fraction.default(0),
    splitSeed: z.int().default(42),
  }),
  mode: z.enum(TRAIN_MODES).default('head'),
  model: z
    .strictObject({
      /** `b0`…`b7` or `phi:X`. */
      variant: z.string().min(1).default('b0'),
      resolution: z.int().min(32).max(1024).optional(),
      width: positive.optional(),
      depth: positive.optional(),
      dropout: fraction.optional(),
      dropConnectRate: fraction.optional(),
      /**
       * BatchNorm moving-average momentum. Absent: Keras' 0.99, except in full mode from random weights,
       * where it follows the epoch length (scratchBatchNormMomentum) so the averages settle within an epoch.
       */
      bnMomentum: fraction.optional(),
      /** Start from Keras' ImageNet weights, or from random weights (seeded). */
      weights: z.enum(['imagenet', 'none']).default('imagenet'),
      /** A saved model folder to start from instead (its spec and weights; the classifier is replaced when the classes differ). */
      initialModel: z.string().min(1).optional(),
    })
    .prefault({}),
  /** finetune mode: how many of the last MBConv blocks train (B0 has 16). */
  unfreezeBlocks: z.int().min(1).default(3),
  epochs: z.int().min(1).max(100000).default(10),
  /** Images per forward pass (what must fit in memory). */
  batchSize: z.int().min(1).max(4096).default(32),
  /** Forward passes per optimizer step: the effective batch is batchSize × accumulationSteps. */
  accumulationSteps: z.int().min(1).max(1024).default(1),
  optimizer: z
    .strictObject({
      name: z.enum(OPTIMIZER_NAMES).default('adamw'),
      /** Absent: DEFAULT_LEARNING_RATE, or SCRATCH_LEARNING_RATE in full mode from random weights (effectiveLearningRate). */
      learningRate: positive.max(10).optional(),
      /** L2 for adam and sgd, decoupled for adamw (default 0.01 for adamw, 0 otherwise). Kernels only, not biases or BatchNorm. */
      weightDecay: z.number().min(0).max(1).optional(),
      beta1: fraction.default(0.9),
      beta2: fraction.default(0.999),
      /** Keras' default; PyTorch uses 1e-8. */
      epsilon: positive.default(1e-7),
      momentum: fraction.default(0.9),
      nesterov: z.boolean().default(false),
    })
    .prefault({}),
  schedule: z
    .strictObject({
      name: z.enum(['cosine', 'constant']).default('cosine'),
      /** Linear warmup from ~0 to the learning rate, in epochs (fractions allowed), counted in steps. */
      warmupEpochs: z.number().min(0).default(0),
      /** Where cosine decay ends. */
      minLearningRate: z.number().min(0).default(0),
    })
    .prefault({}),
  labelSmoothing: fraction.default(0),
  /** `balanced`: n / (classes × count) per class, as scikit-learn and Keras' guide compute it; or a weight per class name. */
  classWeights: z.union([z.enum(['none', 'balanced']), z.record(z.string().min(1), z.number().min(0))]).default('none'),
  /** The validation metric that picks the best checkpoint and drives early stopping. */
  monitor: z.enum(['val_accuracy', 'val_loss']).default('val_accuracy'),
  earlyStopping: z
    .strictObject({
      /** Epochs without an improvement of more than minDelta before stopping; null: never stop early. */
      patience: z.int().min(1).nullable().default(null),
      minDelta: z.number().min(0).default(0),
      /** Keep the best epoch's weights as the final model (otherwise the last epoch's). */
      restoreBest: z.boolean().default(true),
    })
    .prefault({}),
  /** null: no augmentation. Ignored in head mode (embeddings are computed once, from unaugmented images). */
  augment: augmentSchema.nullable().prefault({}),
  /** Seeds weight initialisation, data order, augmentation and dropout; absent: one is drawn and recorded. */
  seed: z.int().min(0).max(0xffffffff).optional(),
  data: z
    .strictObject({
      /** Decoding threads; 0 decodes on the training thread. Default: CPUs − 1, at most 4. */
      workers: z.int().min(0).max(64).optional(),
      /** Decoded-image cache budget. */
      cacheMegabytes: z.int().min(0).max(65536).default(256),
    })
    .prefault({}),
});

/** A config as written by a person or a form: every defaulted field optional. */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;
/** A validated config with every default filled in. */
export type TrainConfig = z.output<typeof trainConfigSchema>;
export type AugmentSettings = z.output<typeof augmentSchema>;

/**
 * Validates a config (from JSON, a form or the CLI) and fills in the defaults. Throws an AppError
 * `train-config-invalid` whose message names the first bad field, e.g.
 * `Training config: optimizer.learningRate: Too small: expected number to be >0`.
 */
export function parseTrainConfig(input: unknown): TrainConfig {
  const parsed = trainConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    // An unknown key is reported at its parent by zod; name the key itself, that is what to fix.
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const field = path
      .map((key) => (typeof key === 'number' ? `[${key}]` : String(key)))
      .join('.')
      .replace(/\.\[/g, '[');
    const message = issue.code === 'unrecognized_keys' ? 'unknown field (check the spelling)' : issue.message;
    return { field: field || '(config)', message };
  });
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw new AppError('train-config-invalid', `Training config: ${first.field}: ${first.message}${more}`, {
    hint: 'Fix the field named above; every field and its allowed values are listed in app/common/train-config.ts.',
    details: { issues },
  });
}

/** The weight decay actually used: the configured one, else AdamW's default for adamw and 0 otherwise. */
export function effectiveWeightDecay(optimizer: TrainConfig['optimizer']): number {
  return optimizer.weightDecay ?? (optimizer.name === 'adamw' ? ADAMW_DEFAULT_WEIGHT_DECAY : 0);
}

/** Keras' Adam default: right for a new classifier (head mode) and for fine-tuning the top of a pretrained network. */
export const DEFAULT_LEARNING_RATE = 1e-3;

/**
 * The learning rate of a full-mode run from random weights when none is given. Every weight starts
 * random, and the small datasets this app sees give few optimizer steps (a 60-image dataset in
 * batches of 32 is 2 steps an epoch): at 1e-3 AdamW a 5-epoch run moves the features too little
 * and the model memorises its training images on near-random features (measured on the 3-class
 * set of defaults.test.ts, phi:-4 at 32 px, 5 epochs: every training image right but 60 % validation
 * accuracy at 1e-3; 87–100 % validation at 1e-2). Reference
 * from-scratch recipes use larger rates too: the EfficientNet paper's RMSprop 0.256 per 4096 images
 * (0.016 per 256) and timm's EfficientNet-B0 recipe 0.048 per 384 (Tan & Le 2019 §5.2; timm
 * training-scripts docs), with BatchNorm keeping the larger steps stable.
 */
export const SCRATCH_LEARNING_RATE = 1e-2;

/** Keras' BatchNormalization default, and EfficientNet's (keras.applications, the TF reference). */
export const KERAS_BN_MOMENTUM = 0.99;

/**
 * The BatchNorm momentum of a full-mode run from random weights when model.bnMomentum is not set.
 *
 * A moving average with momentum m keeps m^n of its start after n updates (one per forward pass in
 * training mode, i.e. per micro-batch). Keras' 0.99 suits ImageNet's thousands of steps per epoch;
 * a 320-image dataset in batches of 16 has 20 per epoch, so after 6 epochs the averages are still
 * 30 % their initial mean 0 / variance 1, validation runs on wrong statistics, and the model
 * predicts one class (measured: 10 % validation accuracy on 10 classes while training accuracy
 * rose). This picks m so that m^(micro-batches per epoch) = 1 %: the averages settle within an epoch.
 * It is clamped to [0.9, 0.99]: never above Keras' default (large datasets get exactly 0.99), and
 * never below timm's and torchvision's 0.9 (PyTorch's momentum 0.1), which this gives at about 44
 * micro-batches per epoch: lower values track the last batch or two and make validation swing.
 * Shorter epochs still settle because training starts with a running average (batch-norm-warmup.ts).
 */
export const SCRATCH_BN_MOMENTUM_FLOOR = 0.9;

export function scratchBatchNormMomentum(microBatchesPerEpoch: number): number {
  const momentum = 0.01 ** (1 / Math.max(1, microBatchesPerEpoch));
  return Math.round(Math.min(KERAS_BN_MOMENTUM, Math.max(SCRATCH_BN_MOMENTUM_FLOOR, momentum)) * 1000) / 1000;
}

/** The BatchNorm momentum a run builds its model with: the configured one, else as scratchBatchNormMomentum says for a from-scratch full run. */
export function effectiveBatchNormMomentum(config: TrainConfig, trainImages: number): number | undefined {
  if (config.model.bnMomentum !== undefined) return config.model.bnMomentum;
  return trainsFromScratch(config) ? scratchBatchNormMomentum(Math.ceil(trainImages / config.batchSize)) : undefined;
}

/** Whether every weight starts random and trains: full mode without ImageNet weights or a starting model. */
export function trainsFromScratch(config: TrainConfig): boolean {
  return config.mode === 'full' && config.model.weights === 'none' && !config.model.initialModel;
}

/** The learning rate actually used: the configured one, else SCRATCH_LEARNING_RATE from scratch and DEFAULT_LEARNING_RATE otherwise. */
export function effectiveLearningRate(config: TrainConfig): number {
  return config.optimizer.learningRate ?? (trainsFromScratch(config) ? SCRATCH_LEARNING_RATE : DEFAULT_LEARNING_RATE);
}
