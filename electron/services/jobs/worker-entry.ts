/**
 * The body of every job worker thread: looks up the job's kind, runs it, and
 * reports progress and the outcome to the JobManager by message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AppError, toErrorInfo } from '../../../shared/errors';
import type { JobKind } from '../../../shared/api';
import { JOB_KIND_DEFS } from './kinds';
import { diskFullError } from '../workspace/disk-full';
import type { JobContext } from './job-kind';

export interface WorkerInput {
  kind: JobKind;
  params: unknown;
  workspaceDir: string;
  appRoot: string;
  cancelFlag: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'progress'; fraction: number; message: string }
  | { type: 'done'; result: unknown }
  | { type: 'failed'; error: { code: string; message: string }; stack?: string };

async function main(): Promise<void> {
  const input = workerData as WorkerInput;
  const port = parentPort!;
  const flag = new Int32Array(input.cancelFlag);
  let lastSent = 0;
  let pending: { fraction: number; message: string } | null = null;
  let lastMessage = '';
  const flush = () => {
    if (pending) port.postMessage({ type: 'progress', ...pending } satisfies WorkerMessage);
    pending = null;
    lastSent = Date.now();
  };
  const ctx: JobContext = {
    workspaceDir: input.workspaceDir,
    appRoot: input.appRoot,
    progress(fraction, message) {
      if (message !== undefined) lastMessage = message;
      pending = { fraction: Math.max(0, Math.min(1, fraction)), message: lastMessage };
      if (Date.now() - lastSent >= 100 || message !== undefined) flush();
    },
    get cancelled() {
      return Atomics.load(flag, 0) === 1;
    },
    throwIfCancelled() {
      if (Atomics.load(flag, 0) === 1) throw new AppError('cancelled');
    },
  };
  try {
    const def = JOB_KIND_DEFS[input.kind];
    if (!def) throw new AppError('internal', `Unknown job kind ${input.kind}.`);
    const result = await def.run(ctx, input.params as never);
    flush();
    port.postMessage({ type: 'done', result } satisfies WorkerMessage);
  } catch (err) {
    flush();
    // A full disk stops writes anywhere in a job (staging, scored files, SQLite): said as such, not as an internal error.
    const full = err instanceof AppError ? null : diskFullError(input.workspaceDir, err);
    const info = toErrorInfo(full ?? err);
    port.postMessage({
      type: 'failed',
      error: { code: info.code, message: info.message },
      stack: err instanceof AppError || full ? undefined : (err as Error)?.stack,
    } satisfies WorkerMessage);
  }
}

void main();
