/**
 * The API contract between the renderer (and the CLI) and the core services.
 *
 * Every method is `capability.verb`, takes one object and returns one value.
 * Inputs are validated against `input` by whichever adapter receives the call
 * (Electron IPC, HTTP in server mode, the CLI) before a service sees them;
 * `output` documents and tests what comes back.
 */
import { z } from 'zod';
import { AppError, type ErrorInfo } from './errors';
import { COLUMN_TYPES, DELIMITERS, PROBLEM_KINDS, TEXT_ENCODINGS, TIME_FORMATS } from './datasets';
import { ALGORITHMS, GOALS, MODEL_ALIASES, TASKS, TIME_BUDGET } from './training';
import { CellSchema, PredictionSchema, TryItFormSchema } from './scoring';
import type { Comparison, Lineage, UseCaseSummary } from './registry';
import { AlertSchema, EndpointDashboardSchema, InputHistogramSchema, MONITOR_WINDOWS, MonitorCycleSchema, MonitorSettingsSchema, type Alert } from './monitor';
import { ChallengerReportSchema, EpisodeDetailSchema, EpisodeSchema, FeedbackSettingsSchema, FeedbackSuggestionSchema, InboxSchema, LabelsResultSchema, RecalibrationSchema, ShadowSummarySchema, VERDICTS } from './feedback';
import { DeployResultSchema, DeployTargetSchema, DeploymentRecordSchema, EndpointNameSchema, EndpointSummarySchema } from './deploy';
import { BrowseResultSchema, ConnectResultSchema, LiveValueSchema, RECORDING_INTERVAL, RecordingGapSchema, RecordingLiveSchema, RecordingSchema, SourceNameSchema, SourceSchema, SourceSettingsSchema, TagSchema } from './recording';

const id = z.string().min(1).max(100);
const isoTime = z.string();

export const JOB_STATES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const;
export const JobStateSchema = z.enum(JOB_STATES);
export type JobState = z.infer<typeof JobStateSchema>;
export const ACTIVE_JOB_STATES: readonly JobState[] = ['queued', 'running'];

export const JOB_KINDS = ['system.check', 'samples.add', 'imports.analyze', 'imports.save', 'datasets.profile', 'models.train', 'models.score', 'models.reproduce', 'recordings.save'] as const;
export const JobKindSchema = z.enum(JOB_KINDS);
export type JobKind = z.infer<typeof JobKindSchema>;

export const ErrorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  field: z.string().optional(),
});

export const JobInfoSchema = z.object({
  id,
  kind: JobKindSchema,
  /** What a person reads in the job tray, e.g. "Checking this PC". */
  title: z.string(),
  state: JobStateSchema,
  /** 0..1 */
  progress: z.number().min(0).max(1),
  message: z.string(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  endedAt: isoTime.nullable(),
  createdBy: z.string(),
  error: ErrorInfoSchema.nullable(),
  result: z.unknown().nullable(),
});
export type JobInfo = z.infer<typeof JobInfoSchema>;

export const AuditEntrySchema = z.object({
  id: z.number().int(),
  at: isoTime,
  who: z.string(),
  action: z.string(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const AppInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  workspace: z.string(),
  schemaVersion: z.number().int(),
  platform: z.string(),
  nodeVersion: z.string(),
  electronVersion: z.string().nullable(),
  user: z.string(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export const SampleInfoSchema = z.object({
  id,
  title: z.string(),
  description: z.string(),
  fileName: z.string(),
  sizeBytes: z.number().int(),
  licence: z.string(),
  credit: z.string(),
});
export type SampleInfo = z.infer<typeof SampleInfoSchema>;

export const ColumnTypeSchema = z.enum(COLUMN_TYPES);

export const ColumnSchemaSchema = z.object({
  name: z.string(),
  type: ColumnTypeSchema,
  unit: z.string().nullable(),
  header: z.string(),
});

export const DatasetSummarySchema = z.object({
  id,
  name: z.string(),
  description: z.string(),
  createdAt: isoTime,
  createdBy: z.string(),
  /** Latest version number, null for a dataset that has none yet. */
  version: z.number().int().nullable(),
  updatedAt: isoTime,
  fileName: z.string(),
  fileSha256: z.string(),
  sizeBytes: z.number().int(),
  rows: z.number().int(),
  columns: z.array(z.string()),
  timeStart: z.number().nullable(),
  timeEnd: z.number().nullable(),
});
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>;

export const SystemCheckResultSchema = z.object({
  cpuScore: z.number(),
  diskWriteMBps: z.number(),
  cores: z.number().int(),
  memoryGiB: z.number(),
});
export type SystemCheckResult = z.infer<typeof SystemCheckResultSchema>;

const empty = z.object({}).strict();

export const ReadSettingsSchema = z
  .object({
    encoding: z.enum(TEXT_ENCODINGS),
    delimiter: z.enum(DELIMITERS),
    decimal: z.enum(['.', ',']),
    thousands: z.enum(['', '.', ',', ' ', "'"]),
    skipLines: z.number().int().min(0).max(1000),
    hasHeader: z.boolean(),
    timeColumn: z.string().max(500).nullable(),
    timeFormat: z.enum(TIME_FORMATS).nullable(),
    timeZone: z.string().min(1).max(100),
    sheet: z.string().max(200).nullable().optional(),
    longFormat: z
      .object({
        tagColumn: z.string().min(1).max(500),
        valueColumn: z.string().min(1).max(500),
        qualityColumn: z.string().max(500).nullable(),
        intervalMs: z.number().positive().max(366 * 24 * 3600 * 1000).nullable(),
        aggregate: z.enum(['mean', 'last']),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

const paths = z.array(z.string().min(1).max(4096)).min(1).max(100);
const types = z.record(z.string(), ColumnTypeSchema);
const datasetRef = z.string().min(1).max(300);
const ProblemKindSchema = z.enum(PROBLEM_KINDS);
const ChoiceSchema = z.enum(['missing', 'skip', 'keep']);

export const ProblemSchema = z.object({
  kind: ProblemKindSchema,
  title: z.string(),
  count: z.number().int(),
  examples: z.array(z.object({ line: z.number().int(), column: z.string().nullable(), raw: z.string(), reason: z.string() })),
  choices: z.array(ChoiceSchema),
  defaultChoice: ChoiceSchema,
});

export const InspectResultSchema = z.object({
  files: z.array(z.object({ path: z.string(), fileName: z.string(), sizeBytes: z.number() })),
  settings: ReadSettingsSchema,
  explanations: z.record(z.string(), z.string()),
  schema: z.array(ColumnSchemaSchema),
  /** The first rows as the import will read them: numbers, epoch ms for timestamps, text, or null for missing. */
  preview: z.array(z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))),
  timeExplanation: z.string().nullable(),
  /** Excel: the workbook's sheet names, for the sheet picker (settings.sheet is the one read). */
  sheets: z.array(z.string()).optional(),
});
export type InspectResult = z.infer<typeof InspectResultSchema>;

export const VersionSummarySchema = z.object({
  dataset: z.string(),
  datasetId: z.string(),
  version: z.number().int(),
  createdAt: isoTime,
  createdBy: z.string(),
  rows: z.number().int(),
  columns: z.array(z.object({ name: z.string(), type: ColumnTypeSchema, unit: z.string().nullable(), header: z.string() })),
  sources: z.array(z.object({ fileName: z.string(), sha256: z.string(), size: z.number() })),
  timeColumn: z.string().nullable(),
  timeStart: z.number().nullable(),
  timeEnd: z.number().nullable(),
  rejectedRows: z.number().int(),
  problems: z.array(z.object({ kind: ProblemKindSchema, title: z.string(), count: z.number().int() })),
  changes: z.unknown().nullable(),
  contentHash: z.string(),
});
export type VersionSummary = z.infer<typeof VersionSummarySchema>;

export const SeriesResultSchema = z.object({
  timeColumn: z.string(),
  fullRange: z.tuple([z.number(), z.number()]),
  from: z.number(),
  to: z.number(),
  series: z.array(
    z.object({
      name: z.string(),
      unit: z.string().nullable(),
      data: z.object({
        x: z.array(z.number()),
        min: z.array(z.number()),
        max: z.array(z.number()),
        first: z.array(z.number()),
        last: z.array(z.number()),
        breakBefore: z.array(z.boolean()),
        bucketMs: z.number().optional(),
      }),
    }),
  ),
});
export type SeriesResult = z.infer<typeof SeriesResultSchema>;

export const TrainInputSchema = z
  .object({
    dataset: z.string().min(1).max(300),
    version: z.number().int().positive().optional(),
    /** Name of the model; a new version is added when it exists. Defaults to "<target> model" or "<dataset> anomalies". */
    model: z.string().trim().min(1).max(200).optional(),
    task: z.enum(TASKS),
    target: z.string().min(1).max(500).nullable().default(null),
    labelColumn: z.string().min(1).max(500).nullable().default(null),
    /** Defaults to the suggested inputs (IDs, leaks and the target left out). */
    inputs: z.array(z.string().min(1).max(500)).min(1).max(2000).optional(),
    /** Defaults to the dataset's time column; null trains without time order. */
    timeColumn: z.string().min(1).max(500).nullable().optional(),
    windowMinutes: z.number().positive().max(7 * 24 * 60).nullable().default(null),
    lags: z.array(z.number().int().min(1).max(1000)).max(10).default([]),
    holdoutFraction: z.number().min(0.05).max(0.5).default(0.2),
    timeBudgetSeconds: z.number().min(TIME_BUDGET.min).max(TIME_BUDGET.max).default(TIME_BUDGET.default),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    algorithms: z.array(z.enum(ALGORITHMS)).max(ALGORITHMS.length).default([]),
  })
  .strict();
export type TrainInput = z.input<typeof TrainInputSchema>;

const MetricInfoSchema = z.object({ key: z.string(), label: z.string(), higherIsBetter: z.boolean() });

export const SuggestionSchema = z.object({
  dataset: z.string(),
  version: z.number().int(),
  rows: z.number().int(),
  task: z.enum(TASKS).nullable(),
  targets: z.array(z.object({ name: z.string(), type: z.string(), recommended: z.boolean(), reason: z.string(), classes: z.number().int().nullable() })),
  inputs: z.array(z.object({ name: z.string(), type: z.string(), unit: z.string().nullable(), selected: z.boolean(), reason: z.string().nullable(), leak: z.boolean() })),
  timeColumn: z.string().nullable(),
  /** Median spacing of the time column, for the window control. */
  intervalMs: z.number().nullable(),
  modelName: z.string(),
  /** Problems that stop training, in plain words (e.g. "The target has only one value"). */
  blockers: z.array(z.string()),
});
export type Suggestion = z.infer<typeof SuggestionSchema>;

export const ModelVersionSchema = z.object({
  model: z.string(),
  version: z.number().int(),
  task: z.enum(TASKS),
  algorithm: z.string(),
  algorithmTitle: z.string(),
  createdAt: isoTime,
  createdBy: z.string(),
  dataset: z.string(),
  datasetVersion: z.number().int(),
  target: z.string().nullable(),
  inputs: z.array(z.string()),
  metric: MetricInfoSchema,
  metrics: z.record(z.string(), z.number()),
  runId: z.string(),
  durationSeconds: z.number(),
  modelHash: z.string(),
  /** sha256 of the version's ONNX graph (what every prediction runs). */
  onnxHash: z.string().nullable(),
  /** The app version that trained it. */
  appVersion: z.string(),
  /** Aliases that point at this version. */
  aliases: z.array(z.enum(MODEL_ALIASES)),
  archivedAt: isoTime.nullable(),
  archivedBy: z.string().nullable(),
  sentence: z.string(),
});
export type ModelVersionInfo = z.infer<typeof ModelVersionSchema>;

export const ModelSummarySchema = z.object({
  id,
  name: z.string(),
  task: z.enum(TASKS),
  createdAt: isoTime,
  createdBy: z.string(),
  /** The newest version that is not archived. */
  latest: ModelVersionSchema,
  versions: z.number().int(),
  production: z.number().int().nullable(),
  challenger: z.number().int().nullable(),
});
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

/** The trend "Save as dataset" draws over a whole recording (recordings.overview). */
export const RecordingOverviewSchema = z.object({
  tags: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      /**
       * Equal time buckets from the first to the last sample, oldest first: t is a bucket's start (ms since 1970),
       * min and max the lowest and highest good value of the tag in it, null when it has none.
       */
      points: z.array(z.object({ t: z.number(), min: z.number().nullable(), max: z.number().nullable() })),
    }),
  ),
  gaps: z.array(RecordingGapSchema),
  /** True when the recording was too long to read whole in a moment and the buckets come from evenly spaced stretches of it. */
  sampled: z.boolean(),
});
export type RecordingOverview = z.infer<typeof RecordingOverviewSchema>;

const modelRef = z.string().min(1).max(300);

function method<I extends z.ZodType, O extends z.ZodType>(summary: string, input: I, output: O) {
  return { summary, input, output };
}

export const API = {
  'app.info': method('Version of the app and the workspace in use.', empty, AppInfoSchema),
  'jobs.list': method(
    'Jobs, newest first.',
    z
      .object({
        states: z.array(JobStateSchema).max(JOB_STATES.length).optional(),
        limit: z.number().int().min(1).max(500).default(50),
      })
      .strict(),
    z.array(JobInfoSchema),
  ),
  'jobs.get': method('One job by id.', z.object({ id }).strict(), JobInfoSchema),
  'jobs.cancel': method(
    'Asks a queued or running job to stop. Ended jobs are returned unchanged.',
    z.object({ id }).strict(),
    JobInfoSchema,
  ),
  'system.check': method(
    'Starts a job that measures how fast this PC computes and writes to the workspace disk.',
    z.object({ seconds: z.number().min(0.2).max(300).default(3) }).strict(),
    JobInfoSchema,
  ),
  'audit.list': method(
    'Audit log entries, newest first.',
    z
      .object({
        limit: z.number().int().min(1).max(1000).default(100),
        /** An action ("model.alias") or a kind of object ("model"). */
        action: z.string().max(100).optional(),
        beforeId: z.number().int().positive().optional(),
        who: z.string().max(200).optional(),
        /** A dataset, model or use case name the entries must be about. */
        object: z.string().max(300).optional(),
        /** Entries about the use case or anything under it. */
        useCase: z.string().max(300).optional(),
      })
      .strict(),
    z.array(AuditEntrySchema),
  ),
  'audit.csv': method(
    'The audit log (with the same filters) as CSV text, for a spreadsheet.',
    z
      .object({
        action: z.string().max(100).optional(),
        who: z.string().max(200).optional(),
        object: z.string().max(300).optional(),
        useCase: z.string().max(300).optional(),
      })
      .strict(),
    z.object({ csv: z.string(), rows: z.number().int() }),
  ),
  'audit.people': method('The people who appear in the audit log.', empty, z.array(z.string())),
  'useCases.list': method('Use cases with their goal, KPI, datasets, models and health at a glance.', empty, z.array(z.custom<UseCaseSummary>())),
  'useCases.create': method(
    'Creates a use case: a named problem with a plain-language goal and the KPI that matters.',
    z.object({ name: z.string().max(200), goal: z.string().max(1000), kpi: z.string().max(300) }).strict(),
    z.custom<UseCaseSummary>(),
  ),
  'useCases.update': method(
    "Changes a use case's name, goal or KPI.",
    z.object({ useCase: z.string().min(1).max(300), name: z.string().max(200).optional(), goal: z.string().max(1000).optional(), kpi: z.string().max(300).optional() }).strict(),
    z.custom<UseCaseSummary>(),
  ),
  'useCases.assign': method(
    'Puts a dataset or a model under a use case (useCase null takes it out).',
    z.object({ useCase: z.string().min(1).max(300).nullable(), kind: z.enum(['dataset', 'model']), name: z.string().min(1).max(300) }).strict(),
    z.object({ ok: z.literal(true) }),
  ),
  'samples.list': method('Sample datasets shipped with the app.', empty, z.array(SampleInfoSchema)),
  'samples.add': method(
    'Starts a job that copies a sample dataset into the workspace.',
    z.object({ id }).strict(),
    JobInfoSchema,
  ),
  'datasets.list': method('Datasets in the workspace, newest first.', empty, z.array(DatasetSummarySchema)),
  'datasets.get': method(
    'One dataset (by name or id) with all its versions, newest first.',
    z.object({ dataset: datasetRef }).strict(),
    z.object({ dataset: DatasetSummarySchema, versions: z.array(VersionSummarySchema) }),
  ),
  'datasets.profile': method(
    'Per-column statistics, time coverage and correlations of a version (latest when none is given).',
    z.object({ dataset: datasetRef, version: z.number().int().positive().optional() }).strict(),
    z.unknown(),
  ),
  'datasets.rows': method(
    'A page of rows of a version, for the table view.',
    z
      .object({
        dataset: datasetRef,
        version: z.number().int().positive().optional(),
        offset: z.number().int().min(0),
        limit: z.number().int().min(1).max(2000).default(200),
      })
      .strict(),
    z.object({ total: z.number().int(), rows: z.array(z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))) }),
  ),
  'datasets.series': method(
    'Sensor values over time, reduced on the server to min/max per pixel column so any number of rows draws fast.',
    z
      .object({
        dataset: datasetRef,
        version: z.number().int().positive().optional(),
        columns: z.array(z.string().min(1)).min(1).max(12),
        from: z.number().optional(),
        to: z.number().optional(),
        buckets: z.number().int().min(10).max(8000).default(1200),
      })
      .strict(),
    SeriesResultSchema,
  ),
  'imports.inspect': method(
    'Reads the start of files and says how they will be read: dialect, header, columns and types, time column, preview.',
    z.object({ paths, settings: ReadSettingsSchema.partial().optional(), types: types.optional() }).strict(),
    InspectResultSchema,
  ),
  'imports.analyze': method(
    'Starts a job that reads whole files with the given settings and reports every problem, without saving anything.',
    z
      .object({
        paths,
        settings: ReadSettingsSchema,
        types: types.optional(),
        /** Save at once with these choices instead of staging for review (the CLI). */
        save: z
          .object({
            name: z.string().trim().min(1).max(200),
            description: z.string().max(2000).optional(),
            choices: z.record(z.string(), ChoiceSchema).optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    JobInfoSchema,
  ),
  'imports.totals': method(
    'How many rows an analysed import keeps and skips with the given choices, before saving.',
    z.object({ stagingId: id, choices: z.record(z.string(), ChoiceSchema).optional() }).strict(),
    z.object({ rowsRead: z.number().int(), rowsKept: z.number().int(), rowsSkipped: z.number().int() }),
  ),
  'imports.save': method(
    'Starts a job that saves an analysed import as a new dataset version, applying the choice made for each problem.',
    z
      .object({
        stagingId: id,
        name: z.string().trim().min(1).max(200),
        description: z.string().max(2000).optional(),
        choices: z.record(z.string(), ChoiceSchema).optional(),
      })
      .strict(),
    JobInfoSchema,
  ),
  'training.suggest': method(
    'For a goal, the columns worth predicting and the inputs to use, with IDs and leaks left out and the reason shown.',
    z
      .object({
        dataset: datasetRef,
        version: z.number().int().positive().optional(),
        goal: z.enum(GOALS),
        target: z.string().min(1).max(500).optional(),
        /** Unusual behaviour: the column marking known problems, so columns that give it away are flagged too. */
        labelColumn: z.string().min(1).max(500).optional(),
      })
      .strict(),
    SuggestionSchema,
  ),
  'training.start': method('Starts a job that trains models within the time budget and keeps the best as a new model version.', TrainInputSchema, JobInfoSchema),
  'models.list': method('Models in the workspace, most recently trained first.', empty, z.array(ModelSummarySchema)),
  'models.get': method(
    'One model (by name) with all its versions, newest first.',
    z.object({ model: modelRef }).strict(),
    z.object({ model: ModelSummarySchema, versions: z.array(ModelVersionSchema) }),
  ),
  'models.report': method(
    'The training report of a model version (latest when none is given): leaderboard, curves, importance.',
    z.object({ model: modelRef, version: z.number().int().positive().optional() }).strict(),
    z.unknown(),
  ),
  'models.promote': method(
    'Points an alias (production or challenger) at a model version, with the reason; audited.',
    z.object({ model: modelRef, version: z.number().int().positive(), alias: z.enum(MODEL_ALIASES), reason: z.string().max(2000) }).strict(),
    ModelVersionSchema,
  ),
  'models.archive': method(
    'Archives a model version (refused while an alias points at it).',
    z.object({ model: modelRef, version: z.number().int().positive(), reason: z.string().max(2000).optional() }).strict(),
    ModelVersionSchema,
  ),
  'models.restore': method('Restores an archived model version.', z.object({ model: modelRef, version: z.number().int().positive() }).strict(), ModelVersionSchema),
  'models.exportMlflow': method(
    'Writes an MLflow model directory (MLmodel with the onnx and python_function flavors, model.onnx, signature, input example, requirements) for a model version.',
    z.object({ model: modelRef, version: z.number().int().positive().optional(), out: z.string().min(1).max(4096) }).strict(),
    z.object({ dir: z.string(), files: z.array(z.string()), modelUuid: z.string() }),
  ),
  'workspace.backup': method(
    'Writes the whole workspace (database, blobs, keys) into one .tar.gz that can be restored elsewhere.',
    z.object({ out: z.string().min(1).max(4096) }).strict(),
    z.object({ file: z.string(), bytes: z.number().int(), files: z.number().int() }),
  ),
  'workspace.check': method(
    "Checks the database's integrity and every blob's hash, and names what is wrong in plain words.",
    empty,
    z.object({ ok: z.boolean(), blobs: z.number().int(), referenced: z.number().int(), database: z.string(), problems: z.array(z.string()), unreferenced: z.number().int() }),
  ),
  'models.reproduce': method(
    'Starts a job that retrains a model version from its lineage and reports "identical" (same ONNX hash) or what differs.',
    z.object({ model: modelRef, version: z.number().int().positive().optional() }).strict(),
    JobInfoSchema,
  ),
  'models.compare': method(
    'Two model versions side by side: settings and data that differ, both re-scored on the newer holdout, and the rows where they disagree most.',
    z.object({ a: modelRef, b: modelRef }).strict(),
    z.custom<Comparison>(),
  ),
  'models.lineage': method(
    'Where a model version came from: source files → dataset version → training run → model version, with who and when.',
    z.object({ model: modelRef, version: z.number().int().positive().optional() }).strict(),
    z.custom<Lineage>(),
  ),
  'models.exportBundle': method(
    'Writes the deployment bundle of a model version: a .tar.gz with the signed manifest, model.onnx, the edge runtime, Dockerfile, k8s.yaml, a systemd unit and README.txt.',
    z.object({ model: modelRef, version: z.number().int().positive().optional(), out: z.string().min(1).max(4096) }).strict(),
    z.object({ file: z.string(), bytes: z.number().int(), sha256: z.string(), files: z.array(z.string()), fingerprint: z.string() }),
  ),
  'models.score': method(
    'Starts a job that scores a file with a model version (ONNX Runtime) and writes it out with the prediction columns appended; with evaluate, also the metrics against the answers in the file.',
    z
      .object({
        model: modelRef,
        version: z.number().int().positive().optional(),
        file: z.string().min(1).max(4096),
        out: z.string().min(1).max(4096).optional(),
        evaluate: z.boolean().optional(),
        /** With evaluate and no out: also write the scored file into the workspace's exports folder (the app does). */
        keepFile: z.boolean().optional(),
        /** The column holding the answers (default: the model's target; anomaly models: a 0/1 column). */
        truthColumn: z.string().min(1).max(500).optional(),
      })
      .strict(),
    JobInfoSchema,
  ),
  'models.tryIt': method(
    'The "try it" form of a model version: its inputs, prefilled from a real row of the training data.',
    z.object({ model: modelRef, version: z.number().int().positive().optional(), row: z.number().int().min(0).optional() }).strict(),
    TryItFormSchema,
  ),
  'endpoints.list': method('Endpoints the workspace knows, with what each serves and its status at the last contact.', empty, z.array(EndpointSummarySchema)),
  'endpoints.add': method(
    'Adds an endpoint operations runs (its URL and tokens); contacts it once to learn what it serves. The tokens are kept in the workspace\'s keys folder, not in the database.',
    z.object({ name: EndpointNameSchema, url: z.string().url().max(2000), token: z.string().min(16).max(500), adminToken: z.string().min(16).max(500).optional() }).strict(),
    EndpointSummarySchema,
  ),
  'endpoints.remove': method('Forgets an endpoint (a local one is stopped first).', z.object({ name: EndpointNameSchema }).strict(), z.object({ removed: z.string() })),
  'endpoints.refresh': method('Contacts an endpoint now: health, what it serves, its counters.', z.object({ name: EndpointNameSchema }).strict(), EndpointSummarySchema),
  'endpoints.stop': method('Stops a local endpoint (it keeps its state and starts again on the next deployment or with endpoints.start).', z.object({ name: EndpointNameSchema }).strict(), EndpointSummarySchema),
  'endpoints.start': method('Starts a stopped local endpoint with what it served last.', z.object({ name: EndpointNameSchema }).strict(), EndpointSummarySchema),
  'endpoints.history': method(
    'Deployments and rollbacks, newest first.',
    z.object({ name: EndpointNameSchema.optional(), limit: z.number().int().min(1).max(1000).optional() }).strict(),
    z.array(DeploymentRecordSchema),
  ),
  'deploy.run': method(
    'Deploys a model version: writes the signed bundle, then for an endpoint pushes it, checks the signature and health, and sends holdout rows to compare the endpoint\'s answers with the app\'s own.',
    z.object({ model: modelRef, version: z.number().int().positive().optional(), target: DeployTargetSchema }).strict(),
    DeployResultSchema,
  ),
  'deploy.rollback': method(
    'Puts back the bundle an endpoint served before the last deployment.',
    z.object({ endpoint: EndpointNameSchema }).strict(),
    EndpointSummarySchema,
  ),
  'monitor.cycle': method(
    'Polls every endpoint now (or one), as the background scheduler does, and returns each one\'s health, drift verdicts over the last hour and open alerts.',
    z.object({ name: EndpointNameSchema.optional() }).strict(),
    MonitorCycleSchema,
  ),
  'monitor.status': method('Each endpoint\'s health, drift verdict and open alerts as of the last poll, without contacting anyone.', empty, MonitorCycleSchema),
  'monitor.dashboard': method(
    'One endpoint\'s dashboard over a window ending now: traffic, latency, errors and anomalies over time, drift per input and a heat map of inputs by time.',
    z.object({ name: EndpointNameSchema, window: z.enum(MONITOR_WINDOWS).optional() }).strict(),
    EndpointDashboardSchema,
  ),
  'monitor.input': method(
    'An input\'s live histogram over the training one, with its drift statistics.',
    z.object({ name: EndpointNameSchema, input: z.string().min(1).max(500), window: z.enum(MONITOR_WINDOWS).optional() }).strict(),
    InputHistogramSchema,
  ),
  'monitor.settings': method('How often endpoints are polled, and the alert rules.', empty, MonitorSettingsSchema),
  'monitor.configure': method('Changes how often endpoints are polled or the alert rules (audited).', MonitorSettingsSchema.partial().strict(), MonitorSettingsSchema),
  'alerts.list': method(
    'Alerts, newest first: firing ones, or all.',
    z.object({ endpoint: EndpointNameSchema.optional(), all: z.boolean().optional(), limit: z.number().int().min(1).max(1000).optional() }).strict(),
    z.array(AlertSchema),
  ),
  'alerts.acknowledge': method('Marks an alert as seen by the person (audited); it stays until its condition clears.', z.object({ id: z.number().int().positive() }).strict(), AlertSchema),
  'alerts.snooze': method(
    'Silences an alert\'s notifications for a while (audited).',
    z.object({ id: z.number().int().positive(), minutes: z.number().int().min(1).max(10_080) }).strict(),
    AlertSchema,
  ),
  'feedback.inbox': method('The episodes the last prompt asked about that are still unanswered (at most five, most informative first), and when the next prompt is due.', empty, InboxSchema),
  'feedback.list': method(
    'Episodes, newest first: unanswered ones, answered ones, or all; optionally of one model or endpoint.',
    z
      .object({
        status: z.enum(['unanswered', 'answered', 'all']).optional(),
        model: modelRef.optional(),
        endpoint: EndpointNameSchema.optional(),
        limit: z.number().int().min(1).max(10_000).optional(),
      })
      .strict(),
    z.array(EpisodeSchema),
  ),
  'feedback.get': method('One episode with the chart its card shows and the history of its answers.', z.object({ id: z.number().int().positive() }).strict(), EpisodeDetailSchema),
  'feedback.answer': method(
    'Answers an episode (real problem with a cause, normal operation, or not sure), with an optional comment; stored with who and when, and can be changed (audited).',
    z
      .object({
        id: z.number().int().positive(),
        verdict: z.enum(VERDICTS),
        cause: z.string().trim().min(1).max(200).optional(),
        comment: z.string().max(2000).optional(),
      })
      .strict(),
    EpisodeSchema,
  ),
  'feedback.causes': method('Causes given before, most used first, for the cause picker.', z.object({ model: modelRef.optional() }).strict(), z.array(z.object({ cause: z.string(), count: z.number().int() }))),
  'feedback.scan': method(
    'Groups anomaly events not yet in an episode into episodes now (the monitor does this after every poll).',
    empty,
    z.object({ created: z.number().int(), extended: z.number().int() }),
  ),
  'feedback.prompt': method('Asks now, as the periodic prompt does: picks the episodes to ask about and notifies.', empty, InboxSchema),
  'feedback.settings': method('When prompts come, how many episodes each asks about, and how anomalous rows group into episodes.', empty, FeedbackSettingsSchema),
  'feedback.configure': method('Changes the prompt times or episode grouping (audited).', FeedbackSettingsSchema.partial().strict(), FeedbackSettingsSchema),
  'feedback.addToData': method(
    "Makes a new dataset version with the answers as label columns (feedback_problem: 1 real problem, 0 normal; feedback_cause) over the answered episodes' time ranges, with lineage to the episodes. Default: the newest version of the dataset the model's production version learned from. With an endpoint: only the answers to episodes from that endpoint (one model serving several machines).",
    z.object({ model: modelRef, dataset: z.string().min(1).max(300).optional(), version: z.number().int().positive().optional(), endpoint: EndpointNameSchema.optional() }).strict(),
    LabelsResultSchema,
  ),
  'feedback.suggestions': method(
    'What the answers and monitoring suggest: a new alarm level, a model that names the cause, or retraining on drift.',
    z.object({ model: modelRef.optional() }).strict(),
    z.array(FeedbackSuggestionSchema),
  ),
  'feedback.recalibration': method(
    'The alarm level the answered episodes suggest for a model version (production when none is given), with its effect on those episodes in words.',
    z.object({ model: modelRef, version: z.number().int().positive().optional() }).strict(),
    RecalibrationSchema,
  ),
  'feedback.applyThreshold': method(
    'Makes a new model version that is the given one with another alarm level (same learner, new ONNX graph) and marks it challenger; audited with the reason.',
    z.object({ model: modelRef, version: z.number().int().positive().optional(), threshold: z.number().finite(), reason: z.string().trim().min(1).max(2000) }).strict(),
    ModelVersionSchema,
  ),
  'retrain.start': method(
    "Starts a job that trains a challenger with the production version's settings on the newest version of its dataset (or the one given), learning from the feedback labels when the version has them; the new version is marked challenger.",
    z.object({ model: modelRef, dataset: z.string().min(1).max(300).optional(), version: z.number().int().positive().optional(), timeBudgetSeconds: z.number().int().min(TIME_BUDGET.min).max(TIME_BUDGET.max).optional() }).strict(),
    JobInfoSchema,
  ),
  'challenger.report': method('Production beside its challenger: the same holdout, the answered episodes, and any shadow run.', z.object({ model: modelRef }).strict(), ChallengerReportSchema),
  'challenger.promote': method(
    'Makes the challenger the production version (audited with the reason), ends its shadow runs, and deploys it to the endpoints that served production.',
    z.object({ model: modelRef, reason: z.string().trim().min(1).max(2000), deploy: z.boolean().optional() }).strict(),
    ModelVersionSchema,
  ),
  'challenger.discard': method('Drops the challenger mark and ends its shadow runs (audited with the reason); the version stays in the registry.', z.object({ model: modelRef, reason: z.string().trim().min(1).max(2000) }).strict(), ModelVersionSchema),
  'shadow.start': method(
    "Runs a model version (the challenger when none is given) in shadow on an endpoint: both score every request, only production answers, both outputs are kept for comparison.",
    z.object({ endpoint: EndpointNameSchema, model: modelRef.optional(), version: z.number().int().positive().optional() }).strict(),
    ShadowSummarySchema,
  ),
  'shadow.stop': method('Ends the shadow run on an endpoint.', z.object({ endpoint: EndpointNameSchema }).strict(), z.object({ endpoint: z.string(), stopped: z.boolean() })),
  'shadow.status': method('The shadow run on an endpoint so far (null when none).', z.object({ endpoint: EndpointNameSchema }).strict(), ShadowSummarySchema.nullable()),
  'sources.list': method('OPC UA servers and MQTT brokers saved in the workspace (passwords never returned).', empty, z.array(SourceSchema)),
  'sources.test': method(
    'Connects once to a source (saved, or settings not yet saved) and says in plain words whether it works; an OPC UA certificate not yet trusted comes back to be decided about.',
    z
      .object({
        source: z.number().int().positive().optional(),
        settings: SourceSettingsSchema.optional(),
        /** Used instead of the saved one; never stored by this call. */
        password: z.string().max(1000).optional(),
      })
      .strict(),
    ConnectResultSchema,
  ),
  'sources.save': method(
    'Saves a source (new without id), its password sealed outside the database in clear (audited). password: undefined keeps the saved one, null removes it.',
    z
      .object({
        id: z.number().int().positive().optional(),
        name: SourceNameSchema,
        settings: SourceSettingsSchema,
        password: z.string().max(1000).nullable().optional(),
      })
      .strict(),
    SourceSchema,
  ),
  'sources.remove': method('Removes a saved source and its sealed password (recordings made from it stay).', z.object({ id: z.number().int().positive() }).strict(), z.object({ ok: z.literal(true) })),
  'sources.trust': method(
    "Trusts (or refuses) an OPC UA server's certificate: an explicit decision by a person, audited. The thumbprint must be the one the server presents now.",
    z.object({ source: z.number().int().positive().optional(), settings: SourceSettingsSchema.optional(), thumbprint: z.string().min(1).max(200), trust: z.boolean() }).strict(),
    ConnectResultSchema,
  ),
  'sources.browse': method(
    "A source's tags: OPC UA browses the address space (children of `parent`, the Objects folder by default) or searches it by name; MQTT listens to the topic filter for a few seconds and lists the topics and fields heard.",
    z
      .object({
        source: z.number().int().positive(),
        parent: z.string().max(2000).optional(),
        search: z.string().trim().max(200).optional(),
        /** MQTT: how long to listen (default 3 s). */
        listenMs: z.number().int().min(200).max(30_000).optional(),
      })
      .strict(),
    BrowseResultSchema,
  ),
  'sources.read': method('The current values of tags of a source (for live values while picking).', z.object({ source: z.number().int().positive(), tags: z.array(z.string().min(1).max(2000)).min(1).max(500) }).strict(), z.array(LiveValueSchema)),
  'recordings.list': method('Recordings in the workspace, newest first.', empty, z.array(RecordingSchema)),
  'recordings.get': method('One recording.', z.object({ id: z.number().int().positive() }).strict(), RecordingSchema),
  'recordings.start': method(
    'Starts recording tags of a source into a buffer on disk, in the background, until the duration is over or it is stopped (audited).',
    z
      .object({
        source: z.number().int().positive(),
        name: z.string().trim().min(1).max(200).optional(),
        tags: z.array(TagSchema).min(1).max(500),
        intervalMs: z.number().int().min(RECORDING_INTERVAL.min).max(RECORDING_INTERVAL.max).default(RECORDING_INTERVAL.default),
        /** null or absent: until stopped. */
        durationMs: z.number().int().min(1000).max(366 * 86_400_000).nullable().optional(),
      })
      .strict(),
    RecordingSchema,
  ),
  'recordings.stop': method('Stops a recording; what it recorded stays.', z.object({ id: z.number().int().positive() }).strict(), RecordingSchema),
  'recordings.live': method(
    "A recording's newest values per tag (sparklines), counts and gaps.",
    z.object({ id: z.number().int().positive(), points: z.number().int().min(2).max(2000).default(120) }).strict(),
    RecordingLiveSchema,
  ),
  'recordings.overview': method(
    "The lowest and highest value of each tag (or of one, by its id) in equal time buckets over the whole recording, with its gaps: the trend to pick a range to save from. A long recording is read in evenly spaced stretches (sampled).",
    z.object({ id: z.number().int().positive(), points: z.number().int().min(10).max(4000).default(1000), tag: z.string().min(1).max(2000).optional() }).strict(),
    RecordingOverviewSchema,
  ),
  'recordings.save': method(
    'Starts a job that saves a time range of a recording (all of it by default) as a new dataset version, one column per tag on a regular time grid, with lineage to the source and tags.',
    z
      .object({
        id: z.number().int().positive(),
        name: z.string().trim().min(1).max(200),
        description: z.string().max(2000).optional(),
        /** ISO 8601; default the first and last sample. */
        from: z.string().max(40).optional(),
        to: z.string().max(40).optional(),
        /** Grid width; default the recording's interval. */
        intervalMs: z.number().int().min(RECORDING_INTERVAL.min).max(86_400_000).optional(),
        aggregate: z.enum(['mean', 'last']).default('mean'),
      })
      .strict(),
    JobInfoSchema,
  ),
  'recordings.remove': method('Deletes a stopped recording and its buffer (datasets saved from it stay).', z.object({ id: z.number().int().positive() }).strict(), z.object({ ok: z.literal(true) })),
  'models.predict': method(
    'Answers of a model version (ONNX Runtime) for rows given as objects named by input, with the inputs that pushed each answer most.',
    z
      .object({
        model: modelRef,
        version: z.number().int().positive().optional(),
        rows: z.array(z.record(z.string(), CellSchema)).min(1).max(1000),
        /** Models that read history: the training row before which the past is taken. */
        historyRow: z.number().int().min(0).optional(),
      })
      .strict(),
    z.array(PredictionSchema),
  ),
} as const;

export type ApiSpec = typeof API;
export type MethodName = keyof ApiSpec;
export type Input<K extends MethodName> = z.input<ApiSpec[K]['input']>;
export type ParsedInput<K extends MethodName> = z.output<ApiSpec[K]['input']>;
export type Output<K extends MethodName> = z.output<ApiSpec[K]['output']>;

/** The function table both transports and the CLI dispatch into. */
export type Handlers = { [K in MethodName]: (arg: ParsedInput<K>) => Promise<Output<K>> | Output<K> };

/** A file the core can read: a path on this PC, or an upload kept in the workspace (server mode). */
export interface FileRef {
  path: string;
  fileName: string;
  sizeBytes: number;
}

/** What the renderer calls. Arguments may omit fields that have defaults. */
export interface ApiClient {
  /** Makes a file the person chose or dropped readable by the core: its path in the desktop app, an upload in a browser. */
  fileRef(file: File, onProgress?: (fraction: number) => void): Promise<FileRef>;
  call<K extends MethodName>(name: K, arg: Input<K>): Promise<Output<K>>;
  on<E extends AppEvent['type']>(type: E, listener: (event: Extract<AppEvent, { type: E }>) => void): () => void;
  readonly transport: 'ipc' | 'http';
}

/** Pushed from the core to every open window. */
export type AppEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; message: string }
  | { type: 'command'; id: string }
  /** An alert fired, cleared, or was acknowledged or snoozed. */
  | { type: 'alert'; alert: Alert }
  /** The scheduler polled endpoints: pages showing monitoring data reload. */
  | { type: 'monitor'; endpoints: string[] }
  /** A prompt is due: the Inbox asks about `due` episodes. */
  | { type: 'prompt'; due: number; message: string }
  /** Episodes were found, grown or answered: the Inbox and episode lists reload. */
  | { type: 'feedback' }
  /** A recording started, changed state or stopped: recording pages reload. */
  | { type: 'recording'; id: number };

/** One reply shape for every transport. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(API, name);
}

/**
 * Validates a call's name and argument. Throws `AppError('bad_input')` with a
 * sentence naming the field, so no adapter lets a malformed call reach a service.
 */
export function parseCall<K extends MethodName>(name: unknown, arg: unknown): { name: K; arg: ParsedInput<K> } {
  if (!isMethodName(name)) {
    // Any value may come over IPC; String() of {toString: null} would throw.
    const shown = typeof name === 'string' ? name.slice(0, 80) : name === null ? 'null' : typeof name;
    throw new AppError('unknown_method', `There is no action called "${shown}".`);
  }
  const schema = API[name].input;
  const result = schema.safeParse(arg === undefined ? {} : arg, { reportInput: true });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]].map(String).join('.') : issue.path.map(String).join('.');
    throw new AppError('bad_input', `${name}: ${describeIssue(issue)}`, field || undefined);
  }
  return { name: name as K, arg: result.data as ParsedInput<K> };
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
};

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? `"${issue.path.map(String).join('.')}"` : 'the argument';
  switch (issue.code) {
    case 'invalid_type':
      return `${field} must be ${TYPE_WORDS[issue.expected] ?? issue.expected} (got ${show(issue.input)}).`;
    case 'too_small':
      return issue.origin === 'string'
        ? `${field} must not be empty.`
        : issue.origin === 'array'
          ? `${field} must have at least ${String(issue.minimum)} items.`
          : `${field} must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${String(issue.minimum)} (got ${show(issue.input)}).`;
    case 'too_big':
      return issue.origin === 'string'
        ? `${field} must be at most ${String(issue.maximum)} characters.`
        : issue.origin === 'array'
          ? `${field} must have at most ${String(issue.maximum)} items.`
          : `${field} must be ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)} (got ${show(issue.input)}).`;
    case 'unrecognized_keys':
      return `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}.`;
    case 'invalid_value':
      return `${field} must be one of ${issue.values.map((v) => `"${String(v)}"`).join(', ')} (got ${show(issue.input)}).`;
    default:
      return `${field}: ${issue.message}.`;
  }
}
