import crypto from 'node:crypto';
import type { DatasetSummary } from '../../../shared/api';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';

export interface SourceFileFacts {
  name: string;
  description: string;
  fileName: string;
  sha256: string;
  size: number;
  rows: number;
  columns: string[];
}

interface DatasetRow {
  id: string;
  name: string;
  description: string;
  created_at: string;
  created_by: string;
  file_name: string;
  sha256: string;
  size: number;
  rows: number;
  columns: string;
}

/**
 * Registers a stored source file as a dataset, or returns the dataset that
 * already holds the same bytes, so adding the same file twice changes nothing.
 */
export function addSourceDataset(ws: Workspace, facts: SourceFileFacts): { id: string; created: boolean } {
  return ws.db.transaction(() => {
    const existing = ws.db.prepare('SELECT dataset_id AS id FROM source_files WHERE sha256 = ? LIMIT 1').get(facts.sha256) as
      | { id: string }
      | undefined;
    if (existing) return { id: existing.id, created: false };
    const id = `ds_${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
    const now = new Date().toISOString();
    ws.db
      .prepare('INSERT INTO datasets (id, name, description, created_at, created_by) VALUES (?, ?, ?, ?, ?)')
      .run(id, facts.name, facts.description, now, ws.who);
    ws.db
      .prepare(
        'INSERT INTO source_files (dataset_id, file_name, sha256, size, rows, columns, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, facts.fileName, facts.sha256, facts.size, facts.rows, JSON.stringify(facts.columns), now, ws.who);
    ws.audit.record('dataset.create', { id, name: facts.name, file: facts.fileName, sha256: facts.sha256, rows: facts.rows });
    return { id, created: true };
  })();
}

export function listDatasets(db: ReadableDb): DatasetSummary[] {
  const rows = db
    .prepare(
      `SELECT d.id, d.name, d.description, d.created_at, d.created_by, f.file_name, f.sha256, f.size, f.rows, f.columns
         FROM datasets d JOIN source_files f ON f.dataset_id = d.id
        WHERE f.id = (SELECT MIN(id) FROM source_files WHERE dataset_id = d.id)
        ORDER BY d.created_at DESC, d.id DESC`,
    )
    .all() as DatasetRow[];
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    createdAt: r.created_at,
    createdBy: r.created_by,
    fileName: r.file_name,
    fileSha256: r.sha256,
    sizeBytes: r.size,
    rows: r.rows,
    columns: JSON.parse(r.columns) as string[],
  }));
}
