/**
 * Issue 11, fuzzing the Excel reader (electron/services/datasets/import/excel.ts,
 * SheetJS in a worker thread). Workbooks written here with SheetJS: numbers,
 * text, yes/no cells, date-formatted cells and ISO text, under title rows,
 * with empty rows and columns, on one of several sheets, read back with the
 * same values (dates as wall-clock time in the chosen zone, checked against
 * Intl); damaged files, random bytes and workbooks with odd cells (errors,
 * dates beyond year 9999, formulas without values, merged cells, wrong used
 * ranges) refused with a sentence or read with a consistent report, never an
 * internal error, each within the time limit.
 *
 * Figures: test-results/reliability/fuzz-excel.json.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellObject, WorkSheet } from 'xlsx';
import type { ColumnSchema, ColumnType, ProblemKind, ReadSettings } from '../../shared/datasets';
import { AppError, USER_ERROR_CODES } from '../../shared/errors';
import { inspectExcelInWorker, readExcel } from '../services/datasets/import/excel';
import { assertSentence, Figures, LIMIT_MS, property, runs, tmpDir } from './support/fuzz';
import { addTo, compareRead, reportInvariants, timeOrderProblems, type Expected, type ReadResult } from './support/fuzz-report';
import { isMissing, resolveWall, timeCell, transitions, wallOf, ZONES, type DstFlag } from './support/fuzz-tables';

const XLSX = createRequire(import.meta.url)('xlsx') as typeof import('xlsx');

const figures = new Figures('fuzz-excel');
let dir: string;
let fileNo = 0;

beforeAll(() => {
  dir = tmpDir('millwright-fuzz-excel-');
});

afterAll(() => {
  figures.write();
  fs.rmSync(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;

/**
 * Runs a read in the reader's worker with a watchdog: the reader spawns a
 * worker per file, so a hang leaves that worker behind but fails the test
 * here instead of blocking it. Time includes the worker's start (~0.5 s).
 */
async function timed<T>(what: string, run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${LIMIT_MS + 10_000} ms: it hangs on this input`)), LIMIT_MS + 10_000);
      }),
    ]);
    return { ok: true, value };
  } catch (error) {
    if (error instanceof Error && error.message.includes('hangs on this input')) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
    const ms = performance.now() - started;
    figures.took(what, ms);
    // The worker's start is part of it; on a loaded machine that alone can take a second.
    expect(ms, `${what} took ${Math.round(ms)} ms`).toBeLessThan(LIMIT_MS + 3000);
  }
}

/** A refusal of the Excel reader: an AppError with a user's code and a sentence. */
function assertExcelRefusal(error: unknown, what: string): void {
  if (!(error instanceof AppError)) throw new Error(`${what} threw ${String(error)}, not an AppError`);
  expect(USER_ERROR_CODES.has(error.code), `${what}: ${error.code}: ${error.message}`).toBe(true);
  assertSentence(error.message, what);
}

function writeWorkbook(sheets: [string, WorkSheet][], opts: { date1904?: boolean } = {}): string {
  const wb = XLSX.utils.book_new();
  for (const [name, ws] of sheets) XLSX.utils.book_append_sheet(wb, ws, name);
  if (opts.date1904) wb.Workbook = { ...(wb.Workbook ?? {}), WBProps: { date1904: true } };
  const file = path.join(dir, `w${fileNo++}.xlsx`);
  fs.writeFileSync(file, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  return file;
}

/** A sheet from rows of cells (null: empty), starting at column `left`. */
function sheetOf(rows: (CellObject | null)[][], left = 0, ref?: string): WorkSheet {
  const ws: WorkSheet = {};
  let maxC = left;
  rows.forEach((row, r) =>
    row.forEach((cell, c) => {
      if (!cell) return;
      ws[XLSX.utils.encode_cell({ r, c: c + left })] = cell;
      maxC = Math.max(maxC, c + left);
    }),
  );
  ws['!ref'] = ref ?? XLSX.utils.encode_range({ s: { r: 0, c: 0 }, e: { r: Math.max(0, rows.length - 1), c: maxC } });
  return ws;
}

// ---------------------------------------------------------------- round trip

type XKind = 'number' | 'text' | 'boolean' | 'date' | 'isoText';
interface XCell {
  cell: CellObject | null;
  expect: number | string | null;
  flag?: DstFlag;
}

const TYPE: Record<XKind, ColumnType> = { number: 'number', text: 'text', boolean: 'boolean', date: 'timestamp', isoText: 'timestamp' };
const DATE_FORMATS = ['yyyy-mm-dd hh:mm:ss', 'dd.mm.yyyy hh:mm', 'm/d/yy h:mm', 'yyyy-mm-dd', 'dd/mm/yyyy hh:mm:ss.000'];

const excelText = fc.string({ unit: 'binary', maxLength: 20 }).map((s) => [...s].filter((c) => c >= ' ' && c !== '\u007f' && c !== '\ufeff').join(''));

function xcell(kind: XKind, zone: string): fc.Arbitrary<XCell> {
  const empty: fc.Arbitrary<XCell> = fc.constant({ cell: null, expect: kind === 'text' || kind === 'boolean' ? null : NaN });
  switch (kind) {
    case 'number':
      return fc.oneof(
        // Excel has no negative zero: -0 is stored as 0.
        { weight: 6, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v): XCell => ({ cell: { t: 'n', v }, expect: v === 0 ? 0 : v })) },
        // Numbers stored as text, and the words that mean "no value".
        { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v): XCell => ({ cell: { t: 's', v: String(v) }, expect: Number(String(v)) })) },
        { weight: 1, arbitrary: fc.constantFrom('NA', '#N/A', 'Bad', '-').map((v): XCell => ({ cell: { t: 's', v }, expect: NaN })) },
        { weight: 1, arbitrary: fc.boolean().map((v): XCell => ({ cell: { t: 'b', v }, expect: v ? 1 : 0 })) },
        { weight: 1, arbitrary: empty },
      );
    case 'text':
      return fc.oneof(
        { weight: 6, arbitrary: excelText.filter((s) => s !== '').map((s): XCell => ({ cell: { t: 's', v: s }, expect: isMissing(s.trim()) ? null : s.trim() })) },
        { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v): XCell => ({ cell: { t: 'n', v }, expect: String(v) })) },
        { weight: 1, arbitrary: fc.boolean().map((v): XCell => ({ cell: { t: 'b', v }, expect: v ? 'true' : 'false' })) },
        { weight: 1, arbitrary: empty },
      );
    case 'boolean':
      return fc.oneof(
        { weight: 5, arbitrary: fc.boolean().map((v): XCell => ({ cell: { t: 'b', v }, expect: v ? 1 : 0 })) },
        { weight: 2, arbitrary: fc.constantFrom<[string, number]>(['yes', 1], ['No', 0], ['WAHR', 1], ['off', 0], ['1', 1]).map(([v, e]): XCell => ({ cell: { t: 's', v }, expect: e })) },
        { weight: 1, arbitrary: fc.constantFrom(0, 1).map((v): XCell => ({ cell: { t: 'n', v }, expect: v })) },
        { weight: 1, arbitrary: empty },
      );
    case 'date': {
      const near = transitions(zone);
      const wall = fc.oneof(
        fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2100, 0, 1) }),
        near.length ? fc.tuple(fc.constantFrom(...near), fc.integer({ min: -180, max: 180 })).map(([t, m]) => wallOf(t, zone) + m * 60_000) : fc.integer({ min: 0, max: 1e12 }),
      );
      return fc.oneof(
        {
          weight: 6,
          arbitrary: fc.tuple(wall, fc.constantFrom(...DATE_FORMATS)).map(([w, z]): XCell => {
            const { utc, flag } = resolveWall(w, zone);
            return { cell: { t: 'n', v: w / DAY + 25569, z }, expect: utc, flag };
          }),
        },
        { weight: 1, arbitrary: empty },
      );
    }
    case 'isoText':
      return timeCell('iso', zone).map((c): XCell => ({ cell: c.text === '' ? null : { t: 's', v: c.text }, expect: c.expect, flag: c.flag ?? 'none' }));
  }
}

interface XTable {
  zone: string;
  kinds: XKind[];
  headers: string[];
  rows: XCell[][];
  titles: string[];
  left: number;
  emptyBefore: number[];
  timeColumn: number | null;
  sheet: number;
  otherSheets: number;
}

const xtable: fc.Arbitrary<XTable> = fc
  .record({ zone: fc.constantFrom(...ZONES), kinds: fc.array(fc.constantFrom<XKind>('number', 'text', 'boolean', 'date', 'isoText'), { minLength: 1, maxLength: 5 }), n: fc.integer({ min: 1, max: 40 }) })
  .chain(({ zone, kinds, n }) =>
    fc.record({
      zone: fc.constant(zone),
      kinds: fc.constant(kinds),
      headers: fc.uniqueArray(excelText.map((s) => s.trim()).filter((s) => s !== '' && !isMissing(s)), { minLength: kinds.length, maxLength: kinds.length }),
      rows: fc.array(fc.tuple(...kinds.map((k) => xcell(k, zone))), { minLength: n, maxLength: n }) as fc.Arbitrary<XCell[][]>,
      titles: fc.array(fc.constantFrom('Plant report', 'Exported 2024-03-01', 'Line 3'), { maxLength: 3 }),
      left: fc.nat(2),
      emptyBefore: fc.array(fc.nat(n - 1), { maxLength: 2 }),
      timeColumn: fc.nat(),
      sheet: fc.nat(2),
      otherSheets: fc.nat(2),
    }),
  )
  .map((t) => {
    const times = t.kinds.map((k, j) => (k === 'date' || k === 'isoText' ? j : -1)).filter((j) => j >= 0);
    return { ...t, timeColumn: times.length && t.timeColumn % 2 === 0 ? times[t.timeColumn % times.length]! : null };
  });

describe('round trip: workbooks written here come back with the same values', () => {
  it('numbers, text, yes/no, Excel dates and ISO text under title rows, with empty rows, on any sheet', async () => {
    await property(
      figures,
      'excel round trip',
      xtable,
      async (t) => {
        const data: (CellObject | null)[][] = [...t.titles.map((s) => [{ t: 's', v: s } as CellObject]), t.headers.map((h): CellObject => ({ t: 's', v: h }))];
        const lines: number[] = [];
        const kept: XCell[][] = [];
        t.rows.forEach((row, r) => {
          if (t.emptyBefore.includes(r)) data.push([]);
          data.push(row.map((c) => c.cell));
          // A row without any value is not a row of the table.
          if (row.some((c) => c.cell !== null)) {
            lines.push(data.length);
            kept.push(row);
          }
        });
        if (kept.length === 0) return;
        // Empty rows between the header and the last row with values are passed over (and counted).
        const blankLines = lines[lines.length - 1]! - (t.titles.length + 1) - kept.length;
        const sheets: [string, WorkSheet][] = Array.from({ length: t.otherSheets + 1 }, (_, i) => [`Other ${i}`, sheetOf([[{ t: 's', v: 'x' }], [{ t: 'n', v: i }]])]);
        const at = t.sheet % sheets.length;
        sheets[at] = ['Data 😀', sheetOf(data, t.left)];
        const file = writeWorkbook(sheets);
        const settings: ReadSettings = {
          encoding: 'utf-8',
          delimiter: ',',
          decimal: '.',
          thousands: '',
          skipLines: t.titles.length,
          hasHeader: true,
          timeColumn: t.timeColumn === null ? null : t.headers[t.timeColumn]!,
          timeFormat: 'iso',
          timeZone: t.zone,
          sheet: 'Data 😀',
        };
        const schema: ColumnSchema[] = t.headers.map((h, j) => ({ name: h, type: TYPE[t.kinds[j]!], unit: null, header: h }));
        const o = await timed('excel read', () => readExcel(file, settings, schema));
        if (!o.ok) throw new Error(`a workbook written here was refused: ${String(o.error)}`);
        const got = o.value as unknown as ReadResult;
        reportInvariants(got, 'excel round trip');
        const problems = new Map<ProblemKind, Expected>();
        kept.forEach((row, r) =>
          row.forEach((c, j) => {
            if ((t.kinds[j] === 'date' || t.kinds[j] === 'isoText') && !Number.isNaN(c.expect)) {
              if (c.flag === 'repeated') addTo(problems, 'dst_repeated', r);
              if (c.flag === 'gap') addTo(problems, 'dst_gap', r);
            }
          }),
        );
        if (t.timeColumn !== null) {
          const times = kept.map((row) => row[t.timeColumn!]!.expect as number);
          times.forEach((v, r) => Number.isNaN(v) && addTo(problems, 'missing_time', r));
          const order = timeOrderProblems(times);
          for (const kind of ['duplicate_time', 'out_of_order'] as const) for (const r of order[kind]) addTo(problems, kind, r);
        }
        t.kinds.forEach((_, j) => kept.every((row) => row[j]!.expect === null || Number.isNaN(row[j]!.expect)) && addTo(problems, 'empty_column', -1));
        for (const e of problems.values()) e.rows.sort((a, b) => a - b);
        const bad = compareRead(got, kept.map((row) => row.map((c) => c.expect)), lines, blankLines, problems);
        expect(bad, JSON.stringify({ kinds: t.kinds, zone: t.zone })).toEqual([]);
      },
      runs(6, 100),
    );
  }, 600_000);
});

// ---------------------------------------------------------------- odd workbooks and damaged files

/** Cells a workbook may hold that the round trip does not make. */
const oddCell: fc.Arbitrary<CellObject | null> = fc.oneof(
  fc.constantFrom<CellObject | null>(
    { t: 'e', v: 0x07 },
    { t: 'e', v: 0x2a },
    { t: 'e', v: 0xff },
    { t: 'n', v: 1e10, z: 'yyyy-mm-dd' },
    { t: 'n', v: 2958466.5, z: 'yyyy-mm-dd hh:mm' },
    { t: 'n', v: -5, z: 'yyyy-mm-dd' },
    { t: 'n', v: 0.5, z: 'hh:mm' },
    { t: 'n', v: 59.5, z: 'yyyy-mm-dd' },
    { t: 'n', v: 60, z: 'yyyy-mm-dd' },
    { t: 'n', v: 1e308, z: 'yyyy-mm-dd' },
    { t: 'n', v: 5e-324, z: 'hh:mm:ss' },
    { t: 's', v: '' },
    { t: 's', v: ' ' },
    { t: 's', v: 'x'.repeat(30_000) },
    { t: 's', v: '=A1+1' },
    { t: 'n', f: 'A1+1' } as CellObject,
    { t: 'z' } as CellObject,
    { t: 'b', v: true },
    { t: 's', v: '2024-03-31 02:30' },
    { t: 's', v: '31.12.2024' },
    null,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v): CellObject => ({ t: 'n', v })),
  fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(...DATE_FORMATS, 'General', '0.00', '@', 'mmm', '[h]:mm')).map(([v, z]): CellObject => ({ t: 'n', v, z })),
  excelText.map((v): CellObject => ({ t: 's', v })),
);

const oddWorkbook = fc.record({
  sheets: fc.array(
    fc.record({
      name: fc.oneof(fc.constantFrom('Sheet1', 'Data', 'Zeit & Druck', "O'Brien", '表'), fc.string({ minLength: 1, maxLength: 10 }).map((s) => s.replace(/[\\/?*[\]:']/g, '_'))),
      rows: fc.array(fc.array(oddCell, { maxLength: 6 }), { maxLength: 30 }),
      left: fc.nat(3),
      ref: fc.constantFrom(undefined, 'A1', 'A1:A1', 'A1:ZZ9999', 'C3:D4'),
      merges: fc.boolean(),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  date1904: fc.boolean(),
});

const damaged = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }).map((b) => ({ bytes: Buffer.from(b), how: 'random bytes' })),
  fc.constantFrom(Buffer.from('time,value\n2024-01-01,1\n'), Buffer.alloc(0), Buffer.from('PK\u0003\u0004 not a zip', 'latin1'), Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0])).map((bytes) => ({ bytes, how: 'not a workbook' })),
  fc.tuple(fc.nat(), fc.nat(255), fc.boolean()).map(([at, byte, cut]) => {
    const good = fs.readFileSync(writeWorkbook([['S', sheetOf([[{ t: 's', v: 'time' }, { t: 's', v: 'v' }], [{ t: 'n', v: 45000, z: 'yyyy-mm-dd' }, { t: 'n', v: 1 }]])]]));
    const i = at % good.length;
    const bytes = cut ? good.subarray(0, i) : Buffer.from(good);
    if (!cut) bytes[i] = bytes[i]! ^ (byte || 1);
    return { bytes, how: cut ? 'a workbook cut short' : 'a workbook with a byte changed' };
  }),
  fc.constant(0).map(() => {
    const wb = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(wb, sheetOf([[{ t: 's', v: 'a' }], [{ t: 'n', v: 1 }]]), 'S');
    return { bytes: XLSX.write(wb, { type: 'buffer', bookType: 'ods' }) as Buffer, how: 'an OpenDocument spreadsheet' };
  }),
);

describe('odd workbooks and damaged files', () => {
  it('refused with a sentence, or read with a report that adds up: never an internal error', async () => {
    await property(
      figures,
      'excel odd workbooks',
      fc.tuple(
        fc.oneof(
          { weight: 3, arbitrary: oddWorkbook.map((w) => ({ w, bytes: null as Buffer | null, how: 'an odd workbook' })) },
          { weight: 1, arbitrary: damaged.map((d) => ({ w: null, bytes: d.bytes, how: d.how })) },
        ),
        fc.record({ timeZone: fc.constantFrom(...ZONES), skipLines: fc.nat(3), hasHeader: fc.boolean(), timeFormat: fc.constantFrom('iso', 'excel-serial', 'dmy') }, { requiredKeys: ['timeZone'] }),
        fc.boolean(),
      ),
      async ([input, overrides, read]) => {
        let file: string;
        if (input.w) {
          const sheets = input.w.sheets;
          file = writeWorkbook(
            sheets.map((s, i): [string, WorkSheet] => {
              const ws = sheetOf(s.rows, s.left, s.ref);
              if (s.merges) ws['!merges'] = [{ s: { r: 0, c: 0 }, e: { r: 1, c: 1 } }];
              return [`${s.name}${i}`.slice(0, 31), ws];
            }),
            { date1904: input.w.date1904 },
          );
        } else {
          file = path.join(dir, `d${fileNo++}.xlsx`);
          fs.writeFileSync(file, input.bytes!);
        }
        const inspected = await timed('excel inspect', () => inspectExcelInWorker(file, overrides as Partial<ReadSettings>));
        if (!inspected.ok) {
          assertExcelRefusal(inspected.error, `inspecting ${input.how}`);
          return;
        }
        reportInvariants(inspected.value.previewTable as unknown as ReadResult, `inspecting ${input.how}`);
        if (!read) return;
        const table = await timed('excel read', () => readExcel(file, inspected.value.sniff.settings, null));
        if (!table.ok) {
          assertExcelRefusal(table.error, `reading ${input.how}`);
          return;
        }
        reportInvariants(table.value as unknown as ReadResult, `reading ${input.how}`);
      },
      runs(8, 120),
      // A date-formatted cell past year 9999: its text threw a RangeError in the worker (an internal error).
      [[{ w: { sheets: [{ name: 'S', rows: [[{ t: 's', v: 'time' }], [{ t: 'n', v: 1e10, z: 'yyyy-mm-dd' }]], left: 0, ref: undefined, merges: false }], date1904: false }, bytes: null, how: 'a date past 9999' }, { timeZone: 'UTC' }, true]],
    );
  }, 600_000);
});
