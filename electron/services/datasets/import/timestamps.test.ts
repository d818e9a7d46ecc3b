import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../shared/errors';
import { TIME_FORMATS, type TimeFormat } from '../../../../shared/datasets';
import { createTimeParser, DstFlag, guessTimeFormat, zonedToUtc } from './timestamps';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Parses in UTC, where wall time and UTC coincide, so expectations are plain Date.UTC values. */
function utc(format: TimeFormat, raw: string): number {
  return createTimeParser(format, 'UTC').parse(raw);
}

/** Deterministic PRNG (mulberry32): tests must not depend on Math.random. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The wall time an instant shows in a zone, as 'yyyy-mm-dd hh:mm:ss', from
 * Intl's Swedish locale (which prints ISO-like). An oracle that shares no
 * code with the module under test.
 */
function wallText(t: number, timeZone: string): string {
  let f = wallFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', { timeZone, hourCycle: 'h23', dateStyle: 'short', timeStyle: 'medium' });
    wallFormats.set(timeZone, f);
  }
  return f.format(t);
}
const wallFormats = new Map<string, Intl.DateTimeFormat>();

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function isoText(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

describe('iso', () => {
  it('reads date and time with T or space, seconds optional', () => {
    expect(utc('iso', '2024-03-01T12:00:00')).toBe(Date.UTC(2024, 2, 1, 12));
    expect(utc('iso', '2024-03-01 12:00:00')).toBe(Date.UTC(2024, 2, 1, 12));
    expect(utc('iso', '2024-03-01T12:34')).toBe(Date.UTC(2024, 2, 1, 12, 34));
    expect(utc('iso', '2024-03-01 23:59:59')).toBe(Date.UTC(2024, 2, 1, 23, 59, 59));
    expect(utc('iso', '1999-12-31t00:00:01')).toBe(Date.UTC(1999, 11, 31, 0, 0, 1));
  });

  it('reads a date alone as local midnight', () => {
    expect(utc('iso', '2024-03-01')).toBe(Date.UTC(2024, 2, 1));
    expect(createTimeParser('iso', 'Europe/Berlin').parse('2024-03-01')).toBe(Date.UTC(2024, 1, 29, 23));
  });

  it('reads fractional seconds of 1 to 9 digits', () => {
    const base = Date.UTC(2024, 2, 1, 12);
    expect(utc('iso', '2024-03-01 12:00:00.1')).toBe(base + 100);
    expect(utc('iso', '2024-03-01 12:00:00.12')).toBe(base + 120);
    expect(utc('iso', '2024-03-01 12:00:00.123')).toBe(base + 123);
    expect(utc('iso', '2024-03-01T12:00:00,5')).toBe(base + 500);
    expect(utc('iso', '2024-03-01 12:00:00.123456') - base).toBeCloseTo(123.456, 3);
    expect(utc('iso', '2024-03-01 12:00:00.999999999') - base).toBeCloseTo(999.999999, 3);
    // NAB data writes microseconds.
    expect(utc('iso', '2014-04-10 07:15:00.000000')).toBe(Date.UTC(2014, 3, 10, 7, 15));
  });

  it('applies explicit offsets and ignores the zone for them', () => {
    const noon = Date.UTC(2024, 2, 1, 12);
    for (const zone of ['UTC', 'Europe/Berlin', 'America/New_York']) {
      const p = createTimeParser('iso', zone);
      expect(p.parse('2024-03-01T12:00Z')).toBe(noon);
      expect(p.parse('2024-03-01T12:00:00z')).toBe(noon);
      expect(p.parse('2024-03-01T13:00:00+01:00')).toBe(noon);
      expect(p.parse('2024-03-01T13:00:00+0100')).toBe(noon);
      expect(p.parse('2024-03-01T13:00:00+01')).toBe(noon);
      expect(p.parse('2024-03-01T07:00:00-0500')).toBe(noon);
      expect(p.parse('2024-03-01T17:30:00.000+05:30')).toBe(noon);
      expect(p.parse('2024-03-01 12:00:00 UTC')).toBe(noon);
      expect(p.parse('2024-03-01 13:00:00 +01:00')).toBe(noon);
      expect(p.lastFlag).toBe(DstFlag.None);
    }
  });

  it('rejects invalid dates, times and text with NaN', () => {
    for (const bad of [
      '',
      'garbage',
      '2024-13-01',
      '2024-00-10',
      '2024-02-30',
      '2023-02-29',
      '2024-04-31',
      '2024-03-01 24:61',
      '2024-03-01 24:00',
      '2024-03-01 25:00',
      '2024-03-01 12:60',
      '2024-03-01 12:00:60',
      '2024-03-01T',
      '2024-03-01 12',
      '2024-03-01 12:0',
      '2024-03-01 12:00:00.',
      '2024-03-01 12:00:00 trailing',
      '2024-03-01 12:00+25:00',
      '2024-03-01 12:00+01:60',
      '20245-03-01',
      '24-03-01',
      '2024/03/01 12:00',
      '01.03.2024 12:00',
      '1709294400',
    ]) {
      expect(utc('iso', bad), bad).toBeNaN();
    }
  });

  it('accepts 29 February in leap years only', () => {
    expect(utc('iso', '2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(utc('iso', '2000-02-29')).toBe(Date.UTC(2000, 1, 29));
    expect(utc('iso', '1900-02-29')).toBeNaN();
  });

  it('agrees with Date.UTC over many random instants, in any order', () => {
    const r = rng(7);
    const p = createTimeParser('iso', 'UTC');
    for (let i = 0; i < 5000; i++) {
      const t = Math.floor(Date.UTC(1975, 0, 1) + r() * 120 * 365 * DAY);
      const sec = t - (t % 1000);
      expect(p.parse(isoText(sec))).toBe(sec);
    }
  });
});

describe('dmy', () => {
  it('reads dots, slashes and dashes, one- or two-digit fields, with or without seconds', () => {
    expect(utc('dmy', '01.03.2024 12:00')).toBe(Date.UTC(2024, 2, 1, 12));
    expect(utc('dmy', '01.03.2024 12:00:05')).toBe(Date.UTC(2024, 2, 1, 12, 0, 5));
    expect(utc('dmy', '1.3.2024 7:05')).toBe(Date.UTC(2024, 2, 1, 7, 5));
    expect(utc('dmy', '01/03/2024')).toBe(Date.UTC(2024, 2, 1));
    expect(utc('dmy', '01-03-2024 12:00')).toBe(Date.UTC(2024, 2, 1, 12));
    expect(utc('dmy', '31.12.2024 23:59:59.250')).toBe(Date.UTC(2024, 11, 31, 23, 59, 59, 250));
    expect(utc('dmy', '31.12.2024, 23:59')).toBe(Date.UTC(2024, 11, 31, 23, 59));
    expect(utc('dmy', '31/12/2024 11:59 PM')).toBe(Date.UTC(2024, 11, 31, 23, 59));
  });

  it('puts the day first', () => {
    expect(utc('dmy', '02.03.2024')).toBe(Date.UTC(2024, 2, 2));
    expect(utc('dmy', '13.01.2024')).toBe(Date.UTC(2024, 0, 13));
    expect(utc('dmy', '01.13.2024')).toBeNaN();
  });

  it('rejects impossible dates, two-digit years and mixed separators', () => {
    for (const bad of ['31.02.2024', '29.02.2023', '00.01.2024', '32.01.2024', '01.03.24', '01.03/2024', '01.03.2024 24:00', '01.03.2024 12:61', '01.03.2024 13:00 PM', '2024-03-01', '']) {
      expect(utc('dmy', bad), bad).toBeNaN();
    }
  });

  it('reads local time in the zone', () => {
    const p = createTimeParser('dmy', 'Europe/Berlin');
    expect(p.parse('15.01.2024 12:00')).toBe(Date.UTC(2024, 0, 15, 11));
    expect(p.parse('15.07.2024 12:00')).toBe(Date.UTC(2024, 6, 15, 10));
  });
});

describe('mdy', () => {
  it('reads 12-hour clocks: 12 AM is midnight, 12 PM is noon', () => {
    expect(utc('mdy', '03/01/2024 12:00 PM')).toBe(Date.UTC(2024, 2, 1, 12));
    expect(utc('mdy', '03/01/2024 12:00 AM')).toBe(Date.UTC(2024, 2, 1, 0));
    expect(utc('mdy', '03/01/2024 12:30:15 am')).toBe(Date.UTC(2024, 2, 1, 0, 30, 15));
    expect(utc('mdy', '3/1/2024 1:05:09 am')).toBe(Date.UTC(2024, 2, 1, 1, 5, 9));
    expect(utc('mdy', '3/1/2024 1:05:09 pm')).toBe(Date.UTC(2024, 2, 1, 13, 5, 9));
    expect(utc('mdy', '3/1/2024 11:59 P.M.')).toBe(Date.UTC(2024, 2, 1, 23, 59));
    expect(utc('mdy', '3/1/2024 1:00PM')).toBe(Date.UTC(2024, 2, 1, 13));
  });

  it('also reads 24-hour clocks and dates alone', () => {
    expect(utc('mdy', '03/01/2024 13:00')).toBe(Date.UTC(2024, 2, 1, 13));
    expect(utc('mdy', '03/01/2024 00:15')).toBe(Date.UTC(2024, 2, 1, 0, 15));
    expect(utc('mdy', '12/31/2024')).toBe(Date.UTC(2024, 11, 31));
  });

  it('puts the month first and rejects what cannot be', () => {
    expect(utc('mdy', '01/13/2024')).toBe(Date.UTC(2024, 0, 13));
    for (const bad of ['13/01/2024', '02/30/2024', '03/01/2024 13:00 PM', '03/01/2024 0:30 AM', '03/01/2024 12:00 XM', '03/01/24']) {
      expect(utc('mdy', bad), bad).toBeNaN();
    }
  });
});

describe('ymd-slash', () => {
  it('reads year/month/day with optional time', () => {
    expect(utc('ymd-slash', '2024/03/01 12:00')).toBe(Date.UTC(2024, 2, 1, 12));
    expect(utc('ymd-slash', '2024/03/01 12:00:07')).toBe(Date.UTC(2024, 2, 1, 12, 0, 7));
    expect(utc('ymd-slash', '2024/3/1')).toBe(Date.UTC(2024, 2, 1));
    for (const bad of ['2024/02/30 12:00', '2024/13/01', '2024-03-01 12:00', '2024/03/01 12:00Z', '24/03/01']) {
      expect(utc('ymd-slash', bad), bad).toBeNaN();
    }
  });
});

describe('numeric formats', () => {
  it('unix seconds, including fractions, are absolute', () => {
    const p = createTimeParser('unix-s', 'Europe/Berlin');
    expect(p.parse('1709294400')).toBe(Date.UTC(2024, 2, 1, 12));
    expect(p.parse('1709294400.123')).toBe(Date.UTC(2024, 2, 1, 12, 0, 0, 123));
    expect(p.parse('1709294400.5')).toBe(Date.UTC(2024, 2, 1, 12, 0, 0, 500));
    expect(p.parse('1.7092944e9')).toBe(Date.UTC(2024, 2, 1, 12));
    // A DST-repeated wall time in Berlin means nothing to an absolute number.
    expect(p.parse(String(Date.UTC(2024, 9, 27, 0, 30) / 1000))).toBe(Date.UTC(2024, 9, 27, 0, 30));
    expect(p.lastFlag).toBe(DstFlag.None);
  });

  it('unix milliseconds are taken as they are', () => {
    const p = createTimeParser('unix-ms', 'America/New_York');
    expect(p.parse('1709294400123')).toBe(1709294400123);
    expect(p.parse('-1000')).toBe(-1000);
    expect(p.lastFlag).toBe(DstFlag.None);
  });

  it('excel serials count days from 1899-12-30 in local wall time', () => {
    expect(utc('excel-serial', '45352')).toBe(Date.UTC(2024, 2, 1));
    expect(utc('excel-serial', '45352.5')).toBe(Date.UTC(2024, 2, 1, 12));
    expect(utc('excel-serial', '45352,25')).toBe(Date.UTC(2024, 2, 1, 6));
    expect(utc('excel-serial', '25569')).toBe(0);
    expect(utc('excel-serial', '61')).toBe(Date.UTC(1900, 2, 1));
    // Excel writes 12:00:01 as a fraction that is not exact; we round to the ms.
    expect(utc('excel-serial', String(45352 + 43201 / 86400))).toBe(Date.UTC(2024, 2, 1, 12, 0, 1));
    const berlin = createTimeParser('excel-serial', 'Europe/Berlin');
    expect(berlin.parse('45352.5')).toBe(Date.UTC(2024, 2, 1, 11));
    // 2024-03-31 02:30 Berlin does not exist: it moves forward like text does.
    expect(berlin.parse(String(45382 + 2.5 / 24))).toBe(Date.UTC(2024, 2, 31, 1, 30));
    expect(berlin.lastFlag).toBe(DstFlag.Gap);
    expect(utc('excel-serial', '60')).toBeNaN();
  });

  it('rejects text that Number() would take', () => {
    for (const f of ['unix-s', 'unix-ms', 'excel-serial'] as const) {
      for (const bad of ['', ' ', 'abc', '0x10', 'Infinity', 'NaN', '1e', '1.2.3', '12abc', '--5', '2024-03-01']) {
        expect(utc(f, bad), `${f} ${bad}`).toBeNaN();
      }
    }
  });
});

describe('time zones and DST', () => {
  it('Europe/Berlin: the spring gap moves forward and is flagged', () => {
    const p = createTimeParser('iso', 'Europe/Berlin');
    expect(p.parse('2024-03-31 02:30:00')).toBe(Date.UTC(2024, 2, 31, 1, 30));
    expect(p.lastFlag).toBe(DstFlag.Gap);
    // The same instant written as 03:30 CEST is not flagged.
    expect(p.parse('2024-03-31 03:30:00')).toBe(Date.UTC(2024, 2, 31, 1, 30));
    expect(p.lastFlag).toBe(DstFlag.None);
    expect(p.parse('2024-03-31 01:59:59')).toBe(Date.UTC(2024, 2, 31, 0, 59, 59));
    expect(p.lastFlag).toBe(DstFlag.None);
    expect(p.parse('2024-03-31 02:00:00')).toBe(Date.UTC(2024, 2, 31, 1, 0));
    expect(p.lastFlag).toBe(DstFlag.Gap);
    expect(p.parse('2024-03-31 03:00:00')).toBe(Date.UTC(2024, 2, 31, 1, 0));
    expect(p.lastFlag).toBe(DstFlag.None);
  });

  it('Europe/Berlin: the autumn repeat takes the first occurrence and is flagged', () => {
    const p = createTimeParser('iso', 'Europe/Berlin');
    expect(p.parse('2024-10-27 02:30:00')).toBe(Date.UTC(2024, 9, 27, 0, 30));
    expect(p.lastFlag).toBe(DstFlag.Repeated);
    expect(p.parse('2024-10-27 02:00:00')).toBe(Date.UTC(2024, 9, 27, 0, 0));
    expect(p.lastFlag).toBe(DstFlag.Repeated);
    expect(p.parse('2024-10-27 01:59:59')).toBe(Date.UTC(2024, 9, 26, 23, 59, 59));
    expect(p.lastFlag).toBe(DstFlag.None);
    expect(p.parse('2024-10-27 03:00:00')).toBe(Date.UTC(2024, 9, 27, 2, 0));
    expect(p.lastFlag).toBe(DstFlag.None);
  });

  it('America/New_York: 2024-03-10 02:30 is a gap, 2024-11-03 01:30 repeats', () => {
    const p = createTimeParser('mdy', 'America/New_York');
    expect(p.parse('03/10/2024 2:30 AM')).toBe(Date.UTC(2024, 2, 10, 7, 30)); // = 03:30 EDT
    expect(p.lastFlag).toBe(DstFlag.Gap);
    expect(p.parse('11/03/2024 1:30 AM')).toBe(Date.UTC(2024, 10, 3, 5, 30)); // 01:30 EDT, the first
    expect(p.lastFlag).toBe(DstFlag.Repeated);
    expect(p.parse('11/03/2024 2:30 AM')).toBe(Date.UTC(2024, 10, 3, 7, 30)); // EST
    expect(p.lastFlag).toBe(DstFlag.None);
  });

  it('a parse after a flagged one resets the flag, including on failure', () => {
    const p = createTimeParser('iso', 'Europe/Berlin');
    p.parse('2024-03-31 02:30:00');
    expect(p.lastFlag).toBe(DstFlag.Gap);
    expect(p.parse('nonsense')).toBeNaN();
    expect(p.lastFlag).toBe(DstFlag.None);
  });

  it('UTC has no flags on those days', () => {
    const p = createTimeParser('iso', 'UTC');
    for (const s of ['2024-03-31 02:30:00', '2024-10-27 02:30:00', '2024-03-10 02:30:00', '2024-11-03 01:30:00']) {
      expect(p.parse(s)).toBe(Date.parse(s.replace(' ', 'T') + 'Z'));
      expect(p.lastFlag).toBe(DstFlag.None);
    }
  });

  it('zonedToUtc gives the same answers with the flag', () => {
    expect(zonedToUtc(2024, 3, 31, 2, 30, 0, 0, 'Europe/Berlin')).toEqual({ utc: Date.UTC(2024, 2, 31, 1, 30), flag: DstFlag.Gap });
    expect(zonedToUtc(2024, 10, 27, 2, 30, 0, 0, 'Europe/Berlin')).toEqual({ utc: Date.UTC(2024, 9, 27, 0, 30), flag: DstFlag.Repeated });
    expect(zonedToUtc(2024, 7, 1, 12, 0, 0, 250, 'Europe/Berlin')).toEqual({ utc: Date.UTC(2024, 6, 1, 10, 0, 0, 250), flag: DstFlag.None });
    expect(zonedToUtc(2024, 7, 1, 12, 0, 0, 0, 'Asia/Kolkata')).toEqual({ utc: Date.UTC(2024, 6, 1, 6, 30), flag: DstFlag.None });
    expect(zonedToUtc(2024, 7, 1, 12, 0, 0, 0, 'UTC')).toEqual({ utc: Date.UTC(2024, 6, 1, 12), flag: DstFlag.None });
  });

  /**
   * Every wall time of 2024 at 15-minute steps, against a brute-force table
   * built from Intl: which UTC instants show that wall time? Two means
   * repeated (expect the earlier), none means gap (expect the wall time read
   * with the offset in force before it). Lord Howe's 30-minute DST, Chatham's
   * +12:45 and St John's -03:30 catch any assumption of whole-hour offsets or
   * transitions.
   */
  it.each(['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/St_Johns', 'Asia/Kolkata'])(
    'matches a brute-force table for %s',
    (zone) => {
      const from = Date.UTC(2024, 0, 1);
      const to = Date.UTC(2025, 0, 1);
      const step = 15 * MIN;
      const shown = new Map<string, number[]>();
      const offsetAt = (t: number) => Date.parse(wallText(t, zone).replace(' ', 'T') + 'Z') - t;
      for (let t = from - DAY; t < to + DAY; t += step) {
        const w = wallText(t, zone);
        const list = shown.get(w);
        if (list) list.push(t);
        else shown.set(w, [t]);
      }
      const p = createTimeParser('iso', zone);
      // Shuffled, so the cache cannot rely on sorted input.
      const walls: number[] = [];
      for (let w = from; w < to; w += step) walls.push(w);
      const r = rng(11);
      for (let i = walls.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [walls[i], walls[j]] = [walls[j]!, walls[i]!];
      }
      const wrong: string[] = [];
      let gaps = 0;
      let repeats = 0;
      for (const w of walls) {
        const text = isoText(w);
        const got = p.parse(text);
        const flag = p.lastFlag;
        const hits = shown.get(text);
        let want: number;
        let wantFlag: DstFlag;
        if (!hits) {
          gaps++;
          // Three hours of wall time before the gap are still on the old offset in these zones.
          want = w - offsetAt(w - 3 * HOUR - offsetAt(w - 3 * HOUR));
          wantFlag = DstFlag.Gap;
        } else if (hits.length === 1) {
          want = hits[0]!;
          wantFlag = DstFlag.None;
        } else {
          repeats++;
          want = Math.min(...hits);
          wantFlag = DstFlag.Repeated;
        }
        if (got !== want || flag !== wantFlag) wrong.push(`${text}: got ${got} flag ${flag}, want ${want} flag ${wantFlag}`);
      }
      expect(wrong.slice(0, 10)).toEqual([]);
      if (zone === 'Asia/Kolkata') {
        expect(gaps + repeats).toBe(0);
      } else {
        // One spring and one autumn, at least two 15-minute steps each.
        expect(gaps).toBeGreaterThanOrEqual(2);
        expect(repeats).toBeGreaterThanOrEqual(2);
      }
    },
  );

  it('an unknown zone throws bad_input naming the zone', () => {
    let err: unknown;
    try {
      createTimeParser('iso', 'Mars/Olympus_Mons');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('bad_input');
    expect((err as AppError).message).toContain('Mars/Olympus_Mons');
    expect(() => zonedToUtc(2024, 1, 1, 0, 0, 0, 0, 'Nowhere')).toThrow(/Nowhere/);
    expect(() => createTimeParser('dmy', '')).toThrow(AppError);
  });

  it('accepts zone names in any case', () => {
    expect(createTimeParser('iso', 'europe/berlin').parse('2024-07-01 12:00')).toBe(Date.UTC(2024, 6, 1, 10));
  });
});

describe('guessTimeFormat', () => {
  const isoSamples = Array.from({ length: 50 }, (_, i) => isoText(Date.UTC(2024, 0, 1) + i * 37 * MIN));

  it('recognises ISO and says whether offsets are present', () => {
    const g = guessTimeFormat(isoSamples);
    expect(g?.format).toBe('iso');
    expect(g?.matched).toBe(1);
    expect(g?.explanation).toMatch(/ISO/);
    expect(g?.explanation).not.toMatch(/offset/);
    const z = guessTimeFormat(isoSamples.map((s) => s.replace(' ', 'T') + '+01:00'));
    expect(z?.format).toBe('iso');
    expect(z?.explanation).toMatch(/offset/);
  });

  it('tolerates up to 10% bad values and reports the share', () => {
    const s = [...isoSamples.slice(0, 45), 'n/a', 'n/a', 'error', '2024-13-01', '???'];
    expect(guessTimeFormat(s)).toMatchObject({ format: 'iso', matched: 0.9 });
    const worse = [...isoSamples.slice(0, 44), 'n/a', 'n/a', 'error', '2024-13-01', '???', 'x'];
    expect(guessTimeFormat(worse)).toBeNull();
  });

  it('ignores empty samples', () => {
    expect(guessTimeFormat(['', ...isoSamples, '', '  '])).toMatchObject({ format: 'iso', matched: 1 });
    expect(guessTimeFormat(['', ' '])).toBeNull();
    expect(guessTimeFormat([])).toBeNull();
  });

  it('recognises yyyy/mm/dd', () => {
    expect(guessTimeFormat(['2024/03/01 12:00', '2024/03/01 12:01:30'])?.format).toBe('ymd-slash');
  });

  it('decides day first when a first field is above 12', () => {
    const g = guessTimeFormat(['01.01.2024 00:00', '05.01.2024 00:00', '13.01.2024 00:00', '02.02.2024 10:00']);
    expect(g?.format).toBe('dmy');
    expect(g?.explanation).toContain('13.01.2024 00:00');
    expect(g?.explanation).toMatch(/^Day first \(dd\.mm\.yyyy\)/);
    expect(g?.explanation).not.toMatch(/ambiguous/);
  });

  it('decides month first when a second field is above 12', () => {
    const g = guessTimeFormat(['01/01/2024 10:00', '01/13/2024 10:00', '02/02/2024 10:00']);
    expect(g?.format).toBe('mdy');
    expect(g?.explanation).toContain('01/13/2024');
    expect(g?.explanation).toMatch(/^Month first \(mm\/dd\/yyyy\)/);
  });

  it('falls back on conventions when every value is ambiguous, and says so', () => {
    const dots = guessTimeFormat(['01.02.2024 10:00', '03.04.2024 11:00']);
    expect(dots?.format).toBe('dmy');
    expect(dots?.explanation).toMatch(/ambiguous/);
    const ampm = guessTimeFormat(['01/02/2024 10:00 AM', '03/04/2024 1:00 PM']);
    expect(ampm?.format).toBe('mdy');
    expect(ampm?.explanation).toMatch(/ambiguous/);
    expect(ampm?.explanation).toMatch(/AM\/PM/);
    const slashes = guessTimeFormat(['01/02/2024 10:00', '03/04/2024 11:00']);
    expect(slashes?.format).toBe('dmy');
    expect(slashes?.explanation).toMatch(/ambiguous/);
    // Dots win over AM/PM.
    expect(guessTimeFormat(['01.02.2024 10:00 AM', '03.04.2024 1:00 PM'])?.format).toBe('dmy');
  });

  it('picks the order most values fit when both are contradicted', () => {
    const s = ['13.01.2024', '14.01.2024', '15.01.2024', '16.01.2024', '17.01.2024', '18.01.2024', '19.01.2024', '20.01.2024', '21.01.2024', '22.01.2024', '01.13.2024'];
    const g = guessTimeFormat(s);
    expect(g?.format).toBe('dmy');
    expect(g?.matched).toBeCloseTo(10 / 11, 10);
    expect(g?.explanation).toMatch(/Check the column/);
  });

  it('guesses numeric formats only when allowed', () => {
    const secs = Array.from({ length: 20 }, (_, i) => String(1709294400 + i * 60));
    expect(guessTimeFormat(secs)).toBeNull();
    const s = guessTimeFormat(secs, { allowNumeric: true });
    expect(s?.format).toBe('unix-s');
    expect(s?.explanation).toContain('2024-03-01 12:00:00');
    const ms = secs.map((v) => v + '000');
    expect(guessTimeFormat(ms)).toBeNull();
    expect(guessTimeFormat(ms, { allowNumeric: true })?.format).toBe('unix-ms');
    const excel = ['45352.5', '45352.541666', '45353', '45353.25'];
    expect(guessTimeFormat(excel)).toBeNull();
    expect(guessTimeFormat(excel, { allowNumeric: true })?.format).toBe('excel-serial');
    // Ordinary measurements are not time, even under a time-like header.
    expect(guessTimeFormat(['12.5', '13.1', '0', '-4'], { allowNumeric: true })).toBeNull();
    expect(guessTimeFormat(['1', '2', '3', '4'], { allowNumeric: true })).toBeNull();
  });

  it('returns null for text that is not time', () => {
    expect(guessTimeFormat(['pump A', 'pump B', 'valve'])).toBeNull();
    expect(guessTimeFormat(['12.5', '13.7'])).toBeNull();
  });

  it('every guessed format is one the parser knows', () => {
    const g = guessTimeFormat(isoSamples);
    expect(TIME_FORMATS).toContain(g?.format);
  });
});
