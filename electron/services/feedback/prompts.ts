import { DEFAULT_FEEDBACK_SETTINGS, FeedbackSettingsSchema, type FeedbackSettings } from '../../../shared/feedback';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';

/**
 * When the app asks (DESIGN.md section 10: "a few times a day, at the start
 * of each shift"): the prompt times are clock times of this PC, so a prompt
 * at 06:00 comes at 06:00 local time on both sides of a daylight-saving change.
 */

const SETTINGS_KEY = 'feedback.settings';
/** When the prompt schedule last ran (asking or finding nothing to ask): a prompt time after it was missed. */
const RUN_KEY = 'feedback.promptRun';

export function readSettings(db: ReadableDb): FeedbackSettings {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(SETTINGS_KEY) as { value: string } | undefined;
  if (!row) return DEFAULT_FEEDBACK_SETTINGS;
  // A setting added by a later version keeps its default; one that no longer parses falls back whole.
  const parsed = FeedbackSettingsSchema.safeParse({ ...DEFAULT_FEEDBACK_SETTINGS, ...(JSON.parse(row.value) as Partial<FeedbackSettings>) });
  return parsed.success ? parsed.data : DEFAULT_FEEDBACK_SETTINGS;
}

export function writeSettings(ws: Workspace, s: FeedbackSettings): void {
  setMeta(ws, SETTINGS_KEY, JSON.stringify(s));
}

function setMeta(ws: Workspace, key: string, value: string): void {
  ws.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

export function lastRun(db: ReadableDb): number | null {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(RUN_KEY) as { value: string } | undefined;
  return row ? Date.parse(row.value) : null;
}

export function noteRun(ws: Workspace, at: number): void {
  setMeta(ws, RUN_KEY, new Date(at).toISOString());
}

/** The prompt times on the local day `day` falls on, in ms, ascending. */
function timesOn(day: Date, times: readonly string[]): number[] {
  return times
    .map((hm) => {
      const [h, m] = hm.split(':').map(Number) as [number, number];
      return new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, m, 0, 0).getTime();
    })
    .sort((a, b) => a - b);
}

const dayShift = (t: number, days: number): Date => {
  const d = new Date(t);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + days, 12);
};

/** The first prompt time strictly after `now` (local clock of this PC). */
export function nextPromptTime(now: number, times: readonly string[]): number {
  for (let k = 0; k <= 1; k++) {
    const next = timesOn(dayShift(now, k), times).find((t) => t > now);
    if (next !== undefined) return next;
  }
  return timesOn(dayShift(now, 2), times)[0]!;
}

/** The last prompt time at or before `now`. */
export function previousPromptTime(now: number, times: readonly string[]): number {
  for (let k = 0; k >= -1; k--) {
    const prev = timesOn(dayShift(now, k), times).filter((t) => t <= now).at(-1);
    if (prev !== undefined) return prev;
  }
  return timesOn(dayShift(now, -2), times).at(-1)!;
}

/** "3 episodes of Machine temperature are waiting for your answer" (models named as the episodes have them, most episodes first). */
export function promptMessage(models: string[]): string {
  const tally = new Map<string, number>();
  for (const m of models) tally.set(m, (tally.get(m) ?? 0) + 1);
  const names = [...tally].sort((a, b) => b[1] - a[1]).map(([m]) => m);
  const of = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
  const n = models.length;
  return `${n} episode${n === 1 ? '' : 's'} of ${of} ${n === 1 ? 'is' : 'are'} waiting for your answer`;
}
