import { describe, expect, it } from 'vitest';
import { fitTree, FLOAT32_MAX, growTree, leafIndex, predictTree, resolveMaxFeatures, TREE_DEFAULTS, type TreeModel } from './tree';
import { fitBins } from './binning';
import { createRng } from './rng';
import type { Features, TreeNodes } from './types';

const feats = (...cols: number[][]): Features => ({
  rows: cols[0]!.length,
  columns: cols.map((c) => Float64Array.from(c)),
  names: cols.map((_, j) => `f${j}`),
});

function depthOf(t: TreeNodes, node = 0): number {
  return t.feature[node]! < 0 ? 0 : 1 + Math.max(depthOf(t, t.left[node]!), depthOf(t, t.right[node]!));
}

function leafCount(t: TreeNodes): number {
  return t.feature.filter((f) => f < 0).length;
}

/** Deterministic pseudo-random numbers for test data. */
function noise(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

describe('decision tree', () => {
  it('fits XOR exactly with depth 2 (the first split gains nothing, as in sklearn)', () => {
    const a: number[] = [], b: number[] = [], y: number[] = [];
    for (let r = 0; r < 5; r++) for (const [u, v] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) { a.push(u); b.push(v); y.push(u ^ v); }
    const x = feats(a, b);
    const m = fitTree(x, Int32Array.from(y), 'classification', { maxDepth: 2 });
    expect(depthOf(m.tree)).toBe(2);
    expect(leafCount(m.tree)).toBe(4);
    const p = predictTree(m, x);
    for (let i = 0; i < y.length; i++) {
      expect(p[2 * i + y[i]!]).toBe(1);
      expect(p[2 * i + 1 - y[i]!]).toBe(0);
    }
  });

  it('recovers a step function in regression with the threshold between the neighbouring values', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i);
    const y = Float64Array.from(xs, (v) => (v < 37 ? 1 : 5));
    const m = fitTree(feats(xs), y, 'regression', { maxDepth: 1 });
    expect(m.tree.outputs).toBe(1);
    expect(m.tree.feature[0]).toBe(0);
    expect(m.tree.threshold[0]).toBe(36.5);
    expect(m.tree.value[m.tree.left[0]!]).toBe(1);
    expect(m.tree.value[m.tree.right[0]!]).toBe(5);
    expect(m.tree.value[0]).toBe(0);
    const p = predictTree(m, feats([0, 36, 36.4, 36.6, 37, 1000]));
    expect(Array.from(p)).toEqual([1, 1, 1, 5, 5, 5]);
  });

  it('regression leaves hold the weighted mean', () => {
    const m = fitTree(feats([0, 0, 0, 1, 1]), Float64Array.from([1, 2, 6, 10, 20]), 'regression', { maxDepth: 1 }, {
      sampleWeight: Float64Array.from([1, 1, 2, 1, 3]),
    });
    const p = predictTree(m, feats([0, 1]));
    expect(p[0]).toBeCloseTo((1 + 2 + 12) / 4, 12);
    expect(p[1]).toBeCloseTo((10 + 60) / 4, 12);
  });

  it('leaves hold the (weighted) class frequencies', () => {
    // x = 0: classes 0, 0, 1; x = 1: classes 1, 1, 1, 2.
    const x = feats([0, 0, 0, 1, 1, 1, 1]);
    const y = Int32Array.from([0, 0, 1, 1, 1, 1, 2]);
    const m = fitTree(x, y, 'classification', { maxDepth: 1 });
    expect(m.classCount).toBe(3);
    expect(m.tree.outputs).toBe(3);
    const p = Array.from(predictTree(m, feats([0, 1])));
    expect(p.slice(0, 3)).toEqual([2 / 3, 1 / 3, 0]);
    expect(p.slice(3)).toEqual([0, 3 / 4, 1 / 4]);
    // Inner node holds zeros.
    expect(m.tree.value.slice(0, 3)).toEqual([0, 0, 0]);
    // Row weights 1, 1, 2 on the x = 0 rows: class 0 weighs 2, class 1 weighs 2.
    const w = fitTree(x, y, 'classification', { maxDepth: 1 }, { sampleWeight: Float64Array.from([1, 1, 2, 1, 1, 1, 1]) });
    expect(Array.from(predictTree(w, feats([0]))).slice(0, 3)).toEqual([0.5, 0.5, 0]);
    // A class count larger than the labels seen gives extra zero columns.
    const k4 = fitTree(x, y, 'classification', { maxDepth: 1 }, { classCount: 4 });
    expect(Array.from(predictTree(k4, feats([1])))).toEqual([0, 3 / 4, 1 / 4, 0]);
  });

  it('learns where missing values go when NaN carries the signal', () => {
    const rnd = noise(1);
    const n = 200;
    const a: number[] = [], b: number[] = [], y: number[] = [];
    for (let i = 0; i < n; i++) {
      const missing = i % 4 === 0;
      const v = rnd() * 10;
      // Class 1 when a is missing or large; a carries the signal, b is noise.
      a.push(missing ? NaN : v);
      b.push(rnd());
      y.push(missing || v > 8 ? 1 : 0);
    }
    const m = fitTree(feats(a, b), Int32Array.from(y), 'classification', { maxDepth: 3 });
    expect(m.tree.feature[0]).toBe(0);
    // One split suffices: low values left, high values and missing right.
    expect(m.tree.missingLeft[0]).toBe(0);
    const p = predictTree(m, feats([NaN, 1, 9], [0.5, 0.5, 0.5]));
    expect([p[1], p[3], p[5]]).toEqual([1, 0, 1]);
    // Missing values with the low values: they must go left.
    const y2 = y.map((_, i) => (Number.isNaN(a[i]!) || a[i]! < 2 ? 1 : 0));
    const m2 = fitTree(feats(a, b), Int32Array.from(y2), 'classification', { maxDepth: 1 });
    expect(m2.tree.feature[0]).toBe(0);
    expect(m2.tree.missingLeft[0]).toBe(1);
    const p2 = predictTree(m2, feats([NaN, 1, 9], [0.5, 0.5, 0.5]));
    expect([p2[1], p2[3], p2[5]]).toEqual([1, 1, 0]);
  });

  it('splits "any value vs missing" when only missingness matters', () => {
    const a = [1, 2, 3, 4, NaN, NaN, NaN, 1, 2, 3];
    const y = a.map((v) => (Number.isNaN(v) ? 1 : 0));
    const m = fitTree(feats(a), Float64Array.from(y), 'regression', { maxDepth: 1 });
    expect(m.tree.threshold[0]).toBe(FLOAT32_MAX);
    expect(m.tree.missingLeft[0]).toBe(0);
    expect(Array.from(predictTree(m, feats([NaN, 3, 1e30])))).toEqual([1, 0, 0]);
  });

  it('sends missing values to the heavier child when training had none', () => {
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const y = xs.map((v) => (v < 3 ? 1 : 0));
    const m = fitTree(feats(xs), Int32Array.from(y), 'classification', { maxDepth: 1 });
    expect(m.tree.missingLeft[0]).toBe(0); // right child holds 7 of 10 rows
    expect(predictTree(m, feats([NaN]))[0]).toBe(1); // P(class 0) = 1, as on the right
    const m2 = fitTree(feats(xs), Int32Array.from(xs.map((v) => (v < 7 ? 1 : 0))), 'classification', { maxDepth: 1 });
    expect(m2.tree.missingLeft[0]).toBe(1);
  });

  it('respects maxDepth, minSamplesLeaf, minSamplesSplit and maxLeafNodes', () => {
    const rnd = noise(2);
    const n = 300;
    const cols = [0, 1, 2].map(() => Array.from({ length: n }, () => rnd()));
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(6 * cols[0]![i]!) + cols[1]![i]! + 0.3 * rnd());
    const x = feats(...cols);
    const full = fitTree(x, y, 'regression');
    expect(depthOf(full.tree)).toBeGreaterThan(6);
    expect(leafCount(full.tree)).toBeGreaterThan(250); // distinct targets: grown to single rows
    for (const d of [1, 3, 5]) expect(depthOf(fitTree(x, y, 'regression', { maxDepth: d }).tree)).toBe(d);
    for (const k of [5, 20]) {
      const m = fitTree(x, y, 'regression', { minSamplesLeaf: k });
      const perLeaf = new Map<number, number>();
      for (let i = 0; i < n; i++) { const l = leafIndex(m.tree, x, i); perLeaf.set(l, (perLeaf.get(l) ?? 0) + 1); }
      expect(Math.min(...perLeaf.values())).toBeGreaterThanOrEqual(k);
      expect(perLeaf.size).toBe(leafCount(m.tree));
    }
    const split = fitTree(x, y, 'regression', { minSamplesSplit: 50 });
    const sizes = new Map<number, number>();
    for (let i = 0; i < n; i++) { const l = leafIndex(split.tree, x, i); sizes.set(l, (sizes.get(l) ?? 0) + 1); }
    // A leaf is either too small to split or was split from a node of >= 50 rows: no two sibling leaves sum below 50.
    const t = split.tree;
    for (let node = 0; node < t.feature.length; node++) {
      if (t.feature[node]! < 0) continue;
      const l = t.left[node]!, r = t.right[node]!;
      if (t.feature[l]! < 0 && t.feature[r]! < 0) expect(sizes.get(l)! + sizes.get(r)!).toBeGreaterThanOrEqual(50);
    }
    for (const leaves of [2, 7, 16]) expect(leafCount(fitTree(x, y, 'regression', { maxLeafNodes: leaves }).tree)).toBe(leaves);
    // Best first: with 2 leaves the split is the root's best split.
    const stump = fitTree(x, y, 'regression', { maxDepth: 1 });
    const two = fitTree(x, y, 'regression', { maxLeafNodes: 2 });
    expect(JSON.stringify(two)).toBe(JSON.stringify(stump));
  });

  it('uses float32-exact thresholds that route training rows like the bins', () => {
    const rnd = noise(3);
    const n = 500;
    const col = Array.from({ length: n }, () => rnd() * 1e3 + 0.1);
    const y = Int32Array.from(col, (v) => (v % 100 < 50 ? 1 : 0));
    const m: TreeModel = fitTree(feats(col), y, 'classification');
    const t = m.tree;
    for (let i = 0; i < t.feature.length; i++) if (t.feature[i]! >= 0) expect(Math.fround(t.threshold[i]!)).toBe(t.threshold[i]);
    // 500 distinct values exceed 255 bins, yet the tree separates the classes almost perfectly.
    const p = predictTree(m, feats(col));
    let right = 0;
    for (let i = 0; i < n; i++) if ((p[2 * i + 1]! > 0.5 ? 1 : 0) === y[i]) right++;
    expect(right / n).toBeGreaterThan(0.97);
  });

  it('draws features per node from the seed (maxFeatures) and is deterministic', () => {
    expect(resolveMaxFeatures('sqrt', 30)).toBe(5);
    expect(resolveMaxFeatures('all', 30)).toBe(30);
    expect(resolveMaxFeatures(0.5, 30)).toBe(15);
    expect(resolveMaxFeatures(4, 30)).toBe(4);
    expect(resolveMaxFeatures(40, 30)).toBe(30);
    const rnd = noise(4);
    const n = 200;
    const cols = Array.from({ length: 9 }, () => Array.from({ length: n }, () => rnd()));
    const y = Int32Array.from({ length: n }, (_, i) => (cols[0]![i]! + cols[4]![i]! + 0.2 * rnd() > 1 ? 1 : 0));
    const x = feats(...cols);
    const a = JSON.stringify(fitTree(x, y, 'classification', { maxFeatures: 'sqrt' }, { seed: 7 }));
    expect(JSON.stringify(fitTree(x, y, 'classification', { maxFeatures: 'sqrt' }, { seed: 7 }))).toBe(a);
    expect(JSON.stringify(fitTree(x, y, 'classification', { maxFeatures: 'sqrt' }, { seed: 8 }))).not.toBe(a);
    // With one feature per node the root uses various features across seeds.
    const roots = new Set<number>();
    for (let s = 0; s < 20; s++) roots.add(fitTree(x, y, 'classification', { maxFeatures: 1, maxDepth: 1 }, { seed: s }).tree.feature[0]!);
    expect(roots.size).toBeGreaterThan(3);
    // With all features the root uses the most informative one.
    expect([0, 4]).toContain(fitTree(x, y, 'classification', { maxDepth: 1 }).tree.feature[0]);
  });

  it('keeps drawing past maxFeatures while the drawn features are constant', () => {
    const n = 40;
    const constant = Array.from({ length: n }, () => 3);
    const signal = Array.from({ length: n }, (_, i) => i);
    const y = Int32Array.from(signal, (v) => (v < 20 ? 0 : 1));
    for (let s = 0; s < 10; s++) {
      const m = fitTree(feats(constant, constant, constant, signal), y, 'classification', { maxFeatures: 1 }, { seed: s });
      expect(m.tree.feature[0]).toBe(3);
      expect(leafCount(m.tree)).toBe(2);
    }
  });

  it('grows from binned rows with repeats or weights alike (the forest path)', () => {
    const xs = [0, 1, 2, 3, 4, 5];
    const y = Float64Array.from([0, 0, 1, 5, 5, 6]);
    const binned = fitBins(feats(xs));
    const params = { ...TREE_DEFAULTS, maxDepth: 1 };
    const repeated = growTree(binned, Int32Array.from([0, 0, 1, 2, 3, 4, 5, 5, 5]), y, { task: 'regression', classCount: 1, params, rng: createRng(0) });
    const weighted = growTree(binned, Int32Array.from([0, 1, 2, 3, 4, 5]), y, {
      task: 'regression', classCount: 1, params, rng: createRng(0), weight: Float64Array.from([2, 1, 1, 1, 1, 3]),
    });
    expect(weighted.threshold).toEqual(repeated.threshold);
    expect(weighted.value).toEqual(repeated.value);
    expect(repeated.value[repeated.left[0]!]).toBeCloseTo(1 / 4, 12);
    expect(repeated.value[repeated.right[0]!]).toBeCloseTo((5 + 5 + 18) / 5, 12);
  });

  it('rejects bad input', () => {
    expect(() => fitTree(feats([1, 2]), Int32Array.from([0]), 'classification')).toThrow(/2 rows/);
    expect(() => fitTree(feats([1, 2]), Float64Array.from([0, 0.5]), 'classification')).toThrow(/integers/);
    const m = fitTree(feats([1, 2]), Int32Array.from([0, 1]), 'classification');
    expect(() => predictTree(m, feats([1], [2]))).toThrow(/expects 1 features/);
  });
});
