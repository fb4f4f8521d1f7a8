/**
 * The Scaling lab's channels (issue 8; app/scaling): argument schemas and result types, spread
 * into contract.ts. The result types mirror app/scaling's own (state.ts SearchState, report.ts
 * SearchReport) field for field; app/api/scaling.ts assigns those values to these types, so a
 * change on either side that breaks the screen is a compile error. Pure TypeScript.
 */
import { z } from 'zod';
import type { ScalingChartData } from '../scaling-chart.ts';
import type { FamilyMember, GridSpec, ScalingBase } from '../scaling-lab.ts';
import type { RunStatus } from '../store-types.ts';

/** What `stateFile` accepts (app/scaling/state.ts). */
const searchId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a search id is 1 to 64 letters, digits, - and _');
/** Range checks (≥ 1, MAX ≥ MIN, STEP > 0) are the grid's own (scaling-lab.ts), whose messages say what to change. */
const axis = z.strictObject({ min: z.number(), max: z.number(), step: z.number() });
const grid = z.strictObject({ alpha: axis, beta: axis, gamma: axis });
/** `b0` or `phi:X`, at its own input size unless `resolution` is given (the "image size"). */
const base = z.strictObject({ variant: z.string().trim().min(1).max(32), resolution: z.number().int().min(32).max(1024).optional() });
const tolerance = z.number().min(0).lt(2);
const maxCandidates = z.number().int().min(1).max(1000);
const phi = z.number().int().min(0).max(12);
const coefficient = z.number().min(1).max(4);
const classes = z.number().int().min(1).max(100_000);

/** The channels; `pathArg` is contract.ts's path schema (passed in: this file cannot import contract.ts, which imports it). */
export function scalingChannelArgs(pathArg: z.ZodType<string>) {
  return {
    /** The form's live preview: the kept candidates of a grid and what each costs. Pure, instant. */
    'scaling:plan': z.tuple([
      z.strictObject({ base, grid, tolerance, maxCandidates: maxCandidates.optional(), numClasses: classes.default(1000) }),
    ]),
    /** Plans a search on a dataset and starts it in the background; resolves with its id once planned (and latencies measured). */
    'scaling:start': z.tuple([
      z.strictObject({
        dataset: pathArg,
        base,
        grid,
        tolerance,
        maxCandidates: maxCandidates.optional(),
        /** Proxy training per candidate: epochs, minutes, or both (with minutes alone, epochs are capped at 100). */
        budget: z.strictObject({
          epochs: z.number().int().min(1).max(1000).optional(),
          minutes: z
            .number()
            .positive()
            .max(24 * 60)
            .optional(),
        }),
        batchSize: z.number().int().min(1).max(1024).default(16),
        learningRate: z.number().positive().max(10).default(1e-3),
        validationSplit: z.number().gt(0).lt(1).default(0.2),
        augment: z.boolean().default(true),
        seed: z.number().int().min(0).max(0xffffffff).optional(),
        /** T of the objective: MACs (default 2 × the base's), or a latency measured on this machine. */
        target: z.union([z.strictObject({ macs: z.number().positive() }), z.strictObject({ latencyMs: z.number().positive() })]).optional(),
      }),
    ]),
    /** Stops the running candidate after its current step (it keeps a checkpoint); the search stays resumable. */
    'scaling:stop': z.tuple([searchId]),
    /** Continues a stopped or interrupted search: completed candidates are not trained again. */
    'scaling:resume': z.tuple([searchId]),
    'scaling:list': z.tuple([]),
    /** A search's state, table, chosen coefficients, family φ = 0…phiMax and chart. */
    'scaling:get': z.tuple([z.strictObject({ id: searchId, phiMax: phi.default(7) })]),
    /** Step 2: the family for α, β, γ; with `searchId`, on that search's base and classes, with the members already trained. */
    'scaling:family': z.tuple([
      z.strictObject({
        alpha: coefficient,
        beta: coefficient,
        gamma: coefficient,
        phiMax: phi,
        searchId: searchId.optional(),
        base: base.optional(),
        numClasses: classes.optional(),
      }),
    ]),
    /** Trains family member φ as an ordinary run on the search's dataset (coefficients: the chosen ones unless given). */
    'scaling:trainMember': z.tuple([
      z.strictObject({
        searchId,
        phi,
        epochs: z.number().int().min(1).max(100_000),
        coefficients: z.strictObject({ alpha: coefficient, beta: coefficient, gamma: coefficient }).optional(),
        name: z.string().trim().min(1).max(200).optional(),
      }),
    ]),
  } as const;
}

export type ScalingCandidateStatus = 'pending' | 'running' | 'completed' | 'failed';

/** A candidate of a plan: α, β, γ and the base scaled by φ = 1 with them. */
export interface ScalingPlannedCandidate {
  readonly index: number;
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  /** α·β²·γ². */
  readonly growth: number;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly params: number;
  readonly macs: number;
}

/** A candidate of a search (app/scaling/state.ts CandidateState). */
export interface ScalingCandidate extends ScalingPlannedCandidate {
  readonly latencyMs: number | null;
  readonly status: ScalingCandidateStatus;
  /** Every run that trained it, oldest first (a stopped and resumed candidate has two). */
  readonly runIds: readonly number[];
  readonly accuracy: number | null;
  readonly objective: number | null;
  readonly seconds: number | null;
  readonly message: string | null;
}

export interface ScalingPlan {
  readonly base: ScalingBase;
  readonly tolerance: number;
  /** Every combination of the grid, and how many have α·β²·γ² within 2 ± tolerance. */
  readonly gridTotal: number;
  readonly gridKept: number;
  readonly baseParams: number;
  readonly baseMacs: number;
  /** The default T of the objective: 2 × the base's MACs. */
  readonly targetMacs: number;
  /** What would train (a spread subset of the kept ones when maxCandidates is smaller). */
  readonly candidates: readonly ScalingPlannedCandidate[];
}

/** A search's saved state (app/scaling/state.ts SearchState). */
export interface ScalingSearchState {
  readonly id: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly dataset: string;
  readonly classes: readonly string[];
  readonly base: ScalingBase;
  readonly grid: GridSpec;
  readonly tolerance: number;
  readonly gridTotal: number;
  readonly gridKept: number;
  readonly maxCandidates: number | null;
  readonly training: {
    readonly epochs: number;
    readonly minutes?: number;
    readonly batchSize: number;
    readonly learningRate: number;
    readonly validationSplit: number;
    readonly augment: boolean;
  };
  readonly seed: number;
  readonly targetMacs: number;
  readonly targetLatencyMs?: number;
  readonly latency?: { readonly backend: string; readonly device: string; readonly baseMs: number };
  readonly targetSource: 'user' | 'base×2';
  readonly baseMacs: number;
  readonly baseParams: number;
  readonly candidates: readonly ScalingCandidate[];
}

/**
 * `running`/`stopping`: in this session; `stopped`: candidates left (stopped, or the app closed);
 * `completed`: every candidate trained; `failed`: all had their turn, some failed (resume retries them).
 */
export type ScalingSearchStatus = 'running' | 'stopping' | 'stopped' | 'completed' | 'failed';

/** The candidate training now, with its run's progress. */
export interface ScalingProgress {
  readonly candidate: number;
  readonly of: number;
  /** Null until its run is queued. */
  readonly runId: number | null;
  readonly epoch: number | null;
  readonly epochs: number | null;
  readonly step: number | null;
  readonly steps: number | null;
  /** What `step` of `steps` counts: `train` (batches), `validate`, … (the worker's progress phase). */
  readonly phase: string | null;
}

export interface ScalingSearchSummary {
  readonly id: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly dataset: string;
  readonly base: ScalingBase;
  readonly status: ScalingSearchStatus;
  readonly candidates: number;
  readonly completed: number;
  readonly failed: number;
  readonly chosen: { readonly alpha: number; readonly beta: number; readonly gamma: number; readonly accuracy: number | null } | null;
}

export interface ScalingConstraint {
  readonly value: number;
  readonly target: number;
  readonly tolerance: number;
  readonly satisfied: boolean;
}

/** A family member with the training-config model section that builds it and the runs that trained it. */
export interface ScalingFamilyMember extends FamilyMember {
  /** Best validation accuracy of its runs (φ = 1 of a search's family: the chosen candidate's); null when untrained. */
  readonly accuracy: number | null;
  readonly model: { readonly variant: string; readonly width: number; readonly depth: number; readonly resolution: number };
  readonly runs: readonly { readonly id: number; readonly status: RunStatus; readonly bestValAccuracy: number | null }[];
}

export interface ScalingFamily {
  readonly coefficients: { readonly alpha: number; readonly beta: number; readonly gamma: number };
  readonly constraint: ScalingConstraint;
  readonly base: ScalingBase;
  readonly numClasses: number;
  readonly members: readonly ScalingFamilyMember[];
}

export interface ScalingSearchDetail {
  readonly search: ScalingSearchState;
  readonly status: ScalingSearchStatus;
  readonly progress: ScalingProgress | null;
  /** Why the search stopped in this session when it was not asked to (a failure of the search itself). */
  readonly error: string | null;
  readonly chosen: ScalingCandidate | null;
  readonly constraint: ScalingConstraint | null;
  /** φ = 0…phiMax with the chosen coefficients (empty until a candidate completed). */
  readonly family: readonly ScalingFamilyMember[];
  readonly chart: ScalingChartData;
  /** The store tag of its candidate runs (the Experiments list filters by it). */
  readonly tag: string;
}

export interface ScalingChannelResults {
  'scaling:plan': ScalingPlan;
  'scaling:start': { id: string; candidates: number };
  'scaling:stop': { stopping: boolean };
  'scaling:resume': { id: string; candidates: number };
  'scaling:list': ScalingSearchSummary[];
  'scaling:get': ScalingSearchDetail;
  'scaling:family': ScalingFamily;
  'scaling:trainMember': { runId: number; jobId: string };
}
