/**
 * Monitoring in words: verdicts, contact, alerts and their states, the
 * settings form, and the rows the drift charts draw. Pure, so it is unit tested.
 */
import type { Alert, AlertKind, DriftTest, DriftVerdict, Health, InputDrift, InputHistogram, MonitorSettings, MonitorWindow } from '../../../shared/monitor';
import { formatNumber } from '../../charts/chart-math';
import { type PairedRow, toShares } from '../../charts/drift-chart-math';
import { clockTime, relativeTime } from '../deployments/deploy-logic';

export interface Look {
  label: string;
  /** Colour only when something needs attention (ISA-101). */
  tone: 'neutral' | 'warn' | 'bad';
  icon: 'check' | 'alert' | 'info';
}

export const VERDICT_LOOK: Record<DriftVerdict, Look> = {
  stable: { label: 'Stable', tone: 'neutral', icon: 'check' },
  watch: { label: 'Watch', tone: 'warn', icon: 'alert' },
  changed: { label: 'Changed', tone: 'bad', icon: 'alert' },
  unknown: { label: 'Not enough data', tone: 'neutral', icon: 'info' },
};

export const TONE_CHIP: Record<Look['tone'], string> = { neutral: 'chip-neutral', warn: 'chip-warn', bad: 'chip-bad' };

export const WINDOW_WORDS: Record<MonitorWindow, { button: string; sentence: string; slotMs: number }> = {
  hour: { button: 'Hour', sentence: 'the last hour', slotMs: 60_000 },
  day: { button: 'Day', sentence: 'the last 24 hours', slotMs: 15 * 60_000 },
  week: { button: 'Week', sentence: 'the last 7 days', slotMs: 3_600_000 },
};

export const TEST_WORDS: Record<DriftTest, string> = {
  ks: 'Kolmogorov–Smirnov',
  chi2: 'Chi-squared',
  wasserstein: 'Wasserstein distance',
  jensenshannon: 'Jensen–Shannon distance',
};

export const ALERT_KIND_WORDS: Record<AlertKind, string> = {
  down: 'Not answering',
  errors: 'Errors',
  drift: 'Inputs changed',
  anomalies: 'Unusual behaviour',
};

export const SNOOZE_CHOICES = [
  { minutes: 60, label: '1 hour' },
  { minutes: 480, label: '8 hours' },
  { minutes: 1440, label: '24 hours' },
] as const;

/** "Answering", "Stopped" (a local endpoint someone stopped: grey, nothing is wrong) or "No contact since 14:02 (5 minutes ago)". */
export function contactLook(
  e: { reachable: boolean; lastContact: string | null },
  now: number,
  timeZone?: string,
  stopped = false,
): { label: string; tone: Look['tone']; note: string | null } {
  if (stopped && !e.reachable) return { label: 'Stopped', tone: 'neutral', note: 'Not running on this PC. Start it on Deployments.' };
  if (e.reachable) return { label: 'Answering', tone: 'neutral', note: e.lastContact ? `Last contact ${relativeTime(e.lastContact, now)}` : null };
  if (!e.lastContact) return { label: 'No contact yet', tone: 'bad', note: 'It has never answered.' };
  return { label: 'Not answering', tone: 'bad', note: `No contact since ${clockTime(e.lastContact, now, undefined, timeZone)} (${relativeTime(e.lastContact, now)})` };
}

/** The line under the Contact tile: when it last answered, since when it has not, or that it was stopped. */
export function contactNote(h: Pick<Health, 'reachable' | 'lastContact' | 'noContactSince'>, stopped: boolean, now: number, timeZone?: string): string {
  if (stopped && !h.reachable) return 'Stopped on this PC; start it on Deployments.';
  if (h.reachable) return h.lastContact ? `Last answer ${relativeTime(h.lastContact, now)}` : 'Not contacted yet';
  return h.noContactSince ? `No contact since ${clockTime(h.noContactSince, now, undefined, timeZone)}` : 'Has never answered';
}

export const count = (n: number, one: string, many: string): string => `${n.toLocaleString()} ${n === 1 ? one : many}`;

/** "0.4 %", "12 %", "–" without requests; the unit never wraps away from its number. */
export function percentText(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return '–';
  const p = rate * 100;
  // One decimal below 10 %, and only when it says something: "0.4 %", "1 %", "2.5 %".
  return `${formatNumber(p, p > 0 && p < 9.95 && Math.abs(p - Math.round(p)) >= 0.05 ? 1 : 0)}\u00a0%`;
}

/** "8 ms", "1.2 s", "–". */
export function latencyText(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  return ms >= 1000 ? `${formatNumber(ms / 1000, 1)}\u00a0s` : `${formatNumber(ms, ms < 10 ? 1 : 0)}\u00a0ms`;
}

/** "every minute", "every 5 minutes", "every 10 seconds". */
export function intervalWords(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? 'every hour' : `every ${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? 'every minute' : `every ${seconds / 60} minutes`;
  return seconds === 1 ? 'every second' : `every ${seconds} seconds`;
}

/** PSI and statistics with three decimals, "–" when missing. */
export const statText = (v: number | null): string => (v === null || !Number.isFinite(v) ? '–' : formatNumber(v, 3));

/** Most important first (rank 1 is the most important; unranked after), then the largest PSI. */
export function byImportance<T extends Pick<InputDrift, 'importanceRank' | 'psi' | 'name'>>(inputs: readonly T[]): T[] {
  const rank = (r: number | null) => (r === null ? Infinity : r);
  return [...inputs].sort((a, b) => rank(a.importanceRank) - rank(b.importanceRank) || (b.psi ?? -1) - (a.psi ?? -1) || a.name.localeCompare(b.name));
}

/** A firing alert nobody has acknowledged and that is not snoozed: what the navigation badge counts. */
export function needsPerson(a: Alert, now: number): boolean {
  return a.state === 'firing' && !a.acknowledgedAt && !(a.snoozedUntil && Date.parse(a.snoozedUntil) > now);
}

/** What has been done about an alert, in words; null when nothing. */
export function alertStateWords(a: Alert, now: number, timeZone?: string): string | null {
  const parts: string[] = [];
  if (a.state === 'cleared') parts.push(a.clearedAt ? `Cleared ${relativeTime(a.clearedAt, now)}` : 'Cleared');
  if (a.acknowledgedAt) parts.push(`Acknowledged${a.acknowledgedBy ? ` by ${a.acknowledgedBy}` : ''} ${relativeTime(a.acknowledgedAt, now)}`);
  if (a.snoozedUntil && Date.parse(a.snoozedUntil) > now) parts.push(`Snoozed until ${clockTime(a.snoozedUntil, now, undefined, timeZone)}`);
  return parts.length ? parts.join(' · ') : null;
}

/** Adds or replaces an alert in a list kept newest first; firing ones only when `firingOnly`. */
export function mergeAlert(list: readonly Alert[], a: Alert, firingOnly: boolean): Alert[] {
  const rest = list.filter((x) => x.id !== a.id);
  if (firingOnly && a.state !== 'firing') return rest;
  return [a, ...rest].sort((x, y) => Date.parse(y.lastAt) - Date.parse(x.lastAt) || y.id - x.id);
}

/** An anomaly model's two labels in plant words (UX.md: "unusual behaviour", not "anomaly"); a class stays as it is. */
const PLAIN_LABELS: Record<string, string> = { anomaly: 'Unusual behaviour', normal: 'Normal' };

/** True for an anomaly model's predictions: its labels are "anomaly" and "normal". */
export function isAnomalySpread(training: Record<string, number> | null, live: Record<string, number>): boolean {
  const labels = new Set([...Object.keys(training ?? {}), ...Object.keys(live)]);
  return labels.size > 0 && [...labels].every((l) => l in PLAIN_LABELS);
}

/** Training beside live, by label: each as shares of its own total; labels of either side, training's order first. */
export function predictionRows(training: Record<string, number> | null, live: Record<string, number>): PairedRow[] {
  const labels = [...Object.keys(training ?? {}), ...Object.keys(live).filter((k) => !(training && k in training))];
  const t = toShares(labels.map((l) => training?.[l] ?? 0));
  const w = toShares(labels.map((l) => live[l] ?? 0));
  const plain = isAnomalySpread(training, live);
  return labels.map((label, i) => ({ label: plain ? PLAIN_LABELS[label]! : label, reference: t[i]!, current: w[i]! }));
}

/** An input's bins (with "No value" when either side has missing rows) as paired rows. */
export function histogramRows(h: Pick<InputHistogram, 'bins' | 'training' | 'live' | 'missing'>): PairedRow[] {
  const rows = h.bins.map((label, i) => ({ label, reference: h.training[i] ?? 0, current: h.live[i] ?? 0 }));
  if (h.missing.training > 0 || h.missing.live > 0) rows.push({ label: 'No value', reference: h.missing.training, current: h.missing.live });
  return rows;
}

// ---------------------------------------------------------------------------
// The settings form

export type IntervalUnit = 'seconds' | 'minutes';

/** What the form holds: numbers as typed, so a half-typed value is not lost. */
export interface SettingsDraft {
  interval: string;
  unit: IntervalUnit;
  notifications: boolean;
  down: { enabled: boolean; minutes: string };
  errors: { enabled: boolean; percent: string };
  drift: { enabled: boolean };
  anomalies: { enabled: boolean; factor: string };
}

const num = (n: number) => String(Number(n.toPrecision(6)));

export function settingsDraft(s: MonitorSettings): SettingsDraft {
  const minutes = s.intervalSeconds % 60 === 0;
  return {
    interval: num(minutes ? s.intervalSeconds / 60 : s.intervalSeconds),
    unit: minutes ? 'minutes' : 'seconds',
    notifications: s.notifications,
    down: { enabled: s.rules.down.enabled, minutes: num(s.rules.down.minutes) },
    errors: { enabled: s.rules.errors.enabled, percent: num(s.rules.errors.percent) },
    drift: { enabled: s.rules.drift.enabled },
    anomalies: { enabled: s.rules.anomalies.enabled, factor: num(s.rules.anomalies.factor) },
  };
}

export type DraftField = 'interval' | 'down' | 'errors' | 'anomalies';

/** The settings the draft stands for, or the first field that is wrong and why, in words. */
export function parseSettingsDraft(d: SettingsDraft): { settings: MonitorSettings } | { field: DraftField; error: string } {
  const read = (text: string) => {
    const v = Number(text.trim().replace(',', '.'));
    return text.trim() !== '' && Number.isFinite(v) ? v : null;
  };
  const interval = read(d.interval);
  const seconds = interval === null ? null : Math.round(interval * (d.unit === 'minutes' ? 60 : 1));
  if (seconds === null || seconds < 1 || seconds > 86_400) return { field: 'interval', error: 'How often to check: a number of seconds from 1 up to 24 hours.' };
  const minutes = read(d.down.minutes);
  if (minutes === null || minutes < 1 || minutes > 10_080) return { field: 'down', error: 'Not answering for: a number of minutes from 1 to 10,080 (a week).' };
  const percent = read(d.errors.percent);
  if (percent === null || percent < 0.01 || percent > 100) return { field: 'errors', error: 'Error rate above: a percentage from 0.01 to 100.' };
  const factor = read(d.anomalies.factor);
  if (factor === null || factor < 1.1 || factor > 1000) return { field: 'anomalies', error: 'Unusual behaviour more than: a factor from 1.1 to 1,000 times the rate in training.' };
  return {
    settings: {
      intervalSeconds: seconds,
      notifications: d.notifications,
      rules: {
        down: { enabled: d.down.enabled, minutes },
        errors: { enabled: d.errors.enabled, percent },
        drift: { enabled: d.drift.enabled },
        anomalies: { enabled: d.anomalies.enabled, factor },
      },
    },
  };
}
