import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../../shared/api';
import { EndpointDashboardSchema, InputHistogramSchema, MonitorCycleSchema } from '../../../shared/monitor';
import { coreCaller, trainModel } from '../../test-support/core-call';
import { pumpsModel, writePumpsCsv } from '../../test-support/pumps';
import { createCore, type Core } from '../compose';
import { EndpointClient } from '../deploy/client';
import { DeployService } from '../deploy/deploy';
import { AuditLog } from '../workspace/audit';
import { killEdge, predict, RUNTIME_DIR, startRemoteEdge, type RemoteEdge } from './edge-fixture';
import { MonitorService } from './service';
import { BACKOFF_CAP_MS, inPool, nextDelayMs } from './scheduler';
import { pollState, storePage, storedTotals } from './store';

/**
 * The scheduler against a real edge runtime on loopback: what it stores
 * equals the traffic sent, exactly, across the endpoint dying and coming
 * back, the app restarting, and a page read twice.
 */

let root: string;
let wsDir: string;
let core: Core;
const call = coreCaller(() => core);
const tokens = { token: 'monitor-predict-token-0123456789', adminToken: 'monitor-admin-token-0123456789ab' };
let bundle: string;
let state: string;
let edge: RemoteEdge;
const edges: RemoteEdge[] = [];
const events: AppEvent[] = [];

const rows = (n: number, flow = 40) => Array.from({ length: n }, (_, i) => ({ Line: ['A', 'B', 'C'][i % 3], Flow: flow + (i % 7), Vibration: (i % 9) / 2 }));

/** Sends `count` requests of `perRequest` rows; all must be answered. */
async function traffic(count: number, perRequest: number): Promise<void> {
  for (let i = 0; i < count; i++) expect(await predict(edge.url, tokens.token, rows(perRequest))).toBe(200);
}

function openCore(): Core {
  const c = createCore({ workspaceDir: wsDir, resumeEndpoints: false, monitor: false });
  c.events.on('event', (e) => events.push(e));
  return c;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-monitor-'));
  wsDir = path.join(root, 'ws');
  core = openCore();
  await pumpsModel(core, call, writePumpsCsv(root), ['logistic']);
  bundle = (await call('models.exportBundle', { model: 'P-101', version: 1, out: path.join(root, 'p101-v1.tar.gz') })).file;
  state = path.join(root, 'edge-state');
  edge = await startRemoteEdge(bundle, state, tokens);
  await call('endpoints.add', { name: 'line-3', url: edge.url, ...tokens });
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (edge) await killEdge(edge);
  for (const e of edges) await killEdge(e);
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('backoff', () => {
  it('doubles the interval with each failure in a row, up to 30 minutes', () => {
    expect([0, 1, 2, 3, 4, 5].map((k) => nextDelayMs(60, k) / 1000)).toEqual([60, 120, 240, 480, 960, 1800]);
    expect(nextDelayMs(60, 40)).toBe(BACKOFF_CAP_MS);
    // An interval longer than the cap is never shortened by a failure.
    expect(nextDelayMs(3600, 3)).toBe(3_600_000);
  });

  it('runs at most n at a time and keeps the order of the answers', async () => {
    let now = 0, most = 0;
    const out = await inPool([...Array(40).keys()], 16, async (i) => {
      most = Math.max(most, ++now);
      await new Promise((r) => setTimeout(r, 5));
      now--;
      return i * 2;
    });
    expect(most).toBe(16);
    expect(out).toEqual([...Array(40).keys()].map((i) => i * 2));
  });
});

describe('polling a real endpoint', () => {
  it('stores health, what it serves and its monitoring data; totals equal the traffic sent', async () => {
    await traffic(5, 3);
    const cycle = await call('monitor.cycle', {});
    expect(MonitorCycleSchema.parse(cycle)).toEqual(cycle);
    const [e] = cycle.endpoints;
    expect(e).toEqual(expect.objectContaining({ name: 'line-3', reachable: true, model: { name: 'P-101', version: 1 }, requests: 5, errors: 0 }));
    expect(e!.latencyP99Ms).toBeGreaterThan(0);
    // 15 rows is too few to judge drift.
    expect(e!.drift.verdict).toBe('unknown');
    expect(e!.drift.inputs.map((i) => i.name).sort()).toEqual(['Flow', 'Line', 'Vibration']);
    expect(storedTotals(core.ws.db, 'line-3')).toEqual(expect.objectContaining({ requests: 5, rows: 15, errors: 0 }));
    const p = pollState(core.ws.db, 'line-3')!;
    expect(p.cursor).toMatch(/^[1-9]\d*\.0$/);
    expect(p.failures).toBe(0);
    expect(Date.parse(p.next!) - Date.now()).toBeGreaterThan(55_000);
    expect(events.filter((x) => x.type === 'monitor').at(-1)).toEqual({ type: 'monitor', endpoints: ['line-3'] });
  }, 30_000);

  it('backs off while the endpoint is dead, then catches up from the cursor with no gap and no double count', async () => {
    await traffic(7, 2);
    // The endpoint saves its state within a second; then it dies with no goodbye.
    await new Promise((r) => setTimeout(r, 1500));
    await killEdge(edge);

    const t0 = Date.now();
    const first = await core.monitor.scheduler.poll('line-3');
    expect(first.status).toBe('down');
    expect(first.error).toMatch(/^Cannot reach http:\/\/127\.0\.0\.1:\d+ \(connection refused: nothing listens there\)\.$/);
    let p = pollState(core.ws.db, 'line-3')!;
    expect(p.failures).toBe(1);
    expect(Date.parse(p.next!) - t0).toBeGreaterThanOrEqual(120_000);
    expect(Date.parse(p.next!) - Date.now()).toBeLessThanOrEqual(120_000);
    const downSince = p.downSince;
    await core.monitor.scheduler.poll('line-3');
    p = pollState(core.ws.db, 'line-3')!;
    expect(p.failures).toBe(2);
    expect(p.downSince).toBe(downSince);
    expect(Date.parse(p.next!) - Date.now()).toBeGreaterThan(230_000);
    // Not due yet: the loop leaves it alone.
    expect(core.monitor.scheduler.due()).toEqual([]);

    const status = await call('monitor.dashboard', { name: 'line-3' });
    expect(status.health.reachable).toBe(false);
    expect(status.health.noContactSince).toBe((await call('endpoints.list', {}))[0]!.lastContact);
    expect(status.health.nextContact).toBe(p.next);
    expect(status.health.lastError).toMatch(/connection refused/);

    // The app restarts while the endpoint is down: the cursor and the schedule are where they were.
    await core.close();
    core = openCore();
    expect(pollState(core.ws.db, 'line-3')).toEqual(p);

    // The endpoint comes back where it was, with its state; traffic after the restart.
    edge = await startRemoteEdge(bundle, state, tokens, edge.port);
    await traffic(11, 1);
    const back = await core.monitor.scheduler.poll('line-3');
    expect(back.status).toBe('up');
    expect(storedTotals(core.ws.db, 'line-3')).toEqual(expect.objectContaining({ requests: 5 + 7 + 11, rows: 15 + 14 + 11, errors: 0 }));
    p = pollState(core.ws.db, 'line-3')!;
    expect(p).toEqual(expect.objectContaining({ failures: 0, downSince: null }));

    // Polling again finds nothing new.
    await core.monitor.scheduler.poll('line-3');
    expect(storedTotals(core.ws.db, 'line-3').requests).toBe(23);
  }, 60_000);

  it('a page read twice (the app died before its cursor was kept) is not counted twice; a reset endpoint is counted from 1 again', async () => {
    const client = new EndpointClient(edge.url, tokens);
    const before = storedTotals(core.ws.db, 'line-3');
    // Reading from the start again returns every bucket the endpoint keeps: all already stored.
    const again = await client.monitoring(null, 1000);
    expect(again.buckets.length).toBe(before.buckets);
    const kept = pollState(core.ws.db, 'line-3')!.cursor;
    // Asked from the start, answered after the cursor moved on: another poller's page, not stored.
    expect(storePage(core.ws, 'line-3', null, again, new Date()).outcome).toBe('stale');
    // Stored again with the cursor it was asked with (the app died before its cursor was kept): nothing twice.
    core.ws.db.prepare("UPDATE endpoints SET monitor_cursor = NULL WHERE name = 'line-3'").run();
    expect(storePage(core.ws, 'line-3', null, again, new Date())).toEqual(expect.objectContaining({ outcome: 'stored', buckets: 0 }));
    expect(storedTotals(core.ws.db, 'line-3')).toEqual(before);
    expect(pollState(core.ws.db, 'line-3')!.cursor).toBe(kept);
    // The next poll moves on from there without counting anything twice.
    await traffic(2, 4);
    await core.monitor.scheduler.poll('line-3');
    expect(storedTotals(core.ws.db, 'line-3')).toEqual(expect.objectContaining({ requests: before.requests + 2, rows: before.rows + 8 }));

    // The endpoint loses its state folder: its numbers start at 1 again and are still counted.
    await killEdge(edge);
    state = path.join(root, 'edge-state-new');
    edge = await startRemoteEdge(bundle, state, tokens, edge.port);
    await traffic(3, 1);
    await core.monitor.scheduler.poll('line-3');
    expect(storedTotals(core.ws.db, 'line-3')).toEqual(expect.objectContaining({ requests: before.requests + 5, rows: before.rows + 11 }));
  }, 60_000);
});

describe('an endpoint whose numbers start again', () => {
  const requests = () => storedTotals(core.ws.db, 'line-3').requests;
  const poll = () => core.monitor.scheduler.poll('line-3');

  it('its state folder restored from a copy (a backup, a VM snapshot): what was stored stays, what it serves after counts once', async () => {
    await traffic(2, 1);
    await poll();
    const before = requests();
    await killEdge(edge, 'SIGTERM');
    const copy = path.join(root, 'edge-state-copy');
    fs.cpSync(state, copy, { recursive: true });
    edge = await startRemoteEdge(bundle, state, tokens, edge.port);
    await traffic(3, 1);
    expect((await poll()).buckets).toBeGreaterThan(0);
    expect(requests()).toBe(before + 3);
    // The copy comes back: the endpoint numbers its new buckets as it did those 3 requests'.
    await killEdge(edge, 'SIGTERM');
    fs.rmSync(state, { recursive: true, force: true });
    fs.cpSync(copy, state, { recursive: true });
    edge = await startRemoteEdge(bundle, state, tokens, edge.port);
    await traffic(4, 1);
    await poll();
    expect(requests()).toBe(before + 7);
    await traffic(1, 1);
    await poll();
    await poll();
    expect(requests()).toBe(before + 8);
  }, 60_000);

  it('a reset endpoint that numbered past the cursor before it was read: none of its buckets is skipped', async () => {
    const before = requests();
    const [b] = pollState(core.ws.db, 'line-3')!.cursor!.split('.').map(Number);
    await killEdge(edge);
    state = path.join(root, 'edge-state-reset');
    edge = await startRemoteEdge(bundle, state, tokens, edge.port);
    // Another reader closes a bucket after each request, so the new folder's numbers pass ours.
    const other = new EndpointClient(edge.url, tokens);
    for (let i = 0; i < b! + 2; i++) {
      await traffic(1, 1);
      await other.monitoring(null, 1);
    }
    expect(Number((await other.monitoring(null, 1000)).cursor.split('.')[0])).toBeGreaterThan(b!);
    await poll();
    expect(requests()).toBe(before + b! + 2);
    // What was dropped is told; nothing was.
    expect(AuditLog.list(core.ws.db, { limit: 10, action: 'monitor.gap' })).toEqual([]);
  }, 60_000);

  it('two pollers on one workspace (the CLI beside the app) across a reset count each bucket once', async () => {
    const second = createCore({ workspaceDir: wsDir, resumeEndpoints: false, monitor: false });
    try {
      for (const round of [1, 2]) {
        const before = requests();
        await killEdge(edge);
        state = path.join(root, `edge-state-two-${round}`);
        edge = await startRemoteEdge(bundle, state, tokens, edge.port);
        await traffic(5, 1);
        await Promise.all([poll(), second.monitor.scheduler.poll('line-3')]);
        await Promise.all([poll(), second.monitor.scheduler.poll('line-3')]);
        expect(requests()).toBe(before + 5);
      }
    } finally {
      await second.close();
    }
  }, 60_000);
});

describe('a bucket this version cannot read', () => {
  it('stops reading there with a sentence naming the endpoint and the field; after 3 polls it is skipped, said, and the rest counted', async () => {
    const requests = () => storedTotals(core.ws.db, 'line-3').requests;
    await traffic(1, 1);
    await core.monitor.scheduler.poll('line-3');
    const before = requests();
    await killEdge(edge, 'SIGTERM');
    // The endpoint's own bucket log gets a bucket without its Flow counts (as a damaged or foreign runtime would send).
    const file = path.join(state, 'buckets.jsonl');
    const bad = Math.max(...fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq)) + 1;
    const at = new Date().toISOString();
    fs.appendFileSync(file, `${JSON.stringify({ seq: bad, from: at, to: at, name: 'P-101', version: '1', requests: 7, errors: 0, rows: 7, predictions: { ok: 7 }, anomalies: 0, latencyMs: { count: 7, sum: 7, p50: 1, p99: 1 }, features: { Flow: { missing: 0 } } })}\n`);
    edge = await startRemoteEdge(bundle, state, tokens, edge.port);
    await traffic(2, 1);
    const said = `line-3 sent a monitoring bucket (number ${bad}) that this version of Millwright cannot read: its "features.Flow.counts" is not a list of counts. It is tried again at the next poll; after 3 tries it is skipped.`;
    for (let i = 0; i < 2; i++) {
      const o = await core.monitor.scheduler.poll('line-3');
      expect(o.error).toBe(said);
      expect((await call('endpoints.list', {})).find((e) => e.name === 'line-3')!.lastError).toBe(`Monitoring data could not be read: ${said}`);
      expect(requests()).toBe(before);
    }
    const third = await core.monitor.scheduler.poll('line-3');
    const skipped = `line-3: monitoring bucket number ${bad} was skipped because this version of Millwright cannot read it (its "features.Flow.counts" is not a list of counts); the rest of the data is kept.`;
    expect(third.error).toBe(skipped);
    expect((await call('endpoints.list', {})).find((e) => e.name === 'line-3')!.lastError).toBe(skipped);
    expect(requests()).toBe(before + 2);
    expect(AuditLog.list(core.ws.db, { limit: 10, action: 'monitor.skip' }).map((a) => a.details.message)).toEqual([skipped]);
    const fourth = await core.monitor.scheduler.poll('line-3');
    expect(fourth.error).toBeNull();
    expect(requests()).toBe(before + 2);
  }, 60_000);

  it('a page the workspace fails to store is said in words, kept for the next poll, and the details go to the log', async () => {
    const requests = () => storedTotals(core.ws.db, 'line-3').requests;
    const before = requests();
    await traffic(3, 1);
    core.ws.db.exec("CREATE TEMP TRIGGER monitor_fail BEFORE INSERT ON monitor_buckets BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END");
    try {
      const o = await core.monitor.scheduler.poll('line-3');
      expect(o.error).toBe("The monitoring data read from line-3 could not be stored in the workspace; it is read again at the next poll (the details are in the workspace's log).");
      expect(requests()).toBe(before);
    } finally {
      core.ws.db.exec('DROP TRIGGER monitor_fail');
    }
    const logged = fs.readdirSync(core.ws.logDir).map((f) => fs.readFileSync(path.join(core.ws.logDir, f), 'utf8')).join('\n');
    expect(logged).toContain('disk I/O error (test)');
    expect((await core.monitor.scheduler.poll('line-3')).error).toBeNull();
    expect(requests()).toBe(before + 3);
  }, 30_000);
});

describe('what the pages ask for', () => {
  it('a dashboard over the hour: health, a minute series holding every request, drift per input with a heat map, alerts', async () => {
    await traffic(4, 25);
    await core.monitor.cycle({ name: 'line-3' });
    const d = EndpointDashboardSchema.parse(await call('monitor.dashboard', { name: 'line-3', window: 'hour' }));
    const total = storedTotals(core.ws.db, 'line-3');
    expect(d.health).toEqual(expect.objectContaining({ reachable: true, requests: total.requests, errors: 0, errorRate: 0, noContactSince: null, model: { name: 'P-101', version: 1 } }));
    expect(d.health.latencyP50Ms).toBeGreaterThan(0);
    expect(d.health.latencyP99Ms).toBeGreaterThanOrEqual(d.health.latencyP50Ms!);
    expect(d.series).toHaveLength(60);
    expect(d.series.reduce((n, p) => n + p.requests, 0)).toBe(total.requests);
    expect(d.series.reduce((n, p) => n + p.rows, 0)).toBe(total.rows);
    expect(d.drift.rows).toBe(total.rows);
    expect(d.drift.inputs.map((i) => i.name).sort()).toEqual(['Flow', 'Line', 'Vibration']);
    expect(d.drift.verdict).not.toBe('unknown');
    expect(d.drift.predictions.training).not.toBeNull();
    expect(Object.values(d.drift.predictions.window).reduce((a, b) => a + b, 0)).toBe(total.rows);
    expect(d.heatmap.inputs).toEqual(d.drift.inputs.map((i) => i.name));
    expect(d.heatmap.psi.map((r) => r.length)).toEqual([60, 60, 60]);
    expect(d.heatmap.psi.flat().filter((x) => x !== null).length).toBeGreaterThan(0);
    // The week: hour slots, the same totals.
    const week = await call('monitor.dashboard', { name: 'line-3', window: 'week' });
    expect(week.series).toHaveLength(168);
    expect(week.series.reduce((n, p) => n + p.requests, 0)).toBe(total.requests);
  }, 30_000);

  it('an input\'s live histogram over the training one, bins in words', async () => {
    const h = InputHistogramSchema.parse(await call('monitor.input', { name: 'line-3', input: 'Flow' }));
    expect(h.kind).toBe('numeric');
    expect(h.bins[0]).toMatch(/^≤ [\d.]+$/);
    expect(h.bins.at(-1)).toMatch(/^> [\d.]+$/);
    expect(h.bins[1]).toMatch(/^[\d.]+ – [\d.]+$/);
    expect(h.training).toHaveLength(h.bins.length);
    expect(h.live).toHaveLength(h.bins.length);
    expect(h.training.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(h.live.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const line = await call('monitor.input', { name: 'line-3', input: 'Line' });
    expect(line.bins).toEqual(['A', 'B', 'C', '(other)']);
    await expect(call('monitor.input', { name: 'line-3', input: 'Pressure' })).rejects.toThrow('P-101 version 1 on "line-3" has no input called "Pressure". Its inputs: "Line", "Flow", "Vibration".');
    await expect(call('monitor.dashboard', { name: 'line-9' })).rejects.toThrow(/^There is no endpoint called "line-9"\./);
  });

  it('an endpoint added without its admin token: health only, and drift says why it is missing', async () => {
    await call('endpoints.add', { name: 'line-3-watch', url: edge.url, token: tokens.token });
    const [e] = (await call('monitor.cycle', { name: 'line-3-watch' })).endpoints;
    expect(e).toEqual(expect.objectContaining({ name: 'line-3-watch', reachable: true, model: { name: 'P-101', version: 1 }, requests: 0 }));
    expect(e!.drift).toEqual({ verdict: 'unknown', inputs: [] });
    expect(storedTotals(core.ws.db, 'line-3-watch').buckets).toBe(0);
    const d = await call('monitor.dashboard', { name: 'line-3-watch' });
    expect(d.drift.reason).toBe('The workspace has no admin token for this endpoint, so its monitoring data cannot be read; add it again with its admin token to see drift.');
    await call('endpoints.remove', { name: 'line-3-watch' });
  });

  it('a shorter interval applies at once; a longer one after the next poll', async () => {
    const next = pollState(core.ws.db, 'line-3')!.next!;
    expect(Date.parse(next) - Date.now()).toBeGreaterThan(50_000);
    await call('monitor.configure', { intervalSeconds: 10 });
    expect(Date.parse(pollState(core.ws.db, 'line-3')!.next!) - Date.now()).toBeLessThanOrEqual(10_000);
    expect((await call('monitor.settings', {})).intervalSeconds).toBe(10);
    await expect(call('monitor.configure', { intervalSeconds: 0 })).rejects.toThrow();
  });
});

describe('the background loop', () => {
  it('starts with the core, polls each endpoint when its time comes and tells the windows; stops with the core', async () => {
    await core.close();
    core = createCore({ workspaceDir: wsDir, resumeEndpoints: false });
    const seen: string[][] = [];
    core.events.on('event', (e) => {
      if (e.type === 'monitor') seen.push(e.endpoints);
    });
    const before = storedTotals(core.ws.db, 'line-3').requests;
    await traffic(3, 1);
    await call('monitor.configure', { intervalSeconds: 1 });
    const deadline = Date.now() + 15_000;
    while (storedTotals(core.ws.db, 'line-3').requests < before + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(storedTotals(core.ws.db, 'line-3').requests).toBe(before + 3);
    expect(seen).toContainEqual(['line-3']);
    await core.close();
    // Nothing polls after close: the next contact it kept is where a restart resumes.
    core = openCore();
    const kept = pollState(core.ws.db, 'line-3')!;
    expect(kept.failures).toBe(0);
    expect(Date.parse(kept.next!) - Date.now()).toBeLessThanOrEqual(1000);
  }, 30_000);
});

describe('an endpoint killed while its pages are read', () => {
  it('loses nothing and counts nothing twice: every anomaly event and row sent is stored exactly once', async () => {
    await trainModel(core, call, { dataset: 'pumps', task: 'anomaly', inputs: ['Flow', 'Vibration'], algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'pump-odd' });
    const odd = (await call('models.exportBundle', { model: 'pump-odd', out: path.join(root, 'odd.tar.gz') })).file;
    const oddState = path.join(root, 'odd-state');
    let oddEdge = await startRemoteEdge(odd, oddState, tokens);
    await call('endpoints.add', { name: 'odd-2', url: oddEdge.url, ...tokens });
    // Pages of 20, so 200 anomaly events take ten pages.
    const small = new MonitorService({ ws: core.ws, deploy: new DeployService(core.ws, RUNTIME_DIR), emit: () => undefined, scheduler: { pageLimit: 20 } });
    const flagged = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ Flow: 400 + from + i, Vibration: 40 + (i % 5) }));
    for (let k = 0; k < 4; k++) expect(await predict(oddEdge.url, tokens.token, flagged(50, 50 * k))).toBe(200);

    const polling = small.scheduler.poll('odd-2');
    // Kill it as soon as the first pages are stored.
    const events = () => Number(pollState(core.ws.db, 'odd-2')?.cursor?.split('.')[1] ?? 0);
    while (events() < 40) await new Promise((r) => setImmediate(r));
    await killEdge(oddEdge);
    const cut = await polling;
    expect(cut.pages).toBeGreaterThanOrEqual(2);
    expect(cut.pages).toBeLessThan(10);
    expect(storedTotals(core.ws.db, 'odd-2').events).toBeLessThan(200);
    expect((await call('endpoints.list', {})).find((e) => e.name === 'odd-2')!.lastError).toMatch(/^Monitoring data could not be read: /);
    expect((await small.scheduler.poll('odd-2')).status).toBe('down');

    oddEdge = await startRemoteEdge(odd, oddState, tokens, oddEdge.port);
    edges.push(oddEdge);
    expect(await predict(oddEdge.url, tokens.token, flagged(30, 1000))).toBe(200);
    const back = await small.scheduler.poll('odd-2');
    expect(back.status).toBe('up');
    const t = storedTotals(core.ws.db, 'odd-2');
    expect(t).toEqual(expect.objectContaining({ events: 230, rows: 230, anomalies: 230, requests: 5 }));
    const seqs = core.ws.db.prepare("SELECT seq FROM monitor_events WHERE endpoint = 'odd-2' ORDER BY seq").all() as { seq: number }[];
    expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: 230 }, (_, i) => i + 1));
    const flows = (core.ws.db.prepare("SELECT inputs FROM monitor_events WHERE endpoint = 'odd-2'").all() as { inputs: string }[]).map((r) => (JSON.parse(r.inputs) as { Flow: number }).Flow).sort((a, b) => a - b);
    expect(flows).toEqual([...Array.from({ length: 200 }, (_, i) => 400 + i), ...Array.from({ length: 30 }, (_, i) => 1400 + i)]);
    await small.close();
  }, 60_000);
});
