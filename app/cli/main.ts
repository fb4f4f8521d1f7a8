import { AppError } from '../common/errors.ts';
import { UsageError, type CliIo, type Command } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { APP_VERSION } from '../common/version.ts';

function helpText(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return [
    'effnet: train, track and deploy EfficientNet image classifiers on your own machine.',
    '',
    'Usage: effnet <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    "Run `effnet <command> --help` for a command's options.",
    'Data (runs, weights, caches) lives in EFFNET_HOME (see `effnet doctor`).',
    '',
  ].join('\n');
}

/** The longest registered command name that prefixes the arguments (`dataset inspect` before `dataset`). */
export function findCommand(args: readonly string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((word, i) => args[i] === word) && (!best || words.length > best.command.name.split(' ').length)) {
      best = { command, rest: args.slice(words.length) };
    }
  }
  return best;
}

export async function main(args: string[], io: CliIo = processIo()): Promise<number> {
  if (args.length === 0 || args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
    io.stdout.write(helpText());
    return 0;
  }
  if (args[0] === '--version' || args[0] === '-v') {
    io.stdout.write(`${APP_VERSION}\n`);
    return 0;
  }
  const found = findCommand(args);
  if (!found) {
    const group = COMMANDS.filter((command) => command.name.startsWith(`${args[0]} `));
    if (group.length > 0) {
      io.stderr.write(`effnet ${args[0]}: choose one of: ${group.map((c) => c.name.split(' ').slice(1).join(' ')).join(', ')}\n`);
    } else {
      io.stderr.write(`effnet: unknown command '${args[0]}'. Run \`effnet --help\` for the list.\n`);
    }
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.summary}\n\n${command.usage.trim()}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`effnet ${command.name}: ${error.message}\n\n${command.usage.trim()}\n`);
      return 2;
    }
    if (error instanceof AppError) {
      io.stderr.write(`effnet ${command.name}: ${error.message}\n${error.hint ? `${error.hint}\n` : ''}`);
      // 130 is the shell's convention for "stopped by Ctrl-C" (128 + SIGINT).
      return error.code === 'cancelled' ? 130 : 1;
    }
    if (error instanceof RangeError) {
      io.stderr.write(`effnet ${command.name}: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(
      `effnet ${command.name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

function processIo(): CliIo {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort();
    // A second Ctrl-C exits at once.
    process.once('SIGINT', () => process.exit(130));
  });
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal: controller.signal };
}
