import type { Migration } from '../db';

/**
 * Datasets and the source files they came from. The import issue adds
 * immutable dataset versions on top; a source file is the start of lineage.
 */
export const migration0020: Migration = {
  version: 20,
  name: 'datasets',
  up: `
    CREATE TABLE datasets (
      id          TEXT PRIMARY KEY,
      name        TEXT NOT NULL,
      description TEXT NOT NULL DEFAULT '',
      created_at  TEXT NOT NULL,
      created_by  TEXT NOT NULL
    );

    CREATE TABLE source_files (
      id         INTEGER PRIMARY KEY AUTOINCREMENT,
      dataset_id TEXT NOT NULL REFERENCES datasets (id),
      file_name  TEXT NOT NULL,
      sha256     TEXT NOT NULL,
      size       INTEGER NOT NULL,
      rows       INTEGER NOT NULL,
      columns    TEXT NOT NULL,
      added_at   TEXT NOT NULL,
      added_by   TEXT NOT NULL
    );
    CREATE INDEX source_files_dataset ON source_files (dataset_id);
  `,
};
