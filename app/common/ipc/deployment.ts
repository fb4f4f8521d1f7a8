/**
 * The Export and Classify screens' channels (issue 6; app/export, app/classify): argument schemas
 * and result types, spread into contract.ts. Both run as jobs of the job manager (workers/export.ts,
 * workers/classify.ts), never in the process that serves the API: the `start` channels answer with
 * a job id at once, progress arrives as `job:event`s, and `exports:job` / `classify:job` give a
 * job's state and, once it ended, its result. The result types mirror the core's (app/export/verify.ts
 * VerificationReport, the workers' summaries); app/api/exports.ts assigns the core's values to
 * these types, so a change on either side that breaks a screen is a compile error. Pure TypeScript.
 */
import { z } from 'zod';
import type { ErrorData } from '../errors.ts';
import { exportJobSchema } from '../protocol.ts';
import type { JobSummary } from './types.ts';

export type ExportFormat = z.infer<typeof exportJobSchema.shape.format>;
export type Quantization = NonNullable<z.infer<typeof exportJobSchema.shape.quantization>>;
export const EXPORT_FORMATS: readonly ExportFormat[] = exportJobSchema.shape.format.options;
export const QUANTIZATIONS: readonly Quantization[] = exportJobSchema.shape.quantization.unwrap().options;

/**
 * Images dropped on the Classify screen in a browser have no path, so their bytes are uploaded in
 * chunks that fit the server's 1 MiB request limit (app/server/server.ts), base64 in JSON.
 */
export const UPLOAD_LIMITS = {
  /** Raw bytes per `classify:upload` call (base64 makes it 4/3 larger). */
  chunkBytes: 512 * 1024,
  /** The largest image accepted. */
  fileBytes: 20 * 1024 * 1024,
  /** Images per upload (one drop). */
  files: 64,
} as const;

const runId = z.number().int().positive();
const jobId = z.string().regex(/^job-\d+$/, 'a job id looks like job-3');
const uploadId = z.string().regex(/^[0-9a-f]{24}$/, 'an upload id is the one `classify:upload` returned');

/** The channels; `pathArg` is contract.ts's path schema (this file cannot import contract.ts, which imports it). */
export function deploymentChannelArgs(pathArg: z.ZodType<string>) {
  /** A run of the store (its best checkpoint) by id, or a model folder / export / .onnx file by path. */
  const model = z.union([runId, pathArg]);
  return {
    /** Exports a run or saved model folder and verifies it; `outDir` defaults to the data folder's exports/. */
    'exports:start': z.tuple([
      z.strictObject({
        source: model,
        format: exportJobSchema.shape.format,
        quantization: exportJobSchema.shape.quantization.unwrap().default('none'),
        outDir: pathArg.optional(),
      }),
    ]),
    /** A run's exports with their verification (parity) reports, newest first. */
    'exports:list': z.tuple([runId]),
    'exports:job': z.tuple([jobId]),
    'exports:cancel': z.tuple([jobId]),
    /**
     * One chunk of a dropped image: without `uploadId` it starts a new upload; `offset` 0 starts a
     * file (its stored name comes back: later chunks name that), others append at exactly `offset`.
     */
    'classify:upload': z.tuple([
      z.strictObject({
        uploadId: uploadId.optional(),
        name: z.string().trim().min(1).max(255),
        offset: z.number().int().min(0).max(UPLOAD_LIMITS.fileBytes),
        data: z
          .string()
          .max(Math.ceil(UPLOAD_LIMITS.chunkBytes / 3) * 4)
          .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'data must be base64'),
      }),
    ]),
    /** Classifies image files and folders (by path) and/or an upload's images; optionally writes a CSV. */
    'classify:start': z.tuple([
      z.strictObject({
        model,
        inputs: z.array(pathArg).max(256).default([]),
        uploadId: uploadId.optional(),
        topK: z.number().int().min(1).max(100).default(5),
        csvPath: pathArg.optional(),
      }),
    ]),
    'classify:job': z.tuple([jobId]),
    'classify:cancel': z.tuple([jobId]),
  };
}

export interface DeploymentChannelResults {
  'exports:start': { jobId: string; outDir: string };
  'exports:list': RunExport[];
  'exports:job': JobState<ExportSummary>;
  'exports:cancel': { cancelled: boolean };
  'classify:upload': UploadedFile;
  'classify:start': { jobId: string };
  'classify:job': JobState<ClassifySummary>;
  'classify:cancel': { cancelled: boolean };
}

// ---- Jobs ----

/** The latest `progress` event of a job. */
export interface JobProgress {
  readonly phase: string;
  readonly step: number;
  readonly steps: number | null;
  readonly message: string | null;
}

/** A job as a screen shows it: status, latest progress, warnings, and once it ended its result or error. */
export interface JobState<T> {
  readonly job: JobSummary;
  readonly progress: JobProgress | null;
  readonly warnings: readonly string[];
  /** The summary of a completed job; null before it ends and when it failed or was cancelled. */
  readonly result: T | null;
  readonly error: ErrorData | null;
}

// ---- Export ----

/** Parity on one set of inputs (app/export/verify.ts SetReport). */
export interface ExportSetReport {
  readonly inputs: number;
  /** Largest |p_exported − p_app| over every class of every input. */
  readonly maxAbsDiff: number;
  readonly meanAbsDiff: number;
  /** Share of inputs whose top-1 class is the same in both. */
  readonly top1Agreement: number | null;
  readonly labeled: number;
  readonly accuracyOriginal: number | null;
  readonly accuracyExported: number | null;
}

/** How an export compares with the app's model (app/export/verify.ts VerificationReport, verification.json). */
export interface ExportVerification {
  readonly passed: boolean;
  readonly quantization: Quantization;
  /** The limit it was judged by: max |Δp| ≤ threshold (float32) or top-1 agreement ≥ threshold (quantized). */
  readonly criterion: { readonly metric: 'maxAbsDiff' | 'top1Agreement'; readonly threshold: number; readonly on: 'all' | 'images' };
  readonly runtime: string;
  readonly reference: string;
  readonly sets: { readonly images?: ExportSetReport; readonly random?: ExportSetReport };
  readonly overall: ExportSetReport;
  readonly failures: readonly string[];
  readonly skippedImages: readonly { readonly path: string; readonly reason: string }[];
  readonly createdAt: string;
}

/** A finished export job (workers/export.ts): where it went, its files and its verification. */
export interface ExportSummary {
  readonly outDir: string;
  readonly format: ExportFormat;
  readonly quantization: Quantization;
  readonly passed: boolean;
  /** The file a runtime opens (model.json, model.onnx), absolute. */
  readonly artifact: string;
  readonly files: readonly { readonly name: string; readonly bytes: number; readonly sha256: string }[];
  readonly verification: ExportVerification;
  /** The run it was exported from (its artifacts list it); null for a model folder. */
  readonly runId: number | null;
}

/** One export of a run: the store's artifact row and the export folder's verification.json. */
export interface RunExport {
  readonly artifactId: number;
  readonly outDir: string;
  readonly artifact: string;
  readonly format: ExportFormat;
  /** Every file of the export folder together; null when the folder is gone. */
  readonly bytes: number | null;
  readonly createdAt: number;
  /** The artifact is still on disk. */
  readonly exists: boolean;
  readonly verification: ExportVerification | null;
  /** Why there is no verification (the file is gone or unreadable). */
  readonly problem: string | null;
}

// ---- Classify ----

export interface ClassifiedImage {
  /** Absolute path, or for a dropped image the name it was dropped with. */
  readonly path: string;
  readonly dropped: boolean;
  /** The k most probable classes, most probable first. */
  readonly top: readonly { readonly label: string; readonly probability: number }[];
}

/** A finished classify job (workers/classify.ts), with dropped images named as they were dropped. */
export interface ClassifySummary {
  readonly labels: readonly string[];
  readonly results: readonly ClassifiedImage[];
  /** Files that could not be read, and why. */
  readonly skipped: readonly { readonly path: string; readonly dropped: boolean; readonly reason: string }[];
  /** Files in the folders that are not images (by extension) and were not read. */
  readonly ignored: number;
  readonly csvPath: string | null;
  /** Why the CSV was not written (the results are still here). */
  readonly csvError: string | null;
}

export interface UploadedFile {
  readonly uploadId: string;
  /** The stored name (unique within the upload): later chunks of the file name it. */
  readonly name: string;
  /** Bytes of the file received so far. */
  readonly bytes: number;
}
