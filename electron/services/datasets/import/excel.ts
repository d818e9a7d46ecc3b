/**
 * Excel workbooks (.xlsx, .xlsm): which sheet, where the header is, each
 * column's type, and the values as typed columns with the same problems the
 * CSV reader reports (row numbers are the sheet's).
 *
 * Workbooks are parsed with SheetJS, the registry's xlsx 0.18.5, which has
 * published advisories for crafted files (prototype pollution, ReDoS). So
 * nothing here loads xlsx in the calling thread: every parse runs in a
 * short-lived worker thread started by the functions below, and only plain
 * data (settings, strings, typed arrays) comes back. Whatever a crafted file
 * does to that thread's prototypes ends with it.
 *
 * Cell types are used as they are: number cells stay numbers, cells with a
 * date format become timestamps (Excel stores them as serial day numbers in
 * local wall time, read in settings.timeZone), text cells go through the same
 * inference and conversion rules as CSV fields.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { CellObject, WorkBook } from 'xlsx';
import {
  PROBLEM_KINDS,
  type ColumnData,
  type ColumnSchema,
  type ColumnType,
  type Problem,
  type ProblemKind,
  type ReadSettings,
  type TimeFormat,
  PROBLEM_CHOICES,
  PROBLEM_TITLES,
} from '../../../../shared/datasets';
import { AppError, isErrorCode } from '../../../../shared/errors';
import { spawnModuleWorker } from '../../jobs/spawn-worker';
import { inferColumnType, parseBoolean, type Inference } from './infer';
import { proposeLongFormat } from './long-format';
import { ProblemLog, MAX_EXAMPLES } from './problem-log';
import { isMissingToken, parseNumberText } from './numbers';
import { detectHeader, fileError, splitUnit, TIME_NAME, type SniffResult } from './sniff';
import type { ParsedTable, ReadControl } from './table';
import { createTimeParser, DstFlag, guessTimeFormat, zonedToUtc, type TimeFormatGuess, type TimeParser, localText } from './timestamps';

export interface SheetInfo {
  name: string;
  /** Rows and columns of the sheet's used range; 0 for an empty sheet. */
  rows: number;
  columns: number;
}

/** A read sheet: the table, blank rows passed over, the sheet read and all sheet names. */
export type ExcelTable = ParsedTable & { blankLines: number; sheet: string; sheets: string[] };

export interface ExcelReadOptions extends ReadControl {
  /** Stop after this many data rows (the wizard's preview). */
  maxRows?: number;
}

/** File name endings read as Excel workbooks (.xls only to say how to convert it). */
const EXCEL_EXTENSIONS = new Set(['.xlsx', '.xlsm', '.xltx', '.xltm', '.xlsb', '.xls']);
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const CFB_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/** Rows used to infer types and find the time column (as for CSV). */
const SAMPLE_ROWS = 200;
const PREVIEW_ROWS = 50;
/** Long-format rows read for the wizard's preview, enough for ~50 pivoted grid rows. */
export const LONG_PREVIEW_ROWS = 20_000;
/** Sheet rows loaded for sniffing, beyond skipped rows. */
const SNIFF_SHEET_ROWS = 400;
const DAY_MS = 86_400_000;
/** Excel serial of 1970-01-01 (the 1900 date system counts days from 1899-12-30). */
const EXCEL_UNIX_EPOCH = 25569;
/** Days between the 1900 and the 1904 date systems. */
const DAYS_1904 = 1462;
/** Serial of 9999-12-31 + 1: past it Excel shows a date cell as ####, and here it is a plain number. */
const EXCEL_END = 2958466;

const ERROR_TEXT: Record<number, string> = {
  0x00: '#NULL!',
  0x07: '#DIV/0!',
  0x0f: '#VALUE!',
  0x17: '#REF!',
  0x1d: '#NAME?',
  0x24: '#NUM!',
  0x2a: '#N/A',
  0x2b: '#GETTING_DATA',
};

// ---------------------------------------------------------------------------
// Calling side: every function here runs the parse in a worker thread
// ---------------------------------------------------------------------------

/** True for files the importer reads as Excel: by name (.xlsx, .xlsm, .xls…) or by content (a ZIP or an old Office container). */
export function isExcelFile(file: string): boolean {
  if (EXCEL_EXTENSIONS.has(path.extname(file).toLowerCase())) return true;
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(8);
    const n = fs.readSync(fd, head, 0, 8, 0);
    return startsWith(head.subarray(0, n), ZIP_MAGIC) || startsWith(head.subarray(0, n), CFB_MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

type Task =
  | { millwrightExcel: 'list'; file: string }
  | { millwrightExcel: 'sniff'; file: string; overrides: Partial<ReadSettings> }
  | { millwrightExcel: 'read'; file: string; settings: ReadSettings; schema: ColumnSchema[] | null; maxRows: number | null }
  | { millwrightExcel: 'inspect'; file: string; overrides: Partial<ReadSettings>; types: Record<string, ColumnType> };

type Reply =
  | { type: 'progress'; fraction: number; message?: string }
  | { type: 'done'; value: unknown }
  | { type: 'error'; code: string; message: string; field?: string };

/** Runs one task in a fresh worker; forwards progress, terminates the worker on cancel. */
function runInWorker<T>(task: Task, control: ReadControl = {}): Promise<T> {
  const name = path.basename(task.file);
  return new Promise<T>((resolve, reject) => {
    const worker = spawnModuleWorker(__dirname, 'excel', task);
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (poll) clearInterval(poll);
      void worker.terminate();
      fn();
    };
    const poll = control.checkCancelled
      ? setInterval(() => {
          try {
            control.checkCancelled!();
          } catch (err) {
            settle(() => reject(err));
          }
        }, 100)
      : null;
    worker.on('message', (m: Reply) => {
      if (m.type === 'progress') control.onProgress?.(m.fraction, m.message);
      else if (m.type === 'done') settle(() => resolve(m.value as T));
      else settle(() => reject(new AppError(isErrorCode(m.code) ? m.code : 'internal', m.message, m.field)));
    });
    worker.once('error', (err: Error & { code?: string }) => {
      settle(() =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new AppError('bad_input', `${name} is too large to read as an Excel workbook. Save the sheet as CSV in Excel and import the CSV file.`)
            : new AppError('internal', `Reading ${name} failed: ${err.message}`),
        ),
      );
    });
    worker.once('exit', (code) => settle(() => reject(new AppError('internal', `The Excel reader stopped while reading ${name} (exit code ${code}).`))));
  });
}

/** The sheets of a workbook with the size of their used range. */
export function listSheets(file: string): Promise<SheetInfo[]> {
  return runInWorker<SheetInfo[]>({ millwrightExcel: 'list', file });
}

/**
 * Detects how to read a workbook: the sheet (the first with data unless
 * `overrides.sheet` names one), header, time column and format, column types
 * and units; proposes the historian long format when the sheet looks like one.
 */
export function sniffExcel(file: string, overrides: Partial<ReadSettings> = {}): Promise<SniffResult> {
  return runInWorker<SniffResult>({ millwrightExcel: 'sniff', file, overrides });
}

/**
 * Reads a sheet into typed columns. `schema` null: detected from the sheet as
 * sniffExcel would (one parse instead of two).
 */
export function readExcel(file: string, settings: ReadSettings, schema: ColumnSchema[] | null, control: ExcelReadOptions = {}): Promise<ExcelTable> {
  const { maxRows, ...rest } = control;
  return runInWorker<ExcelTable>({ millwrightExcel: 'read', file, settings, schema, maxRows: maxRows ?? null }, rest);
}

/**
 * The wizard's look at a workbook, off the main thread: the sniff and the
 * first rows as the import reads them (with `types` applied). When the sheet
 * is in long format the first LONG_PREVIEW_ROWS rows are read, for the caller
 * to pivot.
 */
export function inspectExcelInWorker(
  file: string,
  overrides: Partial<ReadSettings> = {},
  types: Record<string, ColumnType> = {},
): Promise<{ sniff: SniffResult; previewTable: ExcelTable }> {
  return runInWorker({ millwrightExcel: 'inspect', file, overrides, types });
}

// ---------------------------------------------------------------------------
// Worker side: opening the workbook
// ---------------------------------------------------------------------------

/** SheetJS, loaded only inside the worker. */
let X: typeof import('xlsx') | null = null;

function xlsx(): typeof import('xlsx') {
  if (!X) throw new Error('xlsx is only loaded in the Excel worker');
  return X;
}

function startsWith(buf: Uint8Array, magic: number[]): boolean {
  return buf.length >= magic.length && magic.every((b, i) => buf[i] === b);
}

function looksLikeText(head: Uint8Array): boolean {
  let odd = 0;
  for (const b of head) if (b === 0 || (b < 32 && b !== 9 && b !== 10 && b !== 13)) odd++;
  return odd <= head.length * 0.01;
}

/** Says what a file that is not a readable .xlsx is, before SheetJS sees it (it would read any bytes as CSV). */
function checkSignature(buf: Buffer, name: string): void {
  if (startsWith(buf, ZIP_MAGIC)) {
    if (buf.includes('xl/workbook.xml') || buf.includes('xl/workbook.bin')) return;
    if (buf.includes('opendocument.spreadsheet')) {
      throw new AppError('bad_input', `${name} is an OpenDocument spreadsheet (.ods), not an Excel workbook. Open it in LibreOffice Calc or Excel, save it as .xlsx or CSV, and import that file.`);
    }
    throw new AppError('bad_input', `${name} is not an Excel workbook (it is a ZIP archive without a workbook inside). Choose the .xlsx file, or export the data as CSV.`);
  }
  if (startsWith(buf, CFB_MAGIC)) {
    if (buf.includes(Buffer.from('EncryptedPackage', 'utf16le')) || buf.includes(Buffer.from('EncryptionInfo', 'utf16le'))) {
      throw new AppError(
        'bad_input',
        `${name} is protected with a password, so it cannot be read. Open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, then clear it), save it, and import it again.`,
      );
    }
    throw new AppError(
      'bad_input',
      `${name} is in the old Excel 97-2003 format (.xls), which Millwright does not read. Open it in Excel and save it as an Excel Workbook (.xlsx) or as CSV, then import that file.`,
    );
  }
  const text = looksLikeText(buf.subarray(0, 4096));
  throw new AppError(
    'bad_input',
    `${name} is not an Excel workbook (${text ? 'it holds plain text; if it is a CSV file, give it the .csv ending' : 'its content does not start like one'}).`,
  );
}

function openWorkbook(file: string, opts: { sheetRows?: number; sheets?: string }): WorkBook {
  const name = path.basename(file);
  let buf: Buffer;
  try {
    if (fs.statSync(file).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    buf = fs.readFileSync(file);
  } catch (err) {
    throw fileError(err, file, name);
  }
  if (buf.length === 0) throw new AppError('bad_input', `${name} is empty.`);
  checkSignature(buf, name);
  try {
    return xlsx().read(buf, {
      type: 'buffer',
      dense: true,
      cellNF: true,
      cellText: false,
      cellHTML: false,
      cellFormula: false,
      cellStyles: false,
      sheetStubs: false,
      bookVBA: false,
      ...(opts.sheetRows ? { sheetRows: opts.sheetRows } : {}),
      ...(opts.sheets !== undefined ? { sheets: opts.sheets } : {}),
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/password|encrypt/i.test(msg)) {
      throw new AppError('bad_input', `${name} is protected with a password, so it cannot be read. Remove the password in Excel, save it, and import it again.`);
    }
    throw new AppError('bad_input', `${name} is not an Excel workbook (${msg.replace(/\.$/, '')}).`);
  }
}

type Row = (CellObject | null | undefined)[] | undefined;

interface SheetView {
  name: string;
  rows: Row[];
  /** Used range (of the whole sheet, also when only the first rows were loaded). */
  range: { s: { r: number; c: number }; e: { r: number; c: number } } | null;
  date1904: boolean;
}

function sheetView(wb: WorkBook, name: string): SheetView {
  const ws = wb.Sheets[name];
  const rows = (Array.isArray(ws) ? ws : []) as Row[];
  const ref = (ws?.['!fullref'] as string | undefined) ?? (ws?.['!ref'] as string | undefined);
  const date1904 = Boolean((wb.Workbook?.WBProps as { date1904?: boolean } | undefined)?.date1904);
  return { name, rows, range: ref ? xlsx().utils.decode_range(ref) : null, date1904 };
}

/** The sheet named `wanted` (exactly, or else ignoring case), or an error listing the sheets. */
function resolveSheet(names: string[], wanted: string, fileName: string): string {
  if (names.includes(wanted)) return wanted;
  const folded = names.filter((n) => n.toLowerCase() === wanted.trim().toLowerCase());
  if (folded.length === 1) return folded[0]!;
  throw new AppError('bad_input', `${fileName} has no sheet "${wanted}". Its sheets: ${names.map((n) => `"${n}"`).join(', ')}.`, 'settings.sheet');
}

function sheetHasData(view: SheetView): boolean {
  for (const row of view.rows) if (rowHasValue(row)) return true;
  return false;
}

/** The first sheet with a value, or an error. */
function firstSheetWithData(wb: WorkBook, fileName: string): SheetView {
  for (const name of wb.SheetNames) {
    const view = sheetView(wb, name);
    if (sheetHasData(view)) return view;
  }
  const names = wb.SheetNames.map((n) => `"${n}"`).join(', ');
  throw new AppError('bad_input', `${fileName} has no sheet with values (${wb.SheetNames.length === 1 ? 'its only sheet is' : 'sheets:'} ${names}).`);
}

// ---------------------------------------------------------------------------
// Cells
// ---------------------------------------------------------------------------

const C_EMPTY = 0;
const C_NUMBER = 1;
const C_DATE = 2;
const C_TEXT = 3;
const C_BOOL = 4;
const C_ERROR = 5;
/** A date-formatted number below 1: a time of day without a date. Read as text "hh:mm:ss". */
const C_CLOCK = 6;

const dateFormats = new Map<string, boolean>();

function isDateFormat(z: unknown): boolean {
  if (typeof z !== 'string' || z === 'General') return false;
  let d = dateFormats.get(z);
  if (d === undefined) {
    d = Boolean(xlsx().SSF.is_date(z));
    dateFormats.set(z, d);
  }
  return d;
}

function kindOf(cell: CellObject | null | undefined): number {
  if (!cell) return C_EMPTY;
  switch (cell.t) {
    case 'n': {
      const v = cell.v;
      if (typeof v !== 'number' || v !== v) return C_EMPTY;
      if (isDateFormat(cell.z)) return v >= 1 && v < EXCEL_END ? C_DATE : v >= 0 && v < 1 ? C_CLOCK : C_NUMBER;
      return C_NUMBER;
    }
    case 's':
      return cell.v === undefined || cell.v === null || cell.v === '' ? C_EMPTY : C_TEXT;
    case 'b':
      return C_BOOL;
    case 'e':
      return C_ERROR;
    case 'd':
      return C_DATE;
    default:
      return C_EMPTY;
  }
}

function rowHasValue(row: Row): boolean {
  if (!row) return false;
  for (let c = 0; c < row.length; c++) if (kindOf(row[c]) !== C_EMPTY) return true;
  return false;
}

/** Serial day number (Excel) to local wall time as epoch ms (as if the wall time were UTC). */
function serialToLocal(v: number, date1904: boolean): number {
  let s = date1904 ? v + DAYS_1904 : v;
  // Serials before Excel's fictitious 1900-02-29 are one day early.
  if (!date1904 && s < 60) s += 1;
  const days = Math.floor(s);
  return (days - EXCEL_UNIX_EPOCH) * DAY_MS + Math.round((s - days) * DAY_MS);
}

function serialOf(cell: CellObject): number {
  // Only with cellDates, which this reader does not use; kept for safety.
  if (cell.v instanceof Date) return cell.v.getTime() / DAY_MS + EXCEL_UNIX_EPOCH;
  return cell.v as number;
}

/** "2024-03-31 01:30:00" for local wall time ms; the date alone at midnight. */
function wallText(local: number): string {
  const iso = new Date(local).toISOString();
  if (local % DAY_MS === 0) return iso.slice(0, 10);
  const ms = iso.slice(19, 23);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms === '.000' ? '' : ms}`;
}

function clockText(v: number): string {
  const iso = new Date(Math.round(v * DAY_MS)).toISOString();
  return iso.slice(11, 19);
}

function numberText(v: number, decimal: '.' | ','): string {
  const s = String(v);
  return decimal === ',' ? s.replace('.', ',') : s;
}

/** A cell as the text a CSV export of it would hold (the sniffer's and the preview's view). */
function cellText(cell: CellObject | null | undefined, kind: number, decimal: '.' | ',', date1904: boolean): string {
  switch (kind) {
    case C_NUMBER:
      return numberText(cell!.v as number, decimal);
    case C_DATE:
      return wallText(serialToLocal(serialOf(cell!), date1904));
    case C_CLOCK:
      return clockText(cell!.v as number);
    case C_TEXT:
      return String(cell!.v);
    case C_BOOL:
      return cell!.v ? 'true' : 'false';
    case C_ERROR:
      return ERROR_TEXT[cell!.v as number] ?? '#ERROR!';
    default:
      return '';
  }
}

// ---------------------------------------------------------------------------
// Layout: where the table is
// ---------------------------------------------------------------------------

function nonEmptyCount(row: Row): number {
  if (!row) return 0;
  let n = 0;
  for (let c = 0; c < row.length; c++) if (kindOf(row[c]) !== C_EMPTY) n++;
  return n;
}

/**
 * Index of the table's first row (header or first data row). With `skip`, the
 * first row with a value from there on; otherwise rows above the table with
 * fewer values than its rows (a title, an export note) are passed over.
 */
function findStart(view: SheetView, skip: number | undefined): number {
  const rows = view.rows;
  if (skip !== undefined) {
    for (let r = skip; r < rows.length; r++) if (rowHasValue(rows[r])) return r;
    return -1;
  }
  const seen: [number, number][] = [];
  for (let r = 0; r < rows.length && seen.length < 300; r++) {
    const k = nonEmptyCount(rows[r]);
    if (k > 0) seen.push([r, k]);
  }
  if (!seen.length) return -1;
  const tally = new Map<number, number>();
  for (const [, k] of seen.slice(Math.floor(seen.length / 2))) tally.set(k, (tally.get(k) ?? 0) + 1);
  let width = 0;
  let best = -1;
  for (const [w, k] of tally) if (k > best || (k === best && w > width)) [width, best] = [w, k];
  const need = Math.max(1, Math.ceil(width * 0.6));
  return (seen.find(([, k]) => k >= need) ?? seen[0]!)[0];
}

/** The first rows of the table (with values), from `start`: they decide the columns. */
function tableRows(view: SheetView, start: number, max: number): number[] {
  const out: number[] = [];
  for (let r = start; r < view.rows.length && out.length < max; r++) if (rowHasValue(view.rows[r])) out.push(r);
  return out;
}

/** First and last column with a value in the given rows. */
function columnSpan(view: SheetView, rows: number[]): { c0: number; c1: number } {
  let c0 = Infinity;
  let c1 = -1;
  for (const r of rows) {
    const row = view.rows[r]!;
    for (let c = 0; c < row.length; c++) {
      if (kindOf(row[c]) === C_EMPTY) continue;
      if (c < c0) c0 = c;
      if (c > c1) c1 = c;
    }
  }
  return c0 === Infinity ? { c0: 0, c1: 0 } : { c0, c1 };
}

// ---------------------------------------------------------------------------
// Sniffing
// ---------------------------------------------------------------------------

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function sniffSheet(view: SheetView, fileName: string, sheetCount: number, overrides: Partial<ReadSettings>, sheetChosen: boolean): SniffResult {
  const decimal = overrides.decimal ?? '.';
  const thousands = overrides.thousands ?? '';
  const start = findStart(view, overrides.skipLines);
  if (start < 0) {
    throw new AppError(
      'bad_input',
      `${fileName}: the sheet "${view.name}" has no rows with values${overrides.skipLines ? ` after the ${overrides.skipLines} skipped rows` : ''}.`,
    );
  }
  const rows = tableRows(view, start, SAMPLE_ROWS + 1);
  const { c0, c1 } = columnSpan(view, rows);
  const width = c1 - c0 + 1;
  const text = (r: number, j: number): string => {
    const cell = view.rows[r]?.[c0 + j];
    return cellText(cell, kindOf(cell), decimal, view.date1904);
  };
  const texts = rows.map((r) => Array.from({ length: width }, (_, j) => text(r, j)));

  const headerGuess = detectHeader(texts[0]!, texts.slice(1, 51), width);
  const hasHeader = overrides.hasHeader ?? headerGuess.hasHeader;
  const dataIdx = hasHeader ? rows.slice(1) : rows;
  const dataTexts = hasHeader ? texts.slice(1) : texts;
  if (hasHeader && dataIdx.length === 0) throw new AppError('bad_input', `${fileName}: the sheet "${view.name}" has a header row but no data rows.`);

  // Names and units; blank header cells (merged ones too) become "Column N".
  const headers = Array.from({ length: width }, (_, j) => {
    const h = hasHeader ? texts[0]![j]!.trim() : '';
    return h === '' ? `Column ${j + 1}` : h;
  });
  const names: string[] = [];
  const units: (string | null)[] = [];
  const used = new Set<string>();
  const duplicates: Problem['examples'] = [];
  headers.forEach((h, j) => {
    const { name: base, unit } = hasHeader ? splitUnit(h) : { name: h, unit: null };
    let name = base === '' ? `Column ${j + 1}` : base;
    if (used.has(name)) {
      let k = 2;
      while (used.has(`${name} (${k})`)) k++;
      duplicates.push({ line: start + 1, column: `${name} (${k})`, raw: h, reason: `"${name}" is used by an earlier column; this one is called "${name} (${k})".` });
      name = `${name} (${k})`;
    }
    used.add(name);
    names.push(name);
    units.push(unit);
  });
  const problems: Problem[] = duplicates.length
    ? [{ kind: 'duplicate_column', title: PROBLEM_TITLES.duplicate_column, count: duplicates.length, examples: duplicates.slice(0, MAX_EXAMPLES), ...PROBLEM_CHOICES.duplicate_column }]
    : [];

  // Per column: the cells' texts, and how many are Excel dates.
  const samples = headers.map((_, j) => dataTexts.map((r) => r[j]!));
  const present = samples.map((s) => s.map((v) => v.trim()).filter((v) => !isMissingToken(v)));
  const dateShare = headers.map((_, j) => {
    let dates = 0;
    let filled = 0;
    for (const r of dataIdx) {
      const cell = view.rows[r]?.[c0 + j];
      const k = kindOf(cell);
      if (k === C_EMPTY) continue;
      if (k === C_DATE) dates++;
      else if (isMissingToken(cellText(cell, k, decimal, view.date1904).trim())) continue;
      filled++;
    }
    return filled ? dates / filled : 0;
  });
  const native = dateShare.map((s) => s >= 0.9);
  const nativeGuess = (j: number): TimeFormatGuess => ({
    format: 'excel-serial',
    explanation: `Excel dates: the cells are formatted as dates (${present[j]![0] ?? ''}) and are read as local time in the chosen time zone`,
    matched: dateShare[j]!,
  });

  // The time column and its format.
  let timeIndex = -1;
  let timeGuess: TimeFormatGuess | null = null;
  let timeReason = 'No column holds dates and times.';
  if (overrides.timeColumn !== undefined) {
    const wanted = overrides.timeColumn;
    if (wanted !== null) timeIndex = headers.indexOf(wanted) >= 0 ? headers.indexOf(wanted) : names.indexOf(wanted);
    if (timeIndex >= 0) {
      timeGuess = native[timeIndex] ? nativeGuess(timeIndex) : guessTimeFormat(present[timeIndex]!, { allowNumeric: true });
      timeReason = `You chose "${names[timeIndex]}" as the time column.`;
    } else {
      timeReason = 'You chose to read the sheet without a time column.';
    }
  } else {
    let bestScore = -1;
    present.forEach((vals, j) => {
      if (vals.length === 0) return;
      const hint = TIME_NAME.test(names[j]!);
      const guess = native[j] ? nativeGuess(j) : guessTimeFormat(vals, { allowNumeric: hint });
      if (!guess) return;
      const score = (hint ? 2 : 0) + guess.matched + (native[j] ? 0.5 : 0);
      if (score > bestScore) {
        bestScore = score;
        timeIndex = j;
        timeGuess = guess;
      }
    });
    if (timeIndex >= 0) timeReason = `"${names[timeIndex]}" holds dates and times (${present[timeIndex]![0]}).`;
  }
  const guessed = timeGuess as TimeFormatGuess | null;
  const timeColumn = timeIndex >= 0 ? headers[timeIndex]! : null;
  const timeFormat: TimeFormat | null = overrides.timeFormat !== undefined ? overrides.timeFormat : (guessed?.format ?? null);
  const timeZone = overrides.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';

  // Types, by the same rules as CSV on the cells' texts; Excel dates are timestamps.
  const inferences: Inference[] = present.map((vals, j) => {
    let isTimestamp = native[j]! || (j === timeIndex && timeFormat !== null);
    if (!isTimestamp && timeFormat !== null && timeFormat !== 'excel-serial' && vals.length > 0 && !/^[+-]?\d+([.,]\d+)?$/.test(vals[0]!)) {
      const g = guessTimeFormat(vals);
      isTimestamp = g !== null && g.format === timeFormat && g.matched >= 0.98;
    }
    return inferColumnType(samples[j]!, { decimal, thousands, isTimestamp });
  });
  const schema: ColumnSchema[] = headers.map((h, j) => ({ name: names[j]!, type: inferences[j]!.type, unit: units[j]!, header: h }));

  const settings: ReadSettings = {
    encoding: overrides.encoding ?? 'utf-8',
    delimiter: overrides.delimiter ?? ',',
    decimal,
    thousands,
    skipLines: start,
    hasHeader,
    timeColumn,
    timeFormat,
    timeZone,
    sheet: view.name,
  };
  const chosen = (k: keyof ReadSettings) => overrides[k] !== undefined;
  const preamble = rows.length && start > 0 ? firstText(view, 0, start) : '';
  const sheets = `${sheetCount} sheet${sheetCount === 1 ? '' : 's'}`;
  const explanations: Partial<Record<keyof ReadSettings, string>> = {
    sheet: sheetChosen ? `You chose the sheet "${view.name}"; the file has ${sheets}.` : `The first sheet with data, "${view.name}", is read; the file has ${sheets}.`,
    encoding: 'Excel workbooks store text as Unicode, so there is no encoding to choose.',
    delimiter: 'Excel workbooks keep each value in its own cell, so there is no separator to choose.',
    decimal: chosen('decimal')
      ? `You chose '${decimal}' as the decimal mark for numbers stored as text.`
      : 'Number cells are read as numbers; numbers stored as text are read with a point as decimal mark.',
    thousands: chosen('thousands')
      ? thousands === ''
        ? 'You chose no thousands separator for numbers stored as text.'
        : `You chose '${thousands}' as the thousands separator for numbers stored as text.`
      : 'Numbers stored as text are read without a thousands separator.',
    skipLines: chosen('skipLines')
      ? `You chose to skip ${overrides.skipLines} row${overrides.skipLines === 1 ? '' : 's'}; the table starts in row ${start + 1}.`
      : start === 0
        ? `The ${hasHeader ? 'header' : 'data'} starts in the first row; no rows are skipped.`
        : `${start} row${start === 1 ? '' : 's'} above the ${hasHeader ? 'header' : 'data'} ${start === 1 ? 'is' : 'are'} skipped${preamble ? ` (starting "${clip(preamble, 40)}")` : ''}.`,
    hasHeader: chosen('hasHeader') ? (hasHeader ? 'You chose to read the first row as column names.' : 'You chose to read the sheet without a header.') : headerGuess.reason,
    timeColumn: timeReason,
    timeFormat: chosen('timeFormat')
      ? `You chose the time format "${timeFormat}".`
      : guessed
        ? guessed.explanation
        : timeColumn === null
          ? 'No time format is needed.'
          : 'The time format could not be recognised; choose it.',
    timeZone: chosen('timeZone')
      ? `Times without a time zone are read as ${timeZone} time, as you chose.`
      : `Excel dates and times without a time zone are read as ${timeZone} time (this computer's time zone); times that name their offset (Z, +01:00) keep it.`,
  };
  return {
    settings,
    schema,
    preview: dataTexts.slice(0, PREVIEW_ROWS),
    explanations,
    timeGuess: guessed,
    problems,
    typeReasons: inferences.map((inf, j) => (native[j] ? 'The cells are Excel dates and times.' : inf.reason)),
  };
}

function firstText(view: SheetView, from: number, to: number): string {
  for (let r = from; r < to; r++) {
    const row = view.rows[r];
    if (!row) continue;
    for (let c = 0; c < row.length; c++) {
      const k = kindOf(row[c]);
      if (k !== C_EMPTY) return cellText(row[c], k, '.', view.date1904).trim();
    }
  }
  return '';
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

const K_NUMBER = 0;
const K_TIME = 1;
const K_CODES = 2;
const K_BOOL = 3;

interface Col {
  kind: number;
  name: string;
  values: Float64Array | null;
  codes: Int32Array | null;
  bools: Uint8Array | null;
  dict: Map<string, number> | null;
  dictionary: string[] | null;
}

class SheetReader {
  readonly logs = new Map<ProblemKind, ProblemLog>();
  readonly cols: Col[];
  readonly timeIndex: number;
  readonly timeParser: TimeParser;
  readonly isoParser: TimeParser | null;
  readonly lines: Uint32Array;
  readonly decimal: '.' | ',';
  readonly thousands: string;
  readonly timeZone: string;
  readonly serialTime: boolean;
  badTimeInTimeColumn = false;
  prevTime = NaN;
  /** Civil date cache for localToUtc (rows of one export mostly share the day). */
  private cacheDay = NaN;
  private cacheY = 0;
  private cacheM = 0;
  private cacheD = 0;
  private lastFlag: DstFlag = DstFlag.None;

  constructor(
    readonly view: SheetView,
    readonly settings: ReadSettings,
    readonly schema: ColumnSchema[],
    readonly capacity: number,
  ) {
    this.decimal = settings.decimal;
    this.thousands = settings.thousands;
    this.timeZone = settings.timeZone;
    this.timeParser = createTimeParser(settings.timeFormat ?? 'iso', settings.timeZone);
    this.isoParser = settings.timeFormat === 'excel-serial' ? createTimeParser('iso', settings.timeZone) : null;
    this.serialTime = settings.timeFormat === 'excel-serial';
    this.lines = new Uint32Array(capacity);
    this.cols = schema.map((c) => {
      const kind = c.type === 'timestamp' ? K_TIME : c.type === 'category' || c.type === 'text' ? K_CODES : c.type === 'boolean' ? K_BOOL : K_NUMBER;
      return {
        kind,
        name: c.name,
        values: kind === K_NUMBER || kind === K_TIME ? new Float64Array(capacity) : null,
        codes: kind === K_CODES ? new Int32Array(capacity) : null,
        bools: kind === K_BOOL ? new Uint8Array(capacity) : null,
        dict: kind === K_CODES ? new Map() : null,
        dictionary: kind === K_CODES ? [] : null,
      };
    });
    let t = settings.timeColumn === null ? -1 : schema.findIndex((c) => c.header === settings.timeColumn);
    if (t < 0 && settings.timeColumn !== null) t = schema.findIndex((c) => c.name === settings.timeColumn);
    this.timeIndex = t >= 0 && this.cols[t]!.kind === K_TIME ? t : -1;
  }

  log(kind: ProblemKind): ProblemLog {
    let l = this.logs.get(kind);
    if (!l) {
      l = new ProblemLog();
      this.logs.set(kind, l);
    }
    return l;
  }

  /** Local wall time ms to UTC in the settings' zone; sets lastFlag. */
  localToUtc(local: number): number {
    const day = Math.floor(local / DAY_MS);
    if (day !== this.cacheDay) {
      const d = new Date(day * DAY_MS);
      this.cacheDay = day;
      this.cacheY = d.getUTCFullYear();
      this.cacheM = d.getUTCMonth() + 1;
      this.cacheD = d.getUTCDate();
    }
    let rest = local - day * DAY_MS;
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const mi = Math.floor(rest / 60_000);
    rest -= mi * 60_000;
    const s = Math.floor(rest / 1000);
    const ms = rest - s * 1000;
    const r = zonedToUtc(this.cacheY, this.cacheM, this.cacheD, h, mi, s, ms, this.timeZone);
    this.lastFlag = r.flag;
    return r.utc;
  }

  store(j: number, row: number, line: number, cell: CellObject | null | undefined): void {
    const k = this.cols[j]!;
    const kind = kindOf(cell);
    switch (k.kind) {
      case K_NUMBER: {
        let v = NaN;
        if (kind === C_NUMBER || kind === C_DATE) v = serialOf(cell!);
        else if (kind === C_BOOL) v = cell!.v ? 1 : 0;
        else if (kind !== C_EMPTY) {
          const t = cellText(cell, kind, this.decimal, this.view.date1904).trim();
          if (!isMissingToken(t)) {
            v = parseNumberText(t, this.decimal, this.thousands);
            if (v !== v) {
              this.log('not_a_number').add(row, line, k.name, () => t, () => `Row ${line}, column "${k.name}": "${clip(t, 200)}" is not a number.`);
            }
          }
        }
        k.values![row] = v;
        return;
      }
      case K_TIME:
        this.storeTime(j, row, line, cell, kind);
        return;
      case K_CODES: {
        if (kind === C_EMPTY) {
          k.codes![row] = -1;
          return;
        }
        const t = kind === C_TEXT ? String(cell!.v).trim() : cellText(cell, kind, this.decimal, this.view.date1904);
        if (isMissingToken(t)) {
          k.codes![row] = -1;
          return;
        }
        let code = k.dict!.get(t);
        if (code === undefined) {
          code = k.dictionary!.length;
          k.dictionary!.push(t);
          k.dict!.set(t, code);
        }
        k.codes![row] = code;
        return;
      }
      default: {
        if (kind === C_EMPTY) {
          k.bools![row] = 255;
          return;
        }
        if (kind === C_BOOL) {
          k.bools![row] = cell!.v ? 1 : 0;
          return;
        }
        const t = cellText(cell, kind, '.', this.view.date1904).trim();
        if (isMissingToken(t)) {
          k.bools![row] = 255;
          return;
        }
        const b = parseBoolean(t);
        if (b === null) {
          k.bools![row] = 255;
          this.log('bad_boolean').add(row, line, k.name, () => t, () => `Row ${line}, column "${k.name}": "${clip(t, 200)}" is not yes/no, true/false, on/off or 1/0.`);
        } else k.bools![row] = b;
      }
    }
  }

  private storeTime(j: number, row: number, line: number, cell: CellObject | null | undefined, kind: number): void {
    const k = this.cols[j]!;
    const isTime = j === this.timeIndex;
    let t: number;
    let flag: DstFlag;
    let raw: string | null = null;
    if (kind === C_DATE || (kind === C_NUMBER && this.serialTime)) {
      const serial = serialOf(cell!);
      // A number read as a serial must be a day Excel can show (a huge one gave an invalid date).
      t = serial >= 0 && serial < EXCEL_END ? this.localToUtc(serialToLocal(serial, this.view.date1904)) : NaN;
      flag = t === t ? this.lastFlag : DstFlag.None;
      if (t !== t) {
        raw = String(serial);
        if (isTime) this.badTimeInTimeColumn = true;
        this.log('bad_timestamp').add(row, line, k.name, () => raw!, () => `Row ${line}, column "${k.name}": ${raw} is not a date Excel can show.`);
      }
    } else {
      raw = kind === C_EMPTY ? '' : cellText(cell, kind, '.', this.view.date1904).trim();
      if (raw === '' || isMissingToken(raw)) {
        k.values![row] = NaN;
        if (isTime) this.log('missing_time').add(row, line, k.name, () => raw!, () => `Row ${line} has no time.`);
        return;
      }
      t = this.timeParser.parse(raw);
      flag = this.timeParser.lastFlag;
      if (t !== t && this.isoParser) {
        t = this.isoParser.parse(raw);
        flag = this.isoParser.lastFlag;
      }
      if (t !== t) {
        if (isTime) this.badTimeInTimeColumn = true;
        this.log('bad_timestamp').add(row, line, k.name, () => raw!, () => `Row ${line}, column "${k.name}": "${clip(raw!, 200)}" is not a date and time in the chosen format.`);
      }
    }
    k.values![row] = t;
    if (flag !== DstFlag.None) {
      const text = () => raw ?? cellText(cell, kind, '.', this.view.date1904);
      if (flag === DstFlag.Repeated) {
        this.log('dst_repeated').add(row, line, k.name, text, () => `Row ${line}: ${text()} happens twice when clocks go back; the first one is used.`);
      } else {
        this.log('dst_gap').add(row, line, k.name, text, () => `Row ${line}: ${text()} does not exist (clocks go forward); it is moved forward by the gap.`);
      }
    }
  }

  checkTime(row: number, line: number): void {
    const times = this.cols[this.timeIndex]!.values!;
    const t = times[row]!;
    if (t !== t) return;
    const prev = this.prevTime;
    this.prevTime = t;
    if (prev !== prev) return;
    const name = this.cols[this.timeIndex]!.name;
    if (t === prev) {
      this.log('duplicate_time').add(row, line, name, () => localText(t, this.timeZone), () => `Row ${line} has the same time as the row before (${localText(t, this.timeZone)}).`);
    } else if (t < prev) {
      this.log('out_of_order').add(
        row,
        line,
        name,
        () => localText(t, this.timeZone),
        () => `Row ${line} (${localText(t, this.timeZone)}) is earlier than the row before (${localText(prev, this.timeZone)}); rows are sorted by time when saved.`,
      );
    }
  }

  /** With rows out of time order, every row whose time an earlier row already had (as the CSV reader does). */
  findAllDuplicates(n: number): void {
    const times = this.cols[this.timeIndex]!.values!;
    const name = this.cols[this.timeIndex]!.name;
    let m = 0;
    for (let i = 0; i < n; i++) if (times[i] === times[i]) m++;
    const sorted = new Float64Array(m);
    for (let i = 0, j = 0; i < n; i++) if (times[i] === times[i]) sorted[j++] = times[i]!;
    sorted.sort();
    let d = 0;
    for (let j = 1; j < m; j++) if (sorted[j] === sorted[j - 1] && (d === 0 || sorted[d - 1] !== sorted[j])) sorted[d++] = sorted[j]!;
    const repeated = sorted.subarray(0, d);
    const seen = new Uint8Array(d);
    const log = new ProblemLog();
    for (let i = 0; i < n && d > 0; i++) {
      const t = times[i]!;
      if (t !== t) continue;
      let lo = 0;
      let hi = d - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (repeated[mid]! < t) lo = mid + 1;
        else hi = mid;
      }
      if (repeated[lo] !== t) continue;
      if (!seen[lo]) {
        seen[lo] = 1;
        continue;
      }
      const line = this.lines[i]!;
      log.add(i, line, name, () => localText(t, this.timeZone), () => `Row ${line} has the same time as an earlier row (${localText(t, this.timeZone)}).`);
    }
    if (log.count) this.logs.set('duplicate_time', log);
    else this.logs.delete('duplicate_time');
  }

  finish(n: number, headerLine: number): Omit<ParsedTable, 'schema'> & { schema: ColumnSchema[] } {
    if (this.timeIndex >= 0 && this.logs.has('out_of_order')) this.findAllDuplicates(n);
    const columns: ColumnData[] = this.cols.map((c, j) => {
      const type = this.schema[j]!.type;
      if (c.kind === K_CODES) return { type: type as 'category' | 'text', codes: c.codes!, dictionary: c.dictionary! };
      if (c.kind === K_BOOL) return { type: 'boolean', values: c.bools! };
      return { type: type as 'number' | 'integer' | 'timestamp', values: c.values! };
    });
    const empty = new ProblemLog();
    columns.forEach((col, j) => {
      if (n === 0 || !allMissing(col, n)) return;
      const name = this.schema[j]!.name;
      empty.add(-1, headerLine, name, () => '', () => `Column "${name}" has no values in any row.`);
    });
    if (empty.count) this.logs.set('empty_column', empty);
    const seen = new Set<string>();
    const dup = new ProblemLog();
    for (const c of this.schema) {
      if (seen.has(c.header)) dup.add(-1, headerLine, c.name, () => c.header, () => `"${c.header}" names two columns; the second is called "${c.name}".`);
      else seen.add(c.header);
    }
    if (dup.count) this.logs.set('duplicate_column', dup);
    const problems: Problem[] = [];
    const problemRows: Partial<Record<ProblemKind, Uint32Array>> = {};
    for (const kind of PROBLEM_KINDS) {
      const l = this.logs.get(kind);
      if (!l || l.count === 0) continue;
      const choice = { ...PROBLEM_CHOICES[kind] };
      if (kind === 'bad_timestamp' && this.badTimeInTimeColumn) choice.defaultChoice = 'skip';
      problems.push({ kind, title: PROBLEM_TITLES[kind], count: l.count, examples: l.examples, ...choice });
      if (l.rowCount) problemRows[kind] = l.rows.slice(0, l.rowCount);
    }
    return { schema: this.schema, columns, rowCount: n, lines: this.lines, problems, problemRows };
  }
}

function allMissing(col: ColumnData, n: number): boolean {
  if ('codes' in col) {
    for (let i = 0; i < n; i++) if (col.codes[i] !== -1) return false;
  } else if (col.type === 'boolean') {
    for (let i = 0; i < n; i++) if (col.values[i] !== 255) return false;
  } else {
    for (let i = 0; i < n; i++) if (col.values[i] === col.values[i]) return false;
  }
  return true;
}

type Progress = (fraction: number, message?: string) => void;

function readSheet(
  view: SheetView,
  settings: ReadSettings,
  schemaIn: ColumnSchema[] | null,
  fileName: string,
  sheets: string[],
  maxRows: number,
  progress: Progress,
): ExcelTable {
  const schema = schemaIn ?? sniffSheet(view, fileName, sheets.length, settings, true).schema;
  if (schema.length === 0) throw new AppError('bad_input', `No columns to read from ${fileName}.`);
  const start = findStart(view, settings.skipLines);
  if (start < 0) {
    throw new AppError(
      'bad_input',
      `${fileName}: the sheet "${view.name}" has no rows with values${settings.skipLines ? ` after the ${settings.skipLines} skipped rows` : ''}.`,
    );
  }
  const { c0 } = columnSpan(view, tableRows(view, start, SAMPLE_ROWS + 1));
  const width = schema.length;
  const headerLine = settings.hasHeader ? start + 1 : 0;
  const first = settings.hasHeader ? start + 1 : start;
  const rows = view.rows;

  let count = 0;
  for (let r = first; r < rows.length && count < maxRows; r++) if (rowHasValue(rows[r])) count++;
  if (count === 0 && maxRows > 0) {
    throw new AppError('bad_input', settings.hasHeader ? `${fileName}: the sheet "${view.name}" has a header row but no data rows.` : `${fileName}: the sheet "${view.name}" has no data rows.`);
  }
  const reader = new SheetReader(view, settings, schema, count);
  let blankLines = 0;
  let i = 0;
  const step = Math.max(1, Math.floor(count / 20));
  for (let r = first; r < rows.length && i < count; r++) {
    const row = rows[r];
    if (!rowHasValue(row)) {
      blankLines++;
      continue;
    }
    const line = r + 1;
    reader.lines[i] = line;
    for (let j = 0; j < width; j++) reader.store(j, i, line, row![c0 + j]);
    // Values left or right of the table's columns are not read.
    let outside = 0;
    for (let c = 0; c < row!.length; c++) if ((c < c0 || c >= c0 + width) && kindOf(row![c]) !== C_EMPTY) outside++;
    if (outside) {
      reader.log('ragged_row').add(
        i,
        line,
        null,
        () => cellTexts(row!, view.date1904),
        () => `Row ${line} has ${outside} value${outside === 1 ? '' : 's'} outside the table's ${width} columns; ${outside === 1 ? 'it is' : 'they are'} dropped.`,
      );
    }
    if (reader.timeIndex >= 0) reader.checkTime(i, line);
    i++;
    if (i % step === 0) progress(0.5 + (0.5 * i) / count, `Reading ${fileName}…`);
  }
  const table = reader.finish(i, headerLine);
  return { ...table, blankLines, sheet: view.name, sheets };
}

function cellTexts(row: NonNullable<Row>, date1904: boolean): string {
  const out: string[] = [];
  for (let c = 0; c < row.length; c++) out.push(cellText(row[c], kindOf(row[c]), '.', date1904));
  return out.join(', ');
}

// ---------------------------------------------------------------------------
// Worker tasks
// ---------------------------------------------------------------------------

function listTask(file: string): SheetInfo[] {
  const wb = openWorkbook(file, { sheetRows: 2 });
  return wb.SheetNames.map((name) => {
    const view = sheetView(wb, name);
    const r = view.range;
    if (!r || (r.s.r === r.e.r && r.s.c === r.e.c && !sheetHasData(view))) return { name, rows: 0, columns: 0 };
    return { name, rows: r.e.r - r.s.r + 1, columns: r.e.c - r.s.c + 1 };
  });
}

function sniffTask(file: string, overrides: Partial<ReadSettings>): { sniff: SniffResult; wb: WorkBook; view: SheetView } {
  const fileName = path.basename(file);
  const wb = openWorkbook(file, { sheetRows: (overrides.skipLines ?? 0) + SNIFF_SHEET_ROWS });
  const chosen = overrides.sheet !== undefined && overrides.sheet !== null && overrides.sheet !== '';
  const view = chosen ? sheetView(wb, resolveSheet(wb.SheetNames, overrides.sheet!, fileName)) : firstSheetWithData(wb, fileName);
  const sniffed = sniffSheet(view, fileName, wb.SheetNames.length, overrides, chosen);
  return { sniff: proposeLongFormat(sniffed, overrides), wb, view };
}

function readTask(file: string, settings: ReadSettings, schema: ColumnSchema[] | null, maxRows: number | null, progress: Progress): ExcelTable {
  const fileName = path.basename(file);
  progress(0.02, `Opening ${fileName}…`);
  const sheetRows = maxRows === null ? 0 : settings.skipLines + Math.max(maxRows, SAMPLE_ROWS) + 500;
  let wb: WorkBook;
  let view: SheetView;
  if (settings.sheet) {
    // Only the chosen sheet is parsed; the names of all are known anyway.
    wb = openWorkbook(file, { sheetRows, sheets: settings.sheet });
    const sheet = resolveSheet(wb.SheetNames, settings.sheet, fileName);
    if (!wb.Sheets[sheet]) wb = openWorkbook(file, { sheetRows, sheets: sheet });
    view = sheetView(wb, sheet);
  } else {
    wb = openWorkbook(file, { sheetRows });
    view = firstSheetWithData(wb, fileName);
  }
  progress(0.5, `Reading ${fileName}…`);
  const table = readSheet(view, { ...settings, sheet: view.name }, schema, fileName, wb.SheetNames, maxRows ?? Infinity, progress);
  progress(1, `Read ${fileName}.`);
  return table;
}

function inspectTask(file: string, overrides: Partial<ReadSettings>, types: Record<string, ColumnType>): { sniff: SniffResult; previewTable: ExcelTable } {
  const { sniff, wb, view } = sniffTask(file, overrides);
  const schema = sniff.schema.map((c) => ({ ...c, type: types[c.header] ?? types[c.name] ?? c.type }));
  const fileName = path.basename(file);
  const previewTable = sniff.settings.longFormat
    ? readTask(file, sniff.settings, schema, LONG_PREVIEW_ROWS, () => undefined)
    : readSheet(view, sniff.settings, schema, fileName, wb.SheetNames, PREVIEW_ROWS, () => undefined);
  return { sniff, previewTable };
}

/** Buffers to move (not copy) to the caller. */
function transferables(value: unknown): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const visit = (v: unknown, depth: number) => {
    if (v === null || typeof v !== 'object' || depth > 4) return;
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer) out.add(v.buffer);
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(v)) visit(x, depth + 1);
  };
  visit(value, 0);
  return [...out];
}

async function workerMain(task: Task): Promise<void> {
  const port = parentPort!;
  const progress: Progress = (fraction, message) => port.postMessage({ type: 'progress', fraction, message } satisfies Reply);
  try {
    const mod = (await import('xlsx')) as typeof import('xlsx') & { default?: typeof import('xlsx') };
    // CommonJS under tsc; an ES module namespace with the API under `default` when run from sources.
    X = mod.SSF ? mod : mod.default!;
    let value: unknown;
    switch (task.millwrightExcel) {
      case 'list':
        value = listTask(task.file);
        break;
      case 'sniff':
        value = sniffTask(task.file, task.overrides).sniff;
        break;
      case 'read':
        value = readTask(task.file, task.settings, task.schema, task.maxRows, progress);
        break;
      case 'inspect':
        value = inspectTask(task.file, task.overrides, task.types);
        break;
    }
    port.postMessage({ type: 'done', value } satisfies Reply, transferables(value));
  } catch (err) {
    const e = err instanceof AppError ? err : null;
    port.postMessage({
      type: 'error',
      code: e ? e.code : 'internal',
      message: e ? e.message : `Reading ${path.basename(task.file)} failed: ${err instanceof Error ? err.message : String(err)}`,
      ...(e?.field ? { field: e.field } : {}),
    } satisfies Reply);
  }
}

if (!isMainThread && parentPort && typeof (workerData as { millwrightExcel?: unknown } | null)?.millwrightExcel === 'string') {
  void workerMain(workerData as Task);
}
