import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import { AuditLog } from './audit';
import { BlobStore } from './blobs';
import { migrate, openDatabase, type WritableDb } from './db';
import { currentUser } from './location';
import { MIGRATIONS } from './migrations';

export const DB_FILE = 'millwright.db';

/**
 * One workspace folder: SQLite metadata, content-addressed blobs, logs.
 * Opening creates the folder on first use and upgrades an older schema; a
 * schema from a newer app is refused before anything is written.
 */
export class Workspace {
  readonly blobs: BlobStore;
  readonly audit: AuditLog;
  readonly who: string;
  readonly schemaVersion: number;

  private constructor(
    readonly dir: string,
    readonly db: WritableDb,
    who: string,
  ) {
    this.who = who;
    this.blobs = new BlobStore(path.join(dir, 'blobs'), path.join(dir, 'tmp'));
    this.audit = new AuditLog(db, who);
    this.schemaVersion = db.pragma('user_version', { simple: true }) as number;
  }

  static open(dir: string, opts: { who?: string; appVersion?: string } = {}): Workspace {
    const abs = path.resolve(dir);
    ensureFolder(abs);
    const dbFile = path.join(abs, DB_FILE);
    const isNew = !fs.existsSync(dbFile);
    const db = openDatabase(dbFile, MIGRATIONS[MIGRATIONS.length - 1]!.version);
    try {
      migrate(db, MIGRATIONS);
    } catch (err) {
      db.close();
      throw err;
    }
    const ws = new Workspace(abs, db, opts.who ?? currentUser());
    for (const sub of ['logs', 'keys']) fs.mkdirSync(path.join(abs, sub), { recursive: true });
    if (isNew) {
      db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_with', ?)").run(opts.appVersion ?? 'unknown');
      ws.audit.record('workspace.create', { dir: abs, appVersion: opts.appVersion ?? 'unknown' });
    }
    return ws;
  }

  /**
   * Removes uploads and staged imports nobody came back for within a day,
   * and the bundles and backup folders of deployments, shadows and backups
   * killed before they could remove their own; fresh ones may belong to
   * another open window.
   */
  cleanScratch(maxAgeMs = 24 * 3600 * 1000): number {
    let removed = 0;
    for (const sub of ['uploads', 'staging', '.']) {
      const dir = path.join(this.dir, 'tmp', sub);
      if (!fs.existsSync(dir)) continue;
      for (const name of fs.readdirSync(dir)) {
        if (sub === '.' && !/^(deploy-.+\.tar\.gz|shadow-.+\.tar\.gz|backup-.+)$/.test(name)) continue;
        const p = path.join(dir, name);
        try {
          if (Date.now() - fs.statSync(p).mtimeMs > maxAgeMs) {
            fs.rmSync(p, { recursive: true, force: true });
            removed++;
          }
        } catch {
          // Gone already.
        }
      }
    }
    return removed;
  }

  get logDir(): string {
    return path.join(this.dir, 'logs');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function ensureFolder(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new AppError(
      'workspace_unusable',
      `The workspace folder ${dir} cannot be created (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Choose another folder with --workspace or MILLWRIGHT_HOME.`,
    );
  }
  if (!fs.statSync(dir).isDirectory()) {
    throw new AppError('workspace_unusable', `${dir} is a file, not a folder. Choose a folder for the workspace.`);
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new AppError('workspace_unusable', `The workspace folder ${dir} is read-only for this user. Choose another folder.`);
  }
}
