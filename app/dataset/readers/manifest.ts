/**
 * A CSV or TSV manifest: a header naming a path column and a label column (optionally a split
 * column), one image per line, paths relative to the manifest's folder. Bad lines are collected and
 * reported together with their line numbers, so a user fixes them in one pass.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import type { DatasetItem, SplitName } from '../types.ts';
import { finishDataset } from './class-folders.ts';
import { CsvSyntaxError, parseDelimited } from './csv.ts';
import type { DatasetReader } from './registry.ts';
import { SPLIT_FOLDER_ALIASES } from './split-folders.ts';

const COLUMN_NAMES = {
  path: ['path', 'file', 'filename', 'file_name', 'filepath', 'image', 'image_path'],
  label: ['label', 'class', 'class_name', 'category'],
  split: ['split', 'subset'],
} as const;

export const MANIFEST_EXTENSIONS = ['.csv', '.tsv'];

/** How many bad lines one error message lists (all of them are in `details`). */
const LISTED_ERRORS = 10;

export const manifestReader: DatasetReader = {
  format: 'manifest',
  summary: 'a CSV/TSV file with a header: path,label[,split]; paths relative to the file',
  matches: (target) => target.kind === 'file' && MANIFEST_EXTENSIONS.includes(path.extname(target.path).toLowerCase()),
  async read(target) {
    const file = target.path;
    const text = await readFile(file, 'utf8');
    const delimiter = path.extname(file).toLowerCase() === '.tsv' ? '\t' : sniffDelimiter(text);
    let rows;
    try {
      rows = parseDelimited(text, delimiter);
    } catch (error) {
      if (error instanceof CsvSyntaxError)
        throw badManifest(file, [{ line: error.line, message: error.message.replace(/^line \d+: /, '') }]);
      throw error;
    }
    const header = rows.shift();
    if (!header) throw badManifest(file, [{ line: 1, message: 'the file is empty; it needs a header line such as path,label' }]);
    const columns = findColumns(header.fields);
    if (columns.path < 0 || columns.label < 0) {
      throw badManifest(file, [
        {
          line: header.line,
          message: `the header must name a path column and a label column, found ${JSON.stringify(header.fields.join(delimiter))}`,
        },
      ]);
    }
    const root = path.dirname(file);
    const errors: { line: number; message: string }[] = [];
    const seen = new Map<string, number>();
    const items: DatasetItem[] = [];
    for (const { line, fields } of rows) {
      if (fields.length !== header.fields.length) {
        errors.push({
          line,
          message: `expected ${header.fields.length} fields, found ${fields.length} (quote fields that contain "${delimiter === '\t' ? '\\t' : delimiter}")`,
        });
        continue;
      }
      const rawPath = fields[columns.path]!.trim();
      const label = fields[columns.label]!.trim();
      if (rawPath === '') errors.push({ line, message: 'the path is empty' });
      if (label === '') errors.push({ line, message: 'the label is empty' });
      let split: SplitName | undefined;
      if (columns.split >= 0) {
        const value = fields[columns.split]!.trim();
        split = SPLIT_FOLDER_ALIASES[value.toLowerCase()];
        if (!split) errors.push({ line, message: `the split must be train, val or test, found ${JSON.stringify(value)}` });
      }
      if (rawPath === '' || label === '' || (columns.split >= 0 && !split)) continue;
      const relative = normalisePath(root, rawPath);
      const earlier = seen.get(relative);
      if (earlier !== undefined) {
        errors.push({ line, message: `${relative} is already listed on line ${earlier}` });
        continue;
      }
      seen.set(relative, line);
      items.push(split ? { path: relative, label, split } : { path: relative, label });
    }
    if (errors.length > 0) throw badManifest(file, errors);
    if (items.length === 0) throw badManifest(file, [{ line: header.line + 1, message: 'the manifest lists no images' }]);
    const splits = [...new Set(items.flatMap((item) => (item.split ? [item.split] : [])))];
    return finishDataset({
      root,
      source: file,
      format: 'manifest',
      classes: items.map((item) => item.label),
      items,
      ignored: [],
      classPaths: {},
      splits: (['train', 'val', 'test'] as const).filter((s) => splits.includes(s)),
    });
  },
};

function findColumns(header: readonly string[]) {
  const names = header.map((name) => name.trim().toLowerCase());
  const find = (aliases: readonly string[]) => names.findIndex((name) => aliases.includes(name));
  return { path: find(COLUMN_NAMES.path), label: find(COLUMN_NAMES.label), split: find(COLUMN_NAMES.split) };
}

/** The delimiter used most on the first line: comma, semicolon (European Excel) or tab. */
function sniffDelimiter(text: string): string {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  const counts = [',', ';', '\t'].map((d) => [d, first.split(d).length - 1] as const);
  return counts.reduce((best, next) => (next[1] > best[1] ? next : best))[0];
}

/** Relative POSIX path from the manifest folder; Windows backslashes are separators, not name characters. */
function normalisePath(root: string, raw: string): string {
  const slashed = raw.replace(/\\/g, '/');
  const absolute = path.isAbsolute(slashed) || /^[a-z]:\//i.test(slashed);
  const relative = absolute ? path.relative(root, slashed).split(path.sep).join('/') : slashed;
  return path.posix.normalize(relative).replace(/^\.\//, '');
}

function badManifest(file: string, errors: { line: number; message: string }[]): AppError {
  const listed = errors.slice(0, LISTED_ERRORS).map((e) => `line ${e.line}: ${e.message}`);
  const more = errors.length > LISTED_ERRORS ? `; and ${errors.length - LISTED_ERRORS} more` : '';
  const count = errors.length === 1 ? '' : ` (${errors.length} problems)`;
  return new AppError('bad-manifest', `${file}${count}: ${listed.join('; ')}${more}`, {
    hint: 'Each line needs a path and a label, separated like the header (for example: images/cat1.jpg,cat). Quote fields that contain the separator.',
    details: { file, errors },
  });
}
