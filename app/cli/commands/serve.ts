import { access } from 'node:fs/promises';
import path from 'node:path';
import { createApiContext } from '../../api/handlers.ts';
import { isLoopback } from '../../server/auth.ts';
import { DEFAULT_RENDERER_FOLDER, startServer } from '../../server/server.ts';
import { dataPaths } from '../../node/paths.ts';
import { parseNumberOption, parseOptions, UsageError, type Command } from '../command.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the app to a web browser (for a headless GPU box, or tests): the same UI and API as the desktop app.',
  usage: `Usage: effnet serve [--host 127.0.0.1] [--port N] [--json]

  --host ADDRESS  where to listen (default 127.0.0.1: this machine only). Another address, such as
                  0.0.0.0, lets other machines connect: anyone with the URL can use the app
  --port N        port to listen on (default 0: any free port); the printed URL has the real one
  --json          print one line {"url", "host", "port"} when ready, instead of the sentences

Open the printed URL in a browser: it carries a random access token that every request needs.
For a remote machine, prefer an SSH tunnel to --host 0.0.0.0:
  ssh -L 8765:127.0.0.1:8765 gpu-box 'effnet serve --port 8765'
Stop with Ctrl-C.`,
  async run(args, io) {
    const { values } = parseOptions(args, { host: { type: 'string' }, port: { type: 'string' }, json: { type: 'boolean' } }, false);
    const host = values.host ?? '127.0.0.1';
    if (host.trim() === '') throw new UsageError('--host must name an address, for example 127.0.0.1');
    const port =
      parseNumberOption('port', values.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a whole number from 0 to 65535') ?? 0;

    const context = createApiContext({ env: io.env, shell: 'browser' });
    let server;
    try {
      server = await startServer({ context, host, port });
    } catch (error) {
      await context.close();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use: choose another with --port, or --port 0 for any free port`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
        throw new UsageError(`cannot listen on ${host}: it is not an address of this machine`);
      throw error;
    }
    const built = await access(path.join(DEFAULT_RENDERER_FOLDER, 'index.html')).then(
      () => true,
      () => false,
    );
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ url: server.url, host: server.host, port: server.port, uiBuilt: built })}\n`);
    } else {
      io.stdout.write(`EffNet Studio is serving at:\n\n  ${server.url}\n\nData folder ${dataPaths(io.env).root}. Stop with Ctrl-C.\n`);
    }
    if (!built)
      io.stderr.write(
        `warning: the user interface is not built (${DEFAULT_RENDERER_FOLDER} has no index.html): run \`npm run build\` in the project folder.\n`,
      );
    if (!isLoopback(host)) {
      io.stderr.write(
        `warning: listening on ${host}, not only this machine: anyone who can reach port ${server.port} and has the URL can read your datasets and start training.\n` +
          `         Plain HTTP: the token travels unencrypted. Prefer an SSH tunnel (see effnet serve --help).\n` +
          (host === '0.0.0.0' || host === '::'
            ? `         From another machine, replace ${server.host === '::' ? '[::1]' : '127.0.0.1'} in the URL with this machine's address.\n`
            : ''),
      );
    }

    // Ctrl-C (io.signal), or SIGTERM from a service manager or a test harness.
    let onTerm = () => {};
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
      onTerm = () => resolve();
      process.once('SIGTERM', onTerm);
    });
    process.off('SIGTERM', onTerm);
    if (!values.json) io.stdout.write('Stopping: running training saves a checkpoint first…\n');
    await server.close();
    await context.close();
    if (!values.json) io.stdout.write('Stopped.\n');
    return 0;
  },
};
