/**
 * Column profiles of a dataset version (DESIGN.md section 2, "Explore"): what
 * the Explore page shows, and what drift monitoring later compares against
 * (histogram edges, quantiles).
 *
 * Sized for a million rows by twenty columns: every statistic is a loop over
 * the column's typed array, no per-row objects, and quantiles of large columns
 * come from a fixed-size sample.
 *
 * Numbers that do not exist are NaN (min of an all-missing column, a
 * correlation with a constant column). JSON has no NaN, so whoever serialises
 * a profile uses a replacer (NaN -> null) and the reader maps null back.
 */
import type { ColumnData, ColumnSchema } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';

export interface NumericProfile {
  kind: 'numeric';
  /** Non-missing values; count + missing = rows. */
  count: number;
  missing: number;
  /** NaN when count is 0, as are mean, std and the quantiles. */
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (divides by n): 0 for one value. */
  std: number;
  /** Linear interpolation between order statistics (numpy's default, R type 7): see quantileSorted. */
  quantiles: { p01: number; p05: number; p25: number; p50: number; p75: number; p95: number; p99: number };
  /** 'sample' when there were more than QUANTILE_SAMPLE values and the quantiles come from a sample of that size. */
  quantilesFrom: 'all' | 'sample';
  /**
   * HISTOGRAM_BINS equal-width bins over [min, max]; each bin holds
   * edges[i] <= v < edges[i + 1], the last also holds max. A constant column
   * spans [v - 0.5, v + 0.5] as numpy does, so the value sits in one bin.
   * Empty edges and counts when count is 0.
   */
  histogram: { edges: number[]; counts: number[] };
  /** Integer columns only: distinct values, capped at DISTINCT_CAP (which then means "at least that many"). */
  distinct?: number;
}

export interface CategoryProfile {
  kind: 'category';
  count: number;
  missing: number;
  /** Dictionary entries that occur at least once. */
  distinct: number;
  /** The TOP_CATEGORIES most frequent values, most frequent first; ties in text order. */
  top: { value: string; count: number }[];
}

export interface BooleanProfile {
  kind: 'boolean';
  count: number;
  missing: number;
  trueCount: number;
  falseCount: number;
}

export interface TimeProfile {
  kind: 'time';
  count: number;
  missing: number;
  /** Earliest and latest instant (epoch ms), whatever the row order; NaN when count is 0. */
  first: number;
  last: number;
  /** Median of the positive steps between consecutive instants in time order; NaN with fewer than two distinct instants. */
  medianIntervalMs: number;
  /** Steps longer than GAP_FACTOR times the median interval. */
  gaps: number;
  /** The LARGEST_GAPS longest gaps, longest first. */
  largestGaps: { start: number; end: number; durationMs: number }[];
  /** Values that repeat an earlier instant (count minus distinct instants). */
  duplicates: number;
  /** Rows earlier than the previous non-missing row. */
  outOfOrder: number;
  /** Rows over time: HISTOGRAM_BINS equal-width bins over [first, last], as for numbers. */
  histogram: { edges: number[]; counts: number[] };
}

export type ColumnProfile = NumericProfile | CategoryProfile | BooleanProfile | TimeProfile;

export interface DatasetProfile {
  rows: number;
  columns: { name: string; type: ColumnSchema['type']; unit: string | null; profile: ColumnProfile }[];
  /** Profile of the first timestamp column (the same object as in `columns`), or null. */
  time: TimeProfile | null;
  /**
   * Pearson correlation between number/integer columns over the rows where
   * both have a value; NaN where it is undefined (fewer than two such rows, or
   * a column constant on them). `note` says when columns were left out.
   */
  correlations: { columns: string[]; matrix: number[][]; note?: string };
}

export const HISTOGRAM_BINS = 30;
export const QUANTILE_SAMPLE = 50_000;
export const TOP_CATEGORIES = 10;
export const DISTINCT_CAP = 1000;
export const GAP_FACTOR = 3;
export const LARGEST_GAPS = 10;
export const MAX_CORRELATION_COLUMNS = 50;

const BOOL_FALSE = 0;
const BOOL_TRUE = 1;

/**
 * Quantile p (0..1) of ascending values: linear interpolation between the
 * order statistics at rank h = (n - 1) p, i.e. numpy.quantile's default
 * ('linear', R type 7). NaN for no values.
 */
export function quantileSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  if (lo >= n - 1) return sorted[n - 1]!;
  const f = h - lo;
  return f === 0 ? a : a + f * (sorted[lo + 1]! - a);
}

interface Binned {
  histogram: { edges: number[]; counts: number[] };
  /** Σ(v - center) and Σ(v - center)² over the values binned. */
  sd: number;
  sd2: number;
}

/**
 * HISTOGRAM_BINS equal-width bins over [lo, hi] (lo == hi widened to +-0.5),
 * NaN skipped. Also sums deviations from `center`, so a numeric column's
 * variance costs no pass of its own.
 */
function binned(values: Float64Array, lo: number, hi: number, center: number): Binned {
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = new Array<number>(HISTOGRAM_BINS + 1);
  for (let i = 0; i <= HISTOGRAM_BINS; i++) edges[i] = lo + ((hi - lo) * i) / HISTOGRAM_BINS;
  edges[HISTOGRAM_BINS] = hi;
  const e = Float64Array.from(edges);
  const counts = new Float64Array(HISTOGRAM_BINS);
  const scale = HISTOGRAM_BINS / (hi - lo);
  const last = HISTOGRAM_BINS - 1;
  // How far, in bins, rounding can move an edge or a value's position: a few
  // ulps of the operands' size (large for timestamps over a short span).
  const tol = 16 * Number.EPSILON * (Math.abs(lo) + Math.abs(hi)) * scale + 1e-9;
  let sd = 0;
  let sd2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) continue;
    const d = v - center;
    sd += d;
    sd2 += d * d;
    const x = (v - lo) * scale;
    let b = x | 0; // x >= 0, so truncation is floor
    // Rounding can put a value that lies on an edge one bin off; the edges
    // decide, so a consumer binning new data against them gets the same
    // counts. Only values within rounding distance of an edge need the check.
    const frac = x - b;
    if (frac < tol || frac > 1 - tol) {
      if (b > last) b = last;
      if (v < e[b]!) b--;
      else if (b < last && v >= e[b + 1]!) b++;
    }
    counts[b]!++;
  }
  return { histogram: { edges, counts: Array.from(counts) }, sd, sd2 };
}

const NO_QUANTILES = { p01: NaN, p05: NaN, p25: NaN, p50: NaN, p75: NaN, p95: NaN, p99: NaN };

/** Deterministic PRNG (mulberry32) for the quantile sample: the same data always gives the same profile. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A stratified sample: one value at a random place in each of k equal slices.
 * Unlike a fixed stride it cannot alias with a periodic signal, and unlike
 * plain random draws it covers the whole column evenly.
 */
function stratifiedSample(values: Float64Array, k: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(k);
  const rand = mulberry32(0x5eed);
  const step = n / k;
  for (let i = 0; i < k; i++) out[i] = values[Math.floor((i + rand()) * step)]!;
  return out;
}

const QUANTILE_PS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;

/**
 * The quantiles by selection instead of a full sort: only the 14 order
 * statistics the interpolation reads are put in place, several times faster
 * than sorting. Reorders `a`, which must be a scratch copy.
 */
function quantilesOf(a: Float64Array): NumericProfile['quantiles'] {
  const n = a.length;
  const ranks: number[] = [];
  for (const p of QUANTILE_PS) {
    const lo = Math.floor((n - 1) * p);
    ranks.push(lo, Math.min(lo + 1, n - 1));
  }
  const unique = [...new Set(ranks)].sort((x, y) => x - y);
  selectRanks(a, unique, 0, unique.length - 1, 0, n - 1);
  // Every index quantileSorted reads now holds what the sorted array would.
  const q = (p: number) => quantileSorted(a, p);
  return { p01: q(0.01), p05: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95), p99: q(0.99) };
}

/** Puts a[r] in its sorted place for every r in ranks[rlo..rhi] (ascending), within a[lo..hi]. */
function selectRanks(a: Float64Array, ranks: number[], rlo: number, rhi: number, lo: number, hi: number): void {
  if (rlo > rhi || lo >= hi) return;
  const mid = (rlo + rhi) >>> 1;
  const k = ranks[mid]!;
  selectInPlace(a, k, lo, hi);
  selectRanks(a, ranks, rlo, mid - 1, lo, k - 1);
  selectRanks(a, ranks, mid + 1, rhi, k + 1, hi);
}

function profileNumbers(values: Float64Array, integer: boolean): NumericProfile {
  const n = values.length;
  let i0 = 0;
  while (i0 < n && values[i0] !== values[i0]) i0++;
  if (i0 === n) {
    return {
      kind: 'numeric',
      count: 0,
      missing: n,
      min: NaN,
      max: NaN,
      mean: NaN,
      std: NaN,
      quantiles: { ...NO_QUANTILES },
      quantilesFrom: 'all',
      histogram: { edges: [], counts: [] },
      ...(integer ? { distinct: 0 } : {}),
    };
  }

  let count = 0;
  let min = values[i0]!;
  let max = min;
  let sum = 0;
  for (let i = i0; i < n; i++) {
    const v = values[i]!;
    if (v !== v) continue;
    count++;
    sum += v;
    // Selects, not if-statements: V8 compiles these without a branch, several
    // times faster on noisy data.
    min = v < min ? v : min;
    max = v > max ? v : max;
  }
  const missing = n - count;
  const constant = min === max;

  let present = values;
  if (missing > 0) {
    present = new Float64Array(count);
    for (let i = i0, j = 0; i < n; i++) {
      const v = values[i]!;
      if (v === v) present[j++] = v;
    }
  }

  // Variance from deviations about the mean, with the correction term for the
  // mean's rounding: Σv² - (Σv)²/n would lose a reading of 1e5 ± 0.01 to
  // cancellation. The pass that bins the histogram sums them.
  const mean0 = sum / count;
  const bins = binned(present, min, max, mean0);
  const mean = constant ? min : mean0 + bins.sd / count;
  const variance = constant ? 0 : Math.max(0, (bins.sd2 - (bins.sd * bins.sd) / count) / count);

  const sampled = count > QUANTILE_SAMPLE;
  // A copy either way: the column is immutable and selection reorders.
  const scratch = sampled ? stratifiedSample(present, QUANTILE_SAMPLE) : present === values ? values.slice() : present.slice();

  const profile: NumericProfile = {
    kind: 'numeric',
    count,
    missing,
    min,
    max,
    mean,
    std: Math.sqrt(variance),
    quantiles: quantilesOf(scratch),
    quantilesFrom: sampled ? 'sample' : 'all',
    histogram: bins.histogram,
  };
  if (integer) profile.distinct = countDistinct(present);
  return profile;
}

/** Distinct values, counted up to DISTINCT_CAP. */
function countDistinct(values: Float64Array): number {
  const seen = new Set<number>();
  let prev = NaN;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // Sensor integers come in runs (a state held for minutes): skip the hash lookup.
    if (v === prev) continue;
    prev = v;
    seen.add(v);
    if (seen.size >= DISTINCT_CAP) return DISTINCT_CAP;
  }
  return seen.size;
}

function profileCategories(codes: Int32Array, dictionary: string[]): CategoryProfile {
  const size = dictionary.length;
  const counts = new Int32Array(size);
  let missing = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    // Codes outside the dictionary cannot be shown as a value: count them as missing.
    if (c < 0 || c >= size) missing++;
    else counts[c]!++;
  }
  let distinct = 0;
  // Top-k by insertion into a short list: a text column may have a million
  // dictionary entries, and sorting them all would cost more than the count.
  const top: { value: string; count: number }[] = [];
  for (let c = 0; c < size; c++) {
    const k = counts[c]!;
    if (k === 0) continue;
    distinct++;
    if (top.length === TOP_CATEGORIES && k < top[TOP_CATEGORIES - 1]!.count) continue;
    const value = dictionary[c]!;
    let at = top.length;
    while (at > 0 && (top[at - 1]!.count < k || (top[at - 1]!.count === k && top[at - 1]!.value > value))) at--;
    if (at >= TOP_CATEGORIES) continue;
    top.splice(at, 0, { value, count: k });
    if (top.length > TOP_CATEGORIES) top.pop();
  }
  return { kind: 'category', count: codes.length - missing, missing, distinct, top };
}

function profileBooleans(values: Uint8Array): BooleanProfile {
  let t = 0;
  let f = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === BOOL_TRUE) t++;
    else if (v === BOOL_FALSE) f++;
  }
  // 255 is missing; anything else is not a boolean either.
  return { kind: 'boolean', count: t + f, missing: values.length - t - f, trueCount: t, falseCount: f };
}

/** Rearranges a so that a[k] is the k-th smallest, smaller before, larger after (Hoare's quickselect). */
function selectInPlace(a: Float64Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    // Median of three keeps regular sensor intervals (many equal steps) from going quadratic.
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** Median (linear definition) of the first n entries, which it reorders. */
function medianInPlace(a: Float64Array, n: number): number {
  if (n === 0) return NaN;
  const k = (n - 1) >>> 1;
  selectInPlace(a, k, 0, n - 1);
  const lower = a[k]!;
  if (n % 2 === 1) return lower;
  let upper = Infinity;
  for (let i = k + 1; i < n; i++) if (a[i]! < upper) upper = a[i]!;
  return lower + (upper - lower) / 2;
}

function profileTime(values: Float64Array): TimeProfile {
  const n = values.length;
  let count = 0;
  let outOfOrder = 0;
  let first = Infinity;
  let last = -Infinity;
  let prev = NaN;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== v) continue;
    count++;
    if (v < prev) outOfOrder++;
    prev = v;
    first = v < first ? v : first;
    last = v > last ? v : last;
  }
  const missing = n - count;
  if (count === 0) {
    return {
      kind: 'time',
      count,
      missing,
      first: NaN,
      last: NaN,
      medianIntervalMs: NaN,
      gaps: 0,
      largestGaps: [],
      duplicates: 0,
      outOfOrder: 0,
      histogram: { edges: [], counts: [] },
    };
  }

  // Coverage is about time, not rows: steps are taken in time order.
  let ordered = values;
  if (count < n || outOfOrder > 0) {
    ordered = new Float64Array(count);
    for (let i = 0, j = 0; i < n; i++) {
      const v = values[i]!;
      if (v === v) ordered[j++] = v;
    }
    if (outOfOrder > 0) ordered.sort();
  }

  const steps = new Float64Array(Math.max(0, count - 1));
  let m = 0;
  let duplicates = 0;
  for (let i = 1; i < count; i++) {
    const d = ordered[i]! - ordered[i - 1]!;
    if (d > 0) steps[m++] = d;
    else duplicates++;
  }
  const median = medianInPlace(steps, m);

  let gaps = 0;
  const largest: { start: number; end: number; durationMs: number }[] = [];
  if (m > 0) {
    const limit = GAP_FACTOR * median;
    for (let i = 1; i < count; i++) {
      const d = ordered[i]! - ordered[i - 1]!;
      if (!(d > limit)) continue;
      gaps++;
      if (largest.length === LARGEST_GAPS && d <= largest[LARGEST_GAPS - 1]!.durationMs) continue;
      // Scanning in time order, so among equal gaps the earlier stays ahead.
      let at = largest.length;
      while (at > 0 && largest[at - 1]!.durationMs < d) at--;
      largest.splice(at, 0, { start: ordered[i - 1]!, end: ordered[i]!, durationMs: d });
      if (largest.length > LARGEST_GAPS) largest.pop();
    }
  }

  return {
    kind: 'time',
    count,
    missing,
    first,
    last,
    medianIntervalMs: median,
    gaps,
    largestGaps: largest,
    duplicates,
    outOfOrder,
    histogram: binned(ordered, first, last, first).histogram,
  };
}

function columnLength(data: ColumnData): number {
  return 'codes' in data ? data.codes.length : data.values.length;
}

/** Storage families: number and integer share Float64 values, category and text share codes. */
function family(type: ColumnSchema['type']): string {
  return type === 'integer' ? 'number' : type === 'text' ? 'category' : type;
}

/** The profile of one column, by its type. */
export function profileColumn(schema: ColumnSchema, data: ColumnData): ColumnProfile {
  if (family(schema.type) !== family(data.type)) {
    throw new AppError('bad_input', `Column "${schema.name}" is declared as ${schema.type} but holds ${data.type} values.`, 'schema');
  }
  switch (data.type) {
    case 'number':
    case 'integer':
      return profileNumbers(data.values, schema.type === 'integer');
    case 'timestamp':
      return profileTime(data.values);
    case 'category':
    case 'text':
      return profileCategories(data.codes, data.dictionary);
    case 'boolean':
      return profileBooleans(data.values);
  }
}

/** Rows per block: the block of every column (50 x 1024 doubles = 400 KB) stays in cache while all pairs read it. */
const CORR_BLOCK = 1024;

/**
 * Pearson r for every pair of the given columns over pairwise-complete rows.
 *
 * Values are shifted by their column mean (sums of a million readings around
 * 1e5 would otherwise cancel catastrophically) and missing ones become 0, so
 * one product per pair and row gives Σxy over the rows where both exist. The
 * other sums start from the column's own and subtract the rows where only the
 * partner is missing: work in the number of missing values, not of rows.
 */
function correlationMatrix(cols: Float64Array[], means: number[], missing: number[], rows: number): number[][] {
  const k = cols.length;
  const s1 = new Float64Array(k); // Σ(x - mean) over present values
  const s2 = new Float64Array(k); // Σ(x - mean)²
  const missingRows: Int32Array[] = [];
  for (let c = 0; c < k; c++) {
    const x = cols[c]!;
    const m = missing[c]!;
    const list = new Int32Array(m);
    for (let i = 0, j = 0; j < m; i++) if (x[i] !== x[i]) list[j++] = i;
    missingRows.push(list);
  }

  const sxy = new Float64Array(k * k); // upper triangle, row-major
  const block = new Float64Array(k * CORR_BLOCK);
  for (let r0 = 0; r0 < rows; r0 += CORR_BLOCK) {
    const len = Math.min(CORR_BLOCK, rows - r0);
    for (let c = 0; c < k; c++) {
      const src = cols[c]!;
      const shift = means[c]!;
      const o = c * CORR_BLOCK;
      let a1 = 0;
      let a2 = 0;
      for (let j = 0; j < len; j++) {
        const v = src[r0 + j]!;
        const d = v === v ? v - shift : 0;
        block[o + j] = d;
        a1 += d;
        a2 += d * d;
      }
      s1[c]! += a1;
      s2[c]! += a2;
    }
    for (let a = 0; a < k; a++) {
      const xo = a * CORR_BLOCK;
      for (let b = a + 1; b < k; b++) {
        const yo = b * CORR_BLOCK;
        // Four accumulators break the add-latency chain of a single sum.
        let p0 = 0;
        let p1 = 0;
        let p2 = 0;
        let p3 = 0;
        let j = 0;
        for (; j + 3 < len; j += 4) {
          p0 += block[xo + j]! * block[yo + j]!;
          p1 += block[xo + j + 1]! * block[yo + j + 1]!;
          p2 += block[xo + j + 2]! * block[yo + j + 2]!;
          p3 += block[xo + j + 3]! * block[yo + j + 3]!;
        }
        for (; j < len; j++) p0 += block[xo + j]! * block[yo + j]!;
        sxy[a * k + b]! += p0 + p1 + p2 + p3;
      }
    }
  }

  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(NaN));
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      let n = rows - missing[a]!;
      let sx = s1[a]!;
      let sxx = s2[a]!;
      let sy = s1[b]!;
      let syy = s2[b]!;
      if (a !== b) {
        // Rows where b is missing but a is not leave a's sums, and the other way round.
        const x = cols[a]!;
        const y = cols[b]!;
        const mx = means[a]!;
        const my = means[b]!;
        for (const i of missingRows[b]!) {
          const v = x[i]!;
          if (v !== v) continue;
          n--;
          sx -= v - mx;
          sxx -= (v - mx) * (v - mx);
        }
        for (const i of missingRows[a]!) {
          const v = y[i]!;
          if (v !== v) continue;
          sy -= v - my;
          syy -= (v - my) * (v - my);
        }
      }
      if (n < 2) continue;
      const vx = sxx - (sx * sx) / n;
      const vy = syy - (sy * sy) / n;
      // A column constant on these rows (but not overall) leaves only rounding
      // noise after the cancellation: call a variance that lost ten digits zero.
      if (!(vx > 1e-10 * sxx) || !(vy > 1e-10 * syy)) continue;
      const r = a === b ? 1 : (sxy[a * k + b]! - (sx * sy) / n) / Math.sqrt(vx * vy);
      const clamped = r > 1 ? 1 : r < -1 ? -1 : r;
      matrix[a]![b] = clamped;
      matrix[b]![a] = clamped;
    }
  }
  return matrix;
}

/** Profiles every column, the first timestamp column's coverage, and correlations between numeric columns. */
export function profileDataset(schema: ColumnSchema[], columns: ColumnData[]): DatasetProfile {
  if (schema.length !== columns.length) {
    throw new AppError('bad_input', `The schema names ${schema.length} columns but ${columns.length} were given.`, 'columns');
  }
  const rows = columns.length > 0 ? columnLength(columns[0]!) : 0;
  for (let c = 0; c < columns.length; c++) {
    if (columnLength(columns[c]!) !== rows) {
      throw new AppError('bad_input', `Column "${schema[c]!.name}" has ${columnLength(columns[c]!)} rows, the first column ${rows}.`, 'columns');
    }
  }

  const out: DatasetProfile['columns'] = [];
  let time: TimeProfile | null = null;
  const numeric: { name: string; values: Float64Array; profile: NumericProfile }[] = [];
  for (let c = 0; c < schema.length; c++) {
    const s = schema[c]!;
    const data = columns[c]!;
    const profile = profileColumn(s, data);
    out.push({ name: s.name, type: s.type, unit: s.unit, profile });
    if (profile.kind === 'time' && time === null) time = profile;
    if (profile.kind === 'numeric' && (data.type === 'number' || data.type === 'integer')) numeric.push({ name: s.name, values: data.values, profile });
  }

  const used = numeric.slice(0, MAX_CORRELATION_COLUMNS);
  const matrix = correlationMatrix(
    used.map((u) => u.values),
    used.map((u) => (u.profile.count > 0 ? u.profile.mean : 0)),
    used.map((u) => u.profile.missing),
    rows,
  );
  const correlations: DatasetProfile['correlations'] = { columns: used.map((u) => u.name), matrix };
  if (numeric.length > MAX_CORRELATION_COLUMNS) {
    correlations.note = `Correlations cover the first ${MAX_CORRELATION_COLUMNS} of ${numeric.length} numeric columns; ${numeric.length - MAX_CORRELATION_COLUMNS} were left out.`;
  }
  return { rows, columns: out, time, correlations };
}
