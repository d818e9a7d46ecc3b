/**
 * Timestamp parsing for plant data exports: text in one of TIME_FORMATS to
 * epoch milliseconds UTC.
 *
 * An import may parse a million values, so the text formats are read by
 * character codes (no regex, no Date, no substring per value), and the local
 * time zone is resolved through a per-zone cache: Intl is asked about one
 * instant per new calendar day, plus a short binary search at each DST
 * transition, instead of once per value.
 */
import type { TimeFormat } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';

export interface TimeFormatGuess {
  format: TimeFormat;
  /** Sentence for the UI, e.g. "Day first (dd.mm.yyyy): 31.12.2024 proves the day comes first". */
  explanation: string;
  /** Share of the non-empty samples that parse in this format (0..1). */
  matched: number;
}

export const enum DstFlag {
  None = 0,
  Repeated = 1,
  Gap = 2,
}

export interface TimeParser {
  /** Epoch ms UTC, or NaN when the text is not a valid timestamp in this format (e.g. 31.02.2024, 25:00, garbage). */
  parse(raw: string): number;
  /**
   * Set by the last parse(): whether the local wall time fell in a DST repeat
   * (ambiguous: we take the FIRST occurrence, i.e. the earlier UTC instant, and
   * flag it) or in a DST gap (nonexistent: we shift forward by the gap, as most
   * historians do, and flag it). Always None for values with an explicit
   * offset/Z and for unix-s/unix-ms. Excel serials are local wall time, so they
   * can be flagged.
   */
  lastFlag: DstFlag;
}

const SECOND_MS = 1000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Excel serial of 1970-01-01 (Excel counts days from 1899-12-30). */
const EXCEL_UNIX_EPOCH = 25569;
/** Serial 60 is Excel's fictitious 1900-02-29; serials from 61 on map to real dates. */
const EXCEL_FIRST_REAL = 61;
/** Serial of 9999-12-31 + 1: Excel's own upper limit. */
const EXCEL_END = 2958466;
/** The furthest a time can be from 1970 and still be a date (JavaScript's Date range); unix times past it are not times. */
const MAX_TIME = 8.64e15;

const C_0 = 48;
const C_SPACE = 32;
const C_PLUS = 43;
const C_COMMA = 44;
const C_MINUS = 45;
const C_DOT = 46;
const C_SLASH = 47;
const C_COLON = 58;

/** 10^k: a fraction of k digits is value * 1000 / 10^k ms (divide, not multiply by 0.001: exact rounding). */
const POW10 = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

// ---------------------------------------------------------------------------
// Calendar arithmetic

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). Pure integer arithmetic: several times cheaper than
 * Date.UTC and has no two-digit-year quirk.
 */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = (((153 * mp + 2) / 5) | 0) + d - 1;
  const doe = yoe * 365 + ((yoe / 4) | 0) - ((yoe / 100) | 0) + doy;
  return era * 146097 + doe - 719468;
}

export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

// ---------------------------------------------------------------------------
// Time zones

/**
 * What a local calendar day needs to know about its zone: the offset before
 * and after the one transition near it (equal, with `at` = Infinity, on the
 * ~363 days a year without one).
 */
interface ZoneWindow {
  before: number;
  after: number;
  /** UTC instant of the transition, or Infinity. */
  at: number;
}

/**
 * Per-zone cache. Correct under one assumption: a zone changes its offset at
 * most once within any three days, which holds for every zone in the tz
 * database since 1970 as far as plant data is concerned.
 */
class ZoneCache {
  /** Flag of the last toUtc() call (read right after it; JS is single-threaded). */
  flag: DstFlag = DstFlag.None;
  private readonly fmt: Intl.DateTimeFormat;
  private readonly fixedZero: boolean;
  /** Offset (ms) at the start of a UTC day, by day number. */
  private readonly dayOffsets = new Map<number, number>();
  /** Window by local day number. */
  private readonly windows = new Map<number, ZoneWindow>();
  /** Transitions found so far, so neighbouring days do not repeat the search. */
  private readonly transitions: ZoneWindow[] = [];
  private lastDay = NaN;
  private lastWindow: ZoneWindow = { before: 0, after: 0, at: Infinity };

  constructor(fmt: Intl.DateTimeFormat, canonical: string) {
    this.fmt = fmt;
    this.fixedZero = canonical === 'UTC' || canonical === 'Etc/UTC' || canonical === 'GMT' || canonical === 'Etc/GMT';
  }

  /** Local wall time (as if it were UTC) to the UTC instant; sets `flag`. */
  toUtc(local: number): number {
    this.flag = DstFlag.None;
    if (this.fixedZero) return local;
    const day = Math.floor(local / DAY_MS);
    let w = this.lastWindow;
    if (day !== this.lastDay) {
      w = this.windowFor(day);
      this.lastDay = day;
      this.lastWindow = w;
    }
    if (w.at === Infinity) return local - w.before;
    // A wall time is real under an offset when the instant it gives lies on
    // that offset's side of the transition.
    const t1 = local - w.before;
    const t2 = local - w.after;
    const ok1 = t1 < w.at;
    const ok2 = t2 >= w.at;
    if (ok1 && ok2) {
      this.flag = DstFlag.Repeated;
      return t1 < t2 ? t1 : t2;
    }
    if (ok1) return t1;
    if (ok2) return t2;
    // In the gap: the offset from before the jump moves the wall time forward
    // by the gap's length (02:30 CET-gap -> 03:30 CEST).
    this.flag = DstFlag.Gap;
    return t1;
  }

  private windowFor(localDay: number): ZoneWindow {
    const cached = this.windows.get(localDay);
    if (cached) return cached;
    // Offsets lie within -12h..+14h, so every instant a wall time of this day
    // can stand for lies in [day - 1, day + 2) in UTC days.
    const a = (localDay - 1) * DAY_MS;
    const b = (localDay + 2) * DAY_MS;
    const oa = this.dayOffset(localDay - 1);
    const ob = this.dayOffset(localDay + 2);
    let w: ZoneWindow;
    if (oa === ob) {
      w = { before: oa, after: oa, at: Infinity };
    } else {
      w = this.transitions.find((t) => t.at > a && t.at <= b && t.before === oa && t.after === ob) ?? this.findTransition(a, b, oa, ob);
    }
    this.windows.set(localDay, w);
    return w;
  }

  /** Binary search, to the second, for the instant the offset changes from oa. */
  private findTransition(a: number, b: number, oa: number, ob: number): ZoneWindow {
    let lo = a / SECOND_MS;
    let hi = b / SECOND_MS;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offsetAt(mid * SECOND_MS) === oa) lo = mid;
      else hi = mid;
    }
    const w = { before: oa, after: ob, at: hi * SECOND_MS };
    this.transitions.push(w);
    return w;
  }

  private dayOffset(utcDay: number): number {
    let o = this.dayOffsets.get(utcDay);
    if (o === undefined) {
      o = this.offsetAt(utcDay * DAY_MS);
      this.dayOffsets.set(utcDay, o);
    }
    return o;
  }

  /** Offset (local - UTC, ms) at a UTC instant, from Intl. The slow path. */
  private offsetAt(t: number): number {
    let y = 0;
    let mo = 0;
    let d = 0;
    let h = 0;
    let mi = 0;
    let s = 0;
    for (const p of this.fmt.formatToParts(t)) {
      switch (p.type) {
        case 'year':
          y = Number(p.value);
          break;
        case 'month':
          mo = Number(p.value);
          break;
        case 'day':
          d = Number(p.value);
          break;
        case 'hour':
          h = Number(p.value);
          break;
        case 'minute':
          mi = Number(p.value);
          break;
        case 'second':
          s = Number(p.value);
          break;
        default:
          break;
      }
    }
    const wall = daysFromCivil(y, mo, d) * DAY_MS + h * HOUR_MS + mi * MINUTE_MS + s * SECOND_MS;
    return wall - Math.floor(t / SECOND_MS) * SECOND_MS;
  }
}

const zoneCaches = new Map<string, ZoneCache>();

/** The cache for a zone name; throws AppError('bad_input') for zones Intl does not know. */
function zoneCache(timeZone: string): ZoneCache {
  const hit = zoneCaches.get(timeZone);
  if (hit) return hit;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new AppError(
      'bad_input',
      `"${timeZone}" is not a time zone this computer knows. Use a name like "Europe/Berlin", "America/New_York" or "UTC".`,
      'timeZone',
    );
  }
  // Aliases ('utc', 'Europe/berlin') share the canonical zone's cache.
  const canonical = fmt.resolvedOptions().timeZone;
  let cache = zoneCaches.get(canonical);
  if (!cache) {
    cache = new ZoneCache(fmt, canonical);
    zoneCaches.set(canonical, cache);
  }
  zoneCaches.set(timeZone, cache);
  return cache;
}

/** Convenience: local wall-clock fields (month 1-12) in a zone -> epoch ms, with the DST flag. */
export function zonedToUtc(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
  timeZone: string,
): { utc: number; flag: DstFlag } {
  const zone = zoneCache(timeZone);
  const local = daysFromCivil(y, mo, d) * DAY_MS + h * HOUR_MS + mi * MINUTE_MS + s * SECOND_MS + ms;
  const utc = zone.toUtc(local);
  return { utc, flag: zone.flag };
}

// ---------------------------------------------------------------------------
// Reading text by character codes

/**
 * Fields of the value being read. Module scope instead of a returned object so
 * the hot path allocates nothing; safe because parsing is synchronous.
 */
let cur = 0; // cursor into the string
let fY = 0;
let fA = 0; // month for year-first readers; the first field in text order for readDayMonth
let fB = 0; // day for year-first readers; the second field for readDayMonth
let fSep = 0; // readDayMonth's date separator
let fH = 0;
let fMi = 0;
let fS = 0;
let fMs = 0;
let fAmPm = 0; // 0 none, 1 AM, 2 PM
/** Explicit UTC offset in minutes, or NaN when the text has none. */
let fOffset = NaN;
/** The month localMs() converted last, and its first day's number. */
let monthY = 1970;
let monthM = 1;
let monthDays = 0;

/** Reads min..max digits at the cursor; -1 (cursor unmoved) when fewer than min. */
function digits(s: string, min: number, max: number): number {
  const n = s.length;
  let i = cur;
  let v = 0;
  let k = 0;
  while (i < n && k < max) {
    const c = s.charCodeAt(i) - C_0;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
    i++;
    k++;
  }
  if (k < min) return -1;
  cur = i;
  return v;
}

function skipSpaces(s: string): void {
  while (cur < s.length && s.charCodeAt(cur) === C_SPACE) cur++;
}

/** Lower-cases an ASCII letter code. */
function lower(c: number): number {
  return c | 0x20;
}

/**
 * Reads `h:mm[:ss[.frac]]` (hour of one or two digits) and, when allowed, a
 * trailing AM/PM ("am", "PM", "a.m."). Fields are range-checked later.
 */
function readClock(s: string, allowAmPm: boolean): boolean {
  fH = digits(s, 1, 2);
  if (fH < 0 || s.charCodeAt(cur) !== C_COLON) return false;
  cur++;
  fMi = digits(s, 2, 2);
  if (fMi < 0) return false;
  if (s.charCodeAt(cur) === C_COLON) {
    cur++;
    fS = digits(s, 2, 2);
    if (fS < 0) return false;
    const c = s.charCodeAt(cur);
    if (c === C_DOT || c === C_COMMA) {
      cur++;
      const start = cur;
      const frac = digits(s, 1, 9);
      if (frac < 0) return false;
      const k = cur - start;
      fMs = k <= 3 ? frac * POW10[3 - k]! : frac / POW10[k - 3]!;
      // Nanosecond exports may carry more digits than a double can use.
      while (cur < s.length && s.charCodeAt(cur) - C_0 >= 0 && s.charCodeAt(cur) - C_0 <= 9) cur++;
    }
  }
  if (allowAmPm && cur < s.length) {
    const save = cur;
    skipSpaces(s);
    const a = lower(s.charCodeAt(cur));
    if (a === 97 /* a */ || a === 112 /* p */) {
      let i = cur + 1;
      if (s.charCodeAt(i) === C_DOT) i++;
      if (lower(s.charCodeAt(i)) === 109 /* m */) {
        i++;
        if (s.charCodeAt(i) === C_DOT) i++;
        fAmPm = a === 97 ? 1 : 2;
        cur = i;
      } else {
        cur = save;
      }
    } else {
      cur = save;
    }
  }
  return true;
}

function resetFields(): void {
  cur = 0;
  fH = 0;
  fMi = 0;
  fS = 0;
  fMs = 0;
  fAmPm = 0;
  fOffset = NaN;
}

/** Reads an ISO offset at the cursor: Z, +01:00, -0500, +01, or " UTC". */
function readOffset(s: string): boolean {
  const n = s.length;
  if (cur < n && s.charCodeAt(cur) === C_SPACE) skipSpaces(s);
  const c = s.charCodeAt(cur);
  if (lower(c) === 122 /* z */) {
    cur++;
    fOffset = 0;
    return true;
  }
  if (c === C_PLUS || c === C_MINUS) {
    cur++;
    const oh = digits(s, 2, 2);
    if (oh < 0 || oh > 23) return false;
    let om = 0;
    if (s.charCodeAt(cur) === C_COLON) {
      cur++;
      om = digits(s, 2, 2);
      if (om < 0) return false;
    } else if (cur < n) {
      om = digits(s, 2, 2);
      if (om < 0) return false;
    }
    if (om > 59) return false;
    fOffset = (c === C_MINUS ? -1 : 1) * (oh * 60 + om);
    return true;
  }
  // "2024-03-01 12:00:00 UTC" / "GMT", as some historians write it.
  if (n - cur === 3) {
    const w = s.slice(cur).toUpperCase();
    if (w === 'UTC' || w === 'GMT') {
      cur = n;
      fOffset = 0;
      return true;
    }
  }
  return false;
}

/** yyyy-mm-dd[(T| )hh:mm[:ss[.f]]][Z|±hh[:mm]]: fY, fA = month, fB = day. */
function readIso(s: string): boolean {
  resetFields();
  fY = digits(s, 4, 4);
  if (fY < 0 || s.charCodeAt(cur) !== C_MINUS) return false;
  cur++;
  fA = digits(s, 1, 2);
  if (fA < 0 || s.charCodeAt(cur) !== C_MINUS) return false;
  cur++;
  fB = digits(s, 1, 2);
  if (fB < 0) return false;
  const n = s.length;
  if (cur === n) return true;
  const c = s.charCodeAt(cur);
  if (c === C_SPACE) skipSpaces(s);
  else if (lower(c) === 116 /* t */) cur++;
  else return false;
  if (!readClock(s, false)) return false;
  if (cur < n && !readOffset(s)) return false;
  return cur === n;
}

/** yyyy/mm/dd[ hh:mm[:ss[.f]]]: fY, fA = month, fB = day. */
function readYmdSlash(s: string): boolean {
  resetFields();
  fY = digits(s, 4, 4);
  if (fY < 0 || s.charCodeAt(cur) !== C_SLASH) return false;
  cur++;
  fA = digits(s, 1, 2);
  if (fA < 0 || s.charCodeAt(cur) !== C_SLASH) return false;
  cur++;
  fB = digits(s, 1, 2);
  if (fB < 0) return false;
  return readTimeTail(s);
}

/**
 * a<sep>b<sep>yyyy[ time][ AM/PM] with sep one of . / - (the same both
 * times): fA and fB are the first two fields, in text order; the caller
 * decides which is the day.
 */
function readDayMonth(s: string): boolean {
  resetFields();
  fA = digits(s, 1, 2);
  if (fA < 0) return false;
  fSep = s.charCodeAt(cur);
  if (fSep !== C_DOT && fSep !== C_SLASH && fSep !== C_MINUS) return false;
  cur++;
  fB = digits(s, 1, 2);
  if (fB < 0 || s.charCodeAt(cur) !== fSep) return false;
  cur++;
  fY = digits(s, 4, 4);
  if (fY < 0) return false;
  return readTimeTail(s);
}

/** Optional ", " / " " / "T" and a clock with AM/PM, up to the end of the text. */
function readTimeTail(s: string): boolean {
  const n = s.length;
  if (cur === n) return true;
  let c = s.charCodeAt(cur);
  if (c === C_COMMA) {
    cur++;
    c = s.charCodeAt(cur);
  }
  if (c === C_SPACE) skipSpaces(s);
  else if (lower(c) === 116 /* t */) cur++;
  else return false;
  if (!readClock(s, true)) return false;
  return cur === n;
}

/**
 * Checks the fields read and turns them into local wall-time ms (as if the
 * wall time were UTC), or NaN when a field is out of range.
 */
function localMs(y: number, mo: number, d: number): number {
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return NaN;
  let h = fH;
  if (fAmPm !== 0) {
    if (h < 1 || h > 12) return NaN;
    if (h === 12) h = 0;
    if (fAmPm === 2) h += 12;
  }
  if (h > 23 || fMi > 59 || fS > 59) return NaN;
  // Rows of one export mostly share the month: skip the calendar arithmetic then.
  if (y !== monthY || mo !== monthM) {
    monthY = y;
    monthM = mo;
    monthDays = daysFromCivil(y, mo, 1);
  }
  return (monthDays + d - 1) * DAY_MS + h * HOUR_MS + fMi * MINUTE_MS + fS * SECOND_MS + fMs;
}


/**
 * Number() for plain decimals only: an optional sign, digits, one '.' or ','
 * and an exponent. Number() alone would also take '', '0x1F' and 'Infinity'.
 */
function plainNumber(s: string): number {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === C_PLUS || c === C_MINUS) i++;
  let nd = 0;
  let comma = -1;
  let mark = false;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c >= C_0 && c <= C_0 + 9) nd++;
    else if ((c === C_DOT || c === C_COMMA) && !mark) {
      mark = true;
      if (c === C_COMMA) comma = i;
    } else break;
  }
  if (nd === 0) return NaN;
  if (i < n && lower(s.charCodeAt(i)) === 101 /* e */) {
    i++;
    c = s.charCodeAt(i);
    if (c === C_PLUS || c === C_MINUS) i++;
    let ne = 0;
    while (i < n && s.charCodeAt(i) >= C_0 && s.charCodeAt(i) <= C_0 + 9) {
      i++;
      ne++;
    }
    if (ne === 0) return NaN;
  }
  if (i !== n) return NaN;
  // A decimal comma ("45352,5" from a German Excel) is the only other mark.
  return Number(comma < 0 ? s : s.slice(0, comma) + '.' + s.slice(comma + 1));
}

// ---------------------------------------------------------------------------
// Parsers

class FormatParser implements TimeParser {
  lastFlag: DstFlag = DstFlag.None;
  private readonly format: TimeFormat;
  private readonly zone: ZoneCache;

  constructor(format: TimeFormat, zone: ZoneCache) {
    this.format = format;
    this.zone = zone;
  }

  parse(raw: string): number {
    this.lastFlag = DstFlag.None;
    let local: number;
    switch (this.format) {
      case 'iso':
        if (!readIso(raw)) return NaN;
        local = localMs(fY, fA, fB);
        break;
      case 'ymd-slash':
        if (!readYmdSlash(raw)) return NaN;
        local = localMs(fY, fA, fB);
        break;
      case 'dmy':
        if (!readDayMonth(raw)) return NaN;
        local = localMs(fY, fB, fA);
        break;
      case 'mdy':
        if (!readDayMonth(raw)) return NaN;
        local = localMs(fY, fA, fB);
        break;
      case 'unix-s': {
        // Rounded to the microsecond: 1709294400.123 * 1000 is not exactly 1709294400123.
        const t = Math.round(plainNumber(raw) * 1e6) / 1e3;
        return Math.abs(t) <= MAX_TIME ? t : NaN;
      }
      case 'unix-ms': {
        const t = plainNumber(raw);
        return Math.abs(t) <= MAX_TIME ? t : NaN;
      }
      case 'excel-serial': {
        const v = plainNumber(raw);
        if (!(v >= EXCEL_FIRST_REAL && v < EXCEL_END)) return NaN;
        const days = Math.floor(v);
        // Excel stores 12:00:01 as 0.500011574..., so round the time of day to the ms.
        local = (days - EXCEL_UNIX_EPOCH) * DAY_MS + Math.round((v - days) * DAY_MS);
        break;
      }
    }
    if (local !== local) return NaN;
    if (fOffset === fOffset && this.format === 'iso') return local - fOffset * MINUTE_MS;
    const utc = this.zone.toUtc(local);
    this.lastFlag = this.zone.flag;
    return utc;
  }
}

/** timeZone: an IANA name like 'Europe/Berlin' or 'UTC'. Throws AppError('bad_input') naming the zone when Intl does not know it. */
export function createTimeParser(format: TimeFormat, timeZone: string): TimeParser {
  return new FormatParser(format, zoneCache(timeZone));
}

// ---------------------------------------------------------------------------
// Guessing

/** At least this share of the non-empty samples must parse for a column to count as time. */
const MIN_MATCH = 0.9;

const NUMERIC_RANGES: { format: TimeFormat; min: number; max: number }[] = [
  { format: 'unix-s', min: 1e9, max: 4e9 }, // 2001-09-09 .. 2096-10-02
  { format: 'unix-ms', min: 1e12, max: 4e12 },
  { format: 'excel-serial', min: 20000, max: 80000 }, // 1954-10-03 .. 2119-01-10
];

function share(samples: string[], parser: TimeParser): number {
  if (samples.length === 0) return 0;
  let ok = 0;
  for (const s of samples) {
    const t = parser.parse(s);
    if (t === t) ok++; // not NaN
  }
  return ok / samples.length;
}

function utcText(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function guessDayMonth(samples: string[]): TimeFormatGuess | null {
  let structural = 0;
  let firstBig: string | null = null;
  let secondBig: string | null = null;
  let ampm = false;
  const seps = new Set<number>();
  for (const s of samples) {
    if (!readDayMonth(s)) continue;
    if (fA < 1 || fA > 31 || fB < 1 || fB > 31) continue;
    structural++;
    seps.add(fSep);
    if (fAmPm !== 0) ampm = true;
    if (fA > 12 && firstBig === null) firstBig = s;
    if (fB > 12 && secondBig === null) secondBig = s;
  }
  if (samples.length === 0 || structural / samples.length < MIN_MATCH) return null;

  const sep = seps.size === 1 ? String.fromCharCode([...seps][0]!) : '.';
  const dmyPattern = `dd${sep}mm${sep}yyyy`;
  const mdyPattern = `mm${sep}dd${sep}yyyy`;
  const dmy = share(samples, createTimeParser('dmy', 'UTC'));
  const mdy = share(samples, createTimeParser('mdy', 'UTC'));

  if (firstBig !== null && secondBig !== null) {
    // Both orders are contradicted somewhere: the column is mixed or partly garbage.
    const dayFirst = dmy >= mdy;
    const proof = dayFirst ? firstBig : secondBig;
    return {
      format: dayFirst ? 'dmy' : 'mdy',
      explanation:
        `${dayFirst ? 'Day' : 'Month'} first (${dayFirst ? dmyPattern : mdyPattern}): ${proof} fits only this order, ` +
        `but ${dayFirst ? secondBig : firstBig} fits only the other; most values fit ${dayFirst ? 'day' : 'month'} first. Check the column.`,
      matched: dayFirst ? dmy : mdy,
    };
  }
  if (firstBig !== null) {
    return { format: 'dmy', explanation: `Day first (${dmyPattern}): ${firstBig} proves the day comes first`, matched: dmy };
  }
  if (secondBig !== null) {
    return { format: 'mdy', explanation: `Month first (${mdyPattern}): ${secondBig} proves the month comes first`, matched: mdy };
  }
  // No value settles it: fall back on conventions.
  const why = seps.has(C_DOT)
    ? 'dates written with dots are usually day first'
    : ampm
      ? 'AM/PM times usually come with month-first (US) dates'
      : 'day first is the more common order';
  const dayFirst = seps.has(C_DOT) || !ampm;
  return {
    format: dayFirst ? 'dmy' : 'mdy',
    explanation:
      `${dayFirst ? 'Day' : 'Month'} first (${dayFirst ? dmyPattern : mdyPattern}), assumed: the order is ambiguous because ` +
      `no value has a day above 12, and ${why}. Check a date you know.`,
    matched: dayFirst ? dmy : mdy,
  };
}

/**
 * Looks at sample values (strings from one column) and picks the format; null
 * when it is not a timestamp column (less than 90% of non-empty samples
 * parse). Day/month order is decided from the data: any first field > 12
 * means day-first; any second field > 12 means month-first; if neither,
 * day-first for '.' separators, month-first when AM/PM is present, else
 * day-first, and the explanation says it was ambiguous. Numeric formats
 * (unix-s, unix-ms, excel-serial) only with opts.allowNumeric, which the
 * caller sets when the header looks like time.
 */
export function guessTimeFormat(samples: string[], opts?: { allowNumeric?: boolean }): TimeFormatGuess | null {
  const values = samples.map((s) => s.trim()).filter((s) => s !== '');
  if (values.length === 0) return null;

  const iso = createTimeParser('iso', 'UTC');
  const isoShare = share(values, iso);
  if (isoShare >= MIN_MATCH) {
    let withOffset = 0;
    for (const v of values) if (readIso(v) && fOffset === fOffset) withOffset++;
    const example = values.find((v) => !Number.isNaN(iso.parse(v)))!;
    const offsets =
      withOffset === 0
        ? ''
        : withOffset === values.length
          ? '; every value carries its own UTC offset, so the time zone setting does not change them'
          : '; some values carry their own UTC offset, the others are read in the chosen time zone';
    return { format: 'iso', explanation: `ISO 8601 (yyyy-mm-dd hh:mm:ss): ${example} is year first${offsets}`, matched: isoShare };
  }

  const ymd = createTimeParser('ymd-slash', 'UTC');
  const ymdShare = share(values, ymd);
  if (ymdShare >= MIN_MATCH) {
    const example = values.find((v) => !Number.isNaN(ymd.parse(v)))!;
    return { format: 'ymd-slash', explanation: `Year first with slashes (yyyy/mm/dd): ${example}`, matched: ymdShare };
  }

  const dm = guessDayMonth(values);
  if (dm && dm.matched >= MIN_MATCH) return dm;

  if (opts?.allowNumeric) {
    const nums = values.map(plainNumber);
    for (const r of NUMERIC_RANGES) {
      let inRange = 0;
      for (const v of nums) if (v >= r.min && v <= r.max) inRange++;
      const matched = inRange / values.length;
      if (matched < MIN_MATCH) continue;
      const example = values[nums.findIndex((v) => v >= r.min && v <= r.max)]!;
      const parsed = createTimeParser(r.format, 'UTC').parse(example);
      const explanation =
        r.format === 'unix-s'
          ? `Unix time in seconds: ${example} is ${utcText(parsed)} UTC`
          : r.format === 'unix-ms'
            ? `Unix time in milliseconds: ${example} is ${utcText(parsed)} UTC`
            : `Excel serial day numbers: ${example} is ${utcText(parsed)} local time`;
      return { format: r.format, explanation, matched };
    }
  }
  return null;
}

const localFormats = new Map<string, Intl.DateTimeFormat>();

/** A time as a plant export writes it: wall-clock time in the zone ("2014-01-07 02:00:00", milliseconds when there are any). */
export function localText(t: number, timeZone: string): string {
  let f = localFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    localFormats.set(timeZone, f);
  }
  const ms = ((t % 1000) + 1000) % 1000;
  return f.format(t) + (ms ? `.${String(ms).padStart(3, '0')}` : '');
}
