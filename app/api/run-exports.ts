/**
 * A run's exports for the Run detail and Export screens: the `export` artifact rows that
 * exportFromSource records (app/export/export-source.ts, for the CLI and the export job alike),
 * each with the verification.json beside it, read back so the parity numbers are the file's own.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ExportFormat, ExportVerification, RunExport } from '../common/ipc/deployment.ts';
import type { ArtifactRow } from '../common/store-types.ts';
import { EXPORT_MARKER } from '../export/files.ts';
import type { Store } from '../store/index.ts';

export async function listRunExports(store: Store, runId: number): Promise<RunExport[]> {
  store.runs.require(runId);
  const rows = store.artifacts.list(runId).filter((artifact) => artifact.kind === 'export');
  const exports = await Promise.all(rows.map(describeExport));
  return exports.sort((a, b) => b.createdAt - a.createdAt || b.artifactId - a.artifactId);
}

async function describeExport(row: ArtifactRow): Promise<RunExport> {
  const outDir = path.dirname(row.path);
  const format: ExportFormat = row.path.toLowerCase().endsWith('.onnx') ? 'onnx' : 'tfjs';
  const exists = await fs.stat(row.path).then(
    (info) => info.isFile(),
    () => false,
  );
  const base = { artifactId: row.id, outDir, artifact: row.path, format, createdAt: row.createdAt, exists };
  if (!exists) {
    // The folder may hold a later export now: its verification.json is not this one's.
    return {
      ...base,
      bytes: null,
      verification: null,
      problem: `${row.path} is gone (deleted, or replaced by a later export to the same folder).`,
    };
  }
  const bytes = await folderBytes(outDir);
  const file = path.join(outDir, EXPORT_MARKER);
  try {
    const verification = asVerification(JSON.parse(await fs.readFile(file, 'utf8')));
    if (!verification) return { ...base, bytes, verification: null, problem: `${file} is not a verification report.` };
    return { ...base, bytes, verification, problem: null };
  } catch (error) {
    return { ...base, bytes, verification: null, problem: `Cannot read ${file}: ${(error as Error).message}` };
  }
}

/** The report as written by exportModel, checked only as far as the screens rely on it. */
function asVerification(value: unknown): ExportVerification | null {
  if (typeof value !== 'object' || value === null) return null;
  const report = value as Partial<ExportVerification>;
  const ok =
    typeof report.passed === 'boolean' &&
    typeof report.criterion?.threshold === 'number' &&
    typeof report.overall?.maxAbsDiff === 'number' &&
    typeof report.sets === 'object' &&
    Array.isArray(report.failures);
  return ok ? (report as ExportVerification) : null;
}

async function folderBytes(dir: string): Promise<number | null> {
  try {
    const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
    const sizes = await Promise.all(
      entries.filter((entry) => entry.isFile()).map((entry) => fs.stat(path.join(entry.parentPath, entry.name)).then((info) => info.size)),
    );
    return sizes.reduce((sum, size) => sum + size, 0);
  } catch {
    return null;
  }
}
