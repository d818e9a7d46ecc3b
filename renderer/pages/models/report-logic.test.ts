import { describe, expect, it } from 'vitest';
import { describeThreshold, type ThresholdPoint } from '../../../shared/training';
import {
  asReport,
  binaryCells,
  flaggedShare,
  formatMetric,
  formatSeconds,
  holdoutMs,
  importanceRows,
  labelBands,
  nearestThresholdIndex,
  pointFromConfusion,
  prPoint,
  positiveName,
  predictsWhat,
  residuals,
  rocPoint,
  rowShares,
  sortedThresholds,
  taskWords,
} from './report-logic';

const pt = (threshold: number, tp: number, fp: number, fn: number, tn: number): ThresholdPoint => ({ threshold, tp, fp, fn, tn });

describe('asReport', () => {
  it('refuses what is not a report and fills missing lists', () => {
    expect(asReport(null)).toBeNull();
    expect(asReport({ task: 'binary' })).toBeNull();
    const r = asReport({ task: 'binary', leaderboard: [{}], metric: { key: 'roc_auc', label: 'ROC AUC', higherIsBetter: true }, holdout: { kind: 'random', rows: 5, fraction: 0.2 }, bestIndex: 7 });
    expect(r).not.toBeNull();
    expect(r!.warnings).toEqual([]);
    expect(r!.importance).toEqual([]);
    expect(r!.bestIndex).toBe(0); // out of range → the first entry
  });
});

describe('threshold slider', () => {
  const points = sortedThresholds([pt(0.9, 2, 0, 8, 90), pt(0.1, 10, 40, 0, 50), pt(0.5, 8, 4, 2, 86), pt(0.5, 8, 4, 2, 86), pt(NaN, 0, 0, 0, 0)]);

  it('sorts by threshold and drops repeats and non-numbers', () => {
    expect(points.map((p) => p.threshold)).toEqual([0.1, 0.5, 0.9]);
  });

  it('starts at the point nearest to the model threshold', () => {
    expect(nearestThresholdIndex(points, 0.47)).toBe(1);
    expect(nearestThresholdIndex(points, 0.8)).toBe(2);
    expect(nearestThresholdIndex(points, -5)).toBe(0);
    expect(nearestThresholdIndex([], 0.5)).toBe(-1);
  });

  it('places a point on the ROC and precision–recall curves', () => {
    expect(rocPoint(pt(0.5, 8, 4, 2, 86))).toEqual({ x: 4 / 90, y: 0.8 });
    expect(prPoint(pt(0.5, 8, 4, 2, 86))).toEqual({ x: 0.8, y: 8 / 12 });
    // Nothing flagged: precision is taken as 1, nothing caught.
    expect(prPoint(pt(1, 0, 0, 10, 90))).toEqual({ x: 0, y: 1 });
    expect(rocPoint(pt(1, 0, 0, 0, 0))).toEqual({ x: 0, y: 0 });
  });

  it('speaks in consequences over the holdout time when there is one', () => {
    const week = 7 * 24 * 3600_000;
    const ms = holdoutMs({ holdout: { kind: 'time', rows: 100, from: 0, to: 2 * week } });
    expect(ms).toBe(2 * week);
    expect(describeThreshold(pt(0.5, 9, 4, 1, 86), ms)).toBe('catches 9 of 10 failures, about 2 false alarms per week');
    expect(holdoutMs({ holdout: { kind: 'random', rows: 100, fraction: 0.2 } })).toBeNull();
  });
});

describe('confusion', () => {
  it('names the four outcomes of a yes/no model', () => {
    const cells = binaryCells(pt(0.5, 9, 3, 1, 87), 'Failure');
    expect(cells.map((r) => r.map((c) => [c.label, c.count, c.correct]))).toEqual([
      [
        ['Caught', 9, true],
        ['Missed', 1, false],
      ],
      [
        ['False alarm', 3, false],
        ['Correct all-clear', 87, true],
      ],
    ]);
    expect(cells[0]![0]!.hint).toContain('"Failure"');
  });

  it('reads a 2 × 2 matrix with the positive class wherever it is', () => {
    // rows actual, columns predicted; classes ['0', '1'], positive '1'
    expect(pointFromConfusion([[87, 3], [1, 9]], ['0', '1'], '1', 0.5)).toEqual(pt(0.5, 9, 3, 1, 87));
    // positive first
    expect(pointFromConfusion([[9, 1], [3, 87]], ['yes', 'no'], 'yes', 0.5)).toEqual(pt(0.5, 9, 3, 1, 87));
    expect(pointFromConfusion([[1, 2, 3]], null, null, 0.5)).toBeNull();
  });

  it('turns counts into shares of each actual class', () => {
    expect(rowShares([[3, 1], [0, 0]])).toEqual([
      [0.75, 0.25],
      [0, 0],
    ]);
  });
});

describe('series', () => {
  it('turns runs of labelled rows into bands half a step wide either side', () => {
    const x = [0, 10, 20, 30, 40, 50];
    expect(labelBands(x, [0, 1, 1, 0, 0, 1])).toEqual([
      { from: 5, to: 25 },
      { from: 45, to: 55 },
    ]);
    expect(labelBands(x, [1, 0, 0, 0, 0, 0])).toEqual([{ from: -5, to: 5 }]);
    expect(labelBands(x, null)).toEqual([]);
    expect(labelBands([7], [1])).toEqual([{ from: 7, to: 7 }]);
  });

  it('computes residuals as actual minus predicted, NaN for gaps', () => {
    const r = residuals([10, 12, NaN], [9, 13, 1]);
    expect(r.slice(0, 2)).toEqual([1, -1]);
    expect(Number.isNaN(r[2])).toBe(true);
  });

  it('counts the share of scores at or above the threshold', () => {
    expect(flaggedShare([0.1, 0.5, 0.9, NaN], 0.5)).toBeCloseTo(2 / 3);
    expect(flaggedShare([], 0.5)).toBe(0);
  });
});

describe('importance', () => {
  it('orders inputs by drop and scales bars to the largest, negatives at zero', () => {
    const rows = importanceRows([
      { input: 'Air temperature', drop: 0.01 },
      { input: 'Torque', drop: 0.2 },
      { input: 'Noise', drop: -0.02 },
      { input: 'Speed', drop: 0.1 },
    ]);
    expect(rows.map((r) => r.input)).toEqual(['Torque', 'Speed', 'Air temperature', 'Noise']);
    expect(rows.map((r) => Number(r.share.toFixed(6)))).toEqual([1, 0.5, 0.05, 0]);
  });

  it('gives no bar at all when nothing mattered', () => {
    expect(importanceRows([{ input: 'a', drop: 0 }]).map((r) => r.share)).toEqual([0]);
  });
});

describe('words and numbers', () => {
  it('describes each task as a goal', () => {
    expect(taskWords('regression')).toBe('Predict a value');
    expect(taskWords('anomaly')).toBe('Detect unusual behaviour');
    expect(predictsWhat('regression', 'Tool wear')).toBe('Predicts Tool wear');
    expect(predictsWhat('anomaly', null)).toBe('Flags unusual behaviour');
  });

  it('names the positive class by its word, or by the column when it is only a flag', () => {
    expect(positiveName({ positiveClass: 'Failure', target: 'Status' })).toBe('Failure');
    expect(positiveName({ positiveClass: '1', target: 'Machine failure' })).toBe('Machine failure');
    expect(positiveName({ positiveClass: 'true', target: 'Alarm' })).toBe('Alarm');
    expect(positiveName({ positiveClass: null, target: null })).toBe('failure');
  });

  it('formats scores with three decimals and errors with four significant digits', () => {
    expect(formatMetric(0.93456, { key: 'roc_auc' })).toBe('0.935');
    expect(formatMetric(12.3456, { key: 'rmse' })).toMatch(/^12[.,]35$/);
    expect(formatMetric(NaN, { key: 'rmse' })).toBe('–');
    expect(formatMetric(null)).toBe('–');
  });

  it('formats fit times', () => {
    expect(formatSeconds(0.05)).toBe('< 0.1 s');
    expect(formatSeconds(2.34)).toBe('2.3 s');
    expect(formatSeconds(125)).toBe('2 min 5 s');
  });
});
