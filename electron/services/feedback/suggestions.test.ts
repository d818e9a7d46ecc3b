import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreCaller, importCsv, trainModel } from '../../test-support/core-call';
import { createCore, type Core } from '../compose';
import { readPipeline } from '../scoring/onnx-store';
import { findModelVersion } from '../training/models';
import { insertEpisode, writeLineCsv } from './learning-fixture';

/** Suggestions from the answers and the monitor's stored state, on a real workspace and model. */

let root: string;
let core: Core;
const call = coreCaller(() => core);
let current: number;

const kinds = async () => (await call('feedback.suggestions', { model: 'L-1' })).map((s) => s.kind);

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-suggestions-'));
  core = createCore({ workspaceDir: path.join(root, 'ws'), monitor: false, resumeEndpoints: false });
  await importCsv(core, call, writeLineCsv(root, 1500, [[300, 310]]), 'line');
  await trainModel(core, call, { dataset: 'line', task: 'anomaly', algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'L-1' });
  await call('models.promote', { model: 'L-1', version: 1, alias: 'production', reason: 'first model' });
  current = readPipeline(core.ws, findModelVersion(core.ws.db, 'L-1', 1)).threshold!;
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('what the answers suggest', () => {
  it('suggests nothing before there are answers', async () => {
    expect(await call('feedback.suggestions', {})).toEqual([]);
  });

  it('offers a new alarm level once the answers give one, with its sentence', async () => {
    const ep = (from: number, peak: number, verdict: 'real' | 'normal', cause?: string) => insertEpisode(core.ws, { model: 'L-1', version: 1, from, to: from + 2, peakScore: current + peak, verdict, cause });
    ep(100, 0.2, 'real', 'Cooling fan');
    ep(200, 0.01, 'normal');
    expect(await kinds()).toEqual([]);
    ep(400, 0.02, 'normal');
    const [s] = await call('feedback.suggestions', { model: 'L-1' });
    const r = await call('feedback.recalibration', { model: 'L-1' });
    expect(s).toEqual({ kind: 'recalibrate', model: 'L-1', sentence: r.sentence, detail: { version: 1, current, suggested: r.suggested } });
    expect(r.sentence).toMatch(/would have avoided all 2 false alarms and still caught the real problem\.$/);
  });

  it('offers a model that names the cause once three real problems share one', async () => {
    insertEpisode(core.ws, { model: 'L-1', version: 1, from: 500, to: 502, peakScore: current + 0.3, verdict: 'real', cause: 'Blocked filter' });
    insertEpisode(core.ws, { model: 'L-1', version: 1, from: 600, to: 602, peakScore: current + 0.3, verdict: 'real', cause: 'Cooling fan' });
    expect(await kinds()).toEqual(['recalibrate']);
    // The same cause written in other case: one cause, as first given.
    insertEpisode(core.ws, { model: 'L-1', version: 1, from: 700, to: 702, peakScore: current + 0.3, verdict: 'real', cause: 'cooling FAN' });
    const cause = (await call('feedback.suggestions', { model: 'L-1' })).find((s) => s.kind === 'cause_model')!;
    expect(cause.detail).toEqual({ cause: 'Cooling fan', count: 3 });
    expect(cause.sentence).toBe('3 episodes of "L-1" were confirmed as real problems caused by "Cooling fan". Add your answers to the data and train a model that names the cause from "feedback_cause", so the next alarm says what is likely wrong.');
  });

  it('suggests retraining after many new answers, and on drift where the model is served', async () => {
    // 6 answered so far (4 real, 2 normal), all after version 1 was trained; unsure answers do not count.
    insertEpisode(core.ws, { model: 'L-1', version: 1, from: 800, to: 802, peakScore: current + 0.1, verdict: 'unsure' });
    for (const from of [900, 1000, 1050]) insertEpisode(core.ws, { model: 'L-1', version: 1, from, to: from + 2, peakScore: current + 0.01, verdict: 'normal' });
    expect(await kinds()).not.toContain('retrain');
    insertEpisode(core.ws, { model: 'L-1', version: 1, from: 1100, to: 1102, peakScore: current + 0.01, verdict: 'normal' });
    const byAnswers = (await call('feedback.suggestions', { model: 'L-1' })).find((s) => s.kind === 'retrain')!;
    expect(byAnswers.detail).toEqual({ reason: 'answers', endpoint: null, answers: 10 });
    expect(byAnswers.sentence).toBe('10 episodes of "L-1" were answered since version 1 was trained; retrain it on them so it learns what you told it.');

    // The monitor's state: an endpoint serving L-1 with a firing drift alert (as the monitor leaves them).
    const now = new Date().toISOString();
    core.ws.db.prepare("INSERT INTO endpoints (name, kind, url, added_at, added_by, model) VALUES ('line-3', 'remote', 'http://127.0.0.1:9', ?, 'tester', ?)").run(now, JSON.stringify({ name: 'L-1', version: 1 }));
    core.ws.db.prepare("INSERT INTO monitor_alerts (endpoint, kind, state, message, first_at, last_at) VALUES ('line-3', 'drift', 'firing', 'The inputs line-3 receives changed', ?, ?)").run(now, now);
    const byDrift = (await call('feedback.suggestions', {})).filter((s) => s.kind === 'retrain');
    expect(byDrift).toEqual([
      { kind: 'retrain', model: 'L-1', sentence: 'The data reaching line-3 has changed since "L-1" version 1 was trained; retrain it on recent data and your 10 new answers.', detail: { reason: 'drift', endpoint: 'line-3', answers: 10 } },
    ]);
    // Cleared: no drift suggestion any more.
    core.ws.db.prepare("UPDATE monitor_alerts SET state = 'cleared', cleared_at = ? WHERE endpoint = 'line-3'").run(now);
    expect((await call('feedback.suggestions', {})).find((s) => s.kind === 'retrain')?.detail.reason).toBe('answers');
  });
});
