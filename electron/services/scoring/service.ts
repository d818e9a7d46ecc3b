import fs from 'node:fs';
import path from 'node:path';
import type { ColumnData, ColumnType } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import type { Cell, Prediction as ApiPrediction, TryItForm } from '../../../shared/scoring';
import { cellValue } from '../datasets/column-store';
import { inspectFiles } from '../datasets/import/inspect';
import type { DatasetReader } from '../datasets/reader';
import type { OnnxSignature } from '../onnx/export';
import { findModelVersion, type ModelVersionRecord } from '../training/models';
import type { Workspace } from '../workspace/workspace';
import type { ScoreParams } from './batch';
import { findColumn } from './batch';
import { SessionCache, scoreColumns, type Scored } from './inference';
import { modelOnnx, packedOnnx, type StoredOnnx } from './onnx-store';

/** A value to stand in for an input when measuring how much it pushed an answer: its training median or most common level. */
type Baseline = Map<string, Cell>;

/**
 * The core's inference service: model versions' graphs in open ONNX Runtime
 * sessions, answers for rows typed into the app, and the checks that start a
 * batch-scoring job.
 */
export class ScoringService {
  private readonly sessions = new SessionCache();
  private readonly baselines = new Map<number, Baseline>();

  constructor(
    private readonly ws: Workspace,
    private readonly reader: DatasetReader,
  ) {}

  version(model: string, version?: number): ModelVersionRecord {
    return findModelVersion(this.ws.db, model, version);
  }

  onnx(v: ModelVersionRecord): StoredOnnx {
    return modelOnnx(this.ws, v);
  }

  /** Checks a batch-scoring request before any work: the model, the file, its columns and the output path. */
  async prepareScore(a: { model: string; version?: number; file: string; out?: string; truthColumn?: string; evaluate?: boolean; keepFile?: boolean }): Promise<ScoreParams> {
    const v = this.version(a.model, a.version);
    const stored = this.onnx(v);
    const sig = stored.signature;
    let truthColumn: string | null = a.truthColumn ?? null;
    if (a.evaluate && !truthColumn) {
      if (sig.task === 'anomaly') throw new AppError('bad_input', `Name the 0/1 column that marks known problems (--label) to check an anomaly model against.`, 'truthColumn');
      truthColumn = sig.target;
    }
    const inspected = await inspectFiles([a.file]);
    const name = path.basename(a.file);
    const missing = sig.inputs.filter((i) => findColumn(inspected.schema, i.name) < 0).map((i) => `"${i.name}"`);
    if (missing.length) {
      throw new AppError('bad_input', `${name} has no column ${missing.join(', ')}, which the model needs. Its columns are ${inspected.schema.map((c) => `"${c.header}"`).join(', ')}.`, 'file');
    }
    if (truthColumn && findColumn(inspected.schema, truthColumn) < 0) {
      throw new AppError('bad_input', `${name} has no column "${truthColumn}" to check the predictions against.`, 'truthColumn');
    }
    let out: string | null = null;
    if (a.out === undefined && (!a.evaluate || a.keepFile)) {
      // From the app: into the workspace's exports folder, under a name that says what it is.
      const dir = path.join(this.ws.dir, 'exports');
      fs.mkdirSync(dir, { recursive: true });
      const stem = `${path.parse(a.file).name} scored by ${v.model} v${v.version}`.replace(/[\\/:*?"<>|]+/g, '_');
      out = path.join(dir, `${stem}.csv`);
      for (let k = 2; fs.existsSync(out); k++) out = path.join(dir, `${stem} (${k}).csv`);
    } else if (a.out) {
      out = path.resolve(a.out);
      const dir = path.dirname(out);
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new AppError('bad_input', `Cannot write ${out}: the folder ${dir} does not exist.`, 'out');
      if (path.resolve(a.file) === out) throw new AppError('bad_input', `The output would overwrite the input file ${name}. Choose another name.`, 'out');
      if (fs.existsSync(out) && fs.statSync(out).isDirectory()) throw new AppError('bad_input', `Cannot write ${out}: it is a folder.`, 'out');
    }
    // Read the columns as the training data had them, so "0"/"1" stays the class it was.
    const types: Record<string, ColumnType> = {};
    const trained = this.reader.version(v.dataset, v.datasetVersion).schema;
    for (const colName of [...sig.inputs.map((i) => i.name), ...(truthColumn ? [truthColumn] : [])]) {
      const t = trained.find((c) => c.name === colName)?.type;
      const i = findColumn(inspected.schema, colName);
      if (t && t !== 'timestamp' && i >= 0) types[inspected.schema[i]!.header] = t;
    }
    // Times written without a zone are read in the zone the training data was imported in (a file from the same plant), not this PC's:
    // the rows' times, window features and batch episodes then line up with the dataset's, and with labels added from answers.
    const zone = this.reader.version(v.dataset, v.datasetVersion).settings.timeZone;
    const settings = typeof zone === 'string' && zone ? { ...inspected.settings, timeZone: zone } : inspected.settings;
    return { model: v.model, version: v.version, onnxBlob: v.onnxBlob!, signature: sig, file: path.resolve(a.file), settings, types, out, truthColumn };
  }

  /** The "try it" form: the model's inputs, prefilled from a real row of its training data. */
  tryIt(a: { model: string; version?: number; row?: number }): TryItForm {
    const v = this.version(a.model, a.version);
    const { signature: sig } = this.onnx(v);
    const dv = this.reader.version(v.dataset, v.datasetVersion);
    let row = a.row ?? this.defaultRow(v, sig);
    row = Math.max(sig.historyRows, Math.min(dv.rowCount - 1, row));
    return {
      model: v.model,
      version: v.version,
      task: sig.task,
      target: sig.target,
      classes: sig.classes,
      dataset: v.dataset,
      datasetVersion: v.datasetVersion,
      row,
      rowCount: dv.rowCount,
      historyRows: sig.historyRows,
      actual: sig.target && dv.schema.some((c) => c.name === sig.target) ? stringOf(cellValue(this.reader.column(dv, sig.target), row)) : null,
      inputs: sig.inputs.map((i) => ({ name: i.name, kind: i.kind, unit: i.unit, levels: i.levels ?? null, value: cellValue(this.reader.column(dv, i.name), row) })),
    };
  }

  /** For a classifier, a row of the rarer class (usually the failure); else the last row. */
  private defaultRow(v: ModelVersionRecord, sig: OnnxSignature): number {
    const dv = this.reader.version(v.dataset, v.datasetVersion);
    if (sig.classes && sig.target && dv.schema.some((c) => c.name === sig.target)) {
      const col = this.reader.column(dv, sig.target);
      const want = sig.classes[sig.classes.length === 2 ? 1 : 0]!;
      for (let i = sig.historyRows; i < dv.rowCount; i++) if (stringOf(cellValue(col, i)) === want) return i;
    }
    return dv.rowCount - 1;
  }

  /**
   * Answers for rows typed into the app, each with the inputs that pushed it
   * most: the change in the answer when that input is set back to its
   * training median (or most common level). Models that read history take
   * the rows before `historyRow` of their training data as the past.
   */
  async predict(a: { model: string; version?: number; rows: Record<string, Cell>[]; historyRow?: number }): Promise<ApiPrediction[]> {
    const v = this.version(a.model, a.version);
    const packed = packedOnnx(v, this.onnx(v));
    const sig = packed.signature;
    const session = await this.sessions.get(packed.key, packed.bytes);
    const dv = this.reader.version(v.dataset, v.datasetVersion);
    const baseline = this.baseline(v, sig);
    const end = Math.min(a.historyRow ?? dv.rowCount, dv.rowCount);
    const from = sig.historyRows > 0 ? Math.max(0, end - sig.historyRows) : end;
    // The model's past: the training rows before `historyRow`, the same for every variant.
    const past = new Map(sig.inputs.map((input) => {
      const col = from < end ? this.reader.column(dv, input.name) : null;
      const cells: Cell[] = [];
      for (let i = from; col && i < end; i++) cells.push(cellValue(col, i));
      return [input.name, cells] as const;
    }));
    const out: ApiPrediction[] = [];
    for (const [r, row] of a.rows.entries()) {
      for (const input of sig.inputs) checkCell(input.name, input.kind, row[input.name], r);
      // The row itself, then the row with each input set back to its baseline.
      const variants: Record<string, Cell>[] = [row, ...sig.inputs.map((i) => ({ ...row, [i.name]: baseline.get(i.name) ?? null }))];
      // Without history all variants go in one call; with history each follows the past on its own.
      const groups = sig.historyRows > 0 ? variants.map((x) => [x]) : [variants];
      const answers: Scored[] = [];
      for (const group of groups) {
        const n = end - from + group.length;
        const cols = new Map(sig.inputs.map((input) => [input.name, columnOf(input.kind, [...past.get(input.name)!, ...group.map((x) => x[input.name] ?? null)])] as const));
        await scoreColumns(session, { ...sig, historyRows: 0 }, cols, n, (b) => { answers.push(lastRows(b, group.length, sig)); }, { chunkRows: n });
      }
      out.push(explain(sig, concatScored(answers), variants.length));
    }
    return out;
  }

  private baseline(v: ModelVersionRecord, sig: OnnxSignature): Baseline {
    let b = this.baselines.get(v.id);
    if (b) return b;
    b = new Map();
    const dv = this.reader.version(v.dataset, v.datasetVersion);
    for (const input of sig.inputs) {
      const col = this.reader.column(dv, input.name);
      b.set(input.name, typicalValue(col));
    }
    this.baselines.set(v.id, b);
    return b;
  }

  close(): Promise<void> {
    return this.sessions.close();
  }
}

function stringOf(c: Cell): string | null {
  return c === null ? null : typeof c === 'boolean' ? (c ? 'true' : 'false') : String(c);
}

function checkCell(name: string, kind: 'number' | 'boolean' | 'category', v: Cell | undefined, row: number): void {
  if (v === null || v === undefined) return;
  const where = `Row ${row + 1}, "${name}"`;
  if (kind === 'number' && (typeof v !== 'number' || !Number.isFinite(v))) throw new AppError('bad_input', `${where}: ${JSON.stringify(v)} is not a number.`, name);
  if (kind === 'boolean' && typeof v !== 'boolean' && v !== 0 && v !== 1) throw new AppError('bad_input', `${where}: ${JSON.stringify(v)} is not yes/no.`, name);
  if (kind === 'category' && typeof v !== 'string') throw new AppError('bad_input', `${where}: ${JSON.stringify(v)} must be text.`, name);
}

/** Cells into the column type the graph's input takes. */
function columnOf(kind: 'number' | 'boolean' | 'category', cells: Cell[]): ColumnData {
  if (kind === 'category') {
    const dictionary: string[] = [];
    const index = new Map<string, number>();
    const codes = Int32Array.from(cells, (c) => {
      if (c === null || c === '') return -1;
      const s = String(c);
      let k = index.get(s);
      if (k === undefined) { k = dictionary.length; dictionary.push(s); index.set(s, k); }
      return k;
    });
    return { type: 'category', codes, dictionary };
  }
  if (kind === 'boolean') return { type: 'boolean', values: Uint8Array.from(cells, (c) => (c === null ? 255 : c === true || c === 1 ? 1 : 0)) };
  return { type: 'number', values: Float64Array.from(cells, (c) => (typeof c === 'number' ? c : NaN)) };
}

/** The median of a numeric column, or the most common value of any other. */
function typicalValue(col: ColumnData): Cell {
  if (col.type === 'number' || col.type === 'integer') {
    const v = Float64Array.from(col.values.filter((x) => !Number.isNaN(x))).sort();
    if (!v.length) return null;
    const m = v.length >> 1;
    return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
  }
  const counts = new Map<number, number>();
  const arr = 'codes' in col ? col.codes : col.values;
  for (const c of arr) if (c >= 0 && c !== 255) counts.set(c, (counts.get(c) ?? 0) + 1);
  let best = -1, bestN = -1;
  for (const [c, n] of counts) if (n > bestN || (n === bestN && c < best)) { best = c; bestN = n; }
  if (best < 0) return null;
  if ('codes' in col) return col.dictionary[best]!;
  return col.type === 'boolean' ? best === 1 : best;
}

/** The last `n` rows of a block. */
function lastRows(b: Scored, n: number, sig: OnnxSignature): Scored {
  const from = b.rows - n;
  const k = sig.classes?.length ?? 0;
  const m = sig.inputs.length;
  return {
    rows: n,
    ...(b.label ? { label: b.label.slice(from) } : {}),
    ...(b.probabilities ? { probabilities: b.probabilities.slice(from * k) } : {}),
    ...(b.value ? { value: b.value.slice(from) } : {}),
    ...(b.score ? { score: b.score.slice(from) } : {}),
    ...(b.anomaly ? { anomaly: b.anomaly.slice(from) } : {}),
    ...(b.contributions ? { contributions: b.contributions.slice(from * m) } : {}),
  };
}

function concatScored(parts: Scored[]): Scored {
  if (parts.length === 1) return parts[0]!;
  const f32 = (get: (s: Scored) => Float32Array | undefined) => (parts[0] && get(parts[0]) ? Float32Array.from(parts.flatMap((p) => Array.from(get(p)!))) : undefined);
  const out: Scored = { rows: parts.reduce((a, p) => a + p.rows, 0) };
  if (parts[0]!.label) out.label = parts.flatMap((p) => p.label!);
  const pr = f32((p) => p.probabilities), v = f32((p) => p.value), sc = f32((p) => p.score), co = f32((p) => p.contributions);
  if (pr) out.probabilities = pr;
  if (v) out.value = v;
  if (sc) out.score = sc;
  if (co) out.contributions = co;
  if (parts[0]!.anomaly) out.anomaly = Uint8Array.from(parts.flatMap((p) => Array.from(p.anomaly!)));
  return out;
}

/** The answer in row 0 of a block that holds, after it, one variant per input. */
function explain(sig: OnnxSignature, b: Scored, count: number): ApiPrediction {
  const at = 0;
  const k = sig.classes?.length ?? 0;
  const main = (i: number, cls: number): number =>
    sig.task === 'anomaly' ? b.score![i]! : sig.task === 'regression' ? b.value![i]! : b.probabilities![i * k + cls]!;
  const p: ApiPrediction = { prediction: null, probabilities: null, score: null, anomaly: null, pushes: [] };
  let cls = 0;
  if (sig.task === 'anomaly') {
    p.score = b.score![at]!;
    p.anomaly = b.anomaly![at] === 1;
    p.prediction = p.anomaly ? 'unusual' : 'normal';
  } else if (sig.task === 'regression') {
    p.prediction = b.value![at]!;
  } else {
    const label = b.label![at]!;
    p.prediction = label;
    p.probabilities = Object.fromEntries(sig.classes!.map((c, j) => [c, b.probabilities![at * k + j]!]));
    cls = k === 2 ? 1 : Math.max(0, sig.classes!.indexOf(label));
  }
  const here = main(at, cls);
  for (let j = 1; j < count; j++) {
    const effect = here - main(at + j, cls);
    if (Number.isFinite(effect)) p.pushes.push({ input: sig.inputs[j - 1]!.name, effect });
  }
  p.pushes.sort((x, y) => Math.abs(y.effect) - Math.abs(x.effect) || (x.input < y.input ? -1 : 1));
  return p;
}
