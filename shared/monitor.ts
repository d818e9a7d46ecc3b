/**
 * Monitoring (DESIGN.md section 10): what the app learns about each endpoint
 * in the background — health, drift of its inputs against the training
 * profile, the spread of its predictions — and the alerts that follow.
 * Shared by the core, the CLI and the renderer.
 */
import { z } from 'zod';

/** A verdict in plain words. `unknown`: too few rows in the window to say. */
export const DRIFT_VERDICTS = ['stable', 'watch', 'changed', 'unknown'] as const;
export type DriftVerdict = (typeof DRIFT_VERDICTS)[number];

/**
 * The test behind an input's verdict, chosen by the size of the reference the
 * way Evidently does by default: reference of at most 1000 rows → `ks`
 * (numbers) or `chi2` (categories, and numbers with at most 5 distinct
 * values) at p < 0.05; larger → `wasserstein` (normalised by the reference's
 * standard deviation) or `jensenshannon` at ≥ 0.1. Below a floor of
 * effective rows (live × training ÷ (live + training): 2,000 for Wasserstein,
 * 700 for Jensen–Shannon) a distance would cross 0.1 by chance, so KS or
 * chi-squared judges instead (see drift.ts).
 */
export const DRIFT_TESTS = ['ks', 'chi2', 'wasserstein', 'jensenshannon'] as const;
export type DriftTest = (typeof DRIFT_TESTS)[number];

/** The windows drift is computed over, ending now. */
export const MONITOR_WINDOWS = ['hour', 'day', 'week'] as const;
export type MonitorWindow = (typeof MONITOR_WINDOWS)[number];
export const WINDOW_MS: Record<MonitorWindow, number> = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 };

const served = z.object({ name: z.string(), version: z.union([z.number(), z.string()]) });

export const InputDriftSchema = z.object({
  name: z.string(),
  kind: z.enum(['numeric', 'category']),
  verdict: z.enum(DRIFT_VERDICTS),
  /** Population stability index over the profile's bins (null without rows). */
  psi: z.number().nullable(),
  /** The chosen test's statistic: KS D, chi-squared, normalised Wasserstein distance or Jensen–Shannon distance. */
  statistic: z.number().nullable(),
  test: z.enum(DRIFT_TESTS).nullable(),
  /** KS and chi-squared only. */
  pValue: z.number().nullable(),
  /** Rows of the window with a value for this input. */
  rows: z.number().int(),
  /** Rank by importance in training (1 = most important), null when training did not measure it. */
  importanceRank: z.number().int().nullable(),
});
export type InputDrift = z.infer<typeof InputDriftSchema>;

export const DriftSchema = z.object({
  window: z.enum(MONITOR_WINDOWS),
  from: z.string(),
  to: z.string(),
  /** Rows served in the window (by the model version now running). */
  rows: z.number().int(),
  /** changed: half the inputs, or any of the three most important, changed; watch: any input changed or is on watch; unknown: too few rows. */
  verdict: z.enum(DRIFT_VERDICTS),
  /** One sentence: why the verdict ("3 of 8 inputs changed, among them the most important, Temperature"). */
  reason: z.string(),
  inputs: z.array(InputDriftSchema),
  /** The spread of predictions: by label (classifiers: classes; anomaly models: "anomaly"/"normal"), training beside the window. */
  predictions: z.object({
    training: z.record(z.string(), z.number()).nullable(),
    window: z.record(z.string(), z.number()),
    /** Jensen–Shannon distance between the two shares (null without a training spread). */
    distance: z.number().nullable(),
    verdict: z.enum(DRIFT_VERDICTS),
  }),
  /** Accuracy on rows users labelled (feedback, issue 9); null until labels exist. */
  liveAccuracy: z.object({ metric: z.string(), value: z.number(), labelled: z.number().int() }).nullable(),
});
export type Drift = z.infer<typeof DriftSchema>;

export const HealthSchema = z.object({
  reachable: z.boolean(),
  lastContact: z.string().nullable(),
  /** Set while the endpoint does not answer: when it last did (or was first tried). */
  noContactSince: z.string().nullable(),
  /** Why the last contact failed, in words. */
  lastError: z.string().nullable(),
  model: served.nullable(),
  /** Over the window asked for. */
  requests: z.number().int(),
  errors: z.number().int(),
  /** errors / requests, 0..1 (null without requests). */
  errorRate: z.number().nullable(),
  latencyP50Ms: z.number().nullable(),
  latencyP99Ms: z.number().nullable(),
  anomalies: z.number().int(),
  /** When the scheduler will contact it next (backoff while unreachable). */
  nextContact: z.string().nullable(),
});
export type Health = z.infer<typeof HealthSchema>;

export const ALERT_KINDS = ['down', 'errors', 'drift', 'anomalies'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const AlertSchema = z.object({
  id: z.number().int(),
  endpoint: z.string(),
  kind: z.enum(ALERT_KINDS),
  /** firing until the condition clears; cleared alerts stay in the list. */
  state: z.enum(['firing', 'cleared']),
  /** One sentence a plant engineer understands ("line-3 has not answered for 7 minutes"). */
  message: z.string(),
  firstAt: z.string(),
  lastAt: z.string(),
  clearedAt: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  snoozedUntil: z.string().nullable(),
});
export type Alert = z.infer<typeof AlertSchema>;

/** The alert rules, global to the workspace, with their defaults. */
export const AlertRulesSchema = z
  .object({
    down: z.object({ enabled: z.boolean(), minutes: z.number().min(1).max(10_080) }).strict(),
    errors: z.object({ enabled: z.boolean(), percent: z.number().min(0.01).max(100) }).strict(),
    drift: z.object({ enabled: z.boolean() }).strict(),
    anomalies: z.object({ enabled: z.boolean(), factor: z.number().min(1.1).max(1000) }).strict(),
  })
  .strict();
export type AlertRules = z.infer<typeof AlertRulesSchema>;
export const DEFAULT_ALERT_RULES: AlertRules = {
  down: { enabled: true, minutes: 5 },
  errors: { enabled: true, percent: 1 },
  drift: { enabled: true },
  anomalies: { enabled: true, factor: 3 },
};

export const MonitorSettingsSchema = z
  .object({
    /** Seconds between polls of every endpoint (default 60). */
    intervalSeconds: z.number().int().min(1).max(86_400),
    /** Show alerts as operating-system notifications (desktop app). */
    notifications: z.boolean(),
    rules: AlertRulesSchema,
  })
  .strict();
export type MonitorSettings = z.infer<typeof MonitorSettingsSchema>;
export const DEFAULT_MONITOR_SETTINGS: MonitorSettings = { intervalSeconds: 60, notifications: true, rules: DEFAULT_ALERT_RULES };

/** One endpoint in the `millwright monitor --json` output and on the Monitoring page's list. */
export const EndpointMonitorSchema = z.object({
  name: z.string(),
  reachable: z.boolean(),
  lastContact: z.string().nullable(),
  model: served.nullable(),
  /** Over the last hour. */
  requests: z.number().int(),
  errors: z.number().int(),
  latencyP99Ms: z.number().nullable(),
  drift: z.object({ verdict: z.enum(DRIFT_VERDICTS), inputs: z.array(InputDriftSchema.pick({ name: true, verdict: true, psi: true, statistic: true, test: true })) }),
  alerts: z.array(AlertSchema),
});
export type EndpointMonitor = z.infer<typeof EndpointMonitorSchema>;

export const MonitorCycleSchema = z.object({ endpoints: z.array(EndpointMonitorSchema) });
export type MonitorCycle = z.infer<typeof MonitorCycleSchema>;

/** One time slot of an endpoint's dashboard (a minute for the hour window, 15 minutes for a day, an hour for a week). */
export const MonitorPointSchema = z.object({
  at: z.string(),
  requests: z.number().int(),
  errors: z.number().int(),
  rows: z.number().int(),
  anomalies: z.number().int(),
  latencyP50Ms: z.number().nullable(),
  latencyP99Ms: z.number().nullable(),
});
export type MonitorPoint = z.infer<typeof MonitorPointSchema>;

export const EndpointDashboardSchema = z.object({
  name: z.string(),
  window: z.enum(MONITOR_WINDOWS),
  health: HealthSchema,
  series: z.array(MonitorPointSchema),
  drift: DriftSchema,
  /** Inputs × time slots: PSI per cell (null: no rows), the slots' start times, and each cell's verdict. */
  heatmap: z.object({
    inputs: z.array(z.string()),
    slots: z.array(z.string()),
    psi: z.array(z.array(z.number().nullable())),
    verdicts: z.array(z.array(z.enum(DRIFT_VERDICTS))),
  }),
  alerts: z.array(AlertSchema),
});
export type EndpointDashboard = z.infer<typeof EndpointDashboardSchema>;

/** An input's live histogram over the training one (shares of rows per profile bin). */
export const InputHistogramSchema = z.object({
  endpoint: z.string(),
  input: z.string(),
  kind: z.enum(['numeric', 'category']),
  window: z.enum(MONITOR_WINDOWS),
  /** Bin labels in words ("20.5 – 21.3", "below 18.2", "(other)"). */
  bins: z.array(z.string()),
  training: z.array(z.number()),
  live: z.array(z.number()),
  /** Rows with no value: training share and live share. */
  missing: z.object({ training: z.number(), live: z.number() }),
  drift: InputDriftSchema,
});
export type InputHistogram = z.infer<typeof InputHistogramSchema>;
