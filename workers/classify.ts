/**
 * Worker: classifies images and folders offline with a run, a model folder, an exported tfjs
 * folder or an .onnx file (app/classify), reporting progress per batch. Unreadable files are
 * listed with their reason and skipped. The summary holds every result and every skipped file,
 * and the CSV's path when the job was asked to write one (the same columns as `effnet classify
 * --format csv`), so a finished job's CSV is complete on disk.
 */
import path from 'node:path';
import { openClassifier, collectImages, classifyFiles } from '../app/classify/classify.ts';
import { locateModel } from '../app/classify/model-location.ts';
import { formatCsv } from '../app/classify/output.ts';
import { openExistingStore } from '../app/classify/run-store.ts';
import type { Store } from '../app/store/index.ts';
import { writeFileAtomic } from '../app/weights/files.ts';
import { runWorker } from './runtime.ts';

runWorker({
  kind: 'classify',
  async run(payload, context) {
    let store: Store | undefined;
    try {
      const location = await locateModel(payload.model, {
        cwd: process.cwd(),
        openStore: () => (store ??= openExistingStore(process.env)),
      });
      const classifier = await openClassifier(location);
      context.emit({ type: 'started', backend: classifier.runtime, device: 'CPU' });
      const { files, ignored, missing } = await collectImages(payload.inputs, process.cwd());
      if (ignored > 0)
        context.emit({ type: 'log', level: 'info', message: `${ignored} files in the folders are not images and were not read.` });
      const result = await classifyFiles(classifier, files, {
        topK: payload.topK,
        batchSize: payload.batchSize,
        signal: context.signal,
        onProgress: (done, total) => context.emit({ type: 'progress', phase: 'classify', step: done, steps: total }),
      }).finally(() => classifier.dispose());
      for (const skipped of [...missing, ...result.skipped]) {
        context.emit({ type: 'warning', code: 'skipped-file', message: `skipped ${skipped.path}: ${skipped.reason}` });
      }
      const all = { results: result.results, skipped: [...missing, ...result.skipped] };
      // A CSV that cannot be written must not throw away the results: they still come back.
      let csvError: string | null = null;
      if (payload.csvPath) {
        const topK = Math.min(payload.topK ?? 5, classifier.labels.length);
        await writeFileAtomic(payload.csvPath, formatCsv(all, topK, payload.csvBase ?? path.dirname(payload.csvPath))).catch(
          (error: unknown) => {
            csvError = `Cannot write ${payload.csvPath}: ${error instanceof Error ? error.message : String(error)}`;
            context.emit({ type: 'warning', code: 'csv-write', message: csvError });
          },
        );
      }
      return { labels: classifier.labels, ...all, ignored, csvPath: payload.csvPath && !csvError ? payload.csvPath : null, csvError };
    } finally {
      store?.close();
    }
  },
});
