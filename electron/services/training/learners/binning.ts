import type { Features } from './types';
import { createRng } from './rng';

/** Bin code of a missing value. Value bins are 0..MISSING_BIN-1. */
export const MISSING_BIN = 255;
export const MAX_VALUE_BINS = 255;

/**
 * Features cut into at most 255 bins each (LightGBM / XGBoost "hist"). Bin b of
 * feature j holds values with thresholds[j][b-1] < fround(x) <= thresholds[j][b];
 * the last bin has no upper threshold. Missing values get MISSING_BIN.
 */
export interface BinnedFeatures {
  rows: number;
  /** codes[j][i]: bin of feature j for row i. */
  codes: Uint8Array[];
  /** Upper edges (float32-exact), one fewer than the feature's bin count. */
  thresholds: Float64Array[];
  /** Bin count per feature, excluding the missing bin. */
  binCounts: number[];
  /** True when the feature had a missing value in the rows the bins were fitted on. */
  hasMissing: boolean[];
}

export interface BinningOptions {
  maxBins?: number;
  /** Rows sampled to find the edges (sklearn uses 200,000). */
  sampleRows?: number;
  seed?: number;
}

/** Finds bin edges on the given rows (the training part only) and codes every row of `x`. */
export function fitBins(x: Features, opts: BinningOptions = {}): BinnedFeatures {
  const edges = x.columns.map((col) => findEdges(col, opts));
  return applyBins(x, edges);
}

/** Codes `x` with edges found earlier (for validation and test parts). */
export function applyBins(x: Features, thresholds: Float64Array[]): BinnedFeatures {
  const codes = x.columns.map((col, j) => codeColumn(col, thresholds[j]!));
  return {
    rows: x.rows,
    codes,
    thresholds,
    binCounts: thresholds.map((t) => t.length + 1),
    hasMissing: x.columns.map((col) => col.some((v) => Number.isNaN(v))),
  };
}

export function findEdges(col: Float64Array, opts: BinningOptions = {}): Float64Array {
  const maxBins = Math.min(opts.maxBins ?? MAX_VALUE_BINS, MAX_VALUE_BINS);
  const sampleRows = opts.sampleRows ?? 200_000;
  let values: Float64Array;
  const n = col.length;
  if (n > sampleRows) {
    // Deterministic sample without replacement (partial Fisher–Yates on indices).
    const rng = createRng(opts.seed ?? 0);
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    values = new Float64Array(sampleRows);
    for (let i = 0; i < sampleRows; i++) {
      const j = i + rng.int(n - i);
      const t = idx[i]!; idx[i] = idx[j]!; idx[j] = t;
      values[i] = col[idx[i]!]!;
    }
  } else {
    values = Float64Array.from(col);
  }
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) values[m++] = Math.fround(v);
  }
  const sorted = values.subarray(0, m).sort();
  // Distinct values and their counts.
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < m; i++) {
    const v = sorted[i]!;
    if (distinct.length > 0 && distinct[distinct.length - 1] === v) counts[counts.length - 1]!++;
    else { distinct.push(v); counts.push(1); }
  }
  const edges: number[] = [];
  if (distinct.length <= maxBins) {
    for (let k = 0; k + 1 < distinct.length; k++) edges.push(midpoint(distinct[k]!, distinct[k + 1]!));
  } else {
    // Quantile edges (sklearn: percentiles of the sample, midpoint interpolation), then deduplicated.
    for (let b = 1; b < maxBins; b++) {
      const q = (b / maxBins) * (m - 1);
      const lo = Math.floor(q);
      const hi = Math.min(lo + 1, m - 1);
      const a = sorted[lo]!;
      const c = sorted[hi]!;
      let e = a === c ? a : midpoint(a, c);
      if (q === lo) e = a;
      e = Math.fround(e);
      if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
    }
    // The top edge must be below the maximum, or the last bin is empty.
    while (edges.length > 0 && edges[edges.length - 1]! >= sorted[m - 1]!) edges.pop();
  }
  return Float64Array.from(edges);
}

/** A float32-exact point t with a <= t < b (a < b both float32). */
function midpoint(a: number, b: number): number {
  const t = Math.fround(a + (b - a) / 2);
  return t >= b || t < a ? a : t;
}

function codeColumn(col: Float64Array, edges: Float64Array): Uint8Array {
  const out = new Uint8Array(col.length);
  const ne = edges.length;
  for (let i = 0; i < col.length; i++) {
    const raw = col[i]!;
    if (Number.isNaN(raw)) { out[i] = MISSING_BIN; continue; }
    const v = Math.fround(raw);
    // First edge >= v.
    let lo = 0, hi = ne;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid]! < v) lo = mid + 1; else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}
