/**
 * The edge runtime's feedback pieces, as the app uses them: the real
 * endpoint as a child process on loopback with signed bundles. Context rows:
 * the rows just before and after a flagged row go out as events marked
 * `flagged: false`, in exact numbers and order, and never count as
 * anomalies. Shadow models: a challenger scores every request beside
 * production (which answers the same bytes as without it), and the buckets'
 * comparison equals what ONNX Runtime in this process gives for both models
 * on the rows sent; refused when tampered with or unable to score
 * production's rows; kept across restarts and production swaps.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { plantFrame, settings, train, withOddRows } from './services/onnx/parity-harness';
import type { OnnxSignature } from './services/onnx/export';
import { attr, encodeModel, GraphBuilder, valueInfo } from './services/onnx/proto';
import type { Frame } from './services/training/frame';
import type { FittedPipeline } from './services/training/pipeline';
import {
  bundleEntries,
  callEdge,
  HGB,
  IFOREST,
  LINEAR,
  isRunning,
  killAll,
  modelBundle,
  NO_TIME,
  objects,
  signingKey,
  startEdge,
  stopEdge,
  tarGz,
  writeSignedBundle,
  type Edge,
  type ModelBundle,
  type SigningKey,
} from './test-support/edge-child';
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
  type Rows = Record<string, unknown>[];

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

  it('goes on where it stood after a restart: the rows kept before, and the count after, a flagged row', async () => {
    const before = await monitoring(edge);
    const send = async (rows: Rows) => expect((await callEdge(edge.port, 'POST', '/predict', rows, TOKEN)).status).toBe(200);
    const d = rowsOf('line-d', `${rep('n', 5)}A${rep('n', 3)}`, 200);
    const e = rowsOf('line-e', `nnnAnn${rep('n', 20)}`, 250);
    await send([...d.slice(0, 5), ...e.slice(0, 6)]);
    expect(await stopEdge(edge)).toBe(0);
    edge = await startEdge(plain.dir, [...TOKENS, '--state', path.join(tmp, 'state-context')]);
    await send([...d.slice(5), ...e.slice(6)]);
    const page = await monitoring(edge, before.cursor);
    const seen = (source: string) => page.events.filter((x) => x.source === source).map((x) => [place(x.time), (x as { flagged?: boolean }).flagged]);
    const ctx = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => [from + k, false]);
    expect(seen('line-d')).toEqual([...ctx(0, 5), [5, true], ...ctx(6, 9)]);
    expect(seen('line-e')).toEqual([...ctx(0, 3), [3, true], ...ctx(4, 16)]);
    // The rows kept across the restart carry their inputs as the others do.
    const kept = page.events.find((x) => x.source === 'line-d')!;
    const first = d[0] as Rows[number];
    const f32 = (v: unknown) => (v === null || v === undefined ? null : Math.fround(Number(v)));
    expect(Object.keys(kept.inputs)).toEqual(plain.sig.inputs.map((i) => i.name));
    expect([kept.inputs.Inlet, kept.inputs.Outlet]).toEqual([f32(first.Inlet), f32(first.Outlet)]);
  });

  it('never push anomalies out of the event log; paging reads each kept event once, in order, and counts what was dropped by kind', async () => {
    // Caps of 20 anomalies and 20 context rows: ten flagged rows with 24 context rows each overflow the context cap only.
    const small = await startEdge(plain.dir, [...TOKENS, '--state', path.join(tmp, 'state-small-log')], { MILLWRIGHT_EVENTS_KEPT: '20' });
    try {
      type Dropped = { events: number; anomalies: number | null };
      /** Every page from `cursor` on, `limit` events at a time. */
      const readAll = async (cursor: string) => {
        const got: (MonitoringPage['events'][number] & { flagged?: boolean })[] = [];
        const dropped: Dropped = { events: 0, anomalies: 0 };
        for (let more = true; more; ) {
          const r = await callEdge(small.port, 'GET', `/admin/monitoring?limit=7&cursor=${cursor}`, undefined, ADMIN);
          expect(r.status, r.text).toBe(200);
          const page = r.body as MonitoringPage & { dropped: Dropped };
          got.push(...page.events);
          dropped.events += page.dropped.events;
          dropped.anomalies = dropped.anomalies === null || page.dropped.anomalies === null ? null : dropped.anomalies + page.dropped.anomalies;
          cursor = page.cursor;
          more = page.more;
        }
        return { got, dropped, cursor };
      };
      const eventSeq = (cursor: string) => Number(cursor.split('.')[1]);
      const start = (await readAll('')).cursor;
      const pattern = Array.from({ length: 10 }, () => `${rep('n', 30)}A`).join('');
      const rows = rowsOf('line-x', pattern, 0);
      for (let k = 0; k < rows.length; k += 50) expect((await callEdge(small.port, 'POST', '/predict', rows.slice(k, k + 50), TOKEN)).status).toBe(200);

      const first = await readAll(start);
      const flaggedAt = [...pattern].flatMap((c, k) => (c === 'A' ? [k] : []));
      expect(first.got.filter((e) => e.flagged).map((e) => place(e.time))).toEqual(flaggedAt);
      // 10 flagged rows, 12 rows before each and 12 after each but the last (the pattern ends with it): 238 events; of the context rows the newest 20 are kept.
      expect(first.got.filter((e) => !e.flagged)).toHaveLength(20);
      const seqs = first.got.map((e) => e.seq);
      expect(seqs, 'each event once, in order').toEqual([...new Set(seqs)].sort((a, b) => a - b));
      expect(first.dropped).toEqual({ events: 238 - 30, anomalies: 0 });
      expect(first.got.length + first.dropped.events, 'what was read and what was dropped make up every number').toBe(eventSeq(first.cursor) - eventSeq(start));

      // 30 flagged rows in a row, unread: now anomalies go too, the oldest 20 of the 40, and the reader is told so.
      const burst = rowsOf('line-x', `${rep('A', 30)}${rep('n', 12)}`, 0).map((r, k) => ({ ...r, time: new Date(T0 + (pattern.length + k) * 60_000).toISOString() }));
      expect((await callEdge(small.port, 'POST', '/predict', burst, TOKEN)).status).toBe(200);
      const again = await readAll(start);
      expect(again.got.filter((e) => e.flagged).map((e) => place(e.time))).toEqual(Array.from({ length: 20 }, (_, k) => pattern.length + 10 + k));
      expect(again.dropped).toEqual({ events: 238 + 42 - again.got.length, anomalies: 20 });
      // Read from where the first reader stood: only the new events, none again.
      const after = await readAll(first.cursor);
      expect(after.got.every((e) => e.seq > eventSeq(first.cursor))).toBe(true);
      expect(after.got.length + after.dropped.events).toBe(42);
      expect(after.dropped.anomalies).toBe(10);

      // A restart keeps what was dropped dropped, and the count of dropped anomalies.
      expect(await stopEdge(small)).toBe(0);
      const restarted = await startEdge(plain.dir, [...TOKENS, '--state', path.join(tmp, 'state-small-log')], { MILLWRIGHT_EVENTS_KEPT: '20' });
      try {
        const r = await callEdge(restarted.port, 'GET', `/admin/monitoring?limit=10000&cursor=${start}`, undefined, ADMIN);
        const page = r.body as MonitoringPage & { dropped: Dropped };
        expect(page.events.map((e) => e.seq)).toEqual(again.got.map((e) => e.seq));
        expect(page.dropped).toEqual(again.dropped);
      } finally {
        expect(await stopEdge(restarted)).toBe(0);
      }
    } finally {
      if (isRunning(small)) expect(await stopEdge(small)).toBe(0);
    }
  });
});

type Ctx = { name: string; version: string; time: string | number | null; score: number | null; receivedAt: number; inputs?: Record<string, unknown> };
/** The edge runtime's own context module (plain CommonJS), run in this process to see what it keeps alive. */
const { ContextRows, CONTEXT_ROWS, MAX_EVENT_TEXT } = createRequire(import.meta.url)('../resources/runtime/lib/context.js') as {
  CONTEXT_ROWS: number;
  MAX_EVENT_TEXT: number;
  ContextRows: new (add: (e: Record<string, unknown>) => void, maxSources?: number) => {
    row(source: string, row: Ctx & { model: object; cols: ArrayLike<unknown>[]; i: number }, flagged: boolean): void;
    bySource: Map<string, { before: Ctx[]; after: number }>;
    toJSON(): unknown;
    load(saved: unknown): void;
  };
};

describe('context rows kept in memory', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const settle = async () => {
    for (let k = 0; k < 3; k++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
  };
  const twoInputs = { name: 'M', version: '1', inputs: [{ name: 'a' }, { name: 'b' }] };
  const answered = (cols: ArrayLike<unknown>[], i: number, t: number) => ({ name: 'M', version: '1', model: twoInputs, cols, i, time: t, score: 0.1, receivedAt: T0 + t });

  it('are copies of the row\'s own values: the request\'s columns are changed and let go, and the events still carry the values answered', async () => {
    const events: Record<string, unknown>[] = [];
    const ctx = new ContextRows((e) => events.push(e));
    const n = 50_000;
    /** One request's rows; its arrays are then reused for another request (the same memory overwritten) and dropped. */
    const request = () => {
      const cols = [Float64Array.from({ length: n }, (_, i) => i), Float64Array.from({ length: n }, (_, i) => -i)];
      for (let i = 0; i < n; i++) ctx.row('line', answered(cols, i, i), false);
      cols[0]!.fill(7);
      cols[1]!.fill(7);
      return new WeakRef(cols[0]!);
    };
    const gone = request();
    const kept = ctx.bySource.get('line')!.before;
    expect(kept).toHaveLength(CONTEXT_ROWS);
    for (const r of kept) expect(Object.keys(r).sort()).toEqual(['inputs', 'name', 'receivedAt', 'score', 'time', 'version']);
    await settle();
    expect(gone.deref(), 'the request\'s columns are no longer held').toBeUndefined();

    ctx.row('line', answered([[99], [99]], 0, n), true);
    expect(events.map((e) => [e.time, e.inputs, e.flagged])).toEqual([
      ...Array.from({ length: CONTEXT_ROWS }, (_, k) => [n - CONTEXT_ROWS + k, { a: n - CONTEXT_ROWS + k, b: -(n - CONTEXT_ROWS + k) }, false]),
      [n, { a: 99, b: 99 }, true],
    ]);
  });

  it('keep at most MAX_EVENT_TEXT characters of a text input, saying how long it was; short text and numbers as answered', () => {
    const events: Record<string, unknown>[] = [];
    const ctx = new ContextRows((e) => events.push(e));
    const huge = 'x'.repeat(1_000_000);
    const exact = 'y'.repeat(MAX_EVENT_TEXT);
    ctx.row('line', answered([[huge], [3.5]], 0, 1), false);
    ctx.row('line', answered([[exact], ['short']], 0, 2), true);
    expect(events).toHaveLength(2);
    const [before, flagged] = events.map((e) => e.inputs as Record<string, unknown>);
    expect(before!.a).toBe(`${'x'.repeat(MAX_EVENT_TEXT)}… (1000000 characters)`);
    expect(before!.b).toBe(3.5);
    expect(flagged).toEqual({ a: exact, b: 'short' });
    expect(JSON.stringify(events).length, 'a megabyte of text is not kept').toBeLessThan(2_000);
  });

  it('clip text read back from an edited state.json too, keep text clipped before as it was, and drop values that are not plain', () => {
    const events: Record<string, unknown>[] = [];
    const ctx = new ContextRows((e) => events.push(e));
    ctx.row('line', answered([['x'.repeat(5000)], [1]], 0, 1), false);
    const saved = JSON.parse(JSON.stringify(ctx.toJSON())) as { before: { inputs: Record<string, unknown>; time: unknown }[] }[];
    const clipped = saved[0]!.before[0]!.inputs.a;
    saved[0]!.before.push({ ...saved[0]!.before[0]!, inputs: { a: 'z'.repeat(1_000_000), b: { nested: 'z'.repeat(1000) } }, time: 't'.repeat(100_000) });
    // A time no Date can hold: the row is dropped, not a failure of every flagged row later.
    saved[0]!.before.push({ ...saved[0]!.before[0]!, receivedAt: 1e300 } as (typeof saved)[0]['before'][0]);
    const back = new ContextRows((e) => events.push(e));
    back.load(saved);
    back.row('line', answered([['now'], [2]], 0, 2), true);
    expect(events.map((e) => e.inputs)).toEqual([
      { a: clipped, b: 1 },
      { a: `${'z'.repeat(MAX_EVENT_TEXT)}… (1000000 characters)`, b: null },
      { a: 'now', b: 2 },
    ]);
    expect(clipped).toBe(`${'x'.repeat(MAX_EVENT_TEXT)}… (5000 characters)`);
    expect(events[1]!.time).toBe(`${'t'.repeat(MAX_EVENT_TEXT)}… (100000 characters)`);
  });

  it('are the rows of the model that flagged: after a push, the old version\'s rows go neither before nor after the new one\'s anomalies', () => {
    const events: Record<string, unknown>[] = [];
    const ctx = new ContextRows((e) => events.push(e));
    const v = (version: string, t: number) => ({ ...answered([[t], [t]], 0, t), version });
    for (let t = 0; t < 5; t++) ctx.row('line', v('1', t), false);
    ctx.row('line', v('2', 5), false);
    ctx.row('line', v('2', 6), true);
    ctx.row('line', v('2', 7), false);
    ctx.row('line', v('3', 8), false);
    ctx.row('line', v('3', 9), true);
    expect(events.map((e) => [e.time, e.version, e.flagged])).toEqual([
      [5, '2', false],
      [6, '2', true],
      [7, '2', false],
      [8, '3', false],
      [9, '3', true],
    ]);
    // Saved and restored, a count after a flagged row still belongs to its model.
    const back = new ContextRows((e) => events.push(e));
    back.load(JSON.parse(JSON.stringify(ctx.toJSON())));
    events.length = 0;
    back.row('line', v('3', 10), false);
    expect(events.map((e) => [e.time, e.version, e.flagged]), 'the same model: sent as after').toEqual([[10, '3', false]]);
    back.load(JSON.parse(JSON.stringify(ctx.toJSON())));
    events.length = 0;
    back.row('line', v('4', 10), false);
    expect(events, 'another model: kept to go before its own anomaly').toEqual([]);
    back.row('line', v('4', 11), true);
    expect(events.map((e) => [e.time, e.version, e.flagged])).toEqual([
      [10, '4', false],
      [11, '4', true],
    ]);
  });

  it('hold at most 12 small rows for each of the most recently seen sources, however large their requests were', async () => {
    await settle();
    const base = process.memoryUsage().arrayBuffers;
    const ctx = new ContextRows(() => undefined, 200);
    // 300 sources, each last sent a 50,000-row request (800 KB of columns): 240 MB if the kept rows held them.
    for (let s = 0; s < 300; s++) {
      const cols = [new Float64Array(50_000).fill(s), new Float64Array(50_000).fill(-s)];
      for (let i = 50_000 - CONTEXT_ROWS - 3; i < 50_000; i++) ctx.row(`src${s}`, answered(cols, i, i), false);
    }
    await settle();
    expect((process.memoryUsage().arrayBuffers - base) / 1e6, 'MB of request columns still held').toBeLessThan(5);
    expect([...ctx.bySource.keys()]).toEqual(Array.from({ length: 200 }, (_, k) => `src${k + 100}`));
    expect([...ctx.bySource.values()].every((c) => c.before.length === CONTEXT_ROWS)).toBe(true);
    expect(ctx.bySource.get('src299')!.before[0]!.inputs).toEqual({ a: 299, b: -299 });
    // Saved with more sources than a restart allows: the least recently seen are the ones forgotten.
    const fewer = new ContextRows(() => undefined, 50);
    fewer.load(JSON.parse(JSON.stringify(ctx.toJSON())));
    expect([...fewer.bySource.keys()]).toEqual(Array.from({ length: 50 }, (_, k) => `src${k + 250}`));
  });
});

type Logged = { seq: number; flagged?: boolean; n: number };
const { SeqLog } = createRequire(import.meta.url)('../resources/runtime/lib/state.js') as {
  SeqLog: new (dir: string, cap: number, name: string, contextCap: number) => {
    seq: number;
    add(e: { flagged: boolean; n: number }): void;
    since(cursor: number, limit: number): Logged[];
    lost(cursor: number, to: number): { events: number; anomalies: number | null };
    flush(sync?: boolean): Promise<void>;
    load(savedSeq: number, saved: unknown): void;
    droppedJSON(): unknown;
  };
};

describe('the event log with context rows', () => {
  it('keeps the newest anomalies up to its cap whatever the context rows; a reader paging meanwhile gets each kept event once and is told each dropped one, by kind', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'seqlog-'));
    const log = new SeqLog(dir, 8, 'events.jsonl', 8);
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const flagged: boolean[] = [false];
    let cursor = 0;
    const read: Logged[] = [];
    let lostEvents = 0;
    let lostAnomalies = 0;
    for (let step = 0; step < 3000; step++) {
      // Mostly context rows (a noisy stretch now and then), read now and then with a small page.
      const f = random() < (step % 500 < 100 ? 0.5 : 0.04);
      log.add({ flagged: f, n: step });
      flagged.push(f);
      if (random() < 0.02) {
        for (let more = true; more; ) {
          const page = log.since(cursor, 5);
          const to = page.length ? page.at(-1)!.seq : cursor;
          const lost = log.lost(cursor, to);
          lostEvents += lost.events;
          lostAnomalies += lost.anomalies!;
          read.push(...page);
          cursor = to;
          more = log.since(cursor, 1).length > 0;
        }
      }
    }
    const seqs = read.map((e) => e.seq);
    expect(seqs, 'each once, in order').toEqual([...new Set(seqs)].sort((a, b) => a - b));
    expect(read.every((e) => e.flagged === flagged[e.seq] && e.n === e.seq - 1)).toBe(true);
    expect(read.length + lostEvents, 'every number up to the cursor read or told dropped').toBe(cursor);
    const anomaliesUpTo = flagged.slice(1, cursor + 1).filter(Boolean).length;
    expect(read.filter((e) => e.flagged).length + lostAnomalies).toBe(anomaliesUpTo);
    // Both kinds were dropped on the way (the noisy stretches overflow the anomalies' cap too).
    expect(lostAnomalies).toBeGreaterThan(0);
    expect(lostEvents - lostAnomalies).toBeGreaterThan(lostAnomalies);

    // Unread, the newest 8 anomalies stay however many context rows follow them.
    const tail = log.seq;
    for (let k = 0; k < 8; k++) log.add({ flagged: true, n: tail + k });
    for (let k = 0; k < 500; k++) log.add({ flagged: false, n: tail + 8 + k });
    const kept = log.since(tail, 1000);
    expect(kept.filter((e) => e.flagged).map((e) => e.n)).toEqual(Array.from({ length: 8 }, (_, k) => tail + k));
    expect(kept.filter((e) => !e.flagged)).toHaveLength(8);
    expect(log.lost(tail, log.seq)).toEqual({ events: 500 - 8, anomalies: 0 });

    // A restart (file and state.json) shows the same events and the same counts; those dropped but still on disk stay dropped.
    await log.flush(true);
    const back = new SeqLog(dir, 8, 'events.jsonl', 8);
    back.load(log.seq, JSON.parse(JSON.stringify(log.droppedJSON())));
    expect(back.since(0, 1e6)).toEqual(log.since(0, 1e6));
    for (const c of [0, 100, cursor, tail]) expect(back.lost(c, log.seq)).toEqual(log.lost(c, log.seq));
  });
});

// ---------------------------------------------------------------- shadow models

type Rows = Record<string, unknown>[];
interface Direct {
  anomaly?: number[];
  label?: string[];
  value?: number[];
}

/** A /predict value as the graph gets it: missing as NaN, yes/no as 1/0, numbers given as text as numbers. */
const numberOf = (v: unknown) => (v === null || v === undefined || v === '' ? NaN : typeof v === 'boolean' ? Number(v) : Number(v));

/** The graph's inputs for /predict rows, made here independently of the endpoint. */
function feedsOf(sig: OnnxSignature, rows: Rows): Record<string, ort.Tensor> {
  return Object.fromEntries(
    sig.inputs.map((input) => [
      input.name,
      input.type === 'string' ? new ort.Tensor('string', rows.map((r) => (r[input.name] === null || r[input.name] === undefined ? '' : String(r[input.name]))), [rows.length]) : new ort.Tensor('float32', Float32Array.from(rows, (r) => numberOf(r[input.name])), [rows.length]),
    ]),
  );
}

/** ONNX Runtime in this process on the rows, in order (a window model sees them as one stream). */
async function direct(session: ort.InferenceSession, sig: OnnxSignature, rows: Rows): Promise<Direct> {
  const out = await session.run(feedsOf(sig, rows));
  return {
    ...(out.anomaly ? { anomaly: Array.from(out.anomaly.data as BigInt64Array, Number) } : {}),
    ...(out.label ? { label: Array.from(out.label.data as ArrayLike<string>) } : {}),
    ...(out.value ? { value: Array.from(out.value.data as Float32Array) } : {}),
  };
}

type Tally = { rows: number; agreed: number; anomalies: number; productionAnomalies: number; errors: number };
const zero = (): Tally => ({ rows: 0, agreed: 0, anomalies: 0, productionAnomalies: 0, errors: 0 });

/** The comparison the buckets should hold, counted here: the same class or flag, or a value within 1% (or 1e-6) of production's. */
function tallyOf(p: Direct, s: Direct, rows: number[], into = zero()): Tally {
  for (const i of rows) {
    into.rows++;
    if (p.anomaly && s.anomaly) {
      into.productionAnomalies += p.anomaly[i]!;
      into.anomalies += s.anomaly[i]!;
      if (p.anomaly[i] === s.anomaly[i]) into.agreed++;
    } else if (p.label && s.label) {
      if (p.label[i] === s.label[i]) into.agreed++;
    } else if (p.value && s.value) {
      if (Math.abs(s.value[i]! - p.value[i]!) <= Math.max(0.01 * Math.abs(p.value[i]!), 1e-6)) into.agreed++;
    }
  }
  return into;
}

/** The shadow counts of every bucket of a page, summed; null when no bucket has any. */
function shadowTotals(page: MonitoringPage): (Tally & { names: string[] }) | null {
  const with_ = page.buckets.filter((b) => b.shadow);
  if (!with_.length) return null;
  const t = zero();
  for (const b of with_) for (const k of Object.keys(t) as (keyof Tally)[]) t[k] += b.shadow![k];
  return { ...t, names: [...new Set(with_.map((b) => `${b.shadow!.name} v${b.shadow!.version}`))] };
}

/**
 * A hand-made anomaly graph with production's inputs that fails on rows ONNX
 * Runtime cannot score: its score is a table lookup at floor(Inlet), so an
 * Inlet of 1000 or more is out of the table (flagged above 62).
 */
function throwingGraph(sig: OnnxSignature): Uint8Array {
  const g = new GraphBuilder([...sig.inputs.map((i) => i.name), 'score', 'anomaly']);
  const zero32 = g.scalar('float32', 0);
  const inlet = g.op('Max', [g.op('Where', [g.op('IsNaN', ['Inlet']), zero32, 'Inlet']), zero32]);
  const table = g.constant('float32', Array.from({ length: 1000 }, (_, i) => i), [1000], 'table');
  const looked = g.op('Gather', [table, g.cast(inlet, 'int64')], [attr.int('axis', 0)]);
  g.node('Identity', [looked], [], { outputNames: ['score'] });
  g.node('Cast', [g.op('Greater', [looked, g.scalar('float32', 62)])], [attr.int('to', 7)], { outputNames: ['anomaly'] });
  const inputs = sig.inputs.map((i) => valueInfo(i.name, i.type, ['N']));
  return encodeModel({ graph: g.graph('throwing', inputs, [valueInfo('score', 'float32', ['N']), valueInfo('anomaly', 'int64', ['N'])], ''), producerVersion: 'test', modelVersion: 9, docString: '', metadata: [] });
}

/** An Open Inference Protocol request for /predict rows of one source. */
function inferBody(sig: OnnxSignature, rows: Rows, source: string) {
  return {
    parameters: { source },
    inputs: [
      ...sig.inputs.map((i) => ({
        name: i.name,
        shape: [rows.length],
        datatype: i.type === 'string' ? 'BYTES' : 'FP64',
        data: rows.map((r) => (i.type === 'string' ? (r[i.name] ?? null) : Number.isNaN(numberOf(r[i.name])) ? null : numberOf(r[i.name]))),
      })),
      { name: 'Time', shape: [rows.length], datatype: 'BYTES', data: rows.map((r) => r.Time) },
    ],
  };
}

describe('a shadow model beside production', () => {
  let scoring: Frame;
  let prod: ModelBundle;
  let challenger: ModelBundle;
  let prod3: ModelBundle;
  let thrower: ModelBundle;
  let fewer: ModelBundle;
  let classifier: ModelBundle;
  const tgz: Record<string, Buffer> = {};
  /** Production alone, and production with a shadow: the same requests go to both. */
  let alone: Edge;
  let shadowed: Edge;
  const state = () => path.join(tmp, 'state-shadowed');
  /** Every row sent to `shadowed` per source, in order, and which production version answered it. */
  const streams = new Map<string, Rows>();
  const iso = (i: number) => new Date((scoring.columns.get('Time') as { values: Float64Array }).values[i]!).toISOString();
  const rowsAt = (from: number, to: number, source: string) => objects(scoring, prod.sig, from, to, (i) => ({ source, Time: iso(i) }));

  beforeAll(async () => {
    scoring = withOddRows(plantFrame(900, 2));
    const bundle = async (name: string, p: FittedPipeline, version: number) => {
      const b = await modelBundle(path.join(tmp, `${name}-v${version}`), p, name, version, 'Time', key);
      tgz[`${name}-v${version}`] = tarGz(bundleEntries(b.dir));
      return b;
    };
    prod = await bundle('odd', train(frame, settings('anomaly'), [IFOREST]), 1);
    challenger = await bundle('odd', train(frame, settings('anomaly'), [{ algorithm: 'iforest', params: { trees: 25, sampleSize: 96 } }]), 2);
    prod3 = await bundle('odd', train(frame, settings('anomaly'), [{ algorithm: 'iforest', params: { trees: 40, sampleSize: 160 } }]), 3);
    fewer = await bundle('odd-fewer', train(frame, settings('anomaly', { inputs: ['Inlet', 'Outlet', 'Pump'] }), [IFOREST]), 1);
    classifier = await bundle('failure', train(frame, settings('binary'), [HGB]), 1);
    expect(challenger.sig.historyRows, 'the challenger has window features').toBeGreaterThan(5);
    const bytes = throwingGraph(prod.sig);
    const dir = path.join(tmp, 'thrower');
    writeSignedBundle(dir, { format: 1, name: 'odd', version: 9, createdAt: new Date().toISOString(), appVersion: 'test', signature: { inputs: prod.sig.inputs, outputs: [{ name: 'score', type: 'float32', shape: ['N'] }, { name: 'anomaly', type: 'int64', shape: ['N'] }], task: 'anomaly', classes: null, threshold: 62, target: null, historyRows: 0 }, timeColumn: 'Time' }, { 'model.onnx': bytes }, key);
    thrower = { dir, name: 'odd', sig: prod.sig, bytes, session: await ort.InferenceSession.create(Buffer.from(bytes)) };
    tgz['odd-v9'] = tarGz(bundleEntries(dir));
    alone = await startEdge(prod.dir, [...TOKENS, '--state', path.join(tmp, 'state-alone')]);
    shadowed = await startEdge(prod.dir, [...TOKENS, '--state', state()]);
  }, 180_000);
  afterAll(async () => {
    for (const e of [alone, shadowed]) if (e && isRunning(e)) await stopEdge(e);
    for (const b of [prod, challenger, prod3, fewer, classifier, thrower]) await b?.session.release();
  });

  /** Sends the same requests to both endpoints; production's answers must be the same bytes. Returns the rows sent per request. */
  async function sendBoth(requests: { rows: Rows; v2?: string }[], edges: Edge[] = [alone, shadowed]) {
    for (const { rows, v2 } of requests) {
      const texts: string[] = [];
      for (const edge of edges) {
        const r = v2 ? await callEdge(edge.port, 'POST', '/v2/models/odd/infer', inferBody(prod.sig, rows, v2), TOKEN) : await callEdge(edge.port, 'POST', '/predict', rows, TOKEN);
        expect(r.status, r.text).toBe(200);
        texts.push(r.text);
      }
      expect(new Set(texts).size, 'production answers the same bytes with a shadow as without').toBe(1);
      for (const [k, row] of rows.entries()) {
        const source = v2 ?? String(row.source);
        if (!streams.has(source)) streams.set(source, []);
        streams.get(source)!.push({ ...rows[k]!, source });
      }
    }
  }

  it('refuses a tampered bundle (400) and one that cannot score production\'s rows (409), in words, and runs none', async () => {
    const entries = bundleEntries(challenger.dir);
    const manifest = fs.readFileSync(path.join(challenger.dir, 'manifest.json'), 'utf8').replace('"version": 2', '"version": 7');
    const tampered = tarGz(entries.map((e) => (e.name === 'manifest.json' ? { name: e.name, data: Buffer.from(manifest) } : e)));
    const cases: [string, Buffer, number, RegExp][] = [
      ['tampered', tampered, 400, /^manifest\.sig does not verify with the workspace key pinned at install .*manifest\.json was changed after it was signed/],
      ['fewer inputs', tgz['odd-fewer-v1']!, 409, /^The shadow bundle's inputs differ from production's: odd-fewer version 1: it does not take "Pressure", "Grade", which production \(odd version 1\) does\. A shadow must take the same inputs as the model it runs beside\.$/],
      ['another kind of model', tgz['failure-v1']!, 409, /^The shadow bundle \(failure version 1\) is a classifier and production \(odd version 1\) is an anomaly model: a shadow must answer the same kind of question\.$/],
      ['not gzip', Buffer.from('not a bundle'), 400, /^The uploaded shadow bundle is not a \.tar\.gz bundle/],
    ];
    for (const [what, body, status, message] of cases) {
      const r = await admin(shadowed, 'POST', '/admin/shadow', body);
      expect(r.status, `${what}: ${r.text}`).toBe(status);
      expect(r.body.error, what).toMatch(message);
    }
    expect((await admin(shadowed, 'GET', '/admin/status')).body.shadow).toBeNull();
    expect(fs.existsSync(path.join(state(), 'shadow.json'))).toBe(false);
    const refusals = shadowed.lines.filter((l) => 'admin' in l).map((l) => l.admin as { action: string; ok: boolean });
    expect(refusals).toEqual(cases.map(() => expect.objectContaining({ action: 'shadow', ok: false })));
  });

  it('scores every request beside production, /predict and /v2 alike; production answers the same bytes; the buckets count what scoring both here gives', async () => {
    // Some rows before the shadow: the shadow's windows start with it.
    await sendBoth([{ rows: rowsAt(0, 30, 'line-1') }]);
    const before = await monitoring(shadowed);
    expect(shadowTotals(before)).toBeNull();
    const installed = await admin(shadowed, 'POST', '/admin/shadow', tgz['odd-v2']);
    expect(installed.status, installed.text).toBe(200);
    expect(installed.body).toEqual({ shadow: { name: 'odd', version: '2', since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } });
    const status = (await admin(shadowed, 'GET', '/admin/status')).body;
    expect(status.shadow).toEqual(installed.body.shadow);
    expect(status.model.version).toBe('1');

    const mark = new Map([...streams].map(([s, rows]) => [s, rows.length]));
    await sendBoth([
      { rows: rowsAt(30, 60, 'line-1') },
      { rows: [...rowsAt(100, 140, 'line-2'), ...rowsAt(60, 75, 'line-1')] },
      { rows: rowsAt(300, 340, 'plc'), v2: 'plc' },
      { rows: rowsAt(140, 150, 'line-2') },
      // The odd rows at the end of the frame (all missing, far out of range), on their own line.
      { rows: rowsAt(scoring.rows - 12, scoring.rows, 'line-3') },
    ]);
    // A smoke test's rows are answered, and neither counted nor compared.
    expect((await callEdge(shadowed.port, 'POST', '/predict', rowsAt(0, 20, 'line-9'), TOKEN, SMOKE_HEADERS)).status).toBe(200);

    const page = await monitoring(shadowed, before.cursor);
    const expected = zero();
    for (const [source, rows] of streams) {
      const from = mark.get(source) ?? 0;
      const p = await direct(prod.session, prod.sig, rows);
      const s = await direct(challenger.session, challenger.sig, rows.slice(from));
      // The shadow's windows start at its install: its rows are scored from there.
      const sAligned: Direct = { anomaly: [...new Array<number>(from).fill(0), ...s.anomaly!] };
      tallyOf(p, sAligned, Array.from({ length: rows.length - from }, (_, k) => from + k), expected);
    }
    const got = shadowTotals(page)!;
    expect(got).toEqual({ ...expected, names: ['odd v2'] });
    expect(got.rows).toBe(147);
    expect(got.agreed, 'the two models disagree on some rows').toBeLessThan(got.rows);
    expect(got.productionAnomalies).toBe(page.buckets.reduce((n, b) => n + b.anomalies, 0));
    // Production alone has no shadow counts.
    expect(shadowTotals(await monitoring(alone))).toBeNull();
  });

  it('a shadow that fails on some rows costs production nothing: those rows count as its errors', async () => {
    const r = await admin(shadowed, 'POST', '/admin/shadow', tgz['odd-v9']);
    expect(r.status, r.text).toBe(200);
    expect(r.body.shadow).toMatchObject({ name: 'odd', version: '9' });
    const before = await monitoring(shadowed);
    const hot = (rows: Rows, k: number) => rows.map((row, i) => (i === k ? { ...row, Inlet: 5000 } : row));
    const requests = [
      { rows: rowsAt(150, 160, 'line-2'), fails: false },
      { rows: hot(rowsAt(160, 170, 'line-2'), 4), fails: true },
      { rows: rowsAt(170, 175, 'line-2'), fails: false },
      { rows: hot(rowsAt(75, 80, 'line-1'), 0), fails: true },
      { rows: rowsAt(80, 100, 'line-1'), fails: false },
    ];
    const marks = new Map([...streams].map(([s, rows]) => [s, rows.length]));
    const started = Date.now();
    await sendBoth(requests.map(({ rows }) => ({ rows })));
    expect(Date.now() - started).toBeLessThan(10_000);
    const page = await monitoring(shadowed, before.cursor);
    // Production's flags over each whole stream; the shadow's on each request alone (it has no windows).
    const expected = zero();
    const prodFlags = new Map<string, Direct>();
    for (const [source, rows] of streams) prodFlags.set(source, await direct(prod.session, prod.sig, rows));
    const seen = new Map(marks);
    for (const { rows, fails } of requests) {
      const source = String(rows[0]!.source);
      const at = seen.get(source)!;
      seen.set(source, at + rows.length);
      if (fails) {
        expected.errors += rows.length;
        continue;
      }
      const s = await direct(thrower.session, thrower.sig, rows);
      tallyOf(prodFlags.get(source)!, { anomaly: [...new Array<number>(at).fill(0), ...s.anomaly!] }, rows.map((_, k) => at + k), expected);
    }
    await expect(direct(thrower.session, thrower.sig, requests[1]!.rows), 'ONNX Runtime here refuses those rows too').rejects.toThrow();
    expect(shadowTotals(page)).toEqual({ ...expected, names: ['odd v9'] });
    expect(expected.errors).toBe(15);
    expect(expected.anomalies, 'the shadow flags some rows').toBeGreaterThan(0);
    expect(shadowed.stderr()).toMatch(/The shadow model odd version 9 could not score rows \(1 time so far\)/);
  });

  it('runs on after a restart of the endpoint (with its windows) and a hot swap of production; removing it stops the counts', async () => {
    const c0 = (await monitoring(shadowed)).cursor;
    const installed = await admin(shadowed, 'POST', '/admin/shadow', tgz['odd-v2']);
    expect(installed.status, installed.text).toBe(200);
    const since = installed.body.shadow.since as string;
    const mark = new Map([...streams].map(([s, rows]) => [s, rows.length]));
    await sendBoth([{ rows: rowsAt(175, 200, 'line-2') }, { rows: rowsAt(100, 120, 'line-1') }]);

    expect(await stopEdge(shadowed)).toBe(0);
    // The shadow's own window rows are saved with the state, the newest of each source.
    const saved = JSON.parse(fs.readFileSync(path.join(state(), 'state.json'), 'utf8')) as { shadowStreams: { source: string; n: number; cols: unknown[][] }[] };
    const kept = new Map(saved.shadowStreams.map((k) => [k.source, k]));
    for (const source of ['line-1', 'line-2']) {
      expect(kept.get(source)?.n, source).toBe(challenger.sig.historyRows);
      expect(kept.get(source)!.cols[0]!.at(-1), source).toBe(Math.fround(Number(streams.get(source)!.at(-1)!.Inlet)));
    }
    shadowed = await startEdge(prod.dir, [...TOKENS, '--state', state()]);
    expect((await admin(shadowed, 'GET', '/admin/status')).body.shadow).toEqual({ name: 'odd', version: '2', since });
    await sendBoth([{ rows: rowsAt(200, 225, 'line-2') }, { rows: rowsAt(120, 140, 'line-1') }]);

    // Production swapped to version 3 (pushed, as a deploy does): the shadow stays.
    const pushed = await admin(shadowed, 'POST', '/admin/bundle', tgz['odd-v3']);
    expect(pushed.status, pushed.text).toBe(200);
    const status = (await admin(shadowed, 'GET', '/admin/status')).body;
    expect(status.model.version).toBe('3');
    expect(status.shadow).toEqual({ name: 'odd', version: '2', since });
    const swapAt = new Map([...streams].map(([s, rows]) => [s, rows.length]));
    await sendBoth([{ rows: rowsAt(225, 250, 'line-2') }, { rows: rowsAt(140, 160, 'line-1') }], [shadowed]);

    const page = await monitoring(shadowed, c0);
    const expected = zero();
    for (const source of ['line-1', 'line-2']) {
      const rows = streams.get(source)!;
      const from = mark.get(source)!;
      const swap = swapAt.get(source)!;
      const p1 = await direct(prod.session, prod.sig, rows);
      const p3 = await direct(prod3.session, prod3.sig, rows);
      // One stream for the shadow from its install, across the restart.
      const s = await direct(challenger.session, challenger.sig, rows.slice(from));
      const sAligned: Direct = { anomaly: [...new Array<number>(from).fill(0), ...s.anomaly!] };
      tallyOf(p1, sAligned, Array.from({ length: swap - from }, (_, k) => from + k), expected);
      tallyOf(p3, sAligned, Array.from({ length: rows.length - swap }, (_, k) => swap + k), expected);
    }
    expect(expected.rows).toBe(135);
    expect(shadowTotals(page)).toEqual({ ...expected, names: ['odd v2'] });
    expect(new Set(page.buckets.filter((b) => b.shadow).map((b) => b.version))).toEqual(new Set(['1', '3']));

    // Removed: gone from the status and the state folder; rows after it are not compared.
    const removed = await admin(shadowed, 'DELETE', '/admin/shadow');
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body).toEqual({ removed: { name: 'odd', version: '2', since } });
    expect((await admin(shadowed, 'GET', '/admin/status')).body.shadow).toBeNull();
    expect(fs.existsSync(path.join(state(), 'shadow.json'))).toBe(false);
    expect(fs.readdirSync(path.join(state(), 'shadow'))).toEqual([]);
    await sendBoth([{ rows: rowsAt(250, 270, 'line-2') }], [shadowed]);
    const after = await monitoring(shadowed, page.cursor);
    expect(after.buckets.reduce((n, b) => n + b.rows, 0)).toBe(20);
    expect(shadowTotals(after)).toBeNull();
    expect((await admin(shadowed, 'DELETE', '/admin/shadow')).body).toEqual({ removed: null });
    // And a restart does not bring it back.
    expect(await stopEdge(shadowed)).toBe(0);
    shadowed = await startEdge(prod.dir, [...TOKENS, '--state', state()]);
    expect((await admin(shadowed, 'GET', '/admin/status')).body.shadow).toBeNull();
  });
});

describe('a regression shadow', () => {
  it('agrees with production on a row when its value is within 1% of production\'s', async () => {
    const prod = await modelBundle(path.join(tmp, 'yield-v1'), train(frame, settings('regression', NO_TIME), [LINEAR]), 'yield', 1, null, key);
    const shadow = await modelBundle(path.join(tmp, 'yield-v2'), train(frame, settings('regression', NO_TIME), [HGB]), 'yield', 2, null, key);
    const edge = await startEdge(prod.dir, [...TOKENS, '--state', path.join(tmp, 'state-yield')]);
    try {
      const r = await admin(edge, 'POST', '/admin/shadow', tarGz(bundleEntries(shadow.dir)));
      expect(r.status, r.text).toBe(200);
      const rows = objects(frame, prod.sig, 0, 400);
      for (let from = 0; from < rows.length; from += 50) expect((await callEdge(edge.port, 'POST', '/predict', rows.slice(from, from + 50), TOKEN)).status).toBe(200);
      const expected = tallyOf(await direct(prod.session, prod.sig, rows), await direct(shadow.session, shadow.sig, rows), rows.map((_, i) => i));
      expect(shadowTotals(await monitoring(edge))).toEqual({ ...expected, names: ['yield v2'] });
      expect(expected.agreed, 'some rows within 1%, some not').toBeGreaterThan(0);
      expect(expected.agreed).toBeLessThan(rows.length);
    } finally {
      await stopEdge(edge);
      await prod.session.release();
      await shadow.session.release();
    }
  });
});

const { Metrics } = createRequire(import.meta.url)('../resources/runtime/lib/metrics.js') as {
  Metrics: new () => { shadow(info: { name: string; version: string }, t: Record<string, number>): void; render(m: { name: string; version: string; appVersion: string }): string; toJSON(): unknown; load(saved: unknown): void };
};

describe('shadow counters in /metrics', () => {
  const t = (rows: number, agreed: number) => ({ rows, agreed, anomalies: 1, productionAnomalies: 1, errors: 0 });
  const model = { name: 'M', version: '1', appVersion: 'test' };

  it('add up by shadow model version, survive a restart, and keep only the 20 most recent versions', () => {
    const m = new Metrics();
    expect(m.render(model)).not.toContain('millwright_shadow_');
    m.shadow({ name: 'M', version: '2' }, t(10, 9));
    m.shadow({ name: 'M', version: '2' }, t(5, 5));
    const back = new Metrics();
    back.load(JSON.parse(JSON.stringify(m.toJSON())));
    const text = back.render(model);
    expect(text).toContain('millwright_shadow_rows_total{name="M",version="2"} 15');
    expect(text).toContain('millwright_shadow_agreed_total{name="M",version="2"} 14');
    expect(text).toContain('millwright_shadow_anomalies_total{name="M",version="2"} 2');
    expect(text).toContain('millwright_shadow_errors_total{name="M",version="2"} 0');
    for (let v = 3; v < 30; v++) {
      back.shadow({ name: 'M', version: String(v) }, t(1, 1));
      // Version 2 is installed again now and then: still among the most recent.
      if (v % 10 === 0) back.shadow({ name: 'M', version: '2' }, t(1, 1));
    }
    back.shadow({ name: 'M', version: '2' }, t(1, 1));
    const many = back.render(model);
    expect(many.match(/^millwright_shadow_rows_total\{/gm)).toHaveLength(20);
    expect(many).toContain('millwright_shadow_rows_total{name="M",version="2"} 18');
    expect(many).not.toContain('version="10"');
    expect(many).toContain('millwright_shadow_rows_total{name="M",version="29"} 1');
  });
});
