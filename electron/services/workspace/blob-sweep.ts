import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import type Database from 'better-sqlite3';
import type { StoredColumn } from '../datasets/column-store';
import type { Workspace } from './workspace';

/**
 * Blobs nothing refers to: the columns of an import that failed on a full
 * disk, the model of a training killed between writing it and recording it.
 * Harmless (checks name them as such) but they take space, and a full disk
 * is exactly when a person needs it back.
 *
 * A blob is written before the record that refers to it, so a blob without a
 * record may belong to a task still running, here or in another process. A
 * sweep therefore runs only when no task of the workspace is queued or
 * running in any process, inside a write transaction, and only touches blobs
 * of a time window: since a failed task started, or older than an hour at
 * start-up. Writers that are not tasks (answers into the data, a new alarm
 * level, a graph written when first asked for) store and record their blobs
 * inside one write transaction, so a sweep cannot come in between
 * (blob-race.test.ts); storing bytes already held marks the blob as just
 * written (BlobStore.put).
 */

const BLOB_NAME = /^[0-9a-f]{64}$/;

/** Every blob a record refers to, with what refers to it. */
export function referencedBlobs(db: Database.Database): Map<string, string> {
  const refs = new Map<string, string>();
  const versions = db.prepare('SELECT d.name, dv.version, dv.schema, dv.profile_blob FROM dataset_versions dv JOIN datasets d ON d.id = dv.dataset_id').all() as { name: string; version: number; schema: string; profile_blob: string | null }[];
  for (const v of versions) {
    for (const c of JSON.parse(v.schema) as StoredColumn[]) {
      refs.set(c.blob, `column "${c.name}" of dataset ${v.name}@${v.version}`);
      if (c.dictionary) refs.set(c.dictionary, `the values of column "${c.name}" of dataset ${v.name}@${v.version}`);
    }
    if (v.profile_blob) refs.set(v.profile_blob, `the statistics of dataset ${v.name}@${v.version}`);
  }
  const models = db.prepare('SELECT m.name, mv.version, mv.model_blob, mv.report_blob, mv.onnx_blob FROM model_versions mv JOIN models m ON m.id = mv.model_id').all() as { name: string; version: number; model_blob: string; report_blob: string; onnx_blob: string | null }[];
  for (const m of models) {
    refs.set(m.model_blob, `the fitted model of ${m.name}@${m.version}`);
    refs.set(m.report_blob, `the report of ${m.name}@${m.version}`);
    if (m.onnx_blob) refs.set(m.onnx_blob, `the ONNX graph of ${m.name}@${m.version}`);
  }
  return refs;
}

export interface SweepWindow {
  /** Blobs written at or after this time (epoch ms): what a failed task may have left. */
  since?: number;
  /** Blobs written before this time (epoch ms). */
  before?: number;
  /** The task whose end calls the sweep: its own row may still say running. */
  exceptJob?: string;
}

export interface SweepResult {
  /** False when a task was queued or running, so nothing was looked at. */
  swept: boolean;
  removed: number;
  bytes: number;
}

/** Removes the unreferenced blobs written in the window, when no task of the workspace runs anywhere. */
export function sweepBlobs(ws: Workspace, window: SweepWindow): SweepResult {
  const none: SweepResult = { swept: false, removed: 0, bytes: 0 };
  const busy = ws.db.prepare("SELECT 1 FROM jobs WHERE state IN ('queued','running') AND id != ? LIMIT 1");
  if (busy.get(window.exceptJob ?? '')) return none;
  const dir = ws.blobs.dir;
  const result = ws.db.transaction((): SweepResult => {
    // Again inside the write lock: a task another process started meanwhile has its row by now.
    if (busy.get(window.exceptJob ?? '')) return none;
    const refs = referencedBlobs(ws.db);
    let removed = 0;
    let bytes = 0;
    for (const name of fs.readdirSync(dir)) {
      if (!BLOB_NAME.test(name) || refs.has(name)) continue;
      const file = path.join(dir, name);
      try {
        const st = fs.statSync(file);
        if (window.since !== undefined && st.mtimeMs < window.since) continue;
        if (window.before !== undefined && st.mtimeMs >= window.before) continue;
        fs.rmSync(file);
        removed++;
        bytes += st.size;
      } catch {
        // Gone already, or not ours to remove (read-only): left for the next sweep.
      }
    }
    return { swept: true, removed, bytes };
  }).immediate();
  // After the transaction: on a disk still full, the audit line may fail while the files are gone.
  if (result.removed) {
    try {
      ws.audit.record('blobs.sweep', { removed: result.removed, bytes: result.bytes, host: os.hostname(), ...window });
    } catch {
      // The sweep is done; only its audit line is lost.
    }
  }
  return result;
}

/** How old an unreferenced blob must be for the start-up sweep, and how often that sweep runs at most. */
export const START_SWEEP_AGE_MS = 3600 * 1000;
const STAMP = '.last-sweep';

/**
 * The sweep at start-up: blobs older than an hour, at most once an hour per
 * workspace, so a script running many short CLI commands does not list the
 * blob folder under the write lock each time.
 */
export function sweepAtStart(ws: Workspace, now = Date.now()): SweepResult | null {
  // In tmp/, not beside the blobs: a backup copies the blob folder and checks each file against its name.
  const stamp = path.join(ws.dir, 'tmp', STAMP);
  try {
    const age = now - fs.statSync(stamp).mtimeMs;
    // A stamp from the future (the clock was ahead when it was written) holds nothing back.
    if (age >= 0 && age < START_SWEEP_AGE_MS) return null;
  } catch {
    // Never swept.
  }
  const result = sweepBlobs(ws, { before: now - START_SWEEP_AGE_MS });
  if (result.swept) {
    try {
      fs.mkdirSync(path.dirname(stamp), { recursive: true });
      fs.writeFileSync(stamp, new Date(now).toISOString());
    } catch {
      // A read-only or full disk: the next start sweeps again.
    }
  }
  return result;
}
