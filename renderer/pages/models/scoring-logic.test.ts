import { describe, expect, it } from 'vitest';
import type { Prediction } from '../../../shared/scoring';
import {
  answerWords,
  asScoreResult,
  baseName,
  cellOf,
  changedInputs,
  countWords,
  downloadHref,
  effectAmount,
  fieldLabel,
  filledFrom,
  historyNote,
  initialValues,
  listWords,
  mergeResults,
  metricRows,
  otherRow,
  percent,
  pushRows,
  rowOf,
  shownValue,
  splitInputs,
  splitPushes,
  type FormInput,
  type ModelWords,
} from './scoring-logic';

const binary: ModelWords = { task: 'binary', target: 'Machine failure', classes: ['0', '1'], unit: null };
const multi: ModelWords = { task: 'multiclass', target: 'Type', classes: ['H', 'L', 'M'], unit: null };
const regression: ModelWords = { task: 'regression', target: 'Tool wear', classes: null, unit: 'min' };
const anomaly: ModelWords = { task: 'anomaly', target: null, classes: null, unit: null };

const pred = (p: Partial<Prediction>): Prediction => ({ prediction: null, probabilities: null, score: null, anomaly: null, pushes: [], ...p });

const inputs: FormInput[] = [
  { name: 'Type', kind: 'category', unit: null, levels: ['H', 'L', 'M'], value: 'L' },
  { name: 'Torque', kind: 'number', unit: 'Nm', levels: null, value: 42.8 },
  { name: 'Running', kind: 'boolean', unit: null, levels: null, value: true },
  { name: 'Tool wear', kind: 'number', unit: 'min', levels: null, value: null },
];

describe('the form', () => {
  it('turns cells into field text and back', () => {
    const v = initialValues({ inputs });
    expect(v).toEqual({ Type: 'L', Torque: '42.8', Running: 'true', 'Tool wear': '' });
    expect(rowOf(inputs, v)).toEqual({ Type: 'L', Torque: 42.8, Running: true, 'Tool wear': null });
    expect(cellOf({ kind: 'number' }, ' 1e3 ')).toBe(1000);
    expect(cellOf({ kind: 'number' }, 'abc')).toBeNull();
    expect(cellOf({ kind: 'boolean' }, 'false')).toBe(false);
    expect(cellOf({ kind: 'category' }, '')).toBeNull();
  });

  it('names the fields that no longer hold the row value', () => {
    const v = { ...initialValues({ inputs }), Torque: '60' };
    expect(changedInputs({ inputs }, v)).toEqual(['Torque']);
    expect(listWords(['Torque'])).toBe('Torque');
    expect(listWords(['Type', 'Torque', 'Tool wear'])).toBe('Type, Torque and Tool wear');
    expect(listWords(['a', 'b', 'c', 'd'])).toBe('4 values');
  });

  it('labels fields with their unit and reads values back in words', () => {
    expect(fieldLabel(inputs[1]!)).toBe('Torque (Nm)');
    expect(fieldLabel(inputs[0]!)).toBe('Type');
    expect(shownValue(inputs[1]!, '42.8')).toBe('42.8 Nm');
    expect(shownValue(inputs[2]!, 'false')).toBe('no');
    expect(shownValue(inputs[3]!, '')).toBe('not known');
  });

  it('shows the inputs that mattered most first and folds the rest away', () => {
    const many = Array.from({ length: 14 }, (_, i) => ({ name: `s${i}` }));
    const importance = [
      { input: 's13', drop: 0.5 },
      { input: 's12', drop: 0.4 },
      { input: 's0', drop: NaN },
    ];
    const { shown, more } = splitInputs(many, importance, 10);
    expect(shown).toHaveLength(10);
    expect(shown.map((x) => x.name)).toContain('s13');
    expect(shown.map((x) => x.name)).toContain('s12');
    // Kept in the form's order.
    expect(shown.at(-1)!.name).toBe('s13');
    expect(more.map((x) => x.name)).toEqual(['s8', 's9', 's10', 's11']);
    expect(splitInputs(many.slice(0, 3), importance).more).toEqual([]);
    // One or two inputs are not worth folding away.
    expect(splitInputs(many.slice(0, 12), importance).more).toEqual([]);
  });

  it('says where the values come from and what really happened', () => {
    const form = { row: 1233, dataset: 'ai4i', actual: '1', target: 'Machine failure', task: 'binary' as const };
    expect(filledFrom(form)).toBe(`Filled from row ${(1234).toLocaleString()} of ai4i — what really happened: Machine failure = 1.`);
    expect(filledFrom({ ...form, actual: null })).toBe(`Filled from row ${(1234).toLocaleString()} of ai4i.`);
    expect(filledFrom({ ...form, task: 'regression', target: 'Tool wear', actual: '108' }, 'min')).toContain('Tool wear = 108 min');
    expect(historyNote({ historyRows: 0, row: 5 })).toBeNull();
    expect(historyNote({ historyRows: 30, row: 99 })).toBe('This model also reads the 30 rows before row 100 from the training data.');
  });

  it('picks another row, never the current one or one without history', () => {
    const form = { row: 5, rowCount: 10, historyRows: 3 };
    const seen = new Set<number>();
    for (let k = 0; k < 50; k++) seen.add(otherRow(form, () => k / 50));
    expect([...seen].sort((a, b) => a - b)).toEqual([3, 4, 6, 7, 8, 9]);
    expect(otherRow(form, () => 0.999999)).toBe(9);
    expect(otherRow({ row: 0, rowCount: 1, historyRows: 0 })).toBe(0);
  });
});

describe('the answer in words', () => {
  it('says a yes/no answer with how sure and the alarm level', () => {
    const a = answerWords(pred({ prediction: '1', probabilities: { '0': 0.13, '1': 0.87 } }), binary, 0.4);
    expect(a).toEqual({ headline: 'Machine failure likely', figure: '87\u00a0% sure', detail: 'Chance of Machine failure = 1: 87\u00a0%; the model raises an alarm from 40\u00a0%.', alarm: true });
    const no = answerWords(pred({ prediction: '0', probabilities: { '0': 0.97, '1': 0.03 } }), binary, null);
    expect(no.headline).toBe('Machine failure unlikely');
    expect(no.figure).toBe('97\u00a0% sure');
    expect(no.alarm).toBe(false);
    // An alarm below even odds is a possibility, not a likelihood.
    expect(answerWords(pred({ prediction: '1', probabilities: { '0': 0.7, '1': 0.3 } }), binary, 0.25).headline).toBe('Machine failure possible');
  });

  it('never claims certainty', () => {
    expect(percent(0.9996)).toBe('over 99\u00a0%');
    expect(percent(0.001)).toBe('under 1\u00a0%');
    expect(percent(0.5)).toBe('50\u00a0%');
  });

  it('says a category with the runner-up', () => {
    const a = answerWords(pred({ prediction: 'M', probabilities: { H: 0.1, L: 0.2, M: 0.7 } }), multi, null);
    expect(a.headline).toBe('Type = M');
    expect(a.figure).toBe('70\u00a0% sure');
    expect(a.detail).toBe('Next most likely: L (20\u00a0%).');
  });

  it('says a value with its unit', () => {
    expect(answerWords(pred({ prediction: 123.456 }), regression, null).headline).toBe(`Tool wear: ${(123.5).toLocaleString()} min`);
  });

  it('says unusual or normal with the score against the alarm level', () => {
    const a = answerWords(pred({ prediction: 'unusual', score: 0.8234, anomaly: true }), anomaly, 0.61);
    expect(a).toMatchObject({ headline: 'Unusual', figure: `score ${(0.823).toLocaleString()}`, alarm: true });
    expect(a.detail).toBe(`Above the alarm level of ${(0.61).toLocaleString()}.`);
    expect(answerWords(pred({ prediction: 'normal', score: 0.1, anomaly: false }), anomaly, 0.61).headline).toBe('Normal');
  });
});

describe('what pushed the answer', () => {
  it('writes signed bars and sentences in points of chance', () => {
    const p = pred({
      prediction: '1',
      probabilities: { '0': 0.2, '1': 0.8 },
      pushes: [
        { input: 'Tool wear', effect: -0.05 },
        { input: 'Torque', effect: 0.34 },
        { input: 'Type', effect: 0.0001 },
      ],
    });
    const rows = pushRows(p, binary);
    expect(rows.map((r) => r.input)).toEqual(['Torque', 'Tool wear', 'Type']);
    expect(rows[0]).toMatchObject({ share: 1, valueText: '+34 points', sentence: 'Torque raised the chance of Machine failure by 34 points' });
    expect(rows[1]!.share).toBeCloseTo(-0.05 / 0.34);
    expect(rows[1]!.valueText).toBe('\u22125 points');
    expect(rows[1]!.sentence).toBe('Tool wear lowered the chance of Machine failure by 5 points');
    expect(rows[2]).toMatchObject({ share: 0, valueText: 'no change', sentence: 'Type hardly changed the chance of Machine failure' });
    expect(pushRows(p, binary, 1)).toHaveLength(1);
  });

  it('draws the inputs that moved the answer, at least three, and names the rest', () => {
    const row = (input: string, share: number) => ({ input, effect: share, share, valueText: '', sentence: '' });
    const rows = [row('a', 1), row('b', 0), row('c', 0), row('d', 0), row('e', 0)];
    expect(splitPushes(rows)).toEqual({ bars: rows.slice(0, 3), still: ['d', 'e'], smaller: 0 });
    const moved = [row('a', 1), row('b', -0.5), row('c', 0.2), row('d', 0.1), row('e', 0)];
    expect(splitPushes(moved)).toEqual({ bars: moved.slice(0, 4), still: ['e'], smaller: 0 });
    expect(splitPushes(moved, 3, 2)).toEqual({ bars: moved.slice(0, 2), still: ['e'], smaller: 2 });
    expect(splitPushes(rows.slice(0, 2))).toEqual({ bars: rows.slice(0, 2), still: [], smaller: 0 });
  });

  it('uses the unit of each task', () => {
    expect(effectAmount(0.01, binary)).toBe('1 point');
    expect(effectAmount(0.004, binary)).toBe('0.4 points');
    expect(effectAmount(0.998, binary)).toBe('nearly 100 points');
    expect(effectAmount(0.998, binary, true)).toBe('100 points');
    expect(effectAmount(-8.938, regression)).toBe(`${(8.94).toLocaleString()} min`);
    expect(effectAmount(0.1234, anomaly)).toBe((0.123).toLocaleString());
    expect(pushRows(pred({ prediction: 'M', pushes: [{ input: 'Torque', effect: 0.12 }] }), multi)[0]!.sentence).toBe('Torque raised the chance of Type = M by 12 points');
    expect(pushRows(pred({ prediction: 5, pushes: [{ input: 'Torque', effect: 2 }] }), regression)[0]!.sentence).toBe('Torque raised the predicted Tool wear by 2 min');
    expect(pushRows(pred({ score: 1, pushes: [{ input: 'Torque', effect: -0.5 }] }), anomaly)[0]!.sentence).toBe('Torque lowered the unusual-behaviour score by 0.5');
  });
});

describe('a scored file', () => {
  const result = { model: 'm', version: 2, file: '/u/ai4i-200.csv', rows: 200, out: 'C:\\ws\\exports\\ai4i-200 scored by m v2.csv', added: ['prediction', 'probability_0', 'probability_1'], counts: { '0': 193, '1': 7 }, metrics: null };

  it('reads a job result and merges the check into the scoring', () => {
    expect(asScoreResult(null)).toBeNull();
    expect(asScoreResult({ rows: 'x' })).toBeNull();
    expect(asScoreResult(result)).toEqual(result);
    const checked = { ...result, out: null, metrics: { accuracy: 0.98, rows: 200 } };
    expect(mergeResults(asScoreResult(result), checked)).toEqual({ ...result, metrics: checked.metrics });
    expect(mergeResults(null, checked)).toBe(checked);
  });

  it('counts the answers in words', () => {
    expect(countWords(result, binary)).toBe('7 of 200 rows predicted as Machine failure.');
    expect(countWords({ rows: 10_000, counts: { anomaly: 312 } }, anomaly)).toBe(`312 of ${(10_000).toLocaleString()} rows flagged as unusual.`);
    expect(countWords({ rows: 3, counts: { L: 2, M: 1 } }, multi)).toBe('Of 3 rows, 2 predicted as Type = L, 1 as Type = M.');
    expect(countWords(result, regression)).toBeNull();
  });

  it('names the metrics as the report page does, in its order', () => {
    const rows = metricRows({ rows: 200, log_loss: 0.1234, roc_auc: 0.91, accuracy: 0.975, custom: 2 });
    expect(rows.map((r) => r.key)).toEqual(['accuracy', 'roc_auc', 'log_loss', 'custom']);
    expect(rows[0]).toEqual({ key: 'accuracy', label: 'Right', text: '97.5 %' });
    expect(metricRows({ mae: 1.5 }, 'min')[0]!.text).toBe(`${(1.5).toLocaleString()} min`);
    expect(metricRows(null)).toEqual([]);
  });

  it('finds the file name on either system and builds the download link', () => {
    expect(baseName(result.out)).toBe('ai4i-200 scored by m v2.csv');
    expect(baseName('/a/b.csv')).toBe('b.csv');
    expect(downloadHref('/ws/exports/a b.csv', 't&k')).toBe('./api/download?file=a%20b.csv&token=t%26k');
  });
});
