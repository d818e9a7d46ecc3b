import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobInfo, SystemCheckResult } from '../../../shared/api';
import { AppError } from '../../../shared/errors';
import { createHandlers } from '../api/handlers';
import { ScoringService } from '../scoring/service';
import { dispatch } from '../api/dispatch';
import { appRoot } from '../app/app-root';
import { listDatasets } from '../datasets/datasets';
import { AuditLog } from '../workspace/audit';
import { Workspace } from '../workspace/workspace';
import { JobManager, type JobManagerOptions } from './job-manager';
import type { ImportSummary } from './kinds/imports';
import { DatasetReader } from '../datasets/reader';

const ROOT = appRoot();
const AI4I = path.join(ROOT, 'resources', 'samples', 'ai4i2020.csv');

let dir: string;
let ws: Workspace;
let managers: JobManager[];
let events: JobInfo[];

function manager(opts: Partial<JobManagerOptions> = {}): JobManager {
  const jm = new JobManager(ws, { appRoot: ROOT, onChange: (j) => events.push(j), ...opts });
  managers.push(jm);
  return jm;
}

function eventsOf(id: string): JobInfo[] {
  return events.filter((e) => e.id === id);
}

/** Distinct states in the order they were first reported. */
function statesOf(id: string): string[] {
  const out: string[] = [];
  for (const e of eventsOf(id)) if (out.at(-1) !== e.state) out.push(e.state);
  return out;
}

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function insertJob(id: string, state: string, ownerPid: number | null, ownerHost: string | null): void {
  ws.db
    .prepare(
      `INSERT INTO jobs (id, kind, title, state, created_at, created_by, owner_pid, owner_host, started_at)
       VALUES (?, 'system.check', 'Checking this PC', ?, ?, 'ana', ?, ?, ?)`,
    )
    .run(id, state, new Date().toISOString(), ownerPid, ownerHost, state === 'running' ? new Date().toISOString() : null);
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  expect(child.status).toBe(0);
  const pid = child.pid!;
  expect(() => process.kill(pid, 0)).toThrow();
  return pid;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-jobs-'));
  ws = Workspace.open(dir, { who: 'ana', appVersion: 'test' });
  managers = [];
  events = [];
});

afterEach(async () => {
  for (const jm of managers) await jm.close();
  ws.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('JobManager: system.check', () => {
  it('runs queued -> running -> done with growing progress and a result', async () => {
    const jm = manager();
    const started = jm.start('system.check', { seconds: 0.5 });
    expect(started.state).toBe('running');
    expect(started.kind).toBe('system.check');
    expect(started.title).toBe('Checking this PC');
    expect(started.createdBy).toBe('ana');

    const final = await jm.wait(started.id);
    expect(final.state).toBe('done');
    expect(final.progress).toBe(1);
    expect(final.error).toBeNull();
    expect(final.startedAt).not.toBeNull();
    expect(final.endedAt).not.toBeNull();
    expect(Date.parse(final.endedAt!)).toBeGreaterThanOrEqual(Date.parse(final.startedAt!));

    const result = final.result as SystemCheckResult;
    expect(result.cpuScore).toBeGreaterThan(0);
    expect(result.diskWriteMBps).toBeGreaterThan(0);
    expect(result.cores).toBe(os.cpus().length);
    expect(result.memoryGiB).toBeGreaterThan(0);

    expect(statesOf(started.id)).toEqual(['queued', 'running', 'done']);
    const progress = eventsOf(started.id).map((e) => e.progress);
    // Several intermediate reports from the worker, not just start and end.
    expect(new Set(progress.filter((p) => p > 0 && p < 1)).size).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++) {
      // 0.01 of slack: the CPU phase may overshoot 0.8 by a hair before the disk phase reports 0.8 (see report).
      expect(progress[i]!, `progress ${i}: ${progress.join(', ')}`).toBeGreaterThanOrEqual(progress[i - 1]! - 0.01);
    }
    expect(progress.at(-1)).toBe(1);
    expect(eventsOf(started.id).some((e) => e.message === 'Measuring disk speed…')).toBe(true);

    // The stored row says the same as the final event, and the scratch file is gone.
    expect(jm.get(started.id)).toEqual(final);
    expect(eventsOf(started.id).at(-1)).toEqual(final);
    expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    const audit = AuditLog.list(ws.db, { limit: 10, action: 'job.start' });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toEqual({ id: started.id, kind: 'system.check', params: { seconds: 0.5 } });
  });

  it('cancels a running job cooperatively, well within the grace period', async () => {
    const jm = manager({ cancelGraceMs: 20_000 });
    const job = jm.start('system.check', { seconds: 30 });
    // Wait for the worker's own first report, so the job is really computing.
    await until(() => eventsOf(job.id).some((e) => e.message === 'Measuring computing speed…'));
    expect(jm.get(job.id).state).toBe('running');

    const t0 = Date.now();
    const asked = jm.cancel(job.id);
    expect(asked.state).toBe('running');
    expect(asked.message).toBe('Stopping…');
    const final = await jm.wait(job.id);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(final.state).toBe('cancelled');
    expect(final.message).toBe('Cancelled');
    expect(final.endedAt).not.toBeNull();
    expect(final.result).toBeNull();
    expect(AuditLog.list(ws.db, { limit: 10, action: 'job.cancel' }).map((e) => e.details)).toEqual([
      { id: job.id, kind: 'system.check' },
    ]);

    // Cancelling an ended job changes nothing.
    expect(jm.cancel(job.id)).toEqual(final);
    expect(AuditLog.list(ws.db, { limit: 10, action: 'job.cancel' })).toHaveLength(1);
  });

  it('still ends as cancelled when the worker is terminated without grace', async () => {
    const jm = manager({ cancelGraceMs: 0 });
    const job = jm.start('system.check', { seconds: 30 });
    await until(() => eventsOf(job.id).some((e) => e.state === 'running'));
    jm.cancel(job.id);
    const final = await jm.wait(job.id);
    expect(final.state).toBe('cancelled');
  });

  it('cancels a queued job without ever running it, and the queue moves on', async () => {
    const jm = manager({ maxConcurrent: 1 });
    const a = jm.start('system.check', { seconds: 0.5 });
    const b = jm.start('system.check', { seconds: 0.2 });
    const c = jm.start('system.check', { seconds: 0.2 });
    expect(a.state).toBe('running');
    expect(b.state).toBe('queued');
    expect(c.state).toBe('queued');

    const cancelled = jm.cancel(b.id);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.message).toBe('Cancelled before it started.');
    expect(cancelled.startedAt).toBeNull();
    expect(cancelled.endedAt).not.toBeNull();

    const [fa, fc] = await Promise.all([jm.wait(a.id), jm.wait(c.id)]);
    expect(fa.state).toBe('done');
    expect(fc.state).toBe('done');
    // One at a time: c started only after a ended.
    expect(Date.parse(fc.startedAt!)).toBeGreaterThanOrEqual(Date.parse(fa.endedAt!));

    const fb = jm.get(b.id);
    expect(fb.state).toBe('cancelled');
    expect(fb.startedAt).toBeNull();
    expect(statesOf(b.id)).toEqual(['queued', 'cancelled']);
  });

  it('lists jobs newest first, filtered by state and limited', async () => {
    const jm = manager({ maxConcurrent: 1 });
    const a = jm.start('system.check', { seconds: 30 });
    const b = jm.start('system.check', { seconds: 30 });
    const c = jm.start('system.check', { seconds: 30 });
    jm.cancel(c.id);
    expect(jm.list({ limit: 10 }).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
    expect(jm.list({ limit: 2 }).map((j) => j.id)).toEqual([c.id, b.id]);
    expect(jm.list({ states: ['queued'], limit: 10 }).map((j) => j.id)).toEqual([b.id]);
    expect(jm.list({ states: ['running', 'cancelled'], limit: 10 }).map((j) => j.id)).toEqual([c.id, a.id]);
    expect(jm.list({ states: [], limit: 10 })).toHaveLength(3);
    expect(jm.list({ states: ['done'], limit: 10 })).toEqual([]);
  });

  it('cancels everything on close and then refuses new jobs', async () => {
    const jm = manager({ maxConcurrent: 1 });
    const a = jm.start('system.check', { seconds: 30 });
    const b = jm.start('system.check', { seconds: 30 });
    await jm.close();
    expect(jm.get(a.id).state).toBe('cancelled');
    expect(jm.get(b.id).state).toBe('cancelled');
    expect(jm.get(b.id).startedAt).toBeNull();
    let err: unknown;
    try {
      jm.start('system.check', { seconds: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('conflict');
    expect(jm.list({ limit: 10 })).toHaveLength(2);
  });
});

describe('JobManager: samples.add', () => {
  it('imports the AI4I sample as a dataset version once', async () => {
    const jm = manager();
    const started = jm.start('samples.add', { id: 'ai4i2020' });
    expect(started.title).toBe('Adding sample data: Milling machine failures (AI4I 2020)');
    const first = await jm.wait(started.id);
    expect(first.state).toBe('done');
    const r1 = first.result as ImportSummary;
    expect(r1.created).toBe(true);
    expect(r1.dataset).toBe('Milling machine failures (AI4I 2020)');
    expect(r1.version).toBe(1);
    expect(r1.rows).toBe(10_000);
    expect(r1.rejectedRows).toBe(0);
    expect(r1.columns).toHaveLength(14);
    expect(r1.columns[0]).toMatchObject({ name: 'UDI', type: 'integer', missing: 0 });
    expect(r1.columns.find((c) => c.name === 'Air temperature')).toMatchObject({ unit: 'K', type: 'number' });
    expect(r1.columns.find((c) => c.name === 'Type')).toMatchObject({ type: 'category' });

    const datasets = listDatasets(ws.db);
    expect(datasets).toHaveLength(1);
    const sha = crypto.createHash('sha256').update(fs.readFileSync(AI4I)).digest('hex');
    expect(datasets[0]).toMatchObject({ name: r1.dataset, version: 1, rows: 10_000, fileSha256: sha, fileName: 'ai4i2020.csv', createdBy: 'ana' });
    const blobsAfterFirst = ws.blobs.list().sort();

    const second = await jm.wait(jm.start('samples.add', { id: 'ai4i2020' }).id);
    expect(second.state).toBe('done');
    const r2 = second.result as ImportSummary;
    expect(r2.created).toBe(false);
    expect(r2.version).toBe(1);
    expect(listDatasets(ws.db)).toHaveLength(1);
    expect(ws.db.prepare('SELECT COUNT(*) AS n FROM dataset_versions').get()).toEqual({ n: 1 });
    expect(ws.blobs.list().sort()).toEqual(blobsAfterFirst);
    expect(AuditLog.list(ws.db, { limit: 50, action: 'dataset.create' })).toHaveLength(1);
    expect(AuditLog.list(ws.db, { limit: 50, action: 'dataset.version' })).toHaveLength(1);
    expect(fs.readdirSync(path.join(dir, 'tmp')).filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('works out a version\'s profile on first view, in a job, and keeps it', async () => {
    const jm = manager();
    const added = await jm.wait(jm.start('samples.add', { id: 'ai4i2020' }).id);
    const name = (added.result as ImportSummary).dataset;
    expect(ws.db.prepare('SELECT profile_blob FROM dataset_versions').get()).toEqual({ profile_blob: null });
    const handlers = createHandlers({ ws, jobs: jm, appRoot: ROOT, appVersion: 'test', electronVersion: null, reader: new DatasetReader(ws), scoring: new ScoringService(ws, new DatasetReader(ws)) });
    const first = await dispatch(handlers, 'datasets.profile', { dataset: name }, ws.logDir);
    expect(first.ok).toBe(true);
    const profile = (first as { value: { rows: number; columns: { name: string; profile: { kind: string; mean?: number } }[] } }).value;
    expect(profile.rows).toBe(10_000);
    expect(profile.columns).toHaveLength(14);
    expect(profile.columns.find((c) => c.name === 'Torque')!.profile).toMatchObject({ kind: 'numeric' });
    expect(profile.columns.find((c) => c.name === 'Torque')!.profile.mean).toBeCloseTo(39.98691, 4);
    const stored = ws.db.prepare('SELECT profile_blob FROM dataset_versions').get() as { profile_blob: string };
    expect(ws.blobs.has(stored.profile_blob)).toBe(true);
    const jobsBefore = jm.list({ limit: 50 }).filter((j) => j.kind === 'datasets.profile').length;
    expect(jobsBefore).toBe(1);
    const second = await dispatch(handlers, 'datasets.profile', { dataset: name }, ws.logDir);
    expect(second).toEqual(first);
    expect(jm.list({ limit: 50 }).filter((j) => j.kind === 'datasets.profile')).toHaveLength(1);
  });

  it('fails the job with not_found for a sample that does not exist', async () => {
    const jm = manager();
    const final = await jm.wait(jm.start('samples.add', { id: 'no-such-sample' }).id);
    expect(final.state).toBe('failed');
    expect(final.error?.code).toBe('not_found');
    expect(final.error?.message).toContain('no-such-sample');
    expect(listDatasets(ws.db)).toEqual([]);
  });
});

describe('JobManager: recoverInterrupted', () => {
  it('marks jobs of a dead process on this computer as interrupted', () => {
    const dead = deadPid();
    insertJob('job_dead_running', 'running', dead, os.hostname());
    insertJob('job_dead_queued', 'queued', dead, os.hostname());
    insertJob('job_no_owner', 'running', null, os.hostname());
    const jm = manager();
    expect(jm.recoverInterrupted()).toBe(3);

    for (const id of ['job_dead_running', 'job_dead_queued', 'job_no_owner']) {
      const job = jm.get(id);
      expect(job.state, id).toBe('interrupted');
      expect(job.message, id).toMatch(/closed while this task was running/);
      expect(job.error, id).toEqual({ code: 'job_failed', message: job.message });
      expect(job.endedAt, id).not.toBeNull();
    }
    const audit = AuditLog.list(ws.db, { limit: 5, action: 'jobs.recover' });
    expect(audit).toHaveLength(1);
    expect((audit[0]!.details.interrupted as string[]).sort()).toEqual(['job_dead_queued', 'job_dead_running', 'job_no_owner']);
  });

  it('leaves jobs of a live process, of another computer and ended jobs alone', () => {
    const dead = deadPid();
    insertJob('job_mine', 'running', process.pid, os.hostname());
    insertJob('job_parent', 'running', process.ppid, os.hostname());
    insertJob('job_other_host', 'running', dead, `${os.hostname()}-other`);
    insertJob('job_done', 'done', dead, os.hostname());
    const jm = manager();
    expect(jm.recoverInterrupted()).toBe(0);
    expect(jm.get('job_mine').state).toBe('running');
    expect(jm.get('job_mine').endedAt).toBeNull();
    expect(jm.get('job_parent').state).toBe('running');
    expect(jm.get('job_other_host').state).toBe('running');
    expect(jm.get('job_done').state).toBe('done');
    expect(AuditLog.list(ws.db, { limit: 5, action: 'jobs.recover' })).toEqual([]);
  });
});

describe('JobManager: get', () => {
  it('answers not_found for an unknown id', () => {
    const jm = manager();
    let err: unknown;
    try {
      jm.get('job_nope');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('not_found');
    expect((err as AppError).field).toBe('id');
    expect((err as AppError).message).toContain('job_nope');
  });

  it('answers not_found through the API table too', async () => {
    const jm = manager();
    const handlers = createHandlers({ ws, jobs: jm, appRoot: ROOT, appVersion: 'test', electronVersion: null, reader: new DatasetReader(ws), scoring: new ScoringService(ws, new DatasetReader(ws)) });
    const reply = await dispatch(handlers, 'jobs.get', { id: 'job_nope' }, ws.logDir);
    expect(reply).toEqual({ ok: false, error: { code: 'not_found', message: 'There is no task with id "job_nope".', field: 'id' } });
    const cancel = await dispatch(handlers, 'jobs.cancel', { id: 'job_nope' }, ws.logDir);
    expect(cancel.ok).toBe(false);
    expect(!cancel.ok && cancel.error.code).toBe('not_found');
  });
});
