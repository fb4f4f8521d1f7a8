// The Scaling lab with the API mocked: the form's live preview and start, the past searches, a
// running search with live progress and stop, a stopped one with resume, the chart and the family.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../app/common/errors.ts';
import type {
  DatasetReport,
  ScalingCandidate,
  ScalingFamily,
  ScalingPlan,
  ScalingSearchDetail,
  ScalingSearchState,
} from '../../../../app/common/ipc/contract.ts';
import type { AppEvent } from '../../../../app/common/ipc/events.ts';
import { scalingChartData } from '../../../../app/common/scaling-chart.ts';
import { DEFAULT_GRID, familyTable, resolveBase } from '../../../../app/common/scaling-lab.ts';
import type * as Api from '../../lib/api.ts';

const listeners = new Set<(event: AppEvent) => void>();
vi.mock('../../lib/api.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof Api>()),
  call: vi.fn(),
  onEvent: vi.fn((listener: (event: AppEvent) => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }),
  canPickPaths: () => false,
}));
const api = await import('../../lib/api.ts');
const call = vi.mocked(api.call);
const { default: ScalingLabScreen } = await import('./ScalingLabScreen.svelte');

function answer(answers: Record<string, (...args: unknown[]) => unknown>) {
  call.mockImplementation((async (channel: string, ...args: unknown[]) => {
    const handler = answers[channel];
    if (!handler) throw new Error(`unexpected call ${channel}`);
    return handler(...args);
  }) as typeof api.call);
}
const emit = (event: AppEvent) => listeners.forEach((listener) => listener(event));
const callsOf = (channel: string) => call.mock.calls.filter(([c]) => c === channel).map(([, ...args]) => args);

const report = { source: '/data/pets', classes: [{}, {}, {}], totals: { readable: 60 } } as unknown as DatasetReport;
const base = resolveBase('phi:-4', 64);

function candidate(index: number, fields: Partial<ScalingCandidate>): ScalingCandidate {
  return {
    index,
    alpha: 1.2,
    beta: 1.1,
    gamma: 1.15,
    growth: 1.92,
    width: 0.6,
    depth: 0.5,
    resolution: 72,
    params: 300_000,
    macs: 20_000_000 + index,
    latencyMs: null,
    status: 'pending',
    runIds: [],
    accuracy: null,
    objective: null,
    seconds: null,
    message: null,
    ...fields,
  };
}

function detail(status: ScalingSearchDetail['status'], candidates: ScalingCandidate[], progress: ScalingSearchDetail['progress'] = null) {
  const search: ScalingSearchState = {
    id: 's1',
    createdAt: 1,
    updatedAt: 2,
    dataset: '/data/pets',
    classes: ['a', 'b', 'c'],
    base,
    grid: DEFAULT_GRID,
    tolerance: 0.1,
    gridTotal: 729,
    gridKept: 60,
    maxCandidates: 2,
    training: { epochs: 3, batchSize: 16, learningRate: 0.01, validationSplit: 0.2, augment: true },
    seed: 5,
    targetMacs: 30_000_000,
    targetSource: 'base×2',
    baseMacs: 15_000_000,
    baseParams: 250_000,
    candidates,
  };
  const chosen = candidates.find((c) => c.status === 'completed') ?? null;
  const family = chosen
    ? familyTable(base, chosen, 2, 3).map((m) => ({
        ...m,
        accuracy: m.phi === 1 ? chosen.accuracy : null,
        model: { variant: base.variant, width: m.width, depth: m.depth, resolution: m.resolution },
        runs: [],
      }))
    : [];
  return {
    search,
    status,
    progress,
    error: null,
    chosen,
    constraint: chosen && { value: 1.9203, target: 2, tolerance: 0.1, satisfied: true },
    family,
    chart: scalingChartData({
      title: 't',
      candidates: candidates.map((c) => ({ label: `#${c.index}`, macs: c.macs, accuracy: c.accuracy, chosen: c === chosen })),
      family: family.map((m) => ({ phi: m.phi, macs: m.macs, accuracy: m.accuracy })),
    }),
    tag: 'scale-search:s1',
  } satisfies ScalingSearchDetail;
}

const plan: ScalingPlan = {
  base,
  tolerance: 0.1,
  gridTotal: 729,
  gridKept: 60,
  baseParams: 250_000,
  baseMacs: 15_000_000,
  targetMacs: 30_000_000,
  candidates: [candidate(1, {}), candidate(2, { alpha: 1.4, beta: 1, gamma: 1.2, growth: 2.016 })],
};
const family = (phiMax: number): ScalingFamily => ({
  coefficients: { alpha: 1.2, beta: 1.1, gamma: 1.15 },
  constraint: { value: 1.9203, target: 2, tolerance: 0.1, satisfied: true },
  base,
  numClasses: 3,
  members: familyTable(base, { alpha: 1.2, beta: 1.1, gamma: 1.15 }, phiMax, 3).map((m) => ({
    ...m,
    accuracy: m.phi === 0 ? 0.5 : null,
    model: { variant: base.variant, width: m.width, depth: m.depth, resolution: m.resolution },
    runs: m.phi === 0 ? [{ id: 40, status: 'completed' as const, bestValAccuracy: 0.5 }] : [],
  })),
});

beforeEach(() => {
  call.mockReset();
  listeners.clear();
});

describe('ScalingLabScreen: a new search', () => {
  const props = { id: null, report, onOpenSearch: vi.fn(), onOpenRun: vi.fn() };

  it('previews the kept candidates of the grid and starts a search on the opened dataset', async () => {
    const onOpenSearch = vi.fn();
    answer({ 'scaling:list': () => [], 'scaling:plan': () => plan, 'scaling:start': () => ({ id: 's9', candidates: 6 }) });
    render(ScalingLabScreen, { ...props, onOpenSearch });
    expect(await screen.findByText('No searches yet')).toBeTruthy();
    const summary = await screen.findByTestId('scaling-plan-summary');
    expect(summary.textContent).toMatch(/729\s*combinations;\s*60\s*keep α·β²·γ² within 2 ± 0.1/);
    expect(within(screen.getByRole('table', { name: 'Planned candidates' })).getByText('2.016')).toBeTruthy();
    expect(callsOf('scaling:plan').at(-1)![0]).toMatchObject({
      base: { variant: 'phi:-4' },
      grid: DEFAULT_GRID,
      numClasses: 3,
      maxCandidates: 6,
    });

    await fireEvent.input(screen.getByLabelText('β max'), { target: { value: '1.3' } });
    await waitFor(() => expect(callsOf('scaling:plan').at(-1)![0]).toMatchObject({ grid: { beta: { max: 1.3 } } }));

    await fireEvent.click(screen.getByRole('button', { name: 'Start search' }));
    await waitFor(() => expect(onOpenSearch).toHaveBeenCalledWith('s9'));
    expect(callsOf('scaling:start')[0]![0]).toMatchObject({ dataset: '/data/pets', budget: { epochs: 3 }, tolerance: 0.1 });
  });

  it('a grid nothing survives says so; a bad field blocks the preview and the start', async () => {
    answer({
      'scaling:list': () => [],
      'scaling:plan': () => {
        throw new AppError('scaling-grid-empty', 'No α, β, γ of the grid (1 combinations) has α·β²·γ² within 0.1 of 2.', {
          hint: 'Widen the grid or raise --tolerance.',
        });
      },
    });
    render(ScalingLabScreen, props);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('No candidates to train');
    expect(alert.textContent).toContain('Widen the grid');
    const before = callsOf('scaling:plan').length;
    await fireEvent.input(screen.getByLabelText('α min'), { target: { value: '0.5' } });
    expect(await screen.findByText('α: the paper requires values ≥ 1.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Start search' }));
    expect(screen.getByText('Fix the marked fields first.')).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(callsOf('scaling:plan').length).toBe(before);
    expect(callsOf('scaling:start')).toEqual([]);
  });

  it('lists past searches and opens one', async () => {
    const onOpenSearch = vi.fn();
    answer({
      'scaling:plan': () => plan,
      'scaling:list': () => [
        {
          id: 's1',
          createdAt: 1,
          updatedAt: 2,
          dataset: '/data/pets',
          base,
          status: 'stopped',
          candidates: 6,
          completed: 2,
          failed: 0,
          chosen: { alpha: 1.2, beta: 1.1, gamma: 1.15, accuracy: 0.8 },
        },
      ],
    });
    render(ScalingLabScreen, { ...props, onOpenSearch });
    const list = await screen.findByRole('list', { name: 'Searches' });
    expect(list.textContent).toContain('Stopped (resumable)');
    expect(list.textContent).toContain('2/6 trained');
    expect(list.textContent).toContain('α = 1.2, β = 1.1, γ = 1.15 · 80.0%');
    await fireEvent.click(within(list).getByRole('button'));
    expect(onOpenSearch).toHaveBeenCalledWith('s1');
  });
});

describe('ScalingLabScreen: one search', () => {
  const props = { id: 's1', report: null, onOpenSearch: vi.fn(), onOpenRun: vi.fn() };

  it('shows the running candidate live, the chosen one, the chart, and stops', async () => {
    let current = detail(
      'running',
      [
        candidate(1, { status: 'completed', runIds: [11], accuracy: 0.75, objective: 0.74, seconds: 12 }),
        candidate(2, { status: 'running', alpha: 1.4, beta: 1, gamma: 1.2 }),
      ],
      {
        candidate: 2,
        of: 2,
        runId: 12,
        epoch: 1,
        epochs: 3,
        step: null,
        steps: null,
        phase: null,
      },
    );
    answer({
      'scaling:get': () => current,
      'scaling:family': (args) => family((args as { phiMax: number }).phiMax),
      'scaling:stop': () => ({ stopping: true }),
    });
    render(ScalingLabScreen, props);
    const table = await screen.findByRole('table', { name: 'Candidates' });
    expect(screen.getByTestId('scaling-status').textContent).toBe('Running');
    expect(screen.getByTestId('scaling-chosen').textContent).toMatch(/Chosen so far: α = 1.2, β = 1.1, γ = 1.15/);
    const row2 = within(table).getByTestId('scaling-candidate-2');
    expect(row2.textContent).toContain('epoch 1/3');
    expect(within(table).getByTestId('scaling-candidate-1').textContent).toContain('★');

    // The candidate's run reports steps: the row follows without a refetch.
    emit({
      type: 'job:event',
      job: {
        jobId: 'job-2',
        kind: 'train',
        runId: 12,
        seq: 5,
        time: 1,
        event: { protocolVersion: 1, type: 'progress', phase: 'train', step: 2, steps: 4, epoch: 2, epochs: 3 },
      },
    });
    await waitFor(() => expect(row2.textContent).toMatch(/epoch 2\/3\s·\s+step\s+2\/4/));
    expect(within(row2).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('50');
    await fireEvent.click(within(row2).getByRole('button', { name: '#12' }));
    expect(props.onOpenRun).toHaveBeenCalledWith(12);

    // The chart: B0–B7 and the completed candidate as points, the family's untrained members on the MACs strip.
    const chart = screen.getByRole('img', { name: /Accuracy/ });
    expect(chart.querySelectorAll('[data-series="b-series"] circle')).toHaveLength(8);
    expect(chart.querySelectorAll('[data-series="candidates"] circle')).toHaveLength(1);
    expect(chart.querySelectorAll('[data-series="family"] rect')).toHaveLength(3);

    await fireEvent.click(screen.getByRole('button', { name: 'Stop' }));
    expect(callsOf('scaling:stop')).toEqual([['s1']]);
    current = detail('stopped', [
      current.search.candidates[0]!,
      candidate(2, { status: 'pending', runIds: [12], message: 'Stopped after 1 epoch(s)' }),
    ]);
    emit({ type: 'scaling:progress', searchId: 's1', phase: 'ended', candidate: null, runId: null, message: null });
    await waitFor(() => expect(screen.getByTestId('scaling-status').textContent).toBe('Stopped (resumable)'));
    expect(within(screen.getByTestId('scaling-candidate-2')).getByText('stopped')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Resume' })).toBeTruthy();
  });

  it('resumes a stopped search; its family trains a member and opens the run', async () => {
    const onOpenRun = vi.fn();
    answer({
      'scaling:get': () =>
        detail('stopped', [candidate(1, { status: 'completed', runIds: [11], accuracy: 0.75, objective: 0.74 }), candidate(2, {})]),
      'scaling:family': (args) => family((args as { phiMax: number }).phiMax),
      'scaling:resume': () => ({ id: 's1', candidates: 1 }),
      'scaling:trainMember': () => ({ runId: 41, jobId: 'job-9' }),
    });
    render(ScalingLabScreen, { ...props, onOpenRun });
    await fireEvent.click(await screen.findByRole('button', { name: 'Resume' }));
    expect(callsOf('scaling:resume')).toEqual([['s1']]);

    const members = await screen.findByRole('table', { name: 'Family' });
    expect(within(members).getAllByRole('row')).toHaveLength(1 + 8);
    expect(callsOf('scaling:family').at(-1)![0]).toEqual({ searchId: 's1', alpha: 1.2, beta: 1.1, gamma: 1.15, phiMax: 7 });
    const first = within(members).getByTestId('scaling-member-0');
    expect(first.textContent).toContain('50.0%');
    expect(within(first).getByRole('button', { name: '#40' })).toBeTruthy();
    await fireEvent.click(within(members).getByRole('button', { name: 'Train φ = 2' }));
    await waitFor(() => expect(onOpenRun).toHaveBeenCalledWith(41));
    expect(callsOf('scaling:trainMember')).toEqual([[{ searchId: 's1', phi: 2, epochs: 10 }]]);

    // Other coefficients than the chosen: sent along with the member.
    await fireEvent.input(screen.getByLabelText('Family α'), { target: { value: '1.3' } });
    await waitFor(() => expect(callsOf('scaling:family').at(-1)![0]).toMatchObject({ alpha: 1.3 }));
    await fireEvent.click(within(members).getByRole('button', { name: 'Train φ = 1' }));
    await waitFor(() => expect(callsOf('scaling:trainMember')).toHaveLength(2));
    expect(callsOf('scaling:trainMember')[1]![0]).toMatchObject({ phi: 1, coefficients: { alpha: 1.3, beta: 1.1, gamma: 1.15 } });
  });

  it('an unknown search says what happened', async () => {
    answer({
      'scaling:get': () => {
        throw new AppError('not-found', 'Scaling search s1: cannot read /home/x/scaling/s1.json', { hint: 'No search with this id.' });
      },
    });
    render(ScalingLabScreen, props);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not open search s1');
    expect(alert.textContent).toContain('No search with this id.');
  });
});
