import { describe, expect, it } from 'vitest';
import { GAP_ROWS, RECORDING_STATES, recordingMessage, recordingNeedsAttention } from '../../../shared/recording';
import { breakAtGaps, envelopeLine, shownGaps, formatLiveValue, formatRange, formatValue, fromLocalInput, gapMs, parseGridSeconds, rangeProblem, rowsFor, savedDataset, stateLook, toLocalInput } from './recording-logic';

describe('recording states', () => {
  it('colours only what needs attention: amber for reconnecting and interrupted, red for failed', () => {
    const tones = Object.fromEntries(RECORDING_STATES.map((s) => [s, stateLook(s).tone]));
    expect(tones).toEqual({ connecting: 'running', recording: 'running', reconnecting: 'warn', stopped: 'neutral', failed: 'bad', interrupted: 'warn' });
    expect(stateLook('reconnecting').label).toBe('Reconnecting');
  });

  it('marks a recording that records only some tags (an edge node whose birth was missed) amber, and only then', () => {
    expect(recordingNeedsAttention({ state: 'recording', message: recordingMessage(1, 'Pump station') })).toBe(false);
    expect(recordingNeedsAttention({ state: 'recording', message: recordingMessage(12, null) })).toBe(false);
    const partly = 'Edge node Plant/Edge1: 5 messages could not be read since 10:42 because its birth message was missed. The other tag is being recorded.';
    expect(recordingNeedsAttention({ state: 'recording', message: partly })).toBe(true);
    // Other states say their own problem with their own colour.
    expect(recordingNeedsAttention({ state: 'reconnecting', message: partly })).toBe(false);
    expect(stateLook('recording', true)).toEqual({ label: 'Partly recording', tone: 'warn' });
    expect(stateLook('failed', true)).toEqual(stateLook('failed'));
  });
});

describe('values', () => {
  it('shows readings with their unit and at most six significant digits', () => {
    expect(formatValue(21.456789, '°C', 'en-US')).toBe('21.46 °C');
    expect(formatValue(3.7946712, 'bar', 'en-US')).toBe('3.795 bar');
    expect(formatValue(0.0123456, null, 'en-US')).toBe('0.01235');
    expect(formatValue(1234.5, 'rpm', 'en-US')).toBe('1,235 rpm');
    expect(formatValue(1234.5, 'bar', 'de-DE')).toBe('1.235 bar');
    expect(formatValue(-12.5, 'bar', 'de-DE')).toBe('-12,5 bar');
    expect(formatValue(123456789, null, 'en-US')).toBe('123,456,789');
    expect(formatValue(NaN, 'bar')).toBe('—');
    expect(formatRange(45.0096, 50.7667, '°C', 'en-US')).toBe('45.01 to 50.77 °C');
  });

  it("shows on/off values in words and a missing one as the source's text", () => {
    expect(formatLiveValue({ tag: 'a', value: 1, text: 'true', quality: 'good', at: null }, null)).toBe('On (1)');
    expect(formatLiveValue({ tag: 'a', value: 0, text: 'false', quality: 'good', at: null }, null)).toBe('Off (0)');
    expect(formatLiveValue({ tag: 'a', value: null, text: 'Auto', quality: 'good', at: null }, null)).toBe('Auto');
    expect(formatLiveValue({ tag: 'a', value: null, text: null, quality: 'bad', at: null }, null)).toBe('—');
    expect(formatLiveValue({ tag: 'a', value: 3.5, text: '3.5', quality: 'good', at: null }, 'm³/h', 'en-US')).toBe('3.5 m³/h');
  });
});

describe('the time range to save', () => {
  it('goes to the datetime-local text and back, in whole seconds', () => {
    const t = new Date(2025, 5, 30, 7, 8, 9, 450).getTime();
    expect(toLocalInput(t)).toBe('2025-06-30T07:08:09');
    expect(fromLocalInput(toLocalInput(t))).toBe(t - 450);
    expect(fromLocalInput('2025-06-30T07:08')).toBe(new Date(2025, 5, 30, 7, 8, 0).getTime());
    expect(fromLocalInput('2025-02-31T07:08:00')).toBeNull();
    expect(fromLocalInput('')).toBeNull();
  });

  it('refuses an empty, reversed or outside range, and allows the edges within their second', () => {
    const first = 1_000_500;
    const last = 2_000_000;
    expect(rangeProblem(first, last, first, last)).toBeNull();
    expect(rangeProblem(1_000_000, 1_000_400, first, last)).toBeNull();
    expect(rangeProblem(null, last, first, last)).toBe('Enter the start of the range as a date and time.');
    expect(rangeProblem(first, null, first, last)).toBe('Enter the end of the range as a date and time.');
    expect(rangeProblem(last, first, first, last)).toBe('The start must be before the end.');
    expect(rangeProblem(2_000_001, 3_000_000, first, last)).toMatch(/none of the recording/);
    expect(rangeProblem(0, 999_000, first, last)).toMatch(/none of the recording/);
    expect(rangeProblem(0, 1, null, null)).toBe('Nothing has been recorded yet.');
  });

  it('reads the time step and counts the rows it makes', () => {
    expect(parseGridSeconds('1')).toEqual({ ms: 1000 });
    expect(parseGridSeconds('0,5')).toEqual({ ms: 500 });
    expect(parseGridSeconds('0.01')).toEqual({ error: 'The time step must be from 0.1 s to one day (86400 s).' });
    expect(parseGridSeconds('x')).toEqual({ error: 'Enter the time step in seconds, e.g. 1 or 0.5.' });
    expect(rowsFor(0, 59_000, 1000)).toBe(60);
    expect(rowsFor(0, 0, 1000)).toBe(0);
  });
});

describe('a finished save and gaps', () => {
  it('finds the dataset a save job made, whatever the result names it', () => {
    expect(savedDataset({ dataset: 'Pumps', version: 2 }, 'x')).toEqual({ name: 'Pumps', version: 2 });
    expect(savedDataset({ name: 'Pumps' }, 'x')).toEqual({ name: 'Pumps', version: null });
    expect(savedDataset(null, 'Typed name')).toEqual({ name: 'Typed name', version: null });
  });

  it('breaks a sparkline where the tag or the whole source had a gap, not elsewhere', () => {
    const pts = [1000, 2000, 3000, 10_000, 11_000].map((t) => ({ t, v: t / 1000 }));
    // A tag's gap names it for people ("Temperature of A") and by id ("A"), which is what the lines are drawn by.
    const gap = (start: number, end: number | null, tag: string | null) => ({ start: new Date(start).toISOString(), end: end === null ? null : new Date(end).toISOString(), reason: '', tag: tag && `Temperature of ${tag}`, tagId: tag });
    // The source was away from 3.5 s to 9 s: one break between the 3 s and 10 s points.
    expect(breakAtGaps(pts, [gap(3500, 9000, null)], 'A', 20_000).map((p) => p.v)).toEqual([1, 2, 3, null, 10, 11]);
    // Another tag's gap leaves this line whole.
    expect(breakAtGaps(pts, [gap(3500, 9000, 'B')], 'A', 20_000).map((p) => p.v)).toEqual([1, 2, 3, 10, 11]);
    expect(breakAtGaps(pts, [gap(3500, 9000, 'A')], 'A', 20_000).map((p) => p.v)).toEqual([1, 2, 3, null, 10, 11]);
    // Another tag that happens to be named like this one's id: still another tag.
    expect(breakAtGaps(pts, [{ ...gap(3500, 9000, 'B'), tag: 'A' }], 'A', 20_000)).toHaveLength(5);
    // A gap still going since after the last point breaks nothing.
    expect(breakAtGaps(pts, [gap(12_000, null, null)], 'A', 20_000).map((p) => p.v)).toEqual([1, 2, 3, 10, 11]);
  });

  it("draws a recording's overview as one line sweeping each bucket's lowest and highest value, breaking at gaps only", () => {
    const b = (t: number, min: number | null, max: number | null) => ({ t, min, max });
    const gap = (start: number, end: number, tag: string | null) => ({ start: new Date(start).toISOString(), end: new Date(end).toISOString(), reason: '', tag, tagId: tag });
    const points = [b(0, 1, 2), b(100, 2, 6), b(200, null, null), b(300, 5, 5), b(400, -1, 40), b(500, 4, 7), b(600, 8, 9)];
    // Each bucket starts with the value nearer where the line is: 1 → 2 up, 6 … 5, -1 (nearer 5 than 40) then 40, 7 (nearer 40) then 4.
    // A bucket with no value is passed over (the line joins across it); a bucket of one value is drawn once.
    expect(envelopeLine(points, [], 'A', 1000)).toEqual({
      x: [0, 0, 100, 100, 300, 400, 400, 500, 500, 600, 600],
      values: [1, 2, 2, 6, 5, -1, 40, 7, 4, 8, 9],
    });
    // The source was away from 520 to 580: a break (NaN) between the 500 and 600 buckets; another tag's gap changes nothing.
    const broken = envelopeLine(points, [gap(520, 580, null), gap(120, 180, 'B')], 'A', 1000);
    expect(broken.x).toEqual([0, 0, 100, 100, 300, 400, 400, 500, 500, 550, 600, 600]);
    expect(broken.values).toEqual([1, 2, 2, 6, 5, -1, 40, 7, 4, NaN, 8, 9]);
    expect(envelopeLine([b(0, null, null)], [], 'A', 0)).toEqual({ x: [], values: [] });
  });

  it('shows the newest gaps in time order and counts the older ones left out', () => {
    const gaps = Array.from({ length: 250 }, (_, i) => i);
    expect(shownGaps(gaps.slice(0, 3))).toEqual({ rows: [0, 1, 2], older: 0 });
    const many = shownGaps(gaps);
    expect(many.older).toBe(250 - GAP_ROWS);
    expect(many.rows).toHaveLength(GAP_ROWS);
    expect(many.rows[0]).toBe(250 - GAP_ROWS);
    expect(many.rows.at(-1)).toBe(249);
  });

  it('counts the older gaps from the total of the recording, not from the gaps recordings.live sent', () => {
    // 5,000 gaps in all; sent: 3 old ones the sparklines need, then the newest GAP_ROWS.
    const sent = [7, 12, 40, ...Array.from({ length: GAP_ROWS }, (_, i) => 4900 + i)];
    const shown = shownGaps(sent, 5000);
    expect(shown.rows).toEqual(sent.slice(3));
    expect(shown.older).toBe(5000 - GAP_ROWS);
    // Fewer than a table's worth: all shown, none left out, whatever else was sent.
    expect(shownGaps([1, 2, 3], 3)).toEqual({ rows: [1, 2, 3], older: 0 });
  });

  it('measures a gap, and one still going up to now', () => {
    expect(gapMs({ start: '2025-01-01T00:00:00Z', end: '2025-01-01T00:00:30Z', reason: '', tag: null, tagId: null }, 0)).toBe(30_000);
    expect(gapMs({ start: '2025-01-01T00:00:00Z', end: null, reason: '', tag: null, tagId: null }, Date.parse('2025-01-01T00:01:00Z'))).toBe(60_000);
  });
});
