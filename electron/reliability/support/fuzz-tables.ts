/**
 * Generated tables for the import fuzz tests: values with the text a plant
 * export would hold for them (numbers in every notation, text with quotes,
 * delimiters and line breaks, yes/no words, timestamps in each of
 * TIME_FORMATS), a writer for every dialect the import reads, and the
 * expected values worked out independently of the importer (Number() for
 * numbers, Intl for wall-clock times).
 */
import fc from 'fast-check';
import type { ColumnType, DecimalMark, Delimiter, TextEncoding, ThousandsSeparator, TimeFormat } from '../../../shared/datasets';
import { MISSING_TOKENS } from '../../services/datasets/import/numbers';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Excel serial of 1970-01-01. */
const EXCEL_EPOCH = 25569;

// ---------------------------------------------------------------- wall-clock time, by Intl alone

/** Zones with a bit of everything: DST in both hemispheres, half-hour and 45-minute offsets, a 30-minute DST, DST at midnight, a skipped day. */
export const ZONES = [
  'UTC',
  'Europe/Berlin',
  'Europe/London',
  'America/New_York',
  'America/Sao_Paulo',
  'America/St_Johns',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Pacific/Apia',
] as const;

const wallFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time at instant `t` in `zone`, as epoch ms of the same fields in UTC. */
export function wallOf(t: number, zone: string): number {
  let f = wallFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    wallFormats.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const ms = ((t % 1000) + 1000) % 1000;
  const d = new Date(0);
  d.setUTCFullYear(p.year!, p.month! - 1, p.day!);
  d.setUTCHours(p.hour!, p.minute!, p.second!, ms);
  return d.getTime();
}

export type DstFlag = 'none' | 'repeated' | 'gap';

/**
 * The instant a wall-clock time stands for: the only one, the earlier of two
 * when clocks go back ('repeated'), or, in the hour that clocks skip, the
 * wall time read with the offset from before the jump ('gap').
 */
export function resolveWall(wall: number, zone: string): { utc: number; flag: DstFlag } {
  const before = wallOf(wall - 15 * HOUR, zone) - (wall - 15 * HOUR);
  const after = wallOf(wall + 13 * HOUR, zone) - (wall + 13 * HOUR);
  const fits = [...new Set([wall - before, wall - after])].filter((u) => wallOf(u, zone) === wall);
  if (fits.length === 2) return { utc: Math.min(...fits), flag: 'repeated' };
  if (fits.length === 1) return { utc: fits[0]!, flag: 'none' };
  return { utc: wall - before, flag: 'gap' };
}

const transitionCache = new Map<string, number[]>();

/** Instants (to the minute) where the zone's offset changes, 2000–2030 (and Apia's skipped day). */
export function transitions(zone: string): number[] {
  const hit = transitionCache.get(zone);
  if (hit) return hit;
  const out: number[] = [];
  const offset = (t: number) => wallOf(t, zone) - t;
  let t = Date.UTC(2000, 0, 1);
  let o = offset(t);
  const end = Date.UTC(2031, 0, 1);
  while (t < end) {
    const n = t + DAY;
    const on = offset(n);
    if (on !== o) {
      let lo = t;
      let hi = n;
      while (hi - lo > MINUTE) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
        if (offset(mid) === o) lo = mid;
        else hi = mid;
      }
      out.push(hi);
      o = on;
    }
    t = n;
  }
  transitionCache.set(zone, out);
  return out;
}

// ---------------------------------------------------------------- cells

/** One field of a generated table: the text written and what the importer must read from it. */
export interface Cell {
  text: string;
  /** Number (NaN for missing), string (null for missing), 0/1 (null for missing) or epoch ms (NaN for missing). */
  expect: number | string | null;
  /** Timestamps: what the zone does at that wall time. */
  flag?: DstFlag;
}

/** True when the importer reads the text as "no value". */
export const isMissing = (s: string) => MISSING_TOKENS.has(s) || MISSING_TOKENS.has(s.trim());

const missingNumberTexts = ['', 'NA', 'NaN', 'nan', 'N/A', '#N/A', 'NULL', 'null', '-', '--', '?', 'Bad', 'I/O Timeout', 'No Data', '#DIV/0!', ' NA ', 'Comm Fail'];

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), minLength: min, maxLength: max });

function groupThousands(int: string, sep: string): string {
  let out = '';
  for (let i = 0; i < int.length; i++) {
    if (i > 0 && (int.length - i) % 3 === 0) out += sep;
    out += int[i];
  }
  return out;
}

/**
 * A number as an export writes it, in the file's decimal mark and thousands
 * separator; the expected value is Number() of the same number written plainly.
 */
export function numberCell(decimal: DecimalMark, thousands: ThousandsSeparator, integer = false): fc.Arbitrary<Cell> {
  const plain = fc
    .record({
      sign: fc.constantFrom('', '', '-', '+'),
      int: fc.oneof({ weight: 5, arbitrary: digits(1, 6) }, { weight: 2, arbitrary: digits(7, 22) }, { weight: 1, arbitrary: digits(0, 0) }, { weight: 1, arbitrary: digits(23, 60) }),
      frac: integer ? fc.constant(null) : fc.option(digits(0, 20), { nil: null, freq: 3 }),
      exp: integer ? fc.constant(null) : fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 3)), { nil: null, freq: 2 }),
      group: fc.boolean(),
    })
    .filter((r) => r.int.length + (r.frac?.length ?? 0) > 0)
    .map((r): Cell => {
      const canonical = `${r.sign}${r.int}${r.frac !== null ? `.${r.frac}` : ''}${r.exp ? `e${r.exp[1]}${r.exp[2]}` : ''}`;
      const int = r.group && thousands !== '' ? groupThousands(r.int, thousands) : r.int;
      const text = `${r.sign}${int}${r.frac !== null ? `${decimal}${r.frac}` : ''}${r.exp ? r.exp.join('') : ''}`;
      return { text, expect: Number(canonical) };
    });
  // Doubles as programs print them: 5e-324, 1.7976931348623157e+308, -0.1.
  const printed = (integer ? fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }) : fc.double({ noNaN: true, noDefaultInfinity: true })).map((v): Cell => {
    const s = String(v);
    return { text: decimal === ',' ? s.replace('.', ',') : s, expect: Number(s) };
  });
  const missing = fc.constantFrom(...missingNumberTexts).map((text): Cell => ({ text, expect: NaN }));
  return fc.oneof({ weight: 6, arbitrary: plain }, { weight: 3, arbitrary: printed }, { weight: 1, arbitrary: missing });
}

const BOOLEAN_WORDS: [string, 0 | 1][] = [
  ['true', 1],
  ['false', 0],
  ['yes', 1],
  ['no', 0],
  ['ja', 1],
  ['nein', 0],
  ['on', 1],
  ['off', 0],
  ['wahr', 1],
  ['falsch', 0],
  ['1', 1],
  ['0', 0],
];

export const booleanCell: fc.Arbitrary<Cell> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...BOOLEAN_WORDS), fc.constantFrom('lower', 'upper', 'title')).map(([[w, v], c]): Cell => ({ text: c === 'lower' ? w : c === 'upper' ? w.toUpperCase() : w[0]!.toUpperCase() + w.slice(1), expect: v })) },
  { weight: 1, arbitrary: fc.constantFrom('', 'NA', 'null', '-').map((text): Cell => ({ text, expect: null })) },
);

/** Characters Windows-1252 has, by code point, and their byte. */
const CP1252_HIGH: Record<number, number> = {
  0x20ac: 0x80, 0x201a: 0x82, 0x0192: 0x83, 0x201e: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87, 0x02c6: 0x88, 0x2030: 0x89, 0x0160: 0x8a, 0x2039: 0x8b, 0x0152: 0x8c, 0x017d: 0x8e,
  0x2018: 0x91, 0x2019: 0x92, 0x201c: 0x93, 0x201d: 0x94, 0x2022: 0x95, 0x2013: 0x96, 0x2014: 0x97, 0x02dc: 0x98, 0x2122: 0x99, 0x0161: 0x9a, 0x203a: 0x9b, 0x0153: 0x9c, 0x017e: 0x9e, 0x0178: 0x9f,
};

/** Text in Windows-1252 (throws for a character it lacks: the generators never make one). */
export function encodeCp1252(s: string): Buffer {
  const out = Buffer.alloc(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 || (c >= 0xa0 && c <= 0xff)) out[i] = c;
    else if (CP1252_HIGH[c] !== undefined) out[i] = CP1252_HIGH[c]!;
    else throw new Error(`U+${c.toString(16)} is not in Windows-1252`);
  }
  return out;
}

const cp1252Chars = [...Array.from({ length: 0x5f }, (_, i) => String.fromCharCode(0x20 + i)), ...Array.from({ length: 0x60 }, (_, i) => String.fromCharCode(0xa0 + i)), ...Object.keys(CP1252_HIGH).map((c) => String.fromCharCode(Number(c)))];

/** Characters a text field may hold: no control characters but tab and line breaks, no byte order mark. */
function plainChar(c: string): boolean {
  const code = c.codePointAt(0)!;
  return code >= 0x20 ? code !== 0xfeff && code !== 0x7f : c === '\t';
}

const tricky = ['"', '""', '"a"', 'a"b', ',', ';', '|', '\t', ' a ', 'x,y', 'a;b;c', '\r\n', '\n', '\r', 'line1\nline2', 'Ü€ß', '中文', '😀', 'é', '-5', '1e5', '2024-01-01', 'NA', 'null', ' ', '  padded'];

/** Text for a field, in the characters the encoding can hold. */
export function textValue(encoding: TextEncoding, maxLength = 24): fc.Arbitrary<string> {
  const chars = encoding === 'windows-1252' ? fc.constantFrom(...cp1252Chars, '\n', '\r', '\t') : fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter(plainChar);
  const fromChars = fc.array(fc.oneof({ weight: 6, arbitrary: chars }, { weight: 1, arbitrary: fc.constantFrom('"', ',', ';', '\n', ' ', '|') }), { maxLength }).map((a) => a.join(''));
  const fits = encoding === 'windows-1252' ? tricky.filter((t) => [...t].every((c) => cp1252Chars.includes(c) || '\r\n\t'.includes(c))) : tricky;
  return fc.oneof({ weight: 6, arbitrary: fromChars }, { weight: 2, arbitrary: fc.constantFrom(...fits) }, { weight: 1, arbitrary: fc.constant('') });
}

export function textCell(encoding: TextEncoding): fc.Arbitrary<Cell> {
  return textValue(encoding).map((text): Cell => ({ text, expect: isMissing(text) ? null : text }));
}

// ---------------------------------------------------------------- timestamps

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  ms: number;
}

function fieldsOf(wall: number): Wall {
  const d = new Date(wall);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(), ms: d.getUTCMilliseconds() };
}

export type Precision = 'date' | 'min' | 'sec' | 'ms';
const truncate = (wall: number, p: Precision) => (p === 'date' ? Math.floor(wall / DAY) * DAY : p === 'min' ? Math.floor(wall / MINUTE) * MINUTE : p === 'sec' ? Math.floor(wall / 1000) * 1000 : wall);

/** How one timestamp is spelled: each choice is one the importer documents. */
export interface Spelling {
  precision: Precision;
  padDate: boolean;
  padHour: boolean;
  sep: number;
  dateSep: number;
  fracDigits: number;
  fracComma: boolean;
  ampm: number;
  offset: number;
  decimalComma: boolean;
  exponent: boolean;
}

/** How one timestamp may be spelled, every choice one the importer documents. */
export const spelling: fc.Arbitrary<Spelling> = fc.record({
  precision: fc.constantFrom<Precision>('date', 'min', 'sec', 'sec', 'ms', 'ms'),
  padDate: fc.boolean(),
  padHour: fc.boolean(),
  sep: fc.nat(3),
  dateSep: fc.nat(2),
  fracDigits: fc.integer({ min: 3, max: 9 }),
  fracComma: fc.boolean(),
  ampm: fc.nat(5),
  offset: fc.nat(7),
  decimalComma: fc.boolean(),
  exponent: fc.boolean(),
});

function fraction(ms: number, sp: Spelling): string {
  if (sp.precision !== 'ms') return '';
  // Fewer digits only where they lose nothing (".5" for 500 ms).
  let f = pad(ms, 3) + '0'.repeat(sp.fracDigits - 3);
  if (sp.fracDigits === 3) while (f.length > 1 && f.endsWith('0')) f = f.slice(0, -1);
  return `${sp.fracComma ? ',' : '.'}${f}`;
}

/** "h:mm[:ss[.fff]]" in 24 hours, or 12 hours with AM/PM in one of its spellings. */
function clock(w: Wall, sp: Spelling, amPmAllowed: boolean): string {
  const sec = sp.precision === 'sec' || sp.precision === 'ms' ? `:${pad(w.s)}${fraction(w.ms, sp)}` : '';
  if (amPmAllowed && sp.ampm >= 3) {
    const h12 = w.h % 12 === 0 ? 12 : w.h % 12;
    const marks = w.h < 12 ? ['AM', 'am', ' a.m.'] : ['PM', 'pm', ' P.M.'];
    return `${sp.padHour ? pad(h12) : h12}:${pad(w.mi)}${sec}${sp.ampm === 3 ? ' ' : ''}${marks[sp.ampm - 3]}`;
  }
  return `${sp.padHour ? pad(w.h) : w.h}:${pad(w.mi)}${sec}`;
}

const tailSeps = [' ', 'T', ', ', '  '];

function dateTail(w: Wall, sp: Spelling, amPm: boolean): string {
  return sp.precision === 'date' ? '' : `${tailSeps[sp.sep]}${clock(w, sp, amPm)}`;
}

/** ISO text of a wall time, with the explicit offset when `offsetMin` is a number. */
function isoText(w: Wall, sp: Spelling, offsetMin: number | null): string {
  const date = `${pad(w.y, 4)}-${sp.padDate ? pad(w.mo) : w.mo}-${sp.padDate ? pad(w.d) : w.d}`;
  if (sp.precision === 'date' && offsetMin === null) return date;
  const precision = sp.precision === 'date' ? 'min' : sp.precision;
  const c = clock(w, { ...sp, precision, padHour: sp.padHour || sp.sep === 1 }, false);
  let off = '';
  if (offsetMin !== null) {
    const sign = offsetMin < 0 ? '-' : '+';
    const a = Math.abs(offsetMin);
    const hh = pad(Math.floor(a / 60));
    const mm = pad(a % 60);
    const forms = offsetMin === 0 ? ['Z', 'z', ' UTC', ' GMT', '+00:00', '-0000', ' Z', '+00'] : [`${sign}${hh}:${mm}`, `${sign}${hh}${mm}`, ` ${sign}${hh}:${mm}`, a % 60 === 0 ? `${sign}${hh}` : `${sign}${hh}:${mm}`];
    off = forms[sp.offset % forms.length]!;
  }
  return `${date}${['T', ' ', 't', '  '][sp.sep]}${c}${off}`;
}

/** A wall-clock time (epoch ms of its fields in UTC) spelled in one of the wall-clock formats. */
export function wallText(format: TimeFormat, wall: number, sp: Spelling): string {
  const w = fieldsOf(wall);
  const ds = ['.', '/', '-'][sp.dateSep]!;
  const dd = sp.padDate ? pad(w.d) : String(w.d);
  const mm = sp.padDate ? pad(w.mo) : String(w.mo);
  switch (format) {
    case 'iso':
      return isoText(w, sp, null);
    case 'dmy':
      return `${dd}${ds}${mm}${ds}${pad(w.y, 4)}${dateTail(w, sp, true)}`;
    case 'mdy':
      return `${mm}${ds}${dd}${ds}${pad(w.y, 4)}${dateTail(w, sp, true)}`;
    case 'ymd-slash':
      return `${pad(w.y, 4)}/${mm}/${dd}${dateTail(w, sp, true)}`;
    case 'excel-serial': {
      const serial = String(wall / DAY + EXCEL_EPOCH);
      return sp.decimalComma ? serial.replace('.', ',') : serial;
    }
    default:
      throw new Error(`${format} is not a wall-clock format`);
  }
}

/** Unix time text for epoch ms `t`: seconds with a decimal part (either mark, or an exponent), or milliseconds. */
function unixText(format: 'unix-s' | 'unix-ms', t: number, sp: Spelling): string {
  if (format === 'unix-ms') return sp.exponent && t > 0 ? `+${t}` : String(t);
  const neg = t < 0;
  const a = Math.abs(t);
  const s = Math.floor(a / 1000);
  const ms = a % 1000;
  if (sp.exponent && ms === 0 && s > 0) {
    const digitsOf = String(s);
    return `${neg ? '-' : ''}${digitsOf[0]}.${digitsOf.slice(1) || '0'}e${digitsOf.length - 1}`;
  }
  const frac = ms === 0 && sp.precision !== 'ms' ? '' : `${sp.decimalComma ? ',' : '.'}${pad(ms, 3)}`;
  return `${neg ? '-' : ''}${s}${frac}`;
}

const Y1971 = Date.UTC(1971, 0, 1);
const Y2100 = Date.UTC(2100, 11, 31);

/** A wall-clock time: anywhere 1971–2100, or within three hours of one of the zone's offset changes. */
function wallTime(zone: string): fc.Arbitrary<number> {
  const near = transitions(zone);
  const uniform = fc.integer({ min: Y1971, max: Y2100 });
  if (!near.length) return uniform;
  return fc.oneof(
    uniform,
    fc.tuple(fc.constantFrom(...near), fc.integer({ min: -3 * 60, max: 3 * 60 }), fc.integer({ min: 0, max: MINUTE - 1 }), fc.boolean()).map(([t, min, ms, exact]) => wallOf(t, zone) + min * MINUTE + (exact ? 0 : ms)),
  );
}

/**
 * A timestamp cell in `format`, read in `zone`. ISO cells carry an explicit
 * offset when `withOffset`; their instant is then free of the zone.
 */
export function timeCell(format: TimeFormat, zone: string, withOffset = false): fc.Arbitrary<Cell> {
  const missing = fc.constantFrom('', 'NA', 'null', '-', ' ').map((text): Cell => ({ text, expect: NaN, flag: 'none' }));
  let value: fc.Arbitrary<Cell>;
  if (format === 'unix-s' || format === 'unix-ms') {
    value = fc.tuple(fc.integer({ min: -2e12, max: 4e12 }), spelling).map(([t, sp]): Cell => {
      const tt = format === 'unix-s' && sp.precision !== 'ms' ? Math.floor(t / 1000) * 1000 : t;
      return { text: unixText(format, tt, sp), expect: tt, flag: 'none' };
    });
  } else if (format === 'iso' && withOffset) {
    value = fc.tuple(fc.integer({ min: Date.UTC(100, 0, 2), max: Date.UTC(9999, 11, 30) }), fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }), spelling).map(([t, off, sp]): Cell => {
      const precision = sp.precision === 'date' ? 'min' : sp.precision;
      const wall = truncate(t + off * MINUTE, precision);
      return { text: isoText(fieldsOf(wall), { ...sp, precision }, off), expect: wall - off * MINUTE, flag: 'none' };
    });
  } else {
    value = fc.tuple(wallTime(zone), spelling).map(([w, sp]): Cell => {
      const wall = truncate(w, format === 'excel-serial' && sp.precision !== 'date' ? 'ms' : sp.precision);
      const { utc, flag } = resolveWall(wall, zone);
      return { text: wallText(format, wall, sp), expect: utc, flag };
    });
  }
  return fc.oneof({ weight: 12, arbitrary: value }, { weight: 1, arbitrary: missing });
}

// ---------------------------------------------------------------- tables and their text

export type Kind = 'number' | 'integer' | 'text' | 'category' | 'boolean' | 'timestamp';

export interface Dialect {
  encoding: TextEncoding;
  bom: boolean;
  delimiter: Delimiter;
  /** The separator written for ' ' (runs of spaces or tabs). */
  wsSep: string;
  decimal: DecimalMark;
  thousands: ThousandsSeparator;
  eol: '\n' | '\r\n' | '\r';
  finalEol: boolean;
  quoteAll: boolean;
  hasHeader: boolean;
  preamble: string[];
  blanksAfterPreamble: number;
  timeFormat: TimeFormat;
  timeZone: string;
  /** ISO cells carry their own offset. */
  isoOffsets: boolean;
}

const TIME_FORMATS_ALL: TimeFormat[] = ['iso', 'dmy', 'mdy', 'ymd-slash', 'unix-s', 'unix-ms', 'excel-serial'];

/** A dialect the import reads; thousands separators differ from the decimal mark. */
export function dialect(opts: { encodings?: TextEncoding[]; delimiters?: Delimiter[] } = {}): fc.Arbitrary<Dialect> {
  return fc
    .record({
      encoding: fc.constantFrom<TextEncoding>(...(opts.encodings ?? ['utf-8', 'utf-8', 'utf-16le', 'utf-16be', 'windows-1252'])),
      bom: fc.boolean(),
      delimiter: fc.constantFrom<Delimiter>(...(opts.delimiters ?? [',', ';', '\t', '|', ' '])),
      wsSep: fc.constantFrom(' ', '\t', '   ', ' \t '),
      decimal: fc.constantFrom<DecimalMark>('.', ','),
      thousands: fc.constantFrom<ThousandsSeparator>('', '', '.', ',', ' ', "'"),
      eol: fc.constantFrom<Dialect['eol']>('\n', '\r\n', '\r'),
      finalEol: fc.boolean(),
      quoteAll: fc.boolean(),
      hasHeader: fc.boolean(),
      preamble: fc.oneof(
        { weight: 3, arbitrary: fc.constant<string[]>([]) },
        { weight: 1, arbitrary: fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).map((s) => s.replace(/["\r\n]/g, '')), { minLength: 1, maxLength: 6 }) },
        // Historian headers: key and value in fields of their own.
        { weight: 1, arbitrary: fc.array(fc.array(fc.constantFrom('Report', 'Plant A', 'Exported by PI', 'v3.2', '2024-01-01', 'Tags: 4', '', 'Interval=1m'), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 8 }).map((ls) => ls.map((l) => l.join(['', ',', ';', '\t', '|'][l.length % 5]!))) },
      ),
      blanksAfterPreamble: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
      timeFormat: fc.constantFrom(...TIME_FORMATS_ALL),
      timeZone: fc.constantFrom(...ZONES),
      isoOffsets: fc.boolean(),
    })
    .map((d): Dialect => ({
      ...d,
      // Windows-1252 has no byte order mark.
      bom: d.encoding === 'windows-1252' ? false : d.bom,
      thousands: d.thousands === d.decimal ? ('' as const) : d.thousands,
    }));
}

/** Breaks in a piece of text as the importer counts them: LF, CRLF and a lone CR. */
export function lineBreaks(s: string): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10) k++;
    else if (c === 13 && s.charCodeAt(i + 1) !== 10) k++;
  }
  return k;
}

function needsQuotes(field: string, d: Dialect, alone: boolean): boolean {
  if (d.quoteAll) return true;
  if (/["\r\n]/.test(field)) return true;
  if (field === '' && (alone || d.delimiter === ' ')) return true;
  if (d.delimiter === ' ' ? /[ \t]/.test(field) : field.includes(d.delimiter)) return true;
  // Spaces around a value are kept only inside quotes.
  return /^[ \t]|[ \t]$/.test(field);
}

export interface Written {
  text: string;
  /** Line (1-based) where each data row starts. */
  lines: number[];
  /** Whether each field of each row was written in quotes. */
  quoted: boolean[][];
  blankLines: number;
  /** skipLines for the settings. */
  skipLines: number;
}

/**
 * Writes a table in the dialect: the preamble, blank lines, the header (when
 * given), the rows (of any length), with a blank line before each row in
 * `blankBefore`.
 */
export function writeTable(d: Dialect, header: string[] | null, rows: string[][], blankBefore: ReadonlySet<number> = new Set()): Written {
  const sep = d.delimiter === ' ' ? d.wsSep : d.delimiter;
  const field = (f: string, alone: boolean) => (needsQuotes(f, d, alone) ? `"${f.replace(/"/g, '""')}"` : f);
  const parts: string[] = [];
  let line = 1;
  const push = (s: string) => {
    parts.push(s);
    line += lineBreaks(s);
  };
  for (const p of d.preamble) push(p + d.eol);
  let blankLines = 0;
  for (let i = 0; i < d.blanksAfterPreamble; i++) {
    push(d.eol);
    blankLines++;
  }
  if (header) push(header.map((h) => field(h, header.length === 1)).join(sep) + d.eol);
  const lines: number[] = [];
  const quoted: boolean[][] = [];
  rows.forEach((row, r) => {
    if (blankBefore.has(r)) {
      push(d.eol);
      blankLines++;
    }
    lines.push(line);
    quoted.push(row.map((f) => needsQuotes(f, d, row.length === 1)));
    const last = r === rows.length - 1;
    push(row.map((f) => field(f, row.length === 1)).join(sep) + (last && !d.finalEol ? '' : d.eol));
  });
  return { text: parts.join(''), lines, quoted, blankLines, skipLines: d.preamble.length };
}

/** The bytes of the text in the dialect's encoding, with its byte order mark. */
export function encodeText(text: string, encoding: TextEncoding, bom: boolean): Buffer {
  switch (encoding) {
    case 'utf-8':
      return Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]);
    case 'utf-16le':
      return Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, 'utf16le')]);
    case 'utf-16be': {
      const le = Buffer.from(text, 'utf16le');
      return Buffer.concat([bom ? Buffer.from([0xfe, 0xff]) : Buffer.alloc(0), Buffer.from(le).swap16()]);
    }
    case 'windows-1252':
      return encodeCp1252(text);
  }
}

export const TYPE_OF: Record<Kind, ColumnType> = { number: 'number', integer: 'integer', text: 'text', category: 'category', boolean: 'boolean', timestamp: 'timestamp' };

/** Cells of one kind of column in a dialect. */
export function cellOf(kind: Exclude<Kind, 'category'>, d: Dialect): fc.Arbitrary<Cell> {
  switch (kind) {
    case 'number':
      return numberCell(d.decimal, d.thousands);
    case 'integer':
      return numberCell(d.decimal, d.thousands, true);
    case 'boolean':
      return booleanCell;
    case 'timestamp':
      return timeCell(d.timeFormat, d.timeZone, d.isoOffsets);
    case 'text':
      return textCell(d.encoding);
  }
}

/** The `n` cells of one column; a category column repeats a few values, as one does. */
export function columnCells(kind: Kind, d: Dialect, n: number): fc.Arbitrary<Cell[]> {
  if (kind === 'category') return fc.array(textCell(d.encoding), { minLength: 1, maxLength: 4 }).chain((pool) => fc.array(fc.constantFrom(...pool), { minLength: n, maxLength: n }));
  return fc.array(cellOf(kind, d), { minLength: n, maxLength: n });
}

export interface Table {
  dialect: Dialect;
  headers: string[];
  kinds: Kind[];
  rows: Cell[][];
  /** Index of the time column, or null. */
  timeColumn: number | null;
  blankBefore: number[];
}

/** Header names: distinct, not blank, in the encoding's characters. */
function headerNames(n: number, d: Dialect): fc.Arbitrary<string[]> {
  if (!d.hasHeader) return fc.constant(Array.from({ length: n }, (_, j) => `Column ${j + 1}`));
  const name = fc.oneof({ weight: 3, arbitrary: textValue(d.encoding, 16) }, { weight: 1, arbitrary: fc.constantFrom('Temp [°C]', 'Flow (m3/h)', 'Druck [bar]', 'Zeit', 'Tag', 'Value') });
  return fc.uniqueArray(name.filter((s) => s.trim() !== ''), { minLength: n, maxLength: n, selector: (s) => s });
}

/** A whole table: dialect, columns of every kind, rows, blank lines and the time column. */
export function table(opts: { minRows?: number; maxRows?: number; maxCols?: number; kinds?: Kind[]; dialect?: fc.Arbitrary<Dialect> } = {}): fc.Arbitrary<Table> {
  const kinds = opts.kinds ?? (['number', 'integer', 'text', 'category', 'boolean', 'timestamp'] as Kind[]);
  return fc
    .record({
      d: opts.dialect ?? dialect(),
      ks: fc.array(fc.constantFrom(...kinds), { minLength: 1, maxLength: opts.maxCols ?? 6 }),
      n: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: opts.minRows ?? 1, max: Math.min(opts.maxRows ?? 40, 12) }) }, { weight: 1, arbitrary: fc.integer({ min: opts.minRows ?? 1, max: opts.maxRows ?? 40 }) }),
    })
    .chain(({ d, ks, n }) =>
      fc
        .record({
          headers: headerNames(ks.length, d),
          columns: fc.tuple(...ks.map((k) => columnCells(k, d, n))),
          timePick: fc.nat(),
          useTime: fc.boolean(),
          blankBefore: fc.array(fc.nat(), { maxLength: 3 }),
        })
        .map(({ headers, columns, timePick, useTime, blankBefore }): Table => {
          const times = ks.map((k, j) => (k === 'timestamp' ? j : -1)).filter((j) => j >= 0);
          const timeColumn = useTime && times.length ? times[timePick % times.length]! : null;
          const rows = Array.from({ length: n }, (_, r) => columns.map((c) => c[r]!));
          return { dialect: d, headers, kinds: ks, rows, timeColumn, blankBefore: [...new Set(blankBefore.map((b) => b % n))] };
        }),
    );
}
