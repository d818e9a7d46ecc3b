/**
 * Words and numbers for the "Try it" and "Score a file" cards of the model
 * page: the form's values, the answer in plain words, what pushed it, and
 * what a scored file came to. Pure, so it is unit tested.
 */
import type { z } from 'zod';
import type { Cell, Prediction, ScoreResultSchema, TryItForm } from '../../../shared/scoring';
import type { Task } from '../../../shared/training';
import { METRIC_WORDS, metricText, positiveName } from './report-logic';

export type FormInput = TryItForm['inputs'][number];
export type ScoreResult = z.infer<typeof ScoreResultSchema>;

/** What is typed into each field, by input name; '' is "not known". */
export type FormValues = Record<string, string>;

/** What the words depend on: the model's task and what it predicts. */
export interface ModelWords {
  task: Task;
  target: string | null;
  classes: string[] | null;
  /** The unit of the predicted value (regression). */
  unit: string | null;
}

// ---------------------------------------------------------------------------
// The form

/** A cell as the text of its field. */
export function fieldText(cell: Cell): string {
  if (cell === null) return '';
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  return String(cell);
}

export function initialValues(form: Pick<TryItForm, 'inputs'>): FormValues {
  return Object.fromEntries(form.inputs.map((i) => [i.name, fieldText(i.value)]));
}

/** A field's text as the cell the model reads: numbers as numbers, yes/no as booleans, '' (or an unreadable number) as missing. */
export function cellOf(input: Pick<FormInput, 'kind'>, text: string): Cell {
  const t = text.trim();
  if (t === '') return null;
  switch (input.kind) {
    case 'number': {
      const n = Number(t);
      return Number.isFinite(n) ? n : null;
    }
    case 'boolean':
      return t === 'true' ? true : t === 'false' ? false : null;
    case 'category':
      return text;
  }
}

export function rowOf(inputs: readonly FormInput[], values: FormValues): Record<string, Cell> {
  return Object.fromEntries(inputs.map((i) => [i.name, cellOf(i, values[i.name] ?? '')]));
}

/** "Torque", "Torque and Tool wear", "Type, Torque and Tool wear", "5 values": what was changed, for one sentence. */
export function listWords(names: readonly string[]): string {
  if (names.length > 3) return `${names.length} values`;
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** Inputs whose field no longer holds the row's value. */
export function changedInputs(form: Pick<TryItForm, 'inputs'>, values: FormValues): string[] {
  return form.inputs.filter((i) => (values[i.name] ?? '') !== fieldText(i.value)).map((i) => i.name);
}

/**
 * The fields shown at first: the `max` inputs that mattered most in training
 * (in the form's order, so the layout stays familiar); the rest go under "More inputs",
 * unless they are so few that folding them away would hide more than it tidies.
 */
export function splitInputs<T extends { name: string }>(inputs: readonly T[], importance: readonly { input: string; drop: number }[], max = 10): { shown: T[]; more: T[] } {
  if (inputs.length <= max + 2) return { shown: [...inputs], more: [] };
  const rank = new Map<string, number>();
  const ranked = importance.filter((r) => Number.isFinite(r.drop)).sort((a, b) => b.drop - a.drop);
  for (const [i, r] of ranked.entries()) if (!rank.has(r.input)) rank.set(r.input, i);
  const top = new Set(
    inputs
      .map((x, i) => ({ name: x.name, i, r: rank.get(x.name) ?? Infinity }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .slice(0, max)
      .map((x) => x.name),
  );
  return { shown: inputs.filter((x) => top.has(x.name)), more: inputs.filter((x) => !top.has(x.name)) };
}

/** A field's label: "Torque (Nm)". */
export function fieldLabel(input: Pick<FormInput, 'name' | 'unit'>): string {
  return input.unit ? `${input.name} (${input.unit})` : input.name;
}

/** A field's value as read back in a sentence: "42.8 Nm", "yes", "not known". */
export function shownValue(input: Pick<FormInput, 'kind' | 'unit'>, text: string): string {
  const cell = cellOf(input, text);
  if (cell === null) return 'not known';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  if (typeof cell === 'number') return `${number(cell)}${input.unit ? ` ${input.unit}` : ''}`;
  return cell;
}

/** "row 1,234": training rows are counted from 1 on screen. */
export function rowLabel(row: number): string {
  return (row + 1).toLocaleString();
}

/** "Machine failure = 1" (a class of a column), or the class alone when the column is unknown. */
export function classWords(target: string | null, cls: string): string {
  return target ? `${target} = ${cls}` : cls;
}

/** "Filled from row 1,234 of ai4i — what really happened: Machine failure = 1" */
export function filledFrom(form: Pick<TryItForm, 'row' | 'dataset' | 'actual' | 'target' | 'task'>, unit: string | null = null): string {
  const from = `Filled from row ${rowLabel(form.row)} of ${form.dataset}`;
  if (form.actual === null || form.actual === '') return `${from}.`;
  const actual = form.task === 'regression' && unit ? `${form.actual} ${unit}` : form.actual;
  return `${from} — what really happened: ${classWords(form.target, actual)}.`;
}

/** For models that read recent history: where that history comes from. */
export function historyNote(form: Pick<TryItForm, 'historyRows' | 'row'>): string | null {
  if (form.historyRows <= 0) return null;
  const n = form.historyRows === 1 ? 'the row' : `the ${form.historyRows.toLocaleString()} rows`;
  return `This model also reads ${n} before row ${rowLabel(form.row)} from the training data.`;
}

/** Another training row to fill the form from: any but the current one, and never one without enough history before it. */
export function otherRow(form: Pick<TryItForm, 'row' | 'rowCount' | 'historyRows'>, random: () => number = Math.random): number {
  const lo = Math.max(0, form.historyRows);
  const hi = form.rowCount - 1;
  if (hi <= lo) return lo;
  const inRange = form.row >= lo && form.row <= hi;
  const choices = inRange ? hi - lo : hi - lo + 1;
  let r = lo + Math.min(choices - 1, Math.floor(random() * choices));
  if (inRange && r >= form.row) r++;
  return r;
}

// ---------------------------------------------------------------------------
// The answer

const sig = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 4 });
const sig3 = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 3 });

function number(v: number): string {
  return sig.format(v);
}

/** "87 %" (kept on one line), with "over 99 %" and "under 1 %" at the ends so a rounded 100 % never claims certainty. */
export function percent(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p > 0.995) return 'over 99\u00a0%';
  if (p < 0.005) return 'under 1\u00a0%';
  return `${Math.round(p * 100)}\u00a0%`;
}

export interface AnswerWords {
  /** The answer itself, e.g. "Machine failure likely". */
  headline: string;
  /** How sure, or the score: "87 % sure". */
  figure: string | null;
  /** One line of context: the chance behind it, the alarm level, the runner-up. */
  detail: string | null;
  /** The answer needs attention (a failure or unusual behaviour): shown with an icon and the alarm colour. */
  alarm: boolean;
}

/** The positive class of a yes/no model (the second, as the model's graph orders them) and what it is called on screen. */
function positive(m: ModelWords): { cls: string; name: string } {
  const cls = m.classes?.[1] ?? '1';
  return { cls, name: positiveName({ positiveClass: cls, target: m.target }) };
}

/**
 * The answer in big plain words. `threshold` is the alarm level the model was
 * saved with (a probability for yes/no models, a score for unusual behaviour).
 */
export function answerWords(p: Prediction, m: ModelWords, threshold: number | null): AnswerWords {
  switch (m.task) {
    case 'binary': {
      const { cls, name } = positive(m);
      const chance = p.probabilities?.[cls] ?? NaN;
      const alarm = String(p.prediction) === cls;
      const level = threshold !== null && Number.isFinite(threshold) ? `; the model raises an alarm from ${percent(threshold)}` : '';
      const detail = `Chance of ${classWords(m.target, cls)}: ${percent(chance)}${level}.`;
      if (alarm) {
        return chance >= 0.5
          ? { headline: `${name} likely`, figure: `${percent(chance)} sure`, detail, alarm }
          : { headline: `${name} possible`, figure: `${percent(chance)} chance`, detail, alarm };
      }
      return { headline: `${name} unlikely`, figure: `${percent(1 - chance)} sure`, detail, alarm };
    }
    case 'multiclass': {
      const cls = String(p.prediction ?? '–');
      const probs = Object.entries(p.probabilities ?? {}).sort((a, b) => b[1] - a[1]);
      const own = p.probabilities?.[cls];
      const next = probs.find(([c]) => c !== cls);
      return {
        headline: classWords(m.target, cls),
        figure: own === undefined ? null : `${percent(own)} sure`,
        detail: next ? `Next most likely: ${next[0]} (${percent(next[1])}).` : null,
        alarm: false,
      };
    }
    case 'regression': {
      const v = typeof p.prediction === 'number' ? p.prediction : Number(p.prediction);
      const value = Number.isFinite(v) ? `${number(v)}${m.unit ? ` ${m.unit}` : ''}` : '–';
      return { headline: `${m.target ?? 'Predicted value'}: ${value}`, figure: null, detail: 'What the model expects for these values.', alarm: false };
    }
    case 'anomaly': {
      const unusual = p.anomaly === true;
      const score = p.score ?? NaN;
      const level = threshold !== null && Number.isFinite(threshold) ? `${unusual ? 'Above' : 'Below'} the alarm level of ${sig3.format(threshold)}.` : null;
      return { headline: unusual ? 'Unusual' : 'Normal', figure: Number.isFinite(score) ? `score ${sig3.format(score)}` : null, detail: level, alarm: unusual };
    }
  }
}

// ---------------------------------------------------------------------------
// What pushed it

/** What an effect moved: "the chance of Machine failure", "the predicted Tool wear", "the unusual-behaviour score". */
export function effectSubject(m: ModelWords, predicted: Prediction['prediction']): string {
  switch (m.task) {
    case 'binary':
      return `the chance of ${positive(m).name}`;
    case 'multiclass':
      return `the chance of ${classWords(m.target, String(predicted ?? '–'))}`;
    case 'regression':
      return `the predicted ${m.target ?? 'value'}`;
    case 'anomaly':
      return 'the unusual-behaviour score';
  }
}

/**
 * The size of an effect in its unit: "34 points" (of chance), "3.2 min", "0.12"; null when it is
 * too small to mention. `short` keeps it to a number and its unit, for beside a bar.
 */
export function effectAmount(effect: number, m: ModelWords, short = false): string | null {
  const a = Math.abs(effect);
  if (m.task === 'binary' || m.task === 'multiclass') {
    const pts = a * 100;
    if (pts < 0.05) return null;
    if (pts >= 99.5 && !short) return 'nearly 100 points';
    const text = pts >= 1 ? String(Math.round(pts)) : pts.toFixed(1);
    return `${text} ${text === '1' ? 'point' : 'points'}`;
  }
  if (a === 0 || !Number.isFinite(a)) return null;
  return m.task === 'regression' ? `${sig3.format(a)}${m.unit ? ` ${m.unit}` : ''}` : sig3.format(a);
}

export interface PushRow {
  input: string;
  effect: number;
  /** Bar length −1..1 against the largest effect; negative lowered the answer. */
  share: number;
  /** "+34 points", "−3.2 min", "no change". */
  valueText: string;
  /** "Torque raised the chance of Machine failure by 34 points" */
  sentence: string;
}

/**
 * The bars worth drawing: the inputs that moved the answer most (at most `most`, at least
 * `least` rows in all); the inputs that hardly changed it are named in one line instead,
 * and the others that moved it less are counted.
 */
export function splitPushes(rows: readonly PushRow[], least = 3, most = 8): { bars: PushRow[]; still: string[]; smaller: number } {
  const moved = rows.filter((r) => r.share !== 0).length;
  const n = Math.min(most, Math.max(moved, Math.min(least, rows.length)));
  const rest = rows.slice(n);
  return { bars: rows.slice(0, n), still: rest.filter((r) => r.share === 0).map((r) => r.input), smaller: rest.filter((r) => r.share !== 0).length };
}

/** The inputs that pushed an answer most, as signed bars with their sentence. */
export function pushRows(p: Prediction, m: ModelWords, max = Infinity): PushRow[] {
  const subject = effectSubject(m, p.prediction);
  const rows = p.pushes.filter((x) => Number.isFinite(x.effect)).sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect) || (a.input < b.input ? -1 : 1)).slice(0, max);
  const top = Math.max(0, ...rows.map((r) => Math.abs(r.effect)));
  return rows.map((r) => {
    const amount = effectAmount(r.effect, m);
    return {
      input: r.input,
      effect: r.effect,
      share: top > 0 && amount ? r.effect / top : 0,
      valueText: amount ? `${r.effect > 0 ? '+' : '\u2212'}${effectAmount(r.effect, m, true)}` : 'no change',
      sentence: amount ? `${r.input} ${r.effect > 0 ? 'raised' : 'lowered'} ${subject} by ${amount}` : `${r.input} hardly changed ${subject}`,
    };
  });
}

// ---------------------------------------------------------------------------
// A scored file

/** The last part of a path, whichever separator the core's system uses. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** The result of a scoring job as it arrives (job results are untyped); null when it is not one. */
export function asScoreResult(x: unknown): ScoreResult | null {
  if (!x || typeof x !== 'object') return null;
  const r = x as Partial<ScoreResult>;
  if (typeof r.rows !== 'number' || typeof r.file !== 'string') return null;
  return {
    model: String(r.model ?? ''),
    version: typeof r.version === 'number' ? r.version : 0,
    file: r.file,
    rows: r.rows,
    out: typeof r.out === 'string' ? r.out : null,
    added: Array.isArray(r.added) ? r.added.map(String) : [],
    counts: r.counts && typeof r.counts === 'object' ? r.counts : {},
    metrics: r.metrics && typeof r.metrics === 'object' ? r.metrics : null,
  };
}

/** One result from the job that wrote the file and the one that checked the answers. */
export function mergeResults(scored: ScoreResult | null, checked: ScoreResult | null): ScoreResult | null {
  if (!scored) return checked;
  return checked?.metrics ? { ...scored, metrics: checked.metrics } : scored;
}

/** What the answers came to, in words: "7 of 200 rows predicted as Machine failure." */
export function countWords(r: Pick<ScoreResult, 'rows' | 'counts'>, m: ModelWords): string | null {
  const of = (n: number) => `${n.toLocaleString()} of ${r.rows.toLocaleString()} ${r.rows === 1 ? 'row' : 'rows'}`;
  switch (m.task) {
    case 'binary':
      return `${of(r.counts[positive(m).cls] ?? 0)} predicted as ${positive(m).name}.`;
    case 'anomaly':
      return `${of(r.counts.anomaly ?? 0)} flagged as unusual.`;
    case 'multiclass': {
      const order = m.classes ?? Object.keys(r.counts);
      const parts = order.filter((c) => (r.counts[c] ?? 0) > 0).map((c, i) => `${(r.counts[c] ?? 0).toLocaleString()} ${i ? 'as' : 'predicted as'} ${classWords(m.target, c)}`);
      return parts.length ? `Of ${r.rows.toLocaleString()} rows, ${parts.join(', ')}.` : null;
    }
    case 'regression':
      return null;
  }
}

export interface MetricRow {
  key: string;
  label: string;
  text: string;
}

/** Metrics of a check in the report page's words and order; the count of rows checked is said apart. */
export function metricRows(metrics: Record<string, number> | null, unit: string | null = null): MetricRow[] {
  if (!metrics) return [];
  const known = Object.keys(METRIC_WORDS);
  const keys = Object.keys(metrics).filter((k) => k !== 'rows' && Number.isFinite(metrics[k]));
  keys.sort((a, b) => (known.indexOf(a) + 1 || Infinity) - (known.indexOf(b) + 1 || Infinity) || a.localeCompare(b));
  return keys.map((k) => ({
    key: k,
    label: METRIC_WORDS[k]?.label ?? k,
    text: `${metricText(k, metrics[k]!)}${unit && (k === 'mae' || k === 'rmse') ? ` ${unit}` : ''}`,
  }));
}

/** Where the server serves a file written into the workspace's exports folder (server mode). */
export function downloadHref(out: string, token: string): string {
  return `./api/download?file=${encodeURIComponent(baseName(out))}&token=${encodeURIComponent(token)}`;
}
