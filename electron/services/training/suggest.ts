import type { Suggestion } from '../../../shared/api';
import type { ColumnData } from '../../../shared/datasets';
import type { Goal, InputSuggestion, TargetSuggestion, Task } from '../../../shared/training';
import type { StoredColumn } from '../datasets/column-store';
import { labelsOf, sortClasses } from './target';

/** Rows looked at to suggest (evenly spaced through the data). */
const SAMPLE = 50_000;

const CATEGORY_WORDS = /fail|fault|alarm|label|class|status|defect|trip|anomal|broken|error|reject|ok\b|grade|result/i;
const VALUE_WORDS = /target|rul\b|remaining|life|yield|quality|output|efficien|consumption/i;

export interface SuggestSource {
  dataset: string;
  version: number;
  rows: number;
  schema: StoredColumn[];
  timeColumn: string | null;
  intervalMs: number | null;
  column(name: string): ColumnData;
}

interface ColumnFacts {
  name: string;
  type: StoredColumn['type'];
  unit: string | null;
  distinct: number;
  missing: number;
  /** Sampled values: numbers (NaN missing) or labels (null missing). */
  numbers: Float64Array | null;
  labels: (string | null)[];
}

function sampleIndex(rows: number): Int32Array {
  const n = Math.min(rows, SAMPLE);
  const idx = new Int32Array(n);
  for (let k = 0; k < n; k++) idx[k] = Math.floor((k * rows) / n);
  return idx;
}

function factsOf(src: SuggestSource, c: StoredColumn, idx: Int32Array): ColumnFacts {
  const col = src.column(c.name);
  const all = labelsOf(col);
  const labels = Array.from(idx, (i) => all[i]!);
  const set = new Set<string>();
  let missing = 0;
  for (const l of labels) if (l === null) missing++; else set.add(l);
  let numbers: Float64Array | null = null;
  if (col.type === 'number' || col.type === 'integer' || col.type === 'boolean') {
    numbers = new Float64Array(idx.length);
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k]!;
      numbers[k] = col.type === 'boolean' ? (col.values[i] === 255 ? NaN : col.values[i]!) : col.values[i]!;
    }
  }
  return { name: c.name, type: c.type, unit: c.unit, distinct: set.size, missing, numbers, labels };
}

/** Why a column should not be an input whatever the target, or null. */
function notAnInput(f: ColumnFacts, n: number): string | null {
  if (f.type === 'timestamp') return 'A time column: time order is used for validation, not as an input.';
  if (f.distinct <= 1) return f.missing === n ? 'Empty in every row.' : 'The same value in every row, so it carries no information.';
  const idLike = (f.type === 'category' || f.type === 'text' || f.type === 'integer') && f.distinct >= 0.9 * (n - f.missing) && f.distinct > 50;
  if (idLike) return 'Looks like an ID or a row number: almost every row has its own value, so it cannot generalise.';
  if (f.type === 'text') return 'Free text, which the learners cannot use.';
  return null;
}

/** ROC AUC of one number as a score for a 0/1 label (ties averaged). */
function singleAuc(x: Float64Array, pos: Uint8Array): number {
  const idx: number[] = [];
  for (let k = 0; k < x.length; k++) if (!Number.isNaN(x[k]!)) idx.push(k);
  idx.sort((a, b) => x[a]! - x[b]!);
  let rankSumPos = 0, nPos = 0;
  for (let s = 0; s < idx.length; ) {
    let e = s;
    while (e + 1 < idx.length && x[idx[e + 1]!] === x[idx[s]!]) e++;
    const rank = (s + e) / 2 + 1;
    for (let k = s; k <= e; k++) if (pos[idx[k]!]) { rankSumPos += rank; nPos++; }
    s = e + 1;
  }
  const nNeg = idx.length - nPos;
  if (!nPos || !nNeg) return 0.5;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

function pearson(a: Float64Array, b: Float64Array): number {
  let n = 0, sa = 0, sb = 0;
  for (let k = 0; k < a.length; k++) if (!Number.isNaN(a[k]!) && !Number.isNaN(b[k]!)) { n++; sa += a[k]!; sb += b[k]!; }
  if (n < 3) return 0;
  const ma = sa / n, mb = sb / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let k = 0; k < a.length; k++) {
    if (Number.isNaN(a[k]!) || Number.isNaN(b[k]!)) continue;
    const da = a[k]! - ma, db = b[k]! - mb;
    sab += da * db; saa += da * da; sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/**
 * A plain sentence when `f` predicts the target suspiciously well on its own
 * (recorded after the fact, or derived from the answer), else null.
 */
export function leakReason(f: ColumnFacts, target: ColumnFacts, task: Task): string | null {
  if (task === 'regression') {
    if (!f.numbers || !target.numbers) return null;
    const r = pearson(f.numbers, target.numbers);
    return Math.abs(r) >= 0.995 ? `Moves in lockstep with "${target.name}" (correlation ${r.toFixed(3)}): probably computed from it.` : null;
  }
  const classes = sortClasses(target.labels.filter((l): l is string => l !== null));
  const counts = new Map<string, number>();
  for (const l of target.labels) if (l !== null) counts.set(l, (counts.get(l) ?? 0) + 1);
  const majority = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  // Few distinct values: does one of them imply a rare answer almost always?
  if (f.distinct <= 20) {
    const byLevel = new Map<string, Map<string, number>>();
    for (let k = 0; k < f.labels.length; k++) {
      const l = f.labels[k], t = target.labels[k];
      if (l === null || l === undefined || t === null || t === undefined) continue;
      let m = byLevel.get(l);
      if (!m) byLevel.set(l, (m = new Map()));
      m.set(t, (m.get(t) ?? 0) + 1);
    }
    for (const [level, m] of byLevel) {
      const total = [...m.values()].reduce((a, b) => a + b, 0);
      for (const [t, c] of m) {
        const minorityCount = counts.get(t) ?? 0;
        if (t === majority || total < 5 || c / total < 0.995 || c < Math.max(5, 0.02 * minorityCount)) continue;
        return `When it is ${level}, "${target.name}" is ${t} in ${c} of ${total} rows: it gives the answer away (probably recorded after the event).`;
      }
    }
  }
  if (classes.length === 2 && f.numbers) {
    const pos = new Uint8Array(target.labels.length);
    const ok = new Float64Array(f.numbers.length);
    for (let k = 0; k < pos.length; k++) {
      pos[k] = target.labels[k] === classes[1] ? 1 : 0;
      ok[k] = target.labels[k] === null ? NaN : f.numbers[k]!;
    }
    const auc = singleAuc(ok, pos);
    if (auc >= 0.99 || auc <= 0.01) return `On its own it separates the two values of "${target.name}" almost perfectly (ROC AUC ${Math.max(auc, 1 - auc).toFixed(3)}): probably a leak.`;
  }
  return null;
}

export function suggest(src: SuggestSource, goal: Goal, chosenTarget?: string, labelColumn?: string): Suggestion {
  const idx = sampleIndex(src.rows);
  const n = idx.length;
  const facts = src.schema.map((c) => factsOf(src, c, idx));
  const blockers: string[] = [];
  if (src.rows < 30) blockers.push(`The dataset has only ${src.rows} rows; training needs at least 30.`);

  const targets: TargetSuggestion[] = [];
  if (goal === 'predict_value') {
    for (const f of facts) {
      if ((f.type !== 'number' && f.type !== 'integer') || f.distinct <= 2 || notAnInput(f, n)) continue;
      const named = VALUE_WORDS.test(f.name);
      targets.push({ name: f.name, type: f.type, recommended: named, reason: named ? 'Its name suggests a result to predict.' : `${f.distinct > 1000 ? 'Many' : f.distinct} different values.`, classes: null });
    }
  } else {
    for (const f of facts) {
      if (f.type === 'timestamp' || f.type === 'text' || f.distinct < 2 || f.distinct > 50) continue;
      if (f.type === 'number') continue;
      const named = CATEGORY_WORDS.test(f.name);
      const counts = new Map<string, number>();
      for (const l of f.labels) if (l !== null) counts.set(l, (counts.get(l) ?? 0) + 1);
      const rare = Math.min(...counts.values()) / (n - f.missing);
      const reason = f.distinct === 2
        ? `Two values; the rarer one is ${(100 * rare).toFixed(1)}% of the rows.`
        : `${f.distinct} categories.`;
      targets.push({ name: f.name, type: f.type, recommended: named, reason: named ? `Its name suggests an outcome. ${reason}` : reason, classes: f.distinct });
    }
  }
  targets.sort((a, b) => Number(b.recommended) - Number(a.recommended));
  if (goal !== 'detect_unusual' && targets.length === 0) {
    blockers.push(goal === 'predict_value' ? 'No column holds numbers that vary enough to predict.' : 'No column has between 2 and 50 different values to predict.');
  }

  const targetName = goal === 'detect_unusual' ? null : chosenTarget ?? targets.find((t) => t.recommended)?.name ?? targets[0]?.name ?? null;
  const target = targetName ? facts.find((f) => f.name === targetName) : undefined;
  if (targetName && !target) blockers.push(`The dataset has no column "${targetName}".`);
  let task: Task | null = null;
  if (goal === 'detect_unusual') task = 'anomaly';
  else if (target) {
    if (goal === 'predict_value') {
      task = 'regression';
      if (target.type !== 'number' && target.type !== 'integer') blockers.push(`"${target.name}" does not hold numbers, so it cannot be predicted as a value.`);
    } else {
      task = target.distinct === 2 ? 'binary' : 'multiclass';
      if (target.distinct < 2) blockers.push(`"${target.name}" has only one value, so there is nothing to tell apart.`);
      if (target.distinct > 50) blockers.push(`"${target.name}" has ${target.distinct} different values; predict it as a value instead.`);
    }
  }

  const label = labelColumn ? facts.find((f) => f.name === labelColumn) : undefined;
  const inputs: InputSuggestion[] = [];
  for (const f of facts) {
    if (f.name === targetName || f.name === src.timeColumn || f.name === labelColumn) continue;
    let reason = notAnInput(f, n);
    let leak = false;
    const judge = target && task ? { facts: target, task } : label ? { facts: label, task: 'binary' as const } : null;
    if (!reason && judge) {
      const l = leakReason(f, judge.facts, judge.task);
      if (l) { reason = l; leak = true; }
    }
    if (!reason && task === 'anomaly' && f.type === 'category') reason = 'A category, not a sensor reading; unusual behaviour is learned from measurements.';
    inputs.push({ name: f.name, type: f.type, unit: f.unit, selected: reason === null, reason, leak });
  }
  if (!inputs.some((i) => i.selected) && !blockers.length) blockers.push('No column is usable as an input.');
  const modelName = goal === 'detect_unusual' ? `${src.dataset} unusual behaviour` : targetName ? `${targetName} model` : `${src.dataset} model`;
  return { dataset: src.dataset, version: src.version, rows: src.rows, task, targets, inputs, timeColumn: src.timeColumn, intervalMs: src.intervalMs, modelName, blockers };
}
