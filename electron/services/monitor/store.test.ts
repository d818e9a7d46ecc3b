import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MONITOR_SETTINGS } from '../../../shared/monitor';
import type { EdgeBucket, MonitoringPage } from '../deploy/client';
import { AuditLog } from '../workspace/audit';
import { migrate, openDatabase } from '../workspace/db';
import { MIGRATIONS } from '../workspace/migrations';
import { Workspace } from '../workspace/workspace';
import { checkPage, unreadable } from './scheduler';
import { pollState, pruneMonitoring, quartersSince, readSettings, storePage, storedTotals, writeSettings } from './store';

/** Migration 0090 and the store: pages kept exactly once, the cursor with them, settings with defaults. */

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-monitor-store-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const bucket = (seq: number, requests: number): EdgeBucket => ({
  seq,
  from: `2026-03-02T10:0${seq % 10}:00.000Z`,
  to: `2026-03-02T10:0${seq % 10}:30.000Z`,
  name: 'P-101',
  version: '1',
  requests,
  errors: 0,
  rows: requests,
  predictions: { ok: requests },
  anomalies: 0,
  latencyMs: { count: requests, sum: requests, p50: 1, p99: 1, bins: [[1, requests]] },
  features: { Flow: { counts: [requests, 0], missing: 0 } },
});
const page = (cursor: string, buckets: EdgeBucket[]): MonitoringPage => ({ cursor, more: false, model: { name: 'P-101', version: '1' }, counters: { requests: 0, errors: 0, predictions: {}, anomalies: 0 }, buckets, events: [] });

function workspace(name: string): Workspace {
  const ws = Workspace.open(path.join(root, name), { who: 'ana' });
  ws.db.prepare("INSERT INTO endpoints (name, kind, url, added_at, added_by) VALUES ('line-3', 'remote', 'http://127.0.0.1:1', '2026-03-02T09:00:00.000Z', 'ana')").run();
  return ws;
}

describe('migration 0090', () => {
  it('keeps the endpoints of version 80 and their cursor, with polling state at its defaults', () => {
    const db = openDatabase(':memory:');
    migrate(db, MIGRATIONS, 80);
    db.prepare("INSERT INTO endpoints (name, kind, url, added_at, added_by, status, monitor_cursor) VALUES ('line-3', 'remote', 'http://10.0.0.7:8080', '2026-03-01T00:00:00.000Z', 'ana', 'up', '4.2')").run();
    expect(migrate(db, MIGRATIONS, 90)).toBe(90);
    expect(db.prepare('SELECT name, status, monitor_cursor, monitor_next, monitor_failures, monitor_down_since, monitor_bucket_base, monitor_event_base FROM endpoints').all()).toEqual([
      { name: 'line-3', status: 'up', monitor_cursor: '4.2', monitor_next: null, monitor_failures: 0, monitor_down_since: null, monitor_bucket_base: 0, monitor_event_base: 0 },
    ]);
    db.close();
  });

  it('forgets an endpoint\'s monitoring data with it; its alerts stay (the monitor clears them, audited)', () => {
    const ws = workspace('forget');
    storePage(ws, 'line-3', null, page('2.0', [bucket(1, 3), bucket(2, 4)]), new Date('2026-03-02T10:10:00Z'));
    ws.db.prepare("INSERT INTO monitor_alerts (endpoint, kind, state, message, first_at, last_at) VALUES ('line-3', 'down', 'firing', 'x', 'a', 'a')").run();
    ws.db.prepare("DELETE FROM endpoints WHERE name = 'line-3'").run();
    expect(storedTotals(ws.db, 'line-3')).toEqual({ buckets: 0, requests: 0, errors: 0, rows: 0, anomalies: 0, events: 0 });
    expect(ws.db.prepare('SELECT state, cleared_at IS NOT NULL AS cleared FROM monitor_alerts').all()).toEqual([{ state: 'firing', cleared: 0 }]);
    // One firing alert per endpoint and kind at most.
    ws.db.prepare("INSERT INTO monitor_alerts (endpoint, kind, state, message, first_at, last_at) VALUES ('x', 'down', 'firing', 'x', 'a', 'a')").run();
    expect(() => ws.db.prepare("INSERT INTO monitor_alerts (endpoint, kind, state, message, first_at, last_at) VALUES ('x', 'down', 'firing', 'y', 'a', 'a')").run()).toThrow(/UNIQUE/);
    ws.close();
  });
});

describe('storePage', () => {
  it('keeps whether each event is a flagged row or a context row (runtimes before context rows send only flagged ones, without the field)', () => {
    const ws = workspace('flagged');
    const event = (seq: number, flagged?: boolean) => ({ seq, time: null, receivedAt: '2026-03-02T10:00:00.000Z', source: null, model: 'P-101', version: '1', score: 0.9, inputs: {}, ...(flagged === undefined ? {} : { flagged }) });
    storePage(ws, 'line-3', null, { ...page('0.3', []), events: [event(1, false), event(2, true), event(3)] }, new Date('2026-03-02T10:10:00Z'));
    expect(ws.db.prepare("SELECT seq, flagged FROM monitor_events WHERE endpoint = 'line-3' ORDER BY seq").all()).toEqual([
      { seq: 1, flagged: 0 },
      { seq: 2, flagged: 1 },
      { seq: 3, flagged: 1 },
    ]);
    ws.close();
  });

  it('stores a page and its cursor together; the same page again changes nothing', () => {
    const ws = workspace('once');
    const at = new Date('2026-03-02T10:10:00Z');
    expect(storePage(ws, 'line-3', null, page('2.0', [bucket(1, 3), bucket(2, 4)]), at)).toEqual({ buckets: 2, events: 0, cursor: '2.0', outcome: 'stored', gap: null });
    // Asked with the cursor before: another poller stored it first, so nothing is stored and the cursor stays.
    expect(storePage(ws, 'line-3', null, page('2.0', [bucket(1, 3), bucket(2, 4)]), at)).toEqual({ buckets: 0, events: 0, cursor: '2.0', outcome: 'stale', gap: null });
    expect(storePage(ws, 'line-3', '2.0', page('3.0', [bucket(3, 5)]), at).buckets).toBe(1);
    expect(storedTotals(ws.db, 'line-3')).toEqual(expect.objectContaining({ buckets: 3, requests: 12 }));
    expect(pollState(ws.db, 'line-3')).toEqual(expect.objectContaining({ cursor: '3.0', monitorAt: at.toISOString(), bucketBase: 0, stateId: null }));
    // A runtime that sends no state id: a cursor that went back is taken as a reset, its buckets count after ours.
    expect(storePage(ws, 'line-3', '3.0', page('1.0', [bucket(1, 7)]), at).buckets).toBe(1);
    expect(pollState(ws.db, 'line-3')!.bucketBase).toBe(4);
    expect(storePage(ws, 'line-3', '1.0', page('2.0', [bucket(2, 1)]), at).buckets).toBe(1);
    expect(storedTotals(ws.db, 'line-3')).toEqual(expect.objectContaining({ buckets: 5, requests: 20 }));
    ws.close();
  });

  const withId = (p: MonitoringPage, stateId: string, run: string, from: string): MonitoringPage => ({ ...p, stateId, run: { id: run, from } });

  it('with a state id: a replaced folder is read again from the oldest kept, after everything stored', () => {
    const ws = workspace('replaced');
    const at = new Date('2026-03-02T10:10:00Z');
    storePage(ws, 'line-3', null, withId(page('3.0', [bucket(1, 1), bucket(2, 2), bucket(3, 3)]), 'A', 'r1', '0.0'), at);
    // A reset folder that already numbered past our cursor (5 > 3): nothing of its 1..5 is skipped.
    const fresh = withId(page('5.0', [bucket(4, 4), bucket(5, 5)]), 'B', 'r2', '0.0');
    expect(storePage(ws, 'line-3', '3.0', fresh, at)).toEqual({ buckets: 0, events: 0, cursor: '0.0', outcome: 'restart', gap: null });
    expect(pollState(ws.db, 'line-3')).toEqual(expect.objectContaining({ cursor: '0.0', bucketBase: 3, stateId: 'B', runId: 'r2' }));
    expect(storePage(ws, 'line-3', '0.0', withId(page('5.0', [1, 2, 3, 4, 5].map((k) => bucket(k, 10))), 'B', 'r2', '0.0'), at)).toEqual(expect.objectContaining({ buckets: 5, outcome: 'stored', gap: null }));
    expect(storedTotals(ws.db, 'line-3')).toEqual(expect.objectContaining({ buckets: 8, requests: 56 }));
    ws.close();
  });

  it('with a state id: a folder that went back (a new run starting below our cursor) keeps what was stored and counts its new numbers once', () => {
    const ws = workspace('restored');
    const at = new Date('2026-03-02T10:10:00Z');
    storePage(ws, 'line-3', null, withId(page('3.0', [bucket(1, 1), bucket(2, 2), bucket(3, 3)]), 'A', 'r1', '0.0'), at);
    // Restored from a copy made at 2: the new run numbers from 3 again, and the endpoint (cursor 3 is not past its 4) sends 4 only.
    expect(storePage(ws, 'line-3', '3.0', withId(page('4.0', [bucket(4, 40)]), 'A', 'r2', '2.0'), at)).toEqual(expect.objectContaining({ outcome: 'restart', cursor: '2.0' }));
    expect(storePage(ws, 'line-3', '2.0', withId(page('4.0', [bucket(3, 30), bucket(4, 40)]), 'A', 'r2', '2.0'), at)).toEqual(expect.objectContaining({ outcome: 'stored', buckets: 2 }));
    expect(storedTotals(ws.db, 'line-3')).toEqual(expect.objectContaining({ buckets: 5, requests: 76 }));
    // A plain restart (the run starts where the numbers were) changes nothing.
    expect(storePage(ws, 'line-3', '4.0', withId(page('5.0', [bucket(5, 5)]), 'A', 'r3', '4.0'), at)).toEqual(expect.objectContaining({ outcome: 'stored', buckets: 1 }));
    expect(storedTotals(ws.db, 'line-3')).toEqual(expect.objectContaining({ buckets: 6, requests: 81 }));
    ws.close();
  });

  it('says in words, and in the audit log, what the endpoint dropped before it was read', () => {
    const ws = workspace('gap');
    const at = new Date('2026-03-02T10:10:00Z');
    storePage(ws, 'line-3', null, withId(page('2.0', [bucket(1, 1), bucket(2, 1)]), 'A', 'r1', '0.0'), at);
    const got = storePage(ws, 'line-3', '2.0', withId(page('125.0', [bucket(123, 1), bucket(124, 1), bucket(125, 1)]), 'A', 'r1', '0.0'), at);
    expect(got).toEqual(expect.objectContaining({ outcome: 'stored', buckets: 3, gap: 'line-3: 120 minutes of monitoring data were dropped by the endpoint before the app could read them (it keeps a limited number).' }));
    expect(AuditLog.list(ws.db, { limit: 10, action: 'monitor.gap' }).map((a) => a.details)).toEqual([{ name: 'line-3', buckets: 120, events: 0, anomalies: null, message: got.gap }]);
    ws.close();
  });

  it('does not call the events it dropped anomalies: context rows are among them', () => {
    const ws = workspace('gap-events');
    const at = new Date('2026-03-02T10:10:00Z');
    const ev = (seq: number) => ({ seq, time: null, receivedAt: at.toISOString(), source: null, model: 'P-101', version: '1', score: 0.2, inputs: {}, flagged: seq % 2 === 0 });
    storePage(ws, 'line-3', null, { ...withId(page('0.1', []), 'A', 'r1', '0.0'), events: [ev(1)] }, at);
    const got = storePage(ws, 'line-3', '0.1', { ...withId(page('0.30', []), 'A', 'r1', '0.0'), events: [ev(30)] }, at);
    expect(got.gap).toBe('line-3: 28 anomaly records (flagged rows or rows sent around them) were dropped by the endpoint before the app could read them (it keeps a limited number).');
    // A runtime that tells them apart: only the anomalies are said; context rows alone go to the audit log only.
    const told = storePage(ws, 'line-3', '0.30', { ...withId(page('0.40', []), 'A', 'r1', '0.0'), events: [ev(35), ev(40)], dropped: { events: 8, anomalies: 3 } }, at);
    expect(told.gap).toBe('line-3: 3 anomalies were dropped by the endpoint before the app could read them (it keeps a limited number).');
    const quiet = storePage(ws, 'line-3', '0.40', { ...withId(page('0.50', []), 'A', 'r1', '0.0'), events: [ev(50)], dropped: { events: 9, anomalies: 0 } }, at);
    expect(quiet.gap).toBeNull();
    expect(AuditLog.list(ws.db, { limit: 1, action: 'monitor.gap' })[0]!.details).toEqual({
      name: 'line-3',
      buckets: 0,
      events: 9,
      anomalies: 0,
      message: 'line-3: 9 rows sent around anomalies were dropped by the endpoint before the app could read them; only the episode charts miss them.',
    });
    ws.close();
  });
});

describe('quarter hours', () => {
  it('sum the buckets newly stored, so a day or week reads a few rows; a page stored twice is summed once', () => {
    const ws = workspace('quarters');
    const at = new Date('2026-03-02T10:30:00Z');
    const b = (seq: number, minute: number, requests: number, bins: [number, number][]): EdgeBucket => ({
      ...bucket(seq, requests),
      from: new Date(Date.parse('2026-03-02T10:00:00Z') + minute * 60_000).toISOString(),
      to: new Date(Date.parse('2026-03-02T10:00:00Z') + (minute + 1) * 60_000).toISOString(),
      latencyMs: { count: requests, sum: requests, p50: 1, p99: 1, bins },
    });
    const first = page('3.0', [b(1, 2, 3, [[400, 3]]), b(2, 14, 4, [[500, 4]]), b(3, 15, 5, [[600, 5]])]);
    storePage(ws, 'line-3', null, first, at);
    storePage(ws, 'line-3', null, first, at);
    storePage(ws, 'line-3', '3.0', page('4.0', [b(4, 16, 6, [[600, 6]])]), at);
    const q = quartersSince(ws.db, 'line-3', new Date('2026-03-02T09:00:00Z'));
    expect(q.map((x) => [new Date(x.from).toISOString(), new Date(x.to).toISOString(), x.requests, x.rows])).toEqual([
      ['2026-03-02T10:00:00.000Z', '2026-03-02T10:15:00.000Z', 7, 7],
      ['2026-03-02T10:15:00.000Z', '2026-03-02T10:30:00.000Z', 11, 11],
    ]);
    expect(q[0]!.predictions).toEqual({ ok: 7 });
    expect(q[0]!.features()).toEqual({ Flow: { counts: [7, 0], missing: 0 } });
    expect(q[0]!.latency).toEqual({ count: 7, sum: 7, p50: expect.any(Number), p99: expect.any(Number), bins: [[400, 3], [500, 4]] });
    expect(q[1]!.latency.bins).toEqual([[600, 11]]);
    ws.close();
  });
});

describe('pruning', () => {
  it('empties old minutes, drops what is past keeping a batch at a time, and keeps each endpoint\'s newest row', async () => {
    const ws = workspace('prune');
    ws.db.prepare("INSERT INTO endpoints (name, kind, url, added_at, added_by) VALUES ('line-4', 'remote', 'http://127.0.0.1:2', '2026-03-02T09:00:00.000Z', 'ana')").run();
    const now = Date.parse('2026-03-20T12:00:00Z');
    const H = 3_600_000, D = 24 * H;
    const iso = (ms: number) => new Date(ms).toISOString();
    const aged = (seq: number, ago: number): EdgeBucket => ({ ...bucket(seq, seq), from: iso(now - ago - 60_000), to: iso(now - ago) });
    const event = (seq: number, ago: number) => ({ seq, time: null, receivedAt: iso(now - ago), source: null, model: 'P-101', version: '1', score: 0.9, inputs: { Flow: seq } });
    // Each page stored when its newest bucket was fresh.
    const ages = [10 * D, 9 * D, 3 * H, 2.5 * H, 0.5 * H];
    const eventAges = [40 * D, 31 * D, D, H, 10 * 60_000, 60_000];
    let cursor: string | null = null;
    ages.forEach((ago, i) => {
      const p = { ...page(`${i + 1}.${i === 4 ? 6 : 0}`, [aged(i + 1, ago)]), events: i === 4 ? eventAges.map((a, k) => event(k + 1, a)) : [] };
      cursor = storePage(ws, 'line-3', cursor, p, new Date(now - ago)).cursor;
    });
    storePage(ws, 'line-4', null, page('2.0', [aged(1, 10 * D), aged(2, 9 * D)]), new Date(now - 9 * D));
    expect((ws.db.prepare("SELECT COUNT(*) AS n FROM monitor_buckets WHERE features <> '{}'").get() as { n: number }).n).toBe(6);

    // The feedback scan has grouped every event into episodes.
    ws.db.prepare("UPDATE endpoints SET episodes_cursor = 6 WHERE name = 'line-3'").run();
    let pauses = 0;
    const done = await pruneMonitoring(ws, new Date(now), { batch: 2, keepEvents: 3, pause: async () => void pauses++ });
    expect(done).toEqual({ slimmed: 3, minutes: 3, quarters: 4, events: 3 });
    expect(pauses).toBeGreaterThanOrEqual(4);
    const rows = ws.db.prepare('SELECT endpoint, seq, requests, features, latency FROM monitor_buckets ORDER BY endpoint, seq').all();
    expect(rows).toEqual([
      { endpoint: 'line-3', seq: 3, requests: 3, features: '{}', latency: '{}' },
      { endpoint: 'line-3', seq: 4, requests: 4, features: '{}', latency: '{}' },
      { endpoint: 'line-3', seq: 5, requests: 5, features: JSON.stringify(bucket(5, 5).features), latency: JSON.stringify(bucket(5, 5).latencyMs) },
      // The newest row stays, past keeping: a page with it again is still known.
      { endpoint: 'line-4', seq: 2, requests: 2, features: '{}', latency: '{}' },
    ]);
    expect((ws.db.prepare('SELECT from_at FROM monitor_quarters ORDER BY from_at').all() as { from_at: string }[]).map((r) => r.from_at)).toEqual(
      quartersSince(ws.db, 'line-3', new Date(now - 8 * D)).map((q) => iso(q.from)),
    );
    expect(quartersSince(ws.db, 'line-3', new Date(0))).toHaveLength(3);
    expect((ws.db.prepare("SELECT seq FROM monitor_events WHERE endpoint = 'line-3' ORDER BY seq").all() as { seq: number }[]).map((r) => r.seq)).toEqual([4, 5, 6]);
    // Again: nothing left to do.
    expect(await pruneMonitoring(ws, new Date(now), { batch: 2, keepEvents: 3, pause: async () => undefined })).toEqual({ slimmed: 0, minutes: 0, quarters: 0, events: 0 });

    // A bucket read hours late is stored slim, and counted whole in its quarter hour.
    storePage(ws, 'line-3', '5.6', page('6.6', [aged(6, 5 * H)]), new Date(now));
    expect(ws.db.prepare("SELECT features FROM monitor_buckets WHERE endpoint = 'line-3' AND seq = 6").get()).toEqual({ features: '{}' });
    const late = quartersSince(ws.db, 'line-3', new Date(now - 6 * H)).find((q) => q.from <= now - 5 * H - 60_000 && q.to > now - 5 * H - 60_000)!;
    expect(late.features()).toEqual(bucket(6, 6).features);
    ws.close();
  });
});

describe('a page this version cannot read', () => {
  it('is refused in words before anything is stored', () => {
    const good = page('1.0', [bucket(1, 3)]);
    expect(checkPage(good, 'http://10.0.0.7:8080')).toBe(good);
    expect(() => checkPage({ ...good, cursor: 'x' }, 'http://10.0.0.7:8080')).toThrow('http://10.0.0.7:8080/admin/monitoring answered with data this version of Millwright cannot read (no cursor, buckets and events).');
    const { seq: _seq, ...noSeq } = bucket(2, 1);
    expect(() => checkPage(page('2.0', [bucket(1, 3), noSeq as EdgeBucket]), 'http://h')).toThrow('(bucket 2 has no number)');
  });

  it('names each bucket and event it cannot store and the field at fault', () => {
    const b = bucket(7, 3);
    const odd = (patch: Record<string, unknown>) => unreadable(page('7.0', [{ ...b, ...patch } as EdgeBucket])).map((u) => `${u.kind} ${u.seq}: ${u.why}`);
    expect(unreadable(page('7.0', [b]))).toEqual([]);
    expect(odd({ features: { Flow: { missing: 0 } } })).toEqual(['bucket 7: its "features.Flow.counts" is not a list of counts']);
    expect(odd({ features: { Flow: { counts: [1, 2], missing: 0, sums: [1] } } })).toEqual(['bucket 7: its "features.Flow.sums" is not a number per bin']);
    expect(odd({ features: { Flow: { counts: [1, -2], missing: 0 } } })).toEqual(['bucket 7: its "features.Flow.counts" is not a list of counts']);
    expect(odd({ features: [] })).toEqual(['bucket 7: its "features" is not a set of inputs']);
    expect(odd({ latencyMs: { p50: 1 } })).toEqual(['bucket 7: its "latencyMs" has no count and sum']);
    expect(odd({ latencyMs: { count: 1, sum: 1, p50: 1, p99: 1, bins: [[1]] } })).toEqual(['bucket 7: its "latencyMs.bins" is not a list of [bin, count] pairs']);
    expect(odd({ predictions: { ok: 'x' } })).toEqual(['bucket 7: its "predictions" is not a count per label']);
    expect(odd({ rows: null })).toEqual(['bucket 7: its "rows" is not a count']);
    expect(odd({ from: 'soon' })).toEqual(['bucket 7: its times ("from", "to") are missing or not dates']);
    const e = { seq: 4, time: null, receivedAt: '2026-03-02T10:00:00Z', source: null, model: 'P-101', version: '1', score: 0.5, inputs: {} };
    expect(unreadable({ ...page('0.4', []), events: [e, { ...e, seq: 5, score: 'high' as unknown as number }] })).toEqual([{ kind: 'event', seq: 5, why: 'its "score" is not a number' }]);
  });

  it('a skipped record is left out and said in words, in the audit log; the rest of the page is stored', () => {
    const ws = workspace('skip');
    const at = new Date('2026-03-02T10:10:00Z');
    const got = storePage(ws, 'line-3', null, page('3.0', [bucket(1, 1), bucket(2, 2), bucket(3, 3)]), at, [{ kind: 'bucket', seq: 2, why: 'its "features.Flow.counts" is not a list of counts' }]);
    expect(got).toEqual(expect.objectContaining({ outcome: 'stored', buckets: 2, cursor: '3.0' }));
    expect(got.gap).toBe('line-3: monitoring bucket number 2 was skipped because this version of Millwright cannot read it (its "features.Flow.counts" is not a list of counts); the rest of the data is kept.');
    expect(AuditLog.list(ws.db, { limit: 10, action: 'monitor.skip' }).map((a) => a.details)).toEqual([{ name: 'line-3', records: [{ kind: 'bucket', seq: 2, why: 'its "features.Flow.counts" is not a list of counts' }], message: got.gap }]);
    expect(storedTotals(ws.db, 'line-3')).toEqual(expect.objectContaining({ buckets: 2, requests: 4 }));
    ws.close();
  });
});

describe('settings', () => {
  it('are the defaults until changed; a rule added later keeps its default', () => {
    const ws = workspace('settings');
    expect(readSettings(ws.db)).toEqual(DEFAULT_MONITOR_SETTINGS);
    writeSettings(ws, { ...DEFAULT_MONITOR_SETTINGS, intervalSeconds: 30 });
    expect(readSettings(ws.db).intervalSeconds).toBe(30);
    ws.db.prepare("UPDATE meta SET value = ? WHERE key = 'monitor.settings'").run(JSON.stringify({ intervalSeconds: 45, notifications: false, rules: { down: { enabled: false, minutes: 9 } } }));
    expect(readSettings(ws.db)).toEqual({ intervalSeconds: 45, notifications: false, rules: { ...DEFAULT_MONITOR_SETTINGS.rules, down: { enabled: false, minutes: 9 } } });
    ws.close();
  });
});

describe('events and the episodes cursor', () => {
  const at = new Date('2026-03-02T10:10:00Z');
  const event = (seq: number, receivedAt: string) => ({ seq, time: null, receivedAt, source: null, model: 'P-101', version: '1', score: 0.9, inputs: { Flow: seq } });
  const withEvents = (cursor: string, stateId: string, events: ReturnType<typeof event>[]): MonitoringPage => ({ ...page(cursor, []), stateId, run: { id: `${stateId}-run`, from: '0.0' }, events });
  const seqs = (ws: Workspace) => (ws.db.prepare("SELECT seq FROM monitor_events WHERE endpoint = 'line-3' ORDER BY seq").all() as { seq: number }[]).map((r) => r.seq);

  it('pruning never drops events not yet grouped into episodes, however old', async () => {
    const ws = workspace('ungrouped');
    storePage(ws, 'line-3', null, withEvents('0.4', 'A', [1, 2, 3, 4].map((k) => event(k, '2026-01-01T10:00:00.000Z'))), at);
    ws.db.prepare("UPDATE endpoints SET episodes_cursor = 2 WHERE name = 'line-3'").run();
    expect((await pruneMonitoring(ws, at, { keepEvents: 1, pause: async () => undefined })).events).toBe(2);
    expect(seqs(ws)).toEqual([3, 4]);
    ws.close();
  });

  it('after a reset, new events are numbered past the episodes cursor even when every stored event was pruned', async () => {
    const ws = workspace('reset-pruned');
    storePage(ws, 'line-3', null, withEvents('0.3', 'A', [1, 2, 3].map((k) => event(k, '2026-01-01T10:00:00.000Z'))), at);
    ws.db.prepare("UPDATE endpoints SET episodes_cursor = 3 WHERE name = 'line-3'").run();
    await pruneMonitoring(ws, at, { pause: async () => undefined });
    expect(seqs(ws)).toEqual([]);
    // The state folder is replaced: its numbers start again.
    const fresh = withEvents('0.2', 'B', [1, 2].map((k) => event(k, '2026-03-02T10:00:00.000Z')));
    expect(storePage(ws, 'line-3', '0.3', fresh, at).outcome).toBe('restart');
    expect(storePage(ws, 'line-3', '0.0', fresh, at).outcome).toBe('stored');
    expect(seqs(ws)).toEqual([4, 5]);
    ws.close();
  });
});
