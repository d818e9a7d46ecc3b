/**
 * The statistical tests behind drift verdicts, computed from counts per bin,
 * each giving the value scipy gives on the samples those counts stand for:
 * ks_2samp (method 'auto'), chisquare, wasserstein_distance with weights and
 * spatial.distance.jensenshannon. The Kolmogorov distribution follows scipy's
 * own choice of algorithm (scipy/stats/_ksstats.py, Simard & L'Ecuyer 2011),
 * so p-values agree with it, not merely with the limit law.
 */

import { chiSquareSf } from '../training/stats';

// ---------------------------------------------------------------------------
// Two-sample Kolmogorov–Smirnov

/** scipy's MAX_AUTO_N: 'auto' is exact while both samples have at most this many values. */
const KS_EXACT_MAX_N = 10_000;

export interface TestResult {
  statistic: number;
  pValue: number;
}

/**
 * ks_2samp of two samples given as counts over the same ordered bins (every
 * value stands for its bin): D is the largest gap between the two empirical
 * CDFs; the p-value is exact (scipy's lattice-path count) while both samples
 * have at most 10,000 values and the count is cheap or the p-value near a
 * verdict's line (ksCountsExactly), else kstwo.sf(D, round(n1·n2/(n1+n2)))
 * (scipy's method 'asymp').
 * Null when either sample is empty.
 */
export function ks2Samp(a: ArrayLike<number>, b: ArrayLike<number>): TestResult | null {
  let n1 = 0, n2 = 0;
  for (let i = 0; i < a.length; i++) n1 += a[i]!;
  for (let i = 0; i < b.length; i++) n2 += b[i]!;
  if (n1 <= 0 || n2 <= 0) return null;
  let c1 = 0, c2 = 0, d = 0;
  for (let i = 0; i < a.length; i++) {
    c1 += a[i]!;
    c2 += b[i]!;
    const diff = Math.abs(c1 / n1 - c2 / n2);
    if (diff > d) d = diff;
  }
  d = Math.min(d, 1);
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const asymptotic = () => clip01(kolmogornSf(roundHalfEven((m * n) / (m + n)), d));
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const p = asymptotic();
    if (!ksCountsExactly(n1, n2, d, p)) return { statistic: roundToLattice(n1, n2, d), pValue: p };
    const exact = exactKs2(n1, n2, d);
    if (exact) return exact;
  }
  return { statistic: d, pValue: asymptotic() };
}

/** Below this asymptotic p-value the exact one is never counted (see ksCountsExactly). */
const EXACT_NOT_NEEDED = 1e-10;
/** Asymptotic p-values in this range are near a verdict's line (0.05 changed, 0.1 watch, 0.01 / inputs for the model): counted exactly whatever it costs. */
export const KS_EXACT_WINDOW: readonly [number, number] = [0.001, 0.2];
/** Steps of the exact count (about 4 ns each) below which it is always done: about 0.4 ms. */
const KS_EXACT_CHEAP = 100_000;

/**
 * Whether ks2Samp counts the exact p-value (scipy's 'auto' while both samples
 * have at most 10,000 values) or keeps the Kolmogorov form `pAsymptotic`. The
 * exact count takes about max(n1, n2) × 2·D·min(n1, n2) steps: 1,000 training
 * and 10,000 live values cost 2–17 ms an input, 20 inputs a quarter second of
 * the main process. So it is done only when cheap, or when the asymptotic
 * p-value lies in KS_EXACT_WINDOW, near a line a verdict draws; farther out
 * the two differ by a few percent of a p-value that decides nothing (below
 * 1e-10 they are never counted).
 */
export function ksCountsExactly(n1: number, n2: number, d: number, pAsymptotic: number): boolean {
  if (Math.max(n1, n2) > KS_EXACT_MAX_N || pAsymptotic < EXACT_NOT_NEEDED) return false;
  if (n1 === n2 || Math.max(n1, n2) * 2 * d * Math.min(n1, n2) <= KS_EXACT_CHEAP) return true;
  return pAsymptotic >= KS_EXACT_WINDOW[0] && pAsymptotic <= KS_EXACT_WINDOW[1];
}

/** D as the exact method reports it: a multiple of 1/lcm(n1, n2). */
function roundToLattice(n1: number, n2: number, d: number): number {
  const lcm = (n1 / gcd(n1, n2)) * n2;
  return roundHalfEven(d * lcm) / lcm;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** np.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const clip01 = (p: number): number => (p < 0 ? 0 : p > 1 ? 1 : p);

/** scipy's _attempt_exact_2kssamp, two-sided; null when the count fails (then the asymptotic form is used). */
function exactKs2(n1: number, n2: number, d: number): TestResult | null {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const statistic = h / lcm;
  if (h === 0) return { statistic, pValue: 1 };
  const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
  if (!(p >= 0 && p <= 1)) return null;
  return { statistic, pValue: p };
}

/** Pr(D_{n,n} ≥ h/n): the share of lattice paths leaving the band |x − y| < h (Horner form, as scipy). */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/** 1 − the share of lattice paths from (0,0) to (m,n) staying strictly inside |x/m − y/n| < h/lcm (Viehmann's recursion, as scipy). */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g, ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj, lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, Math.min(lenA, maxj - minj + (lastlen - curlen)));
  }
  return A[maxj - minj - 1]!;
}

// ---------------------------------------------------------------------------
// The Kolmogorov distribution of D_n (scipy.stats.kstwo), survival function

const E128 = 2 ** 128;
const EM128 = 2 ** -128;
const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const MIN_LOG = -708;
/** Stirling's series for log(n!), highest power first (B_2k / (2k(2k−1))). */
const STIRLING = [-0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417, -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333];

/** x·2^e without overflow in 2^e. */
function ldexp(x: number, e: number): number {
  while (e > 1000) { x *= 2 ** 1000; e -= 1000; }
  while (e < -1000) { x *= 2 ** -1000; e += 1000; }
  return x * 2 ** e;
}

/** Pr(D_n > x), choosing among exact forms, the Durbin matrix, Pomeranz, Pelz–Good and Smirnov's sum as scipy's _kolmogn(cdf=False) does. */
export function kolmogornSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - prob);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip01(1 - durbinMatrixCdf(n, x));
    if (nx2 <= 4) return clip01(1 - pomeranzCdf(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip01(2 * smirnovSf(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? durbinMatrixCdf(n, x) : pelzGoodCdf(n, x);
  return clip01(1 - cdf);
}

/** log(n!/n^n) by Stirling's series. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

type Matrix = Float64Array[];

function matmul(a: Matrix, b: Matrix): Matrix {
  const m = a.length;
  const out: Matrix = Array.from({ length: m }, () => new Float64Array(m));
  for (let i = 0; i < m; i++) {
    const ai = a[i]!, oi = out[i]!;
    for (let k = 0; k < m; k++) {
      const aik = ai[k]!;
      if (aik === 0) continue;
      const bk = b[k]!;
      for (let j = 0; j < m; j++) oi[j]! += aik * bk[j]!;
    }
  }
  return out;
}

/** Pr(D_n ≤ d) by the Durbin matrix (Marsaglia, Tsang & Wang 2003), scaled as scipy's _kolmogn_DMTW. */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Matrix = Array.from({ length: m }, () => new Float64Array(m));
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1]! *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r]![i] = w[r - (i - 1)]!;
  for (let r = 0; r < m; r++) H[r]![0] = v[r]!;
  for (let c = 0; c < m; c++) H[m - 1]![c] = v[m - 1 - c]!;
  let P: Matrix = Array.from({ length: m }, (_, i) => { const row = new Float64Array(m); row[i] = 1; return row; });
  let nn = n, expnt = 0, hExpnt = 0;
  while (nn > 0) {
    if (nn % 2) { P = matmul(P, H); expnt += hExpnt; }
    H = matmul(H, H);
    hExpnt *= 2;
    if (Math.abs(H[k - 1]![k - 1]!) > E128) {
      for (const row of H) for (let j = 0; j < m; j++) row[j]! /= E128;
      hExpnt += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = P[k - 1]![k - 1]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) { p *= E128; expnt -= 128; }
  }
  return clip01(expnt ? ldexp(p, expnt) : p);
}

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number, j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2), odd = (i + 1) % 2;
    if (odd === 0) {
      if (half === n + 1) { j1 = n - ll - ceilf - 1; j2 = n + ll + ceilf - 1; }
      else { j1 = half - 1 - ll - roundf - 1; j2 = half + ll - 1 + ceilf - 1; }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pr(D_n ≤ x) by Pomeranz's recursion (1974), as scipy's _kolmogn_Pomeranz. */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0, roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gp = new Float64Array(npwrs), twogp = new Float64Array(npwrs), onem2gp = new Float64Array(npwrs);
  gp[0] = twogp[0] = onem2gp[0] = 1;
  const gOverN = g / n, twoGOverN = (2 * g) / n, oneMinus2GOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gp[m] = (gp[m - 1]! * gOverN) / m;
    twogp[m] = (twogp[m - 1]! * twoGOverN) / m;
    onem2gp[m] = (onem2gp[m - 1]! * oneMinus2GOverN) / m;
  }
  let V0 = new Float64Array(npwrs), V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0, V1s = 0, expnt = 0;
  let j1 = pomeranzJ1J2(0, n, ll, ceilf, roundf)[0];
  let j2: number;
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gp : i % 2 ? twogp : onem2gp;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // np.convolve(V0[k1-V0s : k1-V0s+ln2], pwrs[:ln2]), entries [j1-k1, j2-k1].
      const aStart = k1 - V0s;
      const aLen = Math.max(0, Math.min(ln2, npwrs - aStart));
      const bLen = Math.min(ln2, npwrs);
      const convStart = j1 - k1, convLen = j2 - j1 + 1;
      let max = -Infinity;
      for (let c = 0; c < convLen; c++) {
        const at = convStart + c;
        let s = 0;
        for (let a = Math.max(0, at - bLen + 1); a <= Math.min(at, aLen - 1); a++) s += V0[aStart + a]! * pwrs[at - a]!;
        V1[c] = s;
      }
      for (let c = 0; c < npwrs; c++) if (V1[c]! > max) max = V1[c]!;
      if (max > 0 && max < EM128) {
        for (let c = 0; c < npwrs; c++) V1[c]! *= E128;
        expnt -= 128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > E128) { ans *= EM128; expnt += 128; }
    ans *= m;
  }
  return clip01(expnt ? ldexp(ans, expnt) : ans);
}

/** The Pelz–Good approximation of Pr(D_n ≤ x), as scipy's _kolmogn_PelzGood. */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2, z3 = z ** 3, z4 = z ** 4, z6 = z ** 6;
  const qlog = -(Math.PI ** 2) / 8 / z2;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);
  const pi2 = Math.PI ** 2, pi4 = Math.PI ** 4, pi6 = Math.PI ** 6;
  const k1a = -z2, k1b = pi2 / 4;
  const k2a = 6 * z6 + 2 * z4, k2b = ((2 * z4 - 5 * z2) * pi2) / 4, k2c = (pi4 * (1 - 2 * z2)) / 16;
  const k3d = (pi6 * (5 - 30 * z2)) / 64, k3c = (pi4 * (-60 * z2 + 212 * z4)) / 16, k3b = (pi2 * (135 * z4 - 96 * z6)) / 4, k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1, m2 = m ** 2, m4 = m ** 4, m6 = m ** 6;
    const qp = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qp + coeffs[i]!;
  }
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT_2PI) / div[i]!;
  q = Math.exp(-pi2 / 2 / z2);
  let k2extra = 0, k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k, qp = q ** k2, kpi = Math.PI * k;
    k2extra += k2 * qp;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
  }
  K[2]! += (k2extra * pi2 * SQRT_2PI) / (-36 * z3);
  K[3]! += (k3extra * pi2 * SQRT_2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i]! / n ** (i / 2);
  return sum;
}

/** cephes MINLOG: exp() of less underflows. */
const CEPHES_MINLOG = -708.3964185322641;

/**
 * Pr(D⁺_n > x), the one-sided Smirnov statistic (scipy.special.smirnov), by
 * Birnbaum & Tingey's sum of positive terms, each taken in logs.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  const nxfl = Math.floor(nx);
  const alpha = nx - nxfl;
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) return 1 - x * (1 + x) ** (n - 1);
  if (-2 * n * x * x < CEPHES_MINLOG) return 0;
  if (nxfl >= n - 1) return (1 - x) ** n;
  if (n > 1_000_000) {
    const logp = -((6 * nx + 1) ** 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  const last = n - nxfl - 1;
  let sum = (1 - x) ** n / x;
  let logC = 0;
  for (let v = 1; v <= last; v++) {
    logC += Math.log((n - v + 1) / v);
    const base = (n - v) / n - x;
    if (base <= 0) break;
    const term = Math.exp(logC + (n - v) * Math.log(base) + (v - 1) * Math.log(x + v / n));
    sum += term;
    // cephes's stopping rule: the terms left cannot add a bit.
    if (term !== 0 ? 4 * (last - v + 1) * term < Number.EPSILON * sum && v !== last : v > n / 2) break;
  }
  return clip01(x * sum);
}

// ---------------------------------------------------------------------------
// Chi-squared

/**
 * scipy.stats.chisquare(observed, expected): Σ (o − e)²/e and chi2.sf with
 * k − 1 degrees of freedom. An expected 0 with an observed count gives an
 * infinite statistic and p = 0, as scipy does; one category gives p = 1.
 */
export function chiSquare(observed: ArrayLike<number>, expected: ArrayLike<number>): TestResult {
  let stat = 0;
  for (let i = 0; i < observed.length; i++) {
    const o = observed[i]!, e = expected[i]!;
    stat += e === 0 ? (o === 0 ? NaN : Infinity) : ((o - e) * (o - e)) / e;
  }
  const df = observed.length - 1;
  return { statistic: stat, pValue: df < 1 ? 1 : chiSquareSf(stat, df) };
}

/**
 * Pearson's chi-squared test that two samples, given as counts over the same
 * bins, come from one distribution: scipy.stats.chi2_contingency([a, b],
 * correction=False) over the bins either sample has, k − 1 degrees of
 * freedom. Unlike chiSquare against expected counts, the reference's own
 * sampling noise is in the test, so a small reference does not make every
 * large live sample look different. Null when either sample is empty; one
 * bin gives p = 1.
 */
export function chiSquareTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): TestResult | null {
  let n1 = 0, n2 = 0;
  for (let i = 0; i < a.length; i++) { n1 += a[i]!; n2 += b[i] ?? 0; }
  if (n1 <= 0 || n2 <= 0) return null;
  const n = n1 + n2;
  let stat = 0, bins = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i] ?? 0, t = x + y;
    if (t <= 0) continue;
    bins++;
    const e1 = (t * n1) / n, e2 = (t * n2) / n;
    stat += ((x - e1) * (x - e1)) / e1 + ((y - e2) * (y - e2)) / e2;
  }
  const df = bins - 1;
  return { statistic: stat, pValue: df < 1 ? 1 : chiSquareSf(stat, df) };
}

// ---------------------------------------------------------------------------
// Wasserstein and Jensen–Shannon

/**
 * scipy.stats.wasserstein_distance(uValues, vValues, uWeights, vWeights): the
 * area between the two weighted empirical CDFs. Null when either side weighs nothing.
 */
export function wasserstein(uValues: ArrayLike<number>, vValues: ArrayLike<number>, uWeights: ArrayLike<number>, vWeights: ArrayLike<number>): number | null {
  const pts: { x: number; u: number; v: number }[] = [];
  let su = 0, sv = 0;
  for (let i = 0; i < uValues.length; i++) if (uWeights[i]! > 0) { pts.push({ x: uValues[i]!, u: uWeights[i]!, v: 0 }); su += uWeights[i]!; }
  for (let i = 0; i < vValues.length; i++) if (vWeights[i]! > 0) { pts.push({ x: vValues[i]!, u: 0, v: vWeights[i]! }); sv += vWeights[i]!; }
  if (su <= 0 || sv <= 0) return null;
  pts.sort((p, q) => p.x - q.x);
  let cu = 0, cv = 0, area = 0;
  for (let i = 0; i < pts.length - 1; i++) {
    cu += pts[i]!.u;
    cv += pts[i]!.v;
    area += Math.abs(cu / su - cv / sv) * (pts[i + 1]!.x - pts[i]!.x);
  }
  return area;
}

const relEntr = (x: number, y: number): number => (x > 0 && y > 0 ? x * Math.log(x / y) : x === 0 && y >= 0 ? 0 : Infinity);

/** scipy.spatial.distance.jensenshannon(p, q) with the natural log: each side is scaled to sum 1 first. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let sp = 0, sq = 0;
  for (let i = 0; i < p.length; i++) { sp += p[i]!; sq += q[i]!; }
  let left = 0, right = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp, b = q[i]! / sq, m = (a + b) / 2;
    left += relEntr(a, m);
    right += relEntr(b, m);
  }
  return Math.sqrt((left + right) / 2);
}
