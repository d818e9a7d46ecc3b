import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { AuditLog } from './audit';
import { currentUser } from './location';
import { DB_FILE, Workspace } from './workspace';
import { MIGRATIONS } from './migrations';

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

interface Snapshot {
  bytes: Buffer;
  mtimeMs: number;
  size: number;
  entries: string[];
}

function snapshot(dir: string): Snapshot {
  const file = path.join(dir, DB_FILE);
  const st = fs.statSync(file);
  return { bytes: fs.readFileSync(file), mtimeMs: st.mtimeMs, size: st.size, entries: fs.readdirSync(dir).sort() };
}

let root: string;
const open: Workspace[] = [];
const track = (ws: Workspace) => {
  open.push(ws);
  return ws;
};

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-ws-'));
});

afterEach(() => {
  for (const ws of open.splice(0)) ws.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('Workspace.open', () => {
  it('creates the folder, a WAL database at the latest schema and the sub-folders', () => {
    const dir = path.join(root, 'new', 'workspace');
    const ws = track(Workspace.open(dir, { who: 'ana', appVersion: '1.2.3' }));
    expect(ws.dir).toBe(dir);
    expect(fs.existsSync(path.join(dir, DB_FILE))).toBe(true);
    expect(ws.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(ws.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    expect(ws.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    for (const sub of ['blobs', 'logs', 'keys', 'tmp']) {
      expect(fs.statSync(path.join(dir, sub)).isDirectory(), sub).toBe(true);
    }
    expect(ws.logDir).toBe(path.join(dir, 'logs'));
    expect(ws.blobs.dir).toBe(path.join(dir, 'blobs'));
  });

  it('stays in WAL mode after closing and reopening the file', () => {
    const dir = path.join(root, 'w');
    Workspace.open(dir).close();
    const raw = new Database(path.join(dir, DB_FILE), { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('resolves a relative folder to an absolute path', () => {
    const rel = path.relative(process.cwd(), path.join(root, 'rel'));
    const ws = track(Workspace.open(rel));
    expect(path.isAbsolute(ws.dir)).toBe(true);
    expect(ws.dir).toBe(path.join(root, 'rel'));
  });

  it('records who created the workspace and with which version, once', () => {
    const dir = path.join(root, 'w');
    const ws = track(Workspace.open(dir, { who: 'ana', appVersion: '1.2.3' }));
    const entries = AuditLog.list(ws.db, { limit: 10 });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ who: 'ana', action: 'workspace.create', details: { dir, appVersion: '1.2.3' } });
    expect(Date.parse(entries[0]!.at)).not.toBeNaN();
    expect(ws.db.prepare("SELECT value FROM meta WHERE key = 'created_with'").get()).toEqual({ value: '1.2.3' });
    expect(ws.who).toBe('ana');
  });

  it('uses the OS user when no one is named', () => {
    const ws = track(Workspace.open(path.join(root, 'w')));
    expect(ws.who).toBe(currentUser());
    expect(AuditLog.list(ws.db, { limit: 1 })[0]!.who).toBe(currentUser());
  });

  it('keeps data when reopened and does not record a second creation', () => {
    const dir = path.join(root, 'w');
    const first = Workspace.open(dir, { who: 'ana', appVersion: '1.0.0' });
    first.audit.record('model.promote', { model: 'spindle', version: 3 });
    const blob = first.blobs.put('sensor data');
    first.close();

    const again = track(Workspace.open(dir, { who: 'ben', appVersion: '2.0.0' }));
    const actions = AuditLog.list(again.db, { limit: 10 }).map((e) => e.action);
    expect(actions).toEqual(['model.promote', 'workspace.create']);
    expect(AuditLog.list(again.db, { limit: 10, action: 'model.promote' })[0]!.details).toEqual({ model: 'spindle', version: 3 });
    expect(again.db.prepare("SELECT value FROM meta WHERE key = 'created_with'").get()).toEqual({ value: '1.0.0' });
    expect(again.blobs.read(blob).toString()).toBe('sensor data');
    expect(again.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
  });

  it('upgrades an older workspace database and keeps its rows', async () => {
    const { migrate } = await import('./db');
    const { MIGRATIONS } = await import('./migrations');
    const dir = path.join(root, 'old');
    fs.mkdirSync(dir);
    const raw = new Database(path.join(dir, DB_FILE));
    migrate(raw as never, MIGRATIONS, 10);
    raw.prepare("INSERT INTO audit_log (at, who, action, details) VALUES ('2024-01-01T00:00:00.000Z', 'ana', 'workspace.create', '{}')").run();
    raw.close();

    const ws = track(Workspace.open(dir));
    expect(ws.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    // The folder already had a database, so this is not a creation.
    expect(AuditLog.list(ws.db, { limit: 10 }).map((e) => e.action)).toEqual(['workspace.create']);
    expect(ws.db.prepare("SELECT name FROM sqlite_master WHERE name = 'datasets'").get()).toEqual({ name: 'datasets' });
  });

  it('refuses a workspace from a newer app without touching its database', async () => {
    const dir = path.join(root, 'newer');
    Workspace.open(dir).close();
    const raw = new Database(path.join(dir, DB_FILE));
    raw.pragma('user_version = 999');
    raw.close();
    const before = snapshot(dir);
    await new Promise((r) => setTimeout(r, 20)); // so a write would show in the mtime

    const err = thrown(() => Workspace.open(dir));
    expect(err.code).toBe('workspace_newer');
    expect(err.message).toContain('newer version');

    const after = snapshot(dir);
    expect(after.bytes.equals(before.bytes)).toBe(true);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.size).toBe(before.size);
    // The database was closed again: no -wal or -shm file is left open beside it.
    expect(after.entries).toEqual(before.entries);
  });
  // version, so a newer database in rollback-journal mode is rewritten although the error says
  // "Nothing was changed". Remove `.fails` once the version is checked first.
  it('does not rewrite a newer database that uses a rollback journal', async () => {
    const dir = path.join(root, 'newer-delete');
    fs.mkdirSync(dir);
    const raw = new Database(path.join(dir, DB_FILE));
    raw.pragma('journal_mode = DELETE');
    raw.exec('CREATE TABLE future_things (x)');
    raw.pragma('user_version = 999');
    raw.close();
    const before = snapshot(dir);
    await new Promise((r) => setTimeout(r, 20));

    expect(thrown(() => Workspace.open(dir)).code).toBe('workspace_newer');
    expect(snapshot(dir).bytes.equals(before.bytes)).toBe(true);
  });

  it('refuses a path that is a file', () => {
    const file = path.join(root, 'a-file.txt');
    fs.writeFileSync(file, 'not a folder');
    const err = thrown(() => Workspace.open(file));
    expect(err.code).toBe('workspace_unusable');
    expect(err.message).toContain(file);
    expect(fs.readFileSync(file, 'utf8')).toBe('not a folder');
  });

  it('refuses a path below a file', () => {
    const file = path.join(root, 'a-file.txt');
    fs.writeFileSync(file, 'x');
    const err = thrown(() => Workspace.open(path.join(file, 'workspace')));
    expect(err.code).toBe('workspace_unusable');
  });

  it('refuses a folder whose database file is not a database', () => {
    const dir = path.join(root, 'corrupt');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, DB_FILE), 'garbage '.repeat(1000));
    const err = thrown(() => Workspace.open(dir));
    expect(err.code).toBe('workspace_unusable');
    expect(err.message).toContain(DB_FILE);
  });

  it('closes idempotently', () => {
    const ws = Workspace.open(path.join(root, 'w'));
    ws.close();
    expect(ws.db.open).toBe(false);
    ws.close();
    expect(ws.db.open).toBe(false);
  });
});

describe('Workspace.cleanScratch', () => {
  it('removes what killed commands left in tmp/ after a day, and nothing fresh or unknown', () => {
    const ws = track(Workspace.open(path.join(root, 'w')));
    const tmp = path.join(ws.dir, 'tmp');
    const old = Date.now() / 1000 - 2 * 86_400;
    const put = (name: string, age: number | null, folder = false) => {
      const p = path.join(tmp, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      if (folder) fs.mkdirSync(p);
      else fs.writeFileSync(p, 'x');
      if (age !== null) fs.utimesSync(p, age, age);
    };
    put('deploy-0a1b2c.tar.gz', old);
    put('shadow-0a1b2c.tar.gz', old);
    put('backup-Xy12ab', old, true);
    put('uploads/recording-3-ab12', old);
    put('deploy-fresh.tar.gz', null);
    put('notes.txt', old);
    expect(ws.cleanScratch()).toBe(4);
    expect(fs.readdirSync(tmp).sort()).toEqual(['deploy-fresh.tar.gz', 'notes.txt', 'uploads']);
  });
});
