// The one script the job manager starts (with child_process.fork or Electron's utilityProcess.fork):
// it registers the tsx loader, then loads the TypeScript entry named by the first argument. A forked
// process does not inherit the loader that the `effnet` bin registers at run time, and
// `execArgv: ['--import', 'tsx']` resolves `tsx` from the current folder, which may be anywhere:
// registering here works under `node --import tsx`, the `effnet` bin and Electron alike.
import { register } from 'tsx/esm/api';

const name = process.argv[2] ?? '';
// Only the entry points beside this file: the argument is a name, never a path.
if (!/^[a-z][a-z-]*$/.test(name)) {
  process.stderr.write(`workers/launch.mjs: expected a worker name such as 'train', got '${name}'\n`);
  process.exit(2);
}
register();
await import(new URL(`./${name}.ts`, import.meta.url).href);
