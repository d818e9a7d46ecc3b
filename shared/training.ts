/**
 * Training types shared by the core, the CLI and the renderer (DESIGN.md section 6).
 * The words here are the ones a plant engineer reads: goals, not algorithms.
 */

export const GOALS = ['predict_value', 'predict_category', 'detect_unusual'] as const;
export type Goal = (typeof GOALS)[number];

export const GOAL_TITLES: Record<Goal, { title: string; description: string }> = {
  predict_value: { title: 'Predict a value', description: 'Estimate a number, such as a quality result, a temperature or the remaining life of a part.' },
  predict_category: { title: 'Predict a category or failure', description: 'Tell which class a row belongs to, such as "failure" or "no failure", or a product grade.' },
  detect_unusual: { title: 'Detect unusual behaviour', description: 'Learn what normal operation looks like from sensor columns and flag what differs. No labels needed.' },
};

export const TASKS = ['regression', 'binary', 'multiclass', 'anomaly'] as const;
export type Task = (typeof TASKS)[number];

export const ALGORITHMS = ['linear', 'logistic', 'tree', 'forest', 'hgb', 'iforest', 'pca'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** What a kept model is: one learner, or a weighted blend of several (AutoML's ensemble). */
export type ModelKind = Algorithm | 'ensemble';

export const ALGORITHM_TITLES: Record<ModelKind, string> = {
  linear: 'Linear regression',
  logistic: 'Logistic regression',
  tree: 'Decision tree',
  forest: 'Random forest',
  hgb: 'Gradient boosting',
  iforest: 'Isolation forest',
  pca: 'PCA monitoring (T² and SPE)',
  ensemble: 'Blend of the best models',
};

export interface MetricInfo {
  key: string;
  label: string;
  higherIsBetter: boolean;
}

/** The metric that ranks the leaderboard, per task. */
export const RANKING_METRIC: Record<Task, MetricInfo> = {
  binary: { key: 'roc_auc', label: 'ROC AUC', higherIsBetter: true },
  multiclass: { key: 'f1', label: 'macro F1', higherIsBetter: true },
  regression: { key: 'rmse', label: 'RMSE', higherIsBetter: false },
  anomaly: { key: 'stability', label: 'score stability on normal data', higherIsBetter: true },
};

/** With a label column, anomaly models are ranked by how many labelled events they catch. */
export const ANOMALY_LABELLED_METRIC: MetricInfo = { key: 'event_f1', label: 'event F1', higherIsBetter: true };

/** Names that point at one model version each: what endpoints should run, and what is on trial. */
export const MODEL_ALIASES = ['production', 'challenger'] as const;
export type ModelAlias = (typeof MODEL_ALIASES)[number];

export const TIME_BUDGET = { min: 10, max: 1800, default: 60 } as const;

/** Everything a training run needs; kept with the run so it can be reproduced. */
export interface TrainSettings {
  task: Task;
  /** The column to predict; null for anomaly detection. */
  target: string | null;
  /** Anomaly detection only: a 0/1 column that marks known problems, used to judge, never to train. */
  labelColumn: string | null;
  inputs: string[];
  timeColumn: string | null;
  /** Window features (mean, std, min, max, slope, last) over this many minutes; null for none. */
  windowMinutes: number | null;
  /** Lagged copies of numeric inputs, in rows. */
  lags: number[];
  holdoutFraction: number;
  timeBudgetSeconds: number;
  seed: number;
  /** Restrict the search (Advanced); empty means every learner that fits the task. */
  algorithms: Algorithm[];
}

export interface LeaderboardEntry {
  algorithm: ModelKind;
  title: string;
  params: Record<string, number | string | boolean | null>;
  metrics: Record<string, number>;
  fitSeconds: number;
  predictSeconds: number;
  status: 'done' | 'failed' | 'out_of_time';
  note: string | null;
}

export interface ThresholdPoint {
  threshold: number;
  /** Positives caught, false alarms, positives missed, correct all-clears on the holdout. */
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** What the results page and `millwright train` show. Stored as a blob with the model version. */
export interface TrainingReport {
  task: Task;
  target: string | null;
  metric: MetricInfo;
  classes: string[] | null;
  /** Class counted as "positive" in binary goals (the larger label, as scikit-learn does). */
  positiveClass: string | null;
  trainRows: number;
  /** Rows the kept model learned from: after judging, the winner is retrained on every usable row, holdout included. */
  finalRows: number;
  holdout: { kind: 'time'; rows: number; from: number; to: number } | { kind: 'random'; rows: number; fraction: number };
  leaderboard: LeaderboardEntry[];
  bestIndex: number;
  metrics: Record<string, number>;
  /** One sentence per leaderboard entry, in plain words. */
  sentences: string[];
  warnings: string[];
  features: string[];
  /** Decision threshold (binary: probability; anomaly: score). */
  threshold: number;
  thresholds: ThresholdPoint[] | null;
  confusion: number[][] | null;
  roc: { fpr: number[]; tpr: number[] } | null;
  pr: { precision: number[]; recall: number[] } | null;
  /** Holdout rows over time (or row number), downsampled for charts. */
  series: { x: number[]; xIsTime: boolean; actual: number[] | null; predicted: number[] | null; score: number[] | null; label: number[] | null } | null;
  importance: { input: string; drop: number }[];
  /** Training-time figures the anomaly page compares with (share of rows flagged on training data). */
  trainFlagRate: number | null;
  /** The settings of the run, as chosen (and completed with defaults). */
  settings: TrainSettings;
}

export interface TargetSuggestion {
  name: string;
  type: string;
  recommended: boolean;
  reason: string;
  classes: number | null;
}

export interface InputSuggestion {
  name: string;
  type: string;
  unit: string | null;
  selected: boolean;
  /** Why it is not preselected, in plain words; null when it is. */
  reason: string | null;
  leak: boolean;
}

/** Whole-number percent, e.g. 0.963 → "96". */
function pct(x: number): string {
  return String(Math.round(x * 100));
}

/** "the last two weeks of data", "a random 20% of the rows" */
export function describeHoldout(h: TrainingReport['holdout']): string {
  if (h.kind === 'random') return `a random ${pct(h.fraction)}% of the rows kept aside`;
  return `the last ${describeSpan(h.to - h.from)} of data`;
}

export function describeSpan(ms: number): string {
  const hour = 3600_000;
  const day = 24 * hour;
  const words = ['', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
  const n = (k: number, unit: string) => `${k <= 10 ? words[k] : String(k)} ${unit}${k === 1 ? '' : 's'}`;
  if (ms >= 60 * day) return n(Math.round(ms / (30 * day)), 'month');
  if (ms >= 14 * day) return n(Math.round(ms / (7 * day)), 'week');
  if (ms >= 2 * day) return n(Math.round(ms / day), 'day');
  if (ms >= 2 * hour) return n(Math.round(ms / hour), 'hour');
  return n(Math.max(1, Math.round(ms / 60_000)), 'minute');
}

/** "Gradient boosting: right 96 times out of 100 on the last two weeks of data". */
export function describeEntry(e: LeaderboardEntry, report: Pick<TrainingReport, 'task' | 'holdout' | 'target'>): string {
  const on = describeHoldout(report.holdout);
  if (e.status === 'failed') return `${e.title}: could not be trained${e.note ? ` (${e.note})` : ''}.`;
  if (e.status === 'out_of_time') return `${e.title}: not tried, the time budget ran out.`;
  const m = e.metrics;
  switch (report.task) {
    case 'binary':
      return `${e.title}: right ${pct(m.accuracy ?? 0)} times out of 100 on ${on}; ranks a real failure above a normal row ${pct(m.roc_auc ?? 0)}% of the time.`;
    case 'multiclass':
      return `${e.title}: right ${pct(m.accuracy ?? 0)} times out of 100 on ${on} (macro F1 ${(m.f1 ?? 0).toFixed(2)}).`;
    case 'regression':
      return `${e.title}: typically off by ${formatNumber(m.mae ?? NaN)} on ${on} (RMSE ${formatNumber(m.rmse ?? NaN)}; explains ${pct(Math.max(0, m.r2 ?? 0))}% of the variation).`;
    case 'anomaly':
      if (m.event_f1 !== undefined) {
        return `${e.title}: caught ${m.events_caught ?? 0} of ${m.events ?? 0} known problems on ${on}, with ${m.false_alarms ?? 0} false alarms.`;
      }
      return `${e.title}: flags ${(100 * (m.holdout_flag_rate ?? 0)).toFixed(1)}% of ${on} (${(100 * (m.train_flag_rate ?? 0)).toFixed(1)}% of the training rows); stability ${(m.stability ?? 0).toFixed(2)}.`;
  }
}

function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

/**
 * "catches 9 of 10 failures, about 1 false alarm per week" for one threshold
 * point. `noun` names what is caught (singular, plural): failures for a
 * classifier, problems for an unusual-behaviour model.
 */
export function describeThreshold(p: ThresholdPoint, holdoutMs: number | null, noun: [string, string] = ['failure', 'failures']): string {
  const positives = p.tp + p.fn;
  const caught = `catches ${p.tp} of ${positives} ${positives === 1 ? noun[0] : noun[1]}`;
  if (p.fp === 0) return `${caught}, with no false alarms`;
  if (holdoutMs !== null && holdoutMs > 0) {
    const perWeek = (p.fp / holdoutMs) * 7 * 24 * 3600_000;
    let rate: string;
    if (perWeek >= 14) rate = `about ${Math.round(perWeek / 7)} false alarms per day`;
    else if (perWeek >= 1.5) rate = `about ${Math.round(perWeek)} false alarms per week`;
    else if (perWeek >= 0.75) rate = 'about 1 false alarm per week';
    else rate = `about 1 false alarm every ${Math.round(1 / perWeek)} weeks`;
    return `${caught}, ${rate}`;
  }
  return `${caught}, ${p.fp} false alarm${p.fp === 1 ? '' : 's'} in ${p.fp + p.tn + p.tp + p.fn} rows`;
}
