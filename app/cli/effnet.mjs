#!/usr/bin/env node
// The `effnet` command. TypeScript sources run through tsx, so the CLI, the server and the
// desktop app share the same app/ code with no separate build step.
import { register } from 'tsx/esm/api';

register();
// `effnet runs list | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
