/** Text and JSON views of runs for `effnet runs …` and `effnet train`. */
import { configDiff, flattenConfig } from '../../common/config-diff.ts';
import { parseTrainConfig } from '../../common/train-config.ts';
import type { JsonObject, MetricSeries, RunComparison, RunDetail, RunListPage, RunRow, RunStatus } from '../../common/store-types.ts';
import { formatBytes, formatDuration, formatTable } from '../terminal.ts';

/** Metrics `runs show` lists first, in this order; others follow alphabetically. */
const METRIC_ORDER = ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'val_top5_accuracy', 'val_macro_f1', 'learning_rate'];
const MAX_METRIC_COLUMNS = 7;
/** Config fields `runs show` always lists; the rest only where they differ from the defaults. */
const ESSENTIAL_SETTINGS = [
  'dataset.path',
  'mode',
  'model.variant',
  'model.weights',
  'epochs',
  'batchSize',
  'optimizer.name',
  'optimizer.learningRate',
  'seed',
];

export interface Ancestor {
  readonly id: number;
  readonly name: string;
  readonly status: RunStatus;
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : `${(value * 100).toFixed(1)}%`;
}

function time(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function duration(run: Pick<RunRow, 'startedAt' | 'finishedAt' | 'status'>): string {
  if (run.startedAt === null) return '-';
  const end = run.finishedAt ?? (run.status === 'running' ? Date.now() : null);
  return end === null ? '-' : formatDuration((end - run.startedAt) / 1000);
}

export function formatRunList(page: RunListPage): string {
  if (page.total === 0) return 'No runs yet. Start one with `effnet train DATASET`.\n';
  const rows = page.rows.map((run) => [
    String(run.id),
    run.name,
    run.status,
    run.datasetName ?? '-',
    String(run.epochsDone),
    run.bestValAccuracy === null ? '-' : `${percent(run.bestValAccuracy)} @${run.bestEpoch}`,
    percent(run.finalValAccuracy),
    run.durationMs === null ? '-' : formatDuration(run.durationMs / 1000),
    time(run.createdAt).slice(0, 16),
    run.tags.join(','),
  ]);
  const table = formatTable(
    ['id', 'name', 'status', 'dataset', 'epochs', 'best val acc', 'final val acc', 'duration', 'created', 'tags'],
    rows,
    [true, false, false, false, true, true, true, true, false, false],
  );
  const more = page.total > page.rows.length ? `${page.rows.length} of ${page.total} runs (use --limit or filters to see others)\n` : '';
  return table + more;
}

/** `runs show --json`: the run's fields at the top level (status, config, best and final validation accuracy), then the rest. */
export function runJson(detail: RunDetail, lineage: readonly Ancestor[] = []) {
  return {
    ...detail.run,
    dataset: detail.dataset,
    metrics: detail.metrics,
    artifacts: detail.artifacts,
    tags: detail.tags,
    notes: detail.notes,
    lineage,
  };
}

function orderedMetrics(metrics: { readonly [name: string]: MetricSeries }): string[] {
  const names = Object.keys(metrics);
  const known = METRIC_ORDER.filter((name) => names.includes(name));
  const rest = names.filter((name) => !METRIC_ORDER.includes(name)).sort();
  return [...known, ...rest];
}

function metricValue(name: string, value: number | null | undefined): string {
  if (value === undefined) return '';
  if (value === null) return 'NaN';
  return name.includes('accuracy') || name.includes('f1') ? percent(value) : value.toPrecision(4);
}

export function formatRunDetail(detail: RunDetail, lineage: readonly Ancestor[] = []): string {
  const { run } = detail;
  const out: string[] = [];
  out.push(`Run ${run.id}: ${run.name}`);
  out.push(`status      ${run.status}${run.statusMessage ? `: ${run.statusMessage.split('\n')[0]}` : ''}`);
  for (const line of run.statusMessage?.split('\n').slice(1) ?? []) out.push(`            ${line}`);
  if (detail.dataset) out.push(`dataset     ${detail.dataset.name} (${detail.dataset.path}), ${detail.dataset.classes.length} classes`);
  else if (typeof (run.config.dataset as { path?: unknown } | undefined)?.path === 'string') {
    out.push(`dataset     ${(run.config.dataset as { path: string }).path}`);
  }
  out.push(`backend     ${run.backend ?? '-'}${run.device ? ` on ${run.device}` : ''}`);
  out.push(`seed        ${run.seed ?? '-'}`);
  out.push(`created     ${time(run.createdAt)}   started ${time(run.startedAt)}   finished ${time(run.finishedAt)}   (${duration(run)})`);
  if (lineage.length > 0) {
    out.push(
      `continues   ${lineage.map((one) => `run ${one.id} (${one.status})`).join(' ← ')}; its metrics up to the checkpoint are copied here`,
    );
  }
  out.push(
    `val acc     best ${percent(run.bestValAccuracy)}${run.bestEpoch !== null ? ` at epoch ${run.bestEpoch}` : ''}, final ${percent(run.finalValAccuracy)} after ${run.epochsDone} epochs`,
  );
  if (detail.tags.length > 0) out.push(`tags        ${detail.tags.join(', ')}`);
  out.push('', 'config (the essentials and every setting that is not a default)');
  out.push(...configLines(run.config));

  const names = orderedMetrics(detail.metrics).slice(0, MAX_METRIC_COLUMNS);
  if (names.length > 0) {
    const epochs = [...new Set(names.flatMap((name) => detail.metrics[name]!.epochs))].sort((a, b) => a - b);
    const rows = epochs.map((epoch) => [
      String(epoch),
      ...names.map((name) => {
        const series = detail.metrics[name]!;
        const index = series.epochs.indexOf(epoch);
        return metricValue(name, index < 0 ? undefined : series.values[index]);
      }),
    ]);
    out.push('', formatTable(['epoch', ...names], rows, [true, ...names.map(() => true)]).trimEnd());
  }
  if (detail.artifacts.length > 0) {
    out.push(
      '',
      formatTable(
        ['artifact', 'epoch', 'size', 'path'],
        detail.artifacts.map((a) => [a.kind, a.epoch === null ? '-' : String(a.epoch), formatBytes(a.bytes), a.path]),
      ).trimEnd(),
    );
  }
  for (const note of detail.notes) out.push('', `note ${note.id} (${time(note.createdAt)}):`, note.body);
  if (['interrupted', 'cancelled', 'failed'].includes(run.status)) out.push('', `Continue it with: effnet runs resume ${run.id}`);
  return `${out.join('\n')}\n`;
}

/** The settings that make this run what it is: the essentials, and everything else that is not a default. */
function configLines(config: JsonObject): string[] {
  let defaults: unknown = {};
  try {
    defaults = parseTrainConfig({ dataset: { path: (config.dataset as { path?: unknown } | undefined)?.path } });
  } catch {
    // Not a training config this version understands: list all of it.
  }
  const all = flattenConfig(config);
  const differing = new Set(configDiff([config, defaults]).map((difference) => difference.key));
  return [...all]
    .filter(([key]) => ESSENTIAL_SETTINGS.includes(key) || differing.has(key))
    .map(([key, value]) => `  ${key.padEnd(28)} ${JSON.stringify(value)}`);
}

export function formatComparison(comparison: RunComparison): { text: string; json: unknown } {
  const { runs } = comparison;
  const differences = configDiff(runs.map((run) => run.config));
  const headers = ['', ...runs.map((run) => `run ${run.id}`)];
  const rows: string[][] = [
    ['name', ...runs.map((run) => run.name)],
    ['status', ...runs.map((run) => run.status)],
    ['epochs done', ...runs.map((run) => String(run.epochsDone))],
    ['best val acc', ...runs.map((run) => (run.bestValAccuracy === null ? '-' : `${percent(run.bestValAccuracy)} @${run.bestEpoch}`))],
    ['final val acc', ...runs.map((run) => percent(run.finalValAccuracy))],
    ['duration', ...runs.map(duration)],
    ['backend', ...runs.map((run) => run.backend ?? '-')],
    ...differences.map(({ key, values }) => [key, ...values.map((value) => (value === undefined ? '-' : JSON.stringify(value)))]),
  ];
  const text =
    formatTable(headers, rows, [false, ...runs.map(() => true)]) +
    (differences.length === 0 ? 'The runs have the same config.\n' : `${differences.length} settings differ.\n`);
  return { text, json: { runs, differences, metrics: comparison.metrics } };
}
