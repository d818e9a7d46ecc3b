import { describe, expect, it } from 'vitest';
import { fitHgb, HGB_DEFAULTS, predictHgb, predictHgbRaw, predictTree, type HgbModel } from './hgb';
import { createRng } from './rng';
import type { Features, TreeNodes } from './types';

function features(columns: Float64Array[]): Features {
  return { rows: columns[0]!.length, columns, names: columns.map((_, j) => `f${j}`) };
}

/** Rank-based ROC AUC (ties averaged). */
function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSum = 0, pos = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && scores[order[j]!] === scores[order[i]!]) j++;
    for (let q = i; q < j; q++) if (labels[order[q]!] === 1) { rankSum += (i + j + 1) / 2; pos++; }
    i = j;
  }
  const neg = order.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

function positiveProbabilities(model: HgbModel, x: Features): Float64Array {
  const p = predictHgb(model, x);
  return Float64Array.from({ length: x.rows }, (_, i) => p[2 * i + 1]!);
}

function leafCount(tree: TreeNodes): number {
  return tree.feature.filter((f) => f < 0).length;
}

function depthOf(tree: TreeNodes, node = 0): number {
  if (tree.feature[node]! < 0) return 0;
  return 1 + Math.max(depthOf(tree, tree.left[node]!), depthOf(tree, tree.right[node]!));
}

/** n rows: a binary problem with a noisy logistic signal on the first two of `nf` features. */
function noisyBinary(n: number, nf: number, seed: number): { x: Features; y: Int32Array } {
  const rng = createRng(seed);
  const cols = Array.from({ length: nf }, () => new Float64Array(n));
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nf; j++) cols[j]![i] = rng.next() * 4 - 2;
    if (rng.next() < 0.05) cols[1]![i] = NaN;
    const z = 1.5 * cols[0]![i]! + (Number.isNaN(cols[1]![i]!) ? 1 : Math.sin(2 * cols[1]![i]!));
    y[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { x: features(cols), y };
}

describe('fitHgb', () => {
  it('recovers a step function almost exactly (regression)', () => {
    const n = 2000;
    const rng = createRng(1);
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const step = (v: number): number => (v < 2 ? 1 : v < 5 ? -3 : v < 7 ? 4 : 0.5);
    for (let i = 0; i < n; i++) { x[i] = rng.next() * 10; y[i] = step(x[i]!); }
    const model = fitHgb(features([x]), y, 'regression', { maxIter: 150, minSamplesLeaf: 5 });
    expect(model.iterations).toBe(150);
    expect(model.baseline[0]).toBeCloseTo(y.reduce((a, b) => a + b, 0) / n, 12);
    const grid = Float64Array.from([0.1, 1.5, 1.95, 2.05, 3, 4.9, 5.1, 6.5, 6.95, 7.05, 9.9]);
    const pred = predictHgb(model, features([grid]));
    for (let i = 0; i < grid.length; i++) expect(Math.abs(pred[i]! - step(grid[i]!))).toBeLessThan(0.01);
  });

  it('separates separable binary data perfectly', () => {
    const n = 1000;
    const rng = createRng(2);
    const a = new Float64Array(n), b = new Float64Array(n);
    const y = new Int32Array(n);
    // 41 distinct values: one bin each, so that the boundary is a bin edge.
    for (let i = 0; i < n; i++) { a[i] = Math.floor(rng.next() * 41) / 20 - 1; b[i] = rng.next(); y[i] = a[i]! > 0.25 ? 1 : 0; }
    const x = features([a, b]);
    const model = fitHgb(x, y, 'binary', { maxIter: 30 });
    expect(model.classCount).toBe(2);
    expect(model.treesPerIteration).toBe(1);
    const prob = predictHgb(model, x);
    const p1 = positiveProbabilities(model, x);
    expect(auc(p1, y)).toBe(1);
    for (let i = 0; i < n; i++) {
      expect(prob[2 * i]! + prob[2 * i + 1]!).toBeCloseTo(1, 12);
      expect(p1[i]! > 0.5 ? 1 : 0).toBe(y[i]);
    }
    // The first tree splits on the informative feature, at the boundary.
    expect(model.trees[0]!.feature[0]).toBe(0);
    expect(model.trees[0]!.threshold[0]).toBeGreaterThan(0.2);
    expect(model.trees[0]!.threshold[0]).toBeLessThan(0.3);
  });

  it('classifies three clusters (multiclass, softmax)', () => {
    const n = 900;
    const rng = createRng(3);
    const a = new Float64Array(n), b = new Float64Array(n);
    const y = new Int32Array(n);
    const centres = [[0, 0], [4, 0], [2, 4]] as const;
    for (let i = 0; i < n; i++) {
      const k = i % 3;
      y[i] = k;
      a[i] = centres[k]![0] + (rng.next() - 0.5) * 2;
      b[i] = centres[k]![1] + (rng.next() - 0.5) * 2;
    }
    const x = features([a, b]);
    const model = fitHgb(x, y, 'multiclass', { maxIter: 20 });
    expect(model.classCount).toBe(3);
    expect(model.treesPerIteration).toBe(3);
    expect(model.trees.length).toBe(60);
    // Equal priors: centred log-priors are all zero.
    for (const v of model.baseline) expect(Math.abs(v)).toBeLessThan(1e-12);
    const prob = predictHgb(model, x);
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const row = [prob[3 * i]!, prob[3 * i + 1]!, prob[3 * i + 2]!];
      expect(row[0]! + row[1]! + row[2]!).toBeCloseTo(1, 12);
      if (row.indexOf(Math.max(...row)) === y[i]) correct++;
    }
    expect(correct / n).toBeGreaterThan(0.99);
  });

  it('learns from missing values: NaN goes left with the low values that share its class', () => {
    const n = 2000;
    const rng = createRng(4);
    const a = new Float64Array(n), b = new Float64Array(n);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      b[i] = rng.next();
      const r = rng.next();
      if (r < 0.3) { a[i] = NaN; y[i] = 1; } else { a[i] = rng.next(); y[i] = a[i]! < 0.2 ? 1 : 0; }
    }
    const model = fitHgb(features([a, b]), y, 'binary', { maxIter: 40 });
    const root = model.trees[0]!;
    expect(root.feature[0]).toBe(0);
    expect(root.missingLeft[0]).toBe(1);
    expect(root.threshold[0]).toBeGreaterThan(0.15);
    expect(root.threshold[0]).toBeLessThan(0.25);
    const probe = features([Float64Array.from([NaN, 0.1, 0.9]), Float64Array.from([0.5, 0.5, 0.5])]);
    const p = positiveProbabilities(model, probe);
    expect(p[0]).toBeGreaterThan(0.9);
    expect(p[1]).toBeGreaterThan(0.9);
    expect(p[2]).toBeLessThan(0.1);
  });

  it('sends missing values to the larger child when training had none (sklearn)', () => {
    const n = 1000;
    const a = Float64Array.from({ length: n }, (_, i) => i / n);
    const y = Float64Array.from(a, (v) => (v < 0.7 ? 0 : 1));
    const model = fitHgb(features([a]), y, 'regression', { maxIter: 1, maxLeafNodes: 2, learningRate: 1 });
    const tree = model.trees[0]!;
    expect(tree.feature[0]).toBe(0);
    expect(tree.missingLeft[0]).toBe(1); // 700 rows left, 300 right
    const raw = predictHgbRaw(model, features([Float64Array.from([NaN, 0.2])]));
    expect(raw[0]).toBe(raw[1]);
  });

  it('stops early on noise', () => {
    const n = 20_000;
    const rng = createRng(5);
    const cols = [new Float64Array(n), new Float64Array(n)];
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) { cols[0]![i] = rng.next(); cols[1]![i] = rng.next(); y[i] = rng.next() < 0.5 ? 1 : 0; }
    const model = fitHgb(features(cols), y, 'binary', { maxIter: 200 });
    expect(model.iterations).toBeGreaterThan(HGB_DEFAULTS.nIterNoChange);
    expect(model.iterations).toBeLessThan(60);
    expect(model.trees.length).toBe(model.iterations);
    const off = fitHgb(features(cols), y, 'binary', { maxIter: 30, earlyStopping: false });
    expect(off.iterations).toBe(30);
  });

  it('early-stops on given validation data', () => {
    const train = noisyBinary(3000, 3, 6);
    const rng = createRng(7);
    const vy = Int32Array.from({ length: 1000 }, () => (rng.next() < 0.5 ? 1 : 0));
    const valid = { x: noisyBinary(1000, 3, 8).x, y: vy }; // labels unrelated to the features
    const model = fitHgb(train.x, train.y, 'binary', { maxIter: 200, earlyStopping: true }, { valid });
    expect(model.iterations).toBeLessThan(40);
  });

  it('weights rows: a rare class weighted up gets higher probabilities', () => {
    const n = 4000;
    const rng = createRng(9);
    const a = new Float64Array(n);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) { a[i] = rng.next(); y[i] = rng.next() < 0.02 + 0.1 * a[i]! ? 1 : 0; }
    const x = features([a]);
    const weight = Float64Array.from(y, (v) => (v === 1 ? 10 : 1));
    const plain = fitHgb(x, y, 'binary', { maxIter: 20 });
    const weighted = fitHgb(x, y, 'binary', { maxIter: 20 }, { sampleWeight: weight });
    expect(weighted.baseline[0]!).toBeGreaterThan(plain.baseline[0]! + 1);
    const pp = positiveProbabilities(plain, x), pw = positiveProbabilities(weighted, x);
    let mp = 0, mw = 0;
    for (let i = 0; i < n; i++) if (y[i] === 1) { mp += pp[i]!; mw += pw[i]!; }
    expect(mw).toBeGreaterThan(mp * 2);
    // Integer weights act like repeated rows (the baseline is the weighted log-odds).
    let pos = 0, tot = 0;
    for (let i = 0; i < n; i++) { pos += weight[i]! * y[i]!; tot += weight[i]!; }
    expect(weighted.baseline[0]).toBeCloseTo(Math.log(pos / tot / (1 - pos / tot)), 12);
  });

  it('is deterministic, with or without the worker thread', () => {
    const { x, y } = noisyBinary(30_000, 5, 10);
    const a = JSON.stringify(fitHgb(x, y, 'binary', { maxIter: 8 }, { parallel: false }));
    const b = JSON.stringify(fitHgb(x, y, 'binary', { maxIter: 8 }, { parallel: false }));
    const c = JSON.stringify(fitHgb(x, y, 'binary', { maxIter: 8 }, { parallel: true }));
    expect(a).toBe(b);
    expect(c).toBe(a);
    const d = JSON.stringify(fitHgb(x, y, 'binary', { maxIter: 8, seed: 1 }, { parallel: false }));
    expect(d).not.toBe(a); // another seed: another validation split
  });

  it('predicts baseline + the leaf values walked by hand', () => {
    const { x, y } = noisyBinary(3000, 4, 11);
    const model = fitHgb(x, y, 'binary', { maxIter: 12 });
    const raw = predictHgbRaw(model, x);
    for (const row of [0, 7, 1234]) {
      let sum = model.baseline[0]!;
      for (const tree of model.trees) {
        let node = 0;
        while (tree.feature[node]! >= 0) {
          const v = x.columns[tree.feature[node]!]![row]!;
          const left = Number.isNaN(v) ? tree.missingLeft[node] === 1 : Math.fround(v) <= tree.threshold[node]!;
          node = left ? tree.left[node]! : tree.right[node]!;
        }
        expect(predictTree(tree, x, row)).toBe(node);
        sum += tree.value[node]!;
      }
      expect(raw[row]).toBeCloseTo(sum, 12);
      const p = predictHgb(model, x);
      expect(p[2 * row + 1]).toBeCloseTo(1 / (1 + Math.exp(-sum)), 12);
    }
  });

  it('keeps to maxLeafNodes, maxDepth and float32-exact thresholds', () => {
    const { x, y } = noisyBinary(5000, 4, 12);
    const model = fitHgb(x, y, 'binary', { maxIter: 10, maxLeafNodes: 7 });
    for (const tree of model.trees) {
      expect(leafCount(tree)).toBeLessThanOrEqual(7);
      expect(tree.outputs).toBe(1);
      expect(tree.feature.length).toBe(2 * leafCount(tree) - 1);
      tree.feature.forEach((f, i) => {
        if (f < 0) {
          expect(tree.left[i]).toBe(-1);
        } else {
          expect(Math.fround(tree.threshold[i]!)).toBe(tree.threshold[i]);
          expect(tree.value[i]).toBe(0);
        }
      });
    }
    expect(model.trees.some((t) => leafCount(t) === 7)).toBe(true);
    const shallow = fitHgb(x, y, 'binary', { maxIter: 5, maxDepth: 2 });
    for (const tree of shallow.trees) expect(depthOf(tree)).toBeLessThanOrEqual(2);
  });

  it('keeps minSamplesLeaf rows in every leaf, even when a smaller group would gain most', () => {
    // 12 positives at the top of feature 0: the best split cuts them off, which 20 rows forbid.
    const n = 2000;
    const rng = createRng(16);
    const a = Float64Array.from({ length: n }, (_, i) => i / n);
    const b = Float64Array.from({ length: n }, () => rng.next());
    const y = Int32Array.from({ length: n }, (_, i) => (i >= n - 12 || rng.next() < 0.02 ? 1 : 0));
    const x = features([a, b]);
    const leafRows = (model: HgbModel): number => {
      let smallest = Infinity;
      for (const tree of model.trees) {
        const counts = new Map<number, number>();
        for (let i = 0; i < n; i++) { const leaf = predictTree(tree, x, i); counts.set(leaf, (counts.get(leaf) ?? 0) + 1); }
        smallest = Math.min(smallest, ...counts.values());
      }
      return smallest;
    };
    expect(leafRows(fitHgb(x, y, 'binary', { maxIter: 10, minSamplesLeaf: 1 }))).toBeLessThan(20);
    expect(leafRows(fitHgb(x, y, 'binary', { maxIter: 10, minSamplesLeaf: 20 }))).toBeGreaterThanOrEqual(20);
    expect(leafRows(fitHgb(x, y, 'binary', { maxIter: 10, minSamplesLeaf: 150 }))).toBeGreaterThanOrEqual(150);
  });

  it('assigns training rows by thresholds exactly as it binned them', () => {
    // One deep tree at learning rate 1 on values with ties, values on bin edges and NaN: each
    // leaf's value must be the mean residual of the training rows that the thresholds send there.
    const n = 3000;
    const rng = createRng(13);
    const a = new Float64Array(n), b = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = rng.next() < 0.1 ? NaN : Math.floor(rng.next() * 40) / 7; // few distinct values
      b[i] = i % 3 === 0 ? 0.1 : rng.next() * 1e3; // 0.1 is not a float32
      y[i] = rng.next() * 10 + (Number.isNaN(a[i]!) ? 5 : a[i]!);
    }
    const x = features([a, b]);
    const model = fitHgb(x, y, 'regression', { maxIter: 1, learningRate: 1, maxLeafNodes: 64, minSamplesLeaf: 1 });
    const tree = model.trees[0]!;
    const sums = new Map<number, { s: number; c: number }>();
    for (let i = 0; i < n; i++) {
      const leaf = predictTree(tree, x, i);
      const e = sums.get(leaf) ?? { s: 0, c: 0 };
      e.s += y[i]! - model.baseline[0]!;
      e.c++;
      sums.set(leaf, e);
    }
    expect(sums.size).toBe(leafCount(tree));
    // (Gradients are float32, as in sklearn.)
    for (const [leaf, e] of sums) expect(tree.value[leaf]).toBeCloseTo(e.s / e.c, 5);
  });

  it('reports progress and can be cancelled', () => {
    const { x, y } = noisyBinary(500, 2, 14);
    const seen: number[] = [];
    fitHgb(x, y, 'binary', { maxIter: 5 }, { hooks: { progress: (f) => seen.push(f) } });
    expect(seen).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    let calls = 0;
    const cancel = (): void => { if (++calls === 3) throw new Error('cancelled'); };
    expect(() => fitHgb(x, y, 'binary', { maxIter: 5 }, { hooks: { checkCancelled: cancel } })).toThrow('cancelled');
  });

  it('rejects bad input', () => {
    const { x, y } = noisyBinary(100, 2, 15);
    expect(() => fitHgb(x, y.subarray(0, 50), 'binary')).toThrow(/entries/);
    expect(() => fitHgb(x, y, 'binary', { maxLeafNodes: 1 })).toThrow(/maxLeafNodes/);
    expect(() => fitHgb(x, Int32Array.from(y, (v) => v * 2), 'binary')).toThrow(/binary/);
    expect(() => fitHgb(x, Float64Array.from(y, () => NaN), 'regression')).toThrow(/finite/);
    const model = fitHgb(x, y, 'binary', { maxIter: 2 });
    expect(() => predictHgb(model, features([x.columns[0]!]))).toThrow(/features/);
  });
});
