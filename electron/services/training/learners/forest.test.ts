import { describe, expect, it } from 'vitest';
import { fitForest, forestDefaults, predictForest } from './forest';
import { fitTree, predictTree } from './tree';
import { createRng } from './rng';
import type { Features } from './types';

/** y = a smooth function of 2 of 6 features + heavy noise. */
function noisyData(n: number, seed: number): { x: Features; y: Float64Array; truth: Float64Array } {
  const rng = createRng(seed);
  const columns = Array.from({ length: 6 }, () => new Float64Array(n));
  const y = new Float64Array(n);
  const truth = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (const c of columns) c[i] = rng.next();
    truth[i] = Math.sin(6 * columns[0]![i]!) + 2 * columns[1]![i]! * columns[1]![i]!;
    y[i] = truth[i]! + (rng.next() - 0.5) * 2;
  }
  return { x: { rows: n, columns, names: columns.map((_, j) => `f${j}`) }, y, truth };
}

const mse = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / a.length;

describe('random forest', () => {
  it('beats a single shallow tree on noisy data (regression and classification)', () => {
    const train = noisyData(500, 1);
    const test = noisyData(400, 2);
    const forest = fitForest(train.x, train.y, 'regression', { trees: 20, seed: 0 });
    const stump = fitTree(train.x, train.y, 'regression', { maxDepth: 2 });
    const deep = fitTree(train.x, train.y, 'regression');
    const fErr = mse(predictForest(forest, test.x), test.truth);
    expect(fErr).toBeLessThan(0.75 * mse(predictTree(stump, test.x), test.truth));
    expect(fErr).toBeLessThan(0.6 * mse(predictTree(deep, test.x), test.truth));

    const yc = Int32Array.from(train.y, (v) => (v > 1 ? 1 : 0));
    const tc = Int32Array.from(test.truth, (v) => (v > 1 ? 1 : 0));
    const cf = fitForest(train.x, yc, 'classification', { trees: 20, seed: 0 });
    const ct = fitTree(train.x, yc, 'classification', { maxDepth: 2 });
    const acc = (p: Float64Array): number => { let ok = 0; for (let i = 0; i < tc.length; i++) if ((p[2 * i + 1]! > 0.5 ? 1 : 0) === tc[i]) ok++; return ok / tc.length; };
    expect(acc(predictForest(cf, test.x))).toBeGreaterThan(acc(predictTree(ct, test.x)) + 0.02);
  });

  it('predicts the mean of the trees, with probabilities that sum to 1', () => {
    const { x, y } = noisyData(150, 3);
    const yc = Int32Array.from(y, (v) => Math.min(2, Math.max(0, Math.floor(v + 0.5))));
    const m = fitForest(x, yc, 'classification', { trees: 7, seed: 4 });
    expect(m.classCount).toBe(3);
    expect(m.trees).toHaveLength(7);
    const p = predictForest(m, x);
    for (let i = 0; i < x.rows; i++) expect(p[3 * i]! + p[3 * i + 1]! + p[3 * i + 2]!).toBeCloseTo(1, 12);
    // By hand for row 0: average of the trees' leaf vectors.
    const reg = fitForest(x, y, 'regression', { trees: 5, seed: 1 });
    const pr = predictForest(reg, x);
    const one = (t: number): number => {
      const tree = reg.trees[t]!;
      let node = 0;
      while (tree.feature[node]! >= 0) node = Math.fround(x.columns[tree.feature[node]!]![0]!) <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
      return tree.value[node]!;
    };
    expect(pr[0]).toBeCloseTo([0, 1, 2, 3, 4].reduce((s, t) => s + one(t), 0) / 5, 12);
  });

  it('is deterministic for a seed and differs for another seed', () => {
    const { x, y } = noisyData(200, 5);
    const yc = Int32Array.from(y, (v) => (v > 1 ? 1 : 0));
    const a = JSON.stringify(fitForest(x, yc, 'classification', { trees: 5, seed: 11 }));
    expect(JSON.stringify(fitForest(x, yc, 'classification', { trees: 5, seed: 11 }))).toBe(a);
    expect(JSON.stringify(fitForest(x, yc, 'classification', { trees: 5, seed: 12 }))).not.toBe(a);
    // Plain JSON: no typed arrays, round-trips unchanged.
    expect(JSON.stringify(JSON.parse(a))).toBe(a);
  });

  it('bootstraps per tree; without bootstrap and with every feature every tree fits the training rows alike', () => {
    const { x, y } = noisyData(120, 6);
    const boot = fitForest(x, y, 'regression', { trees: 3, seed: 0 });
    expect(JSON.stringify(boot.trees[0])).not.toBe(JSON.stringify(boot.trees[1]));
    // Trees may still differ where features tie in small nodes (features are visited in a random order, as in sklearn).
    const plain = fitForest(x, y, 'regression', { trees: 3, seed: 0, bootstrap: false, maxFeatures: 'all' });
    expect(plain.trees[0]!.threshold[0]).toBe(plain.trees[1]!.threshold[0]);
    const p = predictForest(plain, x);
    const single = predictTree(fitTree(x, y, 'regression'), x);
    for (let i = 0; i < x.rows; i++) {
      expect(p[i]).toBeCloseTo(y[i]!, 12); // grown to single rows
      expect(single[i]).toBeCloseTo(y[i]!, 12);
    }
  });

  it('uses sklearn defaults and respects the tree limits', () => {
    expect(forestDefaults('classification')).toMatchObject({ trees: 100, maxFeatures: 'sqrt', bootstrap: true, minSamplesLeaf: 1, maxDepth: null });
    expect(forestDefaults('regression').maxFeatures).toBe('all');
    const { x, y } = noisyData(200, 7);
    const m = fitForest(x, y, 'regression', { trees: 4, maxDepth: 3, seed: 0 });
    const depth = (t: typeof m.trees[number], n = 0): number => (t.feature[n]! < 0 ? 0 : 1 + Math.max(depth(t, t.left[n]!), depth(t, t.right[n]!)));
    for (const t of m.trees) expect(depth(t)).toBeLessThanOrEqual(3);
    const small = fitForest(x, y, 'regression', { trees: 2, seed: 0, maxSamples: 0.25 });
    const big = fitForest(x, y, 'regression', { trees: 2, seed: 0 });
    expect(small.trees[0]!.feature.length).toBeLessThan(big.trees[0]!.feature.length / 2);
  });

  it('handles missing values natively', () => {
    const rng = createRng(9);
    const n = 300;
    const a = new Float64Array(n), b = new Float64Array(n);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const miss = rng.next() < 0.3;
      a[i] = miss ? NaN : rng.next();
      b[i] = rng.next();
      y[i] = miss || a[i]! > 0.8 ? 1 : 0;
    }
    const m = fitForest({ rows: n, columns: [a, b], names: ['a', 'b'] }, y, 'classification', { trees: 20, seed: 0, maxFeatures: 'all' });
    const p = predictForest(m, { rows: 3, columns: [Float64Array.from([NaN, 0.2, 0.95]), Float64Array.from([0.5, 0.5, 0.5])], names: ['a', 'b'] });
    expect(p[1]).toBeGreaterThan(0.95);
    expect(p[3]).toBeLessThan(0.05);
    expect(p[5]).toBeGreaterThan(0.95);
  });

  it('reports progress per tree and stops when cancelled', () => {
    const { x, y } = noisyData(80, 8);
    const seen: number[] = [];
    fitForest(x, y, 'regression', { trees: 4 }, { hooks: { progress: (f) => seen.push(f) } });
    expect(seen).toEqual([0.25, 0.5, 0.75, 1]);
    let calls = 0;
    expect(() => fitForest(x, y, 'regression', { trees: 10 }, {
      hooks: { checkCancelled: () => { if (++calls > 3) throw new Error('cancelled'); } },
    })).toThrow('cancelled');
    expect(calls).toBe(4);
  });
});
