/**
 * What the Scaling lab shows, from app/scaling's state and report: the list summaries, a search's
 * detail, and a family with the runs that trained its members. Family members trained from the
 * lab carry `familyTag(id)`; a run belongs to member φ when its model has that member's width,
 * depth and resolution, so the family table and the chart show their accuracy.
 */
import { flopsGrowth, type CompoundCoefficients } from '../common/efficientnet/index.ts';
import type {
  ScalingFamily,
  ScalingFamilyMember,
  ScalingSearchDetail,
  ScalingSearchStatus,
  ScalingSearchSummary,
} from '../common/ipc/scaling.ts';
import { CONSTRAINT_TARGET, familyTable, type FamilyMember, type ScalingBase } from '../common/scaling-lab.ts';
import type { TrainConfigInput } from '../common/train-config.ts';
import { searchReport } from '../scaling/report.ts';
import { chooseCandidate } from '../scaling/search.ts';
import { searchTag, type SearchState } from '../scaling/state.ts';
import type { Store } from '../store/index.ts';
import type { ActiveSearch } from './scaling-runner.ts';

/** How far α·β²·γ² may sit from 2 for a family outside a search (the CLI's `scale family` uses the same). */
export const FAMILY_TOLERANCE = 0.1;
/** Every family member trained from the lab also carries this tag. */
export const FAMILY_TAG = 'scale-family';

export function familyTag(searchId: string): string {
  return `${FAMILY_TAG}:${searchId}`;
}

export function searchStatus(state: SearchState, active: ActiveSearch | undefined): ScalingSearchStatus {
  if (active) return active.stopping ? 'stopping' : 'running';
  if (state.candidates.every((c) => c.status === 'completed')) return 'completed';
  if (state.candidates.some((c) => c.status === 'pending' || c.status === 'running')) return 'stopped';
  return 'failed';
}

export function searchSummary(state: SearchState, active: ActiveSearch | undefined): ScalingSearchSummary {
  const chosen = chooseCandidate(state);
  return {
    id: state.id,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    dataset: state.dataset,
    base: state.base,
    status: searchStatus(state, active),
    candidates: state.candidates.length,
    completed: state.candidates.filter((c) => c.status === 'completed').length,
    failed: state.candidates.filter((c) => c.status === 'failed').length,
    chosen: chosen && { alpha: chosen.alpha, beta: chosen.beta, gamma: chosen.gamma, accuracy: chosen.accuracy },
  };
}

/** The training-config model section that builds a member (the same as `effnet scale family --json`). */
export function memberModel(base: ScalingBase, member: FamilyMember) {
  return { variant: base.variant, width: member.width, depth: member.depth, resolution: member.resolution };
}

const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

/** The family with, per member, the runs tagged with the search's family tag whose model matches it. */
export function familyWithRuns(
  store: Store | null,
  searchId: string | null,
  base: ScalingBase,
  members: readonly FamilyMember[],
): ScalingFamilyMember[] {
  const runs =
    store && searchId
      ? store.runList.list({ tags: [familyTag(searchId)], limit: 500 }).rows.map((row) => ({
          row,
          model: (store.runs.get(row.id)?.config as { model?: { width?: number; depth?: number; resolution?: number } } | undefined)?.model,
        }))
      : [];
  return members.map((member) => {
    const trained = runs
      .filter(
        ({ model }) =>
          model !== undefined &&
          same(model.width ?? 0, member.width) &&
          same(model.depth ?? 0, member.depth) &&
          model.resolution === member.resolution,
      )
      .map(({ row }) => ({ id: row.id, status: row.status, bestValAccuracy: row.bestValAccuracy }))
      .sort((a, b) => a.id - b.id);
    const accuracies = trained.map((run) => run.bestValAccuracy).filter((a): a is number => a !== null);
    return {
      ...member,
      accuracy: accuracies.length ? Math.max(...accuracies) : null,
      model: memberModel(base, member),
      runs: trained,
    };
  });
}

export function familyView(
  store: Store | null,
  searchId: string | null,
  base: ScalingBase,
  coefficients: CompoundCoefficients,
  phiMax: number,
  numClasses: number,
  tolerance: number,
): ScalingFamily {
  const growth = flopsGrowth(coefficients);
  return {
    coefficients: { alpha: coefficients.alpha, beta: coefficients.beta, gamma: coefficients.gamma },
    constraint: {
      value: growth,
      target: CONSTRAINT_TARGET,
      tolerance,
      satisfied: Math.abs(growth - CONSTRAINT_TARGET) <= tolerance + 1e-12,
    },
    base,
    numClasses,
    members: familyWithRuns(store, searchId, base, familyTable(base, coefficients, phiMax, numClasses)),
  };
}

export function searchDetail(
  state: SearchState,
  store: Store,
  phiMax: number,
  active: ActiveSearch | undefined,
  error: string | null,
): ScalingSearchDetail {
  const chosen = chooseCandidate(state);
  // Members trained as runs, by φ: their accuracy goes into the family's line on the chart.
  const members = chosen ? familyWithRuns(store, state.id, state.base, familyTable(state.base, chosen, phiMax, state.classes.length)) : [];
  const trained = new Map(members.filter((m) => m.accuracy !== null).map((m) => [m.phi, m.accuracy!]));
  const report = searchReport(state, phiMax, trained);
  return {
    search: state,
    status: searchStatus(state, active),
    progress: active?.progress ?? null,
    error,
    chosen: report.chosen,
    constraint: report.constraint,
    family: report.family.map((member, i) => ({ ...member, model: memberModel(state.base, member), runs: members[i]?.runs ?? [] })),
    chart: report.chart,
    tag: searchTag(state.id),
  };
}

/**
 * The training config of family member φ: the search's dataset, proxy settings and seed (so it
 * compares with the candidates), the member's width, depth and resolution, from random weights (a
 * scaled network has no ImageNet weights), for `epochs` with the default schedule.
 */
export function memberConfig(state: SearchState, member: FamilyMember, epochs: number): TrainConfigInput {
  const t = state.training;
  return {
    dataset: { path: state.dataset, validationSplit: t.validationSplit },
    mode: 'full',
    model: { ...memberModel(state.base, member), weights: 'none' },
    epochs,
    batchSize: t.batchSize,
    optimizer: { learningRate: t.learningRate },
    seed: state.seed,
    ...(t.augment ? {} : { augment: null }),
    ...(t.workers === undefined ? {} : { data: { workers: t.workers } }),
  };
}
