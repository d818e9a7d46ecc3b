/**
 * The edge runtime's feedback pieces, as the app uses them: the real
 * endpoint as a child process on loopback with signed bundles. Context rows:
 * the rows just before and after a flagged row go out as events marked
 * `flagged: false`, in exact numbers and order, and never count as
 * anomalies.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plantFrame, settings, train } from './services/onnx/parity-harness';
import type { Frame } from './services/training/frame';
import { callEdge, IFOREST, isRunning, killAll, modelBundle, NO_TIME, objects, signingKey, startEdge, stopEdge, type Edge, type ModelBundle, type SigningKey } from './test-support/edge-child';
import { SMOKE_HEADERS } from './services/deploy/smoke';
import type { MonitoringPage } from './services/deploy/client';

const TOKEN = 'predict-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const TOKENS = ['--token', TOKEN, '--admin-token', ADMIN];
const T0 = Date.UTC(2026, 2, 1);

let tmp: string;
let key: SigningKey;
let frame: Frame;
/** An anomaly model without window features: each row is judged alone. */
let plain: ModelBundle;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-edge-shadow-'));
  key = signingKey();
  frame = plantFrame(700);
  plain = await modelBundle(path.join(tmp, 'plain-v1'), train(frame, settings('anomaly', NO_TIME), [IFOREST]), 'plain', 1, null, key);
}, 120_000);

afterAll(async () => {
  killAll();
  await plain?.session.release();
  if (!process.env.KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

const admin = (edge: Edge, method: string, route: string, body?: unknown) => callEdge(edge.port, method, route, body, ADMIN);

async function monitoring(edge: Edge, cursor = ''): Promise<MonitoringPage> {
  const r = await admin(edge, 'GET', `/admin/monitoring?limit=10000${cursor ? `&cursor=${cursor}` : ''}`);
  expect(r.status, r.text).toBe(200);
  return r.body as MonitoringPage;
}

const metric = async (edge: Edge, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await callEdge(edge.port, 'GET', '/metrics', undefined, TOKEN)).text)?.[1]);

describe('context rows around anomalies', () => {
  let edge: Edge;
  /** Frame rows the model calls normal (found with smoke-test requests, which leave no events). */
  let normal: Record<string, unknown>[];
  /** Hot inlet, cold outlet with the pump on: the model flags it. */
  const odd = { Inlet: 120, Outlet: 20, Pressure: 1, Pump: true, Grade: 'B' };

  beforeAll(async () => {
    edge = await startEdge(plain.dir, [...TOKENS, '--state', path.join(tmp, 'state-context')]);
    const rows = objects(frame, plain.sig, 0, 300);
    const r = await callEdge(edge.port, 'POST', '/predict', [...rows, odd], TOKEN, SMOKE_HEADERS);
    expect(r.status, r.text).toBe(200);
    const preds = r.body.predictions as { anomaly: boolean }[];
    expect(preds.at(-1)!.anomaly, 'the odd row is flagged').toBe(true);
    normal = rows.filter((_, i) => !preds[i]!.anomaly);
    expect(normal.length).toBeGreaterThan(100);
  });
  afterAll(async () => {
    if (isRunning(edge)) expect(await stopEdge(edge)).toBe(0);
  });

  /** A source's rows from a pattern: 'n' a normal row, 'A' the odd one; each with its place in `time` (minutes after T0). */
  const rowsOf = (source: string, pattern: string, offset: number) =>
    [...pattern].map((c, k) => ({ ...(c === 'A' ? odd : normal[(offset + k) % normal.length]), source, time: new Date(T0 + k * 60_000).toISOString() }));
  const place = (time: unknown) => (Date.parse(String(time)) - T0) / 60_000;
  const rep = (c: string, n: number) => c.repeat(n);

  it('sends the 12 rows before a flagged row and the 12 after it as flagged: false, each once, in order; none counts as an anomaly', async () => {
    const before = await monitoring(edge);
    expect(before.events).toEqual([]);
    const anomaliesBefore = await metric(edge, 'millwright_anomalies_total');

    // line-a: two anomalous stretches; line-b: one flagged row right after the start, interleaved in the same requests.
    const a = rowsOf('line-a', `${rep('n', 20)}AAA${rep('n', 5)}AA${rep('n', 35)}A${rep('n', 3)}`, 0);
    const b = rowsOf('line-b', `nnnA${rep('n', 30)}`, 100);
    const mixed: Record<string, unknown>[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i]) mixed.push(a[i]!);
      if (b[i]) mixed.push(b[i]!);
    }
    let from = 0;
    for (const size of [7, 13, 1, 4, 30, 9, 2, 50]) {
      const batch = mixed.slice(from, from + size);
      from += size;
      if (!batch.length) break;
      const r = await callEdge(edge.port, 'POST', '/predict', batch, TOKEN);
      expect(r.status, r.text).toBe(200);
    }
    expect(from).toBeGreaterThanOrEqual(mixed.length);

    const page = await monitoring(edge, before.cursor);
    const seen = (source: string) => page.events.filter((e) => e.source === source).map((e) => [place(e.time), (e as { flagged?: boolean }).flagged]);
    const ctx = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => [from + k, false]);
    const hit = (k: number) => [[k, true]];
    // line-a: rows 8–19 before, 20–22 flagged, 23–27 after (the count restarts at each flagged row), 28–29 flagged,
    // 30–41 after; of the unsent 42–64 the last 12 (53–64) go before the flagged 65, and 66–68 after it.
    expect(seen('line-a')).toEqual([...ctx(8, 20), ...hit(20), ...hit(21), ...hit(22), ...ctx(23, 28), ...hit(28), ...hit(29), ...ctx(30, 42), ...ctx(53, 65), ...hit(65), ...ctx(66, 69)]);
    // line-b: fewer than 12 rows before its flagged row; 12 after, the rest not sent.
    expect(seen('line-b')).toEqual([...ctx(0, 3), ...hit(3), ...ctx(4, 16)]);

    // Ordinary events: one sequence, each number once, in the order the rows were answered.
    const seqs = page.events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
    // Context events carry the row's inputs and score as flagged ones do.
    const first = page.events.find((e) => e.source === 'line-a')!;
    expect(first).toMatchObject({ model: 'plain', version: '1', flagged: false, inputs: { Inlet: Math.fround(Number(normal[8]!.Inlet)) } });
    expect(typeof first.score).toBe('number');
    const flaggedEvent = page.events.find((e) => (e as { flagged?: boolean }).flagged)!;
    expect(flaggedEvent.inputs).toMatchObject({ Inlet: 120, Outlet: 20, Pressure: 1, Grade: 'B' });

    // Only the flagged rows are anomalies, in the buckets and in /metrics.
    const flaggedCount = 7;
    expect(page.events.filter((e) => (e as { flagged?: boolean }).flagged).length).toBe(flaggedCount);
    expect(page.buckets.reduce((s, x) => s + x.anomalies, 0)).toBe(flaggedCount);
    expect(page.buckets.reduce((s, x) => s + x.rows, 0)).toBe(a.length + b.length);
    expect((await metric(edge, 'millwright_anomalies_total')) - anomaliesBefore).toBe(flaggedCount);
    expect(page.counters.anomalies - before.counters.anomalies).toBe(flaggedCount);

    // A smoke test's rows neither send context nor move a source's count.
    const smoke = await callEdge(edge.port, 'POST', '/predict', rowsOf('line-c', 'nnnAnnn', 0), TOKEN, SMOKE_HEADERS);
    expect(smoke.status).toBe(200);
    expect((await monitoring(edge, page.cursor)).events).toEqual([]);
  });
});
