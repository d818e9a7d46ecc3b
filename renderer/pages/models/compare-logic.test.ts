import { describe, expect, it } from 'vitest';
import { answerLabel, axisNumber, comparedMetrics, holdoutWords, onAxis, rightSide, rowsWords, settingWords, sharedAxis, shiftWords } from './compare-logic';

describe('comparedMetrics', () => {
  const metric = { key: 'roc_auc', label: 'ROC AUC', higherIsBetter: true };

  it('puts the ranking metric first and marks the better side', () => {
    const rows = comparedMetrics({ metric, metrics: { a: { accuracy: 0.97, roc_auc: 0.889, log_loss: 0.097 }, b: { accuracy: 0.99, roc_auc: 0.972, log_loss: 0.046 } } });
    expect(rows.map((r) => r.key)).toEqual(['roc_auc', 'accuracy', 'log_loss']);
    expect(rows[0]).toEqual(expect.objectContaining({ label: 'ROC AUC', a: '0.889', b: '0.972', better: 'b', ranking: true }));
    expect(rows[1]!.a).toBe('97.0 %');
    // Lower log loss is better.
    expect(rows[2]!.better).toBe('b');
  });

  it('respects a ranking metric where lower is better', () => {
    const rows = comparedMetrics({ metric: { key: 'rmse', label: 'RMSE', higherIsBetter: false }, metrics: { a: { rmse: 1.5 }, b: { rmse: 2.5 } } });
    expect(rows[0]!.better).toBe('a');
  });

  it('marks nothing for a tie, a missing side, or a count that is neither better nor worse', () => {
    const rows = comparedMetrics({ metric, metrics: { a: { roc_auc: 0.9, events: 4, f1: 0.5 }, b: { roc_auc: 0.9, events: 6 } } });
    expect(rows.find((r) => r.key === 'roc_auc')!.better).toBeNull();
    expect(rows.find((r) => r.key === 'events')!.better).toBeNull();
    const f1 = rows.find((r) => r.key === 'f1')!;
    expect(f1.better).toBeNull();
    expect(f1.b).toBe('–');
  });
});

describe('range axis', () => {
  it('spans both ranges with a margin and places values in percent', () => {
    const axis = sharedAxis({ p5: 10, median: 20, p95: 30 }, { p5: 20, median: 30, p95: 60 })!;
    expect(axis.min).toBeLessThan(10);
    expect(axis.max).toBeGreaterThan(60);
    expect(onAxis(axis.min, axis)).toBe(0);
    expect(onAxis(axis.max, axis)).toBe(100);
    expect(onAxis(35, axis)).toBeCloseTo(50, 5);
    expect(onAxis(1e9, axis)).toBe(100);
  });

  it('does not go below zero for values that do not', () => {
    expect(sharedAxis({ p5: 2, median: 100, p95: 200 }, null)!.min).toBe(0);
    expect(sharedAxis({ p5: -2, median: 100, p95: 200 }, null)!.min).toBeLessThan(-2);
  });

  it('widens a range of one value and copes with a missing side', () => {
    const axis = sharedAxis({ p5: 5, median: 5, p95: 5 }, null)!;
    expect(axis.max).toBeGreaterThan(axis.min);
    expect(sharedAxis(null, null)).toBeNull();
  });

  it('writes axis numbers with few digits', () => {
    expect(axisNumber(1868.4)).toBe((1868).toLocaleString());
    expect(axisNumber(0.12345)).toBe((0.123).toLocaleString());
  });
});

describe('disagreements', () => {
  it('reads the class out of an answer', () => {
    expect(answerLabel('1 (100% sure)')).toBe('1');
    expect(answerLabel('Grade B (64% sure)')).toBe('Grade B');
    expect(answerLabel('12.5')).toBe('12.5');
  });

  it('says which side matched what happened', () => {
    expect(rightSide('0 (100% sure)', '1 (100% sure)', '1')).toBe('b');
    expect(rightSide('1 (60% sure)', '0 (90% sure)', '1')).toBe('a');
    expect(rightSide('1 (60% sure)', '1 (90% sure)', '1')).toBeNull();
    expect(rightSide('0 (60% sure)', '1 (90% sure)', null)).toBeNull();
    // Values: the nearer one.
    expect(rightSide('12.5', '14', '13.9')).toBe('b');
    expect(rightSide('unusual (score 3.1)', 'normal (score 0.2)', null)).toBeNull();
  });
});

describe('words', () => {
  it('says which rows both answered', () => {
    expect(holdoutWords({ dataset: 'Pumps', datasetVersion: 3, rows: 2000, kind: 'random', of: 'P-101 trips@2' })).toBe(
      `Both versions answered the same ${(2000).toLocaleString()} rows of Pumps version 3: rows chosen at random, kept aside to check P-101 trips version 2.`,
    );
  });

  it('says how the row count changed', () => {
    expect(rowsWords({ rowsA: 10, rowsB: 10 })).toBe('10 rows in both');
    expect(rowsWords({ rowsA: 8000, rowsB: 12000 })).toBe(`${(8000).toLocaleString()} → ${(12000).toLocaleString()} rows (+${(4000).toLocaleString()})`);
  });
});

describe('shiftWords', () => {
  it('drops the input name the row already shows', () => {
    expect(shiftWords({ input: 'Torque', sentence: 'Torque: median 40 → 42 Nm (about the same).' })).toBe('Median 40 → 42 Nm (about the same).');
    expect(shiftWords({ input: 'Torque', sentence: 'Something else.' })).toBe('Something else.');
  });
});

describe('settingWords', () => {
  it('names algorithms and goals as the rest of the app does', () => {
    expect(settingWords('Algorithms tried', 'logistic, hgb')).toBe('Logistic regression, Gradient boosting');
    expect(settingWords('Algorithms tried', 'all that fit')).toBe('all that fit');
    expect(settingWords('Goal', 'regression')).toBe('Predict a value');
    expect(settingWords('Seed', '0')).toBe('0');
  });
});
