import type { Migration } from '../db';

/**
 * Immutable dataset versions (DESIGN.md section 5). Dataset names become
 * unique, because people and the CLI refer to datasets by name
 * ("millwright profile Line3@2"); existing duplicates get their id appended.
 */
export const migration0030: Migration = {
  version: 30,
  name: 'dataset-versions',
  up: `
    UPDATE datasets SET name = name || ' (' || id || ')'
     WHERE id NOT IN (SELECT MIN(id) FROM datasets GROUP BY name);
    CREATE UNIQUE INDEX datasets_name ON datasets (name);

    CREATE TABLE dataset_versions (
      id           INTEGER PRIMARY KEY AUTOINCREMENT,
      dataset_id   TEXT NOT NULL REFERENCES datasets (id),
      version      INTEGER NOT NULL,
      content_hash TEXT NOT NULL,
      created_at   TEXT NOT NULL,
      created_by   TEXT NOT NULL,
      row_count    INTEGER NOT NULL,
      schema       TEXT NOT NULL,
      settings     TEXT NOT NULL,
      sources      TEXT NOT NULL,
      report       TEXT NOT NULL,
      changes      TEXT,
      profile_blob TEXT,
      time_column  TEXT,
      time_start   REAL,
      time_end     REAL,
      UNIQUE (dataset_id, version),
      UNIQUE (dataset_id, content_hash)
    );

    ALTER TABLE source_files ADD COLUMN version_id INTEGER REFERENCES dataset_versions (id);
  `,
};
