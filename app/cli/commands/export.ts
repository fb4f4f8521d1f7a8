import { AppError } from '../../common/errors.ts';
import type { ExportProgress, ExportResult } from '../../export/export.ts';
import { exportFromSource } from '../../export/export-source.ts';
import { isQuantization, QUANTIZATIONS } from '../../export/quantize.ts';
import { EXPORTERS } from '../../export/registry.ts';
import { parseNumberOption, parseOptions, UsageError, writeJson, type CliIo, type Command } from '../command.ts';
import { formatBytes, ProgressBar } from '../terminal.ts';

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export a trained model to tfjs or ONNX, verified against the trained model.',
  usage: `Usage: effnet export RUN|MODEL --format ${EXPORTERS.map((e) => e.format).join('|')} --out DIR [options]

  RUN|MODEL          a run id, a run or checkpoint folder (its best checkpoint), or a saved model folder
  --format FORMAT    ${EXPORTERS.map((e) => `${e.format}: ${e.title}`).join('\n                     ')}
  --quantize Q       ${QUANTIZATIONS.join('|')} (default none): weight quantization
  --out DIR          the export folder (an earlier export there is replaced)
  --images PATH      verify on these images: a dataset folder or manifest (its validation split when it
                     has one). Default: the run's validation images, when the model comes from a run
  --max-images N     verify on at most N images (default 256)
  --random N         also verify on N random images (default 32)
  --batch-size N     images per inference batch (default 16)
  --json             print {outDir, passed, files, verification} as JSON

Every export is loaded back in its own runtime (tfjs, onnxruntime-node) and compared with the trained
model; the numbers go to DIR/verification.json and the model card. It fails (exit 1) when probabilities
differ by more than 1e-4 (float32) or a quantized export agrees on fewer than 99% of top-1 classes.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, {
      format: { type: 'string' },
      quantize: { type: 'string' },
      out: { type: 'string' },
      images: { type: 'string' },
      'max-images': { type: 'string' },
      random: { type: 'string' },
      'batch-size': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError(`give exactly one RUN or MODEL, got ${positionals.length}`);
    const format = values.format;
    if (!format) throw new UsageError('--format is required');
    if (!EXPORTERS.some((e) => e.format === format))
      throw new UsageError(`--format must be one of ${EXPORTERS.map((e) => e.format).join(', ')}, got '${format}'`);
    const quantization = values.quantize ?? 'none';
    if (!isQuantization(quantization)) throw new UsageError(`--quantize must be one of ${QUANTIZATIONS.join(', ')}, got '${quantization}'`);
    if (!values.out) throw new UsageError('--out DIR is required');
    const count = (name: string, min: number) =>
      parseNumberOption(
        name,
        values[name as keyof typeof values] as string | undefined,
        (n) => Number.isInteger(n) && n >= min,
        `a whole number of at least ${min}`,
      );

    const result = await exportFromSource(
      {
        source: positionals[0]!,
        format: format as ExportResult['format'],
        quantization,
        outDir: values.out,
        imagesPath: values.images,
        maxImages: count('max-images', 0),
        randomInputs: count('random', 0),
        batchSize: count('batch-size', 1),
      },
      {
        cwd: io.cwd,
        env: io.env,
        signal: io.signal,
        onProgress: progressReporter(io),
        onWarning: (message) => io.stderr.write(`warning: ${message}\n`),
      },
    );
    report(result, io, values.json === true);
    return result.passed ? 0 : 1;
  },
};

/** Phases as lines on stderr; image preparation and verification as progress bars on a terminal. */
function progressReporter(io: CliIo): (progress: ExportProgress) => void {
  let bar: ProgressBar | undefined;
  let barPhase: string | undefined;
  return (progress) => {
    if (progress.phase === 'prepare' || progress.phase === 'verify') {
      if (!io.stderr.isTTY || !progress.total) return;
      if (barPhase !== progress.phase) {
        bar = new ProgressBar(io.stderr, progress.phase === 'verify' ? 'verifying' : 'preparing', progress.total);
        barPhase = progress.phase;
      }
      if (progress.done >= progress.total) bar?.done();
      else bar?.update(progress.done);
    } else if (progress.done === 0) {
      io.stderr.write(`${progress.message}\n`);
    }
  };
}

function report(result: ExportResult, io: CliIo, json: boolean): void {
  const { verification: v } = result;
  if (json) {
    writeJson(io, {
      outDir: result.outDir,
      format: result.format,
      quantization: result.quantization,
      passed: result.passed,
      artifact: result.artifact,
      files: result.files,
      verification: v,
    });
    return;
  }
  const total = result.files.reduce((sum, file) => sum + file.bytes, 0);
  const lines = [
    `${result.passed ? 'exported' : 'EXPORT FAILED VERIFICATION'}: ${result.outDir} (${result.format}${result.quantization === 'none' ? '' : `, ${result.quantization}`}, ${formatBytes(total)})`,
    `  runtime          ${v.runtime} vs ${v.reference}`,
  ];
  for (const [name, set] of Object.entries(v.sets)) {
    const accuracy = set.accuracyOriginal === null ? '' : `, accuracy ${pct(set.accuracyOriginal)} → ${pct(set.accuracyExported)}`;
    lines.push(
      `  ${`${name} (${set.inputs})`.padEnd(16)} max |Δp| ${set.maxAbsDiff.toExponential(2)}, top-1 agreement ${pct(set.top1Agreement)}${accuracy}`,
    );
  }
  if (v.skippedImages.length > 0) lines.push(`  skipped          ${v.skippedImages.length} unreadable image(s)`);
  lines.push(...v.failures.map((failure) => `  ${failure}`));
  io.stdout.write(`${lines.join('\n')}\n`);
  if (!result.passed)
    throw new AppError('export-parity', `The export in ${result.outDir} does not match the trained model.`, {
      hint: 'See verification.json there; the export is kept for inspection.',
    });
}

function pct(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(2)}%`;
}
