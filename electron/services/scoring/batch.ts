import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ColumnData, ColumnSchema, ColumnType, Problem, ReadSettings } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import type { Task } from '../../../shared/training';
import { isExcelFile } from '../datasets/import/excel';
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
  /**
   * Anomaly models on a file with a time column: the flagged rows (time in
   * epoch ms, score, inputs), at most MAX_FLAGGED of them, for the feedback
   * loop's episodes. The job keeps them out of its stored result.
   */
  flagged?: FlaggedRow[];
}

export interface FlaggedRow {
  t: number;
  score: number;
  inputs: Record<string, number | string | null>;
}

/** At most this many flagged rows of one file become episodes. */
export const MAX_FLAGGED = 20_000;

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

export async function runScoring(p: ScoreParams, bytes: Uint8Array, ctx: { progress(f: number, m?: string): void; throwIfCancelled(): void }): Promise<ScoreResult> {
  const name = path.basename(p.file);
  const sig = p.signature;
  ctx.progress(0, `Reading ${name}…`);
  const table = await readFiles({ paths: [p.file], settings: p.settings, types: p.types, fingerprint: false }, { onProgress: (f, m) => ctx.progress(f * 0.4, m), checkCancelled: () => ctx.throwIfCancelled() });
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

  // Batch scoring may use every core (this runs in a job's worker thread).
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: Math.max(1, Math.min(4, os.cpus().length)), interOpNumThreads: 1 });
  const added = addedColumns(sig, table.schema.map((c) => c.header));
  const n = table.rowCount;
  const k = sig.classes?.length ?? 0;
  const classIndex = new Map((sig.classes ?? []).map((c, j) => [c, j]));
  // Every answer, kept until the file is written (and for the metrics).
  const labels = k ? new Int32Array(n) : null;
  const proba = k ? new Float64Array(n * k) : null;
  const values = sig.task === 'regression' ? new Float64Array(n) : null;
  const scores = sig.task === 'anomaly' ? new Float64Array(n) : null;
  const flags = sig.task === 'anomaly' ? new Uint8Array(n) : null;
  const writing = p.out !== null;
  const share = writing ? 0.35 : 0.55;
  try {
    await scoreColumns(session, sig, columns, n, (b: Scored, start: number) => {
      for (let r = 0; r < b.rows; r++) {
        const i = start + r;
        if (scores) { scores[i] = b.score![r]!; flags![i] = b.anomaly![r]!; }
        else if (values) values[i] = b.value![r]!;
        else {
          labels![i] = classIndex.get(b.label![r]!) ?? -1;
          for (let c = 0; c < k; c++) proba![i * k + c] = b.probabilities![r * k + c]!;
        }
      }
      ctx.progress(0.4 + (share * (start + b.rows)) / n, `Scored ${(start + b.rows).toLocaleString('en-US')} of ${n.toLocaleString('en-US')} rows…`);
    }, { checkCancelled: () => ctx.throwIfCancelled() });
  } finally {
    await session.release();
  }
  const counts: Record<string, number> = {};
  if (flags) counts.anomaly = flags.reduce((a, f) => a + f, 0);
  if (labels) for (const l of labels) counts[sig.classes![l]!] = (counts[sig.classes![l]!] ?? 0) + 1;

  if (writing) {
    const decimal = p.settings.decimal === ',' && p.settings.delimiter !== ',' ? ',' : '.';
    /** The answers appended to row i, written into the block: each value after `sep`, in the file's encoding. */
    const extrasFor = (sep: string, enc: BufferEncoding): Extras => {
      const sepBytes = Buffer.from(sep, enc);
      const dot = decimal === ',' ? 44 : 46;
      const names = (sig.classes ?? []).map((c) => Buffer.from(sep + quoteFor(c, sep), enc));
      if (scores) {
        return (i, out) => {
          out.bytes(sepBytes);
          out.number(scores[i]!, dot);
          out.bytes(sepBytes);
          out.byte(48 + flags![i]!);
        };
      }
      if (values) {
        return (i, out) => {
          out.bytes(sepBytes);
          out.number(values[i]!, dot);
        };
      }
      return (i, out) => {
        out.bytes(names[labels![i]!]!);
        for (let c = 0; c < k; c++) {
          out.bytes(sepBytes);
          out.number(proba![i * k + c]!, dot);
        }
      };
    };
    const tmp = `${p.out}.part-${process.pid}`;
    const fd = openOut(tmp, p.out!);
    try {
      const progress = (f: number) => ctx.progress(0.4 + share + (0.95 - 0.4 - share) * f, `Writing ${path.basename(p.out!)}…`);
      if (canCopyRaw(p.file, p.settings)) await copyWithExtras(p.file, p.settings, table.rowCount, fd, (sep) => added.map((a) => quoteFor(a, sep)).join(sep), extrasFor, progress, () => ctx.throwIfCancelled());
      else writeTable(table, fd, added, extrasFor(',', 'utf8'), progress, () => ctx.throwIfCancelled());
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(tmp, p.out!);
    } catch (e) {
      try { fs.closeSync(fd); } catch { /* already closed */ }
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  let metrics: Record<string, number> | null = null;
  if (truthCol) metrics = evaluate(sig.task, truthCol, p.truthColumn!, name, { proba, labels, values, scores, flags, classIndex, k });
  ctx.progress(1, `Scored ${n.toLocaleString('en-US')} rows.`);
  const time = table.columns.find((c): c is { type: 'timestamp'; values: Float64Array } => c.type === 'timestamp');
  const flagged = flags && time ? flaggedRows(time.values, columns, scores!, flags) : undefined;
  return { model: p.model, version: p.version, file: p.file, rows: n, out: p.out, added: p.out ? added : [], counts, metrics, ...(flagged ? { flagged } : {}) };
}

/** The flagged rows with a time, their score and inputs (the first MAX_FLAGGED). */
function flaggedRows(time: Float64Array, columns: Map<string, ColumnData>, scores: Float64Array, flags: Uint8Array): FlaggedRow[] {
  const out: FlaggedRow[] = [];
  for (let i = 0; i < flags.length && out.length < MAX_FLAGGED; i++) {
    if (!flags[i] || Number.isNaN(time[i]!)) continue;
    const inputs: FlaggedRow['inputs'] = {};
    for (const [name, col] of columns) {
      if ('codes' in col) inputs[name] = col.codes[i]! < 0 ? null : col.dictionary[col.codes[i]!]!;
      else if (col.type === 'boolean') inputs[name] = col.values[i] === 255 ? null : col.values[i]!;
      else inputs[name] = Number.isNaN(col.values[i]!) ? null : col.values[i]!;
    }
    out.push({ t: time[i]!, score: scores[i]!, inputs });
  }
  return out;
}

/**
 * A number from a float32 result with the 7 significant digits float32 carries: 0..1 with seven
 * decimals at most, no trailing zeros. The scored file's rows get the same text from OutBlock.number,
 * which writes it as bytes.
 */
export function fixed7(v: number): string {
  if (Number.isNaN(v)) return '';
  if (v >= 0 && v <= 1) {
    const q = Math.round(v * 1e7);
    if (q === 0) return '0';
    if (q === 1e7) return '1';
    return `0.${String(q).padStart(7, '0').replace(/0+$/, '')}`;
  }
  return String(Number(v.toPrecision(7)));
}

function quoteFor(s: string, sep: string): string {
  return s.includes(sep) || /["\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Files whose own text can be copied line by line with columns appended: delimited text in UTF-8 or Windows-1252, one row per record. */
function canCopyRaw(file: string, settings: ReadSettings): boolean {
  return !isExcelFile(file) && !settings.longFormat && (settings.encoding === 'utf-8' || settings.encoding === 'windows-1252');
}

/**
 * Writes the input file's own lines with the answers appended, so numbers,
 * times and text stay exactly as the person's file had them. A record ends
 * at a line break outside quotes (a quoted value may span lines, as the
 * reader reads it); blank lines are dropped; lines before the header are kept.
 */
async function copyWithExtras(
  file: string,
  settings: ReadSettings,
  rows: number,
  fd: number,
  header: (sep: string) => string,
  extrasFor: (sep: string, enc: BufferEncoding) => Extras,
  progress: (f: number) => void,
  checkCancelled: () => void,
): Promise<void> {
  // Bytes are copied as they are; only the appended text is encoded (ASCII
  // numbers, and class names in the file's own encoding).
  const sep = settings.delimiter;
  const enc: BufferEncoding = settings.encoding === 'windows-1252' ? 'latin1' : 'utf8';
  const headerLine = settings.skipLines + 1;
  const LF = 10, CR = 13, QUOTE = 34;
  const NEWLINE = Buffer.from('\n');
  let eol: Buffer | null = null;
  let lineNo = 0;
  let row = 0;
  let open = false; // inside a quoted value that continues on the next line
  // The current row: its first line (bytes [pendingStart, pendingStop) of pendingBuf), and the line breaks and lines of a quoted value that spans lines.
  let pendingBuf: Buffer | null = null;
  let pendingStart = 0;
  let pendingStop = 0;
  let pendingMore: Buffer[] | null = null;
  let pendingRow = -1;
  // Rows are copied into one buffer and written in blocks: a Buffer per row and per answer cost more than the copying.
  const out = new OutBlock(fd);
  const extras = extrasFor(sep, enc);
  const flushRow = () => {
    if (pendingRow >= 0 && pendingRow < rows) {
      out.range(pendingBuf!, pendingStart, pendingStop);
      if (pendingMore) for (const b of pendingMore) out.bytes(b);
      extras(pendingRow, out);
      out.bytes(eol!);
    }
    pendingBuf = null;
    pendingMore = null;
    pendingRow = -1;
  };
  /** Whether the chunk being read holds a quote at all: most files have none, and their lines need no counting. */
  let quotesInChunk = true;
  /** One line (without its line break) from buf[start, end). */
  const onLine = (buf: Buffer, start: number, end: number) => {
    lineNo++;
    let stop = end;
    if (stop > start && buf[stop - 1] === CR) stop--;
    eol ??= Buffer.from(stop < end ? '\r\n' : '\n');
    if (lineNo < headerLine) { out.range(buf, start, stop); out.bytes(eol); return; }
    if (lineNo === headerLine && settings.hasHeader) {
      out.range(buf, start, stop);
      out.text(sep + header(sep), enc);
      out.bytes(eol);
      return;
    }
    let quotes = 0;
    if (quotesInChunk) for (let q = buf.indexOf(QUOTE, start); q >= 0 && q < stop; q = buf.indexOf(QUOTE, q + 1)) quotes++;
    if (open) {
      (pendingMore ??= []).push(NEWLINE, buf.subarray(start, stop));
      if (quotes % 2 === 1) open = false;
      return;
    }
    if (stop === start || (stop - start < 8 && buf.toString('latin1', start, stop).trim() === '')) return;
    flushRow();
    pendingRow = row++;
    pendingBuf = buf;
    pendingStart = start;
    pendingStop = stop;
    if (quotes % 2 === 1) open = true;
  };
  const size = fs.statSync(file).size;
  let read = 0;
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) {
    checkCancelled();
    read += chunk.length;
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    quotesInChunk = buf.indexOf(QUOTE) >= 0;
    let start = 0;
    for (let nl = buf.indexOf(LF); nl >= 0; nl = buf.indexOf(LF, start)) {
      onLine(buf, start, nl);
      start = nl + 1;
    }
    carry = Buffer.from(buf.subarray(start));
    progress(Math.min(1, read / size));
  }
  quotesInChunk = true;
  if (carry.length) onLine(carry, 0, carry.length);
  eol ??= Buffer.from('\n');
  flushRow();
  out.flush();
  if (row !== rows) throw new Error(`Copying ${path.basename(file)} found ${row} of its ${rows} rows; the file changed while it was scored.`);
}

/** Writes the answers of one row into the block. */
type Extras = (row: number, out: OutBlock) => void;

/** Bytes and text gathered in one buffer and written to `fd` whenever it fills. */
export class OutBlock {
  private buf = Buffer.allocUnsafe(8 << 20);
  private at = 0;
  constructor(private readonly fd: number) {}

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  range(b: Buffer, start: number, end: number): void {
    this.room(end - start);
    this.at += b.copy(this.buf, this.at, start, end);
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    if (b.length > 16) {
      this.at += b.copy(this.buf, this.at);
      return;
    }
    // A separator or a class name: a loop here costs less than a call into C++.
    for (let j = 0; j < b.length; j++) this.buf[this.at++] = b[j]!;
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.at++] = c;
  }

  /** fixed7(v) with `dot` (a byte) as the decimal mark; answers in 0..1, nearly all of them, go in as digits without a string. */
  number(v: number, dot: number): void {
    if (!(v >= 0 && v <= 1)) {
      const s = fixed7(v);
      this.text(dot === 44 ? s.replace('.', ',') : s, 'latin1');
      return;
    }
    this.room(9);
    let q = Math.round(v * 1e7);
    if (q === 0 || q === 1e7) {
      this.buf[this.at++] = q ? 49 : 48;
      return;
    }
    let decimals = 7;
    while (q % 10 === 0) {
      q /= 10;
      decimals--;
    }
    this.buf[this.at++] = 48;
    this.buf[this.at++] = dot;
    for (let j = decimals - 1; j >= 0; j--) {
      this.buf[this.at + j] = 48 + (q % 10);
      q = Math.floor(q / 10);
    }
    this.at += decimals;
  }

  text(s: string, enc: BufferEncoding): void {
    // At most 3 bytes per UTF-16 unit in UTF-8, 1 in latin1.
    this.room(enc === 'latin1' ? s.length : 3 * s.length);
    this.at += this.buf.write(s, this.at, enc);
  }

  flush(): void {
    let done = 0;
    while (done < this.at) done += fs.writeSync(this.fd, this.buf, done, this.at - done);
    this.at = 0;
  }
}

/** Files that cannot be copied as text (Excel, historian long format, UTF-16): every column written out, then the answers. */
function writeTable(table: { schema: ColumnSchema[]; columns: ColumnData[]; rowCount: number }, fd: number, added: string[], extras: Extras, progress: (f: number) => void, checkCancelled: () => void): void {
  const out = new OutBlock(fd);
  out.text([...table.schema.map((c) => quote(c.header)), ...added.map(quote)].join(',') + '\n', 'utf8');
  const n = table.rowCount;
  for (let start = 0; start < n; start += 16_384) {
    checkCancelled();
    const end = Math.min(n, start + 16_384);
    for (let i = start; i < end; i++) {
      let line = '';
      for (let c = 0; c < table.columns.length; c++) line += (c ? ',' : '') + cellText(table.columns[c]!, i);
      out.text(line, 'utf8');
      extras(i, out);
      out.byte(10);
    }
    progress(end / n);
  }
  out.flush();
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
