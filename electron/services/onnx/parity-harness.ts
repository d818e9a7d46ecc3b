/**
 * For the ONNX parity tests: a made-up plant to train on, the same rows fed
 * to ONNX Runtime, and the differences from the TypeScript predictions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ColumnData } from '../../../shared/datasets';
import type { TrainSettings } from '../../../shared/training';
import { trainAutoml, type Candidate } from '../training/automl';
import { buildFeatures, inputValues } from '../training/features';
import { frameFromColumns, takeRows, type Frame } from '../training/frame';
import { createRng } from '../training/learners/rng';
import { predictFeatures, prepare, type FittedPipeline, type Prediction } from '../training/pipeline';
import { checkOnnxModel } from './check-model';
import { exportOnnx, onnxSignature, packedSignature, type OnnxSignature } from './export';
import { feedsFor } from '../scoring/inference';

const T0 = Date.UTC(2024, 0, 1);

/**
 * A process sampled every minute: two temperatures in the same unit (so
 * differences are made), a pressure, a pump flag, a product grade, gaps in
 * every column; and three things to predict from them.
 */
export function plantFrame(rows: number, seed = 1, time = true): Frame {
  const rng = createRng(seed);
  const cols = {
    Time: new Float64Array(rows), Inlet: new Float64Array(rows), Outlet: new Float64Array(rows), Pressure: new Float64Array(rows),
    Pump: new Uint8Array(rows), Grade: new Int32Array(rows), Yield: new Float64Array(rows), Failure: new Int32Array(rows), Mode: new Int32Array(rows),
  };
  let drift = 0;
  for (let i = 0; i < rows; i++) {
    drift += (rng.next() - 0.5) * 0.4;
    const inlet = 60 + 8 * Math.sin(i / 40) + drift + rng.next();
    const pump = rng.next() < 0.7 ? 1 : 0;
    const outlet = inlet + 5 + 10 * pump + 2 * rng.next();
    const pressure = 3 + 0.05 * inlet + (rng.next() - 0.5);
    const grade = Math.floor(rng.next() * 3);
    cols.Time[i] = T0 + i * 60_000;
    // Some sensors stick at one value for a while: windows with equal values.
    cols.Inlet[i] = i % 97 < 6 && i > 6 ? cols.Inlet[i - 1]! : rng.next() < 0.04 ? NaN : inlet;
    cols.Outlet[i] = rng.next() < 0.03 ? NaN : outlet;
    cols.Pressure[i] = rng.next() < 0.02 ? NaN : pressure;
    cols.Pump[i] = rng.next() < 0.03 ? 255 : pump;
    cols.Grade[i] = rng.next() < 0.05 ? -1 : grade;
    const heat = outlet - inlet;
    cols.Yield[i] = 50 + 0.8 * inlet - 0.3 * heat + 4 * grade + 3 * pressure * pump + rng.next() * 2;
    cols.Failure[i] = heat + 3 * (pressure - 6) + 2 * grade + 3 * rng.next() > 20 ? 1 : 0;
    cols.Mode[i] = pressure > 6.4 ? 2 : heat > 14 ? 1 : 0;
  }
  const columns = new Map<string, ColumnData>([
    ['Time', { type: 'timestamp', values: cols.Time }],
    ['Inlet', { type: 'number', values: cols.Inlet }],
    ['Outlet', { type: 'number', values: cols.Outlet }],
    ['Pressure', { type: 'number', values: cols.Pressure }],
    ['Pump', { type: 'boolean', values: cols.Pump }],
    ['Grade', { type: 'category', codes: cols.Grade, dictionary: ['A', 'B', 'C'] }],
    ['Yield', { type: 'number', values: cols.Yield }],
    ['Failure', { type: 'category', codes: cols.Failure, dictionary: ['no', 'yes'] }],
    ['Mode', { type: 'category', codes: cols.Mode, dictionary: ['idle', 'run', 'surge'] }],
  ]);
  const unit: Record<string, string> = { Inlet: '°C', Outlet: '°C', Pressure: 'bar' };
  const schema = [...columns].map(([name, c]) => ({ name, type: c.type, unit: unit[name] ?? null, header: name, blob: '' }));
  return frameFromColumns(columns, schema, rows, time ? 'Time' : null);
}

export const PLANT_INPUTS = ['Inlet', 'Outlet', 'Pressure', 'Pump', 'Grade'];

/**
 * The frame with rows appended that training never saw: all missing, an
 * unseen grade, ±1e30, values far outside the training range, a run of
 * 1e30 (windows that hold it), and ordinary rows after them.
 */
export function withOddRows(frame: Frame): Frame {
  const odd: Record<string, (number | string | null)[]> = {
    Inlet: [NaN, 1e30, -1e30, 500, -40, 1e30, 1e30, 61, 62, NaN, 3.4e38, 60.5],
    Outlet: [NaN, -1e30, 1e30, -500, 900, 1e30, 70, 71, NaN, 72, -3.4e38, 80],
    Pressure: [NaN, 1e30, 1e30, 0, 100, -1e30, 5, 6, 7, NaN, 1e-30, 5.5],
    Pump: [null, 1, 0, 1, 0, 1, null, 0, 1, 1, 0, 1],
    Grade: [null, 'Z', 'A', 'B', 'Z', 'C', null, 'A', 'B', 'C', 'Z', 'A'],
  };
  const k = odd.Inlet!.length;
  const n = frame.rows;
  const columns = new Map<string, ColumnData>();
  for (const [name, col] of frame.columns) {
    const extra = odd[name];
    if ('codes' in col) {
      const dictionary = [...col.dictionary, 'Z'];
      const codes = new Int32Array(n + k);
      codes.set(col.codes);
      for (let i = 0; i < k; i++) codes[n + i] = extra ? (extra[i] === null ? -1 : dictionary.indexOf(extra[i] as string)) : -1;
      columns.set(name, { type: col.type, codes, dictionary });
    } else if (col.type === 'boolean') {
      const values = new Uint8Array(n + k);
      values.set(col.values);
      for (let i = 0; i < k; i++) values[n + i] = extra && extra[i] !== null ? (extra[i] as number) : 255;
      columns.set(name, { type: 'boolean', values });
    } else {
      const values = new Float64Array(n + k);
      values.set(col.values);
      const last = col.values[n - 1]!;
      for (let i = 0; i < k; i++) values[n + i] = col.type === 'timestamp' ? last + (i + 1) * 60_000 : extra ? (extra[i] as number) : NaN;
      columns.set(name, { type: col.type, values });
    }
  }
  return frameFromColumns(columns, frame.schema, n + k, frame.timeColumn);
}

/** Rows [start, end) of a frame, as a batch scored on its own. */
export function sliceFrame(frame: Frame, start: number, end: number): Frame {
  const idx = Int32Array.from({ length: end - start }, (_, i) => start + i);
  const columns = new Map<string, ColumnData>();
  for (const [name, col] of frame.columns) columns.set(name, takeRows(col, idx));
  return frameFromColumns(columns, frame.schema, idx.length, frame.timeColumn);
}

export function settings(task: TrainSettings['task'], over: Partial<TrainSettings> = {}): TrainSettings {
  return {
    task,
    target: task === 'regression' ? 'Yield' : task === 'binary' ? 'Failure' : task === 'multiclass' ? 'Mode' : null,
    labelColumn: null,
    inputs: PLANT_INPUTS,
    timeColumn: 'Time',
    windowMinutes: 15,
    lags: [1, 3],
    holdoutFraction: 0.2,
    timeBudgetSeconds: 600,
    seed: 3,
    algorithms: [],
    ...over,
  };
}

const HOOKS = { progress: () => undefined, throwIfCancelled: () => undefined, now: () => Date.now() };

/** The model AutoML keeps when it may try only `candidates`. */
export function train(frame: Frame, s: TrainSettings, candidates?: Candidate[]): FittedPipeline {
  return trainAutoml(frame, s, HOOKS, candidates ? { candidates } : {}).pipeline;
}

/** The graph's inputs for every row of `frame`, as a caller would give them. */
export function feeds(sig: OnnxSignature, frame: Frame): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const input of sig.inputs) {
    const col = frame.columns.get(input.name)!;
    if (input.type === 'string') {
      const c = col as Extract<ColumnData, { codes: Int32Array }>;
      out[input.name] = new ort.Tensor('string', Array.from(c.codes, (code) => (code < 0 ? '' : c.dictionary[code]!)), [frame.rows]);
    } else {
      out[input.name] = new ort.Tensor('float32', Float32Array.from(inputValues(col)), [frame.rows]);
    }
  }
  return out;
}

export interface Parity {
  /** Rows compared. */
  rows: number;
  /** Largest |ONNX − TypeScript| of probabilities, anomaly scores up to 1, or contributions and values up to 1. */
  maxAbs: number;
  /** Largest |ONNX − TypeScript| / |TypeScript| where |TypeScript| > 1 (values, scores, contributions). */
  maxRel: number;
  /** Largest distance between ONNX's float32 output and the TypeScript value rounded to float32, in float32 steps (0 = the same float). */
  maxSteps: number;
  /** Rows whose label or anomaly flag differs. */
  labelMismatches: number;
  /** Output values where the packed variant (numeric inputs in one tensor) differs from the graph with named inputs, bit for bit. */
  packedMismatches: number;
  /** How often each label (or anomaly flag) was given by ONNX. */
  labelCounts: Record<string, number>;
  /** Binary: the smallest |p1 − threshold| over the rows (a label that close could flip on the last bit). */
  thresholdMargin: number | null;
  /** Problems that are not a matter of size (a NaN on one side only, a missing output). */
  problems: string[];
}

/** Writes the model to a temporary file and runs onnx.checker (full check) on it; throws with the checker's words. */
export function expectValidOnnx(bytes: Uint8Array, name: string): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-onnx-'));
  try {
    const file = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.onnx`);
    fs.writeFileSync(file, bytes);
    checkOnnxModel(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Exports, checks with onnx.checker, runs in ONNX Runtime and compares with predictFeatures on the same rows. */
export async function parity(p: FittedPipeline, frame: Frame, name: string): Promise<Parity> {
  const bytes = exportOnnx(p, { modelName: name, modelVersion: 1, appVersion: '0.0.0-test' });
  expectValidOnnx(bytes, name);
  const sig = onnxSignature(p);
  const session = await ort.InferenceSession.create(Buffer.from(bytes));
  const got = await session.run(feeds(sig, frame));
  const x = buildFeatures(p.plan, frame);
  const want = predictFeatures(p, x);
  const r: Parity = { rows: frame.rows, maxAbs: 0, maxRel: 0, maxSteps: 0, labelMismatches: 0, packedMismatches: 0, labelCounts: {}, thresholdMargin: null, problems: [] };
  // The packed variant the app runs in process: the same answers to the bit.
  const packedBytes = exportOnnx(p, { modelName: name, modelVersion: 1, appVersion: '0.0.0-test' }, { packed: true });
  expectValidOnnx(packedBytes, `${name} packed`);
  const packedSession = await ort.InferenceSession.create(Buffer.from(packedBytes));
  const packed = await packedSession.run(feedsFor(packedSignature(p), frame.columns, 0, frame.rows));
  for (const o of sig.outputs) {
    const a = got[o.name]!.data as ArrayLike<unknown>, b = packed[o.name]!.data as ArrayLike<unknown>;
    if (a.length !== b.length) r.packedMismatches += Math.max(a.length, b.length);
    else for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) r.packedMismatches++;
  }
  await packedSession.release();
  const count = (label: string) => { r.labelCounts[label] = (r.labelCounts[label] ?? 0) + 1; };
  const close = (what: string, a: ArrayLike<number>, b: ArrayLike<number>) => compare(r, what, a, b);
  if (p.task === 'regression') close('value', got.value!.data as Float32Array, want.value!);
  else if (p.task === 'anomaly') {
    close('score', got.score!.data as Float32Array, want.score!);
    const flags = got.anomaly!.data as BigInt64Array;
    for (let i = 0; i < frame.rows; i++) {
      count(String(flags[i]));
      if (Number(flags[i]!) !== want.flag![i]) r.labelMismatches++;
    }
  } else {
    close('probabilities', got.probabilities!.data as Float32Array, want.proba!);
    const labels = got.label!.data as string[];
    const classes = p.target!.classes!;
    for (let i = 0; i < frame.rows; i++) {
      count(labels[i]!);
      if (labels[i] !== classes[want.label![i]!]) r.labelMismatches++;
    }
    if (classes.length === 2) r.thresholdMargin = margin(want, p.threshold!);
  }
  if (got.contributions) close('contributions', got.contributions.data as Float32Array, contributions(p, x));
  return r;
}

function compare(r: Parity, what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  if (got.length !== want.length) {
    r.problems.push(`${what}: ${got.length} values from ONNX, ${want.length} expected`);
    return;
  }
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!, b = want[i]!;
    const b32 = Math.fround(b);
    if (Number.isNaN(a) || Number.isNaN(b) || !Number.isFinite(b32)) {
      if (!Object.is(a, b32)) r.problems.push(`${what}[${i}]: ONNX ${a}, TypeScript ${b}`);
      continue;
    }
    r.maxSteps = Math.max(r.maxSteps, float32Steps(a, b32));
    const d = Math.abs(a - b);
    if (Math.abs(b) <= 1) r.maxAbs = Math.max(r.maxAbs, d);
    else r.maxRel = Math.max(r.maxRel, d / Math.abs(b));
  }
}

/** Float32 values between a and b (both float32), counting across zero. */
function float32Steps(a: number, b: number): number {
  const order = (v: number) => {
    const bits = new DataView(Float32Array.of(v).buffer).getInt32(0, true);
    return bits < 0 ? -(bits & 0x7fffffff) : bits;
  };
  return Math.abs(order(a) - order(b));
}

function margin(pred: Prediction, threshold: number): number {
  let m = Infinity;
  for (let i = 0; i < pred.proba!.length / 2; i++) m = Math.min(m, Math.abs(pred.proba![2 * i + 1]! - threshold));
  return m;
}

/** The contributions output computed in TypeScript: coefficient × prepared value, summed per input (half each for a pair). */
export function contributions(p: FittedPipeline, x: ReturnType<typeof buildFeatures>): Float64Array {
  const coef = (p.learner as { coef: number[] }).coef;
  const xp = prepare(p, x);
  const k = p.plan.inputs.length;
  const at = new Map(p.plan.inputs.map((i, j) => [i.name, j]));
  const out = new Float64Array(x.rows * k);
  p.plan.features.forEach((f, j) => {
    const owners = f.other ? [f.input, f.other] : [f.input];
    for (const o of owners) {
      const c = at.get(o)!;
      for (let i = 0; i < x.rows; i++) out[i * k + c]! += (coef[j]! * xp.columns[j]![i]!) / owners.length;
    }
  });
  return out;
}
