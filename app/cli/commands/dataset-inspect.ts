import path from 'node:path';
import { checkHealth, ISSUE_KINDS, type HealthIssue, type HealthReport } from '../../dataset/health.ts';
import { openDataset } from '../../dataset/readers/registry.ts';
import type { ScanOptions } from '../../dataset/scan.ts';
import type { Dataset } from '../../dataset/types.ts';
import { parseNumberOption, parseOptions, UsageError, writeJson, type CliIo, type Command } from '../command.ts';
import { formatBytes, ProgressBar } from '../terminal.ts';

/** Issues listed per kind in the human report; --json has all of them. */
const LISTED_PER_KIND = 10;
const BAR_WIDTH = 30;

export const datasetInspectCommand: Command = {
  name: 'dataset inspect',
  summary: 'Health-check an image dataset: classes, balance, unreadable files, duplicates and leaks.',
  usage: `Usage: effnet dataset inspect PATH [--json] [--concurrency N]

  PATH             a dataset folder (one folder per class, or train/ val/ test/ folders
                   each with one folder per class) or a CSV/TSV manifest (header: path,label[,split])
  --json           machine-readable report: classes [{name, count, share}], issues
                   [{path, kind, message}], fingerprint, totals, sizes, grayscaleShare, splits
  --concurrency N  images decoded at once (default: CPU count, 2 to 8)

Every image is decoded once to check it; issue kinds: unreadable, duplicate (a duplicate across
classes or splits is a leak), empty-class, small-class, imbalance, ignored.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { json: { type: 'boolean' }, concurrency: { type: 'string' } });
    const location = onePath(positionals);
    const concurrency = parseNumberOption(
      'concurrency',
      values.concurrency,
      (n) => Number.isInteger(n) && n >= 1 && n <= 64,
      'a whole number from 1 to 64',
    );
    const dataset = await openDataset(path.resolve(io.cwd, location));
    const report = await checkHealth(dataset, scanOptions(io, dataset, concurrency));
    if (values.json) writeJson(io, report);
    else io.stdout.write(formatHealthReport(report));
    return 0;
  },
};

export function onePath(positionals: readonly string[]): string {
  if (positionals.length === 0) throw new UsageError('give the dataset folder or manifest file to read');
  if (positionals.length > 1) throw new UsageError(`expected one PATH, got ${positionals.length}: ${positionals.join(' ')}`);
  return positionals[0]!;
}

/** Scan options with a progress bar on a terminal (stderr, so --json output stays clean) and Ctrl-C. */
export function scanOptions(io: CliIo, dataset: Dataset, concurrency?: number): ScanOptions {
  const bar = io.stderr.isTTY ? new ProgressBar(io.stderr, 'checking', dataset.items.length) : undefined;
  return {
    concurrency,
    signal: io.signal,
    onProgress: bar
      ? ({ done, total }) => {
          bar.update(done);
          if (done === total) bar.done();
        }
      : undefined,
  };
}

export function formatHealthReport(report: HealthReport): string {
  const out: string[] = [];
  const t = report.totals;
  out.push(`Dataset ${report.source} (${report.format})`);
  out.push(
    `${t.readable} readable images in ${report.classes.length} classes, ${t.unreadable} unreadable, ` +
      `${t.duplicates} duplicate copies, ${t.ignored} ignored files, ${formatBytes(t.bytes)}`,
  );
  out.push(`fingerprint ${report.fingerprint}`, '');

  const splitNames = report.splits.map((s) => s.name);
  const largest = Math.max(1, ...report.classes.map((c) => c.count));
  out.push(
    formatWideTable(
      ['class', 'images', 'share', ...splitNames, ''],
      report.classes.map((c) => [
        c.name,
        String(c.count),
        `${(c.share * 100).toFixed(1)}%`,
        ...splitNames.map((s) => String(c.splits?.[s] ?? 0)),
        '#'.repeat(Math.max(c.count > 0 ? 1 : 0, Math.round((c.count / largest) * BAR_WIDTH))),
      ]),
      [false, true, true, ...splitNames.map(() => true), false],
    ).trimEnd(),
  );
  if (report.splits.length > 0) out.push(`splits: ${report.splits.map((s) => `${s.name} ${s.count}`).join(', ')}`);
  if (report.imbalanceRatio !== null) out.push(`largest/smallest class: ${report.imbalanceRatio.toFixed(1)}:1`);
  out.push('');

  if (report.sizes) {
    const { width, height } = report.sizes;
    out.push(`image width  ${width.min} to ${width.max} px (median ${width.median})`);
    out.push(`image height ${height.min} to ${height.max} px (median ${height.median})`);
  }
  const formats = Object.entries(report.formats)
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  out.push(
    `greyscale ${percent(report.grayscaleShare)}, with transparency ${percent(report.transparentShare)}${formats ? `; formats: ${formats}` : ''}`,
    '',
  );

  if (report.issues.length === 0) {
    out.push('No issues found.', '');
    return out.join('\n');
  }
  out.push(`Issues (${report.issues.length}):`);
  for (const kind of ISSUE_KINDS) {
    const issues = report.issues.filter((issue) => issue.kind === kind);
    if (issues.length === 0) continue;
    out.push(`  ${kind} (${issues.length})${kind === 'ignored' ? `: ${ignoredSummary(issues)}` : ''}`);
    for (const issue of issues.slice(0, LISTED_PER_KIND)) out.push(`    ${issue.path}  ${issue.message}`);
    if (issues.length > LISTED_PER_KIND) out.push(`    … and ${issues.length - LISTED_PER_KIND} more (see --json)`);
  }
  out.push('');
  return out.join('\n');
}

function ignoredSummary(issues: readonly HealthIssue[]): string {
  const counts = new Map<string, number>();
  for (const issue of issues) {
    const reason = String(issue.details?.reason ?? 'other');
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].map(([reason, count]) => `${count} ${reason}`).join(', ');
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/**
 * Columns a terminal draws two cells wide (CJK, fullwidth forms, emoji) or zero (combining marks,
 * joiners, variation selectors), so class names in any script line up in the table.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (/\p{Mn}|\p{Me}/u.test(char) || (code >= 0x200b && code <= 0x200f) || (code >= 0xfe00 && code <= 0xfe0f)) continue;
    const wide =
      /\p{Extended_Pictographic}/u.test(char) ||
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x20000 && code <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

/** formatTable (terminal.ts) padded by display width instead of string length. */
export function formatWideTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  alignRight: readonly boolean[] = [],
): string {
  const widths = headers.map((header, column) => Math.max(displayWidth(header), ...rows.map((row) => displayWidth(row[column] ?? ''))));
  const pad = (cell: string, column: number) => {
    const fill = ' '.repeat(widths[column]! - displayWidth(cell));
    return alignRight[column] ? fill + cell : cell + fill;
  };
  const line = (cells: readonly string[]) => cells.map(pad).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}
