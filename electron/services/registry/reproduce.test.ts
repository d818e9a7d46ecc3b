import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Input, MethodName, Output } from '../../../shared/api';
import { createCore, type Core } from '../compose';
import type { ReproduceResult } from '../jobs/kinds/reproduce';
import { findModelVersion } from '../training/models';

let root: string;
let core: Core;

async function call<K extends MethodName>(name: K, arg: Input<K> | Record<string, unknown>): Promise<Output<K>> {
  const env = await core.call(name, arg);
  if (!env.ok) throw Object.assign(new Error(env.error.message), { code: env.error.code });
  return env.value as Output<K>;
}

async function reproduce(model: string, version: number): Promise<ReproduceResult> {
  const job = await call('models.reproduce', { model, version });
  const done = await core.jobs.wait(job.id);
  if (done.state !== 'done') throw new Error(`reproduce ended ${done.state}: ${done.error?.message}`);
  return done.result as ReproduceResult;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-reproduce-'));
  core = createCore({ workspaceDir: path.join(root, 'ws') });
  // Failure depends smoothly on A and B and abruptly on C: AutoML keeps a blend.
  const lines = ['A,B,C,Outcome'];
  let seed = 99;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 2000; i++) {
    const a = rand(), b = rand(), c = rand();
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${c.toFixed(4)},${6 * (a + b - 1) + (c > 0.7 ? 4 : -1) + 2 * (rand() - 0.5) > 0 ? 'fail' : 'ok'}`);
  }
  const file = path.join(root, 'mixed.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const inspected = await call('imports.inspect', { paths: [file] });
  const imp = await call('imports.analyze', { paths: [file], settings: inspected.settings, save: { name: 'mixed' } });
  expect((await core.jobs.wait(imp.id)).state).toBe('done');
  const job = await call('training.start', { dataset: 'mixed', task: 'binary', target: 'Outcome', algorithms: ['logistic', 'tree', 'hgb'], timeBudgetSeconds: 60, model: 'blend' });
  expect((await core.jobs.wait(job.id)).state).toBe('done');
}, 180_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('reproduce', () => {
  it('retrains a blended model from its lineage and gets the same ONNX hash', async () => {
    const v = findModelVersion(core.ws.db, 'blend', 1);
    expect(v.algorithm).toBe('ensemble');
    const r = await reproduce('blend', 1);
    expect(r.identical).toBe(true);
    expect(r.differences).toEqual([]);
    expect(r.reproduced.onnxHash).toBe(v.onnxHash);
    expect(r.reproduced.modelHash).toBe(v.modelHash);
    // Reproducing records nothing new: still one version.
    expect(findModelVersion(core.ws.db, 'blend').version).toBe(1);
    const audit = core.ws.db.prepare("SELECT details FROM audit_log WHERE action = 'model.reproduce'").all() as { details: string }[];
    expect(JSON.parse(audit.at(-1)!.details)).toEqual(expect.objectContaining({ model: 'blend', version: 1, identical: true }));
  }, 120_000);

  it('says what differs when the result is not the same model', async () => {
    // As if version 1 had been trained with other numbers: its recorded hashes no longer match.
    core.ws.db.prepare("UPDATE model_versions SET model_hash = 'f00d', onnx_hash = 'beef' WHERE version = 1").run();
    const r = await reproduce('blend', 1);
    expect(r.identical).toBe(false);
    expect(r.original.onnxHash).toBe('beef');
    expect(r.differences).toEqual(['Every score is the same, but the fitted numbers of the model differ slightly (a floating-point difference between machines or versions).']);
  }, 120_000);
});
