import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Input, MethodName, Output } from '../../../shared/api';
import type { Comparison } from '../../../shared/registry';
import { createCore, type Core } from '../compose';

let root: string;
let core: Core;
let c: Comparison;

async function call<K extends MethodName>(name: K, arg: Input<K> | Record<string, unknown>): Promise<Output<K>> {
  const env = await core.call(name, arg);
  if (!env.ok) throw Object.assign(new Error(env.error.message), { code: env.error.code });
  return env.value as Output<K>;
}

async function importRows(name: string, rows: number, flowShift: number): Promise<void> {
  const file = path.join(root, `${name}-${rows}.csv`);
  const lines = ['Flow [m3/h],Pressure [bar],Trip'];
  for (let i = 0; i < rows; i++) {
    const flow = ((i * 37) % 101) + flowShift, pressure = ((i * 53) % 89) / 10;
    lines.push(`${flow},${pressure},${flow - flowShift > 60 && pressure > 3 ? 1 : 0}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const inspected = await call('imports.inspect', { paths: [file] });
  const job = await call('imports.analyze', { paths: [file], settings: inspected.settings, save: { name } });
  expect((await core.jobs.wait(job.id)).state).toBe('done');
}

async function train(input: Record<string, unknown>): Promise<void> {
  const job = await call('training.start', input);
  const done = await core.jobs.wait(job.id);
  expect(done.state, JSON.stringify(done.error)).toBe('done');
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-compare-'));
  core = createCore({ workspaceDir: path.join(root, 'ws') });
  await importRows('pumps', 400, 0);
  await train({ dataset: 'pumps', version: 1, task: 'binary', target: 'Trip', algorithms: ['logistic'], timeBudgetSeconds: 10, model: 'P-101' });
  // A second, larger version of the data, with the flow meter reading 15 m3/h higher.
  await importRows('pumps', 700, 15);
  await train({ dataset: 'pumps', version: 2, task: 'binary', target: 'Trip', algorithms: ['hgb'], timeBudgetSeconds: 10, model: 'P-101' });
  c = await call('models.compare', { a: 'P-101@2', b: 'P-101@1' });
}, 180_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('compare two versions', () => {
  it('puts the older version first and lists the settings that differ', () => {
    expect([c.a.version, c.b.version]).toEqual([1, 2]);
    expect([c.a.datasetVersion, c.b.datasetVersion]).toEqual([1, 2]);
    expect(c.settings).toEqual(
      expect.arrayContaining([
        { name: 'Algorithms tried', a: 'logistic', b: 'hgb' },
        { name: 'Kept model', a: expect.stringMatching(/^Logistic regression/), b: expect.stringMatching(/^Gradient boosting/) },
      ]),
    );
    expect(c.settings.find((s) => s.name === 'Predicts')).toBeUndefined();
  });

  it('says how the data changed, input by input', () => {
    expect(c.data).toEqual(expect.objectContaining({ rowsA: 400, rowsB: 700, sameData: false, columnsAdded: [], columnsRemoved: [] }));
    const flow = c.data.inputs.find((i) => i.input === 'Flow')!;
    expect(flow.b!.median - flow.a!.median).toBeCloseTo(15, 0);
    expect(flow.ks!).toBeGreaterThan(0.1);
    expect(flow.sentence).toMatch(/^Flow: median 50 m3\/h → 65 m3\/h, .*\(clearly shifted\)\.$/);
    const pressure = c.data.inputs.find((i) => i.input === 'Pressure')!;
    expect(pressure.sentence).toMatch(/about the same/);
  });

  it('scores both on the newer version\'s holdout and shows where they disagree most', () => {
    expect(c.holdout).toEqual({ dataset: 'pumps', datasetVersion: 2, rows: 140, kind: 'random', of: 'P-101@2' });
    expect(Object.keys(c.metrics.a).sort()).toEqual(['accuracy', 'f1', 'log_loss', 'roc_auc']);
    // Boosting trained on the shifted data beats the old linear model on it.
    expect(c.metrics.b.accuracy!).toBeGreaterThan(c.metrics.a.accuracy!);
    expect(c.sentence).toMatch(/^On the same 140 rows, version 2 does better: ROC AUC/);
    expect(c.disagreements.length).toBeGreaterThan(0);
    expect(c.disagreements.length).toBeLessThanOrEqual(10);
    for (let i = 1; i < c.disagreements.length; i++) expect(c.disagreements[i - 1]!.gap).toBeGreaterThanOrEqual(c.disagreements[i]!.gap);
    const d = c.disagreements[0]!;
    expect(Object.keys(d.values).sort()).toEqual(['Flow', 'Pressure']);
    expect(d.actual === '0' || d.actual === '1').toBe(true);
    expect(d.a).toMatch(/^[01] \(\d+% sure\)$/);
  });

  it('refuses the same version twice', async () => {
    await expect(call('models.compare', { a: 'P-101@1', b: 'P-101@1' })).rejects.toThrow(/Both sides are P-101@1/);
  });
});

describe('lineage', () => {
  it('traces every version back to the hash of the file it came from, with who and when on each step', async () => {
    for (const [version, rows] of [[1, 400], [2, 700]] as const) {
      const l = await call('models.lineage', { model: 'P-101', version });
      expect(l.traced).toBe(true);
      expect(l.nodes.map((n) => n.kind)).toEqual(['source', 'dataset', 'run', 'model']);
      const [source, dataset, run, model] = l.nodes;
      const file = path.join(root, `pumps-${rows}.csv`);
      expect(source!.details['SHA-256']).toBe(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
      expect(source!.title).toBe(`pumps-${rows}.csv`);
      expect(dataset!.title).toBe(`pumps version ${version}`);
      expect(run!.details.Seed).toBe('0');
      expect(model!.title).toBe(`P-101 version ${version}`);
      expect(model!.details['ONNX hash']).toMatch(/^[0-9a-f]{64}$/);
      for (const n of l.nodes) {
        expect(n.who).toBe(core.ws.who);
        expect(Number.isNaN(Date.parse(n.when!))).toBe(false);
      }
      expect(l.edges).toEqual([
        { from: source!.id, to: dataset!.id },
        { from: dataset!.id, to: run!.id },
        { from: run!.id, to: model!.id },
      ]);
    }
  });
});
