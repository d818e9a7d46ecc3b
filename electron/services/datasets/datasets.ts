import type { DatasetSummary, VersionSummary } from '../../../shared/api';
import type { ReadableDb } from '../workspace/db';
import { findVersion, listVersions, type VersionRecord } from './versions';

interface DatasetRow {
  id: string;
  name: string;
  description: string;
  created_at: string;
  created_by: string;
}

/** Every dataset with the facts of its latest version, most recently changed first. */
export function listDatasets(db: ReadableDb): DatasetSummary[] {
  const rows = db.prepare('SELECT id, name, description, created_at, created_by FROM datasets').all() as DatasetRow[];
  return rows.map((d) => summarize(db, d)).sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
}

export function getDataset(db: ReadableDb, ref: string): { dataset: DatasetSummary; versions: VersionSummary[] } {
  const latest = findVersion(db, ref);
  const row = db.prepare('SELECT id, name, description, created_at, created_by FROM datasets WHERE id = ?').get(latest.datasetId) as DatasetRow;
  return { dataset: summarize(db, row), versions: listVersions(db, row.id).map(versionSummary) };
}

export function versionSummary(v: VersionRecord): VersionSummary {
  return {
    dataset: v.datasetName,
    datasetId: v.datasetId,
    version: v.version,
    createdAt: v.createdAt,
    createdBy: v.createdBy,
    rows: v.rowCount,
    columns: v.schema.map((c) => ({ name: c.name, type: c.type, unit: c.unit, header: c.header })),
    sources: v.sources,
    timeColumn: v.timeColumn,
    timeStart: v.timeStart,
    timeEnd: v.timeEnd,
    rejectedRows: v.report.rejectedRows,
    problems: v.report.problems.map((p) => ({ kind: p.kind, title: p.title, count: p.count })),
    changes: v.changes,
    contentHash: v.contentHash,
  };
}

function summarize(db: ReadableDb, d: DatasetRow): DatasetSummary {
  const v = listVersions(db, d.id)[0];
  const file = db.prepare('SELECT file_name, sha256, size, rows, columns FROM source_files WHERE dataset_id = ? ORDER BY id DESC LIMIT 1').get(d.id) as
    | { file_name: string; sha256: string; size: number; rows: number; columns: string }
    | undefined;
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    createdAt: d.created_at,
    createdBy: d.created_by,
    version: v?.version ?? null,
    updatedAt: v?.createdAt ?? d.created_at,
    fileName: v ? v.sources.map((s) => s.fileName).join(', ') : (file?.file_name ?? ''),
    fileSha256: v?.sources[0]?.sha256 ?? file?.sha256 ?? '',
    sizeBytes: v ? v.sources.reduce((n, s) => n + s.size, 0) : (file?.size ?? 0),
    rows: v?.rowCount ?? file?.rows ?? 0,
    columns: v ? v.schema.map((c) => c.name) : file ? (JSON.parse(file.columns) as string[]) : [],
    timeStart: v?.timeStart ?? null,
    timeEnd: v?.timeEnd ?? null,
  };
}
