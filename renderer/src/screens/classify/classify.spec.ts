// The Classify screen with the API mocked: dropped images are uploaded in chunks and shown with
// their top-k bars; a folder goes to CSV with progress; skipped files, errors and the empty state.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../app/common/errors.ts';
import type { ClassifySummary, JobState } from '../../../../app/common/ipc/contract.ts';
import type { AppEvent } from '../../../../app/common/ipc/events.ts';
import type { RunListRow } from '../../../../app/common/store-types.ts';
import type * as Api from '../../lib/api.ts';
import { activeJobs } from '../../lib/jobs.ts';

const listeners = new Set<(event: AppEvent) => void>();
vi.mock('../../lib/api.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof Api>()),
  call: vi.fn(),
  onEvent: vi.fn((listener: (event: AppEvent) => void) => (listeners.add(listener), () => listeners.delete(listener))),
  canPickPaths: () => false,
  pathOfDroppedFile: () => null,
}));
const api = await import('../../lib/api.ts');
const call = vi.mocked(api.call);
const { default: ClassifyScreen } = await import('./ClassifyScreen.svelte');

function answer(answers: Record<string, (...args: unknown[]) => unknown>) {
  call.mockImplementation((async (channel: string, ...args: unknown[]) => {
    const handler = answers[channel];
    if (!handler) throw new Error(`unexpected call ${channel}`);
    return handler(...args);
  }) as typeof api.call);
}
function publish(event: AppEvent) {
  for (const listener of [...listeners]) listener(event);
}
const ended = (jobId: string): AppEvent => ({
  type: 'job:event',
  job: {
    jobId,
    kind: 'classify',
    runId: null,
    seq: 5,
    time: 5,
    event: { type: 'status', status: 'completed', paused: false, message: null },
  },
});

const runs: RunListRow[] = [
  {
    id: 4,
    name: 'flowers b0',
    datasetId: 1,
    datasetName: 'flowers',
    status: 'completed',
    statusMessage: null,
    backend: 'cpu',
    device: 'CPU',
    seed: 1,
    createdAt: 1,
    startedAt: 1,
    finishedAt: 2,
    resumedFrom: null,
    epochsDone: 3,
    bestValAccuracy: 0.9,
    bestEpoch: 3,
    finalValAccuracy: 0.9,
    tags: [],
    durationMs: 1,
  },
];

function state(
  finished: boolean,
  result: ClassifySummary | null,
  progress: { step: number; steps: number } | null = null,
): JobState<ClassifySummary> {
  return {
    job: {
      id: 'job-9',
      kind: 'classify',
      runId: null,
      status: finished ? 'completed' : 'running',
      paused: false,
      message: null,
      pid: 1,
      createdAt: 1,
      startedAt: 1,
      finishedAt: finished ? 2 : null,
    },
    progress: finished || !progress ? null : { phase: 'classify', ...progress, message: null },
    warnings: [],
    result,
    error: null,
  };
}

beforeEach(() => {
  call.mockReset();
  listeners.clear();
  activeJobs.classify = null;
});

describe('ClassifyScreen', () => {
  it('asks for a model and images before it can start', async () => {
    answer({ 'runs:list': () => ({ rows: [], total: 0 }) });
    render(ClassifyScreen);
    expect(await screen.findByTestId('no-model-runs')).toBeTruthy();
    expect((screen.getByTestId('classify-start') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByLabelText('A model folder or file'));
    await fireEvent.input(screen.getByTestId('model-path'), { target: { value: '/exports/model.onnx' } });
    expect(screen.getByText('Drop images, or give files or folders by path.')).toBeTruthy();
    expect((screen.getByTestId('classify-start') as HTMLButtonElement).disabled).toBe(true);
  });

  it('uploads chosen images, then shows each one’s top classes as bars and the files it skipped', async () => {
    const uploads: { name: string; offset: number; data: string; uploadId?: string }[] = [];
    let current = state(false, null);
    answer({
      'runs:list': () => ({ rows: runs, total: 1 }),
      'classify:upload': (chunk) => {
        const request = chunk as (typeof uploads)[number];
        uploads.push(request);
        return { uploadId: 'c'.repeat(24), name: request.name, bytes: atob(request.data).length };
      },
      'classify:start': () => ({ jobId: 'job-9' }),
      'classify:job': () => current,
    });
    render(ClassifyScreen);
    await waitFor(() => expect((screen.getByTestId('model-run') as HTMLSelectElement).value).toBe('4'));
    const rose = new File(['rose-bytes'], 'rose.png', { type: 'image/png' });
    const notes = new File(['text'], 'notes.txt', { type: 'text/plain' });
    await fireEvent.change(screen.getByTestId('classify-file-input'), { target: { files: [rose, notes] } });
    expect(screen.getByTestId('classify-refused').textContent).toContain('notes.txt: not an image.');
    expect(within(screen.getByRole('list', { name: 'Chosen images' })).getByText('rose.png')).toBeTruthy();

    await fireEvent.click(screen.getByTestId('classify-start'));
    await waitFor(() => expect(call).toHaveBeenCalledWith('classify:start', expect.objectContaining({ model: 4 })));
    expect(uploads).toEqual([{ uploadId: undefined, name: 'rose.png', offset: 0, data: btoa('rose-bytes') }]);
    expect(call).toHaveBeenCalledWith('classify:start', { model: 4, inputs: [], uploadId: 'c'.repeat(24), topK: 5, csvPath: undefined });
    expect(await screen.findByText('Loading the model…')).toBeTruthy();

    current = state(true, {
      labels: ['daisy', 'roses', 'tulips'],
      results: [
        {
          path: 'rose.png',
          dropped: true,
          top: [
            { label: 'roses', probability: 0.875 },
            { label: 'tulips', probability: 0.1 },
          ],
        },
      ],
      skipped: [{ path: 'broken.png', dropped: true, reason: 'not an image: unsupported image format' }],
      ignored: 0,
      csvPath: null,
      csvError: null,
    });
    publish(ended('job-9'));
    const bars = await screen.findByRole('list', { name: 'Top 2 for rose.png' });
    expect(bars.textContent).toContain('roses');
    expect(bars.textContent).toContain('87.5%');
    expect(bars.textContent).toContain('10.0%');
    expect(screen.getByTestId('classify-summary').textContent).toMatch(/Classified 1 image, skipped 1 that could not be\s+read/);
    expect(screen.getByTestId('classify-skipped').textContent).toContain('broken.png: not an image: unsupported image format');
  });

  it('classifies a folder to CSV with progress, as a table when there are many images', async () => {
    let current = state(false, null, { step: 12, steps: 40 });
    answer({
      'runs:list': () => ({ rows: runs, total: 1 }),
      'classify:start': () => ({ jobId: 'job-9' }),
      'classify:job': () => current,
    });
    render(ClassifyScreen);
    await waitFor(() => expect((screen.getByTestId('model-run') as HTMLSelectElement).value).toBe('4'));
    await fireEvent.input(screen.getByTestId('classify-paths'), { target: { value: '/photos/to-sort\n\n' } });
    await fireEvent.input(screen.getByTestId('classify-csv-path'), { target: { value: '/photos/labels.csv' } });
    await fireEvent.input(screen.getByTestId('classify-topk'), { target: { value: '3' } });
    await fireEvent.click(screen.getByTestId('classify-start'));
    const bar = await screen.findByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('12');
    expect(bar.getAttribute('aria-valuemax')).toBe('40');
    expect(call).toHaveBeenCalledWith('classify:start', {
      model: 4,
      inputs: ['/photos/to-sort'],
      uploadId: undefined,
      topK: 3,
      csvPath: '/photos/labels.csv',
    });

    const results = Array.from({ length: 40 }, (_, i) => ({
      path: `/photos/to-sort/${i}.jpg`,
      dropped: false,
      top: [{ label: i % 2 ? 'roses' : 'daisy', probability: 0.6 }],
    }));
    current = state(true, { labels: ['daisy', 'roses'], results, skipped: [], ignored: 2, csvPath: '/photos/labels.csv', csvError: null });
    publish(ended('job-9'));
    const table = await screen.findByRole('table', { name: 'Results' });
    expect(within(table).getAllByTestId('classify-result')).toHaveLength(40);
    expect(screen.getByTestId('classify-csv').textContent).toBe('/photos/labels.csv');
    expect(screen.getByTestId('classify-summary').textContent).toContain('left out 2 non-image files in the folders');
  });

  it('says what is wrong when the classification cannot start', async () => {
    answer({
      'runs:list': () => ({ rows: runs, total: 1 }),
      'classify:start': () => {
        throw new AppError('invalid-path', 'inputs.0: /photos/nope does not exist', { hint: 'Check the path and try again.' });
      },
    });
    render(ClassifyScreen);
    await waitFor(() => expect((screen.getByTestId('model-run') as HTMLSelectElement).value).toBe('4'));
    await fireEvent.input(screen.getByTestId('classify-paths'), { target: { value: '/photos/nope' } });
    await fireEvent.click(screen.getByTestId('classify-start'));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('inputs.0: /photos/nope does not exist');
    expect(alert.textContent).toContain('Check the path and try again.');
  });
});
