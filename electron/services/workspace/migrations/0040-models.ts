import type { Migration } from '../db';

/**
 * Models, their immutable versions, and the training runs that made them
 * (DESIGN.md sections 6 and 8). A run records everything needed to retrain:
 * dataset version, settings, seed and app version.
 */
export const migration0040: Migration = {
  version: 40,
  name: 'models',
  up: `
    CREATE TABLE models (
      id          TEXT PRIMARY KEY,
      name        TEXT NOT NULL UNIQUE,
      task        TEXT NOT NULL,
      created_at  TEXT NOT NULL,
      created_by  TEXT NOT NULL
    );

    CREATE TABLE training_runs (
      id                 TEXT PRIMARY KEY,
      model_id           TEXT NOT NULL REFERENCES models (id),
      dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions (id),
      job_id             TEXT,
      settings           TEXT NOT NULL,
      seed               INTEGER NOT NULL,
      app_version        TEXT NOT NULL,
      started_at         TEXT NOT NULL,
      ended_at           TEXT NOT NULL,
      duration_s         REAL NOT NULL,
      leaderboard        TEXT NOT NULL,
      created_by         TEXT NOT NULL
    );

    CREATE TABLE model_versions (
      id           INTEGER PRIMARY KEY AUTOINCREMENT,
      model_id     TEXT NOT NULL REFERENCES models (id),
      version      INTEGER NOT NULL,
      run_id       TEXT NOT NULL REFERENCES training_runs (id),
      algorithm    TEXT NOT NULL,
      metrics      TEXT NOT NULL,
      model_blob   TEXT NOT NULL,
      model_hash   TEXT NOT NULL,
      report_blob  TEXT NOT NULL,
      created_at   TEXT NOT NULL,
      created_by   TEXT NOT NULL,
      UNIQUE (model_id, version)
    );
  `,
};
