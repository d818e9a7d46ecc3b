/**
 * Distribution functions the learners need: normal, chi-square and F
 * distributions (CDF, upper tail and quantile), built on the regularised
 * incomplete gamma and beta functions.
 *
 * Accuracy: CDFs are good to about 1e-14 relative; quantiles are found by a
 * bracketed Newton iteration on a transformed axis (log x, or logit of the beta
 * variable) and agree with scipy to about 1e-13 relative. Upper-tail
 * probabilities are computed directly (not as 1 − CDF), so quantiles near 1
 * keep their precision.
 */

const LOG_SQRT_2PI = 0.9189385332046728; // ln(sqrt(2π))
const EPS = 2.220446049250313e-16;
const TINY = 1e-300;

/** ln Γ(x) for x > 0: Lanczos (g = 7) below 10, Stirling's series with five correction terms above. */
export function logGamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  if (x < 0.5) {
    // Reflection keeps the Lanczos sum in its accurate range.
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  if (x >= 10) {
    const x2 = x * x;
    const series = (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * x2)) / x2) / x2) / x2) / x;
    return (x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI + series;
  }
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln B(a, b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

// ---------------------------------------------------------------------------
// Regularised incomplete gamma

/** Lower regularised incomplete gamma P(a, x). */
export function gammaP(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** Upper regularised incomplete gamma Q(a, x) = 1 − P(a, x), computed without cancellation. */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

function gammaPrefactor(a: number, x: number): number {
  return Math.exp(a * Math.log(x) - x - logGamma(a));
}

function gammaSeries(a: number, x: number): number {
  let ap = a;
  let term = 1 / a;
  let sum = term;
  for (let n = 0; n < 10_000; n++) {
    ap += 1;
    term *= x / ap;
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * gammaPrefactor(a, x);
}

/** Q(a, x) by the Legendre continued fraction (modified Lentz), for x ≥ a + 1. */
function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return gammaPrefactor(a, x) * h;
}

// ---------------------------------------------------------------------------
// Regularised incomplete beta

/** Regularised incomplete beta I_x(a, b). */
export function betaI(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return betaContinuedFraction(x, a, b);
  return 1 - betaContinuedFraction(1 - x, b, a);
}

/** 1 − I_x(a, b) = I_{1−x}(b, a), computed without cancellation. */
export function betaIComplement(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  if (x < (a + 1) / (a + b + 2)) return 1 - betaContinuedFraction(x, a, b);
  return betaContinuedFraction(1 - x, b, a);
}

/** x^a (1−x)^b / (a B(a, b)) times the continued fraction; valid (fast) for x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const front = Math.exp(a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b)) / a;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return front * h;
}

// ---------------------------------------------------------------------------
// Root finding for quantiles

/**
 * Solves g(t) = 0 for an increasing g on the whole real line, given g and its
 * derivative: Newton steps kept inside a bracket, with bisection (or
 * expansion while the bracket is open) when a step leaves it.
 */
function solveIncreasing(g: (t: number) => { value: number; slope: number }, t0: number): number {
  let lo = -Infinity;
  let hi = Infinity;
  let t = t0;
  for (let iter = 0; iter < 300; iter++) {
    const { value, slope } = g(t);
    if (value === 0) return t;
    if (value < 0) lo = t;
    else hi = t;
    let next = slope > 0 && Number.isFinite(slope) ? t - value / slope : NaN;
    if (!(next > lo && next < hi)) {
      if (Number.isFinite(lo) && Number.isFinite(hi)) next = 0.5 * (lo + hi);
      else if (Number.isFinite(lo)) next = lo + Math.max(1, Math.abs(lo));
      else next = hi - Math.max(1, Math.abs(hi));
    }
    if (Math.abs(next - t) <= 4 * EPS * Math.max(1, Math.abs(t))) return next;
    if (Number.isFinite(lo) && Number.isFinite(hi) && hi - lo <= 4 * EPS * Math.max(1, Math.abs(t))) return next;
    t = next;
  }
  return t;
}

function checkProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} is outside [0, 1]`);
}

// ---------------------------------------------------------------------------
// Normal

/** Standard normal CDF Φ(x). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const q = 0.5 * gammaQ(0.5, 0.5 * x * x);
  return x < 0 ? q : 1 - q;
}

/** Standard normal upper tail 1 − Φ(x). */
export function normalSf(x: number): number {
  return normalCdf(-x);
}

export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x - LOG_SQRT_2PI);
}

/** Standard normal quantile Φ⁻¹(p): Acklam's rational approximation polished by Halley steps. */
export function normalQuantile(p: number): number {
  checkProbability(p);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  // By symmetry work in the lower half, where p (and 1 − p for p ≥ 0.5) is exact.
  if (p > 0.5) return -normalQuantile(1 - p);
  if (p === 0.5) return 0;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  }
  // Halley refinement on the relative error of Φ(x), which is accurate in the lower tail.
  for (let i = 0; i < 3; i++) {
    const e = normalCdf(x) - p;
    const u = (e * Math.sqrt(2 * Math.PI)) * Math.exp(0.5 * x * x);
    const step = u / (1 + 0.5 * x * u);
    x -= step;
    if (Math.abs(step) <= EPS * Math.abs(x)) break;
  }
  return x;
}

// ---------------------------------------------------------------------------
// Chi-square

export function chiSquareCdf(x: number, df: number): number {
  return gammaP(df / 2, x / 2);
}

export function chiSquareSf(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

/** Chi-square quantile: inverts P(df/2, x/2) (or Q for p > 0.5) by Newton on ln x. */
export function chiSquareQuantile(p: number, df: number): number {
  checkProbability(p);
  if (!(df > 0)) throw new RangeError(`degrees of freedom ${df} must be positive`);
  if (p === 0) return 0;
  if (p === 1) return Infinity;
  const a = df / 2;
  const upper = p > 0.5;
  const target = upper ? 1 - p : p;
  // d/dt P(a, e^t) = density(e^t) · e^t, with the gamma density in log form.
  const slopeAt = (y: number): number => Math.exp(a * Math.log(y) - y - logGamma(a));
  const g = (t: number): { value: number; slope: number } => {
    const y = Math.exp(t); // y = x/2
    const value = upper ? target - gammaQ(a, y) : gammaP(a, y) - target;
    return { value, slope: slopeAt(y) };
  };
  // Wilson–Hilferty start.
  const z = normalQuantile(p);
  const h = 2 / (9 * df);
  const wh = df * Math.pow(1 - h + z * Math.sqrt(h), 3);
  // Where Wilson–Hilferty fails (small df, small p) start from P(a, y) ≈ y^a / Γ(a + 1).
  const t0 = wh > 0 ? Math.log(wh / 2) : (Math.log(p) + logGamma(a + 1)) / a;
  return 2 * Math.exp(solveIncreasing(g, t0));
}

// ---------------------------------------------------------------------------
// Beta and F

/** Beta(a, b) quantile: inverts I_y(a, b) by Newton on logit(y). */
export function betaQuantile(p: number, a: number, b: number): number {
  checkProbability(p);
  if (p === 0) return 0;
  if (p === 1) return 1;
  return betaQuantileParts(p, a, b).y;
}

/** Returns y and 1 − y separately so that callers near y = 1 keep precision. */
function betaQuantileParts(p: number, a: number, b: number): { y: number; oneMinusY: number } {
  const upper = p > 0.5;
  const target = upper ? 1 - p : p;
  const lb = logBeta(a, b);
  const g = (t: number): { value: number; slope: number } => {
    // y = 1/(1+e^−t), 1−y = 1/(1+e^t)
    const y = 1 / (1 + Math.exp(-t));
    const ym = 1 / (1 + Math.exp(t));
    const value = upper ? target - betaIComplement(y, a, b) : betaI(y, a, b) - target;
    // dI/dt = y^a (1−y)^b / B(a, b)
    const slope = Math.exp(a * Math.log(y) + b * Math.log(ym) - lb);
    return { value, slope };
  };
  const mean = a / (a + b);
  const t = solveIncreasing(g, Math.log(mean / (1 - mean)));
  return { y: 1 / (1 + Math.exp(-t)), oneMinusY: 1 / (1 + Math.exp(t)) };
}

export function fCdf(x: number, df1: number, df2: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x === Infinity) return 1;
  const u = df1 * x;
  return betaI(u / (u + df2), df1 / 2, df2 / 2);
}

export function fSf(x: number, df1: number, df2: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  const u = df1 * x;
  return betaI(df2 / (u + df2), df2 / 2, df1 / 2);
}

/** F(df1, df2) quantile, e.g. fQuantile(0.99, 9, 491) = 2.4435285677104… (scipy f.ppf). */
export function fQuantile(p: number, df1: number, df2: number): number {
  checkProbability(p);
  if (!(df1 > 0) || !(df2 > 0)) throw new RangeError(`degrees of freedom ${df1}, ${df2} must be positive`);
  if (p === 0) return 0;
  if (p === 1) return Infinity;
  const { y, oneMinusY } = betaQuantileParts(p, df1 / 2, df2 / 2);
  return (df2 * y) / (df1 * oneMinusY);
}
