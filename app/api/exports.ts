/**
 * Export channels: start an export job (workers/export.ts: export, load back in its own runtime,
 * verify against the trained model), follow it, cancel it, and list a run's exports. The export
 * itself never runs here: loading both runtimes and the parity images takes seconds to minutes.
 */
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import type { ExportSummary, ExportVerification, ParsedArgs, Quantization } from '../common/ipc/contract.ts';
import { checkReplaceable } from '../export/files.ts';
import type { VerificationReport } from '../export/verify.ts';
import { dataPaths } from '../node/paths.ts';
import type { ApiContext } from './context.ts';
import { cancelTracked, jobState, submitTracked } from './job-states.ts';
import { resolveModelSource, type ModelSource } from './model-source.ts';
import { expandPath } from './paths.ts';
import { listRunExports } from './run-exports.ts';

/** The screens read verification.json as ExportVerification: this stops compiling if the core's report changes shape. */
export const asExportVerification = (report: VerificationReport): ExportVerification => report;

export function exportHandlers(context: ApiContext) {
  return {
    'exports:start': async ({ source, format, quantization, outDir }: ParsedArgs<'exports:start'>[0]) => {
      const model = await resolveModelSource(context, source, 'source');
      if (model.location.kind !== 'model') {
        throw new AppError('export-source', `source: ${model.argument} is already an exported model (${model.location.kind}).`, {
          hint: 'Export from a run or from a saved model folder (one with effnet.json).',
        });
      }
      const target = outDir === undefined ? defaultOutDir(context.env, model, format, quantization) : expandPath(outDir, 'outDir');
      try {
        await checkReplaceable(target);
      } catch (error) {
        if (error instanceof AppError) {
          throw new AppError(error.code, `outDir: ${error.message}`, {
            hint: 'An export replaces the whole folder: choose a new folder, an empty one, or an earlier export.',
          });
        }
        throw error;
      }
      const jobId = submitTracked(
        context,
        { kind: 'export', payload: { source: model.argument, format, quantization, outDir: target } },
        {
          // The run's artifacts now list the export: Run detail refreshes.
          onEnd: (result) => {
            if (result.status === 'completed' && model.runId !== null) context.events.publish({ type: 'runs:changed', runId: model.runId });
          },
        },
      );
      return { jobId, outDir: target };
    },
    'exports:list': async (runId: number) => listRunExports(context.store(), runId),
    'exports:job': async (jobId: string) => jobState(context, jobId, 'export', (summary) => summary as ExportSummary),
    'exports:cancel': async (jobId: string) => cancelTracked(context, jobId, 'export'),
  };
}

/** `<data folder>/exports/run-7-onnx-uint8`, or after the model folder's name: one folder per run and kind of export. */
function defaultOutDir(env: NodeJS.ProcessEnv, model: ModelSource, format: string, quantization: Quantization): string {
  const name = model.runId !== null ? `run-${model.runId}` : slug(path.basename(model.argument));
  return path.join(dataPaths(env).exports, `${name}-${format}${quantization === 'none' ? '' : `-${quantization}`}`);
}

function slug(name: string): string {
  return (
    name
      .replace(/\.[^.]+$/, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 64) || 'model'
  );
}
