import { numericValues } from '../training/frame';
import type { ModelVersionRecord } from '../training/models';
import type { Workspace } from '../workspace/workspace';
import { scoreFrame, textCell, versionRows, type VersionRows } from './rows';

/**
 * The training profile of a model version (manifest.json's `profile`): for
 * each raw input the graph takes, how the rows it trained on spread over a
 * few bins. The edge runtime counts what it serves over the same bins, so
 * drift can be read as "this share of rows now falls where training had that
 * share". Deterministic: the same version gives the same profile.
 */
export type InputProfile = NumericProfile | CategoryProfile;

export interface NumericProfile {
  name: string;
  kind: 'numeric';
  /** Ascending cut points; a value's bin is the number of edges strictly below it. */
  edges: number[];
  /** Values per bin (edges + 1 bins; ±Infinity count in the end bins). */
  counts: number[];
  missing: number;
  /** The mean of the finite values in each bin, null for a bin without any. Absent from profiles made before monitoring. */
  means?: (number | null)[];
  /** Population standard deviation of the finite values (0 without any). Absent from profiles made before monitoring. */
  std?: number;
}

export interface CategoryProfile {
  name: string;
  kind: 'category';
  /** The named categories, most frequent first; every other value counts in the last bin. */
  categories: string[];
  counts: number[];
  missing: number;
}

export interface TrainingProfile {
  /** Training rows counted. */
  rows: number;
  /** Anomaly models: the share of training rows the model flags; null for other models. */
  anomalyRate: number | null;
  inputs: InputProfile[];
  /**
   * The model's own predictions on the training rows by label, as the edge
   * counts them (classifiers: the class; anomaly models: "anomaly" and
   * "normal"); null for regression. Absent from profiles made before monitoring.
   */
  predictions?: Record<string, number> | null;
}

/** At most this many categories are named; every other value counts in one last bin. */
export const MAX_CATEGORIES = 20;
/** Deciles: at most 9 cut points, 10 bins. */
const QUANTILES = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => i / 10);

/**
 * The q-quantile of ascending values by linear interpolation between the two
 * nearest ranks (Hyndman & Fan's method 7), computed as numpy.quantile does,
 * so the edges are the ones a data scientist gets there.
 */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const at = (n - 1) * q;
  if (at >= n - 1) return sorted[n - 1]!;
  const lo = Math.floor(at);
  const a = sorted[lo]!, b = sorted[lo + 1]!;
  const t = at - lo;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** A numeric value's bin: the number of edges strictly less than it (±Infinity go to the ends). */
export function numericBin(edges: readonly number[], x: number): number {
  let lo = 0, hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Decile edges of the finite values (duplicates removed), the count of every
 * value in each bin (NaN is missing), the mean of the finite values in each
 * bin, and their population standard deviation (numpy.std's two passes).
 */
export function numericProfile(name: string, values: ArrayLike<number>): NumericProfile {
  const present: number[] = [];
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isNaN(x)) missing++;
    else present.push(x);
  }
  const finite = Float64Array.from(present.filter((x) => Number.isFinite(x))).sort();
  const edges: number[] = [];
  if (finite.length) {
    for (const q of QUANTILES) {
      const e = quantileSorted(finite, q);
      if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
    }
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  const sums = new Array<number>(edges.length + 1).fill(0);
  const finiteCounts = new Array<number>(edges.length + 1).fill(0);
  for (const x of present) {
    const b = numericBin(edges, x);
    counts[b]!++;
    if (Number.isFinite(x)) {
      sums[b]! += x;
      finiteCounts[b]!++;
    }
  }
  const means = sums.map((s, b) => (finiteCounts[b] ? s / finiteCounts[b]! : null));
  return { name, kind: 'numeric', edges, counts, missing, means, std: populationStd(finite) };
}

/** Population standard deviation (0 for no values). */
function populationStd(xs: Float64Array): number {
  if (!xs.length) return 0;
  let mean = 0;
  for (const x of xs) mean += x;
  mean /= xs.length;
  let ss = 0;
  for (const x of xs) ss += (x - mean) * (x - mean);
  return Math.sqrt(ss / xs.length);
}

/** The most frequent values first (ties in text order), at most MAX_CATEGORIES, then one bin for the rest; '' is missing. */
export function categoryProfile(name: string, values: Iterable<string>): CategoryProfile {
  const tally = new Map<string, number>();
  let missing = 0;
  for (const v of values) {
    if (v === '') missing++;
    else tally.set(v, (tally.get(v) ?? 0) + 1);
  }
  const ranked = [...tally].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const named = ranked.slice(0, MAX_CATEGORIES);
  const other = ranked.slice(MAX_CATEGORIES).reduce((n, [, c]) => n + c, 0);
  return { name, kind: 'category', categories: named.map(([v]) => v), counts: [...named.map(([, c]) => c), other], missing };
}

/** The profile of the rows a version trained on (its dataset version's training split), by the inputs its graph names. */
export async function trainingProfile(ws: Workspace, v: ModelVersionRecord, rows: VersionRows = versionRows(ws, v)): Promise<TrainingProfile> {
  const { frame, split, stored, sig } = rows;
  const train = split.train;
  const inputs = sig.inputs.map((input): InputProfile => {
    const col = frame.columns.get(input.name)!;
    if (input.type === 'string') return categoryProfile(input.name, Array.from(train, (i) => textCell(col, i)));
    const all = numericValues(col);
    return numericProfile(input.name, Float64Array.from(train, (i) => all[i]!));
  });
  let anomalyRate: number | null = null;
  let predictions: Record<string, number> | null = null;
  if (sig.task !== 'regression' && train.length) {
    // The whole frame is scored: window models see the rows before each training row.
    const scored = await scoreFrame(stored, frame);
    predictions = {};
    if (sig.task === 'anomaly') {
      let flagged = 0;
      for (const i of train) flagged += scored.anomaly![i]!;
      anomalyRate = flagged / train.length;
      predictions = { anomaly: flagged, normal: train.length - flagged };
    } else {
      for (const i of train) {
        const label = scored.label![i]!;
        predictions[label] = (predictions[label] ?? 0) + 1;
      }
      predictions = Object.fromEntries(Object.entries(predictions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  }
  return { rows: train.length, anomalyRate, inputs, predictions };
}
