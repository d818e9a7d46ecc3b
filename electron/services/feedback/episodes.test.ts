import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EpisodeDetailSchema, EpisodeSchema } from '../../../shared/feedback';
import { categoryProfile, numericProfile, type TrainingProfile } from '../deploy/profile';
import { contributing, dataTime, EventClock, groupStream, NO_REFERENCE, referenceOf, scanEvents, streamNewest, UTC_CLOCK, type Grouped, type StreamRow } from './episodes';
import { downsample, MAX_POINTS, type PointRow } from './points';
import { at, EventsFixture, MIN, T0, type EventSeed } from './events-fixture';
import type { FeedbackService } from './service';

/**
 * Grouping anomaly events into episodes: the pure rules over one stream, and
 * the scan over a real workspace (events stored as the monitor stores them).
 */

const row = (m: number, score = 0.7, inputs: Record<string, unknown> = {}, seq = m + 1, flagged = true): StreamRow => ({ seq, t: T0 + m * MIN, score, inputs, flagged });
const spans = (es: Grouped[]) => es.map((e) => [(e.start - T0) / MIN, (e.end - T0) / MIN, e.rows]).sort((a, b) => a[0]! - b[0]!);

describe('grouping one stream (pure)', () => {
  it('rows at most the gap apart are one episode; a gap of exactly the tolerance still joins, one minute more starts another', () => {
    const es = groupStream([], [row(0), row(10), row(20), row(51), row(52)], 10 * MIN, NO_REFERENCE);
    expect(spans(es)).toEqual([
      [0, 20, 3],
      [51, 52, 2],
    ]);
    expect(spans(groupStream([], [row(0), row(11)], 10 * MIN, NO_REFERENCE))).toEqual([
      [0, 0, 1],
      [11, 11, 1],
    ]);
  });

  it('rows arriving out of order are grouped by data time', () => {
    expect(spans(groupStream([], [row(52), row(0), row(20), row(51), row(10)], 10 * MIN, NO_REFERENCE))).toEqual([
      [0, 20, 3],
      [51, 52, 2],
    ]);
  });

  it('context rows never start or grow an episode; they join the chart of the one they are next to', () => {
    const ctx = (m: number) => row(m, 0.1, {}, 100 + m, false);
    const es = groupStream([], [ctx(-2), ctx(-1), row(0, 0.9), row(5, 0.8), ctx(6), ctx(7), ctx(300)], 10 * MIN, NO_REFERENCE);
    expect(spans(es)).toEqual([[0, 5, 2]]);
    expect(es[0]!.body.rows.map((p) => [(p.t - T0) / MIN, p.f])).toEqual([
      [-2, 0],
      [-1, 0],
      [0, 1],
      [5, 1],
      [6, 0],
      [7, 0],
    ]);
    // Only context rows: nothing.
    expect(groupStream([], [ctx(1), ctx(2)], 10 * MIN, NO_REFERENCE)).toEqual([]);
  });

  it('a late run within the gap of a known episode grows it; its peak is the highest score', () => {
    const [first] = groupStream([], [row(0, 0.7), row(5, 0.8)], 10 * MIN, NO_REFERENCE);
    first!.id = 7;
    first!.changed = false;
    const grown = groupStream([first!], [row(-8, 0.95), row(40, 0.99)], 10 * MIN, NO_REFERENCE);
    expect(grown.map((e) => [e.id, (e.start - T0) / MIN, (e.end - T0) / MIN, e.rows, e.peak])).toEqual([
      [7, -8, 5, 3, 0.95],
      [null, 40, 40, 1, 0.99],
    ]);
  });

  it('a late run that brings two known episodes within the gap of each other joins them, the lower id staying', () => {
    const known = groupStream([], [row(0, 0.7), row(60, 0.95)], 30 * MIN, NO_REFERENCE).map((e, i) => ({ ...e, id: 5 - i, changed: false }));
    const after = groupStream(known, [row(25, 0.8), row(45, 0.8)], 30 * MIN, NO_REFERENCE);
    expect(after.map((e) => [e.id, (e.start - T0) / MIN, (e.end - T0) / MIN, e.rows, e.peak, e.merged])).toEqual([[4, 0, 60, 4, 0.95, [5]]]);
    expect(after[0]!.body.rows.map((p) => (p.t - T0) / MIN)).toEqual([0, 25, 45, 60]);
  });

  it('data time: ISO with a zone, a date and time without one (UTC), epoch ms or s; else when received', () => {
    expect(dataTime('2024-03-04T09:00:00+01:00', 'x')).toBe(T0);
    expect(dataTime('2024-03-04 08:00:00', 'x')).toBe(T0);
    expect(dataTime('2024-03-04T08:00', 'x')).toBe(T0);
    expect(dataTime(T0, 'x')).toBe(T0);
    expect(dataTime(String(T0 / 1000), 'x')).toBe(T0);
    expect(dataTime(null, '2024-03-04T08:00:00.000Z')).toBe(T0);
    expect(dataTime('not a time', '2024-03-04T08:00:00.000Z')).toBe(T0);
  });

  it('a chart keeps at most 400 rows, the peak among them', () => {
    const rows: PointRow[] = Array.from({ length: 5000 }, (_, i) => ({ t: i, s: i === 3333 ? 9 : Math.sin(i), f: 1, x: {} }));
    const kept = downsample(rows);
    expect(kept).toHaveLength(MAX_POINTS);
    expect(kept.some((p) => p.s === 9)).toBe(true);
    expect(kept.map((p) => p.t)).toEqual([...kept.map((p) => p.t)].sort((a, b) => a - b));
  });
});

describe('contributing inputs, from a training profile', () => {
  // The training rows: temperature about 60 ± 2, flow 100 ± 5, line A or B.
  const n = 2000;
  const temp = Float64Array.from({ length: n }, (_, i) => 60 + 2 * Math.sin(i * 0.7));
  const flow = Float64Array.from({ length: n }, (_, i) => 100 + 5 * Math.cos(i * 1.3));
  const profile: TrainingProfile = {
    rows: n,
    anomalyRate: 0.01,
    inputs: [numericProfile('Temp', temp), numericProfile('Flow', flow), categoryProfile('Line', Array.from({ length: n }, (_, i) => (i % 2 ? 'A' : 'B')))],
  };
  const ref = referenceOf(profile, 0.6);
  const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = (xs: Float64Array) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / xs.length);

  it('the input that went furthest (in training standard deviations) comes first, with its value at the peak and the band mean ± 2 std', () => {
    const rows = [row(0, 0.65, { Temp: 75, Flow: 101, Line: 'A' }), row(5, 0.9, { Temp: 80, Flow: 112, Line: 'C' }), row(10, 0.7, { Temp: 66, Flow: 99, Line: 'A' })];
    const [e] = groupStream([], rows, 30 * MIN, ref);
    const inputs = contributing(e!.body, ref);
    expect(inputs.map((i) => i.name)).toEqual(['Temp', 'Flow', 'Line']);
    const t = inputs[0]!;
    expect(t.deviation).toBeCloseTo((80 - mean(temp)) / std(temp), 3);
    expect(t.value).toBe(80);
    expect(t.normalLow).toBeCloseTo(mean(temp) - 2 * std(temp), 3);
    expect(t.normalHigh).toBeCloseTo(mean(temp) + 2 * std(temp), 3);
    expect(inputs[1]!.deviation).toBeCloseTo((112 - mean(flow)) / std(flow), 3);
    // A category training never saw counts 1; the band is for numbers only.
    expect(inputs[2]).toEqual({ name: 'Line', deviation: 1, value: 'C', normalLow: null, normalHigh: null });
  });
});

describe('scanning a workspace', () => {
  let fx: EventsFixture;
  let svc: FeedbackService;
  const put = (endpoint: string, rows: EventSeed[]) => fx.put(endpoint, rows);
  const listed = async () => (await svc.list({})).map((e) => [e.source, e.version, e.start, e.end, e.rows]).sort((a, b) => String(a[2]).localeCompare(String(b[2])) || String(a[0]).localeCompare(String(b[0])));

  beforeEach(() => {
    fx = new EventsFixture();
    svc = fx.service();
    svc.configure({ gapMinutes: 10, minRows: 1 });
  });

  afterEach(async () => {
    await svc.close();
    fx.close();
  });

  it('bridged episodes become one in the table; an answered one is left alone', async () => {
    svc.configure({ gapMinutes: 30 });
    put('kiln-1', [{ m: 0 }, { m: 60, score: 0.95 }, { m: 200 }, { m: 260 }]);
    await svc.scan();
    const [, , second, first] = await svc.list({ status: 'all' });
    await svc.prompt();
    await svc.answer({ id: (await svc.list({ status: 'all' }))[0]!.id, verdict: 'normal' });
    put('kiln-1', [{ m: 25 }, { m: 45 }, { m: 230 }]);
    // 230 joins 200 and is within the gap of the answered 260, which stays as it was.
    expect(await svc.scan()).toEqual({ created: 0, extended: 2 });
    const all = (await svc.list({ status: 'all' })).map((e) => [e.start, e.end, e.rows, e.peakScore, e.verdict]);
    expect(all).toEqual([
      [at(260), at(260), 1, 0.7, 'normal'],
      [at(200), at(230), 2, 0.7, null],
      [at(0), at(60), 4, 0.95, null],
    ]);
    expect((await svc.list({ status: 'all' })).at(-1)!.id).toBe(first!.id);
    expect(fx.ws.db.prepare('SELECT id FROM episodes WHERE id = ?').get(second!.id)).toBeUndefined();
    expect((await svc.get({ id: first!.id })).episode.promptedAt).not.toBeNull();
  });

  it('rows of a model version scored again in batch (another job) are not grouped twice; rows outside the known episodes still are', async () => {
    const batch = (job: string, minutes: number[]) =>
      fx.ws.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(`feedback.batch.${job}`, JSON.stringify({ job, model: 'Kiln', version: 1, rows: minutes.map((m) => ({ t: T0 + m * MIN, score: 0.9, inputs: { Temp: 90 } })) }));
    batch('job-a', [0, 1, 2, 3, 4]);
    await svc.scan();
    batch('job-b', [0, 1, 2, 3, 4, 60, 61]);
    batch('job-c', [2, 3]);
    await svc.scan();
    const all = (await svc.list({ status: 'all' })).map((e) => [e.job, e.start, e.end, e.rows]);
    expect(all).toEqual([
      ['job-b', at(60), at(61), 2],
      ['job-a', at(0), at(4), 5],
    ]);
    // Batch jobs leave no key behind in where the streams stand (one per job would grow for good).
    expect(Object.keys(streamNewest(fx.ws.db))).toEqual([]);
  });

  it('groups each source and each model version on its own; a second scan creates nothing', async () => {
    put('kiln-1', [
      { m: 0, source: 'north' },
      { m: 1, source: 'south' },
      { m: 5, source: 'north' },
      { m: 6, source: 'south' },
      { m: 8, source: 'north', version: '2' },
      { m: 9, source: 'south' },
    ]);
    expect(await svc.scan()).toEqual({ created: 3, extended: 0 });
    expect(await listed()).toEqual([
      ['north', 1, at(0), at(5), 2],
      ['south', 1, at(1), at(9), 3],
      ['north', 2, at(8), at(8), 1],
    ]);
    expect(fx.events.filter((e) => e.type === 'feedback')).toHaveLength(2);
    expect(await svc.scan()).toEqual({ created: 0, extended: 0 });
    expect(await listed()).toHaveLength(3);
  });

  it('new events extend the newest episode within the gap, else start one; across a restart; an event without a time counts when received', async () => {
    put('kiln-1', [{ m: 0 }, { m: 4 }]);
    put('kiln-2', [{ m: 0, time: 'none' }]);
    await svc.scan();
    // The app closes and opens again.
    await svc.close();
    svc = fx.service();
    put('kiln-1', [{ m: 12 }, { m: 40 }]);
    put('kiln-2', [{ m: 3, time: 'none' }]);
    expect(await svc.scan()).toEqual({ created: 1, extended: 2 });
    const all = await svc.list({});
    expect(all.map((e) => [e.endpoint, e.start, e.end, e.rows])).toEqual([
      ['kiln-1', at(40), at(40), 1],
      ['kiln-2', at(0), at(3), 2],
      ['kiln-1', at(0), at(12), 3],
    ]);
    expect(fx.ws.db.prepare('SELECT name, episodes_cursor FROM endpoints ORDER BY name').all()).toEqual([
      { name: 'kiln-1', episodes_cursor: 5 },
      { name: 'kiln-2', episodes_cursor: 6 },
    ]);
    // Open: its end is within the gap of the newest row of its stream.
    expect(all.map((e) => e.open)).toEqual([true, true, false]);
    // Nothing joined them for longer than the gap (the stream went quiet): closed.
    fx.now += 11 * MIN;
    expect((await svc.list({})).map((e) => e.open)).toEqual([false, false, false]);
    for (const e of all) expect(EpisodeSchema.parse(e)).toEqual(e);
  });

  it('rows arriving in a later poll with earlier data times join the episode they fall near, or start their own', async () => {
    put('kiln-1', [{ m: 100 }, { m: 105 }]);
    await svc.scan();
    put('kiln-1', [{ m: 92 }, { m: 30 }, { m: 31 }, { m: 112 }]);
    expect(await svc.scan()).toEqual({ created: 1, extended: 1 });
    expect((await listed()).map((e) => [e[2], e[3], e[4]])).toEqual([
      [at(30), at(31), 2],
      [at(92), at(112), 4],
    ]);
  });

  it('events of a model version that came in after the scan looked up its references wait for the next scan', async () => {
    put('kiln-1', [{ m: 0 }, { m: 1 }, { m: 2, version: '2' }, { m: 3 }]);
    const known = (_: string, version: string) => (version === '1' ? NO_REFERENCE : undefined);
    expect(scanEvents(fx.ws, 10 * MIN, known, new Date(fx.now))).toEqual({ created: 1, extended: 0 });
    expect(fx.ws.db.prepare("SELECT episodes_cursor AS c FROM endpoints WHERE name = 'kiln-1'").get()).toEqual({ c: 2 });
    expect(await svc.scan()).toEqual({ created: 1, extended: 1 });
    expect((await listed()).map((e) => [e[1], e[4]])).toEqual([
      [1, 3],
      [2, 1],
    ]);
  });

  it('a scan that fails half-way leaves nothing half done; the next one groups everything once', async () => {
    put('kiln-1', [{ m: 0 }, { m: 1 }]);
    put('kiln-2', [{ m: 0 }, { m: 1 }]);
    // The second endpoint's episode cannot be written (as a full disk would).
    fx.ws.db.exec("CREATE TEMP TRIGGER fail_kiln2 BEFORE INSERT ON episodes WHEN new.endpoint = 'kiln-2' BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END");
    await expect(svc.scan()).rejects.toThrow('disk full (test)');
    expect(fx.ws.db.prepare('SELECT COUNT(*) AS n FROM episodes').get()).toEqual({ n: 0 });
    expect(fx.ws.db.prepare('SELECT SUM(episodes_cursor) AS n FROM endpoints').get()).toEqual({ n: 0 });
    fx.ws.db.exec('DROP TRIGGER fail_kiln2');
    // Reads after a failed scan still answer.
    expect(await svc.list({})).toEqual([]);
    expect(await svc.scan()).toEqual({ created: 2, extended: 0 });
    expect((await svc.list({})).map((e) => [e.endpoint, e.rows])).toEqual([
      ['kiln-2', 2],
      ['kiln-1', 2],
    ]);
  });

  it('context rows go into the chart, never into the count; the chart has the flagged rows marked', async () => {
    put('kiln-1', [{ m: -1, flagged: false, score: 0.2 }, { m: 0, score: 0.8 }, { m: 2, score: 0.9, inputs: { Temp: 99 } }, { m: 3, flagged: false, score: 0.3 }, { m: 200, flagged: false }]);
    await svc.scan();
    const [e] = await svc.list({});
    expect([e!.start, e!.end, e!.rows, e!.peakScore]).toEqual([at(0), at(2), 2, 0.9]);
    const d = EpisodeDetailSchema.parse(await svc.get({ id: e!.id }));
    expect(d.chart.score.map((p) => [p.t, p.v, p.flagged])).toEqual([
      [at(-1), 0.2, false],
      [at(0), 0.8, true],
      [at(2), 0.9, true],
      [at(3), 0.3, false],
    ]);
    expect([d.chart.from, d.chart.to]).toEqual([at(-1), at(3)]);
  });

  it('episodes too small to ask about are kept but not listed until they grow', async () => {
    svc.configure({ minRows: 3, minMinutes: 5 });
    put('kiln-1', [{ m: 0 }, { m: 1 }]);
    await svc.scan();
    expect(await svc.list({})).toEqual([]);
    expect((fx.ws.db.prepare('SELECT COUNT(*) AS n FROM episodes').get() as { n: number }).n).toBe(1);
    // Both are needed: 3 rows over 2 minutes is still too short.
    put('kiln-1', [{ m: 2 }]);
    await svc.scan();
    expect(await svc.list({})).toEqual([]);
    put('kiln-1', [{ m: 5 }]);
    await svc.scan();
    expect((await svc.list({})).map((e) => e.rows)).toEqual([4]);
  });

  it('thousands of events in one scan, quickly', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ m: i + (i >= 2500 ? 100 : 0), score: 0.6 + (i % 97) / 1000, source: i % 2 ? 'a' : 'b' }));
    put('kiln-1', rows);
    const t = performance.now();
    expect(await svc.scan()).toEqual({ created: 4, extended: 0 });
    expect(performance.now() - t).toBeLessThan(3000);
    const all = await svc.list({});
    expect(all.map((e) => e.rows).sort()).toEqual([1250, 1250, 1250, 1250]);
    const d = await svc.get({ id: all[0]!.id });
    expect(d.chart.score.length).toBeLessThanOrEqual(400);
    expect(Math.max(...d.chart.score.map((p) => p.v!))).toBe(all[0]!.peakScore);
  });
});

describe('data time as the dataset reads it', () => {
  it('day-first text in the dataset zone; epoch numbers and ISO with an offset as such; other text never guessed', () => {
    const dmy = new EventClock('dmy', 'Europe/Berlin');
    expect(dataTime('02.12.2013 21:15', 'x', dmy)).toBe(Date.parse('2013-12-02T21:15:00+01:00'));
    expect(dataTime('13.12.2013 21:15', 'x', dmy)).toBe(Date.parse('2013-12-13T21:15:00+01:00'));
    expect(dataTime('2024-03-04T08:00:00Z', 'x', dmy)).toBe(T0);
    expect(dataTime(T0, 'x', dmy)).toBe(T0);
    expect(dataTime('12/13/2013 21:15', '2024-03-04T08:00:00.000Z', dmy)).toBe(T0);
    const iso = new EventClock('iso', 'Europe/Berlin');
    expect(dataTime('2024-03-04 09:00:00', 'x', iso)).toBe(T0);
    expect(dataTime('2024-03-04T08:00:00.000Z', 'x', iso)).toBe(T0);
    expect(dataTime(String(T0 / 1000), 'x', iso)).toBe(T0);
    // Excel serial days in the dataset: a number is a serial, not epoch seconds.
    expect(dataTime(45355 + 9 / 24, 'x', new EventClock('excel-serial', 'Europe/Berlin'))).toBe(T0);
    // Settings that name no format or an unknown zone: ISO in UTC.
    expect(EventClock.of(undefined, 'Mars/Olympus')).toBe(UTC_CLOCK);
  });
});
