/**
 * `exportModel`: one trained model folder → one verified deployment folder. A library function
 * with no CLI concerns (the CLI and the export worker job both call it): progress goes to a
 * callback, cancellation comes through an AbortSignal, errors are AppErrors.
 *
 * Everything is written into a temporary folder beside `outDir`, loaded back from there in the
 * format's own runtime and verified, and only then renamed into place, so `outDir` holds either the
 * previous export or a complete new one. A failed parity check still publishes the folder (the
 * numbers are the point), with `verification.json` and the model card saying FAILED.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { tfjsClassifier } from '../classify/tfjs-classifier.ts';
import { AppError } from '../common/errors.ts';
import { loadModel } from '../model/model-format.ts';
import { describeFiles, EXPORT_MARKER, publishFolder, checkReplaceable, writeDurably, type ExportedFile } from './files.ts';
import { buildModelCard, renderModelCard, type ModelCard } from './model-card.ts';
import { isQuantization, type Quantization } from './quantize.ts';
import { EXPORTERS, exporterFor } from './registry.ts';
import type { ExportFormat, Exporter } from './types.ts';
import { buildVerificationSets, type VerificationImage } from './verification-inputs.ts';
import { verifyExport, type VerificationReport } from './verify.ts';

export const MODEL_CARD_JSON = 'model-card.json';
export const MODEL_CARD_MARKDOWN = 'model-card.md';

export interface ExportRequest {
  /** A model folder in the app's format (effnet.json + model.json), e.g. a checkpoint's `model/`. */
  readonly modelDir: string;
  readonly format: ExportFormat;
  readonly quantization?: Quantization;
  readonly outDir: string;
  /** Images to verify on: the run's validation images, or images the user gave. */
  readonly images?: readonly VerificationImage[];
  readonly maxImages?: number;
  readonly randomInputs?: number;
  readonly seed?: number;
  readonly batchSize?: number;
  /** Training metrics for the model card (validation accuracy, …). */
  readonly metrics?: Readonly<Record<string, number | null>>;
}

export type ExportPhase = 'load' | 'write' | 'prepare' | 'verify' | 'finish';

export interface ExportProgress {
  readonly phase: ExportPhase;
  readonly done: number;
  readonly total: number | null;
  readonly message: string;
}

export interface ExportOptions {
  readonly onProgress?: (progress: ExportProgress) => void;
  readonly signal?: AbortSignal;
  /** The format table (tests pass one with a deliberately broken exporter). */
  readonly exporters?: readonly Exporter[];
}

export interface ExportResult {
  readonly outDir: string;
  readonly format: ExportFormat;
  readonly quantization: Quantization;
  /** The parity check passed; a failed export is still written, with the numbers. */
  readonly passed: boolean;
  /** The file a runtime opens, absolute. */
  readonly artifact: string;
  /** Every file of the folder with size and SHA-256 (for the store's artifact rows). */
  readonly files: readonly ExportedFile[];
  readonly verification: VerificationReport;
  readonly card: ModelCard;
}

export async function exportModel(request: ExportRequest, options: ExportOptions = {}): Promise<ExportResult> {
  const exporter = exporterFor(request.format, options.exporters ?? EXPORTERS);
  const quantization = request.quantization ?? 'none';
  if (!isQuantization(quantization) || !exporter.quantizations.includes(quantization)) {
    throw new AppError(
      'export-quantization',
      `${exporter.format} exports support quantization ${exporter.quantizations.join(', ')}, not '${String(quantization)}'.`,
    );
  }
  const report = (phase: ExportPhase, done: number, total: number | null, message: string) =>
    options.onProgress?.({ phase, done, total, message });
  const target = path.resolve(request.outDir);
  await checkReplaceable(target);

  report('load', 0, 1, `loading ${request.modelDir}`);
  const source = await loadModel(request.modelDir);
  const { model, metadata } = source;
  const temp = await makeTemp(target);
  try {
    if (!metadata.spec.includeTop) {
      throw new AppError(
        'model-no-classifier',
        `${request.modelDir} is a feature extractor (includeTop false); only classifiers can be exported.`,
      );
    }
    options.signal?.throwIfAborted();
    report('write', 0, 1, `writing ${exporter.format}${quantization === 'none' ? '' : ` (${quantization})`}`);
    await exporter.write(source, temp, quantization);

    const reference = tfjsClassifier(model, {
      labels: metadata.labels,
      outputsLogits: metadata.spec.classifierActivation === 'linear',
      dispose: false,
    });
    const images = request.images ?? [];
    const { sets, skipped } = await buildVerificationSets(images, {
      labels: metadata.labels,
      inputSize: metadata.spec.resolution,
      maxImages: request.maxImages,
      randomInputs: request.randomInputs,
      seed: request.seed,
      signal: options.signal,
      onImage: (done, total) => report('prepare', done, total, 'preparing verification images'),
    });
    const exported = await exporter.open(temp);
    let verification: VerificationReport;
    try {
      verification = await verifyExport(reference, exported, sets, {
        quantization,
        batchSize: request.batchSize,
        skippedImages: skipped,
        signal: options.signal,
        onProgress: (done, total) => report('verify', done, total, `verifying in ${exported.runtime}`),
      });
    } finally {
      await exported.dispose();
    }

    report('finish', 0, 1, 'writing the model card');
    await writeDurably(path.join(temp, EXPORT_MARKER), `${JSON.stringify(verification, null, 2)}\n`);
    const card = buildModelCard({
      metadata,
      format: exporter.format,
      artifact: exporter.artifact,
      quantization,
      metrics: request.metrics,
      verification,
      files: await describeFiles(temp),
    });
    const resizeTo = card.preprocessing.resizeShorterSideTo;
    await writeDurably(path.join(temp, MODEL_CARD_JSON), `${JSON.stringify(card, null, 2)}\n`);
    await writeDurably(
      path.join(temp, MODEL_CARD_MARKDOWN),
      renderModelCard(card, exporter.usage({ inputSize: metadata.spec.resolution, classes: metadata.labels.length, resizeTo })),
    );
    const files = await describeFiles(temp);
    await publishFolder(temp, target);
    report('finish', 1, 1, verification.passed ? 'export verified' : 'export FAILED verification');
    return {
      outDir: target,
      format: exporter.format,
      quantization,
      passed: verification.passed,
      artifact: path.join(target, exporter.artifact),
      files,
      verification,
      card,
    };
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw error;
  } finally {
    model.dispose();
  }
}

async function makeTemp(target: string): Promise<string> {
  const parent = path.dirname(target);
  try {
    await fs.mkdir(parent, { recursive: true });
    return await fs.mkdtemp(path.join(parent, `.${path.basename(target)}.exporting-`));
  } catch (error) {
    throw new AppError('export-out-invalid', `Cannot write an export beside ${target}: ${(error as Error).message}`, {
      hint: 'Check that the folder is writable and the disk has space.',
      cause: error,
    });
  }
}
