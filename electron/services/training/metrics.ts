/**
 * Model metrics, computed as scikit-learn 1.2 computes them (the peer
 * baselines in /work/shared/baselines/peer.py use sklearn.metrics), plus the
 * event-level F1 used to judge anomaly detectors against labelled events.
 *
 * Class labels are 0..K-1 (Int32Array). Binary "truth" arguments accept
 * Uint8Array, Int32Array or boolean[]; any non-zero / true value is positive.
 * Where scikit-learn would divide by zero with zero_division='warn', these
 * return 0 as it does; where scikit-learn returns NaN (ROC with one class),
 * these return NaN.
 */

export type BinaryTruth = Uint8Array | Int32Array | boolean[];
type Numbers = ArrayLike<number>;

function toBits(v: BinaryTruth): Uint8Array {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] ? 1 : 0;
  return out;
}

function sameLength(a: { length: number }, b: { length: number }, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} true values but ${b.length} predictions`);
}

// ---------------------------------------------------------------------------
// Classification

/** sklearn accuracy_score. */
export function accuracy(yTrue: Int32Array, yPred: Int32Array): number {
  sameLength(yTrue, yPred, 'accuracy');
  if (yTrue.length === 0) return NaN;
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

/** F1 of one label from its counts, in scikit-learn's arithmetic: 2·P·R / (P + R), 0 where undefined. */
function f1FromCounts(tp: number, predicted: number, actual: number): number {
  const precision = predicted === 0 ? 0 : tp / predicted;
  const recall = actual === 0 ? 0 : tp / actual;
  const denom = precision + recall;
  return denom === 0 ? 0 : (2 * precision * recall) / denom;
}

/** sklearn f1_score(y_true, y_pred, pos_label=positive) (average='binary'). */
export function f1Binary(yTrue: Int32Array, yPred: Int32Array, positive: number): number {
  sameLength(yTrue, yPred, 'f1Binary');
  let tp = 0, predicted = 0, actual = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] === positive, p = yPred[i] === positive;
    if (t) actual++;
    if (p) predicted++;
    if (t && p) tp++;
  }
  return f1FromCounts(tp, predicted, actual);
}

/**
 * sklearn f1_score(average='macro'): the unweighted mean of per-label F1 over
 * the labels present in y_true ∪ y_pred (a label only predicted scores 0).
 */
export function f1Macro(yTrue: Int32Array, yPred: Int32Array, classCount: number): number {
  sameLength(yTrue, yPred, 'f1Macro');
  const cm = confusionMatrix(yTrue, yPred, classCount);
  let sum = 0, labels = 0;
  for (let k = 0; k < classCount; k++) {
    let actual = 0, predicted = 0;
    for (let j = 0; j < classCount; j++) {
      actual += cm[k]![j]!;
      predicted += cm[j]![k]!;
    }
    if (actual === 0 && predicted === 0) continue;
    labels++;
    sum += f1FromCounts(cm[k]![k]!, predicted, actual);
  }
  return labels === 0 ? 0 : sum / labels;
}

/** Counts, [true][predicted]; labels outside 0..classCount-1 throw. */
export function confusionMatrix(yTrue: Int32Array, yPred: Int32Array, classCount: number): number[][] {
  sameLength(yTrue, yPred, 'confusionMatrix');
  const cm = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!, p = yPred[i]!;
    if (t < 0 || t >= classCount || p < 0 || p >= classCount) throw new Error(`confusionMatrix: label ${t < 0 || t >= classCount ? t : p} outside 0..${classCount - 1}`);
    cm[t]![p]!++;
  }
  return cm;
}

/**
 * sklearn log_loss(y_true, proba, labels=range(K)) as in 1.2: probabilities
 * clipped to [ε, 1−ε] with ε the float64 machine epsilon, rows renormalised,
 * the mean of −ln p(true class).
 */
export function logLoss(yTrue: Int32Array, proba: Float64Array, classCount: number): number {
  const n = yTrue.length;
  if (proba.length !== n * classCount) throw new Error(`logLoss: ${proba.length} probabilities for ${n} rows × ${classCount} classes`);
  if (n === 0) return NaN;
  const eps = Number.EPSILON;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let k = 0; k < classCount; k++) rowSum += clip(proba[i * classCount + k]!, eps, 1 - eps);
    const t = yTrue[i]!;
    if (t < 0 || t >= classCount) throw new Error(`logLoss: label ${t} outside 0..${classCount - 1}`);
    total += -Math.log(clip(proba[i * classCount + t]!, eps, 1 - eps) / rowSum);
  }
  return total / n;
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

// ---------------------------------------------------------------------------
// Ranking

/** Scores sorted descending, with the cumulative true and false positives at each distinct score (sklearn _binary_clf_curve). */
function binaryClfCurve(isPositive: BinaryTruth, score: Numbers): { fps: number[]; tps: number[]; thresholds: number[] } {
  sameLength(isPositive, score, 'curve');
  const bits = toBits(isPositive);
  const n = bits.length;
  for (let i = 0; i < n; i++) if (!Number.isFinite(score[i]!)) throw new Error('curve: scores must be finite');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
  const fps: number[] = [], tps: number[] = [], thresholds: number[] = [];
  let tp = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r]!;
    tp += bits[i]!;
    if (r === n - 1 || score[order[r + 1]!]! !== score[i]!) {
      tps.push(tp);
      fps.push(r + 1 - tp);
      thresholds.push(score[i]!);
    }
  }
  return { fps, tps, thresholds };
}

/**
 * sklearn roc_curve(drop_intermediate=True) as in 1.2: collinear points
 * dropped, and a first point (0, 0) at threshold max(score) + 1. fpr (tpr)
 * is all NaN when there are no negatives (positives).
 */
export function rocCurve(isPositive: BinaryTruth, score: Numbers): { fpr: number[]; tpr: number[]; thresholds: number[] } {
  let { fps, tps, thresholds } = binaryClfCurve(isPositive, score);
  if (fps.length === 0) return { fpr: [], tpr: [], thresholds: [] };
  if (fps.length > 2) {
    const keep: number[] = [0];
    for (let i = 1; i < fps.length - 1; i++) {
      const d2f = fps[i + 1]! - 2 * fps[i]! + fps[i - 1]!;
      const d2t = tps[i + 1]! - 2 * tps[i]! + tps[i - 1]!;
      if (d2f !== 0 || d2t !== 0) keep.push(i);
    }
    keep.push(fps.length - 1);
    fps = keep.map((i) => fps[i]!);
    tps = keep.map((i) => tps[i]!);
    thresholds = keep.map((i) => thresholds[i]!);
  }
  fps = [0, ...fps];
  tps = [0, ...tps];
  thresholds = [thresholds[0]! + 1, ...thresholds];
  const fLast = fps[fps.length - 1]!, tLast = tps[tps.length - 1]!;
  return {
    fpr: fps.map((v) => (fLast > 0 ? v / fLast : NaN)),
    tpr: tps.map((v) => (tLast > 0 ? v / tLast : NaN)),
    thresholds,
  };
}

/**
 * sklearn roc_auc_score for binary truth: the area under the ROC curve, ties
 * counted as half (the Mann–Whitney statistic with mid-ranks, which is what
 * the trapezoids over sklearn's curve add up to). NaN when only one class is
 * present (sklearn raises).
 */
export function rocAuc(isPositive: BinaryTruth, score: Float64Array): number {
  const { fps, tps } = binaryClfCurve(isPositive, score);
  const P = tps[tps.length - 1] ?? 0, N = fps[fps.length - 1] ?? 0;
  if (P === 0 || N === 0) return NaN;
  // Σ over score groups of (new negatives) × (positives above + half the positives tied).
  let area2 = 0; // twice the count of correctly ordered pairs, integer arithmetic until the end
  let prevF = 0, prevT = 0;
  for (let g = 0; g < fps.length; g++) {
    const dF = fps[g]! - prevF, dT = tps[g]! - prevT;
    area2 += dF * (2 * prevT + dT);
    prevF = fps[g]!;
    prevT = tps[g]!;
  }
  return area2 / (2 * P * N);
}

/**
 * sklearn precision_recall_curve as in 1.2: one point per distinct score,
 * reversed so recall decreases, then the final point (precision 1, recall 0)
 * that has no threshold. Recall is 1 everywhere when there are no positives.
 */
export function precisionRecallCurve(isPositive: BinaryTruth, score: Numbers): { precision: number[]; recall: number[]; thresholds: number[] } {
  const { fps, tps, thresholds } = binaryClfCurve(isPositive, score);
  const tLast = tps[tps.length - 1] ?? 0;
  const precision: number[] = [], recall: number[] = [], th: number[] = [];
  for (let i = fps.length - 1; i >= 0; i--) {
    const ps = tps[i]! + fps[i]!;
    precision.push(ps === 0 ? 0 : tps[i]! / ps);
    recall.push(tLast === 0 ? 1 : tps[i]! / tLast);
    th.push(thresholds[i]!);
  }
  precision.push(1);
  recall.push(0);
  return { precision, recall, thresholds: th };
}

// ---------------------------------------------------------------------------
// Regression

function checkRegression(y: Numbers, p: Numbers, what: string): void {
  sameLength(y, p, what);
}

/** sqrt(sklearn mean_squared_error). */
export function rmse(y: Numbers, p: Numbers): number {
  checkRegression(y, p, 'rmse');
  if (y.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i]! - p[i]!) ** 2;
  return Math.sqrt(s / y.length);
}

/** sklearn mean_absolute_error. */
export function mae(y: Numbers, p: Numbers): number {
  checkRegression(y, p, 'mae');
  if (y.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += Math.abs(y[i]! - p[i]!);
  return s / y.length;
}

/** sklearn r2_score (force_finite): 1 for a perfect fit, 0 when y is constant and the fit is not perfect. */
export function r2(y: Numbers, p: Numbers): number {
  checkRegression(y, p, 'r2');
  const n = y.length;
  if (n === 0) return NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let ssRes = 0, ssTot = 0;
  for (let i = 0; i < n; i++) {
    ssRes += (y[i]! - p[i]!) ** 2;
    ssTot += (y[i]! - mean) ** 2;
  }
  if (ssRes === 0) return 1;
  if (ssTot === 0) return 0;
  return 1 - ssRes / ssTot;
}

// ---------------------------------------------------------------------------
// Anomaly detection against labelled events

/**
 * Event-level F1 for anomaly detection with labels. An event is a run of
 * consecutive positive rows; it is caught when any flagged row falls inside
 * it. A run of consecutive flagged rows with no positive row inside is one
 * false alarm. recall = caught / events, precision = caught / (caught +
 * falseAlarms), F1 their harmonic mean; each is 0 where its denominator is 0.
 */
export function eventF1(isPositive: Uint8Array, flagged: Uint8Array): { f1: number; precision: number; recall: number; events: number; caught: number; falseAlarms: number } {
  sameLength(isPositive, flagged, 'eventF1');
  const n = isPositive.length;
  let events = 0, caught = 0, falseAlarms = 0;
  // Events and whether each was caught.
  for (let i = 0; i < n; ) {
    if (!isPositive[i]) { i++; continue; }
    let hit = false;
    while (i < n && isPositive[i]) {
      if (flagged[i]) hit = true;
      i++;
    }
    events++;
    if (hit) caught++;
  }
  // Flagged runs with no labelled row inside.
  for (let i = 0; i < n; ) {
    if (!flagged[i]) { i++; continue; }
    let touches = false;
    while (i < n && flagged[i]) {
      if (isPositive[i]) touches = true;
      i++;
    }
    if (!touches) falseAlarms++;
  }
  const recall = events === 0 ? 0 : caught / events;
  const precision = caught + falseAlarms === 0 ? 0 : caught / (caught + falseAlarms);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { f1, precision, recall, events, caught, falseAlarms };
}
