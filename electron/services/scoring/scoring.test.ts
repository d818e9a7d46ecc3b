import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as XLSX from 'xlsx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Input, MethodName, Output } from '../../../shared/api';
import type { Prediction } from '../../../shared/scoring';
import type { ColumnData } from '../../../shared/datasets';
import { createCore, type Core } from '../compose';
import type { TrainJobResult } from '../jobs/kinds/train';
import { buildFeatures } from '../training/features';
import { loadFrame } from '../training/frame';
import { findModelVersion } from '../training/models';
import { predictFeatures } from '../training/pipeline';
import { fixed7, OutBlock, type ScoreResult } from './batch';
import { scoreColumns, type Scored } from './inference';
import { modelOnnx } from './onnx-store';

const AI4I = '/work/shared/data/ai4i2020/ai4i2020.csv';

let root: string;
let core: Core;

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

async function train(input: Record<string, unknown>): Promise<TrainJobResult> {
  const job = await call('training.start', input);
  const done = await core.jobs.wait(job.id);
  if (done.state !== 'done') throw new Error(`training failed: ${JSON.stringify(done.error)}`);
  return done.result as TrainJobResult;
}

async function score(input: Record<string, unknown>): Promise<ScoreResult> {
  const job = await call('models.score', input);
  const done = await core.jobs.wait(job.id);
  if (done.state !== 'done') throw Object.assign(new Error(done.error?.message ?? done.state), { code: done.error?.code ?? done.state });
  return done.result as ScoreResult;
}

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect((e as { code?: string }).code).toBe('bad_input');
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

/** A small CSV parser for the files the scorer writes (quotes only around text that needs them). */
function readCsv(file: string): { header: string[]; rows: string[][] } {
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  const split = (l: string) => {
    const out: string[] = [];
    let cur = '', q = false;
    for (let i = 0; i < l.length; i++) {
      const ch = l[i]!;
      if (q) {
        if (ch === '"' && l[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') q = false; else cur += ch;
      } else if (ch === '"') q = true;
      else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
    }
    out.push(cur);
    return out;
  };
  return { header: split(lines[0]!), rows: lines.slice(1).map(split) };
}

function writeCsv(name: string, header: string[], rows: (string | number)[][]): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return file;
}

let failures: TrainJobResult;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-scoring-'));
  core = createCore({ workspaceDir: path.join(root, 'ws') });
  await importFile(AI4I, 'ai4i');
  failures = await train({ dataset: 'ai4i', task: 'binary', target: 'Machine failure', inputs: ['Type', 'Air temperature', 'Process temperature', 'Rotational speed', 'Torque', 'Tool wear'], algorithms: ['hgb'], timeBudgetSeconds: 30, model: 'failures' });
  // A time series with window features, for history across blocks.
  const t0 = Date.UTC(2024, 0, 1);
  const rows: (string | number)[][] = [];
  for (let i = 0; i < 1500; i++) {
    const load = 50 + 10 * Math.sin(i / 40) + ((i * 7919) % 13) / 13;
    const temp = 20 + 0.5 * load + (i % 300 < 8 ? 12 : 0) + ((i * 104729) % 7) / 14;
    rows.push([new Date(t0 + i * 60_000).toISOString(), load.toFixed(3), temp.toFixed(3)]);
  }
  const file = writeCsv('motor.csv', ['Time', 'Load', 'Winding temp'], rows);
  await importFile(file, 'motor');
  await train({ dataset: 'motor', task: 'anomaly', inputs: ['Load', 'Winding temp'], algorithms: ['pca'], windowMinutes: 10, timeBudgetSeconds: 30, model: 'motor watch' });
}, 240_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('the ONNX graph kept with each model version', () => {
  it('is written when the version is recorded, and its hash is the one the job reports', () => {
    const v = findModelVersion(core.ws.db, 'failures');
    expect(v.onnxHash).toBe(failures.onnxHash);
    expect(v.onnxHash).toMatch(/^[0-9a-f]{64}$/);
    const stored = modelOnnx(core.ws, v);
    expect(stored.bytes.length).toBeGreaterThan(1000);
    expect(stored.signature.inputs.map((i) => i.name)).toEqual(expect.arrayContaining(['Type', 'Torque']));
  });
});

describe('batch scoring a file', () => {
  it('appends prediction and probability columns that match the training code on every row', async () => {
    const out = path.join(root, 'scored.csv');
    const r = await score({ model: 'failures', file: AI4I, out });
    expect(r.rows).toBe(10_000);
    expect(r.added).toEqual(['prediction', 'probability_0', 'probability_1']);
    expect(r.counts['0']! + r.counts['1']!).toBe(10_000);
    const csv = readCsv(out);
    expect(csv.header.slice(-3)).toEqual(['prediction', 'probability_0', 'probability_1']);
    expect(csv.header[0]).toBe('UDI');
    expect(csv.rows).toHaveLength(10_000);
    expect(fs.readdirSync(root).filter((f) => f.includes('.part-'))).toEqual([]);
    // The TypeScript pipeline on the same rows, from the stored dataset.
    const v = findModelVersion(core.ws.db, 'failures');
    const { pipeline } = modelOnnx(core.ws, v);
    const ds = core.ws.db.prepare("SELECT dv.schema, dv.row_count FROM dataset_versions dv JOIN datasets d ON d.id = dv.dataset_id WHERE d.name = 'ai4i'").get() as { schema: string; row_count: number };
    const frame = loadFrame(core.ws.blobs, JSON.parse(ds.schema), ds.row_count, pipeline.plan.inputs.map((i) => i.name), null);
    const ts = predictFeatures(pipeline, buildFeatures(pipeline.plan, frame));
    let maxDiff = 0;
    for (let i = 0; i < 10_000; i++) {
      const row = csv.rows[i]!;
      expect(row[row.length - 3]).toBe(pipeline.target!.classes![ts.label![i]!]);
      maxDiff = Math.max(maxDiff, Math.abs(Number(row[row.length - 1]) - ts.proba![i * 2 + 1]!));
    }
    expect(maxDiff).toBeLessThan(1e-5);
  }, 120_000);

  it('evaluates against the answers in the file with the training metrics', async () => {
    const r = await score({ model: 'failures', file: AI4I, evaluate: true });
    expect(r.out).toBeNull();
    expect(r.metrics!.rows).toBe(10_000);
    // The kept model learned from every row, so on them it does better than on the holdout.
    expect(r.metrics!.roc_auc).toBeGreaterThan(failures.report.metrics.roc_auc!);
    expect(r.metrics!.accuracy).toBeGreaterThan(0.98);
    expect(Object.keys(r.metrics!)).toEqual(expect.arrayContaining(['accuracy', 'f1', 'roc_auc', 'log_loss']));
  }, 60_000);

  it('keeps the file\'s own text: delimiter, decimal commas, line endings, quoted values over two lines', async () => {
    const rows = [
      'Type;Air temperature [K];Process temperature [K];Rotational speed [rpm];Torque [Nm];Tool wear [min];Note',
      'L;298,9;309,1;2861;4,6;143;"checked by ""Ana"""',
      'H;300,0;310,0;1500;40,0;100;plain',
      'H;300,5;310,2;1500;40,5;100;plain',
      'M;298,10;308,6;1551;42,8;0;"two',
      'lines; with a semicolon"',
      '',
      'L;299,0;309,0;1500;40,0;50;plain',
    ];
    const file = path.join(root, 'semicolons.csv');
    fs.writeFileSync(file, rows.join('\r\n') + '\r\n');
    const out = path.join(root, 'semicolons-scored.csv');
    const r = await score({ model: 'failures', file, out });
    expect(r.rows).toBe(5);
    const text = fs.readFileSync(out, 'utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(`${rows[0]};prediction;probability_0;probability_1`);
    expect(lines[1]).toMatch(/^L;298,9;309,1;2861;4,6;143;"checked by ""Ana""";1;0,\d+;0,\d+$/);
    // The quoted value keeps its line break (written as it was read) and the row gets its answers after it.
    expect(text).toMatch(/M;298,10;308,6;1551;42,8;0;"two\nlines; with a semicolon";0;0,\d+;0,\d+\r\n/);
    expect(lines.at(-2)).toMatch(/^L;299,0;309,0;1500;40,0;50;plain;0;/);
    expect(lines).toHaveLength(7); // header, 5 rows (one over two lines), and the empty string after the last line break
  }, 60_000);

  it('copies a file of many blocks row for row: quoted values over two lines at block edges, text in UTF-8, every row its answers', async () => {
    // Over 8 MB: read in several 4 MB chunks and written in several blocks, with a two-line quoted value every 9,973 rows so some fall on chunk edges.
    const header = 'Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],Torque [Nm],Tool wear [min],Note';
    const records: string[] = [];
    for (let i = 0; i < 260_000; i++) {
      const note = i % 9973 === 0 ? `"Prüfung ${i}\nzweite Zeile, mit Komma"` : i % 3 === 0 ? `Übergabe ${i}` : `ok ${i}`;
      records.push(`${'LMH'[i % 3]},${(298 + (i % 40) / 10).toFixed(1)},${(308 + (i % 30) / 10).toFixed(1)},${1200 + (i % 1500)},${(3 + (i % 600) / 10).toFixed(1)},${i % 250},${note}`);
    }
    const file = path.join(root, 'blocks.csv');
    fs.writeFileSync(file, `${header}\n${records.join('\n')}\n`);
    expect(fs.statSync(file).size).toBeGreaterThan(9 << 20);
    const out = path.join(root, 'blocks-scored.csv');
    const r = await score({ model: 'failures', file, out });
    expect(r.rows).toBe(records.length);
    const text = fs.readFileSync(out, 'utf8');
    expect(text.startsWith(`${header},prediction,probability_0,probability_1\n`)).toBe(true);
    // Each record comes back as it was, followed by a label and two probabilities that sum to 1.
    const body = text.slice(header.length + ',prediction,probability_0,probability_1\n'.length);
    let at = 0;
    for (let i = 0; i < records.length; i++) {
      expect(body.startsWith(records[i]!, at)).toBe(true);
      at += records[i]!.length;
      const end = body.indexOf('\n', at);
      const [, label, p0, p1] = body.slice(at, end).split(',');
      expect(label === '0' || label === '1').toBe(true);
      expect(Math.abs(Number(p0) + Number(p1) - 1)).toBeLessThan(2e-6);
      at = end + 1;
    }
    expect(at).toBe(body.length);
  }, 120_000);

  it('reads Excel files too', async () => {
    const rows = [['Type', 'Air temperature [K]', 'Process temperature [K]', 'Rotational speed [rpm]', 'Torque [Nm]', 'Tool wear [min]'], ['L', 298.9, 309.1, 2861, 4.6, 143], ['M', 298.1, 308.6, 1551, 42.8, 0]];
    const wb = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), 'Data');
    const file = path.join(root, 'two.xlsx');
    XLSX.writeFile(wb, file);
    const out = path.join(root, 'two-scored.csv');
    const r = await score({ model: 'failures', file, out });
    expect(r.rows).toBe(2);
    const csv = readCsv(out);
    // 2861 rpm at 4.6 Nm is a power failure in AI4I's rules; 1551 rpm at 42.8 Nm is normal.
    expect(csv.rows.map((x) => x[6])).toEqual(['1', '0']);
  }, 60_000);

  it('refuses a file without an input, with an unreadable value, or an output it cannot write, and leaves nothing behind', async () => {
    const noTorque = writeCsv('no-torque.csv', ['Type', 'Air temperature [K]', 'Process temperature [K]', 'Rotational speed [rpm]', 'Tool wear [min]'], [['L', 298, 309, 1500, 10]]);
    expect(await refused(call('models.score', { model: 'failures', file: noTorque, out: path.join(root, 'x.csv') }))).toMatch(/no-torque\.csv has no column "Torque", which the model needs/);
    const badValue = writeCsv('bad-value.csv', ['Type', 'Air temperature [K]', 'Process temperature [K]', 'Rotational speed [rpm]', 'Torque [Nm]', 'Tool wear [min]'], [['L', 298, 309, 1500, 40, 10], ['L', 298, 309, 'fast', 40, 10]]);
    expect(await refused(score({ model: 'failures', file: badValue, out: path.join(root, 'y.csv') }))).toMatch(/bad-value\.csv, line 3, column "Rotational speed": "fast" cannot be read as a number/);
    expect(await refused(call('models.score', { model: 'failures', file: AI4I, out: path.join(root, 'nowhere', 'z.csv') }))).toMatch(/folder .*nowhere does not exist/);
    expect(await refused(call('models.score', { model: 'failures', file: AI4I, evaluate: true, truthColumn: 'Nope' }))).toMatch(/no column "Nope"/);
    expect(fs.existsSync(path.join(root, 'x.csv'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'y.csv'))).toBe(false);
    expect(fs.readdirSync(root).filter((f) => f.includes('.part-'))).toEqual([]);
  }, 60_000);

  it('gives a window model the rows before each block, so block size changes nothing', async () => {
    const v = findModelVersion(core.ws.db, 'motor watch');
    const stored = modelOnnx(core.ws, v);
    expect(stored.signature.historyRows).toBeGreaterThan(1);
    const session = await ort.InferenceSession.create(stored.bytes);
    const ds = core.ws.db.prepare("SELECT dv.schema, dv.row_count FROM dataset_versions dv JOIN datasets d ON d.id = dv.dataset_id WHERE d.name = 'motor'").get() as { schema: string; row_count: number };
    const frame = loadFrame(core.ws.blobs, JSON.parse(ds.schema), ds.row_count, ['Load', 'Winding temp'], 'Time');
    const cols = new Map<string, ColumnData>([...frame.columns].filter(([k]) => k !== 'Time'));
    const run = async (chunkRows: number) => {
      const scores: number[] = [];
      await scoreColumns(session, stored.signature, cols, frame.rows, (b: Scored) => { scores.push(...b.score!); }, { chunkRows });
      return scores;
    };
    const whole = await run(1 << 20);
    const small = await run(37);
    expect(small).toHaveLength(frame.rows);
    expect(small).toEqual(whole);
    const ts = predictFeatures(stored.pipeline, buildFeatures(stored.pipeline.plan, frame));
    for (let i = 0; i < frame.rows; i++) expect(Math.abs(whole[i]! - ts.score![i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ts.score![i]!)));
    await session.release();
  }, 60_000);
});

describe('try it', () => {
  it('prefills the form from a real failure row and explains the answer by the inputs that pushed it', async () => {
    const form = await call('models.tryIt', { model: 'failures' });
    expect(form.task).toBe('binary');
    expect(form.actual).toBe('1');
    expect(form.inputs.map((i) => i.name)).toEqual(expect.arrayContaining(['Type', 'Torque', 'Tool wear']));
    expect(form.inputs.find((i) => i.name === 'Type')!.levels).toEqual(['H', 'L', 'M']);
    const row = Object.fromEntries(form.inputs.map((i) => [i.name, i.value]));
    const [p] = (await call('models.predict', { model: 'failures', rows: [row] })) as Prediction[];
    expect(p!.prediction).toBe('1');
    expect(p!.probabilities!['1']).toBeGreaterThan(0.5);
    expect(p!.probabilities!['0']! + p!.probabilities!['1']!).toBeCloseTo(1, 5);
    expect(p!.pushes).toHaveLength(form.inputs.length);
    // Sorted by size, and the biggest push raised the failure probability.
    for (let i = 1; i < p!.pushes.length; i++) expect(Math.abs(p!.pushes[i - 1]!.effect)).toBeGreaterThanOrEqual(Math.abs(p!.pushes[i]!.effect));
    expect(p!.pushes[0]!.effect).toBeGreaterThan(0.05);
  });

  it('answers a typical row as normal, takes missing values, and refuses a wrong type naming the input', async () => {
    const typical = { Type: 'M', 'Air temperature': 300, 'Process temperature': 310, 'Rotational speed': 1500, Torque: 40, 'Tool wear': 100 };
    const [a, b] = (await call('models.predict', { model: 'failures', rows: [typical, { ...typical, Torque: null, Type: 'Z' }] })) as Prediction[];
    expect(a!.prediction).toBe('0');
    expect(a!.probabilities!['1']).toBeLessThan(0.1);
    expect(b!.prediction).not.toBeNull();
    expect(await refused(call('models.predict', { model: 'failures', rows: [{ ...typical, Torque: 'high' }] }))).toMatch(/Row 1, "Torque": "high" is not a number/);
  });

  it('runs a window model with the training rows before the chosen row as its past', async () => {
    const form = await call('models.tryIt', { model: 'motor watch', row: 900 });
    expect(form.historyRows).toBeGreaterThan(1);
    expect(form.row).toBe(900);
    const row = Object.fromEntries(form.inputs.map((i) => [i.name, i.value]));
    const [normal] = (await call('models.predict', { model: 'motor watch', rows: [row], historyRow: 900 })) as Prediction[];
    const [hot] = (await call('models.predict', { model: 'motor watch', rows: [{ ...row, 'Winding temp': Number(row['Winding temp']) + 40 }], historyRow: 900 })) as Prediction[];
    expect(normal!.anomaly).toBe(false);
    expect(hot!.anomaly).toBe(true);
    expect(hot!.score!).toBeGreaterThan(normal!.score!);
    expect(hot!.pushes[0]!.input).toBe('Winding temp');
  });
});

describe('fixed7', () => {
  it('writes an answer in 0..1 with 7 decimals and no trailing zeros, others with 7 significant digits', () => {
    // Seven decimals with the trailing zeros stripped; the scored file's writer (OutBlock.number, below) must give the same bytes.
    const reference = (v: number) => {
      const q = Math.round(v * 1e7);
      if (!(v >= 0 && v <= 1)) return String(Number(v.toPrecision(7)));
      return q === 0 ? '0' : q === 1e7 ? '1' : `0.${String(q).padStart(7, '0').replace(/0+$/, '')}`;
    };
    const xs = new Float32Array(200_000);
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < xs.length; i++) xs[i] = i % 5 === 0 ? Math.round(next() * 1000) / 1000 : next() ** (1 + (i % 7));
    for (const v of xs) expect(fixed7(v)).toBe(reference(v));
    expect([0, 1, 0.5, 1e-7, 4e-8, 0.9999999, 12.345678, -3.5, NaN].map(fixed7)).toEqual(['0', '1', '0.5', '0.0000001', '0', '0.9999999', '12.34568', '-3.5', '']);

    // The scored file's writer puts the same text in as bytes, with either decimal mark.
    const some = [...xs.subarray(0, 5000), 0, 1, 1e-7, 12.345678, -3.5, NaN];
    for (const [dot, mark] of [[46, '.'], [44, ',']] as const) {
      const file = path.join(os.tmpdir(), `fixed7-${process.pid}-${dot}.txt`);
      const fd = fs.openSync(file, 'w');
      const out = new OutBlock(fd);
      for (const v of some) {
        out.number(v, dot);
        out.byte(10);
      }
      out.flush();
      fs.closeSync(fd);
      expect(fs.readFileSync(file, 'latin1')).toBe(some.map((v) => `${fixed7(v).replace('.', mark)}\n`).join(''));
      fs.rmSync(file);
    }
  });
});
