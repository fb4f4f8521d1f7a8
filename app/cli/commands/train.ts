/**
 * `effnet train`: a training run in a worker process through the job manager, recorded in the
 * experiment store (so the desktop app shows it too), with a progress bar on a terminal or one
 * JSON object per line with --json. Ctrl-C cancels cleanly: the worker finishes its step, saves a
 * checkpoint, and the command says how to resume.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import { parseVariant } from '../../common/efficientnet/index.ts';
import { OPTIMIZER_NAMES, TRAIN_MODES, type TrainConfigInput } from '../../common/train-config.ts';
import { JobManager } from '../../jobs/manager.ts';
import { queueTraining } from '../../jobs/training.ts';
import { openAppStore } from '../../store/index.ts';
import { parseNumberOption, parseOptions, UsageError, type Command } from '../command.ts';
import { followTraining } from './training-progress.ts';

const OPTIONS = {
  variant: { type: 'string' },
  mode: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  'image-size': { type: 'string' },
  weights: { type: 'string' },
  name: { type: 'string' },
  optimizer: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  'label-smoothing': { type: 'string' },
  'class-weights': { type: 'string' },
  patience: { type: 'string' },
  unfreeze: { type: 'string' },
  accumulate: { type: 'string' },
  'val-split': { type: 'string' },
  seed: { type: 'string' },
  'no-augment': { type: 'boolean' },
  workers: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train an EfficientNet classifier on a dataset, in a worker process, recorded as a run.',
  usage: `Usage: effnet train DATASET [options] [--json]

  DATASET               a dataset folder (one folder per class, or train/ val/ folders) or a CSV manifest
  --variant V           b0…b7 or phi:X for a custom compound scaling (default b0)
  --mode M              ${TRAIN_MODES.join(' | ')} (default head): head trains the classifier on cached
                        embeddings; finetune also the top --unfreeze blocks; full every layer
  --epochs N            (default 10)
  --batch-size N        (default 32)
  --lr X                learning rate (default 0.001; 0.01 in full mode with --weights none)
  --image-size N        input resolution in pixels (default: the variant's)
  --weights W           imagenet | none | FOLDER of a saved model to start from (default imagenet)
  --name NAME           the run's name (default: "<variant> <mode> on <dataset folder>")
  --optimizer O         ${OPTIMIZER_NAMES.join(' | ')} (default adamw)
  --weight-decay X      (default 0.01 for adamw, else 0)
  --schedule S          cosine | constant (default cosine)
  --warmup EPOCHS       linear warmup length in epochs (default 0)
  --label-smoothing X   (default 0)
  --class-weights W     none | balanced (default none)
  --patience N          stop early after N epochs without improvement (default: never)
  --unfreeze N          finetune mode: blocks to train (default 3)
  --accumulate N        gradient accumulation steps (default 1)
  --val-split X         validation fraction when the dataset is not split (default 0.2)
  --seed N              seed for weights, data order and augmentation (default: drawn and recorded)
  --no-augment          no data augmentation
  --workers N           image decoding threads
  --config FILE         a JSON training config; the options above override its fields
  --json                one JSON object per line: every event, then {"type":"result",…}

Ctrl-C stops after the current step and saves a checkpoint; continue with \`effnet runs resume ID\`.
The run, its metrics and checkpoints are in the data folder (EFFNET_HOME); see \`effnet runs list\`.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, OPTIONS);
    if (positionals.length > 1) throw new UsageError(`expected one DATASET, got ${positionals.length}: ${positionals.join(' ')}`);
    const base = values.config ? await readConfig(path.resolve(io.cwd, values.config)) : {};
    const config = buildConfig(base, positionals[0] === undefined ? undefined : path.resolve(io.cwd, positionals[0]), values, io.cwd);
    await checkDataset(String((config.dataset as { path: string }).path));
    const { store } = openAppStore(io.env);
    try {
      const jobs = new JobManager({ store, env: io.env });
      return await followTraining(
        io,
        jobs,
        store,
        (listener) => queueTraining(jobs, store, { config, name: values.name, listener }, io.env),
        Boolean(values.json),
      );
    } finally {
      store.close();
    }
  },
};

type Values = ReturnType<typeof parseOptions<typeof OPTIONS>>['values'];

/** The config file's fields, overridden by the command-line options that were given. */
export function buildConfig(base: Record<string, unknown>, dataset: string | undefined, values: Values, cwd: string): TrainConfigInput {
  const integer = (name: keyof Values, low = 1) =>
    parseNumberOption(name, values[name] as string | undefined, (n) => Number.isInteger(n) && n >= low, `a whole number ≥ ${low}`);
  const number = (name: keyof Values, check: (n: number) => boolean, expected: string) =>
    parseNumberOption(name, values[name] as string | undefined, check, expected);
  const choice = <T extends string>(name: keyof Values, allowed: readonly T[]): T | undefined => {
    const value = values[name] as string | undefined;
    if (value !== undefined && !allowed.includes(value as T))
      throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${value}'`);
    return value as T | undefined;
  };
  if (values.variant !== undefined) {
    try {
      parseVariant(values.variant);
    } catch (error) {
      throw new UsageError(`--variant: ${(error as Error).message}`);
    }
  }
  const weights = values.weights;
  const fromFolder = weights !== undefined && weights !== 'imagenet' && weights !== 'none';
  const sections = (key: string) => ({ ...((base[key] as Record<string, unknown> | undefined) ?? {}) });
  const datasetPath = dataset ?? (base.dataset as { path?: string } | undefined)?.path;
  if (!datasetPath) throw new UsageError('give the DATASET folder or manifest to train on');

  const config: Record<string, unknown> = { ...base };
  config.dataset = prune({
    ...sections('dataset'),
    path: datasetPath,
    validationSplit: number('val-split', (n) => n >= 0 && n < 1, 'a fraction from 0 to below 1'),
  });
  config.model = prune({
    ...sections('model'),
    variant: values.variant?.trim().toLowerCase(),
    resolution: integer('image-size', 32),
    weights: fromFolder ? undefined : weights,
    initialModel: fromFolder ? path.resolve(cwd, weights) : undefined,
  });
  config.optimizer = prune({
    ...sections('optimizer'),
    name: choice('optimizer', OPTIMIZER_NAMES),
    learningRate: number('lr', (n) => n > 0 && n <= 10, 'a positive number up to 10'),
    weightDecay: number('weight-decay', (n) => n >= 0 && n <= 1, 'a number from 0 to 1'),
  });
  config.schedule = prune({
    ...sections('schedule'),
    name: choice('schedule', ['cosine', 'constant']),
    warmupEpochs: number('warmup', (n) => n >= 0, 'a number ≥ 0'),
  });
  config.earlyStopping = prune({ ...sections('earlyStopping'), patience: integer('patience') });
  config.data = prune({ ...sections('data'), workers: integer('workers', 0) });
  Object.assign(
    config,
    prune({
      mode: choice('mode', TRAIN_MODES),
      epochs: integer('epochs'),
      batchSize: integer('batch-size'),
      labelSmoothing: number('label-smoothing', (n) => n >= 0 && n < 1, 'a fraction from 0 to below 1'),
      classWeights: choice('class-weights', ['none', 'balanced']),
      unfreezeBlocks: integer('unfreeze'),
      accumulationSteps: integer('accumulate'),
      seed: integer('seed', 0),
    }),
  );
  if (values['no-augment']) config.augment = null;
  return config as TrainConfigInput;
}

/** Drops the undefined fields, so that an option not given leaves the config file's value (or the default). */
function prune(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

async function readConfig(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AppError('not-found', `Cannot read the training config ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new AppError('train-config-invalid', `The training config ${file} is not a JSON object: ${(error as Error).message}`, {
      hint: 'Write the config as JSON, with the fields of app/common/train-config.ts.',
    });
  }
}

/** A missing dataset is a mistake on the command line: say so before a run is recorded. */
async function checkDataset(location: string): Promise<void> {
  try {
    await stat(location);
  } catch {
    throw new AppError('not-found', `Dataset ${location} does not exist.`, {
      hint: 'Give a dataset folder (one folder per class) or a CSV/TSV manifest.',
    });
  }
}
