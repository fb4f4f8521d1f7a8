import path from 'node:path';
import { datasetFingerprint } from '../../dataset/fingerprint.ts';
import { analyseDataset } from '../../dataset/health.ts';
import { openDataset } from '../../dataset/readers/registry.ts';
import { scanItems } from '../../dataset/scan.ts';
import {
  applySplit,
  checkRatios,
  DEFAULT_RATIOS,
  DEFAULT_SEED,
  loadSplit,
  makeSplit,
  saveSplit,
  type SavedSplit,
} from '../../dataset/split.ts';
import { SPLIT_NAMES, type Dataset } from '../../dataset/types.ts';
import { SPLIT_FILE_NAME } from '../../dataset/walk.ts';
import { parseNumberOption, parseOptions, writeJson, type Command } from '../command.ts';
import { formatWideTable, onePath, scanOptions } from './dataset-inspect.ts';

export const datasetSplitCommand: Command = {
  name: 'dataset split',
  summary: 'Make a reproducible stratified train/val/test split of a dataset, or check a saved one.',
  usage: `Usage: effnet dataset split PATH [--val 0.2] [--test 0] [--seed N] [--out FILE] [--json]
       effnet dataset split PATH --check FILE [--json]

  PATH           a dataset folder or CSV/TSV manifest (see \`effnet dataset inspect\`)
  --val R        share of each class for validation (default ${DEFAULT_RATIOS.val})
  --test R       share of each class for testing (default ${DEFAULT_RATIOS.test})
  --seed N       shuffling seed; the same seed and files give the same split (default ${DEFAULT_SEED})
  --out FILE     where to save the file lists (default PATH/${SPLIT_FILE_NAME}, beside a manifest)
  --check FILE   load a saved split and check it still matches the dataset (exit 1 if files are gone)
  --json         machine-readable output

Every class with images is in train, and in val when it has 2 or more. Unreadable images are left
out; identical files of one class stay in the same split. A train/val/test folder layout, or a
manifest with a split column, is kept as given.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, {
      val: { type: 'string' },
      test: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      check: { type: 'string' },
      json: { type: 'boolean' },
    });
    const location = path.resolve(io.cwd, onePath(positionals));
    const ratio = (name: string, value: string | undefined) =>
      parseNumberOption(name, value, (n) => n >= 0 && n < 1, 'a number from 0 to below 1');
    const ratios = { val: ratio('val', values.val) ?? DEFAULT_RATIOS.val, test: ratio('test', values.test) ?? DEFAULT_RATIOS.test };
    const seed =
      parseNumberOption('seed', values.seed, (n) => Number.isSafeInteger(n) && n >= 0, 'a whole number of at least 0') ?? DEFAULT_SEED;
    checkRatios(ratios);
    const dataset = await openDataset(location);

    if (values.check) {
      const file = path.resolve(io.cwd, values.check);
      const saved = await loadSplit(file);
      const scanned = await scanItems(dataset.root, dataset.items, { ...scanOptions(io, dataset), decode: false });
      const fingerprint = datasetFingerprint(scanned);
      const applied = applySplit(saved, dataset, fingerprint, file);
      const summary = {
        file,
        seed: saved.seed,
        counts: { train: applied.train.length, val: applied.val.length, test: applied.test.length },
        unassigned: applied.unassigned.map((item) => item.path),
        fingerprintMatches: applied.fingerprintMatches,
      };
      if (values.json) writeJson(io, summary);
      else {
        io.stdout.write(
          `${file} matches ${dataset.source}: train ${summary.counts.train}, val ${summary.counts.val}, test ${summary.counts.test}\n`,
        );
        if (applied.unassigned.length) io.stdout.write(`${applied.unassigned.length} image(s) added since are in no split\n`);
        if (!applied.fingerprintMatches)
          io.stdout.write('the file contents or labels changed since the split was made (fingerprint differs)\n');
      }
      return 0;
    }

    const scanned = await scanItems(dataset.root, dataset.items, scanOptions(io, dataset));
    const report = analyseDataset(dataset, scanned);
    const split = makeSplit(dataset, scanned, { ratios, seed, fingerprint: report.fingerprint });
    const out = values.out ? path.resolve(io.cwd, values.out) : path.join(dataset.root, SPLIT_FILE_NAME);
    await saveSplit(out, split);
    const leaks = report.issues.filter((issue) => issue.kind === 'duplicate' && issue.details?.leak).length;
    if (values.json) {
      writeJson(io, { out, ...split, excluded: report.totals.unreadable, leaks });
      return 0;
    }
    io.stdout.write(describeSplit(dataset, split));
    if (report.totals.unreadable)
      io.stdout.write(`left out ${report.totals.unreadable} unreadable file(s) (see \`effnet dataset inspect\`)\n`);
    if (leaks) io.stdout.write(`warning: ${leaks} duplicate(s) across classes or splits (leaks); see \`effnet dataset inspect\`\n`);
    io.stdout.write(`wrote ${out}\n`);
    return 0;
  },
};

function describeSplit(dataset: Dataset, split: SavedSplit): string {
  const labels = new Map(dataset.items.map((item) => [item.path, item.label]));
  const rows = dataset.classes.map((name) => [
    name,
    ...SPLIT_NAMES.map((s) => String(split[s].filter((p) => labels.get(p) === name).length)),
  ]);
  rows.push(['total', ...SPLIT_NAMES.map((s) => String(split[s].length))]);
  const how =
    split.strategy === 'given'
      ? 'kept as given by the dataset'
      : `seed ${split.seed}, val ${split.ratios.val}, test ${split.ratios.test}, stratified by class`;
  return `Split of ${dataset.source} (${how})\n` + formatWideTable(['class', ...SPLIT_NAMES], rows, [false, true, true, true]);
}
