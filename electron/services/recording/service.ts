/**
 * Live plant data (issue 10): sources, connections for browsing, and the
 * recordings running in this process.
 *
 * Recordings run on this event loop (a few hundred samples a second at most
 * is light work), each writing to its own buffer in recordings/<id>/. The
 * database row of a running recording is refreshed every few seconds; a
 * recording whose process is gone was interrupted, and its counts are taken
 * from the buffer. The desktop app goes on with the recordings it started
 * when it starts again; the CLI's recordings end with the command.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AppEvent, JobInfo, RecordingOverview } from '../../../shared/api';
import { AppError } from '../../../shared/errors';
import {
  ACTIVE_RECORDING_STATES,
  SourceSettingsSchema,
  type BrowseResult,
  type ConnectResult,
  type LiveValue,
  type Recording,
  type RecordingLive,
  type RecordingState,
  type Source,
  type SourceSettings,
  type Tag,
} from '../../../shared/recording';
import { logInternal } from '../api/dispatch';
import { isMissingToken } from '../datasets/import/numbers';
import type { JobManager } from '../jobs/job-manager';
import type { Workspace } from '../workspace/workspace';
import { readGaps, readGapsKept, scanBuffer, tailBuffer, type BufferStats } from './buffer';
import { ConnectError, type ConnectOptions, type Driver, type DriverConnection } from './driver';
import { bufferOverview } from './overview';
import { gapView, liveGaps, Recorder, type SparkWindow } from './recorder';
import { workspaceKeySealer, type Sealer } from './secrets';
import { SourceStore, type SourceAccess } from './sources';

/** How often a running recording's row is refreshed. */
const SAVE_EVERY_MS = 2000;
/** The longest delay setTimeout keeps (2^31-1 ms). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** A browse connection unused this long is closed. */
const IDLE_MS = 60_000;

interface RecordingRow {
  id: number;
  name: string;
  source_id: number | null;
  source_name: string;
  kind: 'opcua' | 'mqtt';
  url: string;
  settings: string;
  tags: string;
  interval_ms: number;
  duration_ms: number | null;
  state: RecordingState;
  message: string;
  started_at: string;
  ends_at: string | null;
  stopped_at: string | null;
  started_by: string;
  owner_pid: number | null;
  resume: number;
  samples: number;
  gaps: number;
  first_sample_at: string | null;
  last_sample_at: string | null;
  bytes: number;
}

export interface RecordingServiceOptions {
  ws: Workspace;
  jobs: JobManager;
  emit: (e: AppEvent) => void;
  /** Seals new passwords (Electron safeStorage in the app); the workspace key is always there to open old ones and as the fallback. */
  sealer?: Sealer | null;
  /** True in the desktop app and server mode: recordings it starts go on after a restart, and it goes on with them. */
  resume?: boolean;
  /** Drivers by kind (tests may pass their own); default the OPC UA and MQTT drivers, loaded on first use. */
  drivers?: Partial<Record<'opcua' | 'mqtt', Driver>>;
  /** Passed to each recorder's buffer (tests). */
  buffer?: { flushMs?: number; syncMs?: number };
}

/** Each tag's sparkline window by tag id, over every point (a buffer may hold a value stamped before the one written ahead of it); tags without points have none. */
function sparkWindows(tags: readonly { id: string; spark: readonly { t: number }[] }[]): Map<string, SparkWindow> {
  const out = new Map<string, SparkWindow>();
  for (const { id, spark } of tags) {
    if (!spark.length) continue;
    let from = Infinity;
    let to = -Infinity;
    for (const p of spark) {
      if (p.t < from) from = p.t;
      if (p.t > to) to = p.t;
    }
    out.set(id, { from, to });
  }
  return out;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function pidAlive(pid: number | null): boolean {
  if (!pid) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A connection result in the contract's words. */
function failure(e: unknown): ConnectResult {
  if (e instanceof ConnectError) return { ok: false, problem: e.problem, message: e.message, certificate: e.certificate, serverName: null };
  if (e instanceof AppError) return { ok: false, problem: 'other', message: e.message, certificate: null, serverName: null };
  return { ok: false, problem: 'other', message: `The connection failed: ${(e as Error).message}`, certificate: null, serverName: null };
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
};

export class RecordingService {
  readonly sources: SourceStore;
  private readonly running = new Map<number, { recorder: Recorder; timer: NodeJS.Timeout; end: NodeJS.Timeout | null; last: string }>();
  private readonly browsing = new Map<number, { conn: Promise<DriverConnection>; used: number; timer: NodeJS.Timeout }>();
  private readonly drivers: Partial<Record<'opcua' | 'mqtt', Driver>>;
  /** Recordings being stopped now: finished() waits for their row to be final. */
  private readonly stopping = new Map<number, Promise<unknown>>();
  private closed = false;

  constructor(private readonly o: RecordingServiceOptions) {
    const key = workspaceKeySealer(path.join(o.ws.dir, 'keys'));
    this.sources = new SourceStore(o.ws, o.sealer ? [o.sealer, key] : [key]);
    this.drivers = { ...(o.drivers ?? {}) };
  }

  private get dir(): string {
    return path.join(this.o.ws.dir, 'recordings');
  }

  private async driver(kind: 'opcua' | 'mqtt'): Promise<Driver> {
    let d = this.drivers[kind];
    if (!d) {
      d = kind === 'opcua' ? (await import('./opcua')).opcuaDriver : (await import('./mqtt')).mqttDriver;
      this.drivers[kind] = d;
    }
    return d;
  }

  private options(access: SourceAccess): ConnectOptions {
    return { settings: access.settings, password: access.password, pkiDir: this.sources.pkiDir, trusted: this.sources.trusted() };
  }

  /** Marks what other processes left active and is gone; goes on with the app's own recordings when `resume`. */
  recover(): void {
    const rows = this.o.ws.db.prepare(`SELECT * FROM recordings WHERE state IN ('connecting', 'recording', 'reconnecting') OR (state = 'interrupted' AND resume = 1)`).all() as RecordingRow[];
    for (const r of rows) {
      if (r.state !== 'interrupted' && pidAlive(r.owner_pid)) continue;
      const ended = r.ends_at !== null && Date.parse(r.ends_at) <= Date.now();
      if (this.o.resume && r.resume === 1 && !ended && r.source_id !== null) {
        try {
          this.launch(r, { since: r.last_sample_at ? Date.parse(r.last_sample_at) : Date.parse(r.started_at), reason: 'Millwright was not running.' });
          continue;
        } catch (e) {
          logInternal(this.o.ws.logDir, 'recordings.resume', e);
        }
      }
      if (r.state === 'interrupted') continue;
      const st = this.scan(r.id);
      this.o.ws.db
        .prepare('UPDATE recordings SET state = ?, message = ?, owner_pid = NULL, stopped_at = COALESCE(stopped_at, ?), samples = ?, gaps = ?, bytes = ?, first_sample_at = ?, last_sample_at = ? WHERE id = ?')
        .run(
          ended ? 'stopped' : 'interrupted',
          ended
            ? 'Millwright was not running when the recording was due to end; everything recorded before is kept.'
            : `Millwright stopped while recording${st.lastT !== null ? ` (last sample ${new Date(st.lastT).toISOString()})` : ''}; everything recorded before is kept.`,
          iso(st.lastT) ?? new Date().toISOString(),
          st.samples,
          st.gaps.length,
          st.bytes,
          iso(st.firstT),
          iso(st.lastT),
          r.id,
        );
    }
  }

  private scan(id: number): BufferStats {
    const dir = path.join(this.dir, String(id));
    return fs.existsSync(dir) ? scanBuffer(dir) : { samples: 0, bytes: 0, firstT: null, lastT: null, gaps: [] };
  }

  // ------------------------------------------------------------ sources

  listSources(): Source[] {
    return this.sources.list();
  }

  saveSource(a: { id?: number; name: string; settings: SourceSettings; password?: string | null }): Source {
    const saved = this.sources.save(a);
    // A browse connection made with the old address or password must not serve the new settings.
    void this.dropBrowse(saved.id);
    return saved;
  }

  async removeSource(id: number): Promise<{ ok: true }> {
    const busy = [...this.running.keys()].map((rid) => this.row(rid)).find((r) => r.source_id === id);
    if (busy) throw new AppError('conflict', `"${busy.name}" is recording from this source. Stop it first.`);
    await this.dropBrowse(id);
    this.sources.remove(id);
    return { ok: true };
  }

  private accessOf(a: { source?: number; settings?: SourceSettings; password?: string }): SourceAccess {
    if (a.source !== undefined) {
      const acc = this.sources.access(a.source);
      return { ...acc, settings: a.settings ?? acc.settings, password: a.password ?? acc.password };
    }
    if (!a.settings) throw new AppError('bad_input', 'Give a saved source or the settings to connect with.', 'settings');
    return { id: null, name: hostOf(a.settings.url), settings: SourceSettingsSchema.parse(a.settings), password: a.password };
  }

  async test(a: { source?: number; settings?: SourceSettings; password?: string }): Promise<ConnectResult> {
    let access: SourceAccess;
    try {
      access = this.accessOf(a);
    } catch (e) {
      if (e instanceof AppError && e.code === 'bad_input') throw e;
      return failure(e);
    }
    try {
      const conn = await (await this.driver(access.settings.kind)).connect(this.options(access));
      const name = conn.serverName;
      await conn.close();
      const security = access.settings.kind === 'opcua' && access.settings.securityMode !== 'none' ? `, ${access.settings.securityMode === 'sign' ? 'signed' : 'signed and encrypted'}` : '';
      return { ok: true, problem: null, message: `Connected to ${name ?? hostOf(access.settings.url)}${security}.`, certificate: null, serverName: name };
    } catch (e) {
      const r = failure(e);
      if (r.problem === 'untrusted_certificate' && r.certificate) {
        const d = this.sources.decision(r.certificate.thumbprint);
        if (d && !d.trusted) r.message = `${d.decidedBy} chose not to trust this server's certificate on ${d.decidedAt.slice(0, 10)}. ${r.message}`;
      }
      return r;
    }
  }

  /** Records a person's decision about the certificate the server presents now (it must be the one they saw). */
  async trust(a: { source?: number; settings?: SourceSettings; thumbprint: string; trust: boolean }): Promise<ConnectResult> {
    const access = this.accessOf(a);
    if (access.settings.kind !== 'opcua') throw new AppError('bad_input', 'Only OPC UA servers present certificates to trust here; for an MQTT broker add its CA certificate under Advanced.', 'settings');
    const first = await this.test({ settings: access.settings, password: access.password });
    const cert = first.certificate;
    if (first.problem !== 'untrusted_certificate' || !cert) {
      if (first.ok) return first;
      throw new AppError('conflict', `The server did not present a certificate to decide about: ${first.message}`);
    }
    const bare = (t: string) => t.replace(/[^0-9a-f]/gi, '').toUpperCase();
    if (bare(cert.thumbprint) !== bare(a.thumbprint)) {
      throw new AppError('conflict', `The server now presents another certificate (thumbprint ${cert.thumbprint}) than the one shown (${a.thumbprint}). Look at it again before deciding.`, 'thumbprint');
    }
    this.sources.decide(cert, access.settings.url, a.trust);
    await this.dropBrowse(access.id);
    return a.trust ? this.test({ settings: access.settings, password: access.password }) : { ...first, message: "You chose not to trust this server's certificate, so Millwright will not connect to it." };
  }

  // ------------------------------------------------------------ browsing

  private async browseConn(source: number): Promise<DriverConnection> {
    const held = this.browsing.get(source);
    if (held) {
      held.used = Date.now();
      return held.conn;
    }
    const access = this.sources.access(source);
    const driver = await this.driver(access.settings.kind);
    const conn = driver.connect({ ...this.options(access), onLost: () => void this.dropBrowse(source) });
    const timer = setInterval(() => {
      const h = this.browsing.get(source);
      if (h && Date.now() - h.used > IDLE_MS) void this.dropBrowse(source);
    }, 10_000);
    timer.unref();
    this.browsing.set(source, { conn, used: Date.now(), timer });
    conn.catch(() => void this.dropBrowse(source));
    return conn;
  }

  private async dropBrowse(source: number | null): Promise<void> {
    if (source === null) return;
    const h = this.browsing.get(source);
    if (!h) return;
    this.browsing.delete(source);
    clearInterval(h.timer);
    await h.conn.then((c) => c.close()).catch(() => undefined);
  }

  private async withConn<T>(source: number, f: (c: DriverConnection) => Promise<T>): Promise<T> {
    try {
      return await f(await this.browseConn(source));
    } catch (e) {
      if (e instanceof ConnectError) {
        await this.dropBrowse(source);
        throw new AppError('conflict', e.message);
      }
      throw e;
    }
  }

  browse(a: { source: number; parent?: string; search?: string; listenMs?: number }): Promise<BrowseResult> {
    return this.withConn(a.source, (c) => c.browse({ parent: a.parent, search: a.search || undefined, listenMs: a.listenMs }));
  }

  read(a: { source: number; tags: string[] }): Promise<LiveValue[]> {
    return this.withConn(a.source, (c) => c.read(a.tags));
  }

  /**
   * Runs `f` on a connection made for it from settings not saved (the CLI
   * checks tags before it saves anything), closed afterwards.
   */
  async withConnection<T>(a: { settings: SourceSettings; password?: string }, f: (c: DriverConnection) => Promise<T>): Promise<T> {
    const access: SourceAccess = { id: null, name: hostOf(a.settings.url), settings: a.settings, password: a.password };
    let conn: DriverConnection;
    try {
      conn = await (await this.driver(a.settings.kind)).connect(this.options(access));
    } catch (e) {
      if (e instanceof ConnectError) throw new AppError('conflict', e.message);
      throw e;
    }
    try {
      return await f(conn);
    } catch (e) {
      if (e instanceof ConnectError) throw new AppError('conflict', e.message);
      throw e;
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  /**
   * Tags from what a person typed on the command line: OPC UA node ids
   * (ns=1;s=Pump1.Temperature) are taken as they are; anything else is
   * looked up by name or path (Pump1/Temperature). Column names are made
   * unique.
   */
  async resolveTags(conn: DriverConnection, kind: 'opcua' | 'mqtt', texts: string[]): Promise<Tag[]> {
    const out: Tag[] = [];
    for (const text of texts) {
      const t = text.trim();
      if (!t) continue;
      if (kind === 'mqtt' || /^(ns=\d+;)?[isgb]=/.test(t)) {
        out.push({ id: t, name: tagName(t) });
        continue;
      }
      const found = await conn.browse({ search: t.split('/').pop()! });
      const want = t.toLowerCase();
      const hit = found.nodes.find((n) => n.kind === 'variable' && (n.path.toLowerCase() === want || n.path.toLowerCase().endsWith(`/${want}`))) ?? found.nodes.find((n) => n.kind === 'variable' && n.name.toLowerCase() === want);
      if (!hit) throw new AppError('bad_input', `The server has no tag "${t}". Give its node id (ns=1;s=…) or its path as the server shows it (Pump1/Temperature).`, 'tags');
      out.push({ id: hit.id, name: hit.path.split('/').slice(-2).join('.'), unit: hit.unit });
    }
    return uniqueNames(out);
  }

  // ------------------------------------------------------------ recordings

  private row(id: number): RecordingRow {
    const r = this.o.ws.db.prepare('SELECT * FROM recordings WHERE id = ?').get(id) as RecordingRow | undefined;
    if (!r) throw new AppError('not_found', `There is no recording number ${id}.`);
    return r;
  }

  private toRecording(r: RecordingRow): Recording {
    const datasets = this.o.ws.db
      .prepare(
        `SELECT d.name, v.version FROM recording_datasets rd JOIN dataset_versions v ON v.id = rd.version_id JOIN datasets d ON d.id = v.dataset_id
         WHERE rd.recording_id = ? ORDER BY v.id`,
      )
      .all(r.id) as { name: string; version: number }[];
    const live = this.running.get(r.id);
    let counts = { samples: r.samples, gaps: r.gaps, bytes: r.bytes, first: r.first_sample_at, last: r.last_sample_at };
    let state = r.state;
    let message = r.message;
    if (live) {
      const st = live.recorder.stats();
      counts = { samples: st.samples, gaps: st.gaps.length, bytes: st.bytes, first: iso(st.firstT), last: iso(st.lastT) };
      ({ state, message } = live.recorder.state);
    }
    return {
      id: r.id,
      name: r.name,
      source: { id: r.source_id, name: r.source_name, kind: r.kind, url: r.url },
      tags: JSON.parse(r.tags) as Tag[],
      intervalMs: r.interval_ms,
      durationMs: r.duration_ms,
      state,
      message,
      startedAt: r.started_at,
      endsAt: r.ends_at,
      stoppedAt: r.stopped_at,
      startedBy: r.started_by,
      samples: counts.samples,
      gaps: counts.gaps,
      firstSampleAt: counts.first,
      lastSampleAt: counts.last,
      bytes: counts.bytes,
      datasets,
    };
  }

  list(): Recording[] {
    return (this.o.ws.db.prepare('SELECT * FROM recordings ORDER BY id DESC').all() as RecordingRow[]).map((r) => this.toRecording(r));
  }

  get(id: number): Recording {
    return this.toRecording(this.row(id));
  }

  start(a: { source: number; name?: string; tags: Tag[]; intervalMs: number; durationMs?: number | null }): Recording {
    if (this.closed) throw new AppError('conflict', 'Millwright is closing.');
    const src = this.sources.get(a.source);
    const tags = a.tags.map((t) => ({ ...t, name: t.name.trim() }));
    const seenIds = new Set<string>();
    const seenNames = new Set<string>();
    for (const t of tags) {
      if (seenIds.has(t.id)) throw new AppError('bad_input', `The tag ${t.id} is picked twice.`, 'tags');
      if (seenNames.has(t.name.toLowerCase())) throw new AppError('bad_input', `Two tags would become the column "${t.name}". Give them different names.`, 'tags');
      if (/^time$/i.test(t.name)) throw new AppError('bad_input', `"${t.name}" is the name of the time column; give the tag ${t.id} another name.`, 'tags');
      if (isMissingToken(t.name)) throw new AppError('bad_input', `"${t.name}" would be read as a missing value; give the tag ${t.id} another name.`, 'tags');
      seenIds.add(t.id);
      seenNames.add(t.name.toLowerCase());
    }
    const now = new Date();
    const name = a.name?.trim() || `${src.name} ${now.toISOString().slice(0, 16).replace('T', ' ')}`;
    const endsAt = a.durationMs ? new Date(now.getTime() + a.durationMs).toISOString() : null;
    const id = this.o.ws.db.transaction(() => {
      const rid = Number(
        this.o.ws.db
          .prepare(
            `INSERT INTO recordings (name, source_id, source_name, kind, url, settings, tags, interval_ms, duration_ms, state, message, started_at, ends_at, started_by, owner_pid, resume)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'connecting', 'Connecting to the source.', ?, ?, ?, ?, ?)`,
          )
          .run(name, src.id, src.name, src.settings.kind, src.settings.url, JSON.stringify(src.settings), JSON.stringify(tags), a.intervalMs, a.durationMs ?? null, now.toISOString(), endsAt, this.o.ws.who, process.pid, this.o.resume ? 1 : 0).lastInsertRowid,
      );
      this.o.ws.audit.record('recording.start', { id: rid, name, source: src.name, url: src.settings.url, tags: tags.map((t) => t.id), intervalMs: a.intervalMs, durationMs: a.durationMs ?? null });
      return rid;
    })();
    this.launch(this.row(id), null);
    return this.get(id);
  }

  private launch(r: RecordingRow, resumedAfter: { since: number; reason: string } | null): void {
    const dir = path.join(this.dir, String(r.id));
    const tags = JSON.parse(r.tags) as Tag[];
    const recorder = new Recorder({
      dir,
      tags,
      intervalMs: r.interval_ms,
      driver: {
        connect: async (opts) => (await this.driver(r.kind)).connect(opts),
      },
      connectOptions: () => this.options(this.sources.access(r.source_id!)),
      onStatus: () => this.persist(r.id),
      resumedAfter,
      buffer: this.o.buffer,
    });
    const timer = setInterval(() => this.persist(r.id), SAVE_EVERY_MS);
    timer.unref();
    const entry: { recorder: Recorder; timer: NodeJS.Timeout; end: NodeJS.Timeout | null; last: string } = { recorder, timer, end: null, last: '' };
    if (r.ends_at) {
      const endsAt = Date.parse(r.ends_at);
      // setTimeout takes at most 2^31-1 ms (24.8 days): a longer recording re-arms until its end.
      const arm = () => {
        const left = endsAt - Date.now();
        entry.end =
          left > MAX_TIMEOUT_MS
            ? setTimeout(arm, MAX_TIMEOUT_MS)
            : setTimeout(() => void this.stop({ id: r.id }, 'done').catch((e: unknown) => logInternal(this.o.ws.logDir, 'recordings.end', e)), Math.max(0, left));
      };
      arm();
    }
    this.running.set(r.id, entry);
    this.o.ws.db.prepare("UPDATE recordings SET state = 'connecting', owner_pid = ?, stopped_at = NULL WHERE id = ?").run(process.pid, r.id);
    recorder.start();
  }

  /** Writes a running recording's state and counts to its row; tells the windows when the state changed. */
  private persist(id: number): void {
    const live = this.running.get(id);
    if (!live) return;
    const st = live.recorder.stats();
    const { state, message } = live.recorder.state;
    try {
      this.o.ws.db
        .prepare('UPDATE recordings SET state = ?, message = ?, samples = ?, gaps = ?, bytes = ?, first_sample_at = ?, last_sample_at = ? WHERE id = ?')
        .run(state, message, st.samples, st.gaps.length, st.bytes, iso(st.firstT), iso(st.lastT), id);
    } catch (e) {
      logInternal(this.o.ws.logDir, 'recordings.persist', e);
    }
    const key = `${state}|${message}`;
    if (key !== live.last) {
      live.last = key;
      this.o.emit({ type: 'recording', id });
    }
  }

  async stop(a: { id: number }, why: 'asked' | 'done' | 'closing' = 'asked'): Promise<Recording> {
    const r = this.row(a.id);
    const live = this.running.get(a.id);
    const pending = this.stopping.get(a.id);
    if (pending) return (await pending) as Recording;
    if (!live) {
      if (ACTIVE_RECORDING_STATES.includes(r.state) && r.owner_pid !== process.pid && pidAlive(r.owner_pid)) {
        throw new AppError('conflict', `"${r.name}" is being recorded by another Millwright process (pid ${r.owner_pid}), e.g. a "millwright record" command. Stop it there.`);
      }
      return this.get(a.id);
    }
    this.running.delete(a.id);
    const done = this.finishStop(a.id, r, live, why);
    this.stopping.set(a.id, done);
    try {
      return await done;
    } finally {
      this.stopping.delete(a.id);
    }
  }

  private async finishStop(id: number, r: RecordingRow, live: { recorder: Recorder; timer: NodeJS.Timeout; end: NodeJS.Timeout | null }, why: 'asked' | 'done' | 'closing'): Promise<Recording> {
    const a = { id };
    clearInterval(live.timer);
    if (live.end) clearTimeout(live.end);
    await live.recorder.stop();
    const st = live.recorder.stats();
    const state: RecordingState = why === 'closing' && r.resume === 1 ? 'interrupted' : 'stopped';
    const message =
      why === 'done'
        ? 'Recorded for as long as asked.'
        : why === 'closing'
          ? r.resume === 1
            ? 'Paused when Millwright closed; it goes on when Millwright starts again.'
            : 'Stopped when the command ended.'
          : `Stopped by ${this.o.ws.who}.`;
    this.o.ws.db.transaction(() => {
      this.o.ws.db
        .prepare('UPDATE recordings SET state = ?, message = ?, stopped_at = ?, owner_pid = NULL, samples = ?, gaps = ?, bytes = ?, first_sample_at = ?, last_sample_at = ? WHERE id = ?')
        .run(state, message, new Date().toISOString(), st.samples, st.gaps.length, st.bytes, iso(st.firstT), iso(st.lastT), a.id);
      if (why !== 'closing') this.o.ws.audit.record('recording.stop', { id: a.id, name: r.name, samples: st.samples, why });
    })();
    this.o.emit({ type: 'recording', id: a.id });
    return this.get(a.id);
  }

  /** Resolves when the recording is no longer running in this process (its duration ended or it was stopped). */
  async finished(id: number): Promise<Recording> {
    while (this.running.has(id)) await new Promise((r) => setTimeout(r, 100));
    await this.stopping.get(id)?.catch(() => undefined);
    return this.get(id);
  }

  live(a: { id: number; points: number }): RecordingLive {
    const recording = this.get(a.id);
    const running = this.running.get(a.id);
    // Only the gaps the page shows or breaks its sparklines at, with the count of all: a recording on a flaky network has tens of thousands.
    if (running) {
      const live = running.recorder.live(a.points);
      const { gaps, total } = running.recorder.liveGaps(sparkWindows(live));
      return { recording, tags: live, gaps, gapsTotal: total };
    }
    const dir = path.join(this.dir, String(a.id));
    const tags = recording.tags;
    const tail = fs.existsSync(dir) ? tailBuffer(dir, tags.length, a.points) : tags.map(() => []);
    // The gaps file alone: scanning the buffer would read every segment's summary for counts not shown here.
    const gaps = readGapsKept(dir);
    const liveTags = tags.map((t, i) => {
      const pts = tail[i] ?? [];
      const last = pts[pts.length - 1];
      return {
        id: t.id,
        name: t.name,
        samples: pts.length,
        last: last ? { tag: t.id, value: last.value, text: last.value === null ? null : String(last.value), quality: last.quality, at: new Date(last.t).toISOString() } : null,
        spark: pts.map((p) => ({ t: p.t, v: p.value })),
      };
    });
    return {
      recording,
      tags: liveTags,
      gaps: liveGaps(gaps, sparkWindows(liveTags), (g) => (g.tag === null ? null : (tags[g.tag]?.id ?? ''))).map((g) => gapView(g, tags)),
      gapsTotal: gaps.length,
    };
  }

  /** The whole recording as min and max per tag in time buckets, for the trend "Save as dataset" draws (a long one read in spaced stretches). */
  async overview(a: { id: number; points: number; tag?: string }): Promise<RecordingOverview> {
    const recording = this.get(a.id);
    const tags = recording.tags;
    const only = a.tag === undefined ? null : tags.findIndex((t) => t.id === a.tag);
    if (only === -1) throw new AppError('not_found', `"${recording.name}" does not record the tag ${a.tag}.`, 'tag');
    const dir = path.join(this.dir, String(a.id));
    const running = this.running.get(a.id);
    try {
      running?.recorder.buffer.flush();
    } catch {
      // The disk refuses (full): what waits in memory is left out of the trend; the recording page says why.
    }
    // The row's span (a running recording's own counts): counting it from the buffer would read its last segment whole.
    const st = running?.recorder.stats();
    const first = st ? st.firstT : recording.firstSampleAt ? Date.parse(recording.firstSampleAt) : null;
    const last = st ? st.lastT : recording.lastSampleAt ? Date.parse(recording.lastSampleAt) : null;
    // A missing folder reads as an empty buffer.
    const ov = await bufferOverview(dir, { tags: tags.length, points: a.points, only, span: first !== null && last !== null ? { first, last } : null });
    const gaps = running ? running.recorder.gaps() : readGaps(dir).map((g) => gapView(g, tags));
    return { tags: ov.tags.map((o) => ({ id: tags[o.tag]!.id, name: tags[o.tag]!.name, points: o.points })), gaps, sampled: ov.sampled };
  }

  save(a: { id: number; name: string; description?: string; from?: string; to?: string; intervalMs?: number; aggregate: 'mean' | 'last' }): JobInfo {
    const r = this.row(a.id);
    const live = this.running.get(a.id);
    live?.recorder.buffer.flush();
    const st = live ? live.recorder.stats() : this.scan(a.id);
    if (st.samples === 0 || st.firstT === null || st.lastT === null) throw new AppError('bad_input', `"${r.name}" has no samples yet. Wait until values come in, then save.`);
    const time = (text: string | undefined, fallback: number, field: string) => {
      if (text === undefined || text === '') return fallback;
      const t = Date.parse(text);
      if (!Number.isFinite(t)) throw new AppError('bad_input', `"${text}" is not a date and time (use 2026-11-26T10:00:00Z).`, field);
      return t;
    };
    const from = time(a.from, st.firstT, 'from');
    const to = time(a.to, st.lastT, 'to');
    if (to < from) throw new AppError('bad_input', 'The end of the range is before its start.', 'to');
    const intervalMs = a.intervalMs ?? r.interval_ms;
    if ((to - from) / intervalMs > 20_000_000) throw new AppError('bad_input', `An interval of ${intervalMs} ms over this range gives more than 20 million rows. Choose a longer interval or a shorter range.`, 'intervalMs');
    const tags = JSON.parse(r.tags) as Tag[];
    // The job writes the lineage (source, tags, range, grid) after the person's own description.
    const description = a.description ?? '';
    return this.o.jobs.start('recordings.save', {
      recordingId: r.id,
      dir: path.join(this.dir, String(r.id)),
      tags,
      from,
      to,
      intervalMs,
      aggregate: a.aggregate,
      name: a.name,
      description,
      source: { kind: r.kind, url: r.url, name: r.source_name },
    });
  }

  remove(a: { id: number }): { ok: true } {
    const r = this.row(a.id);
    if (this.running.has(a.id) || (ACTIVE_RECORDING_STATES.includes(r.state) && pidAlive(r.owner_pid))) throw new AppError('conflict', `"${r.name}" is still recording. Stop it first.`);
    this.o.ws.db.transaction(() => {
      this.o.ws.db.prepare('DELETE FROM recordings WHERE id = ?').run(a.id);
      this.o.ws.audit.record('recording.remove', { id: a.id, name: r.name, samples: r.samples });
    })();
    fs.rmSync(path.join(this.dir, String(a.id)), { recursive: true, force: true });
    return { ok: true };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.running.keys()]) await this.stop({ id }, 'closing').catch((e: unknown) => logInternal(this.o.ws.logDir, 'recordings.close', e));
    await Promise.allSettled([...this.stopping.values()]);
    for (const id of [...this.browsing.keys()]) await this.dropBrowse(id);
  }
}

/** A column name from a tag id: the last part of an OPC UA string id or MQTT topic and field. */
export function tagName(id: string): string {
  const s = id.replace(/^ns=\d+;[isgb]=/, '');
  const [topic, field] = s.split('#', 2);
  const last = topic!.split('/').filter(Boolean).pop() ?? topic!;
  return (field ? `${last}.${field}` : last).slice(0, 200) || id.slice(0, 200);
}

/** Makes column names unique (Temperature, Temperature 2, …). */
export function uniqueNames(tags: Tag[]): Tag[] {
  const seen = new Set<string>();
  return tags.map((t) => {
    let name = t.name;
    for (let k = 2; seen.has(name.toLowerCase()); k++) name = `${t.name} ${k}`;
    seen.add(name.toLowerCase());
    return { ...t, name };
  });
}
