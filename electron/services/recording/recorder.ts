/**
 * One running recording: a connection to its source, a subscription to its
 * tags, and the buffer on disk the samples go to. When the connection is
 * lost it records a gap and reconnects with backoff (1 s, 2 s, 4 s … 30 s),
 * forever: a plant server that restarts at night must not end a week-long
 * recording. Sparklines come from a small ring of the newest values per tag.
 */
import type { LiveValue, RecordingGap, RecordingState, Tag } from '../../../shared/recording';
import { DiskFullError, RecordingBuffer, type BufferStats } from './buffer';
import { ConnectError, type ConnectOptions, type Driver, type DriverConnection, type Sample, type Subscription } from './driver';

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
  /** The open whole-source gap, if any (start ms). */
  private gapSince: number | null = null;
  private readonly gapList: RecordingGap[] = [];
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
   */
  private subscribedAt = 0;
  private readonly fresh: boolean[];

  constructor(private readonly o: RecorderOptions) {
    this.buffer = RecordingBuffer.open(o.dir, { ...o.buffer, onError: (err) => this.diskError(err), onRecovered: () => this.diskRecovered() });
    o.tags.forEach((t, i) => this.index.set(t.id, i));
    this.fresh = o.tags.map(() => true);
    this.rings = o.tags.map(() => ({ t: new Float64Array(RING), v: new Float64Array(RING), n: 0, head: 0, samples: 0, last: null }));
    for (const g of this.buffer.stats().gaps) {
      this.gapList.push(this.toGap(g.start, g.end, g.reason, g.tag));
      // Killed while reconnecting: that gap is still open and goes on until the next connection.
      if (g.tag === null && g.end === null) this.gapSince = g.start;
    }
    if (o.resumedAfter) {
      // The gap begins at the last sample on disk at the earliest: no value is held into the time nobody recorded.
      const lastT = this.buffer.stats().lastT;
      this.openGap(Math.max(o.resumedAfter.since, lastT ?? -Infinity), o.resumedAfter.reason);
    }
  }

  private toGap(start: number, end: number | null, reason: string, tag: number | null): RecordingGap {
    return { start: new Date(start).toISOString(), end: end === null ? null : new Date(end).toISOString(), reason, tag: tag === null ? null : (this.o.tags[tag]?.name ?? null) };
  }

  private openGap(since: number, reason: string): void {
    if (this.gapSince !== null) return;
    this.gapSince = since;
    this.buffer.gapStart(since, reason, null);
    this.gapList.push(this.toGap(since, null, reason, null));
  }

  private closeGap(at: number): void {
    if (this.gapSince === null) return;
    this.buffer.gapEnd(at, null);
    const g = this.gapList[this.gapList.length - 1];
    if (g && g.end === null) g.end = new Date(at).toISOString();
    this.gapSince = null;
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
    const next = this.diskProblem ? { state: 'failed' as const, message: this.diskProblem } : this.connStatus;
    if (this.status.state === next.state && this.status.message === next.message) return;
    this.status = next;
    this.o.onStatus(this.status);
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
      const sub = await conn.subscribe(this.o.tags, this.o.intervalMs, (s) => this.sample(s));
      if (this.stopped || gen !== this.generation) {
        await sub.close().catch(() => undefined);
        await conn.close().catch(() => undefined);
        return;
      }
      this.sub = sub;
      this.failures = 0;
      this.closeGap(this.subscribedAt);
      this.setStatus('recording', `Recording ${this.o.tags.length} tag${this.o.tags.length === 1 ? '' : 's'} from ${conn.serverName ?? 'the source'}.`);
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
    this.openGap(Date.now(), why);
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
    if (this.fresh[i]) {
      this.fresh[i] = false;
      if (s.t < this.subscribedAt) s = { ...s, t: this.subscribedAt };
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
    return this.gapList.slice();
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
    this.closeGap(Date.now());
    this.buffer.close();
  }
}
