import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnData, ReadSettings } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { inspectExcelInWorker, isExcelFile, listSheets, readExcel, sniffExcel } from './excel';
import { inspectFiles } from './inspect';
import { readFiles } from './pipeline';

// The tests write their fixtures with SheetJS itself (the reader only loads it in its worker).
const XLSX = createRequire(import.meta.url)('xlsx') as typeof import('xlsx');

type Cell = number | string | boolean | null | { at: string; fmt?: string };

const DAY_MS = 86_400_000;

/** Excel serial day number of a wall-clock time "yyyy-mm-dd[ hh:mm]". */
function serial(wall: string): number {
  const [d, t = '00:00'] = wall.split(' ');
  const [y, m, day] = d!.split('-').map(Number);
  const [h, mi] = t.split(':').map(Number);
  return Date.UTC(y!, m! - 1, day!, h!, mi!) / DAY_MS + 25569;
}

function sheet(rows: Cell[][]): import('xlsx').WorkSheet {
  const ws: import('xlsx').WorkSheet = {};
  let maxC = 0;
  rows.forEach((row, r) =>
    row.forEach((v, c) => {
      if (v === null) return;
      maxC = Math.max(maxC, c);
      const ref = XLSX.utils.encode_cell({ r, c });
      if (typeof v === 'number') ws[ref] = { t: 'n', v };
      else if (typeof v === 'string') ws[ref] = { t: 's', v };
      else if (typeof v === 'boolean') ws[ref] = { t: 'b', v };
      else ws[ref] = { t: 'n', v: serial(v.at), z: v.fmt ?? (v.at.includes(' ') ? 'yyyy-mm-dd hh:mm' : 'yyyy-mm-dd') };
    }),
  );
  if (rows.length) ws['!ref'] = XLSX.utils.encode_range({ s: { r: 0, c: 0 }, e: { r: rows.length - 1, c: maxC } });
  return ws;
}

let dir: string;

function workbook(name: string, sheets: Record<string, Cell[][]>, opts: { date1904?: boolean } = {}): string {
  const wb = XLSX.utils.book_new();
  for (const [n, rows] of Object.entries(sheets)) XLSX.utils.book_append_sheet(wb, sheet(rows), n);
  if (opts.date1904) wb.Workbook = { WBProps: { date1904: true } };
  const file = path.join(dir, name);
  fs.writeFileSync(file, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
  return file;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * 60 hourly rows from 2024-03-31 00:30 (Berlin: 02:30 does not exist that
 * night), a temperature with a unit and one bad text cell, notes, a date-only
 * column and a yes/no column; one blank row after the 25th.
 */
function plantRows(): Cell[][] {
  const rows: Cell[][] = [['Time', 'Temp [°C]', 'Note', 'Day', 'Running']];
  for (let i = 0; i < 60; i++) {
    const t = new Date(Date.UTC(2024, 2, 31, 0, 30) + i * 3_600_000);
    const at = `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`;
    const temp: Cell = i === 10 ? 'x12' : i === 11 ? null : i === 12 ? '15.5' : i * 0.1 + 0.2;
    rows.push([{ at }, temp, i % 4 === 1 ? null : i % 2 ? 'check' : 'ok', { at: `2024-04-0${1 + (i % 3)}` }, i % 5 !== 0]);
    if (i === 25) rows.push([]);
  }
  return rows;
}

function nums(col: ColumnData): number[] {
  if ('codes' in col) throw new Error('not numeric');
  return Array.from(col.values);
}

function texts(col: ColumnData): (string | null)[] {
  if (!('codes' in col)) throw new Error('not text');
  return Array.from(col.codes, (c) => (c < 0 ? null : col.dictionary[c]!));
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an error');
}

let plant: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-excel-'));
  plant = workbook('plant.xlsx', { Notes: [], Data: plantRows(), Other: [['Name', 'Value'], ['a', 1], ['b', 2]] });
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('sniffExcel', () => {
  it('reads the first sheet with data and detects header, units, time column and types', async () => {
    const s = await sniffExcel(plant, { timeZone: 'Europe/Berlin' });
    expect(s.settings).toMatchObject({
      sheet: 'Data',
      skipLines: 0,
      hasHeader: true,
      timeColumn: 'Time',
      timeFormat: 'excel-serial',
      timeZone: 'Europe/Berlin',
      decimal: '.',
      delimiter: ',',
      longFormat: null,
    });
    expect(s.explanations.sheet).toBe('The first sheet with data, "Data", is read; the file has 3 sheets.');
    expect(s.schema).toEqual([
      { name: 'Time', type: 'timestamp', unit: null, header: 'Time' },
      { name: 'Temp', type: 'number', unit: '°C', header: 'Temp [°C]' },
      { name: 'Note', type: 'category', unit: null, header: 'Note' },
      { name: 'Day', type: 'timestamp', unit: null, header: 'Day' },
      { name: 'Running', type: 'boolean', unit: null, header: 'Running' },
    ]);
    expect(s.preview[0]).toEqual(['2024-03-31 00:30:00', '0.2', 'ok', '2024-04-01', 'false']);
    expect(s.preview[1]).toEqual(['2024-03-31 01:30:00', String(1 * 0.1 + 0.2), '', '2024-04-02', 'true']);
    expect(s.timeGuess?.format).toBe('excel-serial');
  });

  it('lists the sheets with the size of their used range', async () => {
    expect(await listSheets(plant)).toEqual([
      { name: 'Notes', rows: 0, columns: 0 },
      { name: 'Data', rows: 62, columns: 5 },
      { name: 'Other', rows: 3, columns: 2 },
    ]);
  });

  it('uses the sheet the person chose, and names the sheets when it does not exist', async () => {
    const s = await sniffExcel(plant, { sheet: 'Other' });
    expect(s.settings.sheet).toBe('Other');
    expect(s.explanations.sheet).toBe('You chose the sheet "Other"; the file has 3 sheets.');
    expect(s.schema.map((c) => [c.name, c.type])).toEqual([
      ['Name', 'category'],
      ['Value', 'integer'],
    ]);
    const err = await rejection(sniffExcel(plant, { sheet: 'Nope' }));
    expect(err.code).toBe('bad_input');
    expect(err.message).toBe('plant.xlsx has no sheet "Nope". Its sheets: "Notes", "Data", "Other".');
  });

  it('passes over a title above the table, names blank header cells and reads dates written as text', async () => {
    const file = workbook('titled.xlsx', {
      Export: [
        ['Export from the historian, 2024-01-01'],
        [],
        ['Timestamp', null, 'Flow (m3/h)'],
        ['2024-01-01 00:00:00', 'A', 1.5],
        ['2024-01-01 00:01:00', 'B', 2.5],
        ['2024-01-01 00:02:00', 'A', 3],
        ['2024-01-01 00:03:00', 'B', null],
      ],
    });
    const s = await sniffExcel(file, { timeZone: 'UTC' });
    expect(s.settings).toMatchObject({ skipLines: 2, hasHeader: true, timeColumn: 'Timestamp', timeFormat: 'iso' });
    expect(s.explanations.skipLines).toBe('2 rows above the header are skipped (starting "Export from the historian, 2024-01-01").');
    expect(s.schema).toEqual([
      { name: 'Timestamp', type: 'timestamp', unit: null, header: 'Timestamp' },
      { name: 'Column 2', type: 'category', unit: null, header: 'Column 2' },
      { name: 'Flow', type: 'number', unit: 'm3/h', header: 'Flow (m3/h)' },
    ]);
    const t = await readExcel(file, s.settings, s.schema);
    expect(nums(t.columns[0]!)).toEqual([0, 1, 2, 3].map((m) => Date.UTC(2024, 0, 1, 0, m)));
    expect(texts(t.columns[1]!)).toEqual(['A', 'B', 'A', 'B']);
    expect(nums(t.columns[2]!)).toEqual([1.5, 2.5, 3, NaN]);
    expect(Array.from(t.lines)).toEqual([4, 5, 6, 7]);
  });

  it('reads dates of workbooks in the 1904 date system', async () => {
    const file = workbook('mac.xlsx', { S: [['Date', 'V'], [{ at: '2020-04-01' }, 1], [{ at: '2020-04-02' }, 2]] }, { date1904: true });
    // The cells hold 1900-system serials; in a 1904 workbook the same numbers are 4 years and a day later.
    const s = await sniffExcel(file, { timeZone: 'UTC' });
    const t = await readExcel(file, s.settings, s.schema);
    expect(nums(t.columns[0]!)).toEqual([Date.UTC(2024, 3, 2), Date.UTC(2024, 3, 3)]);
  });
});

describe('readExcel', () => {
  let settings: ReadSettings;
  let table: Awaited<ReturnType<typeof readExcel>>;

  beforeAll(async () => {
    const s = await sniffExcel(plant, { timeZone: 'Europe/Berlin' });
    settings = s.settings;
    table = await readExcel(plant, settings, s.schema);
  });

  it('keeps numbers as numbers, reads text numbers and reports text that is not a number', () => {
    expect(table.rowCount).toBe(60);
    expect(table.sheet).toBe('Data');
    expect(table.sheets).toEqual(['Notes', 'Data', 'Other']);
    const temp = nums(table.columns[1]!);
    expect(temp[0]).toBe(0.2);
    expect(temp[1]).toBe(1 * 0.1 + 0.2);
    expect(temp[59]).toBe(59 * 0.1 + 0.2);
    expect(temp[10]).toBeNaN();
    expect(temp[11]).toBeNaN();
    expect(temp[12]).toBe(15.5);
    const nan = table.problems.find((p) => p.kind === 'not_a_number')!;
    expect(nan.count).toBe(1);
    expect(nan.examples[0]).toEqual({ line: 12, column: 'Temp', raw: 'x12', reason: 'Row 12, column "Temp": "x12" is not a number.' });
    expect(Array.from(table.problemRows.not_a_number!)).toEqual([10]);
  });

  it('turns date cells into instants in the time zone, flagging the hour clocks skip', () => {
    const time = nums(table.columns[0]!);
    expect(time[0]).toBe(Date.UTC(2024, 2, 30, 23, 30)); // 00:30 CET
    expect(time[1]).toBe(Date.UTC(2024, 2, 31, 0, 30)); // 01:30 CET
    expect(time[2]).toBe(Date.UTC(2024, 2, 31, 1, 30)); // 02:30 does not exist: moved to 03:30 CEST
    expect(time[3]).toBe(Date.UTC(2024, 2, 31, 1, 30)); // 03:30 CEST
    expect(time[4]).toBe(Date.UTC(2024, 2, 31, 2, 30));
    const gap = table.problems.find((p) => p.kind === 'dst_gap')!;
    expect(gap.count).toBe(1);
    expect(gap.examples[0]).toMatchObject({ line: 4, column: 'Time', raw: '2024-03-31 02:30:00' });
    const dup = table.problems.find((p) => p.kind === 'duplicate_time')!;
    expect(dup.examples[0]).toMatchObject({ line: 5, column: 'Time' });
    // Date-only cells are local midnight.
    const day = nums(table.columns[3]!);
    expect(day.slice(0, 3)).toEqual([Date.UTC(2024, 2, 31, 22), Date.UTC(2024, 3, 1, 22), Date.UTC(2024, 3, 2, 22)]);
  });

  it('reads empty cells as missing, booleans as booleans, and passes over blank rows', () => {
    expect(texts(table.columns[2]!).slice(0, 4)).toEqual(['ok', null, 'ok', 'check']);
    const running = table.columns[4]!;
    expect(running.type).toBe('boolean');
    expect(Array.from((running as { values: Uint8Array }).values.slice(0, 6))).toEqual([0, 1, 1, 1, 1, 0]);
    expect(table.blankLines).toBe(1);
    // Sheet rows: header in row 1, data from row 2, the blank row 28 is skipped.
    expect(table.lines[0]).toBe(2);
    expect(table.lines[25]).toBe(27);
    expect(table.lines[26]).toBe(29);
  });

  it('detects the schema itself when given none, and stops at maxRows', async () => {
    const t = await readExcel(plant, settings, null, { maxRows: 5 });
    expect(t.rowCount).toBe(5);
    expect(t.schema).toEqual(table.schema);
    expect(nums(t.columns[1]!)).toEqual(nums(table.columns[1]!).slice(0, 5));
  });

  it('reports missing and out-of-order times, and empty columns', async () => {
    const file = workbook('gaps.xlsx', {
      S: [
        ['Time', 'Value', 'Spare'],
        [{ at: '2024-01-01 00:00' }, 1, null],
        [null, 2, null],
        [{ at: '2024-01-01 00:02' }, 3, null],
        [{ at: '2024-01-01 00:01' }, 4, null],
        [{ at: '2024-01-01 00:02' }, 5, null],
        [{ at: '2024-01-01 00:03' }, 6, null],
      ],
    });
    const s = await sniffExcel(file, { timeZone: 'UTC' });
    const t = await readExcel(file, s.settings, s.schema);
    const kinds = Object.fromEntries(t.problems.map((p) => [p.kind, p]));
    expect(kinds.missing_time).toMatchObject({ count: 1, defaultChoice: 'skip' });
    expect(kinds.missing_time!.examples[0]).toMatchObject({ line: 3, column: 'Time' });
    expect(kinds.out_of_order!.examples[0]).toMatchObject({ line: 5 });
    expect(kinds.duplicate_time!.examples[0]).toMatchObject({ line: 6 });
    expect(kinds.empty_column!.examples[0]).toMatchObject({ line: 1, column: 'Spare' });
    expect(Array.from(t.problemRows.missing_time!)).toEqual([1]);
  });

  it('stops when the job is cancelled', async () => {
    const err = await rejection(
      readExcel(plant, settings, null, {
        checkCancelled: () => {
          throw new AppError('cancelled');
        },
      }),
    );
    expect(err.code).toBe('cancelled');
  });
});

describe('files that are not workbooks', () => {
  it('says that a renamed CSV or random bytes are not Excel workbooks', async () => {
    const csv = path.join(dir, 'renamed.xlsx');
    fs.writeFileSync(csv, 'time,value\n2024-01-01,1\n');
    let err = await rejection(sniffExcel(csv));
    expect(err.code).toBe('bad_input');
    expect(err.message).toMatch(/^renamed\.xlsx is not an Excel workbook \(it holds plain text/);
    const junk = path.join(dir, 'junk.xlsx');
    fs.writeFileSync(junk, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    err = await rejection(readExcel(junk, (await sniffExcel(plant)).settings, null));
    expect(err.message).toMatch(/^junk\.xlsx is not an Excel workbook \(/);
  });

  it('asks to save old .xls files as .xlsx or CSV', async () => {
    const wb = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(wb, sheet([['a'], [1]]), 'S');
    const file = path.join(dir, 'old.xls');
    fs.writeFileSync(file, XLSX.write(wb, { type: 'buffer', bookType: 'biff8' }) as Buffer);
    expect(isExcelFile(file)).toBe(true);
    const err = await rejection(sniffExcel(file));
    expect(err.code).toBe('bad_input');
    expect(err.message).toMatch(/old\.xls is in the old Excel 97-2003 format \(\.xls\).*save it as an Excel Workbook \(\.xlsx\) or as CSV/);
  });

  it('says when a workbook is protected with a password', async () => {
    const cfb = XLSX.CFB.utils.cfb_new();
    XLSX.CFB.utils.cfb_add(cfb, '/EncryptionInfo', Buffer.from([4, 0, 4, 0, 0x40, 0, 0, 0]));
    XLSX.CFB.utils.cfb_add(cfb, '/EncryptedPackage', Buffer.alloc(1024, 7));
    const file = path.join(dir, 'secret.xlsx');
    fs.writeFileSync(file, XLSX.CFB.write(cfb, { type: 'buffer' }) as Buffer);
    const err = await rejection(sniffExcel(file));
    expect(err.code).toBe('bad_input');
    expect(err.message).toMatch(/^secret\.xlsx is protected with a password.*remove the password/);
  });

  it('reports a missing file as not found', async () => {
    const err = await rejection(sniffExcel(path.join(dir, 'gone.xlsx')));
    expect(err.code).toBe('not_found');
  });

  it('routes by name and by content', () => {
    const zipped = path.join(dir, 'book.dat');
    fs.copyFileSync(plant, zipped);
    expect(isExcelFile(zipped)).toBe(true);
    const csv = path.join(dir, 'plain.csv');
    fs.writeFileSync(csv, 'a,b\n1,2\n');
    expect(isExcelFile(csv)).toBe(false);
    expect(isExcelFile(path.join(dir, 'not-there.xlsx'))).toBe(true);
  });
});

describe('Excel in the wizard and the import', () => {
  it('never loads xlsx outside the worker', () => {
    const src = fs.readFileSync(path.join(__dirname, 'excel.ts'), 'utf8');
    const imports = src.split('\n').filter((l) => /from 'xlsx'|require\('xlsx'\)/.test(l));
    expect(imports).toEqual(["import type { CellObject, WorkBook } from 'xlsx';"]);
  });

  it('inspects a workbook in a worker: settings, sheets and the first rows as the import reads them', async () => {
    const r = await inspectFiles([plant], { timeZone: 'Europe/Berlin' });
    expect(r.sheets).toEqual(['Notes', 'Data', 'Other']);
    expect(r.settings.sheet).toBe('Data');
    expect(r.schema.map((c) => c.name)).toEqual(['Time', 'Temp', 'Note', 'Day', 'Running']);
    expect(r.preview).toHaveLength(50);
    expect(r.preview[0]).toEqual([Date.UTC(2024, 2, 30, 23, 30), 0.2, 'ok', Date.UTC(2024, 2, 31, 22), false]);
    const typed = await inspectFiles([plant], { timeZone: 'Europe/Berlin' }, { 'Temp [°C]': 'text' });
    expect(typed.schema[1]!.type).toBe('text');
    expect(typed.preview[0]![1]).toBe('0.2');
  });

  it('proposes and previews the historian long format in a workbook', async () => {
    const rows: Cell[][] = [['Time', 'Tag', 'Value', 'Quality']];
    for (let i = 0; i < 120; i++) {
      const at = `2024-05-01 10:${pad(Math.floor(i / 2))}`;
      rows.push([{ at }, i % 2 ? 'FIC101.PV' : 'TI200.PV', i, i === 7 ? 'Bad' : 'Good']);
    }
    const file = workbook('long.xlsx', { Historian: rows });
    const { sniff, previewTable } = await inspectExcelInWorker(file, { timeZone: 'UTC' });
    expect(sniff.settings.longFormat).toEqual({ tagColumn: 'Tag', valueColumn: 'Value', qualityColumn: 'Quality', intervalMs: null, aggregate: 'mean' });
    expect(previewTable.rowCount).toBe(120);
    const r = await inspectFiles([file], { timeZone: 'UTC' });
    expect(r.schema.map((c) => c.name)).toEqual(['Time', 'FIC101.PV', 'TI200.PV']);
    expect(r.preview[0]).toEqual([Date.UTC(2024, 4, 1, 10, 0), 1, 0]);
    expect(r.preview[3]).toEqual([Date.UTC(2024, 4, 1, 10, 3), null, 6]);
    expect(r.explanations.longFormat).toMatch(/a 1 min grid \(the median sampling interval of the tags\)/);
    const staged = await readFiles({ paths: [file], settings: r.settings }, {});
    expect(staged.rowCount).toBe(60);
    expect(staged.schema.map((c) => c.name)).toEqual(['Time', 'FIC101.PV', 'TI200.PV']);
    expect(staged.problems.map((p) => [p.kind, p.count])).toEqual([['bad_quality', 1]]);
  });

  it('imports a workbook through the pipeline', async () => {
    const s = await sniffExcel(plant, { timeZone: 'Europe/Berlin' });
    const staged = await readFiles({ paths: [plant], settings: s.settings }, {});
    expect(staged.rowCount).toBe(60);
    expect(staged.schema.map((c) => c.type)).toEqual(['timestamp', 'number', 'category', 'timestamp', 'boolean']);
    const typed = await readFiles({ paths: [plant], settings: s.settings, types: { Note: 'text' } }, {});
    expect(typed.schema[2]!.type).toBe('text');
    expect(typed.problems.map((p) => p.kind)).toEqual(staged.problems.map((p) => p.kind));
  });
});
