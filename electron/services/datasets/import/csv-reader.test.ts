import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ColumnData, ColumnSchema, Delimiter, ReadSettings } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { isoFastPath, readDelimited, readDelimitedPreview, sniffFile, type ReadOptions, type ReadResult } from './csv-reader';
import { createTimeParser } from './timestamps';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-csv-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function write(content: string | Buffer, name = `f${++fileNo}.csv`): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

async function readAll(file: string, overrides: Partial<ReadSettings> = {}, opts: ReadOptions = {}): Promise<ReadResult> {
  const s = await sniffFile(file, overrides);
  return readDelimited(file, s.settings, s.schema, opts);
}

const rowsOf = (n: number, f: (i: number) => string, eol = '\n') => Array.from({ length: n }, (_, i) => f(i)).join(eol) + eol;

function values(t: ReadResult, name: string): (number | string | null)[] {
  const j = t.schema.findIndex((c) => c.name === name);
  const col = t.columns[j] as ColumnData;
  if ('codes' in col) return Array.from(col.codes, (c) => (c < 0 ? null : col.dictionary[c]!));
  return Array.from(col.values as ArrayLike<number>, (v) => (col.type === 'boolean' ? (v === 255 ? null : v) : Number.isNaN(v) ? null : v));
}

const problem = (t: ReadResult, kind: string) => t.problems.find((p) => p.kind === kind);

const settings = (over: Partial<ReadSettings> = {}): ReadSettings => ({
  encoding: 'utf-8',
  delimiter: ',',
  decimal: '.',
  thousands: '',
  skipLines: 0,
  hasHeader: true,
  timeColumn: null,
  timeFormat: null,
  timeZone: 'UTC',
  ...over,
});
const col = (name: string, type: ColumnSchema['type']): ColumnSchema => ({ name, type, unit: null, header: name });

describe('readDelimited: layouts', () => {
  it.each([',', ';', '\t', '|'] as Delimiter[])('reads values separated by %j', async (d) => {
    const file = write(`time${d}Temp [°C]${d}Mode\n` + rowsOf(50, (i) => [`2024-03-01T00:00:${String(i).padStart(2, '0')}Z`, `${i}.5`, i % 2 ? 'A' : 'B'].join(d)));
    const t = await readAll(file);
    expect(t.rowCount).toBe(50);
    expect(t.schema.map((c) => c.type)).toEqual(['timestamp', 'number', 'category']);
    expect(values(t, 'Temp').slice(0, 3)).toEqual([0.5, 1.5, 2.5]);
    expect(values(t, 'time')[1]).toBe(Date.UTC(2024, 2, 1, 0, 0, 1));
    expect(values(t, 'Mode').slice(0, 3)).toEqual(['B', 'A', 'B']);
    expect(Array.from(t.lines.slice(0, 3))).toEqual([2, 3, 4]);
    expect(t.problems).toEqual([]);
  });

  it('reads decimal commas with thousands points (1.234,5)', async () => {
    const file = write('Zeit;Leistung [kW];Menge\n' + rowsOf(20, (i) => `0${1 + (i % 9)}.03.2024 12:00;1.${200 + i},5;-${i},25`));
    const t = await readAll(file, { timeZone: 'UTC' });
    expect(values(t, 'Leistung').slice(0, 2)).toEqual([1200.5, 1201.5]);
    expect(values(t, 'Menge').slice(0, 2)).toEqual([-0.25, -1.25]);
    expect(values(t, 'Zeit')[0]).toBe(Date.UTC(2024, 2, 1, 12));
    expect(values(t, 'Zeit')[1]).toBe(Date.UTC(2024, 2, 2, 12));
  });

  it('handles quoted fields with delimiters, doubled quotes and line breaks', async () => {
    const file = write('id,note,value\n1,"a, b",1.5\n2,"say ""hi""",2.5\n3,"two\nlines",3.5\n4,"""quoted""",4.5\n5,plain,"6.5"\n');
    const t = await readAll(file);
    expect(t.rowCount).toBe(5);
    expect(values(t, 'note')).toEqual(['a, b', 'say "hi"', 'two\nlines', '"quoted"', 'plain']);
    expect(values(t, 'value')).toEqual([1.5, 2.5, 3.5, 4.5, 6.5]);
    expect(Array.from(t.lines)).toEqual([2, 3, 4, 6, 7]);
  });

  it('gives the same table whatever the chunk size (records across chunk boundaries)', async () => {
    const text =
      'time,name,value,flag\r\n' +
      rowsOf(
        200,
        (i) => `2024-03-01 00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},"n${i % 7}, ""x""${i % 5 ? '' : '\r\nmore'}",${(i * 1.25).toFixed(2)},${i % 3 ? 'yes' : 'no'}`,
        '\r\n',
      );
    const file = write(text);
    const s = await sniffFile(file, { timeZone: 'UTC' });
    expect(s.schema.map((c) => c.type)).toEqual(['timestamp', 'category', 'number', 'boolean']);
    const ref = await readDelimited(file, s.settings, s.schema);
    expect(ref.rowCount).toBe(200);
    expect(values(ref, 'name')[0]).toBe('n0, "x"\r\nmore');
    for (const chunkSize of [16, 17, 31, 64, 100, 257, 1000]) {
      const t = await readDelimited(file, s.settings, s.schema, { chunkSize });
      expect(t.rowCount, `chunk ${chunkSize}`).toBe(200);
      for (const c of s.schema) expect(values(t, c.name), `chunk ${chunkSize}, ${c.name}`).toEqual(values(ref, c.name));
      expect(Array.from(t.lines)).toEqual(Array.from(ref.lines));
      expect(t.problems).toEqual(ref.problems);
    }
  });

  it('counts each problem once when a record is cut by a chunk end and read again', async () => {
    const file = write('a,b,c\n' + rowsOf(60, (i) => `x${i},"first\nsecond ${i}",${i}`));
    const schema = [col('a', 'number'), col('b', 'text'), col('c', 'integer')];
    for (const chunkSize of [16, 23, 40, 1 << 20]) {
      const t = await readDelimited(file, settings(), schema, { chunkSize });
      expect(t.rowCount).toBe(60);
      const p = problem(t, 'not_a_number')!;
      expect(p.count, `chunk ${chunkSize}`).toBe(60);
      expect(p.examples.map((e) => e.line)).toEqual(Array.from({ length: 60 }, (_, i) => 2 + 2 * i));
      expect(Array.from(t.problemRows.not_a_number!)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(values(t, 'b')[59]).toBe('first\nsecond 59');
      expect(values(t, 'c')[59]).toBe(59);
    }
  });

  it('reads a quote that never closes to the end of the file', async () => {
    const file = write('a,b\n1,"open\n2,x\n');
    const t = await readDelimited(file, settings(), [col('a', 'integer'), col('b', 'text')], { chunkSize: 16 });
    expect(t.rowCount).toBe(1);
    expect(values(t, 'b')).toEqual(['open\n2,x\n']);
  });

  it('reads old Mac (CR only) line ends', async () => {
    const file = write('a,b\r1,2\r3,4\r\r5,6');
    for (const chunkSize of [4, 5, 1000]) {
      const t = await readDelimited(file, settings(), [col('a', 'integer'), col('b', 'integer')], { chunkSize });
      expect(values(t, 'b')).toEqual([2, 4, 6]);
      expect(Array.from(t.lines)).toEqual([2, 3, 5]);
      expect(t.blankLines).toBe(1);
    }
  });

  it('skips a 3-line preamble and counts lines from the top of the file', async () => {
    const file = write('Exported from PI\nServer: PLANT-HIST-01\n\nTimestamp,TIC101 [°C]\n' + rowsOf(5, (i) => `2024-03-01T00:00:0${i}Z,${70 + i}`));
    const t = await readAll(file);
    expect(t.schema.map((c) => [c.name, c.unit])).toEqual([
      ['Timestamp', null],
      ['TIC101', '°C'],
    ]);
    expect(t.rowCount).toBe(5);
    expect(Array.from(t.lines)).toEqual([5, 6, 7, 8, 9]);
    expect(values(t, 'TIC101')).toEqual([70, 71, 72, 73, 74]);
  });

  it('reads with and without a header', async () => {
    const file = write(rowsOf(10, (i) => `${i},${i / 2}`));
    const t = await readAll(file);
    expect(t.schema.map((c) => c.name)).toEqual(['Column 1', 'Column 2']);
    expect(t.rowCount).toBe(10);
    expect(Array.from(t.lines.slice(0, 2))).toEqual([1, 2]);
    // A header read as data: its names are not numbers.
    const h = write('a,b\n' + rowsOf(10, (i) => `${i},${i / 2}`));
    const s = await sniffFile(h, { hasHeader: false });
    const schema = s.schema.map((c) => ({ ...c, type: 'number' as const }));
    const t2 = await readDelimited(h, s.settings, schema);
    expect(t2.rowCount).toBe(11);
    expect(problem(t2, 'not_a_number')).toMatchObject({ count: 2, examples: [{ line: 1, column: 'Column 1', raw: 'a' }, { line: 1, column: 'Column 2', raw: 'b' }] });
    expect(Array.from(t2.problemRows.not_a_number!)).toEqual([0]);
  });

  it('reads C-MAPSS (runs of spaces, no header) with the whitespace delimiter', async () => {
    const file = '/work/shared/data/cmapss-fd001/train_FD001.txt';
    const s = await sniffFile(file, {}, { whitespace: true });
    expect(s.settings.delimiter as string).toBe(' ');
    expect(s.settings.hasHeader).toBe(false);
    const t = await readDelimited(file, s.settings, s.schema);
    expect(t.schema).toHaveLength(26);
    expect(t.rowCount).toBe(20631);
    expect(t.problems).toEqual([]);
    expect(values(t, 'Column 3').slice(0, 2)).toEqual([-0.0007, 0.0019]);
    expect(values(t, 'Column 26').slice(0, 1)).toEqual([23.419]);
  });
});

describe('readDelimited: encodings', () => {
  const text = 'Zeit;Temp [°C];Dicke [µm];Drück\n' + rowsOf(5, (i) => `0${i + 1}.03.2024 00:00;${i},5;${i};ä${i}`);
  const utf16be = (s: string) => {
    const b = Buffer.from(s, 'utf16le');
    for (let i = 0; i + 1 < b.length; i += 2) [b[i], b[i + 1]] = [b[i + 1]!, b[i]!];
    return b;
  };
  it.each([
    ['utf-8', Buffer.from(text, 'utf8')],
    ['utf-8', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])],
    ['utf-16le', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
    ['utf-16be', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(text)])],
    ['utf-16le', Buffer.from(text, 'utf16le')],
    ['windows-1252', Buffer.from(text, 'latin1')],
  ])('reads %s (%#)', async (encoding, bytes) => {
    const file = write(bytes);
    for (const chunkSize of [7, 1 << 20]) {
      const s = await sniffFile(file, { timeZone: 'UTC' });
      expect(s.settings.encoding).toBe(encoding);
      expect(s.schema.map((c) => [c.name, c.unit])).toEqual([
        ['Zeit', null],
        ['Temp', '°C'],
        ['Dicke', 'µm'],
        ['Drück', null],
      ]);
      const t = await readDelimited(file, s.settings, s.schema, { chunkSize });
      expect(t.rowCount).toBe(5);
      expect(values(t, 'Temp')).toEqual([0.5, 1.5, 2.5, 3.5, 4.5]);
      expect(values(t, 'Drück')).toEqual(['ä0', 'ä1', 'ä2', 'ä3', 'ä4']);
      expect(values(t, 'Zeit')[0]).toBe(Date.UTC(2024, 2, 1));
    }
  });

  it('decodes Windows-1252 specials (€, “ ”) in values', async () => {
    const file = write(Buffer.concat([Buffer.from('Kosten,Notiz\n1,'), Buffer.from([0x80, 0x93, 0x61, 0x94]), Buffer.from('\n2,x\n')]));
    const t = await readDelimited(file, settings({ encoding: 'windows-1252' }), [col('Kosten', 'integer'), col('Notiz', 'text')]);
    expect(values(t, 'Notiz')).toEqual(['€“a”', 'x']);
  });
});

describe('readDelimited: problems', () => {
  it('pads short rows, drops extra values, and reports both', async () => {
    const file = write('a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n');
    const t = await readDelimited(file, settings(), [col('a', 'integer'), col('b', 'integer'), col('c', 'integer')]);
    expect(t.rowCount).toBe(4);
    expect(values(t, 'c')).toEqual([3, null, 8, 12]);
    const p = problem(t, 'ragged_row')!;
    expect(p).toMatchObject({ count: 2, choices: ['missing', 'skip'], defaultChoice: 'missing' });
    expect(p.examples.map((e) => [e.line, e.raw])).toEqual([
      [3, '4,5'],
      [4, '6,7,8,9'],
    ]);
    expect(p.examples[0]!.reason).toContain('2 values instead of 3');
    expect(Array.from(t.problemRows.ragged_row!)).toEqual([1, 2]);
  });

  it('reports values that are not numbers, and treats NaN markers as missing', async () => {
    const file = write('a,b\n1,2\nNaN,x\n,3\nBad,#N/A\n 4 , 5 \n');
    const t = await readDelimited(file, settings(), [col('a', 'number'), col('b', 'number')]);
    expect(values(t, 'a')).toEqual([1, null, null, null, 4]);
    expect(values(t, 'b')).toEqual([2, null, 3, null, 5]);
    const p = problem(t, 'not_a_number')!;
    expect(p).toMatchObject({ count: 1, choices: ['missing', 'skip'], defaultChoice: 'missing' });
    expect(p.examples[0]).toMatchObject({ line: 3, column: 'b', raw: 'x' });
    expect(p.examples[0]!.reason).toBe('Line 3, column "b": "x" is not a number.');
  });

  it('reports a column with no values at all', async () => {
    const file = write('a,empty,c\n1,,x\n2,NaN,y\n3,,z\n');
    const t = await readAll(file);
    expect(values(t, 'empty')).toEqual([null, null, null]);
    expect(problem(t, 'empty_column')).toMatchObject({ count: 1, defaultChoice: 'keep', examples: [{ column: 'empty' }] });
  });

  it('reports missing, bad, duplicate and out-of-order times', async () => {
    const file = write(
      'time,v\n2024-03-01 00:00:00,1\n2024-03-01 00:00:01,2\n,3\n2024-03-01 00:00:01,4\nnot a time,5\n2024-03-01 00:00:00,6\n2024-03-01 00:00:05,7\n',
    );
    const t = await readDelimited(file, settings({ timeColumn: 'time', timeFormat: 'iso' }), [col('time', 'timestamp'), col('v', 'integer')]);
    expect(t.rowCount).toBe(7);
    expect(problem(t, 'missing_time')).toMatchObject({ count: 1, defaultChoice: 'skip', examples: [{ line: 4 }] });
    expect(problem(t, 'bad_timestamp')).toMatchObject({ count: 1, defaultChoice: 'skip', examples: [{ line: 6, raw: 'not a time' }] });
    expect(problem(t, 'out_of_order')).toMatchObject({ count: 1, defaultChoice: 'keep', examples: [{ line: 7 }] });
    // Row 3 repeats row 1's time (as neighbours after skipping a row); row 5 repeats row 0 (far apart).
    expect(problem(t, 'duplicate_time')).toMatchObject({ count: 2 });
    expect(Array.from(t.problemRows.duplicate_time!)).toEqual([3, 5]);
    expect(Array.from(t.problemRows.missing_time!)).toEqual([2]);
  });

  it('flags times in the repeated and the skipped hour of a DST change', async () => {
    const file = write('time,v\n2024-03-31 01:30:00,1\n2024-03-31 02:30:00,2\n2024-03-31 03:30:00,3\n2024-10-27 02:30:00,4\n2024-10-27 03:30:00,5\n');
    const t = await readDelimited(file, settings({ timeColumn: 'time', timeFormat: 'iso', timeZone: 'Europe/Berlin' }), [col('time', 'timestamp'), col('v', 'integer')]);
    expect(problem(t, 'dst_gap')).toMatchObject({ count: 1, defaultChoice: 'keep', examples: [{ line: 3 }] });
    expect(problem(t, 'dst_repeated')).toMatchObject({ count: 1, defaultChoice: 'keep', examples: [{ line: 5 }] });
    expect(values(t, 'time')[0]).toBe(Date.UTC(2024, 2, 31, 0, 30));
    expect(values(t, 'time')[2]).toBe(Date.UTC(2024, 2, 31, 1, 30));
  });

  it('reads booleans and reports what is not yes/no', async () => {
    const file = write('ok\nyes\nno\nJa\nmaybe\n\n1\n');
    const t = await readDelimited(file, settings(), [col('ok', 'boolean')]);
    expect(values(t, 'ok')).toEqual([1, 0, 1, null, 1]);
    expect(t.blankLines).toBe(1);
    expect(problem(t, 'bad_boolean')).toMatchObject({ count: 1, examples: [{ line: 5, raw: 'maybe' }] });
  });

  it('reports duplicate header names', async () => {
    const file = write('T,T\n1,2\n');
    const t = await readAll(file);
    expect(t.schema.map((c) => c.name)).toEqual(['T', 'T (2)']);
    expect(problem(t, 'duplicate_column')).toMatchObject({ count: 1 });
  });

  it('accounts for every line: rows + blank lines = lines after the header', async () => {
    const lines = ['h1,h2'];
    let blanks = 0;
    for (let i = 0; i < 500; i++) {
      if (i % 37 === 0) {
        lines.push('');
        blanks++;
      }
      lines.push(i % 53 === 0 ? `${i}` : i % 41 === 0 ? `${i},x,extra` : `${i},${i * 2}`);
    }
    const file = write(lines.join('\n') + '\n');
    for (const chunkSize of [10, 1 << 20]) {
      const t = await readDelimited(file, settings(), [col('h1', 'integer'), col('h2', 'integer')], { chunkSize });
      expect(t.rowCount + t.blankLines).toBe(lines.length - 1);
      expect(t.blankLines).toBe(blanks);
      expect(t.rowCount).toBe(500);
      expect(new Set(t.lines).size).toBe(500);
    }
  });
});

describe('readDelimited: errors', () => {
  it('names a file that does not exist', async () => {
    const p = readDelimited(path.join(dir, 'missing.csv'), settings(), [col('a', 'number')]);
    await expect(p).rejects.toBeInstanceOf(AppError);
    await expect(p).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('missing.csv does not exist') });
  });

  it('refuses an empty file, a header without rows and a binary file', async () => {
    await expect(readDelimited(write(''), settings(), [col('a', 'number')])).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/f\d+\.csv is empty/) });
    await expect(readDelimited(write('a,b\n'), settings(), [col('a', 'number'), col('b', 'number')])).rejects.toMatchObject({
      code: 'bad_input',
      message: expect.stringContaining('has a header line but no data rows'),
    });
    const bin = Buffer.alloc(5000);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 13) % 256;
    await expect(readDelimited(write(bin, 'image.png'), settings(), [col('a', 'number')])).rejects.toMatchObject({
      code: 'bad_input',
      message: expect.stringContaining('image.png is not a text file'),
    });
  });

  // chmod 000 does not stop root from reading, and these tests often run as root.
  it.skipIf(process.getuid?.() === 0)('says when the file may not be read', async () => {
    const file = write('a\n1\n');
    fs.chmodSync(file, 0o000);
    try {
      await expect(readDelimited(file, settings(), [col('a', 'number')])).rejects.toMatchObject({ code: 'bad_input', message: expect.stringContaining('permission') });
    } finally {
      fs.chmodSync(file, 0o644);
    }
  });

  it('stops when cancelled and reports progress', async () => {
    const file = write('a\n' + rowsOf(5000, (i) => `${i}`));
    const fractions: number[] = [];
    const t = await readDelimited(file, settings(), [col('a', 'integer')], { chunkSize: 1000, onProgress: (f) => fractions.push(f) });
    expect(t.rowCount).toBe(5000);
    expect(fractions.at(-1)).toBe(1);
    let calls = 0;
    const cancelled = readDelimited(file, settings(), [col('a', 'integer')], {
      chunkSize: 1000,
      checkCancelled: () => {
        if (++calls > 3) throw new AppError('cancelled');
      },
    });
    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('readDelimited: size', () => {
  it('reads 5,000 columns × 20 rows', async () => {
    const n = 5000;
    const header = Array.from({ length: n }, (_, j) => `c${j}`).join(',');
    const file = write(header + '\n' + rowsOf(20, (i) => Array.from({ length: n }, (_, j) => `${i * n + j}`).join(',')));
    const t = await readAll(file);
    expect(t.schema).toHaveLength(n);
    expect(t.rowCount).toBe(20);
    expect(values(t, 'c4999')[19]).toBe(19 * n + 4999);
    expect(t.problems).toEqual([]);
  });

  it('grows its columns when the first chunk underestimates the rows', async () => {
    const file = write('name,v\n' + 'a-very-long-name-'.repeat(40) + ',1\n' + rowsOf(3000, (i) => `n,${i}`));
    const t = await readDelimited(file, settings(), [col('name', 'category'), col('v', 'integer')], { chunkSize: 700 });
    expect(t.rowCount).toBe(3001);
    expect(values(t, 'v')[3000]).toBe(2999);
    expect((t.columns[1] as { values: Float64Array }).values.length).toBe(3001);
  });

  it('previews the first rows only', async () => {
    const file = write('a\n' + rowsOf(1000, (i) => `${i}`));
    const t = await readDelimitedPreview(file, settings(), [col('a', 'integer')], 50);
    expect(t.rowCount).toBe(50);
    expect(values(t, 'a')[49]).toBe(49);
  });
});

describe('ISO timestamps from bytes', () => {
  it('give exactly what the timestamp parser gives', () => {
    let a = 12345;
    const rand = () => {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      return a / 2 ** 32;
    };
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe']) {
      const parser = createTimeParser('iso', tz);
      let fast = 0;
      for (let i = 0; i < 5000; i++) {
        const y = 1990 + Math.floor(rand() * 50);
        const mo = 1 + Math.floor(rand() * 12);
        const d = 1 + Math.floor(rand() * 31);
        const h = Math.floor(rand() * 25);
        const mi = Math.floor(rand() * 60);
        const s = Math.floor(rand() * 61);
        let text = `${y}-${pad(mo)}-${pad(d)}${rand() < 0.5 ? 'T' : ' '}${pad(h)}:${pad(mi)}`;
        if (rand() < 0.8) text += `:${pad(s)}`;
        if (rand() < 0.3) text += `.${String(Math.floor(rand() * 1e6)).slice(0, 1 + Math.floor(rand() * 6))}`;
        const r = rand();
        if (r < 0.1) text += 'Z';
        else if (r < 0.2) text += `${rand() < 0.5 ? '+' : '-'}${pad(Math.floor(rand() * 14))}:${rand() < 0.5 ? '00' : '30'}`;
        else if (r < 0.25) text += '+0530';
        const got = isoFastPath(text, tz);
        if (Number.isNaN(got.value)) continue;
        fast++;
        const want = parser.parse(text);
        if (!Object.is(got.value, want) || got.flag !== parser.lastFlag) {
          throw new Error(`${tz} ${text}: fast ${got.value}/${got.flag}, parser ${want}/${parser.lastFlag}`);
        }
      }
      expect(fast).toBeGreaterThan(2500);
    }
  });
});

describe('real exports', () => {
  it('reads ai4i2020.csv (10,000 rows, 14 columns)', async () => {
    const t = await readAll('/work/shared/data/ai4i2020/ai4i2020.csv');
    expect(t.rowCount).toBe(10000);
    expect(t.schema).toHaveLength(14);
    expect(t.schema[3]).toMatchObject({ name: 'Air temperature', unit: 'K', type: 'number' });
    expect(values(t, 'Type').slice(0, 3)).toEqual(['M', 'L', 'L']);
    expect(values(t, 'Air temperature')[0]).toBe(298.1);
    expect(t.problems).toEqual([]);
  });

  it('reads the NAB machine temperature series and finds its repeated times', async () => {
    const t = await readAll('/work/shared/data/nab/realKnownCause/machine_temperature_system_failure.csv', { timeZone: 'UTC' });
    expect(t.rowCount).toBe(22695);
    expect(t.schema.map((c) => c.type)).toEqual(['timestamp', 'number']);
    expect(values(t, 'timestamp')[0]).toBe(Date.UTC(2013, 11, 2, 21, 15));
    expect(values(t, 'value')[0]).toBe(73.96732207);
    // Checked with pandas: 12 duplicated timestamps, 1 step backwards.
    expect(problem(t, 'duplicate_time')?.count).toBe(12);
    expect(problem(t, 'out_of_order')?.count).toBe(1);
  });
});
