'use strict';
/**
 * What the endpoint keeps on disk, in its state folder: the tokens' digests,
 * the counters, history rows and open monitoring buckets (state.json,
 * replaced atomically at most once a second and at shutdown), the recent
 * anomaly events (events.jsonl) and closed monitoring buckets
 * (buckets.jsonl), both appended and compacted to the newest ones when they
 * grow. Which bundles are installed is in bundles.json (installed.js).
 * The folder's identity is in state-id (see stateIdOf).
 */
const { createHash, randomBytes, timingSafeEqual } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

/** Replaces `file` with `text` so a reader (or a crash) sees the old or the new file, never half of one. */
function writeAtomic(file, text, mode = 0o600) {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** writeAtomic off the event loop, for the periodic saves while requests are served. */
async function writeAtomicAsync(file, text, mode = 0o600) {
  const tmp = `${file}.${process.pid}.tmp`;
  const h = await fs.promises.open(tmp, 'w', mode);
  try {
    await h.writeFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
  await fs.promises.rename(tmp, file);
}

function readJsonFile(file, warn) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch {
    const aside = `${file}.damaged-${Date.now()}`;
    fs.renameSync(file, aside);
    warn(`${file} was damaged; it was moved to ${aside} and the endpoint starts from empty ${path.basename(file)}.`);
    return null;
  }
}

const digest = (token) => createHash('sha256').update(token, 'utf8').digest();

/**
 * The tokens' SHA-256 digests. A token not given is generated, shown once
 * through `show`, and only its digest is kept, so a restart keeps it and the
 * state folder never holds a usable token.
 * @param {string} dir
 * @param {{ token: string | null, adminToken: string | null }} given
 * @param {(role: string, token: string, file: string) => void} show
 * @param {(message: string) => void} warn
 * @returns {{ predict: Buffer, admin: Buffer }}
 */
function resolveTokens(dir, given, show, warn) {
  const file = path.join(dir, 'tokens.json');
  const saved = readJsonFile(file, warn) ?? {};
  const hex = (v) => (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? Buffer.from(v, 'hex') : null);
  let changed = false;
  const one = (role, value, key) => {
    if (value) return digest(value);
    const kept = hex(saved[key]);
    if (kept) return kept;
    const token = randomBytes(32).toString('base64url');
    saved[key] = digest(token).toString('hex');
    changed = true;
    show(role, token, file);
    return digest(token);
  };
  const tokens = { predict: one('predict', given.token, 'tokenSha256'), admin: one('admin', given.adminToken, 'adminTokenSha256') };
  if (changed) writeAtomic(file, `${JSON.stringify({ ...saved, format: 1 }, null, 2)}\n`);
  return tokens;
}

/** True when the Authorization header carries the token whose digest is `expected`; constant time in the token. */
function authorized(header, expected) {
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(typeof header === 'string' ? header : '');
  const ok = timingSafeEqual(digest(m ? m[1] : ''), expected);
  return ok && m !== null;
}

/**
 * One process per state folder: a second endpoint on the same folder would
 * overwrite the first one's counters and history.
 */
function lockStateDir(dir) {
  const file = path.join(dir, 'endpoint.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(`Another endpoint (process ${pid}) uses the state folder ${dir}; give this one its own with --state.`, { cause: e });
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`Cannot lock the state folder ${dir}.`);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Runs of dropped anomaly events' numbers remembered (see SeqLog.dropped). */
const DROPPED_RUNS = 10_000;

/**
 * The newest records (anomaly events, monitoring buckets), in memory and in a
 * .jsonl file, each with a sequence number that a reader can resume from.
 *
 * With `contextCap` (the event log), context events (`flagged: false`, the
 * rows around an anomaly, context.js) have a cap of their own and are
 * dropped only among themselves, oldest first: however many there are, they
 * never push an anomaly out. Anomaly events are dropped only when more than
 * `cap` of them are kept. Dropping either kind leaves holes in the numbers a
 * reader pages through; `lost` says how many events, and how many of them
 * anomalies, were dropped in a range, so a reader can tell a lost anomaly
 * from a lost context row. Without `contextCap` every record counts against
 * `cap` alike.
 */
class SeqLog {
  /**
   * @param {string} dir
   * @param {number} cap records kept (anomaly events only, with contextCap)
   * @param {string} name
   * @param {number} contextCap context events kept besides; 0: they count against `cap` like the others
   */
  constructor(dir, cap = 10_000, name = 'events.jsonl', contextCap = 0) {
    this.file = path.join(dir, name);
    this.cap = cap;
    this.contextCap = contextCap;
    /** @type {Record<string, unknown>[]} oldest first */
    this.events = [];
    /** Records kept in `events`, of each kind. */
    this.count = { main: 0, context: 0 };
    /** Of each kind, every record numbered below this was dropped (and those above kept). */
    this.from = { main: 0, context: 0 };
    /**
     * The anomaly events dropped (with contextCap), as runs [first, last] of
     * their numbers, oldest first; complete above `droppedFrom` (older runs
     * are forgotten past DROPPED_RUNS, and a folder written by an older
     * runtime has none).
     * @type {[number, number][]}
     */
    this.dropped = [];
    this.droppedFrom = 0;
    /** @type {string[]} */
    this.pending = [];
    this.seq = 0;
    this.linesOnDisk = 0;
  }

  /** @param {Record<string, unknown>} e @returns {'main' | 'context'} */
  kindOf(e) {
    return this.contextCap > 0 && e.flagged === false ? 'context' : 'main';
  }

  /** Reads the .jsonl file; a line cut short by a crash is skipped. `saved`: what droppedJSON gave, from state.json. */
  load(savedSeq, saved) {
    let text = '';
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
    const lines = text.split('\n').filter(Boolean);
    this.linesOnDisk = lines.length;
    const known = saved && typeof saved === 'object' && Array.isArray(saved.runs) && Number.isInteger(saved.runsFrom) && saved.from && Number.isInteger(saved.from.main) && Number.isInteger(saved.from.context);
    if (known) {
      this.from = { main: saved.from.main, context: saved.from.context };
      this.dropped = saved.runs.filter((r) => Array.isArray(r) && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] <= r[1]);
      this.droppedFrom = saved.runsFrom;
    }
    for (const line of lines.slice(-2 * (this.cap + this.contextCap))) {
      try {
        const e = JSON.parse(line);
        // Still on disk (the file is compacted only now and then) but dropped before this start: it stays dropped.
        if (Number.isInteger(e.seq) && e.seq >= this.from[this.kindOf(e)]) this.events.push(e);
      } catch {
        // torn write
      }
    }
    // Two writers (the periodic save and a reader's) may have appended out of order.
    this.events.sort((a, b) => /** @type {number} */ (a.seq) - /** @type {number} */ (b.seq));
    for (const e of this.events) this.count[this.kindOf(e)]++;
    this.seq = this.events.reduce((m, e) => Math.max(m, /** @type {number} */ (e.seq)), Number.isInteger(savedSeq) ? savedSeq : 0);
    // A folder from before anomalies were told apart: what is not kept was dropped, of unknown kinds.
    if (!known) this.droppedFrom = this.events.length ? /** @type {number} */ (this.events[0].seq) - 1 : this.seq;
    this.trim(true);
  }

  /** What is needed to tell dropped anomalies from dropped context rows after a restart (for state.json). */
  droppedJSON() {
    return { from: this.from, runs: this.dropped, runsFrom: this.droppedFrom };
  }

  /**
   * Drops the oldest records of a kind over its cap: at once with `exact`
   * (before a read), else only past an eighth more (so adding stays cheap).
   */
  trim(exact = false) {
    for (const kind of /** @type {const} */ (['main', 'context'])) {
      const cap = kind === 'main' ? this.cap : this.contextCap;
      if (this.count[kind] <= (exact ? cap : cap + (cap >> 3))) continue;
      let excess = this.count[kind] - cap;
      this.events = this.events.filter((e) => {
        if (excess === 0 || this.kindOf(e) !== kind) return true;
        excess--;
        this.count[kind]--;
        const seq = /** @type {number} */ (e.seq);
        this.from[kind] = seq + 1;
        if (kind === 'main' && this.contextCap > 0) this.remember(seq);
        return false;
      });
    }
  }

  /** Notes an anomaly event dropped. @param {number} seq */
  remember(seq) {
    const last = this.dropped[this.dropped.length - 1];
    if (last && last[1] === seq - 1) last[1] = seq;
    else this.dropped.push([seq, seq]);
    if (this.dropped.length > DROPPED_RUNS) this.droppedFrom = /** @type {[number, number]} */ (this.dropped.shift())[1];
  }

  /** The oldest sequence number kept (0 when empty). */
  oldest() {
    this.trim(true);
    return this.events.length ? /** @type {number} */ (this.events[0].seq) : 0;
  }

  add(event) {
    const e = { seq: ++this.seq, ...event };
    this.events.push(e);
    this.count[this.kindOf(e)]++;
    this.trim();
    this.pending.push(JSON.stringify(e));
  }

  /** Records after `cursor` (a seq), oldest first, at most `limit`. */
  since(cursor, limit) {
    this.trim(true);
    const out = [];
    for (const e of this.events) {
      if (out.length >= limit) break;
      if (/** @type {number} */ (e.seq) > cursor) out.push(e);
    }
    return out;
  }

  /**
   * Records numbered after `cursor` up to `to` that were dropped before they
   * were read (the holes a reader of that range meets): `events` in all,
   * `anomalies` of them not context rows (null when not known: dropped
   * before this log told them apart, or too long ago).
   * @param {number} cursor
   * @param {number} to
   * @returns {{ events: number, anomalies: number | null }}
   */
  lost(cursor, to) {
    if (to <= cursor) return { events: 0, anomalies: 0 };
    this.trim(true);
    let kept = 0;
    for (const e of this.events) if (/** @type {number} */ (e.seq) > cursor && /** @type {number} */ (e.seq) <= to) kept++;
    const events = to - cursor - kept;
    if (this.contextCap === 0) return { events, anomalies: null };
    if (cursor < this.droppedFrom) return { events, anomalies: events === 0 ? 0 : null };
    let anomalies = 0;
    for (const [first, last] of this.dropped) anomalies += Math.max(0, Math.min(last, to) - Math.max(first, cursor + 1) + 1);
    return { events, anomalies };
  }

  /** Writes the records added since the last call; `sync` at shutdown. */
  async flush(sync = false) {
    if (!this.pending.length) return;
    const lines = this.pending;
    this.pending = [];
    try {
      if (this.linesOnDisk + lines.length > 2 * (this.cap + this.contextCap)) {
        this.trim(true);
        const kept = this.events;
        const text = kept.map((e) => `${JSON.stringify(e)}\n`).join('');
        if (sync) writeAtomic(this.file, text);
        else await writeAtomicAsync(this.file, text);
        this.linesOnDisk = kept.length;
      } else {
        const text = lines.map((l) => `${l}\n`).join('');
        if (sync) fs.appendFileSync(this.file, text, { mode: 0o600 });
        else await fs.promises.appendFile(this.file, text, { mode: 0o600 });
        this.linesOnDisk += lines.length;
      }
    } catch (e) {
      this.pending = lines.concat(this.pending);
      throw e;
    }
  }
}

/**
 * The state folder's identity: 16 random bytes (hex) written to `state-id`
 * the first time the folder is used, and kept across restarts. A reader of
 * the monitoring data that sees another id knows the folder was reset or
 * replaced, so its sequence numbers started again from 1.
 * @param {string} dir
 * @returns {string}
 */
function stateIdOf(dir) {
  const file = path.join(dir, 'state-id');
  try {
    const kept = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{32}$/.test(kept)) return kept;
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  const id = randomBytes(16).toString('hex');
  writeAtomic(file, `${id}\n`);
  return id;
}

/** state.json: counters, history rows, the event sequence; written when something changed, at most once a second. */
class StateStore {
  /**
   * @param {string} dir
   * @param {{ metrics: import('./metrics').Metrics, streams: import('./model').Streams, events: SeqLog, buckets?: SeqLog, monitor?: import('./monitor').Monitor, shadow?: import('./shadow').Shadow, context?: import('./context').ContextRows }} parts
   */
  constructor(dir, parts, warn) {
    this.file = path.join(dir, 'state.json');
    this.parts = parts;
    this.warn = warn;
    this.dirty = false;
    this.timer = null;
    /** @type {Promise<void> | null} */
    this.writing = null;
    this.dir = dir;
    /** The folder's id (stateIdOf); set by load. */
    this.stateId = '';
    /**
     * This run of the process: a random id and the sequence numbers on disk
     * when it started ("buckets.events"). A reader whose cursor is past
     * `from` when it first meets a run knows the folder went back (a backup
     * or a VM snapshot restored) and the numbers after `from` are new.
     */
    this.run = { id: '', from: '0.0' };
  }

  load() {
    const saved = readJsonFile(this.file, this.warn) ?? {};
    this.parts.metrics.load(saved.metrics);
    this.parts.streams.load(saved.streams);
    this.parts.events.load(saved.eventSeq, saved.eventsDropped);
    this.parts.buckets?.load(saved.bucketSeq);
    this.parts.monitor?.load(saved.monitor);
    this.parts.shadow?.loadRows(saved.shadowStreams);
    this.parts.context?.load(saved.context);
    this.stateId = stateIdOf(this.dir);
    this.run = { id: randomBytes(8).toString('hex'), from: `${this.parts.buckets?.seq ?? 0}.${this.parts.events.seq}` };
  }

  markDirty() {
    this.dirty = true;
  }

  start(everyMs = 1000) {
    this.timer = setInterval(() => void this.flushQuietly(), everyMs);
    this.timer.unref();
  }

  /** The periodic save, off the event loop; a full disk is reported, not fatal (serving goes on, the next save tries again). */
  async flushQuietly() {
    if (this.writing) return;
    this.writing = this.flush(false)
      .catch((e) => this.warn(`Cannot write the state folder: ${e.message}`))
      .finally(() => {
        this.writing = null;
      });
    await this.writing;
  }

  /**
   * Saves now, after a save under way; for answers that hand out sequence
   * numbers (monitoring reads), which must be on disk before a reader sees them.
   */
  async save() {
    while (this.writing) await this.writing;
    const run = this.flush(false);
    this.writing = run.catch(() => undefined).finally(() => {
      this.writing = null;
    });
    await run;
  }

  async flush(sync) {
    await this.parts.events.flush(sync);
    await this.parts.buckets?.flush(sync);
    if (!this.dirty) return;
    this.dirty = false;
    const text = JSON.stringify({
      format: 1,
      savedAt: new Date().toISOString(),
      metrics: this.parts.metrics.toJSON(),
      streams: this.parts.streams.toJSON(),
      eventSeq: this.parts.events.seq,
      eventsDropped: this.parts.events.droppedJSON(),
      bucketSeq: this.parts.buckets?.seq,
      monitor: this.parts.monitor?.toJSON(),
      shadowStreams: this.parts.shadow?.toJSON(),
      context: this.parts.context?.toJSON(),
    });
    try {
      if (sync) writeAtomic(this.file, text);
      else await writeAtomicAsync(this.file, text);
    } catch (e) {
      this.dirty = true;
      throw e;
    }
  }

  /** At shutdown: waits for a save under way, then writes what is left. */
  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.writing) await this.writing;
    await this.flush(true);
  }
}

module.exports = { stateIdOf, writeAtomic, resolveTokens, authorized, lockStateDir, SeqLog, EventLog: SeqLog, StateStore };
