import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ColumnData, ColumnSchema, ColumnType, Problem, ReadSettings } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import type { Task } from '../../../shared/training';
import { readFiles } from '../datasets/import/pipeline';
import type { OnnxSignature } from '../onnx/export';
import { scoreMetrics, type Truth } from '../training/evaluate';
import { labelsOf } from '../training/target';
import { scoreColumns, type Scored } from './inference';

/**
 * Batch scoring (DESIGN.md section 7): a file in, in any format import reads,
 * and a CSV out with the prediction columns appended; or, to evaluate, the
 * metrics of training on the file's own answers. Runs in a job's worker.
 */

export interface ScoreParams {
  model: string;
  version: number;
  onnxBlob: string;
  signature: OnnxSignature;
  file: string;
  settings: ReadSettings;
  /** Types to read columns as (the training data's), by column name. */
  types: Record<string, ColumnType>;
  /** Where to write the scored CSV; null to only evaluate. */
  out: string | null;
  /** Evaluate against this column (the target, or the 0/1 label column of an anomaly model); null to only predict. */
  truthColumn: string | null;
}

export interface ScoreResult {
  model: string;
  version: number;
  file: string;
  rows: number;
  out: string | null;
  /** The columns added to the output, in order. */
  added: string[];
  /** Classifiers: how many rows got each label; anomaly models: how many were flagged. */
  counts: Record<string, number>;
  metrics: Record<string, number> | null;
}

/** The appended column names: `prediction`, `probability_<class>`…, or `score` and `anomaly`; a name the file already has gets "_2". */
export function addedColumns(sig: OnnxSignature, existing: string[]): string[] {
  const base = sig.task === 'anomaly' ? ['score', 'anomaly'] : ['prediction', ...(sig.classes ?? []).map((c) => `probability_${c}`)];
  const taken = new Set(existing.map((e) => e.toLowerCase()));
  return base.map((b) => {
    let name = b;
    for (let k = 2; taken.has(name.toLowerCase()); k++) name = `${b}_${k}`;
    taken.add(name.toLowerCase());
    return name;
  });
}

/** Finds a column by name, then header, then ignoring case. */
export function findColumn(schema: ColumnSchema[], name: string): number {
  let i = schema.findIndex((c) => c.name === name);
  if (i < 0) i = schema.findIndex((c) => c.header === name);
  if (i < 0) i = schema.findIndex((c) => c.name.toLowerCase() === name.toLowerCase() || c.header.toLowerCase() === name.toLowerCase());
  return i;
}

const TYPE_WORDS: Record<string, string> = { number: 'numbers', integer: 'numbers', boolean: 'yes/no values', category: 'text', text: 'text', timestamp: 'dates and times' };

/** The first unreadable value among the columns the model reads, as one sentence naming file, line and column. */
function unreadable(problems: Problem[], needed: Set<string>, file: string): string | null {
  for (const p of problems) {
    if (p.kind !== 'not_a_number' && p.kind !== 'bad_boolean' && p.kind !== 'ragged_row') continue;
    const ex = p.examples.find((e) => e.column === null || needed.has(e.column));
    if (!ex) continue;
    const more = p.count > 1 ? ` (${p.count.toLocaleString('en-US')} values like it)` : '';
    if (p.kind === 'ragged_row') return `${file}, line ${ex.line}: ${ex.reason}${more}.`;
    return `${file}, line ${ex.line}, column "${ex.column}": "${ex.raw}" cannot be read as ${p.kind === 'bad_boolean' ? 'yes/no' : 'a number'}${more}.`;
  }
  return null;
}

/** One cell as CSV text: numbers in full precision, times in ISO 8601 UTC, text quoted when it must be. */
function cellText(col: ColumnData, i: number): string {
  switch (col.type) {
    case 'number':
    case 'integer': {
      const v = col.values[i]!;
      return Number.isNaN(v) ? '' : String(v);
    }
    case 'timestamp': {
      const v = col.values[i]!;
      return Number.isNaN(v) ? '' : new Date(v).toISOString();
    }
    case 'boolean': {
      const v = col.values[i]!;
      return v === 255 ? '' : v ? 'true' : 'false';
    }
    default: {
      const c = col.codes[i]!;
      return c < 0 ? '' : quote(col.dictionary[c]!);
    }
  }
}

function quote(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** float32 results written with the digits float32 carries (not 0.30000001192092896). */
function f32(v: number): string {
  return Number.isNaN(v) ? '' : String(Number(v.toPrecision(7)));
}

export async function runScoring(p: ScoreParams, bytes: Uint8Array, ctx: { progress(f: number, m?: string): void; throwIfCancelled(): void }): Promise<ScoreResult> {
  const name = path.basename(p.file);
  const sig = p.signature;
  ctx.progress(0, `Reading ${name}…`);
  const table = await readFiles({ paths: [p.file], settings: p.settings, types: p.types }, { onProgress: (f, m) => ctx.progress(f * 0.4, m), checkCancelled: () => ctx.throwIfCancelled() });
  const columns = new Map<string, ColumnData>();
  const missing: string[] = [];
  const needed = new Set<string>();
  for (const input of sig.inputs) {
    const i = findColumn(table.schema, input.name);
    if (i < 0) {
      missing.push(input.name);
      continue;
    }
    const col = table.columns[i]!;
    const s = table.schema[i]!;
    needed.add(s.name);
    const wantsNumber = input.type === 'float32';
    if (wantsNumber && 'codes' in col) throw new AppError('bad_input', `${name}: column "${s.header}" holds text, but the model needs ${input.kind === 'boolean' ? 'yes/no values' : 'numbers'} there.`, input.name);
    if (col.type === 'timestamp') throw new AppError('bad_input', `${name}: column "${s.header}" holds dates and times, but the model needs ${TYPE_WORDS[input.kind === 'category' ? 'text' : 'number']} there.`, input.name);
    columns.set(input.name, col);
  }
  if (missing.length) {
    const have = table.schema.map((c) => `"${c.header}"`).join(', ');
    throw new AppError('bad_input', `${name} has no column ${missing.map((m) => `"${m}"`).join(', ')}, which the model needs. Its columns are ${have}.`, missing[0]);
  }
  let truthCol: ColumnData | null = null;
  if (p.truthColumn) {
    const i = findColumn(table.schema, p.truthColumn);
    if (i < 0) throw new AppError('bad_input', `${name} has no column "${p.truthColumn}" to check the predictions against.`, p.truthColumn);
    truthCol = table.columns[i]!;
    needed.add(table.schema[i]!.name);
  }
  const bad = unreadable(table.problems, needed, name);
  if (bad) throw new AppError('bad_input', bad);
  if (sig.historyRows > 0 && table.problems.some((x) => x.kind === 'out_of_order')) {
    throw new AppError('bad_input', `${name}: some rows have an earlier time than the row before. This model reads recent history, so the rows must be in time order; sort the file by time first.`);
  }

  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const added = addedColumns(sig, table.schema.map((c) => c.header));
  const n = table.rowCount;
  const k = sig.classes?.length ?? 0;
  const counts: Record<string, number> = {};
  // Kept only when evaluating: what the metrics need.
  const proba = p.truthColumn && k ? new Float64Array(n * k) : null;
  const labels = p.truthColumn && k ? new Int32Array(n) : null;
  const values = p.truthColumn && sig.task === 'regression' ? new Float64Array(n) : null;
  const scores = p.truthColumn && sig.task === 'anomaly' ? new Float64Array(n) : null;
  const flags = p.truthColumn && sig.task === 'anomaly' ? new Uint8Array(n) : null;
  const classIndex = new Map((sig.classes ?? []).map((c, j) => [c, j]));

  const tmp = p.out ? `${p.out}.part-${process.pid}` : null;
  const fd = tmp ? openOut(tmp, p.out!) : null;
  try {
    if (fd !== null) fs.writeSync(fd, [...table.schema.map((c) => quote(c.header)), ...added.map(quote)].join(',') + '\n');
    await scoreColumns(session, sig, columns, n, (b: Scored, start: number) => {
      const lines: string[] = new Array(b.rows);
      for (let r = 0; r < b.rows; r++) {
        const i = start + r;
        const extra: string[] = [];
        if (sig.task === 'anomaly') {
          const flag = b.anomaly![r]!;
          counts.anomaly = (counts.anomaly ?? 0) + flag;
          extra.push(f32(b.score![r]!), String(flag));
          if (scores) { scores[i] = b.score![r]!; flags![i] = flag; }
        } else if (k) {
          const label = b.label![r]!;
          counts[label] = (counts[label] ?? 0) + 1;
          extra.push(quote(label));
          for (let c = 0; c < k; c++) extra.push(f32(b.probabilities![r * k + c]!));
          if (proba) {
            for (let c = 0; c < k; c++) proba[i * k + c] = b.probabilities![r * k + c]!;
            labels![i] = classIndex.get(label) ?? -1;
          }
        } else {
          extra.push(f32(b.value![r]!));
          if (values) values[i] = b.value![r]!;
        }
        if (fd !== null) {
          let line = '';
          for (let c = 0; c < table.columns.length; c++) line += (c ? ',' : '') + cellText(table.columns[c]!, i);
          lines[r] = line + ',' + extra.join(',');
        }
      }
      if (fd !== null) fs.writeSync(fd, lines.join('\n') + '\n');
      ctx.progress(0.4 + (0.55 * (start + b.rows)) / n, `Scored ${(start + b.rows).toLocaleString('en-US')} of ${n.toLocaleString('en-US')} rows…`);
    }, { checkCancelled: () => ctx.throwIfCancelled() });
    if (fd !== null) {
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(tmp!, p.out!);
    }
  } catch (e) {
    if (fd !== null) {
      try { fs.closeSync(fd); } catch { /* already closed */ }
      fs.rmSync(tmp!, { force: true });
    }
    throw e;
  } finally {
    await session.release();
  }

  let metrics: Record<string, number> | null = null;
  if (truthCol) metrics = evaluate(sig.task, truthCol, p.truthColumn!, name, { proba, labels, values, scores, flags, classIndex, k });
  ctx.progress(1, `Scored ${n.toLocaleString('en-US')} rows.`);
  return { model: p.model, version: p.version, file: p.file, rows: n, out: p.out, added: p.out ? added : [], counts, metrics };
}

function openOut(tmp: string, out: string): number {
  try {
    if (fs.existsSync(out) && fs.statSync(out).isDirectory()) throw Object.assign(new Error('dir'), { code: 'EISDIR' });
    return fs.openSync(tmp, 'w');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'there is no permission to write there' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
    throw new AppError('bad_input', `Cannot write ${out}: ${why}.`, 'out');
  }
}

interface Collected {
  proba: Float64Array | null;
  labels: Int32Array | null;
  values: Float64Array | null;
  scores: Float64Array | null;
  flags: Uint8Array | null;
  classIndex: Map<string, number>;
  k: number;
}

/** Metrics with training's definitions, over the rows that have an answer. */
function evaluate(task: Task, col: ColumnData, column: string, file: string, c: Collected): Record<string, number> {
  const n = 'codes' in col ? col.codes.length : col.values.length;
  const rows: number[] = [];
  let truth: Truth;
  if (task === 'regression') {
    if ('codes' in col || col.type === 'boolean') throw new AppError('bad_input', `${file}: column "${column}" must hold numbers to check a value model against.`, column);
    for (let i = 0; i < n; i++) if (Number.isFinite(col.values[i]!)) rows.push(i);
    truth = { kind: 'values', y: Float64Array.from(rows, (i) => col.values[i]!) };
  } else if (task === 'anomaly') {
    if ('codes' in col) throw new AppError('bad_input', `${file}: column "${column}" must hold 0/1 (1 = a known problem) to check an anomaly model against.`, column);
    for (let i = 0; i < n; i++) if (col.type === 'boolean' ? col.values[i] !== 255 : Number.isFinite(col.values[i]!)) rows.push(i);
    truth = { kind: 'label', y: Uint8Array.from(rows, (i) => (col.values[i]! > 0 && col.values[i] !== 255 ? 1 : 0)) };
  } else {
    const labels = labelsOf(col);
    const unknown = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const l = labels[i];
      if (l === null || l === undefined) continue;
      if (!c.classIndex.has(l)) unknown.set(l, (unknown.get(l) ?? 0) + 1);
      else rows.push(i);
    }
    if (unknown.size) {
      const [first] = unknown.keys();
      throw new AppError('bad_input', `${file}: column "${column}" holds "${first}"${unknown.size > 1 ? ` and ${unknown.size - 1} other values` : ''} that the model never learned (it knows ${[...c.classIndex.keys()].map((x) => `"${x}"`).join(', ')}).`, column);
    }
    truth = { kind: 'classes', y: Int32Array.from(rows, (i) => c.classIndex.get(labels[i]!)!), classCount: c.k };
  }
  if (!rows.length) throw new AppError('bad_input', `${file}: column "${column}" has no values to check the predictions against.`, column);
  const pick = <T extends Float64Array | Int32Array | Uint8Array>(a: T, width = 1): T => {
    const Ctor = a.constructor as new (n: number) => T;
    const out = new Ctor(rows.length * width);
    for (let r = 0; r < rows.length; r++) for (let j = 0; j < width; j++) out[r * width + j] = a[rows[r]! * width + j]!;
    return out;
  };
  const pred = task === 'regression' ? { value: pick(c.values!) } : task === 'anomaly' ? { score: pick(c.scores!), flag: pick(c.flags!) } : { proba: pick(c.proba!, c.k), label: pick(c.labels!) };
  return { rows: rows.length, ...scoreMetrics(task, truth, pred) };
}
