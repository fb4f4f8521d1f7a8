// Screens with the API mocked: their empty, loading, error and filled states, and the calls they make.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../app/common/errors.ts';
import type { DatasetReport, VariantSummary } from '../../../app/common/ipc/contract.ts';
import type { RunListRow } from '../../../app/common/store-types.ts';
import type * as Api from '../lib/api.ts';

vi.mock('../lib/api.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof Api>()),
  call: vi.fn(),
  onEvent: vi.fn(() => () => {}),
  canPickPaths: () => false,
}));
const api = await import('../lib/api.ts');
const call = vi.mocked(api.call);
const { default: DatasetsScreen } = await import('./datasets/DatasetsScreen.svelte');
const { default: ExperimentsScreen } = await import('./experiments/ExperimentsScreen.svelte');
const { default: NewRunScreen } = await import('./new-run/NewRunScreen.svelte');

/** Routes mocked calls by channel; a channel without an answer fails the test loudly. */
function answer(answers: Record<string, (...args: unknown[]) => unknown>) {
  call.mockImplementation((async (channel: string, ...args: unknown[]) => {
    const handler = answers[channel];
    if (!handler) throw new Error(`unexpected call ${channel}`);
    return handler(...args);
  }) as typeof api.call);
}

const report: DatasetReport = {
  root: '/data/pets',
  source: '/data/pets',
  format: 'class-folders',
  totals: { listed: 7, readable: 6, unreadable: 1, duplicates: 0, ignored: 0, bytes: 1234 },
  classes: [
    { name: 'cat', count: 4, share: 4 / 6 },
    { name: 'dog', count: 2, share: 2 / 6 },
  ],
  splits: [],
  sizes: { width: { min: 24, median: 24, max: 24 }, height: { min: 24, median: 24, max: 24 } },
  grayscaleShare: 0,
  transparentShare: 0,
  formats: { png: 6 },
  imbalanceRatio: 2,
  issues: [{ kind: 'unreadable', path: 'dog/broken.png', class: 'dog', message: 'unreadable: not an image' }],
  fingerprint: 'abc',
};

beforeEach(() => {
  call.mockReset();
});

describe('DatasetsScreen', () => {
  it('explains the first step while no dataset is open', () => {
    answer({ 'datasets:recent': () => [] });
    render(DatasetsScreen, { report: null, onReport: vi.fn(), onTrain: vi.fn() });
    expect(screen.getByText('Open a dataset to start')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Inspect' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('inspects the typed path and hands the report up', async () => {
    const onReport = vi.fn();
    answer({ 'datasets:recent': () => [], 'datasets:inspect': () => report });
    render(DatasetsScreen, { report: null, onReport, onTrain: vi.fn() });
    await fireEvent.input(screen.getByLabelText('Dataset folder or CSV manifest'), { target: { value: '/data/pets' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Inspect' }));
    await waitFor(() => expect(onReport).toHaveBeenCalledWith(report));
    expect(call).toHaveBeenCalledWith('datasets:inspect', { source: '/data/pets' });
  });

  it('shows what went wrong and what to do when the path is bad', async () => {
    answer({
      'datasets:recent': () => [],
      'datasets:inspect': () => {
        throw new AppError('invalid-path', 'source: /nope does not exist', { hint: 'Check the path and try again.' });
      },
    });
    render(DatasetsScreen, { report: null, onReport: vi.fn(), onTrain: vi.fn() });
    await fireEvent.input(screen.getByLabelText('Dataset folder or CSV manifest'), { target: { value: '/nope' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Inspect' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not open /nope');
    expect(alert.textContent).toContain('Check the path and try again.');
  });

  it('shows the report: figures, classes and issues', async () => {
    answer({ 'datasets:recent': () => [], 'datasets:thumbnails': () => [] });
    render(DatasetsScreen, { report, onReport: vi.fn(), onTrain: vi.fn() });
    const bars = screen.getByRole('list', { name: 'Images per class' });
    expect(bars.textContent).toContain('cat');
    expect(bars.textContent).toContain('4');
    expect(screen.getByText('dog/broken.png')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Train on this dataset →' })).toBeTruthy();
  });
});

function row(id: number, name: string, best: number): RunListRow {
  return {
    id,
    name,
    datasetId: 1,
    datasetName: 'pets',
    status: 'completed',
    statusMessage: null,
    backend: 'cpu',
    device: 'CPU',
    seed: 1,
    createdAt: 1_700_000_000_000 + id,
    startedAt: 1_700_000_000_000,
    finishedAt: 1_700_000_060_000,
    resumedFrom: null,
    epochsDone: 5,
    bestValAccuracy: best,
    bestEpoch: 4,
    finalValAccuracy: best - 0.01,
    tags: ['baseline'],
    durationMs: 60_000,
  };
}

describe('ExperimentsScreen', () => {
  const lists = { 'runs:tags': () => [{ name: 'baseline', runs: 2 }], 'datasets:recent': () => [] };

  it('explains how to get a first run when there are none', async () => {
    const onNewRun = vi.fn();
    answer({ ...lists, 'runs:list': () => ({ rows: [], total: 0 }) });
    render(ExperimentsScreen, { onOpenRun: vi.fn(), onCompare: vi.fn(), onNewRun });
    await fireEvent.click(await screen.findByRole('button', { name: 'New run' }));
    expect(onNewRun).toHaveBeenCalled();
  });

  it('lists runs with their best accuracy and compares the two selected', async () => {
    const onCompare = vi.fn();
    answer({ ...lists, 'runs:list': () => ({ rows: [row(1, 'first', 0.8), row(2, 'second', 0.9)], total: 2 }) });
    render(ExperimentsScreen, { onOpenRun: vi.fn(), onCompare, onNewRun: vi.fn() });
    const table = await screen.findByRole('table', { name: 'Runs' });
    expect(table.textContent).toContain('90.0%');
    const compare = screen.getByRole('button', { name: /Compare/ }) as HTMLButtonElement;
    expect(compare.disabled).toBe(true);
    await fireEvent.click(screen.getByLabelText('Select first to compare'));
    await fireEvent.click(screen.getByLabelText('Select second to compare'));
    expect(compare.disabled).toBe(false);
    await fireEvent.click(compare);
    expect(onCompare).toHaveBeenCalledWith([1, 2]);
  });

  it('sorts by a column header, descending first for accuracies', async () => {
    answer({ ...lists, 'runs:list': () => ({ rows: [row(1, 'first', 0.8)], total: 1 }) });
    render(ExperimentsScreen, { onOpenRun: vi.fn(), onCompare: vi.fn(), onNewRun: vi.fn() });
    await fireEvent.click(await screen.findByRole('button', { name: /Best val acc/ }));
    await waitFor(() =>
      expect(call).toHaveBeenCalledWith('runs:list', expect.objectContaining({ sort: 'bestValAccuracy', direction: 'desc' })),
    );
  });
});

describe('NewRunScreen', () => {
  const variants: VariantSummary[] = [
    { name: 'b0', phi: 0, width: 1, depth: 1, resolution: 224, dropout: 0.2, totalParams: 5_330_571, macs: 386e6, paperTop1: 77.1 },
    { name: 'b1', phi: 1, width: 1, depth: 1.1, resolution: 240, dropout: 0.2, totalParams: 7_856_239, macs: 687e6, paperTop1: 79.1 },
  ];
  const weights = {
    folder: '/w',
    imported: [],
    catalogue: [
      {
        label: 'b0 (notop)',
        variant: 'b0',
        top: false,
        fileName: 'x',
        cached: true,
        bytes: 1,
        approxBytes: 1,
        fetchCommand: 'effnet weights fetch b0 --notop',
      },
    ],
  };

  it('starts training with the chosen variant and the dataset from Datasets', async () => {
    const onStarted = vi.fn();
    answer({ 'models:variants': () => variants, 'system:weights': () => weights, 'training:start': () => ({ runId: 9, jobId: 'job-1' }) });
    render(NewRunScreen, {
      dataset: report,
      features: { training: true, export: false, classify: false },
      onOpenDatasets: vi.fn(),
      onStarted,
    });
    await fireEvent.click(await screen.findByRole('radio', { name: 'B1' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Start training' }));
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith(9));
    const [, request] = call.mock.calls.find(([channel]) => channel === 'training:start')! as [
      string,
      { config: { model: { variant: string }; dataset: { path: string } } },
    ];
    expect(request.config.model.variant).toBe('b1');
    expect(request.config.dataset.path).toBe('/data/pets');
  });

  it('does not start with a bad learning rate, and says which field is wrong', async () => {
    answer({ 'models:variants': () => variants, 'system:weights': () => weights });
    render(NewRunScreen, {
      dataset: report,
      features: { training: true, export: false, classify: false },
      onOpenDatasets: vi.fn(),
      onStarted: vi.fn(),
    });
    await fireEvent.input(await screen.findByLabelText(/^Learning rate/), { target: { value: '-1' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Start training' }));
    expect(await screen.findByText('Fix the marked fields first.')).toBeTruthy();
    expect(call.mock.calls.some(([channel]) => channel === 'training:start')).toBe(false);
  });

  it('estimates each variant’s time per epoch from this machine’s speed, the dataset and the mode', async () => {
    const speed = { backend: 'wasm', device: 'WebAssembly', macsPerSecond: 1e9, basis: { kind: 'runs', runs: 3 } };
    answer({ 'models:variants': () => variants, 'system:weights': () => weights, 'models:speed': () => speed });
    render(NewRunScreen, {
      dataset: report,
      features: { training: true, export: false, classify: false },
      onOpenDatasets: vi.fn(),
      onStarted: vi.fn(),
    });
    // 6 readable images, 20% held out: 5 train + 1 validation, one forward pass each in head mode.
    await waitFor(() => expect(screen.getByTestId('epoch-time-b0').textContent).toBe('~2 s'));
    expect(screen.getByTestId('epoch-time-b1').textContent).toBe('~4 s');
    expect(screen.getByTestId('estimate-note').textContent).toMatch(/on wasm \(WebAssembly\) from this machine's last 3 runs.*Head mode/);
  });

  it('shows no estimate, without blocking the form, when the speed cannot be measured', async () => {
    answer({ 'models:variants': () => variants, 'system:weights': () => weights });
    render(NewRunScreen, {
      dataset: report,
      features: { training: true, export: false, classify: false },
      onOpenDatasets: vi.fn(),
      onStarted: vi.fn(),
    });
    expect((await screen.findByTestId('epoch-time-b0')).textContent).toBe('—');
    expect(screen.queryByTestId('estimate-note')).toBeNull();
  });

  it('says when this build cannot train', async () => {
    answer({ 'models:variants': () => variants, 'system:weights': () => weights });
    render(NewRunScreen, {
      dataset: report,
      features: { training: false, export: false, classify: false },
      onOpenDatasets: vi.fn(),
      onStarted: vi.fn(),
    });
    expect(await screen.findByText(/Training is not available in this build/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Start training' }) as HTMLButtonElement).disabled).toBe(true);
  });
});
