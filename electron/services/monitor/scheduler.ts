import { AppError } from '../../../shared/errors';
import type { MonitorSettings } from '../../../shared/monitor';
import { logInternal } from '../api/dispatch';
import type { EdgeBucket, MonitoringPage } from '../deploy/client';
import type { DeployService } from '../deploy/deploy';
import type { Workspace } from '../workspace/workspace';
import { noteSchedule, pollState, pollStates, pruneMonitoring, SHADOW_COUNTS, storePage, type SkippedRecord } from './store';

/**
 * The background poll (issue 8): every endpoint every `intervalSeconds` —
 * health, what it serves, and its monitoring data from the cursor on, each
 * page stored with its cursor in one transaction. An endpoint that does not
 * answer is tried less and less often (interval × 2^failures, at most
 * BACKOFF_CAP_MS) and catches up from its cursor when it answers again.
 * Several endpoints are polled at once (CONCURRENCY), all on this event
 * loop: each poll waits on the network, and its database work is one short
 * transaction per page.
 */

export const CONCURRENCY = 16;
export const BACKOFF_CAP_MS = 30 * 60_000;
/** How long one request to an endpoint may take before the poll counts it as not answering. */
export const POLL_TIMEOUT_MS = 5_000;
/**
 * Buckets and events asked for per page; a long catch-up takes several. A
 * page is stored in one transaction on this event loop: 250 minute buckets
 * of 20 inputs take under 20 ms.
 */
export const PAGE_LIMIT = 250;
/** Pages read per poll at most (more than the week of buckets an endpoint keeps); the rest waits for the next poll, the cursor keeping the place. */
export const MAX_PAGES = 50;

/** How often the loop prunes old monitoring data (pruneMonitoring); the first tick prunes at once. */
export const PRUNE_EVERY_MS = 10 * 60_000;

/** When to try again after `failures` failed contacts in a row (0: the interval). */
export function nextDelayMs(intervalSeconds: number, failures: number): number {
  const interval = intervalSeconds * 1000;
  if (failures <= 0) return interval;
  return Math.min(interval * 2 ** Math.min(failures, 30), Math.max(BACKOFF_CAP_MS, interval));
}

export interface PollOutcome {
  name: string;
  /** up: answered; stopped: a local endpoint nobody runs; down: no answer, or not ready. */
  status: 'up' | 'down' | 'stopped' | 'unknown';
  buckets: number;
  events: number;
  pages: number;
  error: string | null;
}

export interface SchedulerOptions {
  now?: () => number;
  concurrency?: number;
  timeoutMs?: number;
  pageLimit?: number;
  /** After each round of polls (the names polled); the service evaluates alerts and tells the windows. */
  afterPolls?: (outcomes: PollOutcome[]) => Promise<void> | void;
  /** Every tick, polls or not (the "down for N minutes" rule needs the clock, not a poll). */
  onTick?: () => Promise<void> | void;
}

/** A monitoring page this version can store, or the reason in words (not a database constraint's message). */
export function checkPage(page: MonitoringPage, url: string): MonitoringPage {
  const bad = (what: string) => new AppError('io', `${url}/admin/monitoring answered with data this version of Millwright cannot read (${what}).`);
  if (!page || typeof page.cursor !== 'string' || !/^\d+\.\d+$/.test(page.cursor) || !Array.isArray(page.buckets) || !Array.isArray(page.events)) throw bad('no cursor, buckets and events');
  page.buckets.forEach((b, i) => {
    if (!b || !Number.isInteger(b.seq)) throw bad(`bucket ${i + 1} has no number`);
  });
  page.events.forEach((e, i) => {
    if (!e || !Number.isInteger(e.seq)) throw bad(`event ${i + 1} has no number`);
  });
  return page;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isNumbers = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Why one bucket cannot be stored (null: it can): each field the store and the drift reading use, named. */
function bucketProblem(b: EdgeBucket): string | null {
  if (typeof b.from !== 'string' || !Number.isFinite(Date.parse(b.from)) || typeof b.to !== 'string' || !Number.isFinite(Date.parse(b.to))) return 'its times ("from", "to") are missing or not dates';
  if (typeof b.name !== 'string' || (typeof b.version !== 'string' && typeof b.version !== 'number')) return 'it does not say which model version it counts ("name", "version")';
  for (const k of ['requests', 'errors', 'rows', 'anomalies'] as const) if (!isCount(b[k])) return `its "${k}" is not a count`;
  if (b.predictions !== undefined && (!isObject(b.predictions) || !Object.values(b.predictions).every(isCount))) return 'its "predictions" is not a count per label';
  const l = b.latencyMs as unknown;
  if (l !== undefined) {
    if (!isObject(l) || !isCount(l.count) || typeof l.sum !== 'number' || !Number.isFinite(l.sum)) return 'its "latencyMs" has no count and sum';
    if (l.bins !== undefined && !(Array.isArray(l.bins) && l.bins.every((p) => Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && isCount(p[1])))) return 'its "latencyMs.bins" is not a list of [bin, count] pairs';
  }
  if (b.features !== undefined) {
    if (!isObject(b.features)) return 'its "features" is not a set of inputs';
    for (const [input, f] of Object.entries(b.features as Record<string, unknown>)) {
      if (!isObject(f) || !Array.isArray(f.counts) || !f.counts.every(isCount)) return `its "features.${input}.counts" is not a list of counts`;
      if (!isCount(f.missing)) return `its "features.${input}.missing" is not a count`;
      if (f.sums !== undefined && !(isNumbers(f.sums) && (f.sums as number[]).length === f.counts.length)) return `its "features.${input}.sums" is not a number per bin`;
    }
  }
  const s = b.shadow as unknown;
  if (s !== undefined) {
    if (!isObject(s) || typeof s.name !== 'string' || (typeof s.version !== 'string' && typeof s.version !== 'number')) return 'its "shadow" does not say which shadow model it counts ("name", "version")';
    for (const k of SHADOW_COUNTS) if (!isCount(s[k])) return `its "shadow.${k}" is not a count`;
  }
  return null;
}

/** The buckets and events of a page that cannot be stored, each with the field at fault. */
export function unreadable(page: MonitoringPage): SkippedRecord[] {
  const out: SkippedRecord[] = [];
  for (const b of page.buckets) {
    const why = bucketProblem(b);
    if (why) out.push({ kind: 'bucket', seq: b.seq, why });
  }
  for (const e of page.events) {
    let why: string | null = null;
    if (typeof e.receivedAt !== 'string' || !Number.isFinite(Date.parse(e.receivedAt))) why = 'its "receivedAt" is missing or not a date';
    else if (typeof e.model !== 'string' || (typeof e.version !== 'string' && typeof e.version !== 'number')) why = 'it does not say which model version flagged it ("model", "version")';
    else if (e.score !== undefined && e.score !== null && (typeof e.score !== 'number' || !Number.isFinite(e.score))) why = 'its "score" is not a number';
    else if (e.inputs !== undefined && !isObject(e.inputs)) why = 'its "inputs" is not a set of values';
    if (why) out.push({ kind: 'event', seq: e.seq, why });
  }
  return out;
}

/**
 * Polls in a row that meet an unreadable bucket or event at the same cursor
 * before it is skipped (recorded in the audit log and said on the endpoint):
 * until then the poll stops there and says why, so a passing fault does not
 * lose data, and a page that can never be read does not stall the endpoint.
 */
export const UNREADABLE_TRIES = 3;

/** Runs `f` over `items`, at most `n` at a time. */
export async function inPool<T, R>(items: T[], n: number, f: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = true;
  private prunedAt = -Infinity;
  /** Per endpoint, the cursor where an unreadable record was met and in how many polls in a row. */
  private readonly unreadableSeen = new Map<string, { cursor: string | null; tries: number }>();
  readonly now: () => number;

  constructor(
    private readonly ws: Workspace,
    private readonly deploy: DeployService,
    private readonly settings: () => MonitorSettings,
    private readonly opts: SchedulerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Polls one endpoint now, whatever its backoff says, and keeps when to poll it next. */
  async poll(name: string): Promise<PollOutcome> {
    const before = pollState(this.ws.db, name);
    if (!before) throw new AppError('not_found', `There is no endpoint called "${name}".`, 'name');
    const limit = this.opts.pageLimit ?? PAGE_LIMIT;
    let buckets = 0, events = 0, pages = 0;
    const gaps: string[] = [];
    const r = await this.deploy.observe(
      name,
      async (client) => {
        // Read inside the endpoint's lock: a poll that ran meanwhile (monitor.cycle beside the loop) moved it on.
        let cursor = pollState(this.ws.db, name)?.cursor ?? null;
        let more = true;
        while (more && pages < MAX_PAGES) {
          const page = checkPage(await client.monitoring(cursor, limit), client.url);
          const skip = this.unreadableToSkip(name, cursor, page);
          const stored = this.store(name, cursor, page, skip);
          pages++;
          // Another poller (the CLI beside the app) moved on first: it reads the rest.
          if (stored.outcome === 'stale') break;
          buckets += stored.buckets;
          events += stored.events;
          if (stored.gap) gaps.push(stored.gap);
          cursor = stored.cursor;
          // The endpoint's numbers started again: read on from where storePage says.
          more = stored.outcome === 'restart' || page.more;
        }
      },
      this.opts.timeoutMs ?? POLL_TIMEOUT_MS,
    );
    const status = r.contact.status;
    if (r.readError) this.deploy.store.noteContact(name, { status: 'up', error: `Monitoring data could not be read: ${r.readError}`, reached: true });
    else if (gaps.length) this.deploy.store.noteContact(name, { status: 'up', error: gaps.join(' '), reached: true });
    const now = this.now();
    const failing = status === 'down' || status === 'unknown';
    const failures = failing ? before.failures + 1 : 0;
    noteSchedule(this.ws, name, {
      next: new Date(now + nextDelayMs(this.settings().intervalSeconds, failures)).toISOString(),
      failures,
      downSince: failing ? (before.downSince ?? new Date(now).toISOString()) : null,
    });
    return { name, status, buckets, events, pages, error: r.readError ?? r.contact.error ?? (gaps.length ? gaps.join(' ') : null) };
  }

  /** storePage, with a failure this code did not foresee said in words (the details go to the log, not to the person). */
  private store(name: string, cursor: string | null, page: MonitoringPage, skip: SkippedRecord[]): ReturnType<typeof storePage> {
    try {
      return storePage(this.ws, name, cursor, page, new Date(this.now()), skip);
    } catch (e) {
      if (e instanceof AppError) throw e;
      logInternal(this.ws.logDir, `monitor ${name}`, e);
      throw new AppError('internal', `The monitoring data read from ${name} could not be stored in the workspace; it is read again at the next poll (the details are in the workspace's log).`);
    }
  }

  /**
   * The unreadable records of a page to skip now, or none; throws the first
   * one's reason in words while it has failed fewer than UNREADABLE_TRIES polls.
   */
  private unreadableToSkip(name: string, cursor: string | null, page: MonitoringPage): SkippedRecord[] {
    const found = unreadable(page);
    if (!found.length) return [];
    const seen = this.unreadableSeen.get(name);
    const tries = seen && seen.cursor === cursor ? seen.tries + 1 : 1;
    this.unreadableSeen.set(name, { cursor, tries });
    if (tries >= UNREADABLE_TRIES) {
      this.unreadableSeen.delete(name);
      return found;
    }
    const u = found[0]!;
    throw new AppError('io', `${name} sent a monitoring ${u.kind} (number ${u.seq}) that this version of Millwright cannot read: ${u.why}. It is tried again at the next poll; after ${UNREADABLE_TRIES} tries it is skipped.`);
  }

  /** Polls the endpoints named (every one when none), at most `concurrency` at a time. Endpoints removed meanwhile are skipped. */
  async pollMany(names?: string[]): Promise<PollOutcome[]> {
    const all = names ?? pollStates(this.ws.db).map((p) => p.name);
    const outcomes = await inPool(all, this.opts.concurrency ?? CONCURRENCY, async (name) => {
      try {
        return await this.poll(name);
      } catch (e) {
        if (e instanceof AppError && e.code === 'not_found' && names === undefined) return null;
        throw e;
      }
    });
    const done = outcomes.filter((o): o is PollOutcome => o !== null);
    await this.opts.afterPolls?.(done);
    return done;
  }

  /** The endpoints due now: never polled, or their next contact has come. */
  due(): string[] {
    const now = this.now();
    return pollStates(this.ws.db)
      .filter((p) => p.next === null || Date.parse(p.next) <= now)
      .map((p) => p.name);
  }

  /** One turn of the loop: polls what is due, then the clock's own checks. */
  async tick(): Promise<PollOutcome[]> {
    const due = this.due();
    const outcomes = due.length ? await this.pollMany(due) : [];
    await this.opts.onTick?.();
    if (this.now() - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = this.now();
      await pruneMonitoring(this.ws, new Date(this.prunedAt));
    }
    return outcomes;
  }

  /** Starts the loop: a tick every `tickMs`, one at a time. */
  start(tickMs = 1000): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((e: unknown) => logInternal(this.ws.logDir, 'monitor', e))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(loop, tickMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  get started(): boolean {
    return !this.stopped;
  }

  /** Stops the loop and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
