import type { Migration } from '../db';

/**
 * Deployments (DESIGN.md section 9): the endpoints a workspace knows and
 * what happened to each. Tokens are not here: they live in keys/endpoints.json
 * (see deploy/endpoints.ts). `deployments` keeps its rows when an endpoint is
 * forgotten, so the history of a model version stays whole.
 */
export const migration0080: Migration = {
  version: 80,
  name: 'endpoints',
  up: `
    CREATE TABLE endpoints (
      name            TEXT PRIMARY KEY,
      kind            TEXT NOT NULL CHECK (kind IN ('local', 'remote')),
      url             TEXT NOT NULL,
      added_at        TEXT NOT NULL,
      added_by        TEXT NOT NULL,
      status          TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN ('up', 'down', 'stopped', 'unknown')),
      last_contact    TEXT,
      last_error      TEXT,
      model           TEXT,
      previous        TEXT,
      bundle_sha256   TEXT,
      requests        INTEGER,
      errors          INTEGER,
      run_state       TEXT CHECK (run_state IN ('running', 'stopped')),
      port            INTEGER,
      monitor_cursor  TEXT,
      monitor_at      TEXT
    );
    CREATE TABLE deployments (
      id              INTEGER PRIMARY KEY AUTOINCREMENT,
      endpoint        TEXT NOT NULL,
      action          TEXT NOT NULL CHECK (action IN ('deploy', 'rollback')),
      model           TEXT NOT NULL,
      version         TEXT NOT NULL,
      model_version_id INTEGER,
      bundle_sha256   TEXT,
      at              TEXT NOT NULL,
      by              TEXT NOT NULL,
      ok              INTEGER NOT NULL,
      detail          TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX deployments_endpoint ON deployments (endpoint, id);
  `,
};
