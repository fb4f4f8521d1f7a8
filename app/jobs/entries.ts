/**
 * Where the worker entry points live. app/ never imports workers/ (an import rule forbids it); it
 * only names the launcher script and the entry by name. The bundled Electron main process passes
 * its own folder: `import.meta.url` of a bundle is not this file's place.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobKind } from '../common/protocol.ts';

export const WORKERS_FOLDER = fileURLToPath(new URL('../../workers/', import.meta.url));

export interface WorkerScript {
  /** The script to start: the launcher that registers the TypeScript loader. */
  readonly script: string;
  readonly args: readonly string[];
  /** A name for process lists and logs. */
  readonly name: string;
}

export function workerScript(kind: JobKind, folder: string = WORKERS_FOLDER): WorkerScript {
  return { script: path.join(folder, 'launch.mjs'), args: [kind], name: `effnet-${kind}` };
}
