/**
 * Issue 11, timestamp parsing (electron/services/datasets/import/timestamps.ts):
 * a time written in any of TIME_FORMATS, in any zone, reads back as the same
 * instant to the millisecond (checked against Intl, not against the parser's
 * own zone cache), with the DST flag Intl predicts; Berlin's spring gap and
 * autumn repeat by the EU rule; Excel serials and unix times; garbage never
 * throws and never gives a time outside the range of a date.
 *
 * Figures: test-results/reliability/fuzz-timestamps.json.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TIME_FORMATS, type TimeFormat } from '../../shared/datasets';
import { assertSentence, fuzzSuite, LIMIT_MS, property, runs } from './support/fuzz';
import { spelling, timeCell, wallText, ZONES, type Cell } from './support/fuzz-tables';

const { figures, call } = fuzzSuite('fuzz-timestamps');

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MAX_TIME = 8.64e15;
const FLAGS = { none: 0, repeated: 1, gap: 2 } as const;

async function parse(format: TimeFormat, zone: string, texts: string[]): Promise<[number, number][]> {
  const o = await call<[number, number][]>('time.parse', { format, zone, texts });
  expect(o.ms, `parsing took ${Math.round(o.ms)} ms`).toBeLessThan(LIMIT_MS);
  if (!o.ok) throw new Error(`parsing ${JSON.stringify(texts)} as ${format} threw ${o.error.name}: ${o.error.message}`);
  return o.value;
}

const formatZone = fc.tuple(fc.constantFrom(...TIME_FORMATS), fc.constantFrom(...ZONES), fc.boolean());

describe('a time written in any format and zone reads back as the same instant', () => {
  it('to the millisecond, with the DST flag Intl predicts', async () => {
    await property(
      figures,
      'time round trip',
      formatZone.chain(([format, zone, offsets]) => timeCell(format, zone, offsets).filter((c) => !Number.isNaN(c.expect)).map((cell) => ({ format, zone, cell }))),
      async ({ format, zone, cell }) => {
        const [[v, flag]] = (await parse(format, zone, [cell.text])) as [[number, number]];
        if (!Object.is(v, cell.expect)) throw new Error(`"${cell.text}" (${format}, ${zone}) read as ${v} = ${new Date(v).toISOString()}, written for ${cell.expect} = ${new Date(cell.expect as number).toISOString()}`);
        expect(flag, `the DST flag of "${cell.text}" in ${zone}`).toBe(FLAGS[cell.flag ?? 'none']);
      },
      runs(2500),
    );
  }, 600_000);

  it('fractions of a millisecond (ISO with up to 9 digits) keep their value', async () => {
    await property(
      figures,
      'time sub-millisecond',
      fc.record({ t: fc.integer({ min: 0, max: 4e12 }), digits: fc.integer({ min: 4, max: 9 }), frac: fc.nat(999_999_999), zone: fc.constantFrom(...ZONES) }),
      async ({ t, digits, frac, zone }) => {
        const f = String(frac % 10 ** digits).padStart(digits, '0');
        const secs = Math.floor(t / 1000) * 1000;
        const text = `${new Date(secs).toISOString().slice(0, 19)}.${f}Z`;
        const [[v]] = (await parse('iso', zone, [text])) as [[number, number]];
        expect(Math.abs(v - (secs + Number(`0.${f}`) * 1000)), text).toBeLessThan(1e-3);
      },
      runs(300),
    );
  }, 600_000);
});

describe("Berlin's clock changes, by the EU rule (01:00 UTC on the last Sunday of March and October)", () => {
  const lastSunday = (y: number, month: number) => {
    const last = new Date(Date.UTC(y, month + 1, 0));
    return last.getUTCDate() - last.getUTCDay();
  };

  it('the hour skipped in spring moves forward and is flagged; the hour repeated in autumn is the first one and flagged', async () => {
    await property(
      figures,
      'time Berlin DST',
      fc.record({
        year: fc.integer({ min: 1996, max: 2037 }),
        autumn: fc.boolean(),
        // 00:00 to 04:59:59.999 local on the day of the change.
        at: fc.integer({ min: 0, max: 5 * HOUR - 1 }),
        format: fc.constantFrom<TimeFormat>('iso', 'dmy', 'mdy', 'ymd-slash', 'excel-serial'),
        sp: spelling,
      }),
      async ({ year, autumn, at, format, sp }) => {
        const month = autumn ? 9 : 2;
        const sp2 = { ...sp, precision: 'ms' as const, ampm: 0 };
        const wall = Date.UTC(year, month, lastSunday(year, month)) + at;
        const text = wallText(format, wall, sp2);
        const inHour = at >= 2 * HOUR && at < 3 * HOUR;
        // Before the change the offset is +1 h in spring and +2 h in autumn; after it the other way round.
        const before = autumn ? 2 * HOUR : HOUR;
        const after = autumn ? HOUR : 2 * HOUR;
        const expected = at < 2 * HOUR ? wall - before : at >= 3 * HOUR ? wall - after : wall - before;
        const [[v, flag]] = (await parse(format, 'Europe/Berlin', [text])) as [[number, number]];
        expect(v, `${text} (${format})`).toBe(expected);
        expect(flag, `${text}: the DST flag`).toBe(inHour ? (autumn ? 1 : 2) : 0);
      },
      runs(600),
    );
  }, 600_000);
});

describe('Excel serials and unix times', () => {
  it('a serial reads as the wall time of its day and fraction (to the ms); outside 1900-03-01..9999-12-31 it is no time', async () => {
    await property(
      figures,
      'time Excel serial',
      fc.tuple(fc.oneof(fc.double({ min: -1e7, max: 1e7, noNaN: true }), fc.integer({ min: 0, max: 2958470 }), fc.constantFrom(60, 61, 60.999999, 2958465.9999999, 2958466, 25569, 25569.5)), fc.boolean()),
      async ([serial, comma]) => {
        const s = String(serial);
        const text = comma ? s.replace('.', ',') : s;
        const [[v, flag]] = (await parse('excel-serial', 'UTC', [text])) as [[number, number]];
        if (!(serial >= 61 && serial < 2958466)) {
          expect(v, `${text} is outside Excel's dates`).toBeNaN();
          return;
        }
        const days = Math.floor(serial);
        expect(v, text).toBe((days - 25569) * DAY + Math.round((serial - days) * DAY));
        expect(flag).toBe(0);
      },
      runs(600),
    );
  }, 600_000);

  it('unix seconds and milliseconds are the instant they count, and nothing beyond the range of a date', async () => {
    await property(
      figures,
      'time unix',
      fc.tuple(fc.oneof(fc.integer({ min: -9e15, max: 9e15 }), fc.double({ noNaN: true })), fc.constantFrom<'unix-s' | 'unix-ms'>('unix-s', 'unix-ms'), fc.constantFrom(...ZONES)),
      async ([n, format, zone]) => {
        const text = String(n);
        const [[v, flag]] = (await parse(format, zone, [text])) as [[number, number]];
        const want = format === 'unix-ms' ? n : Math.round(n * 1e6) / 1e3;
        if (!Number.isFinite(want) || Math.abs(want) > MAX_TIME) expect(v, `${text} is beyond the range of a date`).toBeNaN();
        else expect(Object.is(v, want) || (want === 0 && v === 0), `${text} as ${format}`).toBe(true);
        expect(flag).toBe(0);
      },
      runs(600),
    );
  }, 600_000);
});

// ---------------------------------------------------------------- garbage

const NASTY = [
  '', ' ', 'T', 'Z', '2024', '2024-', '2024-02-30', '2024-13-01', '2024-00-10', '2024-01-01T24:00', '2024-01-01T23:60', '2024-01-01 12:00:60', '2024-01-01 12:00 +24:00', '2024-01-01 12:00 +01:60',
  '2024-01-01 12:00:00.', '2024-01-01 12:00:00.1234567890123', '2024-01-01T12:00:00ZZ', '2024-01-01 12:00 UTCX', '31.02.2024', '00.01.2024', '1.1.24', '01/01/2024 13:00 PM', '01/01/2024 0:00 AM',
  '01/01/2024 12:00 a.m', '2024/02/29 25:00', '1e999', '-1e999', 'Infinity', 'NaN', '0x10', '1,5,5', '١٢', '２０２４-０１-０１', '2024-01-01\u00a012:00', '\u2028', '😀', '+', '-', '.', ',', 'e5',
  '9'.repeat(400), '0'.repeat(400) + '1', '2024-01-01 ' + '1'.repeat(300),
];

const garbageText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom('0', '1', '2', '9', '-', '/', '.', ',', ':', ' ', 'T', 'Z', '+', 'e', 'A', 'P', 'M', 'a', 'm', 'U', 'C'), maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  // A good time with a few characters changed.
  {
    weight: 3,
    arbitrary: fc
      .tuple(formatZone.chain(([f, z, o]) => timeCell(f, z, o)), fc.array(fc.tuple(fc.nat(), fc.constantFrom('', '0', '9', ':', '-', '.', ' ', 'x', '+', '/', 'AM')), { minLength: 1, maxLength: 4 }))
      .map(([cell, edits]: [Cell, [number, string][]]) => edits.reduce((s, [at, c]) => { const i = s.length ? at % (s.length + 1) : 0; return s.slice(0, i) + c + s.slice(i + (c === '' ? 1 : at % 2)); }, cell.text)),
  },
);

describe('garbage never throws and never gives an impossible time', () => {
  it('every format and zone: a number within the range of a date, or NaN', async () => {
    await property(
      figures,
      'time garbage',
      fc.tuple(fc.array(garbageText, { minLength: 1, maxLength: 8 }), fc.constantFrom(...TIME_FORMATS), fc.constantFrom(...ZONES, 'Etc/GMT+12', 'Asia/Tehran')),
      async ([texts, format, zone]) => {
        const got = await parse(format, zone, texts);
        got.forEach(([v, flag], i) => {
          if (Number.isNaN(v)) return;
          expect(Math.abs(v), `"${texts[i]}" as ${format} gave ${v}`).toBeLessThanOrEqual(MAX_TIME);
          expect(() => new Date(v).toISOString()).not.toThrow();
          expect([0, 1, 2]).toContain(flag);
        });
      },
      runs(800),
    );
  }, 600_000);

  it('guessing the format of any column of text: null, or a format with a sentence and a share of at least 90%', async () => {
    await property(
      figures,
      'time format guess',
      fc.tuple(fc.oneof(fc.array(garbageText, { maxLength: 30 }), formatZone.chain(([f, z, o]) => fc.array(timeCell(f, z, o).map((c) => c.text), { maxLength: 30 }))), fc.boolean()),
      async ([samples, allowNumeric]) => {
        const o = await call<{ format: TimeFormat; explanation: string; matched: number } | null>('time.guess', { samples, allowNumeric });
        expect(o.ms).toBeLessThan(LIMIT_MS);
        if (!o.ok) throw new Error(`guessing threw ${o.error.name}: ${o.error.message}`);
        if (o.value === null) return;
        expect(TIME_FORMATS).toContain(o.value.format);
        expect(o.value.matched).toBeGreaterThanOrEqual(0.9);
        expect(o.value.matched).toBeLessThanOrEqual(1);
        assertSentence(o.value.explanation, 'the explanation of a time format', samples.join('\n'));
      },
      runs(400),
    );
  }, 600_000);

  it('an unknown time zone is refused with a sentence naming it', async () => {
    await property(
      figures,
      'time zone names',
      fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('Mars/Olympus', 'Europe/Berlin ', 'UTC+1', '', '../../etc/passwd', 'europe/berlin', 'GMT+5')),
      async (zone) => {
        const o = await call<[number, number][]>('time.parse', { format: 'iso', zone, texts: ['2024-01-01 00:00'] });
        if (o.ok) return;
        expect(o.error.appError, `${zone}: ${o.error.name} ${o.error.message}`).toBe(true);
        expect(o.error.code).toBe('bad_input');
        expect(o.error.field).toBe('timeZone');
        assertSentence(o.error.message, 'an unknown zone', zone);
      },
      runs(200),
    );
  }, 600_000);
});
