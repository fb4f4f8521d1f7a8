/**
 * What the API's channels resolve to, as the renderer sees it. These mirror the core's own types
 * (app/dataset, app/backend, app/weights) field for field; the handlers assign the core's values to
 * these types, so a change on either side that breaks the UI is a compile error, not a blank screen.
 * Pure TypeScript: the renderer imports this file.
 */
import type { ConfigDifference } from '../config-diff.ts';
import type { RunComparison, RunStatus } from '../store-types.ts';
import type { MisclassifiedCell } from '../train-types.ts';

export interface AppInfo {
  readonly version: string;
  readonly dataFolder: string;
  readonly platform: string;
  readonly node: string;
  /** `desktop`: inside Electron (OS dialogs exist); `browser`: served by `effnet serve`. */
  readonly shell: 'desktop' | 'browser';
  /** Features whose channels this build serves (screens for the others say so). */
  readonly features: { readonly training: boolean; readonly export: boolean; readonly classify: boolean };
}

export interface VariantSummary {
  /** `b0`…`b7`, or `phi:1.5` for a custom compound coefficient. */
  readonly name: string;
  readonly phi: number;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly dropout: number;
  readonly totalParams: number;
  readonly macs: number;
  /** ImageNet top-1 from the paper; null for a custom φ (never trained by the authors). */
  readonly paperTop1: number | null;
}

// ---- Datasets ----

export type DatasetFormat = 'class-folders' | 'split-folders' | 'manifest';
export type SplitName = 'train' | 'val' | 'test';
export const ISSUE_KINDS = ['unreadable', 'duplicate', 'empty-class', 'small-class', 'imbalance', 'ignored'] as const;
export type IssueKind = (typeof ISSUE_KINDS)[number];

export interface DatasetIssue {
  readonly kind: IssueKind;
  /** Relative to the dataset root; '.' for the dataset as a whole. */
  readonly path: string;
  readonly message: string;
  readonly class?: string;
  readonly details?: Record<string, unknown>;
}

export interface SizeStats {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export interface ClassSummary {
  readonly name: string;
  readonly count: number;
  readonly share: number;
  readonly splits?: Partial<Record<SplitName, number>>;
}

/** The dataset health report (app/dataset/health.ts HealthReport). */
export interface DatasetReport {
  readonly root: string;
  readonly source: string;
  readonly format: DatasetFormat;
  readonly totals: { listed: number; readable: number; unreadable: number; duplicates: number; ignored: number; bytes: number };
  readonly classes: readonly ClassSummary[];
  readonly splits: readonly { name: SplitName; count: number }[];
  readonly sizes: { width: SizeStats; height: SizeStats } | null;
  readonly grayscaleShare: number;
  readonly transparentShare: number;
  readonly formats: Record<string, number>;
  readonly imbalanceRatio: number | null;
  readonly issues: readonly DatasetIssue[];
  readonly fingerprint: string;
}

export interface Thumbnail {
  /** Relative to the dataset root. */
  readonly path: string;
  readonly label: string;
  /** A small JPEG as a data: URL; null when the file cannot be decoded. */
  readonly dataUrl: string | null;
  readonly error?: string;
}

export interface SplitSummary {
  readonly strategy: 'stratified' | 'given';
  readonly seed: number;
  readonly ratios: { readonly val: number; readonly test: number };
  /** Per class, images in each split. */
  readonly classes: readonly { name: string; train: number; val: number; test: number }[];
  readonly totals: { readonly train: number; readonly val: number; readonly test: number };
  /** Unreadable files left out of every split. */
  readonly excluded: number;
  /** Where the split was saved; null when it was only previewed. */
  readonly savedTo: string | null;
}

export interface AugmentPreview {
  /** The grid as a JPEG data: URL. */
  readonly dataUrl: string;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  readonly cells: readonly { path: string; label: string }[];
}

/** A dataset the store remembers (one row per path and content fingerprint). */
export interface RecentDataset {
  readonly id: number;
  readonly path: string;
  readonly name: string;
  readonly classes: readonly string[];
  readonly lastUsedAt: number;
}

// ---- Runs ----

export interface RunCompareResult extends RunComparison {
  /** Only the settings whose values differ between the runs. */
  readonly differences: readonly ConfigDifference[];
}

/** A confusion matrix from a run's evaluation: rows are true classes, columns predictions. */
export interface RunEvaluation {
  readonly classes: readonly string[];
  readonly matrix: readonly (readonly number[])[];
  /** Which split it was computed on (`val`, `test`). */
  readonly split: string;
  readonly epoch: number | null;
  /**
   * The images behind each off-diagonal cell (most confidently wrong first; paths relative to
   * `datasetSource`). Null for runs recorded before the app kept them.
   */
  readonly misclassified: readonly MisclassifiedCell[] | null;
  /** The dataset the paths belong to (its folder or manifest), for thumbnails. */
  readonly datasetSource: string | null;
}

// ---- Training jobs ----

/** A job of the job manager (app/jobs/types.ts JobInfo). */
export interface JobSummary {
  readonly id: string;
  readonly kind: 'train' | 'evaluate' | 'inspect' | 'export' | 'classify';
  readonly runId: number | null;
  readonly status: RunStatus;
  readonly paused: boolean;
  readonly message: string | null;
  readonly pid: number | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

// ---- System ----

export interface BackendRung {
  readonly rung: string;
  readonly title: string;
  readonly packageName: string;
  readonly status: 'chosen' | 'failed' | 'not-tried';
  readonly reason?: string;
  readonly hint?: string;
  readonly device?: string;
}

/** `effnet doctor`, trimmed to what the Settings screen shows. */
export interface DoctorSummary {
  readonly ok: boolean;
  readonly backend: { readonly name: string; readonly title: string; readonly device: string; readonly forced: string | null } | null;
  readonly error: { readonly code: string; readonly message: string; readonly hint?: string } | null;
  readonly rungs: readonly BackendRung[];
  readonly smoke: {
    readonly ok: boolean;
    readonly maxError: number;
    readonly timings: readonly { what: string; ms: number; gflops: number }[];
  } | null;
  readonly gpu: {
    readonly verdict: string;
    readonly summary: string;
    readonly advice: readonly string[];
    readonly gpus: readonly { name: string; memoryMiB?: number }[];
  };
  readonly system: {
    readonly platform: string;
    readonly arch: string;
    readonly cpuModel: string;
    readonly cpuCores: number;
    readonly memoryBytes: number;
  };
  readonly versions: { readonly node: string; readonly tfjs?: string; readonly electron?: string };
  readonly dataFolder: { readonly path: string; readonly exists: boolean; readonly writable: boolean; readonly note: string };
}

export interface WeightsFile {
  readonly label: string;
  readonly variant: string;
  readonly top: boolean;
  readonly fileName: string;
  readonly cached: boolean;
  readonly bytes: number | null;
  readonly approxBytes: number;
  /** The CLI command that downloads it. */
  readonly fetchCommand: string;
}

export interface WeightsSummary {
  readonly folder: string;
  readonly catalogue: readonly WeightsFile[];
  readonly imported: readonly { name: string; kind: string; bytes: number; present: boolean; source: string }[];
}
