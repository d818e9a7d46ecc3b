import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeColumns } from '../datasets/column-store';
import { recordVersion } from '../datasets/versions';
import { checkWorkspace } from '../registry/backup';
import { START_SWEEP_AGE_MS, sweepAtStart, sweepBlobs } from './blob-sweep';
import { Workspace } from './workspace';

let dir: string;
let ws: Workspace;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-sweep-'));
  ws = Workspace.open(path.join(dir, 'ws'));
});

afterEach(() => {
  ws.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A recorded dataset version: its column blobs are referenced. */
function recordDataset(values: number[]): string[] {
  const { stored, contentHash } = storeColumns(ws.blobs, [{ name: 'x', header: 'x', type: 'number', unit: null }], [{ type: 'number', values: Float64Array.from(values) }], values.length);
  recordVersion(ws, {
    datasetName: 'pumps',
    contentHash,
    rowCount: values.length,
    schema: stored,
    settings: {},
    sources: [],
    report: { problems: [], rejectedRows: 0, choices: {} },
    profileBlob: null,
    timeColumn: null,
    timeStart: null,
    timeEnd: null,
  });
  return stored.map((c) => c.blob);
}

const age = (sha: string, msAgo: number) => {
  const t = new Date(Date.now() - msAgo);
  fs.utimesSync(ws.blobs.pathOf(sha), t, t);
};

const job = (state: string) =>
  ws.db
    .prepare("INSERT INTO jobs (id, kind, title, params, state, progress, message, created_at, created_by, owner_pid, owner_host) VALUES (?, 'imports.analyze', 't', '{}', ?, 0, '', ?, 'me', ?, ?)")
    .run(`job_${state}`, state, new Date().toISOString(), process.pid, os.hostname());

describe('sweeping blobs nothing refers to', () => {
  it('removes only the unreferenced blobs of its window and says how many bytes came back; check is then clean', () => {
    const kept = recordDataset([1, 2, 3]);
    const orphan = ws.blobs.put('the columns of an import that failed');
    const old = ws.blobs.put('a blob from before the failed task started');
    age(old, 60_000);
    expect(checkWorkspace(ws.dir).unreferenced).toBe(2);

    const r = sweepBlobs(ws, { since: Date.now() - 10_000 });
    expect(r).toEqual({ swept: true, removed: 1, bytes: Buffer.byteLength('the columns of an import that failed') });
    expect(ws.blobs.has(orphan)).toBe(false);
    expect(ws.blobs.has(old), 'outside the window').toBe(true);
    for (const b of kept) expect(ws.blobs.has(b), 'referenced by a version').toBe(true);

    // At start-up: only what is older than the cut-off.
    const fresh = ws.blobs.put('written a moment ago by another window');
    expect(sweepBlobs(ws, { before: Date.now() - 30_000 }).removed).toBe(1);
    expect(ws.blobs.has(old)).toBe(false);
    expect(ws.blobs.has(fresh)).toBe(true);
    const check = checkWorkspace(ws.dir);
    expect(check.problems).toEqual([]);
    expect(check.unreferenced).toBe(1);
    expect(ws.db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'blobs.sweep'").get()).toEqual({ n: 2 });
  });

  it('touches nothing while a task is queued or running in any process, except the one whose end calls it', () => {
    const first = ws.blobs.put('maybe a running import\'s column');
    job('running');
    expect(sweepBlobs(ws, { since: 0 })).toEqual({ swept: false, removed: 0, bytes: 0 });
    expect(ws.blobs.has(first)).toBe(true);
    expect(sweepBlobs(ws, { since: 0, exceptJob: 'job_running' }).removed, 'the failed task itself').toBe(1);
    expect(ws.blobs.has(first)).toBe(false);

    const second = ws.blobs.put('a queued task may refer to it');
    job('queued');
    expect(sweepBlobs(ws, { since: 0, exceptJob: 'job_running' }).swept).toBe(false);
    expect(ws.blobs.has(second)).toBe(true);
    ws.db.prepare("UPDATE jobs SET state = 'failed'").run();
    job('done');
    expect(sweepBlobs(ws, { since: 0 }).removed, 'ended tasks do not hold it back').toBe(1);
    expect(ws.blobs.has(second)).toBe(false);
  });

  it('counts an old unreferenced blob stored again as just written, so the start-up sweep keeps it for the writer about to refer to it', async () => {
    const bytes = 'an old orphan whose bytes come back';
    const sha = ws.blobs.put(bytes);
    age(sha, 2 * 3600_000);
    expect(ws.blobs.put(bytes)).toBe(sha);
    expect(Date.now() - fs.statSync(ws.blobs.pathOf(sha)).mtimeMs).toBeLessThan(60_000);

    const file = path.join(dir, 'again.bin');
    fs.writeFileSync(file, 'a copied file whose bytes come back');
    const copied = (await ws.blobs.putFile(file)).sha256;
    age(copied, 2 * 3600_000);
    expect((await ws.blobs.putFile(file)).sha256).toBe(copied);

    expect(sweepBlobs(ws, { before: Date.now() - 3600_000 }).removed).toBe(0);
    expect(ws.blobs.has(sha)).toBe(true);
    expect(ws.blobs.has(copied)).toBe(true);
  });

  it('sweeps at start-up at most once an hour, and again once a task that held it back has ended', () => {
    const a = ws.blobs.put('left by a task killed yesterday');
    age(a, 2 * START_SWEEP_AGE_MS);
    job('running');
    expect(sweepAtStart(ws)?.swept, 'held back by the running task').toBe(false);
    ws.db.prepare("UPDATE jobs SET state = 'failed'").run();
    expect(sweepAtStart(ws)).toEqual({ swept: true, removed: 1, bytes: Buffer.byteLength('left by a task killed yesterday') });
    const b = ws.blobs.put('left by another');
    age(b, 2 * START_SWEEP_AGE_MS);
    expect(sweepAtStart(ws), 'swept less than an hour ago').toBeNull();
    expect(ws.blobs.has(b)).toBe(true);
    expect(sweepAtStart(ws, Date.now() + START_SWEEP_AGE_MS + 1000)?.removed).toBe(1);
    expect(ws.blobs.has(b)).toBe(false);
    expect(fs.readdirSync(ws.blobs.dir), 'nothing but blobs beside the blobs (a backup checks each against its name)').toEqual([]);

    // Stamped while the clock was a day ahead: not a reason to wait a day.
    const c = ws.blobs.put('left while the clock was wrong');
    age(c, 2 * START_SWEEP_AGE_MS);
    const ahead = new Date(Date.now() + 24 * START_SWEEP_AGE_MS);
    fs.utimesSync(path.join(ws.dir, 'tmp', '.last-sweep'), ahead, ahead);
    expect(sweepAtStart(ws)?.removed).toBe(1);
  });
});
