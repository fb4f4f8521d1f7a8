import path from 'node:path';
import { initBackend } from '../../backend/ladder.ts';
import { classifyFiles, collectImages, openClassifier } from '../../classify/classify.ts';
import { locateModel } from '../../classify/model-location.ts';
import { displayPath, formatCsv, formatJson, OUTPUT_FORMATS, tableRows, type OutputFormat } from '../../classify/output.ts';
import { openExistingStore } from '../../classify/run-store.ts';
import type { Store } from '../../store/index.ts';
import { writeFileAtomic } from '../../weights/files.ts';
import { parseNumberOption, parseOptions, UsageError, type Command } from '../command.ts';
import { formatTable, ProgressBar } from '../terminal.ts';

export const classifyCommand: Command = {
  name: 'classify',
  summary: 'Classify images and folders offline with a run, a tfjs folder or an .onnx file.',
  usage: `Usage: effnet classify MODEL IMAGE|DIR... [options]

  MODEL              a run id, a run/checkpoint/model folder, an exported tfjs folder (model.json +
                     labels.json) or an .onnx file (onnxruntime-node: the fastest)
  IMAGE|DIR          image files and folders (folders are searched recursively)
  --top-k K          classes to report per image (default 5)
  --format F         ${OUTPUT_FORMATS.join('|')} (default table)
  --out FILE         write the results to FILE instead of the terminal
  --batch-size N     images per inference batch (default 16)

Images are prepared exactly as evaluation prepares them (shorter side resized, centre crop at the
model's resolution). Files that cannot be read are reported on stderr and skipped.
CSV columns: path, label, probability, then label_i, probability_i for i = 1..K.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, {
      'top-k': { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      'batch-size': { type: 'string' },
    });
    if (positionals.length < 2) throw new UsageError('give a MODEL and at least one IMAGE or DIR');
    const format = (values.format ?? 'table') as OutputFormat;
    if (!OUTPUT_FORMATS.includes(format))
      throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got '${values.format}'`);
    const whole = (n: number) => Number.isInteger(n) && n >= 1;
    const requestedTopK = parseNumberOption('top-k', values['top-k'], whole, 'a whole number of at least 1') ?? 5;
    const batchSize =
      parseNumberOption('batch-size', values['batch-size'], (n) => whole(n) && n <= 4096, 'a whole number from 1 to 4096') ?? 16;

    let store: Store | undefined;
    let location;
    try {
      location = await locateModel(positionals[0]!, { cwd: io.cwd, openStore: () => (store ??= openExistingStore(io.env)) });
    } finally {
      (store as Store | undefined)?.close();
    }
    const { files, ignored, missing } = await collectImages(positionals.slice(1), io.cwd);
    if (location.kind !== 'onnx') await initBackend({ env: io.env });
    const classifier = await openClassifier(location);
    try {
      const topK = Math.min(requestedTopK, classifier.labels.length);
      const bar = io.stderr.isTTY && files.length > 0 ? new ProgressBar(io.stderr, 'classifying', files.length) : undefined;
      const result = await classifyFiles(classifier, files, {
        topK,
        batchSize,
        signal: io.signal,
        onProgress: (done, total) => (done >= total ? bar?.done() : bar?.update(done)),
      });
      result.skipped.unshift(...missing);
      for (const file of result.skipped) io.stderr.write(`skipped ${displayPath(file.path, io.cwd)}: ${file.reason}\n`);
      const model = location.kind === 'onnx' ? location.file : location.dir;
      const text =
        format === 'csv'
          ? formatCsv(result, topK, io.cwd)
          : format === 'json'
            ? formatJson(result, { model, runtime: classifier.runtime, topK }, io.cwd)
            : formatTable(['path', 'label', 'probability', `next ${topK - 1}`], tableRows(result, io.cwd), [false, false, true, false]);
      if (values.out) await writeFileAtomic(path.resolve(io.cwd, values.out), text);
      else io.stdout.write(text);
      const summary = `classified ${result.results.length} image(s) with ${classifier.runtime}${result.skipped.length ? `, skipped ${result.skipped.length} unreadable` : ''}${ignored ? `, ignored ${ignored} non-image file(s)` : ''}${values.out ? `; wrote ${path.resolve(io.cwd, values.out)}` : ''}`;
      io.stderr.write(`${summary}\n`);
      // Some images unreadable is a normal outcome; nothing classified at all is a failure.
      return result.results.length > 0 || files.length + missing.length === 0 ? 0 : 1;
    } finally {
      await classifier.dispose();
    }
  },
};
