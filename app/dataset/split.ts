/**
 * Stratified train/val/test splits from ratios and a seed, saved as file lists so a run can be
 * reproduced exactly (and checked against the dataset later). A pre-split layout is kept as given.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../common/errors.ts';
import { createRandom, shuffleInPlace } from '../common/random.ts';
import type { ScannedItem } from './scan.ts';
import { compareText, type Dataset, type DatasetItem, type SplitName } from './types.ts';

export interface SplitRatios {
  readonly val: number;
  readonly test: number;
}

export const DEFAULT_RATIOS: SplitRatios = { val: 0.2, test: 0 };
export const DEFAULT_SEED = 42;

const savedSplitSchema = z.object({
  version: z.literal(1),
  seed: z.number(),
  ratios: z.object({ val: z.number(), test: z.number() }),
  strategy: z.enum(['stratified', 'given']),
  fingerprint: z.string(),
  train: z.array(z.string()),
  val: z.array(z.string()),
  test: z.array(z.string()),
  /** Listed files left out because they were unreadable when the split was made. */
  excluded: z.array(z.string()).default([]),
});
export type SavedSplit = z.infer<typeof savedSplitSchema>;

export function checkRatios(ratios: SplitRatios): void {
  for (const [name, value] of Object.entries(ratios)) {
    if (!(value >= 0 && value < 1)) throw new AppError('invalid-split', `The ${name} ratio must be at least 0 and below 1, got ${value}`);
  }
  if (ratios.val + ratios.test >= 1) {
    throw new AppError('invalid-split', `val + test ratios must leave images for training, got ${ratios.val} + ${ratios.test}`, {
      hint: 'For example --val 0.2 --test 0.1 trains on 70%.',
    });
  }
}

/**
 * Splits the readable items (`scanned` entries without an error). Per class: every class with ≥1
 * image is in train, with ≥2 also in val (when val > 0), with ≥3 also in test (when test > 0).
 * Identical files of one class move together, so the split itself never creates a train/val leak.
 * Each class is shuffled with its own seed derived from (seed, class name): adding a class or
 * images of one class does not reshuffle the others.
 */
export function makeSplit(
  dataset: Dataset,
  scanned: readonly ScannedItem[],
  options: { ratios: SplitRatios; seed: number; fingerprint: string },
): SavedSplit {
  checkRatios(options.ratios);
  if (!Number.isSafeInteger(options.seed)) throw new AppError('invalid-split', `The seed must be a whole number, got ${options.seed}`);
  const readable = scanned.filter((s) => !s.error);
  const excluded = scanned.filter((s) => s.error).map((s) => s.item.path);
  const lists: Record<SplitName, string[]> = { train: [], val: [], test: [] };
  if (dataset.splits.length > 0) {
    for (const { item } of readable) lists[item.split ?? 'train'].push(item.path);
    const total = readable.length || 1;
    return finish('given', { val: lists.val.length / total, test: lists.test.length / total }, options, lists, excluded);
  }
  for (const name of dataset.classes) {
    const units = groupIdentical(readable.filter((s) => s.item.label === name));
    shuffleInPlace(units, createRandom(hashText(`${options.seed}\u0000${name.normalize('NFC')}`)));
    const size = units.reduce((sum, unit) => sum + unit.length, 0);
    const wanted = targetCounts(size, options.ratios);
    const counts: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
    const assigned: { split: SplitName; unit: DatasetItem[] }[] = [];
    for (const unit of units) {
      const split: SplitName = counts.val < wanted.val ? 'val' : counts.test < wanted.test ? 'test' : 'train';
      counts[split] += unit.length;
      assigned.push({ split, unit });
    }
    // A large group of identical files can overshoot val/test and leave train empty: give one back.
    if (counts.train === 0 && assigned.length > 1) assigned[assigned.length - 1]!.split = 'train';
    for (const { split, unit } of assigned) lists[split].push(...unit.map((item) => item.path));
  }
  return finish('stratified', options.ratios, options, lists, excluded);
}

function finish(
  strategy: SavedSplit['strategy'],
  ratios: SplitRatios,
  options: { seed: number; fingerprint: string },
  lists: Record<SplitName, string[]>,
  excluded: string[],
): SavedSplit {
  return {
    version: 1,
    seed: options.seed,
    ratios: { val: ratios.val, test: ratios.test },
    strategy,
    fingerprint: options.fingerprint,
    train: lists.train.sort(compareText),
    val: lists.val.sort(compareText),
    test: lists.test.sort(compareText),
    excluded: excluded.sort(compareText),
  };
}

/** val/test image counts for a class of `size` images, with the minimum-representation guarantees. */
export function targetCounts(size: number, ratios: SplitRatios): { val: number; test: number } {
  let val = ratios.val > 0 ? Math.round(size * ratios.val) : 0;
  let test = ratios.test > 0 ? Math.round(size * ratios.test) : 0;
  if (ratios.val > 0 && size >= 2) val = Math.max(val, 1);
  if (ratios.test > 0 && size >= 3) test = Math.max(test, 1);
  // Train keeps at least one image; trim test before val, and keep one of each while possible.
  const floorTest = ratios.test > 0 && size >= 3 ? 1 : 0;
  const floorVal = ratios.val > 0 && size >= 2 ? 1 : 0;
  while (val + test > size - 1) {
    if (test > floorTest) test--;
    else if (val > floorVal) val--;
    else if (test > 0) test--;
    else val--;
  }
  return { val: Math.max(0, val), test: Math.max(0, test) };
}

/** Items of one class grouped by content hash, each group sorted, groups in path order. */
function groupIdentical(scanned: readonly ScannedItem[]): DatasetItem[][] {
  const groups = new Map<string, DatasetItem[]>();
  for (const { item, hash } of scanned) {
    const key = hash ?? `path:${item.path}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()].map((g) => g.sort((a, b) => compareText(a.path, b.path))).sort((a, b) => compareText(a[0]!.path, b[0]!.path));
}

/** FNV-1a over UTF-16 code units: a stable 32-bit seed from text. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** Written atomically: a temp file in the same folder, then a rename, so a crash never leaves half a file. */
export async function saveSplit(file: string, split: SavedSplit): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, `${JSON.stringify(split, null, 2)}\n`, 'utf8');
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new AppError('write-failed', `Cannot write the split to ${file}: ${(error as Error).message}`, { cause: error });
  }
}

export async function loadSplit(file: string): Promise<SavedSplit> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new AppError(
      missing ? 'not-found' : 'unreadable',
      `Cannot read split file ${file}: ${missing ? 'it does not exist' : (error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppError('bad-split-file', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = savedSplitSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new AppError('bad-split-file', `${file} is not a saved split: ${first.path.join('.') || 'the file'}: ${first.message}`, {
      hint: 'Make a new one with `effnet dataset split`.',
    });
  }
  return parsed.data;
}

export interface AppliedSplit {
  readonly train: DatasetItem[];
  readonly val: DatasetItem[];
  readonly test: DatasetItem[];
  /** Items of the dataset that the saved split does not mention (added since; excluded files are not counted). */
  readonly unassigned: DatasetItem[];
  /** False when the files are all there but their contents or labels changed since the split was made. */
  readonly fingerprintMatches: boolean;
}

/** The saved split applied to the dataset as it is now; an error if any listed file is gone. */
export function applySplit(saved: SavedSplit, dataset: Dataset, fingerprint: string, file = 'the saved split'): AppliedSplit {
  const byPath = new Map(dataset.items.map((item) => [item.path, item]));
  const lists: Record<SplitName, DatasetItem[]> = { train: [], val: [], test: [] };
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const split of ['train', 'val', 'test'] as const) {
    for (const listed of saved[split]) {
      if (seen.has(listed)) throw new AppError('bad-split-file', `${file} lists ${listed} twice`);
      seen.add(listed);
      const item = byPath.get(listed);
      if (item) lists[split].push(item);
      else missing.push(listed);
    }
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
    throw new AppError('split-mismatch', `${file} no longer matches the dataset: ${missing.length} listed file(s) are missing: ${shown}`, {
      hint: 'The dataset changed since the split was made. Run `effnet dataset split` again to make a new split.',
      details: { missing },
    });
  }
  const excluded = new Set(saved.excluded);
  const unassigned = dataset.items.filter((item) => !seen.has(item.path) && !excluded.has(item.path));
  return { ...lists, unassigned, fingerprintMatches: saved.fingerprint === fingerprint };
}
