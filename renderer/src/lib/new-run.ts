/**
 * The New run form as data: its fields with defaults a first-time user can live with, and the
 * training config it becomes (validated by the same schema the trainer uses, so the form can show
 * "learning rate must be above 0" before anything starts). Pure: a unit test covers it.
 */
import { trainConfigSchema, type TrainConfigInput, type TrainMode, type OptimizerName } from '../../../app/common/train-config.ts';

export interface RunForm {
  name: string;
  dataset: string;
  /** `b0`…`b7`, or `custom` (then `phi` is used). */
  variant: string;
  phi: number;
  mode: TrainMode;
  weights: 'imagenet' | 'none';
  epochs: number;
  batchSize: number;
  learningRate: number;
  // Advanced
  optimizer: OptimizerName;
  /** null: the optimizer's default (0.01 for AdamW, else 0). */
  weightDecay: number | null;
  schedule: 'cosine' | 'constant';
  warmupEpochs: number;
  labelSmoothing: number;
  classWeights: 'none' | 'balanced';
  /** null: never stop early. */
  patience: number | null;
  unfreezeBlocks: number;
  /** null: the variant's own resolution. */
  resolution: number | null;
  validationSplit: number;
  /** null: drawn when the run starts, and recorded. */
  seed: number | null;
  augment: boolean;
}

/** Learning rates that work for each mode (Keras' transfer-learning guide: a new head learns fast; unfrozen pretrained layers need a small rate). */
export const SUGGESTED_LEARNING_RATE: Readonly<Record<TrainMode, number>> = { head: 1e-3, finetune: 1e-4, full: 1e-3 };

/**
 * From random weights nothing pretrained can be destroyed and small datasets give few steps, so
 * the trainer's own from-scratch default (app/common/train-config.ts) is higher: keep the form equal.
 */
export const FROM_SCRATCH_LEARNING_RATE = 1e-2;

export function suggestedLearningRate(mode: TrainMode, weights: RunForm['weights']): number {
  return mode === 'full' && weights === 'none' ? FROM_SCRATCH_LEARNING_RATE : SUGGESTED_LEARNING_RATE[mode];
}

export function defaultForm(dataset = ''): RunForm {
  return {
    name: '',
    dataset,
    variant: 'b0',
    phi: 0,
    mode: 'head',
    weights: 'imagenet',
    epochs: 10,
    batchSize: 32,
    learningRate: SUGGESTED_LEARNING_RATE.head,
    optimizer: 'adamw',
    weightDecay: null,
    schedule: 'cosine',
    warmupEpochs: 0,
    labelSmoothing: 0,
    classWeights: 'none',
    patience: null,
    unfreezeBlocks: 3,
    resolution: null,
    validationSplit: 0.2,
    seed: null,
    augment: true,
  };
}

export function variantName(form: Pick<RunForm, 'variant' | 'phi'>): string {
  return form.variant === 'custom' ? `phi:${form.phi}` : form.variant;
}

/** The training config the form describes: only what differs from the defaults is left to them. */
export function toConfig(form: RunForm): TrainConfigInput {
  const optional = <T>(value: T | null | undefined) =>
    value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value)) ? undefined : value;
  return {
    dataset: { path: form.dataset.trim(), validationSplit: form.validationSplit },
    mode: form.mode,
    model: { variant: variantName(form), weights: form.weights, resolution: optional(form.resolution) },
    unfreezeBlocks: form.unfreezeBlocks,
    epochs: form.epochs,
    batchSize: form.batchSize,
    optimizer: { name: form.optimizer, learningRate: form.learningRate, weightDecay: optional(form.weightDecay) },
    schedule: { name: form.schedule, warmupEpochs: form.warmupEpochs },
    labelSmoothing: form.labelSmoothing,
    classWeights: form.classWeights,
    earlyStopping: { patience: optional(form.patience) ?? null },
    augment: form.augment ? {} : null,
    seed: optional(form.seed),
  };
}

/** Problems by form field, in words; empty when the config is valid. */
export function validateForm(form: RunForm): Record<string, string> {
  const problems: Record<string, string> = {};
  if (form.dataset.trim() === '') problems.dataset = 'Choose a dataset first.';
  if (form.variant === 'custom' && !(form.phi >= -4 && form.phi <= 8)) problems.variant = 'φ must be between −4 and 8.';
  if (form.weights === 'imagenet' && form.variant === 'custom')
    problems.weights = 'ImageNet weights exist for B0–B7 only: choose "Random" for a custom φ.';
  const parsed = trainConfigSchema.safeParse(toConfig(form));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = FIELD_OF[issue.path.join('.')] ?? String(issue.path.at(-1) ?? 'config');
      problems[field] ??= issue.message;
    }
  }
  return problems;
}

/** Choices that work but are probably not what the user wants. */
export function formWarnings(form: RunForm, weights: { cached: boolean; fetchCommand: string } | null): string[] {
  const warnings: string[] = [];
  if (form.mode === 'head' && form.weights === 'none')
    warnings.push('Training only the head on a random backbone learns little: use ImageNet weights, or train the full network.');
  if (form.weights === 'imagenet' && form.variant !== 'custom' && weights && !weights.cached) {
    warnings.push(
      `The ImageNet weights for ${form.variant.toUpperCase()} are not downloaded yet: run “${weights.fetchCommand}” first, or choose Random weights.`,
    );
  }
  if (form.mode !== 'head' && form.weights !== 'none' && form.learningRate > 3e-3)
    warnings.push('A learning rate above 0.003 often destroys pretrained features when layers are unfrozen.');
  return warnings;
}

/** Config paths back to form fields, so a schema complaint lands beside the right input. */
const FIELD_OF: Record<string, keyof RunForm> = {
  'dataset.path': 'dataset',
  'dataset.validationSplit': 'validationSplit',
  'model.resolution': 'resolution',
  'optimizer.learningRate': 'learningRate',
  'optimizer.weightDecay': 'weightDecay',
  'schedule.warmupEpochs': 'warmupEpochs',
  'earlyStopping.patience': 'patience',
};
