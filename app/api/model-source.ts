/**
 * The MODEL argument of the export and classify channels: a run id or a path, resolved with the
 * same `locateModel` the CLI and the workers use (a run's best checkpoint, a model, checkpoint or
 * run folder, a tfjs export, an .onnx file), so a wrong choice fails at once, naming the field,
 * instead of in a worker moments later. locateModel only looks at files and the store (no tfjs).
 */
import { locateModel, type ModelLocation } from '../classify/model-location.ts';
import { AppError } from '../common/errors.ts';
import type { ApiContext } from './context.ts';
import { requirePath } from './paths.ts';

export interface ModelSource {
  /** What the worker is given: `run:<id>` (so it records the export as the run's) or an absolute path. */
  readonly argument: string;
  readonly location: ModelLocation;
  readonly runId: number | null;
}

export async function resolveModelSource(context: ApiContext, source: number | string, field: string): Promise<ModelSource> {
  const argument = typeof source === 'number' ? `run:${source}` : await requirePath(source, 'file-or-folder', field);
  try {
    // A run id never reaches the file system: `run:3` is no path (and cwd is irrelevant for an absolute path).
    const location = await locateModel(argument, { cwd: '/', openStore: () => context.store() });
    return { argument, location, runId: typeof source === 'number' ? source : null };
  } catch (error) {
    if (error instanceof AppError) {
      throw new AppError(error.code, `${field}: ${error.message}`, {
        hint:
          error.hint ??
          (typeof source === 'number'
            ? 'Choose a run that finished at least one epoch (see Experiments).'
            : 'Choose a model folder, a run folder, an exported tfjs folder or an .onnx file.'),
        details: error.details,
      });
    }
    throw error;
  }
}
