import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError } from '../common/errors.ts';

/** Where a command writes; tests pass buffers, the real CLI passes the process streams. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Aborted on Ctrl-C: long commands stop cleanly and say how to continue. */
  readonly signal: AbortSignal;
}

export interface Command {
  /** One or more words: `variants`, `dataset inspect`. */
  readonly name: string;
  readonly summary: string;
  /** Usage line and options, printed by `effnet <name> --help`. */
  readonly usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends AppError {
  constructor(message: string) {
    super('usage', message);
    this.name = 'UsageError';
  }
}

/** node:util parseArgs with errors turned into UsageErrors that name the option. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: joinNegativeNumbers(args, options), allowPositionals, options, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/^TypeError \[.*?\]: /, '') : String(error));
  }
}

/** `--phi -1` would read as a flag named `-1`: join a negative number to its string option (`--phi=-1`). */
function joinNegativeNumbers(args: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

export function parseNumberOption(
  name: string,
  value: string | undefined,
  check: (n: number) => boolean,
  expected: string,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || !check(number)) {
    throw new UsageError(`--${name} must be ${expected}, got '${value}'`);
  }
  return number;
}

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
