// Worker threads do not inherit the tsx loader that the CLI registers at run time (app/cli/effnet.mjs),
// and with Node 20 `execArgv: ['--import', 'tsx']` does not apply to the worker's entry module either:
// register tsx here, then load the TypeScript. Works under `node --import tsx` and the `effnet` bin alike.
import { register } from 'tsx/esm/api';

register();
await import('./sample-worker.ts');
