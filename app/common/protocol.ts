/**
 * The one message protocol between the job manager and its worker processes (STYLE.md §5): a
 * tagged union per direction, validated by zod on arrival on BOTH sides, one exhaustive `switch`
 * per receiver whose default rejects unknown types. Every message carries `protocolVersion`, so a
 * worker from another build is refused with a clear error instead of being misread. Errors travel
 * as data (`failed` carries an ErrorData) and become AppErrors again on the other side.
 *
 * Pure TypeScript: the renderer shows these events too.
 */
import { z } from 'zod';
import { AppError, type ErrorData } from './errors.ts';

/** Bump when a message changes shape; both sides must agree exactly. */
export const PROTOCOL_VERSION = 1;

/** One worker entry point per kind (`workers/<kind>.ts`). */
export const JOB_KINDS = ['train', 'evaluate', 'inspect', 'export', 'classify'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

const version = z.literal(PROTOCOL_VERSION);
const count = z.number().int().nonnegative();
/** NaN and ±Infinity do not survive JSON (they arrive as null), so metric values may be null. */
const metricValue = z.number().nullable();
const metrics = z.record(z.string().min(1), metricValue);

// ---- Job payloads (what `start` asks a worker to do) ----

export const inspectJobSchema = z.strictObject({
  /** Absolute path of a dataset folder or manifest. */
  dataset: z.string().min(1),
  concurrency: z.number().int().min(1).max(64).optional(),
});

export const trainJobSchema = z.strictObject({
  /** A TrainConfig; the train worker validates it with the TrainConfig schema. */
  config: z.record(z.string(), z.unknown()),
  /** Folder for this run's checkpoints and logs (the worker creates it). */
  runDir: z.string().min(1),
  /** A checkpoint of an earlier run to continue from. */
  resumeFrom: z.string().min(1).optional(),
  /** The store's run id, recorded in the saved model's provenance. */
  runId: z.number().int().positive().optional(),
});

export const evaluateJobSchema = z.strictObject({
  /** A model folder, a checkpoint folder or a run folder. */
  model: z.string().min(1),
  /** The dataset to evaluate on (folder or manifest). */
  dataset: z.string().min(1),
  /** Which part of it (default: the validation split, as training made it with the same settings). */
  split: z.enum(['train', 'val', 'test', 'all']).optional(),
  /** How the dataset is split when it has no saved split (the training defaults otherwise). */
  validationSplit: z.number().min(0).lt(1).optional(),
  testSplit: z.number().min(0).lt(1).optional(),
  splitSeed: z.number().int().optional(),
  batchSize: z.number().int().min(1).max(4096).optional(),
});

export const exportJobSchema = z.strictObject({
  /** A run id, a run or checkpoint folder, or a saved model folder (absolute). */
  source: z.string().min(1),
  format: z.enum(['tfjs', 'onnx']),
  quantization: z.enum(['none', 'float16', 'uint8']).optional(),
  /** The export folder (absolute); an earlier export there is replaced. */
  outDir: z.string().min(1),
  /** Verify on this dataset instead of the run's validation images. */
  imagesPath: z.string().min(1).optional(),
  maxImages: count.optional(),
  randomInputs: count.optional(),
  batchSize: z.number().int().min(1).max(4096).optional(),
});

export const classifyJobSchema = z.strictObject({
  /** A run id, a model folder, an exported tfjs folder or an .onnx file (absolute). */
  model: z.string().min(1),
  /** Image files and folders (absolute); folders are searched recursively. */
  inputs: z.array(z.string().min(1)).min(1),
  topK: z.number().int().min(1).max(1000).optional(),
  batchSize: z.number().int().min(1).max(4096).optional(),
  /** Also write the results as CSV here (absolute; written atomically before the job ends). */
  csvPath: z.string().min(1).optional(),
  /** CSV paths are relative to this folder when inside it, else absolute (default: the CSV's folder). */
  csvBase: z.string().min(1).optional(),
});

export const jobSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('train'), payload: trainJobSchema }),
  z.strictObject({ kind: z.literal('evaluate'), payload: evaluateJobSchema }),
  z.strictObject({ kind: z.literal('inspect'), payload: inspectJobSchema }),
  z.strictObject({ kind: z.literal('export'), payload: exportJobSchema }),
  z.strictObject({ kind: z.literal('classify'), payload: classifyJobSchema }),
]);
export type JobSpec = z.infer<typeof jobSchema>;
export type JobPayload<K extends JobKind> = Extract<JobSpec, { kind: K }>['payload'];

// ---- Worker → parent ----

const errorFields = {
  code: z.string().min(1),
  message: z.string(),
  hint: z.string().optional(),
  details: z.unknown().optional(),
};

const WORKER_MESSAGE_SCHEMAS = {
  /** Sent once the process has loaded; the parent answers with `start`. */
  ready: z.strictObject({ protocolVersion: version, type: z.literal('ready'), pid: count, kind: z.enum(JOB_KINDS) }),
  /** The job has its backend: from here on the run is `running`. */
  started: z.strictObject({
    protocolVersion: version,
    type: z.literal('started'),
    backend: z.string().min(1),
    device: z.string().min(1),
    details: z.unknown().optional(),
  }),
  /**
   * Progress within a phase (the fields of app/train's progress event, which the train worker
   * forwards as is): `step` of `steps` units of the current `phase` (batches of an epoch, images
   * embedded or scanned). `globalStep` counts optimizer steps since the run began; `loss`,
   * `learningRate` and `values` are that step's numbers, kept as per-step metrics.
   */
  progress: z.strictObject({
    protocolVersion: version,
    type: z.literal('progress'),
    phase: z.string().min(1),
    step: count,
    steps: count.nullable(),
    epoch: count.optional(),
    epochs: count.optional(),
    globalStep: count.optional(),
    loss: metricValue.optional(),
    learningRate: metricValue.optional(),
    values: metrics.optional(),
    imagesPerSecond: z.number().nonnegative().nullable().optional(),
    /** Seconds until the whole job ends at the current pace. */
    etaSeconds: z.number().nonnegative().nullable().optional(),
    message: z.string().optional(),
  }),
  /** One finished epoch: flat Keras-named metrics (`loss`, `val_accuracy`, …), per-class metrics, confusion. */
  epoch: z.strictObject({
    protocolVersion: version,
    type: z.literal('epoch'),
    epoch: count,
    epochs: count.optional(),
    metrics,
    /** This epoch improved the monitored metric. */
    best: z.boolean().optional(),
    perClass: z
      .array(z.strictObject({ label: z.string(), precision: metricValue, recall: metricValue, f1: metricValue, support: count }))
      .readonly()
      .optional(),
    /** `matrix[t][p]`: images of true class t predicted as p. */
    confusion: z.strictObject({ labels: z.array(z.string()).readonly(), matrix: z.array(z.array(count).readonly()).readonly() }).optional(),
    /** Off-diagonal cells with their most confidently wrong validation images (dataset-relative paths). */
    misclassified: z
      .array(
        z.strictObject({
          actual: z.string(),
          predicted: z.string(),
          count,
          items: z.array(z.strictObject({ path: z.string().min(1), confidence: z.number().min(0).max(1) })).readonly(),
        }),
      )
      .readonly()
      .optional(),
  }),
  /** A checkpoint written (atomically) by the worker; sha256 and bytes identify its files. `step`: steps of `epoch` done. */
  checkpoint: z.strictObject({
    protocolVersion: version,
    type: z.literal('checkpoint'),
    epoch: count,
    path: z.string().min(1),
    best: z.boolean(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: count,
    step: count.optional(),
  }),
  log: z.strictObject({ protocolVersion: version, type: z.literal('log'), level: z.enum(['debug', 'info']), message: z.string() }),
  warning: z.strictObject({
    protocolVersion: version,
    type: z.literal('warning'),
    code: z.string().min(1),
    message: z.string(),
    details: z.unknown().optional(),
  }),
  /** The job ended: `cancelled` when it stopped early on a `cancel` (after saving a checkpoint). */
  finished: z.strictObject({ protocolVersion: version, type: z.literal('finished'), cancelled: z.boolean(), summary: z.unknown() }),
  failed: z.strictObject({ protocolVersion: version, type: z.literal('failed'), ...errorFields }),
} as const;

export type WorkerMessageType = keyof typeof WORKER_MESSAGE_SCHEMAS;
export const WORKER_MESSAGE_TYPES = Object.keys(WORKER_MESSAGE_SCHEMAS) as WorkerMessageType[];
export type WorkerMessage = { [K in WorkerMessageType]: z.infer<(typeof WORKER_MESSAGE_SCHEMAS)[K]> }[WorkerMessageType];
export type WorkerMessageOf<K extends WorkerMessageType> = Extract<WorkerMessage, { type: K }>;
/** What a job reports while it runs: every worker message but the `ready` handshake. */
export type WorkerEvent = Exclude<WorkerMessage, { type: 'ready' }>;

/** A message without its version, as job code writes it; the runtime stamps the version. */
export type Unversioned<T> = T extends unknown ? Omit<T, 'protocolVersion'> : never;
export type WorkerEventInput = Unversioned<WorkerEvent>;

// ---- Parent → worker ----

const PARENT_MESSAGE_SCHEMAS = {
  start: z.strictObject({ protocolVersion: version, type: z.literal('start'), job: jobSchema }),
  /** Stop after the current step, save a checkpoint, then send `finished` with cancelled: true. */
  cancel: z.strictObject({ protocolVersion: version, type: z.literal('cancel') }),
  /** Hold before the next step until `resume` (or `cancel`). */
  pause: z.strictObject({ protocolVersion: version, type: z.literal('pause') }),
  resume: z.strictObject({ protocolVersion: version, type: z.literal('resume') }),
} as const;

export type ParentMessageType = keyof typeof PARENT_MESSAGE_SCHEMAS;
export const PARENT_MESSAGE_TYPES = Object.keys(PARENT_MESSAGE_SCHEMAS) as ParentMessageType[];
export type ParentMessage = { [K in ParentMessageType]: z.infer<(typeof PARENT_MESSAGE_SCHEMAS)[K]> }[ParentMessageType];

// ---- Validation ----

/** A message that is not valid for this protocol version; `details.direction` says which side sent it. */
export class ProtocolError extends AppError {
  constructor(code: 'protocol-version' | 'protocol-unsupported' | 'protocol-invalid', message: string, details: unknown) {
    super(code, message, {
      details,
      hint:
        code === 'protocol-version'
          ? 'The worker and the app come from different builds: reinstall EffNet Studio (or run both from the same checkout).'
          : 'This is a bug in EffNet Studio: please report it with the message above.',
    });
    this.name = 'ProtocolError';
  }
}

export type Direction = 'worker' | 'parent';

/** Checks the envelope (an object with our protocolVersion and a string type) and returns the type. */
function envelope(raw: unknown, from: Direction): string {
  const sender = from === 'worker' ? 'A worker' : 'The job manager';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProtocolError('protocol-invalid', `${sender} sent a message that is not an object (${describe(raw)}).`, { from });
  }
  const { protocolVersion, type } = raw as { protocolVersion?: unknown; type?: unknown };
  if (protocolVersion !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      'protocol-version',
      `${sender} speaks message protocol version ${describe(protocolVersion)}, but this side speaks version ${PROTOCOL_VERSION}.`,
      { from, expected: PROTOCOL_VERSION, received: protocolVersion ?? null },
    );
  }
  if (typeof type !== 'string') {
    throw new ProtocolError('protocol-invalid', `${sender} sent a message without a type.`, { from });
  }
  return type;
}

function check<T>(schema: z.ZodType<T>, raw: unknown, type: string, from: Direction): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : 'message';
  throw new ProtocolError('protocol-invalid', `Invalid '${type}' message from the ${from}: ${field}: ${issue.message}.`, {
    from,
    type,
    issues: parsed.error.issues.map((one) => ({ path: one.path.map(String), message: one.message })),
  });
}

/** Validates a message that a worker sent; throws a ProtocolError naming what is wrong. */
export function parseWorkerMessage(raw: unknown): WorkerMessage {
  const type = envelope(raw, 'worker');
  if (!Object.hasOwn(WORKER_MESSAGE_SCHEMAS, type)) rejectType(type, 'worker');
  return check(WORKER_MESSAGE_SCHEMAS[type as WorkerMessageType] as z.ZodType<WorkerMessage>, raw, type, 'worker');
}

/** Validates a message that the job manager sent; throws a ProtocolError naming what is wrong. */
export function parseParentMessage(raw: unknown): ParentMessage {
  const type = envelope(raw, 'parent');
  if (!Object.hasOwn(PARENT_MESSAGE_SCHEMAS, type)) rejectType(type, 'parent');
  return check(PARENT_MESSAGE_SCHEMAS[type as ParentMessageType] as z.ZodType<ParentMessage>, raw, type, 'parent');
}

/**
 * The default branch of every receiver's exhaustive switch: typed `never`, so a new message type
 * that a receiver forgets is a compile error, and at run time an unknown type is refused.
 */
export function unsupported(message: never, from: Direction): never {
  rejectType(String((message as { type?: unknown } | null)?.type), from);
}

function rejectType(type: string, from: Direction): never {
  throw new ProtocolError('protocol-unsupported', `Unsupported message type '${type}' from the ${from}.`, { from, type });
}

/** Stamps the protocol version on a message. */
export function versioned<T extends object>(message: T): T & { protocolVersion: typeof PROTOCOL_VERSION } {
  return { ...message, protocolVersion: PROTOCOL_VERSION };
}

/** A `failed` message's error as ErrorData (to rebuild an AppError with AppError.fromData). */
export function failureData(message: WorkerMessageOf<'failed'>): ErrorData {
  return { code: message.code, message: message.message, hint: message.hint, details: message.details };
}

function describe(value: unknown): string {
  if (value === undefined) return 'none';
  if (Array.isArray(value)) return 'an array';
  const text = JSON.stringify(value);
  return text === undefined ? typeof value : text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
