import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Input, JobInfo, MethodName, ModelSummary, Output, Suggestion } from '../../../shared/api';
import type { TrainingReport } from '../../../shared/training';
import { createCore, type Core } from '../compose';
import type { TrainJobResult } from '../jobs/kinds/train';
import type { FittedPipeline } from './pipeline';

const AI4I = '/work/shared/data/ai4i2020/ai4i2020.csv';

let root: string;
let core: Core;

/** Calls the API as the app does, unwrapping the reply (a refusal becomes an error with its code). */
async function call<K extends MethodName>(name: K, arg: Input<K> | Record<string, unknown>): Promise<Output<K>> {
  const env = await core.call(name, arg);
  if (!env.ok) throw Object.assign(new Error(env.error.message), { code: env.error.code, field: env.error.field });
  return env.value as Output<K>;
}

async function importFile(file: string, name: string): Promise<void> {
  const inspected = await call('imports.inspect', { paths: [file] });
  const job = await call('imports.analyze', { paths: [file], settings: inspected.settings, save: { name } });
  const done = await core.jobs.wait(job.id);
  if (done.state !== 'done') throw new Error(`import failed: ${JSON.stringify(done.error)}`);
}

async function train(input: Record<string, unknown>): Promise<{ job: JobInfo; result: TrainJobResult }> {
  const job = await call('training.start', input);
  const done = await core.jobs.wait(job.id);
  if (done.state !== 'done') throw new Error(`training failed: ${JSON.stringify(done.error)}`);
  return { job: done, result: done.result as TrainJobResult };
}

async function badInput(input: Record<string, unknown>): Promise<string> {
  try {
    await call('training.start', input);
  } catch (e) {
    expect((e as { code?: string }).code).toBe('bad_input');
    return (e as Error).message;
  }
  throw new Error('expected the request to be refused');
}

function writeCsv(name: string, header: string[], rows: (string | number)[][]): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return file;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-train-'));
  core = createCore({ workspaceDir: path.join(root, 'ws') });
  await importFile(AI4I, 'ai4i');
  // A value that depends on two sensors, over time: for regression and time-ordered holdouts.
  const t0 = Date.UTC(2024, 0, 1);
  const rows: (string | number)[][] = [];
  for (let i = 0; i < 3000; i++) {
    const a = Math.sin(i / 10) * 5 + 20;
    const b = ((i * 37) % 101) / 10;
    rows.push([new Date(t0 + i * 60_000).toISOString(), a.toFixed(4), b.toFixed(4), (2 * a - 3 * b + 1).toFixed(4), 'same', `row${i}`]);
  }
  // Three related sensors with two upsets late in the record, and a column marking them.
  const sensors: (string | number)[][] = [];
  for (let i = 0; i < 4000; i++) {
    const load = 50 + 10 * Math.sin(i / 50) + ((i * 7919) % 13) / 13;
    const upset = (i >= 3400 && i < 3430) || (i >= 3700 && i < 3720);
    const temp = 20 + 0.5 * load + (upset ? 15 : 0) + ((i * 104729) % 7) / 14;
    const current = 2 * load + ((i * 1299709) % 11) / 11;
    sensors.push([new Date(t0 + i * 60_000).toISOString(), load.toFixed(3), temp.toFixed(3), current.toFixed(3), upset ? 1 : 0, ['A', 'B', 'C'][Math.floor(load / 7) % 3]!]);
  }
  // A failure that depends smoothly on two inputs (a line suits it) and
  // abruptly on a third (a tree suits it): a blend of the two beats either.
  const mixed: (string | number)[][] = [];
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 3000; i++) {
    const a = rand(), b = rand(), c = rand();
    const logit = 6 * (a + b - 1) + (c > 0.7 ? 4 : -1) + 2 * (rand() - 0.5);
    mixed.push([a.toFixed(4), b.toFixed(4), c.toFixed(4), logit > 0 ? 'fail' : 'ok']);
  }
  await importFile(writeCsv('mixed.csv', ['A', 'B', 'C', 'Outcome'], mixed), 'mixed');
  await importFile(writeCsv('motor.csv', ['Time', 'Load', 'Winding temp', 'Current', 'Known problem', 'Grade'], sensors), 'motor');
  await importFile(writeCsv('plant.csv', ['Time', 'Flow', 'Pressure', 'Yield', 'Constant', 'Note'], rows), 'plant');
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('suggestions for the AI4I predictive-maintenance data', () => {
  let s: Suggestion;
  beforeAll(async () => {
    s = await call('training.suggest', { dataset: 'ai4i', goal: 'predict_category' });
  });

  it('recommends "Machine failure" as the target and calls the goal binary', () => {
    expect(s.targets[0]!.name).toBe('Machine failure');
    expect(s.targets[0]!.recommended).toBe(true);
    expect(s.task).toBe('binary');
    expect(s.blockers).toEqual([]);
  });

  it('unticks the failure-mode flags as leaks and the identifiers as IDs, with the reason shown', () => {
    const by = new Map(s.inputs.map((i) => [i.name, i]));
    for (const leak of ['TWF', 'HDF', 'PWF', 'OSF']) {
      expect(by.get(leak)!.selected, leak).toBe(false);
      expect(by.get(leak)!.leak, leak).toBe(true);
      expect(by.get(leak)!.reason).toMatch(/gives the answer away/);
    }
    for (const id of ['UDI', 'Product ID']) {
      expect(by.get(id)!.selected).toBe(false);
      expect(by.get(id)!.leak).toBe(false);
      expect(by.get(id)!.reason).toMatch(/ID or a row number/);
    }
    for (const sensor of ['Type', 'Air temperature', 'Process temperature', 'Rotational speed', 'Torque', 'Tool wear']) expect(by.get(sensor)?.selected, sensor).toBe(true);
  });
});

describe('training a failure classifier on AI4I', () => {
  let first: TrainJobResult;
  let report: TrainingReport;

  beforeAll(async () => {
    first = (await train({ dataset: 'ai4i', task: 'binary', target: 'Machine failure', algorithms: ['hgb', 'logistic'], timeBudgetSeconds: 60, model: 'failures' })).result;
    report = (await call('models.report', { model: 'failures' })) as TrainingReport;
  }, 120_000);

  it('keeps the best model as version 1 and ranks by ROC AUC on a stratified 20% holdout', () => {
    expect(first.model).toBe('failures');
    expect(first.version).toBe(1);
    expect(report.metric.key).toBe('roc_auc');
    expect(report.holdout).toEqual({ kind: 'random', rows: 2000, fraction: 0.2 });
    const done = report.leaderboard.filter((e) => e.status === 'done');
    expect(new Set(done.map((e) => e.algorithm))).toEqual(new Set(['hgb', 'logistic']));
    expect(done.length).toBe(report.leaderboard.length);
    // Small tables are ranked by 5-fold cross-validation on the training rows; the holdout only reports.
    for (const e of done) expect(e.metrics.cv_roc_auc).toBeGreaterThan(0.8);
    expect(report.finalRows).toBe(10_000);
    const best = report.leaderboard[report.bestIndex]!;
    for (const e of done) expect(best.metrics.cv_roc_auc!).toBeGreaterThanOrEqual(e.metrics.cv_roc_auc!);
    expect(best.algorithm).toBe('hgb');
    expect(best.metrics.roc_auc!).toBeGreaterThan(0.95);
    expect(report.sentences[report.bestIndex]).toMatch(/^Gradient boosting.*: right \d+ times out of 100 on a random 20% of the rows kept aside/);
  });

  it('reports a confusion matrix, curves, a threshold table and the inputs that mattered', () => {
    const c = report.confusion!;
    expect(c.flat().reduce((a, b) => a + b, 0)).toBe(2000);
    expect(c[1]![0]! + c[1]![1]!).toBe(68); // 3.39% of 2000 failures, stratified
    expect(report.roc!.fpr[0]).toBe(0);
    expect(report.roc!.tpr.at(-1)).toBe(1);
    expect(report.thresholds!).toHaveLength(101);
    const at0 = report.thresholds![0]!;
    expect(at0.tp + at0.fn).toBe(68);
    expect(at0.fn).toBe(0);
    expect(report.importance.map((i) => i.input).slice(0, 3)).toEqual(expect.arrayContaining(['Torque']));
    expect(report.features).not.toContain('TWF');
  });

  it('is deterministic: the same data, settings and seed give byte-identical models', async () => {
    const again = (await train({ dataset: 'ai4i', task: 'binary', target: 'Machine failure', algorithms: ['hgb', 'logistic'], timeBudgetSeconds: 60, model: 'failures' })).result;
    expect(again.version).toBe(2);
    expect(again.modelHash).toBe(first.modelHash);
    const other = (await train({ dataset: 'ai4i', task: 'binary', target: 'Machine failure', algorithms: ['hgb'], seed: 5, timeBudgetSeconds: 60, model: 'failures' })).result;
    // Another seed deals another holdout, so the judged figures differ.
    expect(other.report.confusion).not.toEqual(first.report.confusion);
    const list = (await call('models.list', {})) as ModelSummary[];
    const m = list.find((x) => x.name === 'failures')!;
    expect(m.versions).toBe(3);
    expect(m.latest.metric.key).toBe('roc_auc');
    const row = core.ws.db.prepare("SELECT model_blob FROM model_versions mv JOIN models m ON m.id = mv.model_id WHERE m.name = 'failures' AND mv.version = 1").get() as { model_blob: string };
    const stored = JSON.parse(core.ws.blobs.read(row.model_blob).toString('utf8')) as FittedPipeline;
    expect(stored.plan.inputs.map((i) => i.name)).not.toContain('UDI');
  }, 120_000);
});

describe('regression and time order', () => {
  it('learns a linear relation and holds out the last 20% of the time range', async () => {
    const { result } = await train({ dataset: 'plant', task: 'regression', target: 'Yield', inputs: ['Flow', 'Pressure'], algorithms: ['linear', 'hgb'], timeBudgetSeconds: 60 });
    const r = result.report;
    expect(r.holdout.kind).toBe('time');
    expect(r.holdout.rows).toBe(600);
    expect(r.leaderboard[r.bestIndex]!.algorithm).toBe('linear');
    expect(r.metrics.rmse!).toBeLessThan(0.01);
    expect(r.metrics.r2!).toBeGreaterThan(0.9999);
    expect(r.series!.xIsTime).toBe(true);
    expect(Math.min(...r.series!.x)).toBeGreaterThanOrEqual(r.holdout.kind === 'time' ? r.holdout.from : 0);
    expect(r.sentences[r.bestIndex]).toMatch(/on the last (ten|\d+) hours of data/);
  }, 60_000);

  it('window features only add information from the past: the model still trains and names them', async () => {
    const { result } = await train({ dataset: 'plant', task: 'regression', target: 'Yield', inputs: ['Flow', 'Pressure'], windowMinutes: 10, algorithms: ['linear'], timeBudgetSeconds: 60, model: 'windowed' });
    expect(result.report.features).toContain('Flow mean 10 min');
    expect(result.report.features).toContain('Pressure slope 10 min');
  }, 60_000);
});

describe('anomaly detection and categories', () => {
  it('learns normal behaviour without labels and judges it by known problems when a label column is given', async () => {
    const { result } = await train({ dataset: 'motor', task: 'anomaly', labelColumn: 'Known problem', inputs: ['Load', 'Winding temp', 'Current'], timeBudgetSeconds: 60, model: 'motor watch' });
    const r = result.report;
    expect(r.metric.key).toBe('event_f1');
    expect(r.leaderboard.filter((e) => e.status === 'done').map((e) => e.algorithm)).toEqual(expect.arrayContaining(['pca', 'iforest']));
    expect(r.metrics.events).toBe(2);
    expect(r.metrics.events_caught).toBe(2);
    expect(r.metrics.event_f1!).toBeGreaterThan(0.6);
    expect(r.series!.score!.length).toBeGreaterThan(100);
    expect(r.importance[0]!.input).toBe('Winding temp');
    expect(r.sentences[r.bestIndex]).toMatch(/caught 2 of 2 known problems/);
  }, 120_000);

  it('without labels ranks by the stability of the score on normal data', async () => {
    const { result } = await train({ dataset: 'motor', task: 'anomaly', inputs: ['Load', 'Winding temp', 'Current'], algorithms: ['pca'], timeBudgetSeconds: 60, model: 'motor watch unlabelled' });
    expect(result.report.metric.key).toBe('stability');
    expect(result.report.metrics.stability!).toBeGreaterThan(0.5);
    expect(result.report.metrics.stability!).toBeLessThanOrEqual(1);
  }, 60_000);

  it('predicts one of three grades and ranks by macro F1', async () => {
    const { result } = await train({ dataset: 'motor', task: 'multiclass', target: 'Grade', inputs: ['Load', 'Current'], algorithms: ['tree', 'logistic'], timeBudgetSeconds: 60, timeColumn: null });
    const r = result.report;
    expect(r.task).toBe('multiclass');
    expect(r.metric.key).toBe('f1');
    expect(r.classes).toEqual(['A', 'B', 'C']);
    expect(r.confusion).toHaveLength(3);
    expect(r.metrics.f1!).toBeGreaterThan(0.9);
  }, 60_000);
});

describe('blending the best models', () => {
  it('keeps a weighted blend when it beats every single model in cross-validation, and the blend is deterministic', async () => {
    const input = { dataset: 'mixed', task: 'binary', target: 'Outcome', algorithms: ['logistic', 'tree'], timeBudgetSeconds: 60, model: 'mixed blend' };
    const { result } = await train(input);
    const r = result.report;
    const best = r.leaderboard[r.bestIndex]!;
    expect(best.algorithm).toBe('ensemble');
    expect(best.title).toMatch(/^Blend of [2-4] models$/);
    const singles = r.leaderboard.filter((e) => e.status === 'done' && e.algorithm !== 'ensemble');
    for (const e of singles) expect(best.metrics.cv_roc_auc!).toBeGreaterThan(e.metrics.cv_roc_auc!);
    // Members and weights, named as on the leaderboard.
    const weights = Object.entries(best.params);
    expect(weights.length).toBeGreaterThanOrEqual(2);
    for (const [name] of weights) expect(singles.map((e) => e.title)).toContain(name);
    expect(weights.reduce((a, [, w]) => a + Number(w), 0)).toBeCloseTo(1, 2);
    const row = core.ws.db.prepare("SELECT model_blob FROM model_versions mv JOIN models m ON m.id = mv.model_id WHERE m.name = 'mixed blend' AND mv.version = 1").get() as { model_blob: string };
    const stored = JSON.parse(core.ws.blobs.read(row.model_blob).toString('utf8')) as FittedPipeline;
    expect(stored.algorithm).toBe('ensemble');
    expect(stored.learner.kind).toBe('ensemble');
    if (stored.learner.kind === 'ensemble') {
      expect(new Set(stored.learner.members.map((m) => m.algorithm))).toEqual(new Set(['logistic', 'tree']));
      // The logistic member keeps its own standardisation inside the blend.
      expect(stored.learner.members.find((m) => m.algorithm === 'logistic')!.prep).toBe('standardise');
    }
    expect(r.importance.length).toBeGreaterThan(0);
    expect(r.sentences[r.bestIndex]).toMatch(/^Blend of \d models: right \d+ times out of 100/);
    const again = (await train(input)).result;
    expect(again.modelHash).toBe(result.modelHash);
  }, 120_000);
});

describe('bad requests are refused before any work, with the reason', () => {
  it('an unknown column names the column and the ones that exist', async () => {
    expect(await badInput({ dataset: 'ai4i', task: 'binary', target: 'Failure' })).toMatch(/no column "Failure".*Machine failure/);
    expect(await badInput({ dataset: 'ai4i', task: 'binary', target: 'Machine failure', inputs: ['Torque', 'Speed'] })).toMatch(/no column "Speed"/);
  });

  it('a target with one value, text predicted as a value, and the target as an input', async () => {
    expect(await badInput({ dataset: 'plant', task: 'binary', target: 'Constant' })).toMatch(/only one value/);
    expect(await badInput({ dataset: 'ai4i', task: 'regression', target: 'Type' })).toMatch(/cannot be predicted as a value/);
    expect(await badInput({ dataset: 'ai4i', task: 'binary', target: 'Machine failure', inputs: ['Machine failure', 'Torque'] })).toMatch(/is the target/);
  });

  it('too few rows', async () => {
    await importFile(writeCsv('tiny.csv', ['a', 'b'], Array.from({ length: 12 }, (_, i) => [i, i % 2])), 'tiny');
    expect(await badInput({ dataset: 'tiny', task: 'binary', target: 'b' })).toMatch(/at least 30/);
  });
});
