/**
 * recordings.live on a recording with thousands of gaps sends only what the
 * recording page uses: the newest GAP_ROWS gaps for its table, every gap that
 * overlaps the time of the spark points sent (to break the lines), and the
 * count of all. Through the core, against a real Mosquitto broker, for a
 * stopped recording (read from disk) and a running one (held in memory).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GAP_ROWS, type RecordingGap, type RecordingLive, type Tag } from '../../../shared/recording';
import { createCore, type Core } from '../compose';
import { coreCaller } from '../../test-support/core-call';
import { HAVE_MOSQUITTO, Mosquitto, startPublisher } from '../../test-support/mosquitto';
import { readGaps, RecordingBuffer } from './buffer';
import { gapView, Recorder } from './recorder';
import { mqttDriver } from './mqtt';
import { until } from '../../test-support/until';

const TAGS: Tag[] = [
  { id: 'plant/pump1#temperature', name: 'temperature' },
  { id: 'plant/pump1#motor.current', name: 'motor current' },
];

let root: string;
let core: Core | null = null;
let broker: Mosquitto | null = null;
let publisher: Awaited<ReturnType<typeof startPublisher>> | null = null;
let source = 0;
const call = coreCaller(() => core!);
const open = (resumeRecordings: boolean) => createCore({ workspaceDir: path.join(root, 'ws'), resumeEndpoints: false, monitor: false, resumeRecordings });
const recDir = (id: number) => path.join(core!.ws.dir, 'recordings', String(id));

/** The gaps of `all` left out of a live answer that break a sparkline (as breakAtGaps does: the tag's own or the whole source's, between two of its points): the page would draw a line across them. */
function missed(live: RecordingLive, all: readonly RecordingGap[], now: number): RecordingGap[] {
  const sent = new Set(live.gaps.map((g) => JSON.stringify(g)));
  const breaks = (g: RecordingGap) =>
    live.tags.some((t) => {
      if (t.spark.length < 2 || (g.tagId !== null && g.tagId !== t.id)) return false;
      const a = Date.parse(g.start);
      const b = g.end === null ? now : Date.parse(g.end);
      return t.spark.some((p, i) => i > 0 && a < p.t && b > t.spark[i - 1]!.t);
    });
  return all.filter((g) => !sent.has(JSON.stringify(g)) && breaks(g));
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-live-gaps-'));
  if (!HAVE_MOSQUITTO) return;
  broker = await Mosquitto.start();
  publisher = await startPublisher(broker.url, { topic: 'plant/pump1', everyMs: 100 });
  core = open(true);
  source = (await call('sources.save', { name: 'Gateway', settings: { kind: 'mqtt', url: broker.url, topic: 'plant/#', payload: 'json', rejectUnauthorized: true } })).id;
}, 60_000);

afterAll(async () => {
  await core?.close();
  await publisher?.stop();
  await broker?.close();
  fs.rmSync(root, { recursive: true, force: true });
}, 30_000);

describe.skipIf(!HAVE_MOSQUITTO)('recordings.live with 5,000 gaps', () => {
  it('of a stopped recording sends the newest 100 and those overlapping the sparklines, with the total, and the page shows the same', async () => {
    const rec = await call('recordings.start', { source, tags: TAGS, intervalMs: 1000 });
    await until('a sample', async () => (await call('recordings.get', { id: rec.id })).samples >= 1);
    await call('recordings.stop', { id: rec.id });
    // Its buffer replaced by a known one: 10,000 s of temperature each second, motor current every 10 s.
    const dir = recDir(rec.id);
    fs.rmSync(dir, { recursive: true, force: true });
    const T0 = Date.UTC(2026, 0, 5, 6, 0, 0);
    const s = (sec: number) => T0 + sec * 1000;
    const b = RecordingBuffer.open(dir);
    for (let k = 0; k < 10_000; k++) {
      b.append({ t: s(k), tag: 0, value: k, quality: 'good' });
      if (k % 10 === 0) b.append({ t: s(k), tag: 1, value: k / 10, quality: 'good' });
    }
    // 50 points each: temperature from 9,950 s, motor current from 9,500 s; the sparklines cover 9,500 s to now.
    // Gap 0, the oldest: motor current silent from 50 s to 9,600 s, into the sparklines.
    b.gapStart(s(50), 'No value from motor current for 30 s.', 1);
    b.gapEnd(s(9_600), 1);
    // Gap 1 ends just before them.
    b.gapStart(s(60), 'Lost the connection: the server closed it.', null);
    b.gapEnd(s(9_499), null);
    // Then short temperature gaps, 100 s to about 7,600 s; number 3,000 lasts from 8,000 s to 9,970 s.
    for (let i = 2; i < 5000; i++) {
      const start = i === 3000 ? s(8_000) : s(100 + i * 1.5);
      b.gapStart(start, `No value from temperature for ${i} s.`, 0);
      b.gapEnd(i === 3000 ? s(9_970) : start + 500, 0);
    }
    b.close();

    const live = await call('recordings.live', { id: rec.id, points: 50 });
    const now = Date.now();
    const all = readGaps(dir).map((g) => gapView(g, TAGS));
    expect(all).toHaveLength(5000);
    expect(live.gapsTotal).toBe(5000);
    // The two older ones the sparklines need, then the newest 100, oldest first as the table lists them; each once.
    expect(live.gaps).toEqual([all[0], all[3000], ...all.slice(5000 - GAP_ROWS)]);
    expect(live.gaps[0]).toMatchObject({ tagId: 'plant/pump1#motor.current', end: new Date(s(9_600)).toISOString() });
    expect(live.gaps.at(-1)!.reason).toBe('No value from temperature for 4999 s.');
    // No gap the sparklines cross is left out.
    expect(missed(live, all, now)).toEqual([]);
    expect(new Set(live.gaps.map((g) => JSON.stringify(g))).size).toBe(live.gaps.length);
  }, 60_000);

  it('of a running recording sends the newest 100 and the total, read from memory', async () => {
    const rec = await call('recordings.start', { source, tags: TAGS, intervalMs: 1000 });
    await until('samples', async () => (await call('recordings.get', { id: rec.id })).samples >= 2);
    // The app closes; while it is away 5,000 gaps are added to the buffer, before its last sample.
    await core!.close();
    core = null;
    const dir = path.join(root, 'ws', 'recordings', String(rec.id));
    expect(readGaps(dir)).toEqual([]);
    const b = RecordingBuffer.open(dir);
    const before = b.stats().firstT! - 3_600_000;
    for (let i = 0; i < 5000; i++) {
      b.gapStart(before + i * 600, `No value from temperature for ${i} s.`, 0);
      b.gapEnd(before + i * 600 + 300, 0);
    }
    b.close();
    core = open(true);
    await until('recording again', async () => (await call('recordings.get', { id: rec.id })).state === 'recording');
    await until('new sparkline points', async () => (await call('recordings.live', { id: rec.id, points: 5 })).tags.every((t) => t.spark.length >= 2));
    const live = await call('recordings.live', { id: rec.id, points: 5 });
    // The time it was closed is the newest gap (number 5,001); none of the 5,000 reaches the sparklines of points since.
    expect(live.gapsTotal).toBe(5001);
    expect(live.gaps).toHaveLength(GAP_ROWS);
    expect(live.gaps.at(-1)!.reason).toBe('Millwright was not running.');
    expect(live.gaps.slice(0, -1).map((g) => g.reason)).toEqual(Array.from({ length: GAP_ROWS - 1 }, (_, i) => `No value from temperature for ${5001 - GAP_ROWS + i} s.`));
    const all = [...readGaps(dir).map((g) => gapView(g, TAGS)).slice(0, 5000), live.gaps.at(-1)!];
    expect(missed(live, all, Date.now())).toEqual([]);
    await call('recordings.stop', { id: rec.id });
  }, 60_000);
});

describe('a recorder holding thousands of gaps', () => {
  it('gives recordings.live the ones overlapping the sparklines however old, the newest 100, and the count of all', async () => {
    const dir = path.join(root, 'recorder');
    const T0 = Date.UTC(2026, 0, 5, 6, 0, 0);
    const b = RecordingBuffer.open(dir);
    b.append({ t: T0, tag: 0, value: 1, quality: 'good' });
    // Gap 0: the whole source, from the start until 2 h later; then 5,000 short temperature gaps, one a second.
    b.gapStart(T0, 'Lost the connection: the server closed it.', null);
    b.gapEnd(T0 + 7_200_000, null);
    for (let i = 1; i <= 5000; i++) {
      b.gapStart(T0 + i * 1000, `No value from temperature for ${i} s.`, 0);
      b.gapEnd(T0 + i * 1000 + 500, 0);
    }
    // Gap 5,001: motor current still silent.
    b.gapStart(T0 + 5_100_000, 'No value from motor current for 30 s.', 1);
    b.close();
    // Not started: what it holds is what it read from its buffer (the open gap ended as it opened).
    const recorder = new Recorder({ dir, tags: TAGS, intervalMs: 1000, driver: mqttDriver, connectOptions: () => ({ settings: { kind: 'mqtt', url: 'mqtt://127.0.0.1:1', topic: 'plant/#', payload: 'json', rejectUnauthorized: true }, pkiDir: path.join(root, 'pki'), trusted: new Set() }), onStatus: () => undefined });
    try {
      const all = recorder.gaps();
      expect(all).toHaveLength(5002);
      const [temperature, current] = TAGS.map((t) => t.id) as [string, string];
      const windows = (w: Record<string, { from: number; to: number }>) => new Map(Object.entries(w));
      // Temperature's sparkline from 2,000.2 s to 7,000 s: gap 0 and temperature gaps 2,000 s on, then the newest 100 (the last, 5,001, among them).
      const sent = recorder.liveGaps(windows({ [temperature]: { from: T0 + 2_000_200, to: T0 + 7_000_000 } }));
      expect(sent.total).toBe(5002);
      expect(sent.gaps).toEqual([all[0], ...all.slice(2000, 5002)]);
      // No sparkline points: the newest 100 only.
      expect(recorder.liveGaps(new Map())).toEqual({ gaps: all.slice(5002 - GAP_ROWS), total: 5002 });
      // Sparklines after all of them but the one still going (ended at the recorder's start, here).
      const late = recorder.liveGaps(windows({ [temperature]: { from: T0 + 8_000_000, to: Date.now() }, [current]: { from: T0 + 8_000_000, to: Date.now() } }));
      expect(late.gaps).toEqual(all.slice(5002 - GAP_ROWS));
      expect(late.gaps.filter((g) => g.tag === 'motor current')).toHaveLength(1);
      // Motor current quiet since the start keeps its first points; its window is its own, so the temperature gaps since are not sent for it.
      const quiet = recorder.liveGaps(windows({ [temperature]: { from: T0 + 6_000_000, to: T0 + 7_000_000 }, [current]: { from: T0, to: T0 + 1000 } }));
      expect(quiet.gaps).toEqual([all[0], ...all.slice(5002 - GAP_ROWS)]);
    } finally {
      await recorder.stop();
    }
  });
});
