import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingBuffer, readBackward, readBuffer, readGaps, readGapsKept, scanBuffer, tailBuffer, type BufferedSample } from './buffer';

const HEADER = 8;
const REC = 24;
const ROOT = path.resolve(__dirname, '../../..');

let dir: string;
const open: RecordingBuffer[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-buffer-'));
});

afterEach(() => {
  for (const b of open.splice(0)) b.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function openBuffer(opts: Parameters<typeof RecordingBuffer.open>[1] = {}): RecordingBuffer {
  const b = RecordingBuffer.open(dir, opts);
  open.push(b);
  return b;
}

function all(d = dir, range?: { from?: number; to?: number }): BufferedSample[] {
  return [...readBuffer(d, range)].flat();
}

function segments(d = dir): string[] {
  return fs.readdirSync(d).filter((n) => n.endsWith('.rec')).sort();
}

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);

/** 3 tags, one sample each per second; tag 2 is bad every 10th second, tag 1 has no number every 7th. */
function sample(i: number): BufferedSample {
  const tag = i % 3;
  const sec = Math.floor(i / 3);
  return {
    t: T0 + sec * 1000 + tag,
    tag,
    value: tag === 1 && sec % 7 === 0 ? null : sec * 0.25 + tag * 1000,
    quality: tag === 2 && sec % 10 === 0 ? 'bad' : 'good',
  };
}

describe('RecordingBuffer', () => {
  it('reads back what was appended, with counts, bytes and time span', () => {
    const b = openBuffer();
    const samples = Array.from({ length: 3000 }, (_, i) => sample(i));
    for (const s of samples) b.append(s);
    // Out of time order is kept as appended (file order).
    b.append({ t: T0 - 5000, tag: 0, value: -1.5, quality: 'good' });
    const st = b.stats();
    expect(st).toMatchObject({ samples: 3001, firstT: T0 - 5000, lastT: sample(2999).t });
    b.close();
    b.close(); // idempotent
    const back = all();
    expect(back).toEqual([...samples, { t: T0 - 5000, tag: 0, value: -1.5, quality: 'good' }]);
    const scanned = scanBuffer(dir);
    expect(scanned).toEqual({ samples: 3001, bytes: HEADER + 3001 * REC, firstT: T0 - 5000, lastT: sample(2999).t, gaps: [] });
    expect(st.bytes).toBe(scanned.bytes);
    // Each record is 24 bytes ending in the zlib CRC-32 of the 20 before it.
    const raw = fs.readFileSync(path.join(dir, segments()[0]!));
    expect(raw.subarray(0, HEADER).toString('latin1')).toBe('MWRBUF1\n');
    const at = HEADER + 5 * REC;
    expect(raw.readUInt32LE(at + 20)).toBe(zlib.crc32(raw.subarray(at, at + 20)));
    expect(raw.readDoubleLE(at)).toBe(samples[5]!.t);
  });

  it('filters a range (both ends included) and reads backwards from a point', () => {
    const b = openBuffer();
    for (let i = 0; i < 600; i++) b.append(sample(i));
    b.close();
    const from = T0 + 50_000;
    const to = T0 + 60_001;
    const got = all(dir, { from, to });
    const want = Array.from({ length: 600 }, (_, i) => sample(i)).filter((s) => s.t >= from && s.t <= to);
    expect(got).toEqual(want);
    expect(got[0]!.t).toBe(from);
    expect(got.at(-1)!.t).toBe(to);
    expect(all(dir, { from: T0 + 199_000 }).map((s) => s.tag)).toEqual([0, 1, 2]);
    expect(all(dir, { to: T0 - 1 })).toEqual([]);
    const back = [...readBackward(dir, { before: from })].flat();
    expect(back).toEqual(Array.from({ length: 600 }, (_, i) => sample(i)).filter((s) => s.t < from).reverse());
  });

  it('writes within flushMs without an explicit flush (what a killed process keeps)', async () => {
    const b = openBuffer({ flushMs: 50 });
    for (let i = 0; i < 30; i++) b.append(sample(i));
    expect(scanBuffer(dir).samples).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(scanBuffer(dir).samples).toBe(30);
    expect(all()).toEqual(Array.from({ length: 30 }, (_, i) => sample(i)));
  });

  it('cuts a torn last record when opened again and appends cleanly after it', () => {
    const b = openBuffer();
    for (let i = 0; i < 100; i++) b.append(sample(i));
    b.close();
    open.length = 0;
    const file = path.join(dir, segments()[0]!);
    // A kill in the middle of a write: the last record is 10 bytes short.
    fs.truncateSync(file, HEADER + 100 * REC - 10);
    expect(scanBuffer(dir).samples).toBe(99);
    expect(all()).toEqual(Array.from({ length: 99 }, (_, i) => sample(i)));

    const again = openBuffer();
    expect(fs.statSync(file).size).toBe(HEADER + 99 * REC);
    expect(again.stats().samples).toBe(99);
    for (let i = 99; i < 150; i++) again.append(sample(i));
    again.close();
    expect(all()).toEqual(Array.from({ length: 150 }, (_, i) => sample(i)));

    // A power loss: whole records of zeros and garbage after the last synced one.
    fs.appendFileSync(file, Buffer.alloc(3 * REC));
    fs.appendFileSync(file, crypto.randomBytes(REC + 7));
    expect(scanBuffer(dir).samples).toBe(150);
    const third = openBuffer();
    expect(fs.statSync(file).size).toBe(HEADER + 150 * REC);
    third.append(sample(150));
    third.close();
    expect(all()).toEqual(Array.from({ length: 151 }, (_, i) => sample(i)));
  });

  it('skips a damaged record in the middle, keeps the ones after it', () => {
    const b = openBuffer();
    for (let i = 0; i < 10; i++) b.append(sample(i));
    b.close();
    const file = path.join(dir, segments()[0]!);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, HEADER + 4 * REC + 9); // a flipped byte in record 4's value
    fs.closeSync(fd);
    expect(all()).toEqual(Array.from({ length: 10 }, (_, i) => sample(i)).filter((_, i) => i !== 4));
    const again = openBuffer();
    expect(again.stats().samples).toBe(9);
    expect(fs.statSync(file).size).toBe(HEADER + 10 * REC);
  });

  it('writes a new header over a torn one', () => {
    fs.writeFileSync(path.join(dir, 'seg-00000001.rec'), 'MWR');
    const b = openBuffer();
    b.append(sample(0));
    b.close();
    expect(all()).toEqual([sample(0)]);
    fs.writeFileSync(path.join(dir, 'seg-00000001.rec'), 'not a buffer at all');
    expect(() => RecordingBuffer.open(dir)).toThrow(/is not a recording buffer of Millwright/);
  });

  it('rolls over to new segments at the size given, with summaries, and reads across them', () => {
    const segmentBytes = HEADER + 100 * REC;
    const b = openBuffer({ segmentBytes });
    const samples = Array.from({ length: 1050 }, (_, i) => sample(i));
    for (let i = 0; i < 1050; i++) {
      b.append(samples[i]!);
      if (i % 97 === 0) b.flush();
    }
    b.close();
    open.length = 0;
    const segs = segments();
    expect(segs).toHaveLength(11);
    expect(segs[10]).toBe('seg-00000011.rec');
    for (const s of segs.slice(0, 10)) expect(fs.statSync(path.join(dir, s)).size).toBe(segmentBytes);
    const sums = fs.readdirSync(dir).filter((n) => n.endsWith('.sum.json')).sort();
    expect(sums).toHaveLength(10);
    expect(JSON.parse(fs.readFileSync(path.join(dir, sums[2]!), 'utf8'))).toEqual({ size: segmentBytes, samples: 100, firstT: samples[200]!.t, lastT: samples[299]!.t });
    expect(all()).toEqual(samples);
    const st = scanBuffer(dir);
    expect(st).toMatchObject({ samples: 1050, bytes: 11 * HEADER + 1050 * REC, firstT: samples[0]!.t, lastT: samples[1049]!.t });
    // A range inside one segment, and one across three.
    expect(all(dir, { from: samples[510]!.t, to: samples[520]!.t })).toEqual(samples.slice(510, 521));
    expect(all(dir, { from: samples[150]!.t, to: samples[420]!.t })).toEqual(samples.slice(150, 421));
    // A summary that does not match its segment's size is not trusted.
    fs.writeFileSync(path.join(dir, sums[0]!), JSON.stringify({ size: 1, samples: 5, firstT: 0, lastT: 0 }));
    expect(scanBuffer(dir).samples).toBe(1050);

    const again = openBuffer({ segmentBytes });
    expect(again.stats()).toMatchObject({ samples: 1050, bytes: st.bytes });
    for (let i = 1050; i < 1120; i++) again.append(sample(i));
    again.close();
    expect(segments()).toHaveLength(12);
    expect(all()).toEqual(Array.from({ length: 1120 }, (_, i) => sample(i)));
    expect([...readBackward(dir)].flat()).toEqual(Array.from({ length: 1120 }, (_, i) => sample(i)).reverse());
  });

  it('gives the newest samples per tag from the tail, oldest first', () => {
    const b = openBuffer({ segmentBytes: HEADER + 50 * REC });
    const samples = Array.from({ length: 300 }, (_, i) => sample(i));
    for (const s of samples) b.append(s);
    // Tag 3 reported twice, long ago.
    b.append({ t: T0 + 1, tag: 3, value: 7, quality: 'good' });
    for (let i = 300; i < 330; i++) b.append(sample(i));
    b.close();
    const tail = tailBuffer(dir, 5, 4);
    expect(tail).toHaveLength(5);
    const every = [...samples, { t: T0 + 1, tag: 3, value: 7, quality: 'good' as const }, ...Array.from({ length: 30 }, (_, i) => sample(300 + i))];
    for (const tag of [0, 1, 2]) expect(tail[tag]).toEqual(every.filter((s) => s.tag === tag).slice(-4));
    expect(tail[3]).toEqual([{ t: T0 + 1, tag: 3, value: 7, quality: 'good' }]);
    expect(tail[4]).toEqual([]);
    expect(tailBuffer(dir, 2, 0)).toEqual([[], []]);
    expect(tailBuffer(path.join(dir, 'none'), 2, 3)).toEqual([[], []]);
  });

  it('keeps gap marks for the source and for tags, open ones across a reopen, and drops a torn gap line', () => {
    const b = openBuffer();
    b.gapStart(T0, 'Lost the connection: the server closed it.', null);
    b.gapStart(T0 + 10, 'again', null); // already open: ignored
    b.gapStart(T0 + 500, 'No value from Pump1.Temperature for 30 s.', 1);
    b.gapEnd(T0 + 2000, null);
    b.gapEnd(T0 + 2500, 0); // no open gap for tag 0: ignored
    b.gapStart(T0 + 3000, 'Lost the connection: "timeout"\nsecond line', null);
    const want = [
      { start: T0, end: T0 + 2000, reason: 'Lost the connection: the server closed it.', tag: null },
      { start: T0 + 500, end: null, reason: 'No value from Pump1.Temperature for 30 s.', tag: 1 },
      { start: T0 + 3000, end: null, reason: 'Lost the connection: "timeout"\nsecond line', tag: null },
    ];
    expect(b.stats().gaps).toEqual(want);
    b.close();
    open.length = 0;
    expect(readGaps(dir)).toEqual(want);
    expect(scanBuffer(dir).gaps).toEqual(want);
    expect(scanBuffer(dir).bytes).toBe(HEADER + fs.statSync(path.join(dir, 'gaps.jsonl')).size);

    fs.appendFileSync(path.join(dir, 'gaps.jsonl'), '{"end":99');
    expect(readGaps(dir)).toEqual(want);
    const again = openBuffer();
    expect(again.stats().gaps).toEqual(want);
    again.gapEnd(T0 + 4000, 1);
    again.gapEnd(T0 + 5000, null);
    again.close();
    const text = fs.readFileSync(path.join(dir, 'gaps.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('"end":99');
    expect(readGaps(dir)).toEqual([want[0], { ...want[1], end: T0 + 4000 }, { ...want[2], end: T0 + 5000 }]);
  });

  it('keeps a stopped recording\'s gaps between reads until the gaps file changes', () => {
    const b = openBuffer();
    b.gapStart(T0, 'Lost the connection.', null);
    b.gapEnd(T0 + 1000, null);
    b.close();
    open.length = 0;
    const first = readGapsKept(dir);
    expect(first).toEqual([{ start: T0, end: T0 + 1000, reason: 'Lost the connection.', tag: null }]);
    // Not read again: the same array while the file is unchanged.
    expect(readGapsKept(dir)).toBe(first);
    const again = openBuffer();
    again.gapStart(T0 + 2000, 'No value from Pump1.Temperature for 30 s.', 0);
    again.close();
    const second = readGapsKept(dir);
    expect(second).not.toBe(first);
    expect(second).toEqual([...first, { start: T0 + 2000, end: null, reason: 'No value from Pump1.Temperature for 30 s.', tag: 0 }]);
    fs.rmSync(path.join(dir, 'gaps.jsonl'));
    expect(readGapsKept(dir)).toEqual([]);
  });

  it('refuses samples it cannot store, and appends after close', () => {
    const b = openBuffer();
    expect(() => b.append({ t: T0, tag: 70_000, value: 1, quality: 'good' })).toThrow(RangeError);
    expect(() => b.append({ t: NaN, tag: 0, value: 1, quality: 'good' })).toThrow(RangeError);
    b.close();
    expect(() => b.append(sample(0))).toThrow(/closed/);
    expect(scanBuffer(path.join(dir, 'missing'))).toEqual({ samples: 0, bytes: 0, firstT: null, lastT: null, gaps: [] });
  });

  it('stays failed while its syncs keep failing, and says it recovered once, after a sync succeeds with nothing waiting', async () => {
    const events: string[] = [];
    const realSync = fs.fdatasync;
    let failSyncs = true;
    (fs as { fdatasync: typeof fs.fdatasync }).fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      if (!failSyncs) return realSync(fd, cb);
      setTimeout(() => cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })), 5);
    }) as typeof fs.fdatasync;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      const b = openBuffer({ flushMs: 20, syncMs: 50, onError: () => events.push('error'), onRecovered: () => events.push('recovered') });
      const feed = setInterval(() => b.append(sample(events.length)), 10);
      try {
        await sleep(600);
        // Every write went through, every sync failed: failed throughout, never "recovered" in between.
        expect(events.filter((e) => e === 'error').length).toBeGreaterThanOrEqual(4);
        expect(events).not.toContain('recovered');
        failSyncs = false;
        await sleep(400);
        expect(events.filter((e) => e === 'recovered')).toHaveLength(1);
        expect(events.at(-1)).toBe('recovered');
      } finally {
        clearInterval(feed);
        b.close();
      }
    } finally {
      (fs as { fdatasync: typeof fs.fdatasync }).fdatasync = realSync;
    }
  });

  describe('recovery after failed syncs', () => {
    const realSync = fs.fdatasync;
    const realWrite = fs.writeSync;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    /** fdatasync fails (EIO, 40 ms later) for the fds `failing` says, until put back. */
    const failSyncs = (failing: (fd: number) => boolean) => {
      (fs as { fdatasync: typeof fs.fdatasync }).fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
        if (!failing(fd)) return realSync(fd, cb);
        setTimeout(() => cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })), 40);
      }) as typeof fs.fdatasync;
    };
    afterEach(() => {
      (fs as { fdatasync: typeof fs.fdatasync }).fdatasync = realSync;
      (fs as { writeSync: typeof fs.writeSync }).writeSync = realWrite;
    });
    const add = (b: RecordingBuffer, i: number) => b.append({ t: T0 + i, tag: 0, value: i, quality: 'good' });

    it('recovers when a segment rolled while its failing sync was in flight', async () => {
      let fail = true;
      failSyncs(() => fail);
      const events: string[] = [];
      const b = openBuffer({ flushMs: 10, syncMs: 20, segmentBytes: 8 + 24 * 40, onError: () => events.push('error'), onRecovered: () => events.push('recovered') });
      let i = 0;
      for (let k = 0; k < 30; k++) add(b, i++);
      await sleep(25); // written; the first segment's sync is in flight and will fail
      for (let k = 0; k < 15; k++) add(b, i++);
      await sleep(75); // the segment rolled under it; the sync failed
      expect(events).toContain('error');
      expect(segments()).toHaveLength(2);
      fail = false;
      for (let k = 0; k < 5; k++) {
        add(b, i++);
        await sleep(60);
      }
      expect(events.at(-1)).toBe('recovered');
    });

    it('recovers on a flush that syncs everything, even when the source then stays quiet', async () => {
      let fail = true;
      failSyncs(() => fail);
      const events: string[] = [];
      const b = openBuffer({ flushMs: 10, syncMs: 50, onError: () => events.push('error'), onRecovered: () => events.push('recovered') });
      for (let i = 0; i < 10; i++) add(b, i);
      while (!events.includes('error')) await sleep(5);
      fail = false;
      b.flush(); // the recording page's trend and Save as dataset do this
      await sleep(300);
      expect(events.filter((e) => e === 'recovered')).toHaveLength(1);
      expect(events.at(-1)).toBe('recovered');
    });

    it('does not say recovered while the gaps file still fails to sync after a full disk', async () => {
      const events: string[] = [];
      const b = openBuffer({ flushMs: 10, syncMs: 20, onError: (e) => events.push(`error:${(e as NodeJS.ErrnoException).code}`), onRecovered: () => events.push('recovered') });
      const gapsFd = (b as unknown as { gapsFd: number }).gapsFd;
      failSyncs((fd) => fd === gapsFd);
      let full = true;
      (fs as { writeSync: typeof fs.writeSync }).writeSync = ((fd: number, ...rest: unknown[]) => {
        if (full && fd === (b as unknown as { fd: number }).fd) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return (realWrite as (...a: unknown[]) => number)(fd, ...rest);
      }) as typeof fs.writeSync;
      let i = 0;
      const feed = setInterval(() => add(b, i++), 5);
      try {
        await sleep(100);
        full = false; // room again, but the gaps file's syncs fail
        await sleep(300);
      } finally {
        clearInterval(feed);
      }
      expect(events).toContain('error:ENOSPC');
      expect(events).toContain('error:EIO');
      expect(events).not.toContain('recovered');
      (fs as { fdatasync: typeof fs.fdatasync }).fdatasync = realSync;
    });
  });

  it('writes at once when more than its 64 KB write-behind waits', () => {
    const errors: Error[] = [];
    const b = openBuffer({ flushMs: 60_000, onError: (e) => errors.push(e) });
    for (let i = 0; i < 5000; i++) b.append(sample(i));
    expect(scanBuffer(dir).samples).toBeGreaterThanOrEqual(5000 - Math.floor((64 * 1024) / REC));
    b.flush();
    expect(all()).toEqual(Array.from({ length: 5000 }, (_, i) => sample(i)));
    expect(errors).toEqual([]);
  });
});

/** A child process appending 1000 samples/s with t = 1, 2, 3… and printing the last t it appended every 100 ms. */
function startAppender(first: number) {
  const code = `
    require('tsx/cjs');
    const { RecordingBuffer } = require(${JSON.stringify(path.join(__dirname, 'buffer.ts'))});
    const b = RecordingBuffer.open(${JSON.stringify(dir)});
    let t = ${first};
    setInterval(() => { for (let k = 0; k < 10; k++) { b.append({ t, tag: t % 3, value: t * 0.5, quality: 'good' }); t++; } }, 10);
    setInterval(() => process.stdout.write((t - 1) + '\\n'), 100);
  `;
  const proc = spawn(process.execPath, ['-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const reports: { t: number; at: number }[] = [];
  let err = '';
  let buf = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const t = Number(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (Number.isFinite(t)) reports.push({ t, at: Date.now() });
    }
  });
  const exit = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
  return { proc, reports, exit, stderr: () => err };
}

async function killWhileAppending(first: number): Promise<{ bound: number; killedAt: number; reports: { t: number; at: number }[] }> {
  const child = startAppender(first);
  try {
    const start = Date.now();
    while (child.reports.length < 3) {
      if (Date.now() - start > 20_000) throw new Error(`the appender did not start: ${child.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // A random moment 1.2-2.7 s after it started appending.
    await new Promise((r) => setTimeout(r, 1200 + crypto.randomInt(1500)));
    const killedAt = Date.now();
    child.proc.kill('SIGKILL');
    expect(await child.exit).toBe('SIGKILL');
    // Every sample the child had appended 1 s before the kill must be on disk.
    const before = child.reports.filter((r) => r.at <= killedAt - 1000);
    return { bound: before.at(-1)!.t, killedAt, reports: child.reports };
  } finally {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
  }
}

describe('RecordingBuffer killed while appending', () => {
  it('loses at most the last second, never leaves a half record, and appends cleanly after a reopen', async () => {
    const first = await killWhileAppending(1);
    let got = all().map((s) => s.t);
    const last = got.at(-1) ?? 0;
    expect(last, `killed with ${first.reports.at(-1)!.t} appended; ${first.bound} reported 1 s before`).toBeGreaterThanOrEqual(first.bound);
    // Every t from 1 up to the last, once, in order: nothing lost in the middle, nothing torn.
    expect(got.length).toBe(last);
    expect(got.every((t, i) => t === i + 1)).toBe(true);
    const file = path.join(dir, segments()[0]!);
    const sizeAfterKill = fs.statSync(file).size;
    expect(scanBuffer(dir).samples).toBe(last);

    // Reopened by the next run, which goes on from there and is killed too.
    const second = await killWhileAppending(last + 1);
    got = all().map((s) => s.t);
    const end = got.at(-1) ?? 0;
    expect(end, `killed with ${second.reports.at(-1)!.t} appended; ${second.bound} reported 1 s before`).toBeGreaterThanOrEqual(second.bound);
    expect(got.length).toBe(end);
    expect(got.every((t, i) => t === i + 1)).toBe(true);
    expect(fs.statSync(file).size).toBeGreaterThan(sizeAfterKill);
    const b = openBuffer();
    expect(b.stats().samples).toBe(end);
    expect(fs.statSync(file).size).toBe(HEADER + end * REC);
  }, 60_000);
});
