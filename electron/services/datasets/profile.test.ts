import { describe, expect, it } from 'vitest';
import type { ColumnData, ColumnSchema, ColumnType } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import {
  DISTINCT_CAP,
  HISTOGRAM_BINS,
  QUANTILE_SAMPLE,
  profileColumn,
  profileDataset,
  quantileSorted,
  type BooleanProfile,
  type CategoryProfile,
  type NumericProfile,
  type TimeProfile,
} from './profile';

/** Deterministic PRNG (mulberry32): tests must not depend on Math.random. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const schemaOf = (name: string, type: ColumnType, unit: string | null = null): ColumnSchema => ({ name, type, unit, header: name });
const f64 = (xs: (number | null)[]) => Float64Array.from(xs, (x) => (x === null ? NaN : x));
const numCol = (xs: (number | null)[] | Float64Array): ColumnData => ({ type: 'number', values: xs instanceof Float64Array ? xs : f64(xs) });

function numeric(xs: (number | null)[] | Float64Array, type: 'number' | 'integer' = 'number'): NumericProfile {
  const values = xs instanceof Float64Array ? xs : f64(xs);
  const p = profileColumn(schemaOf('x', type), { type, values });
  if (p.kind !== 'numeric') throw new Error('expected a numeric profile');
  return p;
}

function time(xs: (number | null)[] | Float64Array): TimeProfile {
  const values = xs instanceof Float64Array ? xs : f64(xs);
  const p = profileColumn(schemaOf('t', 'timestamp'), { type: 'timestamp', values });
  if (p.kind !== 'time') throw new Error('expected a time profile');
  return p;
}

// ---- Independent reference implementations: plain arrays, no cleverness ----

/** numpy.quantile(method='linear'): h = (n-1)p, interpolate between floor(h) and the next. */
function refQuantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

function refMeanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(v) };
}

/** Bin = the last edge at or below v; the top edge belongs to the last bin. */
function refHistogram(xs: number[], edges: number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of xs) {
    let b = 0;
    while (b + 1 < edges.length - 1 && edges[b + 1]! <= v) b++;
    counts[b]!++;
  }
  return counts;
}

function refPearson(x: Float64Array, y: Float64Array): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (!Number.isNaN(x[i]!) && !Number.isNaN(y[i]!)) {
      xs.push(x[i]!);
      ys.push(y[i]!);
    }
  }
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

const present = (xs: Float64Array) => Array.from(xs).filter((v) => !Number.isNaN(v));
/** Same contents (NaN equal to NaN)? A loop: deep equality of 300,000 elements is slow in expect. */
function same(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
const QS = { p01: 0.01, p05: 0.05, p25: 0.25, p50: 0.5, p75: 0.75, p95: 0.95, p99: 0.99 } as const;

describe('quantileSorted', () => {
  it('interpolates linearly between order statistics, as numpy does by default', () => {
    const s = Float64Array.from([1, 2, 3, 4]);
    expect(quantileSorted(s, 0)).toBe(1);
    expect(quantileSorted(s, 0.25)).toBe(1.75); // np.quantile([1,2,3,4], .25)
    expect(quantileSorted(s, 0.5)).toBe(2.5);
    expect(quantileSorted(s, 0.75)).toBe(3.25);
    expect(quantileSorted(s, 1)).toBe(4);
    expect(quantileSorted(Float64Array.from([10, 20]), 0.01)).toBeCloseTo(10.1, 12);
    expect(quantileSorted(Float64Array.from([7]), 0.99)).toBe(7);
    expect(quantileSorted(new Float64Array(0), 0.5)).toBeNaN();
  });
});

describe('numeric columns', () => {
  it('computes the basic statistics of a small column', () => {
    const p = numeric([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(p).toMatchObject({ kind: 'numeric', count: 8, missing: 0, min: 2, max: 9, mean: 5, std: 2, quantilesFrom: 'all' });
    expect(p.quantiles.p50).toBe(4.5);
    expect(p.quantiles.p25).toBe(4);
    expect(p.quantiles.p75).toBe(5.5);
    expect(p.distinct).toBeUndefined();
  });

  it('does not count missing values as zero', () => {
    const p = numeric([10, null, 20, null, 30]);
    expect(p.count).toBe(3);
    expect(p.missing).toBe(2);
    expect(p.min).toBe(10);
    expect(p.mean).toBe(20);
    expect(p.std).toBeCloseTo(Math.sqrt(200 / 3), 12);
    expect(p.quantiles.p01).toBeCloseTo(10.2, 12);
    expect(p.quantiles.p50).toBe(20);
    expect(p.histogram.counts.reduce((a, b) => a + b, 0)).toBe(3);
    // Missing at the very start must not seed min/max either.
    expect(numeric([null, null, 5, 3]).min).toBe(3);
  });

  it('matches reference computations on random data with negatives and gaps', () => {
    const r = rng(1);
    const xs = new Float64Array(10_000);
    for (let i = 0; i < xs.length; i++) xs[i] = r() < 0.1 ? NaN : (r() - 0.7) * 1000 + (i % 7);
    const p = numeric(xs);
    const vals = present(xs);
    expect(p.count).toBe(vals.length);
    expect(p.missing).toBe(xs.length - vals.length);
    expect(p.min).toBe(Math.min(...vals));
    expect(p.max).toBe(Math.max(...vals));
    const ref = refMeanStd(vals);
    expect(p.mean).toBeCloseTo(ref.mean, 9);
    expect(p.std).toBeCloseTo(ref.std, 9);
    for (const [k, q] of Object.entries(QS)) expect(p.quantiles[k as keyof typeof QS], k).toBeCloseTo(refQuantile(vals, q), 9);
    expect(p.quantilesFrom).toBe('all');
    expect(p.histogram.edges).toHaveLength(HISTOGRAM_BINS + 1);
    expect(p.histogram.counts).toHaveLength(HISTOGRAM_BINS);
    expect(p.histogram.edges[0]).toBe(p.min);
    expect(p.histogram.edges[HISTOGRAM_BINS]).toBe(p.max);
    for (let i = 1; i <= HISTOGRAM_BINS; i++) expect(p.histogram.edges[i]).toBeGreaterThan(p.histogram.edges[i - 1]!);
    expect(p.histogram.counts).toEqual(refHistogram(vals, p.histogram.edges));
  });

  it('puts values on an edge into the bin above, and the maximum into the last bin', () => {
    const xs = Array.from({ length: 31 }, (_, i) => i); // edges are exactly 0, 1, ..., 30
    const p = numeric(xs);
    expect(p.histogram.edges).toEqual(xs);
    expect(p.histogram.counts).toEqual([...new Array<number>(29).fill(1), 2]);
    // Edges that are not representable exactly: binning must agree with the returned edges.
    const ys = Array.from({ length: 301 }, (_, i) => i * 0.1);
    const q = numeric(ys);
    expect(q.histogram.counts).toEqual(refHistogram(ys, q.histogram.edges));
    // Values lying exactly on the edges of awkward ranges, where (v - min) * 30 / (max - min) rounds below the bin.
    const r = rng(12);
    for (let t = 0; t < 50; t++) {
      const lo = (r() - 0.5) * 10 ** Math.floor(r() * 6);
      const hi = lo + r() * 10 ** (Math.floor(r() * 6) - 2);
      const edges = numeric([lo, hi]).histogram.edges;
      expect(numeric(edges).histogram.counts, `${lo}..${hi}`).toEqual([...new Array<number>(29).fill(1), 2]);
    }
    // Timestamps over a short span: the edges are only as exact as numbers near 1.7e12 allow.
    for (let t = 0; t < 20; t++) {
      const lo = Date.UTC(2024, 0, 1) + Math.floor(r() * 1e9) + r();
      const hi = lo + 1 + r() * 2000;
      const edges = numeric([lo, hi]).histogram.edges;
      expect(numeric(edges).histogram.counts, `${lo}..${hi}`).toEqual([...new Array<number>(29).fill(1), 2]);
      const tp = profileColumn(schemaOf('t', 'timestamp'), { type: 'timestamp', values: Float64Array.from(edges) }) as TimeProfile;
      expect(tp.histogram.counts).toEqual([...new Array<number>(29).fill(1), 2]);
    }
  });

  it('keeps the variance of readings with a large offset', () => {
    const r = rng(2);
    const xs = Array.from({ length: 5000 }, () => 1e9 + r());
    const p = numeric(xs);
    const ref = refMeanStd(xs);
    expect(p.std).toBeCloseTo(ref.std, 6);
    expect(p.mean).toBeCloseTo(ref.mean, 3);
  });

  it('gives a constant column std 0 and one non-empty bin', () => {
    const p = numeric([0.1, 0.1, null, 0.1, 0.1, 0.1]);
    expect(p.std).toBe(0);
    expect(p.mean).toBe(0.1);
    expect(p.min).toBe(0.1);
    expect(p.max).toBe(0.1);
    expect(Object.values(p.quantiles).every((q) => q === 0.1)).toBe(true);
    expect(p.histogram.edges[0]).toBeCloseTo(-0.4, 12);
    expect(p.histogram.edges[HISTOGRAM_BINS]).toBeCloseTo(0.6, 12);
    const nonEmpty = p.histogram.counts.filter((c) => c > 0);
    expect(nonEmpty).toEqual([5]);
  });

  it('handles a single value', () => {
    const p = numeric([-3.5]);
    expect(p).toMatchObject({ count: 1, missing: 0, min: -3.5, max: -3.5, mean: -3.5, std: 0 });
    expect(p.quantiles.p01).toBe(-3.5);
    expect(p.quantiles.p99).toBe(-3.5);
    expect(p.histogram.counts.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('returns NaN statistics, not zeros, for empty and all-missing columns', () => {
    for (const xs of [[], [null, null, null]]) {
      const p = numeric(xs);
      expect(p.count).toBe(0);
      expect(p.missing).toBe(xs.length);
      for (const v of [p.min, p.max, p.mean, p.std, ...Object.values(p.quantiles)]) expect(v).toBeNaN();
      expect(p.histogram).toEqual({ edges: [], counts: [] });
    }
    // The caller's NaN -> null replacer round-trips.
    const json = JSON.stringify(numeric([null]), (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v));
    expect(JSON.parse(json)).toMatchObject({ count: 0, missing: 1, min: null, quantiles: { p50: null } });
  });

  it('samples quantiles above the threshold, deterministically and close to exact', () => {
    const r = rng(3);
    const n = QUANTILE_SAMPLE + 100_000;
    const xs = new Float64Array(n);
    // A drift over the rows: a sample of the first rows only would be far off.
    for (let i = 0; i < n; i++) xs[i] = i % 50 === 0 ? NaN : (r() * 100 - 20) / 2 + (50 * i) / n;
    const before = xs.slice();
    const p = numeric(xs);
    expect(p.quantilesFrom).toBe('sample');
    const exact = Float64Array.from(present(xs)).sort();
    expect(exact.length).toBeGreaterThan(QUANTILE_SAMPLE);
    for (const [k, q] of Object.entries(QS)) {
      // Values span [-10, 90): a rank error of 0.2% is about 0.2 in value.
      expect(Math.abs(p.quantiles[k as keyof typeof QS] - quantileSorted(exact, q)), k).toBeLessThan(0.2);
    }
    // Everything but the quantiles is exact.
    expect(p.count).toBe(exact.length);
    expect(p.min).toBe(exact[0]);
    expect(p.max).toBe(exact[exact.length - 1]);
    expect(p.histogram.counts.reduce((a, b) => a + b, 0)).toBe(exact.length);
    expect(numeric(xs)).toEqual(p);
    expect(same(xs, before)).toBe(true);
  });

  it('uses all values at the threshold and does not reorder the column', () => {
    const r = rng(4);
    const xs = Float64Array.from({ length: QUANTILE_SAMPLE }, () => r());
    const before = xs.slice();
    const p = numeric(xs);
    expect(p.quantilesFrom).toBe('all');
    const sorted = xs.slice().sort();
    for (const [k, q] of Object.entries(QS)) expect(p.quantiles[k as keyof typeof QS], k).toBe(quantileSorted(sorted, q));
    expect(same(xs, before)).toBe(true);
  });

  it('exact quantiles survive many ties and sorted input', () => {
    const xs = Array.from({ length: 1001 }, (_, i) => (i < 900 ? 5 : i));
    const p = numeric(xs);
    for (const [k, q] of Object.entries(QS)) expect(p.quantiles[k as keyof typeof QS], k).toBe(refQuantile(xs, q));
    const desc = Array.from({ length: 999 }, (_, i) => 999 - i);
    const d = numeric(desc);
    for (const [k, q] of Object.entries(QS)) expect(d.quantiles[k as keyof typeof QS], k).toBeCloseTo(refQuantile(desc, q), 10);
  });

  it('counts distinct values of integer columns, up to the cap', () => {
    const runs = Array.from({ length: 1000 }, (_, i) => [3, 3, 1, 7, 7, 7, 2, 9, 0, -4][i % 10]!);
    expect(numeric([...runs, null], 'integer').distinct).toBe(7);
    expect(numeric(Array.from({ length: 5000 }, (_, i) => i % 2500), 'integer').distinct).toBe(DISTINCT_CAP);
    expect(numeric(Array.from({ length: DISTINCT_CAP - 1 }, (_, i) => i), 'integer').distinct).toBe(DISTINCT_CAP - 1);
    expect(numeric([null], 'integer').distinct).toBe(0);
  });
});

describe('category, text and boolean columns', () => {
  it('counts categories, ignoring unused dictionary entries, most frequent first', () => {
    const dictionary = ['run', 'stop', 'fault', 'unused', 'idle'];
    const codes = Int32Array.from([0, 0, 1, -1, 2, 0, 1, 4, -1, 2, 0]);
    const p = profileColumn(schemaOf('state', 'category'), { type: 'category', codes, dictionary }) as CategoryProfile;
    expect(p).toEqual({
      kind: 'category',
      count: 9,
      missing: 2,
      distinct: 4,
      top: [
        { value: 'run', count: 4 },
        { value: 'fault', count: 2 }, // ties in text order
        { value: 'stop', count: 2 },
        { value: 'idle', count: 1 },
      ],
    });
  });

  it('keeps the ten most frequent of a large text dictionary, like a full sort would', () => {
    const r = rng(5);
    const dictionary = Array.from({ length: 5000 }, (_, i) => `tag-${String(i).padStart(4, '0')}`);
    const codes = Int32Array.from({ length: 50_000 }, () => (r() < 0.05 ? -1 : Math.floor(r() ** 3 * 5000)));
    const p = profileColumn(schemaOf('tag', 'text'), { type: 'text', codes, dictionary }) as CategoryProfile;
    expect(p.kind).toBe('category');
    const counts = new Map<string, number>();
    for (const c of codes) if (c >= 0) counts.set(dictionary[c]!, (counts.get(dictionary[c]!) ?? 0) + 1);
    const ref = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 10)
      .map(([value, count]) => ({ value, count }));
    expect(p.top).toEqual(ref);
    expect(p.distinct).toBe(counts.size);
    expect(p.missing).toBe(codes.filter((c) => c < 0).length);
  });

  it('treats codes outside the dictionary as missing', () => {
    const p = profileColumn(schemaOf('c', 'category'), { type: 'category', codes: Int32Array.from([0, 5, 1]), dictionary: ['a', 'b'] }) as CategoryProfile;
    expect(p).toMatchObject({ count: 2, missing: 1, distinct: 2 });
  });

  it('counts booleans: 1 true, 0 false, 255 missing', () => {
    const p = profileColumn(schemaOf('b', 'boolean'), { type: 'boolean', values: Uint8Array.from([1, 0, 255, 1, 1, 255, 0]) }) as BooleanProfile;
    expect(p).toEqual({ kind: 'boolean', count: 5, missing: 2, trueCount: 3, falseCount: 2 });
  });
});

describe('timestamp columns', () => {
  const t0 = Date.UTC(2024, 0, 1);
  const MIN = 60_000;

  it('finds coverage, gaps, duplicates and rows out of order', () => {
    const minutes = [0, 1, 2, 2, 3, 1.5, null, 4, 5, 15, 16, 17, 47, 48, 49];
    const p = time(minutes.map((m) => (m === null ? null : t0 + m * MIN)));
    expect(p.count).toBe(14);
    expect(p.missing).toBe(1);
    expect(p.first).toBe(t0);
    expect(p.last).toBe(t0 + 49 * MIN);
    expect(p.duplicates).toBe(1); // the second 2
    expect(p.outOfOrder).toBe(1); // 1.5 after 3
    // In time order the positive steps are 1, 0.5, 0.5, 1, 1, 1, 10, 1, 1, 30, 1, 1 minutes (the duplicate adds a 0).
    expect(p.medianIntervalMs).toBe(MIN);
    expect(p.gaps).toBe(2);
    expect(p.largestGaps).toEqual([
      { start: t0 + 17 * MIN, end: t0 + 47 * MIN, durationMs: 30 * MIN },
      { start: t0 + 5 * MIN, end: t0 + 15 * MIN, durationMs: 10 * MIN },
    ]);
    expect(p.histogram.edges[0]).toBe(p.first);
    expect(p.histogram.edges[HISTOGRAM_BINS]).toBe(p.last);
    expect(p.histogram.counts.reduce((a, b) => a + b, 0)).toBe(14);
  });

  it('does not call a step of exactly three medians a gap', () => {
    const p = time([0, 1, 2, 3, 6, 7].map((m) => t0 + m * MIN));
    expect(p.medianIntervalMs).toBe(MIN);
    expect(p.gaps).toBe(0);
    expect(time([0, 1, 2, 3, 6.001, 7].map((m) => t0 + m * MIN)).gaps).toBe(1);
  });

  it('takes the mean of the two middle steps for an even count', () => {
    expect(time([0, 1, 3, 6, 10].map((m) => t0 + m * MIN)).medianIntervalMs).toBe(2.5 * MIN);
  });

  it('matches a reference on an irregular, shuffled series', () => {
    const r = rng(6);
    const sorted: number[] = [];
    let t = t0;
    for (let i = 0; i < 20_000; i++) {
      t += r() < 0.01 ? Math.round(r() * 100) * MIN : r() < 0.05 ? 0 : Math.round(5000 + r() * 2000);
      sorted.push(t);
    }
    const shuffled = sorted.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const p = time(shuffled);
    const steps = sorted.slice(1).map((v, i) => v - sorted[i]!);
    const positive = steps.filter((d) => d > 0);
    const median = refQuantile(positive, 0.5);
    const gapSteps = sorted
      .slice(1)
      .map((v, i) => ({ start: sorted[i]!, end: v, durationMs: v - sorted[i]! }))
      .filter((g) => g.durationMs > 3 * median);
    const top = [...gapSteps].sort((a, b) => b.durationMs - a.durationMs || a.start - b.start).slice(0, 10);
    let backwards = 0;
    for (let i = 1; i < shuffled.length; i++) if (shuffled[i]! < shuffled[i - 1]!) backwards++;
    expect(p.medianIntervalMs).toBe(median);
    expect(p.gaps).toBe(gapSteps.length);
    expect(p.largestGaps).toEqual(top);
    expect(p.duplicates).toBe(sorted.length - new Set(sorted).size);
    expect(p.outOfOrder).toBe(backwards);
    expect(p.first).toBe(sorted[0]);
    expect(p.last).toBe(sorted[sorted.length - 1]);
  });

  it('handles all-missing, single and all-equal timestamps', () => {
    const none = time([null, null]);
    expect(none).toMatchObject({ count: 0, missing: 2, gaps: 0, duplicates: 0, outOfOrder: 0, largestGaps: [] });
    expect(none.first).toBeNaN();
    expect(none.medianIntervalMs).toBeNaN();
    const one = time([t0]);
    expect(one).toMatchObject({ count: 1, first: t0, last: t0, gaps: 0, duplicates: 0 });
    expect(one.medianIntervalMs).toBeNaN();
    expect(one.histogram.counts.filter((c) => c > 0)).toEqual([1]);
    const same = time([t0, t0, t0]);
    expect(same.duplicates).toBe(2);
    expect(same.medianIntervalMs).toBeNaN();
  });

  it('does not reorder the column', () => {
    const xs = f64([3, 1, 2].map((m) => t0 + m * MIN));
    const before = xs.slice();
    time(xs);
    expect(same(xs, before)).toBe(true);
  });
});

describe('profileDataset', () => {
  function fixture(rows: number, seed: number) {
    const r = rng(seed);
    const t = new Float64Array(rows);
    const a = new Float64Array(rows);
    const b = new Float64Array(rows);
    const c = new Float64Array(rows);
    const flat = new Float64Array(rows).fill(4.2);
    for (let i = 0; i < rows; i++) {
      t[i] = Date.UTC(2024, 0, 1) + i * 1000;
      a[i] = 1e5 + 10 * r();
      b[i] = 2 * a[i]! + r(); // strongly related to a
      c[i] = i % 11 === 0 ? NaN : -a[i]! + 5 * r();
    }
    // Missing in b where a is far from its mean: treating NaN as 0 (or skipping
    // rows unevenly) would change r visibly.
    for (let i = 0; i < rows; i += 13) b[i] = NaN;
    const schema = [
      schemaOf('Time', 'timestamp'),
      schemaOf('Flow', 'number', 'm3/h'),
      schemaOf('Power', 'number', 'kW'),
      schemaOf('State', 'category'),
      schemaOf('Pressure', 'number', 'bar'),
      schemaOf('Setpoint', 'integer'),
      schemaOf('Later', 'timestamp'),
    ];
    const columns: ColumnData[] = [
      { type: 'timestamp', values: t },
      { type: 'number', values: a },
      { type: 'number', values: b },
      { type: 'category', codes: Int32Array.from({ length: rows }, (_, i) => i % 3), dictionary: ['x', 'y', 'z'] },
      { type: 'number', values: c },
      { type: 'integer', values: flat },
      { type: 'timestamp', values: t.map((v) => v + 1) },
    ];
    return { schema, columns, a, b, c };
  }

  it('profiles every column and picks the first timestamp column', () => {
    const { schema, columns } = fixture(500, 7);
    const p = profileDataset(schema, columns);
    expect(p.rows).toBe(500);
    expect(p.columns.map((c) => [c.name, c.type, c.unit, c.profile.kind])).toEqual([
      ['Time', 'timestamp', null, 'time'],
      ['Flow', 'number', 'm3/h', 'numeric'],
      ['Power', 'number', 'kW', 'numeric'],
      ['State', 'category', null, 'category'],
      ['Pressure', 'number', 'bar', 'numeric'],
      ['Setpoint', 'integer', null, 'numeric'],
      ['Later', 'timestamp', null, 'time'],
    ]);
    expect(p.time).toBe(p.columns[0]!.profile);
    expect(p.time?.medianIntervalMs).toBe(1000);
  });

  it('computes Pearson correlations over pairwise-complete rows', () => {
    const { schema, columns, a, b, c } = fixture(5000, 8);
    const p = profileDataset(schema, columns);
    expect(p.correlations.columns).toEqual(['Flow', 'Power', 'Pressure', 'Setpoint']);
    const m = p.correlations.matrix;
    expect(m[0]![0]).toBe(1);
    expect(m[1]![1]).toBe(1);
    expect(m[0]![1]).toBeCloseTo(refPearson(a, b), 10);
    expect(m[1]![0]).toBe(m[0]![1]);
    expect(m[0]![2]).toBeCloseTo(refPearson(a, c), 10);
    expect(m[1]![2]).toBeCloseTo(refPearson(b, c), 10);
    expect(m[0]![1]).toBeGreaterThan(0.9);
    expect(m[0]![2]).toBeLessThan(-0.5);
    // The constant column correlates with nothing, not even itself.
    for (let i = 0; i < 4; i++) {
      expect(m[3]![i]).toBeNaN();
      expect(m[i]![3]).toBeNaN();
    }
    expect(p.correlations.note).toBeUndefined();
  });

  it('gives exactly 1 and -1 for linear relations, and NaN with fewer than two shared rows', () => {
    const x = f64([1, 2, 3, 4, 5, null]);
    const schema = ['x', 'up', 'down', 'lonely'].map((n) => schemaOf(n, 'number'));
    const p = profileDataset(schema, [
      numCol(x),
      numCol(x.map((v) => 3 * v + 7)),
      numCol(x.map((v) => 100 - 2 * v)),
      numCol([null, null, null, null, null, 8]),
    ]);
    const m = p.correlations.matrix;
    expect(m[0]![1]).toBeCloseTo(1, 12);
    expect(m[0]![2]).toBeCloseTo(-1, 12);
    expect(Math.abs(m[0]![1]!)).toBeLessThanOrEqual(1);
    expect(m[0]![3]).toBeNaN();
    expect(m[3]![3]).toBeNaN();
  });

  it('gives NaN for a column that is constant on the shared rows only', () => {
    // On the seven shared rows z is 0.1; rounding leaves a variance of ~1e-17, not 0.
    const x = f64([1, 2, 3, 4, 5, 6, 7, null]);
    const z = f64([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.7]);
    const p = profileDataset([schemaOf('x', 'number'), schemaOf('z', 'number')], [numCol(x), numCol(z)]);
    expect(p.correlations.matrix[0]![1]).toBeNaN();
    expect(p.correlations.matrix[1]![1]).toBe(1);
  });

  it('leaves out numeric columns beyond 50 and says so', () => {
    const r = rng(9);
    const k = 53;
    const schema = Array.from({ length: k }, (_, i) => schemaOf(`s${i}`, 'number'));
    const columns = Array.from({ length: k }, () => numCol(Float64Array.from({ length: 40 }, () => r())));
    const p = profileDataset(schema, columns);
    expect(p.columns).toHaveLength(k);
    expect(p.correlations.columns).toHaveLength(50);
    expect(p.correlations.columns[49]).toBe('s49');
    expect(p.correlations.matrix).toHaveLength(50);
    expect(p.correlations.matrix[0]).toHaveLength(50);
    expect(p.correlations.note).toMatch(/50 of 53/);
  });

  it('handles a dataset with no rows and one with no columns', () => {
    const p = profileDataset([schemaOf('x', 'number'), schemaOf('t', 'timestamp')], [numCol([]), { type: 'timestamp', values: new Float64Array(0) }]);
    expect(p.rows).toBe(0);
    expect(p.correlations.matrix[0]![0]).toBeNaN();
    expect(p.time?.count).toBe(0);
    expect(profileDataset([], [])).toEqual({ rows: 0, columns: [], time: null, correlations: { columns: [], matrix: [] } });
  });

  it('refuses columns of different lengths or of the wrong type', () => {
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e;
      }
      return null;
    };
    const e1 = err(() => profileDataset([schemaOf('a', 'number'), schemaOf('b', 'number')], [numCol([1, 2]), numCol([1])]));
    expect(e1).toBeInstanceOf(AppError);
    expect((e1 as AppError).code).toBe('bad_input');
    expect((e1 as AppError).message).toContain('"b"');
    const e2 = err(() => profileDataset([schemaOf('a', 'number')], []));
    expect((e2 as AppError).code).toBe('bad_input');
    const e3 = err(() => profileColumn(schemaOf('a', 'timestamp'), { type: 'boolean', values: new Uint8Array(1) }));
    expect((e3 as AppError).code).toBe('bad_input');
    // Number and integer share storage, as do category and text.
    expect(profileColumn(schemaOf('a', 'integer'), numCol([1, 2])).kind).toBe('numeric');
  });
});
