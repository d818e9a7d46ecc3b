/**
 * Every failure a person can see has one of these codes. Services throw
 * `AppError`; adapters (IPC, HTTP, CLI) turn it into the reply envelope or an
 * exit code. The message is written for a plant engineer: what happened, where,
 * and what to do next.
 */
export const ERROR_CODES = [
  'bad_input',
  'unknown_method',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'workspace_newer',
  'workspace_unusable',
  'job_failed',
  'cancelled',
  'io',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** Field path for bad input, e.g. "limit" or "params.seconds". */
  field?: string;
}

/** Sentences for codes when a service did not supply its own message. */
export const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  bad_input: 'Some of the information given is not valid.',
  unknown_method: 'The app asked for something this version does not know. Restart Millwright.',
  not_found: 'That item no longer exists. It may have been removed; refresh the page.',
  conflict: 'That cannot be done in the current state. Refresh and try again.',
  unauthorized: 'This link is missing its access key. Open the full link printed by "millwright serve-app".',
  forbidden: 'This request came from another web site and was refused.',
  workspace_newer:
    'This workspace was saved by a newer version of Millwright. Install the newer version, or choose another workspace folder.',
  workspace_unusable: 'The workspace folder cannot be used.',
  job_failed: 'The task stopped with an error.',
  cancelled: 'The task was cancelled.',
  io: 'A file could not be read or written.',
  internal: 'Something went wrong inside Millwright. Details were written to the log.',
};

/** HTTP status for each code, used by server mode. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_input: 400,
  unknown_method: 404,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  workspace_newer: 409,
  workspace_unusable: 500,
  job_failed: 500,
  cancelled: 409,
  io: 500,
  internal: 500,
};

/** Codes caused by the caller's input; the CLI exits 2 for these, 1 otherwise. */
export const USER_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'bad_input',
  'unknown_method',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'workspace_newer',
  'workspace_unusable',
]);

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;

  constructor(code: ErrorCode, message?: string, field?: string) {
    super(message ?? DEFAULT_MESSAGES[code]);
    this.name = 'AppError';
    this.code = code;
    this.field = field;
  }

  toInfo(): ErrorInfo {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Turns anything thrown into something safe to show: never a stack. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof AppError) return err.toInfo();
  if (
    typeof err === 'object' &&
    err !== null &&
    !(err instanceof Error) &&
    isErrorCode((err as { code?: unknown }).code) &&
    typeof (err as { message?: unknown }).message === 'string'
  ) {
    const e = err as ErrorInfo;
    return e.field === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, field: e.field };
  }
  return { code: 'internal', message: DEFAULT_MESSAGES.internal };
}
