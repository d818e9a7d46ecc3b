import type { Migration } from '../db';

/**
 * Monitoring (DESIGN.md section 10): what the scheduler reads from each
 * endpoint's /admin/monitoring, a minute bucket at a time, and the anomaly
 * events; the alerts that follow; and per endpoint where polling stands.
 *
 * A bucket or event is keyed by its endpoint and sequence number, so a page
 * read twice (a crash between reading and storing the cursor) cannot count
 * twice; only buckets newly stored are added into their quarter hour's row
 * of monitor_quarters, which days and weeks are read from. `seq` is the
 * endpoint's own number plus a base the scheduler raises when the
 * endpoint's numbers start again: its state folder was replaced (another
 * `monitor_state_id`) or went back (a new run, `monitor_run_id`, that starts
 * below the cursor).
 * The cursor stays in `endpoints.monitor_cursor` (reserved by 0080), with the
 * backoff state beside it, so polling resumes where it was after a restart.
 * Settings go to `meta` under 'monitor.settings'.
 */
export const migration0090: Migration = {
  version: 90,
  name: 'monitoring',
  up: `
    ALTER TABLE endpoints ADD COLUMN monitor_next TEXT;
    ALTER TABLE endpoints ADD COLUMN monitor_failures INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE endpoints ADD COLUMN monitor_down_since TEXT;
    ALTER TABLE endpoints ADD COLUMN monitor_bucket_base INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE endpoints ADD COLUMN monitor_event_base INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE endpoints ADD COLUMN monitor_state_id TEXT;
    ALTER TABLE endpoints ADD COLUMN monitor_run_id TEXT;

    CREATE TABLE monitor_buckets (
      endpoint     TEXT NOT NULL,
      seq          INTEGER NOT NULL,
      from_at      TEXT NOT NULL,
      to_at        TEXT NOT NULL,
      model        TEXT NOT NULL,
      version      TEXT NOT NULL,
      requests     INTEGER NOT NULL,
      errors       INTEGER NOT NULL,
      rows         INTEGER NOT NULL,
      anomalies    INTEGER NOT NULL,
      predictions  TEXT NOT NULL DEFAULT '{}',
      latency      TEXT NOT NULL DEFAULT '{}',
      features     TEXT NOT NULL DEFAULT '{}',
      PRIMARY KEY (endpoint, seq)
    ) WITHOUT ROWID;
    CREATE INDEX monitor_buckets_time ON monitor_buckets (endpoint, to_at);

    -- The buckets summed per quarter hour (and model version), kept as buckets arrive: a day or a week is read from these.
    CREATE TABLE monitor_quarters (
      endpoint     TEXT NOT NULL,
      from_at      TEXT NOT NULL,
      model        TEXT NOT NULL,
      version      TEXT NOT NULL,
      requests     INTEGER NOT NULL,
      errors       INTEGER NOT NULL,
      rows         INTEGER NOT NULL,
      anomalies    INTEGER NOT NULL,
      predictions  TEXT NOT NULL DEFAULT '{}',
      latency      TEXT NOT NULL DEFAULT '{}',
      features     TEXT NOT NULL DEFAULT '{}',
      PRIMARY KEY (endpoint, from_at, model, version)
    ) WITHOUT ROWID;

    CREATE TABLE monitor_events (
      endpoint     TEXT NOT NULL,
      seq          INTEGER NOT NULL,
      time         TEXT,
      received_at  TEXT NOT NULL,
      source       TEXT,
      model        TEXT NOT NULL,
      version      TEXT NOT NULL,
      score        REAL,
      inputs       TEXT NOT NULL DEFAULT '{}',
      PRIMARY KEY (endpoint, seq)
    ) WITHOUT ROWID;
    CREATE INDEX monitor_events_time ON monitor_events (endpoint, received_at);

    CREATE TABLE monitor_alerts (
      id               INTEGER PRIMARY KEY AUTOINCREMENT,
      endpoint         TEXT NOT NULL,
      kind             TEXT NOT NULL CHECK (kind IN ('down', 'errors', 'drift', 'anomalies')),
      state            TEXT NOT NULL CHECK (state IN ('firing', 'cleared')),
      message          TEXT NOT NULL,
      first_at         TEXT NOT NULL,
      last_at          TEXT NOT NULL,
      cleared_at       TEXT,
      acknowledged_at  TEXT,
      acknowledged_by  TEXT,
      snoozed_until    TEXT
    );
    CREATE UNIQUE INDEX monitor_alerts_one_firing ON monitor_alerts (endpoint, kind) WHERE state = 'firing';
    CREATE INDEX monitor_alerts_endpoint ON monitor_alerts (endpoint, id);

    -- The training profile of a model version, worked out once (it is deterministic).
    CREATE TABLE monitor_profiles (
      model_version_id INTEGER PRIMARY KEY,
      profile          TEXT NOT NULL,
      importance       TEXT NOT NULL DEFAULT '[]'
    );

    -- Forgetting an endpoint forgets its monitoring data (a new one of that name starts at sequence 1 again).
    -- Its alerts stay; the monitor clears the firing ones (MonitorService.forget), each with its audit entry and event.
    CREATE TRIGGER endpoints_forget_monitoring AFTER DELETE ON endpoints BEGIN
      DELETE FROM monitor_buckets WHERE endpoint = old.name;
      DELETE FROM monitor_quarters WHERE endpoint = old.name;
      DELETE FROM monitor_events WHERE endpoint = old.name;
    END;
  `,
};
