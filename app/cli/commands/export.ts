import path from 'node:path';
import { initBackend } from '../../backend/ladder.ts';
import { locateModel, type ModelLocation } from '../../classify/model-location.ts';
import { openExistingStore } from '../../classify/run-store.ts';
import { AppError } from '../../common/errors.ts';
import { exportModel, type ExportProgress, type ExportResult } from '../../export/export.ts';
import { isQuantization, QUANTIZATIONS } from '../../export/quantize.ts';
import { EXPORTERS } from '../../export/registry.ts';
import { checkpointValidationImages, datasetImages, type VerificationImage } from '../../export/verification-inputs.ts';
import type { Store } from '../../store/index.ts';
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

    let store: Store | undefined;
    try {
      const location = await locateModel(positionals[0]!, {
        cwd: io.cwd,
        openStore: () => (store ??= openExistingStore(io.env)),
      });
      if (location.kind !== 'model') {
        throw new UsageError(
          `${positionals[0]} is already an exported model (${location.kind}); export from a run or a saved model folder`,
        );
      }
      const images = values.images ? await datasetImages(path.resolve(io.cwd, values.images)) : await runImages(location, io);
      await initBackend({ env: io.env });
      const progress = progressReporter(io);
      const result = await exportModel(
        {
          modelDir: location.dir,
          format: format as ExportResult['format'],
          quantization,
          outDir: path.resolve(io.cwd, values.out),
          images,
          maxImages: count('max-images', 0),
          randomInputs: count('random', 0),
          batchSize: count('batch-size', 1),
          metrics: location.run ? runMetrics(location.run) : undefined,
        },
        { signal: io.signal, onProgress: progress },
      );
      if (location.run && store) recordArtifacts(store, location.run.id, result);
      report(result, io, values.json === true);
      return result.passed ? 0 : 1;
    } finally {
      store?.close();
    }
  },
};

/** The validation images of the run the checkpoint belongs to (its split.json on its dataset). */
async function runImages(location: Extract<ModelLocation, { kind: 'model' }>, io: CliIo): Promise<VerificationImage[]> {
  const datasetPath = (location.run?.config.dataset as { path?: unknown } | undefined)?.path;
  if (!location.checkpoint || typeof datasetPath !== 'string') return [];
  try {
    return await checkpointValidationImages(location.checkpoint, datasetPath);
  } catch (error) {
    io.stderr.write(
      `warning: the run's validation images cannot be used (${(error as Error).message}); verifying on random images only.\n`,
    );
    return [];
  }
}

function runMetrics(run: NonNullable<Extract<ModelLocation, { kind: 'model' }>['run']>): Record<string, number | null> {
  return {
    best_val_accuracy: run.bestValAccuracy,
    best_epoch: run.bestEpoch,
    final_val_accuracy: run.finalValAccuracy,
    epochs: run.epochsDone,
  };
}

/** The export belongs to the run: its artifact file and the verification report become artifact rows. */
function recordArtifacts(store: Store, runId: number, result: ExportResult): void {
  for (const file of result.files) {
    const kind =
      file.name === 'verification.json'
        ? 'export-verification'
        : path.join(result.outDir, file.name) === result.artifact
          ? 'export'
          : undefined;
    if (kind) store.artifacts.add(runId, { kind, path: path.join(result.outDir, file.name), sha256: file.sha256, bytes: file.bytes });
  }
}

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
