/**
 * A time range of a recording's buffer as a historian long-format CSV
 * (`time,tag,value,quality`), the file "Save as dataset" hands to the import
 * pipeline, whose long-format pivot turns it into one column per tag on a
 * regular grid.
 *
 * Rows:
 * - time: ISO 8601 UTC with milliseconds and 'Z' (2026-11-26T10:00:00.250Z);
 * - tag: the tag's name (its dataset column), quoted as CSV needs;
 * - value: JavaScript's shortest text that reads back as the same number
 *   ('.' as decimal mark; an exponent only below 1e-6 or from 1e21 on);
 *   empty for a bad sample or one without a number;
 * - quality: good or bad.
 *
 * Every sample with from <= t <= to becomes a row. The grid the pivot builds
 * starts at `from` aligned down to the interval (slot k starts at
 * g0 + k * interval, g0 = floor(from / interval) * interval) and has a slot
 * for every start <= to: an empty row (tag, no value, good) at g0, and at
 * the last slot's start when nothing else is there, pins the pivot's grid to
 * exactly that (its grid starts at the first row's time and ends at the last
 * one's). A tag without any row in the range gets such an empty row too, so
 * its column is there, empty.
 *
 * Holding values: OPC UA (and most MQTT publishers) report by exception: a
 * value that does not change is not sent again, so a slot without a sample
 * of a tag means "unchanged", not "unknown". For each tag and each slot that
 * has no sample of it, the last value of the tag is written as a row at the
 * slot's start time, with no age limit (a setpoint may not change for days;
 * the subscription's keep-alive is what tells a silent tag from a dead
 * connection, and a dead connection is a gap mark), but:
 * - never across a gap mark: when a gap of that tag, or of the whole source,
 *   overlaps the time between the held sample and the slot's start (it
 *   starts at or before the slot and ends after the sample, or is still
 *   open), the value is no longer known and is not held (after the gap, only
 *   a new sample gives the tag a value again: OPC UA sends every value anew
 *   when a subscription is made again);
 * - not before the tag's first sample: a value comes from a sample in the
 *   range or the tag's last sample before `from` (looked up backwards in the
 *   buffer, under the same gap rule);
 * - not after a bad sample, or one without a number: the value is unknown
 *   from then on, until the next good sample.
 * A held row is only a stand-in: a slot with any sample of the tag is left to
 * its samples (mean or last, as the save asks).
 */
import fs from 'node:fs';
import type { Tag } from '../../../shared/recording';
import { AppError } from '../../../shared/errors';
import { readBackward, readBuffer, readGaps, type GapMark } from './buffer';

/** The pivot's limits (datasets/import/long-format.ts), checked here first so no huge file is written for nothing. */
const MAX_GRID_ROWS = 20_000_000;
const MAX_GRID_CELLS = 50_000_000;

export interface LongCsvControl {
  onProgress?: (fraction: number, message?: string) => void;
  checkCancelled?: () => void;
}

export interface LongCsvOptions {
  from: number;
  to: number;
  intervalMs: number;
}

/** Growable columns of the samples in range. */
class Samples {
  n = 0;
  t = new Float64Array(1024);
  v = new Float64Array(1024);
  tag = new Uint16Array(1024);
  bad = new Uint8Array(1024);

  push(t: number, v: number, tag: number, bad: boolean): void {
    if (this.n === this.t.length) {
      const grow = <A extends Float64Array | Uint16Array | Uint8Array>(a: A): A => {
        const b = new (a.constructor as new (n: number) => A)(a.length * 2);
        b.set(a);
        return b;
      };
      this.t = grow(this.t);
      this.v = grow(this.v);
      this.tag = grow(this.tag);
      this.bad = grow(this.bad);
    }
    const i = this.n++;
    this.t[i] = t;
    this.v[i] = v;
    this.tag[i] = tag;
    this.bad[i] = bad ? 1 : 0;
  }
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Writes the CSV's rows as bytes into a 1 MB buffer flushed with one write:
 * millions of rows without building a string for each.
 */
class RowWriter {
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private at = 0;
  private sec = NaN;
  private readonly prefix = Buffer.alloc(20);
  private readonly names: Buffer[];
  private static readonly QUALITY = { good: Buffer.from(',good\n'), bad: Buffer.from(',bad\n') };

  constructor(
    private readonly fd: number,
    names: string[],
  ) {
    this.names = names.map((n) => Buffer.from(`,${csvField(n)},`));
  }

  text(s: string): void {
    if (this.at + Buffer.byteLength(s) > this.buf.length) this.flush();
    this.at += this.buf.write(s, this.at);
  }

  /** time,tag,value,quality with the time as ISO 8601 UTC (the date part reused while the second stays the same). */
  row(t: number, tag: number, value: number, quality: 'good' | 'bad'): void {
    const name = this.names[tag]!;
    if (this.at + 64 + name.length > this.buf.length) this.flush();
    const b = this.buf;
    const s = Math.floor(t / 1000);
    if (s !== this.sec) {
      this.sec = s;
      this.prefix.write(new Date(s * 1000).toISOString().slice(0, 20), 'latin1'); // 2026-11-26T09:00:00.
    }
    this.at += this.prefix.copy(b, this.at);
    const ms = t - s * 1000;
    b[this.at++] = 48 + Math.floor(ms / 100);
    b[this.at++] = 48 + (Math.floor(ms / 10) % 10);
    b[this.at++] = 48 + (ms % 10);
    b[this.at++] = 90; // Z
    this.at += name.copy(b, this.at);
    if (value === value) this.at += b.write(String(value), this.at, 'latin1');
    this.at += RowWriter.QUALITY[quality].copy(b, this.at);
  }

  flush(): void {
    let off = 0;
    while (off < this.at) off += fs.writeSync(this.fd, this.buf, off, this.at - off);
    this.at = 0;
  }
}

/**
 * The gaps that stop holding, per tag (its own and the whole source's):
 * their starts sorted, and the latest end among the gaps up to each (an open
 * gap ends at +Infinity). A value cannot be held from `heldT` to `s` when a
 * gap starting at or before `s` ends after `heldT`: the gap overlaps the
 * time in between, whichever side of `heldT` it started on (after a kill,
 * the resume gap may start a little before the last sample on disk; a server
 * clock ahead of this PC's does the same).
 */
interface GapIndex {
  starts: Float64Array;
  maxEnd: Float64Array;
}

function gapIndex(gaps: GapMark[], tags: number): GapIndex[] {
  const per: [number, number][][] = Array.from({ length: tags }, () => []);
  for (const g of gaps) {
    const span: [number, number] = [g.start, g.end ?? Infinity];
    if (g.tag === null) for (const list of per) list.push(span);
    else if (g.tag >= 0 && g.tag < tags) per[g.tag]!.push(span);
  }
  return per.map((l) => {
    l.sort((a, b) => a[0] - b[0]);
    const maxEnd = new Float64Array(l.length);
    let m = -Infinity;
    l.forEach(([, e], i) => (maxEnd[i] = m = Math.max(m, e)));
    return { starts: Float64Array.from(l.map(([st]) => st)), maxEnd };
  });
}

/** The latest end of the gaps starting at or before `to` (-Infinity when none). */
function latestEndBy(g: GapIndex, to: number): number {
  let lo = 0;
  let hi = g.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (g.starts[mid]! <= to) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? -Infinity : g.maxEnd[lo - 1]!;
}

/** True when a gap lies between a value held since `from` and the slot at `to`. */
function gapWithin(g: GapIndex, from: number, to: number): boolean {
  return latestEndBy(g, to) > from;
}

/**
 * Writes the samples of the buffer in `dir` with from <= t <= to as a long
 * CSV, with held values on the grid of `intervalMs` (see the file's header).
 * Returns the rows written (without the header) and the samples in range;
 * with no sample in range, only the header is written.
 */
export function writeLongCsv(dir: string, tags: Tag[], opts: LongCsvOptions, outFile: string, control: LongCsvControl = {}): { rows: number; samples: number } {
  const I = opts.intervalMs;
  if (!(Number.isFinite(I) && I > 0)) throw new AppError('bad_input', 'The grid interval must be more than 0 ms.', 'intervalMs');
  if (!(Number.isFinite(opts.from) && Number.isFinite(opts.to)) || opts.to < opts.from) throw new AppError('bad_input', 'The end of the range is before its start.', 'to');
  const T = tags.length;
  const g0 = Math.floor(opts.from / I) * I;
  const K = Math.floor((opts.to - g0) / I) + 1;
  if (K > MAX_GRID_ROWS || K * T > MAX_GRID_CELLS) {
    throw new AppError(
      'bad_input',
      `An interval of ${I} ms from ${new Date(opts.from).toISOString()} to ${new Date(opts.to).toISOString()} gives ${K.toLocaleString('en-US')} rows for ${T} tags, too many to hold. Choose a longer interval or a shorter range.`,
      'intervalMs',
    );
  }
  const progress = control.onProgress ?? (() => undefined);
  const check = control.checkCancelled ?? (() => undefined);

  // 1. The samples in range (times in whole ms, as the CSV writes them).
  progress(0, 'Reading the recording…');
  const S = new Samples();
  for (const part of readBuffer(dir, { from: opts.from, to: opts.to })) {
    check();
    for (const s of part) {
      if (s.tag >= T) continue;
      const bad = s.quality === 'bad';
      S.push(Math.floor(s.t), bad || s.value === null ? NaN : s.value, s.tag, bad);
    }
  }
  const n = S.n;
  const fd = fs.openSync(outFile, 'w');
  try {
    const out = new RowWriter(fd, tags.map((x) => x.name));
    out.text('time,tag,value,quality\n');
    if (n === 0) {
      out.flush();
      return { rows: 0, samples: 0 };
    }
    progress(0.3, 'Putting the samples in time order…');

    // 2. Time order (stable): usually the file's order already.
    const { t, v, tag, bad } = S;
    let order: Uint32Array | null = null;
    for (let i = 1; i < n; i++) {
      if (t[i]! < t[i - 1]!) {
        order = new Uint32Array(n);
        for (let j = 0; j < n; j++) order[j] = j;
        order.sort((a, b) => t[a]! - t[b]! || a - b);
        break;
      }
    }
    check();

    // 3. Which slots have a sample of which tag; how many samples each tag has.
    const has = new Uint8Array(Math.ceil((K * T) / 8));
    const perTag = new Uint32Array(T);
    for (let i = 0; i < n; i++) {
      const bit = tag[i]! * K + Math.floor((t[i]! - g0) / I);
      has[bit >>> 3]! |= 1 << (bit & 7);
      perTag[tag[i]!]!++;
    }
    const hasSample = (k: number, slot: number) => {
      const bit = k * K + slot;
      return (has[bit >>> 3]! & (1 << (bit & 7))) !== 0;
    };

    // 4. Values held from before the range, and the gaps.
    const gaps = gapIndex(readGaps(dir), T);
    const held = new Float64Array(T).fill(NaN);
    const heldT = new Float64Array(T);
    const need = new Set<number>();
    for (let k = 0; k < T; k++) if (!hasSample(k, 0)) need.add(k);
    if (need.size) {
      progress(0.35, 'Looking up the values before the range…');
      seedsBefore(dir, opts.from, need, gaps, held, heldT, check);
    }

    // 5. Slot by slot in time order: held values at the slot's start, then the slot's samples.
    progress(0.4, 'Writing the rows…');
    let rows = 0;
    let lastRow = -Infinity;
    const row = (time: number, k: number, value: number, quality: 'good' | 'bad') => {
      out.row(time, k, value, quality);
      rows++;
      lastRow = time;
    };
    let i = 0;
    for (let slot = 0; slot < K; slot++) {
      if ((slot & 0xffff) === 0 && slot) {
        check();
        progress(0.4 + (0.6 * slot) / K);
      }
      const s = g0 + slot * I;
      const next = s + I;
      for (let k = 0; k < T; k++) {
        if (held[k] !== held[k] || hasSample(k, slot)) continue;
        if (gapWithin(gaps[k]!, heldT[k]!, s)) {
          held[k] = NaN;
          continue;
        }
        row(s, k, held[k]!, 'good');
      }
      if (slot === 0) {
        // Pin the grid's start at g0, and give every tag without any row its (empty) column.
        for (let k = 0; k < T; k++) if (perTag[k] === 0 && held[k] !== held[k]) row(s, k, NaN, 'good');
        if (lastRow !== s) row(s, 0, NaN, 'good');
      }
      for (; i < n; i++) {
        const j = order ? order[i]! : i;
        const tj = t[j]!;
        if (tj >= next) break;
        const k = tag[j]!;
        const value = v[j]!;
        row(tj, k, value, bad[j] ? 'bad' : 'good');
        held[k] = value;
        heldT[k] = tj;
      }
      if (slot === K - 1 && lastRow < s) row(s, 0, NaN, 'good');
    }
    out.flush();
    progress(1);
    return { rows, samples: n };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The last sample before `from` of each tag in `need`, looked up backwards in
 * the buffer, as the value to hold into the range: only a good one with a
 * number, and not when a gap of the tag or the source overlaps the time
 * between it and `from`. Stops as soon as every tag is settled or no older sample could
 * count any more.
 */
function seedsBefore(dir: string, from: number, need: Set<number>, gaps: GapIndex[], held: Float64Array, heldT: Float64Array, check: () => void): void {
  // A sample before the end of a gap that starts at or before `from` can never be held into the range.
  const floor = new Float64Array(held.length).fill(-Infinity);
  for (const k of need) floor[k] = latestEndBy(gaps[k]!, from);
  let oldestUseful = Math.min(...[...need].map((k) => floor[k]!));
  for (const part of readBackward(dir, { before: from })) {
    check();
    for (const s of part) {
      const k = s.tag;
      if (!need.has(k)) continue;
      const t = Math.floor(s.t);
      if (t >= floor[k]! && s.quality === 'good' && s.value !== null) {
        held[k] = s.value;
        heldT[k] = t;
      }
      // The newest sample before the range settles the tag, usable or not.
      need.delete(k);
      if (!need.size) return;
      oldestUseful = Math.min(...[...need].map((x) => floor[x]!));
    }
    const oldest = Math.floor(part[part.length - 1]!.t);
    if (oldest < oldestUseful) return;
  }
}
