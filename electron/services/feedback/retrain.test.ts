import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_COLUMNS } from '../../../shared/feedback';
import type { TrainingReport } from '../../../shared/training';
import { coreCaller, importCsv, trainModel } from '../../test-support/core-call';
import { createCore, type Core } from '../compose';
import { findModelVersion } from '../training/models';
import { AuditLog } from '../workspace/audit';
import { insertEpisode, writeLineCsv } from './learning-fixture';

/** Retraining on the answers: a real training job on a labelled dataset version, ending as challenger. */

let root: string;
let core: Core;
const call = coreCaller(() => core);

async function retrain(arg: Record<string, unknown>): Promise<void> {
  const job = await call('retrain.start', arg);
  const done = await core.jobs.wait(job.id);
  expect(done.state, JSON.stringify(done.error)).toBe('done');
}

const report = async (version: number) => (await call('models.report', { model: 'L-1', version })) as TrainingReport;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-retrain-'));
  core = createCore({ workspaceDir: path.join(root, 'ws'), monitor: false, resumeEndpoints: false });
  // Hot stretches at rows 400–410 (in the rows the model fits on) and 1700–1705 (in the holdout, the last 20%).
  await importCsv(core, call, writeLineCsv(root, 2000, [[400, 410], [1700, 1705]]), 'line');
  await trainModel(core, call, { dataset: 'line', task: 'anomaly', algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'L-1' });
  await call('models.promote', { model: 'L-1', version: 1, alias: 'production', reason: 'first model' });
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: 400, to: 410, peakScore: 0.8, verdict: 'real', cause: 'Cooling fan' });
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: 1700, to: 1705, peakScore: 0.8, verdict: 'real', cause: 'Cooling fan' });
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: 100, to: 103, peakScore: 0.6, verdict: 'normal' });
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: 900, to: 903, peakScore: 0.6, verdict: 'normal' });
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: 1000, to: 1001, peakScore: 0.6, verdict: 'unsure' });
  await call('feedback.addToData', { model: 'L-1' });
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('retraining on the answers', () => {
  it("trains with production's settings on the labelled version, leaving the rows answered real out of fitting", async () => {
    await retrain({ model: 'L-1', timeBudgetSeconds: 10 });
    const v1 = findModelVersion(core.ws.db, 'L-1', 1), v2 = findModelVersion(core.ws.db, 'L-1', 2);
    expect([v2.dataset, v2.datasetVersion]).toEqual(['line', 2]);
    expect(v2.settings).toMatchObject({ task: 'anomaly', labelColumn: LABEL_COLUMNS.problem, inputs: v1.settings.inputs, timeColumn: 'Time', algorithms: ['iforest'], holdoutFraction: v1.settings.holdoutFraction, seed: v1.settings.seed, timeBudgetSeconds: 10 });
    // The 11 hot rows answered real in the fitting part are left out; the hot rows in the holdout judge it.
    const [r1, r2] = [await report(1), await report(2)];
    expect(r1.finalRows - r2.finalRows).toBe(11);
    expect(r2.metric.key).toBe('event_f1');
    expect(r2.metrics.events).toBe(1);
    expect(r2.metrics.events_caught).toBe(1);
  });

  it('marks the new version challenger, audited with where it came from and how many answers it learned from', () => {
    const v2 = findModelVersion(core.ws.db, 'L-1', 2);
    expect(v2.aliases).toEqual(['challenger']);
    expect(findModelVersion(core.ws.db, 'L-1', 'production').version).toBe(1);
    const alias = AuditLog.list(core.ws.db, { limit: 20, action: 'model.alias' }).find((e) => e.details.alias === 'challenger')!;
    expect(alias.details).toMatchObject({ model: 'L-1', to: 2, reason: 'Retrained from version 1 on line@2 with 4 answers' });
    const started = AuditLog.list(core.ws.db, { limit: 20, action: 'model.retrain' })[0]!;
    expect(started.details).toMatchObject({ model: 'L-1', from: 1, dataset: 'line', version: 2, labelColumn: LABEL_COLUMNS.problem, answers: 4 });
  });

  it('retrains on a version without answers as it was trained, and the new challenger replaces the old one', async () => {
    await retrain({ model: 'L-1', dataset: 'line', version: 1, timeBudgetSeconds: 10 });
    const v3 = findModelVersion(core.ws.db, 'L-1', 3);
    expect(v3.settings.labelColumn).toBeNull();
    expect(v3.aliases).toEqual(['challenger']);
    expect(findModelVersion(core.ws.db, 'L-1', 2).aliases).toEqual([]);
    expect((await report(3)).finalRows).toBe((await report(1)).finalRows);
    expect(AuditLog.list(core.ws.db, { limit: 20, action: 'model.alias' })[0]!.details.reason).toBe('Retrained from version 1 on line@1 with 0 answers');
  });
});
