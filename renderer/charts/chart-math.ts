/**
 * The arithmetic behind the trend chart and the histogram: scales, zoom and pan,
 * lane layout, number formats. Pure (no DOM at module level) so it is unit tested.
 */
import { type MinMaxSeries, niceNumberTicks, niceStep, stepDecimals, upperBound } from '../../shared/downsample';

export type TimeRange = [from: number, to: number];

// ---------------------------------------------------------------------------
// Scales

/** Time to an x offset inside a plot of `width` px that shows [from, to]. */
export function timeToPx(t: number, from: number, to: number, width: number): number {
  return ((t - from) / (to - from)) * width;
}

export function pxToTime(px: number, from: number, to: number, width: number): number {
  return from + (px / width) * (to - from);
}

/** Value to a y offset: `hi` at `top`, `lo` at `top + height`. */
export function valueToPx(v: number, lo: number, hi: number, top: number, height: number): number {
  return top + (1 - (v - lo) / (hi - lo)) * height;
}

/** A value axis around the data: 6 % headroom, a flat line centred, nothing for no data. */
export function paddedDomain(lo: number, hi: number): TimeRange | null {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return null;
  if (hi === lo) {
    const pad = Math.abs(lo) * 0.05 || 1;
    return [lo - pad, hi + pad];
  }
  const pad = (hi - lo) * 0.06;
  return [lo - pad, hi + pad];
}

/** Ticks for a value axis, with the step so labels can be written with the right decimals. */
export function valueAxis(lo: number, hi: number, maxTicks: number): { ticks: number[]; step: number } {
  const ticks = niceNumberTicks(lo, hi, maxTicks);
  const step = ticks.length >= 2 ? ticks[1]! - ticks[0]! : niceStep(hi - lo, Math.max(1, maxTicks));
  return { ticks, step };
}

// ---------------------------------------------------------------------------
// Range changes: zoom, pan, selection

/** Keep [from, to] inside `full` and at least minSpan wide (or all of `full` when that is shorter), shifting rather than shrinking. */
export function clampRange(from: number, to: number, full: TimeRange, minSpan: number): TimeRange {
  const [f0, f1] = full;
  const fullSpan = f1 - f0;
  if (!(fullSpan > 0)) return [f0, f1];
  const narrowest = Math.min(minSpan, fullSpan);
  let a = from;
  let span = to - from;
  if (!(span >= narrowest)) {
    // Too narrow: widen around the middle.
    span = narrowest;
    a = (from + to) / 2 - span / 2;
  }
  if (span > fullSpan) span = fullSpan;
  if (!(a >= f0)) a = f0;
  if (a + span > f1) a = f1 - span;
  return [a, a + span];
}

/** Zoom by `factor` (< 1 zooms in) keeping the time under the cursor (`anchor`) where it is. */
export function zoomAround(from: number, to: number, anchor: number, factor: number, full: TimeRange, minSpan: number): TimeRange {
  const span = to - from;
  const fullSpan = full[1] - full[0];
  const next = Math.min(Math.max(span * factor, Math.min(minSpan, fullSpan)), fullSpan);
  const ratio = span > 0 ? Math.min(1, Math.max(0, (anchor - from) / span)) : 0.5;
  const a = anchor - ratio * next;
  return clampRange(a, a + next, full, minSpan);
}

/** Move the window by deltaMs without changing its width, stopping at the ends of `full`. */
export function panBy(from: number, to: number, deltaMs: number, full: TimeRange): TimeRange {
  const span = to - from;
  let a = from + deltaMs;
  if (a < full[0]) a = full[0];
  if (a + span > full[1]) a = full[1] - span;
  if (span >= full[1] - full[0]) return [full[0], full[1]];
  return [a, a + span];
}

/** The range a drag from px0 to px1 selects, or null for a click or a drag narrower than minPx. */
export function selectionRange(
  px0: number,
  px1: number,
  from: number,
  to: number,
  width: number,
  full: TimeRange,
  minSpan: number,
  minPx = 4,
): TimeRange | null {
  const a = Math.max(0, Math.min(px0, px1));
  const b = Math.min(width, Math.max(px0, px1));
  if (b - a < minPx) return null;
  const t0 = pxToTime(a, from, to, width);
  const t1 = pxToTime(b, from, to, width);
  if (t1 - t0 < minSpan) {
    const mid = (t0 + t1) / 2;
    return clampRange(mid - minSpan / 2, mid + minSpan / 2, full, minSpan);
  }
  return clampRange(t0, t1, full, minSpan);
}

/** Zoom factor for one wheel event: down zooms out, up zooms in; lines and pages count as pixels. */
export function wheelZoomFactor(deltaY: number, deltaMode: number): number {
  const px = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.min(4, Math.max(0.25, Math.exp(px * 0.0015)));
}

export type KeyAction = { kind: 'pan'; fraction: number } | { kind: 'zoom'; factor: number } | { kind: 'reset' };

/** What a key does to the trend: arrows pan (a tenth, or half with Shift), + and - zoom, Home resets. */
export function chartKeyAction(key: string, shiftKey: boolean): KeyAction | null {
  switch (key) {
    case 'ArrowLeft':
      return { kind: 'pan', fraction: shiftKey ? -0.5 : -0.1 };
    case 'ArrowRight':
      return { kind: 'pan', fraction: shiftKey ? 0.5 : 0.1 };
    case '+':
    case '=':
    case 'Add':
      return { kind: 'zoom', factor: 0.5 };
    case '-':
    case '_':
    case 'Subtract':
      return { kind: 'zoom', factor: 2 };
    case 'Home':
      return { kind: 'reset' };
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------
// Series in view

/** Buckets [i0, i1) of a series that overlap [from, to], plus one each side so lines run off the edges. */
export function visibleIndexRange(s: MinMaxSeries, from: number, to: number, bucketMs: number): [number, number] {
  const n = s.x.length;
  const i0 = upperBound(s.x, from - bucketMs); // first bucket ending after `from`
  const i1 = upperBound(s.x, to);
  return [Math.max(0, i0 - 1), Math.min(n, i1 + 1)];
}

/** Lowest min and highest max of the buckets overlapping [from, to]; null when none. */
export function visibleExtent(s: MinMaxSeries, from: number, to: number, bucketMs: number): TimeRange | null {
  const i0 = upperBound(s.x, from - bucketMs);
  const i1 = upperBound(s.x, to);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = i0; i < i1; i++) {
    if (s.min[i]! < lo) lo = s.min[i]!;
    if (s.max[i]! > hi) hi = s.max[i]!;
  }
  return lo <= hi ? [lo, hi] : null;
}

/** The bucket under time t, or the nearest one within toleranceMs; -1 when none (a gap or no data). */
export function bucketNear(s: MinMaxSeries, t: number, bucketMs: number, toleranceMs: number): number {
  const n = s.x.length;
  if (n === 0) return -1;
  const i = upperBound(s.x, t) - 1; // last bucket starting at or before t
  if (i >= 0 && t < s.x[i]! + bucketMs) return i;
  const before = i >= 0 ? t - (s.x[i]! + bucketMs) : Infinity;
  const after = i + 1 < n ? s.x[i + 1]! - t : Infinity;
  if (before <= after && before <= toleranceMs) return i;
  if (after < before && after <= toleranceMs) return i + 1;
  return -1;
}

// ---------------------------------------------------------------------------
// Layout

export interface Lane {
  top: number;
  height: number;
}

/** Equal lanes stacked above a time axis of axisHeight px, gap px apart. */
export function layoutLanes(total: number, count: number, axisHeight: number, gap: number): Lane[] {
  if (count <= 0) return [];
  const h = Math.max(0, (total - axisHeight - gap * (count - 1)) / count);
  return Array.from({ length: count }, (_, i) => ({ top: i * (h + gap), height: h }));
}

/** Default chart height: room for each lane to show a few ticks, plus the time axis. */
export function defaultChartHeight(seriesCount: number): number {
  return Math.max(180, Math.min(6, Math.max(1, seriesCount)) * 120 + Math.max(0, seriesCount - 6) * 80 + 28);
}

// ---------------------------------------------------------------------------
// Numbers

const numberFormats = new Map<string, Intl.NumberFormat>();

/** A number with a fixed count of decimals and the locale's separators; "–" for a non-number. */
export function formatNumber(v: number, decimals: number, locale?: string): string {
  if (!Number.isFinite(v)) return '–';
  const d = Math.max(0, Math.min(10, Math.round(decimals)));
  const key = `${locale ?? ''}|${d}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { minimumFractionDigits: d, maximumFractionDigits: d });
    numberFormats.set(key, f);
  }
  const s = f.format(v);
  // "-0" after rounding reads as a different number from "0".
  return /^[-−]0([.,]0*)?$/.test(s) ? s.replace(/^[-−]/, '') : s;
}

/** Tick label for a value on an axis with this step. */
export function formatTick(v: number, step: number, locale?: string): string {
  return formatNumber(v, stepDecimals(step), locale);
}

/** A readout "12.3–12.9 °C" (one decimal finer than the axis), or a single value when min and max agree there. */
export function formatMinMax(min: number, max: number, step: number, unit: string | null, locale?: string): string {
  const d = Math.min(10, stepDecimals(step) + 1);
  const a = formatNumber(min, d, locale);
  const b = formatNumber(max, d, locale);
  const text = a === b ? a : `${a}–${b}`;
  return unit ? `${text} ${unit}` : text;
}

// ---------------------------------------------------------------------------
// Colours

/** A calm qualitative palette (no alarm red or warning amber), light theme; charts.css defines both themes as --series-N. */
export const SERIES_FALLBACK_COLORS = ['#3b6ea5', '#2b8a86', '#7b5ea7', '#8a6d3b', '#5b7083', '#a3577e', '#4f7d3a', '#3d8fbf'];

/** Colour for series i: its own, else the theme's --series-N (cycled), else the fallback. */
export function seriesColor(i: number, own: string | undefined, themeColors: readonly string[]): string {
  if (own) return own;
  const palette = themeColors.length > 0 ? themeColors : SERIES_FALLBACK_COLORS;
  return palette[i % palette.length]!;
}

// ---------------------------------------------------------------------------
// Histograms

export interface HistogramData {
  edges: number[];
  counts: number[];
}

/** Whether edges and counts describe a histogram (edges ascending, one more than counts). */
export function isValidHistogram(h: HistogramData): boolean {
  if (h.counts.length === 0 || h.edges.length !== h.counts.length + 1) return false;
  for (let i = 1; i < h.edges.length; i++) if (!(h.edges[i]! >= h.edges[i - 1]!)) return false;
  return h.counts.every((c) => Number.isFinite(c) && c >= 0);
}

/** Bin holding v (the last bin includes its right edge), or -1 outside. */
export function binAt(edges: number[], v: number): number {
  const n = edges.length - 1;
  if (n < 1 || !(v >= edges[0]!) || !(v <= edges[n]!)) return -1;
  return Math.min(n - 1, upperBound(edges, v) - 1);
}

/** Counts as shares of their total (0 for an empty histogram). */
export function shares(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/** The x extent covering both histograms. */
export function histogramExtent(a: HistogramData, b?: HistogramData): TimeRange {
  const lo = Math.min(a.edges[0]!, b && b.edges.length > 0 ? b.edges[0]! : Infinity);
  const hi = Math.max(a.edges[a.edges.length - 1]!, b && b.edges.length > 0 ? b.edges[b.edges.length - 1]! : -Infinity);
  return hi > lo ? [lo, hi] : [lo - 0.5, lo + 0.5];
}

/** The zone if Intl knows it, else undefined (the system zone): a bad setting must not break a page. */
export function safeTimeZone(zone: string | undefined): string | undefined {
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}
