/**
 * Linear learners: least squares / ridge regression and L2-penalised logistic
 * regression (binary sigmoid or multinomial softmax), as scikit-learn's
 * LinearRegression, Ridge and LogisticRegression(solver='lbfgs') fit them.
 *
 * The caller imputes and standardises the inputs (no NaN here). A fitted model
 * is plain JSON that maps onto ONNX `ai.onnx.ml` LinearRegressor (coefficients,
 * intercepts) and LinearClassifier (coefficients row-major by class,
 * intercepts; post_transform LOGISTIC for one row, SOFTMAX for several).
 *
 * Also exported: the small dense linear algebra these and the PCA learner use
 * (Cholesky solve, symmetric eigen-decomposition).
 */
import type { Features, FitHooks } from './types';

// ---------------------------------------------------------------------------
// Dense linear algebra on row-major square matrices (Float64Array of p × p)

/**
 * Solves A x = b for a symmetric positive definite A by Cholesky. Returns null
 * when a pivot is not clearly positive (A singular or nearly so): a pivot must
 * exceed `relTol` times the original diagonal entry.
 */
export function choleskySolve(a: Float64Array, b: Float64Array, p: number, relTol = 1e-10): Float64Array | null {
  const l = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    let d = a[j * p + j]!;
    for (let k = 0; k < j; k++) d -= l[j * p + k]! * l[j * p + k]!;
    if (!(d > relTol * a[j * p + j]!) || !(d > 0)) return null;
    const ljj = Math.sqrt(d);
    l[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j]!;
      for (let k = 0; k < j; k++) s -= l[i * p + k]! * l[j * p + k]!;
      l[i * p + j] = s / ljj;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < p; i++) {
    let s = x[i]!;
    for (let k = 0; k < i; k++) s -= l[i * p + k]! * x[k]!;
    x[i] = s / l[i * p + i]!;
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * x[k]!;
    x[i] = s / l[i * p + i]!;
  }
  return x;
}

/**
 * Eigen-decomposition of a symmetric p × p matrix (row-major): Householder
 * reduction to tridiagonal form and the implicit QL algorithm (the EISPACK
 * tred2/tql2 pair, as in JAMA). Eigenvalues come back in descending order;
 * `vectors` is p × p row-major with eigenvector i in column i.
 */
export function symmetricEigen(a: Float64Array, p: number): { values: Float64Array; vectors: Float64Array } {
  const n = p;
  const V: Float64Array[] = [];
  for (let i = 0; i < n; i++) V.push(Float64Array.from(a.subarray(i * n, (i + 1) * n)));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: new Float64Array(0) };
  tred2(V, d, e, n);
  tql2(V, d, e, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y]! - d[x]! || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const src = order[c]!;
    values[c] = d[src]!;
    for (let r = 0; r < n; r++) vectors[r * n + c] = V[r]![src]!;
  }
  return { values, vectors };
}

function tred2(V: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[n - 1]![j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[i - 1]![j]!;
        V[i]![j] = 0;
        V[j]![i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j]![i] = f;
        g = e[j]! + V[j]![j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k]![j]! * d[k]!;
          e[k] = e[k]! + V[k]![j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k]![j] = V[k]![j]! - (f * e[k]! + g * d[k]!);
        d[j] = V[i - 1]![j]!;
        V[i]![j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[n - 1]![i] = V[i]![i]!;
    V[i]![i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k]![i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k]![i + 1]! * V[k]![j]!;
        for (let k = 0; k <= i; k++) V[k]![j] = V[k]![j]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k]![i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[n - 1]![j]!;
    V[n - 1]![j] = 0;
  }
  V[n - 1]![n - 1] = 1;
  e[0] = 0;
}

function tql2(V: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        iter++;
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          for (let k = 0; k < n; k++) {
            const row = V[k]!;
            h = row[i + 1]!;
            row[i + 1] = s * row[i]! + c * h;
            row[i] = c * row[i]! - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1 && iter < 100);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/**
 * Minimum-norm solution of A x = b for a symmetric positive semi-definite A,
 * through its eigen-decomposition; eigenvalues below `relCut` × the largest
 * count as zero (the pseudo-inverse, as numpy's lstsq gives on a rank-deficient design).
 */
export function pseudoInverseSolve(a: Float64Array, b: Float64Array, p: number, relCut = 1e-12): Float64Array {
  const { values, vectors } = symmetricEigen(a, p);
  const cut = Math.max(0, values[0] ?? 0) * relCut;
  const x = new Float64Array(p);
  for (let c = 0; c < p; c++) {
    const lambda = values[c]!;
    if (!(lambda > cut)) continue;
    let proj = 0;
    for (let r = 0; r < p; r++) proj += vectors[r * p + c]! * b[r]!;
    const k = proj / lambda;
    for (let r = 0; r < p; r++) x[r] = x[r]! + k * vectors[r * p + c]!;
  }
  return x;
}

// ---------------------------------------------------------------------------
// Least squares / ridge

export interface LinearModel {
  kind: 'linear';
  alpha: number;
  coef: number[];
  intercept: number;
}

function checkShape(x: Features, n: number, what: string): void {
  if (x.columns.length === 0 && x.rows !== n) throw new Error(`${what}: ${n} targets for ${x.rows} rows`);
  for (const col of x.columns) if (col.length !== x.rows) throw new Error(`${what}: a column has ${col.length} values for ${x.rows} rows`);
  if (x.rows !== n) throw new Error(`${what}: ${n} targets for ${x.rows} rows`);
}

function weightsOrOnes(n: number, w: Float64Array | undefined): Float64Array {
  if (!w) return new Float64Array(n).fill(1);
  if (w.length !== n) throw new Error(`sample weights: ${w.length} for ${n} rows`);
  for (let i = 0; i < n; i++) if (!(w[i]! >= 0) || !Number.isFinite(w[i]!)) throw new Error('sample weights must be finite and non-negative');
  return w;
}

/**
 * Weighted least squares (alpha = 0) or ridge (alpha > 0) with an unpenalised
 * intercept: minimises Σ wᵢ (yᵢ − b − xᵢ·β)² + alpha ||β||². Solved on centred
 * data by the normal equations with Cholesky; a singular system (duplicated or
 * constant columns) falls back to the pseudo-inverse, which gives the
 * minimum-norm coefficients as scikit-learn's LinearRegression does.
 */
export function fitLinear(x: Features, y: Float64Array, params: { alpha?: number } = {}, opts: { sampleWeight?: Float64Array } = {}): LinearModel {
  const n = y.length;
  checkShape(x, n, 'fitLinear');
  const alpha = params.alpha ?? 0;
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new Error(`alpha must be a non-negative number, got ${alpha}`);
  const w = weightsOrOnes(n, opts.sampleWeight);
  const p = x.columns.length;
  let wSum = 0;
  for (let i = 0; i < n; i++) wSum += w[i]!;
  if (!(wSum > 0)) throw new Error('fitLinear: no rows with positive weight');

  let yMean = 0;
  for (let i = 0; i < n; i++) yMean += w[i]! * y[i]!;
  yMean /= wSum;
  const means = new Float64Array(p);
  const centred: Float64Array[] = [];
  for (let j = 0; j < p; j++) {
    const col = x.columns[j]!;
    let m = 0;
    for (let i = 0; i < n; i++) m += w[i]! * col[i]!;
    m /= wSum;
    means[j] = m;
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) c[i] = col[i]! - m;
    centred.push(c);
  }
  // Weighted, centred target once, reused for every column's right-hand side.
  const wy = new Float64Array(n);
  for (let i = 0; i < n; i++) wy[i] = w[i]! * (y[i]! - yMean);

  const gram = new Float64Array(p * p);
  const rhs = new Float64Array(p);
  const wcol = new Float64Array(n);
  for (let j = 0; j < p; j++) {
    const cj = centred[j]!;
    for (let i = 0; i < n; i++) wcol[i] = w[i]! * cj[i]!;
    // Four dot products per pass over wcol.
    let k = 0;
    for (; k + 3 <= j; k += 4) {
      const c0 = centred[k]!, c1 = centred[k + 1]!, c2 = centred[k + 2]!, c3 = centred[k + 3]!;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < n; i++) {
        const v = wcol[i]!;
        s0 += v * c0[i]!;
        s1 += v * c1[i]!;
        s2 += v * c2[i]!;
        s3 += v * c3[i]!;
      }
      gram[j * p + k] = gram[k * p + j] = s0;
      gram[j * p + k + 1] = gram[(k + 1) * p + j] = s1;
      gram[j * p + k + 2] = gram[(k + 2) * p + j] = s2;
      gram[j * p + k + 3] = gram[(k + 3) * p + j] = s3;
    }
    for (; k <= j; k++) {
      const ck = centred[k]!;
      let s = 0;
      for (let i = 0; i < n; i++) s += wcol[i]! * ck[i]!;
      gram[j * p + k] = gram[k * p + j] = s;
    }
    let r = 0;
    for (let i = 0; i < n; i++) r += cj[i]! * wy[i]!;
    rhs[j] = r;
    gram[j * p + j] = gram[j * p + j]! + alpha;
  }
  const beta = (p > 0 ? choleskySolve(gram, rhs, p) : new Float64Array(0)) ?? pseudoInverseSolve(gram, rhs, p);
  let intercept = yMean;
  for (let j = 0; j < p; j++) intercept -= beta[j]! * means[j]!;
  return { kind: 'linear', alpha, coef: Array.from(beta), intercept };
}

export function predictLinear(m: LinearModel, x: Features): Float64Array {
  if (x.columns.length !== m.coef.length) throw new Error(`predictLinear: model has ${m.coef.length} features, data ${x.columns.length}`);
  const out = new Float64Array(x.rows).fill(m.intercept);
  for (let j = 0; j < m.coef.length; j++) {
    const c = m.coef[j]!;
    if (c === 0) continue;
    const col = x.columns[j]!;
    for (let i = 0; i < x.rows; i++) out[i] = out[i]! + c * col[i]!;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Logistic regression

export interface LogisticModel {
  kind: 'logistic';
  classCount: number;
  C: number;
  /** classCount == 2: one row of featureCount (the logit of class 1); otherwise classCount rows, row-major. */
  coef: number[];
  intercept: number[];
}

/** Logit given to a class that has no training rows (probability ≈ 2e-16 against a class at logit 0). */
const ABSENT_CLASS_LOGIT = -36;

/**
 * L2-penalised logistic regression: minimises Σ wᵢ ℓᵢ + ||W||² / (2C) with an
 * unpenalised intercept — binary: the sigmoid loss on one coefficient row;
 * more classes: the multinomial (softmax) loss on one row per class — which is
 * scikit-learn's LogisticRegression(solver='lbfgs') objective. Solved by
 * L-BFGS from zero to a gradient of 1e-10 (on the loss divided by Σw), much
 * tighter than scikit-learn's default tolerance. Multinomial intercepts are
 * centred to sum to zero, as scikit-learn's lbfgs leaves them.
 *
 * A class with no training rows (when `classCount` says it exists) gets zero
 * coefficients and a very low intercept.
 */
export function fitLogistic(
  x: Features,
  y: Int32Array,
  params: { C?: number; maxIter?: number } = {},
  opts: { sampleWeight?: Float64Array; classCount?: number; hooks?: FitHooks } = {},
): LogisticModel {
  const n = y.length;
  checkShape(x, n, 'fitLogistic');
  const C = params.C ?? 1;
  if (!(C > 0)) throw new Error(`C must be positive, got ${C}`);
  const maxIter = params.maxIter ?? 1000;
  const w = weightsOrOnes(n, opts.sampleWeight);
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    if (v < 0) throw new Error(`fitLogistic: class labels must be 0..K-1, got ${v}`);
    if (v > maxLabel) maxLabel = v;
  }
  const K = Math.max(2, opts.classCount ?? maxLabel + 1);
  if (maxLabel >= K) throw new Error(`fitLogistic: label ${maxLabel} but classCount ${K}`);
  const p = x.columns.length;

  // Classes that actually have weight.
  const classWeight = new Float64Array(K);
  for (let i = 0; i < n; i++) classWeight[y[i]!] = classWeight[y[i]!]! + w[i]!;
  const present: number[] = [];
  for (let k = 0; k < K; k++) if (classWeight[k]! > 0) present.push(k);

  if (K === 2) {
    if (present.length < 2) {
      const only = present[0] ?? 0;
      return { kind: 'logistic', classCount: 2, C, coef: new Array<number>(p).fill(0), intercept: [only === 1 ? -ABSENT_CLASS_LOGIT : ABSENT_CLASS_LOGIT] };
    }
    const theta = minimiseLogistic(x, y, w, 1, C, maxIter, opts.hooks);
    return { kind: 'logistic', classCount: 2, C, coef: Array.from(theta.subarray(0, p)), intercept: [theta[p]!] };
  }

  const coef = new Array<number>(K * p).fill(0);
  const intercept = new Array<number>(K).fill(ABSENT_CLASS_LOGIT);
  if (present.length === 1) {
    intercept[present[0]!] = 0;
  } else {
    const local = new Int32Array(K).fill(-1);
    present.forEach((k, idx) => (local[k] = idx));
    const yl = new Int32Array(n);
    for (let i = 0; i < n; i++) yl[i] = local[y[i]!]!;
    const kp = present.length;
    // Two present classes of several: still a softmax over two rows (as a multinomial fit would be).
    const theta = minimiseLogistic(x, yl, w, kp, C, maxIter, opts.hooks);
    let bMean = 0;
    for (let c = 0; c < kp; c++) bMean += theta[c * (p + 1) + p]!;
    bMean /= kp;
    let bMin = Infinity;
    for (let c = 0; c < kp; c++) {
      const k = present[c]!;
      for (let j = 0; j < p; j++) coef[k * p + j] = theta[c * (p + 1) + j]!;
      intercept[k] = theta[c * (p + 1) + p]! - bMean;
      bMin = Math.min(bMin, intercept[k]!);
    }
    for (let k = 0; k < K; k++) if (classWeight[k] === 0) intercept[k] = bMin + ABSENT_CLASS_LOGIT;
  }
  return { kind: 'logistic', classCount: K, C, coef, intercept };
}

/** log(1 + e^z) without overflow. */
function log1pExp(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/**
 * Minimises the penalised logistic loss. `rows` = 1 means binary (sigmoid on
 * one row, labels 0/1); otherwise a softmax over `rows` rows. θ is laid out
 * row by row, each row p coefficients then the intercept.
 */
function minimiseLogistic(
  x: Features,
  y: Int32Array,
  w: Float64Array,
  rows: number,
  C: number,
  maxIter: number,
  hooks: FitHooks | undefined,
): Float64Array {
  const n = y.length;
  const p = x.columns.length;
  const stride = p + 1;
  const dim = rows * stride;
  let wSum = 0;
  for (let i = 0; i < n; i++) wSum += w[i]!;
  const invW = 1 / wSum;
  const penalty = 1 / (C * wSum);
  const z = new Float64Array(n * rows);
  const r = new Float64Array(n * rows);

  /** f and ∇f of (Σ wᵢ ℓᵢ + ||W||²/(2C)) / Σw at θ. */
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    // z = X θ per row
    for (let c = 0; c < rows; c++) {
      const b = theta[c * stride + p]!;
      const zc = z.subarray(c * n, (c + 1) * n);
      zc.fill(b);
      for (let j = 0; j < p; j++) {
        const t = theta[c * stride + j]!;
        if (t === 0) continue;
        const col = x.columns[j]!;
        for (let i = 0; i < n; i++) zc[i] = zc[i]! + t * col[i]!;
      }
    }
    let loss = 0;
    if (rows === 1) {
      for (let i = 0; i < n; i++) {
        const zi = z[i]!;
        const yi = y[i]!;
        loss += w[i]! * (log1pExp(zi) - (yi === 1 ? zi : 0));
        r[i] = w[i]! * (sigmoid(zi) - yi);
      }
    } else {
      for (let i = 0; i < n; i++) {
        let mx = -Infinity;
        for (let c = 0; c < rows; c++) mx = Math.max(mx, z[c * n + i]!);
        let s = 0;
        for (let c = 0; c < rows; c++) {
          const e = Math.exp(z[c * n + i]! - mx);
          r[c * n + i] = e;
          s += e;
        }
        const yi = y[i]!;
        const wi = w[i]!;
        loss += wi * (mx + Math.log(s) - z[yi * n + i]!);
        const ws = wi / s;
        for (let c = 0; c < rows; c++) r[c * n + i] = r[c * n + i]! * ws;
        r[yi * n + i] = r[yi * n + i]! - wi;
      }
    }
    let pen = 0;
    for (let c = 0; c < rows; c++) {
      const rc = r.subarray(c * n, (c + 1) * n);
      let gb = 0;
      for (let i = 0; i < n; i++) gb += rc[i]!;
      grad[c * stride + p] = gb * invW;
      for (let j = 0; j < p; j++) {
        const col = x.columns[j]!;
        let g = 0;
        for (let i = 0; i < n; i++) g += rc[i]! * col[i]!;
        const t = theta[c * stride + j]!;
        grad[c * stride + j] = g * invW + penalty * t;
        pen += t * t;
      }
    }
    return loss * invW + 0.5 * penalty * pen;
  };

  return lbfgs(evaluate, dim, { maxIter, gtol: 1e-10, hooks });
}

// ---------------------------------------------------------------------------
// L-BFGS

interface LbfgsOptions {
  maxIter: number;
  gtol: number;
  memory?: number;
  hooks?: FitHooks | undefined;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * Minimises a smooth convex function from θ = 0 with L-BFGS. The line search
 * brackets a step satisfying the weak Wolfe conditions, with Hager and
 * Zhang's approximate-Wolfe test standing in for sufficient decrease once
 * function differences fall below rounding, so that the gradient can be driven
 * to `gtol` (max-norm).
 */
function lbfgs(evaluate: (theta: Float64Array, grad: Float64Array) => number, dim: number, o: LbfgsOptions): Float64Array {
  const m = o.memory ?? 10;
  let theta = new Float64Array(dim);
  let grad = new Float64Array(dim);
  let f = evaluate(theta, grad);
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rhoList: number[] = [];
  const dir = new Float64Array(dim);
  const alphaTmp = new Float64Array(m);
  let trial = new Float64Array(dim);
  let trialGrad = new Float64Array(dim);
  const g0 = Math.max(maxAbs(grad), o.gtol);
  const c1 = 1e-4;
  const c2 = 0.9;
  let reported = 0;

  for (let iter = 0; iter < o.maxIter; iter++) {
    o.hooks?.checkCancelled?.();
    const gNorm = maxAbs(grad);
    if (gNorm <= o.gtol) break;
    if (o.hooks?.progress) {
      const byGrad = Math.log(g0 / gNorm) / Math.log(g0 / o.gtol);
      reported = Math.min(1, Math.max(reported, byGrad, iter / o.maxIter));
      o.hooks.progress(reported);
    }
    // Two-loop recursion: dir = −H ∇f.
    for (let i = 0; i < dim; i++) dir[i] = -grad[i]!;
    const k = sList.length;
    for (let j = k - 1; j >= 0; j--) {
      const a = rhoList[j]! * dot(sList[j]!, dir);
      alphaTmp[j] = a;
      const yj = yList[j]!;
      for (let i = 0; i < dim; i++) dir[i] = dir[i]! - a * yj[i]!;
    }
    if (k > 0) {
      const yl = yList[k - 1]!;
      const gamma = 1 / (rhoList[k - 1]! * dot(yl, yl));
      for (let i = 0; i < dim; i++) dir[i] = dir[i]! * gamma;
    }
    for (let j = 0; j < k; j++) {
      const b = rhoList[j]! * dot(yList[j]!, dir);
      const sj = sList[j]!;
      const a = alphaTmp[j]!;
      for (let i = 0; i < dim; i++) dir[i] = dir[i]! + (a - b) * sj[i]!;
    }
    let slope0 = dot(grad, dir);
    if (!(slope0 < 0)) {
      // Not a descent direction (should not happen on a convex problem): restart from steepest descent.
      sList.length = 0; yList.length = 0; rhoList.length = 0;
      for (let i = 0; i < dim; i++) dir[i] = -grad[i]!;
      slope0 = dot(grad, dir);
    }

    // Line search.
    let step = k === 0 ? Math.min(1, 1 / Math.sqrt(-slope0)) : 1;
    let lo = 0, hi = Infinity;
    let slopeLo = slope0, slopeHi = NaN;
    let accepted = false;
    let fTrial = f;
    for (let ls = 0; ls < 30; ls++) {
      for (let i = 0; i < dim; i++) trial[i] = theta[i]! + step * dir[i]!;
      fTrial = evaluate(trial, trialGrad);
      const slope = dot(trialGrad, dir);
      const armijo = fTrial <= f + c1 * step * slope0;
      // Hager–Zhang: once f changes by less than its rounding, trust the slope instead.
      const approxWolfe = slope <= -0.8 * slope0 && fTrial <= f + 1e-12 * Math.abs(f);
      const decreaseOk = Number.isFinite(fTrial) && (armijo || approxWolfe);
      if (!decreaseOk) {
        hi = step; slopeHi = slope;
      } else if (slope < c2 * slope0) {
        lo = step; slopeLo = slope;
      } else {
        accepted = true;
        break;
      }
      if (hi === Infinity) step = lo * 4;
      else {
        // Secant on the slope, kept well inside [lo, hi].
        let next = Number.isFinite(slopeHi) && slopeHi > slopeLo ? lo - (slopeLo * (hi - lo)) / (slopeHi - slopeLo) : 0.5 * (lo + hi);
        const margin = 0.1 * (hi - lo);
        if (!(next >= lo + margin && next <= hi - margin)) next = 0.5 * (lo + hi);
        step = next;
      }
      if (hi - lo <= 1e-16 * Math.max(1, hi)) break;
    }
    if (!accepted) break; // no further progress possible at this precision

    const s = new Float64Array(dim);
    const yv = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      s[i] = trial[i]! - theta[i]!;
      yv[i] = trialGrad[i]! - grad[i]!;
    }
    const sy = dot(s, yv);
    [theta, trial] = [trial, theta];
    [grad, trialGrad] = [trialGrad, grad];
    f = fTrial;
    if (sy > 1e-300) {
      if (sList.length === m) { sList.shift(); yList.shift(); rhoList.shift(); }
      sList.push(s); yList.push(yv); rhoList.push(1 / sy);
    }
  }
  o.hooks?.progress?.(1);
  return theta;
}

/** Class probabilities, n × classCount row-major. */
export function predictLogistic(m: LogisticModel, x: Features): Float64Array {
  const p = x.columns.length;
  const K = m.classCount;
  const n = x.rows;
  const rows = K === 2 ? 1 : K;
  if (m.coef.length !== rows * p) throw new Error(`predictLogistic: model has ${m.coef.length / rows} features, data ${p}`);
  const z = new Float64Array(n * rows);
  for (let c = 0; c < rows; c++) {
    const zc = z.subarray(c * n, (c + 1) * n);
    zc.fill(m.intercept[c]!);
    for (let j = 0; j < p; j++) {
      const t = m.coef[c * p + j]!;
      if (t === 0) continue;
      const col = x.columns[j]!;
      for (let i = 0; i < n; i++) zc[i] = zc[i]! + t * col[i]!;
    }
  }
  const out = new Float64Array(n * K);
  if (K === 2) {
    for (let i = 0; i < n; i++) {
      const p1 = sigmoid(z[i]!);
      out[2 * i] = z[i]! >= 0 ? sigmoid(-z[i]!) : 1 - p1;
      out[2 * i + 1] = p1;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let c = 0; c < K; c++) mx = Math.max(mx, z[c * n + i]!);
    let s = 0;
    for (let c = 0; c < K; c++) {
      const e = Math.exp(z[c * n + i]! - mx);
      out[i * K + c] = e;
      s += e;
    }
    for (let c = 0; c < K; c++) out[i * K + c] = out[i * K + c]! / s;
  }
  return out;
}
