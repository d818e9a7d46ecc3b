/**
 * Issue 11, fuzzing the CSV/TSV/TXT import: generated tables written in every
 * dialect the import reads come back with the same values; structured
 * garbage comes back with every bad cell and ragged row in the report;
 * arbitrary bytes are refused with a sentence or read with a report whose
 * counts add up; nothing throws anything but an AppError and nothing takes
 * longer than LIMIT_MS. The parsers run in a worker thread with a watchdog
 * (support/fuzz.ts); a few tables go through the whole import as the CLI
 * runs it (a Workspace, the JobManager, imports.inspect/analyze/totals/save).
 *
 * Figures: test-results/reliability/fuzz-import.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectResult } from '../../shared/api';
import { PROBLEM_KINDS, type ColumnSchema, type ColumnType, type Problem, type ProblemKind, type ReadSettings, type TimeFormat } from '../../shared/datasets';
import { createCore, type Core } from '../services/compose';
import { parseBoolean } from '../services/datasets/import/infer';
import { isMissingToken, parseNumberText } from '../services/datasets/import/numbers';
import { createTimeParser } from '../services/datasets/import/timestamps';
import type { Choice } from '../services/datasets/import/pipeline';
import { coreCaller } from '../test-support/core-call';
import { assertReadableRefusal, fuzzSuite, LIMIT_MS, property, runs, tmpDir, type Outcome } from './support/fuzz';
import { addTo, compareRead, reportInvariants, same, show, timeOrderProblems, valueAt, type Expected, type ReadResult } from './support/fuzz-report';
import { dialect, encodeText, table, textValue, TYPE_OF, writeTable, ZONES, type Cell, type Dialect, type Table, type Written } from './support/fuzz-tables';

const { figures, call } = fuzzSuite('fuzz-import');
let dir: string;
let fileNo = 0;

beforeAll(() => {
  dir = tmpDir('millwright-fuzz-import-');
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});


function newFile(bytes: Uint8Array, ext = '.csv'): string {
  const file = path.join(dir, `f${fileNo++}${ext}`);
  fs.writeFileSync(file, bytes);
  return file;
}

function settingsOf(t: Table, w: Written): ReadSettings {
  const d = t.dialect;
  return {
    encoding: d.encoding,
    delimiter: d.delimiter,
    decimal: d.decimal,
    thousands: d.thousands,
    skipLines: w.skipLines,
    hasHeader: d.hasHeader,
    timeColumn: t.timeColumn === null ? null : t.headers[t.timeColumn]!,
    timeFormat: d.timeFormat,
    timeZone: d.timeZone,
  };
}

function writeGenerated(t: Table): { file: string; written: Written; settings: ReadSettings; types: Record<string, ColumnType> } {
  const written = writeTable(t.dialect, t.dialect.hasHeader ? t.headers : null, t.rows.map((r) => r.map((c) => c.text)), new Set(t.blankBefore));
  const file = newFile(encodeText(written.text, t.dialect.encoding, t.dialect.bom), ['.csv', '.txt', '.tsv'][fileNo % 3]);
  const types = Object.fromEntries(t.headers.map((h, j) => [h, TYPE_OF[t.kinds[j]!]]));
  return { file, written, settings: settingsOf(t, written), types };
}

function assertFast(o: Outcome<unknown>, what: string): void {
  expect(o.ms, `${what} took ${Math.round(o.ms)} ms`).toBeLessThan(LIMIT_MS);
}

// ---------------------------------------------------------------- expectations of the round trip

function roundTripExpectations(t: Table): { values: (number | string | null)[][]; problems: Map<ProblemKind, Expected> } {
  const values = t.rows.map((row) => row.map((c) => c.expect));
  const problems = new Map<ProblemKind, Expected>();
  t.rows.forEach((row, r) =>
    row.forEach((c, j) => {
      if (t.kinds[j] !== 'timestamp' || Number.isNaN(c.expect)) return;
      if (c.flag === 'repeated') addTo(problems, 'dst_repeated', r);
      if (c.flag === 'gap') addTo(problems, 'dst_gap', r);
    }),
  );
  if (t.timeColumn !== null) {
    const times = t.rows.map((row) => row[t.timeColumn!]!.expect as number);
    times.forEach((v, r) => Number.isNaN(v) && addTo(problems, 'missing_time', r));
    const order = timeOrderProblems(times);
    for (const kind of ['duplicate_time', 'out_of_order'] as const) for (const r of order[kind]) addTo(problems, kind, r);
  }
  t.kinds.forEach((_, j) => {
    if (t.rows.every((row) => row[j]!.expect === null || Number.isNaN(row[j]!.expect))) addTo(problems, 'empty_column', -1);
  });
  // Problems are listed by kind; rows within a kind in order.
  for (const e of problems.values()) e.rows.sort((a, b) => a - b);
  return { values, problems };
}

// ---------------------------------------------------------------- inputs that found bugs (tried first on every run)

const baseDialect: Dialect = {
  encoding: 'utf-8',
  bom: false,
  delimiter: ',',
  wsSep: ' ',
  decimal: '.',
  thousands: '',
  eol: '\n',
  finalEol: false,
  quoteAll: false,
  hasHeader: false,
  preamble: [],
  blanksAfterPreamble: 0,
  timeFormat: 'iso',
  timeZone: 'UTC',
  isoOffsets: false,
};
const num = (text: string): Cell => ({ text, expect: Number(text.replace(',', '.')) });
const oneColumn = (d: Partial<Dialect>, rows: Cell[][], kinds: Table['kinds'] = rows[0]!.map(() => 'number')): Table => ({
  dialect: { ...baseDialect, ...d },
  headers: kinds.map((_, j) => `Column ${j + 1}`),
  kinds,
  rows,
  timeColumn: null,
  blankBefore: [],
});

const ROUND_TRIP_EXAMPLES: [Table, number | undefined][] = [
  // Lines ended by CR alone: the column store grew in the middle of a chunk and the rows read so far in it became 0.
  [oneColumn({ eol: '\r', preamble: [''] }, Array.from({ length: 40 }, (_, i) => [num(String(i + 1))])), undefined],
  // Decimal comma in a comma-separated file: an unquoted "0,0" is two values, not 0.0.
  [oneColumn({ decimal: ',' }, [[num('0'), num('0')], [num('1,5'), num('-2')]]), undefined],
  // Thousands separator = delimiter (the full number path): "+5,100" is two values.
  [oneColumn({ thousands: ',' }, [[num('+5'), num('100')], [{ text: '1,234', expect: 1234 }, num(' 7')]]), undefined],
  // Runs of spaces as delimiter with spaces as thousands separator.
  [oneColumn({ delimiter: ' ', thousands: ' ' }, [[num('+1'), num('234')], [{ text: '1 234', expect: 1234 }, num('5')]]), undefined],
  // UTF-16 without a byte order mark, chosen by the person, holding no Latin text: not "binary".
  [oneColumn({ encoding: 'utf-16be' }, [[{ text: '𐀀', expect: '𐀀' }, num('0000000')]], ['category', 'number']), undefined],
  // A preamble line with more fields than the table: the lines the person skips have no say in the width.
  [oneColumn({ preamble: ['Report', 'Report,Report,Report,Report,Report,Report'] }, [[num('0')]]), undefined],
];

describe('round trip: tables written in every dialect the import reads come back with the same values', () => {
  it('sniffed with the settings a person would choose, read in chunks of any size: every value, line and expected problem', async () => {
    await property(
      figures,
      'csv round trip',
      fc.tuple(table({ maxRows: 120 }), fc.option(fc.integer({ min: 16, max: 700 }), { nil: undefined, freq: 2 })),
      async ([t, chunkSize]) => {
        const { file, written, settings, types } = writeGenerated(t);
        const o = await call<{ sniffed: { schema: ColumnSchema[] }; table: ReadResult }>('csv.sniffRead', { file, overrides: settings, types, chunkSize });
        assertFast(o, 'reading a generated table');
        if (!o.ok) throw new Error(`a well-formed table was refused: ${o.error.name}: ${o.error.message}\n${written.text.slice(0, 400)}`);
        expect(o.value.sniffed.schema.map((c) => c.header), 'the headers the sniffer found').toEqual(t.headers);
        const { values, problems } = roundTripExpectations(t);
        reportInvariants(o.value.table, 'round trip');
        const bad = compareRead(o.value.table, values, written.lines, written.blankLines, problems);
        expect(bad, `${JSON.stringify(settings)}\n${JSON.stringify(written.text.slice(0, 600))}`).toEqual([]);
      },
      runs(120),
      ROUND_TRIP_EXAMPLES,
    );
  }, 600_000);

  it('the same file read in one piece and in tiny pieces gives the same table', async () => {
    await property(
      figures,
      'csv chunking',
      fc.tuple(table({ maxRows: 60, maxCols: 4 }), fc.integer({ min: 16, max: 64 })),
      async ([t, chunkSize]) => {
        const { file, settings, types } = writeGenerated(t);
        const whole = await call<{ table: ReadResult }>('csv.sniffRead', { file, overrides: settings, types });
        const pieces = await call<{ table: ReadResult }>('csv.sniffRead', { file, overrides: settings, types, chunkSize });
        if (!whole.ok || !pieces.ok) throw new Error(`refused: ${(whole.ok ? pieces : whole).ok ? '' : JSON.stringify((whole.ok ? pieces : whole) as unknown)}`);
        const a = whole.value.table;
        const b = pieces.value.table;
        expect(b.rowCount).toBe(a.rowCount);
        expect(Array.from(b.lines)).toEqual(Array.from(a.lines));
        for (let c = 0; c < a.columns.length; c++) for (let r = 0; r < a.rowCount; r++) expect(same(valueAt(b.columns[c]!, r), valueAt(a.columns[c]!, r)), `row ${r} col ${c}`).toBe(true);
        expect(b.problems).toEqual(a.problems);
      },
      runs(25),
    );
  }, 600_000);
});

// ---------------------------------------------------------------- structured garbage

const NASTY = [
  '', ' ', '  ', 'NA', 'n/a', ' null ', '1,5', '1.000,5', '1 000', "1'000", '1e', '1e+', '--1', '+-1', '0x1F', 'Infinity', '-Infinity', '1_000', '١٢٣', '12:00',
  '24:00', '2024-13-01', '2024-02-30 10:00', '31.02.2024', '2024-03-31 02:30', '2024-10-27 02:30', '2024-03-31T02:30:00', '2024-10-27T02:30:00', 'true', 'maybe', 'Ja', 'OFF',
  '"', 'a"b', '"x"', '\n', 'x\r\ny', '€', '1.5.', '.', ',', '-', '1e400', '-1e-400', '00:00 PM', '13:00 AM', '12/31/2024', '2024/12/31 23:59:59.999', '45352,5', '1709294400',
  '2024-01-01T00:00:00.123456789012Z', 'Z', '+01:00', '99999999999999999999999', '2024-1-1 1:2', '2024-01-01 12:00:00 UTC', '2024-01-01 12:00 +25:00', '29.02.2023', '29.02.2024 23:59:59,5',
  '0', '1', '-0', '+0.0', '1e-7', '\t5\t', '5 ', ' 5', '2024-03-01T12:00:00+01', '2024-03-01t12:00:00z', '1.709294400e9', '60', '61', '2958466',
];

/** A cell of structured garbage: the nasty list, digits and marks in any order, any text, now and then a long one. */
const garbageCell = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom('0', '1', '9', '.', ',', '-', '+', 'e', ' ', ':', '/', 'T', 'Z', "'"), maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.nat(5000).map((n) => 'x'.repeat(n)) },
);

/** Text the encoding can carry, and that is text at all (no NUL or other control characters). */
function fitText(s: string, d: Dialect): string {
  const printable = [...s].map((c) => (c === '\t' || c === '\n' || c === '\r' || (c >= ' ' && c !== '\u007f' && c !== '\ufeff') ? c : '?')).join('');
  if (d.encoding !== 'windows-1252') return printable;
  return [...printable].map((c) => (/[\r\n\t]/.test(c) ? c : (() => {
    try {
      encodeText(c, 'windows-1252', false);
      return c;
    } catch {
      return '?';
    }
  })())).join('');
}

interface Garbage {
  d: Dialect;
  types: ColumnType[];
  headers: string[];
  rows: string[][];
  timeColumn: number;
}

const COLUMN_TYPES: ColumnType[] = ['number', 'integer', 'category', 'text', 'boolean', 'timestamp'];

const garbage: fc.Arbitrary<Garbage> = fc
  .record({ d: dialect(), ncols: fc.integer({ min: 1, max: 6 }), nrows: fc.integer({ min: 1, max: 50 }) })
  .chain(({ d, ncols, nrows }) =>
    fc.record({
      d: fc.constant(d),
      types: fc.array(fc.constantFrom(...COLUMN_TYPES), { minLength: ncols, maxLength: ncols }),
      headers: fc.uniqueArray(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('"quoted, header"', 'line\nbreak')), { minLength: ncols, maxLength: ncols }),
      rows: fc.array(
        fc.oneof(
          { weight: 6, arbitrary: fc.array(garbageCell, { minLength: ncols, maxLength: ncols }) },
          { weight: 1, arbitrary: fc.array(garbageCell, { minLength: 1, maxLength: ncols + 3 }) },
        ),
        { minLength: nrows, maxLength: nrows },
      ),
      timeColumn: fc.integer({ min: -1, max: ncols - 1 }),
    }),
  )
  .map((g) => ({ ...g, headers: g.headers.map((h) => fitText(h, g.d)), rows: g.rows.map((r) => r.map((c) => fitText(c, g.d))) }))
  .filter((g) => new Set(g.headers).size === g.headers.length);

/**
 * What the reader must make of each garbage cell, by the importer's own
 * rules for one value (parseNumberText, the time parser, parseBoolean,
 * the missing tokens): the reader's fast paths must agree with them, and
 * every cell they reject must be reported on its row.
 */
function garbageExpectations(g: Garbage, written: Written, settings: ReadSettings): { values: (number | string | null)[][]; problems: Map<ProblemKind, Expected> } {
  const ncols = g.types.length;
  const ti = g.timeColumn >= 0 && g.types[g.timeColumn] === 'timestamp' ? g.timeColumn : -1;
  const parser = createTimeParser(settings.timeFormat ?? 'iso', settings.timeZone);
  const problems = new Map<ProblemKind, Expected>();
  const values = g.rows.map((row, r) => {
    const out: (number | string | null)[] = [];
    for (let c = 0; c < ncols; c++) {
      const type = g.types[c]!;
      const numeric = type === 'number' || type === 'integer' || type === 'timestamp';
      if (c >= row.length) {
        out.push(numeric ? NaN : null);
        continue;
      }
      const cell = row[c]!;
      const quoted = written.quoted[r]![c]!;
      if (type === 'number' || type === 'integer') {
        const v = parseNumberText(cell, settings.decimal, settings.thousands);
        if (Number.isNaN(v) && !isMissingToken(cell)) addTo(problems, 'not_a_number', r);
        out.push(v);
      } else if (type === 'timestamp') {
        const raw = cell.trim();
        if (raw === '' || isMissingToken(raw)) {
          if (c === ti) addTo(problems, 'missing_time', r);
          out.push(NaN);
          continue;
        }
        const v = parser.parse(raw);
        if (Number.isNaN(v)) addTo(problems, 'bad_timestamp', r);
        else if (parser.lastFlag === 1) addTo(problems, 'dst_repeated', r);
        else if (parser.lastFlag === 2) addTo(problems, 'dst_gap', r);
        out.push(v);
      } else if (type === 'boolean') {
        const t = quoted ? cell : cell.trim();
        if (t === '' || isMissingToken(t)) out.push(null);
        else {
          const b = parseBoolean(t);
          if (b === null) addTo(problems, 'bad_boolean', r);
          out.push(b);
        }
      } else {
        const t = quoted ? cell : cell.replace(/^[ \t]+|[ \t]+$/g, '');
        out.push(isMissingToken(t) ? null : t);
      }
    }
    if (row.length !== ncols) {
      if (row.length < ncols && ti >= row.length) addTo(problems, 'missing_time', r);
      addTo(problems, 'ragged_row', r);
    }
    return out;
  });
  if (ti >= 0) {
    const order = timeOrderProblems(values.map((v) => v[ti] as number));
    for (const kind of ['duplicate_time', 'out_of_order'] as const) for (const r of order[kind]) addTo(problems, kind, r);
  }
  for (let c = 0; c < ncols; c++) if (values.every((v) => v[c] === null || Number.isNaN(v[c]))) addTo(problems, 'empty_column', -1);
  for (const e of problems.values()) e.rows.sort((a, b) => a - b);
  return { values, problems };
}

const GARBAGE_EXAMPLES: [Garbage, number | undefined][] = [
  // A unix time past the range of dates reached the report's date formatting and threw a RangeError.
  [{ d: { ...baseDialect, timeFormat: 'unix-ms' }, types: ['timestamp', 'number'], headers: ['t', 'v'], rows: [['99999999999999999999999', '1'], ['60', '2'], ['-8640000000000001', '']], timeColumn: 0 }, undefined],
  [{ d: { ...baseDialect, timeFormat: 'unix-s', encoding: 'utf-16le' }, types: ['timestamp'], headers: ['t'], rows: [['1e400'], ['9e12'], ['8.64e12'], ['1']], timeColumn: 0 }, undefined],
];

describe('structured garbage: every cell that does not fit its column is reported on its row', () => {
  it('values as the importer\'s own rules read them, and the report names exactly the rows with problems', async () => {
    await property(
      figures,
      'csv structured garbage',
      fc.tuple(garbage, fc.option(fc.integer({ min: 16, max: 300 }), { nil: undefined })),
      async ([g, chunkSize]) => {
        const written = writeTable(g.d, g.d.hasHeader ? g.headers : null, g.rows);
        const file = newFile(encodeText(written.text, g.d.encoding, g.d.bom));
        const settings: ReadSettings = {
          encoding: g.d.encoding,
          delimiter: g.d.delimiter,
          decimal: g.d.decimal,
          thousands: g.d.thousands,
          skipLines: written.skipLines,
          hasHeader: g.d.hasHeader,
          timeColumn: g.timeColumn >= 0 ? g.headers[g.timeColumn]! : null,
          timeFormat: g.d.timeFormat,
          timeZone: g.d.timeZone,
        };
        const schema: ColumnSchema[] = g.headers.map((h, j) => ({ name: `c${j}`, type: g.types[j]!, unit: null, header: h }));
        const o = await call<ReadResult>('csv.read', { file, settings, schema, chunkSize });
        assertFast(o, 'reading structured garbage');
        if (!o.ok) throw new Error(`refused: ${o.error.name}: ${o.error.message}`);
        reportInvariants(o.value, 'structured garbage');
        const { values, problems } = garbageExpectations(g, written, settings);
        const bad = compareRead(o.value, values, written.lines, written.blankLines, problems);
        expect(bad, `${JSON.stringify(settings)} ${JSON.stringify(g.types)}\n${JSON.stringify(written.text.slice(0, 800))}`).toEqual([]);
      },
      runs(150),
      GARBAGE_EXAMPLES,
    );
  }, 600_000);
});

// ---------------------------------------------------------------- arbitrary bytes

const SOUP = [',', ';', '\t', '|', ' ', '"', '""', '\r', '\n', '\r\n', '.', '-', ':', 'T', 'Z', 'e', 'NA', 'true', '2024-03-31 02:30:00', '31.12.2024 23:59', '1,5', '€', '😀', 'ä', '\u0000', '\ufeff', 'time', 'Tag', 'Value', 'Quality', 'Good', '0x', '[°C]'];

const soup = fc
  .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SOUP) }, { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 6 }) }, { weight: 2, arbitrary: fc.integer().map(String) }), { maxLength: 400 })
  .map((a) => a.join(''));

/** Byte-level damage to a good file: flips, inserted quotes and line breaks, cut ranges, a cut end. */
function mutate(bytes: Uint8Array, edits: { at: number; op: number; len: number; byte: number }[]): Uint8Array {
  let b = Buffer.from(bytes);
  for (const e of edits) {
    const at = b.length ? e.at % b.length : 0;
    switch (e.op) {
      case 0:
        if (b.length) b[at] = e.byte;
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([[0x22, 0x0a, 0x0d, 0x2c, 0x3b, e.byte][e.len % 6]!]), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.len)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at + e.len), b.subarray(at)]);
        break;
      default:
        b = b.subarray(0, at);
    }
  }
  return b;
}

const edits = fc.array(fc.record({ at: fc.nat(), op: fc.nat(4), len: fc.integer({ min: 1, max: 40 }), byte: fc.nat(255) }), { minLength: 1, maxLength: 6 });

const anyBytes: fc.Arbitrary<{ bytes: Uint8Array; how: string }> = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => ({ bytes, how: 'random bytes' })),
  fc.tuple(soup, fc.constantFrom('utf8', 'utf16le', 'latin1')).map(([s, enc]) => ({ bytes: Buffer.concat([enc === 'utf16le' ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(s, enc as BufferEncoding)]), how: `CSV-like ${enc}` })),
  fc.tuple(table({ maxRows: 30, maxCols: 4 }), edits).map(([t, e]) => {
    const w = writeTable(t.dialect, t.dialect.hasHeader ? t.headers : null, t.rows.map((r) => r.map((c) => c.text)));
    return { bytes: mutate(encodeText(w.text, t.dialect.encoding, t.dialect.bom), e), how: 'a damaged table' };
  }),
);

/** Settings a person may have changed in the wizard before the file is read. */
const overrides: fc.Arbitrary<Partial<ReadSettings>> = fc
  .record(
    {
      encoding: fc.constantFrom('utf-8', 'utf-16le', 'utf-16be', 'windows-1252'),
      delimiter: fc.constantFrom(',', ';', '\t', '|', ' '),
      decimal: fc.constantFrom('.', ','),
      thousands: fc.constantFrom('', '.', ',', ' ', "'"),
      skipLines: fc.nat(6),
      hasHeader: fc.boolean(),
      timeColumn: fc.option(fc.constantFrom('time', 'Column 1', 'Tag', ''), { nil: null }),
      timeFormat: fc.option(fc.constantFrom<TimeFormat>('iso', 'dmy', 'mdy', 'ymd-slash', 'unix-s', 'unix-ms', 'excel-serial'), { nil: null }),
      longFormat: fc.record({
        tagColumn: fc.constantFrom('Tag', 'Column 2', 'Tagname'),
        valueColumn: fc.constantFrom('Value', 'Column 3'),
        qualityColumn: fc.constantFrom(null, 'Quality', 'Column 4'),
        intervalMs: fc.constantFrom(null, 1, 1000, 3_600_000),
        aggregate: fc.constantFrom<'mean' | 'last'>('mean', 'last'),
      }),
    },
    { requiredKeys: [] },
  )
  .chain((o) => fc.constantFrom(...ZONES).map((timeZone) => ({ ...o, timeZone }) as Partial<ReadSettings>));

const CHOICES: Choice[] = ['missing', 'skip', 'keep'];
const choicesArb = fc.dictionary(fc.constantFrom(...PROBLEM_KINDS), fc.constantFrom(...CHOICES)) as fc.Arbitrary<Partial<Record<ProblemKind, Choice>>>;

interface PipelineOut {
  staged: { rowCount: number; problems: Problem[]; problemRows: Partial<Record<ProblemKind, Uint32Array>>; schema: ColumnSchema[] };
  totals: { rowsRead: number; rowsKept: number; rowsSkipped: number };
  finished: { rowCount: number; report: { rejectedRows: number; choices: Record<string, Choice> }; missing: number[] } | null;
  finishError: { code: string; message: string } | null;
}

/** The choice that counts: the person's when the problem offers it, else the default. */
const effective = (p: Problem, chosen: Partial<Record<ProblemKind, Choice>>): Choice => (chosen[p.kind] !== undefined && p.choices.includes(chosen[p.kind]!) ? chosen[p.kind]! : p.defaultChoice);

/** Rows read = rows kept + rows skipped, the skipped ones are exactly those of the problems set to skip, and the totals shown before saving are the ones saved. */
function pipelineAccounting(out: PipelineOut, choices: Partial<Record<ProblemKind, Choice>>, what: string): number {
  const { staged, totals, finished, finishError } = out;
  const skipped = new Set<number>();
  for (const p of staged.problems) if (effective(p, choices) === 'skip') for (const r of staged.problemRows[p.kind] ?? []) skipped.add(r);
  for (const r of skipped) expect(r < staged.rowCount, `${what}: skipped row ${r} of ${staged.rowCount}`).toBe(true);
  const kept = staged.rowCount - skipped.size;
  expect(totals, `${what}: the totals before saving (choices ${JSON.stringify(choices)}, problems ${JSON.stringify(staged.problems.map((p) => [p.kind, p.choices, p.defaultChoice]))})`).toEqual({ rowsRead: staged.rowCount, rowsKept: kept, rowsSkipped: skipped.size });
  if (kept === 0) {
    expect(finishError?.code, `${what}: saving with no rows left`).toBe('bad_input');
    return kept;
  }
  expect(finishError, what).toBeNull();
  expect(finished!.rowCount, `${what}: rows saved`).toBe(kept);
  expect(finished!.rowCount + finished!.report.rejectedRows, `${what}: saved + rejected = read`).toBe(staged.rowCount);
  for (const p of staged.problems) expect(finished!.report.choices[p.kind], `${what}: recorded choice for ${p.kind}`).toBe(effective(p, choices));
  expect(finished!.missing.length).toBe(staged.schema.length);
  return kept;
}

/** How the arbitrary inputs ended: refused (with a sentence), read, read and saved; problems reported in all. */
const outcomes = { refused: 0, read: 0, saved: 0, problems: 0 };

describe('arbitrary bytes: refused with a sentence, or read with a report that adds up', () => {
  it('sniff, read, inspect and save never throw anything but an AppError, never hang, and count every row', async () => {
    await property(
      figures,
      'csv arbitrary bytes',
      fc.tuple(anyBytes, overrides, fc.boolean(), fc.option(fc.integer({ min: 16, max: 256 }), { nil: undefined }), choicesArb, fc.constantFrom('.csv', '.txt', '.tsv', '')),
      async ([{ bytes, how }, over, useOverrides, chunkSize, choices, ext]) => {
        const file = newFile(bytes, ext);
        const { longFormat, ...rest } = over;
        const sniffOver: Partial<ReadSettings> = useOverrides ? rest : { timeZone: over.timeZone! };
        const sniffed = await call<{ settings: ReadSettings; schema: ColumnSchema[] }>('csv.sniff', { file, overrides: sniffOver });
        assertFast(sniffed, `sniffing ${how}`);
        if (!sniffed.ok) {
          assertReadableRefusal(sniffed.error, `sniffing ${how}`);
          outcomes.refused++;
          return;
        }
        const read = await call<ReadResult>('csv.read', { file, settings: sniffed.value.settings, schema: sniffed.value.schema, chunkSize });
        assertFast(read, `reading ${how}`);
        if (!read.ok) {
          assertReadableRefusal(read.error, `reading ${how}`);
          outcomes.refused++;
          return;
        }
        outcomes.read++;
        outcomes.problems += read.value.problems.length;
        reportInvariants(read.value, `reading ${how}`);
        const inspected = await call<InspectResult>('csv.inspect', { paths: [file], overrides: sniffOver });
        assertFast(inspected, `inspecting ${how}`);
        if (!inspected.ok) assertReadableRefusal(inspected.error, `inspecting ${how}`);
        else expect(inspected.value.preview.length).toBeLessThanOrEqual(50);
        const wsDir = path.join(dir, `ws${fileNo}`);
        // Now and then read as a historian long format, which may not fit the file at all.
        const settings = longFormat && useOverrides ? { ...sniffed.value.settings, longFormat } : sniffed.value.settings;
        const out = await call<PipelineOut>('csv.pipeline', { paths: [file], settings, wsDir, choices });
        assertFast(out, `importing ${how}`);
        fs.rmSync(wsDir, { recursive: true, force: true });
        if (!out.ok) {
          assertReadableRefusal(out.error, `importing ${how}`);
          return;
        }
        outcomes.saved++;
        if (!settings.longFormat) expect(out.value.staged.rowCount, 'the import reads the rows the reader read').toBe(read.value.rowCount);
        pipelineAccounting(out.value, choices, `importing ${how}`);
      },
      runs(100),
      // A choice the problem does not offer ('keep' for a bad time): the totals shown kept the row, saving skipped it.
      [[{ bytes: Buffer.from([0]), how: 'a NUL byte' }, { hasHeader: false, timeColumn: 'Column 1', timeFormat: 'iso', timeZone: 'UTC' }, true, undefined, { bad_timestamp: 'keep' }, '.csv']],
    );
    figures.extra.arbitraryBytes = outcomes;
  }, 600_000);
});

// ---------------------------------------------------------------- the import pipeline

describe('the import pipeline: rows read = kept + skipped, whatever is chosen', () => {
  it('one file or several: the totals before saving are what is saved, and every skipped row is a reported one', async () => {
    await property(
      figures,
      'csv pipeline',
      fc.tuple(table({ maxRows: 40, maxCols: 4 }), choicesArb, fc.integer({ min: 1, max: 3 })),
      async ([t, choices, parts]) => {
        // Several files with the same header: monthly exports of one table.
        const per = Math.ceil(t.rows.length / parts);
        const files: string[] = [];
        let settings: ReadSettings | null = null;
        let types: Record<string, ColumnType> = {};
        for (let k = 0; k * per < t.rows.length; k++) {
          const part: Table = { ...t, rows: t.rows.slice(k * per, (k + 1) * per), blankBefore: [] };
          const w = writeGenerated(part);
          files.push(w.file);
          settings ??= w.settings;
          types = w.types;
        }
        const wsDir = path.join(dir, `ws${fileNo}`);
        const out = await call<PipelineOut>('csv.pipeline', { paths: files, settings, types, wsDir, choices });
        assertFast(out, 'importing generated files');
        fs.rmSync(wsDir, { recursive: true, force: true });
        if (!out.ok) {
          // Files whose columns differ in type cannot be appended; anything else is a bug.
          assertReadableRefusal(out.error, 'importing generated files');
          throw new Error(`a well-formed table was refused: ${out.error.message}`);
        }
        expect(out.value.staged.rowCount).toBe(t.rows.length);
        pipelineAccounting(out.value, choices, 'importing generated files');
      },
      runs(30),
    );
  }, 600_000);
});

// ---------------------------------------------------------------- historian long format

describe('historian long format: a wide table written long comes back as the same grid', () => {
  it('every value on its tag and grid cell; bad quality and missing tags reported, every long row accounted for', async () => {
    const arb = fc
      .record({
        zone: fc.constantFrom(...ZONES),
        tags: fc.uniqueArray(fc.oneof(fc.stringMatching(/^[A-Z]{2,3}[-_]?\d{1,3}(\.PV)?$/), textValue('utf-8', 8).filter((s) => s.trim() === s && s !== '' && !isMissingToken(s))), { minLength: 1, maxLength: 5 }),
        cells: fc.integer({ min: 1, max: 30 }),
        interval: fc.constantFrom(1000, 60_000, 600_000, 3_600_000),
        t0: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2030, 0, 1) }),
        d: dialect({ encodings: ['utf-8'], delimiters: [',', ';', '\t'] }),
      })
      .chain((g) =>
        fc.record({
          g: fc.constant(g),
          // Per tag and cell: absent, a value (good or bad quality), and an offset inside the cell.
          entries: fc.array(
            fc.array(fc.record({ present: fc.nat(3), value: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), bad: fc.nat(6), within: fc.nat(g.interval - 1) }), { minLength: g.cells, maxLength: g.cells }),
            { minLength: g.tags.length, maxLength: g.tags.length },
          ),
          untagged: fc.nat(3),
          order: fc.constantFrom('time', 'tag', 'shuffled'),
          shuffle: fc.array(fc.nat(), { maxLength: 200 }),
        }),
      );
    await property(
      figures,
      'csv long format',
      arb,
      async ({ g, entries, untagged, order, shuffle }) => {
        type LongRow = { t: number; tag: string; text: string; value: number; quality: string; k: number; c: number };
        // The first tag has a value at the start, so the grid starts there.
        entries[0]![0]!.present = 1;
        const rows: LongRow[] = [];
        entries.forEach((perTag, k) =>
          perTag.forEach((e, c) => {
            if (e.present === 0) return;
            const text = String(e.value);
            rows.push({ t: g.t0 + c * g.interval + (c === 0 ? 0 : e.within), tag: g.tags[k]!, text, value: Number(text), quality: e.bad === 0 ? 'Bad' : e.bad === 1 ? 'Uncertain' : e.bad === 2 ? '192' : 'Good', k, c });
          }),
        );
        if (order === 'tag') rows.sort((a, b) => a.k - b.k || a.t - b.t);
        else if (order === 'time') rows.sort((a, b) => a.t - b.t || a.k - b.k);
        else
          for (let i = rows.length - 1; i > 0; i--) {
          const j = (shuffle[i % Math.max(1, shuffle.length)] ?? i) % (i + 1);
          [rows[i], rows[j]] = [rows[j]!, rows[i]!];
        }
        const iso = (t: number) => new Date(t).toISOString().replace('T', ' ').replace('Z', '');
        const d = { ...g.d, hasHeader: true, preamble: [], blanksAfterPreamble: 0, quoteAll: false, thousands: '' as const };
        const body = rows.map((r) => [`${iso(r.t)}Z`, r.tag, d.decimal === ',' ? r.text.replace('.', ',') : r.text, r.quality]);
        for (let i = 0; i < untagged; i++) body.splice(i % (body.length + 1), 0, [`${iso(g.t0)}Z`, '', '1', 'Good']);
        const w = writeTable(d, ['Timestamp', 'Tagname', 'Value', 'Quality'], body);
        const file = newFile(encodeText(w.text, 'utf-8', false));
        const settings = {
          encoding: 'utf-8' as const,
          delimiter: d.delimiter,
          decimal: d.decimal,
          thousands: '' as const,
          skipLines: 0,
          hasHeader: true,
          timeColumn: 'Timestamp',
          timeFormat: 'iso' as const,
          timeZone: g.zone,
          longFormat: { tagColumn: 'Tagname', valueColumn: 'Value', qualityColumn: 'Quality', intervalMs: g.interval, aggregate: 'last' as const },
        };
        const schema: ColumnSchema[] = [
          { name: 'Timestamp', type: 'timestamp', unit: null, header: 'Timestamp' },
          { name: 'Tagname', type: 'category', unit: null, header: 'Tagname' },
          { name: 'Value', type: 'number', unit: null, header: 'Value' },
          { name: 'Quality', type: 'category', unit: null, header: 'Quality' },
        ];
        const o = await call<{ table: ReadResult; pivoted: ReadResult }>('csv.long', { file, settings, schema });
        assertFast(o, 'pivoting a long table');
        if (!o.ok) throw new Error(`refused: ${o.error.message}`);
        const { pivoted } = o.value;
        const t0 = Math.min(...rows.map((r) => r.t));
        const t1 = Math.max(...rows.map((r) => r.t));
        const G = Math.floor((t1 - t0) / g.interval) + 1;
        expect(pivoted.rowCount, 'grid rows').toBe(G);
        const tagsSeen = [...new Set(rows.map((r) => r.tag))].sort(new Intl.Collator('en', { numeric: true }).compare);
        expect(pivoted.schema.slice(1).map((c) => c.header), 'one column per tag').toEqual(tagsSeen);
        // "Bad" reads as no value; a missing quality is bad only where the column also spells out good ones.
        const spellsGood = untagged > 0 || rows.some((r) => r.quality === 'Good' || r.quality === '192');
        const isBad = (r: LongRow) => r.quality === 'Uncertain' || (r.quality === 'Bad' && spellsGood);
        const bad = rows.filter(isBad);
        const badProblem = pivoted.problems.find((p) => p.kind === 'bad_quality');
        expect(badProblem?.count ?? 0, 'bad-quality values reported').toBe(bad.length);
        const missingTag = pivoted.problems.find((p) => p.kind === 'missing_tag');
        expect(missingTag?.count ?? 0, 'rows without a tag reported').toBe(untagged);
        tagsSeen.forEach((tag, k) => {
          const col = pivoted.columns[k + 1] as { values: Float64Array };
          const want = new Float64Array(G).fill(NaN);
          for (const r of rows) if (r.tag === tag && !isBad(r)) want[Math.floor((r.t - t0) / g.interval)] = r.value;
          for (let c = 0; c < G; c++) if (!Object.is(col.values[c], want[c])) throw new Error(`${tag} at grid row ${c}: ${col.values[c]}, expected ${want[c]}`);
        });
        // Every long row is on the grid, or reported.
        expect(o.value.table.rowCount).toBe(rows.length + untagged);
      },
      runs(50),
    );
  }, 600_000);
});

// ---------------------------------------------------------------- end to end, as the CLI runs an import

describe('end to end through a workspace and the job manager', () => {
  let core: Core;
  let call: ReturnType<typeof coreCaller>;

  beforeAll(() => {
    core = createCore({ workspaceDir: path.join(dir, 'workspace'), monitor: false, resumeEndpoints: false });
    call = coreCaller(() => core);
  });

  afterAll(async () => {
    await core?.close();
  });

  it('inspect, analyze, totals, save, then the rows of the saved version: the same values', async () => {
    let n = 0;
    await property(
      figures,
      'csv end to end',
      fc.tuple(table({ maxRows: 30, maxCols: 4 }), choicesArb),
      async ([t0, choices]) => {
        // Without a time column the saved rows keep the file's order.
        const t = { ...t0, timeColumn: null };
        const { file, settings, types } = writeGenerated(t);
        const started = Date.now();
        const inspected = await call('imports.inspect', { paths: [file], settings, types });
        expect(inspected.schema.map((c) => c.header)).toEqual(t.headers);
        const job = await call('imports.analyze', { paths: [file], settings: inspected.settings, types });
        const analyzed = await core.jobs.wait(job.id);
        expect(analyzed.state, JSON.stringify(analyzed.error)).toBe('done');
        const result = analyzed.result as { stagingId: string; rows: number; problems: Problem[] };
        expect(result.rows).toBe(t.rows.length);
        const validChoices = choices;
        const totals = await call('imports.totals', { stagingId: result.stagingId, choices: validChoices });
        expect(totals.rowsKept + totals.rowsSkipped).toBe(t.rows.length);
        if (totals.rowsKept === 0) return;
        const name = `fuzz-${n++}`;
        const saveJob = await call('imports.save', { stagingId: result.stagingId, name, choices: validChoices });
        const saved = await core.jobs.wait(saveJob.id);
        expect(saved.state, JSON.stringify(saved.error)).toBe('done');
        const got = await call('datasets.get', { dataset: name });
        expect(got.versions[0]!.rows, 'rows saved = the totals shown').toBe(totals.rowsKept);
        expect(got.versions[0]!.rejectedRows).toBe(totals.rowsSkipped);
        const rows = await call('datasets.rows', { dataset: name, offset: 0, limit: 2000 });
        // Without a time column only DST repeats and gaps mark rows that can be skipped.
        const { problems } = roundTripExpectations(t);
        const skippedRows = new Set<number>();
        for (const p of result.problems) if (effective(p, validChoices) === 'skip') for (const r of problems.get(p.kind)?.rows ?? []) skippedRows.add(r);
        const keptRows = t.rows.filter((_, r) => !skippedRows.has(r));
        expect(rows.total).toBe(keptRows.length);
        keptRows.forEach((row, r) =>
          row.forEach((cell, c) => {
            const v = rows.rows[r]![c]!;
            const e = cell.expect;
            const want = typeof e === 'number' ? (Number.isNaN(e) ? null : t.kinds[c] === 'boolean' ? e === 1 : e) : e;
            if (!(typeof v === 'number' && typeof want === 'number' ? Object.is(v, want) : v === want)) throw new Error(`row ${r} column ${c}: ${show(v)}, expected ${show(want)}`);
          }),
        );
        figures.took('csv end to end', Date.now() - started);
      },
      runs(3, 30),
    );
  }, 600_000);
});
