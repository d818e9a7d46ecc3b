/**
 * The arithmetic and rules behind the Train wizard: reading the worker's progress
 * messages, the time-budget slider, the default window, lags, what each step
 * needs before Next, and the call that starts training. Pure, so it is unit tested.
 */
import type { Suggestion, TrainInput } from '../../../shared/api';
import {
  ANOMALY_LABELLED_METRIC,
  RANKING_METRIC,
  TIME_BUDGET,
  type Algorithm,
  type Goal,
  type Task,
} from '../../../shared/training';

// ---------------------------------------------------------------------------
// Steps

export const STEP = { goal: 0, target: 1, inputs: 2, budget: 3, training: 4 } as const;

/** Step names for the stepper; the second step is about known problems when nothing is predicted. */
export function stepLabels(goal: Goal | null): string[] {
  return ['Goal', goal === 'detect_unusual' ? 'Known problems' : 'What to predict', 'Inputs', 'Time budget', 'Training'];
}

// ---------------------------------------------------------------------------
// Progress messages from the worker

/** One finished candidate, as the worker reports it: "Done: Gradient boosting — ROC AUC 0.934". */
export interface LiveEntry {
  title: string;
  metricLabel: string;
  /** null when the message carries no number (a candidate that failed). */
  value: number | null;
  /** What followed the dash, as written. */
  text: string;
}

export type ProgressMessage =
  | { kind: 'done'; entry: LiveEntry }
  | { kind: 'trying'; title: string; index: number; total: number }
  | { kind: 'other'; text: string };

const DONE = /^\s*Done:\s*(.+?)\s+[—–-]\s+(.+?)\s*$/;
const TRAILING_NUMBER = /^(.*?)\s*([-−+]?(?:\d[\d\u202f\u00a0,.]*\d|\d)(?:[eE][-+]?\d+)?)\s*(%?)$/;
const TRYING = /^\s*Trying\s+(.+?)\s*\(\s*(\d+)\s+of\s+(\d+)\s*\)/i;

/** A number as a worker may write it: "0.934", "-1.5", "1,234.5", "1 234,5", "3e-4", "96 %" (→ 0.96 only when marked as a percent). */
export function parseNumber(raw: string): number | null {
  let s = raw.trim().replace(/^−/, '-').replace(/[\u202f\u00a0 ']/g, '');
  if (!s) return null;
  const comma = s.lastIndexOf(',');
  const dot = s.lastIndexOf('.');
  if (comma >= 0 && dot >= 0) {
    // The later mark is the decimal one.
    s = comma > dot ? s.replace(/\./g, '').replace(',', '.') : s.replace(/,/g, '');
  } else if (comma >= 0) {
    // "0,93" is a decimal comma; "1,234" a thousands separator.
    s = /^[-+]?\d{1,3}(,\d{3})+$/.test(s) ? s.replace(/,/g, '') : s.replace(',', '.');
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

export function parseProgressMessage(message: string): ProgressMessage {
  const done = DONE.exec(message);
  if (done) {
    const title = done[1]!.trim();
    const rest = done[2]!.trim().replace(/[.…]+$/, '');
    // A note in brackets after the number ("(12 s)") is not part of the score.
    const m = TRAILING_NUMBER.exec(rest.replace(/\s*\([^()]*\)$/, ''));
    const value = m ? parseNumber(m[2]!) : null;
    if (m && value !== null) {
      return { kind: 'done', entry: { title, metricLabel: m[1]!.trim().replace(/\s*[:=]$/, ''), value: m[3] ? value / 100 : value, text: rest } };
    }
    return { kind: 'done', entry: { title, metricLabel: '', value: null, text: rest } };
  }
  const trying = TRYING.exec(message);
  if (trying) return { kind: 'trying', title: trying[1]!.trim(), index: Number(trying[2]), total: Number(trying[3]) };
  return { kind: 'other', text: message };
}

/** The log with this message taken in: a finished candidate is added once (a repeat replaces the entry with the same title). */
export function mergeProgress(log: readonly LiveEntry[], message: string): LiveEntry[] {
  const p = parseProgressMessage(message);
  if (p.kind !== 'done') return log as LiveEntry[];
  const i = log.findIndex((e) => e.title === p.entry.title);
  if (i < 0) return [...log, p.entry];
  const old = log[i]!;
  if (old.value === p.entry.value && old.text === p.entry.text) return log as LiveEntry[];
  return log.map((e, k) => (k === i ? p.entry : e));
}

/** Whether a larger value of the metric with this label is better (RMSE, MAE and errors are not). */
export function higherIsBetterFor(metricLabel: string): boolean {
  const known = [...Object.values(RANKING_METRIC), ANOMALY_LABELLED_METRIC].find((m) => m.label.toLowerCase() === metricLabel.trim().toLowerCase());
  if (known) return known.higherIsBetter;
  return !/\b(rmse|mae|mse|error|loss|off by)\b/i.test(metricLabel);
}

/** Best first; candidates without a number last, in the order they finished. */
export function rankLive(log: readonly LiveEntry[]): LiveEntry[] {
  const withIndex = log.map((e, i) => ({ e, i }));
  withIndex.sort((a, b) => {
    const va = a.e.value;
    const vb = b.e.value;
    if (va === null || vb === null) return va === null && vb === null ? a.i - b.i : va === null ? 1 : -1;
    const better = higherIsBetterFor(a.e.metricLabel || b.e.metricLabel) ? vb - va : va - vb;
    return better !== 0 ? better : a.i - b.i;
  });
  return withIndex.map((x) => x.e);
}

// ---------------------------------------------------------------------------
// Time budget slider: discrete, roughly logarithmic stops a person can name.

export const BUDGET_STOPS: readonly number[] = [10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1200, 1800];
/** Stops that get a label under the slider. */
export const BUDGET_LABELS: readonly number[] = [10, 60, 300, 900, 1800];

/** The stop nearest to `seconds` on a log scale (so 40 s is nearer 45 s than 30 s only when it is). */
export function budgetToIndex(seconds: number): number {
  if (!Number.isFinite(seconds)) return BUDGET_STOPS.indexOf(TIME_BUDGET.default);
  const s = Math.min(TIME_BUDGET.max, Math.max(TIME_BUDGET.min, seconds));
  let best = 0;
  for (let i = 1; i < BUDGET_STOPS.length; i++) {
    if (Math.abs(Math.log(BUDGET_STOPS[i]! / s)) < Math.abs(Math.log(BUDGET_STOPS[best]! / s))) best = i;
  }
  return best;
}

export function indexToBudget(index: number): number {
  const i = Math.round(Number.isFinite(index) ? index : 0);
  return BUDGET_STOPS[Math.min(BUDGET_STOPS.length - 1, Math.max(0, i))]!;
}

/** Where a stop sits along the slider track, 0..1. */
export function budgetFraction(seconds: number): number {
  return budgetToIndex(seconds) / (BUDGET_STOPS.length - 1);
}

/** "10 s", "1 min", "1 min 30 s", "30 min", "1 h". */
export function formatBudget(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const r = s % 60;
    return r ? `${m} min ${r} s` : `${m} min`;
  }
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

// ---------------------------------------------------------------------------
// Window features

export const WINDOW_STEPS: readonly number[] = [1, 2, 5, 10, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 10080];
export const WINDOW_MAX_MINUTES = 7 * 24 * 60;

/** About ten readings, rounded to a window a person would pick (1, 2, 5, 10, 15, 30 min, 1 h …); null without a regular time step. */
export function defaultWindowMinutes(intervalMs: number | null): number | null {
  if (intervalMs === null || !Number.isFinite(intervalMs) || !(intervalMs > 0)) return null;
  const raw = (10 * intervalMs) / 60_000;
  let best = WINDOW_STEPS[0]!;
  for (const w of WINDOW_STEPS) if (Math.abs(Math.log(w / raw)) < Math.abs(Math.log(best / raw))) best = w;
  return best;
}

/** How many readings a window of this many minutes covers at this spacing (rounded down, at least 0). */
export function readingsInWindow(windowMinutes: number, intervalMs: number | null): number | null {
  if (intervalMs === null || !(intervalMs > 0) || !(windowMinutes > 0)) return null;
  return Math.floor((windowMinutes * 60_000) / intervalMs);
}

// ---------------------------------------------------------------------------
// Lags

/** "1, 2, 5" → [1, 2, 5]: whole numbers of rows 1..1000, at most 10, sorted, without repeats. */
export function parseLags(text: string): { lags: number[]; error: string | null } {
  const parts = text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const out = new Set<number>();
  for (const p of parts) {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 1000) {
      return { lags: [], error: `"${p}" is not a whole number of rows from 1 to 1000.` };
    }
    out.add(Number(p));
  }
  if (out.size > 10) return { lags: [], error: 'At most 10 earlier values can be used.' };
  return { lags: [...out].sort((a, b) => a - b), error: null };
}

// ---------------------------------------------------------------------------
// Algorithms

/** Learners that fit each task (DESIGN.md section 6), for "Restrict algorithms" under Advanced. */
export const TASK_ALGORITHMS: Record<Task, Algorithm[]> = {
  regression: ['linear', 'tree', 'forest', 'hgb'],
  binary: ['logistic', 'tree', 'forest', 'hgb'],
  multiclass: ['logistic', 'tree', 'forest', 'hgb'],
  anomaly: ['iforest', 'pca'],
};

export function taskForGoal(goal: Goal, suggested: Task | null): Task | null {
  if (goal === 'detect_unusual') return 'anomaly';
  return suggested;
}

// ---------------------------------------------------------------------------
// The draft and what each step needs

export interface TrainChoices {
  dataset: string | null;
  goal: Goal | null;
  target: string | null;
  labelColumn: string | null;
  inputs: string[];
  useWindow: boolean;
  windowMinutes: number | null;
  lagsText: string;
  budgetSeconds: number;
  holdoutPercent: number;
  seed: number;
  algorithms: Algorithm[];
  modelName: string;
  keepTimeOrder: boolean;
}

export function blankChoices(dataset: string | null): TrainChoices {
  return {
    dataset,
    goal: null,
    target: null,
    labelColumn: null,
    inputs: [],
    useWindow: false,
    windowMinutes: null,
    lagsText: '',
    budgetSeconds: TIME_BUDGET.default,
    holdoutPercent: 20,
    seed: 0,
    algorithms: [],
    modelName: '',
    keepTimeOrder: true,
  };
}

/** Inputs actually sent: the ticked ones that are still offered, without the target or the label column. */
export function effectiveInputs(c: TrainChoices, s: Suggestion | null): string[] {
  if (!s) return [];
  const offered = new Set(s.inputs.map((i) => i.name));
  return c.inputs.filter((n) => offered.has(n) && n !== c.target && n !== c.labelColumn);
}

/**
 * Whether the suggestion's blockers stop this step. A suggestion for a prediction goal is made for
 * one target (the recommended one until another is chosen), so on the Goal step its blockers may
 * concern only that target: the person must still reach the next step to choose another.
 */
export function blockersApply(step: number, goal: Goal | null): boolean {
  return step !== STEP.goal || goal === 'detect_unusual';
}

/**
 * Why the person cannot go on from this step, in plain words; null when they can.
 * `suggestion` must be the one for the current goal (and target).
 */
export function stepProblem(step: number, c: TrainChoices, s: Suggestion | null, busy: boolean): string | null {
  if (step === STEP.goal) {
    if (!c.dataset) return 'Choose the data to learn from.';
    if (!c.goal) return 'Choose what the model should do.';
  }
  if (busy) return 'Looking at the data…';
  if (!s) return 'Millwright could not look at this data. Choose another dataset, or try again.';
  if (blockersApply(step, c.goal) && s.blockers.length > 0) return s.blockers[0]!;
  if (step === STEP.goal) {
    if (c.goal !== 'detect_unusual' && s.targets.length === 0) return 'No column in this data can be predicted for this goal.';
    return null;
  }
  if (step === STEP.target) {
    if (c.goal === 'detect_unusual') return null;
    if (!c.target) return 'Choose what you want to predict.';
    if (!s.task) return 'Looking at the data…';
    return null;
  }
  if (step === STEP.inputs) {
    if (effectiveInputs(c, s).length === 0) return 'Tick at least one input.';
    if (c.useWindow && s.timeColumn && c.keepTimeOrder) {
      if (!(c.windowMinutes !== null && c.windowMinutes > 0 && c.windowMinutes <= WINDOW_MAX_MINUTES)) return 'Give the window in minutes, up to 7 days.';
    }
    const lags = parseLags(c.lagsText);
    if (lags.error) return lags.error;
    return null;
  }
  if (step === STEP.budget) {
    if (!(c.holdoutPercent >= 5 && c.holdoutPercent <= 50)) return 'Keep between 5 % and 50 % of the data aside for checking.';
    if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 2 ** 31 - 1) return 'The seed is a whole number from 0 to 2147483647.';
    if (c.modelName.length > 200) return 'The model name is at most 200 characters.';
    if (effectiveInputs(c, s).length === 0) return 'Tick at least one input.';
    return null;
  }
  return null;
}

/** The training.start call for these choices and the suggestion they were made on. */
export function buildTrainInput(c: TrainChoices, s: Suggestion): TrainInput {
  const goal = c.goal ?? 'detect_unusual';
  const task = taskForGoal(goal, s.task) ?? 'regression';
  const timeColumn = c.keepTimeOrder ? s.timeColumn : null;
  const fitting = new Set(TASK_ALGORITHMS[task]);
  return {
    dataset: c.dataset ?? s.dataset,
    version: s.version,
    model: c.modelName.trim() || s.modelName,
    task,
    target: goal === 'detect_unusual' ? null : c.target,
    labelColumn: goal === 'detect_unusual' ? c.labelColumn : null,
    inputs: effectiveInputs(c, s),
    timeColumn,
    windowMinutes: c.useWindow && timeColumn && c.windowMinutes ? c.windowMinutes : null,
    lags: parseLags(c.lagsText).lags,
    holdoutFraction: Math.min(0.5, Math.max(0.05, c.holdoutPercent / 100)),
    timeBudgetSeconds: Math.min(TIME_BUDGET.max, Math.max(TIME_BUDGET.min, c.budgetSeconds)),
    seed: c.seed,
    algorithms: c.algorithms.filter((a) => fitting.has(a)),
  };
}

/** Keyboard: Enter moves on from text, number, range and checkbox fields, never from buttons, links, lists or text areas. */
export function enterMeansNext(tag: string, type: string | null): boolean {
  const t = tag.toLowerCase();
  if (t === 'button' || t === 'a' || t === 'select' || t === 'textarea' || t === 'summary') return false;
  if (t === 'input') return !['button', 'submit', 'reset', 'file', 'radio'].includes((type ?? 'text').toLowerCase());
  return true;
}
