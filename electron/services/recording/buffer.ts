/**
 * The append-only buffer a recording writes its samples to, in
 * recordings/<id>/ (issue 10). Built so that killing the process loses at most
 * the last flush interval of samples, and a power loss at most the last sync
 * interval, and so that weeks of 100 tags at 1 sample/s read back in seconds.
 *
 * On disk:
 * - `seg-00000001.rec`, `seg-00000002.rec`…: segment files, appended to and
 *   rolled over at `segmentBytes` (64 MiB). Each starts with the 8 bytes
 *   "MWRBUF1\n", then fixed 24-byte records, little-endian:
 *     0  float64  t        ms since 1970 (UTC)
 *     8  float64  value    NaN for no value
 *     16 uint16   tag      index into the recording's tags
 *     18 uint8    quality  0 good, 1 bad
 *     19 uint8    0        (reserved)
 *     20 uint32   CRC-32 (IEEE) of bytes 0-19
 *   Fixed records keep every record at a known offset, so a torn tail (a
 *   partial record, or zeros or garbage after a power loss) is found by size
 *   and checksum, is never read, and is cut off when the buffer is opened again
 *   for appending. A record in the middle that fails its checksum is skipped
 *   alone.
 * - `seg-00000001.sum.json`: written when a segment is full and closed for
 *   good: its sample count and time span, so scans and ranged reads skip whole
 *   segments without reading them. Ignored when its size does not match.
 * - `gaps.jsonl`: the gap marks, one JSON object a line (`{"start":t,"reason":
 *   "…","tag":n|null}` or `{"end":t,"tag":n|null}`). A last line without its
 *   newline is torn and dropped.
 *
 * Samples are kept in memory and written with write(2) every `flushMs`
 * (250 ms): data handed to the kernel survives a kill of the process. An
 * fdatasync every `syncMs` (1 s, off the main thread) makes it survive a power
 * loss too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/errors';

export interface BufferedSample {
  /** ms since 1970 */
  t: number;
  /** index into the recording's tags */
  tag: number;
  value: number | null;
  quality: 'good' | 'bad';
}

export interface GapMark {
  start: number;
  end: number | null;
  reason: string;
  tag: number | null;
}

export interface BufferStats {
  samples: number;
  bytes: number;
  firstT: number | null;
  lastT: number | null;
  gaps: GapMark[];
}

/** A write the disk cut short before one whole record: it (or a quota) has no room left. */
export class DiskFullError extends AppError {
  constructor(dir: string) {
    super('io', `Could not write to the recording buffer in ${dir}: the disk is full.`);
  }
}

export interface BufferOptions {
  /** How long a sample may wait in memory before it is written (ms, default 250). */
  flushMs?: number;
  /** How long written samples may wait for fdatasync (ms, default 1000). */
  syncMs?: number;
  /** Size at which a segment file is closed and the next one started (bytes, default 64 MiB). */
  segmentBytes?: number;
  /** Called when a timed write or sync fails (disk full…); the samples stay in memory and are tried again. */
  onError?: (err: Error) => void;
  /** Called once when, after onError, everything that waited is written and a sync has succeeded: the disk takes samples again. */
  onRecovered?: () => void;
}

const MAGIC = Buffer.from('MWRBUF1\n', 'latin1');
const HEADER = MAGIC.length;
const REC = 24;
const MAX_TAG = 0xffff;
const DEFAULT_SEGMENT = 64 * 1024 * 1024;
const GAPS_FILE = 'gaps.jsonl';
/** Records read per chunk (about 4 MB). */
const CHUNK_RECORDS = 174_762;
/** How far back tailBuffer reads at most, so a tag silent for days does not make a restart read the whole buffer. */
const TAIL_BUDGET = 16 * 1024 * 1024;

/** CRC-32 (IEEE) tables for slicing by 4: a record's 20 bytes are 5 words. */
const CRC_TABLES = (() => {
  const t = new Int32Array(1024);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 4; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib computes it) of the 20 bytes of a record before its checksum. */
function recordCrc(view: DataView, at: number): number {
  const T = CRC_TABLES;
  let c = -1;
  for (let i = at, end = at + 20; i < end; i += 4) {
    c ^= view.getInt32(i, true);
    c = T[768 + (c & 0xff)]! ^ T[512 + ((c >>> 8) & 0xff)]! ^ T[256 + ((c >>> 16) & 0xff)]! ^ T[c >>> 24]!;
  }
  return (c ^ -1) >>> 0;
}

function encode(view: DataView, bytes: Uint8Array, at: number, s: BufferedSample): void {
  view.setFloat64(at, s.t, true);
  view.setFloat64(at + 8, s.value === null ? NaN : s.value, true);
  view.setUint16(at + 16, s.tag, true);
  view.setUint8(at + 18, s.quality === 'bad' ? 1 : 0);
  view.setUint8(at + 19, 0);
  view.setUint32(at + 20, recordCrc(view, at), true);
}

/** True when the record at `at` is whole and its checksum matches. */
function valid(view: DataView, bytes: Uint8Array, at: number): boolean {
  return view.getUint32(at + 20, true) === recordCrc(view, at) && bytes[at + 19] === 0 && bytes[at + 18]! <= 1;
}

function decode(view: DataView, at: number): BufferedSample {
  const v = view.getFloat64(at + 8, true);
  return { t: view.getFloat64(at, true), tag: view.getUint16(at + 16, true), value: v !== v ? null : v, quality: view.getUint8(at + 18) === 1 ? 'bad' : 'good' };
}

interface Segment {
  index: number;
  file: string;
  size: number;
}

interface Summary {
  size: number;
  samples: number;
  firstT: number | null;
  lastT: number | null;
}

const segmentName = (index: number) => `seg-${String(index).padStart(8, '0')}.rec`;
const summaryFile = (seg: Segment) => seg.file.replace(/\.rec$/, '.sum.json');

function listSegments(dir: string): Segment[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Segment[] = [];
  for (const name of names) {
    const m = /^seg-(\d{8})\.rec$/.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    out.push({ index: Number(m[1]), file, size: fs.statSync(file).size });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Number of whole records a segment of `size` bytes holds (a torn tail not counted). */
const recordsIn = (size: number) => (size <= HEADER ? 0 : Math.floor((size - HEADER) / REC));

function readSummary(seg: Segment): Summary | null {
  try {
    const s = JSON.parse(fs.readFileSync(summaryFile(seg), 'utf8')) as Summary;
    return s.size === seg.size && typeof s.samples === 'number' ? s : null;
  } catch {
    return null;
  }
}

/**
 * Whether a segment's header is whole and right. A header of zeros (a power
 * loss before it reached the disk) is written again in place; anything else
 * that is not our header is refused rather than appended to.
 */
function headerOk(fd: number, size: number, file: string): boolean {
  if (size < HEADER) return false;
  const h = Buffer.alloc(HEADER);
  fs.readSync(fd, h, 0, HEADER, 0);
  if (h.equals(MAGIC)) return true;
  if (h.every((b) => b === 0)) {
    // The append fd cannot write at offset 0 (O_APPEND): use another.
    withFd(file, (w) => fs.writeSync(w, MAGIC, 0, HEADER, 0), 'r+');
    return true;
  }
  throw new AppError('io', `${file} is not a recording buffer of Millwright (it does not start as one). Move it out of the recording's folder.`);
}

interface Chunk {
  view: DataView;
  bytes: Uint8Array;
  /** Whole records in this chunk. */
  count: number;
  /** Index of its first record in the segment. */
  base: number;
}

/**
 * Reads records [first, end) of an open segment in chunks, forward or
 * backward (chunks newest first; records inside a chunk stay in file order).
 * The chunk's memory is reused by the next one.
 */
function* chunks(fd: number, first: number, end: number, backward = false, chunkRecords = CHUNK_RECORDS): Generator<Chunk, void, undefined> {
  if (end <= first) return;
  const buf = new Uint8Array(Math.min(chunkRecords, end - first) * REC);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let lo = backward ? Math.max(first, end - chunkRecords) : first;
  let hi = backward ? end : Math.min(end, first + chunkRecords);
  while (lo < hi) {
    const want = (hi - lo) * REC;
    let got = 0;
    while (got < want) {
      const n = fs.readSync(fd, buf, got, want - got, HEADER + lo * REC + got);
      if (n === 0) break;
      got += n;
    }
    const count = Math.floor(got / REC);
    if (count === 0) return;
    yield { view, bytes: buf, count, base: lo };
    if (backward) {
      hi = lo;
      lo = Math.max(first, hi - chunkRecords);
    } else {
      lo = lo + count;
      hi = Math.min(end, lo + chunkRecords);
    }
  }
}

/** Counts a segment's valid samples and time span by reading it, and where its last valid record ends. */
function countSegment(fd: number, size: number): Summary & { validEnd: number } {
  let samples = 0;
  let firstT: number | null = null;
  let lastT: number | null = null;
  let lastValid = -1;
  for (const { view, bytes, count, base } of chunks(fd, 0, recordsIn(size))) {
    for (let r = 0; r < count; r++) {
      const at = r * REC;
      if (!valid(view, bytes, at)) continue;
      const t = view.getFloat64(at, true);
      samples++;
      if (firstT === null || t < firstT) firstT = t;
      if (lastT === null || t > lastT) lastT = t;
      lastValid = base + r;
    }
  }
  return { size, samples, firstT, lastT, validEnd: HEADER + (lastValid + 1) * REC };
}

function addTo(stats: { samples: number; firstT: number | null; lastT: number | null }, s: Summary): void {
  stats.samples += s.samples;
  if (s.firstT !== null && (stats.firstT === null || s.firstT < stats.firstT)) stats.firstT = s.firstT;
  if (s.lastT !== null && (stats.lastT === null || s.lastT > stats.lastT)) stats.lastT = s.lastT;
}

/** Parses gaps.jsonl; `whole` is the length up to the last complete line. */
function parseGaps(text: string): { gaps: GapMark[]; open: Map<number | null, GapMark>; whole: number } {
  const whole = text.lastIndexOf('\n') + 1;
  const gaps: GapMark[] = [];
  // The open gap of each tag (null: the whole source): a long recording has tens of thousands of gaps, so no search of them per line.
  const open = new Map<number | null, GapMark>();
  for (const line of text.slice(0, whole).split('\n')) {
    if (!line) continue;
    let o: { start?: unknown; end?: unknown; reason?: unknown; tag?: unknown };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      continue;
    }
    const tag = typeof o.tag === 'number' ? o.tag : null;
    if (typeof o.start === 'number') {
      if (!open.has(tag)) {
        const g: GapMark = { start: o.start, end: null, reason: typeof o.reason === 'string' ? o.reason : '', tag };
        gaps.push(g);
        open.set(tag, g);
      }
    } else if (typeof o.end === 'number') {
      const g = open.get(tag);
      if (g) {
        g.end = o.end;
        open.delete(tag);
      }
    }
  }
  return { gaps, open, whole };
}

/** The gap marks of a buffer (empty when there are none). */
export function readGaps(dir: string): GapMark[] {
  try {
    return parseGaps(fs.readFileSync(path.join(dir, GAPS_FILE), 'utf8')).gaps;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The last few folders' gaps with the gaps file's size, time and inode when read. */
const keptGaps = new Map<string, { stamp: string; gaps: GapMark[] }>();
const KEPT_GAPS_MAX = 4;

/**
 * readGaps, read again only when the gaps file has changed (size, time or
 * inode): the page of a recording run by `millwright record` in another
 * process asks for its gaps every second, while they change only when a gap
 * starts or ends, and a long recording has tens of thousands. The array is
 * shared: callers must not change it.
 */
export function readGapsKept(dir: string): GapMark[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(path.join(dir, GAPS_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const kept = keptGaps.get(dir);
  if (kept && kept.stamp === stamp) return kept.gaps;
  const gaps = readGaps(dir);
  keptGaps.delete(dir);
  keptGaps.set(dir, { stamp, gaps });
  if (keptGaps.size > KEPT_GAPS_MAX) keptGaps.delete(keptGaps.keys().next().value!);
  return gaps;
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function syncDir(dir: string): void {
  // A new file's name must reach the disk too; Windows has no directory handles to sync (NTFS journals names).
  if (process.platform === 'win32') return;
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse: the data itself is still synced.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Appends samples and gap marks of one recording; see the file's header for the format. */
export class RecordingBuffer {
  private fd: number;
  private segIndex: number;
  private segSize: number;
  private readonly gapsFd: number;
  private pending: Uint8Array;
  private view: DataView;
  private pendingLen = 0;
  private pendingGaps = '';
  /** A timed write or sync failed and everything has not been written and synced since (see onRecovered). */
  private failing = false;
  /** Counts failed writes and syncs: a sync vouches for recovery only if none failed while it ran. */
  private failures = 0;
  /** fds whose last fdatasync failed: what was written to them is not known to be on disk. */
  private readonly syncFailed = new Set<number>();
  private readonly flushTimer: NodeJS.Timeout;
  private lastSync = Date.now();
  private unsynced = false;
  /** fds with an fdatasync in flight, and whether they are to be closed when it ends. */
  private readonly syncing = new Map<number, boolean>();
  private closed = false;
  private readonly st: { samples: number; bytes: number; firstT: number | null; lastT: number | null; gaps: GapMark[] };
  /** The open gap of each tag (null: the whole source), among st.gaps. */
  private readonly openGaps: Map<number | null, GapMark>;
  /** What the segment being appended to holds on disk, for its summary when it is full. */
  private seg: Summary = { size: 0, samples: 0, firstT: null, lastT: null };
  private readonly segmentBytes: number;
  private readonly syncMs: number;

  private constructor(
    private readonly dir: string,
    private readonly opts: BufferOptions,
  ) {
    this.segmentBytes = Math.max(HEADER + REC, Math.floor(opts.segmentBytes ?? DEFAULT_SEGMENT));
    this.syncMs = opts.syncMs ?? 1000;
    fs.mkdirSync(dir, { recursive: true });

    // Gap marks: cut a torn last line.
    const gapsPath = path.join(dir, GAPS_FILE);
    const gapsText = fs.existsSync(gapsPath) ? fs.readFileSync(gapsPath, 'utf8') : '';
    const { gaps, open, whole } = parseGaps(gapsText);
    this.openGaps = open;
    this.gapsFd = fs.openSync(gapsPath, 'a');
    const gapBytes = Buffer.byteLength(gapsText.slice(0, whole));
    if (gapBytes !== Buffer.byteLength(gapsText)) fs.ftruncateSync(this.gapsFd, gapBytes);

    this.st = { samples: 0, bytes: gapBytes, firstT: null, lastT: null, gaps };
    const segs = listSegments(dir);
    for (const seg of segs.slice(0, -1)) {
      const sum = readSummary(seg) ?? withFd(seg.file, (fd) => countSegment(fd, seg.size));
      addTo(this.st, sum);
      this.st.bytes += seg.size;
    }
    const last = segs[segs.length - 1];
    this.segIndex = last ? last.index : 1;
    this.fd = fs.openSync(path.join(dir, segmentName(this.segIndex)), 'a+');
    try {
      this.segSize = this.prepareLast(last?.size ?? 0, last?.file ?? segmentName(this.segIndex));
    } catch (err) {
      fs.closeSync(this.fd);
      fs.closeSync(this.gapsFd);
      throw err;
    }
    this.st.bytes += this.segSize;
    if (!last) syncDir(dir);

    this.pending = new Uint8Array(64 * 1024);
    this.view = new DataView(this.pending.buffer);
    this.flushTimer = setInterval(() => this.tick(), Math.max(10, opts.flushMs ?? 250));
    this.flushTimer.unref();
  }

  /** Opens dir (creating it) for appending; after a crash, a torn last record is cut off (never a half sample). */
  static open(dir: string, opts: BufferOptions = {}): RecordingBuffer {
    return new RecordingBuffer(dir, opts);
  }

  /** Checks the header of the segment appended to and cuts what follows its last valid record. Returns its size. */
  private prepareLast(size: number, file: string): number {
    if (!headerOk(this.fd, size, file)) {
      // New, or torn before its header was whole.
      fs.ftruncateSync(this.fd, 0);
      fs.writeSync(this.fd, MAGIC);
      return HEADER;
    }
    const sum = countSegment(this.fd, size);
    addTo(this.st, sum);
    this.seg = { size: sum.validEnd, samples: sum.samples, firstT: sum.firstT, lastT: sum.lastT };
    if (sum.validEnd !== size) fs.ftruncateSync(this.fd, sum.validEnd);
    return sum.validEnd;
  }

  /** Buffered in memory, written within flushMs, fdatasync within syncMs. */
  append(s: BufferedSample): void {
    if (this.closed) throw new Error('The recording buffer is closed.');
    if (!Number.isInteger(s.tag) || s.tag < 0 || s.tag > MAX_TAG) throw new RangeError(`Tag index ${s.tag} is outside 0-${MAX_TAG}.`);
    if (!Number.isFinite(s.t)) throw new RangeError(`Sample time ${s.t} is not a number of ms.`);
    if (this.pendingLen + REC > this.pending.length) {
      // The timer has not run (or the disk refuses): write now, and grow when that does not free room.
      this.tryWrite();
      if (this.pendingLen + REC > this.pending.length) {
        const bigger = new Uint8Array(this.pending.length * 2);
        bigger.set(this.pending.subarray(0, this.pendingLen));
        this.pending = bigger;
        this.view = new DataView(bigger.buffer);
      }
    }
    encode(this.view, this.pending, this.pendingLen, s);
    this.pendingLen += REC;
    const st = this.st;
    st.samples++;
    st.bytes += REC;
    if (st.firstT === null || s.t < st.firstT) st.firstT = s.t;
    if (st.lastT === null || s.t > st.lastT) st.lastT = s.t;
  }

  /** A gap begins (connection lost / tag silent). Ignored while that tag (or the source, for null) already has an open gap. */
  gapStart(start: number, reason: string, tag: number | null): void {
    if (this.closed) throw new Error('The recording buffer is closed.');
    if (this.openGaps.has(tag)) return;
    const g: GapMark = { start, end: null, reason, tag };
    this.st.gaps.push(g);
    this.openGaps.set(tag, g);
    this.addGapLine(JSON.stringify({ start, reason, tag }) + '\n');
  }

  /** The open gap for that tag (null = whole source) ends. */
  gapEnd(end: number, tag: number | null): void {
    if (this.closed) throw new Error('The recording buffer is closed.');
    const open = this.openGaps.get(tag);
    if (!open) return;
    open.end = end;
    this.openGaps.delete(tag);
    this.addGapLine(JSON.stringify({ end, tag }) + '\n');
  }

  private addGapLine(line: string): void {
    this.pendingGaps += line;
    this.st.bytes += Buffer.byteLength(line);
  }

  /** Writes everything now and fdatasyncs it. */
  flush(): void {
    if (this.closed) return;
    this.write();
    fs.fdatasyncSync(this.fd);
    fs.fdatasyncSync(this.gapsFd);
    this.unsynced = false;
    this.lastSync = Date.now();
    // Everything is written and on disk: a failure before is over (the timer may have nothing left to sync to say so).
    this.syncFailed.clear();
    this.recovered();
  }

  /** Flushes, closes the files and stops the timer; idempotent. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.flushTimer);
    try {
      this.flush();
    } finally {
      this.closed = true;
      this.retire(this.fd);
      this.retire(this.gapsFd);
    }
  }

  /** Running totals, cheap. */
  stats(): BufferStats {
    return { samples: this.st.samples, bytes: this.st.bytes, firstT: this.st.firstT, lastT: this.st.lastT, gaps: this.st.gaps.map((g) => ({ ...g })) };
  }

  private tick(): void {
    if (this.closed) return;
    if (!this.tryWrite()) return;
    if (this.unsynced && Date.now() - this.lastSync >= this.syncMs) this.syncSoon();
  }

  /** write() for the timer: a failure is reported, and what was not written stays for the next try. */
  private tryWrite(): boolean {
    try {
      this.write();
      return true;
    } catch (err) {
      this.failing = true;
      this.failures++;
      this.opts.onError?.(err as Error);
      return false;
    }
  }

  /** Hands pending records and gap lines to the kernel (write(2)), rolling over to a new segment when one is full. */
  private write(): void {
    if (this.pendingGaps) {
      const text = Buffer.from(this.pendingGaps);
      let off = 0;
      while (off < text.length) off += fs.writeSync(this.gapsFd, text, off, text.length - off);
      this.pendingGaps = '';
      this.unsynced = true;
    }
    let off = 0;
    try {
      while (off < this.pendingLen) {
        let room = Math.floor((this.segmentBytes - this.segSize) / REC) * REC;
        if (room <= 0) {
          this.roll();
          room = Math.floor((this.segmentBytes - this.segSize) / REC) * REC;
        }
        const n = Math.min(room, this.pendingLen - off);
        const wrote = fs.writeSync(this.fd, this.pending, off, n);
        const whole = wrote - (wrote % REC);
        // A short write that ends inside a record would shift every record after it: cut back to the last whole one.
        if (whole !== wrote) fs.ftruncateSync(this.fd, this.segSize + whole);
        for (let at = off; at < off + whole; at += REC) {
          const t = this.view.getFloat64(at, true);
          const seg = this.seg;
          seg.samples++;
          if (seg.firstT === null || t < seg.firstT) seg.firstT = t;
          if (seg.lastT === null || t > seg.lastT) seg.lastT = t;
        }
        this.segSize += whole;
        off += whole;
        this.unsynced = true;
        // A write cut short before one whole record on a regular file: the disk (or a quota) has no room left.
        if (whole === 0) throw new DiskFullError(this.dir);
      }
    } finally {
      if (off > 0) {
        this.pending.copyWithin(0, off, this.pendingLen);
        this.pendingLen -= off;
      }
    }
  }

  /** Closes the full segment for good (synced, with its summary) and starts the next. */
  private roll(): void {
    fs.fdatasyncSync(this.fd);
    this.syncFailed.delete(this.fd);
    const seg: Segment = { index: this.segIndex, file: path.join(this.dir, segmentName(this.segIndex)), size: this.segSize };
    const tmp = `${summaryFile(seg)}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ ...this.seg, size: seg.size } satisfies Summary));
    fs.renameSync(tmp, summaryFile(seg));
    this.seg = { size: 0, samples: 0, firstT: null, lastT: null };
    this.retire(this.fd);
    this.segIndex++;
    this.fd = fs.openSync(path.join(this.dir, segmentName(this.segIndex)), 'a+');
    fs.ftruncateSync(this.fd, 0);
    fs.writeSync(this.fd, MAGIC);
    this.segSize = HEADER;
    this.st.bytes += HEADER;
    syncDir(this.dir);
  }

  /** fdatasync off the main thread, so a slow disk does not stall the app. */
  private syncSoon(): void {
    this.unsynced = false;
    this.lastSync = Date.now();
    // A round vouches for recovery when everything was handed to the kernel before it started, both files' syncs
    // are its own (none skipped for one still in flight) and succeed, and nothing failed meanwhile.
    const round = { left: 0, ok: this.pendingLen === 0 && !this.pendingGaps, failures: this.failures };
    for (const fd of [this.fd, this.gapsFd]) {
      if (this.syncing.has(fd)) {
        round.ok = false;
        continue;
      }
      round.left++;
      this.syncing.set(fd, false);
      fs.fdatasync(fd, (err) => {
        const closeNow = this.syncing.get(fd);
        this.syncing.delete(fd);
        // A segment retired meanwhile was synced for good when it was rolled: only files still written to count.
        const current = fd === this.fd || fd === this.gapsFd;
        if (err) {
          round.ok = false;
          this.unsynced = true;
          this.failing = true;
          this.failures++;
          if (current) this.syncFailed.add(fd);
          this.opts.onError?.(err);
        } else if (current) this.syncFailed.delete(fd);
        if (closeNow) fs.close(fd, () => undefined);
        if (--round.left === 0 && round.ok && round.failures === this.failures) this.recovered();
      });
    }
  }

  /**
   * Tells the owner once a failure is over: only after a sync that succeeded
   * with nothing left waiting, so a disk whose syncs keep failing stays
   * failed instead of flapping each time a write goes through.
   */
  private recovered(): void {
    if (!this.failing || this.closed || this.pendingLen > 0 || this.pendingGaps || this.syncFailed.size) return;
    this.failing = false;
    this.opts.onRecovered?.();
  }

  /** Closes an fd now, or when the fdatasync in flight on it ends (closing under it could sync another file that reused the number). */
  private retire(fd: number): void {
    this.syncFailed.delete(fd);
    if (this.syncing.has(fd)) this.syncing.set(fd, true);
    else fs.closeSync(fd);
  }
}

function withFd<T>(file: string, f: (fd: number) => T, flags = 'r'): T {
  const fd = fs.openSync(file, flags);
  try {
    return f(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Counts an existing buffer from disk (after a crash, or for a stopped recording). */
export function scanBuffer(dir: string): BufferStats {
  const gapsPath = path.join(dir, GAPS_FILE);
  const stats: BufferStats = { samples: 0, bytes: fileSize(gapsPath), firstT: null, lastT: null, gaps: readGaps(dir) };
  for (const seg of listSegments(dir)) {
    stats.bytes += seg.size;
    const sum = readSummary(seg);
    if (sum) addTo(stats, sum);
    else if (seg.size > HEADER) addTo(stats, withFd(seg.file, (fd) => countSegment(fd, seg.size)));
  }
  return stats;
}

/** Samples with from <= t <= to (ms), in file order, in chunks of at most about 175,000. */
export function* readBuffer(dir: string, range: { from?: number; to?: number } = {}): Generator<BufferedSample[], void, undefined> {
  const from = range.from ?? -Infinity;
  const to = range.to ?? Infinity;
  for (const seg of listSegments(dir)) {
    const sum = readSummary(seg);
    if (sum && (sum.samples === 0 || sum.lastT! < from || sum.firstT! > to)) continue;
    if (seg.size <= HEADER) continue;
    const fd = fs.openSync(seg.file, 'r');
    try {
      for (const { view, bytes, count } of chunks(fd, 0, recordsIn(seg.size))) {
        const part: BufferedSample[] = [];
        for (let r = 0; r < count; r++) {
          const at = r * REC;
          const t = view.getFloat64(at, true);
          if (t < from || t > to || !valid(view, bytes, at)) continue;
          part.push(decode(view, at));
        }
        if (part.length) yield part;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

/**
 * Samples newest first in file order (the reverse of readBuffer), in chunks,
 * skipping segments that hold only samples at or after `before`. For looking
 * back from a point: stop iterating when done and the rest is not read.
 */
export function* readBackward(dir: string, opts: { before?: number } = {}): Generator<BufferedSample[], void, undefined> {
  const before = opts.before ?? Infinity;
  for (const seg of listSegments(dir).reverse()) {
    const sum = readSummary(seg);
    if (sum && (sum.samples === 0 || sum.firstT! >= before)) continue;
    if (seg.size <= HEADER) continue;
    const fd = fs.openSync(seg.file, 'r');
    try {
      for (const { view, bytes, count } of chunks(fd, 0, recordsIn(seg.size), true)) {
        const part: BufferedSample[] = [];
        for (let r = count - 1; r >= 0; r--) {
          const at = r * REC;
          if (view.getFloat64(at, true) >= before || !valid(view, bytes, at)) continue;
          part.push(decode(view, at));
        }
        if (part.length) yield part;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** The newest `n` samples per tag, oldest first (for sparklines after a restart); reads back from the end at most 16 MB. */
export function tailBuffer(dir: string, tags: number, n: number): BufferedSample[][] {
  const out: BufferedSample[][] = Array.from({ length: tags }, () => []);
  if (n <= 0 || tags <= 0) return out;
  let full = 0;
  let budget = TAIL_BUDGET;
  const chunkRecords = Math.min(CHUNK_RECORDS, Math.max(1024, tags * n * 2));
  outer: for (const seg of listSegments(dir).reverse()) {
    if (seg.size <= HEADER) continue;
    const fd = fs.openSync(seg.file, 'r');
    try {
      for (const { view, bytes, count } of chunks(fd, 0, recordsIn(seg.size), true, chunkRecords)) {
        for (let r = count - 1; r >= 0; r--) {
          const at = r * REC;
          const tag = view.getUint16(at + 16, true);
          if (tag >= tags || out[tag]!.length >= n || !valid(view, bytes, at)) continue;
          out[tag]!.push(decode(view, at));
          if (out[tag]!.length === n && ++full === tags) break outer;
        }
        budget -= count * REC;
        if (budget <= 0) break outer;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  for (const list of out) list.reverse();
  return out;
}

/** Records in a buffer's segment files, counted from their sizes alone (without reading them): what reading it whole costs. */
export function bufferRecords(dir: string): number {
  let n = 0;
  for (const seg of listSegments(dir)) n += recordsIn(seg.size);
  return n;
}

/**
 * `windows` runs of `perWindow` consecutive records, evenly spaced over all of
 * a buffer's records in file order (the first run at its start, the last at
 * its end), one batch per run, in file order; a record that fails its
 * checksum is skipped. For an overview of a buffer too long to read whole:
 * records are fixed-size, so each run is one read at a known offset (running
 * on into the next segment where one ends). Reads everything, as readBuffer,
 * when the runs would cover it all.
 */
export function* readWindows(dir: string, opts: { windows: number; perWindow: number }): Generator<BufferedSample[], void, undefined> {
  const segs = listSegments(dir)
    .map((seg) => ({ ...seg, records: recordsIn(seg.size) }))
    .filter((seg) => seg.records > 0);
  const total = segs.reduce((n, seg) => n + seg.records, 0);
  const windows = Math.max(1, Math.floor(opts.windows));
  const per = Math.max(1, Math.floor(opts.perWindow));
  if (total === 0) return;
  if (windows * per >= total) {
    yield* readBuffer(dir);
    return;
  }
  // Runs start (total - per) / (windows - 1) > per records apart: they never overlap.
  let si = 0;
  let segFirst = 0;
  let fd: number | null = null;
  let fdSeg = -1;
  try {
    for (let k = 0; k < windows; k++) {
      let at = windows === 1 ? 0 : Math.round((k * (total - per)) / (windows - 1));
      let left = per;
      const part: BufferedSample[] = [];
      while (left > 0 && si < segs.length) {
        const seg = segs[si]!;
        if (at >= segFirst + seg.records) {
          segFirst += seg.records;
          si++;
          continue;
        }
        if (fdSeg !== si || fd === null) {
          if (fd !== null) fs.closeSync(fd);
          fd = null;
          fd = fs.openSync(seg.file, 'r');
          fdSeg = si;
        }
        const local = at - segFirst;
        const n = Math.min(left, seg.records - local);
        for (const { view, bytes, count } of chunks(fd, local, local + n, false, per)) {
          for (let r = 0; r < count; r++) if (valid(view, bytes, r * REC)) part.push(decode(view, r * REC));
        }
        at += n;
        left -= n;
      }
      if (part.length) yield part;
    }
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
