/**
 * The dataset pre-flight that no tool we compared offers in one place (product-landscape.md §4.4):
 * unreadable files, exact duplicates and train/val or cross-class leaks, empty, tiny and imbalanced
 * classes, image sizes and greyscale share, plus a content fingerprint.
 */
import { ISSUE_KINDS, type DatasetIssue, type IssueKind, type SizeStats } from '../common/ipc/types.ts';
import { datasetFingerprint } from './fingerprint.ts';
import { scanItems, type ScannedItem, type ScanOptions } from './scan.ts';
import { compareText, type Dataset, type DatasetFormat, type IgnoreReason, type SplitName } from './types.ts';

/**
 * A class with at least this many times the images of the smallest class triggers `imbalance`.
 * Around 10:1 plain cross-entropy training visibly starves the small class (the requests for class
 * weights in Ultralytics, product-landscape.md §3.4, come from datasets like this); below it, class
 * weights help little.
 */
export const IMBALANCE_RATIO = 10;
/** A class needs one image to train on and one to validate on. */
export const SMALL_CLASS_MINIMUM = 2;

// The report's issue and size types live in app/common: the UI shows them and cannot import Node code.
export { ISSUE_KINDS, type IssueKind, type SizeStats };
export type HealthIssue = DatasetIssue;

export interface ClassHealth {
  readonly name: string;
  /** Readable images (unreadable files are left out). */
  readonly count: number;
  readonly share: number;
  readonly splits?: Partial<Record<SplitName, number>>;
}

export interface HealthReport {
  readonly root: string;
  readonly source: string;
  readonly format: DatasetFormat;
  readonly totals: { listed: number; readable: number; unreadable: number; duplicates: number; ignored: number; bytes: number };
  readonly classes: ClassHealth[];
  readonly splits: { name: SplitName; count: number }[];
  readonly sizes: { width: SizeStats; height: SizeStats } | null;
  readonly grayscaleShare: number;
  readonly transparentShare: number;
  readonly formats: Record<string, number>;
  /** Largest class / smallest non-empty class (train split for a pre-split layout); null with under 2 classes. */
  readonly imbalanceRatio: number | null;
  readonly issues: HealthIssue[];
  readonly fingerprint: string;
}

export async function checkHealth(dataset: Dataset, options: ScanOptions = {}): Promise<HealthReport> {
  const scanned = await scanItems(dataset.root, dataset.items, { ...options, decode: true });
  return analyseDataset(dataset, scanned);
}

/** The report from scan results: pure, so a test can feed it any scan. */
export function analyseDataset(dataset: Dataset, scanned: readonly ScannedItem[]): HealthReport {
  const issues: HealthIssue[] = [];
  const readable = scanned.filter((s) => !s.error);
  for (const s of scanned) {
    if (s.error)
      issues.push({
        kind: 'unreadable',
        path: s.item.path,
        class: s.item.label,
        message: `unreadable: ${s.error}`,
        details: { reason: s.error },
      });
  }
  const duplicates = findDuplicates(readable, issues);
  const classes = countClasses(dataset, readable);
  const imbalanceRatio = checkClasses(dataset, classes, scanned, issues);
  for (const file of dataset.ignored)
    issues.push({ kind: 'ignored', path: file.path, message: IGNORE_MESSAGES[file.reason], details: { reason: file.reason } });
  const kindOrder = (kind: IssueKind) => ISSUE_KINDS.indexOf(kind);
  issues.sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind) || compareText(a.path, b.path));

  const images = readable.map((s) => s.image!);
  const formats: Record<string, number> = {};
  for (const image of images) formats[image.format] = (formats[image.format] ?? 0) + 1;
  return {
    root: dataset.root,
    source: dataset.source,
    format: dataset.format,
    totals: {
      listed: scanned.length,
      readable: readable.length,
      unreadable: scanned.length - readable.length,
      duplicates,
      ignored: dataset.ignored.length,
      bytes: scanned.reduce((sum, s) => sum + (s.bytes ?? 0), 0),
    },
    classes,
    splits: dataset.splits.map((name) => ({ name, count: readable.filter((s) => s.item.split === name).length })),
    sizes: images.length ? { width: stats(images.map((i) => i.width)), height: stats(images.map((i) => i.height)) } : null,
    grayscaleShare: share(images.filter((i) => i.grayscale).length, images.length),
    transparentShare: share(images.filter((i) => i.transparent).length, images.length),
    formats,
    imbalanceRatio,
    issues,
    fingerprint: datasetFingerprint(scanned),
  };
}

const IGNORE_MESSAGES: Record<IgnoreReason, string> = {
  hidden: 'ignored: hidden file or folder',
  system: 'ignored: operating-system file',
  'not-an-image': 'ignored: not an image file (by extension)',
  'outside-class': 'ignored: an image outside any class folder',
  'not-a-split': 'ignored: a folder that is not train/, val/ or test/',
  symlink: 'ignored: a link to a folder (not followed)',
};

function countClasses(dataset: Dataset, readable: readonly ScannedItem[]): ClassHealth[] {
  const counts = new Map(dataset.classes.map((name) => [name, { count: 0, splits: {} as Partial<Record<SplitName, number>> }]));
  for (const { item } of readable) {
    const entry = counts.get(item.label)!;
    entry.count++;
    if (item.split) entry.splits[item.split] = (entry.splits[item.split] ?? 0) + 1;
  }
  return dataset.classes.map((name) => {
    const { count, splits } = counts.get(name)!;
    const health: ClassHealth = { name, count, share: share(count, readable.length) };
    if (dataset.splits.length === 0) return health;
    return { ...health, splits: Object.fromEntries(dataset.splits.map((split) => [split, splits[split] ?? 0])) };
  });
}

/** empty-class, small-class and imbalance issues; returns the imbalance ratio. */
function checkClasses(
  dataset: Dataset,
  classes: readonly ClassHealth[],
  scanned: readonly ScannedItem[],
  issues: HealthIssue[],
): number | null {
  const where = (name: string) => dataset.classPaths[name] ?? '.';
  const unreadableByClass = new Map<string, number>();
  for (const s of scanned) if (s.error) unreadableByClass.set(s.item.label, (unreadableByClass.get(s.item.label) ?? 0) + 1);
  for (const c of classes) {
    const unreadable = unreadableByClass.get(c.name) ?? 0;
    if (c.count === 0) {
      const why = unreadable ? `has no readable images (${unreadable} unreadable)` : 'has no images';
      issues.push({
        kind: 'empty-class',
        path: where(c.name),
        class: c.name,
        message: `class "${c.name}" ${why}: add images or remove the folder`,
      });
    } else if (c.count < SMALL_CLASS_MINIMUM) {
      issues.push({
        kind: 'small-class',
        path: where(c.name),
        class: c.name,
        message: `class "${c.name}" has only ${c.count} image: it needs at least ${SMALL_CLASS_MINIMUM} (one to train on, one to validate)`,
      });
    }
    for (const split of dataset.splits) {
      if (c.count === 0 || (c.splits?.[split] ?? 0) > 0) continue;
      const consequence = split === 'train' ? 'the model cannot learn it' : `it is never ${split === 'val' ? 'validated' : 'tested'}`;
      issues.push({
        kind: 'empty-class',
        path: dataset.splitPaths?.[split] ?? split,
        class: c.name,
        message: `class "${c.name}" has no images in ${split}: ${consequence}`,
      });
    }
  }
  // A pre-split layout trains on train/, so that is the balance that matters.
  const counted = classes
    .map((c) => ({ name: c.name, count: dataset.splits.includes('train') ? (c.splits?.train ?? 0) : c.count }))
    .filter((c) => c.count > 0);
  if (counted.length < 2) return null;
  const largest = counted.reduce((a, b) => (b.count > a.count ? b : a));
  const smallest = counted.reduce((a, b) => (b.count < a.count ? b : a));
  const ratio = largest.count / smallest.count;
  if (ratio >= IMBALANCE_RATIO) {
    issues.push({
      kind: 'imbalance',
      path: '.',
      message:
        `heavy class imbalance: "${largest.name}" has ${largest.count} images, "${smallest.name}" has ${smallest.count} ` +
        `(${ratio.toFixed(1)}:1, warning at ${IMBALANCE_RATIO}:1); train with class weights, or add images to the small classes`,
      details: { ratio, largest: largest.name, smallest: smallest.name, threshold: IMBALANCE_RATIO },
    });
  }
  return ratio;
}

/** Exact duplicates by content hash; a duplicate across classes or splits is a leak. Returns the number of redundant copies. */
function findDuplicates(readable: readonly ScannedItem[], issues: HealthIssue[]): number {
  const groups = new Map<string, ScannedItem[]>();
  for (const s of readable) {
    const group = groups.get(s.hash!);
    if (group) group.push(s);
    else groups.set(s.hash!, [s]);
  }
  let redundant = 0;
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => compareText(a.item.path, b.item.path));
    const first = group[0]!.item;
    for (const { item } of group.slice(1)) {
      redundant++;
      let message: string;
      let leak: 'class' | 'split' | undefined;
      if (item.label !== first.label) {
        leak = 'class';
        message = `leak across classes: identical to ${first.path} ("${first.label}") but labelled "${item.label}"; one label is wrong`;
      } else if (item.split !== first.split) {
        leak = 'split';
        message = `leak across splits: identical to ${first.path} in ${first.split ?? 'no split'}, this copy is in ${item.split ?? 'no split'}; it inflates ${splitVictim(first.split, item.split)} accuracy`;
      } else {
        message = `duplicate of ${first.path} (same class "${item.label}")`;
      }
      issues.push({
        kind: 'duplicate',
        path: item.path,
        class: item.label,
        message,
        details: { duplicateOf: first.path, leak: leak ?? null },
      });
    }
  }
  return redundant;
}

function splitVictim(a: SplitName | undefined, b: SplitName | undefined): string {
  return a === 'test' || b === 'test' ? 'test' : 'validation';
}

function stats(values: number[]): SizeStats {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

function share(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}
