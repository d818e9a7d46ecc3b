import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { Workspace } from '../workspace/workspace';
import { finish, readFiles } from './import/pipeline';
import { sniffFile } from './import/csv-reader';
import { DatasetReader } from './reader';
import { recordVersion } from './versions';

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 1, 6, 0);
const ROWS = 300;

let dir: string;
let ws: Workspace;

/** Temperature of row i, missing every 50th row. */
const temp = (i: number): number | null => (i % 50 === 49 ? null : 20 + ((i * 7) % 50) / 2);
const running = (i: number): boolean | null => (i === 13 ? null : i % 4 !== 0);
const mode = (i: number) => (i < 150 ? 'auto' : 'manual');

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

/** Reads, saves and records a file the way the import job does. */
async function importFile(file: string, name: string): Promise<void> {
  const settings = (await sniffFile(file, { timeZone: 'UTC' })).settings;
  const staged = await readFiles({ paths: [file], settings }, {});
  const saved = await finish(staged, { workspaceDir: ws.dir, name, choices: {} }, {});
  const { missing: _missing, ...rest } = saved;
  recordVersion(ws, { ...rest, datasetName: name });
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

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-reader-'));
  ws = Workspace.open(path.join(dir, 'ws'), { who: 'ana', appVersion: 'test' });
  const lines = ['time,temp [°C],running,mode,note'];
  for (let i = 0; i < ROWS; i++) {
    const r = running(i);
    lines.push(`${iso(T0 + i * MIN)},${temp(i) ?? ''},${r === null ? '' : r ? 'yes' : 'no'},${mode(i)},note number ${i}`);
  }
  const file = path.join(dir, 'line3.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  await importFile(file, 'Line3');
  // Version 2: the first 100 rows only.
  fs.writeFileSync(file, lines.slice(0, 101).join('\n') + '\n');
  await importFile(file, 'Line3');
  // A table without a time column.
  const plain = path.join(dir, 'batches.csv');
  fs.writeFileSync(plain, ['batch,yield [%]', ...Array.from({ length: 20 }, (_, i) => `${i + 1},${90 + (i % 5)}`)].join('\n') + '\n');
  await importFile(plain, 'Batches');
}, 30_000);

afterAll(() => {
  ws?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('DatasetReader.rows', () => {
  it('returns cell values and the total for a page', () => {
    const reader = new DatasetReader(ws);
    const v = reader.version('Line3', 1);
    expect(v.schema.map((c) => [c.name, c.type])).toEqual([
      ['time', 'timestamp'],
      ['temp', 'number'],
      ['running', 'boolean'],
      ['mode', 'category'],
      ['note', 'text'],
    ]);
    const page = reader.rows('Line3', 1, 10, 5);
    expect(page.total).toBe(ROWS);
    expect(page.rows).toEqual([10, 11, 12, 13, 14].map((i) => [T0 + i * MIN, temp(i), running(i), mode(i), `note number ${i}`]));
    expect(page.rows[3]![2]).toBeNull();
  });

  it('gives null for missing numbers', () => {
    const page = new DatasetReader(ws).rows('Line3', 1, 48, 3);
    expect(page.rows.map((r) => r[1])).toEqual([temp(48), null, temp(50)]);
  });

  it('cuts the last page at the end, and gives no rows past it', () => {
    const reader = new DatasetReader(ws);
    const last = reader.rows('Line3', 1, 297, 10);
    expect(last.total).toBe(ROWS);
    expect(last.rows.map((r) => r[0])).toEqual([297, 298, 299].map((i) => T0 + i * MIN));
    expect(last.rows.at(-1)).toEqual([T0 + 299 * MIN, temp(299), running(299), 'manual', 'note number 299']);
    expect(reader.rows('Line3', 1, 400, 10)).toEqual({ total: ROWS, rows: [] });
  });

  it('reads the latest version by default and a given version by number or name@N', () => {
    const reader = new DatasetReader(ws);
    expect(reader.rows('Line3', undefined, 0, 1).total).toBe(100);
    expect(reader.rows('Line3@1', undefined, 0, 1).total).toBe(ROWS);
    expect(reader.rows('Line3', 2, 0, 1).total).toBe(100);
  });

  it('serves the right version while switching between versions with a one-version cache', () => {
    const reader = new DatasetReader(ws, 1);
    for (let k = 0; k < 3; k++) {
      expect(reader.rows('Line3', 1, 250, 1).rows[0]![4]).toBe('note number 250');
      expect(reader.rows('Line3', 2, 99, 5).rows.map((r) => r[4])).toEqual(['note number 99']);
      expect(reader.rows('Batches', undefined, 19, 5).rows).toEqual([[20, 94]]);
    }
  });

  it('keeps the most recently used versions in memory and rereads the others', () => {
    const reader = new DatasetReader(ws, 2);
    reader.rows('Line3', 1, 0, 1);
    reader.rows('Line3', 2, 0, 1);
    reader.rows('Line3', 1, 0, 1); // version 1 is now the most recently used
    reader.rows('Batches', undefined, 0, 1); // so this pushes out version 2
    const blobOf = (version: number) => ws.blobs.pathOf(reader.version('Line3', version).schema.find((c) => c.name === 'note')!.blob);
    const moved = [1, 2].map((version) => ({ from: blobOf(version), to: `${blobOf(version)}.aside` }));
    expect(moved[0]!.from).not.toBe(moved[1]!.from);
    try {
      for (const m of moved) fs.renameSync(m.from, m.to);
      expect(reader.rows('Line3', 1, 5, 1).rows[0]![4]).toBe('note number 5');
      expect(thrown(() => reader.rows('Line3', 2, 5, 1)).code).toBe('not_found');
    } finally {
      for (const m of moved) if (fs.existsSync(m.to)) fs.renameSync(m.to, m.from);
    }
    reader.forget();
    expect(reader.rows('Line3', 2, 5, 1).rows[0]![4]).toBe('note number 5');
  });

  it('says not_found for an unknown dataset or version', () => {
    const reader = new DatasetReader(ws);
    expect(thrown(() => reader.rows('Line9', undefined, 0, 10)).code).toBe('not_found');
    expect(thrown(() => reader.rows('Line3', 5, 0, 10)).message).toContain('no version 5');
  });
});

describe('DatasetReader.series', () => {
  it('covers the full time range by default in at most `buckets` buckets with min ≤ max', () => {
    const r = new DatasetReader(ws).series('Line3', 1, ['temp'], 10);
    expect(r.timeColumn).toBe('time');
    expect(r.fullRange).toEqual([T0, T0 + 299 * MIN]);
    expect([r.from, r.to]).toEqual(r.fullRange);
    const d = r.series[0]!.data;
    expect(r.series[0]!.name).toBe('temp');
    expect(r.series[0]!.unit).toBe('°C');
    expect(d.x.length).toBeGreaterThan(0);
    expect(d.x.length).toBeLessThanOrEqual(10);
    expect(d.x[0]).toBe(T0);
    for (let b = 0; b < d.x.length; b++) {
      expect(d.min[b]!).toBeLessThanOrEqual(d.max[b]!);
      expect(d.x[b]!).toBeGreaterThanOrEqual(r.from);
      expect(d.x[b]!).toBeLessThan(r.to);
    }
    // The first value of the first bucket and the last value of the last bucket are the ends of the data.
    expect(d.first[0]).toBe(temp(0));
    // Row 299 is missing, so the last value drawn is row 298's.
    expect(temp(299)).toBeNull();
    expect(d.last.at(-1)).toBe(temp(298));
    // Overall extremes survive downsampling.
    const all = Array.from({ length: ROWS }, (_, i) => temp(i)).filter((v): v is number => v !== null);
    expect(Math.min(...d.min)).toBe(Math.min(...all));
    expect(Math.max(...d.max)).toBe(Math.max(...all));
  });

  it('gives each bucket the min and max of its own rows', () => {
    const r = new DatasetReader(ws).series('Line3', 1, ['temp'], 6);
    const d = r.series[0]!.data;
    const span = r.to - r.from;
    const expected = new Map<number, number[]>();
    for (let i = 0; i < ROWS; i++) {
      const v = temp(i);
      if (v === null) continue;
      const b = Math.min(5, Math.floor(((i * MIN) * 6) / span));
      expected.set(b, [...(expected.get(b) ?? []), v]);
    }
    expect(d.x.length).toBe(6);
    for (let b = 0; b < 6; b++) {
      expect(d.min[b]).toBe(Math.min(...expected.get(b)!));
      expect(d.max[b]).toBe(Math.max(...expected.get(b)!));
    }
  });

  it('respects from and to', () => {
    const from = T0 + 100 * MIN;
    const to = T0 + 199 * MIN;
    const r = new DatasetReader(ws).series('Line3', 1, ['temp'], 20, from, to);
    expect([r.from, r.to]).toEqual([from, to]);
    expect(r.fullRange).toEqual([T0, T0 + 299 * MIN]);
    const d = r.series[0]!.data;
    expect(d.x.length).toBeLessThanOrEqual(20);
    for (const x of d.x) {
      expect(x).toBeGreaterThanOrEqual(from);
      expect(x).toBeLessThanOrEqual(to);
    }
    expect(d.first[0]).toBe(temp(100));
    expect(d.last.at(-1)).toBe(temp(198));
    const inRange = Array.from({ length: 100 }, (_, k) => temp(100 + k)).filter((v): v is number => v !== null);
    expect(Math.min(...d.min)).toBe(Math.min(...inRange));
    expect(Math.max(...d.max)).toBe(Math.max(...inRange));
  });

  it('draws booleans as 0/1, several columns at once', () => {
    const r = new DatasetReader(ws).series('Line3', 1, ['temp', 'running'], 300);
    expect(r.series.map((s) => s.name)).toEqual(['temp', 'running']);
    const b = r.series[1]!.data;
    for (const v of [...b.min, ...b.max]) expect([0, 1]).toContain(v);
    expect(b.min).toContain(0);
    expect(b.max).toContain(1);
  });

  it('refuses text and category columns with a message naming the column', () => {
    const reader = new DatasetReader(ws);
    for (const name of ['note', 'mode']) {
      const e = thrown(() => reader.series('Line3', 1, [name], 10));
      expect(e.code).toBe('bad_input');
      expect(e.message).toContain(`"${name}"`);
      expect(e.message).toMatch(/text/);
    }
  });

  it('refuses a dataset without a time column, naming it', () => {
    const e = thrown(() => new DatasetReader(ws).series('Batches', undefined, ['yield'], 10));
    expect(e.code).toBe('bad_input');
    expect(e.message).toContain('"Batches"');
    expect(e.message).toMatch(/no time column/);
  });

  it('refuses a range whose end is not after its start', () => {
    const e = thrown(() => new DatasetReader(ws).series('Line3', 1, ['temp'], 10, T0 + 10 * MIN, T0 + 10 * MIN));
    expect(e.code).toBe('bad_input');
  });

  it('says not_found for an unknown column, naming it and the dataset', () => {
    const e = thrown(() => new DatasetReader(ws).series('Line3', 1, ['pressure'], 10));
    expect(e.code).toBe('not_found');
    expect(e.message).toContain('"pressure"');
    expect(e.message).toContain('"Line3"');
  });
});
