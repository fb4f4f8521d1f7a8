// Run detail with the API mocked: the confusion matrix's cells open the images behind them.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunEvaluation, Thumbnail } from '../../../../app/common/ipc/contract.ts';
import type { RunDetail } from '../../../../app/common/store-types.ts';
import type * as Api from '../../lib/api.ts';

vi.mock('../../lib/api.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof Api>()),
  call: vi.fn(),
  onEvent: vi.fn(() => () => {}),
  canPickPaths: () => false,
}));
const api = await import('../../lib/api.ts');
const call = vi.mocked(api.call);
const { default: RunDetailScreen } = await import('./RunDetailScreen.svelte');

const detail: RunDetail = {
  run: {
    id: 3,
    name: 'pets b0',
    datasetId: 1,
    config: { mode: 'finetune' },
    status: 'completed',
    statusMessage: null,
    backend: 'wasm',
    device: 'WebAssembly',
    seed: 1,
    createdAt: 1,
    startedAt: 1,
    finishedAt: 2,
    resumedFrom: null,
    ownerPid: null,
    ownerHost: null,
    epochsDone: 2,
    bestValAccuracy: 0.75,
    bestEpoch: 2,
    finalValAccuracy: 0.75,
  },
  dataset: null,
  metrics: {},
  artifacts: [],
  tags: [],
  notes: [],
  lastEventSeq: 0,
};

function evaluation(misclassified: RunEvaluation['misclassified']): RunEvaluation {
  return {
    classes: ['cat', 'dog'],
    matrix: [
      [5, 2],
      [0, 1],
    ],
    split: 'val',
    epoch: 2,
    misclassified,
    datasetSource: '/data/pets',
  };
}

const cell = {
  actual: 'cat',
  predicted: 'dog',
  count: 2,
  items: [
    { path: 'cat/7.png', confidence: 0.9 },
    { path: 'cat/2.png', confidence: 0.6 },
  ],
};

function answer(found: RunEvaluation, thumbnails: (paths: string[]) => Thumbnail[]) {
  call.mockImplementation((async (channel: string, ...args: unknown[]) => {
    if (channel === 'runs:get') return detail;
    if (channel === 'runs:evaluation') return found;
    if (channel === 'datasets:thumbnails') return thumbnails((args[0] as { paths: string[] }).paths);
    // The run page may ask for more (its exports); nothing here depends on it.
    return [];
  }) as typeof api.call);
}

beforeEach(() => {
  call.mockReset();
});

describe('RunDetailScreen confusion matrix', () => {
  it('opens the misclassified images of a cell, most confident first, from the run’s dataset', async () => {
    answer(evaluation([cell]), (paths) => paths.map((path) => ({ path, label: 'cat', dataUrl: `data:image/jpeg;base64,${path}` })));
    render(RunDetailScreen, { id: 3, onBack: vi.fn(), onDeleted: vi.fn(), onOpenRun: vi.fn() });
    await fireEvent.click(await screen.findByTitle('cat predicted as dog: 2'));
    const panel = await screen.findByTestId('misclassified');
    await waitFor(() => expect(within(panel).getAllByRole('img')).toHaveLength(2));
    expect(
      within(panel)
        .getAllByRole('img')
        .map((img) => img.getAttribute('alt')),
    ).toEqual(['cat/7.png', 'cat/2.png']);
    expect(within(panel).getByText('90.0% dog')).toBeTruthy();
    expect(call).toHaveBeenCalledWith('datasets:thumbnails', { source: '/data/pets', paths: ['cat/7.png', 'cat/2.png'], size: 128 });
    await fireEvent.click(within(panel).getByRole('button', { name: 'Close' }));
    expect(screen.queryByTestId('misclassified')).toBeNull();
  });

  it('explains a run recorded before images were kept instead of showing nothing', async () => {
    answer(evaluation(null), () => {
      throw new Error('no thumbnails should be asked for');
    });
    render(RunDetailScreen, { id: 3, onBack: vi.fn(), onDeleted: vi.fn(), onOpenRun: vi.fn() });
    await fireEvent.click(await screen.findByTitle('cat predicted as dog: 2'));
    expect(await screen.findByText(/recorded before EffNet Studio kept the misclassified images/)).toBeTruthy();
  });

  it('says when an image has moved since training', async () => {
    answer(evaluation([cell]), (paths) => paths.map((path) => ({ path, label: 'cat', dataUrl: null, error: 'file not found' })));
    render(RunDetailScreen, { id: 3, onBack: vi.fn(), onDeleted: vi.fn(), onOpenRun: vi.fn() });
    await fireEvent.click(await screen.findByTitle('cat predicted as dog: 2'));
    expect(await screen.findAllByText(/file not found \(moved or deleted since training\?\)/)).toHaveLength(2);
  });
});
