import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { migrate, openDatabase, schemaVersion, type Migration, type WritableDb } from './db';
import { MIGRATIONS } from './migrations';

function memoryDb(): WritableDb {
  return new Database(':memory:') as WritableDb;
}

function tables(db: WritableDb): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map(
    (r) => r.name,
  );
}

function indexes(db: WritableDb): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map(
    (r) => r.name,
  );
}

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

const dbs: WritableDb[] = [];
const open = () => {
  const db = memoryDb();
  dbs.push(db);
  return db;
};
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
});

const LATEST = 110;

describe('MIGRATIONS', () => {
  it('are numbered in increasing steps of ten', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => (i + 1) * 10));
    expect(MIGRATIONS.at(-1)!.version).toBe(LATEST);
    for (const m of MIGRATIONS) expect(m.name).toMatch(/^[a-z][a-z0-9-]*$/);
  });
});

describe('migrate', () => {
  it('takes an empty database to the latest version and creates the tables', () => {
    const db = open();
    expect(schemaVersion(db)).toBe(0);
    expect(migrate(db, MIGRATIONS)).toBe(LATEST);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST);
    expect(tables(db)).toEqual(['audit_log', 'dataset_versions', 'datasets', 'deployments', 'endpoints', 'episode_answers', 'episodes', 'jobs', 'meta', 'model_aliases', 'model_versions', 'models', 'monitor_alerts', 'monitor_buckets', 'monitor_events', 'monitor_profiles', 'monitor_quarters', 'opcua_trust', 'recording_datasets', 'recordings', 'shadows', 'source_files', 'sources', 'training_runs', 'use_cases']);
    expect(indexes(db)).toEqual(['audit_log_action', 'datasets_name', 'deployments_endpoint', 'episode_answers_episode', 'episodes_model', 'episodes_stream', 'episodes_unanswered', 'jobs_created', 'jobs_state', 'monitor_alerts_endpoint', 'monitor_alerts_one_firing', 'monitor_buckets_time', 'monitor_events_time', 'source_files_dataset']);
  });

  it('does nothing when the database is already current', () => {
    const db = open();
    migrate(db, MIGRATIONS);
    db.prepare("INSERT INTO meta (key, value) VALUES ('k', 'v')").run();
    expect(migrate(db, MIGRATIONS)).toBe(LATEST);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'k'").get()).toEqual({ value: 'v' });
  });

  it('stops at a target version', () => {
    const db = open();
    expect(migrate(db, MIGRATIONS, 10)).toBe(10);
    expect(schemaVersion(db)).toBe(10);
    expect(tables(db)).toEqual(['audit_log', 'jobs', 'meta']);
  });

  it('keeps jobs and audit rows when upgrading from version 10', () => {
    const db = open();
    migrate(db, MIGRATIONS, 10);
    db.prepare(
      `INSERT INTO jobs (id, kind, title, params, state, progress, message, created_at, created_by, owner_pid, owner_host, result)
       VALUES ('job_old', 'system.check', 'Checking this PC', '{"seconds":3}', 'done', 1, 'Finished', '2024-05-01T10:00:00.000Z', 'ana', 123, 'plant-pc', '{"cpuScore":900}')`,
    ).run();
    db.prepare(
      "INSERT INTO audit_log (at, who, action, details) VALUES ('2024-05-01T10:00:00.000Z', 'ana', 'workspace.create', '{\"dir\":\"/w\"}')",
    ).run();

    expect(migrate(db, MIGRATIONS)).toBe(LATEST);

    expect(db.prepare('SELECT id, kind, state, params, created_by, owner_pid, owner_host, result FROM jobs').all()).toEqual([
      {
        id: 'job_old',
        kind: 'system.check',
        state: 'done',
        params: '{"seconds":3}',
        created_by: 'ana',
        owner_pid: 123,
        owner_host: 'plant-pc',
        result: '{"cpuScore":900}',
      },
    ]);
    expect(db.prepare('SELECT id, at, who, action, details FROM audit_log').all()).toEqual([
      { id: 1, at: '2024-05-01T10:00:00.000Z', who: 'ana', action: 'workspace.create', details: '{"dir":"/w"}' },
    ]);
    expect(tables(db)).toContain('datasets');
    expect(tables(db)).toContain('source_files');
    // The new tables are usable, including the foreign key to datasets.
    db.prepare("INSERT INTO datasets (id, name, created_at, created_by) VALUES ('ds_1', 'Mill', 'now', 'ana')").run();
    db.prepare(
      "INSERT INTO source_files (dataset_id, file_name, sha256, size, rows, columns, added_at, added_by) VALUES ('ds_1', 'a.csv', 'h', 1, 1, '[]', 'now', 'ana')",
    ).run();
    expect(db.prepare('SELECT COUNT(*) AS n FROM source_files').get()).toEqual({ n: 1 });
  });

  it('0030 makes dataset names unique, renaming existing duplicates, and adds versions', () => {
    const db = open();
    migrate(db, MIGRATIONS, 20);
    const add = db.prepare("INSERT INTO datasets (id, name, created_at, created_by) VALUES (?, ?, 'now', 'ana')");
    add.run('ds_a', 'Line 3');
    add.run('ds_b', 'Line 3');
    add.run('ds_c', 'Boiler');
    db.prepare(
      "INSERT INTO source_files (dataset_id, file_name, sha256, size, rows, columns, added_at, added_by) VALUES ('ds_b', 'b.csv', 'h', 1, 1, '[]', 'now', 'ana')",
    ).run();

    expect(migrate(db, MIGRATIONS, 30)).toBe(30);

    expect(db.prepare('SELECT id, name FROM datasets ORDER BY id').all()).toEqual([
      { id: 'ds_a', name: 'Line 3' },
      { id: 'ds_b', name: 'Line 3 (ds_b)' },
      { id: 'ds_c', name: 'Boiler' },
    ]);
    expect(() => add.run('ds_d', 'Boiler')).toThrow(/UNIQUE/);
    expect(db.prepare('SELECT dataset_id, version_id FROM source_files').all()).toEqual([{ dataset_id: 'ds_b', version_id: null }]);
    const version = db.prepare(
      "INSERT INTO dataset_versions (dataset_id, version, content_hash, created_at, created_by, row_count, schema, settings, sources, report) VALUES ('ds_a', 1, 'abc', 'now', 'ana', 5, '[]', '{}', '[]', '{}')",
    );
    version.run();
    // The same content cannot be stored twice as two versions of one dataset.
    expect(() => version.run()).toThrow(/UNIQUE/);
  });

  it('refuses a database from a newer app and leaves it as it was', () => {
    const db = open();
    db.exec('CREATE TABLE future_things (x)');
    db.pragma('user_version = 999');
    const err = thrown(() => migrate(db, MIGRATIONS));
    expect(err.code).toBe('workspace_newer');
    expect(err.message).toContain('999');
    expect(err.message).toContain(String(LATEST));
    expect(schemaVersion(db)).toBe(999);
    expect(tables(db)).toEqual(['future_things']);
  });

  it('rolls every pending migration back when one fails', () => {
    const failing: Migration[] = [
      ...MIGRATIONS,
      {
        version: 30,
        name: 'broken',
        up: (d) => {
          d.exec('CREATE TABLE half_done (x)');
          d.exec('INSERT INTO no_such_table VALUES (1)');
        },
      },
    ];
    const db = open();
    expect(() => migrate(db, failing)).toThrow(/no_such_table/);
    expect(schemaVersion(db)).toBe(0);
    // Even the migrations that succeeded before the broken one are undone.
    expect(tables(db)).toEqual([]);
  });

  it('leaves an older database at its version when a later SQL migration fails', () => {
    const db = open();
    migrate(db, MIGRATIONS, 10);
    db.prepare("INSERT INTO meta (key, value) VALUES ('created_with', '0.0.1')").run();
    const failing: Migration[] = [
      MIGRATIONS[0]!,
      { version: 20, name: 'broken-sql', up: 'CREATE TABLE partial (x); CREATE TABLE partial (y);' },
    ];
    expect(() => migrate(db, failing)).toThrow(/partial/);
    expect(schemaVersion(db)).toBe(10);
    expect(tables(db)).toEqual(['audit_log', 'jobs', 'meta']);
    expect(db.prepare('SELECT value FROM meta').get()).toEqual({ value: '0.0.1' });
  });

  it('runs function migrations with the database', () => {
    const db = open();
    const seen: number[] = [];
    const custom: Migration[] = [
      { version: 10, name: 'a', up: 'CREATE TABLE t (n INTEGER)' },
      {
        version: 20,
        name: 'b',
        up: (d) => {
          seen.push(schemaVersion(d));
          d.prepare('INSERT INTO t (n) VALUES (?)').run(7);
        },
      },
    ];
    expect(migrate(db, custom)).toBe(20);
    // Each migration sees the version of the one before it.
    expect(seen).toEqual([10]);
    expect(db.prepare('SELECT n FROM t').all()).toEqual([{ n: 7 }]);
  });
});

describe('openDatabase', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-db-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens a file database in WAL mode with foreign keys on', () => {
    const db = openDatabase(path.join(dir, 'w.db'));
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    } finally {
      db.close();
    }
  });

  it('refuses a file that is not a database with workspace_unusable', () => {
    const file = path.join(dir, 'not-a-db.db');
    fs.writeFileSync(file, 'this is a spreadsheet, not a database '.repeat(200));
    const err = thrown(() => openDatabase(file));
    expect(err.code).toBe('workspace_unusable');
    expect(err.message).toContain(file);
  });

  it('refuses a path in a missing folder with workspace_unusable', () => {
    const file = path.join(dir, 'missing', 'w.db');
    const err = thrown(() => openDatabase(file));
    expect(err.code).toBe('workspace_unusable');
    expect(fs.existsSync(path.join(dir, 'missing'))).toBe(false);
  });
});
