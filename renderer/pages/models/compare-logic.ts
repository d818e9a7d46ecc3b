/**
 * Reading a comparison of two model versions for the compare view: which side
 * is better on each metric, a shared axis for the input ranges, which answer
 * matched what happened. Pure, so it is unit tested.
 */
import type { Comparison, InputShift } from '../../../shared/registry';
import { ALGORITHM_TITLES, TASKS, type Task } from '../../../shared/training';
import { METRIC_WORDS, metricText, taskWords } from './report-logic';

/** Which way is better for the metrics a comparison may carry; absent means neither (a count or a share to read, not to win). */
const HIGHER_IS_BETTER: Record<string, boolean> = {
  accuracy: true,
  roc_auc: true,
  f1: true,
  precision: true,
  recall: true,
  r2: true,
  event_f1: true,
  events_caught: true,
  stability: true,
  log_loss: false,
  mae: false,
  rmse: false,
  false_alarms: false,
};

export interface ComparedMetric {
  key: string;
  label: string;
  a: string;
  b: string;
  /** The better side, null when equal, missing on a side, or neither way is better. */
  better: 'a' | 'b' | null;
  /** The metric the versions are ranked by. */
  ranking: boolean;
}

/** The metrics both sides were scored on, the ranking metric first, then in the order of METRIC_WORDS. */
export function comparedMetrics(c: Pick<Comparison, 'metric' | 'metrics'>): ComparedMetric[] {
  const known = Object.keys(METRIC_WORDS);
  const keys = [...new Set([...Object.keys(c.metrics.a), ...Object.keys(c.metrics.b)])].filter((k) => k !== 'rows');
  const order = (k: string) => (k === c.metric.key ? -1 : known.indexOf(k) + 1 || Infinity);
  keys.sort((x, y) => order(x) - order(y) || x.localeCompare(y));
  return keys.map((key) => {
    const a = c.metrics.a[key];
    const b = c.metrics.b[key];
    const higher = key === c.metric.key ? c.metric.higherIsBetter : HIGHER_IS_BETTER[key];
    const both = typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b);
    const better = !both || higher === undefined || a === b ? null : (b > a) === higher ? 'b' : 'a';
    return {
      key,
      label: key === c.metric.key ? c.metric.label : (METRIC_WORDS[key]?.label ?? key),
      a: typeof a === 'number' ? metricText(key, a) : '–',
      b: typeof b === 'number' ? metricText(key, b) : '–',
      better,
      ranking: key === c.metric.key,
    };
  });
}

export interface Span {
  p5: number;
  median: number;
  p95: number;
}

/** One axis for both versions' ranges of an input, a little wider than both, so neither band touches the edge. */
export function sharedAxis(a: Span | null, b: Span | null): { min: number; max: number } | null {
  const spans = [a, b].filter((s): s is Span => s !== null);
  if (!spans.length) return null;
  const min = Math.min(...spans.map((s) => s.p5));
  const max = Math.max(...spans.map((s) => s.p95));
  if (!(max > min)) {
    const pad = Math.abs(min) * 0.05 || 1;
    return { min: min - pad, max: max + pad };
  }
  const pad = (max - min) * 0.06;
  // Counts, wear and flows do not go below zero: neither does the axis when the values do not.
  const floor = min >= 0 ? 0 : -Infinity;
  return { min: Math.max(floor, min - pad), max: max + pad };
}

/** Where a value sits on the axis, 0..100 (percent of the track). */
export function onAxis(x: number, axis: { min: number; max: number }): number {
  return Math.max(0, Math.min(100, ((x - axis.min) / (axis.max - axis.min)) * 100));
}

/** A number for an axis end or a median: no more digits than a person reads. */
export function axisNumber(x: number): string {
  const a = Math.abs(x);
  const digits = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3;
  return Number(x.toFixed(digits)).toLocaleString(undefined, { maximumFractionDigits: digits });
}

/** The answer without how sure it was: "1 (100% sure)" → "1". */
export function answerLabel(answer: string): string {
  return answer.replace(/\s*\([^)]*\)\s*$/, '').trim();
}

/**
 * Which side's answer matched what happened: the same class, or (for values)
 * the nearer one. Null when nothing is known or neither (or both) matched.
 */
export function rightSide(a: string, b: string, actual: string | null): 'a' | 'b' | null {
  if (actual === null || actual === '') return null;
  const la = answerLabel(a);
  const lb = answerLabel(b);
  // A class comes with how sure the model was; a value comes bare and is judged by how near it is.
  const values = !/% sure\)$/.test(a) && [la, lb, actual].every((x) => x !== '' && Number.isFinite(Number(x)));
  if (values) {
    const da = Math.abs(Number(la) - Number(actual));
    const db = Math.abs(Number(lb) - Number(actual));
    return da === db ? null : da < db ? 'a' : 'b';
  }
  const ra = la === actual;
  const rb = lb === actual;
  return ra === rb ? null : ra ? 'a' : 'b';
}

/** "Both answered the same 2,000 rows: the rows kept aside (at random) to check Failure alarm@2, from Pumps version 3." */
export function holdoutWords(h: Comparison['holdout']): string {
  const how = h.kind === 'time' ? 'the most recent rows' : 'rows chosen at random';
  return `Both versions answered the same ${h.rows.toLocaleString()} rows of ${h.dataset} version ${h.datasetVersion}: ${how}, kept aside to check ${h.of.replace(/@(\d+)$/, ' version $1')}.`;
}

/** "10,000 rows in both" or "8,000 → 12,000 rows (+4,000)". */
export function rowsWords(d: Pick<Comparison['data'], 'rowsA' | 'rowsB'>): string {
  if (d.rowsA === d.rowsB) return `${d.rowsA.toLocaleString()} rows in both`;
  const diff = d.rowsB - d.rowsA;
  return `${d.rowsA.toLocaleString()} → ${d.rowsB.toLocaleString()} rows (${diff > 0 ? '+' : '−'}${Math.abs(diff).toLocaleString()})`;
}

/** An input's sentence without its name in front (the name is shown beside it): "Torque: median 40 → 42 Nm" → "median 40 → 42 Nm". */
export function shiftWords(x: Pick<InputShift, 'input' | 'sentence'>): string {
  const prefix = `${x.input}:`;
  const rest = x.sentence.startsWith(prefix) ? x.sentence.slice(prefix.length).trim() : x.sentence;
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

/** A setting's value in the words the rest of the app uses: algorithm names, goals. */
export function settingWords(name: string, value: string): string {
  if (name === 'Algorithms tried') {
    return value
      .split(/,\s*/)
      .map((a) => ALGORITHM_TITLES[a as keyof typeof ALGORITHM_TITLES] ?? a)
      .join(', ');
  }
  if (name === 'Goal' && (TASKS as readonly string[]).includes(value)) return taskWords(value as Task);
  return value;
}
