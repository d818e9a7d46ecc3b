/**
 * PCA monitoring, the multivariate statistical process control that process
 * engineers know: a PCA model of normal operation on standardised sensors,
 * and two statistics per row with control limits —
 *
 * - Hotelling's T² = Σ t_a² / λ_a over the k retained scores: how far the row
 *   is from normal *inside* the model plane. Limit
 *   k(n−1)(n+1) / (n(n−k)) · F_α(k, n−k) (the limit for a new observation).
 * - SPE (Q) = ||z − ẑ||², the squared residual off the model plane. Limit by
 *   Jackson and Mudholkar (1979) from θ_i = Σ_{j>k} λ_j^i, i = 1..3; when
 *   h0 = 1 − 2θ1θ3/(3θ2²) is not positive it falls back to Box's (1954)
 *   g·χ²_h with g = θ2/θ1, h = θ1²/θ2.
 *
 * Inputs must have no missing values (the caller imputes). The model carries
 * its own mean and scale (std, ddof = 1), so it maps onto ONNX as
 * Scaler → MatMul with the loadings.
 */
import { chiSquareQuantile, fQuantile, normalQuantile } from '../stats';
import { symmetricEigen } from './linear';
import type { Features } from './types';

export interface PcaModel {
  kind: 'pca';
  mean: number[];
  /** Standard deviation (ddof = 1); zero-variance columns get 1. */
  scale: number[];
  /** k × p row-major loadings; in each row the largest |loading| is positive. */
  components: number[];
  /** k eigenvalues of the correlation matrix: the variance of each score. */
  eigenvalues: number[];
  k: number;
  t2Limit: number;
  speLimit: number;
  alpha: number;
}

export interface PcaParams {
  /** Components to keep; when absent, the fewest that explain `varianceToExplain`. */
  components?: number;
  /** Fraction of the total (standardised) variance to explain; 0.9 when `components` is not given. */
  varianceToExplain?: number;
  /** Confidence level of both limits; 0.99. */
  alpha?: number;
}

/** Everything about the fit beyond the model, for reports and tests. */
export interface PcaFitDetails {
  /** All p eigenvalues of the correlation matrix, descending (negatives from rounding clamped to 0). */
  allEigenvalues: number[];
  /** Which SPE limit was used. */
  speMethod: 'jackson-mudholkar' | 'box' | 'none';
}

export function fitPca(x: Features, params: PcaParams = {}): PcaModel {
  return fitPcaDetailed(x, params).model;
}

export function fitPcaDetailed(x: Features, params: PcaParams = {}): { model: PcaModel; details: PcaFitDetails } {
  const n = x.rows;
  const p = x.columns.length;
  const alpha = params.alpha ?? 0.99;
  if (!(alpha > 0 && alpha < 1)) throw new Error(`alpha must be in (0, 1), got ${alpha}`);
  if (p === 0) throw new Error('fitPca: no columns');
  if (n < 3) throw new Error(`fitPca: needs at least 3 rows, got ${n}`);

  const mean = new Array<number>(p);
  const scale = new Array<number>(p);
  const z: Float64Array[] = [];
  for (let j = 0; j < p; j++) {
    const col = x.columns[j]!;
    if (col.length !== n) throw new Error(`fitPca: column ${j} has ${col.length} values for ${n} rows`);
    let m = 0;
    for (let i = 0; i < n; i++) m += col[i]!;
    m /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (col[i]! - m) ** 2;
    if (!Number.isFinite(ss)) throw new Error(`fitPca: column ${x.names[j] ?? j} has missing or infinite values`);
    const sd = Math.sqrt(ss / (n - 1));
    // A column that is constant up to rounding counts as constant.
    const s = sd > 1e-12 * Math.max(1, Math.abs(m)) ? sd : 1;
    mean[j] = m;
    scale[j] = s;
    const zc = new Float64Array(n);
    for (let i = 0; i < n; i++) zc[i] = (col[i]! - m) / s;
    z.push(zc);
  }

  // Correlation matrix (covariance of z).
  const corr = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    const za = z[a]!;
    for (let b = 0; b <= a; b++) {
      const zb = z[b]!;
      let s = 0;
      for (let i = 0; i < n; i++) s += za[i]! * zb[i]!;
      s /= n - 1;
      corr[a * p + b] = s;
      corr[b * p + a] = s;
    }
  }
  const { values, vectors } = symmetricEigen(corr, p);
  const lambda = Array.from(values, (v) => Math.max(0, v));
  const total = lambda.reduce((s, v) => s + v, 0);

  // How many components can be kept: positive variance, and n − k ≥ 1 for the F limit.
  let kMax = 0;
  while (kMax < Math.min(p, n - 1) && lambda[kMax]! > 1e-10 * lambda[0]!) kMax++;
  if (kMax === 0) throw new Error('fitPca: every column is constant');
  let k: number;
  if (params.components !== undefined) {
    if (!(Number.isInteger(params.components) && params.components >= 1)) throw new Error(`components must be a positive integer, got ${params.components}`);
    k = Math.min(params.components, kMax);
  } else {
    const target = params.varianceToExplain ?? 0.9;
    if (!(target > 0 && target <= 1)) throw new Error(`varianceToExplain must be in (0, 1], got ${target}`);
    k = 0;
    let cum = 0;
    while (k < kMax && cum < target * total * (1 - 1e-12)) cum += lambda[k++]!;
  }

  const components = new Array<number>(k * p);
  for (let a = 0; a < k; a++) {
    // Sign: the loading largest in magnitude is positive (the first of equal magnitudes).
    let big = 0;
    for (let j = 1; j < p; j++) if (Math.abs(vectors[j * p + a]!) > Math.abs(vectors[big * p + a]!)) big = j;
    const sign = vectors[big * p + a]! < 0 ? -1 : 1;
    for (let j = 0; j < p; j++) components[a * p + j] = sign * vectors[j * p + a]! + 0; // + 0 turns −0 into 0
  }

  const t2Limit = hotellingT2Limit(n, k, alpha);
  const { limit: speLimit, method: speMethod } = speLimitFor(lambda.slice(k), alpha, total);

  const model: PcaModel = {
    kind: 'pca',
    mean,
    scale,
    components,
    eigenvalues: lambda.slice(0, k),
    k,
    t2Limit,
    speLimit,
    alpha,
  };
  return { model, details: { allEigenvalues: lambda, speMethod } };
}

/** Hotelling's T² limit for a new observation: k(n−1)(n+1) / (n(n−k)) · F_α(k, n−k). */
export function hotellingT2Limit(n: number, k: number, alpha: number): number {
  if (!(k >= 1 && n - k >= 1)) throw new Error(`T² limit needs 1 ≤ k < n, got k = ${k}, n = ${n}`);
  return ((k * (n - 1) * (n + 1)) / (n * (n - k))) * fQuantile(alpha, k, n - k);
}

/**
 * SPE (Q) limit from the discarded eigenvalues: Jackson–Mudholkar, or Box's
 * g·χ²_h when h0 ≤ 0 (where the Jackson–Mudholkar normal approximation
 * breaks down). `total` (the sum of all eigenvalues) only sets what counts as
 * "nothing discarded", when the limit is a floor just above rounding.
 */
export function speLimitFor(discarded: number[], alpha: number, total = discarded.reduce((s, v) => s + Math.max(0, v), 0)): { limit: number; method: PcaFitDetails['speMethod'] } {
  let theta1 = 0, theta2 = 0, theta3 = 0;
  for (const v of discarded) {
    const l = Math.max(0, v);
    theta1 += l;
    theta2 += l * l;
    theta3 += l * l * l;
  }
  if (!(theta1 > 1e-12 * total) || theta1 === 0) {
    // Nothing left off the model plane: any residual above rounding is unusual.
    return { limit: 1e-12 * Math.max(1, discarded.length), method: 'none' };
  }
  const h0 = 1 - (2 * theta1 * theta3) / (3 * theta2 * theta2);
  const c = normalQuantile(alpha);
  const base = (c * Math.sqrt(2 * theta2 * h0 * h0)) / theta1 + 1 + (theta2 * h0 * (h0 - 1)) / (theta1 * theta1);
  if (h0 > 0 && base > 0) return { limit: theta1 * Math.pow(base, 1 / h0), method: 'jackson-mudholkar' };
  const g = theta2 / theta1;
  const h = (theta1 * theta1) / theta2;
  return { limit: g * chiSquareQuantile(alpha, h), method: 'box' };
}

/** T² and SPE of every row (on the model's standardisation). */
export function scorePca(m: PcaModel, x: Features): { t2: Float64Array; spe: Float64Array } {
  const p = m.mean.length;
  const k = m.k;
  if (x.columns.length !== p) throw new Error(`scorePca: model has ${p} columns, data ${x.columns.length}`);
  const n = x.rows;
  const t2 = new Float64Array(n);
  const spe = new Float64Array(n);
  const zrow = new Float64Array(p);
  const scores = new Float64Array(k);
  const comp = Float64Array.from(m.components);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) zrow[j] = (x.columns[j]![i]! - m.mean[j]!) / m.scale[j]!;
    let t2i = 0;
    for (let a = 0; a < k; a++) {
      let t = 0;
      const off = a * p;
      for (let j = 0; j < p; j++) t += comp[off + j]! * zrow[j]!;
      scores[a] = t;
      t2i += (t * t) / m.eigenvalues[a]!;
    }
    let q = 0;
    for (let j = 0; j < p; j++) {
      let r = zrow[j]!;
      for (let a = 0; a < k; a++) r -= scores[a]! * comp[a * p + j]!;
      q += r * r;
    }
    t2[i] = t2i;
    spe[i] = q;
  }
  return { t2, spe };
}
