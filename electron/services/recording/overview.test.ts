import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingBuffer, bufferRecords, readBuffer, readWindows, type BufferedSample } from './buffer';
import { bufferOverview, type OverviewPoint } from './overview';

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
const SEC = 1000;
/** Small segments, so reads run across segment ends (500 records each). */
const SEGMENT = 8 + 24 * 500;

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-overview-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Seconds 0 … 1000 (T0 to T0 + 1000 s), three tags a second:
 * - tag 0 climbs: its value is the second;
 * - tag 1 stays at 5, with a spike to 80 at 350 s and a dip to -3 at 351 s; a bad 1e6 at 500 s and a sample without a number at 510 s;
 * - tag 2 is -second, silent from 200 s to 499 s;
 * - nothing at all from 600 s to 699 s: the connection was lost (a gap).
 * With 10 buckets, bucket i holds seconds 100i … 100i+99, and the last one second 1000 too.
 */
function writeRecording(): void {
  const b = RecordingBuffer.open(dir, { segmentBytes: SEGMENT });
  try {
    for (let sec = 0; sec <= 1000; sec++) {
      if (sec === 600) b.gapStart(T0 + 599.5 * SEC, 'Lost the connection.', null);
      if (sec >= 600 && sec < 700) continue;
      if (sec === 700) b.gapEnd(T0 + 699.5 * SEC, null);
      const t = T0 + sec * SEC;
      b.append({ t, tag: 0, value: sec, quality: 'good' });
      const spike = sec === 350 ? 80 : sec === 351 ? -3 : sec === 510 ? null : sec === 500 ? 1e6 : 5;
      b.append({ t, tag: 1, value: spike, quality: sec === 500 ? 'bad' : 'good' });
      if (sec < 200 || sec >= 500) b.append({ t, tag: 2, value: -sec, quality: 'good' });
    }
  } finally {
    b.close();
  }
}

const bucket = (min: number | null, max: number | null, i: number): OverviewPoint => ({ t: T0 + i * 100 * SEC, min, max });

describe('bufferOverview', () => {
  it('gives each tag its lowest and highest value per time bucket from the first to the last sample, null where it has none', async () => {
    writeRecording();
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.rec')).length).toBeGreaterThan(3);
    const ov = await bufferOverview(dir, { tags: 3, points: 10 });
    expect(ov.sampled).toBe(false);
    expect(ov.tags.map((t) => t.tag)).toEqual([0, 1, 2]);
    const [climb, spiky, quiet] = ov.tags.map((t) => t.points);

    // Buckets start at the first sample, 100 s apart; the last holds the last sample (1000 s) too.
    expect(climb).toEqual([0, 1, 2, 3, 4, 5, null, 7, 8, 9].map((i) => (i === null ? bucket(null, null, 6) : bucket(i * 100, i === 9 ? 1000 : i * 100 + 99, i))));
    // The spike and the dip both show in their bucket; the bad 1e6 and the sample without a number are left out.
    expect(spiky).toEqual(Array.from({ length: 10 }, (_, i) => (i === 6 ? bucket(null, null, i) : i === 3 ? bucket(-3, 80, i) : bucket(5, 5, i))));
    // Silent from 200 s to 499 s, and nothing during the gap.
    expect(quiet).toEqual(Array.from({ length: 10 }, (_, i) => ([2, 3, 4, 6].includes(i) ? bucket(null, null, i) : bucket(-(i === 9 ? 1000 : i * 100 + 99), -(i * 100), i))));
  });

  it('gives one tag alone, and takes a span the caller knows instead of counting it', async () => {
    writeRecording();
    const alone = await bufferOverview(dir, { tags: 3, points: 10, only: 1 });
    expect(alone.tags).toHaveLength(1);
    expect(alone.tags[0]!.tag).toBe(1);
    expect(alone.tags[0]!.points[3]).toEqual(bucket(-3, 80, 3));
    // The same span, given: the same buckets.
    const given = await bufferOverview(dir, { tags: 3, points: 10, span: { first: T0, last: T0 + 1000 * SEC } });
    expect(given).toEqual(await bufferOverview(dir, { tags: 3, points: 10 }));
    // A span that ends early (a row refreshed a moment ago): the samples after it go to the last bucket instead of being lost.
    const short = await bufferOverview(dir, { tags: 3, points: 10, only: 0, span: { first: T0, last: T0 + 900 * SEC } });
    expect(short.tags[0]!.points[9]).toEqual({ t: T0 + 810 * SEC, min: 810, max: 1000 });
    expect(short.tags[0]!.points[0]).toEqual({ t: T0, min: 0, max: 89 });
  });

  it('gives one bucket when every sample has the same time, and empty lines for an empty buffer', async () => {
    const empty = await bufferOverview(dir, { tags: 2, points: 10 });
    expect(empty).toEqual({ tags: [{ tag: 0, points: [] }, { tag: 1, points: [] }], sampled: false });
    const b = RecordingBuffer.open(dir);
    b.append({ t: T0, tag: 0, value: 3, quality: 'good' });
    b.append({ t: T0, tag: 0, value: 7, quality: 'good' });
    b.close();
    const one = await bufferOverview(dir, { tags: 2, points: 10 });
    expect(one.tags).toEqual([
      { tag: 0, points: [{ t: T0, min: 3, max: 7 }] },
      { tag: 1, points: [{ t: T0, min: null, max: null }] },
    ]);
  });

  it('reads evenly spaced runs of records of a buffer longer than the limit, and says it is sampled', async () => {
    writeRecording();
    const total = bufferRecords(dir);
    expect(total).toBe(3 * 901 - 300);
    const full = await bufferOverview(dir, { tags: 3, points: 10 });
    const ov = await bufferOverview(dir, { tags: 3, points: 10, limit: 400 });
    expect(ov.sampled).toBe(true);
    // 40 runs of 10 records: 400 of the 2403 records read, spread over the whole recording.
    for (const [k, t] of ov.tags.entries()) {
      expect(t.points.map((p) => p.t)).toEqual(full.tags[k]!.points.map((p) => p.t));
      t.points.forEach((p, i) => {
        const whole = full.tags[k]!.points[i]!;
        if (whole.min === null) expect(p, `tag ${k} bucket ${i}`).toEqual(whole);
        else {
          // Every bucket with values gets some of them: within what reading everything gives.
          expect(p.min, `tag ${k} bucket ${i}`).not.toBeNull();
          expect(p.min!).toBeGreaterThanOrEqual(whole.min);
          expect(p.max!).toBeLessThanOrEqual(whole.max!);
        }
      });
    }
    // The first and last runs sit at the buffer's ends: the edges of the recording are in.
    expect(ov.tags[0]!.points[0]!.min).toBe(0);
    expect(ov.tags[0]!.points[9]!.max).toBe(1000);
    // It did not read everything: most buckets of the climbing tag miss some of their values.
    const exact = ov.tags[0]!.points.filter((p, i) => p.min === full.tags[0]!.points[i]!.min && p.max === full.tags[0]!.points[i]!.max);
    expect(exact.length).toBeLessThan(5);
  });
});

describe('readWindows', () => {
  it('reads runs of consecutive records evenly spaced over all segments, the first at the start and the last at the end', () => {
    writeRecording();
    const all: BufferedSample[] = [...readBuffer(dir)].flat();
    const runs = [...readWindows(dir, { windows: 7, perWindow: 30 })];
    expect(runs).toHaveLength(7);
    const starts: number[] = [];
    for (const run of runs) {
      expect(run).toHaveLength(30);
      // Consecutive records in file order, even across a segment's end (500 records each).
      const at = all.findIndex((s) => s.t === run[0]!.t && s.tag === run[0]!.tag);
      expect(run).toEqual(all.slice(at, at + 30));
      starts.push(at);
    }
    expect(starts[0]).toBe(0);
    expect(starts[6]).toBe(all.length - 30);
    const step = (all.length - 30) / 6;
    starts.forEach((s, k) => expect(Math.abs(s - k * step)).toBeLessThanOrEqual(0.5));
    expect(starts.some((s) => Math.floor(s / 500) !== Math.floor((s + 29) / 500))).toBe(true);
    // Runs that would cover everything read everything.
    expect([...readWindows(dir, { windows: 100, perWindow: 30 })].flat()).toEqual(all);
  });
});
