import type { ColumnData } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import type { Frame } from './frame';
import { numericValues } from './frame';
import type { Features } from './learners/types';

/** The most categories one input is expanded into (the rest count as "other"). */
export const MAX_LEVELS = 20;

export type WindowOp = 'mean' | 'std' | 'min' | 'max' | 'slope';
export const WINDOW_OPS: readonly WindowOp[] = ['mean', 'std', 'min', 'max', 'slope'];

/** One model input as the model receives it (a dataset column). */
export interface InputSpec {
  name: string;
  kind: 'number' | 'boolean' | 'category';
  unit: string | null;
  /** Categories: the levels seen in training, one indicator feature each; others and missing give all zeros. */
  levels?: string[];
}

/**
 * One feature column the learners see. `value` is the input itself (the
 * "last" value of a window); window ops summarise the trailing window of
 * `windowRows` rows ending at the current row; `lag` is the value `lag`
 * rows before. Nothing ever reads a later row.
 */
export interface FeatureSpec {
  name: string;
  input: string;
  op: 'value' | 'onehot' | WindowOp | 'lag' | 'diff' | 'product';
  level?: string;
  lag?: number;
  /** diff and product: the second input (`input` − `other`, `input` × `other`). */
  other?: string;
}

/** Derived features are only made for up to this many numeric inputs (pairs grow quadratically). */
export const MAX_DERIVED_INPUTS = 12;

/**
 * Adds the physics a process engineer would compute: the difference of every
 * two inputs measured in the same unit (a temperature rise, a pressure drop)
 * and the product of every two numeric inputs (power = torque × speed).
 */
export function withDerived(plan: FeaturePlan): FeaturePlan {
  const nums = plan.inputs.filter((i) => i.kind === 'number');
  if (nums.length < 2 || nums.length > MAX_DERIVED_INPUTS) return plan;
  const extra: FeatureSpec[] = [];
  for (let a = 0; a < nums.length; a++) {
    for (let b = a + 1; b < nums.length; b++) {
      const A = nums[a]!, B = nums[b]!;
      if (A.unit && A.unit === B.unit) extra.push({ name: `${A.name} − ${B.name}`, input: A.name, other: B.name, op: 'diff' });
      extra.push({ name: `${A.name} × ${B.name}`, input: A.name, other: B.name, op: 'product' });
    }
  }
  return { ...plan, features: [...plan.features, ...extra], derived: true };
}

export interface FeaturePlan {
  inputs: InputSpec[];
  features: FeatureSpec[];
  windowMinutes: number | null;
  /** Rows in a window: windowMinutes over the median sampling interval. */
  windowRows: number | null;
  intervalMs: number | null;
  lags: number[];
  /** True when differences and products of inputs were added (see withDerived). */
  derived?: boolean;
}

/**
 * Decides the features from the training rows only: category levels come
 * from training rows, so a level first seen in the holdout is "unseen" there
 * exactly as it would be in operation.
 */
export function planFeatures(
  frame: Frame,
  inputNames: string[],
  trainRows: Int32Array,
  opts: { windowMinutes: number | null; lags: number[]; intervalMs: number | null },
): FeaturePlan {
  const windowRows = opts.windowMinutes && opts.intervalMs ? Math.max(2, Math.round((opts.windowMinutes * 60_000) / opts.intervalMs)) : null;
  const inputs: InputSpec[] = [];
  const features: FeatureSpec[] = [];
  for (const name of inputNames) {
    const col = frame.columns.get(name);
    if (!col) throw new AppError('bad_input', `The dataset has no column "${name}".`, 'inputs');
    const unit = frame.schema.find((c) => c.name === name)?.unit ?? null;
    if (col.type === 'category' || col.type === 'text') {
      const levels = topLevels(col, trainRows);
      inputs.push({ name, kind: 'category', unit, levels });
      for (const level of levels) features.push({ name: `${name} = ${level}`, input: name, op: 'onehot', level });
      continue;
    }
    if (col.type === 'timestamp') throw new AppError('bad_input', `"${name}" is a time column; it cannot be an input.`, 'inputs');
    inputs.push({ name, kind: col.type === 'boolean' ? 'boolean' : 'number', unit });
    features.push({ name, input: name, op: 'value' });
    if (col.type !== 'boolean' && windowRows) {
      for (const op of WINDOW_OPS) features.push({ name: `${name} ${op} ${opts.windowMinutes} min`, input: name, op });
    }
    if (col.type !== 'boolean') for (const lag of opts.lags) features.push({ name: `${name} ${lag} rows before`, input: name, op: 'lag', lag });
  }
  return { inputs, features, windowMinutes: windowRows ? opts.windowMinutes : null, windowRows, intervalMs: opts.intervalMs, lags: [...opts.lags] };
}

function topLevels(col: Extract<ColumnData, { codes: Int32Array }>, rows: Int32Array): string[] {
  const counts = new Map<number, number>();
  for (let k = 0; k < rows.length; k++) {
    const c = col.codes[rows[k]!]!;
    if (c >= 0) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (col.dictionary[a[0]]! < col.dictionary[b[0]]! ? -1 : 1))
    .slice(0, MAX_LEVELS)
    .map(([c]) => col.dictionary[c]!)
    .sort();
}

/**
 * The values of one input as a model sees them: numbers rounded to float32
 * (the type the ONNX graph takes them in), booleans 0/1, NaN for missing.
 * Differences, products, lags and windows are computed from these, so the
 * graph, given the same float32 inputs, computes the same features.
 */
export function inputValues(col: ColumnData): Float64Array {
  const v = numericValues(col);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.fround(v[i]!);
  return out;
}

/** Computes every planned feature for every row of the frame (column-major). */
export function buildFeatures(plan: FeaturePlan, frame: Frame): Features {
  const n = frame.rows;
  const values = new Map<string, Float64Array>();
  const valuesOf = (name: string) => {
    let v = values.get(name);
    if (!v) values.set(name, (v = inputValues(frame.columns.get(name)!)));
    return v;
  };
  const windows = new Map<string, Record<WindowOp, Float64Array>>();
  const columns = plan.features.map((f): Float64Array => {
    switch (f.op) {
      case 'value':
        return Float64Array.from(valuesOf(f.input));
      case 'onehot': {
        const c = frame.columns.get(f.input) as Extract<ColumnData, { codes: Int32Array }>;
        const code = c.dictionary.indexOf(f.level!);
        const out = new Float64Array(n);
        if (code >= 0) for (let i = 0; i < n; i++) out[i] = c.codes[i] === code ? 1 : 0;
        return out;
      }
      case 'diff':
      case 'product': {
        const a = valuesOf(f.input);
        const b = valuesOf(f.other!);
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = f.op === 'diff' ? a[i]! - b[i]! : a[i]! * b[i]!;
        return out;
      }
      case 'lag': {
        const v = valuesOf(f.input);
        const out = new Float64Array(n).fill(NaN);
        for (let i = f.lag!; i < n; i++) out[i] = v[i - f.lag!]!;
        return out;
      }
      default: {
        let w = windows.get(f.input);
        if (!w) windows.set(f.input, (w = windowFeatures(valuesOf(f.input), plan.windowRows!, minutesPerRow(plan))));
        return w[f.op];
      }
    }
  });
  return { rows: n, columns, names: plan.features.map((f) => f.name) };
}

/** Minutes between rows, which turns a window's slope per row into a slope per minute. */
export function minutesPerRow(plan: Pick<FeaturePlan, 'intervalMs'>): number {
  return (plan.intervalMs ?? 60_000) / 60_000;
}

/**
 * Trailing-window statistics over rows i-w+1..i, skipping missing values
 * (rows before the first count as missing); a window with no value gives NaN.
 * With t the row's position in the window (0..w-1), over the window's
 * values: mean; std = sqrt(Σ(x − mean)² / count) (population); slope =
 * Σ(t − t̄)(x − mean) / Σ(t − t̄)² per minute (NaN with fewer than two
 * values); min and max. A window whose values are all equal has mean = that
 * value, std 0 and slope 0 exactly.
 *
 * Computed window by window (O(n·w)), not with running sums: the ONNX graph
 * computes the same formulas on the same float32 values and must agree to
 * the last bit, which a tree's float32 threshold can see. So every sum over a
 * window is a pairwise sum in a fixed order (see pairwiseSum), which the
 * graph repeats with Slice and Add; and the constant-window case is exact.
 */
export function windowFeatures(v: Float64Array, w: number, minutesPerRow: number): Record<WindowOp, Float64Array> {
  const n = v.length;
  const mean = new Float64Array(n), std = new Float64Array(n), min = new Float64Array(n), max = new Float64Array(n), slope = new Float64Array(n);
  // Each window is padded with missing values to a power of two; the sums'
  // first halving step is done while the terms are computed (same bits).
  const size = pairwiseSize(w), half = size >> 1;
  const y = new Float64Array(size), ok = new Uint8Array(size);
  const sy = new Float64Array(half), syy = new Float64Array(half), stt = new Float64Array(half), sty = new Float64Array(half);
  let sttFull = NaN; // Σ(t − t̄)² of a window without gaps: the same for every such window.
  for (let i = 0; i < n; i++) {
    const start = i - w + 1;
    let cnt = 0, tsum = 0, lo = Infinity, hi = -Infinity;
    ok.fill(0);
    for (let j = Math.max(0, start); j <= i; j++) {
      const val = v[j]!;
      if (val !== val) continue;
      const t = j - start;
      y[t] = val; ok[t] = 1;
      cnt++; tsum += t;
      if (val < lo) lo = val;
      if (val > hi) hi = val;
    }
    if (cnt === 0) {
      mean[i] = std[i] = min[i] = max[i] = slope[i] = NaN;
      continue;
    }
    min[i] = lo;
    max[i] = hi;
    if (lo === hi) {
      mean[i] = lo;
      std[i] = 0;
      slope[i] = cnt >= 2 ? 0 : NaN;
      continue;
    }
    for (let j = 0; j < half; j++) sy[j] = (ok[j] ? y[j]! : 0) + (ok[j + half] ? y[j + half]! : 0);
    const m = pairwiseSum(sy, half) / cnt, tm = tsum / cnt;
    const full = cnt === w;
    for (let j = 0; j < half; j++) {
      const a = ok[j] === 1, b = ok[j + half] === 1;
      const dya = a ? y[j]! - m : 0, dyb = b ? y[j + half]! - m : 0;
      const dta = a ? j - tm : 0, dtb = b ? j + half - tm : 0;
      syy[j] = dya * dya + dyb * dyb;
      sty[j] = dta * dya + dtb * dyb;
      if (!full || sttFull !== sttFull) stt[j] = dta * dta + dtb * dtb;
    }
    const ss = pairwiseSum(syy, half);
    let tt: number;
    if (!full) tt = pairwiseSum(stt, half);
    else tt = sttFull === sttFull ? sttFull : (sttFull = pairwiseSum(stt, half));
    mean[i] = m;
    std[i] = Math.sqrt(ss / cnt);
    slope[i] = tt > 0 ? pairwiseSum(sty, half) / tt / minutesPerRow : NaN;
  }
  return { mean, std, min, max, slope };
}

/** The power of two at or above `w`: the length pairwiseSum works on (the window, padded with zeros). */
export function pairwiseSize(w: number): number {
  let size = 1;
  while (size < w) size *= 2;
  return size;
}

/**
 * Σ of the first `length` values of `a` (a power of two), halving:
 * a[j] += a[j + half] until one value is left. Overwrites `a`. A fixed
 * order of additions, so the ONNX graph (one Add of the two halves per step)
 * gets the same bits.
 */
export function pairwiseSum(a: Float64Array, length = a.length): number {
  for (let h = length >> 1; h >= 1; h >>= 1) for (let j = 0; j < h; j++) a[j] = a[j]! + a[j + h]!;
  return a[0]!;
}

/** Median and spread of each feature over the training rows, for learners that need complete, scaled inputs. */
export interface Scaling {
  median: number[];
  mean: number[];
  scale: number[];
}

export function fitScaling(x: Features, rows: Int32Array): Scaling {
  const median: number[] = [], mean: number[] = [], scale: number[] = [];
  const buf = new Float64Array(rows.length);
  for (const col of x.columns) {
    let m = 0;
    for (let k = 0; k < rows.length; k++) {
      const v = col[rows[k]!]!;
      if (!Number.isNaN(v)) buf[m++] = v;
    }
    const vals = buf.subarray(0, m).sort();
    const med = m === 0 ? 0 : m % 2 ? vals[m >> 1]! : (vals[(m >> 1) - 1]! + vals[m >> 1]!) / 2;
    // Mean and std after imputation, as a pipeline Imputer → Scaler computes them.
    let s = med * (rows.length - m), ss = 0;
    for (let k = 0; k < m; k++) s += vals[k]!;
    const mu = rows.length ? s / rows.length : 0;
    for (let k = 0; k < m; k++) ss += (vals[k]! - mu) ** 2;
    ss += (rows.length - m) * (med - mu) ** 2;
    const sd = rows.length ? Math.sqrt(ss / rows.length) : 0;
    median.push(med); mean.push(mu); scale.push(sd > 1e-12 ? sd : 1);
  }
  return { median, mean, scale };
}

/** Imputes with the training medians and, when `standardise`, scales to zero mean and unit variance. */
export function applyScaling(x: Features, s: Scaling, standardise: boolean, rows?: Int32Array): Features {
  const n = rows ? rows.length : x.rows;
  const columns = x.columns.map((col, j) => {
    const out = new Float64Array(n);
    const med = s.median[j]!, mu = standardise ? s.mean[j]! : 0, sc = standardise ? s.scale[j]! : 1;
    for (let k = 0; k < n; k++) {
      const v = col[rows ? rows[k]! : k]!;
      out[k] = ((Number.isNaN(v) ? med : v) - mu) / sc;
    }
    return out;
  });
  return { rows: n, columns, names: x.names };
}

export function selectRows(x: Features, rows: Int32Array): Features {
  return {
    rows: rows.length,
    columns: x.columns.map((col) => {
      const out = new Float64Array(rows.length);
      for (let k = 0; k < rows.length; k++) out[k] = col[rows[k]!]!;
      return out;
    }),
    names: x.names,
  };
}
