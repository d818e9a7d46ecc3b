/**
 * The rules behind the recording page and the Recordings list: how each state
 * looks (colour only for what needs attention, ISA-101), values with their unit,
 * the time range of "Save as dataset" as a person types it, and what a finished
 * save job made. Pure, so it is unit tested.
 */
import { GAP_ROWS, RECORDING_STATE_TITLES, type LiveValue, type RecordingGap, type RecordingState } from '../../../shared/recording';

export type StateTone = 'neutral' | 'running' | 'warn' | 'bad';

/** Recording is normal (a quiet dot, no fill); Reconnecting and Interrupted need a look (amber); Failed needs action (red). */
export const STATE_TONES: Record<RecordingState, StateTone> = {
  connecting: 'running',
  recording: 'running',
  reconnecting: 'warn',
  stopped: 'neutral',
  failed: 'bad',
  interrupted: 'warn',
};

/** `attention`: recording, but some tags are not being recorded (recordingNeedsAttention): amber, and said so. */
export function stateLook(state: RecordingState, attention = false): { label: string; tone: StateTone } {
  if (attention && state === 'recording') return { label: 'Partly recording', tone: 'warn' };
  return { label: RECORDING_STATE_TITLES[state], tone: STATE_TONES[state] };
}

const valueFormats = new Map<string, Intl.NumberFormat>();

function numberFormat(locale: string | undefined, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale ?? ''}|${JSON.stringify(opts)}`;
  let f = valueFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, opts);
    valueFormats.set(key, f);
  }
  return f;
}

/**
 * A reading as an HMI shows it: four significant digits (45.15 °C, 3.795 bar, 0.01234),
 * whole numbers from 1000 up (1,476 rpm), in the locale, with the unit.
 */
export function formatValue(v: number, unit: string | null | undefined, locale?: string): string {
  if (!Number.isFinite(v)) return '—';
  const text = numberFormat(locale, Math.abs(v) >= 1000 ? { maximumFractionDigits: 0 } : { maximumSignificantDigits: 4 }).format(v);
  return unit ? `${text} ${unit}` : text;
}

/** The range of values shown, with the unit once: "45.01 to 50.77 °C". */
export function formatRange(lo: number, hi: number, unit: string | null | undefined, locale?: string): string {
  return `${formatValue(lo, null, locale)} to ${formatValue(hi, unit, locale)}`;
}

/** A live value: the number with its unit, the source's own text for on/off values, "—" when there is none. */
export function formatLiveValue(v: LiveValue, unit: string | null | undefined, locale?: string): string {
  if (v.value === null) return v.text ?? '—';
  if (v.text !== null && /^(true|false)$/i.test(v.text)) return v.text.toLowerCase() === 'true' ? 'On (1)' : 'Off (0)';
  return formatValue(v.value, unit, locale);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** ms since 1970 → the value of an <input type="datetime-local" step="1"> in this PC's zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The value of a datetime-local input (with or without seconds) → ms since 1970; null when it is not a time. */
export function fromLocalInput(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, s);
  // new Date rolls 31 February over into March: such a date was not a real one.
  if (date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  return date.getTime();
}

/** Why a time range cannot be saved, or null. The range may be narrower than the recording, never empty. */
export function rangeProblem(from: number | null, to: number | null, first: number | null, last: number | null): string | null {
  if (first === null || last === null) return 'Nothing has been recorded yet.';
  if (from === null) return 'Enter the start of the range as a date and time.';
  if (to === null) return 'Enter the end of the range as a date and time.';
  if (from >= to) return 'The start must be before the end.';
  // Inputs show whole seconds: a bound within the same second as the recording's edge is inside it.
  if (to < Math.floor(first / 1000) * 1000 || from > last) return 'The range holds none of the recording: choose times between its first and last sample.';
  return null;
}

/** The dataset version a finished "Save as dataset" job made, as far as its result says. */
export function savedDataset(result: unknown, fallbackName: string): { name: string; version: number | null } {
  const r = (result && typeof result === 'object' ? result : {}) as Record<string, unknown>;
  const name = typeof r.dataset === 'string' ? r.dataset : typeof r.name === 'string' ? r.name : fallbackName;
  const version = typeof r.version === 'number' ? r.version : null;
  return { name, version };
}

/** How long a gap lasted (or has lasted so far). */
export function gapMs(gap: RecordingGap, now: number): number {
  const start = Date.parse(gap.start);
  const end = gap.end === null ? now : Date.parse(gap.end);
  return Math.max(0, end - start);
}

/**
 * The gaps the table shows (the newest `max`, in time order) and how many older ones it leaves out.
 * `total` is how many the recording has: recordings.live sends only some of them (the newest and
 * those the sparklines need), so the count left out is taken from it, not from the list.
 */
export function shownGaps<G>(gaps: readonly G[], total = gaps.length, max = GAP_ROWS): { rows: readonly G[]; older: number } {
  const rows = gaps.length <= max ? gaps : gaps.slice(gaps.length - max);
  return { rows, older: Math.max(0, total - rows.length) };
}

/**
 * A tag's sparkline points with a missing point wherever a gap of the tag (or of the
 * whole source) falls between two of them, so the line breaks there instead of
 * drawing a straight stroke across a time nothing was recorded.
 */
export function breakAtGaps<P extends { t: number; v: number | null }>(points: readonly P[], gaps: readonly RecordingGap[], tag: string, now: number): { t: number; v: number | null }[] {
  const spans = gaps
    .filter((g) => g.tagId === null || g.tagId === tag)
    .map((g) => [Date.parse(g.start), g.end === null ? now : Date.parse(g.end)] as const)
    .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  if (!spans.length) return points.map((p) => ({ t: p.t, v: p.v }));
  const out: { t: number; v: number | null }[] = [];
  points.forEach((p, i) => {
    const before = points[i - 1];
    if (before && spans.some(([a, b]) => a < p.t && b > before.t)) out.push({ t: (before.t + p.t) / 2, v: null });
    out.push({ t: p.t, v: p.v });
  });
  // A gap still going after the last point: nothing to join, the line just ends.
  return out;
}

/**
 * The trend of a whole recording from its overview (min and max per time bucket) as one line the
 * LineChart draws: each bucket's lowest and highest value in turn, the one nearer the line so far
 * first, so the line sweeps the band the values took and a spike shows. Buckets without a value are
 * passed over (the line joins across them); it breaks (NaN) where a gap of the tag or the whole
 * source falls, as the sparklines do.
 */
export function envelopeLine(points: readonly { t: number; min: number | null; max: number | null }[], gaps: readonly RecordingGap[], tag: string, now: number): { x: number[]; values: number[] } {
  const filled = points.filter((p): p is { t: number; min: number; max: number } => p.min !== null && p.max !== null);
  const x: number[] = [];
  const values: number[] = [];
  let at = 0;
  let pen = NaN;
  for (const p of breakAtGaps(
    filled.map((f) => ({ t: f.t, v: f.min })),
    gaps,
    tag,
    now,
  )) {
    if (p.v === null) {
      x.push(p.t);
      values.push(NaN);
      pen = NaN;
      continue;
    }
    const { t, min, max } = filled[at++]!;
    const order = min === max ? [min] : Math.abs(pen - max) < Math.abs(pen - min) ? [max, min] : [min, max];
    for (const v of order) {
      x.push(t);
      values.push(v);
    }
    pen = order[order.length - 1]!;
  }
  return { x, values };
}

/** The interval of a saved dataset typed in seconds → ms, or the sentence saying what is wrong. */
export function parseGridSeconds(text: string): { ms: number } | { error: string } {
  const s = text.trim().replace(',', '.');
  const v = /^\d+(\.\d*)?$|^\.\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v)) return { error: 'Enter the time step in seconds, e.g. 1 or 0.5.' };
  const ms = Math.round(v * 1000);
  if (ms < 100 || ms > 86_400_000) return { error: 'The time step must be from 0.1 s to one day (86400 s).' };
  return { ms };
}

/** Rows a dataset of this range and step would have, for "about 3,600 rows". */
export function rowsFor(from: number, to: number, stepMs: number): number {
  if (!(to > from) || !(stepMs > 0)) return 0;
  return Math.floor((to - from) / stepMs) + 1;
}
