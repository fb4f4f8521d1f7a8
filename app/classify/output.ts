/** Classification results as CSV, JSON or a terminal table. */
import path from 'node:path';
import type { ClassifyResult } from './classify.ts';

export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A path as shown: relative to `cwd` when inside it (shorter, and stable across machines), else absolute. */
export function displayPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative.split(path.sep).join('/') : file;
}

/** RFC 4180 quoting: fields with a comma, quote, line break or edge spaces are quoted, quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Columns: path, the top-1 label and its probability, then label_i/probability_i for each of the
 * top k (the first repeats the top-1, so a reader can use either block alone). CRLF line ends.
 */
export function formatCsv(result: ClassifyResult, topK: number, cwd: string): string {
  const header = ['path', 'label', 'probability'];
  for (let i = 1; i <= topK; i++) header.push(`label_${i}`, `probability_${i}`);
  const rows = result.results.map((file) => {
    const cells = [displayPath(file.path, cwd), file.top[0]?.label ?? '', probability(file.top[0]?.probability)];
    for (let i = 0; i < topK; i++) cells.push(file.top[i]?.label ?? '', probability(file.top[i]?.probability));
    return cells;
  });
  return [header, ...rows].map((cells) => cells.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export function formatJson(result: ClassifyResult, info: { model: string; runtime: string; topK: number }, cwd: string): string {
  return `${JSON.stringify(
    {
      model: info.model,
      runtime: info.runtime,
      topK: info.topK,
      results: result.results.map((file) => ({
        path: displayPath(file.path, cwd),
        label: file.top[0]?.label ?? null,
        probability: file.top[0]?.probability ?? null,
        top: file.top,
      })),
      skipped: result.skipped.map((file) => ({ path: displayPath(file.path, cwd), reason: file.reason })),
    },
    null,
    2,
  )}\n`;
}

export function tableRows(result: ClassifyResult, cwd: string): string[][] {
  return result.results.map((file) => [
    displayPath(file.path, cwd),
    file.top[0]?.label ?? '',
    probability(file.top[0]?.probability),
    file.top
      .slice(1)
      .map((entry) => `${entry.label} ${probability(entry.probability)}`)
      .join(', '),
  ]);
}

function probability(value: number | undefined): string {
  return value === undefined ? '' : value.toFixed(4);
}
