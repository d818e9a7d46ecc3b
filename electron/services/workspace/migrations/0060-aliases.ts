import type { Migration } from '../db';

/**
 * Aliases that point at one model version each (`production`: what endpoints
 * should run; `challenger`: on trial), and archiving of versions (DESIGN.md
 * section 8). Every move is also in the audit log, with its reason.
 */
export const migration0060: Migration = {
  version: 60,
  name: 'model-aliases',
  up: `
    CREATE TABLE model_aliases (
      model_id  TEXT NOT NULL REFERENCES models (id),
      alias     TEXT NOT NULL CHECK (alias IN ('production', 'challenger')),
      version   INTEGER NOT NULL,
      reason    TEXT NOT NULL,
      set_at    TEXT NOT NULL,
      set_by    TEXT NOT NULL,
      PRIMARY KEY (model_id, alias)
    );
    ALTER TABLE model_versions ADD COLUMN archived_at TEXT;
    ALTER TABLE model_versions ADD COLUMN archived_by TEXT;
  `,
};
