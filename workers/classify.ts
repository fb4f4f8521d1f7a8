/**
 * Worker: classifies images and folders offline with a run, a model folder, an exported tfjs
 * folder or an .onnx file (app/classify), reporting progress per batch. Unreadable files are
 * listed with their reason and skipped. The summary holds every result and every skipped file.
 */
import { openClassifier, collectImages, classifyFiles } from '../app/classify/classify.ts';
import { locateModel } from '../app/classify/model-location.ts';
import { openExistingStore } from '../app/classify/run-store.ts';
import type { Store } from '../app/store/index.ts';
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
      return { labels: classifier.labels, results: result.results, skipped: [...missing, ...result.skipped] };
    } finally {
      store?.close();
    }
  },
});
