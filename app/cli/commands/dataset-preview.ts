import path from 'node:path';
import { DEFAULT_AUGMENT, type AugmentConfig, type PipelineMode } from '../../dataset/pipeline/config.ts';
import { renderPreviewGrid } from '../../dataset/pipeline/preview.ts';
import { openDataset } from '../../dataset/readers/registry.ts';
import { SPLIT_NAMES, type SplitName } from '../../dataset/types.ts';
import { writeFileAtomic } from '../../weights/files.ts';
import { parseNumberOption, parseOptions, UsageError, writeJson, type Command } from '../command.ts';
import { onePath } from './dataset-inspect.ts';

/** The augmentation options, shared in shape with what the training config holds. */
export function augmentFromOptions(values: Record<string, string | boolean | undefined>): AugmentConfig {
  const strength = (name: string, max: number, fallback: number, expected: string) =>
    parseNumberOption(name, values[name] as string | undefined, (n) => n >= 0 && n <= max, expected) ?? fallback;
  const minScale = parseNumberOption(
    'crop-scale',
    values['crop-scale'] as string | undefined,
    (n) => n > 0 && n <= 1,
    'a number in (0, 1]',
  );
  return {
    crop: { ...DEFAULT_AUGMENT.crop, enabled: !values['no-crop'], scale: [minScale ?? DEFAULT_AUGMENT.crop.scale[0], 1] },
    flip: { enabled: !values['no-flip'], strength: strength('flip', 1, DEFAULT_AUGMENT.flip.strength, 'a probability from 0 to 1') },
    rotation: {
      enabled: !values['no-rotation'],
      strength: strength('rotation', 45, DEFAULT_AUGMENT.rotation.strength, 'degrees from 0 to 45'),
    },
    colorJitter: {
      enabled: !values['no-color-jitter'],
      strength: strength('color-jitter', 1, DEFAULT_AUGMENT.colorJitter.strength, 'a number from 0 to 1'),
    },
    erasing: {
      enabled: !values['no-erasing'],
      strength: strength('erasing', 1, DEFAULT_AUGMENT.erasing.strength, 'a probability from 0 to 1'),
    },
  };
}

export const datasetPreviewCommand: Command = {
  name: 'dataset preview',
  summary: 'Render a grid of augmented samples from a dataset, exactly as training will see them.',
  usage: `Usage: effnet dataset preview PATH --out FILE.png [options]

  PATH               a dataset folder or CSV/TSV manifest (as for \`effnet dataset inspect\`)
  --out FILE.png     where to write the grid (PNG)
  --rows N --cols N  grid size (default 4 x 6)
  --seed N           augmentation and sampling seed (default: a new one, printed)
  --image-size PX    sample size, the model's input resolution (default 224)
  --mode train|eval  train: augmented (default); eval: the evaluation centre crop only
  --split NAME       only images of this split (train, val or test) of a pre-split dataset
  --json             print {out, seed, cells: [{path, label}]} instead of a sentence

Augmentations (all on by default; strengths as in the training config):
  --no-crop          centre crop instead of random-resized-crop; --crop-scale MIN (default 0.08)
  --no-flip          horizontal flip; --flip P sets its probability (default 0.5)
  --no-rotation      rotation; --rotation DEG sets the largest angle (default 10)
  --no-color-jitter  brightness/contrast/saturation/hue; --color-jitter S (0-1, default 0.4)
  --no-erasing       random erasing; --erasing P sets its probability (default 0.25)`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, {
      out: { type: 'string' },
      rows: { type: 'string' },
      cols: { type: 'string' },
      seed: { type: 'string' },
      'image-size': { type: 'string' },
      mode: { type: 'string' },
      split: { type: 'string' },
      json: { type: 'boolean' },
      'no-crop': { type: 'boolean' },
      'crop-scale': { type: 'string' },
      'no-flip': { type: 'boolean' },
      flip: { type: 'string' },
      'no-rotation': { type: 'boolean' },
      rotation: { type: 'string' },
      'no-color-jitter': { type: 'boolean' },
      'color-jitter': { type: 'string' },
      'no-erasing': { type: 'boolean' },
      erasing: { type: 'string' },
    });
    const location = onePath(positionals);
    if (!values.out) throw new UsageError('--out FILE.png is required');
    if (path.extname(values.out).toLowerCase() !== '.png') throw new UsageError(`--out must name a .png file, got '${values.out}'`);
    const whole = (n: number) => Number.isInteger(n) && n >= 1 && n <= 20;
    const rows = parseNumberOption('rows', values.rows, whole, 'a whole number from 1 to 20') ?? 4;
    const cols = parseNumberOption('cols', values.cols, whole, 'a whole number from 1 to 20') ?? 6;
    const seed = parseNumberOption('seed', values.seed, Number.isInteger, 'a whole number') ?? Math.floor(Math.random() * 1_000_000);
    const imageSize =
      parseNumberOption(
        'image-size',
        values['image-size'],
        (n) => Number.isInteger(n) && n >= 16 && n <= 1024,
        'a whole number from 16 to 1024',
      ) ?? 224;
    const mode = (values.mode ?? 'train') as PipelineMode;
    if (mode !== 'train' && mode !== 'eval') throw new UsageError(`--mode must be train or eval, got '${values.mode}'`);
    const split = values.split as SplitName | undefined;
    if (split !== undefined && !SPLIT_NAMES.includes(split))
      throw new UsageError(`--split must be one of ${SPLIT_NAMES.join(', ')}, got '${values.split}'`);
    const augment = augmentFromOptions(values);

    const dataset = await openDataset(path.resolve(io.cwd, location));
    const items = dataset.items.filter((item) => split === undefined || item.split === split);
    if (split !== undefined && items.length === 0) {
      throw new UsageError(
        `the dataset has no '${split}' images${dataset.splits.length ? ` (it has ${dataset.splits.join(', ')})` : ' (it is not pre-split)'}`,
      );
    }
    const warnings: string[] = [];
    const { png, cells } = await renderPreviewGrid(
      items.map((item) => ({ path: item.path, label: item.label })),
      { imageSize, augment, mode },
      { rows, cols, seed, root: dataset.root, onWarning: (file, message) => warnings.push(`${file}: ${message}`) },
    );
    const out = path.resolve(io.cwd, values.out);
    await writeFileAtomic(out, png);
    for (const warning of warnings) io.stderr.write(`skipped ${warning}\n`);
    if (values.json) {
      writeJson(io, { out, seed, imageSize, mode, cells: cells.map((c) => ({ path: c.path, label: c.label })) });
    } else {
      io.stdout.write(
        `wrote ${out}: ${cells.length} ${mode === 'train' ? 'augmented' : 'eval'} samples of ${imageSize} px from ${items.length} images (seed ${seed})\n`,
      );
    }
    return 0;
  },
};
