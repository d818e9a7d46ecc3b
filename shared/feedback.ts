/**
 * The feedback loop (DESIGN.md sections 1 and 10): anomaly events grouped
 * into episodes, the short periodic questions about them, the answers as
 * labels, and what the app learns from them (a threshold, a cause model, a
 * challenger tried in shadow and promoted). Shared by the core, the CLI and
 * the renderer.
 */
import { z } from 'zod';

/** An answer: a real problem (with a cause), normal operation, or not sure. */
export const VERDICTS = ['real', 'normal', 'unsure'] as const;
export type Verdict = (typeof VERDICTS)[number];
export const VERDICT_TITLES: Record<Verdict, string> = { real: 'Real problem', normal: 'Normal operation', unsure: 'Not sure' };

/** The columns "Add my answers to the data" appends to a dataset version. */
export const LABEL_COLUMNS = { problem: 'feedback_problem', cause: 'feedback_cause' } as const;

/** One input that made an episode unusual. */
export const EpisodeInputSchema = z.object({
  name: z.string(),
  /** How far from training it went, in training standard deviations (largest over the episode's rows); categories: 0 seen in training, 1 not. */
  deviation: z.number(),
  /** Its value at the episode's peak (null: missing). */
  value: z.union([z.number(), z.string()]).nullable(),
  /** The training range shown as the normal band (mean ± 2 std; null for categories or without a profile). */
  normalLow: z.number().nullable(),
  normalHigh: z.number().nullable(),
});
export type EpisodeInput = z.infer<typeof EpisodeInputSchema>;

export const EpisodeSchema = z.object({
  id: z.number().int(),
  model: z.string(),
  version: z.number().int(),
  /** Where the rows came from: an endpoint's anomaly events, or a batch scoring job. */
  origin: z.enum(['endpoint', 'batch']),
  /** The endpoint (origin endpoint) or null. */
  endpoint: z.string().nullable(),
  /** The scoring job (origin batch) or null. */
  job: z.string().nullable(),
  /** The stream of rows within the endpoint (its "source"), null when unnamed. */
  source: z.string().nullable(),
  /** First and last anomalous row, ISO 8601 in data time (the rows' own timestamps; the time received when rows carry none). */
  start: z.string(),
  end: z.string(),
  /** Anomalous rows in the episode. */
  rows: z.number().int(),
  peakScore: z.number(),
  /** The model version's alarm level at the time (scores above it are flagged). */
  threshold: z.number().nullable(),
  /** The inputs that contributed most, most first (at most 5). */
  inputs: z.array(EpisodeInputSchema),
  /** True while more rows may still join it (its end is within the gap tolerance of the newest row seen). */
  open: z.boolean(),
  verdict: z.enum(VERDICTS).nullable(),
  cause: z.string().nullable(),
  comment: z.string().nullable(),
  answeredBy: z.string().nullable(),
  answeredAt: z.string().nullable(),
  /** When a prompt last asked about it. */
  promptedAt: z.string().nullable(),
  /** How much an answer would teach, 0..1, and why in words ("close to the alarm level; unlike any answered episode"). Null once answered. */
  rank: z.number().nullable(),
  rankReason: z.string().nullable(),
  createdAt: z.string(),
});
export type Episode = z.infer<typeof EpisodeSchema>;

const point = z.object({ t: z.string(), v: z.number().nullable() });

/** One episode with what its card shows: the contributing inputs and the score around it, and the history of answers. */
export const EpisodeDetailSchema = z.object({
  episode: EpisodeSchema,
  chart: z.object({
    /** The span shown: the episode and some rows either side (where the endpoint sent them). */
    from: z.string(),
    to: z.string(),
    score: z.array(point.extend({ flagged: z.boolean() })),
    inputs: z.array(z.object({ name: z.string(), points: z.array(point), normalLow: z.number().nullable(), normalHigh: z.number().nullable() })),
  }),
  history: z.array(z.object({ verdict: z.enum(VERDICTS), cause: z.string().nullable(), comment: z.string().nullable(), by: z.string(), at: z.string() })),
});
export type EpisodeDetail = z.infer<typeof EpisodeDetailSchema>;

/** HH:MM, 24-hour, local time of the PC. */
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day such as 06:00');

export const FeedbackSettingsSchema = z
  .object({
    /** When to ask (default: shift starts 06:00, 14:00, 22:00). */
    promptTimes: z.array(clock).min(1).max(12),
    /** Episodes per prompt (never more than five). */
    perPrompt: z.number().int().min(1).max(5),
    /** Anomalous rows closer than this in data time belong to one episode. */
    gapMinutes: z.number().min(0).max(10_080),
    /** Only episodes at least minMinutes long (first to last row) with at least minRows rows are asked about. */
    minMinutes: z.number().min(0).max(10_080),
    minRows: z.number().int().min(1).max(100_000),
    /** Show prompts as operating-system notifications (desktop app). */
    notifications: z.boolean(),
  })
  .strict();
export type FeedbackSettings = z.infer<typeof FeedbackSettingsSchema>;
export const DEFAULT_FEEDBACK_SETTINGS: FeedbackSettings = { promptTimes: ['06:00', '14:00', '22:00'], perPrompt: 5, gapMinutes: 30, minMinutes: 0, minRows: 2, notifications: true };

/** What the Inbox shows: the episodes the last prompt asked about (still unanswered), most informative first. */
export const InboxSchema = z.object({
  due: z.array(EpisodeSchema),
  /** Unanswered episodes in all (the badge shows due.length). */
  unanswered: z.number().int(),
  lastPromptAt: z.string().nullable(),
  nextPromptAt: z.string(),
});
export type Inbox = z.infer<typeof InboxSchema>;

/** The new dataset version "Add my answers to the data" made. */
export const LabelsResultSchema = z.object({
  dataset: z.string(),
  version: z.number().int(),
  rows: z.number().int(),
  /** Rows marked by verdict, and the episodes they came from. */
  labelled: z.object({ real: z.number().int(), normal: z.number().int(), unsure: z.number().int() }),
  episodes: z.number().int(),
  columns: z.array(z.string()),
  sentence: z.string(),
});
export type LabelsResult = z.infer<typeof LabelsResultSchema>;

/** How a model version fares on the answered episodes: real problems it flags, and normal episodes it flags (false alarms). */
export const EpisodeTallySchema = z.object({ caught: z.number().int(), missed: z.number().int(), falseAlarms: z.number().int(), quiet: z.number().int() });
export type EpisodeTally = z.infer<typeof EpisodeTallySchema>;

export const RecalibrationSchema = z.object({
  model: z.string(),
  version: z.number().int(),
  current: z.number(),
  /** Null when the answers give no better level (too few, or no level separates them better). */
  suggested: z.number().nullable(),
  answered: z.object({ real: z.number().int(), normal: z.number().int() }),
  before: EpisodeTallySchema,
  after: EpisodeTallySchema.nullable(),
  /** "Raising the alarm level from 0.61 to 0.68 would have avoided 3 of 4 false alarms and still caught all 5 real problems." */
  sentence: z.string(),
});
export type Recalibration = z.infer<typeof RecalibrationSchema>;

export const SUGGESTION_KINDS = ['recalibrate', 'cause_model', 'retrain'] as const;
export type SuggestionKind = (typeof SUGGESTION_KINDS)[number];

export const FeedbackSuggestionSchema = z.object({
  kind: z.enum(SUGGESTION_KINDS),
  model: z.string(),
  /** One sentence: what and why. */
  sentence: z.string(),
  /** recalibrate: the suggested level; cause_model: the cause with enough confirmations; retrain: what prompted it. */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
});
export type FeedbackSuggestion = z.infer<typeof FeedbackSuggestionSchema>;

export const ShadowSummarySchema = z.object({
  endpoint: z.string(),
  model: z.string(),
  version: z.number().int(),
  since: z.string(),
  /** Rows both scored since the shadow started, and those where their answers agreed. */
  rows: z.number().int(),
  agreed: z.number().int(),
  productionAnomalies: z.number().int(),
  shadowAnomalies: z.number().int(),
  sentence: z.string(),
});
export type ShadowSummary = z.infer<typeof ShadowSummarySchema>;

/** Production beside its challenger: the same holdout, the answered episodes, and the shadow run if any. */
export const ChallengerReportSchema = z.object({
  model: z.string(),
  production: z.object({ version: z.number().int(), metrics: z.record(z.string(), z.number()) }).nullable(),
  challenger: z.object({ version: z.number().int(), metrics: z.record(z.string(), z.number()) }).nullable(),
  /** The holdout both were scored on (the challenger's). */
  holdout: z.object({ dataset: z.string(), datasetVersion: z.number().int(), rows: z.number().int() }).nullable(),
  metric: z.object({ key: z.string(), label: z.string(), higherIsBetter: z.boolean() }).nullable(),
  episodes: z.object({ real: z.number().int(), normal: z.number().int(), production: EpisodeTallySchema, challenger: EpisodeTallySchema }).nullable(),
  shadows: z.array(ShadowSummarySchema),
  sentence: z.string(),
});
export type ChallengerReport = z.infer<typeof ChallengerReportSchema>;
