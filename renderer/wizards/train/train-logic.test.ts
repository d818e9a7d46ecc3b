import { describe, expect, it } from 'vitest';
import type { Suggestion } from '../../../shared/api';
import {
  BUDGET_STOPS,
  blankChoices,
  blockersApply,
  budgetFraction,
  budgetToIndex,
  buildTrainInput,
  defaultWindowMinutes,
  effectiveInputs,
  enterMeansNext,
  formatBudget,
  higherIsBetterFor,
  indexToBudget,
  mergeProgress,
  parseLags,
  parseNumber,
  parseProgressMessage,
  rankLive,
  readingsInWindow,
  STEP,
  stepLabels,
  stepProblem,
  type TrainChoices,
} from './train-logic';

const suggestion = (over: Partial<Suggestion> = {}): Suggestion => ({
  dataset: 'Mill',
  version: 3,
  rows: 10_000,
  task: 'binary',
  targets: [
    { name: 'Machine failure', type: 'integer', recommended: true, reason: 'Two values: 0 and 1.', classes: 2 },
    { name: 'Type', type: 'category', recommended: false, reason: 'Three values.', classes: 3 },
  ],
  inputs: [
    { name: 'Air temperature', type: 'number', unit: 'K', selected: true, reason: null, leak: false },
    { name: 'Torque', type: 'number', unit: 'Nm', selected: true, reason: null, leak: false },
    { name: 'UDI', type: 'integer', unit: null, selected: false, reason: 'A row number, not a measurement.', leak: false },
    { name: 'TWF', type: 'integer', unit: null, selected: false, reason: 'Known only after a failure.', leak: true },
  ],
  timeColumn: 'Time',
  intervalMs: 60_000,
  modelName: 'Machine failure model',
  blockers: [],
  ...over,
});

const choices = (over: Partial<TrainChoices> = {}): TrainChoices => ({
  ...blankChoices('Mill'),
  goal: 'predict_category',
  target: 'Machine failure',
  inputs: ['Air temperature', 'Torque'],
  ...over,
});

describe('parseProgressMessage', () => {
  it('reads a finished candidate with its metric label and value', () => {
    expect(parseProgressMessage('Done: Gradient boosting — ROC AUC 0.934')).toEqual({
      kind: 'done',
      entry: { title: 'Gradient boosting', metricLabel: 'ROC AUC', value: 0.934, text: 'ROC AUC 0.934' },
    });
  });

  it('keeps digits that belong to the label and titles with brackets', () => {
    const p = parseProgressMessage('Done: PCA monitoring (T² and SPE) – macro F1 0.82');
    expect(p).toMatchObject({ kind: 'done', entry: { title: 'PCA monitoring (T² and SPE)', metricLabel: 'macro F1', value: 0.82 } });
  });

  it('reads multi-word labels, negative and exponent values', () => {
    expect(parseProgressMessage('Done: Isolation forest — score stability on normal data 0.91')).toMatchObject({
      entry: { metricLabel: 'score stability on normal data', value: 0.91 },
    });
    expect(parseProgressMessage('Done: Linear regression — RMSE 1.5e-3')).toMatchObject({ entry: { metricLabel: 'RMSE', value: 0.0015 } });
    expect(parseProgressMessage('Done: Linear regression - R2 −0.25')).toMatchObject({ entry: { metricLabel: 'R2', value: -0.25 } });
  });

  it('ignores a note in brackets and a colon after the label', () => {
    expect(parseProgressMessage('Done: Random forest — ROC AUC: 0.91 (12 s)')).toMatchObject({ entry: { metricLabel: 'ROC AUC', value: 0.91 } });
    expect(parseProgressMessage('Done: Random forest — event F1 = 0.5.')).toMatchObject({ entry: { metricLabel: 'event F1', value: 0.5 } });
  });

  it('keeps a candidate without a number, with what was said', () => {
    expect(parseProgressMessage('Done: Decision tree — could not be trained')).toEqual({
      kind: 'done',
      entry: { title: 'Decision tree', metricLabel: '', value: null, text: 'could not be trained' },
    });
  });

  it('reads "Trying … (3 of 7)…" and leaves other messages alone', () => {
    expect(parseProgressMessage('Trying Gradient boosting (3 of 7)…')).toEqual({ kind: 'trying', title: 'Gradient boosting', index: 3, total: 7 });
    expect(parseProgressMessage('Trying Random forest (rare classes weighted up) (5 of 9)…')).toEqual({
      kind: 'trying',
      title: 'Random forest (rare classes weighted up)',
      index: 5,
      total: 9,
    });
    expect(parseProgressMessage('Done: Gradient boosting (variant 2) — ROC AUC 0.9512')).toMatchObject({
      entry: { title: 'Gradient boosting (variant 2)', value: 0.9512 },
    });
    expect(parseProgressMessage('Done: Random forest — RMSE –')).toMatchObject({ entry: { value: null, text: 'RMSE –' } });
    expect(parseProgressMessage('Reading the data…')).toEqual({ kind: 'other', text: 'Reading the data…' });
    expect(parseProgressMessage('Done')).toEqual({ kind: 'other', text: 'Done' });
  });
});

describe('parseNumber', () => {
  it('reads point and comma decimals and thousands separators', () => {
    expect(parseNumber('0.93')).toBe(0.93);
    expect(parseNumber('0,93')).toBe(0.93);
    expect(parseNumber('1,234')).toBe(1234);
    expect(parseNumber('1,234.5')).toBe(1234.5);
    expect(parseNumber('1.234,5')).toBe(1234.5);
    expect(parseNumber('1\u202f234,5')).toBe(1234.5);
    expect(parseNumber('abc')).toBeNull();
    expect(parseNumber('1.2.3')).toBeNull();
  });
});

describe('mergeProgress and rankLive', () => {
  it('adds each finished candidate once and ignores other messages', () => {
    let log = mergeProgress([], 'Trying Linear regression (1 of 4)…');
    expect(log).toEqual([]);
    log = mergeProgress(log, 'Done: Linear regression — RMSE 2.5');
    log = mergeProgress(log, 'Done: Linear regression — RMSE 2.5'); // the same message seen again by polling
    log = mergeProgress(log, 'Trying Random forest (2 of 4)…');
    log = mergeProgress(log, 'Done: Random forest — RMSE 1.25');
    expect(log.map((e) => [e.title, e.value])).toEqual([
      ['Linear regression', 2.5],
      ['Random forest', 1.25],
    ]);
  });

  it('returns the same array when nothing changed, so the store does not re-render', () => {
    const log = mergeProgress([], 'Done: Random forest — RMSE 1.25');
    expect(mergeProgress(log, 'Done: Random forest — RMSE 1.25')).toBe(log);
    expect(mergeProgress(log, 'Working…')).toBe(log);
  });

  it('ranks lower-is-better metrics ascending and the others descending, numberless last', () => {
    let reg = mergeProgress([], 'Done: Linear regression — RMSE 2.5');
    reg = mergeProgress(reg, 'Done: Decision tree — could not be trained');
    reg = mergeProgress(reg, 'Done: Random forest — RMSE 1.25');
    expect(rankLive(reg).map((e) => e.title)).toEqual(['Random forest', 'Linear regression', 'Decision tree']);

    let cls = mergeProgress([], 'Done: Logistic regression — ROC AUC 0.81');
    cls = mergeProgress(cls, 'Done: Gradient boosting — ROC AUC 0.95');
    expect(rankLive(cls).map((e) => e.title)).toEqual(['Gradient boosting', 'Logistic regression']);
  });

  it('knows the direction of every ranking metric', () => {
    expect(higherIsBetterFor('RMSE')).toBe(false);
    expect(higherIsBetterFor('ROC AUC')).toBe(true);
    expect(higherIsBetterFor('macro F1')).toBe(true);
    expect(higherIsBetterFor('event F1')).toBe(true);
    expect(higherIsBetterFor('score stability on normal data')).toBe(true);
    expect(higherIsBetterFor('mean absolute error')).toBe(false);
  });
});

describe('time budget slider', () => {
  it('starts at the default of 60 s and maps both ends to the limits', () => {
    expect(indexToBudget(budgetToIndex(60))).toBe(60);
    expect(indexToBudget(0)).toBe(10);
    expect(indexToBudget(BUDGET_STOPS.length - 1)).toBe(1800);
    expect(indexToBudget(-3)).toBe(10);
    expect(indexToBudget(99)).toBe(1800);
  });

  it('is roughly logarithmic: the default sits in the first half and each stop grows', () => {
    expect(budgetFraction(60)).toBeGreaterThan(0.25);
    expect(budgetFraction(60)).toBeLessThan(0.5);
    expect(budgetFraction(10)).toBe(0);
    expect(budgetFraction(1800)).toBe(1);
    for (let i = 1; i < BUDGET_STOPS.length; i++) {
      const ratio = BUDGET_STOPS[i]! / BUDGET_STOPS[i - 1]!;
      expect(ratio).toBeGreaterThan(1.1);
      expect(ratio).toBeLessThanOrEqual(2.5);
    }
  });

  it('snaps a value between stops to the nearer one on a log scale, and round-trips every stop', () => {
    expect(indexToBudget(budgetToIndex(70))).toBe(60);
    expect(indexToBudget(budgetToIndex(80))).toBe(90);
    expect(indexToBudget(budgetToIndex(5))).toBe(10);
    expect(indexToBudget(budgetToIndex(99999))).toBe(1800);
    for (let i = 0; i < BUDGET_STOPS.length; i++) expect(budgetToIndex(indexToBudget(i))).toBe(i);
  });

  it('writes budgets in plain units', () => {
    expect(formatBudget(10)).toBe('10 s');
    expect(formatBudget(60)).toBe('1 min');
    expect(formatBudget(90)).toBe('1 min 30 s');
    expect(formatBudget(1800)).toBe('30 min');
    expect(formatBudget(3600)).toBe('1 h');
  });
});

describe('default window', () => {
  it('is about ten readings rounded to a window a person would pick', () => {
    expect(defaultWindowMinutes(60_000)).toBe(10); // 1 min data → 10 min
    expect(defaultWindowMinutes(1_000)).toBe(1); // 1 s data → at least 1 min
    expect(defaultWindowMinutes(5 * 60_000)).toBe(60); // 5 min data → 50 min → 1 h
    expect(defaultWindowMinutes(10 * 60_000)).toBe(120); // 10 min → 100 min → 2 h
    expect(defaultWindowMinutes(3600_000)).toBe(720); // hourly → 10 h → 12 h
    expect(defaultWindowMinutes(30_000)).toBe(5);
  });

  it('is null without a regular time step', () => {
    expect(defaultWindowMinutes(null)).toBeNull();
    expect(defaultWindowMinutes(0)).toBeNull();
    expect(defaultWindowMinutes(NaN)).toBeNull();
  });

  it('counts the readings a window covers', () => {
    expect(readingsInWindow(10, 60_000)).toBe(10);
    expect(readingsInWindow(1, 15_000)).toBe(4);
    expect(readingsInWindow(10, null)).toBeNull();
  });
});

describe('parseLags', () => {
  it('reads, sorts and de-duplicates whole numbers of rows', () => {
    expect(parseLags('5, 1 2;2')).toEqual({ lags: [1, 2, 5], error: null });
    expect(parseLags('  ')).toEqual({ lags: [], error: null });
  });

  it('names the first bad value and refuses more than ten', () => {
    expect(parseLags('1, 0').error).toContain('"0"');
    expect(parseLags('1, 2.5').error).toContain('"2.5"');
    expect(parseLags('1001').error).toContain('"1001"');
    expect(parseLags('1 2 3 4 5 6 7 8 9 10 11').error).toMatch(/At most 10/);
  });
});

describe('stepProblem', () => {
  it('asks for a dataset and a goal first', () => {
    expect(stepProblem(STEP.goal, choices({ dataset: null }), null, false)).toMatch(/data/);
    expect(stepProblem(STEP.goal, choices({ goal: null }), null, false)).toMatch(/what the model should do/);
    expect(stepProblem(STEP.goal, choices(), null, true)).toMatch(/Looking/);
    expect(stepProblem(STEP.goal, choices(), suggestion(), false)).toBeNull();
  });

  it('shows the first blocker and stops', () => {
    const s = suggestion({ blockers: ['"Machine failure" has only one value, so there is nothing to learn.'] });
    expect(stepProblem(STEP.target, choices(), s, false)).toBe(s.blockers[0]);
    expect(stepProblem(STEP.inputs, choices(), s, false)).toBe(s.blockers[0]);
    expect(stepProblem(STEP.goal, choices({ goal: 'detect_unusual' }), s, false)).toBe(s.blockers[0]);
  });

  it('lets a prediction goal past its first step although the preset target is blocked, so another can be chosen', () => {
    const s = suggestion({ blockers: ['"Machine failure" has only one value, so there is nothing to learn.'] });
    expect(stepProblem(STEP.goal, choices(), s, false)).toBeNull();
    expect(blockersApply(STEP.goal, 'predict_value')).toBe(false);
    expect(blockersApply(STEP.target, 'predict_value')).toBe(true);
    expect(blockersApply(STEP.goal, 'detect_unusual')).toBe(true);
  });

  it('needs a target for prediction goals but not for unusual behaviour', () => {
    expect(stepProblem(STEP.target, choices({ target: null }), suggestion(), false)).toMatch(/predict/);
    expect(stepProblem(STEP.target, choices({ goal: 'detect_unusual', target: null }), suggestion({ task: 'anomaly' }), false)).toBeNull();
    expect(stepProblem(STEP.goal, choices(), suggestion({ targets: [] }), false)).toMatch(/No column/);
    expect(stepProblem(STEP.goal, choices({ goal: 'detect_unusual' }), suggestion({ targets: [] }), false)).toBeNull();
  });

  it('needs at least one input, a valid window and valid lags', () => {
    expect(stepProblem(STEP.inputs, choices({ inputs: [] }), suggestion(), false)).toMatch(/at least one input/);
    // The target itself does not count as an input.
    expect(stepProblem(STEP.inputs, choices({ inputs: ['Machine failure'] }), suggestion(), false)).toMatch(/at least one input/);
    expect(stepProblem(STEP.inputs, choices({ useWindow: true, windowMinutes: null }), suggestion(), false)).toMatch(/window/);
    expect(stepProblem(STEP.inputs, choices({ useWindow: true, windowMinutes: 10 }), suggestion(), false)).toBeNull();
    // Without a time column the window is not used, so it cannot block.
    expect(stepProblem(STEP.inputs, choices({ useWindow: true, windowMinutes: null }), suggestion({ timeColumn: null }), false)).toBeNull();
    expect(stepProblem(STEP.inputs, choices({ lagsText: '1, x' }), suggestion(), false)).toMatch(/"x"/);
  });

  it('checks the advanced settings of the budget step', () => {
    expect(stepProblem(STEP.budget, choices(), suggestion(), false)).toBeNull();
    expect(stepProblem(STEP.budget, choices({ holdoutPercent: 60 }), suggestion(), false)).toMatch(/5 % and 50 %/);
    expect(stepProblem(STEP.budget, choices({ seed: 1.5 }), suggestion(), false)).toMatch(/seed/);
  });
});

describe('buildTrainInput', () => {
  it('sends what was chosen, for the version the suggestion was made on', () => {
    const input = buildTrainInput(choices({ budgetSeconds: 300, holdoutPercent: 25, seed: 7, lagsText: '2, 1' }), suggestion());
    expect(input).toEqual({
      dataset: 'Mill',
      version: 3,
      model: 'Machine failure model',
      task: 'binary',
      target: 'Machine failure',
      labelColumn: null,
      inputs: ['Air temperature', 'Torque'],
      timeColumn: 'Time',
      windowMinutes: null,
      lags: [1, 2],
      holdoutFraction: 0.25,
      timeBudgetSeconds: 300,
      seed: 7,
      algorithms: [],
    });
  });

  it('uses the window only when asked and the data has time order', () => {
    expect(buildTrainInput(choices({ useWindow: true, windowMinutes: 10 }), suggestion()).windowMinutes).toBe(10);
    expect(buildTrainInput(choices({ useWindow: false, windowMinutes: 10 }), suggestion()).windowMinutes).toBeNull();
    const unordered = buildTrainInput(choices({ useWindow: true, windowMinutes: 10, keepTimeOrder: false }), suggestion());
    expect(unordered.timeColumn).toBeNull();
    expect(unordered.windowMinutes).toBeNull();
  });

  it('trains unusual-behaviour models without a target and keeps the label column out of the inputs', () => {
    const c = choices({ goal: 'detect_unusual', target: 'Machine failure', labelColumn: 'TWF', inputs: ['Air temperature', 'TWF'] });
    const input = buildTrainInput(c, suggestion({ task: 'anomaly' }));
    expect(input.task).toBe('anomaly');
    expect(input.target).toBeNull();
    expect(input.labelColumn).toBe('TWF');
    expect(input.inputs).toEqual(['Air temperature']);
  });

  it('uses the typed model name, and drops algorithms that do not fit the task', () => {
    const input = buildTrainInput(choices({ modelName: '  Line 3 failures ', algorithms: ['hgb', 'linear', 'iforest'] }), suggestion());
    expect(input.model).toBe('Line 3 failures');
    expect(input.algorithms).toEqual(['hgb']);
  });

  it('sends only inputs the suggestion still offers', () => {
    expect(effectiveInputs(choices({ inputs: ['Torque', 'Gone'] }), suggestion())).toEqual(['Torque']);
  });
});

describe('small rules', () => {
  it('names the second step after the goal', () => {
    expect(stepLabels('detect_unusual')[1]).toBe('Known problems');
    expect(stepLabels('predict_value')[1]).toBe('What to predict');
    expect(stepLabels(null)).toHaveLength(5);
  });

  it('moves on with Enter from fields but not from buttons or lists', () => {
    expect(enterMeansNext('INPUT', 'number')).toBe(true);
    expect(enterMeansNext('input', 'range')).toBe(true);
    expect(enterMeansNext('input', null)).toBe(true);
    expect(enterMeansNext('BUTTON', null)).toBe(false);
    expect(enterMeansNext('select', null)).toBe(false);
    expect(enterMeansNext('textarea', null)).toBe(false);
    expect(enterMeansNext('div', null)).toBe(true);
  });
});
