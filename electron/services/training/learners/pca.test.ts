import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitPca, fitPcaDetailed, hotellingT2Limit, scorePca, speLimitFor } from './pca';
import { createRng } from './rng';
import type { Features } from './types';

const features = (...columns: number[][]): Features => ({
  rows: columns[0]?.length ?? 0,
  columns: columns.map((c) => Float64Array.from(c)),
  names: columns.map((_, j) => `x${j}`),
});
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('fitPca', () => {
  it('finds the one direction of a 2-D cloud along a line', () => {
    const rng = createRng(7);
    const t: number[] = [], u: number[] = [], v: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = rng.next() * 10 - 5;
      const e = (rng.next() - 0.5) * 0.05;
      t.push(s);
      u.push(3 + s + e);
      v.push(1 - 3 * s + e);
    }
    const m = fitPca(features(u, v));
    expect(m.k).toBe(1);
    // Standardised, a line with negative slope loads (1, −1)/√2; the sign rule keeps the
    // first of the two equal-magnitude loadings positive.
    expect(m.components[0]!).toBeCloseTo(Math.SQRT1_2, 6);
    expect(m.components[1]!).toBeCloseTo(-Math.SQRT1_2, 6);
    expect(m.eigenvalues[0]!).toBeGreaterThan(1.99);
    expect(m.alpha).toBe(0.99);
    // An exact line leaves nothing off the model plane.
    const exact = fitPcaDetailed(features(t, t.map((s) => 1 - 3 * s)));
    expect(exact.model.k).toBe(1);
    expect(exact.details.speMethod).toBe('none');
    const onLine = scorePca(exact.model, features([2], [-5]));
    expect(onLine.spe[0]!).toBeLessThan(exact.model.speLimit);
  });

  // Two columns with mean 0, variance 0.9 (ddof = 1) and covariance 0.7: correlation 7/9,
  // eigenvalues 16/9 and 2/9 with eigenvectors (1, 1)/√2 and (1, −1)/√2.
  const square = features([1, -1, 1, -1, 0.5, -0.5], [1, -1, 1, -1, -0.5, 0.5]);

  it('gives T² and SPE of hand-computed points, and limits from the formulas', () => {
    const { model: m, details } = fitPcaDetailed(square, { components: 1 });
    expect(m.mean).toEqual([0, 0]);
    expect(m.scale[0]!).toBeCloseTo(Math.sqrt(0.9), 15);
    expect(details.allEigenvalues[0]!).toBeCloseTo(16 / 9, 14);
    expect(details.allEigenvalues[1]!).toBeCloseTo(2 / 9, 14);
    expect(m.components[0]!).toBeCloseTo(Math.SQRT1_2, 14);
    expect(m.components[1]!).toBeCloseTo(Math.SQRT1_2, 14);
    // z = (3, 1): t = 4/√2, T² = 8 / (16/9) = 4.5; residual (2/√2) along (1, −1)/√2, SPE = 2.
    const s = Math.sqrt(0.9);
    const r = scorePca(m, features([3 * s, 0], [1 * s, 0]));
    expect(r.t2[0]!).toBeCloseTo(4.5, 12);
    expect(r.spe[0]!).toBeCloseTo(2, 12);
    expect(r.t2[1]!).toBe(0);
    expect(r.spe[1]!).toBe(0);
    // T² limit = 1·5·7 / (6·5) · F_0.99(1, 5); scipy: 7/6 * s.f.ppf(0.99, 1, 5) = 18.96787321313926
    expect(rel(m.t2Limit, 18.96787321313926)).toBeLessThan(1e-12);
    // SPE: θ = 2/9, 4/81, 8/729, h0 = 1/3; Jackson–Mudholkar computed with scipy's norm.ppf(0.99): 1.4635051326503907
    expect(details.speMethod).toBe('jackson-mudholkar');
    expect(rel(m.speLimit, 1.4635051326503907)).toBeLessThan(1e-12);
  });

  it('T² and SPE limits agree with values computed with scipy', () => {
    // 9*499*501/(500*491) * s.f.ppf(0.99, 9, 491)
    expect(rel(hotellingT2Limit(500, 9, 0.99), 22.39477509405858)).toBeLessThan(1e-12);
    const jm = speLimitFor([0.5, 0.3, 0.2, 0.1], 0.99);
    expect(jm.method).toBe('jackson-mudholkar');
    expect(rel(jm.limit, 4.374984529198902)).toBeLessThan(1e-12);
    // One large and sixty small discarded eigenvalues: h0 < 0, so Box's g·χ²_h
    // (θ2/θ1 * s.chi2.ppf(0.99, θ1²/θ2)) = 6.54284370163909
    const box = speLimitFor([1, ...new Array<number>(60).fill(0.01)], 0.99);
    expect(box.method).toBe('box');
    expect(rel(box.limit, 6.54284370163909)).toBeLessThan(1e-12);
  });

  it('fixes signs deterministically: largest |loading| positive, the same for negated data', () => {
    const rng = createRng(3);
    const cols: number[][] = Array.from({ length: 5 }, () => []);
    for (let i = 0; i < 300; i++) {
      const a = rng.next() - 0.5, b = rng.next() - 0.5;
      const noise = (): number => (rng.next() - 0.5) * 0.3;
      cols[0]!.push(a + noise());
      cols[1]!.push(-a + b + noise());
      cols[2]!.push(2 * b + noise());
      cols[3]!.push(-a - b + noise());
      cols[4]!.push(noise());
    }
    const m = fitPca(features(...cols), { components: 3 });
    for (let a = 0; a < m.k; a++) {
      const row = m.components.slice(a * 5, (a + 1) * 5);
      const big = row.reduce((best, v, j) => (Math.abs(v) > Math.abs(row[best]!) ? j : best), 0);
      expect(row[big]!).toBeGreaterThan(0);
      let norm = 0;
      for (const v of row) norm += v * v;
      expect(norm).toBeCloseTo(1, 12);
    }
    const neg = fitPca(features(...cols.map((c) => c.map((v) => -v))), { components: 3 });
    neg.components.forEach((v, i) => expect(v).toBeCloseTo(m.components[i]!, 12));
    expect(fitPca(features(...cols), { components: 3 })).toEqual(m);
  });

  it('picks k by explained variance, gives constant columns scale 1 and caps k at the rank', () => {
    const x = features([1, 2, 3, 4, 5], [2, 4.1, 5.9, 8.2, 9.9], [7, 7, 7, 7, 7]);
    const m = fitPca(x, { varianceToExplain: 0.9 });
    expect(m.k).toBe(1);
    expect(m.scale[2]).toBe(1);
    expect(m.mean[2]).toBe(7);
    const all = fitPca(x, { components: 3 });
    expect(all.k).toBe(2); // the constant column adds no direction
    const r = scorePca(m, features([3], [6], [8]));
    expect(r.spe[0]!).toBeGreaterThan(1); // the constant column moved by 1 (scale 1)
  });

  it('rejects bad input', () => {
    expect(() => fitPca(features([1, 2]))).toThrow(/at least 3 rows/);
    expect(() => fitPca(features([1, NaN, 3, 4]))).toThrow(/missing/);
    expect(() => fitPca(features([1, 1, 1, 1]))).toThrow(/constant/);
    expect(() => fitPca(square, { alpha: 1 })).toThrow(/alpha/);
  });
});

// Tennessee Eastman (Braatz group's data, /work/shared/data/tennessee-eastman): d00.dat is normal
// operation stored transposed (52 × 500); d01..d21 are 480 × 52 runs under faults 1..21. With 9
// components and 99 % limits, faults 1 and 2 are caught almost everywhere, while 3, 9 and 15 are
// known to be all but invisible to PCA.
const TE = '/work/shared/data/tennessee-eastman';
describe.skipIf(!existsSync(`${TE}/d00.dat`))('Tennessee Eastman', () => {
  const read = (f: string): number[][] =>
    readFileSync(`${TE}/${f}`, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const d00 = read('d00.dat');
  const train: Features = { rows: d00[0]!.length, columns: d00.map((r) => Float64Array.from(r)), names: [] };
  const m = fitPca(train, { components: 9 });
  const rates = (f: number): { t2: number; spe: number } => {
    const d = read(`d${String(f).padStart(2, '0')}.dat`);
    const x: Features = { rows: d.length, columns: Array.from({ length: 52 }, (_, j) => Float64Array.from(d, (r) => r[j]!)), names: [] };
    const s = scorePca(m, x);
    return { t2: s.t2.filter((v) => v > m.t2Limit).length / d.length, spe: s.spe.filter((v) => v > m.speLimit).length / d.length };
  };

  it('fits the normal data with the published limits and few false alarms', () => {
    expect(train.rows).toBe(500);
    // numpy/scipy on the same data (eigh of the correlation matrix): 22.39477509405858, 46.306668365516146
    expect(rel(m.t2Limit, 22.39477509405858)).toBeLessThan(1e-10);
    expect(rel(m.speLimit, 46.306668365516146)).toBeLessThan(1e-8);
    const s = scorePca(m, train);
    expect(s.t2.filter((v) => v > m.t2Limit).length / 500).toBeLessThan(0.02); // measured 0.004
    expect(s.spe.filter((v) => v > m.speLimit).length / 500).toBeLessThan(0.02); // measured 0.002
  });

  it('detects fault 1 and barely sees faults 3, 9 and 15', () => {
    const f1 = rates(1);
    expect(f1.t2).toBeGreaterThan(0.9);
    expect(f1.spe).toBeGreaterThan(0.9);
    for (const f of [3, 9, 15]) {
      const r = rates(f);
      expect(r.t2).toBeLessThan(0.1);
      expect(r.spe).toBeLessThan(0.15);
    }
  });
});
