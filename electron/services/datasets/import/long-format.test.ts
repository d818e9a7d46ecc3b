import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnData, ColumnSchema, LongFormatSettings, ReadSettings } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { readDelimited } from './csv-reader';
import { inspectFiles } from './inspect';
import { detectLongFormat, medianInterval, pivotLong, qualityOf } from './long-format';
import { readFiles } from './pipeline';
import { sniffAny } from './sniff-any';
import type { ParsedTable } from './table';

const T0 = Date.UTC(2024, 4, 1);
const S = 1000;

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-long-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

function write(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * Ten minutes of a historian export: TI100.PV every second (value = seconds),
 * FIC101.PV every 5 s (1000 + s) with nothing from 120 s to 240 s, LIC200.PV
 * every 10 s (2000 + s). FIC101.PV is Bad at 50 s, LIC200.PV Uncertain at
 * 100 s. TI100.PV at 7 s reads "abc", its row at 304 s comes last, and one
 * row has no time.
 */
function historianLines(): string[] {
  const rows: string[] = [];
  let late = '';
  for (let s = 0; s <= 600; s++) {
    const t = iso(T0 + s * S);
    const ti = `${t},TI100.PV,${s === 7 ? 'abc' : s},Good`;
    if (s === 304) late = ti;
    else rows.push(ti);
    if (s % 5 === 0 && !(s > 120 && s < 240)) rows.push(`${t},FIC101.PV,${1000 + s},${s === 50 ? 'Bad' : 'Good'}`);
    if (s % 10 === 0) rows.push(`${t},LIC200.PV,${2000 + s},${s === 100 ? 'Uncertain' : 'Good'}`);
    if (s === 20) rows.push(',TI100.PV,5,Good');
  }
  rows.push(late);
  return ['Time,Tag,Value,Quality', ...rows];
}

let longFile: string;
let settings: ReadSettings & { longFormat: LongFormatSettings };
let long: ParsedTable;

beforeAll(async () => {
  longFile = write('historian.csv', historianLines());
  const sniffed = await sniffAny(longFile, { timeZone: 'UTC' });
  settings = sniffed.settings as typeof settings;
  long = await readDelimited(longFile, sniffed.settings, sniffed.schema);
});

function col(t: ParsedTable, name: string): number[] {
  const j = t.schema.findIndex((c) => c.name === name);
  expect(j).toBeGreaterThanOrEqual(0);
  return Array.from((t.columns[j] as Extract<ColumnData, { values: Float64Array }>).values);
}

function with_(lf: Partial<LongFormatSettings>): ReadSettings & { longFormat: LongFormatSettings } {
  return { ...settings, longFormat: { ...settings.longFormat, ...lf } };
}

describe('detectLongFormat', () => {
  it('finds time, tag, value and quality columns of a historian export', () => {
    expect(settings.longFormat).toEqual({ tagColumn: 'Tag', valueColumn: 'Value', qualityColumn: 'Quality', intervalMs: null, aggregate: 'mean' });
  });

  it('explains the proposal', async () => {
    const sniffed = await sniffAny(longFile, { timeZone: 'UTC' });
    expect(sniffed.explanations.longFormat).toBe(
      'Each row holds one value of one sensor, named in "Tag" (TI100.PV, FIC101.PV, LIC200.PV, …): the values of "Value" become one column per tag on ' +
        'a grid of the median sampling interval of the tags, using the mean of the values in each interval; values that "Quality" marks as bad or uncertain become missing.',
    );
  });

  it('takes tag names without quality, and numeric OPC quality codes', () => {
    const schema: ColumnSchema[] = [
      { name: 'Timestamp', type: 'timestamp', unit: null, header: 'Timestamp' },
      { name: 'PointName', type: 'category', unit: null, header: 'PointName' },
      { name: 'Val', type: 'number', unit: null, header: 'Val' },
    ];
    const preview = Array.from({ length: 20 }, (_, i) => [iso(T0 + i * S), `PLANT:${100 + (i % 3)}`, String(i * 1.5)]);
    expect(detectLongFormat(schema, preview)).toEqual({ tagColumn: 'PointName', valueColumn: 'Val', qualityColumn: null, intervalMs: null, aggregate: 'mean' });
    const withQ = [...schema, { name: 'Q', type: 'integer' as const, unit: null, header: 'Q' }];
    const previewQ = preview.map((r, i) => [...r, i % 7 ? '192' : '0']);
    expect(detectLongFormat(withQ, previewQ)?.qualityColumn).toBe('Q');
  });

  it('does not take a wide file for a long one', async () => {
    const wide = write('wide.csv', ['Time,Temp,Pressure,Flow', ...Array.from({ length: 30 }, (_, i) => `${iso(T0 + i * S)},${20 + i},${1 + i / 10},${i * 3}`)]);
    const s = await sniffAny(wide, { timeZone: 'UTC' });
    expect(s.settings.longFormat).toBeNull();
    expect(s.explanations.longFormat).toBe('Each row holds the values of one time side by side, so the columns are read as they are.');
    // A state column beside one measurement is not a tag column.
    const modes = write('modes.csv', ['Time,Mode,Temp', ...Array.from({ length: 30 }, (_, i) => `${iso(T0 + i * S)},${i % 10 < 5 ? 'Running' : 'Stopped'},${20 + i}`)]);
    expect((await sniffAny(modes, { timeZone: 'UTC' })).settings.longFormat).toBeNull();
  });

  it('keeps the choice the person made', async () => {
    const s = await sniffAny(longFile, { timeZone: 'UTC', longFormat: null });
    expect(s.settings.longFormat).toBeNull();
    expect(s.explanations.longFormat).toMatch(/^You chose to read the columns as they are/);
  });
});

describe('qualityOf and medianInterval', () => {
  it('reads quality words and OPC codes', () => {
    expect(['Good', 'G', 'ok', 'Good_LocalOverride', '192', '216'].map(qualityOf)).toEqual(Array(6).fill('good'));
    expect(['Bad', 'B', 'Uncertain', 'uncertain_lastusable', 'Bad_NoCommunication', '0', '64', '2147483648'].map(qualityOf)).toEqual(Array(8).fill('bad'));
    expect(['Substituted', '', 'Manual'].map(qualityOf)).toEqual([null, null, null]);
  });

  it('takes the median of the tags’ median steps', () => {
    const times: number[] = [];
    const tags: number[] = [];
    for (let s = 0; s < 100; s++) {
      times.push(s * S);
      tags.push(0);
      if (s % 5 === 0) {
        times.push(s * S);
        tags.push(1);
      }
      if (s % 10 === 0) {
        times.push(s * S);
        tags.push(2);
      }
    }
    expect(medianInterval(Float64Array.from(times), Int32Array.from(tags), 3)).toBe(5 * S);
    expect(medianInterval(Float64Array.from(times), Int32Array.from(tags.map((k) => (k === 2 ? -1 : k))), 3)).toBe(3 * S);
    expect(medianInterval(Float64Array.from([1, 1, 1]), Int32Array.from([0, 1, 2]), 3)).toBeNull();
  });
});

describe('pivotLong', () => {
  it('makes one column per tag on the median-interval grid, with means', () => {
    const p = pivotLong(long, settings);
    expect(p.intervalMs).toBe(5 * S);
    expect(p.rowCount).toBe(121);
    expect(p.schema).toEqual([
      { name: 'Time', type: 'timestamp', unit: null, header: 'Time' },
      { name: 'FIC101.PV', type: 'number', unit: null, header: 'FIC101.PV' },
      { name: 'LIC200.PV', type: 'number', unit: null, header: 'LIC200.PV' },
      { name: 'TI100.PV', type: 'number', unit: null, header: 'TI100.PV' },
    ]);
    const time = col(p, 'Time');
    expect(time[0]).toBe(T0);
    expect(time[120]).toBe(T0 + 600 * S);
    const ti = col(p, 'TI100.PV');
    expect(ti[0]).toBe(2); // 0..4
    expect(ti[1]).toBe(7); // 5, 6, 8, 9: "abc" at 7 s is missing
    expect(ti[60]).toBe(302); // 300..304, with 304 s from the end of the file
    expect(ti[120]).toBe(600);
    const fic = col(p, 'FIC101.PV');
    expect(fic[9]).toBe(1045);
    expect(fic[10]).toBeNaN(); // Bad
    expect(fic[24]).toBe(1120);
    expect(fic.slice(25, 48).every(Number.isNaN)).toBe(true); // the gap
    expect(fic[48]).toBe(1240);
    const lic = col(p, 'LIC200.PV');
    expect(lic[2]).toBe(2010);
    expect(lic[3]).toBeNaN(); // no sample at 15 s
    expect(lic[20]).toBeNaN(); // Uncertain
  });

  it('keeps the value with the latest time in each cell with "last"', () => {
    const p = pivotLong(long, with_({ aggregate: 'last' }));
    const ti = col(p, 'TI100.PV');
    expect(ti[0]).toBe(4);
    expect(ti[60]).toBe(304); // the latest time, though not the last row
    expect(col(p, 'LIC200.PV')[2]).toBe(2010);
  });

  it('uses an explicit interval', () => {
    const p = pivotLong(long, with_({ intervalMs: 60 * S }));
    expect(p.intervalMs).toBe(60 * S);
    expect(p.rowCount).toBe(11);
    const ti = col(p, 'TI100.PV');
    expect(ti[0]).toBeCloseTo((1770 - 7) / 59, 10); // 0..59 s without the 7 s "abc"
    expect(ti[1]).toBe(89.5);
    expect(col(p, 'FIC101.PV')[3]).toBeNaN(); // 180..235 s: the gap
  });

  it('counts rows without a tag name instead of dropping them silently', async () => {
    const file = write('untagged.csv', ['Time,Tag,Value,Quality', `${iso(T0)},TI100.PV,1,Good`, `${iso(T0 + S)},,2,Good`, `${iso(T0 + S)},TI100.PV,3,Good`, `${iso(T0 + 2 * S)},TI100.PV,4,Good`]);
    const table = await readDelimited(file, settings, (await sniffAny(file, { timeZone: 'UTC' })).schema);
    const p = pivotLong(table, settings);
    const untagged = p.problems.find((x) => x.kind === 'missing_tag');
    expect(untagged).toMatchObject({ count: 1, title: 'Rows without a tag name', choices: ['skip'], defaultChoice: 'skip' });
    expect(untagged!.examples[0]).toMatchObject({ line: 3, column: 'Tag' });
    expect(col(p, 'TI100.PV')).toEqual([1, 3, 4]);
  });

  it('reports bad quality per tag, and keeps the reader’s problems on grid rows', () => {
    const p = pivotLong(long, settings);
    const kinds = Object.fromEntries(p.problems.map((x) => [x.kind, x]));
    expect(Object.keys(kinds).sort()).toEqual(['bad_quality', 'missing_time', 'not_a_number']);
    expect(kinds.bad_quality).toMatchObject({ count: 2, title: 'Values the historian marked as bad quality', choices: ['missing'], defaultChoice: 'missing' });
    const bad = kinds.bad_quality!.examples;
    // "Bad" is read as no value by the reader, so only the tag and time are known; "Uncertain" is kept.
    expect(bad[0]).toMatchObject({ column: 'FIC101.PV', raw: '' });
    expect(bad[0]!.reason).toMatch(/FIC101\.PV at 2024-05-01 00:00:50 has no quality/);
    expect(bad[1]).toMatchObject({ column: 'LIC200.PV', raw: 'Uncertain' });
    expect(bad[1]!.reason).toBe(`Line ${bad[1]!.line}: the historian marked LIC200.PV at 2024-05-01 00:01:40 as "Uncertain"; the value is left out.`);
    expect(Array.from(p.problemRows.bad_quality!)).toEqual([10, 20]);
    expect(kinds.not_a_number!.examples[0]).toMatchObject({ column: 'Value', raw: 'abc' });
    expect(Array.from(p.problemRows.not_a_number!)).toEqual([1]);
    expect(kinds.missing_time).toMatchObject({ count: 1, choices: ['skip'], defaultChoice: 'skip' });
    expect(p.problemRows.missing_time).toBeUndefined();
    // The reader's duplicate and out-of-order times say nothing about the grid.
    expect(long.problems.map((x) => x.kind)).toContain('out_of_order');
  });

  it('points each grid row at the source line of its first value', () => {
    const p = pivotLong(long, settings);
    expect(p.lines[0]).toBe(2);
    const text = historianLines();
    const at = (s: number) => text.findIndex((l) => l.startsWith(iso(T0 + s * S))) + 1;
    expect(p.lines[1]).toBe(at(5));
    expect(p.lines[60]).toBe(at(300));
  });

  it('refuses grids it cannot hold and columns that are not there', () => {
    expect(() => pivotLong(long, with_({ intervalMs: 0.0001 }))).toThrow(/would have .* rows for 3 tags.*Choose a larger interval/);
    let err: unknown;
    try {
      pivotLong(long, with_({ tagColumn: 'Sensor' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toBe('The tag column "Sensor" is not in the file. Its columns: "Time", "Tag", "Value", "Quality".');
  });

  it('pivots a million long rows in well under a second', () => {
    const n = 1_000_000;
    const nTags = 20;
    const times = new Float64Array(n);
    const codes = new Int32Array(n);
    const values = new Float64Array(n);
    const quality = new Int32Array(n);
    const lines = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const k = i % nTags;
      codes[i] = k;
      times[i] = T0 + Math.floor(i / nTags) * S * (1 + (k % 3));
      values[i] = i;
      quality[i] = i % 97 === 0 ? 1 : 0;
      lines[i] = i + 2;
    }
    const table: ParsedTable = {
      schema: [
        { name: 'Time', header: 'Time', type: 'timestamp', unit: null },
        { name: 'Tag', header: 'Tag', type: 'category', unit: null },
        { name: 'Value', header: 'Value', type: 'number', unit: null },
        { name: 'Quality', header: 'Quality', type: 'category', unit: null },
      ],
      columns: [
        { type: 'timestamp', values: times },
        { type: 'category', codes, dictionary: Array.from({ length: nTags }, (_, k) => `TAG${k}.PV`) },
        { type: 'number', values },
        { type: 'category', codes: quality, dictionary: ['Good', 'Bad'] },
      ],
      rowCount: n,
      lines,
      problems: [],
      problemRows: {},
    };
    const started = performance.now();
    const p = pivotLong(table, with_({}));
    const ms = performance.now() - started;
    expect(p.intervalMs).toBe(2 * S);
    expect(p.schema).toHaveLength(nTags + 1);
    expect(p.problems[0]).toMatchObject({ kind: 'bad_quality', count: Math.ceil(n / 97) });
    console.log(`pivot of ${n.toLocaleString('en-US')} long rows: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
  });
});

describe('long format in the wizard and the import', () => {
  it('previews the pivoted rows and schema', async () => {
    const r = await inspectFiles([longFile], { timeZone: 'UTC' });
    expect(r.settings.longFormat).toEqual(settings.longFormat);
    expect(r.schema.map((c) => c.name)).toEqual(['Time', 'FIC101.PV', 'LIC200.PV', 'TI100.PV']);
    expect(r.preview).toHaveLength(50);
    expect(r.preview[0]).toEqual([T0, 1000, 2000, 2]);
    expect(r.preview[1]).toEqual([T0 + 5 * S, 1005, null, 7]);
    expect(r.explanations.longFormat).toMatch(/on a 5 s grid \(the median sampling interval of the tags\)/);
  });

  it('imports the pivoted table', async () => {
    const staged = await readFiles({ paths: [longFile], settings }, {});
    expect(staged.rowCount).toBe(121);
    expect(staged.schema.map((c) => c.name)).toEqual(['Time', 'FIC101.PV', 'LIC200.PV', 'TI100.PV']);
    expect(staged.problems.map((p) => p.kind)).toEqual(['not_a_number', 'missing_time', 'bad_quality']);
    const wide = await readFiles({ paths: [longFile], settings: { ...settings, longFormat: null } }, {});
    expect(wide.schema.map((c) => c.name)).toEqual(['Time', 'Tag', 'Value', 'Quality']);
  });
});
