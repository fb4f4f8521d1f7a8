/**
 * `npm run bench`: runs every registered benchmark in one process on one machine and prints one
 * table, then writes the figures as JSON (bench-results/latest.json, or BENCH_OUT). Speed goals
 * are checked here, never in unit tests. `npm run bench -- NAME…` runs only the named ones. A
 * benchmark with its own table (compare: issue 7's side-by-side one) prints it after the shared
 * table, last, and its whole result goes into the JSON under its name.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { BENCHMARKS } from './registry.ts';
import type { BenchFigure } from './types.ts';
import { formatTable } from '../cli/terminal.ts';

const only = process.argv.slice(2);
const selected = BENCHMARKS.filter(
  (bench) => only.length === 0 || only.includes(bench.name) || (bench.aliases ?? []).some((alias) => only.includes(alias)),
);
if (selected.length === 0) {
  console.error(`No benchmark named ${only.join(', ')}. Known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  process.exit(2);
}

const figures: BenchFigure[] = [];
const skipped: { bench: string; reason: string }[] = [];
/** Benchmarks with their own table: printed after the shared one, kept whole in the JSON. */
const reports: { bench: string; text: string; data: unknown }[] = [];
for (const bench of selected) {
  console.error(`bench: ${bench.name}: ${bench.description}`);
  try {
    const result = await bench.run();
    figures.push(...result.figures);
    if (result.report) reports.push({ bench: bench.name, ...result.report });
    for (const reason of result.skipped ?? []) skipped.push({ bench: bench.name, reason });
  } catch (error) {
    skipped.push({ bench: bench.name, reason: `failed: ${error instanceof Error ? error.message : String(error)}` });
  }
}

const shared = figures.filter((f) => !reports.some((report) => report.bench === f.bench));
if (shared.length > 0) {
  console.log(
    formatTable(
      ['benchmark', 'case', 'value', 'unit', 'note'],
      shared.map((f) => [f.bench, f.case, f.value.toPrecision(4), f.unit, f.note ?? '']),
      [false, false, true, false, false],
    ),
  );
}
for (const s of skipped) console.log(`skipped ${s.bench}: ${s.reason}`);
for (const report of reports) console.log(report.text);

const out = process.env.BENCH_OUT ?? path.join('bench-results', 'latest.json');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
      figures,
      skipped,
      ...Object.fromEntries(reports.map((report) => [report.bench, report.data])),
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out}`);
