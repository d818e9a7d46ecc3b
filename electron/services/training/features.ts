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

/** Computes every planned feature for every row of the frame (column-major). */
export function buildFeatures(plan: FeaturePlan, frame: Frame): Features {
  const n = frame.rows;
  const cache = new Map<string, Record<WindowOp, Float64Array>>();
  const columns = plan.features.map((f): Float64Array => {
    const col = frame.columns.get(f.input)!;
    switch (f.op) {
      case 'value':
        return Float64Array.from(numericValues(col));
      case 'onehot': {
        const c = col as Extract<ColumnData, { codes: Int32Array }>;
        const code = c.dictionary.indexOf(f.level!);
        const out = new Float64Array(n);
        if (code >= 0) for (let i = 0; i < n; i++) out[i] = c.codes[i] === code ? 1 : 0;
        return out;
      }
      case 'diff':
      case 'product': {
        const a = numericValues(col);
        const b = numericValues(frame.columns.get(f.other!)!);
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = f.op === 'diff' ? a[i]! - b[i]! : a[i]! * b[i]!;
        return out;
      }
      case 'lag': {
        const v = numericValues(col);
        const out = new Float64Array(n).fill(NaN);
        for (let i = f.lag!; i < n; i++) out[i] = v[i - f.lag!]!;
        return out;
      }
      default: {
        let w = cache.get(f.input);
        if (!w) {
          w = windowFeatures(numericValues(col), plan.windowRows!, (plan.intervalMs ?? 60_000) / 60_000);
          cache.set(f.input, w);
        }
        return w[f.op];
      }
    }
  });
  return { rows: n, columns, names: plan.features.map((f) => f.name) };
}

/**
 * Trailing-window statistics over rows i-w+1..i, skipping missing values; a
 * window with no value gives NaN (std and slope need one and two values).
 * std is the population standard deviation; slope is the least-squares
 * slope per minute (`minutesPerRow` converts rows to minutes). O(n) whatever
 * the window: running sums with the window's own origin, and monotonic
 * queues for min and max.
 */
export function windowFeatures(v: Float64Array, w: number, minutesPerRow: number): Record<WindowOp, Float64Array> {
  const n = v.length;
  const mean = new Float64Array(n), std = new Float64Array(n), min = new Float64Array(n), max = new Float64Array(n), slope = new Float64Array(n);
  // Sums over valid points in the window; t is the position inside the window (0..w-1).
  let cnt = 0, sy = 0, syy = 0, st = 0, stt = 0, sty = 0;
  const minQ = new Int32Array(n), maxQ = new Int32Array(n);
  let minHead = 0, minTail = 0, maxHead = 0, maxTail = 0;
  const recompute = (i: number) => {
    cnt = sy = syy = st = stt = sty = 0;
    const start = i - w + 1;
    for (let j = Math.max(0, start); j <= i; j++) {
      const y = v[j]!;
      if (Number.isNaN(y)) continue;
      const t = j - start;
      cnt++; sy += y; syy += y * y; st += t; stt += t * t; sty += t * y;
    }
  };
  for (let i = 0; i < n; i++) {
    if (i % 8192 === 0) recompute(i);
    else {
      // Shift the origin by one: every t becomes t-1.
      stt += -2 * st + cnt;
      st -= cnt;
      sty -= sy;
      const out = i - w; // now at t = -1
      if (out >= 0) {
        const y = v[out]!;
        if (!Number.isNaN(y)) { cnt--; sy -= y; syy -= y * y; st += 1; stt -= 1; sty += y; }
      }
      const y = v[i]!;
      if (!Number.isNaN(y)) { const t = w - 1; cnt++; sy += y; syy += y * y; st += t; stt += t * t; sty += t * y; }
    }
    const y = v[i]!;
    if (!Number.isNaN(y)) {
      while (minTail > minHead && v[minQ[minTail - 1]!]! >= y) minTail--;
      minQ[minTail++] = i;
      while (maxTail > maxHead && v[maxQ[maxTail - 1]!]! <= y) maxTail--;
      maxQ[maxTail++] = i;
    }
    while (minTail > minHead && minQ[minHead]! <= i - w) minHead++;
    while (maxTail > maxHead && maxQ[maxHead]! <= i - w) maxHead++;
    if (cnt === 0) {
      mean[i] = std[i] = min[i] = max[i] = slope[i] = NaN;
      continue;
    }
    const m = sy / cnt;
    mean[i] = m;
    std[i] = Math.sqrt(Math.max(0, syy / cnt - m * m));
    min[i] = v[minQ[minHead]!]!;
    max[i] = v[maxQ[maxHead]!]!;
    const den = cnt * stt - st * st;
    slope[i] = cnt >= 2 && den > 0 ? (cnt * sty - st * sy) / den / minutesPerRow : NaN;
  }
  return { mean, std, min, max, slope };
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
