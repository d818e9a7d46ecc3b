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

const id = z.string().min(1).max(100);
const isoTime = z.string();

export const JOB_STATES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const;
export const JobStateSchema = z.enum(JOB_STATES);
export type JobState = z.infer<typeof JobStateSchema>;
export const ACTIVE_JOB_STATES: readonly JobState[] = ['queued', 'running'];

export const JOB_KINDS = ['system.check', 'samples.add'] as const;
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

export const DatasetSummarySchema = z.object({
  id,
  name: z.string(),
  description: z.string(),
  createdAt: isoTime,
  createdBy: z.string(),
  fileName: z.string(),
  fileSha256: z.string(),
  sizeBytes: z.number().int(),
  rows: z.number().int(),
  columns: z.array(z.string()),
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
        action: z.string().max(100).optional(),
        beforeId: z.number().int().positive().optional(),
      })
      .strict(),
    z.array(AuditEntrySchema),
  ),
  'samples.list': method('Sample datasets shipped with the app.', empty, z.array(SampleInfoSchema)),
  'samples.add': method(
    'Starts a job that copies a sample dataset into the workspace.',
    z.object({ id }).strict(),
    JobInfoSchema,
  ),
  'datasets.list': method('Datasets in the workspace, newest first.', empty, z.array(DatasetSummarySchema)),
} as const;

export type ApiSpec = typeof API;
export type MethodName = keyof ApiSpec;
export type Input<K extends MethodName> = z.input<ApiSpec[K]['input']>;
export type ParsedInput<K extends MethodName> = z.output<ApiSpec[K]['input']>;
export type Output<K extends MethodName> = z.output<ApiSpec[K]['output']>;

/** The function table both transports and the CLI dispatch into. */
export type Handlers = { [K in MethodName]: (arg: ParsedInput<K>) => Promise<Output<K>> | Output<K> };

/** What the renderer calls. Arguments may omit fields that have defaults. */
export interface ApiClient {
  call<K extends MethodName>(name: K, arg: Input<K>): Promise<Output<K>>;
  on<E extends AppEvent['type']>(type: E, listener: (event: Extract<AppEvent, { type: E }>) => void): () => void;
  readonly transport: 'ipc' | 'http';
}

/** Pushed from the core to every open window. */
export type AppEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; message: string }
  | { type: 'command'; id: string };

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
    throw new AppError('unknown_method', `There is no action called "${String(name).slice(0, 80)}".`);
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
