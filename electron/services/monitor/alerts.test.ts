import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../../shared/api';
import { DEFAULT_ALERT_RULES, type Alert, type Drift } from '../../../shared/monitor';
import { coreCaller, trainModel } from '../../test-support/core-call';
import { pumpsModel, writePumpsCsv } from '../../test-support/pumps';
import { createCore, type Core } from '../compose';
import { DeployService } from '../deploy/deploy';
import { AuditLog } from '../workspace/audit';
import { conditions, DRIFT_CLEAR_AFTER, settleDrift, type AlertFacts, type DriftStreak } from './alerts';
import { killEdge, predict, RUNTIME_DIR, startRemoteEdge, type RemoteEdge } from './edge-fixture';
import { MonitorService } from './service';

/**
 * Alerts firing and clearing against real endpoints on loopback, with the
 * monitor's clock in the test's hands (minutes pass at once).
 */

let root: string;
let core: Core;
const call = coreCaller(() => core);
let monitor: MonitorService;
let clock = Date.now();
const events: AppEvent[] = [];
const edges: RemoteEdge[] = [];
let pumpsBundle: string;
const tokens = { token: 'alerts-predict-token-0123456789ab', adminToken: 'alerts-admin-token-0123456789abcd' };

const pumpRows = (n: number, shift = 0) => Array.from({ length: n }, (_, i) => ({ Line: ['A', 'B', 'C'][i % 3], Flow: ((i * 37) % 101) + shift, Vibration: ((i * 53) % 89) / 10 }));
const alertEvents = () => events.filter((e): e is Extract<AppEvent, { type: 'alert' }> => e.type === 'alert').map((e) => e.alert);
const auditOf = (action: string) => AuditLog.list(core.ws.db, { limit: 100, action }).map((a) => a.details);

async function endpoint(name: string, bundle: string): Promise<RemoteEdge> {
  const edge = await startRemoteEdge(bundle, path.join(root, `state-${name}`), tokens);
  edges.push(edge);
  await call('endpoints.add', { name, url: edge.url, ...tokens });
  return edge;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-alerts-'));
  core = createCore({ workspaceDir: path.join(root, 'ws'), resumeEndpoints: false, monitor: false });
  await pumpsModel(core, call, writePumpsCsv(root), ['logistic']);
  pumpsBundle = (await call('models.exportBundle', { model: 'P-101', version: 1, out: path.join(root, 'p101.tar.gz') })).file;
  monitor = new MonitorService({ ws: core.ws, deploy: new DeployService(core.ws, RUNTIME_DIR), emit: (e) => events.push(e), now: () => clock });
}, 120_000);

afterAll(async () => {
  await monitor?.close();
  await core?.close();
  for (const e of edges) await killEdge(e);
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('the rules', () => {
  const facts = (f: Partial<AlertFacts>): AlertFacts => ({ endpoint: 'line-1', down: null, requests: 0, errors: 0, rows: 0, anomalies: 0, trainingAnomalyRate: null, drift: null, ...f });
  const now = Date.parse('2026-03-02T10:00:00Z');

  it('say in words what holds, and nothing for what does not', () => {
    const down = facts({ down: { since: now - 7 * 60_000, reason: 'Cannot reach http://10.0.0.7:8080 (no answer within 5 s).' } });
    expect(conditions(DEFAULT_ALERT_RULES, down, now).down).toBe('line-1 has not answered for 7 minutes. Cannot reach http://10.0.0.7:8080 (no answer within 5 s).');
    expect(conditions(DEFAULT_ALERT_RULES, facts({ down: { since: now - 4 * 60_000, reason: null } }), now).down).toBeNull();
    expect(conditions(DEFAULT_ALERT_RULES, facts({ requests: 120, errors: 5 }), now).errors).toBe('line-1 answered 5 of 120 requests with an error in the last hour (4.17%, above the 1% limit).');
    // Too few requests to judge a rate: no news (the alert stays as it is); a rate at the limit does not fire.
    expect('errors' in conditions(DEFAULT_ALERT_RULES, facts({ requests: 19, errors: 19 }), now)).toBe(false);
    expect(conditions(DEFAULT_ALERT_RULES, facts({ requests: 200, errors: 2 }), now).errors).toBeNull();
    expect(conditions(DEFAULT_ALERT_RULES, facts({ rows: 400, anomalies: 40, trainingAnomalyRate: 0.02 }), now).anomalies).toBe('line-1 flagged 40 of 400 rows as anomalies in the last hour (10%), 5 times its training rate of 2% (the limit is 3 times).');
    expect(conditions(DEFAULT_ALERT_RULES, facts({ rows: 400, anomalies: 20, trainingAnomalyRate: 0.02 }), now).anomalies).toBeNull();
    expect(conditions(DEFAULT_ALERT_RULES, facts({ rows: 400, anomalies: 40, trainingAnomalyRate: null }), now).anomalies).toBeNull();
    expect('anomalies' in conditions(DEFAULT_ALERT_RULES, facts({ rows: 49, anomalies: 49, trainingAnomalyRate: 0.02 }), now)).toBe(false);
    const changed = { verdict: 'changed', reason: '2 of 3 inputs changed: Flow and Line.' } as Drift;
    expect(conditions(DEFAULT_ALERT_RULES, facts({ drift: changed }), now).drift).toBe('The inputs line-1 receives changed from training in the last hour: 2 of 3 inputs changed: Flow and Line.');
    // Drift not worked out this time, too few rows, or on watch: the alert stays as it is.
    expect('drift' in conditions(DEFAULT_ALERT_RULES, facts({}), now)).toBe(false);
    expect('drift' in conditions(DEFAULT_ALERT_RULES, facts({ drift: { verdict: 'unknown', reason: 'x' } as Drift }), now)).toBe(false);
    expect('drift' in conditions(DEFAULT_ALERT_RULES, facts({ drift: { verdict: 'watch', reason: 'x' } as Drift }), now)).toBe(false);
    expect(conditions(DEFAULT_ALERT_RULES, facts({ drift: { verdict: 'stable', reason: 'x' } as Drift }), now).drift).toBeNull();
  });

  it('drift fires on the second changed verdict in a row, and clears on stable or after three watch verdicts with new rows', () => {
    const s: DriftStreak = { changed: 0, watch: 0 };
    expect(settleDrift(s, 'changed', 'm', false, true)).toBeUndefined();
    expect(settleDrift(s, 'unknown', undefined, false, true)).toBeUndefined();
    expect(settleDrift(s, 'changed', 'm', false, false)).toBe('m');
    // Firing: watch with no new rows, or twice with, keeps it; the third with new rows clears it.
    expect(settleDrift(s, 'watch', undefined, true, false)).toBeUndefined();
    expect(settleDrift(s, 'watch', undefined, true, true)).toBeUndefined();
    expect(settleDrift(s, 'watch', undefined, true, true)).toBeUndefined();
    expect(settleDrift(s, 'changed', 'm', true, true)).toBe('m');
    for (let i = 0; i < DRIFT_CLEAR_AFTER - 1; i++) expect(settleDrift(s, 'watch', undefined, true, true)).toBeUndefined();
    expect(settleDrift(s, 'watch', undefined, true, true)).toBeNull();
    // A changed verdict between two watch ones starts the count again; stable clears at once.
    expect(settleDrift(s, 'changed', 'm', false, true)).toBeUndefined();
    expect(settleDrift(s, 'watch', undefined, false, true)).toBeUndefined();
    expect(settleDrift(s, 'changed', 'm', false, true)).toBeUndefined();
    expect(settleDrift(s, 'stable', null, true, true)).toBeNull();
  });

  it('switched off, never fire', () => {
    const off = { down: { enabled: false, minutes: 5 }, errors: { enabled: false, percent: 1 }, drift: { enabled: false }, anomalies: { enabled: false, factor: 3 } };
    const all = facts({ down: { since: now - 3_600_000, reason: null }, requests: 100, errors: 100, rows: 400, anomalies: 400, trainingAnomalyRate: 0.01, drift: { verdict: 'changed', reason: 'x' } as Drift });
    expect(conditions(off, all, now)).toEqual({ down: null, errors: null, drift: null, anomalies: null });
  });
});

describe('an endpoint that stops answering', () => {
  it('fires "down" after 5 minutes of no answer, not before; clears when it answers again; acknowledging and snoozing are audited', async () => {
    const edge = await endpoint('line-7', pumpsBundle);
    clock = Date.now();
    await monitor.cycle();
    expect(monitor.listAlerts({})).toEqual([]);
    await killEdge(edge);
    await monitor.scheduler.poll('line-7');
    clock += 4 * 60_000;
    expect(monitor.scheduler.due()).toEqual(['line-7']);
    await monitor.scheduler.tick();
    expect(monitor.listAlerts({})).toEqual([]);
    clock += 2 * 60_000;
    // Not due (the backoff says 4 minutes after the second try), yet the clock's own check fires the alert.
    expect(monitor.scheduler.due()).toEqual([]);
    await monitor.scheduler.tick();
    const [down] = monitor.listAlerts({ endpoint: 'line-7' });
    expect(down).toEqual(expect.objectContaining({ endpoint: 'line-7', kind: 'down', state: 'firing', clearedAt: null, acknowledgedAt: null }));
    expect(down!.message).toMatch(/^line-7 has not answered for 6 minutes\. Cannot reach http:\/\/127\.0\.0\.1:\d+ \(connection refused: nothing listens there\)\.$/);
    expect(alertEvents().at(-1)).toEqual(down);
    expect(auditOf('alert.fire')[0]).toEqual({ name: 'line-7', id: down!.id, kind: 'down', message: down!.message });

    // Still down a minute later: the same alert, its last time moved on; no new event.
    const eventsBefore = alertEvents().length;
    clock += 60_000;
    await monitor.scheduler.tick();
    const still = monitor.listAlerts({ endpoint: 'line-7', all: true });
    expect(still).toHaveLength(1);
    expect(still[0]!.lastAt).toBe(new Date(clock).toISOString());
    expect(still[0]!.message).toMatch(/not answered for 7 minutes/);
    expect(alertEvents()).toHaveLength(eventsBefore);

    // Through the method the page calls (the core's own monitor, on the same workspace).
    const ack = await call('alerts.acknowledge', { id: down!.id });
    expect(ack.acknowledgedBy).toBe(core.ws.who);
    expect(Date.now() - Date.parse(ack.acknowledgedAt!)).toBeLessThan(10_000);
    expect(ack.state).toBe('firing');
    expect(await call('alerts.list', { endpoint: 'line-7' })).toEqual([ack]);
    const snoozed = monitor.snooze(down!.id, 30);
    expect(snoozed.snoozedUntil).toBe(new Date(clock + 30 * 60_000).toISOString());
    expect(alertEvents().at(-1)).toEqual(snoozed);
    expect(auditOf('alert.acknowledge')[0]).toEqual(expect.objectContaining({ name: 'line-7', id: down!.id, kind: 'down' }));
    expect(auditOf('alert.snooze')[0]).toEqual({ name: 'line-7', id: down!.id, kind: 'down', minutes: 30, until: snoozed.snoozedUntil });
    expect(() => monitor.acknowledge(9999)).toThrow('There is no alert number 9999.');

    // Back where it was: the next poll clears the alert, which stays in the list.
    edges.push(await startRemoteEdge(pumpsBundle, path.join(root, 'state-line-7'), tokens, edge.port));
    clock += 10 * 60_000;
    await monitor.scheduler.tick();
    expect(monitor.listAlerts({ endpoint: 'line-7' })).toEqual([]);
    const [cleared] = monitor.listAlerts({ endpoint: 'line-7', all: true });
    expect(cleared).toEqual(expect.objectContaining({ id: down!.id, state: 'cleared', clearedAt: new Date(clock).toISOString(), acknowledgedAt: ack.acknowledgedAt }));
    expect(alertEvents().at(-1)).toEqual(cleared);
    expect(auditOf('alert.clear')[0]).toEqual(expect.objectContaining({ name: 'line-7', id: down!.id, kind: 'down' }));
  }, 60_000);
});

describe('an endpoint receiving bad requests and shifted traffic', () => {
  it('fires on the error rate, and clears when the limit is raised (audited)', async () => {
    const edge = await endpoint('line-8', pumpsBundle);
    // 25 rows: too few to judge drift, enough to judge the error rate.
    for (let i = 0; i < 25; i++) expect(await predict(edge.url, tokens.token, pumpRows(1))).toBe(200);
    for (let i = 0; i < 5; i++) expect(await predict(edge.url, tokens.token, [{ Line: 'A', Flow: 'lots', Vibration: 1 }])).toBe(400);
    clock = Date.now();
    await monitor.cycle({ name: 'line-8' });
    const firing = monitor.listAlerts({ endpoint: 'line-8' });
    expect(firing.map((a) => [a.kind, a.message])).toEqual([['errors', 'line-8 answered 5 of 30 requests with an error in the last hour (16.7%, above the 1% limit).']]);

    const settings = monitor.configure({ rules: { ...monitor.settings().rules, errors: { enabled: true, percent: 20 } } });
    expect(settings.rules.errors.percent).toBe(20);
    expect(auditOf('monitor.configure')[0]).toEqual({ before: expect.objectContaining({ rules: expect.objectContaining({ errors: { enabled: true, percent: 1 } }) }), after: settings });
    clock = Date.now();
    await monitor.cycle({ name: 'line-8' });
    expect(monitor.listAlerts({ endpoint: 'line-8' })).toEqual([]);
    expect(monitor.listAlerts({ endpoint: 'line-8', all: true })[0]!.state).toBe('cleared');
  }, 60_000);

  it('fires "drift" when the inputs move away from training, naming them', async () => {
    const edge = edges.at(-1)!;
    for (let i = 0; i < 4; i++) expect(await predict(edge.url, tokens.token, pumpRows(60, 150))).toBe(200);
    clock = Date.now();
    const cycle = await monitor.cycle({ name: 'line-8' });
    expect(cycle.endpoints[0]!.drift.verdict).toBe('changed');
    expect(cycle.endpoints[0]!.drift.inputs.find((i) => i.name === 'Flow')!.verdict).toBe('changed');
    // The first changed verdict waits for a second opinion.
    expect(monitor.listAlerts({ endpoint: 'line-8' }).map((a) => a.kind)).not.toContain('drift');
    await monitor.cycle({ name: 'line-8' });
    const drift = monitor.listAlerts({ endpoint: 'line-8' }).find((a: Alert) => a.kind === 'drift')!;
    expect(drift.message).toMatch(/^The inputs line-8 receives changed from training in the last hour: .*Flow/);
  }, 60_000);

  it('removing the endpoint clears its firing alerts, each audited with the reason and told', async () => {
    const firing = monitor.listAlerts({ endpoint: 'line-8' });
    expect(firing.length).toBeGreaterThan(0);
    const told: Alert[] = [];
    const listen = (e: AppEvent) => {
      if (e.type === 'alert') told.push(e.alert);
    };
    core.events.on('event', listen);
    await call('endpoints.remove', { name: 'line-8' });
    core.events.off('event', listen);
    const after = monitor.listAlerts({ endpoint: 'line-8', all: true }).filter((a) => firing.some((f) => f.id === a.id));
    expect(after.map((a) => a.state)).toEqual(firing.map(() => 'cleared'));
    expect(told.map((a) => [a.id, a.state])).toEqual([...firing].sort((a, b) => a.id - b.id).map((a) => [a.id, 'cleared']));
    const audited = auditOf('alert.clear').filter((d) => firing.some((f) => f.id === d.id));
    expect(audited).toEqual(expect.arrayContaining(firing.map((f) => ({ name: 'line-8', id: f.id, kind: f.kind, message: f.message, reason: 'The endpoint was removed.' }))));
    expect(audited).toHaveLength(firing.length);
  }, 30_000);
});

describe('alerts that do not flap', () => {
  /** Traffic like training's: the training table's rows, 500 a round. */
  const normal = () => pumpRows(500);
  const ofLine = (kind?: string) => monitor.listAlerts({ endpoint: 'line-9', all: true }).filter((a) => !kind || a.kind === kind);
  const audited = (action: string) => auditOf(action).filter((d) => d.name === 'line-9').length;
  /** Moves the endpoint's stored minutes two hours back, as if that time had passed. */
  const age = () => core.ws.db.prepare("UPDATE monitor_buckets SET from_at = strftime('%Y-%m-%dT%H:%M:%fZ', from_at, '-2 hours'), to_at = strftime('%Y-%m-%dT%H:%M:%fZ', to_at, '-2 hours') WHERE endpoint = 'line-9'").run();

  it('normal traffic stays quiet poll after poll; a drift alert fires once, stays while rows are sparse, and clears when traffic is normal again', async () => {
    const edge = await endpoint('line-9', pumpsBundle);
    const send = async (rows: ReturnType<typeof pumpRows>) => expect(await predict(edge.url, tokens.token, rows)).toBe(200);
    const check = async () => {
      clock = Date.now();
      return (await monitor.cycle({ name: 'line-9' })).endpoints[0]!;
    };
    for (let i = 0; i < 8; i++) {
      await send(normal());
      expect((await check()).drift.verdict).toBe('stable');
    }
    // A few rows a poll, and polls with none: nothing to judge by, nothing fires.
    for (let i = 0; i < 4; i++) {
      await send(pumpRows(3, 150));
      await check();
      await check();
    }
    expect(ofLine()).toEqual([]);

    // Shifted traffic: one alert after the second opinion.
    await send(pumpRows(500, 150));
    expect((await check()).drift.verdict).toBe('changed');
    await send(pumpRows(500, 150));
    await check();
    expect(ofLine('drift').map((a) => a.state)).toEqual(['firing']);

    // An hour later rows are sparse: drift is unknown, and the alert stays as it is, poll after poll.
    age();
    for (let i = 0; i < 6; i++) {
      await send(pumpRows(2, 150));
      expect((await check()).drift.verdict).toBe('unknown');
    }
    expect(ofLine('drift').map((a) => a.state)).toEqual(['firing']);

    // Normal traffic again: it clears, once.
    await send(normal());
    expect((await check()).drift.verdict).toBe('stable');
    expect(ofLine('drift').map((a) => a.state)).toEqual(['cleared']);
    for (let i = 0; i < 3; i++) {
      await send(normal());
      await check();
    }
    expect(ofLine().map((a) => [a.kind, a.state])).toEqual([['drift', 'cleared']]);
    expect([audited('alert.fire'), audited('alert.clear')]).toEqual([1, 1]);
    expect(alertEvents().filter((a) => a.endpoint === 'line-9')).toHaveLength(2);
  }, 90_000);
});

describe('an anomaly model', () => {
  it('fires when it flags rows far more often than in training', async () => {
    await trainModel(core, call, { dataset: 'pumps', task: 'anomaly', inputs: ['Flow', 'Vibration'], algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'pump-odd' });
    const bundle = (await call('models.exportBundle', { model: 'pump-odd', out: path.join(root, 'odd.tar.gz') })).file;
    const edge = await endpoint('odd-1', bundle);
    const odd = Array.from({ length: 80 }, (_, i) => ({ Flow: 400 + i, Vibration: 40 + (i % 5) }));
    expect(await predict(edge.url, tokens.token, odd)).toBe(200);
    clock = Date.now();
    await monitor.cycle({ name: 'odd-1' });
    const a = monitor.listAlerts({ endpoint: 'odd-1' }).find((x) => x.kind === 'anomalies');
    expect(a?.message).toMatch(/^odd-1 flagged 80 of 80 rows as anomalies in the last hour \(100%\), [\d.]+ times its training rate of [\d.]+% \(the limit is 3 times\)\.$/);
  }, 60_000);
});
