import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../../../shared/errors';
import { diskFullError } from './disk-full';

/**
 * Read and write handles are branded so that code holding only a reader cannot
 * write by accident (a habit from Signal Desktop).
 */
export type ReadableDb = Database.Database & { readonly __readable: never };
export type WritableDb = ReadableDb & { readonly __writable: never };

export interface Migration {
  /** Numbered in steps of ten; stored in PRAGMA user_version. */
  version: number;
  name: string;
  up: string | ((db: WritableDb) => void);
}

/**
 * Opens a workspace database. When `maxVersion` is given, a database from a
 * newer app is refused before anything (even the journal mode) is written.
 */
export function openDatabase(file: string, maxVersion?: number): WritableDb {
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (err) {
    const full = diskFullError(path.dirname(path.resolve(file)), err);
    if (full) throw full;
    throw new AppError(
      'workspace_unusable',
      `The workspace database ${file} cannot be opened (${(err as Error).message}). Check the folder's permissions or choose another workspace.`,
    );
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (maxVersion !== undefined) refuseNewer(db as WritableDb, maxVersion);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (err) {
    db.close();
    if (err instanceof AppError) throw err;
    // On a full disk SQLite cannot make its WAL files, and says only "disk I/O error": not a damaged database.
    const full = diskFullError(path.dirname(path.resolve(file)), err);
    if (full) throw full;
    throw new AppError(
      'workspace_unusable',
      `${file} is not a Millwright workspace database (${(err as Error).message}).`,
    );
  }
  return db as WritableDb;
}

export function schemaVersion(db: ReadableDb): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies pending migrations in one transaction, so a failure leaves the
 * database at its old version. Refuses a database written by a newer app.
 */
export function migrate(db: WritableDb, migrations: readonly Migration[], target?: number): number {
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
  const goal = target ?? latest;
  refuseNewer(db, latest);
  const current = schemaVersion(db);
  const pending = migrations.filter((m) => m.version > current && m.version <= goal);
  if (!pending.length) return current;
  db.transaction(() => {
    for (const m of pending) {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }
  })();
  return schemaVersion(db);
}

function refuseNewer(db: ReadableDb, latest: number): void {
  const current = schemaVersion(db);
  if (current > latest) {
    throw new AppError(
      'workspace_newer',
      `This workspace was saved by a newer version of Millwright (schema ${current}; this version knows up to ${latest}). Install the newer version, or choose another workspace folder. Nothing was changed.`,
    );
  }
}
