import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChallengerReport } from '../../../shared/feedback';
import { coreCaller, importCsv, trainModel } from '../../test-support/core-call';
import { createCore, type Core } from '../compose';
import { findVersion } from '../datasets/versions';
import { shadowSummary } from '../deploy/shadow';
import { readPipeline } from '../scoring/onnx-store';
import { buildFeatures } from '../training/features';
import { loadFrame } from '../training/frame';
import { findModelVersion } from '../training/models';
import { predictFeatures } from '../training/pipeline';
import { AuditLog } from '../workspace/audit';
import { insertEpisode, writeLineCsv } from './learning-fixture';

/**
 * Production beside a challenger with a higher alarm level, on a real
 * workspace: the answered episodes scored again by both through ONNX Runtime,
 * then promoted to the local endpoint that served production, or discarded.
 */

let root: string;
let core: Core;
const call = coreCaller(() => core);

/** The pipeline's own scores (double precision) for every row of line@1. */
function scores(version: number): { score: Float64Array; threshold: number } {
  const v = findModelVersion(core.ws.db, 'L-1', version);
  const p = readPipeline(core.ws, v);
  const dv = findVersion(core.ws.db, 'line', 1);
  return { score: predictFeatures(p, buildFeatures(p.plan, loadFrame(core.ws.blobs, dv.schema, dv.rowCount, v.inputs, dv.timeColumn))).score!, threshold: p.threshold! };
}

const peakOf = (s: Float64Array, a: number, b: number) => Math.max(...s.subarray(a, b + 1));
let normals: [number, number][];
let level: number;
let report: ChallengerReport;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-challenger-'));
  core = createCore({ workspaceDir: path.join(root, 'ws'), monitor: false, resumeEndpoints: false });
  await importCsv(core, call, writeLineCsv(root, 2000, [[1500, 1505]], 'line.csv', { 300: 12, 900: 14, 1300: 16 }), 'line');
  await trainModel(core, call, { dataset: 'line', task: 'anomaly', algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'L-1' });
  await call('models.promote', { model: 'L-1', version: 1, alias: 'production', reason: 'first model' });
  await call('deploy.run', { model: 'L-1', version: 1, target: { kind: 'local' } });

  // Episodes where version 1 flags rows: the three with the highest peaks answered real, the next four normal (its false alarms).
  const { score, threshold } = scores(1);
  const flagged = Array.from(score.keys()).filter((i) => i > 70 && i < score.length - 1 && score[i]! > threshold).sort((a, b) => score[b]! - score[a]!);
  const picked: number[] = [];
  for (const i of flagged) if (picked.length < 7 && picked.every((j) => Math.abs(j - i) > 5)) picked.push(i);
  expect(picked.length).toBe(7);
  const episodes = picked.map((i): [number, number] => [i - 1, i + 1]);
  const reals = episodes.slice(0, 3);
  normals = episodes.slice(3);
  const realPeaks = reals.map(([a, b]) => peakOf(score, a, b)), normalPeaks = normals.map(([a, b]) => peakOf(score, a, b)).sort((a, b) => b - a);
  expect(Math.min(...realPeaks)).toBeGreaterThan(normalPeaks[0]!);
  for (const [a, b] of reals) insertEpisode(core.ws, { model: 'L-1', version: 1, from: a, to: b, peakScore: peakOf(score, a, b), verdict: 'real', cause: 'Cooling fan' });
  for (const [a, b] of normals) insertEpisode(core.ws, { model: 'L-1', version: 1, from: a, to: b, peakScore: peakOf(score, a, b), verdict: 'normal' });
  // A quiet stretch answered normal (neither version flags it) and one not sure (left out).
  const quiet = Array.from(score.keys()).find((i) => i > 1 && score[i - 1]! <= threshold && score[i]! <= threshold && score[i + 1]! <= threshold && episodes.every(([a]) => Math.abs(a - i) > 5))!;
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: quiet - 1, to: quiet + 1, peakScore: threshold, verdict: 'normal' });
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: picked[0]! - 1, to: picked[0]! + 1, peakScore: threshold, verdict: 'unsure' });
  level = (normalPeaks[0]! + normalPeaks[1]!) / 2;
  await call('feedback.addToData', { model: 'L-1' });

  // The challenger: version 1 with a level between the highest false alarm and the others.
  await call('feedback.applyThreshold', { model: 'L-1', threshold: level, reason: 'Fewer false alarms' });
  // It runs in shadow beside production on the endpoint.
  await call('shadow.start', { endpoint: 'this-pc' });
  report = await call('challenger.report', { model: 'L-1' });
}, 180_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('production beside its challenger', () => {
  it('scores the answered episodes again with both versions through ONNX Runtime', () => {
    expect(report.production?.version).toBe(1);
    expect(report.challenger?.version).toBe(2);
    expect(report.episodes).toEqual({
      real: 3,
      normal: 5,
      production: { caught: 3, missed: 0, falseAlarms: 4, quiet: 1 },
      challenger: { caught: 3, missed: 0, falseAlarms: 1, quiet: 4 },
    });
  });

  it('compares both on the same holdout and says it in one sentence', async () => {
    expect(report.holdout).toMatchObject({ dataset: 'line', datasetVersion: 1 });
    expect(report.holdout!.rows).toBe(400);
    expect(report.metric?.key).toBe(findModelVersion(core.ws.db, 'L-1', 1).metric.key);
    const c = await call('models.compare', { a: 'L-1@1', b: 'L-1@2' });
    expect(report.production!.metrics).toEqual(c.metrics.a);
    expect(report.challenger!.metrics).toEqual(c.metrics.b);
    expect(report.sentence).toBe(`The challenger (v2) catches all 3 real problems and raises 1 false alarm on the answered episodes, against 4 for production (v1). ${c.sentence}`);
    expect(report.shadows).toEqual([expect.objectContaining({ endpoint: 'this-pc', model: 'L-1', version: 2 })]);
    expect(report.shadows[0]).toEqual(shadowSummary(core.ws, 'this-pc'));
  });

  it('promotes the challenger with a reason, ends its shadow runs and deploys it where production ran', async () => {
    const v = await call('challenger.promote', { model: 'L-1', reason: 'Three fewer false alarms, every real problem caught' });
    expect(v.version).toBe(2);
    expect(v.aliases).toEqual(['production']);
    expect(findModelVersion(core.ws.db, 'L-1', 1).aliases).toEqual([]);
    expect(await call('shadow.status', { endpoint: 'this-pc' })).toBeNull();
    expect(AuditLog.list(core.ws.db, { limit: 50, action: 'shadow.stop' })[0]!.details).toMatchObject({ endpoint: 'this-pc', model: 'L-1', version: 2, atEdge: true });
    expect((await call('endpoints.list', {})).find((e) => e.name === 'this-pc')?.model).toEqual({ name: 'L-1', version: 2 });
    const audit = AuditLog.list(core.ws.db, { limit: 50 });
    expect(audit.find((e) => e.action === 'challenger.promote')?.details).toMatchObject({ model: 'L-1', from: 1, to: 2, reason: 'Three fewer false alarms, every real problem caught', shadowsEnded: ['this-pc'], deployTo: ['this-pc'] });
    expect(audit.find((e) => e.action === 'model.alias' && e.details.alias === 'production')?.details).toMatchObject({ from: 1, to: 2, reason: 'Three fewer false alarms, every real problem caught' });
    expect((await call('challenger.report', { model: 'L-1' })).sentence).toBe('"L-1" has no challenger yet: retrain it on your answers, or make one with a new alarm level.');
  }, 60_000);

  it('discards a challenger with a reason; the version stays', async () => {
    const { threshold } = scores(2);
    await call('feedback.applyThreshold', { model: 'L-1', threshold: threshold * 1.5, reason: 'try higher' });
    await call('shadow.start', { endpoint: 'this-pc' });
    expect((await call('shadow.status', { endpoint: 'this-pc' }))?.version).toBe(3);
    const v = await call('challenger.discard', { model: 'L-1', reason: 'Misses too much' });
    expect(await call('shadow.status', { endpoint: 'this-pc' })).toBeNull();
    expect(v.version).toBe(3);
    expect(v.aliases).toEqual([]);
    expect(findModelVersion(core.ws.db, 'L-1', 'production').version).toBe(2);
    expect(AuditLog.list(core.ws.db, { limit: 5, action: 'challenger.discard' })[0]!.details).toMatchObject({ model: 'L-1', version: 3, reason: 'Misses too much', shadowsEnded: ['this-pc'] });
    await expect(call('challenger.discard', { model: 'L-1', reason: 'again' })).rejects.toThrow('"L-1" has no challenger: retrain it on your answers, or make one with a new alarm level, first.');
    await expect(call('challenger.promote', { model: 'L-1', reason: 'x' })).rejects.toThrow(/has no challenger/);
  });

  it('leaves the episodes out, saying why, when the newest data lacks an input', async () => {
    await call('feedback.applyThreshold', { model: 'L-1', version: 2, threshold: scores(2).threshold * 1.2, reason: 'try higher again' });
    fs.writeFileSync(path.join(root, 'temp-only.csv'), ['Time,Temp [°C]', '2024-01-01T00:00:00Z,60', '2024-01-01T00:05:00Z,61'].join('\n') + '\n');
    await importCsv(core, call, path.join(root, 'temp-only.csv'), 'line');
    const r = await call('challenger.report', { model: 'L-1' });
    expect(r.challenger?.version).toBe(4);
    expect(r.episodes).toBeNull();
    expect(r.holdout).toMatchObject({ dataset: 'line', datasetVersion: 1 });
    expect(r.sentence).toMatch(/ The answered episodes were not compared: line@3 has no column "Flow", which the models read\.$/);
  });

  it('promotes without deploying when asked: the endpoints keep what they serve', async () => {
    const v = await call('challenger.promote', { model: 'L-1', reason: 'Deploy it at the next shutdown', deploy: false });
    expect(v.version).toBe(4);
    expect(v.aliases).toEqual(['production']);
    expect((await call('endpoints.list', {})).find((e) => e.name === 'this-pc')?.model).toEqual({ name: 'L-1', version: 2 });
    expect(AuditLog.list(core.ws.db, { limit: 5, action: 'challenger.promote' })[0]!.details).toMatchObject({ from: 2, to: 4, deployTo: [] });
  });
});
