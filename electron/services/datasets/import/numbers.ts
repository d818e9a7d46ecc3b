/**
 * Number parsing straight from the bytes of a text file, so the reader never
 * builds a string for a numeric field.
 *
 * The result is bit-identical to `Number()` on the same text (with the decimal
 * mark turned into '.' and the thousands separators removed): mantissas below
 * 2^53 are accumulated exactly and scaled by one exact power of ten, a single
 * correctly rounded operation (Clinger's fast path); anything else goes through
 * `Number()` itself.
 */

const MAX_EXACT = 9007199254740991; // 2^53 - 1
const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i < 23; i++, p *= 10) POW10[i] = p;

const SPACE = 0x20;
const TAB = 0x09;
const MINUS = 0x2d;
const PLUS = 0x2b;
const ZERO = 0x30;

/** Byte codes of the decimal marks. */
export const DECIMAL_POINT = 0x2e;
export const DECIMAL_COMMA = 0x2c;

/**
 * Parses `buf[start, end)` as a decimal number, or returns NaN.
 *
 * Accepts leading/trailing spaces and tabs, a sign, digits with optional
 * thousands separators (groups of exactly three after the first group of one to
 * three digits, only before the decimal mark), the decimal mark, and an
 * exponent (`1.5e-3`, `1,5E+03`). Rejects everything else (NaN, Infinity, hex,
 * units, empty).
 *
 * @param decimal 46 for '.', 44 for ','
 * @param thousands byte of the thousands separator, 0 for none
 */
export function parseNumberBytes(buf: Uint8Array, start: number, end: number, decimal: number, thousands: number): number {
  while (start < end && (buf[start] === SPACE || buf[start] === TAB)) start++;
  while (end > start && (buf[end - 1] === SPACE || buf[end - 1] === TAB)) end--;
  if (start >= end) return NaN;

  let p = start;
  let neg = false;
  let c = buf[p]!;
  if (c === MINUS) {
    neg = true;
    p++;
  } else if (c === PLUS) {
    p++;
  }

  let mant = 0;
  let intDigits = 0;
  let group = -1; // digits since the last thousands separator, -1 before the first
  for (; p < end; p++) {
    c = buf[p]!;
    const d = c - ZERO;
    if (d >= 0 && d <= 9) {
      mant = mant * 10 + d;
      intDigits++;
      if (group >= 0) group++;
    } else if (c === thousands && thousands !== 0) {
      if (group === -1 ? intDigits < 1 || intDigits > 3 : group !== 3) return NaN;
      group = 0;
    } else {
      break;
    }
  }
  if (group !== -1 && group !== 3) return NaN;
  let digits = intDigits;

  let fracDigits = 0;
  if (p < end && buf[p] === decimal) {
    p++;
    for (; p < end; p++) {
      const d = buf[p]! - ZERO;
      if (d < 0 || d > 9) break;
      mant = mant * 10 + d;
      fracDigits++;
    }
    digits += fracDigits;
  }
  if (digits === 0) return NaN;

  let exp = 0;
  if (p < end && ((c = buf[p]!) === 0x65 || c === 0x45)) {
    p++;
    let expNeg = false;
    if (p < end && (buf[p] === MINUS || buf[p] === PLUS)) {
      expNeg = buf[p] === MINUS;
      p++;
    }
    const expStart = p;
    for (; p < end; p++) {
      const d = buf[p]! - ZERO;
      if (d < 0 || d > 9) break;
      if (exp < 100000) exp = exp * 10 + d;
    }
    if (p === expStart) return NaN;
    if (expNeg) exp = -exp;
  }
  if (p !== end) return NaN;

  if (mant <= MAX_EXACT) {
    const scale = exp - fracDigits;
    let v: number;
    if (mant === 0) v = 0;
    else if (scale === 0) v = mant;
    else if (scale < 0 && scale >= -22) v = mant / POW10[-scale]!;
    else if (scale > 0 && scale <= 22) v = mant * POW10[scale]!;
    else return slowParse(buf, start, end, decimal, thousands);
    return neg ? -v : v;
  }
  return slowParse(buf, start, end, decimal, thousands);
}

/**
 * The reader's hot path: parses a number at `pos` and finds the end of its
 * field in the same pass. The field ends at `delim`, LF or CR (with
 * `whitespace`: at a space, tab, LF or CR), or at `limit`. Stores the end in
 * `end[0]` and returns the value, or NaN when the field is empty or not a
 * number (the caller looks at the text then). Same rules and result as
 * `parseNumberBytes` on the field.
 */
export function scanNumber(
  buf: Uint8Array,
  pos: number,
  limit: number,
  delim: number,
  decimal: number,
  thousands: number,
  whitespace: boolean,
  end: Int32Array,
): number {
  // Fast path for the usual shape: [-]digits[.digits] right up to the
  // terminator, at most 15 digits (so the mantissa is exact). Anything else
  // (blanks, '+', separators, exponents, long mantissas, text) takes the full
  // path from the start.
  {
    let p = pos;
    let c = p < limit ? buf[p]! : -1;
    const neg = c === MINUS;
    if (neg) c = ++p < limit ? buf[p]! : -1;
    let mant = 0;
    let digits = 0;
    while (c >= ZERO && c <= 0x39) {
      mant = mant * 10 + (c - ZERO);
      digits++;
      c = ++p < limit ? buf[p]! : -1;
    }
    let frac = 0;
    // An unquoted delimiter always ends the field, also where it doubles as decimal mark.
    if (c === decimal && c !== delim) {
      c = ++p < limit ? buf[p]! : -1;
      while (c >= ZERO && c <= 0x39) {
        mant = mant * 10 + (c - ZERO);
        frac++;
        c = ++p < limit ? buf[p]! : -1;
      }
    }
    const total = digits + frac;
    if (
      total > 0 &&
      total <= 15 &&
      (c === delim || c === 10 || c === 13 || c === -1 || (whitespace && (c === SPACE || c === TAB)))
    ) {
      end[0] = p;
      const v = frac === 0 ? mant : mant / POW10[frac]!;
      return neg ? -v : v;
    }
  }
  return scanNumberFull(buf, pos, limit, delim, decimal, thousands, whitespace, end);
}

/** `scanNumber` for every shape; kept apart so the short fast path can be inlined into the reader's loop. */
function scanNumberFull(
  buf: Uint8Array,
  pos: number,
  limit: number,
  delim: number,
  decimal: number,
  thousands: number,
  whitespace: boolean,
  end: Int32Array,
): number {
  const start = pos;
  // Leading blanks (a tab is a blank only when it is not the delimiter).
  if (!whitespace) while (pos < limit && (buf[pos] === SPACE || (buf[pos] === TAB && delim !== TAB))) pos++;
  if (pos >= limit) {
    end[0] = pos;
    return NaN;
  }
  const numStart = pos;
  let neg = false;
  let c = buf[pos]!;
  if (c === MINUS) {
    neg = true;
    pos++;
  } else if (c === PLUS) {
    pos++;
  }
  let mant = 0;
  let intDigits = 0;
  let group = -1;
  let ok = true;
  for (; pos < limit; pos++) {
    c = buf[pos]!;
    const d = c - ZERO;
    if (d >= 0 && d <= 9) {
      mant = mant * 10 + d;
      intDigits++;
      if (group >= 0) group++;
    } else if (c === thousands && thousands !== 0 && !isTerminator(c, delim, whitespace)) {
      if (group === -1 ? intDigits < 1 || intDigits > 3 : group !== 3) ok = false;
      group = 0;
    } else {
      break;
    }
  }
  if (group !== -1 && group !== 3) ok = false;
  let fracDigits = 0;
  if (pos < limit && buf[pos] === decimal && !isTerminator(decimal, delim, whitespace)) {
    pos++;
    for (; pos < limit; pos++) {
      const d = buf[pos]! - ZERO;
      if (d < 0 || d > 9) break;
      mant = mant * 10 + d;
      fracDigits++;
    }
  }
  if (intDigits + fracDigits === 0) ok = false;
  let exp = 0;
  if (pos < limit && ((c = buf[pos]!) === 0x65 || c === 0x45)) {
    pos++;
    let expNeg = false;
    if (pos < limit && (buf[pos] === MINUS || buf[pos] === PLUS)) {
      expNeg = buf[pos] === MINUS;
      pos++;
    }
    const expStart = pos;
    for (; pos < limit; pos++) {
      const d = buf[pos]! - ZERO;
      if (d < 0 || d > 9) break;
      if (exp < 100000) exp = exp * 10 + d;
    }
    if (pos === expStart) ok = false;
    if (expNeg) exp = -exp;
  }
  const numEnd = pos;
  if (!whitespace) while (pos < limit && ((c = buf[pos]!) === SPACE || (c === TAB && delim !== TAB))) pos++;
  if (pos < limit) {
    c = buf[pos]!;
    const terminator = whitespace ? c === SPACE || c === TAB || c === 10 || c === 13 : c === delim || c === 10 || c === 13;
    if (!terminator) {
      // Not a number: find the end of the field for the caller.
      ok = false;
      if (whitespace) while (pos < limit && (c = buf[pos]!) !== SPACE && c !== TAB && c !== 10 && c !== 13) pos++;
      else while (pos < limit && (c = buf[pos]!) !== delim && c !== 10 && c !== 13) pos++;
    }
  }
  end[0] = pos;
  if (!ok || pos === start) return NaN;
  if (mant <= MAX_EXACT) {
    const scale = exp - fracDigits;
    let v: number;
    if (mant === 0) v = 0;
    else if (scale === 0) v = mant;
    else if (scale < 0 && scale >= -22) v = mant / POW10[-scale]!;
    else if (scale > 0 && scale <= 22) v = mant * POW10[scale]!;
    else return slowParse(buf, numStart, numEnd, decimal, thousands);
    return neg ? -v : v;
  }
  return slowParse(buf, numStart, numEnd, decimal, thousands);
}

/**
 * A byte that ends an unquoted field: the delimiter (or, with `whitespace`, a
 * space or tab), even when the settings also name it as decimal mark or
 * thousands separator ("1,5" in a comma-separated file is two values unless
 * quoted).
 */
function isTerminator(c: number, delim: number, whitespace: boolean): boolean {
  return whitespace ? c === SPACE || c === TAB : c === delim;
}

/** Long mantissas and large exponents: let `Number()` round them. The bytes were validated already. */
function slowParse(buf: Uint8Array, start: number, end: number, decimal: number, thousands: number): number {
  let s = '';
  for (let p = start; p < end; p++) {
    const c = buf[p]!;
    if (c === thousands && thousands !== 0) continue;
    s += c === decimal ? '.' : String.fromCharCode(c);
  }
  return Number(s);
}

const encoder = new TextEncoder();

/** The same rules as `parseNumberBytes`, for a string (sniffing and type inference, not the hot path). */
export function parseNumberText(text: string, decimal: '.' | ',', thousands: string): number {
  const bytes = encoder.encode(text);
  return parseNumberBytes(bytes, 0, bytes.length, decimal === ',' ? DECIMAL_COMMA : DECIMAL_POINT, thousandsByte(thousands));
}

/** Byte of a thousands separator setting ('' -> 0). */
export function thousandsByte(thousands: string): number {
  return thousands === '' ? 0 : thousands.charCodeAt(0);
}

/** Byte of a decimal mark setting. */
export function decimalByte(decimal: '.' | ','): number {
  return decimal === ',' ? DECIMAL_COMMA : DECIMAL_POINT;
}

/**
 * Tokens that mean "no value" in plant exports (historians write "Bad",
 * "I/O Timeout" and similar). Compared case-sensitively after trimming, except
 * that the lower-case forms of these are included where they occur in the wild.
 */
export const MISSING_TOKENS: ReadonlySet<string> = new Set([
  '',
  'NaN',
  'nan',
  'NAN',
  'NA',
  'N/A',
  'n/a',
  '#N/A',
  '#NV',
  'NULL',
  'null',
  'None',
  'none',
  '-',
  '--',
  '?',
  'Bad',
  'BAD',
  'Bad Input',
  'Error',
  'ERROR',
  '#VALUE!',
  '#DIV/0!',
  'I/O Timeout',
  'No Data',
  'Comm Fail',
  'Shutdown',
]);

/** True when a (raw) field means "no value". */
export function isMissingToken(raw: string): boolean {
  return MISSING_TOKENS.has(raw) || MISSING_TOKENS.has(raw.trim());
}
