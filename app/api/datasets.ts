/**
 * The Datasets screen's channels: inspect (the health report), thumbnails, split and the
 * augmentation preview. The last inspected datasets are kept with their scan, so a split or a
 * preview right after an inspection does not decode every image again.
 */
import path from 'node:path';
import sharp from 'sharp';
import { AppError } from '../common/errors.ts';
import type { ChannelResults, DatasetReport, ParsedArgs } from '../common/ipc/contract.ts';
import { renderPreviewGrid } from '../dataset/pipeline/preview.ts';
import { analyseDataset, type HealthReport } from '../dataset/health.ts';
import { openDataset } from '../dataset/readers/registry.ts';
import { scanItems, type ScannedItem } from '../dataset/scan.ts';
import { makeSplit, saveSplit } from '../dataset/split.ts';
import type { Dataset } from '../dataset/types.ts';
import { SPLIT_FILE_NAME } from '../dataset/walk.ts';
import type { ApiContext } from './context.ts';
import { insideRoot, requirePath } from './paths.ts';
import { makeThumbnails, spread } from './thumbnails.ts';

const CACHED_DATASETS = 4;
const PROGRESS_INTERVAL_MS = 150;

interface Inspected {
  readonly dataset: Dataset;
  readonly scanned: readonly ScannedItem[];
  readonly report: HealthReport;
}

export function datasetHandlers(context: ApiContext) {
  const cache = new Map<string, Inspected>();

  async function inspect(source: string): Promise<Inspected> {
    const dataset = await openDataset(source);
    let last = 0;
    const scanned = await scanItems(dataset.root, dataset.items, {
      onProgress: ({ done, total }) => {
        const now = Date.now();
        if (done !== total && now - last < PROGRESS_INTERVAL_MS) return;
        last = now;
        context.events.publish({ type: 'dataset:progress', source: dataset.source, done, total });
      },
    });
    const inspected = { dataset, scanned, report: analyseDataset(dataset, scanned) };
    cache.delete(dataset.source);
    cache.set(dataset.source, inspected);
    while (cache.size > CACHED_DATASETS) cache.delete(cache.keys().next().value!);
    remember(context, inspected);
    return inspected;
  }

  async function inspected(source: string): Promise<Inspected> {
    const absolute = await requirePath(source, 'file-or-folder', 'source');
    return cache.get(absolute) ?? (await inspect(absolute));
  }

  return {
    'datasets:recent': async (): Promise<ChannelResults['datasets:recent']> =>
      context
        .store()
        .datasets.list()
        .map((row) => ({ id: row.id, path: row.path, name: row.name, classes: row.classes, lastUsedAt: row.lastUsedAt })),

    'datasets:inspect': async ({ source }: ParsedArgs<'datasets:inspect'>[0]): Promise<DatasetReport> => {
      const report: DatasetReport = (await inspect(await requirePath(source, 'file-or-folder', 'source'))).report;
      return report;
    },

    'datasets:thumbnails': async (request: ParsedArgs<'datasets:thumbnails'>[0]): Promise<ChannelResults['datasets:thumbnails']> => {
      const absolute = await requirePath(request.source, 'file-or-folder', 'source');
      const dataset = cache.get(absolute)?.dataset ?? (await openDataset(absolute));
      let picked: { path: string; label: string }[];
      if (request.paths) {
        const labels = new Map(dataset.items.map((item) => [item.path, item.label]));
        picked = request.paths.map((relative) => ({ path: relative, label: labels.get(relative) ?? '' }));
      } else {
        if (request.class !== undefined && !dataset.classes.includes(request.class)) {
          throw new AppError('not-found', `The dataset has no class "${request.class}"`, {
            hint: 'Inspect the dataset again: its folders may have changed.',
          });
        }
        const items = request.class === undefined ? dataset.items : dataset.items.filter((item) => item.label === request.class);
        picked = spread(items, request.limit);
      }
      const requests = picked.map((item) => ({ ...item, file: insideRoot(dataset.root, item.path, 'paths') }));
      return makeThumbnails(requests, request.size);
    },

    'datasets:split': async (request: ParsedArgs<'datasets:split'>[0]): Promise<ChannelResults['datasets:split']> => {
      const { dataset, scanned, report } = await inspected(request.source);
      const split = makeSplit(dataset, scanned, {
        ratios: { val: request.val, test: request.test },
        seed: request.seed,
        fingerprint: report.fingerprint,
      });
      let savedTo: string | null = null;
      if (request.save) {
        savedTo = path.join(dataset.root, SPLIT_FILE_NAME);
        await saveSplit(savedTo, split);
      }
      const labels = new Map(dataset.items.map((item) => [item.path, item.label]));
      const counts = new Map(dataset.classes.map((name) => [name, { name, train: 0, val: 0, test: 0 }]));
      for (const name of ['train', 'val', 'test'] as const) for (const file of split[name]) counts.get(labels.get(file)!)![name]++;
      return {
        strategy: split.strategy,
        seed: split.seed,
        ratios: split.ratios,
        classes: [...counts.values()],
        totals: { train: split.train.length, val: split.val.length, test: split.test.length },
        excluded: split.excluded.length,
        savedTo,
      };
    },

    'datasets:preview': async (request: ParsedArgs<'datasets:preview'>[0]): Promise<ChannelResults['datasets:preview']> => {
      const { dataset, scanned } = await inspected(request.source);
      const items = scanned.filter((s) => !s.error).map(({ item }) => ({ path: item.path, label: item.label }));
      if (items.length === 0)
        throw new AppError('preview-empty', 'The dataset has no readable images to preview.', {
          hint: 'Fix the issues the report lists first.',
        });
      const { png, cells } = await renderPreviewGrid(
        items,
        { imageSize: request.imageSize, augment: request.augment, mode: request.mode },
        { rows: request.rows, cols: request.cols, seed: request.seed, root: dataset.root },
      );
      const image = sharp(png);
      const { width = 0, height = 0 } = await image.metadata();
      const jpeg = await image.jpeg({ quality: 85 }).toBuffer();
      return {
        dataUrl: `data:image/jpeg;base64,${jpeg.toString('base64')}`,
        width,
        height,
        seed: request.seed,
        cells: cells.map(({ path: p, label }) => ({ path: p, label })),
      };
    },
  };
}

/** Records the dataset in the store so it appears under "recent"; a store problem never fails an inspection. */
function remember(context: ApiContext, { dataset, report }: Inspected): void {
  try {
    const split = (name: string) => report.splits.find((s) => s.name === name)?.count ?? 0;
    context.store().datasets.upsert({
      path: dataset.source,
      fingerprint: report.fingerprint,
      classes: dataset.classes,
      split: dataset.splits.length
        ? { train: split('train'), validation: split('val'), test: split('test'), method: 'folders' }
        : { train: report.totals.readable, validation: 0, test: 0, method: 'none' },
    });
  } catch (error) {
    console.warn(`Could not record dataset ${dataset.source} in the store: ${error instanceof Error ? error.message : String(error)}`);
  }
}
