import crypto from 'node:crypto';
import type { ColumnType, Problem } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';
import type { StoredColumn } from './column-store';

export interface SourceRef {
  fileName: string;
  sha256: string;
  size: number;
}

/** What an import hands over to be recorded as a version. */
export interface NewVersion {
  datasetName: string;
  description?: string;
  contentHash: string;
  rowCount: number;
  schema: StoredColumn[];
  settings: Record<string, unknown>;
  sources: SourceRef[];
  report: { problems: Omit<Problem, 'examples'>[]; rejectedRows: number; choices: Record<string, string> };
  profileBlob: string | null;
  timeColumn: string | null;
  timeStart: number | null;
  timeEnd: number | null;
}

/** What changed since the previous version, in words a person can check. */
export interface VersionChanges {
  previousVersion: number;
  rowsBefore: number;
  rowsAfter: number;
  timeBefore: [number, number] | null;
  timeAfter: [number, number] | null;
  columnsAdded: string[];
  columnsRemoved: string[];
  columnsRetyped: { name: string; from: ColumnType; to: ColumnType }[];
}

export interface VersionRecord {
  id: number;
  datasetId: string;
  datasetName: string;
  version: number;
  contentHash: string;
  createdAt: string;
  createdBy: string;
  rowCount: number;
  schema: StoredColumn[];
  settings: Record<string, unknown>;
  sources: SourceRef[];
  report: NewVersion['report'];
  changes: VersionChanges | null;
  profileBlob: string | null;
  timeColumn: string | null;
  timeStart: number | null;
  timeEnd: number | null;
}

interface VersionRow {
  id: number;
  dataset_id: string;
  name: string;
  version: number;
  content_hash: string;
  created_at: string;
  created_by: string;
  row_count: number;
  schema: string;
  settings: string;
  sources: string;
  report: string;
  changes: string | null;
  profile_blob: string | null;
  time_column: string | null;
  time_start: number | null;
  time_end: number | null;
}

const SELECT_VERSION = `SELECT v.*, d.name FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id`;

function toRecord(r: VersionRow): VersionRecord {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    datasetName: r.name,
    version: r.version,
    contentHash: r.content_hash,
    createdAt: r.created_at,
    createdBy: r.created_by,
    rowCount: r.row_count,
    schema: JSON.parse(r.schema) as StoredColumn[],
    settings: JSON.parse(r.settings) as Record<string, unknown>,
    sources: JSON.parse(r.sources) as SourceRef[],
    report: JSON.parse(r.report) as NewVersion['report'],
    changes: r.changes ? (JSON.parse(r.changes) as VersionChanges) : null,
    profileBlob: r.profile_blob,
    timeColumn: r.time_column,
    timeStart: r.time_start,
    timeEnd: r.time_end,
  };
}

function diff(prev: VersionRecord, next: NewVersion): VersionChanges {
  const before = new Map(prev.schema.map((c) => [c.name, c.type]));
  const after = new Map(next.schema.map((c) => [c.name, c.type]));
  return {
    previousVersion: prev.version,
    rowsBefore: prev.rowCount,
    rowsAfter: next.rowCount,
    timeBefore: prev.timeStart !== null && prev.timeEnd !== null ? [prev.timeStart, prev.timeEnd] : null,
    timeAfter: next.timeStart !== null && next.timeEnd !== null ? [next.timeStart, next.timeEnd] : null,
    columnsAdded: [...after.keys()].filter((n) => !before.has(n)),
    columnsRemoved: [...before.keys()].filter((n) => !after.has(n)),
    columnsRetyped: [...after].filter(([n, t]) => before.has(n) && before.get(n) !== t).map(([name, to]) => ({ name, from: before.get(name)!, to })),
  };
}

/**
 * Records an imported table as a version of the named dataset (creating the
 * dataset on first import). The same content imported again returns the
 * version that already holds it: nothing new is written.
 */
export function recordVersion(ws: Workspace, v: NewVersion): { record: VersionRecord; created: boolean } {
  return ws.db.transaction(() => {
    let ds = ws.db.prepare('SELECT id FROM datasets WHERE name = ?').get(v.datasetName) as { id: string } | undefined;
    const now = new Date().toISOString();
    if (!ds) {
      ds = { id: `ds_${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}` };
      ws.db
        .prepare('INSERT INTO datasets (id, name, description, created_at, created_by) VALUES (?, ?, ?, ?, ?)')
        .run(ds.id, v.datasetName, v.description ?? '', now, ws.who);
      ws.audit.record('dataset.create', { id: ds.id, name: v.datasetName });
    }
    const same = ws.db.prepare(`${SELECT_VERSION} WHERE v.dataset_id = ? AND v.content_hash = ?`).get(ds.id, v.contentHash) as VersionRow | undefined;
    if (same) return { record: toRecord(same), created: false };
    const prevRow = ws.db.prepare(`${SELECT_VERSION} WHERE v.dataset_id = ? ORDER BY v.version DESC LIMIT 1`).get(ds.id) as VersionRow | undefined;
    const prev = prevRow ? toRecord(prevRow) : null;
    const changes = prev ? diff(prev, v) : null;
    const info = ws.db
      .prepare(
        `INSERT INTO dataset_versions (dataset_id, version, content_hash, created_at, created_by, row_count, schema, settings, sources, report, changes, profile_blob, time_column, time_start, time_end)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        ds.id,
        (prev?.version ?? 0) + 1,
        v.contentHash,
        now,
        ws.who,
        v.rowCount,
        JSON.stringify(v.schema),
        JSON.stringify(v.settings),
        JSON.stringify(v.sources),
        JSON.stringify(v.report),
        changes ? JSON.stringify(changes) : null,
        v.profileBlob,
        v.timeColumn,
        v.timeStart,
        v.timeEnd,
      );
    const id = Number(info.lastInsertRowid);
    const addSource = ws.db.prepare(
      'INSERT INTO source_files (dataset_id, file_name, sha256, size, rows, columns, added_at, added_by, version_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const s of v.sources) addSource.run(ds.id, s.fileName, s.sha256, s.size, v.rowCount, JSON.stringify(v.schema.map((c) => c.header)), now, ws.who, id);
    const record = toRecord(ws.db.prepare(`${SELECT_VERSION} WHERE v.id = ?`).get(id) as VersionRow);
    ws.audit.record('dataset.version', {
      dataset: v.datasetName,
      version: record.version,
      rows: v.rowCount,
      files: v.sources.map((s) => s.fileName),
      rejectedRows: v.report.rejectedRows,
    });
    return { record, created: true };
  })();
}

/**
 * Finds a version by "name", "name@3" or a dataset id; the latest version
 * when none is given. Throws not_found with the names a person can use.
 */
export function findVersion(db: ReadableDb, ref: string, version?: number): VersionRecord {
  const byName = (n: string) => db.prepare('SELECT id, name FROM datasets WHERE name = ? OR id = ?').get(n, n) as { id: string; name: string } | undefined;
  // A whole name wins, so "line3@2" (from line3@2.csv) is found as itself before "line3", version 2.
  let ds = byName(ref);
  let name = ref;
  let wanted = version;
  const m = /^(.*)@(\d+)$/.exec(ref);
  if (!ds && m) {
    name = m[1]!;
    wanted = version ?? Number(m[2]);
    ds = byName(name);
  }
  if (!ds) throw new AppError('not_found', `There is no dataset called "${name}". Run "millwright datasets" to see the names.`, 'dataset');
  const row = (
    wanted === undefined
      ? db.prepare(`${SELECT_VERSION} WHERE v.dataset_id = ? ORDER BY v.version DESC LIMIT 1`).get(ds.id)
      : db.prepare(`${SELECT_VERSION} WHERE v.dataset_id = ? AND v.version = ?`).get(ds.id, wanted)
  ) as VersionRow | undefined;
  if (!row) {
    throw new AppError(
      'not_found',
      wanted === undefined ? `Dataset "${ds.name}" has no imported version yet.` : `Dataset "${ds.name}" has no version ${wanted}.`,
      'version',
    );
  }
  return toRecord(row);
}

export function listVersions(db: ReadableDb, datasetId: string): VersionRecord[] {
  return (db.prepare(`${SELECT_VERSION} WHERE v.dataset_id = ? ORDER BY v.version DESC`).all(datasetId) as VersionRow[]).map(toRecord);
}
