import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowSummarySchema } from '../../../shared/feedback';
import { coreCaller, importCsv, trainModel } from '../../test-support/core-call';
import { writePumpsCsv } from '../../test-support/pumps';
import { createCore, type Core } from '../compose';
import { killEdge, RUNTIME_DIR, startRemoteEdge, type RemoteEdge } from '../monitor/edge-fixture';
import { unreadable } from '../monitor/scheduler';
import { QUARTER_MS, storePage } from '../monitor/store';
import { EndpointClient } from './client';
import { DeployService } from './deploy';
import { shadowSummary, startShadow, stopShadow } from './shadow';

/**
 * Shadow runs from the app: a challenger's bundle built as a deployment's,
 * installed beside production on a real edge runtime (a child process on
 * loopback), traffic sent, monitoring read by a real cycle, and the summary's
 * figures compared with the traffic: the rows sent, production's answers,
 * and the challenger's own answers for the same rows.
 */

let root: string;
let core: Core;
const call = coreCaller(() => core);
const tokens = { token: 'shadow-predict-token-0123456789', adminToken: 'shadow-admin-token-0123456789abc' };
let edge: RemoteEdge;
const ENDPOINT = 'odd-line';

/** Rows like the pumps' and some far outside them, so both models flag some. */
const rows = (n: number, from: number) => Array.from({ length: n }, (_, i) => (((from + i) % 9 === 0) ? { Flow: 300 + i, Vibration: 30 + (i % 4) } : { Flow: (((from + i) * 37) % 101) + 0.5, Vibration: (((from + i) * 53) % 89) / 10 }));

async function predict(batch: Record<string, unknown>[]): Promise<boolean[]> {
  const res = await fetch(`${edge.url}/predict`, { method: 'POST', headers: { Authorization: `Bearer ${tokens.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(batch) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { predictions: { anomaly: boolean }[] }).predictions.map((p) => p.anomaly);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-shadow-'));
  core = createCore({ workspaceDir: path.join(root, 'ws'), resumeEndpoints: false, monitor: false });
  await importCsv(core, call, writePumpsCsv(root), 'pumps');
  for (const seed of [1, 2]) await trainModel(core, call, { dataset: 'pumps', task: 'anomaly', inputs: ['Flow', 'Vibration'], algorithms: ['iforest'], timeBudgetSeconds: 10, seed, model: 'pump-odd' });
  await trainModel(core, call, { dataset: 'pumps', task: 'binary', target: 'Trip', algorithms: ['logistic'], timeBudgetSeconds: 10, model: 'P-101' });
  await call('models.promote', { model: 'pump-odd', version: 2, alias: 'challenger', reason: 'trained with another seed' });
  const bundle = (await call('models.exportBundle', { model: 'pump-odd', version: 1, out: path.join(root, 'odd-v1.tar.gz') })).file;
  edge = await startRemoteEdge(bundle, path.join(root, 'edge-state'), tokens);
  await call('endpoints.add', { name: ENDPOINT, url: edge.url, ...tokens });
}, 180_000);

afterAll(async () => {
  await core?.close();
  if (edge) await killEdge(edge);
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const edgeStatus = () => new EndpointClient(edge.url, tokens).status();

describe('a bucket\'s shadow counts as the app reads them', () => {
  it('names the field at fault when they cannot be stored', () => {
    const bucket = { seq: 4, from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:01:00.000Z', name: 'm', version: '1', requests: 1, errors: 0, rows: 2, predictions: {}, anomalies: 0, latencyMs: { count: 1, sum: 1, p50: 1, p99: 1 }, features: {} };
    const good = { name: 'm', version: '2', rows: 2, agreed: 1, anomalies: 0, productionAnomalies: 1, errors: 0 };
    const page = (shadow: unknown) => ({ cursor: '4.0', more: false, model: { name: 'm', version: '1' }, counters: { requests: 1, errors: 0, predictions: {}, anomalies: 0 }, buckets: [{ ...bucket, shadow } as never], events: [] });
    expect(unreadable(page(good))).toEqual([]);
    expect(unreadable(page({ ...good, agreed: -1 }))).toEqual([{ kind: 'bucket', seq: 4, why: 'its "shadow.agreed" is not a count' }]);
    expect(unreadable(page({ ...good, name: 3 }))).toEqual([{ kind: 'bucket', seq: 4, why: 'its "shadow" does not say which shadow model it counts ("name", "version")' }]);
    expect(unreadable(page('yes'))).toHaveLength(1);
  });
});

describe('shadow runs from the app', () => {
  it('refuses a version whose inputs are not production\'s, in words naming them, and records nothing', async () => {
    await expect(call('shadow.start', { endpoint: ENDPOINT, model: 'P-101', version: 1 })).rejects.toThrow(/^odd-line could not run P-101 version 1 in shadow: .*The shadow bundle's inputs differ from production's: P-101 version 1: it needs "Line", which production \(pump-odd version 1\) does not take\./);
    await expect(call('shadow.start', { endpoint: ENDPOINT, version: 1 })).rejects.toThrow(/odd-line serves pump-odd version 1 already/);
    expect(await call('shadow.status', { endpoint: ENDPOINT })).toBeNull();
    expect((await edgeStatus()).shadow).toBeNull();
  });

  it('starts the challenger beside what the endpoint serves; after a monitoring cycle the summary holds exactly the traffic sent', async () => {
    const started = await call('shadow.start', { endpoint: ENDPOINT });
    expect(ShadowSummarySchema.parse(started)).toEqual(started);
    expect(started).toMatchObject({ endpoint: ENDPOINT, model: 'pump-odd', version: 2, rows: 0, agreed: 0, productionAnomalies: 0, shadowAnomalies: 0 });
    expect(started.sentence).toMatch(/^Since \d\d:\d\d the challenger \(v2\) runs in shadow on odd-line; it has scored no rows beside production yet\.$/);
    expect((await edgeStatus()).shadow).toEqual({ name: 'pump-odd', version: '2', since: started.since });
    expect(core.ws.db.prepare('SELECT endpoint, model, version, since FROM shadows').all()).toEqual([{ endpoint: ENDPOINT, model: 'pump-odd', version: 2, since: started.since }]);

    const sent: Record<string, unknown>[] = [];
    const production: boolean[] = [];
    for (const [n, from] of [[40, 0], [1, 40], [59, 41], [100, 100]] as const) {
      const batch = rows(n, from);
      production.push(...(await predict(batch)));
      sent.push(...batch);
    }
    // The challenger's own answers for the same rows, from the registry (ONNX Runtime in the app).
    const challenger: boolean[] = [];
    for (let i = 0; i < sent.length; i += 1000) challenger.push(...(await call('models.predict', { model: 'pump-odd', version: 2, rows: sent.slice(i, i + 1000) as Record<string, number>[] })).map((p) => p.anomaly === true));
    await call('monitor.cycle', {});

    const s = (await call('shadow.status', { endpoint: ENDPOINT }))!;
    const agreed = production.filter((p, i) => p === challenger[i]).length;
    const counts = { rows: sent.length, agreed, productionAnomalies: production.filter(Boolean).length, shadowAnomalies: challenger.filter(Boolean).length };
    expect(s).toMatchObject(counts);
    expect(counts.productionAnomalies, 'production flags some rows').toBeGreaterThan(0);
    expect(counts.agreed, 'the two versions disagree on some rows').toBeLessThan(counts.rows);
    const when = /^Since (\d\d:\d\d) /.exec(s.sentence)![1];
    expect(s.sentence).toBe(`Since ${when} the challenger (v2) and production agreed on ${agreed} of 200 rows; it flagged ${counts.shadowAnomalies} rows as anomalies, production ${counts.productionAnomalies}.`);
    // The quarter hours hold the same sums, for when the minutes are pruned.
    const quarters = core.ws.db.prepare('SELECT shadow FROM monitor_quarters WHERE endpoint = ?').all(ENDPOINT) as { shadow: string }[];
    const q = quarters.map((r) => JSON.parse(r.shadow) as Record<string, { rows: number; agreed: number; anomalies: number; productionAnomalies: number }>);
    const sum = (k: 'rows' | 'agreed' | 'anomalies' | 'productionAnomalies') => q.reduce((t, x) => t + (x['pump-odd@2']?.[k] ?? 0), 0);
    expect([sum('rows'), sum('agreed'), sum('anomalies'), sum('productionAnomalies')]).toEqual([counts.rows, agreed, counts.shadowAnomalies, counts.productionAnomalies]);
    const audit = core.ws.db.prepare("SELECT action FROM audit_log WHERE action LIKE 'shadow.%' ORDER BY id").all() as { action: string }[];
    expect(audit.map((a) => a.action)).toEqual(['shadow.start', 'shadow.start']);
  });

  it('stops it at the edge and here; rows after it are not compared', async () => {
    expect(await call('shadow.stop', { endpoint: ENDPOINT })).toEqual({ endpoint: ENDPOINT, stopped: true });
    expect((await edgeStatus()).shadow).toBeNull();
    expect(await call('shadow.status', { endpoint: ENDPOINT })).toBeNull();
    await predict(rows(30, 500));
    await call('monitor.cycle', {});
    const last = core.ws.db.prepare('SELECT shadow, rows FROM monitor_buckets WHERE endpoint = ? ORDER BY seq DESC LIMIT 1').get(ENDPOINT) as { shadow: string; rows: number };
    expect(last).toEqual({ shadow: '{}', rows: 30 });
    expect(await call('shadow.stop', { endpoint: ENDPOINT })).toEqual({ endpoint: ENDPOINT, stopped: false });
  });

  it('forgets a run here when the endpoint cannot be reached, and says so', async () => {
    const deploy = new DeployService(core.ws, RUNTIME_DIR);
    const s = await startShadow(core.ws, deploy, ENDPOINT, 'pump-odd', 2);
    expect(shadowSummary(core.ws, ENDPOINT)).toEqual(s);
    await killEdge(edge);
    const r = await stopShadow(core.ws, deploy, ENDPOINT, 'challenger discarded');
    expect(r.stopped).toBe(true);
    expect(r.note).toMatch(/^odd-line cannot be reached to remove its shadow model: .* The shadow run of pump-odd version 2 is forgotten here; the endpoint may still run it until it is removed there/);
    expect(shadowSummary(core.ws, ENDPOINT)).toBeNull();
    const last = core.ws.db.prepare("SELECT details FROM audit_log WHERE action = 'shadow.stop' ORDER BY id DESC LIMIT 1").get() as { details: string };
    expect(JSON.parse(last.details)).toMatchObject({ endpoint: ENDPOINT, model: 'pump-odd', version: 2, reason: 'challenger discarded', atEdge: false, note: r.note });
    // Nothing recorded and nothing reachable: an error in words.
    await expect(stopShadow(core.ws, deploy, ENDPOINT)).rejects.toThrow(/^odd-line cannot be reached to remove its shadow model/);
    await deploy.close();
  });
});

describe('a shadow run older than the minutes kept', () => {
  it('is summed from the quarter hours before the first minute kept', async () => {
    await call('endpoints.add', { name: 'old-line', url: 'http://127.0.0.1:9', ...tokens });
    const q = Math.floor(Date.now() / QUARTER_MS) * QUARTER_MS - 4 * QUARTER_MS;
    const at = (min: number) => new Date(q + min * 60_000).toISOString();
    const counts = (rows: number, agreed: number, anomalies: number, productionAnomalies: number) => ({ name: 'pump-odd', version: '2', rows, agreed, anomalies, productionAnomalies, errors: 0 });
    const bucket = (seq: number, min: number, shadow: ReturnType<typeof counts> | undefined) => ({ seq, from: at(min), to: at(min + 1), name: 'pump-odd', version: '1', requests: 1, errors: 0, rows: shadow?.rows ?? 5, predictions: {}, anomalies: 0, latencyMs: { count: 1, sum: 1, p50: 1, p99: 1 }, features: {}, ...(shadow ? { shadow } : {}) });
    // Minutes in three quarter hours; another shadow's counts in one of them, and a bucket before the run began.
    const buckets = [bucket(1, -50, counts(9, 9, 9, 9)), bucket(2, -39, counts(10, 8, 2, 3)), bucket(3, -35, { ...counts(50, 50, 50, 50), version: '3' }), bucket(4, -19, counts(20, 15, 4, 6)), bucket(5, 0, counts(30, 29, 1, 1))];
    storePage(core.ws, 'old-line', null, { cursor: '5.0', more: false, model: { name: 'pump-odd', version: '1' }, counters: { requests: 5, errors: 0, predictions: {}, anomalies: 0 }, buckets, events: [] }, new Date());
    core.ws.db.prepare('INSERT INTO shadows (endpoint, model, version, since, started_by) VALUES (?, ?, ?, ?, ?)').run('old-line', 'pump-odd', 2, at(-44), 'test');
    const whole = shadowSummary(core.ws, 'old-line')!;
    expect(whole).toMatchObject({ rows: 60, agreed: 52, shadowAnomalies: 7, productionAnomalies: 10 });
    // The minutes before the last quarter are pruned: their quarter hours stand in for them.
    core.ws.db.prepare('DELETE FROM monitor_buckets WHERE endpoint = ? AND seq < 5').run('old-line');
    expect(shadowSummary(core.ws, 'old-line')).toEqual(whole);
    expect(whole.sentence).toMatch(/ and production agreed on 52 of 60 rows; it flagged 7 rows as anomalies, production 10\.$/);
  });
});
