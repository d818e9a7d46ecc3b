import { describe, expect, it } from 'vitest';
import type { ColumnData } from '../../../shared/datasets';
import { applyScaling, buildFeatures, fitScaling, pairwiseSum, planFeatures, windowFeatures, withDerived } from './features';
import { frameFromColumns, type Frame } from './frame';
import { randomSplit, timeSplit } from './split';

function naiveWindow(v: number[], w: number, i: number) {
  const win: { t: number; y: number }[] = [];
  for (let j = Math.max(0, i - w + 1); j <= i; j++) if (!Number.isNaN(v[j]!)) win.push({ t: j, y: v[j]! });
  const n = win.length;
  const mean = win.reduce((a, p) => a + p.y, 0) / n;
  const std = Math.sqrt(win.reduce((a, p) => a + (p.y - mean) ** 2, 0) / n);
  const mt = win.reduce((a, p) => a + p.t, 0) / n;
  const den = win.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  const slope = n >= 2 && den > 0 ? win.reduce((a, p) => a + (p.t - mt) * (p.y - mean), 0) / den : NaN;
  return { mean, std, min: Math.min(...win.map((p) => p.y)), max: Math.max(...win.map((p) => p.y)), slope };
}

function frame(cols: Record<string, ColumnData>, rows: number, timeColumn: string | null = null): Frame {
  return frameFromColumns(new Map(Object.entries(cols)), Object.entries(cols).map(([name, c]) => ({ name, type: c.type, unit: null, header: name, blob: '' })), rows, timeColumn);
}

describe('window features', () => {
  it('match a direct computation over the trailing window, with gaps, over many rows', () => {
    const n = 20_000;
    const v: number[] = [];
    for (let i = 0; i < n; i++) v.push(i % 97 === 5 ? NaN : 300 + Math.sin(i / 7) * 3 + (i % 13) * 0.01);
    const w = windowFeatures(Float64Array.from(v), 12, 0.5);
    for (const i of [0, 1, 5, 11, 12, 13, 500, 8191, 8192, 8193, 16_385, n - 1]) {
      const e = naiveWindow(v, 12, i);
      expect(w.mean[i]).toBeCloseTo(e.mean, 11);
      expect(w.std[i]).toBeCloseTo(e.std, 9);
      expect(w.min[i]).toBe(e.min);
      expect(w.max[i]).toBe(e.max);
      if (Number.isNaN(e.slope)) expect(w.slope[i]).toBeNaN();
      else expect(w.slope[i]).toBeCloseTo(e.slope / 0.5, 9);
    }
  });

  it('give exactly the hand-worked values: two-pass mean, population std, least-squares slope per minute', () => {
    // Window of 3 rows, 2 minutes apart.
    const w = windowFeatures(Float64Array.from([1, 3, NaN, 8, 8, 8, 2]), 3, 2);
    const at = (i: number) => ({ mean: w.mean[i], std: w.std[i], min: w.min[i], max: w.max[i], slope: w.slope[i] });
    // Row 0: only itself (the rows before the frame count as missing); one value has no slope.
    expect(at(0)).toEqual({ mean: 1, std: 0, min: 1, max: 1, slope: NaN });
    // Row 1: 1 at t=1 and 3 at t=2: mean 2, std 1, slope 2 per row = 1 per minute.
    expect(at(1)).toEqual({ mean: 2, std: 1, min: 1, max: 3, slope: 1 });
    // Row 2: 1, 3 and a gap: the same two values, now at t=0 and t=1.
    expect(at(2)).toEqual({ mean: 2, std: 1, min: 1, max: 3, slope: 1 });
    // Row 3: 3 (t=0), gap, 8 (t=2): mean 5.5, std 2.5, slope 5/2 per row = 1.25 per minute.
    expect(at(3)).toEqual({ mean: 5.5, std: 2.5, min: 3, max: 8, slope: 1.25 });
    // Rows 4 and 5: equal values: std and slope exactly 0.
    expect(at(4)).toEqual({ mean: 8, std: 0, min: 8, max: 8, slope: 0 });
    expect(at(5)).toEqual({ mean: 8, std: 0, min: 8, max: 8, slope: 0 });
    // Row 6: 8, 8, 2: mean 6, std sqrt(24/3), Σ(t−1)(x−6) = −6 over Σ(t−1)² = 2: −3 per row = −1.5 per minute.
    expect(at(6)).toEqual({ mean: 6, std: Math.sqrt(8), min: 2, max: 8, slope: -1.5 });
  });

  it('add a window in a fixed pairwise order, which the ONNX graph repeats', () => {
    // Halves: (1e16 + −1e16) + (1 + 1) = 2, where adding left to right loses the first 1 (1e16 + 1 rounds to 1e16) and gives 1.
    expect(pairwiseSum(Float64Array.from([1e16, 1, -1e16, 1]))).toBe(2);
    expect(pairwiseSum(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]))).toBe(36);
    expect(pairwiseSum(Float64Array.of(7))).toBe(7);
  });

  it('never look at future rows: changing later values leaves earlier features unchanged', () => {
    const n = 500;
    const a = Float64Array.from({ length: n }, (_, i) => Math.cos(i / 3));
    const b = Float64Array.from(a);
    for (let i = 300; i < n; i++) b[i] = 1000 + i;
    const fa = windowFeatures(a, 20, 1);
    const fb = windowFeatures(b, 20, 1);
    for (const op of ['mean', 'std', 'min', 'max', 'slope'] as const) {
      expect(Array.from(fb[op].subarray(0, 300))).toEqual(Array.from(fa[op].subarray(0, 300)));
      if (op !== 'min') expect(fb[op][300]).not.toBe(fa[op][300]); // the new value is a maximum, never a minimum
    }
  });

  it('a window with only missing values gives missing features, and a line gives its slope per minute', () => {
    const w = windowFeatures(Float64Array.from([NaN, NaN, 1, 2, 3, 4]), 2, 5);
    expect(w.mean[1]).toBeNaN();
    expect(w.mean[3]).toBe(1.5);
    expect(w.slope[5]).toBeCloseTo(1 / 5, 12);
    expect(w.slope[2]).toBeNaN();
  });
});

describe('feature plan', () => {
  const n = 10;
  const cols: Record<string, ColumnData> = {
    t: { type: 'timestamp', values: Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 60_000) },
    temp: { type: 'number', values: Float64Array.from({ length: n }, (_, i) => i) },
    grade: { type: 'category', codes: Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1, 2, -1]), dictionary: ['A', 'B', 'C'] },
    on: { type: 'boolean', values: Uint8Array.from([1, 0, 1, 255, 1, 0, 1, 0, 1, 0]) },
  };
  const f = frame(cols, n, 't');

  it('takes category levels from training rows only, so a level first seen later is "unseen" (all zeros)', () => {
    const split = timeSplit(f.time!, Int32Array.from({ length: n }, (_, i) => i), 0.2);
    const plan = planFeatures(f, ['temp', 'grade', 'on'], split.train, { windowMinutes: 3, lags: [1], intervalMs: 60_000 });
    expect(plan.inputs.find((i) => i.name === 'grade')!.levels).toEqual(['A', 'B']);
    expect(plan.windowRows).toBe(3);
    const x = buildFeatures(plan, f);
    expect(x.names).toEqual(['temp', 'temp mean 3 min', 'temp std 3 min', 'temp min 3 min', 'temp max 3 min', 'temp slope 3 min', 'temp 1 rows before', 'grade = A', 'grade = B', 'on']);
    const ga = x.columns[x.names.indexOf('grade = A')]!;
    const gb = x.columns[x.names.indexOf('grade = B')]!;
    expect([ga[8], gb[8]]).toEqual([0, 0]); // "C" was never seen in training
    expect([ga[9], gb[9]]).toEqual([0, 0]); // missing
    expect(x.columns[x.names.indexOf('on')]![3]).toBeNaN();
    expect(x.columns[x.names.indexOf('temp 1 rows before')]![0]).toBeNaN();
    expect(x.columns[x.names.indexOf('temp 1 rows before')]![4]).toBe(3);
  });

  it('rounds numbers to float32 before differences, products, lags and windows, as the ONNX graph takes them', () => {
    const m = 6;
    const a = Float64Array.from({ length: m }, (_, i) => 0.1 * (i + 1));
    const b = Float64Array.from({ length: m }, (_, i) => 1 / (i + 3));
    const g = frameFromColumns(
      new Map<string, ColumnData>([['t', { type: 'timestamp', values: Float64Array.from({ length: m }, (_, i) => i * 60_000) }], ['a', { type: 'number', values: a }], ['b', { type: 'number', values: b }]]),
      [{ name: 't', type: 'timestamp', unit: null, header: 't', blob: '' }, { name: 'a', type: 'number', unit: 'bar', header: 'a', blob: '' }, { name: 'b', type: 'number', unit: 'bar', header: 'b', blob: '' }],
      m, 't');
    const plan = withDerived(planFeatures(g, ['a', 'b'], Int32Array.from({ length: m }, (_, i) => i), { windowMinutes: 2, lags: [1], intervalMs: 60_000 }));
    const x = buildFeatures(plan, g);
    const col = (name: string) => x.columns[x.names.indexOf(name)]!;
    const f = (v: number) => Math.fround(v);
    expect(col('a')[2]).toBe(f(a[2]!));
    expect(col('a')[2]).not.toBe(a[2]);
    expect(col('a − b')[2]).toBe(f(a[2]!) - f(b[2]!));
    expect(col('a × b')[2]).toBe(f(a[2]!) * f(b[2]!));
    expect(col('a 1 rows before')[2]).toBe(f(a[1]!));
    expect(col('a max 2 min')[2]).toBe(f(a[2]!));
    expect(col('a mean 2 min')[2]).toBe((f(a[1]!) + f(a[2]!)) / 2);
  });

  it('fits imputation and scaling on training rows only', () => {
    const x = { rows: 6, columns: [Float64Array.from([1, NaN, 3, 100, 200, 300])], names: ['a'] };
    const s = fitScaling(x, Int32Array.from([0, 1, 2]));
    expect(s.median).toEqual([2]);
    expect(s.mean[0]).toBeCloseTo(2, 12);
    const z = applyScaling(x, s, true);
    expect(z.columns[0]![1]).toBeCloseTo(0, 12);
    expect(z.columns[0]![5]).toBeGreaterThan(100);
  });
});

describe('splits', () => {
  it('holds out the last 20% of the time range, never earlier rows', () => {
    const t = Float64Array.from({ length: 101 }, (_, i) => i * 1000);
    const s = timeSplit(t, Int32Array.from({ length: 101 }, (_, i) => i), 0.2);
    expect(s.holdout[0]).toBe(80);
    expect(s.holdout.length).toBe(21);
    expect(Math.max(...s.train)).toBeLessThan(Math.min(...s.holdout));
  });

  it('a random split keeps each class in proportion and depends on the seed only', () => {
    const y = Int32Array.from({ length: 1000 }, (_, i) => (i % 50 === 0 ? 1 : 0));
    const rows = Int32Array.from({ length: 1000 }, (_, i) => i);
    const a = randomSplit(rows, 0.2, 7, y);
    const b = randomSplit(rows, 0.2, 7, y);
    const c = randomSplit(rows, 0.2, 8, y);
    expect(Array.from(a.holdout)).toEqual(Array.from(b.holdout));
    expect(Array.from(a.holdout)).not.toEqual(Array.from(c.holdout));
    expect(a.holdout.filter((i) => y[i] === 1).length).toBe(4);
    expect(a.holdout.length).toBe(200);
  });
});
