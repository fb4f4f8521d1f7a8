/**
 * Classify channels: images by path (files and folders, optionally to a CSV) and images dropped in
 * a browser (uploaded in chunks, see uploads.ts) are classified by a classify job
 * (workers/classify.ts); tfjs and onnxruntime never load in the process serving the API.
 */
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import type { ClassifySummary, ParsedArgs } from '../common/ipc/contract.ts';
import type { ApiContext } from './context.ts';
import { cancelTracked, jobState, submitTracked } from './job-states.ts';
import { resolveModelSource } from './model-source.ts';
import { expandPath, requirePath } from './paths.ts';
import { receiveChunk, removeUpload, takeUpload } from './uploads.ts';

/** What workers/classify.ts returns. */
interface WorkerSummary {
  readonly labels: string[];
  readonly results: { path: string; top: { label: string; probability: number }[] }[];
  readonly skipped: { path: string; reason: string }[];
  readonly ignored: number;
  readonly csvPath: string | null;
  readonly csvError: string | null;
}

export function classifyHandlers(context: ApiContext) {
  /** Each job's upload folder: its files are shown by the names they were dropped with. */
  const uploadFolders = new Map<string, string>();

  return {
    'classify:upload': async (chunk: ParsedArgs<'classify:upload'>[0]) => receiveChunk(context, chunk),
    'classify:start': async ({ model, inputs, uploadId, topK, csvPath }: ParsedArgs<'classify:start'>[0]) => {
      const source = await resolveModelSource(context, model, 'model');
      const paths: string[] = [];
      for (const [index, input] of inputs.entries()) paths.push(await requirePath(input, 'file-or-folder', `inputs.${index}`));
      const csv = csvPath === undefined ? undefined : await csvTarget(csvPath);
      if (paths.length === 0 && uploadId === undefined) {
        throw new AppError('classify-no-inputs', 'inputs: give at least one image file or folder, or drop images.', {
          hint: 'Type the path of an image or a folder of images.',
        });
      }
      const upload = uploadId === undefined ? undefined : takeUpload(context, uploadId);
      const uploaded = upload ? [...upload.files.keys()].map((name) => path.join(upload.folder, name)) : [];
      const jobId = submitTracked(
        context,
        {
          kind: 'classify',
          payload: {
            model: source.argument,
            inputs: [...paths, ...uploaded],
            topK,
            csvPath: csv,
            // Dropped images appear in the CSV by the names they were dropped with.
            csvBase: upload?.folder,
          },
        },
        { ignoreWarnings: ['skipped-file'], onEnd: () => (upload ? removeUpload(upload) : undefined) },
      );
      if (upload) uploadFolders.set(jobId, upload.folder);
      return { jobId };
    },
    'classify:job': async (jobId: string) =>
      jobState(context, jobId, 'classify', (summary) => toSummary(summary as WorkerSummary, uploadFolders.get(jobId))),
    'classify:cancel': async (jobId: string) => cancelTracked(context, jobId, 'classify'),
  };
}

/** The CSV file: absolute, in a folder that exists, not itself a folder. */
async function csvTarget(value: string): Promise<string> {
  const file = expandPath(value, 'csvPath');
  await requirePath(path.dirname(file), 'folder', 'csvPath (its folder)');
  const existing = await requirePath(file, 'file-or-folder', 'csvPath').catch(() => undefined);
  if (existing !== undefined) await requirePath(file, 'file', 'csvPath');
  return file;
}

function toSummary(summary: WorkerSummary, uploadFolder: string | undefined): ClassifySummary {
  const shown = (file: string) => {
    const relative = uploadFolder === undefined ? '' : path.relative(uploadFolder, file);
    const dropped = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
    return { path: dropped ? relative : file, dropped };
  };
  return {
    labels: summary.labels,
    results: summary.results.map((result) => ({ ...shown(result.path), top: result.top })),
    skipped: summary.skipped.map((file) => ({ ...shown(file.path), reason: file.reason })),
    ignored: summary.ignored,
    csvPath: summary.csvPath,
    csvError: summary.csvError,
  };
}
