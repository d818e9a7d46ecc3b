import type { Task } from '../../../shared/training';
import { accuracy, eventF1, f1Binary, f1Macro, logLoss, mae, r2, rmse, rocAuc } from './metrics';
import type { Prediction } from './pipeline';

/** Truth on the holdout rows: class indices, values, or a 0/1 label for anomaly goals (null when there is none). */
export type Truth = { kind: 'classes'; y: Int32Array; classCount: number } | { kind: 'values'; y: Float64Array } | { kind: 'label'; y: Uint8Array | null };

/** Metrics with scikit-learn's definitions (../shared/baselines/peer.py). */
export function scoreMetrics(task: Task, truth: Truth, pred: Prediction): Record<string, number> {
  if (truth.kind === 'values') {
    return { rmse: rmse(truth.y, pred.value!), mae: mae(truth.y, pred.value!), r2: r2(truth.y, pred.value!) };
  }
  if (truth.kind === 'classes') {
    const out: Record<string, number> = { accuracy: accuracy(truth.y, pred.label!) };
    if (task === 'binary') {
      const pos = new Uint8Array(truth.y.length);
      const p1 = new Float64Array(truth.y.length);
      for (let i = 0; i < pos.length; i++) { pos[i] = truth.y[i] === 1 ? 1 : 0; p1[i] = pred.proba![i * 2 + 1]!; }
      out.f1 = f1Binary(truth.y, pred.label!, 1);
      out.roc_auc = rocAuc(pos, p1);
    } else {
      out.f1 = f1Macro(truth.y, pred.label!, truth.classCount);
    }
    out.log_loss = logLoss(truth.y, pred.proba!, truth.classCount);
    return out;
  }
  const out: Record<string, number> = {};
  let flagged = 0;
  for (const f of pred.flag!) flagged += f;
  out.holdout_flag_rate = pred.flag!.length ? flagged / pred.flag!.length : 0;
  if (truth.y) {
    const e = eventF1(truth.y, pred.flag!);
    out.event_f1 = e.f1;
    out.events = e.events;
    out.events_caught = e.caught;
    out.false_alarms = e.falseAlarms;
    let any = 0;
    for (const v of truth.y) any += v;
    if (any > 0 && any < truth.y.length) out.roc_auc = rocAuc(truth.y, pred.score!);
  }
  return out;
}

/**
 * Kolmogorov–Smirnov distance between two samples: 0 when they have the same
 * distribution. Used as "1 − stability" of anomaly scores on normal data.
 */
export function ksDistance(a: Float64Array, b: Float64Array): number {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0, j = 0, d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

/** The q-quantile (linear interpolation, numpy's default). */
export function quantile(values: Float64Array, q: number): number {
  const s = Float64Array.from(values).sort();
  if (!s.length) return NaN;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
