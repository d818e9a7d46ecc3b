import type { Migration } from '../db';

/**
 * Live plant data (issue 10): saved sources (OPC UA servers, MQTT brokers),
 * recordings of their tags, the dataset versions saved from recordings, and
 * the OPC UA server certificates a person decided about.
 *
 * A source's password is never here in clear: `secret` holds it sealed by
 * Electron's safeStorage in the desktop app (`sealed_by` 'safeStorage') or by
 * the workspace key otherwise ('workspace-key'), and is never returned.
 *
 * A recording's samples are not in SQLite: they go to an append-only buffer
 * in recordings/<id>/ (crash-safe, see recording/buffer.ts). The counters
 * here are refreshed every few seconds and recounted from the buffer after a
 * crash. `owner_pid` is the process recording it: a recording left active by
 * a process that is gone was interrupted. `resume` 1: the desktop app started
 * it and goes on with it when it starts again (a CLI recording does not).
 */
export const migration0110: Migration = {
  version: 110,
  name: 'recording',
  up: `
    CREATE TABLE sources (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      name        TEXT NOT NULL UNIQUE,
      kind        TEXT NOT NULL,
      url         TEXT NOT NULL,
      settings    TEXT NOT NULL,
      secret      BLOB,
      sealed_by   TEXT,
      created_at  TEXT NOT NULL,
      created_by  TEXT NOT NULL,
      updated_at  TEXT
    );
    CREATE TABLE recordings (
      id              INTEGER PRIMARY KEY AUTOINCREMENT,
      name            TEXT NOT NULL,
      source_id       INTEGER REFERENCES sources (id) ON DELETE SET NULL,
      source_name     TEXT NOT NULL,
      kind            TEXT NOT NULL,
      url             TEXT NOT NULL,
      settings        TEXT NOT NULL,
      tags            TEXT NOT NULL,
      interval_ms     INTEGER NOT NULL,
      duration_ms     INTEGER,
      state           TEXT NOT NULL,
      message         TEXT NOT NULL DEFAULT '',
      started_at      TEXT NOT NULL,
      ends_at         TEXT,
      stopped_at      TEXT,
      started_by      TEXT NOT NULL,
      owner_pid       INTEGER,
      resume          INTEGER NOT NULL DEFAULT 0,
      samples         INTEGER NOT NULL DEFAULT 0,
      gaps            INTEGER NOT NULL DEFAULT 0,
      first_sample_at TEXT,
      last_sample_at  TEXT,
      bytes           INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE recording_datasets (
      recording_id INTEGER NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
      version_id   INTEGER NOT NULL REFERENCES dataset_versions (id),
      from_at      TEXT NOT NULL,
      to_at        TEXT NOT NULL,
      interval_ms  INTEGER NOT NULL,
      PRIMARY KEY (recording_id, version_id)
    );
    CREATE TABLE opcua_trust (
      thumbprint  TEXT PRIMARY KEY,
      subject     TEXT NOT NULL,
      url         TEXT NOT NULL,
      trusted     INTEGER NOT NULL,
      decided_at  TEXT NOT NULL,
      decided_by  TEXT NOT NULL
    );
  `,
};
