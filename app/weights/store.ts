import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../common/errors.ts';
import { dataPaths } from '../node/paths.ts';
import { catalogueEntry, entryLabel, fetchCommand, weightsCatalogue, type WeightsEntry } from './catalogue.ts';
import { partialFilePath, weightsFilePath } from './fetch.ts';
import { fileSize, isMissing, writeFileAtomic } from './files.ts';

export type WeightsKind = 'keras-h5' | 'safetensors';

const importRecordSchema = z.object({
  /** Relative to the weights folder: `imported/<file>`. */
  name: z.string(),
  source: z.string(),
  kind: z.enum(['keras-h5', 'safetensors']),
  md5: z.string(),
  sha256: z.string(),
  bytes: z.number(),
  importedAt: z.string(),
});

export type ImportRecord = z.infer<typeof importRecordSchema>;

const indexSchema = z.object({ version: z.literal(1), files: z.array(importRecordSchema) });

export interface CatalogueStatus extends WeightsEntry {
  readonly path: string;
  /** The file is in the cache (its MD5 was checked when it was downloaded or imported). */
  readonly cached: boolean;
  /** Size on disk when cached. */
  readonly bytes?: number;
  /** Size of an unfinished download (`.part`) that `fetch` will resume. */
  readonly partialBytes?: number;
}

export interface ImportedStatus extends ImportRecord {
  readonly path: string;
  /** false when the file was deleted from the folder after it was imported. */
  readonly present: boolean;
}

export interface WeightsListing {
  readonly folder: string;
  readonly catalogue: readonly CatalogueStatus[];
  readonly imported: readonly ImportedStatus[];
}

export function indexPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataPaths(env).weights, 'index.json');
}

/** Every catalogue file with its cache state, plus the files imported from elsewhere. */
export async function listWeights(env: NodeJS.ProcessEnv = process.env): Promise<WeightsListing> {
  const catalogue = await Promise.all(
    weightsCatalogue(env).map(async (entry): Promise<CatalogueStatus> => {
      const file = weightsFilePath(entry, env);
      const bytes = await fileSize(file);
      const partialBytes = await fileSize(partialFilePath(entry, env));
      return { ...entry, path: file, cached: bytes !== undefined, bytes, partialBytes };
    }),
  );
  const folder = dataPaths(env).weights;
  const imported = await Promise.all(
    (await readImportIndex(env)).map(async (record): Promise<ImportedStatus> => {
      const file = path.join(folder, record.name);
      return { ...record, path: file, present: (await fileSize(file)) !== undefined };
    }),
  );
  return { folder, catalogue, imported };
}

/** The cached file for a variant, or an error that says which command downloads it. */
export async function resolveWeightsFile(variant: string, top: boolean, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const entry = catalogueEntry(variant, top, env);
  const file = weightsFilePath(entry, env);
  if ((await fileSize(file)) !== undefined) return file;
  throw new AppError('weights-missing', `The ImageNet weights for ${entryLabel(entry)} are not downloaded (no ${file})`, {
    hint: `Run \`${fetchCommand(entry)}\`, or \`effnet weights import FILE\` with a copy of ${entry.fileName}.`,
    details: { variant: entry.variant, top, path: file },
  });
}

export async function readImportIndex(env: NodeJS.ProcessEnv = process.env): Promise<ImportRecord[]> {
  const file = indexPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  const parsed = indexSchema.safeParse(safeJson(text));
  if (!parsed.success) {
    throw new AppError('weights-index', `${file} is not a valid weights index: ${parsed.error.issues[0]?.message ?? 'bad JSON'}`, {
      hint: 'Delete or fix that file; imported weight files stay in the imported/ folder beside it.',
    });
  }
  return parsed.data.files;
}

/** Add or replace (by name) one record; written atomically so a crash keeps the old index. */
export async function recordImport(record: ImportRecord, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const files = (await readImportIndex(env)).filter((existing) => existing.name !== record.name);
  files.push(record);
  files.sort((a, b) => a.name.localeCompare(b.name));
  await mkdir(dataPaths(env).weights, { recursive: true });
  await writeFileAtomic(indexPath(env), `${JSON.stringify({ version: 1, files }, null, 2)}\n`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
