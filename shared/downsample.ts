/**
 * Min/max downsampling for trends, and the tick choices of their axes.
 * Pure: used by the server (which reduces a million rows to one bucket per
 * pixel column before sending) and by the renderer alike.
 */

/** One bucket per pixel column; arrays are parallel and JSON friendly. */
export interface MinMaxSeries {
  /** Start time of each bucket (epoch ms); a bucket covers [x, x + bucketMs). Ascending. */
  x: number[];
  min: number[];
  max: number[];
  /** First and last raw value in each bucket, so lines join correctly between columns. */
  first: number[];
  last: number[];
  /**
   * True when the raw data had a gap (a NaN, or a time step larger than gapMs)
   * between the previous bucket's last value and this bucket's first one.
   * Always true for the first bucket: nothing before it is drawn.
   */
  breakBefore: boolean[];
  /** Width of a bucket in ms. Optional so hand-made series stay valid; readers infer it from x when absent. */
  bucketMs?: number;
}

export function emptySeries(bucketMs?: number): MinMaxSeries {
  return { x: [], min: [], max: [], first: [], last: [], breakBefore: [], ...(bucketMs === undefined ? {} : { bucketMs }) };
}

/** Index of the first element >= v in a sorted array (a.length when none). */
export function lowerBound(a: ArrayLike<number>, v: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > v in a sorted array (a.length when none). */
export function upperBound(a: ArrayLike<number>, v: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Reduce the samples with from <= x <= to to at most `buckets` buckets of equal
 * time width. Sample i falls in bucket floor((x[i] - from) * buckets / (to - from)),
 * the sample at exactly `to` in the last one. Buckets without a finite value are
 * omitted. A NaN in y, or a step between consecutive samples larger than gapMs,
 * breaks the line (breakBefore on the next bucket that has data).
 *
 * x must be sorted ascending (epoch ms). Cost is O(log n + points in range).
 */
export function minMaxDownsample(x: Float64Array, y: Float64Array, from: number, to: number, buckets: number, gapMs = Infinity): MinMaxSeries {
  const n = Math.min(x.length, y.length);
  const count = Math.floor(buckets);
  if (!(to > from) || !Number.isFinite(from) || !Number.isFinite(to) || !(count >= 1) || n === 0) return emptySeries();
  const span = to - from;
  const bucketMs = span / count;
  const out = emptySeries(bucketMs);
  const lo = lowerBound(x, from, 0, n);
  const hi = upperBound(x, to, lo, n);
  if (lo >= hi) return out;

  const scale = count / span;
  const lastBucket = count - 1;
  const gap = gapMs > 0 ? gapMs : Infinity;
  const bucketOf = (t: number) => Math.min(lastBucket, Math.floor((t - from) * scale));
  let sawBreak = true; // the first emitted bucket always starts a line
  let prevLastX = NaN;
  let i = lo;
  while (i < hi) {
    // To the bucket's first finite value; a NaN on the way breaks the line.
    while (i < hi && y[i]! !== y[i]!) {
      sawBreak = true;
      i++;
    }
    if (i >= hi) break;
    const t0 = x[i]!;
    if (t0 - prevLastX > gap) sawBreak = true;
    const b = bucketOf(t0);
    const end = b === lastBucket ? hi : firstBeyond(x, i + 1, hi, b, bucketOf);
    // The hot loop: NaN fails both comparisons, so it needs no test of its own.
    let mn = y[i]!;
    let mx = mn;
    for (let j = i + 1; j < end; j++) {
      const v = y[j]!;
      if (v < mn) mn = v;
      else if (v > mx) mx = v;
    }
    let k = end - 1;
    while (y[k]! !== y[k]!) k--; // stops at i, which is finite
    out.x.push(from + b * bucketMs);
    out.min.push(mn);
    out.max.push(mx);
    out.first.push(y[i]!);
    out.last.push(y[k]!);
    out.breakBefore.push(sawBreak);
    // Gaps inside a bucket are narrower than a pixel column and not drawn; NaNs after its last value break the line.
    sawBreak = k < end - 1;
    prevLastX = x[k]!;
    i = end;
  }
  return out;
}

/** First index in [start, hi) whose bucket is past b (hi when none): galloping, so a bucket of m samples costs O(log m). */
function firstBeyond(x: Float64Array, start: number, hi: number, b: number, bucketOf: (t: number) => number): number {
  let lo = start;
  let step = 1;
  let probe = start;
  while (probe < hi && bucketOf(x[probe]!) <= b) {
    lo = probe + 1;
    probe = start + step;
    step *= 2;
  }
  let top = Math.min(probe, hi);
  while (lo < top) {
    const mid = (lo + top) >>> 1;
    if (bucketOf(x[mid]!) <= b) lo = mid + 1;
    else top = mid;
  }
  return lo;
}

/** Bucket width of a series: its own field, else the smallest step between buckets, else `fallback`. */
export function seriesBucketMs(s: MinMaxSeries, fallback: number): number {
  if (s.bucketMs !== undefined && s.bucketMs > 0) return s.bucketMs;
  let best = Infinity;
  for (let i = 1; i < s.x.length; i++) {
    const d = s.x[i]! - s.x[i - 1]!;
    if (d > 0 && d < best) best = d;
  }
  return Number.isFinite(best) ? best : fallback;
}

// ---------------------------------------------------------------------------
// Number ticks

/** The 1-2-5 step that gives at most maxTicks steps over span. */
export function niceStep(span: number, maxTicks: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 0;
  const raw = span / Math.max(1, Math.floor(maxTicks));
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) {
    const step = m * mag;
    if (step >= raw * (1 - 1e-9)) return step;
  }
  return 10 * mag;
}

/** Decimals needed to write multiples of step exactly (0 for steps >= 1). */
export function stepDecimals(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  return Math.max(0, Math.min(20, -Math.floor(Math.log10(step) + 1e-9)));
}

/** Multiples of step inside [min, max], without float noise. */
function multiplesIn(min: number, max: number, step: number, limit: number): number[] {
  const start = Math.ceil(min / step - 1e-9);
  const end = Math.floor(max / step + 1e-9);
  if (end - start + 1 > limit) return new Array<number>(limit + 1); // too many: only the count matters
  const decimals = stepDecimals(step);
  const ticks: number[] = [];
  for (let k = start; k <= end; k++) {
    // Round away the float error of k * step (0.30000000000000004).
    const v = Number((k * step).toFixed(decimals));
    ticks.push(Object.is(v, -0) ? 0 : v);
  }
  return ticks;
}

/**
 * Multiples of a 1-2-5 step inside [min, max]: the finest such step that gives
 * at most maxTicks ticks (and at least one, for a range too narrow to hold two).
 */
export function niceNumberTicks(min: number, max: number, maxTicks: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min || !(maxTicks >= 1)) return [];
  if (max === min) return [min];
  const limit = Math.floor(maxTicks);
  let step = niceStep(max - min, limit);
  if (step === 0) return [];
  for (let guard = 0; guard < 4; guard++) {
    const ticks = multiplesIn(min, max, step, limit);
    if (ticks.length <= limit) {
      if (ticks.length > 0) return ticks;
      // No multiple in range: one step finer holds at least one.
      const finer = niceStep(step / 2.6, 1);
      return multiplesIn(min, max, finer, Infinity).slice(0, limit);
    }
    step = niceStep(step * 1.5, 1); // the next 1-2-5 step
  }
  return [];
}

// ---------------------------------------------------------------------------
// Time in a zone

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface ZonedParts {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function partsFormatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = partsFormatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
      era: 'short',
    });
    partsFormatters.set(key, f);
  }
  return f;
}

/** Wall-clock fields of instant t in timeZone (the system zone when undefined). */
export function zonedParts(t: number, timeZone?: string): ZonedParts {
  const p: ZonedParts = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, weekday: 4 };
  let bc = false;
  for (const part of partsFormatter(timeZone).formatToParts(t)) {
    switch (part.type) {
      case 'year':
        p.year = Number(part.value);
        break;
      case 'month':
        p.month = Number(part.value);
        break;
      case 'day':
        p.day = Number(part.value);
        break;
      case 'hour':
        p.hour = Number(part.value) % 24;
        break;
      case 'minute':
        p.minute = Number(part.value);
        break;
      case 'second':
        p.second = Number(part.value);
        break;
      case 'weekday':
        p.weekday = WEEKDAYS.indexOf(part.value);
        break;
      case 'era':
        bc = part.value === 'BC' || part.value === 'B';
        break;
    }
  }
  if (bc) p.year = 1 - p.year;
  return p;
}

/** Wall-clock time as if it were UTC: what the clock on the plant wall reads, in ms. */
function wallMs(p: ZonedParts): number {
  const d = new Date(0);
  d.setUTCFullYear(p.year, p.month - 1, p.day);
  d.setUTCHours(p.hour, p.minute, p.second, 0);
  return d.getTime();
}

/** Offset of the zone from UTC at instant t, in ms (+3 600 000 for UTC+1). */
export function zoneOffsetMs(t: number, timeZone?: string): number {
  const whole = Math.floor(t / SECOND) * SECOND;
  return wallMs(zonedParts(whole, timeZone)) - whole;
}

/** The instant showing wall-clock `wall` (as-if-UTC ms); in a DST gap, the instant just after it. */
function instantOfWall(wall: number, timeZone?: string): number {
  const t1 = wall - zoneOffsetMs(wall, timeZone);
  const t2 = wall - zoneOffsetMs(t1, timeZone);
  if (t2 + zoneOffsetMs(t2, timeZone) === wall) return t2;
  const t3 = wall - zoneOffsetMs(t2, timeZone);
  if (t3 + zoneOffsetMs(t3, timeZone) === wall) return t3;
  // No instant shows this wall time (clocks jumped over it, as at midnight in Santiago): the later guess is just after the jump.
  return Math.max(t1, t2);
}

interface TimeStep {
  unit: 'ms' | 'month' | 'year';
  /** ms for unit 'ms', else the number of months or years. */
  size: number;
  /** Approximate length in ms, to choose the step. */
  approx: number;
  /** Whether ticks sit on round local wall-clock times (hours and days); smaller steps are the same in every zone. */
  wall: boolean;
}

const TIME_STEPS: TimeStep[] = [
  { unit: 'ms', size: SECOND, approx: SECOND, wall: false },
  { unit: 'ms', size: 5 * SECOND, approx: 5 * SECOND, wall: false },
  { unit: 'ms', size: 15 * SECOND, approx: 15 * SECOND, wall: false },
  { unit: 'ms', size: MINUTE, approx: MINUTE, wall: false },
  { unit: 'ms', size: 5 * MINUTE, approx: 5 * MINUTE, wall: false },
  // Every zone in use today is offset by a multiple of 15 minutes, so UTC multiples up to here are local ones too.
  { unit: 'ms', size: 15 * MINUTE, approx: 15 * MINUTE, wall: false },
  { unit: 'ms', size: HOUR, approx: HOUR, wall: true },
  { unit: 'ms', size: 3 * HOUR, approx: 3 * HOUR, wall: true },
  { unit: 'ms', size: 6 * HOUR, approx: 6 * HOUR, wall: true },
  { unit: 'ms', size: 12 * HOUR, approx: 12 * HOUR, wall: true },
  { unit: 'ms', size: DAY, approx: DAY, wall: true },
  // Every other local midnight: a week or two on a narrow chart would otherwise get Mondays only (two ticks).
  { unit: 'ms', size: 2 * DAY, approx: 2 * DAY, wall: true },
  { unit: 'ms', size: 7 * DAY, approx: 7 * DAY, wall: true },
  { unit: 'month', size: 1, approx: 30.44 * DAY, wall: true },
  { unit: 'month', size: 3, approx: 91.3 * DAY, wall: true },
  { unit: 'month', size: 6, approx: 182.6 * DAY, wall: true },
];
const YEAR_APPROX = 365.25 * DAY;

/** The steps to try for a span, finest first: the first whose tick count fits is used. */
function candidateTimeSteps(span: number, maxTicks: number): TimeStep[] {
  const wanted = span / maxTicks;
  const steps = TIME_STEPS.filter((s) => s.approx >= wanted * 0.9);
  let years = Math.max(1, Math.ceil(niceStep(wanted / YEAR_APPROX, 1)));
  for (let i = 0; i < 3; i++) {
    steps.push({ unit: 'year', size: years, approx: years * YEAR_APPROX, wall: true });
    years = Math.ceil(niceStep(years * 1.5, 1));
  }
  return steps;
}

/** Tick instants for one step; stops early past `limit` ticks. */
function timeTicksForStep(from: number, to: number, step: TimeStep, limit: number, timeZone: string | undefined): number[] {
  const times: number[] = [];
  const push = (t: number) => {
    if (t >= from && t <= to && (times.length === 0 || t > times[times.length - 1]!)) times.push(t);
  };
  if (!step.wall) {
    for (let t = Math.ceil(from / step.size) * step.size; t <= to && times.length <= limit; t += step.size) push(t);
  } else if (step.unit === 'ms' && step.size < DAY) {
    // Multiples of the step since local midnight (1, 3, 6 and 12 h all divide a day).
    const startWall = from + zoneOffsetMs(from, timeZone);
    for (let w = Math.floor(startWall / step.size) * step.size; times.length <= limit; w += step.size) {
      const t = instantOfWall(w, timeZone);
      if (!(t <= to)) break;
      push(t);
    }
  } else {
    // Days, weeks (from Monday), months and years: local midnights.
    const p = zonedParts(from, timeZone);
    let { year, month, day } = p;
    if (step.unit === 'ms' && step.size === 7 * DAY) day -= (p.weekday + 6) % 7;
    // Every other day counts from the first midnight in the range, not the one before it (which would leave that day out).
    else if (step.unit === 'ms' && step.size === 2 * DAY && instantOfWall(wallMs({ year, month, day, hour: 0, minute: 0, second: 0, weekday: 0 }), timeZone) < from) day += 1;
    if (step.unit === 'month') {
      month -= (month - 1) % step.size;
      day = 1;
    }
    if (step.unit === 'year') {
      year -= ((year % step.size) + step.size) % step.size;
      month = 1;
      day = 1;
    }
    while (times.length <= limit) {
      const t = instantOfWall(wallMs({ year, month, day, hour: 0, minute: 0, second: 0, weekday: 0 }), timeZone);
      if (!(t <= to)) break;
      push(t);
      if (step.unit === 'ms') day += step.size / DAY;
      else if (step.unit === 'month') month += step.size;
      else year += step.size;
    }
  }
  return times;
}

type LabelStyle = 'seconds' | 'time' | 'day-time' | 'day' | 'day-year' | 'month-year' | 'year';

const monthFormatters = new Map<string, Intl.DateTimeFormat>();
function monthName(t: number, timeZone: string | undefined): string {
  const key = timeZone ?? '';
  let f = monthFormatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, { timeZone, month: 'short' });
    monthFormatters.set(key, f);
  }
  return f.format(t);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

function formatWithStyle(t: number, style: LabelStyle, timeZone: string | undefined): string {
  const p = zonedParts(t, timeZone);
  const hm = `${pad2(p.hour)}:${pad2(p.minute)}`;
  switch (style) {
    case 'seconds':
      return `${hm}:${pad2(p.second)}`;
    case 'time':
      return hm;
    case 'day-time':
      return `${pad2(p.day)} ${monthName(t, timeZone)} ${hm}`;
    case 'day':
      return `${pad2(p.day)} ${monthName(t, timeZone)}`;
    case 'day-year':
      return `${pad2(p.day)} ${monthName(t, timeZone)} ${p.year}`;
    case 'month-year':
      return `${monthName(t, timeZone)} ${p.year}`;
    case 'year':
      return String(p.year);
  }
}

/**
 * Ticks on round local times (1 s … 15 min, 1 h, 3 h, 6 h, 12 h, 1 d, 2 d, 7 d (Mondays),
 * 1, 3, 6 months, 1-2-5 years) inside [from, to]: the finest step that gives at most maxTicks ticks.
 * Labels fit the span: HH:mm:ss, HH:mm, dd MMM HH:mm, dd MMM (yyyy), MMM yyyy, yyyy.
 */
export function niceTimeTicks(from: number, to: number, maxTicks: number, timeZone?: string): { t: number; label: string }[] {
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(to > from) || !(maxTicks >= 1)) return [];
  const span = to - from;
  const limit = Math.floor(maxTicks);
  let step: TimeStep | undefined;
  let times: number[] = [];
  for (const candidate of candidateTimeSteps(span, limit)) {
    step = candidate;
    times = timeTicksForStep(from, to, candidate, limit, timeZone);
    if (times.length <= limit) break;
  }
  if (!step || times.length > limit) return [];

  let style: LabelStyle;
  if (step.unit === 'year') style = 'year';
  else if (step.unit === 'month') style = 'month-year';
  else if (step.size >= DAY) {
    const a = zonedParts(from, timeZone).year;
    const b = zonedParts(to, timeZone).year;
    style = a === b ? 'day' : 'day-year';
  } else if (span <= DAY && sameLocalDay(from, to, timeZone)) style = step.size < MINUTE ? 'seconds' : 'time';
  else style = step.size < MINUTE ? 'seconds' : 'day-time';

  return times.map((t) => ({ t, label: formatWithStyle(t, style, timeZone) }));
}

function sameLocalDay(a: number, b: number, timeZone: string | undefined): boolean {
  const pa = zonedParts(a, timeZone);
  const pb = zonedParts(b, timeZone);
  return pa.year === pb.year && pa.month === pb.month && pa.day === pb.day;
}

/** "12 Mar 2024 08:15" (or "…08:15:30") in the zone, for readouts and summaries. */
export function formatZonedTime(t: number, timeZone?: string, withSeconds = false): string {
  const p = zonedParts(t, timeZone);
  const hm = `${pad2(p.hour)}:${pad2(p.minute)}${withSeconds ? `:${pad2(p.second)}` : ''}`;
  return `${pad2(p.day)} ${monthName(t, timeZone)} ${p.year} ${hm}`;
}

/**
 * "Europe/Berlin (UTC+01:00)" at instant t, or "UTC"; the system zone when undefined.
 * With `until`, a range that crosses a DST change shows both offsets: "Europe/Berlin (UTC+01:00 / UTC+02:00)".
 */
export function timeZoneLabel(t: number, timeZone?: string, until?: number): string {
  const name = timeZone ?? new Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (name === 'UTC' || name === 'Etc/UTC') return 'UTC';
  const offsets = [formatOffset(zoneOffsetMs(t, timeZone))];
  if (until !== undefined && Number.isFinite(until)) {
    const other = formatOffset(zoneOffsetMs(until, timeZone));
    if (other !== offsets[0]) offsets.push(other);
  }
  return `${name} (${offsets.join(' / ')})`;
}

function formatOffset(ms: number): string {
  const off = Math.round(ms / MINUTE);
  const sign = off < 0 ? '−' : '+';
  const abs = Math.abs(off);
  return `UTC${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}
