import type { Migration } from '../db';

/**
 * Use cases (DESIGN.md section 8): a named problem with a plain-language goal
 * and the KPI that matters. Datasets and models hang under one; deployments
 * will too.
 */
export const migration0070: Migration = {
  version: 70,
  name: 'use-cases',
  up: `
    CREATE TABLE use_cases (
      id          TEXT PRIMARY KEY,
      name        TEXT NOT NULL UNIQUE,
      goal        TEXT NOT NULL,
      kpi         TEXT NOT NULL,
      created_at  TEXT NOT NULL,
      created_by  TEXT NOT NULL
    );
    ALTER TABLE datasets ADD COLUMN use_case_id TEXT REFERENCES use_cases (id);
    ALTER TABLE models ADD COLUMN use_case_id TEXT REFERENCES use_cases (id);
  `,
};
