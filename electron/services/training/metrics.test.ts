import { describe, expect, it } from 'vitest';
import {
  accuracy,
  confusionMatrix,
  eventF1,
  f1Binary,
  f1Macro,
  logLoss,
  mae,
  precisionRecallCurve,
  r2,
  rmse,
  rocAuc,
  rocCurve,
} from './metrics';

// Expected values computed once with Debian's scikit-learn 1.2.1 (/usr/bin/python3,
// python3-sklearn), `from sklearn import metrics as m`, on exactly these arrays;
// the call is given beside each value.

const EXACT = 1e-12;
const close = (actual: number[], expected: number[]): void => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(EXACT));
};

// Binary truth and scores with ties: 0.1 ×3, 0.35 ×3 (mixed labels), 0.4 ×2, 0.8 ×2.
const yt = Int32Array.from([0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0]);
const sc = Float64Array.from([0.1, 0.4, 0.35, 0.8, 0.4, 0.1, 0.5, 0.9, 0.35, 0.35, 0.7, 0.2, 0.6, 0.1, 0.8, 0.3]);
const yp = Int32Array.from(sc, (s) => (s >= 0.4 ? 1 : 0));

describe('classification metrics', () => {
  it('accuracy and binary F1 match sklearn', () => {
    expect(accuracy(yt, yp)).toBe(0.625); // m.accuracy_score(yt, yp)
    expect(f1Binary(yt, yp, 1)).toBeCloseTo(0.625, 12); // m.f1_score(yt, yp, pos_label=1)
    expect(f1Binary(yt, yp, 0)).toBeCloseTo(0.625, 12); // pos_label=0
    // Nothing predicted positive: precision 0/0 → 0, so F1 0 (sklearn zero_division 'warn' → 0).
    expect(f1Binary(Int32Array.from([1, 1, 0]), Int32Array.from([0, 0, 0]), 1)).toBe(0);
  });

  it('macro F1 averages over labels in y_true ∪ y_pred, and the confusion matrix is [true][pred]', () => {
    // Label 3 only predicted (F1 0, counted); label 4 only true (F1 0, counted).
    const y3 = Int32Array.from([0, 1, 2, 2, 1, 0, 1, 2, 0, 0, 1, 2, 4, 1]);
    const p3 = Int32Array.from([0, 2, 2, 2, 1, 0, 0, 1, 0, 3, 1, 2, 1, 1]);
    expect(accuracy(y3, p3)).toBeCloseTo(0.6428571428571429, 15); // m.accuracy_score
    expect(Math.abs(f1Macro(y3, p3, 5) - 0.42000000000000004)).toBeLessThanOrEqual(EXACT); // m.f1_score(average='macro')
    // A class absent from both y_true and y_pred is left out, as sklearn never sees it.
    expect(Math.abs(f1Macro(y3, p3, 7) - 0.42000000000000004)).toBeLessThanOrEqual(EXACT);
    expect(confusionMatrix(y3, p3, 5)).toEqual([
      [3, 0, 0, 1, 0],
      [1, 3, 1, 0, 0],
      [0, 1, 3, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 1, 0, 0, 0],
    ]); // m.confusion_matrix(y3, p3, labels=[0,1,2,3,4])
  });

  it('log loss clips to float64 eps and renormalises rows as sklearn 1.2 does', () => {
    // Exact zeros and ones, and a row summing to 0.9.
    const yl = Int32Array.from([0, 2, 1, 1, 0, 2]);
    const pr = Float64Array.from([0.7, 0.2, 0.1, 0.1, 0.1, 0.8, 0.0, 1.0, 0.0, 0.3, 0.3, 0.3, 1.0, 0.0, 0.0, 0.5, 0.5, 0.0]);
    expect(Math.abs(logLoss(yl, pr, 3) - 6.2870140288397005)).toBeLessThanOrEqual(EXACT); // m.log_loss(yl, pr, labels=[0,1,2])
    const yb = Int32Array.from([1, 0, 0, 1, 1]);
    const pb = Float64Array.from([0.1, 0.9, 0.8, 0.2, 0.0, 1.0, 0.35, 0.65, 0.5, 0.5]);
    expect(Math.abs(logLoss(yb, pb, 2) - 7.499217510548318)).toBeLessThanOrEqual(EXACT); // m.log_loss(yb, pb, labels=[0,1])
  });
});

describe('ranking metrics', () => {
  it('ROC AUC counts ties as sklearn roc_auc_score does', () => {
    expect(Math.abs(rocAuc(yt, sc) - 0.6953125)).toBeLessThanOrEqual(EXACT); // m.roc_auc_score(yt, sc)
    expect(rocAuc(Uint8Array.from(yt), sc)).toBe(rocAuc(yt, sc));
    expect(rocAuc(Array.from(yt, (v) => v === 1), sc)).toBe(rocAuc(yt, sc));
    expect(rocAuc([false, true, false, true], Float64Array.from([0.5, 0.5, 0.5, 0.5]))).toBe(0.5);
    const y2 = Int32Array.from([1, 1, 1, 0, 0, 1, 0, 0, 1, 0]);
    const s2 = Float64Array.from([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.4, 0.1]);
    expect(Math.abs(rocAuc(y2, s2) - 0.78)).toBeLessThanOrEqual(EXACT); // m.roc_auc_score(y2, s2)
    expect(rocAuc(Int32Array.from([1, 1]), Float64Array.from([0.2, 0.3]))).toBeNaN(); // sklearn raises: one class
  });

  it('ROC curve drops collinear points and starts at max score + 1, like roc_curve(drop_intermediate=True)', () => {
    const c = rocCurve(yt, sc); // m.roc_curve(yt, sc)
    close(c.fpr, [0.0, 0.0, 0.125, 0.125, 0.375, 0.375, 0.5, 0.625, 0.625, 1.0]);
    close(c.tpr, [0.0, 0.125, 0.25, 0.375, 0.375, 0.625, 0.875, 0.875, 1.0, 1.0]);
    close(c.thresholds, [1.9, 0.9, 0.8, 0.7, 0.5, 0.4, 0.35, 0.3, 0.2, 0.1]);
    const y2 = Int32Array.from([1, 1, 1, 0, 0, 1, 0, 0, 1, 0]);
    const s2 = Float64Array.from([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.4, 0.1]);
    const d = rocCurve(y2, s2); // m.roc_curve(y2, s2): 0.9, 0.8 and 0.7's twin dropped
    close(d.fpr, [0.0, 0.0, 0.0, 0.4, 0.4, 0.6, 0.8, 1.0]);
    close(d.tpr, [0.0, 0.2, 0.6, 0.6, 0.8, 0.8, 1.0, 1.0]);
    close(d.thresholds, [1.95, 0.95, 0.85, 0.7, 0.6, 0.5, 0.4, 0.1]);
    const tied = rocCurve([false, true, false, true], Float64Array.from([0.5, 0.5, 0.5, 0.5]));
    expect(tied).toEqual({ fpr: [0, 1], tpr: [0, 1], thresholds: [1.5, 0.5] });
  });

  it('precision–recall curve matches sklearn 1.2 precision_recall_curve', () => {
    const c = precisionRecallCurve(yt, sc); // m.precision_recall_curve(yt, sc)
    close(c.precision, [0.5, 0.6153846153846154, 0.5833333333333334, 0.6363636363636364, 0.625, 0.5, 0.6, 0.75, 0.6666666666666666, 1.0, 1.0]);
    close(c.recall, [1.0, 1.0, 0.875, 0.875, 0.625, 0.375, 0.375, 0.375, 0.25, 0.125, 0.0]);
    close(c.thresholds, [0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    const y2 = Int32Array.from([1, 1, 1, 0, 0, 1, 0, 0, 1, 0]);
    const s2 = Float64Array.from([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.4, 0.1]);
    const d = precisionRecallCurve(y2, s2);
    close(d.precision, [0.5, 0.5555555555555556, 0.5714285714285714, 0.6666666666666666, 0.6, 0.75, 1.0, 1.0, 1.0, 1.0]);
    close(d.recall, [1.0, 1.0, 0.8, 0.8, 0.6, 0.6, 0.6, 0.4, 0.2, 0.0]);
    close(d.thresholds, [0.1, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95]);
  });
});

describe('regression metrics', () => {
  const y = Float64Array.from([3.0, -0.5, 2.0, 7.0, 4.25, 1.5]);
  const p = Float64Array.from([2.5, 0.0, 2.0, 8.0, 3.5, 1.0]);
  it('RMSE, MAE and R² match sklearn', () => {
    expect(Math.abs(rmse(y, p) - 0.6208193510729725)).toBeLessThanOrEqual(EXACT); // np.sqrt(m.mean_squared_error(y, p))
    expect(Math.abs(mae(y, p) - 0.5416666666666666)).toBeLessThanOrEqual(EXACT); // m.mean_absolute_error(y, p)
    expect(Math.abs(r2(y, p) - 0.9298578199052132)).toBeLessThanOrEqual(EXACT); // m.r2_score(y, p)
  });
  it('R² of a constant target is 1 when perfect and 0 otherwise (sklearn force_finite)', () => {
    expect(r2([1, 1, 1], [1, 1, 2])).toBe(0);
    expect(r2([1, 1, 1], [1, 1, 1])).toBe(1);
  });
});

describe('eventF1', () => {
  const bits = (s: string): Uint8Array => Uint8Array.from(s, (c) => (c === '1' ? 1 : 0));
  it('counts caught events and flagged runs that touch no event', () => {
    //                  events:   [1--]  [2]   [3---]
    const labels = bits('0111000100011110000');
    const flags = bits('0010011000000011001');
    // event 1 caught (row 2), event 2 missed, event 3 caught (row 14-15 run overlaps);
    // flagged runs: [2] hits, [5,6] false, [15,16] hits, [18] false.
    const r = eventF1(labels, flags);
    expect(r.events).toBe(3);
    expect(r.caught).toBe(2);
    expect(r.falseAlarms).toBe(2);
    expect(r.recall).toBeCloseTo(2 / 3, 15);
    expect(r.precision).toBeCloseTo(0.5, 15);
    expect(r.f1).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3), 15);
  });
  it('one long flagged run across two events catches both; nothing flagged scores 0', () => {
    const labels = bits('0110110');
    expect(eventF1(labels, bits('0111110'))).toEqual({ f1: 1, precision: 1, recall: 1, events: 2, caught: 2, falseAlarms: 0 });
    expect(eventF1(labels, bits('0000000'))).toEqual({ f1: 0, precision: 0, recall: 0, events: 2, caught: 0, falseAlarms: 0 });
    expect(eventF1(bits('000'), bits('010'))).toEqual({ f1: 0, precision: 0, recall: 0, events: 0, caught: 0, falseAlarms: 1 });
  });
});
