/**
 * The import pipeline that jobs run in a worker thread: read files into typed
 * columns and a problem report (analyze), then apply the person's choices,
 * sort by time and store the columns as blobs (save).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ColumnData, ColumnSchema, ColumnType, Problem, ProblemKind, ReadSettings } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { BlobStore } from '../../workspace/blobs';
import { storeColumns, type StoredColumn } from '../column-store';
import { fingerprintInWorker } from '../side-work';
import { appendTables, keepIndex, takeRows, timeOrder } from '../table-ops';
import type { NewVersion, SourceRef } from '../versions';
import { readDelimited, sniffFile } from './csv-reader';
import { isExcelFile, readExcel, sniffExcel } from './excel';
import { pivotLong } from './long-format';
import type { ParsedTable, ReadControl } from './table';
import { MAX_EXAMPLES } from './problem-log';
import { localText } from './timestamps';

export type Choice = 'missing' | 'skip' | 'keep';

export interface AnalyzeParams {
  paths: string[];
  settings: ReadSettings;
  types?: Record<string, ColumnType>;
  /** False when nothing will be saved (scoring a file): skips the sources' fingerprints. */
  fingerprint?: boolean;
}

export interface Analysis {
  stagingId: string;
  rows: number;
  blankLines: number;
  schema: ColumnSchema[];
  problems: Problem[];
  sources: SourceRef[];
}

interface Staged {
  schema: ColumnSchema[];
  columns: ColumnData[];
  rowCount: number;
  problems: Problem[];
  problemRows: Partial<Record<ProblemKind, Uint32Array>>;
  sources: SourceRef[];
  settings: ReadSettings;
  blankLines: number;
}


/** Reads every file with the same settings and appends them, checking that they share one schema. */
export async function readFiles(params: AnalyzeParams, control: ReadControl): Promise<Staged> {
  const parts: (ParsedTable & { blankLines?: number; file: string })[] = [];
  const sources: SourceRef[] = [];
  const n = params.paths.length;
  for (let i = 0; i < n; i++) {
    const file = params.paths[i]!;
    const sub: ReadControl = {
      checkCancelled: control.checkCancelled,
      onProgress: (f, m) => control.onProgress?.((i + f * 0.9) / n, m ?? `Reading ${path.basename(file)}…`),
    };
    // The source's fingerprint is computed on the other core while this one parses.
    const print = params.fingerprint === false ? null : fingerprintInWorker(file);
    print?.catch(() => undefined);
    const typed = (schema: ColumnSchema[]) => schema.map((c) => ({ ...c, type: params.types?.[c.header] ?? params.types?.[c.name] ?? c.type }));
    let table: ParsedTable & { blankLines?: number };
    if (isExcelFile(file)) {
      // Without type changes the reader detects the schema itself: one parse of the workbook instead of two.
      const schema = params.types && Object.keys(params.types).length ? typed((await sniffExcel(file, params.settings)).schema) : null;
      table = await readExcel(file, params.settings, schema, sub);
    } else {
      const sniffed = await sniffFile(file, params.settings);
      table = await readDelimited(file, params.settings, typed(sniffed.schema), sub);
    }
    const longFormat = params.settings.longFormat;
    if (longFormat) table = { ...pivotLong(table, { ...params.settings, longFormat }, sub), blankLines: table.blankLines ?? 0 };
    if (print) {
      control.onProgress?.((i + 0.95) / n, `Fingerprinting ${path.basename(file)}…`);
      sources.push(await print);
    }
    parts.push({ ...table, file: path.basename(file) });
  }
  if (parts.length === 1) {
    const p = parts[0]!;
    return {
      schema: p.schema,
      columns: p.columns,
      rowCount: p.rowCount,
      problems: p.problems,
      problemRows: p.problemRows,
      sources,
      settings: params.settings,
      blankLines: p.blankLines ?? 0,
    };
  }
  const columns = appendTables(parts.map((p) => ({ file: p.file, schema: p.schema, columns: p.columns })));
  const merged = mergeProblems(parts);
  const timeIdx = params.settings.timeColumn === null ? -1 : parts[0]!.schema.findIndex((c) => c.header === params.settings.timeColumn);
  const timeCol = timeIdx >= 0 ? columns[timeIdx] : undefined;
  if (timeCol?.type === 'timestamp') {
    const lines = concatLines(parts);
    repeatsAcrossFiles(merged, timeCol.values, lines, parts, parts[0]!.schema[timeIdx]!.name, params.settings.timeZone);
  }
  return {
    schema: parts[0]!.schema,
    columns,
    rowCount: parts.reduce((s, p) => s + p.rowCount, 0),
    ...merged,
    sources,
    settings: params.settings,
    blankLines: parts.reduce((s, p) => s + (p.blankLines ?? 0), 0),
  };
}

function concatLines(parts: ParsedTable[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((n, p) => n + p.rowCount, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p.lines.subarray(0, p.rowCount), o);
    o += p.rowCount;
  }
  return out;
}

/**
 * Files checked one by one miss what happens at their seams: monthly exports
 * often repeat the last reading of one month as the first of the next. Times
 * that repeat across files are added to duplicate_time (the first occurrence
 * stays), so "skip" can drop them.
 */
function repeatsAcrossFiles(
  merged: Pick<Staged, 'problems' | 'problemRows'>,
  times: Float64Array,
  lines: Uint32Array,
  parts: { rowCount: number; file: string }[],
  column: string,
  timeZone: string,
): void {
  const fileOf = new Uint32Array(times.length);
  let o = 0;
  parts.forEach((p, i) => {
    fileOf.fill(i, o, o + p.rowCount);
    o += p.rowCount;
  });
  const firstFile = new Map<number, number>();
  const already = new Set(merged.problemRows.duplicate_time ?? []);
  const extra: number[] = [];
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (t !== t) continue;
    const f = firstFile.get(t);
    if (f === undefined) firstFile.set(t, fileOf[i]!);
    else if (f !== fileOf[i] && !already.has(i)) extra.push(i);
  }
  if (!extra.length) return;
  let p = merged.problems.find((x) => x.kind === 'duplicate_time');
  if (!p) {
    p = { kind: 'duplicate_time', title: 'Rows with the same time as another row', count: 0, examples: [], choices: ['keep', 'skip'], defaultChoice: 'keep' };
    merged.problems.push(p);
  }
  p.count += extra.length;
  for (const i of extra) {
    if (p.examples.length >= MAX_EXAMPLES) break;
    const text = localText(times[i]!, timeZone);
    p.examples.push({ line: lines[i]!, column, raw: text, reason: `${parts[fileOf[i]!]!.file}: line ${lines[i]} repeats a time already in ${parts[firstFile.get(times[i]!)!]!.file} (${text}).` });
  }
  const before = merged.problemRows.duplicate_time ?? new Uint32Array(0);
  const all = new Uint32Array(before.length + extra.length);
  all.set(before);
  all.set(extra, before.length);
  merged.problemRows.duplicate_time = all;
}

/** One report over several files: counts add up, examples name their file, row indexes shift. */
function mergeProblems(parts: (ParsedTable & { file: string })[]): Pick<Staged, 'problems' | 'problemRows'> {
  const byKind = new Map<ProblemKind, Problem>();
  const rows = new Map<ProblemKind, Uint32Array[]>();
  let offset = 0;
  for (const p of parts) {
    for (const prob of p.problems) {
      const into = byKind.get(prob.kind) ?? { ...prob, count: 0, examples: [] };
      into.count += prob.count;
      for (const e of prob.examples) {
        if (into.examples.length < MAX_EXAMPLES) into.examples.push({ ...e, reason: `${p.file}: ${e.reason}` });
      }
      byKind.set(prob.kind, into);
    }
    for (const [kind, r] of Object.entries(p.problemRows) as [ProblemKind, Uint32Array][]) {
      const shifted = new Uint32Array(r.length);
      for (let i = 0; i < r.length; i++) shifted[i] = r[i]! + offset;
      rows.set(kind, [...(rows.get(kind) ?? []), shifted]);
    }
    offset += p.rowCount;
  }
  const problemRows: Partial<Record<ProblemKind, Uint32Array>> = {};
  for (const [kind, list] of rows) {
    const all = new Uint32Array(list.reduce((n, a) => n + a.length, 0));
    let o = 0;
    for (const a of list) {
      all.set(a, o);
      o += a.length;
    }
    problemRows[kind] = all;
  }
  return { problems: [...byKind.values()], problemRows };
}

function effectiveChoice(p: Problem, chosen: Choice | undefined): Choice {
  return chosen !== undefined && p.choices.includes(chosen) ? chosen : p.defaultChoice;
}

function missingCount(c: ColumnData): number {
  let n = 0;
  if ('codes' in c) {
    for (let i = 0; i < c.codes.length; i++) if (c.codes[i]! < 0) n++;
  } else if (c.type === 'boolean') {
    for (let i = 0; i < c.values.length; i++) if (c.values[i] === 255) n++;
  } else {
    for (let i = 0; i < c.values.length; i++) if (c.values[i] !== c.values[i]) n++;
  }
  return n;
}

/** Applies the choices, sorts by time and stores the columns. Returns what the main thread records. */
export async function finish(
  staged: Staged,
  opts: { workspaceDir: string; name: string; description?: string; choices: Partial<Record<ProblemKind, Choice>> },
  control: ReadControl,
): Promise<Omit<NewVersion, 'datasetName' | 'description'> & { schema: StoredColumn[]; missing: number[] }> {
  const skipKinds = staged.problems.filter((p) => effectiveChoice(p, opts.choices[p.kind]) === 'skip').map((p) => p.kind);
  const drop = skipKinds.map((k) => staged.problemRows[k]).filter((r): r is Uint32Array => r !== undefined);
  let columns = staged.columns;
  let rowCount = staged.rowCount;
  if (drop.length) {
    const keep = keepIndex(staged.rowCount, drop);
    columns = columns.map((c) => takeRows(c, keep));
    rowCount = keep.length;
  }
  control.checkCancelled?.();
  const timeIdx = staged.settings.timeColumn === null ? -1 : staged.schema.findIndex((c) => c.header === staged.settings.timeColumn);
  const timeCol = timeIdx >= 0 ? columns[timeIdx]! : null;
  if (timeCol && timeCol.type === 'timestamp') {
    control.onProgress?.(0.1, 'Sorting by time…');
    const order = timeOrder(timeCol.values);
    if (order) columns = columns.map((c) => takeRows(c, order));
  }
  if (rowCount === 0) {
    throw new AppError('bad_input', 'No rows would be left after skipping the rows with problems. Choose "treat as missing" for some problems instead.');
  }
  control.checkCancelled?.();
  control.onProgress?.(0.3, 'Saving columns…');
  const blobs = new BlobStore(path.join(opts.workspaceDir, 'blobs'), path.join(opts.workspaceDir, 'tmp'));
  const { stored, contentHash } = storeColumns(blobs, staged.schema, columns, rowCount);
  // The profile (statistics, histograms, correlations) is derived from the stored
  // columns and made the first time someone looks (datasets.profile), so an import
  // ends as soon as its data is safe.
  const times = timeCol && timeCol.type === 'timestamp' ? (columns[timeIdx] as Extract<ColumnData, { values: Float64Array }>).values : null;
  let timeStart: number | null = null;
  let timeEnd: number | null = null;
  if (times) {
    for (let i = 0; i < times.length; i++) {
      const t = times[i]!;
      if (!Number.isNaN(t)) {
        if (timeStart === null || t < timeStart) timeStart = t;
        if (timeEnd === null || t > timeEnd) timeEnd = t;
      }
    }
  }
  const problems = staged.problems.map(({ examples: _examples, ...p }) => p);
  return {
    contentHash,
    rowCount,
    schema: stored,
    settings: { ...staged.settings },
    sources: staged.sources,
    report: {
      problems,
      rejectedRows: staged.rowCount - rowCount,
      // Only a choice the problem offers is recorded; anything else falls back to its default.
      choices: Object.fromEntries(staged.problems.map((p) => [p.kind, effectiveChoice(p, opts.choices[p.kind])])),
    },
    profileBlob: null,
    timeColumn: timeIdx >= 0 ? staged.schema[timeIdx]!.name : null,
    timeStart,
    timeEnd,
    missing: columns.map(missingCount),
  };
}

/** Keeps an analysed import on disk between "analyze" and "save" (tmp/staging/<id>/). */
export function writeStaging(workspaceDir: string, staged: Staged): string {
  const id = `stg_${Date.now().toString(36)}${crypto.randomBytes(4).toString('hex')}`;
  const dir = path.join(workspaceDir, 'tmp', 'staging', id);
  fs.mkdirSync(dir, { recursive: true });
  staged.columns.forEach((c, i) => {
    const arr = 'codes' in c ? c.codes : c.values;
    fs.writeFileSync(path.join(dir, `col-${i}.bin`), new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
  });
  const rows = Object.entries(staged.problemRows).map(([kind, r]) => {
    fs.writeFileSync(path.join(dir, `rows-${kind}.bin`), new Uint8Array(r.buffer, r.byteOffset, r.byteLength));
    return kind;
  });
  const meta = {
    ...staged,
    columns: staged.columns.map((c) => ({ type: c.type, dictionary: 'codes' in c ? c.dictionary : undefined })),
    problemRows: rows,
  };
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
  return id;
}

export function readStaging(workspaceDir: string, id: string): Staged {
  if (!/^stg_[a-z0-9]+$/.test(id)) throw new AppError('bad_input', 'That import is not known.', 'stagingId');
  const dir = path.join(workspaceDir, 'tmp', 'staging', id);
  if (!fs.existsSync(path.join(dir, 'meta.json'))) {
    throw new AppError('not_found', 'That import has expired or was already saved. Start the import again.', 'stagingId');
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as Omit<Staged, 'columns' | 'problemRows'> & {
    columns: { type: ColumnType; dictionary?: string[] }[];
    problemRows: ProblemKind[];
  };
  // Shared memory, as the reader makes it, so saving can profile on the other core without a copy.
  const load = (file: string) => {
    const buf = fs.readFileSync(path.join(dir, file));
    const copy = new Uint8Array(new SharedArrayBuffer(buf.byteLength));
    copy.set(buf);
    return copy.buffer;
  };
  const columns = meta.columns.map((c, i): ColumnData => {
    const buf = load(`col-${i}.bin`);
    if (c.type === 'category' || c.type === 'text') return { type: c.type, codes: new Int32Array(buf), dictionary: c.dictionary ?? [] };
    if (c.type === 'boolean') return { type: 'boolean', values: new Uint8Array(buf) };
    return { type: c.type, values: new Float64Array(buf) };
  });
  const problemRows: Partial<Record<ProblemKind, Uint32Array>> = {};
  for (const kind of meta.problemRows) problemRows[kind] = new Uint32Array(load(`rows-${kind}.bin`));
  return { ...meta, columns, problemRows };
}

export function dropStaging(workspaceDir: string, id: string): void {
  fs.rmSync(path.join(workspaceDir, 'tmp', 'staging', id), { recursive: true, force: true });
}

/** Rows kept and skipped with these choices, from the staged row sets only (no column data is read). */
export function stagedTotals(workspaceDir: string, id: string, choices: Partial<Record<ProblemKind, Choice>>): { rowsRead: number; rowsKept: number; rowsSkipped: number } {
  if (!/^stg_[a-z0-9]+$/.test(id)) throw new AppError('bad_input', 'That import is not known.', 'stagingId');
  const dir = path.join(workspaceDir, 'tmp', 'staging', id);
  let meta: { rowCount: number; problems: Problem[]; problemRows: ProblemKind[] };
  try {
    meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as typeof meta;
  } catch {
    throw new AppError('not_found', 'That import has expired or was already saved. Start the import again.', 'stagingId');
  }
  // The same rule as finish(): a choice the problem does not offer falls back to its default.
  const drop = meta.problems
    .filter((p) => effectiveChoice(p, choices[p.kind]) === 'skip' && meta.problemRows.includes(p.kind))
    .map((p) => {
      const buf = fs.readFileSync(path.join(dir, `rows-${p.kind}.bin`));
      const copy = new Uint8Array(buf.byteLength);
      copy.set(buf);
      return new Uint32Array(copy.buffer);
    });
  const kept = drop.length ? keepIndex(meta.rowCount, drop).length : meta.rowCount;
  return { rowsRead: meta.rowCount, rowsKept: kept, rowsSkipped: meta.rowCount - kept };
}
