import type { Migration } from '../db';

/**
 * The feedback loop (DESIGN.md section 10): anomaly events grouped into
 * episodes, the answers people give about them, and shadow runs.
 *
 * An episode comes from one stream of rows (an endpoint's source, or a batch
 * scoring job) of one model version; rows closer than the gap tolerance in
 * data time join it. `events_to` is the last monitor_events seq grouped into
 * it, so grouping resumes where it stopped. Its chart (the flagged rows and
 * the context rows the edge sent either side, downsampled) is kept with it in
 * `points`, because monitor_events are pruned after 30 days and answers are
 * kept for good. Answers: the current one on the episode, every one (changes
 * included) in episode_answers with who and when.
 *
 * Context rows: the edge also sends the rows just before and after a flagged
 * row (`flagged` 0) so a card can show what happened around it; they are
 * never counted as anomalies.
 *
 * Shadow: a challenger scoring beside production on an endpoint; the
 * comparison comes back in each minute bucket's `shadow` and is summed from
 * `since`.
 */
export const migration0100: Migration = {
  version: 100,
  name: 'feedback',
  up: `
    ALTER TABLE monitor_events ADD COLUMN flagged INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE monitor_buckets ADD COLUMN shadow TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE monitor_quarters ADD COLUMN shadow TEXT NOT NULL DEFAULT '{}';

    CREATE TABLE episodes (
      id           INTEGER PRIMARY KEY AUTOINCREMENT,
      origin       TEXT NOT NULL CHECK (origin IN ('endpoint', 'batch')),
      endpoint     TEXT,
      job          TEXT,
      source       TEXT,
      model        TEXT NOT NULL,
      version      INTEGER NOT NULL,
      start_at     TEXT NOT NULL,
      end_at       TEXT NOT NULL,
      rows         INTEGER NOT NULL,
      peak_score   REAL NOT NULL,
      threshold    REAL,
      inputs       TEXT NOT NULL DEFAULT '[]',
      points       TEXT NOT NULL DEFAULT '{}',
      events_to    INTEGER,
      created_at   TEXT NOT NULL,
      updated_at   TEXT NOT NULL,
      prompted_at  TEXT,
      verdict      TEXT CHECK (verdict IN ('real', 'normal', 'unsure')),
      cause        TEXT,
      comment      TEXT,
      answered_by  TEXT,
      answered_at  TEXT
    );
    CREATE INDEX episodes_stream ON episodes (origin, endpoint, job, source, model, version, end_at);
    CREATE INDEX episodes_model ON episodes (model, start_at);
    CREATE INDEX episodes_unanswered ON episodes (verdict, prompted_at);

    CREATE TABLE episode_answers (
      id       INTEGER PRIMARY KEY AUTOINCREMENT,
      episode  INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
      verdict  TEXT NOT NULL CHECK (verdict IN ('real', 'normal', 'unsure')),
      cause    TEXT,
      comment  TEXT,
      by       TEXT NOT NULL,
      at       TEXT NOT NULL
    );
    CREATE INDEX episode_answers_episode ON episode_answers (episode, id);

    -- Where grouping stands per endpoint (the last monitor_events seq looked at).
    ALTER TABLE endpoints ADD COLUMN episodes_cursor INTEGER NOT NULL DEFAULT 0;

    -- The shadow run on an endpoint, if any.
    CREATE TABLE shadows (
      endpoint  TEXT PRIMARY KEY,
      model     TEXT NOT NULL,
      version   INTEGER NOT NULL,
      since     TEXT NOT NULL,
      started_by TEXT NOT NULL
    );
    CREATE TRIGGER endpoints_forget_shadow AFTER DELETE ON endpoints BEGIN
      DELETE FROM shadows WHERE endpoint = old.name;
    END;
  `,
};
