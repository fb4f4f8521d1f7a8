// The script the job manager starts from the sources (with child_process.fork or Electron's
// utilityProcess.fork): it registers the tsx loader, then entry.ts loads the worker named by the
// first argument. A forked process does not inherit the loader that the `effnet` bin registers at
// run time, and `execArgv: ['--import', 'tsx']` resolves `tsx` from the current folder, which may be
// anywhere: registering here works under `node --import tsx`, the `effnet` bin and Electron alike.
// A build has no tsx: main/build.ts compiles entry.ts to dist/workers/launch.mjs instead.
import { register } from 'tsx/esm/api';

register();
await import('./entry.ts');
