/**
 * Historian "long" exports: one row per value (time, tag, value[, quality])
 * instead of one column per sensor. Detects them from the sniffed columns and
 * pivots a read table into one column per tag on a regular time grid.
 *
 * The pivot works on the reader's typed columns in a few passes over typed
 * arrays (no per-row objects), so a million long rows take a few tens of
 * milliseconds.
 */
import { PROBLEM_CHOICES, PROBLEM_KINDS, PROBLEM_TITLES, type ColumnData, type ProblemExample, type ColumnSchema, type LongFormatSettings, type Problem, type ProblemKind, type ReadSettings } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { isMissingToken, parseNumberText } from './numbers';
import type { SniffResult } from './sniff';
import type { ParsedTable, ReadControl } from './table';
import { MAX_EXAMPLES } from './problem-log';
import { localText } from './timestamps';

/** Headers that name the tag (sensor) of a row. Matched against the name without unit. */
const TAG_NAME =
  /^(tags?|tag[ _-]?(name|id)|names?|points?|point[ _-]?(name|id)|pointname|signal|signal[ _-]?name|sensor|sensor[ _-]?(name|id)|variable|item|item[ _-]?id|channel|measurement|parameter|messstelle|kennung|attribute|series)$/i;
/** Headers of the value column. */
const VALUE_NAME = /^(values?|val|wert|messwert|pv|v|reading|avg|average|mean)$/i;
/** Headers of a quality column. */
const QUALITY_NAME = /^(quality|qual|q|status|state|flags?|qualit(ä|ae|a)t|quality[ _-]?code|opc[ _-]?quality)$/i;
/** A tag name: no spaces, and a digit or one of . _ : / - in it (FIC101.PV, TI_200, 10-PT-001). */
const TAG_LIKE = /^[^\s,;]+$/;
const TAG_MARK = /[\d._:/-]/;

const GOOD_WORDS = new Set(['good', 'g', 'ok', 'gut', 'valid']);
const BAD_WORDS = new Set(['bad', 'b', 'uncertain', 'u', 'invalid', 'schlecht', 'unsicher', 'questionable', 'error', 'fail', 'failed']);

/** Largest grid the pivot builds (rows, and rows × tags), so a tiny interval fails with a sentence instead of running out of memory. */
const MAX_GRID_ROWS = 20_000_000;
const MAX_GRID_CELLS = 50_000_000;

const BAD_QUALITY: Pick<Problem, 'kind' | 'title' | 'choices' | 'defaultChoice'> = {
  kind: 'bad_quality',
  title: 'Values the historian marked as bad quality',
  choices: ['missing'],
  defaultChoice: 'missing',
};

/**
 * What a quality value says: 'good', 'bad' (Bad and Uncertain), or null when
 * it is not a quality the importer knows (those values are kept). Numbers are
 * OPC quality codes: OPC DA (0-255) is good from 192 on, uncertain from 64,
 * bad below; larger numbers are OPC UA status codes (top two bits 00 = good).
 */
export function qualityOf(raw: string): 'good' | 'bad' | null {
  const t = raw.trim().toLowerCase();
  if (t === '') return null;
  if (/^[+-]?\d+(\.0+)?$/.test(t) || /^0x[0-9a-f]+$/.test(t)) return qualityCode(Number(t));
  if (GOOD_WORDS.has(t) || t.startsWith('good')) return 'good';
  if (BAD_WORDS.has(t) || t.startsWith('bad') || t.startsWith('uncertain')) return 'bad';
  return null;
}

/** An OPC quality code as a number. */
export function qualityCode(n: number): 'good' | 'bad' | null {
  if (!Number.isFinite(n) || n < 0 || !Number.isInteger(n)) return null;
  if (n <= 255) return n >= 192 ? 'good' : 'bad';
  return Math.floor(n / 0x40000000) % 4 === 0 ? 'good' : 'bad';
}

function presentValues(preview: string[][], j: number): string[] {
  const out: string[] = [];
  for (const r of preview) {
    const v = (r[j] ?? '').trim();
    if (!isMissingToken(v) || qualityOf(v) !== null) out.push(v);
  }
  return out;
}

/**
 * A file in historian long format: a time column, a column naming the tag
 * whose values repeat (or whose rows share times), one numeric value column,
 * optionally a quality column, and at most two other columns (unit,
 * description). Null for anything else, e.g. a wide file with one column per
 * sensor.
 */
export function detectLongFormat(schema: ColumnSchema[], preview: string[][]): LongFormatSettings | null {
  const rows = preview.length;
  if (rows < 4 || schema.length < 3) return null;
  const timeIdx = schema.findIndex((c) => c.type === 'timestamp');
  if (timeIdx < 0) return null;
  const plainName = (c: ColumnSchema) => c.name.trim();

  // Quality: a quality header, or a text column of quality words only.
  let quality = -1;
  let qualityScore = 0;
  schema.forEach((c, j) => {
    if (j === timeIdx) return;
    const vals = presentValues(preview, j);
    if (vals.length === 0) return;
    const hint = QUALITY_NAME.test(plainName(c));
    const words = vals.filter((v) => qualityOf(v) !== null && !/^[+-]?\d/.test(v)).length;
    const codes = vals.filter((v) => /^\d+$/.test(v) && qualityCode(Number(v)) !== null).length;
    let score = 0;
    if (hint && (words === vals.length || codes === vals.length || c.type === 'boolean')) score = 2;
    else if ((c.type === 'category' || c.type === 'text') && words === vals.length) score = 1;
    if (score > qualityScore) {
      quality = j;
      qualityScore = score;
    }
  });

  // Value: the one numeric column (or the one with a value header).
  const numeric = schema.map((c, j) => j).filter((j) => j !== timeIdx && j !== quality && (schema[j]!.type === 'number' || schema[j]!.type === 'integer'));
  const tagHintNumeric = numeric.filter((j) => TAG_NAME.test(plainName(schema[j]!)));
  let valueCandidates = numeric.filter((j) => !tagHintNumeric.includes(j));
  if (valueCandidates.length > 1) valueCandidates = valueCandidates.filter((j) => VALUE_NAME.test(plainName(schema[j]!)));
  if (valueCandidates.length !== 1) return null;
  const value = valueCandidates[0]!;

  // Tag: repeating names that look like tags, or a tag header.
  const times = preview.map((r) => (r[timeIdx] ?? '').trim()).filter((v) => v !== '');
  const timesRepeat = times.length > 0 && new Set(times).size <= times.length / 2;
  let tag = -1;
  let tagScore = 0;
  schema.forEach((c, j) => {
    if (j === timeIdx || j === quality || j === value) return;
    const textual = c.type === 'category' || c.type === 'text';
    const hint = TAG_NAME.test(plainName(c));
    if (!textual && !(hint && (c.type === 'integer' || c.type === 'number'))) return;
    const vals = preview.map((r) => (r[j] ?? '').trim()).filter((v) => !isMissingToken(v));
    if (vals.length < rows * 0.9) return;
    const distinct = [...new Set(vals)];
    const repeats = vals.length / distinct.length >= 2;
    const tagLike = distinct.filter((v) => TAG_LIKE.test(v) && TAG_MARK.test(v)).length >= distinct.length * 0.8;
    if (!(repeats || timesRepeat) || !(hint || tagLike)) return;
    const score = (hint ? 2 : 0) + (tagLike ? 1 : 0) + (repeats ? 0.5 : 0);
    if (score > tagScore) {
      tag = j;
      tagScore = score;
    }
  });
  if (tag < 0) return null;
  const others = schema.length - 3 - (quality >= 0 ? 1 : 0);
  if (others > 2) return null;
  return {
    tagColumn: schema[tag]!.header,
    valueColumn: schema[value]!.header,
    qualityColumn: quality >= 0 ? schema[quality]!.header : null,
    intervalMs: null,
    aggregate: 'mean',
  };
}

/** "5 s", "1 min", "250 ms", "1.5 h". */
export function formatInterval(ms: number): string {
  const fmt = (v: number) => String(Math.round(v * 1000) / 1000);
  if (ms < 1000) return `${fmt(ms)} ms`;
  if (ms < 60_000) return `${fmt(ms / 1000)} s`;
  if (ms < 3_600_000) return `${fmt(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${fmt(ms / 3_600_000)} h`;
  return `${fmt(ms / 86_400_000)} d`;
}

function findColumn(schema: ColumnSchema[], header: string): number {
  const j = schema.findIndex((c) => c.header === header);
  return j >= 0 ? j : schema.findIndex((c) => c.name === header);
}

/** One sentence describing long-format settings, for the wizard. */
export function describeLongFormat(lf: LongFormatSettings, schema: ColumnSchema[], preview: string[][], intervalMs?: number): string {
  const nameOf = (h: string) => schema[findColumn(schema, h)]?.name ?? h;
  const ti = findColumn(schema, lf.tagColumn);
  const examples = ti >= 0 ? [...new Set(preview.map((r) => (r[ti] ?? '').trim()).filter((v) => v !== ''))].slice(0, 3) : [];
  const tags = examples.length ? ` (${examples.join(', ')}${examples.length === 3 ? ', …' : ''})` : '';
  const grid =
    lf.intervalMs !== null
      ? `a ${formatInterval(lf.intervalMs)} grid`
      : intervalMs !== undefined
        ? `a ${formatInterval(intervalMs)} grid (the median sampling interval of the tags)`
        : 'a grid of the median sampling interval of the tags';
  const agg = lf.aggregate === 'mean' ? 'the mean of the values in each interval' : 'the last value in each interval';
  const quality = lf.qualityColumn ? `; values that "${nameOf(lf.qualityColumn)}" marks as bad or uncertain become missing` : '';
  return `Each row holds one value of one sensor, named in "${nameOf(lf.tagColumn)}"${tags}: the values of "${nameOf(lf.valueColumn)}" become one column per tag on ${grid}, using ${agg}${quality}.`;
}

/**
 * Puts the long-format setting into a sniff result: the person's choice when
 * `overrides` has one, otherwise what detectLongFormat finds. Adds the
 * sentence under explanations.longFormat.
 */
export function proposeLongFormat(sniffed: SniffResult, overrides: Partial<ReadSettings>): SniffResult {
  let lf: LongFormatSettings | null;
  let explanation: string;
  if (overrides.longFormat !== undefined) {
    lf = overrides.longFormat;
    explanation = lf
      ? `You chose to read the file as historian long format. ${describeLongFormat(lf, sniffed.schema, sniffed.preview)}`
      : 'You chose to read the columns as they are (no pivot of a historian long format).';
  } else {
    lf = sniffed.settings.timeColumn !== null ? detectLongFormat(sniffed.schema, sniffed.preview) : null;
    explanation = lf ? describeLongFormat(lf, sniffed.schema, sniffed.preview) : 'Each row holds the values of one time side by side, so the columns are read as they are.';
  }
  return { ...sniffed, settings: { ...sniffed.settings, longFormat: lf }, explanations: { ...sniffed.explanations, longFormat: explanation } };
}

// ---------------------------------------------------------------------------
// The pivot
// ---------------------------------------------------------------------------

function sortTyped(a: Float64Array): void {
  for (let i = 1; i < a.length; i++) {
    if (a[i]! < a[i - 1]!) {
      a.sort();
      return;
    }
  }
}

function medianOf(a: Float64Array): number {
  sortTyped(a);
  const m = a.length;
  return m % 2 ? a[(m - 1) / 2]! : (a[m / 2 - 1]! + a[m / 2]!) / 2;
}

/**
 * The median sampling interval of the tags: for each tag the median positive
 * step between its (sorted) times, then the median of those. Null when no tag
 * has two different times.
 */
export function medianInterval(times: Float64Array, tagOf: Int32Array, nTags: number, n = times.length): number | null {
  const offsets = new Int32Array(nTags + 1);
  for (let i = 0; i < n; i++) {
    const k = tagOf[i]!;
    if (k >= 0 && times[i] === times[i]) offsets[k + 1] = offsets[k + 1]! + 1;
  }
  for (let k = 0; k < nTags; k++) offsets[k + 1] = offsets[k + 1]! + offsets[k]!;
  const grouped = new Float64Array(offsets[nTags]!);
  const pos = offsets.slice(0, nTags);
  for (let i = 0; i < n; i++) {
    const k = tagOf[i]!;
    const t = times[i]!;
    if (k >= 0 && t === t) {
      grouped[pos[k]!] = t;
      pos[k] = pos[k]! + 1;
    }
  }
  let longest = 0;
  for (let k = 0; k < nTags; k++) longest = Math.max(longest, offsets[k + 1]! - offsets[k]!);
  const steps = new Float64Array(longest);
  const medians = new Float64Array(nTags);
  let nm = 0;
  for (let k = 0; k < nTags; k++) {
    const seg = grouped.subarray(offsets[k]!, offsets[k + 1]!);
    sortTyped(seg);
    let m = 0;
    for (let j = 1; j < seg.length; j++) {
      const d = seg[j]! - seg[j - 1]!;
      if (d > 0) steps[m++] = d;
    }
    if (m > 0) medians[nm++] = medianOf(steps.subarray(0, m));
  }
  return nm ? medianOf(medians.subarray(0, nm)) : null;
}

interface Accumulation {
  times: Float64Array;
  tagOf: Int32Array;
  values: Float64Array;
  bad: Uint8Array | null;
  lines: Uint32Array;
  t0: number;
  interval: number;
  G: number;
  outs: Float64Array[];
  counts: Uint32Array | null;
  lastT: Float64Array | null;
  gridLines: Uint32Array;
  cellOf: Int32Array;
  badCells: Uint8Array;
}

/**
 * The hot loop, on its own so its variables live in registers (a closure in
 * the caller would put them in a context). Sums (or keeps the latest) value
 * per tag and grid cell; returns the number of bad-quality values.
 */
function accumulate(a: Accumulation): number {
  const { times, tagOf, values, bad, lines, t0, interval, G, outs, counts, lastT, gridLines, cellOf, badCells } = a;
  const n = tagOf.length;
  let badCount = 0;
  for (let i = 0; i < n; i++) {
    const k = tagOf[i]!;
    const t = times[i]!;
    if (k < 0 || t !== t) continue;
    const cell = Math.floor((t - t0) / interval);
    cellOf[i] = cell;
    if (gridLines[cell] === 0) gridLines[cell] = lines[i]!;
    if (bad !== null && bad[i] === 1) {
      badCount++;
      badCells[cell] = 1;
      continue;
    }
    const v = values[i]!;
    if (v !== v) continue;
    const out = outs[k]!;
    const at = k * G + cell;
    if (counts !== null) {
      out[cell] = out[cell]! + v;
      counts[at] = counts[at]! + 1;
    } else if (t >= lastT![at]!) {
      lastT![at] = t;
      out[cell] = v;
    }
  }
  return badCount;
}

/** Tag index per row (-1 without a tag) and the tag names, sorted naturally (TI2 before TI10). */
function tagIndex(col: ColumnData, n: number): { tagOf: Int32Array; names: string[] } {
  const tagOf = new Int32Array(n).fill(-1);
  const collator = new Intl.Collator('en', { numeric: true });
  if ('codes' in col) {
    const used = new Uint8Array(col.dictionary.length);
    for (let i = 0; i < n; i++) {
      const c = col.codes[i]!;
      if (c >= 0) used[c] = 1;
    }
    const codes = [...used.keys()].filter((c) => used[c]);
    codes.sort((a, b) => collator.compare(col.dictionary[a]!, col.dictionary[b]!));
    const map = new Int32Array(col.dictionary.length).fill(-1);
    codes.forEach((c, k) => (map[c] = k));
    for (let i = 0; i < n; i++) {
      const c = col.codes[i]!;
      tagOf[i] = c >= 0 ? map[c]! : -1;
    }
    return { tagOf, names: codes.map((c) => col.dictionary[c]!) };
  }
  const keys = new Map<number, number>();
  const values = col.type === 'boolean' ? null : col.values;
  const raw = new Int32Array(n).fill(-1);
  const seen: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values ? values[i]! : col.values[i]! === 255 ? NaN : col.values[i]!;
    if (v !== v) continue;
    let k = keys.get(v);
    if (k === undefined) {
      k = seen.length;
      seen.push(v);
      keys.set(v, k);
    }
    raw[i] = k;
  }
  const order = seen.map((_, k) => k).sort((a, b) => seen[a]! - seen[b]!);
  const map = new Int32Array(seen.length);
  order.forEach((k, pos) => (map[k] = pos));
  for (let i = 0; i < n; i++) tagOf[i] = raw[i]! >= 0 ? map[raw[i]!]! : -1;
  return { tagOf, names: order.map((k) => String(seen[k])) };
}

/**
 * Turns a long table (time, tag, value[, quality]) into one number column per
 * tag on a regular grid from the first to the last time, every intervalMs
 * (null: the median sampling interval). Each grid cell holds the mean, or the
 * value with the latest time, of the tag's values in [start, start + interval);
 * cells without one are missing. Values of bad or uncertain quality are left
 * out and reported as 'bad_quality'. The reader's problems are kept with their
 * rows moved to the grid rows; duplicate and out-of-order times are dropped
 * (several tags share a time by design, and the grid is in time order).
 */
export function pivotLong(
  table: ParsedTable,
  settings: ReadSettings & { longFormat: LongFormatSettings },
  control: ReadControl = {},
): ParsedTable & { intervalMs: number } {
  const lf = settings.longFormat;
  const { schema, columns } = table;
  const n = table.rowCount;
  const need = (header: string, what: string): number => {
    const j = findColumn(schema, header);
    if (j < 0) {
      throw new AppError(
        'bad_input',
        `The ${what} column "${header}" is not in the file. Its columns: ${schema.map((c) => `"${c.header}"`).join(', ')}.`,
        'settings.longFormat',
      );
    }
    return j;
  };
  const ti = settings.timeColumn === null ? -1 : findColumn(schema, settings.timeColumn);
  if (ti < 0 || columns[ti]!.type !== 'timestamp') {
    throw new AppError('bad_input', 'A historian long format needs a time column with dates and times. Choose the time column first.', 'settings.timeColumn');
  }
  const gi = need(lf.tagColumn, 'tag');
  const vi = need(lf.valueColumn, 'value');
  const qi = lf.qualityColumn ? need(lf.qualityColumn, 'quality') : -1;
  if (new Set([ti, gi, vi, ...(qi >= 0 ? [qi] : [])]).size !== (qi >= 0 ? 4 : 3)) {
    throw new AppError('bad_input', 'The time, tag, value and quality columns of a long format must be different columns.', 'settings.longFormat');
  }
  if (lf.intervalMs !== null && !(lf.intervalMs > 0)) throw new AppError('bad_input', 'The grid interval must be more than 0 ms.', 'settings.longFormat.intervalMs');
  control.checkCancelled?.();

  const times = (columns[ti] as Extract<ColumnData, { values: Float64Array }>).values;
  const lines = table.lines;
  const { tagOf, names } = tagIndex(columns[gi]!, n);
  const nTags = names.length;

  // Values as numbers; text values that are not numbers are reported.
  const vcol = columns[vi]!;
  const valueName = schema[vi]!.name;
  const notNumbers: Problem['examples'] = [];
  let notNumberCount = 0;
  const notNumberRows: number[] = [];
  let values: Float64Array;
  if ('codes' in vcol) {
    const asNumber = vcol.dictionary.map((s) => parseNumberText(s.trim(), settings.decimal, settings.thousands));
    values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = vcol.codes[i]!;
      const v = c < 0 ? NaN : asNumber[c]!;
      values[i] = v;
      if (c >= 0 && v !== v) {
        notNumberCount++;
        notNumberRows.push(i);
        if (notNumbers.length < MAX_EXAMPLES) {
          const line = lines[i]!;
          const raw = vcol.dictionary[c]!;
          notNumbers.push({ line, column: valueName, raw, reason: `Line ${line}, column "${valueName}": "${raw}" is not a number.` });
        }
      }
    }
  } else if (vcol.type === 'boolean') {
    const b = vcol.values;
    values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = b[i] === 255 ? NaN : b[i]!;
  } else {
    values = vcol.values;
  }

  // Quality: 1 = bad, per row. Missing quality counts as bad when the column
  // spells out good values (the reader reads "Bad" as no value), else as good.
  let bad: Uint8Array | null = null;
  let qualityText: (i: number) => string = () => '';
  if (qi >= 0) {
    const qcol = columns[qi]!;
    bad = new Uint8Array(n);
    if ('codes' in qcol) {
      const verdicts = qcol.dictionary.map((s) => qualityOf(s));
      const badCode = Uint8Array.from(verdicts, (v) => (v === 'bad' ? 1 : 0));
      const missing = verdicts.includes('good') ? 1 : 0;
      const codes = qcol.codes;
      for (let i = 0; i < n; i++) {
        const c = codes[i]!;
        bad[i] = c < 0 ? missing : badCode[c]!;
      }
      qualityText = (i) => {
        const c = qcol.codes[i]!;
        return c < 0 ? '' : qcol.dictionary[c]!;
      };
    } else if (qcol.type === 'boolean') {
      for (let i = 0; i < n; i++) bad[i] = qcol.values[i] === 0 || qcol.values[i] === 255 ? 1 : 0;
      qualityText = (i) => (qcol.values[i] === 255 ? '' : qcol.values[i] ? 'true' : 'false');
    } else {
      const q = qcol.values;
      for (let i = 0; i < n; i++) {
        const v = q[i]!;
        bad[i] = v !== v || qualityCode(v) === 'bad' ? 1 : 0;
      }
      qualityText = (i) => (q[i] === q[i] ? String(q[i]) : '');
    }
  }

  // The grid.
  let t0 = Infinity;
  let t1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = times[i]!;
    if (tagOf[i]! < 0 || t !== t) continue;
    if (t < t0) t0 = t;
    if (t > t1) t1 = t;
  }
  if (t0 === Infinity) throw new AppError('bad_input', 'No row has both a time and a tag, so there is nothing to turn into columns.', 'settings.longFormat');
  let interval = lf.intervalMs;
  if (interval === null) {
    const median = medianInterval(times, tagOf, nTags, n);
    interval = median === null ? t1 - t0 + 1 : Math.max(1, Math.round(median));
  }
  const G = Math.floor((t1 - t0) / interval) + 1;
  if (G > MAX_GRID_ROWS || G * nTags > MAX_GRID_CELLS) {
    throw new AppError(
      'bad_input',
      `A ${formatInterval(interval)} grid from ${localText(t0, settings.timeZone)} to ${localText(t1, settings.timeZone)} would have ${G.toLocaleString('en-US')} rows for ${nTags} tags, too many to hold. Choose a larger interval.`,
      'settings.longFormat.intervalMs',
    );
  }
  control.checkCancelled?.();

  const mean = lf.aggregate === 'mean';
  const outs: Float64Array[] = [];
  for (let k = 0; k < nTags; k++) outs.push(mean ? new Float64Array(G) : new Float64Array(G).fill(NaN));
  const counts = mean ? new Uint32Array(G * nTags) : null;
  const lastT = mean ? null : new Float64Array(G * nTags).fill(-Infinity);
  const gridLines = new Uint32Array(G);
  const cellOf = new Int32Array(n).fill(-1);
  const badCells = new Uint8Array(bad ? G : 0);
  const badCount = accumulate({ times, tagOf, values, bad, lines, t0, interval, G, outs, counts, lastT, gridLines, cellOf, badCells });
  const badExamples: Problem['examples'] = [];
  for (let i = 0; i < n && bad !== null && badExamples.length < MAX_EXAMPLES; i++) {
    if (bad[i] !== 1 || cellOf[i]! < 0) continue;
    const line = lines[i]!;
    const q = qualityText(i);
    const tag = names[tagOf[i]!]!;
    const at = localText(times[i]!, settings.timeZone);
    badExamples.push({
      line,
      column: tag,
      raw: q,
      reason:
        q === ''
          ? `Line ${line}: ${tag} at ${at} has no quality (or one read as "no value", such as "Bad"); the value is left out.`
          : `Line ${line}: the historian marked ${tag} at ${at} as "${q}"; the value is left out.`,
    });
  }
  if (counts !== null) {
    for (let k = 0; k < nTags; k++) {
      const out = outs[k]!;
      const base = k * G;
      for (let c = 0; c < G; c++) {
        const m = counts[base + c]!;
        out[c] = m === 0 ? NaN : m === 1 ? out[c]! : out[c]! / m;
      }
    }
  }
  control.checkCancelled?.();

  const gridTimes = new Float64Array(G);
  for (let c = 0; c < G; c++) gridTimes[c] = t0 + c * interval;

  // Columns: the time, then one per tag.
  const timeSchema = { ...schema[ti]!, type: 'timestamp' as const };
  const used = new Set([timeSchema.name]);
  const outSchema: ColumnSchema[] = [timeSchema];
  for (const tag of names) {
    let name = tag;
    for (let k = 2; used.has(name); k++) name = `${tag} (${k})`;
    used.add(name);
    outSchema.push({ name, type: 'number', unit: null, header: tag });
  }
  const outColumns: ColumnData[] = [{ type: 'timestamp', values: gridTimes }, ...outs.map((values): ColumnData => ({ type: 'number', values }))];

  // Problems: the reader's, moved to grid rows, then bad quality.
  const mark = new Uint8Array(G);
  const toGrid = (rows: ArrayLike<number>): Uint32Array => {
    let m = 0;
    for (let j = 0; j < rows.length; j++) {
      const c = cellOf[rows[j]!]!;
      if (c >= 0 && !mark[c]) {
        mark[c] = 1;
        m++;
      }
    }
    const out = new Uint32Array(m);
    for (let c = 0, o = 0; c < G && o < m; c++) {
      if (mark[c]) {
        out[o++] = c;
        mark[c] = 0;
      }
    }
    return out;
  };
  const problems: Problem[] = [];
  const problemRows: Partial<Record<ProblemKind, Uint32Array>> = {};
  for (const p of table.problems) {
    if (p.kind === 'duplicate_time' || p.kind === 'out_of_order') continue;
    let prob = p;
    const rows = table.problemRows[p.kind];
    if (p.kind === 'not_a_number' && notNumberCount > 0) {
      prob = { ...p, count: p.count + notNumberCount, examples: [...p.examples, ...notNumbers].slice(0, MAX_EXAMPLES) };
    }
    // A row without a time has no place on the grid: it is always left out.
    if (p.kind === 'missing_time') prob = { ...prob, choices: ['skip'], defaultChoice: 'skip' };
    problems.push(prob);
    const merged = p.kind === 'not_a_number' && notNumberRows.length ? [...(rows ?? []), ...notNumberRows] : rows;
    if (merged && merged.length) {
      const g = toGrid(merged);
      if (g.length) problemRows[p.kind] = g;
    }
  }
  if (notNumberCount > 0 && !table.problems.some((p) => p.kind === 'not_a_number')) {
    problems.push({
      kind: 'not_a_number',
      title: 'Values that are not numbers',
      count: notNumberCount,
      examples: notNumbers,
      choices: ['missing', 'skip'],
      defaultChoice: 'missing',
    });
    const g = toGrid(notNumberRows);
    if (g.length) problemRows.not_a_number = g;
  }
  if (badCount > 0) {
    problems.push({ ...BAD_QUALITY, count: badCount, examples: badExamples });
    let m = 0;
    for (let c = 0; c < G; c++) m += badCells[c]!;
    const rows = new Uint32Array(m);
    for (let c = 0, o = 0; c < G; c++) if (badCells[c]) rows[o++] = c;
    problemRows.bad_quality = rows;
  }
  // Rows without a tag belong to no column; they are left out, but counted like every other row.
  const untagged: ProblemExample[] = [];
  let untaggedCount = 0;
  for (let i = 0; i < n; i++) {
    if (tagOf[i]! >= 0) continue;
    untaggedCount++;
    if (untagged.length < MAX_EXAMPLES) {
      const line = table.lines[i]!;
      untagged.push({ line, column: lf.tagColumn, raw: '', reason: `Line ${line} has no tag name, so its value belongs to no column.` });
    }
  }
  if (untaggedCount > 0) {
    problems.push({ kind: 'missing_tag', title: PROBLEM_TITLES.missing_tag, count: untaggedCount, examples: untagged, ...PROBLEM_CHOICES.missing_tag });
  }
  problems.sort((a, b) => PROBLEM_KINDS.indexOf(a.kind) - PROBLEM_KINDS.indexOf(b.kind));
  return { schema: outSchema, columns: outColumns, rowCount: G, lines: gridLines, problems, problemRows, intervalMs: interval };
}
