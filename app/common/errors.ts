/**
 * Errors cross process boundaries as data (`{ok:false, error}`) and become AppError again on the
 * other side. A message says what happened, to which file or field; `hint` says what to do.
 */
export interface ErrorData {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly details?: unknown;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorData };

export class AppError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly details?: unknown;

  constructor(code: string, message: string, options: { hint?: string; details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  toData(): ErrorData {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }

  static fromData(data: ErrorData): AppError {
    return new AppError(data.code, data.message, { hint: data.hint, details: data.details });
  }
}

/** Any thrown value as ErrorData; non-AppErrors become `internal` with their message kept. */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof AppError) return error.toData();
  if (error instanceof Error) return { code: 'internal', message: error.message, details: { name: error.name } };
  return { code: 'internal', message: String(error) };
}

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail(error: unknown): Result<never> {
  return { ok: false, error: toErrorData(error) };
}
