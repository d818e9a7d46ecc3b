import type { ColumnData, ColumnSchema } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import { LABEL_COLUMNS, VERDICT_TITLES, type LabelsResult, type Verdict } from '../../../shared/feedback';
import { contentHashOf, loadColumn, storeColumns, type StoredColumn } from '../datasets/column-store';
import { findVersion, recordVersion, type VersionRecord } from '../datasets/versions';
import { findModelVersion, type ModelVersionRecord } from '../training/models';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';

/** An answered episode as the learning side reads it: its time range in epoch ms (data time) and its answer. */
export interface AnsweredEpisode {
  id: number;
  model: string;
  version: number;
  start: number;
  end: number;
  peakScore: number;
  verdict: Verdict;
  cause: string | null;
  answeredBy: string | null;
  answeredAt: string | null;
}

interface EpisodeRow {
  id: number;
  model: string;
  version: number;
  start_at: string;
  end_at: string;
  peak_score: number;
  verdict: Verdict;
  cause: string | null;
  answered_by: string | null;
  answered_at: string | null;
}

/**
 * Causes that differ only in case are one cause, written as it was first
 * given (the earliest answer): lower-cased cause → that spelling.
 */
export function causeSpellings(episodes: readonly AnsweredEpisode[]): Map<string, string> {
  const out = new Map<string, string>();
  const byAnswer = episodes.filter((e) => e.verdict === 'real' && e.cause).sort((a, b) => (a.answeredAt ?? '').localeCompare(b.answeredAt ?? '') || a.id - b.id);
  for (const e of byAnswer) {
    const k = e.cause!.toLocaleLowerCase();
    if (!out.has(k)) out.set(k, e.cause!);
  }
  return out;
}

/** The answered episodes of a model (of one of its versions when given), oldest first. */
export function answeredEpisodes(db: ReadableDb, model: string, version?: number, endpoint?: string): AnsweredEpisode[] {
  const rows = db
    .prepare(
      `SELECT id, model, version, start_at, end_at, peak_score, verdict, cause, answered_by, answered_at FROM episodes
        WHERE model = ? AND verdict IS NOT NULL ${version === undefined ? '' : 'AND version = ?'} ${endpoint === undefined ? '' : 'AND endpoint = ?'} ORDER BY start_at, id`,
    )
    .all(model, ...(version === undefined ? [] : [version]), ...(endpoint === undefined ? [] : [endpoint])) as EpisodeRow[];
  return rows.map((r) => ({
    id: r.id,
    model: r.model,
    version: r.version,
    start: Date.parse(r.start_at),
    end: Date.parse(r.end_at),
    peakScore: r.peak_score,
    verdict: r.verdict,
    cause: r.cause,
    answeredBy: r.answered_by,
    answeredAt: r.answered_at,
  }));
}

/** The production version of a model, or its newest version when none is production. */
export function productionOrNewest(db: ReadableDb, model: string): ModelVersionRecord {
  const newest = findModelVersion(db, model);
  return newest.aliases.includes('production') ? newest : productionOf(db, newest.model) ?? newest;
}

/** The production version, or null when the model has none. */
export function productionOf(db: ReadableDb, model: string): ModelVersionRecord | null {
  try {
    return findModelVersion(db, model, 'production');
  } catch (e) {
    if (e instanceof AppError && e.code === 'not_found' && e.field === 'version') return null;
    throw e;
  }
}

/** What a labelled dataset version keeps in its settings: where it came from and the answers it holds. */
export interface LabelSettings {
  labelsFrom: {
    dataset: string;
    version: number;
    model: string;
    /** Only the answers from this endpoint went in (null: from everywhere). */
    endpoint?: string | null;
    episodes: { id: number; verdict: Verdict; cause: string | null; start: string; end: string; answeredBy: string | null; answeredAt: string | null }[];
  };
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** What feedback_cause holds on rows answered "normal operation". */
export const NORMAL_CAUSE = VERDICT_TITLES.normal;

/**
 * Where each row stands by the answers: 1 real, 0 normal, NaN elsewhere;
 * a row in a real episode and a normal one is real (the problem was seen).
 * Rows in "not sure" episodes stay missing and are only counted.
 */
export function labelRows(time: Float64Array, episodes: AnsweredEpisode[]): { problem: Float64Array; cause: Int32Array; causes: string[]; counts: LabelsResult['labelled']; used: AnsweredEpisode[] } {
  const problem = new Float64Array(time.length).fill(NaN);
  const cause = new Int32Array(time.length).fill(-1);
  const unsure = new Uint8Array(time.length);
  const causes: string[] = [];
  const used: AnsweredEpisode[] = [];
  // Rows in time order (rows without a time take no label), so each episode finds its rows by bisection.
  const byTime = Uint32Array.from(Array.from(time.keys()).filter((i) => !Number.isNaN(time[i]!))).sort((a, b) => time[a]! - time[b]! || a - b);
  const sorted = Float64Array.from(byTime, (i) => time[i]!);
  // Normal first, then real over it, so real wins where they overlap.
  const order = [...episodes].sort((a, b) => rankOf(a.verdict) - rankOf(b.verdict));
  const spelling = causeSpellings(episodes);
  for (const e of order) {
    const [from, to] = timeSpan(sorted, e.start, e.end);
    if (from >= to) continue;
    used.push(e);
    let code = -1;
    if (e.verdict === 'real' && e.cause) {
      const name = spelling.get(e.cause.toLocaleLowerCase())!;
      code = causes.indexOf(name);
      if (code < 0) code = causes.push(name) - 1;
    }
    for (let k = from; k < to; k++) {
      const i = byTime[k]!;
      if (e.verdict === 'unsure') unsure[i] = 1;
      else if (e.verdict === 'normal') problem[i] = 0;
      else {
        problem[i] = 1;
        cause[i] = code;
      }
    }
  }
  const counts = { real: 0, normal: 0, unsure: 0 };
  let normalCode = -1;
  for (let i = 0; i < time.length; i++) {
    if (problem[i] === 1) counts.real++;
    else if (problem[i] === 0) {
      counts.normal++;
      // Normal rows name their "cause" too, so a model trained on the cause column tells each cause from normal operation (one confirmed cause alone would leave it a single class).
      if (normalCode < 0) normalCode = causes.indexOf(NORMAL_CAUSE) >= 0 ? causes.indexOf(NORMAL_CAUSE) : causes.push(NORMAL_CAUSE) - 1;
      cause[i] = normalCode;
    } else if (unsure[i]) counts.unsure++;
  }
  return { problem, cause, causes, counts, used: used.sort((a, b) => a.start - b.start || a.id - b.id) };
}

/** The rows [from, to) of ascending times that lie within [start, end]. */
export function timeSpan(sorted: Float64Array, start: number, end: number): [number, number] {
  const bound = (ok: (t: number) => boolean) => {
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ok(sorted[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return [bound((t) => t < start), bound((t) => t <= end)];
}

function rankOf(v: Verdict): number {
  return v === 'unsure' ? 0 : v === 'normal' ? 1 : 2;
}

/** The dataset version answers go into by default: the newest version of the dataset the production version (or the newest) learned from. */
function defaultTarget(ws: Workspace, model: string, dataset?: string, version?: number): VersionRecord {
  if (dataset) return findVersion(ws.db, dataset, version);
  const v = productionOrNewest(ws.db, model);
  return findVersion(ws.db, v.dataset, version);
}

/**
 * "Add my answers to the data" (DESIGN.md section 10): a new, immutable
 * version of the dataset with the answers as two columns over the answered
 * episodes' time ranges. Columns added before are replaced, so answering
 * again and adding again never stacks copies. Unchanged columns keep their
 * blobs; the version's settings name the parent version and every episode a
 * label came from.
 */
export function addAnswersToData(ws: Workspace, a: { model: string; dataset?: string; version?: number; endpoint?: string }): LabelsResult {
  const model = findModelVersion(ws.db, a.model).model;
  const parent = defaultTarget(ws, model, a.dataset, a.version);
  const ref = `${parent.datasetName}@${parent.version}`;
  if (!parent.timeColumn) {
    throw new AppError('bad_input', `Dataset ${ref} has no time column, so answers (which are about stretches of time) cannot be placed on its rows. Choose a dataset with a time column.`, 'dataset');
  }
  // One model serving several machines: the rows of one machine's dataset take only that machine's answers.
  const episodes = answeredEpisodes(ws.db, model, undefined, a.endpoint);
  if (!episodes.length && a.endpoint !== undefined) {
    throw new AppError('bad_input', `No episode of "${model}" from endpoint "${a.endpoint}" has been answered yet. Answer some in the Inbox first, or leave the endpoint out to use the answers from everywhere.`, 'endpoint');
  }
  if (!episodes.length) throw new AppError('bad_input', `No episode of "${model}" has been answered yet. Answer some in the Inbox first.`, 'model');
  const time = loadColumn(ws.blobs, parent.schema.find((c) => c.name === parent.timeColumn)!, parent.rowCount) as Extract<ColumnData, { values: Float64Array }>;
  const labels = labelRows(time.values, episodes);
  if (!labels.used.length) {
    const range = parent.timeStart !== null && parent.timeEnd !== null ? ` (${day(parent.timeStart)} – ${day(parent.timeEnd)})` : '';
    throw new AppError(
      'bad_input',
      `None of the ${plural(episodes.length, 'answered episode')} of "${model}" falls within the time range of dataset ${ref}${range}. Import the data that covers them as a new version of the dataset first.`,
      'dataset',
    );
  }

  const replaced = new Set<string>([LABEL_COLUMNS.problem, LABEL_COLUMNS.cause]);
  const kept = parent.schema.filter((c) => !replaced.has(c.name));
  const added: ColumnSchema[] = [
    { name: LABEL_COLUMNS.problem, type: 'integer', unit: null, header: LABEL_COLUMNS.problem },
    { name: LABEL_COLUMNS.cause, type: 'category', unit: null, header: LABEL_COLUMNS.cause },
  ];
  // The parent's other columns are stored already (and referenced by it): only the label columns are new.
  const keptStored: StoredColumn[] = kept.map((c) => ({ name: c.name, type: c.type, unit: c.unit, header: c.header, blob: c.blob, ...(c.dictionary ? { dictionary: c.dictionary } : {}) }));
  const columns: ColumnData[] = [
    { type: 'integer', values: labels.problem },
    { type: 'category', codes: labels.cause, dictionary: labels.causes },
  ];
  const settings: LabelSettings = {
    labelsFrom: {
      dataset: parent.datasetName,
      version: parent.version,
      model,
      endpoint: a.endpoint ?? null,
      episodes: labels.used.map((e) => ({ id: e.id, verdict: e.verdict, cause: e.cause, start: new Date(e.start).toISOString(), end: new Date(e.end).toISOString(), answeredBy: e.answeredBy, answeredAt: e.answeredAt })),
    },
  };
  // Columns written and recorded under the write lock: a sweep of unreferenced blobs (blob-sweep.ts) cannot come in between.
  const { record, created } = ws.db.transaction(() => {
    const stored = [...keptStored, ...storeColumns(ws.blobs, added, columns, parent.rowCount).stored];
    const contentHash = contentHashOf(stored, parent.rowCount);
    const r = recordVersion(ws, {
      datasetName: parent.datasetName,
      contentHash,
      rowCount: parent.rowCount,
      schema: stored,
      settings: { ...parent.settings, ...settings },
      sources: parent.sources,
      report: { problems: [], rejectedRows: 0, choices: {} },
      profileBlob: null,
      timeColumn: parent.timeColumn,
      timeStart: parent.timeStart,
      timeEnd: parent.timeEnd,
    });
    ws.audit.record('feedback.labels', {
      model,
      dataset: parent.datasetName,
      from: parent.version,
      endpoint: a.endpoint ?? null,
      version: r.record.version,
      created: r.created,
      episodes: labels.used.map((e) => e.id),
      rows: labels.counts,
    });
    return r;
  }).immediate();
  const n = labels.used.length;
  const { real, normal } = labels.counts;
  const what = created ? `Made ${record.datasetName} version ${record.version} from version ${parent.version}` : `${record.datasetName} version ${record.version} already holds these answers`;
  const sentence = `${what}: ${plural(n, 'answered episode')}${a.endpoint !== undefined ? ` from ${a.endpoint}` : ''} mark ${plural(real, 'row')} as a real problem and ${plural(normal, 'row')} as normal operation in "${LABEL_COLUMNS.problem}"${labels.causes.length ? `, with the cause in "${LABEL_COLUMNS.cause}"` : ''}.`;
  return {
    dataset: record.datasetName,
    version: record.version,
    rows: record.rowCount,
    labelled: labels.counts,
    episodes: n,
    columns: [LABEL_COLUMNS.problem, LABEL_COLUMNS.cause],
    sentence,
  };
}
