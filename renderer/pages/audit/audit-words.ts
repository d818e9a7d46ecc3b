/**
 * The audit log in plain words: one sentence per entry ("Moved production of
 * P-101 trips from version 2 to 3: Retrained with April data"), what it is
 * about, and the remaining details without raw JSON. Pure, so it is unit tested.
 */
import type { AuditEntry } from '../../../shared/api';
import { ALGORITHM_TITLES, ANOMALY_LABELLED_METRIC, RANKING_METRIC } from '../../../shared/training';

export interface AboutRef {
  kind: 'model' | 'dataset' | 'useCase';
  name: string;
}

export interface AuditWords {
  sentence: string;
  /** The datasets, models and use cases the entry is about, for the "About" column. */
  about: AboutRef[];
  /** What the sentence leaves out, as "label value · label value"; '' when nothing is left. */
  details: string;
}

/** The kinds the audit log can be filtered by: an action prefix ("model") or one exact action ("model.alias"). */
export const AUDIT_KINDS: readonly { value: string; label: string }[] = [
  { value: '', label: 'Everything' },
  { value: 'dataset', label: 'Data imports' },
  { value: 'model', label: 'Models' },
  { value: 'model.alias', label: 'Production and challenger moves' },
  { value: 'usecase', label: 'Use cases' },
  { value: 'job', label: 'Background tasks' },
  { value: 'workspace', label: 'Workspace' },
];

/** What a background task does, after "Started" or "Cancelled". */
export const JOB_WORDS: Record<string, string> = {
  'system.check': 'a check of this PC',
  'samples.add': 'adding sample data',
  'imports.analyze': 'reading files to import',
  'imports.save': 'saving an import',
  'datasets.profile': 'working out column statistics',
  'models.train': 'training a model',
  'models.score': 'scoring a file',
  'models.reproduce': 'reproducing a model version',
};

type Details = Record<string, unknown>;

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
/** "…: reason" when there is a reason. */
const because = (reason: unknown) => (text(reason) ? `: ${text(reason)}` : '');
/** The last part of a file path, either separator. */
const fileName = (p: string) => p.split(/[\\/]/).pop() ?? p;

function humanKey(key: string): string {
  const words = key.replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.replace(/\bonnx\b/g, 'ONNX').replace(/\bid\b/g, 'ID');
}

/** A value as it reads in a sentence: long hashes shortened, numbers rounded, lists joined. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return /^[0-9a-f]{40,}$/i.test(v) ? `${v.slice(0, 12)}…` : v;
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(Number(v.toPrecision(3)));
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.map(showValue).filter(Boolean).join(', ');
  if (typeof v === 'object') {
    return Object.entries(v as Details)
      .map(([k, x]) => `${humanKey(k)} ${showValue(x)}`.trim())
      .join(', ');
  }
  return String(v);
}

/** Details not used by the sentence, in the order they were recorded. */
export function restOf(details: Details, used: readonly string[]): string {
  return Object.entries(details)
    .filter(([k, v]) => !used.includes(k) && v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${humanKey(k)} ${showValue(v)}`.trim())
    .join(' · ');
}

interface Said {
  sentence: string;
  about?: AboutRef[];
  /** Keys of the details the sentence says (or that are not worth showing). */
  used: string[];
  /** Replaces the generic rest of the details. */
  details?: string;
}

const model = (d: Details): AboutRef[] => (text(d.model) ? [{ kind: 'model', name: text(d.model)! }] : []);
const dataset = (name: unknown): AboutRef[] => (text(name) ? [{ kind: 'dataset', name: text(name)! }] : []);
const caseRef = (name: unknown): AboutRef[] => (text(name) ? [{ kind: 'useCase', name: text(name)! }] : []);
const versionOf = (d: Details, key = 'version') => `version ${showValue(d[key])} of ${text(d.model) ?? 'a model'}`;

function alias(d: Details): Said {
  const name = text(d.model) ?? 'a model';
  // "production" reads as a place, "the challenger" as a role.
  const which = d.alias === 'challenger' ? 'the challenger' : (text(d.alias) ?? 'an alias');
  const from = num(d.from);
  const to = num(d.to);
  const sentence =
    from !== null && to !== null
      ? `Moved ${which} of ${name} from version ${from} to ${to}`
      : to !== null
        ? `Made version ${to} of ${name} ${which}`
        : `Took ${which} off version ${from ?? '?'} of ${name}`;
  return { sentence: sentence + because(d.reason), about: model(d), used: ['model', 'alias', 'from', 'to', 'reason'] };
}

function caseUpdate(d: Details): Said {
  const before = (d.before ?? {}) as Details;
  const after = (d.after ?? {}) as Details;
  const name = text(after.name) ?? text(d.name) ?? 'a use case';
  const changed = (['goal', 'kpi'] as const).filter((k) => before[k] !== after[k]);
  const renamed = text(before.name) && before.name !== after.name;
  const words = changed.map((k) => (k === 'kpi' ? 'KPI' : 'goal'));
  const parts: string[] = [];
  if (renamed) parts.push(`Renamed the use case ${String(before.name)} to ${name}`);
  if (words.length) parts.push(`${renamed ? 'changed' : 'Changed'} the ${words.join(' and ')}${renamed ? '' : ` of the use case ${name}`}`);
  const sentence = parts.length ? parts.join(' and ') : `Saved the use case ${name} unchanged`;
  const details = changed.map((k) => `${k === 'kpi' ? 'KPI' : 'goal'} “${showValue(before[k])}” → “${showValue(after[k])}”`).join(' · ');
  return { sentence, about: caseRef(name), used: ['id', 'name', 'before', 'after'], details };
}

function jobAbout(params: Details): AboutRef[] {
  if (text(params.modelName) || text(params.model)) return model({ model: params.modelName ?? params.model });
  if (text(params.dataset)) return dataset(params.dataset);
  return [];
}

function say(action: string, d: Details): Said {
  switch (action) {
    case 'model.alias':
      return alias(d);
    case 'model.archive':
      return { sentence: `Archived ${versionOf(d)}${because(d.reason)}`, about: model(d), used: ['model', 'version', 'reason'] };
    case 'model.restore':
      return { sentence: `Restored ${versionOf(d)}`, about: model(d), used: ['model', 'version'] };
    case 'model.create':
      return { sentence: `Created the model ${text(d.name) ?? ''}`.trim(), about: model({ model: d.name }), used: ['id', 'name', 'task'] };
    case 'model.version': {
      const algo = text(d.algorithm);
      const title = algo ? (ALGORITHM_TITLES[algo as keyof typeof ALGORITHM_TITLES] ?? algo) : null;
      // The metric that ranked it (which one depends on the goal, so the first one present), and the run.
      const metrics = (d.metrics && typeof d.metrics === 'object' ? d.metrics : {}) as Record<string, unknown>;
      const ranking = [ANOMALY_LABELLED_METRIC, ...Object.values(RANKING_METRIC)].find((m) => num(metrics[m.key]) !== null);
      const details = [ranking ? `${ranking.label} ${showValue(metrics[ranking.key])}` : '', text(d.run) ? `run ${String(d.run)}` : ''].filter(Boolean).join(' · ');
      return { sentence: `Trained ${versionOf(d)}${title ? ` (${title})` : ''}`, about: model(d), used: ['model', 'version', 'algorithm'], details };
    }
    case 'model.score': {
      const rows = num(d.rows);
      const file = text(d.file);
      return {
        sentence: `Scored ${file ? fileName(file) : 'a file'} with ${versionOf(d)}${rows !== null ? ` (${plural(rows, 'row')})` : ''}`,
        about: model(d),
        used: ['model', 'version', 'file', 'rows', 'out'],
      };
    }
    case 'model.reproduce': {
      const diffs = Array.isArray(d.differences) ? d.differences.map(String) : [];
      const verdict = d.identical === true ? 'identical, same ONNX hash' : `not identical (${plural(diffs.length, 'difference')})`;
      return { sentence: `Reproduced ${versionOf(d)}: ${verdict}`, about: model(d), used: ['model', 'version', 'identical', 'differences'], details: diffs.join(' ') };
    }
    case 'model.export_mlflow':
      return { sentence: `Exported ${versionOf(d)} in MLflow's format`, about: model(d), used: ['model', 'version'] };
    case 'dataset.create':
      return { sentence: `Added the dataset ${text(d.name) ?? ''}`.trim(), about: dataset(d.name), used: ['id', 'name'] };
    case 'dataset.version': {
      const rows = num(d.rows);
      const files = Array.isArray(d.files) ? d.files.map(String) : [];
      const skipped = num(d.rejectedRows) ?? 0;
      return {
        sentence:
          `Saved version ${showValue(d.version)} of ${text(d.dataset) ?? 'a dataset'}` +
          (rows !== null ? `: ${plural(rows, 'row')}` : '') +
          (files.length ? ` from ${files.join(', ')}` : '') +
          (skipped > 0 ? `, ${plural(skipped, 'row')} skipped` : ''),
        about: dataset(d.dataset),
        used: ['dataset', 'version', 'rows', 'files', 'rejectedRows'],
      };
    }
    case 'usecase.create':
      return { sentence: `Created the use case ${text(d.name) ?? ''}${because(d.goal)}`, about: caseRef(d.name), used: ['id', 'name', 'goal'], details: text(d.kpi) ? `KPI ${String(d.kpi)}` : '' };
    case 'usecase.update':
      return caseUpdate(d);
    case 'usecase.assign': {
      const kind = d.kind === 'dataset' ? 'dataset' : 'model';
      const name = text(d[kind]) ?? `a ${kind}`;
      const thing: AboutRef[] = kind === 'dataset' ? dataset(name) : model({ model: name });
      return text(d.useCase)
        ? { sentence: `Put the ${kind} ${name} under the use case ${String(d.useCase)}`, about: [...caseRef(d.useCase), ...thing], used: ['useCase', 'kind', kind] }
        : { sentence: `Took the ${kind} ${name} out of its use case`, about: thing, used: ['useCase', 'kind', kind] };
    }
    case 'job.start':
    case 'job.cancel': {
      const what = JOB_WORDS[String(d.kind)] ?? (typeof d.kind === 'string' ? d.kind : 'of unknown kind');
      const params = (d.params && typeof d.params === 'object' ? d.params : {}) as Details;
      const about = jobAbout(params);
      return {
        sentence: `${action === 'job.start' ? 'Started' : 'Cancelled'} a task: ${what}${about[0] ? ` (${about[0].name})` : ''}`,
        about,
        used: ['id', 'kind', 'params'],
        details: text(d.id) ? `task ${String(d.id)}` : '',
      };
    }
    case 'jobs.recover': {
      const n = Array.isArray(d.interrupted) ? d.interrupted.length : 0;
      return { sentence: `Marked ${plural(n, 'task')} as interrupted after a restart`, used: ['interrupted'], details: showValue(d.interrupted) };
    }
    case 'workspace.create':
      return { sentence: `Created the workspace${text(d.dir) ? ` in ${String(d.dir)}` : ''}`, used: ['dir'] };
    case 'workspace.backup': {
      const files = num(d.files);
      return { sentence: `Backed up the workspace${text(d.file) ? ` to ${fileName(String(d.file))}` : ''}${files !== null ? ` (${plural(files, 'file')})` : ''}`, used: ['file', 'files'] };
    }
    default:
      return { sentence: action, used: [] };
  }
}

/** One audit entry in plain words. */
export function describeAudit(e: Pick<AuditEntry, 'action' | 'details'>): AuditWords {
  const s = say(e.action, e.details ?? {});
  return { sentence: s.sentence, about: s.about ?? [], details: s.details ?? restOf(e.details ?? {}, s.used) };
}

/** "millwright-audit-2026-04-30.csv": the file name of an export, dated in local time. */
export function csvFileName(now: Date, useCase: string | null): string {
  const day = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
  const part = useCase ? `-${useCase.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '').toLowerCase()}` : '';
  return `millwright-audit${part}-${day}.csv`;
}
