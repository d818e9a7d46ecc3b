/**
 * Works out how a delimited text file is laid out from its first megabyte:
 * encoding, delimiter, preamble lines, header, decimal mark and thousands
 * separator, units in the column names, the timestamp column and its format,
 * and each column's type. Every guess comes with one plain sentence, so the
 * import wizard can show why and the person can change it.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  DELIMITERS,
  type ColumnSchema,
  type DecimalMark,
  type Delimiter,
  type Problem,
  type ReadSettings,
  type TextEncoding,
  type ThousandsSeparator,
  type TimeFormat,
} from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { decodeBytes, detectEncoding } from './decode';
import { inferColumnType, type Inference } from './infer';
import { isMissingToken } from './numbers';
import { guessTimeFormat, type TimeFormatGuess } from './timestamps';

/**
 * Runs of spaces (and tabs) between values, as space-aligned exports such as
 * NASA's C-MAPSS write. The reader understands it; the sniffer proposes it only
 * once shared DELIMITERS lists ' ' (so the API and the wizard accept it).
 */
export const WHITESPACE_DELIMITER = ' ';
export type ImportDelimiter = Delimiter | typeof WHITESPACE_DELIMITER;
export const WHITESPACE_SUPPORTED = (DELIMITERS as readonly string[]).includes(WHITESPACE_DELIMITER);

export interface SniffResult {
  settings: ReadSettings;
  schema: ColumnSchema[];
  /** The first data rows as raw text (after preamble and header), for the wizard's preview. */
  preview: string[][];
  /** One plain sentence per setting. */
  explanations: Partial<Record<keyof ReadSettings, string>>;
  timeGuess: TimeFormatGuess | null;
  /** Problems visible from the header alone (duplicate column names). */
  problems: Problem[];
  /** Why each column got its type, in schema order. */
  typeReasons: string[];
}

export interface SniffOptions {
  /** Encoding the text was decoded with, and why (from detectEncoding). */
  encoding?: TextEncoding;
  encodingReason?: string;
  /** Settings the person chose; everything else is detected around them. */
  overrides?: Partial<ReadSettings>;
  /** Consider runs of spaces as separator (default: when the shared settings allow it). */
  whitespace?: boolean;
  /** True when `head` is the whole file (so "no data rows" is certain). */
  complete?: boolean;
}

/** How much of a file the sniffer reads. */
export const SNIFF_BYTES = 1 << 20;
/** Rows used to infer types and find the time column. */
const SAMPLE_ROWS = 200;
const PREVIEW_ROWS = 50;
/** Records examined to choose the delimiter and find the header. */
const LAYOUT_RECORDS = 2000;

const CANDIDATES: Delimiter[] = [',', ';', '\t', '|'];
const DELIMITER_NAMES: Record<ImportDelimiter, [string, string]> = {
  ',': ['Commas', 'comma'],
  ';': ['Semicolons', 'semicolon'],
  '\t': ['Tabs', 'tab'],
  '|': ['Vertical bars (|)', 'vertical bar'],
  ' ': ['Spaces', 'space'],
};
export const TIME_NAME = /time|date|zeit|datum|timestamp|^ts$|uhrzeit|datetime|fecha|heure/i;

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

export interface TextRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
  blank: boolean;
}

const LF = 10;
const CR = 13;
const QUOTE = 34;

/**
 * Splits text into records the way the reader does: quotes at the start of a
 * field protect delimiters, doubled quotes and line breaks; CRLF, LF and CR end
 * lines. With the whitespace delimiter, runs of spaces/tabs separate values and
 * leading/trailing ones are ignored.
 */
export function splitRecords(text: string, delimiter: ImportDelimiter, maxRecords = Infinity): TextRecord[] {
  const out: TextRecord[] = [];
  const n = text.length;
  const ws = delimiter === WHITESPACE_DELIMITER;
  const d = delimiter.charCodeAt(0);
  const isDelim = (c: number) => (ws ? c === 32 || c === 9 : c === d);
  let i = 0;
  let line = 1;
  while (i < n && out.length < maxRecords) {
    const startLine = line;
    if (ws) while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    let c = text.charCodeAt(i);
    if (i >= n || c === LF || c === CR) {
      if (i >= n) {
        out.push({ fields: [], line: startLine, blank: true });
        break;
      }
      i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      out.push({ fields: [], line: startLine, blank: true });
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        let value = '';
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          const piece = text.slice(i, q === -1 ? n : q);
          line += countLineBreaks(piece);
          value += piece;
          if (q === -1) {
            i = n;
            break;
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        // Text after the closing quote is kept, as spreadsheet programs do.
        const j = fieldEnd(text, i, isDelim);
        fields.push(value + text.slice(i, j));
        i = j;
      } else {
        const j = fieldEnd(text, i, isDelim);
        fields.push(text.slice(i, j));
        i = j;
      }
      if (i >= n) break;
      c = text.charCodeAt(i);
      if (isDelim(c)) {
        i++;
        if (ws) {
          while (i < n && isDelim(text.charCodeAt(i))) i++;
          c = text.charCodeAt(i);
          if (i >= n) break;
          if (c === LF || c === CR) {
            i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
            line++;
            break;
          }
        } else if (i >= n) {
          fields.push('');
          break;
        }
        continue;
      }
      // End of line.
      i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      break;
    }
    out.push({ fields, line: startLine, blank: false });
  }
  return out;
}

function fieldEnd(text: string, i: number, isDelim: (c: number) => boolean): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === LF || c === CR || isDelim(c)) break;
    i++;
  }
  return i;
}

function countLineBreaks(s: string): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === LF) k++;
    else if (c === CR && s.charCodeAt(i + 1) !== LF) k++;
  }
  return k;
}

// ---------------------------------------------------------------------------
// Layout: delimiter and where the header is
// ---------------------------------------------------------------------------

interface Layout {
  delimiter: ImportDelimiter;
  records: TextRecord[];
  /** Index into records of the first row of the table (header or first data row). */
  start: number;
  /** Field count of most rows. */
  width: number;
  score: number;
  /** Non-blank records from `start` on with another field count. */
  ragged: number;
}

const LOOSE_NUMBER = /^\s*[+-]?(?:\d[\d.,' ]*)?\.?\d+(?:[eE][+-]?\d+)?\s*$/;
const LOOSE_TIME = /^\s*(?:\d{1,4}[-./]\d{1,2}[-./]\d{1,4}(?:[ T]\d{1,2}:\d{2}.*)?|\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp][Mm])?)\s*$/;

function looksNumeric(s: string): boolean {
  return LOOSE_NUMBER.test(s);
}
function looksLikeTime(s: string): boolean {
  return LOOSE_TIME.test(s);
}
function looksLikeData(s: string): boolean {
  return looksNumeric(s) || looksLikeTime(s);
}

/** `from`: the first record that may belong to the table (lines the person chose to skip come before it). */
function evaluate(records: TextRecord[], delimiter: ImportDelimiter, from = 0): Layout {
  const counts = records.map((r) => (r.blank ? 0 : r.fields.length));
  const nonBlank: number[] = [];
  counts.forEach((c, i) => c > 0 && i >= from && nonBlank.push(i));
  const none: Layout = { delimiter, records, start: nonBlank[0] ?? 0, width: 1, score: 0, ragged: 0 };
  if (nonBlank.length === 0) return none;

  // The most common field count among the later records, which are data.
  const tally = new Map<number, number>();
  for (const i of nonBlank.slice(Math.floor(nonBlank.length / 2))) tally.set(counts[i]!, (tally.get(counts[i]!) ?? 0) + 1);
  let width = 0;
  let best = -1;
  for (const [w, k] of tally) if (k > best || (k === best && w > width)) [width, best] = [w, k];

  // badAfter[k]: records from nonBlank[k] on whose field count differs.
  const badAfter = new Array<number>(nonBlank.length + 1).fill(0);
  for (let k = nonBlank.length - 1; k >= 0; k--) badAfter[k] = badAfter[k + 1]! + (counts[nonBlank[k]!] === width ? 0 : 1);
  const lastNonBlank = nonBlank[nonBlank.length - 1]!;

  // The table starts at the first record from which the field counts stay
  // consistent: the next few records (no blank line between) have the same
  // count, and at most 2% of the rest are ragged.
  let start = -1;
  for (let k = 0; k < nonBlank.length && start < 0; k++) {
    const i = nonBlank[k]!;
    if (counts[i] !== width) continue;
    const window = Math.min(3, lastNonBlank - i);
    let ok = true;
    for (let j = i + 1; j <= i + window; j++) if (counts[j] !== width) ok = false;
    const rest = nonBlank.length - k;
    if (ok && badAfter[k]! <= Math.max(1, Math.floor(rest * 0.02))) start = i;
  }
  if (start < 0) start = nonBlank.find((i) => counts[i] === width) ?? nonBlank[0]!;
  let score = 0;
  let ragged = 0;
  for (let i = start; i < counts.length; i++) {
    if (counts[i] === width) score++;
    else if (counts[i]! > 0) ragged++;
  }
  if (width < 2) score = 0;
  return { delimiter, records, start, width, score, ragged };
}

/** Share of fields in the table part that look like numbers or times (breaks ties between delimiters). */
function dataShare(layout: Layout): number {
  let data = 0;
  let all = 0;
  for (let i = layout.start; i < Math.min(layout.records.length, layout.start + 200); i++) {
    for (const f of layout.records[i]!.fields) {
      all++;
      if (looksLikeData(f)) data++;
    }
  }
  return all ? data / all : 0;
}

function detectLayout(text: string, overrides: Partial<ReadSettings>, whitespace: boolean): Layout {
  // Lines the person chose to skip (a preamble) have no say in the delimiter or the width.
  const skip = overrides.skipLines;
  const layoutOf = (d: ImportDelimiter) => {
    const records = splitRecords(text, d, LAYOUT_RECORDS);
    const from = skip === undefined ? 0 : records.findIndex((r) => r.line > skip);
    return evaluate(records, d, from < 0 ? records.length : from);
  };
  let layout: Layout;
  if (overrides.delimiter !== undefined) {
    layout = layoutOf(overrides.delimiter);
  } else {
    const tried = CANDIDATES.map(layoutOf);
    let bestLayout = tried[0]!;
    for (const t of tried.slice(1)) {
      if (t.score > bestLayout.score * 1.01) bestLayout = t;
      else if (t.score >= bestLayout.score * 0.99 && t.score > 0 && dataShare(t) > dataShare(bestLayout) + 0.05) bestLayout = t;
    }
    if (bestLayout.score === 0 && whitespace) {
      const ws = layoutOf(WHITESPACE_DELIMITER);
      if (ws.score > 0) bestLayout = ws;
    }
    layout = bestLayout;
  }
  if (skip !== undefined) {
    const i = layout.records.findIndex((r) => r.line > skip && !r.blank);
    layout.start = i < 0 ? layout.records.length : i;
  } else {
    layout.start = dropPreambleLookalikes(layout);
  }
  return layout;
}

/**
 * A preamble line can have as many fields as the table ("Exported from PI, v3").
 * When both the first record and the next one look like headers above numeric
 * rows, the first is preamble.
 */
function dropPreambleLookalikes(layout: Layout): number {
  let s = layout.start;
  const recs = layout.records;
  for (let guard = 0; guard < 20; guard++) {
    const rows = nonBlankFrom(recs, s, 40);
    if (rows.length < 3) break;
    const data = rows.slice(2);
    let numericCols = 0;
    let bothText = 0;
    for (let j = 0; j < layout.width; j++) {
      const dataNumeric = data.filter((r) => looksLikeData(r.fields[j] ?? '')).length >= data.length * 0.8;
      if (!dataNumeric) continue;
      numericCols++;
      const a = rows[0]!.fields[j] ?? '';
      const b = rows[1]!.fields[j] ?? '';
      if (a.trim() !== '' && !looksLikeData(a) && b.trim() !== '' && !looksLikeData(b)) bothText++;
    }
    if (numericCols > 0 && bothText === numericCols) s = recs.indexOf(rows[1]!);
    else break;
  }
  return s;
}

function nonBlankFrom(recs: TextRecord[], start: number, max: number): TextRecord[] {
  const out: TextRecord[] = [];
  for (let i = start; i < recs.length && out.length < max; i++) if (!recs[i]!.blank) out.push(recs[i]!);
  return out;
}

// ---------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------

export function detectHeader(first: string[], data: string[][], width: number): { hasHeader: boolean; reason: string } {
  if (data.length === 0) {
    const allText = first.every((f) => f.trim() !== '' && !looksLikeData(f));
    return allText
      ? { hasHeader: true, reason: 'The only line holds text, so it is read as the column names.' }
      : { hasHeader: false, reason: 'The only line holds values, so there is no header.' };
  }
  let textOverData = 0;
  let dataFirst = 0;
  let textColumns = 0;
  let firstUnique = true;
  const seen = new Set<string>();
  for (let j = 0; j < width; j++) {
    const f = (first[j] ?? '').trim();
    if (f !== '') {
      if (seen.has(f)) firstUnique = false;
      seen.add(f);
    }
    const col = data.map((r) => (r[j] ?? '').trim()).filter((v) => !isMissingToken(v));
    const dataLike = col.length > 0 && col.filter(looksLikeData).length >= col.length * 0.8;
    if (looksLikeData(f)) dataFirst++;
    else if (dataLike && f !== '') textOverData++;
    if (!dataLike) {
      textColumns++;
      if (f !== '' && col.includes(f)) firstUnique = false;
    }
  }
  if (textOverData > 0 && textOverData >= dataFirst) {
    return { hasHeader: true, reason: 'The first row holds names where the rows below hold numbers or times, so it is the header.' };
  }
  if (dataFirst > 0) {
    return { hasHeader: false, reason: 'The first row holds numbers like the rows below, so there is no header; columns are named Column 1, Column 2, ….' };
  }
  if (textColumns === width && firstUnique && first.every((f) => f.trim() !== '')) {
    return { hasHeader: true, reason: 'The first row holds different names that do not occur again below, so it is the header.' };
  }
  return { hasHeader: false, reason: 'The first row looks like the rows below, so there is no header; columns are named Column 1, Column 2, ….' };
}

/** Splits "Temp [°C]" into name and unit; only a trailing [..] or (..) of up to 12 characters counts. */
export function splitUnit(header: string): { name: string; unit: string | null } {
  const text = header.trim();
  const m = /^(.*?)\s*(?:\[([^[\]]{1,12})\]|\(([^()]{1,12})\))$/.exec(text);
  if (!m) return { name: text, unit: null };
  const unit = (m[2] ?? m[3] ?? '').trim();
  const name = m[1]!.trim();
  // "(2)" from a renamed duplicate, "(north side)" or "(a, b)": not units.
  if (!name || !unit || /^\d+$/.test(unit) || /[A-Za-z]{2,}\s+[A-Za-z]{2,}/.test(unit) || unit.includes(',')) return { name: text, unit: null };
  return { name, unit };
}

// ---------------------------------------------------------------------------
// Decimal mark and thousands separator
// ---------------------------------------------------------------------------

interface NumberStyle {
  decimal: DecimalMark;
  thousands: ThousandsSeparator;
  decimalReason: string;
  thousandsReason: string;
}

const NUMBERISH = /^[+-]?\d[\d.,' ]*(?:[eE][+-]?\d+)?$|^[+-]?[.,]\d+(?:[eE][+-]?\d+)?$/;
const DOTTED_DATE = /^\d{1,2}\.\d{1,2}\.\d{2,4}$/;

function detectNumberStyle(values: string[], delimiter: ImportDelimiter): NumberStyle {
  const ex: Record<string, string> = {};
  const v = {
    decimalComma: 0,
    decimalDot: 0,
    thousandsComma: 0,
    thousandsDot: 0,
    ambiguousComma: 0,
    ambiguousDot: 0,
    space: 0,
    apostrophe: 0,
  };
  const note = (key: keyof typeof v, s: string) => {
    v[key]++;
    ex[key] ??= s;
  };
  for (const raw of values) {
    const s = raw.trim();
    if (!NUMBERISH.test(s) || DOTTED_DATE.test(s)) continue;
    const body = s.replace(/^[+-]/, '').replace(/[eE][+-]?\d+$/, '');
    if (/\d \d{3}(?!\d)/.test(body)) note('space', s);
    if (/\d'\d{3}(?!\d)/.test(body)) note('apostrophe', s);
    const dot = body.lastIndexOf('.');
    const comma = body.lastIndexOf(',');
    if (dot >= 0 && comma >= 0) {
      if (comma > dot) {
        note('decimalComma', s);
        note('thousandsDot', s);
      } else {
        note('decimalDot', s);
        note('thousandsComma', s);
      }
      continue;
    }
    for (const [mark, pos, dec, thou, amb] of [
      [',', comma, 'decimalComma', 'thousandsComma', 'ambiguousComma'],
      ['.', dot, 'decimalDot', 'thousandsDot', 'ambiguousDot'],
    ] as const) {
      if (pos < 0) continue;
      const parts = body.split(mark);
      if (parts.length > 2) note(thou, s);
      else if (parts[1]!.length !== 3 || parts[0]!.length === 0 || parts[0]!.length > 3 || /^0+$/.test(parts[0]!)) note(dec, s);
      else note(amb, s);
    }
  }
  let decimal: DecimalMark = '.';
  let decimalReason: string;
  const commaScore = v.decimalComma;
  const dotScore = v.decimalDot + v.thousandsComma;
  if (delimiter === ',') {
    decimalReason = ex.decimalDot ? `Points are decimal marks (${ex.decimalDot}).` : 'Points are decimal marks (commas separate the values).';
  } else if (commaScore > dotScore) {
    decimal = ',';
    decimalReason = `Commas are decimal marks (${ex.decimalComma}).`;
  } else if (dotScore > commaScore) {
    decimalReason = `Points are decimal marks (${ex.decimalDot ?? ex.thousandsComma}).`;
  } else if (v.ambiguousComma > 0 && v.ambiguousDot === 0 && delimiter === ';') {
    decimal = ',';
    decimalReason = `Commas are decimal marks (${ex.ambiguousComma}), as usual in files separated by semicolons.`;
  } else if (v.ambiguousDot > 0) {
    decimalReason = `Points are decimal marks (${ex.ambiguousDot}).`;
  } else {
    decimalReason = 'No decimal numbers were found; a point is assumed as decimal mark.';
  }

  let thousands: ThousandsSeparator = '';
  let thousandsReason = 'Numbers have no thousands separators.';
  if (decimal === ',' && v.thousandsDot > 0) {
    thousands = '.';
    thousandsReason = `Points group thousands (${ex.thousandsDot}).`;
  } else if (decimal === '.' && (v.thousandsComma > 0 || (v.ambiguousComma > 0 && delimiter !== ';' && v.decimalComma === 0))) {
    thousands = ',';
    thousandsReason = `Commas group thousands (${ex.thousandsComma ?? ex.ambiguousComma}).`;
  } else if (v.space > 0 && delimiter !== WHITESPACE_DELIMITER) {
    thousands = ' ';
    thousandsReason = `Spaces group thousands (${ex.space}).`;
  } else if (v.apostrophe > 0) {
    thousands = "'";
    thousandsReason = `Apostrophes group thousands (${ex.apostrophe}).`;
  }
  if (thousands === decimal) thousands = '';
  return { decimal, thousands, decimalReason, thousandsReason };
}

// ---------------------------------------------------------------------------
// The whole guess
// ---------------------------------------------------------------------------

/**
 * Sniffs decoded text (the start of a file, cut at a line end). `fileName` is
 * only used in messages.
 */
export function sniff(head: string, fileName: string, opts: SniffOptions = {}): SniffResult {
  const overrides = opts.overrides ?? {};
  const text = head.charCodeAt(0) === 0xfeff ? head.slice(1) : head;
  if (text.trim() === '') throw new AppError('bad_input', `${fileName} is empty: it has no lines with values.`);

  const layout = detectLayout(text, overrides, opts.whitespace ?? WHITESPACE_SUPPORTED);
  const { delimiter } = layout;
  const rows = nonBlankFrom(layout.records, layout.start, SAMPLE_ROWS + 1);
  if (rows.length === 0) throw new AppError('bad_input', `${fileName} has no rows after the ${overrides.skipLines ?? 0} skipped lines.`);
  const first = rows[0]!;
  const headerGuess = detectHeader(first.fields, rows.slice(1, 51).map((r) => r.fields), layout.width);
  const hasHeader = overrides.hasHeader ?? headerGuess.hasHeader;
  const dataRows = (hasHeader ? rows.slice(1) : rows).map((r) => r.fields);
  if (hasHeader && dataRows.length === 0 && (opts.complete ?? true)) {
    throw new AppError('bad_input', `${fileName} has a header line but no data rows.`);
  }
  const width = Math.max(layout.width, hasHeader ? first.fields.length : 0);
  const skipLines = first.line - 1;

  // Names and units.
  const headers = Array.from({ length: width }, (_, j) => (hasHeader ? (first.fields[j] ?? '') : `Column ${j + 1}`));
  const problems: Problem[] = [];
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
      duplicates.push({ line: first.line, column: `${name} (${k})`, raw: h, reason: `"${name}" is used by an earlier column; this one is called "${name} (${k})".` });
      name = `${name} (${k})`;
    }
    used.add(name);
    names.push(name);
    units.push(unit);
  });
  if (duplicates.length) {
    problems.push({
      kind: 'duplicate_column',
      title: 'Columns with the same name',
      count: duplicates.length,
      examples: duplicates.slice(0, 100),
      choices: ['keep'],
      defaultChoice: 'keep',
    });
  }

  const columnSamples = headers.map((_, j) => dataRows.slice(0, SAMPLE_ROWS).map((r) => r[j] ?? ''));
  const style =
    overrides.decimal !== undefined && overrides.thousands !== undefined
      ? null
      : detectNumberStyle(columnSamples.flat(), delimiter);
  const decimal = overrides.decimal ?? style!.decimal;
  const thousands = overrides.thousands ?? (decimal === style?.decimal ? style.thousands : defaultThousands(decimal, style));

  // The time column and its format.
  let timeColumn: string | null = null;
  let timeIndex = -1;
  let timeGuess: TimeFormatGuess | null = null;
  let timeReason = 'No column holds dates and times.';
  const presentSamples = columnSamples.map((c) => c.map((s) => s.trim()).filter((s) => !isMissingToken(s)));
  if (overrides.timeColumn !== undefined) {
    timeColumn = overrides.timeColumn;
    timeIndex = timeColumn === null ? -1 : headers.indexOf(timeColumn);
    if (timeColumn !== null && timeIndex < 0) timeIndex = names.indexOf(timeColumn);
    if (timeIndex >= 0) {
      timeColumn = headers[timeIndex]!;
      timeGuess = guessTimeFormat(presentSamples[timeIndex]!, { allowNumeric: true });
      timeReason = `You chose "${names[timeIndex]}" as the time column.`;
    } else {
      timeColumn = null;
      timeReason = 'You chose to read the file without a time column.';
    }
  } else {
    let bestScore = -1;
    presentSamples.forEach((samples, j) => {
      if (samples.length === 0) return;
      const hint = TIME_NAME.test(names[j]!);
      const guess = guessTimeFormat(samples, { allowNumeric: hint });
      if (!guess) return;
      const score = (hint ? 2 : 0) + guess.matched;
      if (score > bestScore) {
        bestScore = score;
        timeIndex = j;
        timeGuess = guess;
      }
    });
    if (timeIndex >= 0) {
      timeColumn = headers[timeIndex]!;
      timeReason = `"${names[timeIndex]}" holds dates and times (${presentSamples[timeIndex]![0]}).`;
    }
  }
  const guessed = timeGuess as TimeFormatGuess | null;
  const timeFormat: TimeFormat | null = overrides.timeFormat !== undefined ? overrides.timeFormat : (guessed?.format ?? null);
  const timeZone = overrides.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';

  // Types.
  const inferences: Inference[] = presentSamples.map((samples, j) => {
    let isTimestamp = j === timeIndex && timeFormat !== null;
    if (!isTimestamp && timeFormat !== null && samples.length > 0 && !looksNumeric(samples[0]!)) {
      const g = guessTimeFormat(samples);
      isTimestamp = g !== null && g.format === timeFormat && g.matched >= 0.98;
    }
    return inferColumnType(columnSamples[j]!, { decimal, thousands, isTimestamp });
  });
  const schema: ColumnSchema[] = headers.map((h, j) => ({ name: names[j]!, type: inferences[j]!.type, unit: units[j]!, header: h }));

  const settings: ReadSettings = {
    encoding: overrides.encoding ?? opts.encoding ?? 'utf-8',
    // Only ' ' is outside Delimiter, and it is chosen only when DELIMITERS lists it (or a test asks).
    delimiter: delimiter as Delimiter,
    decimal,
    thousands,
    skipLines,
    hasHeader,
    timeColumn,
    timeFormat,
    timeZone,
  };

  const [Plural] = DELIMITER_NAMES[delimiter];
  const consistent = layout.width > 1 ? ` (${layout.width} values on ${layout.ragged === 0 ? 'every' : 'nearly every'} line)` : '';
  const chosen = (k: keyof ReadSettings) => overrides[k] !== undefined;
  const preambleStart = layout.records.find((r) => !r.blank);
  const explanations: Partial<Record<keyof ReadSettings, string>> = {
    encoding: chosen('encoding') ? `You chose ${settings.encoding}.` : (opts.encodingReason ?? 'The text is read as UTF-8.'),
    delimiter: chosen('delimiter')
      ? `You chose ${DELIMITER_NAMES[delimiter][1]}s as the separator.`
      : `${Plural} separate the values${consistent}${decimal === ',' ? '; commas are decimal marks' + exampleOf(style, 'comma') : ''}.`,
    decimal: chosen('decimal') ? `You chose '${decimal}' as the decimal mark.` : (style?.decimalReason ?? ''),
    thousands: chosen('thousands')
      ? thousands === ''
        ? 'You chose no thousands separator.'
        : `You chose '${thousands}' as the thousands separator.`
      : (style?.thousandsReason ?? ''),
    skipLines: chosen('skipLines')
      ? `You chose to skip ${skipLines} line${skipLines === 1 ? '' : 's'}.`
      : skipLines === 0
        ? `The ${hasHeader ? 'header' : 'data'} starts on the first line; no lines are skipped.`
        : `${skipLines} line${skipLines === 1 ? '' : 's'} before the ${hasHeader ? 'header' : 'data'} ${skipLines === 1 ? 'is' : 'are'} skipped (starting "${clip((preambleStart?.fields.join(delimiter) ?? '').trim(), 40)}").`,
    hasHeader: chosen('hasHeader') ? (hasHeader ? 'You chose to read the first row as column names.' : 'You chose to read the file without a header.') : headerGuess.reason,
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
      : `Times without a time zone are read as ${timeZone} time (this computer's time zone); times that name their offset (Z, +01:00) keep it.`,
  };

  return {
    settings,
    schema,
    preview: dataRows.slice(0, PREVIEW_ROWS),
    explanations,
    timeGuess: guessed,
    problems,
    typeReasons: inferences.map((i) => i.reason),
  };
}

function exampleOf(style: NumberStyle | null, _what: 'comma'): string {
  const m = style ? /\(([^)]*)\)/.exec(style.decimalReason) : null;
  return m ? ` (${m[1]})` : '';
}

function defaultThousands(decimal: DecimalMark, style: NumberStyle | null): ThousandsSeparator {
  if (style && style.thousands !== decimal) return style.thousands;
  return '';
}


function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

/** Opens a file for reading, turning the usual failures into messages a person can act on. */
export function openForReading(file: string): { fd: number; size: number } {
  const name = path.basename(file);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw fileError(err, file, name);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new AppError('bad_input', `${name} is a folder, not a file. Choose a CSV or text file.`);
    return { fd, size: st.size };
  } catch (err) {
    fs.closeSync(fd);
    throw err instanceof AppError ? err : fileError(err, file, name);
  }
}

export function fileError(err: unknown, file: string, name = path.basename(file)): AppError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new AppError('not_found', `${name} does not exist (looked for ${file}). It may have been moved or renamed.`);
  if (code === 'EACCES' || code === 'EPERM') {
    return new AppError('bad_input', `Millwright has no permission to read ${name}. Check the file's permissions or copy it to a folder you can read.`);
  }
  if (code === 'EISDIR') return new AppError('bad_input', `${name} is a folder, not a file. Choose a CSV or text file.`);
  return new AppError('io', `${name} could not be read (${code ?? 'unknown error'}).`);
}

/**
 * Reads the first megabyte of a file, detects its encoding and sniffs it.
 * `overrides` are the settings the person changed in the wizard; whatever
 * depends on them is detected again around them.
 */
export async function sniffFile(file: string, overrides: Partial<ReadSettings> = {}, opts: Pick<SniffOptions, 'whitespace'> = {}): Promise<SniffResult> {
  const name = path.basename(file);
  const { fd, size } = openForReading(file);
  let head: Buffer;
  try {
    const buf = Buffer.alloc(Math.min(size, SNIFF_BYTES));
    let got = 0;
    while (got < buf.length) {
      const n = await new Promise<number>((resolve, reject) =>
        fs.read(fd, buf, got, buf.length - got, got, (err, bytes) => (err ? reject(fileError(err, file, name)) : resolve(bytes))),
      );
      if (n === 0) break;
      got += n;
    }
    head = buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
  if (head.length === 0) throw new AppError('bad_input', `${name} is empty.`);
  // UTF-16 the person chose is read as such, as the reader does: without a byte
  // order mark, text outside Latin (CJK names) has no zero bytes in every other
  // place, and the binary check would refuse it.
  const chosen = overrides.encoding;
  const detected = chosen === 'utf-16le' || chosen === 'utf-16be' ? { encoding: chosen, reason: '' } : detectEncoding(head, name);
  const encoding = overrides.encoding ?? detected.encoding;
  const bom = bomLength(head, encoding);
  let text = decodeBytes(head.subarray(bom), encoding);
  const complete = head.length >= size;
  if (!complete) {
    // Cut at the last full line: the last one is probably incomplete.
    const cut = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    if (cut > 0) text = text.slice(0, cut + 1);
  }
  return sniff(text, name, { ...opts, encoding, encodingReason: detected.reason, overrides, complete });
}

/** Bytes of byte order mark at the start of `head` for `encoding`. */
export function bomLength(head: Uint8Array, encoding: TextEncoding): number {
  if (encoding === 'utf-8') return head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  if (encoding === 'utf-16le') return head[0] === 0xff && head[1] === 0xfe ? 2 : 0;
  if (encoding === 'utf-16be') return head[0] === 0xfe && head[1] === 0xff ? 2 : 0;
  return 0;
}
