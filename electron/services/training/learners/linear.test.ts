import { describe, expect, it } from 'vitest';
import { fitLinear, fitLogistic, predictLinear, predictLogistic, pseudoInverseSolve, symmetricEigen } from './linear';
import type { Features } from './types';

const features = (...columns: number[][]): Features => ({
  rows: columns[0]?.length ?? 0,
  columns: columns.map((c) => Float64Array.from(c)),
  names: columns.map((_, j) => `x${j}`),
});
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

// A fixed problem: 40 rows of 3 roughly standardised features (numpy RandomState(0).randn
// rounded to 2 decimals), binary and 3-class labels from noisy linear rules, and weights.
const X0 = [1.76, 2.24, 0.95, 0.41, 0.76, 0.33, 0.31, 0.65, 2.27, -0.19, 0.15, -1.98, 1.23, -0.3, -1.71, -0.44, -1.61, 0.39, -0.03, 0.3, -0.67, -1.73, -1.63, 0.05, 1.14, -0.68, -0.31, 0.9, 1.49, -0.18, -0.4, 0.98, 0.01, 0.4, -1.27, 1.94, 1.92, 0.91, -0.27, -0.16];
const X1 = [0.4, 1.87, -0.15, 0.14, 0.12, 1.49, -0.85, 0.86, -1.45, 1.53, 0.38, -0.35, 1.2, -1.05, 1.95, -1.25, -0.21, -0.51, 0.43, -0.63, -0.36, 0.18, 0.46, 0.73, -1.23, -0.87, 0.06, 0.47, 1.9, -1.07, 1.22, 0.36, 1.79, 1.88, 0.97, -0.41, 1.48, -0.86, 0.8, 0.61];
const X2 = [0.98, -0.98, -0.1, 1.45, 0.44, -0.21, -2.55, -0.74, 0.05, 1.47, -0.89, 0.16, -0.39, -1.42, -0.51, 0.78, -0.9, -1.18, 0.07, -0.36, -0.81, -0.4, -0.91, 0.13, 0.4, -0.58, -1.17, -1.54, 1.18, 1.05, 0.21, 0.71, 0.13, -1.35, -1.17, -0.75, 1.87, 1.91, 0.95, 0.92];
const X = features(X0, X1, X2);
const labels = (s: string): Int32Array => Int32Array.from(s, Number);
const YB = labels('1111101110001101011100011101010100011100');
const YM = labels('0000011102121012211122100111001011100222');
const W = Float64Array.from([1.8, 1.2, 1.6, 1.1, 1.9, 1.5, 1.5, 1.0, 1.6, 1.5, 0.9, 0.7, 1.7, 1.9, 1.2, 1.4, 1.8, 1.2, 1.9, 1.4, 1.7, 1.9, 1.7, 0.7, 1.4, 1.1, 0.6, 1.1, 0.9, 1.8, 0.5, 1.9, 1.0, 1.0, 0.5, 0.8, 1.1, 1.9, 0.6, 1.9]);
const YR = Float64Array.from([2.65, -2.14, 0.335, 2.995, 1.27, -1.465, -3.855, -1.855, 2.915, 1.535, -2.055, -0.31, -1.035, -1.96, -3.925, 2.75, -2.195, -0.725, -0.265, 0.59, -1.125, -1.955, -2.615, -0.555, 2.05, -0.2, -2.835, -2.71, 1.245, 3.83, -0.43, 1.66, -1.485, -4.49, -3.825, 0.05, 3.36, 5.435, 1.385, 1.5]);

describe('fitLinear', () => {
  it('recovers y = 2·x1 − 3·x2 + 1 exactly', () => {
    const x1 = [0, 1, 2, 3, 4, -1, 0.5];
    const x2 = [1, 0, 2, -1, 3, 0.25, 7];
    const y = Float64Array.from(x1, (v, i) => 2 * v - 3 * x2[i]! + 1);
    const m = fitLinear(features(x1, x2), y);
    expect(m.kind).toBe('linear');
    expect(m.alpha).toBe(0);
    expect(maxDiff(m.coef, [2, -3])).toBeLessThan(1e-12);
    expect(Math.abs(m.intercept - 1)).toBeLessThan(1e-12);
    expect(maxDiff(predictLinear(m, features(x1, x2)), y)).toBeLessThan(1e-12);
  });

  it('ridge matches the closed form and leaves the intercept unpenalised', () => {
    // x centred = [−1.5, −0.5, 0.5, 1.5], Sxx = 5; y centred = [−1.75, 0.25, −0.75, 2.25], Sxy = 5.5.
    const m = fitLinear(features([1, 2, 3, 4]), Float64Array.from([1, 3, 2, 5]), { alpha: 2 });
    expect(m.coef[0]!).toBeCloseTo(5.5 / 7, 14);
    expect(m.intercept).toBeCloseTo(2.75 - (5.5 / 7) * 2.5, 14);
  });

  it('matches scikit-learn with sample weights', () => {
    // sklearn 1.2.1: LinearRegression().fit(X, yr, sample_weight=w); Ridge(alpha=3.0).fit(X, yr, sample_weight=w)
    const ols = fitLinear(X, YR, {}, { sampleWeight: W });
    expect(maxDiff([...ols.coef, ols.intercept], [0.5081360609798163, -1.019602157887255, 1.9894902880414644, 0.20422414031759864])).toBeLessThan(1e-12);
    const ridge = fitLinear(X, YR, { alpha: 3 }, { sampleWeight: W });
    expect(maxDiff([...ridge.coef, ridge.intercept], [0.507922433753314, -0.9551503056882698, 1.8833311183884613, 0.1865027272230354])).toBeLessThan(1e-12);
  });

  it('a singular design (duplicated and constant columns) does not throw and gives the minimum-norm fit', () => {
    // sklearn LinearRegression().fit(np.column_stack([X0, X0, X1]), yr): the duplicate splits its weight evenly.
    const m = fitLinear(features(X0, X0, X1, new Array<number>(40).fill(0)), YR);
    expect(maxDiff([...m.coef, m.intercept], [0.4563519163888453, 0.4563519163888453, -0.8710018297126001, 0, -0.13036473456211262])).toBeLessThan(1e-10);
    for (const c of m.coef) expect(Number.isFinite(c)).toBe(true);
  });

  it('fits the mean when there are no features', () => {
    const m = fitLinear({ rows: 3, columns: [], names: [] }, Float64Array.from([1, 2, 6]));
    expect(m.coef).toEqual([]);
    expect(m.intercept).toBe(3);
  });
});

describe('fitLogistic', () => {
  // sklearn 1.2.1 LogisticRegression(C=C, max_iter=2000).fit(X, y[, sample_weight=w]):
  // coef_.ravel() then intercept_. Its lbfgs stops early (scipy's ftol), so the
  // tight optimum is also given: scipy L-BFGS-B on the same objective with
  // gtol=1e-14, ftol=1e-16 (multinomial intercepts centred to sum 0).
  const cases: { name: string; y: Int32Array; C: number; w?: Float64Array; sklearn: number[]; tight: number[] }[] = [
    {
      name: 'binary', y: YB, C: 1,
      sklearn: [1.824957030118991, -1.6300954965647059, 0.0422364745985809, 0.6798860246837506],
      tight: [1.8249357847102712, -1.6300826877833057, 0.04223914632879777, 0.6798863288924286],
    },
    {
      name: 'binary, weighted', y: YB, C: 1, w: W,
      sklearn: [2.0655348446068493, -1.7755239997889873, 0.02218218219022797, 0.8230816391306517],
      tight: [2.06553362270641, -1.7755254673362664, 0.022181094776546683, 0.8230820305103209],
    },
    {
      name: 'binary, C = 0.1', y: YB, C: 0.1,
      sklearn: [0.6479627258948571, -0.5249456520250783, 0.03270294307369924, 0.3840978443758654],
      tight: [0.6479625116715975, -0.52494548256737, 0.0327025034856217, 0.3840973383754737],
    },
    {
      name: 'multinomial', y: YM, C: 1,
      sklearn: [1.298277494318347, -0.3388315938389875, 0.2032735282844448, -0.09537753692665904, 0.7009569797909884, -1.1618545819242183, -1.202899957391688, -0.3621253859520009, 0.958581053639774, 0.03473054141645489, 0.1539541467381333, -0.18868468815458725],
      tight: [1.2983014158678472, -0.338829066597727, 0.20326976763084556, -0.09538438991514839, 0.7009436665833924, -1.1618366023287765, -1.2029170259526987, -0.36211459998566514, 0.9585668346979304, 0.03470571801654452, 0.1539801115311346, -0.18868582954767912],
    },
    {
      name: 'multinomial, weighted', y: YM, C: 1, w: W,
      sklearn: [1.3101487831618785, -0.4493795545287427, 0.11459808229981676, -0.009765269048352555, 0.818635786293608, -1.1818368464130684, -1.3003835141135258, -0.3692562317648652, 1.0672387641132512, 0.09209859976096299, 0.03804738751135869, -0.13014598727232124],
      tight: [1.3101186929112931, -0.4493953983028479, 0.11459608645890883, -0.009753517950408514, 0.81862739289609, -1.1818519904440352, -1.3003651749608842, -0.36923199459324235, 1.0672559039851264, 0.09211929292892926, 0.03802497520857979, -0.13014426813750904],
    },
  ];
  for (const c of cases) {
    it(`matches scikit-learn's coefficients (${c.name})`, () => {
      const m = fitLogistic(X, c.y, { C: c.C }, c.w ? { sampleWeight: c.w } : {});
      const got = [...m.coef, ...m.intercept];
      expect(maxDiff(got, c.sklearn)).toBeLessThan(1e-4);
      expect(maxDiff(got, c.tight)).toBeLessThan(1e-7);
      expect(m.C).toBe(c.C);
    });
  }

  it('binary: one coefficient row, probabilities of both classes', () => {
    const m = fitLogistic(X, YB);
    expect(m.classCount).toBe(2);
    expect(m.coef.length).toBe(3);
    expect(m.intercept.length).toBe(1);
    const p = predictLogistic(m, X);
    expect(p.length).toBe(80);
    // sklearn predict_proba(X[:2]).ravel() (default tolerance)
    expect(maxDiff(p.subarray(0, 4), [0.03622400207109233, 0.9637759979289077, 0.1573480852218765, 0.8426519147781235])).toBeLessThan(1e-5);
    for (let i = 0; i < 40; i++) expect(p[2 * i]! + p[2 * i + 1]!).toBeCloseTo(1, 14);
  });

  it('multinomial: probabilities sum to 1 and intercepts to 0', () => {
    const m = fitLogistic(X, YM);
    expect(m.classCount).toBe(3);
    expect(m.coef.length).toBe(9);
    expect(Math.abs(m.intercept.reduce((a, b) => a + b, 0))).toBeLessThan(1e-12);
    const p = predictLogistic(m, X);
    for (let i = 0; i < 40; i++) expect(p[3 * i]! + p[3 * i + 1]! + p[3 * i + 2]!).toBeCloseTo(1, 14);
    // sklearn predict_proba(X[:2]).ravel()
    expect(maxDiff(p.subarray(0, 6), [0.9443653353579042, 0.036415471693096634, 0.01921919294899926, 0.43028598421121267, 0.5691343846934473, 0.0005796310953399171])).toBeLessThan(1e-4);
  });

  it('gives a class with no rows zero coefficients and a negligible probability', () => {
    const y = Int32Array.from(YM, (v) => (v === 2 ? 3 : v)); // classes 0, 1, 3 of 4
    const m = fitLogistic(X, y, {}, { classCount: 4 });
    expect(m.classCount).toBe(4);
    expect(m.coef.slice(6, 9)).toEqual([0, 0, 0]);
    const p = predictLogistic(m, X);
    for (let i = 0; i < 40; i++) expect(p[4 * i + 2]!).toBeLessThan(1e-9);
    // The other three classes are the 3-class fit.
    const m3 = fitLogistic(X, YM);
    expect(maxDiff(m.coef.slice(9, 12), m3.coef.slice(6, 9))).toBeLessThan(1e-9);
  });

  it('survives a separable problem and a duplicated column', () => {
    const x = features([-2, -1, -0.5, 0.5, 1, 2], [-2, -1, -0.5, 0.5, 1, 2]);
    const m = fitLogistic(x, Int32Array.from([0, 0, 0, 1, 1, 1]));
    expect(Math.abs(m.coef[0]! - m.coef[1]!)).toBeLessThan(1e-8);
    const p = predictLogistic(m, x);
    expect(p[1]!).toBeLessThan(0.5);
    expect(p[11]!).toBeGreaterThan(0.5);
  });

  it('reports progress and stops when cancelled', () => {
    const seen: number[] = [];
    fitLogistic(X, YM, {}, { hooks: { progress: (f) => seen.push(f) } });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen[seen.length - 1]).toBe(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    let calls = 0;
    const cancel = (): void => {
      if (++calls > 3) throw new Error('cancelled');
    };
    expect(() => fitLogistic(X, YM, {}, { hooks: { checkCancelled: cancel } })).toThrow('cancelled');
  });
});

describe('dense linear algebra', () => {
  it('symmetricEigen returns descending eigenvalues and orthonormal eigenvectors', () => {
    const a = Float64Array.from([4, 1, 2, 1, 3, 0.5, 2, 0.5, 5]);
    const { values, vectors } = symmetricEigen(a, 3);
    for (let c = 1; c < 3; c++) expect(values[c]!).toBeLessThanOrEqual(values[c - 1]!);
    expect(values[0]! + values[1]! + values[2]!).toBeCloseTo(12, 12);
    for (let c = 0; c < 3; c++) {
      for (let r = 0; r < 3; r++) {
        let av = 0;
        for (let k = 0; k < 3; k++) av += a[r * 3 + k]! * vectors[k * 3 + c]!;
        expect(av).toBeCloseTo(values[c]! * vectors[r * 3 + c]!, 12);
      }
      for (let d = 0; d < 3; d++) {
        let dot = 0;
        for (let r = 0; r < 3; r++) dot += vectors[r * 3 + c]! * vectors[r * 3 + d]!;
        expect(dot).toBeCloseTo(c === d ? 1 : 0, 12);
      }
    }
  });

  it('pseudoInverseSolve gives the minimum-norm solution of a singular system', () => {
    // [[1,1],[1,1]] x = [2,2] → x = [1,1]
    const x = pseudoInverseSolve(Float64Array.from([1, 1, 1, 1]), Float64Array.from([2, 2]), 2);
    expect(maxDiff(x, [1, 1])).toBeLessThan(1e-14);
  });
});
