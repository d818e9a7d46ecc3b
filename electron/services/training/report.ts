import { describeEntry, type ThresholdPoint, type TrainingReport, type TrainSettings } from '../../../shared/training';
import type { TrainOutcome } from './automl';
import { scoreMetrics } from './evaluate';
import { selectRows } from './features';
import type { Frame } from './frame';
import { createRng, permutation } from './learners/rng';
import type { Features } from './learners/types';
import { confusionMatrix, precisionRecallCurve, rocCurve } from './metrics';
import { predictFeatures, type Prediction } from './pipeline';

const MAX_CURVE_POINTS = 200;
const MAX_SERIES_POINTS = 2000;
const IMPORTANCE_ROWS = 5000;

/** Everything the results page and the CLI show, worked out once when the model is trained. */
export function buildReport(o: TrainOutcome, frame: Frame, settings: TrainSettings): TrainingReport {
  const seed = settings.seed;
  const p = o.pipeline;
  const classes = p.target?.classes ?? null;
  const hold = o.split.holdout;
  const holdout: TrainingReport['holdout'] = o.split.kind === 'time'
    ? { kind: 'time', rows: hold.length, from: o.split.from!, to: o.split.to! }
    : { kind: 'random', rows: hold.length, fraction: hold.length / (hold.length + o.split.train.length) };
  const base = { task: p.task, holdout, target: p.target?.name ?? null };
  const report: TrainingReport = {
    task: p.task,
    target: p.target?.name ?? null,
    metric: o.metric,
    classes,
    positiveClass: p.task === 'binary' ? classes![1]! : null,
    trainRows: o.split.train.length,
    finalRows: o.finalRows,
    holdout,
    leaderboard: o.leaderboard,
    bestIndex: o.bestIndex,
    metrics: o.metrics,
    sentences: o.leaderboard.map((e) => describeEntry(e, base)),
    warnings: o.warnings,
    features: p.plan.features.map((f) => f.name),
    threshold: p.threshold ?? 0.5,
    thresholds: null,
    confusion: null,
    roc: null,
    pr: null,
    series: null,
    importance: [],
    trainFlagRate: o.trainFlagRate,
    settings,
  };
  const pred = o.holdoutPred;
  if (o.truth.kind === 'classes') {
    report.confusion = confusionMatrix(o.truth.y, pred.label!, o.truth.classCount);
    if (p.task === 'binary') {
      const pos = Uint8Array.from(o.truth.y, (v) => (v === 1 ? 1 : 0));
      const score = Float64Array.from({ length: pos.length }, (_, i) => pred.proba![i * 2 + 1]!);
      const roc = rocCurve(pos, score);
      report.roc = thin({ fpr: roc.fpr, tpr: roc.tpr });
      const pr = precisionRecallCurve(pos, score);
      report.pr = thin({ precision: pr.precision, recall: pr.recall });
      report.thresholds = thresholdTable(pos, score);
    }
  }
  if (p.task === 'anomaly' && o.truth.kind === 'label' && o.truth.y) {
    report.thresholds = thresholdTable(o.truth.y, pred.score!);
  }
  report.series = holdoutSeries(o, frame, pred);
  report.importance = permutationImportance(o, seed);
  return report;
}

/** Keeps at most MAX_CURVE_POINTS points of parallel arrays, always the first and last. */
function thin<T extends Record<string, number[]>>(c: T): T {
  const keys = Object.keys(c);
  const n = c[keys[0]!]!.length;
  if (n <= MAX_CURVE_POINTS) return c;
  const out: Record<string, number[]> = {};
  for (const k of keys) out[k] = [];
  for (let s = 0; s < MAX_CURVE_POINTS; s++) {
    const i = Math.round((s * (n - 1)) / (MAX_CURVE_POINTS - 1));
    for (const k of keys) out[k]!.push(c[k]![i]!);
  }
  return out as T;
}

/** Counts at 101 thresholds from the lowest to the highest score (binary: 0..1). */
function thresholdTable(pos: Uint8Array, score: Float64Array): ThresholdPoint[] {
  let lo = 0, hi = 1;
  let smin = Infinity, smax = -Infinity;
  for (const v of score) { if (v < smin) smin = v; if (v > smax) smax = v; }
  if (smin < 0 || smax > 1) { lo = smin; hi = smax; }
  const out: ThresholdPoint[] = [];
  for (let k = 0; k <= 100; k++) {
    const t = lo + ((hi - lo) * k) / 100;
    let tp = 0, fp = 0, fn = 0, tn = 0;
    for (let i = 0; i < pos.length; i++) {
      const yes = score[i]! >= t;
      if (pos[i]) { if (yes) tp++; else fn++; } else if (yes) fp++; else tn++;
    }
    out.push({ threshold: t, tp, fp, fn, tn });
  }
  return out;
}

/** Holdout rows for the charts: the row with the largest deviation in each bucket is kept, so peaks survive. */
function holdoutSeries(o: TrainOutcome, frame: Frame, pred: Prediction): TrainingReport['series'] {
  const hold = o.split.holdout;
  const n = hold.length;
  const xIsTime = frame.time !== null;
  const actual = o.truth.kind === 'values' ? o.truth.y : o.truth.kind === 'classes' ? Float64Array.from(o.truth.y) : null;
  const predicted = pred.value ?? (pred.proba && o.pipeline.task === 'binary' ? Float64Array.from({ length: n }, (_, i) => pred.proba![i * 2 + 1]!) : null);
  const score = pred.score ?? null;
  const label = o.truth.kind === 'label' && o.truth.y ? o.truth.y : null;
  const interest = (i: number) => (score ? score[i]! : actual && predicted ? Math.abs(actual[i]! - predicted[i]!) : 0);
  const keep: number[] = [];
  const buckets = Math.min(n, MAX_SERIES_POINTS);
  for (let b = 0; b < buckets; b++) {
    const s = Math.floor((b * n) / buckets), e = Math.floor(((b + 1) * n) / buckets);
    let bi = s;
    for (let i = s; i < e; i++) if (interest(i) > interest(bi) || (label && label[i] && !label[bi])) bi = i;
    keep.push(bi);
  }
  const pick = (a: ArrayLike<number> | null) => (a ? keep.map((i) => round6(a[i]!)) : null);
  return {
    x: keep.map((i) => (xIsTime ? frame.time![hold[i]!]! : hold[i]!)),
    xIsTime,
    actual: pick(actual),
    predicted: pick(predicted),
    score: pick(score),
    label: pick(label),
  };
}

function round6(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
}

/**
 * Permutation importance per input (all features made from one input are
 * shuffled together): how much worse the ranking metric gets on the holdout.
 * For anomaly models without labels: how much the score changes.
 */
function permutationImportance(o: TrainOutcome, seed: number): { input: string; drop: number }[] {
  const p = o.pipeline;
  const hold = o.split.holdout;
  const rng = createRng(seed + 17);
  const take = hold.length > IMPORTANCE_ROWS ? permutation(hold.length, rng).slice(0, IMPORTANCE_ROWS).sort() : Int32Array.from(hold.keys());
  const rows = Int32Array.from(take, (k) => hold[k]!);
  const x = selectRows(o.x, rows);
  const truth = subsetTruth(o, take);
  const key = o.metric.key;
  const sign = o.metric.higherIsBetter ? 1 : -1;
  const basePred = predictFeatures(p, x);
  const useScore = p.task === 'anomaly' && truth.kind === 'label' && !truth.y;
  const baseValue = useScore ? 0 : scoreMetrics(p.task, truth, basePred)[key] ?? NaN;
  const perm = permutation(rows.length, rng);
  const out: { input: string; drop: number }[] = [];
  for (const input of p.plan.inputs) {
    const cols = p.plan.features.map((f, j) => (f.input === input.name || f.other === input.name ? j : -1)).filter((j) => j >= 0);
    const shuffled: Features = { ...x, columns: x.columns.map((c, j) => (cols.includes(j) ? Float64Array.from(perm, (k) => c[k]!) : c)) };
    const pr = predictFeatures(p, shuffled);
    let drop: number;
    if (useScore) {
      let s = 0;
      for (let i = 0; i < rows.length; i++) s += Math.abs(pr.score![i]! - basePred.score![i]!);
      drop = s / rows.length;
    } else {
      drop = sign * (baseValue - (scoreMetrics(p.task, truth, pr)[key] ?? NaN));
    }
    out.push({ input: input.name, drop: Number.isFinite(drop) ? round6(drop) : 0 });
  }
  return out.sort((a, b) => b.drop - a.drop || (a.input < b.input ? -1 : 1));
}

function subsetTruth(o: TrainOutcome, take: Int32Array): TrainOutcome['truth'] {
  const t = o.truth;
  if (t.kind === 'classes') return { kind: 'classes', y: Int32Array.from(take, (k) => t.y[k]!), classCount: t.classCount };
  if (t.kind === 'values') return { kind: 'values', y: Float64Array.from(take, (k) => t.y[k]!) };
  return { kind: 'label', y: t.y ? Uint8Array.from(take, (k) => t.y![k]!) : null };
}
