import { describe, expect, it } from 'vitest';
import { averagePathLength, fitIForest, growIsolationTree, scoreIForest } from './iforest';
import { leafIndex } from './tree';
import { createRng, type Rng } from './rng';
import type { Features } from './types';

const EULER_GAMMA = 0.5772156649015329;

function cloud(n: number, p: number, seed: number): Features {
  const rng = createRng(seed);
  const columns = Array.from({ length: p }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    // Roughly normal: sum of uniforms.
    for (const c of columns) c[i] = rng.next() + rng.next() + rng.next() - 1.5;
  }
  return { rows: n, columns, names: columns.map((_, j) => `f${j}`) };
}

/** An Rng that always returns the same draws (int 0: features in order; next 0.5: midpoints). */
const fixedRng: Rng = { next: () => 0.5, int: () => 0 };

describe('isolation forest', () => {
  it('computes c(n) like sklearn', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(3)).toBeCloseTo(2 * (Math.log(2) + EULER_GAMMA) - 4 / 3, 14);
    expect(averagePathLength(256)).toBeCloseTo(10.2448, 4);
    expect(averagePathLength(256)).toBeCloseTo(2 * (Math.log(255) + EULER_GAMMA) - 510 / 256, 14);
  });

  it('stores depth + c(leaf size) in the leaves of a hand-checked tree', () => {
    // One feature, values 0 1 2 3 10; split points are midpoints of the node's min and max.
    const col = Float64Array.from([0, 1, 2, 3, 10]);
    const t = growIsolationTree([col], 5, 2, fixedRng);
    // Root: 5 -> {0,1,2,3} | {10}; depth 1 left: 1.5 -> {0,1} | {2,3}.
    expect(t.feature[0]).toBe(0);
    expect(t.threshold[0]).toBe(5);
    expect(t.missingLeft[0]).toBe(1);
    const x: Features = { rows: 5, columns: [col], names: ['a'] };
    const leafValue = (row: number): number => t.value[leafIndex(t, x, row)]!;
    expect(leafValue(4)).toBe(1); // depth 1, one row: c(1) = 0
    expect(leafValue(0)).toBe(2 + 1); // depth 2 (the max), two rows: c(2) = 1
    expect(leafValue(1)).toBe(3);
    expect(leafValue(2)).toBe(3);
    expect(t.threshold[t.left[0]!]).toBe(1.5);
    expect(t.feature.filter((f) => f < 0)).toHaveLength(3);
    // Inner nodes hold zeros.
    for (let i = 0; i < t.feature.length; i++) if (t.feature[i]! >= 0) expect(t.value[i]).toBe(0);
    // With max depth 1 the left leaf holds four rows: 1 + c(4).
    const t1 = growIsolationTree([col], 5, 1, fixedRng);
    expect(t1.value[leafIndex(t1, x, 0)]).toBeCloseTo(1 + 2 * (Math.log(3) + EULER_GAMMA) - 1.5, 14);
    // A constant feature is skipped; duplicates end in one leaf.
    const dup = growIsolationTree([Float64Array.from([7, 7, 7, 7]), Float64Array.from([1, 1, 1, 2])], 4, 5, fixedRng);
    expect(dup.feature[0]).toBe(1);
    const xd: Features = { rows: 4, columns: [Float64Array.from([7, 7, 7, 7]), Float64Array.from([1, 1, 1, 2])], names: ['a', 'b'] };
    expect(dup.value[leafIndex(dup, xd, 0)]).toBeCloseTo(1 + averagePathLength(3), 14);
    expect(dup.value[leafIndex(dup, xd, 3)]).toBe(1);
  });

  it('keeps thresholds float32-exact and inside [min, max) so both sides are non-empty', () => {
    // Neighbouring float32 values: a uniform draw between them may round up to max, which must fall back to min.
    const a = Math.fround(1.1);
    const b = a + 2 ** -23; // next float32 above 1.1 (exponent 0)
    expect(Math.fround(b)).toBe(b);
    const t = growIsolationTree([Float64Array.from([a, b])], 2, 1, { next: () => 0.9, int: () => 0 });
    expect(t.threshold[0]).toBe(a);
    const x = cloud(300, 3, 1);
    const m = fitIForest(x, { trees: 20, seed: 3 });
    for (const tree of m.trees) {
      for (let i = 0; i < tree.feature.length; i++) {
        if (tree.feature[i]! < 0) continue;
        expect(Math.fround(tree.threshold[i]!)).toBe(tree.threshold[i]);
        // Every inner node has two children, and no leaf is empty: values are >= depth >= 1.
        expect(tree.left[i]).toBeGreaterThan(0);
        expect(tree.right[i]).toBeGreaterThan(0);
      }
      // Max depth ceil(log2(256)) = 8: a leaf value is at most 8 + c(sample size).
      for (let i = 0; i < tree.feature.length; i++) if (tree.feature[i]! < 0) expect(tree.value[i]!).toBeLessThanOrEqual(8 + averagePathLength(256));
    }
  });

  it('scores in (0, 1] with a far outlier highest, as 2^(-mean leaf value / c(sampleSize))', () => {
    const x = cloud(500, 4, 2);
    const m = fitIForest(x, { trees: 50, seed: 0 });
    expect(m.sampleSize).toBe(256);
    expect(m.normaliser).toBe(averagePathLength(256));
    expect(m.trees).toHaveLength(50);
    const test = cloud(50, 4, 3);
    for (const c of test.columns) c[17] = 8; // far outside the cloud
    for (const c of test.columns) c[23] = 0; // the centre of the cloud
    const s = scoreIForest(m, test);
    for (const v of s) { expect(v).toBeGreaterThan(0); expect(v).toBeLessThanOrEqual(1); }
    const order = Array.from(s.keys()).sort((i, j) => s[j]! - s[i]!);
    expect(order[0]).toBe(17);
    expect(order.indexOf(23)).toBeGreaterThan(40);
    expect(s[17]).toBeGreaterThan(0.7);
    // The formula, by hand for one row.
    const mean = m.trees.reduce((acc, t) => acc + t.value[leafIndex(t, test, 5)]!, 0) / m.trees.length;
    expect(s[5]).toBeCloseTo(2 ** (-mean / m.normaliser), 14);
    // Small data: every row in every tree, c(n) normaliser.
    const small = fitIForest(cloud(40, 2, 4), { trees: 5 });
    expect(small.sampleSize).toBe(40);
    expect(small.normaliser).toBe(averagePathLength(40));
  });

  it('is deterministic for a seed and differs for another seed', () => {
    const x = cloud(400, 3, 5);
    const a = JSON.stringify(fitIForest(x, { trees: 10, seed: 1 }));
    expect(JSON.stringify(fitIForest(x, { trees: 10, seed: 1 }))).toBe(a);
    expect(JSON.stringify(fitIForest(x, { trees: 10, seed: 2 }))).not.toBe(a);
    expect(JSON.stringify(JSON.parse(a))).toBe(a);
  });

  it('sends missing values left and ignores them when finding the split range', () => {
    const col = Float64Array.from([NaN, 0, 4, NaN]);
    const t = growIsolationTree([col], 4, 3, fixedRng);
    expect(t.threshold[0]).toBe(2);
    const x: Features = { rows: 1, columns: [Float64Array.from([NaN])], names: ['a'] };
    expect(leafIndex(t, x, 0)).toBe(leafIndex(t, { rows: 1, columns: [Float64Array.from([0])], names: ['a'] }, 0));
    const m = fitIForest({ rows: 4, columns: [col], names: ['a'] }, { trees: 3 });
    for (const v of scoreIForest(m, x)) expect(v).toBeGreaterThan(0);
  });

  it('reports progress per tree, stops when cancelled, and rejects too little data', () => {
    const x = cloud(50, 2, 6);
    const seen: number[] = [];
    fitIForest(x, { trees: 4 }, { progress: (f) => seen.push(f) });
    expect(seen).toEqual([0.25, 0.5, 0.75, 1]);
    let calls = 0;
    expect(() => fitIForest(x, { trees: 10 }, { checkCancelled: () => { if (++calls > 2) throw new Error('cancelled'); } })).toThrow('cancelled');
    expect(calls).toBe(3);
    expect(() => fitIForest(cloud(1, 2, 7))).toThrow(/at least 2 rows/);
  });
});
