import type { TimeFormat } from '../../../shared/datasets';
import type { EpisodeInput } from '../../../shared/feedback';
import { createTimeParser, type TimeParser } from '../datasets/import/timestamps';
import type { InputProfile, TrainingProfile } from '../deploy/profile';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';
import { downsample, emptyBody, parseBody, pointOf, type EpisodeBody } from './points';

/**
 * Grouping anomalous rows into episodes (DESIGN.md section 10), as pure
 * functions over one stream of rows (an endpoint's source of one model
 * version, or a batch scoring job). The database side is in store.ts.
 *
 * Flagged rows of a stream, in data time, belong to one episode while each is
 * at most the gap tolerance after the one before ("within the gap": a gap of
 * exactly the tolerance still joins). Context rows (the rows the edge sends
 * either side of flagged ones) never start or grow an episode; they only go
 * into the chart of the episode they are next to.
 */

/** At most this many contributing inputs are named. */
export const MAX_INPUTS = 5;
/** How far (at least) a context row may lie from an episode and still be drawn with it. */
export const CONTEXT_REACH_MS = 60 * 60_000;

/** A row as grouping sees it: its data time in ms, score, inputs by name. */
export interface StreamRow {
  seq: number;
  t: number;
  score: number | null;
  inputs: Record<string, unknown>;
  flagged: boolean;
}

/** An episode while it is grouped: new (id null) or read from the table. */
export interface Grouped {
  id: number | null;
  start: number;
  end: number;
  rows: number;
  peak: number;
  body: EpisodeBody;
  eventsTo: number;
  /** Flagged or context rows joined it during this grouping. */
  changed: boolean;
  /** Known episodes (ids) it took in during this grouping: a late run bridged them; they are removed. */
  merged?: number[];
}

/** The training figures deviations are measured against, per input. */
export type InputRef = { kind: 'numeric'; mean: number; std: number } | { kind: 'category'; categories: Set<string> };

export interface Reference {
  inputs: Map<string, InputRef>;
  threshold: number | null;
  /** How the version's training dataset reads its time column: event times are read the same way. */
  clock: EventClock;
}

/**
 * Reads a row's own time as the training dataset's import read its time
 * column (that version's time format and zone), so an episode covers the very
 * rows of the dataset that "Add my answers" labels. Epoch numbers (ms, or s
 * when too small to be ms since 1973) and ISO text with an offset or Z are
 * read as such in any case. Null: not a time.
 */
export class EventClock {
  private readonly own: TimeParser;
  private readonly iso: TimeParser;
  private readonly numeric: boolean;

  constructor(readonly format: TimeFormat, readonly timeZone: string) {
    this.own = createTimeParser(format, timeZone);
    this.iso = format === 'iso' ? this.own : createTimeParser('iso', timeZone);
    this.numeric = format === 'unix-s' || format === 'unix-ms' || format === 'excel-serial';
  }

  /** A clock for the dataset settings given; ISO in UTC when they name no time format or an unknown zone. */
  static of(format: unknown, timeZone: unknown): EventClock {
    try {
      if (typeof format === 'string' && typeof timeZone === 'string') return new EventClock(format as TimeFormat, timeZone);
    } catch {
      // A zone this computer does not know: read as UTC, as before.
    }
    return UTC_CLOCK;
  }

  parse(v: string | number | null | undefined): number | null {
    if (v === null || v === undefined) return null;
    const s = String(v).trim();
    if (!s) return null;
    if (this.numeric) {
      const t = this.own.parse(s);
      if (Number.isFinite(t)) return t;
    }
    if (typeof v === 'number' || /^-?\d+(\.\d+)?$/.test(s)) {
      const n = Number(s);
      if (!Number.isFinite(n)) return null;
      return Math.abs(n) < 1e11 ? n * 1000 : n;
    }
    const t = this.own.parse(s);
    if (Number.isFinite(t)) return t;
    // Text in another format than the dataset's: only ISO 8601 (an offset or Z, else in the dataset's zone), never the engine's guess.
    const iso = this.iso.parse(s);
    return Number.isFinite(iso) ? iso : null;
  }
}

export const UTC_CLOCK = new EventClock('iso', 'UTC');

export const NO_REFERENCE: Reference = { inputs: new Map(), threshold: null, clock: UTC_CLOCK };

/** The mean and standard deviation of each numeric input, the categories of each text input, from a training profile. */
export function referenceOf(profile: TrainingProfile | null, threshold: number | null, clock: EventClock = UTC_CLOCK): Reference {
  const inputs = new Map<string, InputRef>();
  for (const p of profile?.inputs ?? []) {
    const r = inputRef(p);
    if (r) inputs.set(p.name, r);
  }
  return { inputs, threshold, clock };
}

function inputRef(p: InputProfile): InputRef | null {
  if (p.kind === 'category') return { kind: 'category', categories: new Set(p.categories) };
  if (!p.means || p.std === undefined) return null;
  let sum = 0, n = 0;
  p.means.forEach((m, b) => {
    if (m === null) return;
    sum += m * p.counts[b]!;
    n += p.counts[b]!;
  });
  return n ? { kind: 'numeric', mean: sum / n, std: p.std } : null;
}

/** How far a value is from training: |x − mean| / std for numbers; 1 for a category training never saw, else 0. Null: cannot tell. */
export function deviation(ref: InputRef | undefined, v: unknown): number | null {
  if (!ref || v === null || v === undefined || v === '') return null;
  if (ref.kind === 'category') return ref.categories.has(String(v)) ? 0 : 1;
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  // An input constant in training: distances are counted in 1% of its size instead.
  const scale = ref.std > 0 ? ref.std : Math.max(Math.abs(ref.mean) * 0.01, 1e-9);
  return Math.abs(v - ref.mean) / scale;
}

/** A row's data time in ms: its own timestamp as `clock` reads it, else when it was received (ISO with Z). */
export function dataTime(time: string | number | null | undefined, receivedAt: string | number, clock: EventClock = UTC_CLOCK): number {
  return clock.parse(time) ?? UTC_CLOCK.parse(receivedAt) ?? 0;
}

const byTime = (a: { t: number; seq?: number }, b: { t: number; seq?: number }) => a.t - b.t || (a.seq ?? 0) - (b.seq ?? 0);

/** Adds rows (flagged or context) to an episode: its span, count, peak, deviations and chart. */
function absorb(ep: Grouped, rows: StreamRow[], ref: Reference): void {
  if (!rows.length) return;
  const points = rows.map(pointOf);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!r.flagged) continue;
    ep.start = Math.min(ep.start, r.t);
    ep.end = Math.max(ep.end, r.t);
    ep.rows++;
    const s = r.score ?? -Infinity;
    if (ep.body.peak === null || s > (ep.body.peak.s ?? -Infinity)) {
      ep.body.peak = points[i]!;
      ep.peak = r.score ?? ep.peak;
    }
    for (const [name, v] of Object.entries(r.inputs)) {
      const d = deviation(ref.inputs.get(name), v);
      if (d !== null && d > (ep.body.devs[name] ?? -1)) ep.body.devs[name] = d;
    }
  }
  ep.body.rows = downsample([...ep.body.rows, ...points].sort(byTime));
  for (const r of rows) ep.eventsTo = Math.max(ep.eventsTo, r.seq);
  ep.changed = true;
}

const fresh = (r: StreamRow): Grouped => ({ id: null, start: r.t, end: r.t, rows: 0, peak: r.score ?? 0, body: emptyBody(), eventsTo: 0, changed: true });

/**
 * Groups new rows of one stream with the episodes already known near them
 * (`known`, any order). Flagged rows within `gapMs` of each other form runs;
 * a run within the gap of a known episode grows it, otherwise it starts a new
 * one; episodes a late run brought within the gap of each other become one
 * (`merged` names the known ones taken in). Context rows then join the
 * nearest episode within reach. Returns every episode touched or created.
 */
export function groupStream(known: Grouped[], rows: StreamRow[], gapMs: number, ref: Reference): Grouped[] {
  const episodes = [...known].sort((a, b) => a.start - b.start);
  const flagged = rows.filter((r) => r.flagged).sort(byTime);
  const context = rows.filter((r) => !r.flagged).sort(byTime);
  const runs: StreamRow[][] = [];
  for (const r of flagged) {
    const run = runs.at(-1);
    if (run && r.t - run.at(-1)!.t <= gapMs) run.push(r);
    else runs.push([r]);
  }
  for (const run of runs) {
    const from = run[0]!.t, to = run.at(-1)!.t;
    let home = episodes.find((e) => e.start - to <= gapMs && from - e.end <= gapMs);
    if (!home) {
      home = fresh(run[0]!);
      episodes.push(home);
      episodes.sort((a, b) => a.start - b.start);
    }
    absorb(home, run, ref);
  }
  mergeNeighbours(episodes, gapMs);
  const reach = Math.max(gapMs, CONTEXT_REACH_MS);
  const extra = new Map<Grouped, StreamRow[]>();
  for (const r of context) {
    let best: Grouped | null = null, bestDist = Infinity;
    for (const e of episodes) {
      const d = r.t < e.start ? e.start - r.t : r.t > e.end ? r.t - e.end : 0;
      if (d < bestDist) [best, bestDist] = [e, d];
    }
    if (!best || bestDist > reach) continue;
    const near = extra.get(best);
    if (near) near.push(r);
    else extra.set(best, [r]);
  }
  for (const [e, rs] of extra) absorb(e, rs, ref);
  return episodes.filter((e) => e.changed);
}

/**
 * Joins episodes (sorted by start) that this grouping brought within the gap
 * of each other (a late run between two), so rows closer than the gap are
 * always one episode. The known episode with the lower id stays.
 */
function mergeNeighbours(episodes: Grouped[], gapMs: number): void {
  episodes.sort((a, b) => a.start - b.start);
  for (let i = 0; i + 1 < episodes.length; ) {
    const a = episodes[i]!, b = episodes[i + 1]!;
    if (!(a.changed || b.changed) || b.start - a.end > gapMs) {
      i++;
      continue;
    }
    const [keep, gone] = b.id !== null && (a.id === null || b.id < a.id) ? [b, a] : [a, b];
    keep.start = Math.min(keep.start, gone.start);
    keep.end = Math.max(keep.end, gone.end);
    keep.rows += gone.rows;
    if (gone.body.peak && (keep.body.peak === null || (gone.body.peak.s ?? -Infinity) > (keep.body.peak.s ?? -Infinity))) {
      keep.body.peak = gone.body.peak;
      keep.peak = gone.peak;
    }
    for (const [name, d] of Object.entries(gone.body.devs)) keep.body.devs[name] = Math.max(keep.body.devs[name] ?? -1, d);
    keep.body.rows = downsample([...keep.body.rows, ...gone.body.rows].sort(byTime));
    keep.eventsTo = Math.max(keep.eventsTo, gone.eventsTo);
    keep.merged = [...(keep.merged ?? []), ...(gone.merged ?? []), ...(gone.id === null ? [] : [gone.id])];
    keep.changed = true;
    episodes.splice(i, 2, keep);
  }
}

/** The inputs that went furthest from training, most first (at most MAX_INPUTS), with their value at the peak and the normal band. */
export function contributing(body: EpisodeBody, ref: Reference): EpisodeInput[] {
  return Object.entries(body.devs)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_INPUTS)
    .map(([name, d]) => {
      const r = ref.inputs.get(name);
      const v = body.peak?.x[name];
      return {
        name,
        deviation: round(d),
        value: v === undefined ? null : v,
        normalLow: r?.kind === 'numeric' ? round(r.mean - 2 * r.std) : null,
        normalHigh: r?.kind === 'numeric' ? round(r.mean + 2 * r.std) : null,
      };
    });
}

/** Six significant digits: what a card shows, without float noise in the stored JSON. */
export const round = (x: number): number => Number(x.toPrecision(6));

/** Big enough to ask about: at least minMinutes from first to last row, and at least minRows rows (a lone flagged row is not an episode by default). */
export function askable(e: { start: number; end: number; rows: number }, s: { minMinutes: number; minRows: number }): boolean {
  return e.end - e.start >= s.minMinutes * 60_000 && e.rows >= s.minRows;
}

/** The stream an episode belongs to. */
export interface StreamKey {
  origin: 'endpoint' | 'batch';
  endpoint: string | null;
  job: string | null;
  source: string | null;
  model: string;
  version: number;
}

export const streamId = (k: StreamKey): string => JSON.stringify([k.origin, k.endpoint, k.job, k.source, k.model, k.version]);

/** Where each stream's newest row is, in data time (meta 'feedback.streams'): an episode ending within the gap of it is still open. */
const STREAMS_KEY = 'feedback.streams';

export function streamNewest(db: ReadableDb): Record<string, number> {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(STREAMS_KEY) as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as Record<string, number>) : {};
}

export interface ScanResult {
  created: number;
  extended: number;
}

interface KnownRow {
  id: number;
  start_at: string;
  end_at: string;
  rows: number;
  peak_score: number;
  points: string;
  events_to: number | null;
}

/**
 * Groups a stream's new rows into its episodes in the table (call inside a
 * transaction). Known unanswered episodes near the rows (within the gap, or
 * the reach of context rows) are read back with their bodies and grown. An
 * answered episode is closed: rows after it start a new episode, asked about
 * on its own, so a later failure never inherits an earlier "normal".
 */
export function groupIntoTable(ws: Workspace, key: StreamKey, rows: StreamRow[], gapMs: number, ref: Reference, newest: Record<string, number>, now: string): ScanResult {
  if (!rows.length) return { created: 0, extended: 0 };
  let lo = Infinity, hi = -Infinity;
  for (const r of rows) {
    lo = Math.min(lo, r.t);
    hi = Math.max(hi, r.t);
  }
  // Only endpoint streams can be open (a batch job's rows all come at once): batch jobs add no key, so the meta value stays bounded.
  if (key.origin === 'endpoint') {
    const id = streamId(key);
    newest[id] = Math.max(newest[id] ?? -Infinity, hi);
  }
  const reach = Math.max(gapMs, CONTEXT_REACH_MS);
  const known = (
    ws.db
      .prepare(
        `SELECT id, start_at, end_at, rows, peak_score, points, events_to FROM episodes
         WHERE origin = ? AND endpoint IS ? AND job IS ? AND source IS ? AND model = ? AND version = ? AND verdict IS NULL AND end_at >= ? AND start_at <= ?`,
      )
      .all(key.origin, key.endpoint, key.job, key.source, key.model, key.version, new Date(lo - reach).toISOString(), new Date(hi + reach).toISOString()) as KnownRow[]
  ).map(
    (r): Grouped => ({ id: r.id, start: Date.parse(r.start_at), end: Date.parse(r.end_at), rows: r.rows, peak: r.peak_score, body: parseBody(r.points), eventsTo: r.events_to ?? 0, changed: false }),
  );
  const out = { created: 0, extended: 0 };
  const insert = ws.db.prepare(
    `INSERT INTO episodes (origin, endpoint, job, source, model, version, start_at, end_at, rows, peak_score, threshold, inputs, points, events_to, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const update = ws.db.prepare('UPDATE episodes SET start_at = ?, end_at = ?, rows = ?, peak_score = ?, inputs = ?, points = ?, events_to = ?, updated_at = ? WHERE id = ?');
  const drop = ws.db.prepare('DELETE FROM episodes WHERE id = ? AND verdict IS NULL RETURNING prompted_at');
  const prompted = ws.db.prepare('UPDATE episodes SET prompted_at = ? WHERE id = ? AND (prompted_at IS NULL OR prompted_at < ?)');
  for (const e of groupStream(known, rows, gapMs, ref)) {
    const inputs = JSON.stringify(contributing(e.body, ref));
    const start = new Date(e.start).toISOString(), end = new Date(e.end).toISOString();
    if (e.id === null) {
      insert.run(key.origin, key.endpoint, key.job, key.source, key.model, key.version, start, end, e.rows, e.peak, ref.threshold, inputs, JSON.stringify(e.body), e.eventsTo, now, now);
      out.created++;
    } else {
      update.run(start, end, e.rows, e.peak, inputs, JSON.stringify(e.body), e.eventsTo, now, e.id);
      out.extended++;
      // Bridged episodes are now part of this one (unanswered: no answers go with them); one asked about keeps it asked about.
      for (const gone of e.merged ?? []) {
        const was = drop.get(gone) as { prompted_at: string | null } | undefined;
        if (was?.prompted_at) prompted.run(was.prompted_at, e.id, was.prompted_at);
      }
    }
  }
  return out;
}

export function keepNewest(ws: Workspace, newest: Record<string, number>): void {
  // Keys of batch streams written before they were left out go too.
  const kept = Object.fromEntries(Object.entries(newest).filter(([id]) => !id.startsWith('["batch"')));
  ws.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(STREAMS_KEY, JSON.stringify(kept));
}

interface EventRow {
  endpoint: string;
  seq: number;
  time: string | null;
  received_at: string;
  source: string | null;
  model: string;
  version: string;
  score: number | null;
  inputs: string;
  flagged: number;
}

/** The model versions of the events not grouped yet (their references are looked up before the scan's transaction). */
export function pendingVersions(db: ReadableDb): { model: string; version: string }[] {
  return db
    .prepare('SELECT DISTINCT e.model, e.version FROM endpoints p JOIN monitor_events e ON e.endpoint = p.name AND e.seq > p.episodes_cursor')
    .all() as { model: string; version: string }[];
}

/** A version as endpoints name it, as the episodes table keeps it (0: not a version number of this workspace). */
export const versionNumber = (v: string): number => (/^\d+$/.test(v) ? Number(v) : 0);

/**
 * Groups every endpoint's anomaly events after its cursor into episodes and
 * moves the cursors, and the flagged rows of finished batch jobs (`batches`),
 * in one IMMEDIATE transaction: a second scan (or another process's, the CLI
 * beside the app) finds nothing left to group. `refOf` answers undefined for
 * a model version it was not asked about; its events wait for the next scan.
 */
export function scanEvents(ws: Workspace, gapMs: number, refOf: (model: string, version: string) => Reference | undefined, now: Date, batches: readonly PendingBatch[] = []): ScanResult {
  return ws.db.transaction((): ScanResult => {
    const total = { created: 0, extended: 0 };
    const newest = streamNewest(ws.db);
    for (const b of batches) {
      const r = groupBatch(ws, b, gapMs, refOf(b.model, String(b.version)) ?? NO_REFERENCE, newest, now.toISOString());
      total.created += r.created;
      total.extended += r.extended;
    }
    const cursors = ws.db.prepare('SELECT name, episodes_cursor FROM endpoints ORDER BY name').all() as { name: string; episodes_cursor: number }[];
    const read = ws.db.prepare('SELECT endpoint, seq, time, received_at, source, model, version, score, inputs, flagged FROM monitor_events WHERE endpoint = ? AND seq > ? ORDER BY seq');
    const move = ws.db.prepare('UPDATE endpoints SET episodes_cursor = ? WHERE name = ?');
    for (const c of cursors) {
      const events = read.all(c.name, c.episodes_cursor) as EventRow[];
      if (!events.length) continue;
      const streams = new Map<string, { key: StreamKey; ref: Reference; rows: StreamRow[] }>();
      let upTo = c.episodes_cursor;
      for (const e of events) {
        const key: StreamKey = { origin: 'endpoint', endpoint: c.name, job: null, source: e.source, model: e.model, version: versionNumber(e.version) };
        const id = streamId(key);
        let s = streams.get(id);
        if (!s) {
          const ref = refOf(e.model, e.version);
          // A version that came in after the references were looked up: the next scan groups from here.
          if (!ref) break;
          streams.set(id, (s = { key, ref, rows: [] }));
        }
        s.rows.push({ seq: e.seq, t: dataTime(e.time, e.received_at, s.ref.clock), score: e.score, inputs: parseInputs(e.inputs), flagged: e.flagged !== 0 });
        upTo = e.seq;
      }
      for (const s of streams.values()) {
        const r = groupIntoTable(ws, s.key, s.rows, gapMs, s.ref, newest, now.toISOString());
        total.created += r.created;
        total.extended += r.extended;
      }
      if (upTo > c.episodes_cursor) move.run(upTo, c.name);
    }
    keepNewest(ws, newest);
    return total;
  }).immediate();
}

function parseInputs(json: string): Record<string, unknown> {
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Flagged rows of a batch scoring job waiting to be grouped (meta 'feedback.batch.<job>'), kept by the job's commit. */
const BATCH_PREFIX = 'feedback.batch.';

export interface PendingBatch {
  job: string;
  model: string;
  version: number;
  rows: { t: number; score: number | null; inputs: Record<string, unknown> }[];
}

/**
 * Keeps a finished score job's flagged rows for the next scan (which needs
 * the version's training profile, read asynchronously). A job's commit is
 * not told its id: it is the running score job of this process with these
 * parameters.
 */
export function keepBatch(ws: Workspace, params: unknown, batch: Omit<PendingBatch, 'job'>): void {
  const job = ws.db.prepare("SELECT id FROM jobs WHERE kind = 'models.score' AND state = 'running' AND owner_pid = ? AND params = ? ORDER BY created_at LIMIT 1").get(process.pid, JSON.stringify(params ?? {})) as { id: string } | undefined;
  if (!job || !batch.rows.length) return;
  ws.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(BATCH_PREFIX + job.id, JSON.stringify({ job: job.id, ...batch }));
}

export function pendingBatches(db: ReadableDb): PendingBatch[] {
  return (db.prepare(`SELECT value FROM meta WHERE key LIKE '${BATCH_PREFIX}%' ORDER BY key`).all() as { value: string }[]).map((r) => JSON.parse(r.value) as PendingBatch);
}

/**
 * Groups a batch job's rows as one stream (inside the scan's transaction) and
 * drops them from the waiting ones; a job grouped before adds nothing. Rows
 * whose time lies within a batch episode of the same model version (the same
 * file scored again, or an overlapping one) are left out, so one stretch is
 * never asked about, or counted, twice.
 */
export function groupBatch(ws: Workspace, b: PendingBatch, gapMs: number, ref: Reference, newest: Record<string, number>, now: string): ScanResult {
  const removed = ws.db.prepare('DELETE FROM meta WHERE key = ?').run(BATCH_PREFIX + b.job).changes;
  if (!removed) return { created: 0, extended: 0 };
  const seen = (ws.db.prepare("SELECT start_at, end_at FROM episodes WHERE origin = 'batch' AND model = ? AND version = ? ORDER BY start_at").all(b.model, b.version) as { start_at: string; end_at: string }[]).map(
    (e) => [Date.parse(e.start_at), Date.parse(e.end_at)] as const,
  );
  const reach: number[] = [];
  for (const [, end] of seen) reach.push(Math.max(reach.at(-1) ?? -Infinity, end));
  const rows = b.rows.filter((r) => !within(seen, reach, r.t)).map((r, i): StreamRow => ({ ...r, seq: i + 1, flagged: true }));
  return groupIntoTable(ws, { origin: 'batch', endpoint: null, job: b.job, source: null, model: b.model, version: b.version }, rows, gapMs, ref, newest, now);
}

/** Whether t lies within one of the spans (sorted by start; `reach[i]` is the latest end among spans 0..i). */
function within(spans: readonly (readonly [number, number])[], reach: readonly number[], t: number): boolean {
  let lo = 0, hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]![0] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && reach[lo - 1]! >= t;
}
