import { describe, expect, it } from 'vitest';
import {
  betaI,
  betaQuantile,
  chiSquareCdf,
  chiSquareQuantile,
  chiSquareSf,
  fCdf,
  fQuantile,
  fSf,
  gammaP,
  logGamma,
  normalCdf,
  normalQuantile,
} from './stats';

// Expected values computed once with scipy 1.10.1 (Debian python3-scipy,
// `from scipy import stats as s`); the call is given beside each value.

const rel = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.abs(expected);

describe('quantiles agree with scipy', () => {
  const cases: [string, () => number, number][] = [
    ['s.f.ppf(0.99, 9, 491)', () => fQuantile(0.99, 9, 491), 2.4435285677104406],
    ['s.f.ppf(0.95, 3, 10)', () => fQuantile(0.95, 3, 10), 3.7082648190468435],
    ['s.f.ppf(0.5, 1, 1)', () => fQuantile(0.5, 1, 1), 1.0000000000000013],
    ['s.f.ppf(0.999, 2, 5)', () => fQuantile(0.999, 2, 5), 37.12232981152782],
    ['s.f.ppf(0.01, 30, 7)', () => fQuantile(0.01, 30, 7), 0.3026177445624562],
    ['s.f.ppf(0.99, 1, 2)', () => fQuantile(0.99, 1, 2), 98.50251256281399],
    ['s.f.ppf(0.99, 50, 3)', () => fQuantile(0.99, 50, 3), 26.354225091900346],
    ['s.chi2.ppf(0.99, 3)', () => chiSquareQuantile(0.99, 3), 11.344866730144373],
    ['s.chi2.ppf(0.95, 1)', () => chiSquareQuantile(0.95, 1), 3.841458820694124],
    ['s.chi2.ppf(0.01, 2.5)', () => chiSquareQuantile(0.01, 2.5), 0.056212054834822126],
    ['s.chi2.ppf(0.999, 100)', () => chiSquareQuantile(0.999, 100), 149.44925277903886],
    ['s.chi2.ppf(0.5, 0.3)', () => chiSquareQuantile(0.5, 0.3), 0.012469611517980431],
    ['s.chi2.ppf(1e-10, 4)', () => chiSquareQuantile(1e-10, 4), 2.828440458165948e-5],
    ['s.norm.ppf(0.99)', () => normalQuantile(0.99), 2.3263478740408408],
    ['s.norm.ppf(0.975)', () => normalQuantile(0.975), 1.959963984540054],
    ['s.norm.ppf(1e-10)', () => normalQuantile(1e-10), -6.361340902404056],
    ['s.norm.ppf(1 - 1e-12)', () => normalQuantile(1 - 1e-12), 7.0344869100478356],
    ['s.norm.ppf(0.3)', () => normalQuantile(0.3), -0.5244005127080409],
    ['s.beta.ppf(0.9, 0.5, 0.5)', () => betaQuantile(0.9, 0.5, 0.5), 0.9755282581475768],
  ];
  for (const [name, f, expected] of cases) {
    it(name, () => expect(rel(f(), expected)).toBeLessThan(1e-12));
  }
  it('an extreme chi-square (df = 0.001) still to 1e-11: s.chi2.ppf(0.99, 1e-3)', () => {
    expect(rel(chiSquareQuantile(0.99, 1e-3), 2.0937082582354987e-9)).toBeLessThan(1e-11);
  });
  it('normal quantile is antisymmetric and the ends are infinite', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.25)).toBe(-normalQuantile(0.75));
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(chiSquareQuantile(0, 3)).toBe(0);
    expect(fQuantile(1, 3, 4)).toBe(Infinity);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
  });
});

describe('distribution functions agree with scipy', () => {
  const cases: [string, () => number, number][] = [
    ['s.f.cdf(2.5, 9, 491)', () => fCdf(2.5, 9, 491), 0.9916014243229222],
    ['s.chi2.cdf(11.3, 3)', () => chiSquareCdf(11.3, 3), 0.9897905035668664],
    ['s.chi2.sf(50, 10)', () => chiSquareSf(50, 10), 2.669083424904495e-7],
    ['s.norm.cdf(-3)', () => normalCdf(-3), 0.0013498980316300933],
    ['s.norm.cdf(1.5)', () => normalCdf(1.5), 0.9331927987311419],
    ['s.beta.cdf(0.3, 2.5, 7)', () => betaI(0.3, 2.5, 7), 0.6412224629717214],
    ['s.gamma.cdf(3, 2.2)', () => gammaP(2.2, 3), 0.7598756671227213],
  ];
  for (const [name, f, expected] of cases) {
    it(name, () => expect(rel(f(), expected)).toBeLessThan(1e-13));
  }
  it('quantile and CDF invert each other, and the upper tail keeps its precision', () => {
    for (const p of [1e-6, 0.05, 0.5, 0.9, 0.99, 0.999999]) {
      expect(rel(fCdf(fQuantile(p, 4, 37), 4, 37), p)).toBeLessThan(1e-12);
      expect(rel(chiSquareCdf(chiSquareQuantile(p, 7), 7), p)).toBeLessThan(1e-12);
      expect(rel(normalCdf(normalQuantile(p)), p)).toBeLessThan(1e-12);
    }
    expect(rel(fSf(fQuantile(1 - 1e-9, 5, 20), 5, 20), 1e-9)).toBeLessThan(1e-6);
  });
  it('ln Γ matches known values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 15);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 14);
    expect(rel(logGamma(10), Math.log(362880))).toBeLessThan(1e-14);
    expect(rel(logGamma(100), 359.1342053695754)).toBeLessThan(1e-15); // scipy.special.gammaln(100)
  });
});
