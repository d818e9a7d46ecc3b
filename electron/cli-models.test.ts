import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateCliBuildAsync, userErrorLine } from './test-support/cli-build';

const AI4I = '/work/shared/data/ai4i2020/ai4i2020.csv';

let root: string;
let ws: string;
let cli: ReturnType<typeof privateCliBuildAsync>;
/** The first 300 rows of AI4I, with its header. */
let small: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-cli-models-'));
  ws = path.join(root, 'ws');
  cli = privateCliBuildAsync(root);
  await cli.ready();
  small = path.join(root, 'ai4i-300.csv');
  fs.writeFileSync(small, fs.readFileSync(AI4I, 'utf8').split('\n').slice(0, 301).join('\n') + '\n');
  const imp = await cli(['import', AI4I, '--name', 'ai4i', '--workspace', ws, '--json']);
  expect(imp.status, imp.stderr).toBe(0);
  const tr = await cli(['train', 'ai4i', '--target', 'Machine failure', '--inputs', 'Type,Air temperature,Process temperature,Rotational speed,Torque,Tool wear', '--algorithms', 'logistic', '--model', 'pumps', '--time-budget', '10', '--workspace', ws, '--json'], { timeoutMs: 120_000 });
  expect(tr.status, tr.stderr).toBe(0);
}, 240_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('millwright predict, evaluate, promote, backup, restore, check, export-mlflow', () => {
  it('writes the file with prediction columns appended, one line per row', async () => {
    const out = path.join(root, 'scored.csv');
    const r = await cli(['predict', 'pumps@1', small, '--out', out, '--json', '--workspace', ws], { timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { rows: number; out: string; added: string[]; counts: Record<string, number> };
    expect(j.rows).toBe(300);
    expect(j.out).toBe(out);
    expect(j.added).toEqual(['prediction', 'probability_0', 'probability_1']);
    const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(301);
    expect(lines[0]).toBe('UDI,Product ID,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF,prediction,probability_0,probability_1');
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      const p0 = Number(cells.at(-2)), p1 = Number(cells.at(-1));
      expect(p0 + p1).toBeCloseTo(1, 5);
      expect(cells.at(-3)).toBe(p1 >= 0.5 ? '1' : '0');
    }
    const text = await cli(['predict', 'pumps', small, '--out', path.join(root, 'scored2.csv'), '--workspace', ws], { timeoutMs: 60_000 });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Scored 300 rows of ai4i-300\.csv with pumps version 1; wrote .*scored2\.csv with prediction, probability_0, probability_1 added\./);
  }, 120_000);

  it('evaluates against the target column and prints {rows, metrics}', async () => {
    const r = await cli(['evaluate', 'pumps', AI4I, '--json', '--workspace', ws], { timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { rows: number; metrics: Record<string, number> };
    expect(j.rows).toBe(10_000);
    expect(Object.keys(j.metrics).sort()).toEqual(['accuracy', 'f1', 'log_loss', 'roc_auc']);
    expect(j.metrics.roc_auc).toBeGreaterThan(0.85);
    expect(j.metrics.accuracy).toBeGreaterThan(0.95);
  }, 120_000);

  it('refuses bad requests with exit 2, one plain line naming what is wrong, and writes nothing', async () => {
    const noTorque = path.join(root, 'no-torque.csv');
    fs.writeFileSync(noTorque, 'Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],Tool wear [min]\nL,298,309,1500,10\n');
    const badValue = path.join(root, 'bad.csv');
    fs.writeFileSync(badValue, 'Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],Torque [Nm],Tool wear [min]\nL,298,309,1500,40,10\nL,298,309,1500,forty,10\n');
    const out = path.join(root, 'never.csv');
    const cases: [string[], RegExp][] = [
      [['predict', 'pumps', noTorque, '--out', out], /no-torque\.csv has no column "Torque", which the model needs/],
      [['predict', 'pumps', badValue, '--out', out], /bad\.csv, line 3, column "Torque": "forty" cannot be read as a number/],
      [['predict', 'pumps', small], /--out OUT\.csv/],
      [['predict', 'nope', small, '--out', out], /no model called "nope"/i],
      [['predict', 'pumps@9', small, '--out', out], /version 9/],
      [['predict', 'pumps', path.join(root, 'missing.csv'), '--out', out], /missing\.csv does not exist/],
      [['predict', 'pumps', small, '--out', path.join(root, 'no', 'dir.csv')], /does not exist/],
      [['evaluate', 'pumps', noTorque], /no column "Torque"/],
    ];
    for (const [args, pattern] of cases) {
      const r = await cli([...args, '--workspace', ws], { timeoutMs: 60_000 });
      const line = userErrorLine(r);
      expect(line, `${args.join(' ')} → ${r.status} ${r.stderr}`).not.toBeNull();
      expect(line).toMatch(pattern);
    }
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(root).filter((f) => f.includes('.part-'))).toEqual([]);
  }, 180_000);

  it('promotes a version with a reason, shows it by alias, and refuses to archive it while it is production', async () => {
    const noReason = userErrorLine(await cli(['promote', 'pumps@1', '--alias', 'production', '--workspace', ws]));
    expect(noReason).toMatch(/--reason/);
    const badRef = userErrorLine(await cli(['promote', 'pumps', '--alias', 'production', '--reason', 'x', '--workspace', ws]));
    expect(badRef).toMatch(/MODEL@VERSION/);
    const ok = await cli(['promote', 'pumps@1', '--alias', 'production', '--reason', 'first model in service', '--workspace', ws]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/production of pumps is now version 1/);
    const show = await cli(['models', 'show', 'pumps@production', '--json', '--workspace', ws]);
    expect(show.status, show.stderr).toBe(0);
    const v = JSON.parse(show.stdout) as { version: number; aliases: string[]; onnxHash: string };
    expect(v).toEqual(expect.objectContaining({ version: 1, aliases: ['production'] }));
    expect(v.onnxHash).toMatch(/^[0-9a-f]{64}$/);
    expect(userErrorLine(await cli(['models', 'archive', 'pumps@1', '--workspace', ws]))).toMatch(/is production/);
    // Scoring by alias runs the production version.
    const scored = await cli(['predict', 'pumps@production', small, '--out', path.join(root, 'by-alias.csv'), '--json', '--workspace', ws], { timeoutMs: 60_000 });
    expect(scored.status, scored.stderr).toBe(0);
    expect(JSON.parse(scored.stdout).version).toBe(1);
  }, 120_000);

  it('backs up, restores into a new folder, checks it, and reports a damaged blob with exit 1', async () => {
    const archive = path.join(root, 'ws.tar.gz');
    const b = await cli(['backup', '--out', archive, '--workspace', ws]);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^Backed up \d+ files into .*ws\.tar\.gz/);
    expect(userErrorLine(await cli(['backup', '--out', archive, '--workspace', ws]))).toMatch(/already exists/);
    const copy = path.join(root, 'copy');
    const r = await cli(['restore', archive, '--to', copy]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Check: everything is in order\./);
    const ok = await cli(['check', '--workspace', copy]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Everything is in order/);
    const blobs = path.join(copy, 'blobs');
    const victim = fs.readdirSync(blobs).sort()[0]!;
    fs.writeFileSync(path.join(blobs, victim), 'not what it was');
    const bad = await cli(['check', '--json', '--workspace', copy]);
    expect(bad.status).toBe(1);
    const report = JSON.parse(bad.stdout) as { ok: boolean; problems: string[] };
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatch(new RegExp(`^Blob ${victim.slice(0, 12)}… is damaged`));
  }, 120_000);

  it('exports an MLflow model directory', async () => {
    const dir = path.join(root, 'mlflow');
    const r = await cli(['export-mlflow', 'pumps@1', '--out', dir, '--workspace', ws]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['MLmodel', 'conda.yaml', 'input_example.json', 'model.onnx', 'python_env.yaml', 'requirements.txt']);
    expect(fs.readFileSync(path.join(dir, 'MLmodel'), 'utf8')).toMatch(/loader_module: mlflow\.onnx/);
    expect(userErrorLine(await cli(['export-mlflow', 'pumps@1', '--out', dir, '--workspace', ws]))).toMatch(/not an empty folder/);
  }, 60_000);
});
