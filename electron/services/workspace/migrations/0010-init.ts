import type { Migration } from '../db';

/** Foundation tables: workspace facts, the audit log and background jobs. */
export const migration0010: Migration = {
  version: 10,
  name: 'init',
  up: `
    CREATE TABLE meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );

    CREATE TABLE audit_log (
      id      INTEGER PRIMARY KEY AUTOINCREMENT,
      at      TEXT NOT NULL,
      who     TEXT NOT NULL,
      action  TEXT NOT NULL,
      details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_log_action ON audit_log (action, id);

    CREATE TABLE jobs (
      id            TEXT PRIMARY KEY,
      kind          TEXT NOT NULL,
      title         TEXT NOT NULL,
      params        TEXT NOT NULL DEFAULT '{}',
      state         TEXT NOT NULL CHECK (state IN ('queued','running','done','failed','cancelled','interrupted')),
      progress      REAL NOT NULL DEFAULT 0,
      message       TEXT NOT NULL DEFAULT '',
      created_at    TEXT NOT NULL,
      started_at    TEXT,
      ended_at      TEXT,
      created_by    TEXT NOT NULL,
      owner_pid     INTEGER,
      owner_host    TEXT,
      error_code    TEXT,
      error_message TEXT,
      result        TEXT
    );
    CREATE INDEX jobs_state ON jobs (state);
    CREATE INDEX jobs_created ON jobs (created_at);
  `,
};
