// The Export screen and a run's exports list with the API mocked: choosing, progress from live
// events, the verification numbers, failed parity, errors and the empty state.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../app/common/errors.ts';
import type { ExportSummary, ExportVerification, JobState, RunExport } from '../../../../app/common/ipc/contract.ts';
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
}));
const api = await import('../../lib/api.ts');
const call = vi.mocked(api.call);
const { default: ExportScreen } = await import('./ExportScreen.svelte');
const { default: RunExports } = await import('./RunExports.svelte');

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

function run(id: number, epochsDone: number): RunListRow {
  return {
    id,
    name: `run ${id}`,
    datasetId: 1,
    datasetName: 'pets',
    status: 'completed',
    statusMessage: null,
    backend: 'cpu',
    device: 'CPU',
    seed: 1,
    createdAt: 1_700_000_000_000,
    startedAt: 1_700_000_000_000,
    finishedAt: 1_700_000_060_000,
    resumedFrom: null,
    epochsDone,
    bestValAccuracy: 0.9,
    bestEpoch: 1,
    finalValAccuracy: 0.9,
    tags: [],
    durationMs: 60_000,
  };
}

function verification(passed: boolean): ExportVerification {
  const set = {
    inputs: 32,
    maxAbsDiff: passed ? 3e-7 : 0.02,
    meanAbsDiff: 1e-8,
    top1Agreement: passed ? 1 : 0.9375,
    labeled: 0,
    accuracyOriginal: null,
    accuracyExported: null,
  };
  return {
    passed,
    quantization: 'none',
    criterion: { metric: 'maxAbsDiff', threshold: 1e-4, on: 'all' },
    runtime: 'onnxruntime-node',
    reference: 'tfjs (cpu)',
    sets: { random: set },
    overall: set,
    failures: passed ? [] : ['max |Δp| 2.00e-2 is over the limit 1e-4'],
    skippedImages: [],
    createdAt: '2024-01-01T00:00:00Z',
  };
}

function state(finished: boolean, result: ExportSummary | null, error: JobState<ExportSummary>['error'] = null): JobState<ExportSummary> {
  return {
    job: {
      id: 'job-4',
      kind: 'export',
      runId: null,
      status: finished ? (error ? 'failed' : 'completed') : 'running',
      paused: false,
      message: null,
      pid: 1,
      createdAt: 1,
      startedAt: 1,
      finishedAt: finished ? 2 : null,
    },
    progress: finished ? null : { phase: 'verify', step: 5, steps: 32, message: 'verifying in onnxruntime-node' },
    warnings: [],
    result,
    error,
  };
}

const summary = (passed: boolean): ExportSummary => ({
  outDir: '/home/me/.effnet/exports/run-2-onnx',
  format: 'onnx',
  quantization: 'none',
  passed,
  artifact: '/home/me/.effnet/exports/run-2-onnx/model.onnx',
  files: [
    { name: 'model.onnx', bytes: 2048, sha256: 'a'.repeat(64) },
    { name: 'verification.json', bytes: 512, sha256: 'b'.repeat(64) },
  ],
  verification: verification(passed),
  runId: 2,
});

beforeEach(() => {
  call.mockReset();
  listeners.clear();
  activeJobs.export = null;
});

describe('ExportScreen', () => {
  it('explains that a model is needed when no run has one, and waits for a folder', async () => {
    answer({ 'runs:list': () => ({ rows: [run(1, 0)], total: 1 }) });
    render(ExportScreen, { runId: null, dataFolder: '/data' });
    expect(await screen.findByTestId('no-model-runs')).toBeTruthy();
    const start = screen.getByTestId('export-start') as HTMLButtonElement;
    expect(start.disabled).toBe(true);
    await fireEvent.click(screen.getByLabelText('A model folder or file'));
    await fireEvent.input(screen.getByTestId('model-path'), { target: { value: '/models/flowers' } });
    expect(start.disabled).toBe(false);
  });

  it('exports the run it was opened for, follows the progress, then shows the verification numbers and the artifact', async () => {
    let current = state(false, null);
    let exportsOfRun: RunExport[] = [];
    answer({
      'runs:list': () => ({ rows: [run(1, 3), run(2, 5)], total: 2 }),
      'exports:start': () => ({ jobId: 'job-4', outDir: summary(true).outDir }),
      'exports:job': () => current,
      'exports:list': () => exportsOfRun,
    });
    render(ExportScreen, { runId: 2, dataFolder: '/home/me/.effnet' });
    await waitFor(() => expect((screen.getByTestId('model-run') as HTMLSelectElement).value).toBe('2'));
    expect((screen.getByTestId('export-destination') as HTMLInputElement).placeholder).toBe(
      'Leave empty for /home/me/.effnet/exports/run-2-onnx',
    );
    await fireEvent.change(screen.getByTestId('export-quantization'), { target: { value: 'float16' } });
    await fireEvent.change(screen.getByTestId('export-quantization'), { target: { value: 'none' } });
    await fireEvent.click(screen.getByTestId('export-start'));
    expect(call).toHaveBeenCalledWith('exports:start', { source: 2, format: 'onnx', quantization: 'none', outDir: undefined });

    const bar = await screen.findByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('5');
    expect(screen.getByText(/verifying in onnxruntime-node/)).toBeTruthy();
    // A live progress event moves the bar without asking the core.
    publish({
      type: 'job:event',
      job: {
        jobId: 'job-4',
        kind: 'export',
        runId: null,
        seq: 9,
        time: 3,
        event: { type: 'progress', protocolVersion: 1, phase: 'verify', step: 20, steps: 32, message: 'verifying in onnxruntime-node' },
      },
    });
    await waitFor(() => expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('20'));

    current = state(true, summary(true));
    exportsOfRun = [];
    publish({
      type: 'job:event',
      job: {
        jobId: 'job-4',
        kind: 'export',
        runId: null,
        seq: 10,
        time: 4,
        event: { type: 'status', status: 'completed', paused: false, message: null },
      },
    });
    const verdict = await screen.findByTestId('export-verdict');
    expect(verdict.textContent).toContain('Verified');
    expect(screen.getByTestId('export-max-diff').textContent).toContain('3.0e-7');
    expect(screen.getByTestId('export-max-diff').textContent).toContain('limit 1e-4');
    expect(screen.getByTestId('export-top1').textContent).toContain('100.00%');
    expect(screen.getByTestId('export-limit').textContent).toContain('max |Δp| ≤ 1e-4 on all inputs');
    expect(screen.getByTestId('export-artifact').textContent).toBe('/home/me/.effnet/exports/run-2-onnx/model.onnx');
    expect(screen.queryByRole('progressbar')).toBeNull();
  });

  it('shows a failed parity check with the reason in words', async () => {
    activeJobs.export = 'job-4';
    answer({
      'runs:list': () => ({ rows: [run(2, 5)], total: 1 }),
      'exports:job': () => state(true, summary(false)),
      'exports:list': () => [],
    });
    render(ExportScreen, { runId: null, dataFolder: null });
    expect((await screen.findByTestId('export-verdict')).textContent).toContain('Failed verification');
    expect(screen.getByText('max |Δp| 2.00e-2 is over the limit 1e-4')).toBeTruthy();
    expect(screen.getByTestId('export-top1').textContent).toContain('93.75%');
  });

  it('says why an export could not start', async () => {
    answer({
      'runs:list': () => ({ rows: [run(2, 5)], total: 1 }),
      'exports:list': () => [],
      'exports:start': () => {
        throw new AppError('invalid-path', 'outDir: /etc holds other files and is not an earlier export', {
          hint: 'An export replaces the whole folder: choose a new folder, an empty one, or an earlier export.',
        });
      },
    });
    render(ExportScreen, { runId: 2, dataFolder: null });
    await fireEvent.input(await screen.findByTestId('export-destination'), { target: { value: '/etc' } });
    await fireEvent.click(screen.getByTestId('export-start'));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The export did not start');
    expect(alert.textContent).toContain('choose a new folder');
    expect(call).toHaveBeenCalledWith('exports:start', { source: 2, format: 'onnx', quantization: 'none', outDir: '/etc' });
  });

  it('shows the error of an export job that failed', async () => {
    activeJobs.export = 'job-4';
    answer({
      'runs:list': () => ({ rows: [run(2, 5)], total: 1 }),
      'exports:list': () => [],
      'exports:job': () => state(true, null, { code: 'model-no-classifier', message: 'the model is a feature extractor' }),
    });
    render(ExportScreen, { runId: null, dataFolder: null });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The export failed');
    expect(alert.textContent).toContain('the model is a feature extractor');
  });
});

describe('RunExports', () => {
  it('lists a run’s exports with their parity numbers, and the report on request', async () => {
    const exported: RunExport = {
      artifactId: 7,
      outDir: '/exports/run-2-onnx',
      artifact: '/exports/run-2-onnx/model.onnx',
      format: 'onnx',
      bytes: 2560,
      createdAt: 1_700_000_000_000,
      exists: true,
      verification: verification(true),
      problem: null,
    };
    answer({ 'exports:list': () => [exported] });
    render(RunExports, { runId: 2 });
    const table = await screen.findByRole('table', { name: 'Exports' });
    const row = within(table).getAllByRole('row')[1]!;
    expect(row.textContent).toContain('onnx · float32');
    expect(row.textContent).toContain('passed');
    expect(row.textContent).toContain('3.0e-7');
    expect(row.textContent).toContain('100.00%');
    expect(row.textContent).toContain('2.5 KB');
    expect(screen.getByTestId('run-export-button').getAttribute('href')).toBe('#/export/2');
    await fireEvent.click(within(row).getByRole('button', { name: 'Details' }));
    expect(screen.getByText('/exports/run-2-onnx/model.onnx')).toBeTruthy();
    expect(screen.getByRole('table', { name: 'Parity per input set' }).textContent).toContain('Random images');
  });

  it('says what an export is when there is none, and offers none without a model', async () => {
    answer({ 'exports:list': () => [] });
    render(RunExports, { runId: 3, canExport: false });
    expect(await screen.findByTestId('run-exports-empty')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Export…' }) as HTMLButtonElement).disabled).toBe(true);
  });
});
