/**
 * Loads the worker named by the first argument (the job manager passes the job's kind). Under tsx,
 * workers/launch.mjs imports this file; main/build.ts compiles it to dist/workers/launch.mjs, each
 * worker a chunk loaded on demand, so a packaged app starts workers without a TypeScript loader.
 */
import type { JobKind } from '../app/common/protocol.ts';

const WORKERS: Record<JobKind, () => Promise<unknown>> = {
  train: () => import('./train.ts'),
  evaluate: () => import('./evaluate.ts'),
  inspect: () => import('./inspect.ts'),
  export: () => import('./export.ts'),
  classify: () => import('./classify.ts'),
};

const name = process.argv[2] ?? '';
// Only these entries: the argument is a name, never a path.
if (!Object.hasOwn(WORKERS, name)) {
  process.stderr.write(`EffNet Studio worker launcher: expected a worker name (${Object.keys(WORKERS).join(', ')}), got '${name}'\n`);
  process.exit(2);
}
await WORKERS[name as JobKind]();
