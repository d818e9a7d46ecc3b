import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReadSettings } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { sniff, sniffFile, splitRecords, splitUnit } from './sniff';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-sniff-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

const rowsOf = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';

const KEYS: (keyof ReadSettings)[] = ['encoding', 'delimiter', 'decimal', 'thousands', 'skipLines', 'hasHeader', 'timeColumn', 'timeFormat', 'timeZone'];

describe('splitRecords', () => {
  it('follows quotes, doubled quotes and line breaks inside quotes', () => {
    const recs = splitRecords('a,"b,c","say ""hi"""\n1,"two\nlines",3\r\n\nx,y,\n', ',');
    expect(recs.map((r) => [r.line, r.blank, r.fields])).toEqual([
      [1, false, ['a', 'b,c', 'say "hi"']],
      [2, false, ['1', 'two\nlines', '3']],
      [4, true, []],
      [5, false, ['x', 'y', '']],
    ]);
  });

  it('treats runs of spaces as one separator in whitespace mode', () => {
    const recs = splitRecords('  1 2   3 \n4\t5 6\n', ' ');
    expect(recs.map((r) => r.fields)).toEqual([
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
  });
});

describe('splitUnit', () => {
  it('takes a trailing bracketed or parenthesised unit', () => {
    expect(splitUnit('Temp [°C]')).toEqual({ name: 'Temp', unit: '°C' });
    expect(splitUnit('Flow (m3/h)')).toEqual({ name: 'Flow', unit: 'm3/h' });
    expect(splitUnit('Air temperature [K]')).toEqual({ name: 'Air temperature', unit: 'K' });
    expect(splitUnit('Pressure in bar')).toEqual({ name: 'Pressure in bar', unit: null });
    expect(splitUnit('Pump (north side)')).toEqual({ name: 'Pump (north side)', unit: null });
    expect(splitUnit('Temp (2)')).toEqual({ name: 'Temp (2)', unit: null });
    expect(splitUnit('Mode (a, b)')).toEqual({ name: 'Mode (a, b)', unit: null });
    expect(splitUnit('[°C]')).toEqual({ name: '[°C]', unit: null });
    expect(splitUnit('Level [a very long unit text]')).toEqual({ name: 'Level [a very long unit text]', unit: null });
  });
});

describe('sniff', () => {
  const body = (d: string) => `time${d}Temp [°C]${d}Flow (m3/h)${d}State\n` + rowsOf(30, (i) => [`2024-03-01 00:${String(i).padStart(2, '0')}:00`, `${20 + i}.5`, `${i}`, i % 2 ? 'run' : 'stop'].join(d));

  it.each([
    [',', 'Commas'],
    [';', 'Semicolons'],
    ['\t', 'Tabs'],
    ['|', 'Vertical bars'],
  ])('finds the delimiter %j', (d, word) => {
    const r = sniff(body(d), 'x.csv');
    expect(r.settings.delimiter).toBe(d);
    expect(r.settings.hasHeader).toBe(true);
    expect(r.settings.skipLines).toBe(0);
    expect(r.schema.map((c) => [c.name, c.unit, c.type])).toEqual([
      ['time', null, 'timestamp'],
      ['Temp', '°C', 'number'],
      ['Flow', 'm3/h', 'integer'],
      ['State', null, 'category'],
    ]);
    expect(r.settings.timeColumn).toBe('time');
    expect(r.settings.timeFormat).toBe('iso');
    expect(r.explanations.delimiter).toContain(word);
    for (const k of KEYS) expect(typeof r.explanations[k], k).toBe('string');
    expect(r.preview).toHaveLength(30);
    expect(r.preview[0]).toEqual(['2024-03-01 00:00:00', '20.5', '0', 'stop']);
  });

  it('reads decimal commas with points grouping thousands', () => {
    const text = 'Zeit;Leistung [kW];Temp\n' + rowsOf(20, (i) => `0${1 + (i % 9)}.03.2024 12:00;1.${200 + i},5;${i},25`);
    const r = sniff(text, 'x.csv');
    expect(r.settings).toMatchObject({ delimiter: ';', decimal: ',', thousands: '.', timeFormat: 'dmy', timeColumn: 'Zeit' });
    expect(r.explanations.delimiter).toMatch(/Semicolons separate the values.*commas are decimal marks/);
    expect(r.explanations.thousands).toContain('Points group thousands');
    expect(r.schema[1]!.type).toBe('number');
  });

  it('takes 12,5 with semicolons as decimal comma', () => {
    const r = sniff('a;b\n' + rowsOf(10, (i) => `${i},5;${i}`), 'x.csv');
    expect(r.settings).toMatchObject({ delimiter: ';', decimal: ',', thousands: '' });
    expect(r.explanations.decimal).toBe('Commas are decimal marks (0,5).');
  });

  it('never takes the comma as decimal mark when it separates the values', () => {
    const r = sniff('a,b\n' + rowsOf(10, (i) => `"${i},5",${i}`), 'x.csv');
    expect(r.settings.delimiter).toBe(',');
    expect(r.settings.decimal).toBe('.');
  });

  it('reads 1,234.5 as thousands comma with decimal point', () => {
    const r = sniff('a\tb\n' + rowsOf(10, (i) => `1,${100 + i}.5\t${i}`), 'x.csv');
    expect(r.settings).toMatchObject({ delimiter: '\t', decimal: '.', thousands: ',' });
    expect(r.schema[0]!.type).toBe('number');
  });

  it('finds a historian preamble before the header', () => {
    const text = 'Exported from PI\nServer: PLANT-HIST-01\n\nTimestamp,TIC101.PV [°C],FIC202.PV\n' + rowsOf(20, (i) => `2024-03-01T00:00:${String(i).padStart(2, '0')}Z,${70 + i / 10},${i}`);
    const r = sniff(text, 'pi.csv');
    expect(r.settings.skipLines).toBe(3);
    expect(r.settings.hasHeader).toBe(true);
    expect(r.schema.map((c) => c.name)).toEqual(['Timestamp', 'TIC101.PV', 'FIC202.PV']);
    expect(r.explanations.skipLines).toContain('3 lines');
    expect(r.explanations.skipLines).toContain('Exported from PI');
  });

  it('skips a preamble line that happens to have as many fields as the table', () => {
    const text = 'Exported from PI, version 3\nTag,Value\n' + rowsOf(20, (i) => `2024-03-01 00:00:${String(i).padStart(2, '0')},${i}.5`);
    const r = sniff(text, 'pi.csv');
    expect(r.settings.skipLines).toBe(1);
    expect(r.schema.map((c) => c.name)).toEqual(['Tag', 'Value']);
  });

  it('finds the header after a preamble whose lines have fewer semicolons', () => {
    const text = 'Report;Plant A\nExported;2024-03-01\nTime;Temp;Flow\n' + rowsOf(10, (i) => `0${(i % 9) + 1}.03.2024 00:00;12,${i};3`);
    const r = sniff(text, 'x.csv');
    expect(r.settings).toMatchObject({ delimiter: ';', decimal: ',', skipLines: 2, hasHeader: true, timeColumn: 'Time', timeFormat: 'dmy' });
  });

  it('reads a US Excel export (month first, quoted thousands)', () => {
    const r = sniff('Timestamp,Value\n' + rowsOf(10, (i) => `3/${i + 1}/2024 1:0${i} PM,"1,23${i}.5"`), 'x.csv');
    expect(r.settings).toMatchObject({ delimiter: ',', decimal: '.', thousands: ',', timeColumn: 'Timestamp', timeFormat: 'mdy' });
    expect(r.schema[1]!.type).toBe('number');
  });

  it('names an unnamed first column (a pandas index)', () => {
    const r = sniff(',a,b\n' + rowsOf(10, (i) => `${i},${i}.5,x${i % 2}`), 'x.csv');
    expect(r.settings.hasHeader).toBe(true);
    expect(r.schema.map((c) => c.name)).toEqual(['Column 1', 'a', 'b']);
  });

  it('sees when there is no header', () => {
    const r = sniff(rowsOf(20, (i) => `${i},${i * 2}.5,${i % 3}`), 'x.csv');
    expect(r.settings.hasHeader).toBe(false);
    expect(r.schema.map((c) => c.name)).toEqual(['Column 1', 'Column 2', 'Column 3']);
    expect(r.schema.map((c) => c.header)).toEqual(['Column 1', 'Column 2', 'Column 3']);
    expect(r.preview[0]).toEqual(['0', '0.5', '0']);
  });

  it('finds a header above text columns when its names do not recur', () => {
    const r = sniff('Line,Shift\n' + rowsOf(20, (i) => `L${i % 3},${['early', 'late'][i % 2]}`), 'x.csv');
    expect(r.settings.hasHeader).toBe(true);
    expect(r.schema.map((c) => c.type)).toEqual(['category', 'category']);
  });

  it('renames duplicate column names and reports them', () => {
    const r = sniff('Temp,Temp,Temp [°C],Temp (2)\n' + rowsOf(5, (i) => `${i},${i},${i},${i}`), 'x.csv');
    expect(r.schema.map((c) => c.name)).toEqual(['Temp', 'Temp (2)', 'Temp (3)', 'Temp (2) (2)']);
    expect(r.schema.map((c) => c.header)).toEqual(['Temp', 'Temp', 'Temp [°C]', 'Temp (2)']);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ kind: 'duplicate_column', count: 3 });
  });

  it('prefers a column whose name says time', () => {
    const text = 'batch_start,Zeit,value\n' + rowsOf(10, (i) => `2024-01-0${1 + (i % 9)} 00:00,2024-03-01 00:00:0${i},${i}`);
    expect(sniff(text, 'x.csv').settings.timeColumn).toBe('Zeit');
  });

  it('accepts numeric time only when the name says time', () => {
    const rows = rowsOf(10, (i) => `${1709251200 + i * 60},${i}`);
    expect(sniff('unix_time,v\n' + rows, 'x.csv').settings).toMatchObject({ timeColumn: 'unix_time', timeFormat: 'unix-s' });
    expect(sniff('counter,v\n' + rows, 'x.csv').settings.timeColumn).toBeNull();
  });

  it('applies overrides and re-derives what depends on them', () => {
    const text = 'a;b\n' + rowsOf(10, (i) => `${i},5;${i}`);
    const r = sniff(text, 'x.csv', { overrides: { delimiter: ',' } });
    expect(r.settings.delimiter).toBe(',');
    expect(r.settings.decimal).toBe('.');
    expect(r.explanations.delimiter).toContain('You chose');
    const noHeader = sniff(body(','), 'x.csv', { overrides: { hasHeader: false, timeColumn: null, timeZone: 'Europe/Berlin' } });
    expect(noHeader.settings).toMatchObject({ hasHeader: false, timeColumn: null, timeFormat: null, timeZone: 'Europe/Berlin' });
    expect(noHeader.schema[0]!.name).toBe('Column 1');
    expect(noHeader.preview).toHaveLength(31);
    const skip = sniff('junk\n' + body(','), 'x.csv', { overrides: { skipLines: 1 } });
    expect(skip.settings.skipLines).toBe(1);
    expect(skip.schema[0]!.name).toBe('time');
  });

  it('finds runs of spaces when asked (C-MAPSS style)', () => {
    const r = sniff(rowsOf(20, (i) => `1 ${i + 1} -0.0007 ${i}.25 100.0  `), 'x.txt', { whitespace: true });
    expect(r.settings.delimiter as string).toBe(' ');
    expect(r.schema).toHaveLength(5);
    expect(r.explanations.delimiter).toContain('Spaces');
  });

  it('uses this computer’s time zone unless told', () => {
    expect(sniff(body(','), 'x.csv').settings.timeZone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('refuses empty text and a header without rows', () => {
    expect(() => sniff('\n\n  \n', 'e.csv')).toThrow(/e.csv is empty/);
    expect(() => sniff('Time,Temp,Flow\n', 'h.csv')).toThrow(/h.csv has a header line but no data rows/);
  });
});

describe('sniffFile', () => {
  it('detects encoding and decodes Windows-1252 header names', () => {
    const file = write('w1252.csv', Buffer.from('Zeit;Temp [°C];Dicke [µm];Drück\n' + rowsOf(5, (i) => `01.03.2024 00:0${i};${i},5;${i};ä`), 'latin1'));
    return sniffFile(file).then((r) => {
      expect(r.settings.encoding).toBe('windows-1252');
      expect(r.schema.map((c) => [c.name, c.unit])).toEqual([
        ['Zeit', null],
        ['Temp', '°C'],
        ['Dicke', 'µm'],
        ['Drück', null],
      ]);
      expect(r.explanations.encoding).toContain('1252');
    });
  });

  it('cuts a large file at the last full line', async () => {
    const big = 'a,b\n' + rowsOf(150_000, (i) => `${i},${i}.5`);
    expect(big.length).toBeGreaterThan(1 << 20);
    const r = await sniffFile(write('big.csv', big));
    expect(r.settings.delimiter).toBe(',');
    expect(r.schema.map((c) => c.type)).toEqual(['integer', 'number']);
  });

  it('names the file when it is missing, empty or binary', async () => {
    await expect(sniffFile(path.join(dir, 'nope.csv'))).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('nope.csv does not exist') });
    await expect(sniffFile(write('empty.csv', ''))).rejects.toMatchObject({ code: 'bad_input', message: 'empty.csv is empty.' });
    const bin = Buffer.alloc(2000);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 31) % 256;
    await expect(sniffFile(write('blob.csv', bin))).rejects.toBeInstanceOf(AppError);
    await expect(sniffFile(dir)).rejects.toMatchObject({ code: 'bad_input', message: expect.stringContaining('is a folder') });
  });
});
