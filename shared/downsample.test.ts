import { describe, expect, it } from 'vitest';
import {
  type MinMaxSeries,
  formatZonedTime,
  lowerBound,
  minMaxDownsample,
  niceNumberTicks,
  niceTimeTicks,
  seriesBucketMs,
  timeZoneLabel,
  upperBound,
  zoneOffsetMs,
  zonedParts,
} from './downsample';

/** Seeded generator (mulberry32): tests never use Math.random. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The obvious implementation, written independently of the fast one: group, then scan each group. */
function naive(x: Float64Array, y: Float64Array, from: number, to: number, buckets: number, gapMs = Infinity): MinMaxSeries {
  const out: MinMaxSeries = { x: [], min: [], max: [], first: [], last: [], breakBefore: [] };
  const groups = new Map<number, number[]>();
  for (let i = 0; i < x.length; i++) {
    if (x[i]! < from || x[i]! > to) continue;
    // The same float expression as the contract, so samples on a bucket edge land alike.
    const b = Math.min(buckets - 1, Math.floor((x[i]! - from) * (buckets / (to - from))));
    if (!groups.has(b)) groups.set(b, []);
    groups.get(b)!.push(i);
  }
  let prevLastIndex = -1;
  for (const b of [...groups.keys()].sort((p, q) => p - q)) {
    const finite = groups.get(b)!.filter((i) => !Number.isNaN(y[i]!));
    if (finite.length === 0) continue;
    const vals = finite.map((i) => y[i]!);
    out.x.push(from + b * ((to - from) / buckets));
    out.min.push(Math.min(...vals));
    out.max.push(Math.max(...vals));
    out.first.push(vals[0]!);
    out.last.push(vals[vals.length - 1]!);
    const firstIndex = finite[0]!;
    let brk = prevLastIndex < 0;
    if (!brk) {
      for (let i = prevLastIndex + 1; i < firstIndex; i++) if (Number.isNaN(y[i]!)) brk = true;
      // No NaN between them means the two samples are neighbours in the raw data.
      if (x[firstIndex]! - x[prevLastIndex]! > gapMs) brk = true;
    }
    out.breakBefore.push(brk);
    prevLastIndex = finite[finite.length - 1]!;
  }
  return out;
}

function randomData(seed: number, n: number, nanRate: number) {
  const r = rng(seed);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  let t = 1_700_000_000_000;
  let inNanRun = false;
  for (let i = 0; i < n; i++) {
    // Mostly 1 s steps, with the odd long pause and some duplicate timestamps.
    const u = r();
    t += u < 0.02 ? 60_000 + Math.floor(r() * 600_000) : u < 0.05 ? 0 : 1000;
    x[i] = t;
    if (inNanRun) inNanRun = r() < 0.7;
    else inNanRun = r() < nanRate;
    y[i] = inNanRun ? NaN : Math.sin(i / 50) * 10 + (r() - 0.5) * 3;
  }
  return { x, y };
}

describe('minMaxDownsample', () => {
  it('matches the naive implementation on random data with NaN runs and time gaps', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed * 7919);
      const { x, y } = randomData(seed, 200 + Math.floor(r() * 3000), seed % 4 === 0 ? 0 : 0.03);
      const x0 = x[0]!;
      const xn = x[x.length - 1]!;
      // Ranges inside, around and partly outside the data.
      const from = x0 + (r() - 0.2) * (xn - x0) * 0.5;
      const to = from + (0.05 + r()) * (xn - x0);
      const buckets = 1 + Math.floor(r() * (seed % 2 === 0 ? 400 : 6000));
      const gapMs = seed % 3 === 0 ? Infinity : 30_000;
      expect(minMaxDownsample(x, y, from, to, buckets, gapMs)).toMatchObject(naive(x, y, from, to, buckets, gapMs));
    }
  });

  it('never returns more buckets than asked for, and x ascends inside [from, to]', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { x, y } = randomData(seed, 5000, 0.01);
      for (const buckets of [1, 2, 7, 100, 1400, 10_000]) {
        const from = x[10]!;
        const to = x[4000]!;
        const s = minMaxDownsample(x, y, from, to, buckets);
        expect(s.x.length).toBeLessThanOrEqual(buckets);
        for (const arr of [s.min, s.max, s.first, s.last, s.breakBefore]) expect(arr).toHaveLength(s.x.length);
        const bad: number[] = [];
        for (let i = 0; i < s.x.length; i++) {
          const ok =
            s.x[i]! >= from &&
            s.x[i]! < to &&
            (i === 0 || s.x[i]! > s.x[i - 1]!) &&
            s.min[i]! <= Math.min(s.first[i]!, s.last[i]!) &&
            s.max[i]! >= Math.max(s.first[i]!, s.last[i]!);
          if (!ok) bad.push(i);
        }
        expect(bad).toEqual([]);
        expect(s.bucketMs).toBeCloseTo((to - from) / buckets);
      }
    }
  });

  it('keeps every extreme: the min and max over the range survive', () => {
    const { x, y } = randomData(3, 20_000, 0.02);
    const s = minMaxDownsample(x, y, x[0]!, x[x.length - 1]!, 300);
    const finite = [...y].filter((v) => !Number.isNaN(v));
    expect(Math.min(...s.min)).toBe(Math.min(...finite));
    expect(Math.max(...s.max)).toBe(Math.max(...finite));
  });

  it('includes a sample at exactly `to` in the last bucket', () => {
    const x = Float64Array.from([0, 5, 10]);
    const y = Float64Array.from([1, 2, 3]);
    const s = minMaxDownsample(x, y, 0, 10, 2);
    expect(s.x).toEqual([0, 5]);
    expect(s.min).toEqual([1, 2]);
    expect(s.max).toEqual([1, 3]);
    expect(s.last).toEqual([1, 3]);
  });

  it('breaks the line at NaN runs and long time steps, not at empty buckets', () => {
    const x = Float64Array.from([0, 1, 2, 3, 4, 20, 21, 40]);
    const y = Float64Array.from([1, 2, NaN, 4, 5, 6, 7, 8]);
    // One sample per bucket; bucket 2 (the NaN) is omitted.
    const s = minMaxDownsample(x, y, 0, 41, 41, 10);
    expect(s.x).toEqual([0, 1, 3, 4, 20, 21, 40]);
    expect(s.breakBefore).toEqual([true, false, true, false, true, false, true]);
    // Without gapMs the time gaps join up; the NaN still breaks.
    expect(minMaxDownsample(x, y, 0, 41, 41).breakBefore).toEqual([true, false, true, false, false, false, false]);
  });

  it('hides a gap that sits inside one bucket', () => {
    const x = Float64Array.from([0, 1, 2, 3, 10, 11]);
    const y = Float64Array.from([1, NaN, 3, 4, 5, 6]);
    const s = minMaxDownsample(x, y, 0, 12, 2);
    expect(s.breakBefore).toEqual([true, false]);
    expect(s.first).toEqual([1, 5]);
  });

  it('returns an empty series for empty data, an empty range or no buckets', () => {
    const x = Float64Array.from([1, 2, 3]);
    const y = Float64Array.from([1, 2, 3]);
    expect(minMaxDownsample(new Float64Array(0), new Float64Array(0), 0, 10, 10).x).toEqual([]);
    expect(minMaxDownsample(x, y, 5, 5, 10).x).toEqual([]);
    expect(minMaxDownsample(x, y, 10, 5, 10).x).toEqual([]);
    expect(minMaxDownsample(x, y, 0, 10, 0).x).toEqual([]);
    expect(minMaxDownsample(x, y, 4, 10, 10).x).toEqual([]);
    expect(minMaxDownsample(x, Float64Array.from([NaN, NaN, NaN]), 0, 10, 10).x).toEqual([]);
  });

  it('serialises to JSON and back unchanged', () => {
    const { x, y } = randomData(9, 2000, 0.02);
    const s = minMaxDownsample(x, y, x[0]!, x[1999]!, 200, 30_000);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('binary search and bucket width', () => {
  it('finds bounds in sorted data with duplicates', () => {
    const a = Float64Array.from([1, 2, 2, 2, 5]);
    expect(lowerBound(a, 2)).toBe(1);
    expect(upperBound(a, 2)).toBe(4);
    expect(lowerBound(a, 0)).toBe(0);
    expect(upperBound(a, 9)).toBe(5);
    expect(lowerBound(a, 3)).toBe(4);
  });

  it('infers the bucket width when a series does not carry it', () => {
    expect(seriesBucketMs({ x: [0, 20, 30, 70], min: [], max: [], first: [], last: [], breakBefore: [] }, 5)).toBe(10);
    expect(seriesBucketMs({ x: [0], min: [], max: [], first: [], last: [], breakBefore: [] }, 5)).toBe(5);
    expect(seriesBucketMs({ x: [0, 20], min: [], max: [], first: [], last: [], breakBefore: [], bucketMs: 3 }, 5)).toBe(3);
  });
});

describe('niceNumberTicks', () => {
  it('gives round 1-2-5 values inside the range, at most maxTicks of them', () => {
    const r = rng(42);
    for (let i = 0; i < 500; i++) {
      const scale = 10 ** Math.floor(r() * 12 - 6);
      const min = (r() - 0.5) * 100 * scale;
      const max = min + r() * 50 * scale + 1e-12;
      const maxTicks = 2 + Math.floor(r() * 10);
      const ticks = niceNumberTicks(min, max, maxTicks);
      expect(ticks.length).toBeGreaterThanOrEqual(1);
      expect(ticks.length).toBeLessThanOrEqual(maxTicks);
      for (const t of ticks) {
        expect(t).toBeGreaterThanOrEqual(min - Math.abs(min) * 1e-12);
        expect(t).toBeLessThanOrEqual(max + Math.abs(max) * 1e-12);
      }
      if (ticks.length >= 2) {
        const step = ticks[1]! - ticks[0]!;
        const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
        expect([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6)).toBe(true);
        for (const t of ticks) expect(Math.abs(t / step - Math.round(t / step))).toBeLessThan(1e-6);
      }
    }
  });

  it('writes ticks without float noise', () => {
    expect(niceNumberTicks(0, 1, 11)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(niceNumberTicks(-1, 1, 5)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceNumberTicks(0, 100, 5)).toEqual([0, 50, 100]);
    expect(niceNumberTicks(12, 87, 6)).toEqual([20, 40, 60, 80]);
  });

  it('handles degenerate ranges', () => {
    expect(niceNumberTicks(5, 5, 5)).toEqual([5]);
    expect(niceNumberTicks(NaN, 5, 5)).toEqual([]);
    expect(niceNumberTicks(5, 1, 5)).toEqual([]);
    expect(niceNumberTicks(0, 1, 0)).toEqual([]);
    expect(niceNumberTicks(0.31, 0.34, 1)).toEqual([0.32]);
    expect(niceNumberTicks(0, 1, 10)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});

const H = 3_600_000;
const D = 24 * H;

describe('zoned time', () => {
  it('reads wall-clock fields and offsets in a zone, across DST', () => {
    // 2024-03-31 01:00 UTC: Berlin moves from UTC+1 to UTC+2.
    const change = Date.UTC(2024, 2, 31, 1);
    expect(zoneOffsetMs(change - 1000, 'Europe/Berlin')).toBe(H);
    expect(zoneOffsetMs(change, 'Europe/Berlin')).toBe(2 * H);
    expect(zoneOffsetMs(change, 'Asia/Kolkata')).toBe(5.5 * H);
    expect(zoneOffsetMs(change, 'America/New_York')).toBe(-4 * H);
    expect(zonedParts(change, 'Europe/Berlin')).toMatchObject({ year: 2024, month: 3, day: 31, hour: 3, minute: 0, weekday: 0 });
    expect(zonedParts(Date.UTC(2024, 0, 1), 'UTC')).toMatchObject({ hour: 0, weekday: 1 });
  });

  it('labels the zone once with its offset', () => {
    expect(timeZoneLabel(Date.UTC(2024, 0, 15), 'Europe/Berlin')).toBe('Europe/Berlin (UTC+01:00)');
    expect(timeZoneLabel(Date.UTC(2024, 6, 15), 'America/New_York')).toBe('America/New_York (UTC−04:00)');
    expect(timeZoneLabel(Date.UTC(2024, 6, 15), 'UTC')).toBe('UTC');
    expect(timeZoneLabel(Date.UTC(2024, 0, 15), 'Europe/Berlin', Date.UTC(2024, 6, 15))).toBe('Europe/Berlin (UTC+01:00 / UTC+02:00)');
    expect(timeZoneLabel(Date.UTC(2024, 0, 15), 'Europe/Berlin', Date.UTC(2024, 0, 16))).toBe('Europe/Berlin (UTC+01:00)');
    expect(formatZonedTime(Date.UTC(2024, 2, 5, 7, 4, 9), 'UTC', true)).toMatch(/^05 \S+ 2024 07:04:09$/);
  });
});

describe('niceTimeTicks', () => {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe'];
  const spans = [10_000, 90_000, 20 * 60_000, 3 * H, 20 * H, 3 * D, 20 * D, 90 * D, 400 * D, 3000 * D, 40_000 * D];

  it('keeps ticks inside the range, ascending, at most maxTicks, on round local times', () => {
    const r = rng(7);
    for (const zone of zones) {
      for (const span of spans) {
        for (let k = 0; k < 4; k++) {
          const from = Date.UTC(2024, 0, 1) + Math.floor(r() * 400 * D);
          const to = from + span;
          const maxTicks = 3 + Math.floor(r() * 10);
          const ticks = niceTimeTicks(from, to, maxTicks, zone);
          expect(ticks.length, `${zone} ${span}`).toBeGreaterThanOrEqual(1);
          expect(ticks.length).toBeLessThanOrEqual(maxTicks);
          for (let i = 0; i < ticks.length; i++) {
            const { t, label } = ticks[i]!;
            expect(t).toBeGreaterThanOrEqual(from);
            expect(t).toBeLessThanOrEqual(to);
            if (i > 0) expect(t).toBeGreaterThan(ticks[i - 1]!.t);
            expect(label.length).toBeGreaterThan(0);
            const p = zonedParts(t, zone);
            // Round: whole seconds always, whole local minutes at a minute step and more, local midnight at a day step and more.
            expect(t % 1000).toBe(0);
            const step = ticks.length > 1 ? ticks[1]!.t - ticks[0]!.t : 0;
            if (step >= 60_000) expect(p.second).toBe(0);
            if (step >= H - 30 * 60_000) expect(p.minute).toBe(0);
            if (step >= D - 2 * H && span > 2 * D) expect(p.hour).toBe(0);
          }
        }
      }
    }
  });

  it('uses the steps and labels a plant engineer expects', () => {
    const from = Date.UTC(2024, 4, 6, 6, 7, 0); // a Monday, 08:07 in Berlin
    const shift = niceTimeTicks(from, from + 8 * H, 9, 'Europe/Berlin');
    expect(shift.map((t) => t.label)).toEqual(['09:00', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00', '16:00']);
    const minutes = niceTimeTicks(from, from + 10 * 60_000, 3, 'Europe/Berlin');
    expect(minutes.map((t) => t.label)).toEqual(['08:10', '08:15']);
    const seconds = niceTimeTicks(from, from + 30_000, 3, 'UTC');
    expect(seconds.map((t) => t.label)).toEqual(['06:07:00', '06:07:15', '06:07:30']);
    const days = niceTimeTicks(from, from + 5 * D, 6, 'Europe/Berlin');
    expect(days).toHaveLength(5);
    expect(days[0]!.label).toMatch(/^07 \S+$/);
    const crossing = niceTimeTicks(from, from + 2 * D, 4, 'Europe/Berlin');
    expect(crossing[0]!.label).toMatch(/^\d\d \S+ \d\d:00$/);
    const months = niceTimeTicks(Date.UTC(2023, 0, 1), Date.UTC(2024, 11, 31), 10, 'UTC');
    expect(months.every((t) => zonedParts(t.t, 'UTC').day === 1)).toBe(true);
    expect(months[0]!.label).toMatch(/ 2023$/);
    const years = niceTimeTicks(Date.UTC(2000, 0, 1), Date.UTC(2030, 0, 1), 5, 'UTC');
    expect(years.map((t) => t.label)).toEqual(['2000', '2010', '2020', '2030']);
  });

  it('gives a week or two on a narrow chart a tick every other midnight, from the first one in the range, not Mondays only', () => {
    const from = Date.UTC(2024, 4, 6, 6, 7, 0); // Monday 6 May, 08:07 in Berlin
    const ticks = niceTimeTicks(from, from + 9 * D, 5, 'Europe/Berlin');
    expect(ticks.map((t) => t.label.slice(0, 2))).toEqual(['07', '09', '11', '13', '15']);
    for (const { t } of ticks) expect(zonedParts(t, 'Europe/Berlin')).toMatchObject({ hour: 0, minute: 0 });
  });

  it('puts day ticks on the first instant of each day where summer time starts at midnight (Santiago), once per day', () => {
    const zone = 'America/Santiago'; // 8 Sep 2024: clocks go from 00:00 straight to 01:00
    const from = Date.UTC(2024, 8, 5, 12);
    for (const maxTicks of [5, 8]) {
      const ticks = niceTimeTicks(from, from + 6 * D, maxTicks, zone);
      const days = ticks.map((t) => t.label.slice(0, 2));
      expect(new Set(days).size, days.join()).toBe(days.length);
      for (const { t } of ticks) {
        const p = zonedParts(t, zone);
        expect(p.minute).toBe(0);
        expect(p.hour === 0 || (p.day === 8 && p.hour === 1), `${p.day} ${p.hour}:00`).toBe(true);
      }
    }
  });

  it('puts weekly ticks on Mondays', () => {
    const ticks = niceTimeTicks(Date.UTC(2024, 0, 3), Date.UTC(2024, 1, 20), 8, 'Europe/Berlin');
    expect(ticks.length).toBeGreaterThan(3);
    for (const { t } of ticks) expect(zonedParts(t, 'Europe/Berlin')).toMatchObject({ weekday: 1, hour: 0, minute: 0 });
  });

  it('keeps hourly ticks on the hour through the DST changes', () => {
    for (const day of [Date.UTC(2024, 2, 30, 20), Date.UTC(2024, 9, 26, 20)]) {
      const ticks = niceTimeTicks(day, day + 12 * H, 14, 'Europe/Berlin');
      expect(ticks.length).toBeGreaterThanOrEqual(10);
      for (const { t } of ticks) expect(zonedParts(t, 'Europe/Berlin').minute).toBe(0);
    }
  });

  it('returns nothing for an empty range', () => {
    expect(niceTimeTicks(5, 5, 5)).toEqual([]);
    expect(niceTimeTicks(0, NaN, 5)).toEqual([]);
    expect(niceTimeTicks(0, 1000, 0)).toEqual([]);
  });
});
