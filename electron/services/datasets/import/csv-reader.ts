/**
 * The delimited-text reader: streams a file of any size in chunks and scans
 * its bytes directly (delimiter, quote, CR, LF), writing each value straight
 * into a typed column. Numbers are parsed from the bytes; strings are built
 * only for timestamps that are not plain ISO, categories, text and booleans.
 * Memory stays near the size of the typed columns plus one chunk.
 *
 * Every data row of the file ends up in the table; what is wrong with a row is
 * reported as a Problem with the rows it affects, and the caller applies the
 * person's choices (keep, treat as missing, skip).
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROBLEM_CHOICES, PROBLEM_TITLES, type ColumnData, type ColumnSchema, type Problem, type ProblemKind, type ReadSettings, type TextEncoding } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { decodeWindows1252, detectEncoding, Utf16ToUtf8 } from './decode';
import { parseBoolean } from './infer';
import { decimalByte, isMissingToken, parseNumberBytes, scanNumber, thousandsByte } from './numbers';
import { bomLength, fileError, WHITESPACE_DELIMITER } from './sniff';
import type { ParsedTable, ReadControl } from './table';
import { clip, Journal, ProblemLog } from './problem-log';
import { createTimeParser, daysFromCivil, daysInMonth, DstFlag, localText, zonedToUtc, type TimeParser } from './timestamps';

export { sniffFile, type SniffResult } from './sniff';

// Local bindings of the hot imported functions: bundlers that turn imports into
// getters (tsx, vitest) would otherwise add a call per value.
const scan = scanNumber;
const parseNumber = parseNumberBytes;
const toUtc = zonedToUtc;
const FLAG_NONE = DstFlag.None;
const FLAG_REPEATED = DstFlag.Repeated;
/** End position out-parameter of `scan`. */
const end = new Int32Array(1);

/** A parsed table plus the blank lines that were passed over. */
export type ReadResult = ParsedTable & { blankLines: number };

export interface ReadOptions extends ReadControl {
  /** Stop after this many data rows (the wizard's live preview). */
  maxRows?: number;
  /** Bytes read per step; tests use tiny chunks to put records across chunk boundaries. */
  chunkSize?: number;
}

const DEFAULT_CHUNK = 8 << 20;
/** A single record longer than this is a quote that never closes, not data. */
const MAX_RECORD_BYTES = 64 << 20;
const PROGRESS_MS = 200;

const LF = 10;
const CR = 13;
const QUOTE = 34;
const SPACE = 32;
const TAB = 9;

const K_NUMBER = 0;
const K_TIME = 1;
const K_CODES = 2;
const K_BOOL = 3;

/** Where the bytes come from: the file itself, or UTF-16 turned into UTF-8 piece by piece. */
class ByteSource {
  private pos: number;
  private readonly transcoder: Utf16ToUtf8 | null;
  private pending: Buffer | null = null;
  private raw: Buffer | null = null;
  private ended = false;
  bytesRead = 0;

  constructor(
    private readonly fh: fs.promises.FileHandle,
    start: number,
    encoding: TextEncoding,
  ) {
    this.pos = start;
    this.transcoder = encoding === 'utf-16le' || encoding === 'utf-16be' ? new Utf16ToUtf8(encoding) : null;
  }

  /** Fills target[offset, offset+max) as far as it can; 0 at the end of the file. */
  async read(target: Buffer, offset: number, max: number): Promise<number> {
    if (!this.transcoder) {
      const { bytesRead } = await this.fh.read(target, offset, max, this.pos);
      this.pos += bytesRead;
      this.bytesRead = this.pos;
      return bytesRead;
    }
    while (!this.pending || this.pending.length === 0) {
      if (this.ended) return 0;
      this.raw ??= Buffer.allocUnsafe(Math.max(4096, max));
      const { bytesRead } = await this.fh.read(this.raw, 0, Math.min(this.raw.length, Math.max(2, max)), this.pos);
      this.pos += bytesRead;
      this.bytesRead = this.pos;
      if (bytesRead === 0) {
        this.ended = true;
        this.pending = this.transcoder.end();
      } else {
        this.pending = this.transcoder.push(this.raw.subarray(0, bytesRead));
      }
    }
    const n = Math.min(max, this.pending.length);
    this.pending.copy(target, offset, 0, n);
    this.pending = this.pending.subarray(n);
    return n;
  }
}

// ---------------------------------------------------------------------------
// ISO timestamps straight from bytes
// ---------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const POW10 = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
let isoFlag: DstFlag = FLAG_NONE;
let cachedMonthKey = -1;
let cachedMonthDays = 0;



function d2(buf: Uint8Array, p: number): number {
  const a = buf[p]! - 48;
  const b = buf[p + 1]! - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The common ISO shape `yyyy-mm-dd[T ]hh:mm[:ss[.f…]][Z|±hh:mm|±hhmm]` read
 * from bytes, giving exactly what timestamps.ts gives for the same text.
 * Returns NaN for anything else (including invalid dates); the caller then
 * asks the full parser, which has the last word.
 */
function isoFromBytes(buf: Uint8Array, s: number, e: number, timeZone: string, utc: boolean): number {
  isoFlag = FLAG_NONE;
  while (s < e && buf[s] === SPACE) s++;
  while (e > s && buf[e - 1] === SPACE) e--;
  if (e - s < 16 || buf[s + 4] !== 45 || buf[s + 7] !== 45 || buf[s + 13] !== 58) return NaN;
  const sep = buf[s + 10];
  if (sep !== 84 && sep !== SPACE) return NaN;
  const ya = d2(buf, s);
  const yb = d2(buf, s + 2);
  const y = ya * 100 + yb;
  const mo = d2(buf, s + 5);
  const d = d2(buf, s + 8);
  const h = d2(buf, s + 11);
  const mi = d2(buf, s + 14);
  if (ya < 0 || yb < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59) return NaN;
  if (d > daysInMonth(y, mo)) return NaN;
  let p = s + 16;
  let sec = 0;
  let ms = 0;
  if (p < e && buf[p] === 58) {
    sec = d2(buf, p + 1);
    if (sec < 0 || sec > 59) return NaN;
    p += 3;
    if (p < e && (buf[p] === 46 || buf[p] === 44)) {
      p++;
      let frac = 0;
      let k = 0;
      while (p < e && k < 10) {
        const c = buf[p]! - 48;
        if (c < 0 || c > 9) break;
        frac = frac * 10 + c;
        p++;
        k++;
      }
      if (k === 0 || k > 9) return NaN;
      ms = k <= 3 ? frac * POW10[3 - k]! : frac / POW10[k - 3]!;
    }
  }
  let offsetMin = NaN;
  if (p < e) {
    const c = buf[p]!;
    if (c === 90 && p + 1 === e) offsetMin = 0;
    else if ((c === 43 || c === 45) && (e - p === 6 || e - p === 5 || e - p === 3)) {
      const oh = d2(buf, p + 1);
      let om = 0;
      if (e - p === 6) {
        if (buf[p + 3] !== 58) return NaN;
        om = d2(buf, p + 4);
      } else if (e - p === 5) {
        om = d2(buf, p + 3);
      }
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
      offsetMin = (c === 45 ? -1 : 1) * (oh * 60 + om);
    } else {
      return NaN;
    }
  }
  const key = y * 16 + mo;
  if (key !== cachedMonthKey) {
    cachedMonthKey = key;
    cachedMonthDays = daysFromCivil(y, mo, 1);
  }
  const local = (cachedMonthDays + d - 1) * DAY_MS + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms;
  if (offsetMin === offsetMin) return local - offsetMin * 60_000;
  if (utc) return local;
  const r = toUtc(y, mo, d, h, mi, sec, ms, timeZone);
  isoFlag = r.flag;
  return r.utc;
}

/** For tests: the byte fast path on a string (NaN where the full parser must decide). */
export function isoFastPath(text: string, timeZone: string): { value: number; flag: DstFlag } {
  const b = Buffer.from(text, 'utf8');
  const value = isoFromBytes(b, 0, b.length, timeZone, isUtcZone(timeZone));
  return { value, flag: isoFlag };
}

function isUtcZone(tz: string): boolean {
  return tz === 'UTC' || tz === 'Etc/UTC' || tz === 'GMT' || tz === 'Etc/GMT';
}

// ---------------------------------------------------------------------------
// The reader
// ---------------------------------------------------------------------------

interface Column {
  kind: number;
  name: string;
  values: Float64Array | null;
  codes: Int32Array | null;
  bools: Uint8Array | null;
  dict: Map<string, number> | null;
  dictionary: string[] | null;
  /**
   * Recently seen category values by a hash of their bytes, so repeated values
   * find their code without building a string: code + 2 per slot (0 = empty),
   * the value's length, and its bytes.
   */
  cacheCode: Int32Array | null;
  cacheLen: Uint8Array | null;
  cacheBytes: Uint8Array | null;
}

const CACHE_SLOTS = 256;
const CACHE_MAX_LEN = 32;
/** Rows before a column gets its cache: wide files with few rows do not need one per column. */
const CACHE_AFTER_ROWS = 32;

type Phase = 'preamble' | 'header' | 'data';

class Reader {
  readonly name: string;
  readonly cols: Column[];
  readonly ncols: number;
  readonly ws: boolean;
  readonly delim: number;
  readonly dec: number;
  readonly thou: number;
  readonly latin: boolean;
  readonly timeIndex: number;
  readonly timeParser: TimeParser;
  readonly iso: boolean;
  readonly timeZone: string;
  readonly utc: boolean;
  readonly maxRows: number;
  private readonly hasHeader: boolean;

  cap = 0;
  rowCount = 0;
  lines = new Uint32Array(0);
  line = 1;
  blankLines = 0;
  phase: Phase = 'preamble';
  preambleLeft: number;
  done = false;
  prevTime = NaN;
  readonly logs = new Map<ProblemKind, ProblemLog>();
  readonly journal = new Journal();
  badTimeInTimeColumn = false;
  /** Line of the header (for column-level problems), 0 without one. */
  readonly headerLine: number;

  constructor(name: string, settings: ReadSettings, schema: ColumnSchema[], maxRows: number) {
    this.name = name;
    this.ncols = schema.length;
    this.ws = (settings.delimiter as string) === WHITESPACE_DELIMITER;
    this.delim = settings.delimiter.charCodeAt(0);
    this.dec = decimalByte(settings.decimal);
    this.thou = thousandsByte(settings.thousands);
    this.latin = settings.encoding === 'windows-1252';
    this.timeZone = settings.timeZone;
    this.utc = isUtcZone(settings.timeZone);
    this.iso = (settings.timeFormat ?? 'iso') === 'iso';
    this.timeParser = createTimeParser(settings.timeFormat ?? 'iso', settings.timeZone);
    this.maxRows = maxRows;
    this.preambleLeft = settings.skipLines;
    if (settings.skipLines === 0) this.phase = settings.hasHeader ? 'header' : 'data';
    this.hasHeader = settings.hasHeader;
    this.headerLine = settings.hasHeader ? settings.skipLines + 1 : 0;
    this.cols = schema.map((c) => {
      const kind = c.type === 'timestamp' ? K_TIME : c.type === 'category' || c.type === 'text' ? K_CODES : c.type === 'boolean' ? K_BOOL : K_NUMBER;
      return {
        kind,
        name: c.name,
        values: null,
        codes: null,
        bools: null,
        dict: kind === K_CODES ? new Map() : null,
        dictionary: kind === K_CODES ? [] : null,
        cacheCode: null,
        cacheLen: null,
        cacheBytes: null,
      };
    });
    let t = settings.timeColumn === null ? -1 : schema.findIndex((c) => c.header === settings.timeColumn);
    if (t < 0 && settings.timeColumn !== null) t = schema.findIndex((c) => c.name === settings.timeColumn);
    this.timeIndex = t >= 0 && this.cols[t]!.kind === K_TIME ? t : -1;
  }

  log(kind: ProblemKind): ProblemLog {
    let l = this.logs.get(kind);
    if (!l) {
      l = new ProblemLog(this.journal);
      this.logs.set(kind, l);
    }
    return l;
  }

  allocate(rows: number): void {
    const cap = Math.max(16, rows);
    const lines = new Uint32Array(cap);
    lines.set(this.lines.subarray(0, this.rowCount));
    this.lines = lines;
    // Columns live in shared memory, so the import can profile them on the
    // other core while it writes them, without copying 8 bytes per value.
    for (const c of this.cols) {
      if (c.kind === K_NUMBER || c.kind === K_TIME) {
        const v = new Float64Array(new SharedArrayBuffer(cap * 8));
        if (c.values) v.set(c.values.subarray(0, this.rowCount));
        c.values = v;
      } else if (c.kind === K_CODES) {
        const v = new Int32Array(new SharedArrayBuffer(cap * 4));
        if (c.codes) v.set(c.codes.subarray(0, this.rowCount));
        c.codes = v;
      } else {
        const v = new Uint8Array(new SharedArrayBuffer(cap));
        if (c.bools) v.set(c.bools.subarray(0, this.rowCount));
        c.bools = v;
      }
    }
    this.cap = cap;
  }

  /** Decodes field bytes to text (quotes already removed; doubled quotes undone when `escaped`). */
  text(buf: Buffer, s: number, e: number, escaped: boolean): string {
    const t = this.latin ? decodeWindows1252(buf, s, e) : buf.toString('utf8', s, e);
    return escaped ? t.replace(/""/g, '"') : t;
  }

  /**
   * Handles the preamble and the header, then parses the records in
   * buf[pos, limit). Returns where it stopped: `limit`, or the start of a
   * record that runs past `limit` (a quoted line break near the end of a
   * chunk) unless `eof`, in which case `limit` is the end of the file.
   */
  parse(buf: Buffer, pos: number, limit: number, eof: boolean): number {
    while (this.phase !== 'data' && pos < limit) {
      if (this.phase === 'preamble') {
        while (this.preambleLeft > 0 && pos < limit) {
          const c = buf[pos++]!;
          if (c === LF || (c === CR && !(pos < limit && buf[pos] === LF))) {
            this.preambleLeft--;
            this.line++;
          }
        }
        if (this.preambleLeft === 0) this.phase = this.hasHeader ? 'header' : 'data';
      } else {
        // Blank lines before the header are passed over, then one record.
        const c = buf[pos]!;
        if (c === LF || c === CR) {
          pos += c === CR && pos + 1 < limit && buf[pos + 1] === LF ? 2 : 1;
          this.line++;
          this.blankLines++;
          continue;
        }
        const next = this.skipRecord(buf, pos, limit, eof);
        if (next < 0) return pos;
        pos = next;
        this.phase = 'data';
      }
    }
    return pos < limit ? this.parseData(buf, pos, limit, eof) : pos;
  }

  /** Passes over one record (the header), counting its lines; -1 when it runs past `limit` before the end of the file. */
  private skipRecord(buf: Buffer, pos: number, limit: number, eof: boolean): number {
    const line = this.line;
    let atFieldStart = true;
    let inQuote = false;
    while (pos < limit) {
      const c = buf[pos++]!;
      const crlf = c === CR && pos < limit && buf[pos] === LF;
      if (inQuote) {
        if (c === QUOTE) {
          if (pos < limit && buf[pos] === QUOTE) pos++;
          else inQuote = false;
        } else if (c === LF || (c === CR && !crlf)) this.line++;
        continue;
      }
      if (c === QUOTE && atFieldStart) {
        inQuote = true;
        continue;
      }
      if (c === LF || c === CR) {
        if (crlf) pos++;
        this.line++;
        return pos;
      }
      atFieldStart = this.ws ? c === SPACE || c === TAB : c === this.delim;
    }
    if (eof) return pos;
    this.line = line;
    return -1;
  }

  private parseData(buf: Buffer, pos: number, limit: number, eof: boolean): number {
    const { ncols, cols, ws, delim, dec, thou, maxRows, journal } = this;
    let row = this.rowCount;
    let line = this.line;
    journal.active = true;
    records: while (pos < limit) {
      if (row >= maxRows) {
        this.done = true;
        break;
      }
      const lineStart = pos;
      let c = buf[pos]!;
      if (ws) {
        while (pos < limit && ((c = buf[pos]!) === SPACE || c === TAB)) pos++;
        if (pos >= limit) {
          if (!eof) pos = lineStart;
          break;
        }
      }
      if (c === LF || c === CR) {
        pos += c === CR && pos + 1 < limit && buf[pos + 1] === LF ? 2 : 1;
        line++;
        this.blankLines++;
        continue;
      }
      if (row >= this.cap) {
        // allocate() keeps the first rowCount rows: the ones parsed from this chunk so far count too.
        this.rowCount = row;
        this.allocate(Math.ceil(this.cap * 1.5));
      }
      const recordStart = pos;
      const recordLine = line;
      this.lines[row] = line;
      let col = 0;
      let complete = true;
      for (;;) {
        const k = col < ncols ? cols[col]! : null;
        if (k !== null && k.kind === K_NUMBER && buf[pos] !== QUOTE) {
          // The hot path: a number parsed while its field is scanned, no string.
          const start = pos;
          let v = scan(buf, pos, limit, delim, dec, thou, ws, end);
          pos = end[0]!;
          if (v !== v && pos !== start) v = this.badNumber(col, row, recordLine, this.text(buf, start, pos, false), false);
          k.values![row] = v;
          col++;
        } else {
          let fs = pos;
          let fe: number;
          let quoted = false;
          let escaped = false;
          if (buf[pos] === QUOTE) {
            quoted = true;
            pos++;
            fs = pos;
            // Quoted values are short as a rule: a byte loop beats indexOf's call, and counts line breaks on the way.
            let q = pos;
            let breaks = 0;
            for (;;) {
              while (q < limit && (c = buf[q]!) !== QUOTE) {
                if (c === LF || (c === CR && !(q + 1 < limit && buf[q + 1] === LF))) breaks++;
                q++;
              }
              if (q >= limit || (q + 1 >= limit && !eof)) {
                // The closing quote (or what follows it) is not here yet.
                fe = pos = limit;
                complete = false;
                break;
              }
              if (q + 1 < limit && buf[q + 1] === QUOTE) {
                escaped = true;
                q += 2;
                continue;
              }
              fe = q;
              pos = q + 1;
              break;
            }
            if (!complete && !eof) break;
            line += breaks;
            // Text after the closing quote is kept with the value, as spreadsheet programs do.
            const junk = pos;
            if (ws) while (pos < limit && (c = buf[pos]!) !== SPACE && c !== TAB && c !== LF && c !== CR) pos++;
            else while (pos < limit && (c = buf[pos]!) !== delim && c !== LF && c !== CR) pos++;
            if (pos > junk && col < ncols) {
              this.storeText(col, row, recordLine, this.text(buf, fs, fe, escaped) + this.text(buf, junk, pos, false), true);
              col++;
              fe = -1;
            }
          } else if (ws) {
            while (pos < limit && (c = buf[pos]!) !== SPACE && c !== TAB && c !== LF && c !== CR) pos++;
            fe = pos;
          } else {
            while (pos < limit && (c = buf[pos]!) !== delim && c !== LF && c !== CR) pos++;
            fe = pos;
          }
          if (fe >= 0) {
            if (col < ncols) {
              const k = cols[col]!;
              if (k.kind === K_NUMBER) {
                let v = fe === fs ? NaN : parseNumber(buf, fs, fe, dec, thou);
                if (v !== v && fe !== fs) v = this.badNumber(col, row, recordLine, this.text(buf, fs, fe, escaped), quoted);
                k.values![row] = v;
              } else if (k.kind === K_TIME) {
                this.storeTime(buf, col, row, recordLine, fs, fe, escaped);
              } else if (k.kind === K_CODES) {
                this.storeCode(buf, col, row, fs, fe, escaped, quoted);
              } else {
                this.storeText(col, row, recordLine, this.text(buf, fs, fe, escaped), quoted);
              }
            }
            col++;
          }
        }
        if (pos >= limit) {
          complete = eof;
          break;
        }
        c = buf[pos]!;
        if (ws ? c === SPACE || c === TAB : c === delim) {
          pos++;
          if (ws) {
            while (pos < limit && ((c = buf[pos]!) === SPACE || c === TAB)) pos++;
            if (pos >= limit) {
              complete = eof;
              break;
            }
            if (c === LF || c === CR) {
              pos += c === CR && pos + 1 < limit && buf[pos + 1] === LF ? 2 : 1;
              line++;
              break;
            }
          }
          continue;
        }
        pos += c === CR && pos + 1 < limit && buf[pos + 1] === LF ? 2 : 1;
        line++;
        break;
      }
      if (!complete) {
        // The record continues in the next chunk: forget what it logged and read it again then.
        journal.undo();
        pos = lineStart;
        line = recordLine;
        break records;
      }
      if (col !== ncols) this.ragged(buf, row, recordLine, col, recordStart, pos);
      if (this.timeIndex >= 0) this.checkTime(row, recordLine);
      if (journal.touched.length) journal.keep();
      row++;
    }
    journal.active = false;
    this.rowCount = row;
    this.line = line;
    return pos;
  }

  private badNumber(col: number, row: number, line: number, raw: string, _quoted: boolean): number {
    if (isMissingToken(raw)) return NaN;
    const name = this.cols[col]!.name;
    this.log('not_a_number').add(
      row,
      line,
      name,
      () => raw,
      () => `Line ${line}, column "${name}": "${clip(raw.trim())}" is not a number.`,
    );
    return NaN;
  }

  private storeTime(buf: Buffer, col: number, row: number, line: number, fs: number, fe: number, escaped: boolean): void {
    const k = this.cols[col]!;
    let t = NaN;
    let flag: DstFlag = FLAG_NONE;
    if (this.iso && !escaped) {
      t = isoFromBytes(buf, fs, fe, this.timeZone, this.utc);
      flag = isoFlag;
    }
    let raw: string | null = null;
    if (t !== t) {
      raw = this.text(buf, fs, fe, escaped).trim();
      if (raw === '' || isMissingToken(raw)) {
        k.values![row] = NaN;
        if (col === this.timeIndex) {
          this.log('missing_time').add(row, line, k.name, () => raw!, () => `Line ${line} has no time.`);
        }
        return;
      }
      t = this.timeParser.parse(raw);
      flag = this.timeParser.lastFlag;
      if (t !== t) {
        if (col === this.timeIndex) this.badTimeInTimeColumn = true;
        this.log('bad_timestamp').add(
          row,
          line,
          k.name,
          () => raw!,
          () => `Line ${line}, column "${k.name}": "${clip(raw!)}" is not a date and time in the chosen format.`,
        );
      }
    }
    k.values![row] = t;
    if (flag !== FLAG_NONE) {
      const text = () => raw ?? this.text(buf, fs, fe, escaped).trim();
      if (flag === FLAG_REPEATED) {
        this.log('dst_repeated').add(row, line, k.name, text, () => `Line ${line}: ${text()} happens twice when clocks go back; the first one is used.`);
      } else {
        this.log('dst_gap').add(row, line, k.name, text, () => `Line ${line}: ${text()} does not exist (clocks go forward); it is moved forward by the gap.`);
      }
    }
  }

  private storeCode(buf: Buffer, col: number, row: number, fs: number, fe: number, escaped: boolean, quoted: boolean): void {
    const k = this.cols[col]!;
    if (!quoted) {
      while (fs < fe && (buf[fs] === SPACE || buf[fs] === TAB)) fs++;
      while (fe > fs && (buf[fe - 1] === SPACE || buf[fe - 1] === TAB)) fe--;
    }
    const len = fe - fs;
    if (len > CACHE_MAX_LEN || escaped || row < CACHE_AFTER_ROWS) {
      k.codes![row] = codeOf(k, this.text(buf, fs, fe, escaped));
      return;
    }
    if (k.cacheCode === null) {
      k.cacheCode = new Int32Array(CACHE_SLOTS);
      k.cacheLen = new Uint8Array(CACHE_SLOTS);
      k.cacheBytes = new Uint8Array(CACHE_SLOTS * CACHE_MAX_LEN);
    }
    let h = 0x811c9dc5 ^ len;
    for (let i = fs; i < fe; i++) h = Math.imul(h ^ buf[i]!, 16777619);
    const slot = (h ^ (h >>> 15)) & (CACHE_SLOTS - 1);
    const cached = k.cacheCode![slot]!;
    const at = slot * CACHE_MAX_LEN;
    const bytes = k.cacheBytes!;
    if (cached !== 0 && k.cacheLen![slot] === len) {
      let same = true;
      for (let i = 0; i < len; i++) {
        if (buf[fs + i] !== bytes[at + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        k.codes![row] = cached - 2;
        return;
      }
    }
    const code = codeOf(k, this.text(buf, fs, fe, false));
    k.codes![row] = code;
    k.cacheCode![slot] = code + 2;
    k.cacheLen![slot] = len;
    for (let i = 0; i < len; i++) bytes[at + i] = buf[fs + i]!;
  }

  /** A value whose bytes needed fixing up (text after a closing quote), or a boolean. */
  private storeText(col: number, row: number, line: number, raw: string, quoted: boolean): void {
    const k = this.cols[col]!;
    const t = quoted ? raw : raw.trim();
    switch (k.kind) {
      case K_NUMBER: {
        const b = Buffer.from(t, 'utf8');
        let v = b.length ? parseNumber(b, 0, b.length, this.dec, this.thou) : NaN;
        if (v !== v && b.length) v = this.badNumber(col, row, line, t, quoted);
        k.values![row] = v;
        return;
      }
      case K_TIME: {
        const b = Buffer.from(t, 'utf8');
        this.storeTime(b, col, row, line, 0, b.length, false);
        return;
      }
      case K_CODES:
        k.codes![row] = codeOf(k, t);
        return;
      default: {
        if (t === '' || isMissingToken(t)) {
          k.bools![row] = 255;
          return;
        }
        const v = parseBoolean(t);
        if (v === null) {
          k.bools![row] = 255;
          this.log('bad_boolean').add(row, line, k.name, () => t, () => `Line ${line}, column "${k.name}": "${clip(t)}" is not yes/no, true/false, on/off or 1/0.`);
        } else k.bools![row] = v;
      }
    }
  }

  private ragged(buf: Buffer, row: number, line: number, got: number, start: number, end: number): void {
    const { ncols } = this;
    for (let c = got; c < ncols; c++) {
      const k = this.cols[c]!;
      if (k.kind === K_NUMBER || k.kind === K_TIME) k.values![row] = NaN;
      else if (k.kind === K_CODES) k.codes![row] = -1;
      else k.bools![row] = 255;
    }
    if (got < ncols && this.timeIndex >= got) {
      this.log('missing_time').add(row, line, this.cols[this.timeIndex]!.name, () => '', () => `Line ${line} has no time.`);
    }
    let e = end;
    while (e > start && (buf[e - 1] === LF || buf[e - 1] === CR)) e--;
    this.log('ragged_row').add(
      row,
      line,
      null,
      () => this.text(buf, start, e, false),
      () =>
        got < ncols
          ? `Line ${line} has ${got} value${got === 1 ? '' : 's'} instead of ${ncols}; the missing ones are left empty.`
          : `Line ${line} has ${got} values instead of ${ncols}; the extra ones are dropped.`,
    );
  }

  private checkTime(row: number, line: number): void {
    const t = this.cols[this.timeIndex]!.values![row]!;
    if (t !== t) return;
    const prev = this.prevTime;
    this.prevTime = t;
    if (prev !== prev) return;
    if (t === prev) {
      const name = this.cols[this.timeIndex]!.name;
      this.log('duplicate_time').add(row, line, name, () => localText(t, this.timeZone), () => `Line ${line} has the same time as the row before (${localText(t, this.timeZone)}).`);
    } else if (t < prev) {
      const name = this.cols[this.timeIndex]!.name;
      this.log('out_of_order').add(
        row,
        line,
        name,
        () => localText(t, this.timeZone),
        () => `Line ${line} (${localText(t, this.timeZone)}) is earlier than the row before (${localText(prev, this.timeZone)}); rows are sorted by time when saved.`,
      );
    }
  }

  /**
   * When the rows are not in time order, duplicates need not be neighbours:
   * find them all (every row whose time an earlier row already had). A native
   * sort of the times and a binary search per row, instead of sorting row
   * indexes with a comparator, which is many times slower on millions of rows.
   */
  findAllDuplicates(): void {
    const times = this.cols[this.timeIndex]!.values!;
    const n = this.rowCount;
    let m = 0;
    for (let i = 0; i < n; i++) if (times[i] === times[i]) m++;
    const sorted = new Float64Array(m);
    for (let i = 0, j = 0; i < n; i++) if (times[i] === times[i]) sorted[j++] = times[i]!;
    sorted.sort();
    // Distinct times that occur more than once.
    let d = 0;
    for (let j = 1; j < m; j++) if (sorted[j] === sorted[j - 1] && (d === 0 || sorted[d - 1] !== sorted[j])) sorted[d++] = sorted[j]!;
    const repeated = sorted.subarray(0, d);
    const seen = new Uint8Array(d);
    const log = new ProblemLog();
    const name = this.cols[this.timeIndex]!.name;
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
      log.add(i, line, name, () => localText(t, this.timeZone), () => `Line ${line} has the same time as an earlier row (${localText(t, this.timeZone)}).`);
    }
    if (log.count) this.logs.set('duplicate_time', log);
    else this.logs.delete('duplicate_time');
  }

  finish(schema: ColumnSchema[]): ReadResult {
    const n = this.rowCount;
    if (this.timeIndex >= 0 && this.logs.has('out_of_order')) this.findAllDuplicates();
    // Up to a quarter of spare room stays (a view, no copy: copying every
    // column would need their size again at the peak); more is copied away.
    const trim = <T extends Float64Array | Int32Array | Uint8Array | Uint32Array>(a: T): T =>
      a.length === n ? a : a.length - n <= a.length / 4 ? (a.subarray(0, n) as T) : sharedCopy(a, n);
    const columns: ColumnData[] = this.cols.map((c, j) => {
      const type = schema[j]!.type;
      let out: ColumnData;
      if (c.kind === K_CODES) out = { type: type as 'category' | 'text', codes: trim(c.codes!), dictionary: c.dictionary! };
      else if (c.kind === K_BOOL) out = { type: 'boolean', values: trim(c.bools!) };
      else out = { type: type as 'number' | 'integer' | 'timestamp', values: trim(c.values!) };
      c.values = c.codes = c.bools = null;
      return out;
    });
    // Columns with nothing in them.
    const empty = new ProblemLog();
    columns.forEach((col, j) => {
      if (!isAllMissing(col, n) || n === 0) return;
      const name = schema[j]!.name;
      empty.count++;
      empty.examples.push({ line: this.headerLine, column: name, raw: '', reason: `Column "${name}" has no values in any row.` });
    });
    if (empty.count) this.logs.set('empty_column', empty);
    // Same header twice.
    const seen = new Map<string, string>();
    const dupCols = new ProblemLog();
    schema.forEach((c) => {
      const first = seen.get(c.header);
      if (first !== undefined && c.header !== '') {
        dupCols.count++;
        dupCols.examples.push({ line: this.headerLine, column: c.name, raw: c.header, reason: `"${c.header}" names two columns; the second is called "${c.name}".` });
      } else seen.set(c.header, c.name);
    });
    if (dupCols.count) this.logs.set('duplicate_column', dupCols);

    const problems: Problem[] = [];
    const problemRows: Partial<Record<ProblemKind, Uint32Array>> = {};
    for (const kind of Object.keys(PROBLEM_TITLES) as ProblemKind[]) {
      const l = this.logs.get(kind);
      if (!l || l.count === 0) continue;
      const choice = { ...PROBLEM_CHOICES[kind] };
      if (kind === 'bad_timestamp' && this.badTimeInTimeColumn) choice.defaultChoice = 'skip';
      problems.push({ kind, title: PROBLEM_TITLES[kind], count: l.count, examples: l.examples, ...choice });
      if (l.rowCount) problemRows[kind] = l.rows.slice(0, l.rowCount);
    }
    return { schema, columns, rowCount: n, lines: trim(this.lines), problems, problemRows, blankLines: this.blankLines };
  }
}

/** Dictionary code of a category/text value, -1 for missing. */
function codeOf(k: Column, s: string): number {
  if (isMissingToken(s)) return -1;
  const hit = k.dict!.get(s);
  if (hit !== undefined) return hit;
  const code = k.dictionary!.length;
  k.dictionary!.push(s);
  k.dict!.set(s, code);
  return code;
}

function isAllMissing(col: ColumnData, n: number): boolean {
  if ('codes' in col) {
    for (let i = 0; i < n; i++) if (col.codes[i] !== -1) return false;
  } else if (col.type === 'boolean') {
    for (let i = 0; i < n; i++) if (col.values[i] !== 255) return false;
  } else {
    const v = col.values;
    for (let i = 0; i < n; i++) if (v[i] === v[i]) return false;
  }
  return true;
}


/**
 * End of the last complete line in buf[0, filled): just past its LF (or, in
 * files that end lines with CR alone, its CR), or 0 when there is none. A
 * quoted value may still continue past it; the parser notices and stops there.
 */
function lastLineEnd(buf: Buffer, filled: number): number {
  if (filled === 0) return 0;
  const lf = buf.lastIndexOf(LF, filled - 1);
  if (lf >= 0) return lf + 1;
  // A CR as the very last byte may be the first half of a CRLF.
  if (filled < 2) return 0;
  const cr = buf.lastIndexOf(CR, filled - 2);
  return cr >= 0 ? cr + 1 : 0;
}

/**
 * Reads a whole delimited text file into typed columns with the given settings
 * and schema (from the sniffer, possibly changed by the person). Throws
 * AppError naming the file when it does not exist, cannot be read, is empty,
 * is not text, or has no data rows.
 */
export async function readDelimited(file: string, settings: ReadSettings, schema: ColumnSchema[], control: ReadOptions = {}): Promise<ReadResult> {
  const name = path.basename(file);
  const maxRows = control.maxRows ?? Infinity;
  const chunkSize = Math.max(16, control.chunkSize ?? DEFAULT_CHUNK);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (err) {
    throw fileError(err, file, name);
  }
  try {
    let size: number;
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
      size = st.size;
    } catch (err) {
      throw fileError(err, file, name);
    }
    if (size === 0) throw new AppError('bad_input', `${name} is empty.`);
    if (schema.length === 0) throw new AppError('bad_input', `No columns to read from ${name}.`);

    // The start of the file: binary check and byte order mark.
    const head = Buffer.alloc(Math.min(size, 64 * 1024));
    await fh.read(head, 0, head.length, 0);
    if (settings.encoding !== 'utf-16le' && settings.encoding !== 'utf-16be') detectEncoding(head, name);
    const bom = bomLength(head, settings.encoding);

    const reader = new Reader(name, settings, schema, maxRows);
    const source = new ByteSource(fh, bom, settings.encoding);
    let buf = Buffer.allocUnsafe(chunkSize);
    let carry = 0;
    let eof = false;
    let first = true;
    let lastProgress = Date.now();
    const utf16 = settings.encoding === 'utf-16le' || settings.encoding === 'utf-16be';

    while (!reader.done) {
      control.checkCancelled?.();
      let filled = carry;
      if (!eof) {
        const n = await source.read(buf, carry, buf.length - carry);
        if (n === 0) eof = true;
        filled += n;
      }
      const limit = eof ? filled : lastLineEnd(buf, filled);
      if (first && limit > 0) {
        // Size the columns from the first chunk's average line length, +10%.
        first = false;
        const dataBytes = utf16 ? (size - bom) / 2 : size - bom;
        let lines = 0;
        for (let i = buf.indexOf(LF); i >= 0 && i < limit; i = buf.indexOf(LF, i + 1)) lines++;
        const avg = lines > 0 ? limit / lines : limit;
        const estimate = Math.ceil((dataBytes / avg) * 1.1) + 16;
        reader.allocate(Math.min(estimate, maxRows === Infinity ? estimate : maxRows + 1));
      }
      const consumed = limit > 0 ? reader.parse(buf, 0, limit, eof) : 0;
      if (eof || reader.done) break;
      if (consumed === 0 && filled === buf.length) {
        // One record is longer than the buffer: make room for it.
        if (buf.length >= MAX_RECORD_BYTES) {
          throw new AppError(
            'bad_input',
            `${name}: near line ${reader.line} a single row is longer than ${MAX_RECORD_BYTES >> 20} MB. A quote (") probably never closes; check the delimiter and quote settings.`,
          );
        }
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      } else if (consumed > 0 && consumed < filled) {
        buf.copy(buf, 0, consumed, filled);
      }
      carry = filled - consumed;
      const now = Date.now();
      if (control.onProgress && now - lastProgress >= PROGRESS_MS) {
        lastProgress = now;
        control.onProgress(Math.min(1, source.bytesRead / size), `Reading ${name}…`);
      }
    }
    control.onProgress?.(1, `Read ${name}.`);
    if (reader.rowCount === 0 && maxRows > 0) {
      throw new AppError(
        'bad_input',
        settings.hasHeader ? `${name} has a header line but no data rows.` : `${name} has no data rows${settings.skipLines ? ` after the ${settings.skipLines} skipped lines` : ''}.`,
      );
    }
    return reader.finish(schema);
  } finally {
    await fh.close();
  }
}

/** The first rows only, for the wizard's live preview. */
export function readDelimitedPreview(file: string, settings: ReadSettings, schema: ColumnSchema[], maxRows = 50): Promise<ReadResult> {
  return readDelimited(file, settings, schema, { maxRows, chunkSize: 1 << 20 });
}

/** The first n values of a in a new shared buffer (slice() would make an unshared one). */
function sharedCopy<T extends Float64Array | Int32Array | Uint8Array | Uint32Array>(a: T, n: number): T {
  const Ctor = a.constructor as { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
  const out = new Ctor(new SharedArrayBuffer(n * Ctor.BYTES_PER_ELEMENT));
  out.set(a.subarray(0, n) as never);
  return out;
}
