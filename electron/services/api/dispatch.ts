import fs from 'node:fs';
import path from 'node:path';
import { parseCall, type Envelope, type Handlers, type MethodName } from '../../../shared/api';
import { AppError, toErrorInfo } from '../../../shared/errors';
import { diskFullError } from '../workspace/disk-full';

/**
 * Validates a call against the contract, runs its handler and wraps the answer
 * in the reply envelope. Unknown errors are logged with their stack and
 * answered with a short sentence; no stack crosses the boundary.
 */
export async function dispatch(handlers: Handlers, name: unknown, arg: unknown, logDir?: string): Promise<Envelope<unknown>> {
  try {
    const call = parseCall<MethodName>(name, arg);
    const handler = handlers[call.name] as (a: unknown) => unknown;
    return { ok: true, value: await handler(call.arg) };
  } catch (err) {
    // logDir is the workspace's logs folder: a full disk is named as the workspace's.
    const full = err instanceof AppError || !logDir ? null : diskFullError(path.dirname(logDir), err);
    if (!(err instanceof AppError) && !full && logDir) logInternal(logDir, String(name), err);
    return { ok: false, error: toErrorInfo(full ?? err) };
  }
}

export function logInternal(logDir: string, where: string, err: unknown): void {
  try {
    fs.appendFileSync(
      path.join(logDir, 'errors.log'),
      `${new Date().toISOString()} ${where}\n${(err as Error)?.stack ?? String(err)}\n\n`,
    );
  } catch {
    // Logging must never turn one failure into two.
  }
}
