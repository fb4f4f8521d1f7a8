import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_AUGMENT, type PipelineConfig } from '../dataset/pipeline/config.ts';
import { DataPipeline, defaultWorkerCount, type PipelineItem } from '../dataset/pipeline/pipeline.ts';
import { prepareSource, transformSample } from '../dataset/pipeline/transform.ts';
import { decodeImage } from '../image/decode.ts';
import type { Benchmark, BenchFigure } from './types.ts';

const IMAGES = 200;
const WIDTH = 500;
const HEIGHT = 375;
const SIZE = 224;

/** Photo-like JPEGs (smooth gradients, shapes and grain) of ImageNet's typical 500×375. */
async function writeJpegs(folder: string): Promise<PipelineItem[]> {
  const items: PipelineItem[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const data = Buffer.alloc(WIDTH * HEIGHT * 3);
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        const p = (y * WIDTH + x) * 3;
        const inside = (x - 150 - i) ** 2 + (y - 180) ** 2 < 90 ** 2;
        const grain = ((x * 7919 + y * 104729 + i * 31) % 23) - 11;
        data[p] = Math.max(0, Math.min(255, (inside ? 200 : x / 2) + grain));
        data[p + 1] = Math.max(0, Math.min(255, (inside ? 60 : y / 2) + grain));
        data[p + 2] = Math.max(0, Math.min(255, ((x + y + i * 5) % 256) / 2 + grain));
      }
    }
    const file = path.join(folder, `${i}.jpg`);
    await sharp(data, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(file);
    items.push({ path: file, labelIndex: i % 10 });
  }
  return items;
}

/** Images per second over one full epoch, after a warm-up epoch (workers started, code compiled). No cache: every image is decoded. */
async function throughput(items: PipelineItem[], config: PipelineConfig, workers: number): Promise<number> {
  const pipeline = await DataPipeline.open(items, config, { workers, cacheBytes: 0 });
  try {
    for await (const _ of pipeline.batches(0)) {
      // warm-up
    }
    const started = performance.now();
    let count = 0;
    for await (const batch of pipeline.batches(1)) count += batch.size;
    return count / ((performance.now() - started) / 1000);
  } finally {
    await pipeline.close();
  }
}

async function stageTimes(items: PipelineItem[]): Promise<BenchFigure[]> {
  const sample = items.slice(0, 50);
  const decoded = [];
  let started = performance.now();
  for (const item of sample) decoded.push(prepareSource(await decodeImage(item.path), SIZE));
  const decodeMs = (performance.now() - started) / sample.length;
  const figures: BenchFigure[] = [{ bench: 'pipeline', case: 'decode 500x375 JPEG, one thread', value: decodeMs, unit: 'ms/image' }];
  for (const mode of ['train', 'eval'] as const) {
    const config = { imageSize: SIZE, mode, augment: DEFAULT_AUGMENT, seed: 1 };
    decoded.forEach((source, i) => transformSample(source, config, 0, i)); // warm-up (JIT)
    started = performance.now();
    for (let round = 1; round <= 2; round++) decoded.forEach((source, i) => transformSample(source, config, round, i));
    const ms = (performance.now() - started) / (2 * decoded.length);
    figures.push({
      bench: 'pipeline',
      case: `${mode === 'train' ? 'augment (all on)' : 'eval crop+resize'} at ${SIZE}, one thread`,
      value: ms,
      unit: 'ms/image',
    });
  }
  return figures;
}

export const pipelineBenchmark: Benchmark = {
  name: 'pipeline',
  description: `decode+augment throughput at ${SIZE} px on ${IMAGES} generated ${WIDTH}x${HEIGHT} JPEGs (no cache), 1 and N worker threads`,
  async run() {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'effnet-bench-pipeline-'));
    try {
      const items = await writeJpegs(folder);
      const figures = await stageTimes(items);
      const counts = [...new Set([1, 2, defaultWorkerCount()])].sort((a, b) => a - b);
      const base: PipelineConfig = {
        imageSize: SIZE,
        batchSize: 32,
        shuffle: true,
        seed: 1,
        epoch: 0,
        augment: DEFAULT_AUGMENT,
        mode: 'train',
      };
      for (const mode of ['train', 'eval'] as const) {
        for (const workers of counts) {
          const value = await throughput(items, { ...base, mode }, workers);
          figures.push({
            bench: 'pipeline',
            case: `${mode === 'train' ? 'train, all augmentations' : 'eval'}, ${workers} worker${workers > 1 ? 's' : ''}`,
            value,
            unit: 'images/s',
            note: `${os.availableParallelism()} CPUs`,
          });
        }
      }
      return { figures };
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
};
