/**
 * Worker: the dataset health check (app/dataset/health.ts) as a job, with progress, cancel and
 * pause. Decoding every image of a large dataset takes minutes, so the desktop app runs it here
 * rather than in its main process. The summary is the HealthReport.
 */
import os from 'node:os';
import { analyseDataset } from '../app/dataset/health.ts';
import { openDataset } from '../app/dataset/readers/registry.ts';
import { defaultConcurrency, scanItems, type ScannedItem } from '../app/dataset/scan.ts';
import { runWorker } from './runtime.ts';

/** Images scanned between pause checks: small enough to pause within a second, large enough to keep every decoder busy. */
const CHUNK = 64;
/** At most this many progress events a second: the manager and the UI need no more. */
const PROGRESS_INTERVAL_MS = 200;

runWorker({
  kind: 'inspect',
  async run(payload, context) {
    const concurrency = payload.concurrency ?? defaultConcurrency();
    context.emit({
      type: 'started',
      backend: 'sharp',
      device: `CPU (${concurrency} images at a time, ${os.availableParallelism()} cores)`,
    });
    const dataset = await openDataset(payload.dataset);
    const total = dataset.items.length;
    const began = Date.now();
    let lastReport = 0;
    const report = (done: number, force = false) => {
      const now = Date.now();
      if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
      lastReport = now;
      const seconds = (now - began) / 1000;
      const rate = seconds > 0 ? done / seconds : null;
      context.emit({
        type: 'progress',
        phase: 'scan',
        step: done,
        steps: total,
        imagesPerSecond: rate,
        etaSeconds: rate ? (total - done) / rate : null,
      });
    };
    report(0, true);
    const scanned: ScannedItem[] = [];
    for (let start = 0; start < total; start += CHUNK) {
      await context.pauseGate();
      const chunk = await scanItems(dataset.root, dataset.items.slice(start, start + CHUNK), {
        decode: true,
        concurrency,
        signal: context.signal,
        onProgress: ({ done }) => report(start + done),
      });
      scanned.push(...chunk);
      // Cancel between chunks too: scanItems only checks the signal before each image.
      if (context.signal.aborted) return null;
    }
    report(total, true);
    return analyseDataset(dataset, scanned);
  },
});
