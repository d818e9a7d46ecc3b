/**
 * Column type inference from a sample of raw field texts (the first few hundred
 * rows the wizard shows). The reader then converts every value to that type and
 * reports the ones that do not fit.
 */
import type { ColumnType, DecimalMark, ThousandsSeparator } from '../../../../shared/datasets';
import { isMissingToken, parseNumberText } from './numbers';

/** Boolean words (lower case) and their value. 0/1 stay integers: they are as often counts or codes. */
export const BOOLEAN_WORDS: ReadonlyMap<string, 0 | 1> = new Map<string, 0 | 1>([
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
]);

/** Reads a boolean field: 1, 0, or null when it is not a boolean word (0/1 digits are accepted too). */
export function parseBoolean(raw: string): 0 | 1 | null {
  const t = raw.trim().toLowerCase();
  if (t === '1') return 1;
  if (t === '0') return 0;
  return BOOLEAN_WORDS.get(t) ?? null;
}

/** A column with at most this share of unparseable sample values is still numeric. */
export const NUMERIC_TOLERANCE = 0.02;
/** Text with at most this many distinct values is a category… */
export const CATEGORY_MAX_DISTINCT = 50;
/** …or with distinct/total below this. */
export const CATEGORY_MAX_RATIO = 0.05;

export interface InferOptions {
  decimal: DecimalMark;
  thousands: ThousandsSeparator;
  /** The sniffer found this column to hold timestamps in the file's time format. */
  isTimestamp?: boolean;
}

export interface Inference {
  type: ColumnType;
  /** Sample values that mean "no value" (empty, NaN, NULL, N/A, Bad…). */
  missing: number;
  /** Sample values that will not convert to `type` (e.g. text in a numeric column). */
  failed: number;
  /** Sample values that are present (not missing). */
  present: number;
  distinct: number;
  /** One plain sentence for the wizard. */
  reason: string;
}

/** Decides a column's type from sample raw texts. */
export function inferColumnType(samples: readonly string[], opts: InferOptions): Inference {
  const present: string[] = [];
  let missing = 0;
  for (const s of samples) {
    if (isMissingToken(s)) missing++;
    else present.push(s.trim());
  }
  const distinctSet = new Set(present);
  const distinct = distinctSet.size;
  const base = { missing, present: present.length, distinct };
  if (present.length === 0) {
    return { ...base, type: 'number', failed: 0, reason: 'The sampled rows have no values in this column; it is read as numbers.' };
  }
  if (opts.isTimestamp) {
    return { ...base, type: 'timestamp', failed: 0, reason: 'The values are dates and times.' };
  }

  let numbers = 0;
  let integral = true;
  for (const s of present) {
    const v = parseNumberText(s, opts.decimal, opts.thousands);
    if (Number.isNaN(v)) continue;
    numbers++;
    if (integral && (!Number.isInteger(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER)) integral = false;
  }
  const notNumbers = present.length - numbers;
  if (numbers > 0 && notNumbers <= Math.floor(present.length * NUMERIC_TOLERANCE)) {
    const failNote = notNumbers ? ` ${notNumbers} of ${present.length} sampled values are not numbers and will be reported.` : '';
    if (integral) return { ...base, type: 'integer', failed: notNumbers, reason: `The values are whole numbers.${failNote}` };
    return { ...base, type: 'number', failed: notNumbers, reason: `The values are numbers.${failNote}` };
  }

  let booleans = 0;
  for (const s of present) if (BOOLEAN_WORDS.has(s.toLowerCase())) booleans++;
  if (booleans === present.length) {
    return { ...base, type: 'boolean', failed: 0, reason: `The values are yes/no words (${[...distinctSet].slice(0, 2).join(', ')}).` };
  }

  if (distinct <= CATEGORY_MAX_DISTINCT || distinct / present.length < CATEGORY_MAX_RATIO) {
    return { ...base, type: 'category', failed: 0, reason: `The values are text with ${distinct} different value${distinct === 1 ? '' : 's'} in the sample.` };
  }
  return { ...base, type: 'text', failed: 0, reason: 'The values are free text.' };
}
