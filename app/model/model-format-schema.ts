import { z } from 'zod';
import type { ModelSpec } from '../common/efficientnet/index.ts';

/**
 * The schema of `effnet.json` (model-format.ts). Every field a later reader relies on is checked on
 * load, so a damaged or hand-edited file fails with the field's name instead of a wrong model.
 */

const positive = z.number().positive();
const fraction = z.number().min(0).lt(1);

const stageSchema = z.object({
  kernelSize: z.int().positive(),
  repeats: z.int().positive(),
  filtersIn: z.int().positive(),
  filtersOut: z.int().positive(),
  expandRatio: positive,
  stride: z.literal([1, 2]),
  seRatio: z.number().min(0).max(1),
  idSkip: z.boolean(),
});

const specSchema = z.object({
  variant: z.string().min(1),
  width: positive,
  depth: positive,
  resolution: z.int().min(32),
  dropout: fraction,
  dropConnectRate: fraction,
  numClasses: z.int().positive(),
  includeTop: z.boolean(),
  pooling: z.enum(['avg', 'max', 'none']),
  padding: z.enum(['same', 'symmetric']),
  bnEpsilon: positive,
  bnMomentum: fraction,
  preprocessing: z.enum(['imagenet', 'none']),
  classifierActivation: z.enum(['softmax', 'linear']),
  coefficients: z.object({ alpha: positive, beta: positive, gamma: positive }).optional(),
  stages: z.array(stageSchema).min(1),
});

const rgb = z.array(z.number()).length(3);

const preprocessingSchema = z.object({
  /** spec.preprocessing: `imagenet` = the model normalises 0–255 RGB itself; `none` = the caller does. */
  mode: z.enum(['imagenet', 'none']),
  /** [height, width] the model's input takes. */
  inputSize: z.tuple([z.int().positive(), z.int().positive()]),
  channels: z.literal('rgb'),
  layout: z.literal('nhwc'),
  /** The pixel range the input expects, or null when the caller normalises. */
  inputRange: z.tuple([z.number(), z.number()]).nullable(),
  /** Per-channel mean and std (on 0–1 pixels) the model applies itself; null when it applies none. */
  mean: rgb.nullable(),
  std: rgb.nullable(),
});

const provenanceSchema = z.looseObject({
  runId: z.string().optional(),
  datasetFingerprint: z.string().optional(),
  /** Where the starting weights came from, e.g. `keras-h5:efficientnetb0_notop.h5`. */
  source: z.string().optional(),
});

export const metadataSchema = z.object({
  formatVersion: z.literal(1),
  spec: specSchema,
  labels: z.array(z.string().min(1)).refine((labels) => new Set(labels).size === labels.length, { message: 'labels must be unique' }),
  preprocessing: preprocessingSchema,
  createdAt: z.iso.datetime({ offset: true }),
  provenance: provenanceSchema.optional(),
});

export type PreprocessingInfo = z.infer<typeof preprocessingSchema>;
export type Provenance = z.infer<typeof provenanceSchema>;
export type ModelMetadata = Omit<z.infer<typeof metadataSchema>, 'spec' | 'labels'> & {
  readonly spec: ModelSpec;
  readonly labels: readonly string[];
};

/** `field.path: problem` for the first few issues, e.g. `field spec.stages[0].stride: Invalid input: expected number to be >0`. */
export function describeIssues(error: z.ZodError, limit = 3): string {
  const parts = error.issues.slice(0, limit).map((issue) => {
    const field =
      issue.path.length > 0
        ? issue.path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`)).join('')
        : '(top level)';
    return `field ${field}: ${issue.message}`;
  });
  const more = error.issues.length > limit ? ` (and ${error.issues.length - limit} more)` : '';
  return parts.join('; ') + more;
}
