import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreCaller, importCsv, trainModel } from '../../test-support/core-call';
import { createCore, type Core } from '../compose';
import { insertEpisode, writeLineCsv } from '../feedback/learning-fixture';
import { checkWorkspace } from '../registry/backup';
import { modelOnnx } from '../scoring/onnx-store';
import { findModelVersion } from '../training/models';
import { sweepBlobs } from './blob-sweep';
import { Workspace } from './workspace';

/**
 * The writers that are not tasks (adding answers to the data, a new alarm
 * level, a model's ONNX graph written the first time it is asked for) store
 * blobs and then record them. Another process sweeping unreferenced blobs in
 * between (its own task just failed) would delete them. Here the "other
 * process" is a second connection that tries a sweep right after every blob
 * written, with no patience for the write lock: each try must be refused,
 * and the workspace must have every blob its records name.
 */

let root: string;
let core: Core;
let other: Workspace;
const call = coreCaller(() => core);
let tries = 0;
let refused = 0;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-blob-race-'));
  const dir = path.join(root, 'ws');
  core = createCore({ workspaceDir: dir, monitor: false, resumeEndpoints: false });
  await importCsv(core, call, writeLineCsv(root, 600, [[300, 310]]), 'line');
  await trainModel(core, call, { dataset: 'line', task: 'anomaly', algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'L-1' });
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: 300, to: 310, peakScore: 0.8, verdict: 'real', cause: 'Cooling fan' });
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: 100, to: 103, peakScore: 0.6, verdict: 'normal' });

  other = Workspace.open(dir);
  other.db.pragma('busy_timeout = 0');
  const blobs = core.ws.blobs;
  const put = blobs.put.bind(blobs);
  blobs.put = (data) => {
    const sha = put(data);
    tries++;
    try {
      sweepBlobs(other, { since: 0 });
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      refused++;
    }
    return sha;
  };
}, 120_000);

afterAll(async () => {
  other?.close();
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function expectWhole(): void {
  const check = checkWorkspace(core.ws.dir);
  expect(check.problems).toEqual([]);
  expect(check.unreferenced).toBe(0);
}

describe('a sweep in another process while a writer that is not a task stores blobs', () => {
  it('cannot delete the columns of the labelled version before it is recorded', async () => {
    const before = { tries, refused };
    const r = await call('feedback.addToData', { model: 'L-1' });
    expect(r.version).toBe(2);
    expect(tries - before.tries).toBeGreaterThan(0);
    expectWhole();
    expect(refused - before.refused).toBe(tries - before.tries);
  });

  it('cannot delete the model, report or ONNX graph of a new alarm level before they are recorded', async () => {
    const before = { tries, refused };
    const made = await call('feedback.applyThreshold', { model: 'L-1', version: 1, threshold: 0.75, reason: 'race test' });
    expect(made.version).toBe(2);
    expect(tries - before.tries).toBeGreaterThanOrEqual(3);
    expectWhole();
    expect(refused - before.refused).toBe(tries - before.tries);
  });

  it('cannot delete a graph written the first time it is asked for, even when its bytes were already stored', () => {
    // As a version recorded before graphs were kept: no graph yet, while the same bytes lie unreferenced.
    core.ws.db.prepare("UPDATE model_versions SET onnx_blob = NULL, onnx_hash = NULL WHERE version = 1 AND model_id = (SELECT id FROM models WHERE name = 'L-1')").run();
    const before = { tries, refused };
    const stored = modelOnnx(core.ws, findModelVersion(core.ws.db, 'L-1', 1));
    expect(tries - before.tries).toBe(1);
    expect(findModelVersion(core.ws.db, 'L-1', 1).onnxHash).toBe(stored.hash);
    expectWhole();
    expect(refused - before.refused).toBe(1);
  });
});
