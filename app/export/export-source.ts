/**
 * Export from what a user names (a run id, a run or checkpoint folder, a saved model folder): find
 * the model, verify on the run's own validation images, put the run's metrics in the model card
 * and record the export as the run's artifacts. Shared by `effnet export` and the export worker.
 */
import path from 'node:path';
import { initBackend } from '../backend/ladder.ts';
import { locateModel, type ModelLocation } from '../classify/model-location.ts';
import { openExistingStore } from '../classify/run-store.ts';
import { AppError } from '../common/errors.ts';
import type { Store } from '../store/index.ts';
import { exportModel, type ExportProgress, type ExportResult } from './export.ts';
import type { Quantization } from './quantize.ts';
import type { ExportFormat } from './types.ts';
import { checkpointValidationImages, datasetImages, type VerificationImage } from './verification-inputs.ts';

export interface ExportSourceRequest {
  /** A run id, a run or checkpoint folder, or a saved model folder. */
  readonly source: string;
  readonly format: ExportFormat;
  readonly quantization?: Quantization;
  readonly outDir: string;
  /** Verify on this dataset (folder or manifest) instead of the run's validation images. */
  readonly imagesPath?: string;
  readonly maxImages?: number;
  readonly randomInputs?: number;
  readonly batchSize?: number;
}

export interface ExportSourceOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ExportProgress) => void;
  readonly onWarning?: (message: string) => void;
}

export async function exportFromSource(
  request: ExportSourceRequest,
  options: ExportSourceOptions,
): Promise<ExportResult & { runId: number | null }> {
  let store: Store | undefined;
  try {
    const location = await locateModel(request.source, { cwd: options.cwd, openStore: () => (store ??= openExistingStore(options.env)) });
    if (location.kind !== 'model') {
      throw new AppError(
        'export-source',
        `${request.source} is already an exported model (${location.kind}); export from a run or a saved model folder.`,
      );
    }
    const images = request.imagesPath
      ? await datasetImages(path.resolve(options.cwd, request.imagesPath))
      : await runImages(location, options.onWarning);
    await initBackend({ env: options.env });
    const result = await exportModel(
      {
        modelDir: location.dir,
        format: request.format,
        quantization: request.quantization,
        outDir: path.resolve(options.cwd, request.outDir),
        images,
        maxImages: request.maxImages,
        randomInputs: request.randomInputs,
        batchSize: request.batchSize,
        metrics: location.run ? runMetrics(location.run) : undefined,
      },
      { signal: options.signal, onProgress: options.onProgress },
    );
    if (location.run && store) recordArtifacts(store, location.run.id, result);
    return { ...result, runId: location.run?.id ?? null };
  } finally {
    store?.close();
  }
}

/** The validation images of the run the checkpoint belongs to (its split.json on its dataset). */
async function runImages(
  location: Extract<ModelLocation, { kind: 'model' }>,
  onWarning?: (message: string) => void,
): Promise<VerificationImage[]> {
  const datasetPath = (location.run?.config.dataset as { path?: unknown } | undefined)?.path;
  if (!location.checkpoint || typeof datasetPath !== 'string') return [];
  try {
    return await checkpointValidationImages(location.checkpoint, datasetPath);
  } catch (error) {
    onWarning?.(`the run's validation images cannot be used (${(error as Error).message}); verifying on random images only.`);
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
