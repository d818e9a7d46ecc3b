import { describe, expect, it } from 'vitest';
import { csvFileName, describeAudit, restOf, showValue } from './audit-words';

const words = (action: string, details: Record<string, unknown>) => describeAudit({ action, details });

describe('describeAudit', () => {
  it('says an alias move with where it came from and why', () => {
    const w = words('model.alias', { model: 'P-101 trips', alias: 'production', from: 2, to: 3, reason: 'Retrained with April data' });
    expect(w.sentence).toBe('Moved production of P-101 trips from version 2 to 3: Retrained with April data');
    expect(w.about).toEqual([{ kind: 'model', name: 'P-101 trips' }]);
    expect(w.details).toBe('');
  });

  it('says the first alias and an alias taken off', () => {
    expect(words('model.alias', { model: 'Mill', alias: 'production', from: null, to: 1, reason: 'First model' }).sentence).toBe('Made version 1 of Mill production: First model');
    expect(words('model.alias', { model: 'Mill', alias: 'challenger', from: null, to: 2, reason: 'On trial' }).sentence).toBe('Made version 2 of Mill the challenger: On trial');
    expect(words('model.alias', { model: 'Mill', alias: 'challenger', from: 4, to: null, reason: 'trial over' }).sentence).toBe('Took the challenger off version 4 of Mill: trial over');
  });

  it('says archive and restore, with the reason only when there is one', () => {
    expect(words('model.archive', { model: 'Mill', version: 2, reason: 'superseded' }).sentence).toBe('Archived version 2 of Mill: superseded');
    expect(words('model.archive', { model: 'Mill', version: 2, reason: null }).sentence).toBe('Archived version 2 of Mill');
    expect(words('model.restore', { model: 'Mill', version: 2 }).sentence).toBe('Restored version 2 of Mill');
  });

  it('names the algorithm of a trained version and keeps the rest as details', () => {
    const w = words('model.version', { model: 'Mill', version: 2, run: 'run_1', algorithm: 'hgb', metrics: { roc_auc: 0.97157 }, modelHash: 'a'.repeat(64) });
    expect(w.sentence).toBe('Trained version 2 of Mill (Gradient boosting)');
    expect(w.details).toBe('ROC AUC 0.972 · run run_1');
  });

  it('says a reproduction in one word when identical and counts the differences otherwise', () => {
    expect(words('model.reproduce', { model: 'Mill', version: 2, identical: true, differences: [] }).sentence).toBe('Reproduced version 2 of Mill: identical, same ONNX hash');
    const w = words('model.reproduce', { model: 'Mill', version: 2, identical: false, differences: ['It was trained with Millwright 0.1.0; this is 0.2.0.'] });
    expect(w.sentence).toBe('Reproduced version 2 of Mill: not identical (1 difference)');
    expect(w.details).toContain('0.2.0');
  });

  it('says imports with rows, files and skipped rows', () => {
    const w = words('dataset.version', { dataset: 'Pumps', version: 3, rows: 12040, files: ['a.csv', 'b.csv'], rejectedRows: 2 });
    expect(w.sentence).toBe('Saved version 3 of Pumps: 12,040 rows from a.csv, b.csv, 2 rows skipped');
    expect(w.about).toEqual([{ kind: 'dataset', name: 'Pumps' }]);
    expect(words('dataset.create', { id: 'ds_1', name: 'Pumps' }).sentence).toBe('Added the dataset Pumps');
  });

  it('says use case work: created, assigned, taken out, changed', () => {
    const created = words('usecase.create', { id: 'uc_1', name: 'P-101', goal: 'Warn 2 hours before pump P-101 trips', kpi: 'missed trips per month' });
    expect(created.sentence).toBe('Created the use case P-101: Warn 2 hours before pump P-101 trips');
    expect(created.details).toBe('KPI missed trips per month');
    const put = words('usecase.assign', { useCase: 'P-101', model: 'Trips', kind: 'model' });
    expect(put.sentence).toBe('Put the model Trips under the use case P-101');
    expect(put.about).toEqual([
      { kind: 'useCase', name: 'P-101' },
      { kind: 'model', name: 'Trips' },
    ]);
    expect(words('usecase.assign', { useCase: null, dataset: 'Pumps', kind: 'dataset' }).sentence).toBe('Took the dataset Pumps out of its use case');
    const changed = words('usecase.update', { id: 'uc_1', name: 'P-101', before: { name: 'P-101', goal: 'old', kpi: 'k' }, after: { name: 'P-101', goal: 'new', kpi: 'k' } });
    expect(changed.sentence).toBe('Changed the goal of the use case P-101');
    expect(changed.details).toBe('goal “old” → “new”');
    const renamed = words('usecase.update', { id: 'uc_1', name: 'P-102', before: { name: 'P-101', goal: 'g', kpi: 'a' }, after: { name: 'P-102', goal: 'g', kpi: 'b' } });
    expect(renamed.sentence).toBe('Renamed the use case P-101 to P-102 and changed the KPI');
  });

  it('says background tasks without dumping their parameters', () => {
    const w = words('job.start', { id: 'job_1', kind: 'models.train', params: { modelName: 'Mill', dataset: 'Pumps', schema: [{ name: 'x' }] } });
    expect(w.sentence).toBe('Started a task: training a model (Mill)');
    expect(w.details).toBe('task job_1');
    expect(w.about).toEqual([{ kind: 'model', name: 'Mill' }]);
    expect(words('job.cancel', { id: 'job_2', kind: 'system.check' }).sentence).toBe('Cancelled a task: a check of this PC');
    expect(words('jobs.recover', { interrupted: ['job_3', 'job_4'] }).sentence).toBe('Marked 2 tasks as interrupted after a restart');
  });

  it('shows an unknown action as it is, with its details in words', () => {
    const w = words('monitor.alert', { endpoint: 'edge-1', latencyMs: 12.345, ok: false });
    expect(w.sentence).toBe('monitor.alert');
    expect(w.details).toBe('endpoint edge-1 · latency ms 12.3 · ok no');
  });
});

describe('helpers', () => {
  it('shortens hashes and joins lists', () => {
    expect(showValue('f'.repeat(64))).toBe('ffffffffffff…');
    expect(showValue(['a', 'b'])).toBe('a, b');
    expect(showValue(1234567)).toBe('1,234,567');
  });

  it('leaves out used, empty and missing details', () => {
    expect(restOf({ a: 1, b: null, c: [], d: 'x' }, ['a'])).toBe('d x');
  });

  it('names an export file by day and use case', () => {
    expect(csvFileName(new Date(2026, 3, 5, 10), null)).toBe('millwright-audit-2026-04-05.csv');
    expect(csvFileName(new Date(2026, 3, 5, 10), 'P-101 trips')).toBe('millwright-audit-p-101-trips-2026-04-05.csv');
  });
});
