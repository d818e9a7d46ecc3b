import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Tag } from '../../../shared/recording';
import { RecordingBuffer, type BufferedSample } from './buffer';
import { writeLongCsv } from './to-long';

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
const iso = (ms: number) => new Date(T0 + ms).toISOString();

let dir: string;
let out: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-tolong-'));
  out = path.join(dir, 'out.csv');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

type Step = BufferedSample | { gap: 'start'; t: number; tag: number | null } | { gap: 'end'; t: number; tag: number | null };

function record(steps: Step[]): string {
  const bufDir = path.join(dir, 'buf');
  const b = RecordingBuffer.open(bufDir);
  for (const s of steps) {
    if ('gap' in s) {
      if (s.gap === 'start') b.gapStart(s.t, 'Lost the connection', s.tag);
      else b.gapEnd(s.t, s.tag);
    } else b.append(s);
  }
  b.close();
  return bufDir;
}

const good = (ms: number, tag: number, value: number | null): BufferedSample => ({ t: T0 + ms, tag, value, quality: 'good' });
const bad = (ms: number, tag: number): BufferedSample => ({ t: T0 + ms, tag, value: null, quality: 'bad' });
const tags = (...names: string[]): Tag[] => names.map((name, i) => ({ id: `ns=1;s=T${i}`, name }));

function lines(): string[] {
  const text = fs.readFileSync(out, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('writeLongCsv', () => {
  it('aligns the grid down to the interval, holds values into empty slots, stops at a bad sample, and gives a tag without samples its column', () => {
    const buf = record([
      good(100, 0, 0.5), // before `from`: not a row
      good(300, 0, 1.5),
      good(500, 1, 10),
      good(1300, 0, 2.5),
      bad(3300, 0),
      good(5100, 0, 4),
    ]);
    const r = writeLongCsv(buf, tags('Flow, m3/h', 'Ventil Ø', 'Spare'), { from: T0 + 300, to: T0 + 5200, intervalMs: 1000 }, out);
    expect(lines()).toEqual([
      'time,tag,value,quality',
      `${iso(0)},Spare,,good`,
      `${iso(300)},"Flow, m3/h",1.5,good`,
      `${iso(500)},Ventil Ø,10,good`,
      `${iso(1000)},Ventil Ø,10,good`,
      `${iso(1300)},"Flow, m3/h",2.5,good`,
      `${iso(2000)},"Flow, m3/h",2.5,good`,
      `${iso(2000)},Ventil Ø,10,good`,
      `${iso(3000)},Ventil Ø,10,good`,
      `${iso(3300)},"Flow, m3/h",,bad`,
      `${iso(4000)},Ventil Ø,10,good`,
      `${iso(5000)},Ventil Ø,10,good`,
      `${iso(5100)},"Flow, m3/h",4,good`,
    ]);
    expect(r).toEqual({ rows: 12, samples: 5 });
    expect(iso(0)).toBe('2026-11-26T09:00:00.000Z');
  });

  it('holds the last value from before the range, but never across a gap of the tag or the source', () => {
    const buf = record([
      good(-3_600_000, 0, 7), // X: an hour before, still the value at the start
      good(-20_000, 2, 3), // Z: good, then bad: nothing to hold
      good(-10_000, 1, 5), // Y: its own gap after it: not held
      { gap: 'start', t: T0 - 5000, tag: 1 },
      { gap: 'end', t: T0 - 4000, tag: 1 },
      bad(-2000, 2),
      good(1500, 1, 6),
      { gap: 'start', t: T0 + 2500, tag: null },
      { gap: 'end', t: T0 + 4000, tag: null },
      good(4200, 0, 8),
    ]);
    const r = writeLongCsv(buf, tags('X', 'Y', 'Z'), { from: T0, to: T0 + 5999, intervalMs: 1000 }, out);
    expect(lines()).toEqual([
      'time,tag,value,quality',
      `${iso(0)},X,7,good`,
      `${iso(0)},Z,,good`,
      `${iso(1000)},X,7,good`,
      `${iso(1500)},Y,6,good`,
      `${iso(2000)},X,7,good`,
      `${iso(2000)},Y,6,good`,
      // 3000 and 4000: in the gap (X's and Y's values are unknown from 2500 on)
      `${iso(4200)},X,8,good`,
      `${iso(5000)},X,8,good`,
    ]);
    expect(r).toEqual({ rows: 8, samples: 2 });
  });

  it('does not hold a value across a gap that began just before it (a resume after a kill, or a server clock ahead of this PC)', () => {
    // The gap mark of the time nobody recorded starts 2 s before the last sample on disk and ends at 6 s.
    const buf = record([good(0, 0, 1), good(1000, 0, 2), good(3000, 0, 3), { gap: 'start', t: T0 + 1000, tag: null }, { gap: 'end', t: T0 + 6000, tag: null }, good(6500, 0, 7)]);
    writeLongCsv(buf, tags('A'), { from: T0, to: T0 + 7000, intervalMs: 1000 }, out);
    const rows = lines().slice(1).map((l) => l.split(','));
    const at = (ms: number) => rows.filter((r) => r[0] === iso(ms)).map((r) => r[2]);
    expect(at(3000)).toEqual(['3']);
    // 4 s and 5 s lie in the gap: no value made up for them, even though the last sample came after the gap began.
    expect(at(4000)).toEqual([]);
    expect(at(5000)).toEqual([]);
    expect(at(6500)).toEqual(['7']);
  });

  it('writes samples appended out of order in time order, and pins the grid to the last slot', () => {
    const buf = record([good(2000, 0, 2), good(1000, 0, 0.1 + 0.2), good(500, 0, 1e-7), { gap: 'start', t: T0 + 2500, tag: 0 }]);
    const r = writeLongCsv(buf, tags('P'), { from: T0, to: T0 + 4000, intervalMs: 1000 }, out);
    expect(lines()).toEqual([
      'time,tag,value,quality',
      `${iso(0)},P,,good`,
      `${iso(500)},P,1e-7,good`,
      `${iso(1000)},P,0.30000000000000004,good`,
      `${iso(2000)},P,2,good`,
      `${iso(4000)},P,,good`,
    ]);
    expect(r).toEqual({ rows: 5, samples: 3 });
  });

  it('writes only the header when the range has no samples', () => {
    const buf = record([good(0, 0, 1)]);
    expect(writeLongCsv(buf, tags('P'), { from: T0 + 1000, to: T0 + 9000, intervalMs: 1000 }, out)).toEqual({ rows: 0, samples: 0 });
    expect(lines()).toEqual(['time,tag,value,quality']);
  });

  it('refuses a grid too large to hold, and a range that ends before it starts', () => {
    const buf = record([good(0, 0, 1)]);
    expect(() => writeLongCsv(buf, tags('P', 'Q'), { from: T0, to: T0 + 30 * 86_400_000, intervalMs: 100 }, out)).toThrow(/too many to hold\. Choose a longer interval or a shorter range/);
    expect(() => writeLongCsv(buf, tags('P'), { from: T0, to: T0 - 1, intervalMs: 1000 }, out)).toThrow(/end of the range is before its start/);
    expect(() => writeLongCsv(buf, tags('P'), { from: T0, to: T0, intervalMs: 0 }, out)).toThrow(/more than 0 ms/);
  });

  it('stops when cancelled', () => {
    const buf = record([good(0, 0, 1)]);
    expect(() =>
      writeLongCsv(buf, tags('P'), { from: T0, to: T0 + 1000, intervalMs: 1000 }, out, {
        checkCancelled: () => {
          throw new Error('cancelled');
        },
      }),
    ).toThrow('cancelled');
  });
});
