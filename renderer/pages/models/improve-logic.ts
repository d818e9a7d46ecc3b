/**
 * The Improve panel of a model page in words and numbers: what each suggestion
 * offers to do, the before/after tallies its bars draw, production beside its
 * challenger, and where the challenger can run in shadow. Pure, so it is unit tested.
 */
import type { EndpointSummary } from '../../../shared/deploy';
import type { ChallengerReport, EpisodeTally, FeedbackSuggestion, ShadowSummary, SuggestionKind } from '../../../shared/feedback';
import type { PairedRow } from '../../charts/drift-chart-math';
import { METRIC_WORDS, formatMetric } from './report-logic';

/** The one action each suggestion offers. */
export const SUGGESTION_ACTIONS: Record<SuggestionKind, string> = {
  recalibrate: 'See the effect',
  cause_model: 'Train a model that names the cause',
  retrain: 'Train a challenger',
};

/** Rows for bars of counts, one pair per row: the first figure (grey) above the second. */
export type CountPair = PairedRow;

/** False alarms and real problems caught, before beside after: fewer false alarms and as many caught is the aim. */
export function tallyPairs(before: EpisodeTally, after: EpisodeTally): CountPair[] {
  return [
    { label: 'False alarms', reference: before.falseAlarms, current: after.falseAlarms },
    { label: 'Real problems caught', reference: before.caught, current: after.caught },
  ];
}

/** "2 of 4": out of how many answered episodes of that kind. */
export function ofWords(n: number, total: number): string {
  return `${n.toLocaleString()} of ${total.toLocaleString()}`;
}

/** The suggestion of one kind, if any (the panel offers each action once). */
export function suggestionOf(list: readonly FeedbackSuggestion[] | null, kind: SuggestionKind): FeedbackSuggestion | null {
  return list?.find((s) => s.kind === kind) ?? null;
}

export interface MetricSide {
  version: number;
  text: string;
}

/** Production and challenger on the same holdout: each figure in words, and which is better (by the metric's own direction); null when neither has the figure. */
export function metricSides(r: ChallengerReport): { label: string; production: MetricSide; challenger: MetricSide; better: 'challenger' | 'production' | 'same' | null } | null {
  if (!r.metric || !r.production || !r.challenger) return null;
  const m = r.metric;
  const p = r.production.metrics[m.key];
  const c = r.challenger.metrics[m.key];
  // Neither measured (a version made with another alarm level before any labelled holdout): a table of two blanks says nothing.
  if (typeof p !== 'number' && typeof c !== 'number') return null;
  const text = (v: number | undefined) => (typeof v === 'number' ? formatMetric(v, m) : 'not measured');
  let better: 'challenger' | 'production' | 'same' | null = null;
  if (typeof p === 'number' && typeof c === 'number' && Number.isFinite(p) && Number.isFinite(c)) {
    // Equal as shown is the same: a difference in the fifth decimal is not a reason to promote.
    if (text(p) === text(c)) better = 'same';
    else better = (c > p) === m.higherIsBetter ? 'challenger' : 'production';
  }
  return { label: METRIC_WORDS[m.key]?.label ?? m.label, production: { version: r.production.version, text: text(p) }, challenger: { version: r.challenger.version, text: text(c) }, better };
}

/**
 * What a person should weigh before promoting: real problems on the answered episodes that
 * production catches and the challenger would miss, and a holdout score where production is
 * better. Empty when the challenger is at least as good on both.
 */
export function promoteWarnings(r: ChallengerReport): string[] {
  const out: string[] = [];
  const e = r.episodes;
  if (e && r.production && r.challenger && e.challenger.caught < e.production.caught) {
    // Counts, not which episodes: say only what they show.
    out.push(`On the answered episodes it catches fewer real problems than production (version ${r.production.version}): ${e.challenger.caught} of ${e.real}, against ${e.production.caught}.`);
  }
  const m = metricSides(r);
  if (m && m.better === 'production') out.push(`Its ${m.label} on the same holdout is ${m.challenger.text}, against ${m.production.text} for production.`);
  else if (m && m.better === null && m.challenger.text === 'not measured' && m.production.text !== 'not measured') {
    out.push(`Its ${m.label} was not measured, so it cannot be compared with production's ${m.production.text} on the same holdout.`);
  }
  return out;
}

/** Production beside challenger on the answered episodes: real problems caught, and false alarms. */
export function episodePairs(r: ChallengerReport): CountPair[] | null {
  const e = r.episodes;
  if (!e || e.real + e.normal === 0) return null;
  return [
    { label: 'Real problems caught', reference: e.production.caught, current: e.challenger.caught },
    { label: 'False alarms', reference: e.production.falseAlarms, current: e.challenger.falseAlarms },
  ];
}

export interface ShadowTarget {
  endpoint: string;
  /** The run on it, when the challenger already runs there in shadow. */
  run: ShadowSummary | null;
}

/** The endpoints that serve this model (where a challenger can run in shadow), with the shadow run on each. */
export function shadowTargets(endpoints: readonly EndpointSummary[] | null, model: string, shadows: readonly ShadowSummary[]): ShadowTarget[] {
  const names = new Set<string>();
  for (const e of endpoints ?? []) if (e.model?.name === model) names.add(e.name);
  for (const s of shadows) if (s.model === model) names.add(s.endpoint);
  return [...names].sort().map((endpoint) => ({ endpoint, run: shadows.find((s) => s.endpoint === endpoint && s.model === model) ?? null }));
}

/** "Agreed on 98.5 % of 1,204 rows" for a shadow run. */
export function agreementWords(s: Pick<ShadowSummary, 'rows' | 'agreed'>): string {
  if (s.rows === 0) return 'No rows scored by both yet.';
  const pct = (s.agreed / s.rows) * 100;
  return `Agreed on ${pct >= 99.95 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)} % of ${s.rows.toLocaleString()} rows.`;
}
