import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingReport } from '../../../shared/training';
import { coreCaller, importCsv, trainModel } from '../../test-support/core-call';
import { createCore, type Core } from '../compose';
import { findVersion } from '../datasets/versions';
import { DatasetReader } from '../datasets/reader';
import { modelLineage } from '../registry/lineage';
import { scoreColumns, type Scored } from '../scoring/inference';
import { modelOnnx, readPipeline } from '../scoring/onnx-store';
import { buildFeatures } from '../training/features';
import { loadFrame } from '../training/frame';
import { findModelVersion } from '../training/models';
import { predictFeatures } from '../training/pipeline';
import type { ReproduceResult } from '../jobs/kinds/reproduce';
import { AuditLog } from '../workspace/audit';
import { insertEpisode, writeLineCsv } from './learning-fixture';
import { suggestLevel, tallyAt, type Peak } from './recalibrate';

const real = (...s: number[]): Peak[] => s.map((score) => ({ score, real: true }));
const normal = (...s: number[]): Peak[] => s.map((score) => ({ score, real: false }));

describe('the alarm level the answers suggest', () => {
  it('raises it to avoid the most false alarms while every real problem is still caught', () => {
    const peaks = [...real(0.7, 0.74, 0.8, 0.9, 0.95), ...normal(0.62, 0.64, 0.66, 0.72)];
    const s = suggestLevel(peaks, 0.61);
    // Between the highest normal peak below every real one (0.66) and the lowest real peak (0.7).
    expect(s.suggested).toBe(0.68);
    expect(s.before).toEqual({ caught: 5, missed: 0, falseAlarms: 4, quiet: 0 });
    expect(s.after).toEqual({ caught: 5, missed: 0, falseAlarms: 1, quiet: 3 });
    expect(s.sentence).toBe('Raising the alarm level from 0.61 to 0.68 would have avoided 3 of 4 false alarms and still caught all 5 real problems.');
  });

  it('flags an episode only when its peak is above the level, so a normal peak equal to a real one stays a false alarm', () => {
    expect(tallyAt(real(0.7), 0.7)).toEqual({ caught: 0, missed: 1, falseAlarms: 0, quiet: 0 });
    const s = suggestLevel([...real(0.7, 0.8, 0.9), ...normal(0.65, 0.7, 0.7)], 0.6);
    expect(s.suggested).toBeGreaterThanOrEqual(0.65);
    expect(s.suggested).toBeLessThan(0.7);
    expect(s.after).toEqual({ caught: 3, missed: 0, falseAlarms: 2, quiet: 1 });
    expect(s.sentence).toBe(`Raising the alarm level from 0.6 to ${s.suggested} would have avoided 1 of 3 false alarms and still caught all 3 real problems.`);
    // Every false alarm gone: "all" of them.
    expect(suggestLevel([...real(0.9), ...normal(0.7, 0.75)], 0.6).sentence).toBe('Raising the alarm level from 0.6 to 0.8 would have avoided all 2 false alarms and still caught the real problem.');
  });

  it('says honestly when no level separates them, and offers the best trade-off only when it is worth it', () => {
    // False alarms above every real problem: dropping them would miss both real ones (each weighs two false alarms).
    const none = suggestLevel([...real(0.7, 0.72), ...normal(0.8, 0.9, 0.95)], 0.6);
    expect(none.suggested).toBeNull();
    expect(none.after).toBeNull();
    expect(none.sentence).toBe('No alarm level would have avoided a false alarm and still caught all 2 real problems: the false alarms scored as high as the real problems, so the alarm level stays at 0.6. Retraining on the answers can teach the model the difference.');
    // Four false alarms between the real problems: missing the lowest real one avoids all four.
    const trade = suggestLevel([...real(0.7, 0.9, 0.95), ...normal(0.72, 0.75, 0.8, 0.85)], 0.6);
    expect(trade.suggested).toBe(0.88);
    expect(trade.after).toEqual({ caught: 2, missed: 1, falseAlarms: 0, quiet: 4 });
    expect(trade.sentence).toBe('No alarm level would have avoided a false alarm and still caught all 3 real problems; the best trade-off, raising it from 0.6 to 0.88, would have avoided all 4 false alarms but missed 1 of 3 real problems.');
  });

  it('suggests nothing from too few answers, without a real problem, or when the level is already right', () => {
    const few = suggestLevel([...real(0.9), ...normal(0.7)], 0.6);
    expect(few.suggested).toBeNull();
    expect(few.sentence).toBe('Only 2 episodes are answered as a real problem or normal operation; at least 3 are needed before the answers can suggest an alarm level.');
    expect(suggestLevel([], 0.6).sentence).toBe('No episode is answered yet as a real problem or normal operation; at least 3 are needed before the answers can suggest an alarm level.');
    expect(suggestLevel(normal(0.7, 0.8, 0.9), 0.6).sentence).toBe('None of the 3 answered episodes is a real problem yet, so another alarm level cannot be checked against one; the alarm level stays at 0.6.');
    const right = suggestLevel(real(0.7, 0.8, 0.9), 0.6);
    expect(right.suggested).toBeNull();
    expect(right.sentence).toBe('The alarm level 0.6 caught all 3 real problems without a false alarm on the answered episodes; no change is needed.');
  });

  it('lowers the level when real problems were missed', () => {
    const s = suggestLevel([...real(0.55, 0.8, 0.9), ...normal(0.5, 0.52)], 0.6);
    expect(s.before.missed).toBe(1);
    expect(s.suggested).toBeGreaterThanOrEqual(0.52);
    expect(s.suggested).toBeLessThan(0.55);
    expect(s.after).toEqual({ caught: 3, missed: 0, falseAlarms: 0, quiet: 2 });
    expect(s.sentence).toBe(`Lowering the alarm level from 0.6 to ${s.suggested} would have caught all 3 real problems (1 missed at 0.6).`);
  });

  it('a suggested level lies strictly above the false alarm it avoids and strictly below the real problem it catches (the graph flags score > level)', () => {
    // The shortest number between 0.5 and 0.54 is 0.5 itself: a row scoring 0.50000001 would still be flagged.
    const raised = suggestLevel([...normal(0.5), ...real(0.54, 0.6, 0.7)], 0.45);
    expect(raised.suggested!).toBeGreaterThan(0.5);
    expect(raised.suggested!).toBeLessThan(0.54);
    expect(raised.sentence).toBe(`Raising the alarm level from 0.45 to ${raised.suggested} would have avoided the false alarm and still caught all 3 real problems.`);
    const lowered = suggestLevel([...normal(0.3), ...real(0.4, 0.6, 0.7)], 0.5);
    expect(lowered.suggested!).toBeGreaterThan(0.3);
    expect(lowered.suggested!).toBeLessThan(0.4);
  });
});

let root: string;
let core: Core;
const call = coreCaller(() => core);

async function scoreWithOnnx(model: string, version: number): Promise<Scored & { threshold: number }> {
  const v = findModelVersion(core.ws.db, model, version);
  const stored = modelOnnx(core.ws, v);
  const dv = findVersion(core.ws.db, v.dataset, v.datasetVersion);
  const frame = loadFrame(core.ws.blobs, dv.schema, dv.rowCount, v.inputs, dv.timeColumn);
  const session = await ort.InferenceSession.create(stored.bytes);
  const score: number[] = [], anomaly: number[] = [];
  await scoreColumns(session, stored.signature, frame.columns, frame.rows, (b) => {
    score.push(...b.score!);
    anomaly.push(...b.anomaly!);
  });
  await session.release();
  return { rows: frame.rows, score: Float32Array.from(score), anomaly: Uint8Array.from(anomaly), threshold: stored.signature.threshold! };
}

describe('a model version with another alarm level', () => {
  let current: number;
  let top: number;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-recalibrate-'));
    core = createCore({ workspaceDir: path.join(root, 'ws'), monitor: false, resumeEndpoints: false });
    await importCsv(core, call, writeLineCsv(root, 2000, [[400, 410], [1200, 1206], [1700, 1705]]), 'line');
    await trainModel(core, call, { dataset: 'line', task: 'anomaly', algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'L-1' });
    await call('models.promote', { model: 'L-1', version: 1, alias: 'production', reason: 'first model' });
    current = readPipeline(core.ws, findModelVersion(core.ws.db, 'L-1', 1)).threshold!;
    // Peaks between the alarm level and the highest score (the hot stretches), so the new level still flags some rows.
    top = Math.max(...(await scoreWithOnnx('L-1', 1)).score!);
    const ep = (from: number, peak: number, verdict: 'real' | 'normal' | 'unsure') => insertEpisode(core.ws, { model: 'L-1', version: 1, from, to: from + 3, peakScore: current + peak * (top - current), verdict, cause: verdict === 'real' ? 'Cooling fan' : undefined });
    ep(400, 0.9, 'real');
    ep(1200, 0.8, 'real');
    ep(1700, 1, 'real');
    ep(100, 0.1, 'normal');
    ep(600, 0.3, 'normal');
    ep(900, 0.85, 'normal');
    ep(1000, 0.2, 'unsure');
  }, 120_000);

  afterAll(async () => {
    await core?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('reads the production version, its alarm level and its answered episodes', async () => {
    const r = await call('feedback.recalibration', { model: 'L-1' });
    expect(r).toMatchObject({ model: 'L-1', version: 1, current, answered: { real: 3, normal: 3 }, before: { caught: 3, missed: 0, falseAlarms: 3, quiet: 0 }, after: { caught: 3, missed: 0, falseAlarms: 1, quiet: 2 } });
    expect(r.suggested!).toBeGreaterThanOrEqual(current + 0.3 * (top - current));
    expect(r.suggested!).toBeLessThan(current + 0.8 * (top - current));
    expect(r.sentence).toMatch(/^Raising the alarm level from [\d.]+ to [\d.]+ would have avoided 2 of 3 false alarms and still caught all 3 real problems\.$/);
  });

  it('makes a challenger whose ONNX graph flags exactly the rows scoring above the new level', async () => {
    const r = await call('feedback.recalibration', { model: 'L-1' });
    const made = await call('feedback.applyThreshold', { model: 'L-1', threshold: r.suggested!, reason: 'Answers from the night shift' });
    expect(made.version).toBe(2);
    expect(made.aliases).toEqual(['challenger']);
    expect(findModelVersion(core.ws.db, 'L-1', 'production').version).toBe(1);

    const before = await scoreWithOnnx('L-1', 1), after = await scoreWithOnnx('L-1', 2);
    expect(before.threshold).toBe(current);
    expect(after.threshold).toBe(r.suggested);
    // The same learner: the same scores, row for row.
    expect(after.score).toEqual(before.score);
    // The graph compares the score in double precision: the same flags as the pipeline's own scores above the new level.
    const v2 = findModelVersion(core.ws.db, 'L-1', 2);
    const p2 = readPipeline(core.ws, v2);
    const dv = findVersion(core.ws.db, 'line', 1);
    const own = predictFeatures(p2, buildFeatures(p2.plan, loadFrame(core.ws.blobs, dv.schema, dv.rowCount, v2.inputs, dv.timeColumn)));
    expect(Array.from(after.anomaly!)).toEqual(Array.from(own.score!, (s) => (s > r.suggested! ? 1 : 0)));
    const flagged = (s: Scored) => s.anomaly!.reduce((n, f) => n + f, 0);
    expect(flagged(after)).toBeLessThan(flagged(before));
    expect(flagged(after)).toBeGreaterThan(0);

    // Its report and figures say the new level; its lineage and the audit log say where it came from and why.
    const report = (await call('models.report', { model: 'L-1', version: 2 })) as TrainingReport;
    expect(report.threshold).toBe(r.suggested);
    expect(report.metrics.holdout_flag_rate).toBeLessThanOrEqual(((await call('models.report', { model: 'L-1', version: 1 })) as TrainingReport).metrics.holdout_flag_rate!);
    const lineage = modelLineage(core.ws, new DatasetReader(core.ws), { model: 'L-1', version: 2 });
    const run = lineage.nodes.find((n) => n.kind === 'run')!;
    const source = lineage.nodes.find((n) => n.kind === 'model' && n.title === 'L-1 version 1')!;
    expect(lineage.edges).toContainEqual({ from: source.id, to: run.id });
    expect(source.details.Reason).toBe('Answers from the night shift');
    expect(lineage.nodes.find((n) => n.kind === 'model')?.title).toBe('L-1 version 2');
    expect(run.details['Made from']).toMatch(/^version 1 with the alarm level [\d.]+ → [\d.]+, without training: Answers from the night shift$/);
    const audit = AuditLog.list(core.ws.db, { limit: 10, action: 'model.threshold' })[0]!;
    expect(audit.details).toMatchObject({ model: 'L-1', from: 1, version: 2, threshold: { from: current, to: r.suggested }, reason: 'Answers from the night shift' });
  });

  it('reproduces a version made by a new alarm level: the version it came from retrained, with this level, gives the same model and graph', async () => {
    const job = await call('models.reproduce', { model: 'L-1', version: 2 });
    const done = await core.jobs.wait(job.id);
    expect(done.state).toBe('done');
    const r = done.result as ReproduceResult;
    const v2 = findModelVersion(core.ws.db, 'L-1', 2);
    expect(r.differences).toEqual([]);
    expect(r.identical).toBe(true);
    expect(r.reproduced.modelHash).toBe(v2.modelHash);
    expect(r.reproduced.onnxHash).toBe(v2.onnxHash);
    expect(r.reproduced.modelHash).not.toBe(findModelVersion(core.ws.db, 'L-1', 1).modelHash);
  }, 60_000);

  it('reads the episodes of the version a recalibrated one was made from (the same scores)', async () => {
    const r = await call('feedback.recalibration', { model: 'L-1', version: 2 });
    expect(r).toMatchObject({ version: 2, answered: { real: 3, normal: 3 }, before: { caught: 3, missed: 0, falseAlarms: 1, quiet: 2 }, suggested: null, after: null });
    expect(r.current).toBe(readPipeline(core.ws, findModelVersion(core.ws.db, 'L-1', 2)).threshold);
    // The false alarm left scored above a real problem: lowering nothing, raising would miss it.
    expect(r.sentence).toMatch(/^No alarm level would have avoided a false alarm and still caught all 3 real problems: /);
  });

  it('refuses the level it already has, and models without an alarm level', async () => {
    await expect(call('feedback.applyThreshold', { model: 'L-1', version: 1, threshold: current, reason: 'same' })).rejects.toThrow(/^The alarm level of L-1 version 1 is already /);
    fs.writeFileSync(path.join(root, 'trip.csv'), ['Flow,Trip', ...Array.from({ length: 60 }, (_, i) => `${(i * 37) % 101},${(i * 37) % 101 > 50 ? 'yes' : 'no'}`)].join('\n') + '\n');
    await importCsv(core, call, path.join(root, 'trip.csv'), 'trips');
    await trainModel(core, call, { dataset: 'trips', task: 'binary', target: 'Trip', inputs: ['Flow'], algorithms: ['logistic'], timeBudgetSeconds: 10, model: 'T-1' });
    await expect(call('feedback.recalibration', { model: 'T-1' })).rejects.toThrow('"T-1" predicts Trip; only models that flag unusual behaviour have an alarm level.');
  }, 60_000);
});
