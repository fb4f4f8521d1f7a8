/**
 * Where the worker entry points live. app/ never imports workers/ (an import rule forbids it); it
 * only names the launcher script and the entry by name. Both layouts have `<folder>/launch.mjs
 * <kind>`: from the sources it is workers/launch.mjs, which registers tsx first; from a build it is
 * dist/workers/launch.mjs, compiled by main/build.ts, which needs no TypeScript loader (the
 * packaged app has none).
 */
import path from 'node:path';
import type { JobKind } from '../common/protocol.ts';
import { appRoot, distPath, FROM_SOURCE } from '../node/resources.ts';

export const WORKERS_FOLDER = FROM_SOURCE ? path.join(appRoot(), 'workers') : distPath('workers');

export interface WorkerScript {
  /** The script to start: the launcher, which loads the worker named by the first argument. */
  readonly script: string;
  readonly args: readonly string[];
  /** A name for process lists and logs. */
  readonly name: string;
}

export function workerScript(kind: JobKind, folder: string = WORKERS_FOLDER): WorkerScript {
  return { script: path.join(folder, 'launch.mjs'), args: [kind], name: `effnet-${kind}` };
}
