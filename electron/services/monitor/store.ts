import { DEFAULT_MONITOR_SETTINGS, MonitorSettingsSchema, type MonitorSettings } from '../../../shared/monitor';
import type { EdgeBinCounts, EdgeBucket, EdgeShadowCounts, MonitoringPage } from '../deploy/client';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';
import { mergeBinCounts } from './drift';
import { latencyQuantile, mergeLatency } from './latency';

/**
 * Monitoring data in the workspace database (migration 0090): the buckets
 * and anomaly events read from each endpoint, where polling stands per
 * endpoint, and the settings.
 */

const SETTINGS_KEY = 'monitor.settings';

/**
 * How long monitoring data is kept (pruneMonitoring). Only the last hour
 * reads minute rows; days and weeks read quarter hours.
 * - A minute row's per-input counts and latency histogram (most of its size)
 *   are emptied after SLIM_AFTER_MS; the row itself stays, so a bucket the
 *   endpoint sends again is still known, until KEEP_MINUTES_MS (past the week
 *   of buckets an endpoint keeps). Each endpoint's newest row always stays.
 * - Quarter hours: KEEP_QUARTERS_MS (the week window and a day).
 * - Anomaly events: KEEP_EVENTS_MS and at most KEEP_EVENTS per endpoint
 *   (issue 9 reads them for episodes).
 */
export const SLIM_AFTER_MS = 2 * 3_600_000;
export const KEEP_MINUTES_MS = 8 * 86_400_000;
export const KEEP_QUARTERS_MS = 8 * 86_400_000;
export const KEEP_EVENTS_MS = 30 * 86_400_000;
export const KEEP_EVENTS = 100_000;
const SLIMMED_KEY = 'monitor.slimmedUntil';

export function readSettings(db: ReadableDb): MonitorSettings {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(SETTINGS_KEY) as { value: string } | undefined;
  if (!row) return DEFAULT_MONITOR_SETTINGS;
  // A setting added by a later version keeps its default; one that no longer parses falls back whole.
  const saved = JSON.parse(row.value) as Partial<MonitorSettings>;
  const merged = { ...DEFAULT_MONITOR_SETTINGS, ...saved, rules: { ...DEFAULT_MONITOR_SETTINGS.rules, ...(saved.rules ?? {}) } };
  const parsed = MonitorSettingsSchema.safeParse(merged);
  return parsed.success ? parsed.data : DEFAULT_MONITOR_SETTINGS;
}

export function writeSettings(ws: Workspace, s: MonitorSettings): void {
  ws.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(SETTINGS_KEY, JSON.stringify(s));
}

/** Where polling of one endpoint stands (columns of `endpoints`). */
export interface PollState {
  name: string;
  /** The endpoint's cursor ("buckets.events"), null before the first read. */
  cursor: string | null;
  /** When monitoring data was last read. */
  monitorAt: string | null;
  /** When to contact it next (null: now). */
  next: string | null;
  /** Failed contacts in a row. */
  failures: number;
  /** The first failed contact of the current run of failures. */
  downSince: string | null;
  bucketBase: number;
  eventBase: number;
  /** The endpoint's state folder and run as last read (null: not yet, or a runtime that sends none). */
  stateId: string | null;
  runId: string | null;
}

interface PollRow {
  name: string;
  monitor_cursor: string | null;
  monitor_at: string | null;
  monitor_next: string | null;
  monitor_failures: number;
  monitor_down_since: string | null;
  monitor_bucket_base: number;
  monitor_event_base: number;
  monitor_state_id: string | null;
  monitor_run_id: string | null;
}

const toPoll = (r: PollRow): PollState => ({
  name: r.name,
  cursor: r.monitor_cursor,
  monitorAt: r.monitor_at,
  next: r.monitor_next,
  failures: r.monitor_failures,
  downSince: r.monitor_down_since,
  bucketBase: r.monitor_bucket_base,
  eventBase: r.monitor_event_base,
  stateId: r.monitor_state_id,
  runId: r.monitor_run_id,
});

const POLL_COLUMNS = 'name, monitor_cursor, monitor_at, monitor_next, monitor_failures, monitor_down_since, monitor_bucket_base, monitor_event_base, monitor_state_id, monitor_run_id';

export function pollStates(db: ReadableDb): PollState[] {
  return (db.prepare(`SELECT ${POLL_COLUMNS} FROM endpoints ORDER BY name`).all() as PollRow[]).map(toPoll);
}

export function pollState(db: ReadableDb, name: string): PollState | null {
  const r = db.prepare(`SELECT ${POLL_COLUMNS} FROM endpoints WHERE name = ?`).get(name) as PollRow | undefined;
  return r ? toPoll(r) : null;
}

/** Keeps when to contact an endpoint next and its run of failures. */
export function noteSchedule(ws: Workspace, name: string, s: { next: string; failures: number; downSince: string | null }): void {
  ws.db.prepare('UPDATE endpoints SET monitor_next = ?, monitor_failures = ?, monitor_down_since = ? WHERE name = ?').run(s.next, s.failures, s.downSince, name);
}

function parseCursor(c: string | null): [number, number] {
  const m = c ? /^(\d+)\.(\d+)$/.exec(c) : null;
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** What storePage did with a page. */
export interface Stored {
  /** Buckets and events newly stored. */
  buckets: number;
  events: number;
  /** Where the next page starts (null: from the oldest the endpoint keeps). */
  cursor: string | null;
  /**
   * stored: the page was kept with its cursor. stale: another poller (the
   * CLI beside the app) moved the cursor since this page was asked for;
   * nothing was stored. restart: the endpoint's numbers started again;
   * nothing was stored and the next page is asked for from `cursor`.
   */
  outcome: 'stored' | 'stale' | 'restart';
  /** Monitoring data the endpoint dropped before it was read, in words (also in the audit log); null when none. */
  gap: string | null;
}

/**
 * The highest number stored for the endpoint. For events also the episodes
 * cursor: the prune may have dropped every grouped event, and numbers at or
 * below the cursor would never be grouped.
 */
const maxSeq = (ws: Workspace, table: 'monitor_buckets' | 'monitor_events', name: string): number => {
  const stored = (ws.db.prepare(`SELECT MAX(seq) AS m FROM ${table} WHERE endpoint = ?`).get(name) as { m: number | null }).m ?? 0;
  if (table === 'monitor_buckets') return stored;
  const grouped = (ws.db.prepare('SELECT episodes_cursor AS c FROM endpoints WHERE name = ?').get(name) as { c: number | null } | undefined)?.c ?? 0;
  return Math.max(stored, grouped);
};

/**
 * Stores one page and advances the cursor in one transaction: a crash leaves
 * either both or neither, and a page read again is ignored row by row by the
 * (endpoint, seq) key, so nothing is counted twice and nothing skipped.
 *
 * Where the endpoint's numbers start again, stored numbers stay unique by a
 * base added to them. A runtime that sends its state folder's id (`stateId`)
 * and run (`run`) tells it exactly:
 * - another state id: the folder was reset or replaced. The base moves past
 *   everything stored and the endpoint is read again from the oldest it keeps.
 * - a new run that started below our cursor: the folder went back (a backup
 *   or VM snapshot restored). What it numbered up to `run.from` is what we
 *   stored already; its numbers after that are new, so the base moves by
 *   cursor − from and reading goes on from `from`.
 * An older runtime sends neither: a cursor that went back, or numbers at or
 * below ours, are taken as a reset (a guess from the numbers alone).
 *
 * The transaction is IMMEDIATE and stores nothing when the cursor kept is no
 * longer the one the page was asked with: another poller got there first.
 * A first number above cursor + 1 means the endpoint dropped records past its
 * caps before they were read: it is recorded in the audit log, in words.
 */
export function storePage(ws: Workspace, name: string, sentCursor: string | null, page: MonitoringPage, now: Date, skip: readonly SkippedRecord[] = []): Stored {
  return ws.db.transaction((): Stored => {
    const state = pollState(ws.db, name);
    if (!state || state.cursor !== sentCursor) return { buckets: 0, events: 0, cursor: state?.cursor ?? null, outcome: 'stale', gap: null };
    const [sentB, sentE] = parseCursor(sentCursor);
    let { bucketBase, eventBase } = state;
    const restart = (cursor: string, stateId: string | null, runId: string | null): Stored => {
      ws.db
        .prepare('UPDATE endpoints SET monitor_cursor = ?, monitor_bucket_base = ?, monitor_event_base = ?, monitor_state_id = ?, monitor_run_id = ? WHERE name = ?')
        .run(cursor, bucketBase, eventBase, stateId, runId, name);
      return { buckets: 0, events: 0, cursor, outcome: 'restart', gap: null };
    };
    let moved = false;
    if (typeof page.stateId === 'string') {
      const runId = page.run?.id ?? null;
      if (state.stateId !== null && state.stateId !== page.stateId) {
        // "0.0", not null: the first page is then checked for records dropped before it.
        bucketBase = maxSeq(ws, 'monitor_buckets', name);
        eventBase = maxSeq(ws, 'monitor_events', name);
        return restart('0.0', page.stateId, runId);
      }
      if (page.run && runId !== state.runId && sentCursor !== null) {
        const [fromB, fromE] = parseCursor(page.run.from);
        if (fromB < sentB || fromE < sentE) {
          if (fromB < sentB) bucketBase += sentB - fromB;
          if (fromE < sentE) eventBase += sentE - fromE;
          return restart(`${Math.min(fromB, sentB)}.${Math.min(fromE, sentE)}`, page.stateId, runId);
        }
      }
    } else {
      if (sentB > 0 && (parseCursor(page.cursor)[0] < sentB || (page.buckets.length > 0 && page.buckets[0]!.seq <= sentB))) {
        bucketBase = maxSeq(ws, 'monitor_buckets', name) + 1;
        moved = true;
      }
      if (sentE > 0 && (parseCursor(page.cursor)[1] < sentE || (page.events.length > 0 && page.events[0]!.seq <= sentE))) {
        eventBase = maxSeq(ws, 'monitor_events', name) + 1;
        moved = true;
      }
    }
    // A runtime that keeps context rows apart says what it dropped (holes anywhere in the page, and how many were anomalies); else the numbers skipped before the first event.
    const told = page.dropped && Number.isInteger(page.dropped.events) && page.dropped.events >= 0 ? page.dropped : null;
    const lostEvents = told ? { events: told.events, anomalies: Number.isInteger(told.anomalies) ? told.anomalies : null } : { events: page.events[0] ? page.events[0].seq - sentE - 1 : 0, anomalies: null };
    const dropped = moved || sentCursor === null ? null : gapNote(ws, name, page.buckets[0] ? page.buckets[0].seq - sentB - 1 : 0, lostEvents, now);
    const skipped = skipNote(ws, name, skip, now);
    const gap = [dropped, skipped].filter(Boolean).join(' ') || null;
    const skipB = new Set(skip.filter((u) => u.kind === 'bucket').map((u) => u.seq));
    const skipE = new Set(skip.filter((u) => u.kind === 'event').map((u) => u.seq));
    const putBucket = ws.db.prepare(
      `INSERT OR IGNORE INTO monitor_buckets (endpoint, seq, from_at, to_at, model, version, requests, errors, rows, anomalies, predictions, latency, features, shadow)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const added: EdgeBucket[] = [];
    const slimBefore = now.getTime() - SLIM_AFTER_MS;
    for (const b of page.buckets) {
      if (skipB.has(b.seq)) continue;
      // A bucket read late (an endpoint catching up) is stored slim at once: the hour never reads it. Its quarter gets it whole.
      const slim = Date.parse(b.to) < slimBefore;
      const r = putBucket.run(name, bucketBase + b.seq, b.from, b.to, b.name, String(b.version), count(b.requests), count(b.errors), count(b.rows), count(b.anomalies), JSON.stringify(b.predictions ?? {}), slim ? '{}' : JSON.stringify(b.latencyMs ?? {}), slim ? '{}' : JSON.stringify(b.features ?? {}), JSON.stringify(shadowOf(b) ?? {}));
      if (r.changes) added.push(b);
    }
    rollUp(ws, name, added);
    const putEvent = ws.db.prepare('INSERT OR IGNORE INTO monitor_events (endpoint, seq, time, received_at, source, model, version, score, inputs, flagged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    let events = 0;
    for (const e of page.events) {
      if (skipE.has(e.seq)) continue;
      const time = e.time === null || e.time === undefined ? null : String(e.time);
      const r = putEvent.run(name, eventBase + e.seq, time, e.receivedAt, e.source ?? null, e.model, String(e.version), typeof e.score === 'number' ? e.score : null, JSON.stringify(e.inputs ?? {}), flaggedOf(e));
      events += r.changes;
    }
    ws.db
      .prepare('UPDATE endpoints SET monitor_cursor = ?, monitor_at = ?, monitor_bucket_base = ?, monitor_event_base = ?, monitor_state_id = ?, monitor_run_id = ? WHERE name = ?')
      .run(page.cursor, now.toISOString(), bucketBase, eventBase, typeof page.stateId === 'string' ? page.stateId : state.stateId, page.run?.id ?? state.runId, name);
    return { buckets: added.length, events, cursor: page.cursor, outcome: 'stored', gap };
  }).immediate();
}

/** Rows pruneMonitoring changes in one transaction; between two, other work on the event loop runs. */
export const PRUNE_BATCH = 500;

/**
 * Empties old minute rows and drops what is past keeping (see SLIM_AFTER_MS),
 * a batch of rows per transaction with `pause` between batches, so a large
 * first prune (after an update, or weeks closed) does not hold the event loop.
 * Returns the rows changed, by kind.
 */
export async function pruneMonitoring(ws: Workspace, now: Date, opts: { batch?: number; pause?: () => Promise<void>; keepEvents?: number } = {}): Promise<{ slimmed: number; minutes: number; quarters: number; events: number }> {
  const batch = opts.batch ?? PRUNE_BATCH;
  const pause = opts.pause ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
  const keepEvents = opts.keepEvents ?? KEEP_EVENTS;
  const done = { slimmed: 0, minutes: 0, quarters: 0, events: 0 };
  const t = now.getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  /** Runs `step` (one batch, returning the rows it changed) until a batch comes back short. */
  const inBatches = async (step: () => number): Promise<number> => {
    let total = 0;
    for (;;) {
      const n = ws.db.transaction(step)();
      total += n;
      if (n < batch) return total;
      await pause();
    }
  };
  // Minute rows are slimmed from where the last prune stopped (late ones were stored slim).
  const slimUntil = iso(t - SLIM_AFTER_MS);
  const slimFrom = (ws.db.prepare('SELECT value FROM meta WHERE key = ?').get(SLIMMED_KEY) as { value: string } | undefined)?.value ?? '';
  const names = (ws.db.prepare('SELECT name FROM endpoints ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  const slimKeys = ws.db.prepare("SELECT seq FROM monitor_buckets WHERE endpoint = ? AND to_at >= ? AND to_at < ? AND features <> '{}' LIMIT ?");
  const slimRow = ws.db.prepare("UPDATE monitor_buckets SET features = '{}', latency = '{}' WHERE endpoint = ? AND seq = ?");
  const oldMinutes = ws.db.prepare('DELETE FROM monitor_buckets WHERE endpoint = ? AND seq IN (SELECT seq FROM monitor_buckets WHERE endpoint = ? AND to_at < ? AND seq < (SELECT MAX(seq) FROM monitor_buckets WHERE endpoint = ?) LIMIT ?)');
  const oldQuarters = ws.db.prepare('DELETE FROM monitor_quarters WHERE endpoint = ? AND from_at IN (SELECT from_at FROM monitor_quarters WHERE endpoint = ? AND from_at < ? LIMIT ?)');
  // Only events already grouped into episodes (at or below the endpoint's episodes cursor) go.
  const oldEvents = ws.db.prepare(
    'DELETE FROM monitor_events WHERE endpoint = ? AND seq IN (SELECT seq FROM monitor_events WHERE endpoint = ? AND (received_at < ? OR seq <= ?) AND seq <= (SELECT episodes_cursor FROM endpoints WHERE name = ?) LIMIT ?)',
  );
  const eventCut = ws.db.prepare('SELECT seq FROM monitor_events WHERE endpoint = ? ORDER BY seq DESC LIMIT 1 OFFSET ?');
  for (const name of names) {
    done.minutes += await inBatches(() => oldMinutes.run(name, name, iso(t - KEEP_MINUTES_MS), name, batch).changes);
    done.slimmed += await inBatches(() => {
      const seqs = slimKeys.all(name, slimFrom, slimUntil, batch) as { seq: number }[];
      for (const r of seqs) slimRow.run(name, r.seq);
      return seqs.length;
    });
    done.quarters += await inBatches(() => oldQuarters.run(name, name, iso(t - KEEP_QUARTERS_MS), batch).changes);
    const cut = (eventCut.get(name, keepEvents) as { seq: number } | undefined)?.seq ?? 0;
    done.events += await inBatches(() => oldEvents.run(name, name, iso(t - KEEP_EVENTS_MS), cut, name, batch).changes);
    await pause();
  }
  ws.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(SLIMMED_KEY, slimUntil);
  return done;
}

/** A bucket or event of a page left out because it cannot be read, and why in words. */
export interface SkippedRecord {
  kind: 'bucket' | 'event';
  seq: number;
  why: string;
}

/** Records (audit log) and words the records of a page skipped as unreadable; null when none. */
function skipNote(ws: Workspace, name: string, skip: readonly SkippedRecord[], now: Date): string | null {
  if (!skip.length) return null;
  const first = skip[0]!;
  const message = `${name}: ${skip.length === 1 ? `monitoring ${first.kind} number ${first.seq} was` : `${skip.length} monitoring records (the first: ${first.kind} number ${first.seq}) were`} skipped because this version of Millwright cannot read ${skip.length === 1 ? 'it' : 'them'} (${first.why}); the rest of the data is kept.`;
  ws.audit.record('monitor.skip', { name, records: skip.map((u) => ({ kind: u.kind, seq: u.seq, why: u.why })), message }, now);
  return message;
}

/**
 * Records (audit log) and words the records an endpoint dropped before they
 * were read; null when none worth saying. Anomalies are named as such only
 * when the endpoint told them apart from the context rows sent around them;
 * context rows alone (only charts lose them) are in the audit log, not said.
 */
function gapNote(ws: Workspace, name: string, buckets: number, lost: { events: number; anomalies: number | null }, now: Date): string | null {
  const events = Math.max(0, lost.events);
  if (buckets <= 0 && events <= 0) return null;
  const said = lost.anomalies === null ? events : Math.min(events, Math.max(0, lost.anomalies));
  const what = lost.anomalies === null ? `anomaly record${said === 1 ? '' : 's'} (flagged rows or rows sent around them)` : `anomal${said === 1 ? 'y' : 'ies'}`;
  const parts = [buckets > 0 ? `${buckets} minute${buckets === 1 ? '' : 's'} of monitoring data` : '', said > 0 ? `${said} ${what}` : ''].filter(Boolean);
  const n = Math.max(0, buckets) + said;
  const message = parts.length ? `${name}: ${parts.join(' and ')} ${n === 1 ? 'was' : 'were'} dropped by the endpoint before the app could read ${n === 1 ? 'it' : 'them'} (it keeps a limited number).` : null;
  const context = `${name}: ${events} row${events === 1 ? '' : 's'} sent around anomalies ${events === 1 ? 'was' : 'were'} dropped by the endpoint before the app could read ${events === 1 ? 'it' : 'them'}; only the episode charts miss ${events === 1 ? 'it' : 'them'}.`;
  ws.audit.record('monitor.gap', { name, buckets: Math.max(0, buckets), events, anomalies: lost.anomalies, message: message ?? context }, now);
  return message;
}

/** The width of a row of monitor_quarters. */
export const QUARTER_MS = 15 * 60_000;

/** A quarter hour's row while buckets are added into it. */
type Quarter = Omit<StoredBucket, 'seq' | 'from' | 'to' | 'features'> & { fromAt: string; features: Record<string, EdgeBinCounts>; shadow: QuarterShadows };

/** Adds buckets into their quarter hour's row (one read and one write per quarter touched). */
function rollUp(ws: Workspace, endpoint: string, buckets: EdgeBucket[]): void {
  if (!buckets.length) return;
  const read = ws.db.prepare('SELECT requests, errors, rows, anomalies, predictions, latency, features, shadow FROM monitor_quarters WHERE endpoint = ? AND from_at = ? AND model = ? AND version = ?');
  const quarters = new Map<string, Quarter>();
  for (const b of buckets) {
    const fromAt = new Date(Math.floor(Date.parse(b.from) / QUARTER_MS) * QUARTER_MS).toISOString();
    const version = String(b.version);
    const key = `${fromAt}\u0000${b.name}\u0000${version}`;
    let q = quarters.get(key);
    if (!q) {
      const r = read.get(endpoint, fromAt, b.name, version) as (Omit<BucketRow, 'seq' | 'from_at' | 'to_at' | 'model' | 'version'> & { shadow: string }) | undefined;
      q = r
        ? { fromAt, model: b.name, version, requests: r.requests, errors: r.errors, rows: r.rows, anomalies: r.anomalies, predictions: JSON.parse(r.predictions) as Quarter['predictions'], latency: JSON.parse(r.latency) as Quarter['latency'], features: JSON.parse(r.features) as Quarter['features'], shadow: JSON.parse(r.shadow) as QuarterShadows }
        : { fromAt, model: b.name, version, requests: 0, errors: 0, rows: 0, anomalies: 0, predictions: {}, latency: { count: 0, sum: 0, p50: null, p99: null, bins: [] }, features: {}, shadow: {} };
      quarters.set(key, q);
    }
    q.requests += count(b.requests);
    q.errors += count(b.errors);
    q.rows += count(b.rows);
    q.anomalies += count(b.anomalies);
    for (const [label, n] of Object.entries(b.predictions ?? {})) q.predictions[label] = (q.predictions[label] ?? 0) + count(n);
    q.latency = addLatency(q.latency, b.latencyMs);
    for (const [input, f] of Object.entries(b.features ?? {})) q.features[input] = mergeBinCounts(q.features[input], f);
    const s = shadowOf(b);
    if (s) {
      const k = shadowKey(s.name, s.version);
      const into = (q.shadow[k] ??= { ...s, rows: 0, agreed: 0, anomalies: 0, productionAnomalies: 0, errors: 0 });
      for (const c of SHADOW_COUNTS) into[c] += s[c];
    }
  }
  const write = ws.db.prepare('INSERT OR REPLACE INTO monitor_quarters (endpoint, from_at, model, version, requests, errors, rows, anomalies, predictions, latency, features, shadow) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  for (const q of quarters.values()) write.run(endpoint, q.fromAt, q.model, q.version, q.requests, q.errors, q.rows, q.anomalies, JSON.stringify(q.predictions), JSON.stringify(q.latency), JSON.stringify(q.features), JSON.stringify(q.shadow));
}

/** The counts of a shadow model in a bucket (EdgeShadowCounts). */
export const SHADOW_COUNTS = ['rows', 'agreed', 'anomalies', 'productionAnomalies', 'errors'] as const;

/**
 * monitor_quarters.shadow: each shadow model's counts summed over the
 * quarter's buckets, by shadowKey (a quarter may see one shadow end and
 * another start); monitor_buckets.shadow holds one bucket's EdgeShadowCounts.
 */
export type QuarterShadows = Record<string, EdgeShadowCounts>;

export const shadowKey = (name: string, version: string | number) => `${name}@${version}`;

/** A bucket's shadow counts, counts made whole and the version as text; null without any. */
function shadowOf(b: EdgeBucket): EdgeShadowCounts | null {
  const s = b.shadow;
  if (!s || typeof s !== 'object') return null;
  return { name: s.name, version: String(s.version), rows: count(s.rows), agreed: count(s.agreed), anomalies: count(s.anomalies), productionAnomalies: count(s.productionAnomalies), errors: count(s.errors) };
}

/** Two latency summaries as one: histograms merged while both parts have one; otherwise the figures windows.ts falls back on (the larger p99). */
function addLatency(into: EdgeBucket['latencyMs'], add: EdgeBucket['latencyMs'] | undefined): EdgeBucket['latencyMs'] {
  if (!add || !(add.count > 0)) return into;
  if (!(into.count > 0)) return { count: add.count, sum: add.sum, p50: add.p50, p99: add.p99, ...(add.bins ? { bins: [...mergeLatency(add.bins)] } : {}) };
  const bins = into.bins && add.bins ? mergeLatency(into.bins, add.bins) : null;
  return {
    count: into.count + add.count,
    sum: into.sum + add.sum,
    p50: bins ? latencyQuantile(bins, 0.5) : add.count > into.count ? add.p50 : into.p50,
    p99: bins ? latencyQuantile(bins, 0.99) : Math.max(into.p99 ?? 0, add.p99 ?? 0),
    ...(bins ? { bins: [...bins] } : {}),
  };
}

/** monitor_events.flagged: 0 for a context row (the edge says `flagged: false`), 1 for an anomalous row (older runtimes send only those). */
const flaggedOf = (e: object): 0 | 1 => ('flagged' in e && e.flagged === false ? 0 : 1);

const count = (n: unknown): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

/** A stored bucket, times in ms. */
export interface StoredBucket {
  seq: number;
  from: number;
  to: number;
  model: string;
  version: string;
  requests: number;
  errors: number;
  rows: number;
  anomalies: number;
  predictions: Record<string, number>;
  latency: EdgeBucket['latencyMs'];
  /** Parsed on first use: most readers need only the totals. */
  features(): Record<string, EdgeBinCounts>;
}

interface BucketRow {
  seq: number;
  from_at: string;
  to_at: string;
  model: string;
  version: string;
  requests: number;
  errors: number;
  rows: number;
  anomalies: number;
  predictions: string;
  latency: string;
  features: string;
}

/**
 * The buckets of an endpoint that end after `from`, oldest first. No upper
 * bound: an endpoint whose clock runs ahead of this PC's still counts its
 * newest minutes.
 */
export function bucketsSince(db: ReadableDb, endpoint: string, from: Date): StoredBucket[] {
  const rows = db
    .prepare('SELECT seq, from_at, to_at, model, version, requests, errors, rows, anomalies, predictions, latency, features FROM monitor_buckets WHERE endpoint = ? AND to_at > ? ORDER BY from_at, seq')
    .all(endpoint, from.toISOString()) as BucketRow[];
  return rows.map(toStored);
}

function toStored(r: BucketRow): StoredBucket {
  let features: Record<string, EdgeBinCounts> | null = null;
  return {
    seq: r.seq,
    from: Date.parse(r.from_at),
    to: Date.parse(r.to_at),
    model: r.model,
    version: r.version,
    requests: r.requests,
    errors: r.errors,
    rows: r.rows,
    anomalies: r.anomalies,
    predictions: JSON.parse(r.predictions) as Record<string, number>,
    latency: JSON.parse(r.latency) as EdgeBucket['latencyMs'],
    features: () => (features ??= JSON.parse(r.features) as Record<string, EdgeBinCounts>),
  };
}

/** An endpoint's quarter-hour rows that start at or after `from` (aligned to QUARTER_MS), oldest first, as buckets. */
export function quartersSince(db: ReadableDb, endpoint: string, from: Date): StoredBucket[] {
  const rows = db
    .prepare('SELECT 0 AS seq, from_at, from_at AS to_at, model, version, requests, errors, rows, anomalies, predictions, latency, features FROM monitor_quarters WHERE endpoint = ? AND from_at >= ? ORDER BY from_at')
    .all(endpoint, from.toISOString()) as BucketRow[];
  return rows.map((r) => {
    const b = toStored(r);
    b.to = b.from + QUARTER_MS;
    return b;
  });
}

/** Totals of every bucket stored for an endpoint (what the tests compare with the traffic sent). */
export function storedTotals(db: ReadableDb, endpoint: string): { buckets: number; requests: number; errors: number; rows: number; anomalies: number; events: number } {
  const b = db.prepare('SELECT COUNT(*) AS buckets, COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(errors), 0) AS errors, COALESCE(SUM(rows), 0) AS rows, COALESCE(SUM(anomalies), 0) AS anomalies FROM monitor_buckets WHERE endpoint = ?').get(endpoint) as {
    buckets: number;
    requests: number;
    errors: number;
    rows: number;
    anomalies: number;
  };
  const e = db.prepare('SELECT COUNT(*) AS n FROM monitor_events WHERE endpoint = ?').get(endpoint) as { n: number };
  return { ...b, events: e.n };
}
