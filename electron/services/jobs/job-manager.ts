import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { JobInfo, JobKind, JobState } from '../../../shared/api';
import { AppError, isErrorCode, type ErrorInfo } from '../../../shared/errors';
import type { Workspace } from '../workspace/workspace';
import { JOB_KIND_DEFS } from './kinds';
import type { WorkerInput, WorkerMessage } from './worker-entry';
import { spawnModuleWorker } from './spawn-worker';
import { diskFullError } from '../workspace/disk-full';
import { sweepBlobs } from '../workspace/blob-sweep';

interface JobRow {
  id: string;
  kind: JobKind;
  title: string;
  params: string;
  state: JobState;
  progress: number;
  message: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  created_by: string;
  error_code: string | null;
  error_message: string | null;
  result: string | null;
}

interface Running {
  worker: Worker | null;
  flag: Int32Array;
  cancelTimer?: NodeJS.Timeout;
  lastPersist: number;
  done: Promise<void>;
  resolveDone: () => void;
}

export interface JobManagerOptions {
  appRoot: string;
  /** Jobs that may run at once; the rest wait in the queue. Default: cores − 1, at least 1. */
  maxConcurrent?: number;
  /** How long a job may ignore cancel before its worker is terminated. */
  cancelGraceMs?: number;
  onChange?: (job: JobInfo) => void;
}

const INTERRUPTED_MESSAGE = 'Millwright closed while this task was running. Start it again when you are ready.';

/**
 * Runs long work in worker threads as jobs with progress, cancel and a
 * persisted terminal state. The main thread only moves messages and writes
 * rows, so it stays responsive while a job computes.
 */
export class JobManager {
  private readonly running = new Map<string, Running>();
  private readonly queue: string[] = [];
  private readonly maxConcurrent: number;
  private readonly cancelGraceMs: number;
  private closed = false;

  constructor(
    private readonly ws: Workspace,
    private readonly opts: JobManagerOptions,
  ) {
    this.maxConcurrent = opts.maxConcurrent ?? Math.max(1, os.cpus().length - 1);
    this.cancelGraceMs = opts.cancelGraceMs ?? 5000;
  }

  /**
   * Marks jobs left queued or running by a process that no longer exists as
   * interrupted. Jobs of a live process (the desktop app while the CLI runs)
   * are left alone.
   */
  recoverInterrupted(): number {
    const rows = this.ws.db
      .prepare("SELECT id, owner_pid, owner_host FROM jobs WHERE state IN ('queued','running')")
      .all() as { id: string; owner_pid: number | null; owner_host: string | null }[];
    const stale = rows.filter((r) => r.owner_host === os.hostname() && (r.owner_pid === null || !processAlive(r.owner_pid)));
    const now = new Date().toISOString();
    const mark = this.ws.db.prepare(
      "UPDATE jobs SET state = 'interrupted', ended_at = ?, message = ?, error_code = 'job_failed', error_message = ? WHERE id = ?",
    );
    this.ws.db.transaction(() => {
      for (const r of stale) mark.run(now, INTERRUPTED_MESSAGE, INTERRUPTED_MESSAGE, r.id);
    })();
    if (stale.length) this.ws.audit.record('jobs.recover', { interrupted: stale.map((r) => r.id) });
    return stale.length;
  }

  start(kind: JobKind, params: unknown): JobInfo {
    if (this.closed) throw new AppError('conflict', 'Millwright is shutting down; the task was not started.');
    const def = JOB_KIND_DEFS[kind];
    const id = `job_${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
    const now = new Date().toISOString();
    this.ws.db.transaction(() => {
      this.ws.db
        .prepare(
          `INSERT INTO jobs (id, kind, title, params, state, progress, message, created_at, created_by, owner_pid, owner_host)
           VALUES (?, ?, ?, ?, 'queued', 0, 'Waiting to start…', ?, ?, ?, ?)`,
        )
        .run(id, kind, def.title(params as never), JSON.stringify(params ?? {}), now, this.ws.who, process.pid, os.hostname());
      this.ws.audit.record('job.start', { id, kind, params });
    })();
    this.queue.push(id);
    this.emit(id);
    this.pump();
    return this.get(id);
  }

  get(id: string): JobInfo {
    const row = this.ws.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!row) throw new AppError('not_found', `There is no task with id "${id}".`, 'id');
    return toInfo(row);
  }

  list(opts: { states?: JobState[]; limit: number }): JobInfo[] {
    const states = opts.states?.length ? opts.states : null;
    const sql = `SELECT * FROM jobs ${states ? `WHERE state IN (${states.map(() => '?').join(',')})` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`;
    return (this.ws.db.prepare(sql).all(...(states ?? []), opts.limit) as JobRow[]).map(toInfo);
  }

  cancel(id: string): JobInfo {
    const job = this.get(id);
    if (job.state === 'queued') {
      const i = this.queue.indexOf(id);
      if (i >= 0) this.queue.splice(i, 1);
      this.finish(id, 'cancelled', { message: 'Cancelled before it started.' });
      this.ws.audit.record('job.cancel', { id, kind: job.kind });
      return this.get(id);
    }
    const run = this.running.get(id);
    if (job.state !== 'running' || !run) return job;
    if (Atomics.load(run.flag, 0) === 1) return job;
    Atomics.store(run.flag, 0, 1);
    this.ws.audit.record('job.cancel', { id, kind: job.kind });
    this.update(id, { message: 'Stopping…' }, true);
    run.cancelTimer = setTimeout(() => {
      void run.worker?.terminate();
    }, this.cancelGraceMs);
    return this.get(id);
  }

  /** Resolves when the job reaches a terminal state. */
  async wait(id: string): Promise<JobInfo> {
    const run = this.running.get(id);
    if (run) await run.done;
    else if (this.queue.includes(id)) {
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (!this.queue.includes(id) && !this.running.has(id)) {
            clearInterval(check);
            resolve();
          } else if (this.running.has(id)) {
            clearInterval(check);
            void this.running.get(id)!.done.then(resolve);
          }
        }, 20);
      });
    }
    return this.get(id);
  }

  /** Stops accepting work and cancels what runs; their rows end as cancelled. */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.queue]) this.cancel(id);
    const waits = [...this.running.keys()].map((id) => {
      this.cancel(id);
      return this.running.get(id)?.done;
    });
    await Promise.all(waits);
  }

  private pump(): void {
    while (this.running.size < this.maxConcurrent && this.queue.length) {
      this.launch(this.queue.shift()!);
    }
  }

  private launch(id: string): void {
    const row = this.ws.db.prepare('SELECT kind, params FROM jobs WHERE id = ?').get(id) as { kind: JobKind; params: string };
    const cancelFlag = new SharedArrayBuffer(4);
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const run: Running = { worker: null, flag: new Int32Array(cancelFlag), lastPersist: 0, done, resolveDone };
    this.running.set(id, run);
    this.update(id, { state: 'running', started_at: new Date().toISOString(), message: 'Starting…' }, true);

    const input: WorkerInput = {
      kind: row.kind,
      params: JSON.parse(row.params) as unknown,
      workspaceDir: this.ws.dir,
      appRoot: this.opts.appRoot,
      cancelFlag,
    };
    let settled = false;
    const startedAt = Date.now();
    const settle = (state: JobState, fields: Partial<JobRow> & { message?: string }) => {
      if (settled) return;
      settled = true;
      if (run.cancelTimer) clearTimeout(run.cancelTimer);
      if (state !== 'done') this.sweepAfter(id, startedAt);
      this.finish(id, state, fields);
      this.running.delete(id);
      resolveDone();
      this.pump();
    };

    let worker: Worker;
    try {
      worker = spawnWorker(input);
    } catch (err) {
      settle('failed', { error_code: 'internal', error_message: `The task could not start: ${(err as Error).message}` });
      return;
    }
    run.worker = worker;
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'progress') {
        this.update(id, { progress: msg.fraction, ...(msg.message ? { message: msg.message } : {}) }, false);
      } else if (msg.type === 'done') {
        try {
          const def = JOB_KIND_DEFS[row.kind];
          const result = def.commit ? def.commit(this.ws, input.params as never, msg.result as never) : msg.result;
          settle('done', { progress: 1, message: 'Finished', result: JSON.stringify(result ?? null) });
        } catch (err) {
          this.logFailure(id, err);
          const full = err instanceof AppError ? null : diskFullError(this.ws.dir, err);
          const info = err instanceof AppError ? err.toInfo() : full ? full.toInfo() : { code: 'internal', message: 'The result could not be saved.' };
          settle('failed', { error_code: info.code, error_message: info.message });
        }
      } else if (msg.error.code === 'cancelled') {
        settle('cancelled', { message: 'Cancelled' });
      } else {
        if (msg.stack) this.logFailure(id, msg.stack);
        settle('failed', { error_code: msg.error.code, error_message: msg.error.message, message: 'Failed' });
      }
    });
    worker.on('error', (err) => {
      this.logFailure(id, err);
      settle('failed', { error_code: 'internal', error_message: 'The task stopped with an internal error. Details are in the workspace log.' });
    });
    worker.on('exit', (code) => {
      if (Atomics.load(run.flag, 0) === 1) settle('cancelled', { message: 'Cancelled' });
      else
        settle('failed', {
          error_code: 'internal',
          error_message: `The task stopped unexpectedly (exit code ${code}). Try again; if it happens again, send the workspace log to support.`,
        });
    });
  }

  /**
   * A task that did not finish may have written blobs nothing will refer to
   * (an import's columns on a disk that filled up): they go at once, when no
   * other task could be about to refer to them (blob-sweep.ts).
   */
  private sweepAfter(id: string, startedAt: number): void {
    try {
      sweepBlobs(this.ws, { since: startedAt - 1000, exceptJob: id });
    } catch (err) {
      this.logFailure(id, err);
    }
  }

  private update(id: string, fields: Partial<JobRow>, persist: boolean): void {
    const run = this.running.get(id);
    const now = Date.now();
    // Progress arrives up to ten times a second; the row is rewritten at most once a second.
    if (persist || !run || now - run.lastPersist >= 1000) {
      if (run) run.lastPersist = now;
      this.write(id, fields);
      this.emit(id);
    } else {
      this.emit(id, fields);
    }
  }

  private finish(id: string, state: JobState, fields: Partial<JobRow>): void {
    this.write(id, { ...fields, state, ended_at: new Date().toISOString() });
    this.emit(id);
  }

  private write(id: string, fields: Partial<JobRow>): void {
    const keys = Object.keys(fields) as (keyof JobRow)[];
    if (!keys.length) return;
    this.ws.db
      .prepare(`UPDATE jobs SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`)
      .run(...keys.map((k) => fields[k] as string | number | null), id);
  }

  private emit(id: string, overlay?: Partial<JobRow>): void {
    if (!this.opts.onChange) return;
    const info = this.get(id);
    if (overlay) {
      if (overlay.progress !== undefined) info.progress = overlay.progress;
      if (overlay.message !== undefined) info.message = overlay.message;
    }
    this.opts.onChange(info);
  }

  private logFailure(id: string, err: unknown): void {
    const text = typeof err === 'string' ? err : ((err as Error)?.stack ?? String(err));
    try {
      fs.appendFileSync(path.join(this.ws.logDir, 'jobs.log'), `${new Date().toISOString()} ${id}\n${text}\n\n`);
    } catch {
      // The log is best effort; the job row already says what failed.
    }
  }
}

function toInfo(r: JobRow): JobInfo {
  const error: ErrorInfo | null =
    r.error_code && r.error_message ? { code: isErrorCode(r.error_code) ? r.error_code : 'internal', message: r.error_message } : null;
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    state: r.state,
    progress: r.progress,
    message: r.message,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    createdBy: r.created_by,
    error,
    result: r.result === null ? null : (JSON.parse(r.result) as unknown),
  };
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function spawnWorker(input: WorkerInput): Worker {
  return spawnModuleWorker(__dirname, 'worker-entry', input);
}
