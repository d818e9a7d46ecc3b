import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetSummary, VersionSummary } from '../shared/api';
import { privateCliBuildAsync } from './test-support/cli-build';

const DATA = '/work/shared/data';
const AI4I = path.join(DATA, 'ai4i2020', 'ai4i2020.csv');
const CMAPSS = path.join(DATA, 'cmapss-fd001', 'train_FD001.txt');

let root: string;
let n = 0;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

interface ImportJson {
  dataset: string;
  version: number;
  created: boolean;
  rows: number;
  columns: { name: string; type: string; unit: string | null; missing: number }[];
  problems: { kind: string; title: string; count: number; choice: string; examples: unknown[] }[];
  rejectedRows: number;
}

interface ProfileJson {
  rows: number;
  columns: { name: string; type: string; unit: string | null; profile: { kind: string; count: number; missing: number; min?: number; max?: number; mean?: number; first?: number; last?: number } }[];
}

function freshDir(): string {
  return path.join(root, `ws-${++n}`);
}

let cli: ReturnType<typeof privateCliBuildAsync>;

async function run(args: string[]): Promise<Run> {
  return await cli(args);
}

function ok(r: Run): void {
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

async function importJson(file: string, ws: string, ...flags: string[]): Promise<ImportJson> {
  const r = await run(['import', file, '--json', '--workspace', ws, ...flags]);
  ok(r);
  return JSON.parse(r.stdout) as ImportJson;
}

async function profileJson(ref: string, ws: string): Promise<ProfileJson> {
  const r = await run(['profile', ref, '--json', '--workspace', ws]);
  ok(r);
  return JSON.parse(r.stdout) as ProfileJson;
}

/** A user error: exit 2, exactly one "millwright:" line on stderr, no stack, nothing on stdout. */
function expectUserError(r: Run, ...patterns: RegExp[]): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^millwright: /);
  for (const p of patterns) expect(lines[0]).toMatch(p);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

/** What a failed import must not change: dataset rows, version rows, source files and stored blobs. */
function snapshot(ws: string): { datasets: number; versions: number; sources: number; blobs: string[] } {
  const db = new Database(path.join(ws, 'millwright.db'), { readonly: true });
  try {
    const count = (t: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    return {
      datasets: count('datasets'),
      versions: count('dataset_versions'),
      sources: count('source_files'),
      blobs: fs.readdirSync(path.join(ws, 'blobs')).sort(),
    };
  } finally {
    db.close();
  }
}

function write(name: string, content: string | Buffer): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, content);
  return file;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-cli-import-'));
  cli = privateCliBuildAsync(root);
  await cli.ready();
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('millwright import: the AI4I sample', () => {
  let ws: string;

  beforeAll(() => {
    ws = freshDir();
  });

  it('imports ai4i2020.csv as version 1 with 10,000 rows and 14 described columns', async () => {
    const r = await importJson(AI4I, ws);
    expect(r.dataset).toBe('ai4i2020');
    expect(r.version).toBe(1);
    expect(r.created).toBe(true);
    expect(r.rows).toBe(10_000);
    expect(r.rejectedRows).toBe(0);
    expect(r.problems).toEqual([]);
    expect(r.columns).toHaveLength(14);
    for (const c of r.columns) {
      expect(Object.keys(c).sort()).toEqual(['missing', 'name', 'type', 'unit']);
      expect(c.missing).toBe(0);
    }
    expect(r.columns.slice(0, 7)).toEqual([
      { name: 'UDI', type: 'integer', unit: null, missing: 0 },
      { name: 'Product ID', type: 'text', unit: null, missing: 0 },
      { name: 'Type', type: 'category', unit: null, missing: 0 },
      { name: 'Air temperature', type: 'number', unit: 'K', missing: 0 },
      { name: 'Process temperature', type: 'number', unit: 'K', missing: 0 },
      { name: 'Rotational speed', type: 'integer', unit: 'rpm', missing: 0 },
      { name: 'Torque', type: 'number', unit: 'Nm', missing: 0 },
    ]);
  });

  it('answers the same file again with version 1, created false, and stores nothing new', async () => {
    const before = snapshot(ws);
    const r = await importJson(AI4I, ws);
    expect([r.version, r.created, r.rows]).toEqual([1, false, 10_000]);
    expect(snapshot(ws)).toEqual(before);
  });

  it('imports a changed copy under the same name as version 2, and datasets show lists both', async () => {
    const lines = fs.readFileSync(AI4I, 'utf8').split('\n');
    // Drop 500 rows from the middle.
    const changed = write('ai4i-changed.csv', [...lines.slice(0, 2001), ...lines.slice(2501)].join('\n'));
    const r = await importJson(changed, ws, '--name', 'ai4i2020');
    expect([r.dataset, r.version, r.created, r.rows]).toEqual(['ai4i2020', 2, true, 9_500]);

    const show = await run(['datasets', 'show', 'ai4i2020', '--json', '--workspace', ws]);
    ok(show);
    const d = JSON.parse(show.stdout) as { dataset: DatasetSummary; versions: VersionSummary[] };
    expect(d.dataset.name).toBe('ai4i2020');
    expect(d.dataset.version).toBe(2);
    expect(d.dataset.rows).toBe(9_500);
    expect(d.versions.map((v) => [v.version, v.rows])).toEqual([
      [2, 9_500],
      [1, 10_000],
    ]);
    expect(d.versions[0]!.sources.map((s) => s.fileName)).toEqual(['ai4i-changed.csv']);
    expect(d.versions[1]!.sources[0]).toEqual({ fileName: 'ai4i2020.csv', sha256: crypto.createHash('sha256').update(fs.readFileSync(AI4I)).digest('hex'), size: fs.statSync(AI4I).size });
    expect(d.versions[0]!.changes).toMatchObject({ previousVersion: 1, rowsBefore: 10_000, rowsAfter: 9_500, columnsAdded: [], columnsRemoved: [], columnsRetyped: [] });

    const text = await run(['datasets', '--workspace', ws]);
    ok(text);
    expect(text.stdout).toMatch(/^ai4i2020 +2 +9500 +14 /m);
  });

  it('profiles a given version as JSON and the latest as a text table', async () => {
    const p = await profileJson('ai4i2020@1', ws);
    expect(p.rows).toBe(10_000);
    expect(p.columns).toHaveLength(14);
    const air = p.columns.find((c) => c.name === 'Air temperature')!;
    expect(air).toMatchObject({ type: 'number', unit: 'K', profile: { kind: 'numeric', count: 10_000, missing: 0, min: 295.3, max: 304.5 } });
    expect(p.columns.find((c) => c.name === 'Type')!.profile).toMatchObject({ kind: 'category', count: 10_000, missing: 0 });

    const latest = await profileJson('ai4i2020', ws);
    expect(latest.rows).toBe(9_500);

    const r = await run(['profile', 'ai4i2020', '--workspace', ws]);
    ok(r);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^COLUMN +TYPE +UNIT +MISSING +MIN +MEAN +MAX$/);
    expect(lines[1]).toMatch(/^-+( +-+){6}$/);
    expect(lines).toHaveLength(2 + 14);
    expect(r.stdout).toMatch(/^Torque +number +Nm +0 +3\.8 +[\d.]+ +76\.6$/m);
    expect(r.stdout).toMatch(/^Product ID +text +0$/m);
  });

  it('refuses a profile of an unknown dataset or version with exit 2', async () => {
    expectUserError(await run(['profile', 'nope', '--workspace', ws]), /"nope"/);
    expectUserError(await run(['profile', 'ai4i2020@9', '--workspace', ws]), /no version 9/);
  });
});

describe('millwright import: other dialects', () => {
  it('imports C-MAPSS (space separated, no header) as 20,631 rows × 26 columns', async () => {
    const ws = freshDir();
    const r = await importJson(CMAPSS, ws);
    expect(r.rows).toBe(20_631);
    expect(r.columns).toHaveLength(26);
    expect(r.columns.map((c) => c.name)).toEqual(Array.from({ length: 26 }, (_, i) => `Column ${i + 1}`));
    expect(r.columns.slice(0, 2).map((c) => c.type)).toEqual(['integer', 'integer']);
    expect(r.columns.every((c) => c.missing === 0)).toBe(true);
    expect(r.rejectedRows).toBe(0);
    const p = await profileJson('train_FD001', ws);
    // Unit numbers 1–100, cycles 1–362.
    expect(p.columns[0]!.profile).toMatchObject({ min: 1, max: 100 });
    expect(p.columns[1]!.profile).toMatchObject({ min: 1, max: 362 });
  });

  it('imports a German historian export: preamble, semicolons, decimal commas, dd.mm.yyyy HH:MM in a time zone', async () => {
    const rows = ['Exportiert von Historian X', 'Anlage: Linie 3', 'Zeitraum: Januar 2024', 'Zeitstempel;Temperatur [°C];Druck [bar];Status'];
    // Every 8 hours from 1 to 16 January: days past the 12th show that dd.mm (not mm.dd) was read.
    for (let i = 0; i < 48; i++) {
      const t = `${String(1 + Math.floor(i / 3)).padStart(2, '0')}.01.2024 ${String((i % 3) * 8).padStart(2, '0')}:15`;
      rows.push(`${t};${(20 + i * 0.25).toFixed(2).replace('.', ',')};${(1 + i / 100).toFixed(3).replace('.', ',')};${i % 3 ? 'an' : 'aus'}`);
    }
    const file = write('linie3.csv', rows.join('\r\n') + '\r\n');
    const ws = freshDir();
    const r = await importJson(file, ws, '--time-zone', 'Europe/Berlin');
    expect(r.rows).toBe(48);
    expect(r.columns).toEqual([
      { name: 'Zeitstempel', type: 'timestamp', unit: null, missing: 0 },
      { name: 'Temperatur', type: 'number', unit: '°C', missing: 0 },
      { name: 'Druck', type: 'number', unit: 'bar', missing: 0 },
      { name: 'Status', type: 'category', unit: null, missing: 0 },
    ]);
    expect(r.problems).toEqual([]);

    const p = await profileJson('linie3', ws);
    // 01.01.2024 00:15 in Berlin (UTC+1) is 23:15 UTC the day before; the last row is 16.01.2024 16:15.
    expect(p.columns[0]!.profile).toMatchObject({ kind: 'time', count: 48, missing: 0, first: Date.UTC(2023, 11, 31, 23, 15), last: Date.UTC(2024, 0, 16, 15, 15), medianIntervalMs: 8 * 3_600_000 });
    expect(p.columns[1]!.profile).toMatchObject({ min: 20, max: 31.75 });
    expect(p.columns[1]!.profile.mean).toBeCloseTo(25.875, 9);
    expect(p.columns[2]!.profile).toMatchObject({ min: 1, max: 1.47 });

    // The zone matters: the same file read as UTC is an hour later.
    await importJson(file, ws, '--time-zone', 'UTC', '--name', 'linie3-utc');
    expect((await profileJson('linie3-utc', ws)).columns[0]!.profile).toMatchObject({ first: Date.UTC(2024, 0, 1, 0, 15), last: Date.UTC(2024, 0, 16, 16, 15) });
  });
});

describe('millwright import --on-bad-row', () => {
  let file: string;
  let ws: string;

  beforeAll(() => {
    // 200 readings; rows 17, 50, 51 and 120 have text in "flow", row 120 in "level" too.
    const lines = ['time,flow [m3/h],level'];
    for (let i = 0; i < 200; i++) {
      const bad = [17, 50, 51, 120].includes(i);
      lines.push(`2024-03-01 ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00,${bad ? 'err' : (10 + i * 0.5).toFixed(1)},${i === 120 ? 'n/a?' : i % 7}`);
    }
    file = write('flows.csv', lines.join('\n') + '\n');
    ws = freshDir();
  });

  it('skip drops each row with a bad cell once', async () => {
    const r = await importJson(file, ws, '--on-bad-row', 'skip', '--name', 'flows-skip');
    const nan = r.problems.find((p) => p.kind === 'not_a_number')!;
    expect(nan).toMatchObject({ count: 5, choice: 'skip' });
    expect(r.rejectedRows).toBe(4);
    expect(r.rows).toBe(200 - r.rejectedRows);
    expect(r.columns.map((c) => c.missing)).toEqual([0, 0, 0]);
  });

  it('missing keeps every row and leaves the bad cells empty', async () => {
    const r = await importJson(file, ws, '--on-bad-row', 'missing', '--name', 'flows-missing');
    expect(r.rows).toBe(200);
    expect(r.rejectedRows).toBe(0);
    expect(r.problems.find((p) => p.kind === 'not_a_number')).toMatchObject({ count: 5, choice: 'missing' });
    expect(r.columns.map((c) => [c.name, c.missing])).toEqual([
      ['time', 0],
      ['flow', 4],
      ['level', 1],
    ]);
  });

  it('prints a summary line and the problems as text without --json', async () => {
    const r = await run(['import', file, '--on-bad-row', 'skip', '--name', 'flows-text', '--workspace', ws]);
    ok(r);
    expect(r.stdout).toContain('Imported flows-text version 1: 196 rows, 3 columns.');
    expect(r.stdout).toContain('4 rows were skipped because of problems.');
    expect(r.stdout).toMatch(/: 5 \(rows skipped\)$/m);
  });
  // problem kind, including ones that do not offer that choice. Out-of-order and duplicate timestamps
  // offer only keep/skip, so "--on-bad-row missing" records and prints "treated as missing" for rows
  // that were kept unchanged (and "--on-bad-row skip" drops them although they are valid readings).
  it('records only choices a problem offers (out-of-order rows with --on-bad-row missing)', async () => {
    const ooo = write('ooo.csv', 'time,v\n2024-01-01 00:00:00,1\n2024-01-01 00:02:00,2\n2024-01-01 00:01:00,3\n2024-01-01 00:03:00,4\n');
    const r = await importJson(ooo, ws, '--on-bad-row', 'missing', '--name', 'ooo');
    expect(r.rows).toBe(4);
    const p = r.problems.find((x) => x.kind === 'out_of_order');
    expect(p).toBeDefined();
    expect(['keep', 'skip']).toContain(p!.choice);
  });
});

describe('millwright import: bad input', () => {
  let ws: string;

  beforeAll(async () => {
    ws = freshDir();
    // A workspace that already holds a dataset, so "nothing changed" means something.
    const seed = write('seed.csv', 'time,v\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,2\n');
    await importJson(seed, ws);
  });

  /** Runs a failing import and checks it left the workspace's datasets and blobs alone. */
  async function failingImport(args: string[], ...patterns: RegExp[]): Promise<void> {
    const before = snapshot(ws);
    expect(before.versions).toBe(1);
    expectUserError(await run(['import', ...args, '--workspace', ws]), ...patterns);
    expect(snapshot(ws)).toEqual(before);
  }

  it('a path that does not exist', async () => {
    await failingImport([path.join(root, 'no-such-file.csv')], /no-such-file\.csv/, /does not exist/);
  });

  it('an empty file', async () => {
    await failingImport([write('empty.csv', '')], /empty\.csv/, /empty/);
  });

  it('a file with a header but no rows', async () => {
    await failingImport([write('header-only.csv', 'time,flow,level\n')], /header-only\.csv/, /no data rows/);
  });

  it('a binary file', async () => {
    const bytes = crypto.randomBytes(4096);
    for (let i = 0; i < bytes.length; i += 64) bytes[i] = 0;
    await failingImport([write('random.bin', bytes)], /random\.bin/, /not a text file/);
  });

  it('a folder', async () => {
    const folder = path.join(root, 'exports');
    fs.mkdirSync(folder, { recursive: true });
    await failingImport([folder], /exports/, /folder/);
  });

  it('--on-bad-row with a value other than skip or missing', async () => {
    await failingImport([AI4I, '--on-bad-row', 'maybe'], /--on-bad-row/, /"maybe"/);
  });

  it('--time-column naming a column the file does not have', async () => {
    await failingImport([AI4I, '--time-column', 'NoSuchColumn'], /ai4i2020\.csv/, /"NoSuchColumn"/);
  });

  it('--encoding with an encoding Millwright does not read', async () => {
    await failingImport([AI4I, '--encoding', 'latin9'], /latin9/, /windows-1252/);
  });

  it('no file at all', async () => {
    await failingImport([], /Which file\?/);
  });

  it('gives the reason as JSON on stdout with --json', async () => {
    const before = snapshot(ws);
    const r = await run(['import', path.join(root, 'empty.csv'), '--json', '--workspace', ws]);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'bad_input', message: expect.stringContaining('empty.csv') as string } });
    expect(snapshot(ws)).toEqual(before);
  });

  it('two files with different columns: exit 2 naming both, nothing stored', async () => {
    const a = write('jan.csv', 'time,flow\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,2\n');
    const b = write('feb.csv', 'time,pressure\n2024-02-01 00:00:00,1\n2024-02-01 00:01:00,2\n');
    const before = snapshot(ws);
    const r = await run(['import', a, b, '--workspace', ws]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    // This one fails inside the import task, after its progress lines; the reason is the one "millwright:" line, last.
    const reasons = r.stderr.trimEnd().split('\n').filter((l) => l.startsWith('millwright:'));
    expect(reasons).toHaveLength(1);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(reasons[0]);
    expect(reasons[0]).toMatch(/jan\.csv/);
    expect(reasons[0]).toMatch(/feb\.csv/);
    expect(snapshot(ws)).toEqual(before);
  });
});
