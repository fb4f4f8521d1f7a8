/**
 * A search's results: the chosen coefficients and whether they meet the constraint, the family
 * they give (step 2), the candidates table and the chart data (the CLI writes it as SVG + JSON;
 * the desktop app draws the JSON).
 */
import { flopsGrowth } from '../common/efficientnet/index.ts';
import { scalingChartData, type ScalingChartData } from '../common/scaling-chart.ts';
import { CONSTRAINT_TARGET, familyTable, type FamilyMember } from '../common/scaling-lab.ts';
import { chooseCandidate } from './search.ts';
import type { CandidateState, SearchState } from './state.ts';

export interface SearchReport {
  readonly chosen: CandidateState | null;
  readonly constraint: { value: number; target: number; tolerance: number; satisfied: boolean } | null;
  /** φ = 0…phiMax with the chosen coefficients (φ = 1 is the chosen candidate itself). */
  readonly family: readonly (FamilyMember & { accuracy: number | null })[];
  readonly chart: ScalingChartData;
}

/** `trained`: best validation accuracy of family members trained as runs, by φ (the Scaling lab's "Train" button). */
export function searchReport(state: SearchState, phiMax: number, trained: ReadonlyMap<number, number> = new Map()): SearchReport {
  const chosen = chooseCandidate(state);
  const constraint = chosen && {
    value: flopsGrowth(chosen),
    target: CONSTRAINT_TARGET,
    tolerance: state.tolerance,
    satisfied: Math.abs(flopsGrowth(chosen) - CONSTRAINT_TARGET) <= state.tolerance + 1e-12,
  };
  const family = chosen
    ? familyTable(state.base, chosen, phiMax, state.classes.length).map((member) => ({
        ...member,
        // φ = 1 of the family IS the chosen candidate (same width, depth and resolution): its accuracy is measured.
        accuracy: member.phi === 1 ? chosen.accuracy : (trained.get(member.phi) ?? null),
      }))
    : [];
  const chart = scalingChartData({
    title: `Scaling search ${state.id}: accuracy against MACs`,
    candidates: state.candidates
      .filter((c) => c.accuracy !== null)
      .map((c) => ({ label: `#${c.index}`, macs: c.macs, accuracy: c.accuracy, chosen: c === chosen })),
    family: family.map((m) => ({ phi: m.phi, macs: m.macs, accuracy: m.accuracy })),
  });
  return { chosen, constraint, family, chart };
}

function formatCount(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)}B`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)}K`;
  return String(value);
}

/** Header and rows of the candidates table (the CLI pads them; the UI shows the same columns). */
export function candidateRows(state: SearchState, chosen: CandidateState | null): { headers: string[]; rows: string[][] } {
  const latency = state.targetLatencyMs !== undefined;
  const headers = [
    '#',
    'α',
    'β',
    'γ',
    'α·β²·γ²',
    'px',
    'params',
    'MACs',
    ...(latency ? ['ms'] : []),
    'accuracy',
    'objective',
    'time',
    'runs',
    'status',
  ];
  const rows = state.candidates.map((c) => [
    `${c === chosen ? '*' : ''}${c.index}`,
    String(c.alpha),
    String(c.beta),
    String(c.gamma),
    c.growth.toFixed(3),
    String(c.resolution),
    formatCount(c.params),
    formatCount(c.macs),
    ...(latency ? [c.latencyMs === null ? '-' : c.latencyMs.toFixed(2)] : []),
    c.accuracy === null ? '-' : `${(c.accuracy * 100).toFixed(1)}%`,
    c.objective === null ? '-' : c.objective.toFixed(4),
    c.seconds === null ? '-' : `${c.seconds.toFixed(1)} s`,
    c.runIds.join(',') || '-',
    c.status,
  ]);
  return { headers, rows };
}
