/**
 * The Inbox in words and numbers: an episode's span in data time, its score
 * beside the alarm level, the keys that answer and move, the charts each card
 * draws, and the cause picker's choices. Pure, so it is unit tested.
 */
import type { Episode, EpisodeDetail, FeedbackSettings, Verdict } from '../../../shared/feedback';
import { VERDICT_TITLES } from '../../../shared/feedback';
import { zonedParts } from '../../../shared/downsample';
import { formatNumber } from '../../charts/chart-math';

const MINUTE = 60_000;
const pad2 = (n: number) => String(n).padStart(2, '0');

/** "under a minute", "40 min", "2 h 15 min", "3 h", "2 d 5 h". */
export function durationWords(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const min = Math.round(ms / MINUTE);
  if (min < 1) return 'under a minute';
  if (min < 60) return `${min} min`;
  if (min < 48 * 60) return `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`;
  const h = Math.round(min / 60);
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

/** "10 Dec" (with the year when it is not the year of `now`), in the plant's zone and the user's language. */
function dayWords(t: number, now: number, locale?: string, timeZone?: string): string {
  const sameYear = zonedParts(t, timeZone).year === zonedParts(now, timeZone).year;
  return new Intl.DateTimeFormat(locale, { timeZone, day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) }).format(t);
}

function clock(t: number, timeZone?: string): string {
  const p = zonedParts(t, timeZone);
  return `${pad2(p.hour)}:${pad2(p.minute)}`;
}

/**
 * When an episode happened, in data time: "2 h 15 min on 10 Dec, 06:25–08:40",
 * "under a minute on 10 Dec, 06:25", or across midnight "9 h from 10 Dec, 22:00 to 11 Dec, 07:00".
 */
export function spanWords(startIso: string, endIso: string, now: number, locale?: string, timeZone?: string): string {
  const a = Date.parse(startIso);
  const b = Date.parse(endIso);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return '–';
  const length = durationWords(b - a);
  const pa = zonedParts(a, timeZone);
  const pb = zonedParts(b, timeZone);
  const oneDay = pa.year === pb.year && pa.month === pb.month && pa.day === pb.day;
  if (oneDay) {
    const times = clock(a, timeZone) === clock(b, timeZone) ? clock(a, timeZone) : `${clock(a, timeZone)}–${clock(b, timeZone)}`;
    return `${length} on ${dayWords(a, now, locale, timeZone)}, ${times}`;
  }
  return `${length} from ${dayWords(a, now, locale, timeZone)}, ${clock(a, timeZone)} to ${dayWords(b, now, locale, timeZone)}, ${clock(b, timeZone)}`;
}

/** A score with as many decimals as tell it apart from the alarm level (3 significant digits, at most 4 decimals). */
export function scoreText(v: number | null | undefined, locale?: string): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  const abs = Math.abs(v);
  const decimals = abs === 0 ? 2 : Math.max(0, Math.min(4, 2 - Math.floor(Math.log10(abs))));
  return formatNumber(v, decimals, locale);
}

/** "Peak score 0.82, alarm level 0.61" — the score beside the line it crossed. */
export function peakWords(e: Pick<Episode, 'peakScore' | 'threshold'>, locale?: string): string {
  const peak = `Peak score ${scoreText(e.peakScore, locale)}`;
  return e.threshold === null ? peak : `${peak}, alarm level ${scoreText(e.threshold, locale)}`;
}

/** How far an input went, in plant words: "4.2 × its usual spread from training", or for a category "a value not seen in training". */
export function deviationWords(input: { deviation: number; normalLow: number | null }, locale?: string): string {
  if (input.normalLow === null && (input.deviation === 0 || input.deviation === 1)) return input.deviation === 1 ? 'a value not seen in training' : 'a value seen in training';
  return `${formatNumber(input.deviation, input.deviation < 10 ? 1 : 0, locale)} × its usual spread from training`;
}

/** "Next questions at 14:00." today, "Next questions tomorrow at 06:00.", or with the day further out. */
export function nextPromptWords(nextIso: string, now: number, locale?: string, timeZone?: string): string {
  const t = Date.parse(nextIso);
  if (!Number.isFinite(t)) return '';
  const day = (x: number) => {
    const p = zonedParts(x, timeZone);
    return Date.UTC(p.year, p.month - 1, p.day);
  };
  const days = Math.round((day(t) - day(now)) / 86_400_000);
  const at = clock(t, timeZone);
  if (days <= 0) return `Next questions at ${at}.`;
  if (days === 1) return `Next questions tomorrow at ${at}.`;
  return `Next questions on ${dayWords(t, now, locale, timeZone)} at ${at}.`;
}

/** What a key press on the Inbox does: answer the focused card, or move to the next or previous one. */
export type InboxKey = { kind: 'answer'; verdict: Verdict } | { kind: 'move'; by: 1 | -1 };

export const VERDICT_KEYS: Record<Verdict, string> = { real: 'R', normal: 'N', unsure: 'U' };

/**
 * The Inbox's own keys, only when no field has the focus and no modifier is held
 * (Ctrl+R reloads, and a cause typed into a field is not an answer).
 */
export function inboxKey(e: { key: string; ctrlKey: boolean; altKey: boolean; metaKey: boolean }, inField: boolean): InboxKey | null {
  if (inField || e.ctrlKey || e.altKey || e.metaKey) return null;
  switch (e.key) {
    case 'r':
    case 'R':
      return { kind: 'answer', verdict: 'real' };
    case 'n':
    case 'N':
      return { kind: 'answer', verdict: 'normal' };
    case 'u':
    case 'U':
      return { kind: 'answer', verdict: 'unsure' };
    case 'j':
    case 'J':
    case 'ArrowDown':
      return { kind: 'move', by: 1 };
    case 'k':
    case 'K':
    case 'ArrowUp':
      return { kind: 'move', by: -1 };
    default:
      return null;
  }
}

/** The card to focus after a move: stays within the list; from nothing, down goes to the first and up to the last. */
export function moveFocus(ids: readonly number[], current: number | null, by: 1 | -1): number | null {
  if (ids.length === 0) return null;
  const i = current === null ? -1 : ids.indexOf(current);
  if (i < 0) return by === 1 ? ids[0]! : ids[ids.length - 1]!;
  return ids[Math.min(ids.length - 1, Math.max(0, i + by))]!;
}

/** After an answer: the next unanswered card below, else above, else stay. */
export function nextUnanswered(ids: readonly number[], answered: (id: number) => boolean, from: number): number {
  const i = ids.indexOf(from);
  const after = ids.slice(i + 1).find((id) => !answered(id));
  if (after !== undefined) return after;
  const before = ids.slice(0, Math.max(0, i)).find((id) => !answered(id));
  return before ?? from;
}

/** Keeps the cards the page already shows (answered ones stay, collapsed) and adds newly due ones, at most `max` unanswered. */
export function mergeCards(shown: readonly number[], due: readonly number[], max = 5): number[] {
  const out = [...shown];
  for (const id of due) if (!out.includes(id) && out.length < shown.length + max) out.push(id);
  return out;
}

/** The causes to offer: those used before (most used first) that match what is typed, and the typed one when it is new. */
export function causeChoices(causes: readonly { cause: string; count: number }[], typed: string, max = 6): { cause: string; isNew: boolean }[] {
  const t = typed.trim().toLowerCase();
  const known = causes.filter((c) => !t || c.cause.toLowerCase().includes(t)).slice(0, max);
  const out = known.map((c) => ({ cause: c.cause, isNew: false }));
  if (t && !causes.some((c) => c.cause.toLowerCase() === t)) out.push({ cause: typed.trim(), isNew: true });
  return out;
}

/** "Real problem: bearing wear", "Normal operation". */
export function answerWords(e: Pick<Episode, 'verdict' | 'cause'>): string {
  if (!e.verdict) return 'Not answered';
  return e.verdict === 'real' && e.cause ? `${VERDICT_TITLES.real}: ${e.cause}` : VERDICT_TITLES[e.verdict];
}

export interface TimeLine {
  x: number[];
  values: number[];
}

function toLine(points: readonly { t: string; v: number | null }[]): TimeLine {
  const x: number[] = [];
  const values: number[] = [];
  for (const p of points) {
    const t = Date.parse(p.t);
    if (!Number.isFinite(t)) continue;
    x.push(t);
    values.push(p.v === null ? NaN : p.v);
  }
  return { x, values };
}

export interface CardCharts {
  /** The episode's span, shaded on every chart. */
  band: { from: number; to: number };
  score: TimeLine;
  inputs: { name: string; line: TimeLine; normal: { low: number; high: number } | null; words: string | null }[];
}

/** What a card's small trend charts draw: the score and the contributing inputs (most first, at most `max`) around the episode. */
export function cardCharts(d: EpisodeDetail, max = 3, locale?: string): CardCharts {
  const order = d.episode.inputs.map((i) => i.name);
  const rank = (n: string) => (order.includes(n) ? order.indexOf(n) : order.length);
  const inputs = [...d.chart.inputs]
    .sort((a, b) => rank(a.name) - rank(b.name))
    .slice(0, max)
    .map((i) => {
      const info = d.episode.inputs.find((x) => x.name === i.name);
      const low = i.normalLow ?? info?.normalLow ?? null;
      const high = i.normalHigh ?? info?.normalHigh ?? null;
      return {
        name: i.name,
        line: toLine(i.points),
        normal: low !== null && high !== null && high >= low ? { low, high } : null,
        words: info ? deviationWords(info, locale) : null,
      };
    });
  const score = toLine(d.chart.score);
  // Half a row's spacing either side, so a one-row episode still shows as a band and a longer one covers its rows' marks.
  const half = medianStep(score.x) / 2;
  return { band: { from: Date.parse(d.episode.start) - half, to: Date.parse(d.episode.end) + half }, score, inputs };
}

/** The typical spacing of ascending times (0 with fewer than two). */
export function medianStep(x: readonly number[]): number {
  const steps: number[] = [];
  for (let i = 1; i < x.length; i++) if (x[i]! > x[i - 1]!) steps.push(x[i]! - x[i - 1]!);
  if (steps.length === 0) return 0;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)]!;
}

export type ListStatus = 'unanswered' | 'answered' | 'all';
export const LIST_STATUS_WORDS: Record<ListStatus, string> = { unanswered: 'Unanswered', answered: 'Answered', all: 'All' };

/** Whether an episode belongs under a filter of the All episodes table. */
export function inStatus(e: Pick<Episode, 'verdict'>, status: ListStatus): boolean {
  return status === 'all' || (status === 'answered') === (e.verdict !== null);
}

/** "13:27" today, "8 Jan, 13:27" on another day: a clock time of this PC, 24-hour like the prompt times. */
export function clockWords(iso: string, now: number, locale?: string, timeZone?: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '–';
  const a = zonedParts(t, timeZone);
  const b = zonedParts(now, timeZone);
  const today = a.year === b.year && a.month === b.month && a.day === b.day;
  return today ? clock(t, timeZone) : `${dayWords(t, now, locale, timeZone)}, ${clock(t, timeZone)}`;
}

/** "No unanswered episodes.", … for the table's empty state. */
/** "28 episodes, newest first; the first 20 shown" above the All episodes table. */
export function countWords(total: number, shown: number): string {
  const n = `${total.toLocaleString()} ${total === 1 ? 'episode' : 'episodes'}`;
  if (total <= 1) return n;
  return shown < total ? `${n}, newest first; the first ${shown.toLocaleString()} shown` : `${n}, newest first`;
}

export function emptyListWords(status: ListStatus): string {
  if (status === 'unanswered') return 'No unanswered episodes. Every episode found so far has an answer.';
  if (status === 'answered') return 'No answers yet. Answer an episode above, or pick Unanswered.';
  return 'No episodes yet. When a deployed model flags unusual behaviour, the rows are grouped into episodes here.';
}

/** Settings › Feedback as typed: numbers as text, so a half-typed value is not lost. */
export interface FeedbackDraft {
  promptTimes: string[];
  perPrompt: number;
  gapMinutes: string;
  minMinutes: string;
  minRows: string;
  notifications: boolean;
}
export type FeedbackDraftField = 'promptTimes' | 'gapMinutes' | 'minMinutes' | 'minRows';

export function feedbackDraft(s: FeedbackSettings): FeedbackDraft {
  return { promptTimes: [...s.promptTimes], perPrompt: s.perPrompt, gapMinutes: String(s.gapMinutes), minMinutes: String(s.minMinutes), minRows: String(s.minRows), notifications: s.notifications };
}

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The settings to save, or the field that is wrong and a sentence saying what to type. Times come back sorted, each once. */
export function parseFeedbackDraft(d: FeedbackDraft): { settings: FeedbackSettings } | { field: FeedbackDraftField; error: string } {
  const times = d.promptTimes.map((t) => t.trim()).filter((t) => t !== '');
  const wrong = times.find((t) => !CLOCK.test(t));
  if (wrong !== undefined) return { field: 'promptTimes', error: `"${wrong}" is not a time of day. Use hours and minutes, such as 06:00 or 14:30.` };
  const unique = [...new Set(times)].sort();
  if (unique.length === 0) return { field: 'promptTimes', error: 'Give at least one time to ask, such as 06:00.' };
  if (unique.length > 12) return { field: 'promptTimes', error: `At most 12 prompt times a day; there are ${unique.length}.` };
  const num = (field: FeedbackDraftField, text: string, what: string, min: number, max: number, whole: boolean) => {
    const v = Number(text.trim().replace(',', '.'));
    if (text.trim() === '' || !Number.isFinite(v) || (whole && !Number.isInteger(v)) || v < min || v > max) {
      return { field, error: `${what} must be a ${whole ? 'whole ' : ''}number from ${min.toLocaleString()} to ${max.toLocaleString()}; "${text}" is not.` };
    }
    return v;
  };
  const gap = num('gapMinutes', d.gapMinutes, 'The gap that still joins unusual rows (minutes)', 0, 10_080, false);
  if (typeof gap !== 'number') return gap;
  const minMinutes = num('minMinutes', d.minMinutes, 'The shortest episode to ask about (minutes)', 0, 10_080, false);
  if (typeof minMinutes !== 'number') return minMinutes;
  const minRows = num('minRows', d.minRows, 'The fewest unusual rows to ask about', 1, 100_000, true);
  if (typeof minRows !== 'number') return minRows;
  return { settings: { promptTimes: unique, perPrompt: Math.min(5, Math.max(1, Math.round(d.perPrompt))), gapMinutes: gap, minMinutes, minRows, notifications: d.notifications } };
}
