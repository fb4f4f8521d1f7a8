import { z } from 'zod';
import type { TrainingSpeed } from '../epoch-estimate.ts';
import type { Result } from '../errors.ts';
import type { NoteRow, RunDetail, RunEventRow, RunListPage } from '../store-types.ts';
import { RUN_STATUSES } from '../store-types.ts';
import { augmentSchema, trainConfigSchema } from '../train-config.ts';
import { scalingChannelArgs, type ScalingChannelResults } from './scaling.ts';
import { deploymentChannelArgs, type DeploymentChannelResults } from './deployment.ts';
import type {
  AppInfo,
  AugmentPreview,
  DatasetReport,
  JobSummary,
  DoctorSummary,
  RecentDataset,
  RunCompareResult,
  RunEvaluation,
  SplitSummary,
  Thumbnail,
  VariantSummary,
  WeightsSummary,
} from './types.ts';

export type * from './types.ts';
export type * from './scaling.ts';
export type * from './deployment.ts';

/**
 * The one contract between the UI and the app core, shared by the Electron main process, the
 * preload and the headless server (STYLE.md §5–6). Each channel is `domain:verb`, has a zod
 * schema for its arguments (checked on arrival, never trusted from the renderer) and a result type.
 * A new channel is three lines here plus its handler in app/api/<domain>.ts.
 */

/** A file or folder path from the renderer; the handler checks that it exists and is the right kind. */
const pathArg = z
  .string()
  .min(1, 'give a path')
  .max(4096)
  .refine((value) => !value.includes('\0'), 'a path cannot contain a NUL character');
const runId = z.number().int().positive();

/** The preview shows exactly the augmentations a training config holds (same schema, same defaults). */
export type AugmentSettings = z.input<typeof augmentSchema>;

const runListSchema = z.strictObject({
  status: z.array(z.enum(RUN_STATUSES)).optional(),
  tags: z.array(z.string().min(1).max(64)).optional(),
  datasetId: z.number().int().positive().optional(),
  search: z.string().max(200).optional(),
  sort: z.enum(['created', 'name', 'bestValAccuracy', 'finalValAccuracy', 'duration']).optional(),
  direction: z.enum(['asc', 'desc']).optional(),
  limit: z.number().int().min(1).max(500).optional(),
  offset: z.number().int().min(0).optional(),
});
export type RunListArgs = z.infer<typeof runListSchema>;

export const CHANNEL_ARGS = {
  'app:info': z.tuple([]),
  'system:doctor': z.tuple([]),
  'system:weights': z.tuple([]),
  'models:variants': z.tuple([]),
  /** A variant by name (`b3`) or a custom compound coefficient φ (−4 to 8: below −2 for quick experiments). */
  'models:describe': z.tuple([
    z.union([z.strictObject({ variant: z.string().regex(/^b[0-7]$/) }), z.strictObject({ phi: z.number().min(-4).max(8) })]),
  ]),
  /** This machine's training speed on its backend (from its finished runs, else a probe): time-per-epoch estimates. */
  'models:speed': z.tuple([]),
  'datasets:recent': z.tuple([]),
  /** Reads and decodes every image once: classes, balance, unreadable files, duplicates, leaks. */
  'datasets:inspect': z.tuple([z.strictObject({ source: pathArg })]),
  /** Small JPEGs of one class's first images, or of named files (relative to the dataset root). */
  'datasets:thumbnails': z.tuple([
    z.strictObject({
      source: pathArg,
      class: z.string().min(1).optional(),
      paths: z.array(z.string().min(1).max(4096)).max(64).optional(),
      limit: z.number().int().min(1).max(64).default(8),
      size: z.number().int().min(16).max(256).default(96),
    }),
  ]),
  'datasets:split': z.tuple([
    z.strictObject({
      source: pathArg,
      val: z.number().min(0).lt(1),
      test: z.number().min(0).lt(1),
      seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      /** false: only count; true: write effnet-split.json (atomically) beside the dataset. */
      save: z.boolean().default(false),
    }),
  ]),
  'datasets:preview': z.tuple([
    z.strictObject({
      source: pathArg,
      imageSize: z.number().int().min(16).max(600).default(160),
      rows: z.number().int().min(1).max(8).default(3),
      cols: z.number().int().min(1).max(8).default(6),
      seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      mode: z.enum(['train', 'eval']).default('train'),
      augment: augmentSchema,
    }),
  ]),
  'runs:list': z.tuple([runListSchema]),
  'runs:get': z.tuple([runId]),
  'runs:compare': z.tuple([z.array(runId).min(2).max(12)]),
  'runs:evaluation': z.tuple([runId]),
  'runs:events': z.tuple([runId, z.number().int().min(0)]),
  'runs:tags': z.tuple([]),
  'runs:tag': z.tuple([z.strictObject({ run: runId, add: z.array(z.string()).default([]), remove: z.array(z.string()).default([]) })]),
  'runs:rename': z.tuple([runId, z.string().trim().min(1).max(200)]),
  'runs:addNote': z.tuple([runId, z.string().trim().min(1).max(20_000)]),
  'runs:updateNote': z.tuple([z.number().int().positive(), z.string().trim().min(1).max(20_000)]),
  'runs:deleteNote': z.tuple([z.number().int().positive()]),
  'runs:delete': z.tuple([runId]),
  /** Queues a training run (validated by the training config's own schema); the dataset path must exist. */
  'training:start': z.tuple([z.strictObject({ config: trainConfigSchema, name: z.string().trim().min(1).max(200).optional() })]),
  /** Stops after the current step and saves a checkpoint (a queued run never starts). */
  'training:cancel': z.tuple([runId]),
  'training:pause': z.tuple([runId]),
  'training:resume': z.tuple([runId]),
  /** Continues a stopped run as a new run from its last checkpoint; `epochs` may extend it. */
  'training:continue': z.tuple([runId, z.strictObject({ epochs: z.number().int().min(1).max(100_000).optional() })]),
  /** The jobs of this session (queued, running, and those that ended). */
  'training:jobs': z.tuple([]),
  ...scalingChannelArgs(pathArg),
  ...deploymentChannelArgs(pathArg),
} as const;

export type Channel = keyof typeof CHANNEL_ARGS;
export const CHANNELS = Object.keys(CHANNEL_ARGS) as Channel[];

/** What each channel resolves to. */
export interface ChannelResults extends ScalingChannelResults, DeploymentChannelResults {
  'app:info': AppInfo;
  'system:doctor': DoctorSummary;
  'system:weights': WeightsSummary;
  'models:variants': VariantSummary[];
  'models:describe': VariantSummary;
  'models:speed': TrainingSpeed;
  'datasets:recent': RecentDataset[];
  'datasets:inspect': DatasetReport;
  'datasets:thumbnails': Thumbnail[];
  'datasets:split': SplitSummary;
  'datasets:preview': AugmentPreview;
  'runs:list': RunListPage;
  'runs:get': RunDetail;
  'runs:compare': RunCompareResult;
  'runs:evaluation': RunEvaluation | null;
  'runs:events': RunEventRow[];
  'runs:tags': { name: string; runs: number }[];
  'runs:tag': string[];
  'runs:rename': { id: number; name: string };
  'runs:addNote': NoteRow;
  'runs:updateNote': NoteRow;
  'runs:deleteNote': { deleted: boolean };
  'runs:delete': { deletedFiles: number; keptFiles: string[] };
  'training:start': { runId: number; jobId: string };
  'training:cancel': { cancelled: boolean };
  'training:pause': JobSummary;
  'training:resume': JobSummary;
  'training:continue': { runId: number; jobId: string };
  'training:jobs': JobSummary[];
}

/** Arguments as the caller writes them (schema defaults may be left out). */
export type ChannelArgs<K extends Channel> = z.input<(typeof CHANNEL_ARGS)[K]>;
/** Arguments as the handler receives them, after validation and defaults. */
export type ParsedArgs<K extends Channel> = z.output<(typeof CHANNEL_ARGS)[K]>;

/** The API as the core implements it. */
export type ApiHandlers = { [K in Channel]: (...args: ParsedArgs<K>) => Promise<ChannelResults[K]> };

/** The API as the renderer sees it: every call returns a Result (errors are data across the boundary). */
export type ApiTransport = <K extends Channel>(channel: K, ...args: ChannelArgs<K>) => Promise<Result<ChannelResults[K]>>;

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && Object.hasOwn(CHANNEL_ARGS, value);
}

/** Validates a call's channel and arguments; the message names the argument and what is wrong. */
export function parseCall(channel: unknown, args: unknown): { channel: Channel; args: unknown[] } {
  if (!isChannel(channel)) throw new Error(`Unknown API channel '${String(channel)}'`);
  if (!Array.isArray(args)) throw new Error(`Invalid arguments for ${channel}: expected an array of arguments`);
  const parsed = CHANNEL_ARGS[channel].safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `argument ${issue.path.join('.')}` : 'arguments';
    throw new Error(`Invalid arguments for ${channel}: ${issue ? `${where}: ${issue.message}` : 'rejected'}`);
  }
  return { channel, args: parsed.data as unknown[] };
}
