import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnData, ColumnSchema, ColumnType } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import { Workspace } from '../workspace/workspace';
import { storeColumns } from './column-store';
import { findVersion, listVersions, recordVersion, type NewVersion } from './versions';

let dir: string;
let ws: Workspace;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-versions-'));
  ws = Workspace.open(dir, { who: 'ana', appVersion: 'test' });
});

afterEach(() => {
  ws.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

interface Spec {
  name?: string;
  rows?: number;
  /** Extra columns, by name and type. */
  extra?: [string, ColumnType][];
  /** Drop the "Flow" column. */
  noFlow?: boolean;
  /** Store "Flow" as integers instead of numbers. */
  flowType?: 'number' | 'integer';
  /** Added to every flow value, to change the content. */
  shift?: number;
  file?: string;
}

/** Stores generated columns and returns what an import hands to recordVersion. */
function newVersion(s: Spec = {}): NewVersion {
  const rows = s.rows ?? 24;
  const schema: ColumnSchema[] = [{ name: 'Time', type: 'timestamp', unit: null, header: 'Time' }];
  const columns: ColumnData[] = [{ type: 'timestamp', values: Float64Array.from({ length: rows }, (_, i) => T0 + i * HOUR) }];
  if (!s.noFlow) {
    const type = s.flowType ?? 'number';
    schema.push({ name: 'Flow', type, unit: 'm3/h', header: 'Flow [m3/h]' });
    columns.push({ type, values: Float64Array.from({ length: rows }, (_, i) => i * 2 + (s.shift ?? 0)) });
  }
  for (const [name, type] of s.extra ?? []) {
    schema.push({ name, type, unit: null, header: name });
    columns.push(type === 'category' || type === 'text' ? { type, codes: new Int32Array(rows), dictionary: ['x'] } : type === 'boolean' ? { type, values: new Uint8Array(rows) } : { type, values: new Float64Array(rows) });
  }
  const { stored, contentHash } = storeColumns(ws.blobs, schema, columns, rows);
  const file = s.file ?? 'line3.csv';
  return {
    datasetName: s.name ?? 'Line3',
    contentHash,
    rowCount: rows,
    schema: stored,
    settings: { delimiter: ',' },
    sources: [{ fileName: file, sha256: contentHash.slice(0, 63) + '0', size: rows * 30 }],
    report: { problems: [], rejectedRows: 0, choices: {} },
    profileBlob: null,
    timeColumn: 'Time',
    timeStart: T0,
    timeEnd: T0 + (rows - 1) * HOUR,
  };
}

function count(table: string): number {
  return (ws.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function auditActions(): { action: string; details: Record<string, unknown> }[] {
  return (ws.db.prepare("SELECT action, details FROM audit_log WHERE action LIKE 'dataset.%' ORDER BY id").all() as { action: string; details: string }[]).map((r) => ({
    action: r.action,
    details: JSON.parse(r.details) as Record<string, unknown>,
  }));
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

describe('recordVersion', () => {
  it('creates the dataset on the first import as version 1 without changes', () => {
    const v = newVersion();
    const { record, created } = recordVersion(ws, v);
    expect(created).toBe(true);
    expect(record.version).toBe(1);
    expect(record.datasetName).toBe('Line3');
    expect(record.datasetId).toMatch(/^ds_[a-z0-9]+$/);
    expect(record.changes).toBeNull();
    expect(record.createdBy).toBe('ana');
    expect(record.contentHash).toBe(v.contentHash);
    expect(record.rowCount).toBe(24);
    expect(record.schema).toEqual(v.schema);
    expect(record.sources).toEqual(v.sources);
    expect(record.settings).toEqual({ delimiter: ',' });
    expect([record.timeColumn, record.timeStart, record.timeEnd]).toEqual(['Time', T0, T0 + 23 * HOUR]);
    const ds = ws.db.prepare('SELECT id, name, created_by FROM datasets').all();
    expect(ds).toEqual([{ id: record.datasetId, name: 'Line3', created_by: 'ana' }]);
    expect(count('dataset_versions')).toBe(1);
  });

  it('returns the existing version, created false, for identical content, and writes nothing', () => {
    const first = recordVersion(ws, newVersion({ file: 'jan.csv' }));
    const auditBefore = count('audit_log');
    const sourcesBefore = count('source_files');
    // The same content from a file with another name.
    const again = recordVersion(ws, newVersion({ file: 'jan-copy.csv' }));
    expect(again.created).toBe(false);
    expect(again.record.id).toBe(first.record.id);
    expect(again.record.version).toBe(1);
    expect(again.record.sources.map((s) => s.fileName)).toEqual(['jan.csv']);
    expect(count('dataset_versions')).toBe(1);
    expect(count('datasets')).toBe(1);
    expect(count('audit_log')).toBe(auditBefore);
    expect(count('source_files')).toBe(sourcesBefore);
  });

  it('numbers changed content as version 2 and says what changed', () => {
    recordVersion(ws, newVersion({ rows: 24, extra: [['Old', 'number']] }));
    const { record, created } = recordVersion(ws, newVersion({ rows: 30, flowType: 'integer', extra: [['Mode', 'category']] }));
    expect(created).toBe(true);
    expect(record.version).toBe(2);
    expect(record.changes).toEqual({
      previousVersion: 1,
      rowsBefore: 24,
      rowsAfter: 30,
      timeBefore: [T0, T0 + 23 * HOUR],
      timeAfter: [T0, T0 + 29 * HOUR],
      columnsAdded: ['Mode'],
      columnsRemoved: ['Old'],
      columnsRetyped: [{ name: 'Flow', from: 'number', to: 'integer' }],
    });
    expect(count('datasets')).toBe(1);
  });

  it('reports a removed column and no time range when a version has none', () => {
    recordVersion(ws, newVersion());
    const v = { ...newVersion({ noFlow: true }), timeColumn: null, timeStart: null, timeEnd: null };
    const { record } = recordVersion(ws, v);
    expect(record.changes).toMatchObject({ columnsAdded: [], columnsRemoved: ['Flow'], columnsRetyped: [], timeBefore: [T0, T0 + 23 * HOUR], timeAfter: null });
  });

  it('compares with the latest version, and finds older identical content without a new version', () => {
    const v1 = recordVersion(ws, newVersion({ rows: 10 })).record;
    const v2 = recordVersion(ws, newVersion({ rows: 20 })).record;
    const v3 = recordVersion(ws, newVersion({ rows: 30 })).record;
    expect([v1.version, v2.version, v3.version]).toEqual([1, 2, 3]);
    expect(v3.changes).toMatchObject({ previousVersion: 2, rowsBefore: 20, rowsAfter: 30 });
    const back = recordVersion(ws, newVersion({ rows: 10 }));
    expect(back.created).toBe(false);
    expect(back.record.version).toBe(1);
    expect(count('dataset_versions')).toBe(3);
  });

  it('keeps datasets apart: the same content under another name is that dataset’s version 1', () => {
    const a = recordVersion(ws, newVersion({ name: 'Line3' })).record;
    const b = recordVersion(ws, newVersion({ name: 'Line4' }));
    expect(b.created).toBe(true);
    expect(b.record.version).toBe(1);
    expect(b.record.datasetId).not.toBe(a.datasetId);
    expect(count('datasets')).toBe(2);
  });

  it('writes dataset.create once and dataset.version for each new version', () => {
    recordVersion(ws, newVersion());
    recordVersion(ws, newVersion());
    recordVersion(ws, { ...newVersion({ shift: 1 }), report: { problems: [], rejectedRows: 3, choices: { not_a_number: 'skip' } } });
    const entries = auditActions();
    expect(entries.map((e) => e.action)).toEqual(['dataset.create', 'dataset.version', 'dataset.version']);
    const dsId = (ws.db.prepare('SELECT id FROM datasets').get() as { id: string }).id;
    expect(entries[0]!.details).toEqual({ id: dsId, name: 'Line3' });
    expect(entries[1]!.details).toEqual({ dataset: 'Line3', version: 1, rows: 24, files: ['line3.csv'], rejectedRows: 0 });
    expect(entries[2]!.details).toMatchObject({ dataset: 'Line3', version: 2, rejectedRows: 3 });
    const who = ws.db.prepare("SELECT DISTINCT who FROM audit_log WHERE action LIKE 'dataset.%'").all();
    expect(who).toEqual([{ who: 'ana' }]);
  });

  it('records one source_files row per file with the version id', () => {
    const v = newVersion();
    v.sources = [
      { fileName: 'jan.csv', sha256: 'a'.repeat(64), size: 100 },
      { fileName: 'feb.csv', sha256: 'b'.repeat(64), size: 200 },
    ];
    const { record } = recordVersion(ws, v);
    const v2 = recordVersion(ws, newVersion({ shift: 5, file: 'mar.csv' })).record;
    const rows = ws.db.prepare('SELECT dataset_id, file_name, sha256, size, rows, columns, version_id, added_by FROM source_files ORDER BY id').all();
    expect(rows).toEqual([
      { dataset_id: record.datasetId, file_name: 'jan.csv', sha256: 'a'.repeat(64), size: 100, rows: 24, columns: JSON.stringify(['Time', 'Flow [m3/h]']), version_id: record.id, added_by: 'ana' },
      { dataset_id: record.datasetId, file_name: 'feb.csv', sha256: 'b'.repeat(64), size: 200, rows: 24, columns: JSON.stringify(['Time', 'Flow [m3/h]']), version_id: record.id, added_by: 'ana' },
      expect.objectContaining({ file_name: 'mar.csv', version_id: v2.id }),
    ]);
    expect(v2.id).not.toBe(record.id);
  });
});

describe('findVersion and listVersions', () => {
  function threeVersions() {
    return [1, 2, 3].map((k) => recordVersion(ws, newVersion({ rows: 10 * k })).record);
  }

  it('finds the latest version by name and by dataset id', () => {
    const [, , v3] = threeVersions();
    expect(findVersion(ws.db, 'Line3').version).toBe(3);
    expect(findVersion(ws.db, v3!.datasetId).version).toBe(3);
    expect(findVersion(ws.db, v3!.datasetId).id).toBe(v3!.id);
  });

  it('finds a given version by name@N, by id@N and by the version argument', () => {
    const [v1, v2] = threeVersions();
    expect(findVersion(ws.db, 'Line3@1').id).toBe(v1!.id);
    expect(findVersion(ws.db, 'Line3@2').rowCount).toBe(20);
    expect(findVersion(ws.db, `${v1!.datasetId}@2`).id).toBe(v2!.id);
    expect(findVersion(ws.db, 'Line3', 1).id).toBe(v1!.id);
    // An explicit version wins over one in the name.
    expect(findVersion(ws.db, 'Line3@1', 2).id).toBe(v2!.id);
  });

  it('finds a dataset whose name contains "@" but no version number', () => {
    recordVersion(ws, newVersion({ name: 'pump@north' }));
    expect(findVersion(ws.db, 'pump@north').datasetName).toBe('pump@north');
  });
  // (the default name of a file called "line3@2.csv", or any --name) cannot be found by its own name:
  // "line3@2" is read as version 2 of "line3". Fix: try the whole ref as a name first, then the split.
  it('finds a dataset whose own name ends in @ and digits', () => {
    recordVersion(ws, newVersion({ name: 'line3@2' }));
    expect(findVersion(ws.db, 'line3@2').datasetName).toBe('line3@2');
  });

  it('says not_found for an unknown dataset, naming it', () => {
    threeVersions();
    const e = thrown(() => findVersion(ws.db, 'Line9'));
    expect(e.code).toBe('not_found');
    expect(e.message).toContain('"Line9"');
    expect(e.message).toContain('millwright datasets');
    const withVersion = thrown(() => findVersion(ws.db, 'Line9@2'));
    expect(withVersion.code).toBe('not_found');
    expect(withVersion.message).toContain('"Line9"');
  });

  it('says not_found for an unknown version, naming the dataset and the version', () => {
    threeVersions();
    for (const e of [thrown(() => findVersion(ws.db, 'Line3@7')), thrown(() => findVersion(ws.db, 'Line3', 7))]) {
      expect(e.code).toBe('not_found');
      expect(e.message).toBe('Dataset "Line3" has no version 7.');
    }
  });

  it('says not_found for a dataset without versions (created before versions existed)', () => {
    ws.db.prepare("INSERT INTO datasets (id, name, description, created_at, created_by) VALUES ('ds_old', 'Legacy', '', '2024-01-01', 'ana')").run();
    const e = thrown(() => findVersion(ws.db, 'Legacy'));
    expect(e.code).toBe('not_found');
    expect(e.message).toContain('"Legacy" has no imported version yet');
  });

  it('lists versions newest first', () => {
    const [v1] = threeVersions();
    expect(listVersions(ws.db, v1!.datasetId).map((v) => [v.version, v.rowCount])).toEqual([
      [3, 30],
      [2, 20],
      [1, 10],
    ]);
    expect(listVersions(ws.db, 'ds_nope')).toEqual([]);
  });
});
