import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { DEFAULT_AUGMENT, type PipelineConfig } from './config.ts';
import { DataPipeline, streamBatches, type Batch, type PipelineItem } from './pipeline.ts';
import { epochOrder } from './seeds.ts';
import { WorkerPool } from './worker-pool.ts';

let folder = '';
/** 30 small PNGs, 3 classes. */
let small: PipelineItem[] = [];
/** 300 JPEGs of 160x120: 17 MB decoded, far more than the caches used below. */
let large: PipelineItem[] = [];
const LARGE_DECODED_BYTES = 300 * 160 * 120 * 3;

async function writeImages(prefix: string, count: number, width: number, height: number, format: 'png' | 'jpeg'): Promise<PipelineItem[]> {
  const items: PipelineItem[] = [];
  for (let i = 0; i < count; i++) {
    const data = Buffer.alloc(width * height * 3);
    for (let k = 0; k < data.length; k++) data[k] = (k * (i + 3) + ((k / (width * 3)) | 0) * 11) % 256;
    const file = `${prefix}-${i}.${format === 'png' ? 'png' : 'jpg'}`;
    await sharp(data, { raw: { width, height, channels: 3 } })
      .toFormat(format)
      .toFile(path.join(folder, file));
    items.push({ path: file, labelIndex: i % 3 });
  }
  return items;
}

before(async () => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'effnet-pipeline-'));
  small = await writeImages('small', 30, 48, 36, 'png');
  large = await writeImages('large', 300, 160, 120, 'jpeg');
});
after(() => rmSync(folder, { recursive: true, force: true }));

const config = (overrides: Partial<PipelineConfig> = {}): PipelineConfig => ({
  imageSize: 24,
  batchSize: 7,
  shuffle: true,
  seed: 42,
  epoch: 0,
  augment: DEFAULT_AUGMENT,
  mode: 'train',
  ...overrides,
});

async function collect(items: PipelineItem[], c: PipelineConfig, workers: number): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of streamBatches(items, c, { root: folder, workers })) batches.push(batch);
  return batches;
}

test('same seed, same batches, whatever the number of workers', async () => {
  const inThread = await collect(small, config(), 0);
  const oneWorker = await collect(small, config(), 1);
  const threeWorkers = await collect(small, config(), 3);
  assert.equal(inThread.length, Math.ceil(30 / 7));
  assert.deepEqual(
    inThread.map((b) => b.size),
    [7, 7, 7, 7, 2],
  );
  for (const other of [oneWorker, threeWorkers]) {
    assert.equal(other.length, inThread.length);
    other.forEach((batch, i) => {
      assert.deepEqual(batch.paths, inThread[i]!.paths);
      assert.deepEqual(batch.labels, inThread[i]!.labels);
      assert.deepEqual(batch.images, inThread[i]!.images, `batch ${i} pixels`);
    });
  }
  const first = inThread[0]!;
  assert.equal(first.images.length, 7 * 24 * 24 * 3);
  assert.ok(first.images.every((v) => v >= 0 && v <= 255));
  assert.ok(
    first.images.some((v) => v > 1),
    'RGB 0–255, not normalised',
  );
  assert.deepEqual(
    first.labels,
    Int32Array.from(first.paths, (p) => small.find((item) => item.path === p)!.labelIndex),
  );
});

test('each epoch visits every item once, in an order that depends on (seed, epoch) only', async () => {
  const epoch0 = await collect(small, config({ epoch: 0, augment: null }), 0);
  const epoch1 = await collect(small, config({ epoch: 1, augment: null }), 0);
  const order0 = epoch0.flatMap((b) => b.paths);
  const order1 = epoch1.flatMap((b) => b.paths);
  assert.deepEqual([...order0].sort(), small.map((item) => item.path).sort());
  assert.deepEqual([...order1].sort(), [...order0].sort());
  assert.notDeepEqual(order1, order0);
  assert.deepEqual(epochOrder(30, 42, 1, true), epochOrder(30, 42, 1, true));
  assert.deepEqual(Array.from(epochOrder(5, 42, 3, false)), [0, 1, 2, 3, 4]);
  const unshuffled = await collect(small, config({ shuffle: false, mode: 'eval' }), 0);
  assert.deepEqual(
    unshuffled.flatMap((b) => b.paths),
    small.map((item) => item.path),
  );
});

test('keepRemainder false drops the last partial batch', async () => {
  const batches = await collect(small, config({ keepRemainder: false }), 0);
  assert.deepEqual(
    batches.map((b) => b.size),
    [7, 7, 7, 7],
  );
});

test('memory stays bounded on a dataset far larger than the cache', async () => {
  const cacheBytes = 120_000; // about two decoded images, 1/140 of the dataset
  assert.ok(LARGE_DECODED_BYTES > 100 * cacheBytes);
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const used = () => {
    gc();
    const m = process.memoryUsage();
    // external counts ArrayBuffers and the pixel buffers sharp allocates outside the V8 heap.
    return m.heapUsed + m.external;
  };
  const baseline = used();
  const pipeline = await DataPipeline.open(large, config({ imageSize: 32, batchSize: 10 }), {
    root: folder,
    workers: 0,
    cacheBytes,
    prefetchBatches: 2,
  });
  try {
    let peakGrowth = 0;
    const seen = new Set<string>();
    for (let epoch = 0; epoch < 2; epoch++) {
      for await (const batch of pipeline.batches(epoch)) {
        if (epoch === 0) batch.paths.forEach((p) => seen.add(p));
        const stats = pipeline.stats();
        assert.ok(stats.batchesInFlight <= 2, `${stats.batchesInFlight} batches in flight`);
        assert.ok(stats.cache.bytes <= cacheBytes);
        if (batch.index % 5 === 0) peakGrowth = Math.max(peakGrowth, used() - baseline);
      }
    }
    const stats = pipeline.stats();
    assert.equal(seen.size, 300, 'every image was delivered');
    assert.equal(stats.samples, 600);
    assert.ok(stats.batchesInFlightPeak <= 2, `peak ${stats.batchesInFlightPeak} batches ahead`);
    assert.ok(stats.cache.peakBytes <= cacheBytes, `cache peaked at ${stats.cache.peakBytes} bytes`);
    assert.ok(stats.cache.evictions > 500, 'the cache kept evicting');
    // Holding the decoded dataset would add 17 MB; a pipeline that streams stays within a few MB
    // (measured 0–3 MB of allocator and JIT noise).
    assert.ok(peakGrowth < LARGE_DECODED_BYTES / 2, `memory grew by ${peakGrowth} bytes`);
  } finally {
    await pipeline.close();
  }
});

test('with workers: cache budget and prefetch limit hold, and close() stops every worker', async () => {
  const cacheBytes = 200_000;
  const pipeline = await DataPipeline.open(large.slice(0, 120), config({ imageSize: 32, batchSize: 8 }), {
    root: folder,
    workers: 2,
    cacheBytes,
    prefetchBatches: 3,
  });
  let batches = 0;
  for await (const batch of pipeline.batches()) {
    batches++;
    assert.equal(batch.size, 8);
    // A slow consumer: the workers must not run ahead by more than the prefetch limit.
    if (batches === 2) await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(pipeline.stats().batchesInFlight <= 3);
  }
  const stats = pipeline.stats();
  assert.equal(batches, 15);
  assert.ok(stats.batchesInFlightPeak <= 3);
  assert.ok(stats.cache.peakBytes <= cacheBytes, `cache peak ${stats.cache.peakBytes}`);
  assert.ok(stats.cache.misses >= 120);
  assert.equal(stats.workersAlive, 2);
  await pipeline.close();
  assert.equal(pipeline.stats().workersAlive, 0);
});

test('breaking out of streamBatches early stops its workers', async () => {
  const started: Worker[] = [];
  const onWorker = (worker: Worker) => started.push(worker);
  process.on('worker', onWorker);
  const exited = () =>
    Promise.all(started.map((w) => new Promise((resolve) => (w.threadId === -1 ? resolve(0) : w.once('exit', resolve)))));
  try {
    for await (const batch of streamBatches(large, config({ batchSize: 4 }), { root: folder, workers: 2 })) {
      assert.equal(batch.size, 4);
      break;
    }
    assert.equal(started.length, 2);
    await Promise.race([exited(), new Promise((_, reject) => setTimeout(() => reject(new Error('workers still running')), 5000))]);
  } finally {
    process.off('worker', onWorker);
  }
});

test('unreadable files are skipped with one warning each, never a crash', async () => {
  writeFileSync(path.join(folder, 'broken.jpg'), 'not an image');
  const items: PipelineItem[] = [...small.slice(0, 9), { path: 'broken.jpg', labelIndex: 1 }, { path: 'missing.png', labelIndex: 2 }];
  for (const workers of [0, 1]) {
    const warnings: string[] = [];
    const pipeline = await DataPipeline.open(items, config({ batchSize: 4 }), {
      root: folder,
      workers,
      onWarning: (w) => warnings.push(w.path),
    });
    try {
      for (let epoch = 0; epoch < 2; epoch++) {
        const paths: string[] = [];
        for await (const batch of pipeline.batches(epoch)) {
          assert.equal(batch.images.length, batch.size * 24 * 24 * 3);
          assert.equal(batch.labels.length, batch.size);
          paths.push(...batch.paths);
        }
        assert.deepEqual(
          paths.sort(),
          small
            .slice(0, 9)
            .map((item) => item.path)
            .sort(),
          `workers ${workers}, epoch ${epoch}`,
        );
      }
      assert.deepEqual(warnings.sort(), ['broken.jpg', 'missing.png']);
      assert.equal(pipeline.stats().skipped, 2);
    } finally {
      await pipeline.close();
    }
  }
});

test('a failure that is not a bad file stops the pipeline with the file path in the message', async () => {
  const items = small.slice(0, 5);
  const badDecoder = async () => ({ data: new Uint8Array(5), width: 4, height: 4 });
  await assert.rejects(async () => {
    for await (const _ of streamBatches(items, config(), { root: folder, workers: 0, decode: badDecoder })) {
      // consume
    }
  }, /Could not prepare small-\d+\.png: pixel buffer/);
});

test('a crashed worker fails the pipeline with the file it was reading', async () => {
  const pool = await WorkerPool.start(1, { transform: { imageSize: 32, mode: 'train', augment: DEFAULT_AUGMENT, seed: 1 }, cacheBytes: 0 });
  try {
    const task = pool.run({ id: 1, path: path.join(folder, large[0]!.path), index: 0, epoch: 0 });
    const worker = (pool as unknown as { slots: { worker: Worker }[] }).slots[0]!.worker;
    await worker.terminate();
    await assert.rejects(task, (error: Error) => error.message.includes(large[0]!.path) && /data worker stopped/.test(error.message));
    await assert.rejects(pool.run({ id: 2, path: 'x', index: 1, epoch: 0 }), /data worker stopped/);
  } finally {
    await pool.close();
  }
});

test('bad settings are refused with the field named', async () => {
  await assert.rejects(DataPipeline.open(small, config({ imageSize: 0 })), /imageSize/);
  await assert.rejects(
    DataPipeline.open(small, config({ augment: { ...DEFAULT_AUGMENT, flip: { enabled: true, strength: 2 } } })),
    /augment\.flip\.strength/,
  );
  await assert.rejects(DataPipeline.open(small, config(), { workers: -1 }), /workers/);
});
