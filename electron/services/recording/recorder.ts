/**
 * One running recording: a connection to its source, a subscription to its
 * tags, and the buffer on disk the samples go to. When the connection is
 * lost it records a gap and reconnects with backoff (1 s, 2 s, 4 s … 30 s),
 * forever: a plant server that restarts at night must not end a week-long
 * recording. Tags whose values arrive but cannot be read (a Sparkplug edge
 * node whose birth was missed) get a gap of their own, and the status says
 * which and what to do, until they can be read again (a reconnect does not
 * end that gap: one missed birth is one gap per tag, however often the
 * connection drops meanwhile). Sparklines come from a
 * small ring of the newest values per tag.
 */
import { GAP_ROWS, recordingMessage, type LiveValue, type RecordingGap, type RecordingState, type Tag } from '../../../shared/recording';
import { DiskFullError, RecordingBuffer, type BufferStats, type GapMark } from './buffer';
import { ConnectError, type ConnectOptions, type Driver, type DriverConnection, type Sample, type Subscription, type UnreadableTags } from './driver';

/** Backoff after the n-th failed attempt in a row (n ≥ 1), ms. */
export function reconnectDelayMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, Math.min(failures - 1, 10)));
}

/** Points kept per tag for sparklines. */
export const RING = 600;

export interface RecorderStatus {
  state: RecordingState;
  message: string;
}

export interface RecorderOptions {
  dir: string;
  tags: Tag[];
  intervalMs: number;
  driver: Driver;
  /** Fresh options for each attempt (the trusted certificates may change in between). */
  connectOptions: () => ConnectOptions;
  /** Called on every change of state or message. */
  onStatus: (s: RecorderStatus) => void;
  /** Gap reason when it starts after a restart of the app (the time nothing was recorded). */
  resumedAfter?: { since: number; reason: string } | null;
  buffer?: { flushMs?: number; syncMs?: number };
}

interface Ring {
  t: Float64Array;
  v: Float64Array;
  n: number;
  head: number;
  samples: number;
  last: LiveValue | null;
}

/** A gap held in memory: its times as numbers (to pick the ones recordings.live sends without parsing dates) and its view. */
interface HeldGap {
  start: number;
  end: number | null;
  view: RecordingGap;
}

const fmtDelay = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

export class Recorder {
  readonly buffer: RecordingBuffer;
  private readonly index = new Map<string, number>();
  private readonly rings: Ring[];
  private conn: DriverConnection | null = null;
  private sub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = false;
  /** The open whole-source gap, if any (start ms), and its entry in gapList. */
  private gapSince: number | null = null;
  private sourceGap: HeldGap | null = null;
  /** The open gaps of single tags (tag index → entry in gapList): their values arrive but cannot be read. */
  private readonly tagGaps = new Map<number, HeldGap>();
  /**
   * The tags the current connection last said cannot be read. A tag gap not
   * among them was carried over from an earlier connection: it ends with the
   * tag's next good value or its birth, not with a report about other tags.
   */
  private listed = new Set<number>();
  /** The current connection's last report, part by part (each with its tag indices). */
  private reported: { message: string; advice: string; tags: number[] }[] = [];
  /** Parts reported by earlier connections whose tags' gaps are still open: said until a birth or a good value ends them. */
  private carried: { message: string; advice: string; tags: number[] }[] = [];
  private readonly gapList: HeldGap[] = [];
  private status: RecorderStatus = { state: 'connecting', message: 'Connecting to the source.' };
  private connStatus: RecorderStatus = this.status;
  /** Why the buffer cannot write (a full disk), until everything that waited is written. */
  private diskProblem: string | null = null;
  private attempt: Promise<void> | null = null;
  /** Bumped on every connect attempt: a lost() or a failure of an older attempt is ignored. */
  private generation = 0;
  /**
   * OPC UA sends each tag's current value right after subscribing, stamped
   * with when it last changed (possibly days ago). That first value is the
   * tag's value at the moment of subscribing, so it is recorded then: it
   * must not reach back before the recording (or across the gap it closes).
   * The same for a tag's first value after its own gap (freshFrom).
   */
  private subscribedAt = 0;
  private readonly fresh: boolean[];
  private readonly freshFrom: number[];

  constructor(private readonly o: RecorderOptions) {
    this.buffer = RecordingBuffer.open(o.dir, { ...o.buffer, onError: (err) => this.diskError(err), onRecovered: () => this.diskRecovered() });
    o.tags.forEach((t, i) => this.index.set(t.id, i));
    this.fresh = o.tags.map(() => true);
    this.freshFrom = o.tags.map(() => 0);
    this.rings = o.tags.map(() => ({ t: new Float64Array(RING), v: new Float64Array(RING), n: 0, head: 0, samples: 0, last: null }));
    const leftOpen = new Map<number, { start: number; gap: HeldGap }>();
    for (const g of this.buffer.stats().gaps) {
      const gap = this.toGap(g.start, g.end, g.reason, g.tag);
      this.gapList.push(gap);
      // Killed while reconnecting: that gap is still open and goes on until the next connection.
      if (g.tag === null && g.end === null) {
        this.gapSince = g.start;
        this.sourceGap = gap;
      }
      if (g.tag !== null && g.end === null) leftOpen.set(g.tag, { start: g.start, gap });
    }
    if (o.resumedAfter) {
      // The gap begins at the last sample on disk at the earliest: no value is held into the time nobody recorded.
      const lastT = this.buffer.stats().lastT;
      this.openGap(Math.max(o.resumedAfter.since, lastT ?? -Infinity), o.resumedAfter.reason);
    }
    // Killed while tags could not be read: their gaps end where the whole source's begins (the new connection says anew what it cannot read).
    for (const [i, { start, gap }] of leftOpen) {
      const end = Math.max(start, this.gapSince ?? Date.now());
      this.buffer.gapEnd(end, i);
      setEnd(gap, end);
    }
  }

  private toGap(start: number, end: number | null, reason: string, tag: number | null): HeldGap {
    return { start, end, view: gapView({ start, end, reason, tag }, this.o.tags) };
  }

  private openGap(since: number, reason: string): void {
    if (this.gapSince !== null) return;
    this.gapSince = since;
    this.buffer.gapStart(since, reason, null);
    this.sourceGap = this.toGap(since, null, reason, null);
    this.gapList.push(this.sourceGap);
  }

  private closeGap(at: number): void {
    if (this.gapSince === null) return;
    this.buffer.gapEnd(at, null);
    if (this.sourceGap) setEnd(this.sourceGap, at);
    this.sourceGap = null;
    this.gapSince = null;
  }

  /** Tag `i`'s values cannot be read from `since` on. */
  private openTagGap(i: number, since: number, reason: string): void {
    if (this.tagGaps.has(i)) return;
    this.buffer.gapStart(since, reason, i);
    const gap = this.toGap(since, null, reason, i);
    this.tagGaps.set(i, gap);
    this.gapList.push(gap);
  }

  /** Tag `i` can be read again at `at`: its gap ends, and its first value after is recorded no earlier. */
  private closeTagGap(i: number, at: number): void {
    const gap = this.tagGaps.get(i);
    if (!gap) return;
    const end = Math.max(at, gap.start);
    this.buffer.gapEnd(end, i);
    setEnd(gap, end);
    this.tagGaps.delete(i);
    this.fresh[i] = true;
    this.freshFrom[i] = end;
  }

  /** The source says which picked tags' values arrive but cannot be read (an empty list: all can again). */
  private onUnreadable(now: UnreadableTags[], readable: string[], gen: number): void {
    if (this.stopped || gen !== this.generation) return;
    const at = Date.now();
    const affected = new Map<number, UnreadableTags>();
    for (const u of now) {
      for (const id of u.tags) {
        const i = this.index.get(id);
        if (i !== undefined && !affected.has(i)) affected.set(i, u);
      }
    }
    const born = new Set(readable.map((id) => this.index.get(id)).filter((i) => i !== undefined));
    // A gap ends when this connection stops listing its tag, or the tag's birth came.
    for (const i of [...this.tagGaps.keys()]) if (!affected.has(i) && (this.listed.has(i) || born.has(i))) this.closeTagGap(i, at);
    for (const [i, u] of affected) this.openTagGap(i, Math.max(u.since, this.subscribedAt), u.reason);
    this.listed = new Set(affected.keys());
    this.reported = now
      .map((u) => ({ message: u.message, advice: u.advice, tags: u.tags.map((id) => this.index.get(id)).filter((i): i is number => i !== undefined) }))
      .filter((u) => u.tags.length > 0);
    this.publish();
  }

  /** The recording stops: tag gaps end. */
  private endTagGaps(at: number): void {
    for (const i of [...this.tagGaps.keys()]) this.closeTagGap(i, at);
    this.reported = [];
    this.carried = [];
  }

  /** The buffer cannot write: say so (a full disk, most often); samples wait in memory and are written when it can again. */
  private diskError(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOSPC' || code === 'EDQUOT' || err instanceof DiskFullError ? 'the disk holding the workspace is full' : `the recording cannot be written to disk (${err.message})`;
    this.diskProblem = `Not recording: ${why}. Free some space; samples received meanwhile are kept in memory and written when it can.`;
    this.publish();
  }

  /** Everything that waited in memory is written: the state is the connection's again. */
  private diskRecovered(): void {
    this.diskProblem = null;
    this.publish();
  }

  /** The connection's state; shown unless the disk has a problem, which is said first. */
  private setStatus(state: RecordingState, message: string): void {
    this.connStatus = { state, message };
    this.publish();
  }

  private publish(): void {
    const next = this.diskProblem ? { state: 'failed' as const, message: this.diskProblem } : this.connStatus.state === 'recording' ? (this.unreadableStatus() ?? this.connStatus) : this.connStatus;
    if (this.status.state === next.state && this.status.message === next.message) return;
    this.status = next;
    this.o.onStatus(this.status);
  }

  /**
   * Still recording, what can be read; the message says first what is not
   * being recorded, from what this connection reports and what earlier ones
   * did about tags whose gaps are still open and this one does not list (a
   * silent node): each part's facts (which part, since when), then what to
   * do, once. Null when no tag gap is open.
   */
  private unreadableStatus(): RecorderStatus | null {
    this.carried = this.carried.filter((p) => p.tags.some((i) => this.tagGaps.has(i) && !this.listed.has(i)));
    const parts = [...this.reported, ...this.carried];
    if (!this.tagGaps.size || !parts.length) return null;
    const message = [...parts.map((u) => u.message), ...new Set(parts.map((u) => u.advice))].join(' ');
    const rest = this.o.tags.length - this.tagGaps.size;
    return { state: 'recording', message: rest > 0 ? `${message} The other ${rest === 1 ? 'tag is' : `${rest} tags are`} being recorded.` : message };
  }

  get state(): RecorderStatus {
    return this.status;
  }

  start(): void {
    this.attempt = this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    let conn: DriverConnection | null = null;
    try {
      conn = await this.o.driver.connect({ ...this.o.connectOptions(), onLost: (reason) => this.lost(reason, gen) });
      if (this.stopped || gen !== this.generation) {
        await conn.close();
        return;
      }
      this.conn = conn;
      this.subscribedAt = Date.now();
      this.fresh.fill(true);
      this.freshFrom.fill(this.subscribedAt);
      const sub = await conn.subscribe(
        this.o.tags,
        this.o.intervalMs,
        (s) => this.sample(s),
        (now, readable) => this.onUnreadable(now, readable, gen),
      );
      if (this.stopped || gen !== this.generation) {
        await sub.close().catch(() => undefined);
        await conn.close().catch(() => undefined);
        return;
      }
      this.sub = sub;
      this.failures = 0;
      this.closeGap(this.subscribedAt);
      this.setStatus('recording', recordingMessage(this.o.tags.length, conn.serverName));
    } catch (e) {
      if (conn) await conn.close().catch(() => undefined);
      // A lost() during this attempt has already scheduled the next one.
      if (this.stopped || gen !== this.generation || this.timer) return;
      this.conn = null;
      this.sub = null;
      const why = e instanceof ConnectError ? e.message : `The connection failed: ${(e as Error).message}`;
      this.retry(why);
    }
  }

  private retry(why: string): void {
    if (this.stopped || this.timer) return;
    this.generation++;
    this.failures++;
    const delay = reconnectDelayMs(this.failures);
    const now = Date.now();
    // Tag gaps stay open: the next connection has not seen the births either, until it says otherwise (a report, a birth, a good value).
    this.listed = new Set();
    // Still said once connected again: the tags stay unreadable until a birth or a good value shows otherwise.
    this.carried = [...this.carried, ...this.reported];
    this.reported = [];
    this.openGap(now, why);
    this.setStatus('reconnecting', `${why.replace(/\.?$/, '.')} Trying again in ${fmtDelay(delay)} (attempt ${this.failures + 1}).`);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.attempt = this.connect();
    }, delay);
  }

  private lost(reason: string, gen: number): void {
    if (this.stopped || gen !== this.generation) return;
    const conn = this.conn;
    this.conn = null;
    this.sub = null;
    void conn?.close().catch(() => undefined);
    const why = reason.replace(/\.$/, '');
    this.retry(/^lost the connection/i.test(why) ? why : `Lost the connection: ${why}`);
  }

  private sample(s: Sample): void {
    const i = this.index.get(s.tag);
    if (i === undefined || this.stopped) return;
    // A good value of a tag whose gap was carried over from an earlier connection: it can be read again.
    if (s.quality === 'good' && this.tagGaps.has(i) && !this.listed.has(i)) {
      this.closeTagGap(i, Date.now());
      // A part whose tags can all be read again is no longer said; none left, no warning.
      this.publish();
    }
    if (this.fresh[i]) {
      this.fresh[i] = false;
      if (s.t < this.freshFrom[i]!) s = { ...s, t: this.freshFrom[i]! };
    }
    this.buffer.append({ t: s.t, tag: i, value: s.value, quality: s.quality });
    const r = this.rings[i]!;
    r.t[r.head] = s.t;
    r.v[r.head] = s.value ?? NaN;
    r.head = (r.head + 1) % RING;
    r.n = Math.min(RING, r.n + 1);
    r.samples++;
    r.last = { tag: s.tag, value: s.value, text: s.value === null ? null : String(s.value), quality: s.quality, at: new Date(s.t).toISOString() };
  }

  /** The newest `points` values of each tag, oldest first. */
  live(points: number): { id: string; name: string; samples: number; last: LiveValue | null; spark: { t: number; v: number | null }[] }[] {
    return this.o.tags.map((tag, i) => {
      const r = this.rings[i]!;
      const k = Math.min(points, r.n);
      const spark: { t: number; v: number | null }[] = [];
      for (let j = k; j > 0; j--) {
        const at = (r.head - j + RING) % RING;
        const v = r.v[at]!;
        spark.push({ t: r.t[at]!, v: Number.isNaN(v) ? null : v });
      }
      return { id: tag.id, name: tag.name, samples: r.samples, last: r.last, spark };
    });
  }

  gaps(): RecordingGap[] {
    return this.gapList.map((g) => g.view);
  }

  /** The gaps recordings.live sends (see liveGaps) and how many there are in all; `windows` by tag id. */
  liveGaps(windows: ReadonlyMap<string, SparkWindow>): { gaps: RecordingGap[]; total: number } {
    return { gaps: liveGaps(this.gapList, windows, (g) => g.view.tagId).map((g) => g.view), total: this.gapList.length };
  }

  stats(): BufferStats {
    return this.buffer.stats();
  }

  /** Stops for good: unsubscribes, disconnects, flushes and closes the buffer. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.attempt?.catch(() => undefined);
    const sub = this.sub;
    const conn = this.conn;
    this.sub = null;
    this.conn = null;
    await sub?.close().catch(() => undefined);
    await conn?.close().catch(() => undefined);
    const now = Date.now();
    this.endTagGaps(now);
    this.closeGap(now);
    this.buffer.close();
  }
}

function setEnd(g: HeldGap, end: number): void {
  g.end = end;
  g.view.end = new Date(end).toISOString();
}

/** The time a tag's sparkline spans: its earliest and latest point. */
export interface SparkWindow {
  from: number;
  to: number;
}

/**
 * The gaps the recording page needs, in the list's order (oldest first), each once: the newest
 * `newest` for the table, and every older gap that falls inside a sparkline, so the line breaks
 * there (as breakAtGaps does: a tag's own gaps within its window, gaps of the whole source within
 * any tag's; a gap still going lasts until now). Each tag has its own window: a tag that went quiet
 * weeks ago keeps its old points, and one window for all would take in every gap since. A long
 * recording on a flaky network has tens of thousands of gaps; sending them all every second is
 * what this avoids. `tagOf` gives a gap's tag id, null for the whole source.
 */
export function liveGaps<G extends { start: number; end: number | null }>(
  gaps: readonly G[],
  windows: ReadonlyMap<string, SparkWindow>,
  tagOf: (g: G) => string | null,
  newest = GAP_ROWS,
): G[] {
  const cut = Math.max(0, gaps.length - newest);
  const all = [...windows.values()];
  const crosses = (g: G, w: SparkWindow) => g.start <= w.to && (g.end === null || g.end >= w.from);
  const out: G[] = [];
  for (let i = 0; i < cut; i++) {
    const g = gaps[i]!;
    const tag = tagOf(g);
    const own = tag === null ? undefined : windows.get(tag);
    if (tag === null ? all.some((w) => crosses(g, w)) : own !== undefined && crosses(g, own)) out.push(g);
  }
  for (let i = cut; i < gaps.length; i++) out.push(gaps[i]!);
  return out;
}

/** A gap as the app shows it: ISO times, the tag by name and by id (a buffer's gaps name it by index). */
export function gapView(g: GapMark, tags: readonly Tag[]): RecordingGap {
  const tag = g.tag === null ? undefined : tags[g.tag];
  return {
    start: new Date(g.start).toISOString(),
    end: g.end === null ? null : new Date(g.end).toISOString(),
    reason: g.reason,
    tag: tag?.name ?? null,
    tagId: tag?.id ?? null,
  };
}
