import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateCliBuildAsync, userErrorLine } from './test-support/cli-build';

const AI4I = '/work/shared/data/ai4i2020/ai4i2020.csv';

let root: string;
let ws: string;
let cli: ReturnType<typeof privateCliBuildAsync>;

interface TrainJson {
  run: string;
  model: string;
  version: number;
  task: string;
  metric: string;
  leaderboard: { algorithm: string; params: Record<string, unknown>; metrics: Record<string, number>; fitSeconds: number }[];
  metrics: Record<string, number>;
}

function counts(): { models: number; versions: number; runs: number } {
  const db = new Database(path.join(ws, 'millwright.db'), { readonly: true });
  try {
    const n = (t: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { models: n('models'), versions: n('model_versions'), runs: n('training_runs') };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-cli-train-'));
  ws = path.join(root, 'ws');
  cli = privateCliBuildAsync(root);
  await cli.ready();
  const r = await cli(['import', AI4I, '--name', 'ai4i', '--workspace', ws, '--json']);
  expect(r.status, r.stderr).toBe(0);
}, 180_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('millwright train', () => {
  it('trains a failure classifier and prints the documented JSON', async () => {
    const r = await cli(['train', 'ai4i@1', '--target', 'Machine failure', '--algorithms', 'hgb,logistic', '--model', 'pump failures', '--time-budget', '30', '--json', '--workspace', ws], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as TrainJson;
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['run', 'model', 'version', 'task', 'metric', 'leaderboard', 'metrics']));
    expect(out.model).toBe('pump failures');
    expect(out.version).toBe(1);
    expect(out.task).toBe('binary');
    expect(out.metric).toBe('roc_auc');
    expect(out.run).toMatch(/^run_/);
    expect(out.leaderboard.length).toBeGreaterThanOrEqual(2);
    for (const e of out.leaderboard) expect(Object.keys(e)).toEqual(expect.arrayContaining(['algorithm', 'params', 'metrics', 'fitSeconds']));
    expect(out.metrics.roc_auc).toBeGreaterThan(0.95);
    expect(out.metrics.accuracy).toBeGreaterThan(0.97);
    const list = await cli(['models', '--json', '--workspace', ws]);
    expect(JSON.parse(list.stdout)[0].name).toBe('pump failures');
  }, 150_000);

  it('prints a leaderboard and a plain sentence without --json', async () => {
    const r = await cli(['train', 'ai4i', '--target', 'Machine failure', '--algorithms', 'logistic', '--model', 'pump failures', '--time-budget', '10', '--workspace', ws], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Trained pump failures version 2 \(Logistic regression\)/);
    expect(r.stdout).toMatch(/right \d+ times out of 100/);
    expect(r.stdout).toMatch(/ALGORITHM\s+ROC AUC/);
  }, 150_000);

  it('refuses bad requests with exit 2 and one plain line, and records nothing', async () => {
    const before = counts();
    const cases: [string[], RegExp][] = [
      [['train', 'ai4i', '--target', 'Failure'], /no column "Failure"/],
      [['train', 'ai4i', '--target', 'Type', '--task', 'regression'], /"Type" holds text, so it cannot be predicted as a value/],
      [['train', 'ai4i', '--target', 'Machine failure', '--inputs', 'Torque,Nope'], /no column "Nope"/],
      [['train', 'ai4i', '--target', 'Machine failure', '--task', 'forecast'], /--task must be "classification" or "regression"/],
      [['train', 'ai4i'], /--target COL.*--anomaly/],
      [['train', 'ai4i', '--anomaly', '--target', 'Torque'], /not both/],
      [['train', 'nope', '--target', 'x'], /no dataset called "nope"/],
      [['train', 'ai4i', '--target', 'Machine failure', '--time-budget', '5'], /at least 10/],
    ];
    for (const [args, pattern] of cases) {
      const r = await cli([...args, '--workspace', ws]);
      const line = userErrorLine(r);
      expect(line, `${args.join(' ')} → ${r.status} ${r.stderr}`).not.toBeNull();
      expect(line).toMatch(pattern);
    }
    expect(counts()).toEqual(before);
  }, 120_000);

  it('refuses a target with a single value', async () => {
    const file = path.join(root, 'one.csv');
    fs.writeFileSync(file, 'a,b\n' + Array.from({ length: 40 }, (_, i) => `${i},1`).join('\n') + '\n');
    expect((await cli(['import', file, '--name', 'one', '--workspace', ws])).status).toBe(0);
    const line = userErrorLine(await cli(['train', 'one', '--target', 'b', '--task', 'classification', '--workspace', ws]));
    expect(line).toMatch(/"b" has only one value/);
  }, 60_000);
});
