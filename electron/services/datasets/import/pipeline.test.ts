import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnData, Problem, ReadSettings } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { BlobStore } from '../../workspace/blobs';
import { cellValue, loadColumn } from '../column-store';
import { finish, readFiles, readStaging, stagedTotals, writeStaging } from './pipeline';
import { sniffFile } from './csv-reader';

type Staged = Awaited<ReturnType<typeof readFiles>>;

let dir: string;
let wsDir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-pipeline-'));
  wsDir = path.join(dir, 'ws');
  fs.mkdirSync(wsDir);
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const MIN = 60_000;

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * One month of readings, one per 10 minutes: time, temperature (with "err"
 * at the given rows), and the plant mode, a category.
 */
function monthFile(name: string, start: number, rows: number, modes: string[], badRows: number[] = [], header = 'time,temp [°C],mode'): string {
  const lines = [header];
  for (let i = 0; i < rows; i++) {
    const temp = badRows.includes(i) ? 'err' : (20 + i * 0.5).toFixed(1);
    lines.push(`${iso(start + i * 10 * MIN)},${temp},${modes[i % modes.length]}`);
  }
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function settingsFor(file: string, overrides: Partial<ReadSettings> = {}): Promise<ReadSettings> {
  return (await sniffFile(file, { timeZone: 'UTC', ...overrides })).settings;
}

async function stage(paths: string[]): Promise<Staged> {
  return readFiles({ paths, settings: await settingsFor(paths[0]!) }, {});
}

function values(col: ColumnData): (string | number | boolean | null)[] {
  const n = 'codes' in col ? col.codes.length : col.values.length;
  return Array.from({ length: n }, (_, r) => cellValue(col, r));
}

function problem(staged: { problems: Problem[] }, kind: Problem['kind']): Problem {
  const p = staged.problems.find((x) => x.kind === kind);
  expect(p, `problem ${kind} in ${JSON.stringify(staged.problems.map((x) => x.kind))}`).toBeDefined();
  return p!;
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError');
}

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError');
}

const JAN = Date.UTC(2024, 0, 1);
const FEB = Date.UTC(2024, 1, 1);

describe('readFiles', () => {
  it('appends two monthly files with the same columns', async () => {
    const jan = monthFile('jan.csv', JAN, 150, ['auto', 'manual'], [10, 20]);
    const feb = monthFile('feb.csv', FEB, 120, ['manual', 'service'], [5]);
    const staged = await stage([jan, feb]);

    expect(staged.rowCount).toBe(270);
    expect(staged.schema.map((c) => [c.name, c.type, c.unit])).toEqual([
      ['time', 'timestamp', null],
      ['temp', 'number', '°C'],
      ['mode', 'category', null],
    ]);
    for (const c of staged.columns) expect('codes' in c ? c.codes.length : c.values.length).toBe(270);

    const times = values(staged.columns[0]!);
    expect(times[0]).toBe(JAN);
    expect(times[149]).toBe(JAN + 149 * 10 * MIN);
    expect(times[150]).toBe(FEB);
    expect(times[269]).toBe(FEB + 119 * 10 * MIN);

    const temps = values(staged.columns[1]!);
    expect(temps[0]).toBe(20);
    expect(temps[10]).toBeNull();
    expect(temps[150 + 5]).toBeNull();
    expect(temps[150 + 6]).toBe(23);

    // Categories merged: "manual" has one code in both months.
    const mode = staged.columns[2] as Extract<ColumnData, { codes: Int32Array }>;
    expect([...mode.dictionary].sort()).toEqual(['auto', 'manual', 'service']);
    expect(values(mode).slice(0, 4)).toEqual(['auto', 'manual', 'auto', 'manual']);
    expect(values(mode).slice(150, 154)).toEqual(['manual', 'service', 'manual', 'service']);
    expect(mode.codes[1]).toBe(mode.codes[150]);

    // Problems merged: counts add up, examples name their file, rows shift by the first file's rows.
    const nan = problem(staged, 'not_a_number');
    expect(nan.count).toBe(3);
    expect(nan.examples.map((e) => e.reason.split(':')[0])).toEqual(['jan.csv', 'jan.csv', 'feb.csv']);
    expect(nan.examples[0]!.reason).toMatch(/^jan\.csv: .*"err"/);
    expect(nan.examples[2]!.reason).toMatch(/^feb\.csv: /);
    expect(nan.examples.map((e) => e.line)).toEqual([12, 22, 7]);
    expect([...staged.problemRows.not_a_number!]).toEqual([10, 20, 155]);

    expect(staged.sources).toEqual([
      { fileName: 'jan.csv', sha256: crypto.createHash('sha256').update(fs.readFileSync(jan)).digest('hex'), size: fs.statSync(jan).size },
      { fileName: 'feb.csv', sha256: crypto.createHash('sha256').update(fs.readFileSync(feb)).digest('hex'), size: fs.statSync(feb).size },
    ]);
  });

  it('reports a timestamp repeated within one file as duplicate_time', async () => {
    const file = path.join(dir, 'both.csv');
    fs.writeFileSync(file, 'time,v\n2024-01-31 23:00:00,1\n2024-02-01 00:00:00,2\n2024-02-01 00:00:00,2\n2024-02-01 01:00:00,3\n');
    const staged = await stage([file]);
    expect(problem(staged, 'duplicate_time').count).toBe(1);
  });
  // overlap (the last reading of January repeated as the first of February) are appended without any
  // duplicate_time problem, and "skip" cannot drop them. Fix: after appendTables, check the appended time
  // column for repeats (and order) across the file boundaries and merge them into problems/problemRows.
  it('reports a timestamp repeated across two files as duplicate_time', async () => {
    const jan = path.join(dir, 'jan.csv');
    const feb = path.join(dir, 'feb.csv');
    fs.writeFileSync(jan, 'time,v\n2024-01-31 23:00:00,1\n2024-02-01 00:00:00,2\n');
    fs.writeFileSync(feb, 'time,v\n2024-02-01 00:00:00,2\n2024-02-01 01:00:00,3\n');
    const staged = await stage([jan, feb]);
    expect(staged.rowCount).toBe(4);
    expect(problem(staged, 'duplicate_time').count).toBe(1);
  });

  it('refuses files with different columns, naming both files', async () => {
    const jan = monthFile('jan.csv', JAN, 50, ['auto']);
    const feb = monthFile('feb.csv', FEB, 50, ['auto'], [], 'time,pressure [bar],mode');
    const e = await rejection(stage([jan, feb]));
    expect(e.code).toBe('bad_input');
    expect(e.message).toContain('jan.csv');
    expect(e.message).toContain('feb.csv');
    expect(e.message).toMatch(/"temp"|"pressure"/);
  });

  it('reports progress as a fraction that never goes backwards and ends near 1', async () => {
    const jan = monthFile('jan.csv', JAN, 50, ['auto']);
    const feb = monthFile('feb.csv', FEB, 50, ['auto']);
    const seen: number[] = [];
    await readFiles({ paths: [jan, feb], settings: await settingsFor(jan) }, { onProgress: (f) => seen.push(f) });
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen.at(-1)!).toBeLessThanOrEqual(1);
    expect(seen.at(-1)!).toBeGreaterThan(0.9);
  });
});

describe('finish', () => {
  it('with "skip", drops the rows with problems and reports them', async () => {
    const staged = await stage([monthFile('jan.csv', JAN, 150, ['auto', 'manual'], [10, 20, 21])]);
    const out = await finish(staged, { workspaceDir: wsDir, name: 'Line3', choices: { not_a_number: 'skip' } }, {});
    expect(out.rowCount).toBe(147);
    expect(out.report.rejectedRows).toBe(3);
    expect(out.report.choices).toMatchObject({ not_a_number: 'skip' });
    expect(out.report.problems.find((p) => p.kind === 'not_a_number')).toMatchObject({ count: 3 });
    expect(out.report.problems.every((p) => !('examples' in p))).toBe(true);

    const blobs = new BlobStore(path.join(wsDir, 'blobs'), path.join(wsDir, 'tmp'));
    const temps = values(loadColumn(blobs, out.schema[1]!, out.rowCount));
    expect(temps).toHaveLength(147);
    expect(temps).not.toContain(null);
    // Row 9 (24.5) is followed by row 11 (25.5); rows 20 and 21 are gone too.
    expect(temps.slice(9, 11)).toEqual([24.5, 25.5]);
    const times = values(loadColumn(blobs, out.schema[0]!, out.rowCount));
    expect(times).not.toContain(JAN + 10 * 10 * MIN);
    expect(times).not.toContain(JAN + 21 * 10 * MIN);
    expect(out.missing).toEqual([0, 0, 0]);
  });

  it('with "missing" (the default), keeps the rows and leaves the cells empty', async () => {
    const staged = await stage([monthFile('jan.csv', JAN, 150, ['auto'], [10, 20, 21])]);
    for (const choices of [{ not_a_number: 'missing' as const }, {}]) {
      const out = await finish(staged, { workspaceDir: wsDir, name: 'Line3', choices }, {});
      expect(out.rowCount).toBe(150);
      expect(out.report.rejectedRows).toBe(0);
      expect(out.report.choices).toMatchObject({ not_a_number: 'missing' });
      expect(out.missing).toEqual([0, 3, 0]);
      const blobs = new BlobStore(path.join(wsDir, 'blobs'), path.join(wsDir, 'tmp'));
      const temps = values(loadColumn(blobs, out.schema[1]!, 150));
      expect([temps[10], temps[20], temps[21], temps[22]]).toEqual([null, null, null, 31]);
    }
  });

  it('sorts rows by the time column, keeping each row together', async () => {
    // Rows written in a shuffled order: temperature = minutes since start / 10 + 20.
    const order = Array.from({ length: 60 }, (_, i) => (i * 37) % 60);
    const lines = ['time,temp,mode', ...order.map((k) => `${iso(JAN + k * 10 * MIN)},${20 + k},${k % 2 ? 'odd' : 'even'}`)];
    const file = path.join(dir, 'shuffled.csv');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const staged = await stage([file]);
    expect(values(staged.columns[0]!)[1]).toBe(JAN + 37 * 10 * MIN);

    const out = await finish(staged, { workspaceDir: wsDir, name: 'Shuffled', choices: {} }, {});
    expect(out.rowCount).toBe(60);
    expect(out.timeColumn).toBe('time');
    expect(out.timeStart).toBe(JAN);
    expect(out.timeEnd).toBe(JAN + 59 * 10 * MIN);
    const blobs = new BlobStore(path.join(wsDir, 'blobs'), path.join(wsDir, 'tmp'));
    const times = values(loadColumn(blobs, out.schema[0]!, 60));
    const temps = values(loadColumn(blobs, out.schema[1]!, 60));
    const modes = values(loadColumn(blobs, out.schema[2]!, 60));
    expect(times).toEqual(Array.from({ length: 60 }, (_, k) => JAN + k * 10 * MIN));
    expect(temps).toEqual(Array.from({ length: 60 }, (_, k) => 20 + k));
    expect(modes).toEqual(Array.from({ length: 60 }, (_, k) => (k % 2 ? 'odd' : 'even')));
  });

  it('writes a blob for every column, counts missing values, and leaves the profile for later', async () => {
    const staged = await stage([monthFile('jan.csv', JAN, 150, ['auto', 'manual'], [10])]);
    const out = await finish(staged, { workspaceDir: wsDir, name: 'Line3', choices: { not_a_number: 'missing' } }, {});
    const blobs = new BlobStore(path.join(wsDir, 'blobs'), path.join(wsDir, 'tmp'));
    for (const c of out.schema) {
      expect(blobs.has(c.blob)).toBe(true);
      expect(blobs.verify(c.blob)).toBe(true);
    }
    expect(blobs.has(out.schema[2]!.dictionary!)).toBe(true);
    // The profile is derived data, made on first view (datasets.profile), so the import ends sooner.
    expect(out.profileBlob).toBeNull();
    expect(out.missing).toEqual([0, 1, 0]);
    expect(blobs.list().sort()).toEqual([...new Set([...out.schema.map((c) => c.blob), out.schema[2]!.dictionary!])].sort());
    expect(out.sources).toEqual(staged.sources);
    expect(out.settings).toEqual(staged.settings);
  });

  it('gives the same content hash for the same data from files with different names', async () => {
    const a = monthFile('line3-jan.csv', JAN, 80, ['auto', 'manual'], [4]);
    const b = path.join(dir, 'copy of export.csv');
    fs.copyFileSync(a, b);
    const outA = await finish(await stage([a]), { workspaceDir: wsDir, name: 'A', choices: {} }, {});
    const outB = await finish(await stage([b]), { workspaceDir: wsDir, name: 'B', choices: {} }, {});
    expect(outB.contentHash).toBe(outA.contentHash);
    expect(outB.sources[0]!.fileName).toBe('copy of export.csv');
    const c = monthFile('changed.csv', JAN, 80, ['auto', 'manual'], [5]);
    const outC = await finish(await stage([c]), { workspaceDir: wsDir, name: 'C', choices: {} }, {});
    expect(outC.contentHash).not.toBe(outA.contentHash);
  });

  it('refuses to save when skipping would leave no rows', async () => {
    const staged = await stage([monthFile('jan.csv', JAN, 100, ['auto'], [1])]);
    const all = { ...staged, problemRows: { not_a_number: Uint32Array.from({ length: 100 }, (_, i) => i) } };
    const e = await rejection(finish(all, { workspaceDir: wsDir, name: 'X', choices: { not_a_number: 'skip' } }, {}));
    expect(e.code).toBe('bad_input');
    expect(e.message).toMatch(/No rows would be left/);
  });

  it('stops when cancelled, before writing anything', async () => {
    const staged = await stage([monthFile('jan.csv', JAN, 50, ['auto'])]);
    const e = await finish(staged, { workspaceDir: wsDir, name: 'X', choices: {} }, {
      checkCancelled: () => {
        throw new AppError('cancelled');
      },
    }).catch((err: unknown) => err);
    expect((e as AppError).code).toBe('cancelled');
    expect(fs.existsSync(path.join(wsDir, 'blobs')) ? fs.readdirSync(path.join(wsDir, 'blobs')) : []).toEqual([]);
  });
});

describe('staging', () => {
  it('round-trips a staged import through writeStaging / readStaging', async () => {
    const jan = monthFile('jan.csv', JAN, 150, ['auto', 'manual'], [10, 20]);
    const feb = monthFile('feb.csv', FEB, 120, ['manual', 'service'], [5]);
    const staged = await stage([jan, feb]);
    const id = writeStaging(wsDir, staged);
    expect(id).toMatch(/^stg_[a-z0-9]+$/);
    expect(fs.existsSync(path.join(wsDir, 'tmp', 'staging', id, 'meta.json'))).toBe(true);
    const back = readStaging(wsDir, id);
    expect(back.rowCount).toBe(staged.rowCount);
    expect(back.schema).toEqual(staged.schema);
    expect(back.problems).toEqual(staged.problems);
    expect(back.sources).toEqual(staged.sources);
    expect(back.settings).toEqual(staged.settings);
    expect(back.blankLines).toBe(staged.blankLines);
    expect(back.columns.map((c) => c.type)).toEqual(staged.columns.map((c) => c.type));
    for (let i = 0; i < staged.columns.length; i++) {
      const a = staged.columns[i]!;
      const b = back.columns[i]!;
      if ('codes' in a) {
        expect(b).toHaveProperty('codes');
        expect([...(b as typeof a).codes]).toEqual([...a.codes]);
        expect((b as typeof a).dictionary).toEqual(a.dictionary);
      } else {
        const bv = (b as typeof a).values;
        expect(bv.constructor).toBe(a.values.constructor);
        expect(Buffer.from(bv.buffer, bv.byteOffset, bv.byteLength).equals(Buffer.from(a.values.buffer, a.values.byteOffset, a.values.byteLength))).toBe(true);
      }
    }
    expect(Object.keys(back.problemRows)).toEqual(Object.keys(staged.problemRows));
    expect([...back.problemRows.not_a_number!]).toEqual([10, 20, 155]);
  });

  it('saves the same version from a staged import as from the analysed one', async () => {
    const staged = await stage([monthFile('jan.csv', JAN, 150, ['auto', 'manual'], [10, 20])]);
    const id = writeStaging(wsDir, staged);
    const direct = await finish(staged, { workspaceDir: wsDir, name: 'A', choices: { not_a_number: 'skip' } }, {});
    const viaStaging = await finish(readStaging(wsDir, id), { workspaceDir: wsDir, name: 'A', choices: { not_a_number: 'skip' } }, {});
    expect(viaStaging.contentHash).toBe(direct.contentHash);
    expect(viaStaging.rowCount).toBe(148);
  });

  it('round-trips boolean columns', async () => {
    const file = path.join(dir, 'bool.csv');
    fs.writeFileSync(file, ['time,running', ...Array.from({ length: 30 }, (_, i) => `${iso(JAN + i * MIN)},${i === 7 ? '' : i % 3 ? 'yes' : 'no'}`)].join('\n') + '\n');
    const staged = await stage([file]);
    expect(staged.columns[1]!.type).toBe('boolean');
    const back = readStaging(wsDir, writeStaging(wsDir, staged));
    expect(values(back.columns[1]!)).toEqual(values(staged.columns[1]!));
    expect(values(back.columns[1]!).slice(6, 10)).toEqual([false, null, true, false]);
  });

  it('counts the union of skipped rows: a row with two skipped problems counts once', () => {
    const p = (kind: Problem['kind'], choices: Problem['choices'], defaultChoice: Problem['defaultChoice']): Problem => ({ kind, title: kind, count: 1, examples: [], choices, defaultChoice });
    const staged: Staged = {
      schema: [{ name: 'x', type: 'number', unit: null, header: 'x' }],
      columns: [{ type: 'number', values: new Float64Array(10) }],
      rowCount: 10,
      problems: [p('not_a_number', ['missing', 'skip'], 'missing'), p('ragged_row', ['missing', 'skip'], 'missing'), p('missing_time', ['skip', 'keep'], 'skip'), p('empty_column', ['keep'], 'keep')],
      problemRows: { not_a_number: Uint32Array.from([1, 3, 3]), ragged_row: Uint32Array.from([3, 5]), missing_time: Uint32Array.from([9]), empty_column: Uint32Array.from([0, 2]) },
      sources: [],
      settings: { encoding: 'utf-8', delimiter: ',', decimal: '.', thousands: '', skipLines: 0, hasHeader: true, timeColumn: null, timeFormat: null, timeZone: 'UTC' },
      blankLines: 0,
    };
    const id = writeStaging(wsDir, staged);
    // Defaults: only missing_time is skipped.
    expect(stagedTotals(wsDir, id, {})).toEqual({ rowsRead: 10, rowsKept: 9, rowsSkipped: 1 });
    expect(stagedTotals(wsDir, id, { missing_time: 'keep' })).toEqual({ rowsRead: 10, rowsKept: 10, rowsSkipped: 0 });
    expect(stagedTotals(wsDir, id, { not_a_number: 'skip', missing_time: 'keep' })).toEqual({ rowsRead: 10, rowsKept: 8, rowsSkipped: 2 });
    // Row 3 has both problems.
    expect(stagedTotals(wsDir, id, { not_a_number: 'skip', ragged_row: 'skip' })).toEqual({ rowsRead: 10, rowsKept: 6, rowsSkipped: 4 });
    // "skip" is not offered for empty columns, so it is ignored.
    expect(stagedTotals(wsDir, id, { empty_column: 'skip', missing_time: 'keep' })).toEqual({ rowsRead: 10, rowsKept: 10, rowsSkipped: 0 });
  });

  it('agrees with finish on how many rows are skipped', async () => {
    const staged = await stage([monthFile('jan.csv', JAN, 150, ['auto'], [3, 4, 90])]);
    const id = writeStaging(wsDir, staged);
    const totals = stagedTotals(wsDir, id, { not_a_number: 'skip' });
    const out = await finish(readStaging(wsDir, id), { workspaceDir: wsDir, name: 'A', choices: { not_a_number: 'skip' } }, {});
    expect(totals).toEqual({ rowsRead: 150, rowsKept: out.rowCount, rowsSkipped: out.report.rejectedRows });
    expect(totals.rowsSkipped).toBe(3);
  });

  it('says not_found for an unknown staging id and bad_input for a malformed one', () => {
    for (const fn of [() => readStaging(wsDir, 'stg_doesnotexist1'), () => stagedTotals(wsDir, 'stg_doesnotexist1', {})]) {
      const e = thrown(fn);
      expect(e.code).toBe('not_found');
      expect(e.message).toMatch(/expired|already saved/);
    }
    for (const bad of ['../../etc', 'stg_../x', 'stg_ABC', 'stg_', 'job_abc', '']) {
      expect(thrown(() => readStaging(wsDir, bad)).code, bad).toBe('bad_input');
      expect(thrown(() => stagedTotals(wsDir, bad, {})).code, bad).toBe('bad_input');
    }
  });
});
