/**
 * Reading a training report for the model page: the threshold slider, curve
 * points, confusion cells in words, label bands, importance bars, and the words
 * for goals and metrics. Pure, so it is unit tested.
 */
import type { MetricInfo, Task, ThresholdPoint, TrainingReport } from '../../../shared/training';
import { GOAL_TITLES } from '../../../shared/training';

/** The report as it arrives (models.report returns it untyped); null when it is not one. */
export function asReport(x: unknown): TrainingReport | null {
  if (!x || typeof x !== 'object') return null;
  const r = x as Partial<TrainingReport>;
  if (typeof r.task !== 'string' || !Array.isArray(r.leaderboard) || !r.metric || !r.holdout) return null;
  return {
    ...(r as TrainingReport),
    sentences: Array.isArray(r.sentences) ? r.sentences : [],
    warnings: Array.isArray(r.warnings) ? r.warnings : [],
    importance: Array.isArray(r.importance) ? r.importance : [],
    features: Array.isArray(r.features) ? r.features : [],
    bestIndex: typeof r.bestIndex === 'number' && r.bestIndex >= 0 && r.bestIndex < r.leaderboard.length ? r.bestIndex : 0,
  };
}

// ---------------------------------------------------------------------------
// Words

/** What a model does, in the words of the goal the person chose. */
export function taskWords(task: Task): string {
  switch (task) {
    case 'regression':
      return GOAL_TITLES.predict_value.title;
    case 'binary':
      return 'Predict a failure (yes or no)';
    case 'multiclass':
      return 'Predict a category';
    case 'anomaly':
      return GOAL_TITLES.detect_unusual.title;
  }
}

/** "Predicts Tool wear", "Flags unusual behaviour": one line under a model's name. */
export function predictsWhat(task: Task, target: string | null): string {
  if (task === 'anomaly') return 'Flags unusual behaviour';
  return target ? `Predicts ${target}` : taskWords(task);
}

/**
 * What a "positive" row is called on screen: the class name when it is a word ("Failure", "Grade B"),
 * the column's name when the class is only a flag (1, true, yes).
 */
export function positiveName(report: Pick<TrainingReport, 'positiveClass' | 'target'>): string {
  const p = report.positiveClass?.trim() ?? '';
  if (p && !/^(1|1\.0|true|yes|y|ja|on)$/i.test(p)) return p;
  return report.target ?? 'failure';
}

const sig = new Map<number, Intl.NumberFormat>();
function significant(digits: number): Intl.NumberFormat {
  let f = sig.get(digits);
  if (!f) {
    f = new Intl.NumberFormat(undefined, { maximumSignificantDigits: digits });
    sig.set(digits, f);
  }
  return f;
}

/** A metric value as people read it: scores in 0..1 with three decimals, errors with four significant digits. */
export function formatMetric(value: number | null | undefined, metric?: Pick<MetricInfo, 'key'>): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  const bounded = metric && ['roc_auc', 'f1', 'event_f1', 'stability', 'accuracy', 'r2'].includes(metric.key);
  if (bounded || (Math.abs(value) <= 1 && !metric)) return value.toFixed(3).replace(/^-0\.000$/, '0.000');
  return significant(4).format(value);
}

/** Plain names for the metrics a report or a check of a file may carry; others are shown under their key. */
export const METRIC_WORDS: Record<string, { label: string; percent?: boolean }> = {
  accuracy: { label: 'Right', percent: true },
  roc_auc: { label: 'ROC AUC (ranks a failure above a normal row)' },
  f1: { label: 'F1' },
  precision: { label: 'Alarms that were real', percent: true },
  recall: { label: 'Failures caught', percent: true },
  log_loss: { label: 'Log loss (lower is better)' },
  mae: { label: 'Typical error (MAE)' },
  rmse: { label: 'RMSE' },
  r2: { label: 'Variation explained (R²)', percent: true },
  event_f1: { label: 'Event F1' },
  events: { label: 'Known problems in the checked period' },
  events_caught: { label: 'Known problems caught' },
  false_alarms: { label: 'False alarms' },
  holdout_flag_rate: { label: 'Checked rows flagged', percent: true },
  train_flag_rate: { label: 'Training rows flagged', percent: true },
  stability: { label: 'Score stability on normal data' },
};

/** A metric's value in the words of METRIC_WORDS: shares as percent, counts as whole numbers. */
export function metricText(key: string, value: number): string {
  const w = METRIC_WORDS[key];
  if (w?.percent) return `${(value * 100).toFixed(1)} %`;
  if (['events', 'events_caught', 'false_alarms'].includes(key)) return Math.round(value).toLocaleString();
  return formatMetric(value, { key });
}

/** "0.8 s", "12 s", "2 min 5 s" */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '–';
  if (s < 0.1) return '< 0.1 s';
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const total = Math.round(s);
  return `${Math.floor(total / 60)} min ${total % 60} s`;
}

// ---------------------------------------------------------------------------
// Threshold slider and curves

/** Threshold points in ascending order of threshold, without repeats. */
export function sortedThresholds(points: readonly ThresholdPoint[] | null): ThresholdPoint[] {
  if (!points) return [];
  const seen = new Set<number>();
  return [...points]
    .filter((p) => Number.isFinite(p.threshold))
    .sort((a, b) => a.threshold - b.threshold)
    .filter((p) => (seen.has(p.threshold) ? false : (seen.add(p.threshold), true)));
}

/** Index of the point whose threshold is nearest to t (points sorted ascending); -1 for none. */
export function nearestThresholdIndex(points: readonly ThresholdPoint[], t: number): number {
  if (points.length === 0) return -1;
  let best = 0;
  for (let i = 1; i < points.length; i++) {
    if (Math.abs(points[i]!.threshold - t) < Math.abs(points[best]!.threshold - t)) best = i;
  }
  return best;
}

/** Where a threshold point sits on the ROC curve: share of normal rows flagged (x) and of failures caught (y). */
export function rocPoint(p: ThresholdPoint): { x: number; y: number } {
  const negatives = p.fp + p.tn;
  const positives = p.tp + p.fn;
  return { x: negatives > 0 ? p.fp / negatives : 0, y: positives > 0 ? p.tp / positives : 0 };
}

/** Where it sits on the precision–recall curve: failures caught (x) and alarms that were real (y; 1 when nothing is flagged). */
export function prPoint(p: ThresholdPoint): { x: number; y: number } {
  const positives = p.tp + p.fn;
  const flagged = p.tp + p.fp;
  return { x: positives > 0 ? p.tp / positives : 0, y: flagged > 0 ? p.tp / flagged : 1 };
}

/** The holdout's length in ms when it is a stretch of time, for "false alarms per week". */
export function holdoutMs(report: Pick<TrainingReport, 'holdout'>): number | null {
  return report.holdout.kind === 'time' && report.holdout.to > report.holdout.from ? report.holdout.to - report.holdout.from : null;
}

export interface ConfusionCell {
  /** Plain words: "Caught", "Missed", "False alarm", "Correct all-clear". */
  label: string;
  count: number;
  /** Right or wrong, so the look does not rest on colour alone. */
  correct: boolean;
  hint: string;
}

/** The four outcomes of a yes/no model at one threshold, laid out as [actual failure][actual normal] × [alarm][no alarm]. */
export function binaryCells(p: ThresholdPoint, positive: string | null): ConfusionCell[][] {
  const what = positive ? `"${positive}"` : 'a failure';
  return [
    [
      { label: 'Caught', count: p.tp, correct: true, hint: `Rows with ${what} that raised an alarm` },
      { label: 'Missed', count: p.fn, correct: false, hint: `Rows with ${what} that raised no alarm` },
    ],
    [
      { label: 'False alarm', count: p.fp, correct: false, hint: 'Normal rows that raised an alarm' },
      { label: 'Correct all-clear', count: p.tn, correct: true, hint: 'Normal rows that raised no alarm' },
    ],
  ];
}

/** A 2 × 2 confusion matrix from the report (rows actual, columns predicted, in `classes` order) as a threshold point. */
export function pointFromConfusion(confusion: number[][] | null, classes: string[] | null, positive: string | null, threshold: number): ThresholdPoint | null {
  if (!confusion || confusion.length !== 2 || confusion.some((r) => r.length !== 2)) return null;
  const pos = classes && positive !== null ? Math.max(0, classes.indexOf(positive)) : 1;
  const neg = 1 - pos;
  const c = confusion as [[number, number], [number, number]];
  return { threshold, tp: c[pos]![pos]!, fn: c[pos]![neg]!, fp: c[neg]![pos]!, tn: c[neg]![neg]! };
}

/** Row shares of a confusion matrix (each actual class sums to 1; an empty row stays 0). */
export function rowShares(confusion: number[][]): number[][] {
  return confusion.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total > 0 ? v / total : 0));
  });
}

// ---------------------------------------------------------------------------
// Series

export interface Band {
  from: number;
  to: number;
}

/**
 * Runs of rows whose label is 1 (known problems, real failures) as bands on the x axis.
 * A band reaches half a step either side of its rows, so a single row is visible.
 */
export function labelBands(x: readonly number[], label: readonly number[] | null): Band[] {
  if (!label || x.length === 0) return [];
  const n = Math.min(x.length, label.length);
  const out: Band[] = [];
  const half = (i: number, j: number) => (i >= 0 && j < n ? (x[j]! - x[i]!) / 2 : NaN);
  let start = -1;
  for (let i = 0; i <= n; i++) {
    const on = i < n && label[i]! >= 0.5;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      const end = i - 1;
      const left = half(start - 1, start);
      const right = half(end, end + 1);
      const fallback = Number.isFinite(left) ? left : Number.isFinite(right) ? right : 0;
      out.push({ from: x[start]! - (Number.isFinite(left) ? left : fallback), to: x[end]! + (Number.isFinite(right) ? right : fallback) });
      start = -1;
    }
  }
  return out;
}

/** Actual minus predicted, NaN where either is missing. */
export function residuals(actual: readonly number[], predicted: readonly number[]): number[] {
  const n = Math.min(actual.length, predicted.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const p = predicted[i];
    out[i] = typeof a === 'number' && typeof p === 'number' && Number.isFinite(a) && Number.isFinite(p) ? a - p : NaN;
  }
  return out;
}

/** Share of scores at or above the threshold (rows the model would flag). */
export function flaggedShare(scores: readonly number[], threshold: number): number {
  let n = 0;
  let k = 0;
  for (const s of scores) {
    if (!Number.isFinite(s)) continue;
    n++;
    if (s >= threshold) k++;
  }
  return n > 0 ? k / n : 0;
}

// ---------------------------------------------------------------------------
// Importance

export interface ImportanceRow {
  input: string;
  drop: number;
  /** Bar length 0..1 against the largest drop; 0 for inputs whose removal did not hurt. */
  share: number;
}

/** Inputs by how much the score drops without them, largest first; ties keep the report's order. */
export function importanceRows(importance: readonly { input: string; drop: number }[]): ImportanceRow[] {
  const rows = importance.filter((r) => Number.isFinite(r.drop)).map((r, i) => ({ ...r, i }));
  rows.sort((a, b) => b.drop - a.drop || a.i - b.i);
  const max = Math.max(0, ...rows.map((r) => r.drop));
  return rows.map((r) => ({ input: r.input, drop: r.drop, share: max > 0 ? Math.max(0, r.drop) / max : 0 }));
}
