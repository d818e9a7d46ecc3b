import crypto from 'node:crypto';
import type { ModelSummary, ModelVersionInfo } from '../../../shared/api';
import { AppError } from '../../../shared/errors';
import { ALGORITHM_TITLES, MODEL_ALIASES, describeEntry, type ModelAlias, type ModelKind, type LeaderboardEntry, type MetricInfo, type Task, type TrainingReport, type TrainSettings } from '../../../shared/training';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';

/** A run's settings as stored: what the person chose, plus the ranking metric and holdout for display. */
export interface RunSettings extends TrainSettings {
  metric: MetricInfo;
  holdout: TrainingReport['holdout'];
  /** A version made from another without training (feedback/recalibrate.ts: another alarm level): which, why, and what changed. */
  derivedFrom?: { version: number; reason: string; change: string };
}

/** What a finished training job hands over to be recorded. */
export interface NewModelVersion {
  modelName: string;
  task: Task;
  datasetVersionId: number;
  jobId: string | null;
  settings: RunSettings;
  appVersion: string;
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  leaderboard: LeaderboardEntry[];
  algorithm: ModelKind;
  metrics: Record<string, number>;
  modelBlob: string;
  modelHash: string;
  reportBlob: string;
}

interface VersionRow {
  id: number;
  model_name: string;
  task: Task;
  version: number;
  run_id: string;
  algorithm: ModelKind;
  metrics: string;
  model_blob: string;
  model_hash: string;
  report_blob: string;
  onnx_blob: string | null;
  onnx_hash: string | null;
  app_version: string;
  archived_at: string | null;
  archived_by: string | null;
  aliases: string | null;
  created_at: string;
  created_by: string;
  settings: string;
  duration_s: number;
  dataset_name: string;
  dataset_version: number;
  leaderboard: string;
}

const SELECT = `
  SELECT mv.*, m.name AS model_name, m.task, r.settings, r.app_version, r.duration_s,
         (SELECT group_concat(a.alias, ',') FROM (SELECT alias FROM model_aliases WHERE model_id = mv.model_id AND version = mv.version ORDER BY alias DESC) a) AS aliases, r.leaderboard, d.name AS dataset_name, dv.version AS dataset_version
    FROM model_versions mv
    JOIN models m ON m.id = mv.model_id
    JOIN training_runs r ON r.id = mv.run_id
    JOIN dataset_versions dv ON dv.id = r.dataset_version_id
    JOIN datasets d ON d.id = dv.dataset_id`;

export interface ModelVersionRecord extends ModelVersionInfo {
  id: number;
  modelBlob: string;
  reportBlob: string;
  settings: RunSettings;
  /** The app version that trained it (written into the ONNX metadata). */
  appVersion: string;
  /** The version's ONNX graph, once written (see scoring/onnx-store.ts). */
  onnxBlob: string | null;
  onnxHash: string | null;
}

function toInfo(r: VersionRow): ModelVersionRecord {
  const settings = JSON.parse(r.settings) as RunSettings;
  const leaderboard = JSON.parse(r.leaderboard) as LeaderboardEntry[];
  const metric = settings.metric;
  const best = leaderboard.find((e) => e.algorithm === r.algorithm && e.status === 'done' && JSON.stringify(e.metrics) === r.metrics) ?? leaderboard.find((e) => e.status === 'done')!;
  const holdout = settings.holdout;
  return {
    id: r.id,
    model: r.model_name,
    version: r.version,
    task: r.task,
    algorithm: r.algorithm,
    algorithmTitle: best?.title ?? ALGORITHM_TITLES[r.algorithm],
    createdAt: r.created_at,
    createdBy: r.created_by,
    dataset: r.dataset_name,
    datasetVersion: r.dataset_version,
    target: settings.target,
    inputs: settings.inputs,
    metric,
    metrics: JSON.parse(r.metrics) as Record<string, number>,
    runId: r.run_id,
    durationSeconds: r.duration_s,
    modelHash: r.model_hash,
    sentence: best ? describeEntry(best, { task: r.task, holdout, target: settings.target }) : '',
    modelBlob: r.model_blob,
    reportBlob: r.report_blob,
    settings,
    appVersion: r.app_version,
    aliases: (r.aliases ? r.aliases.split(',') : []) as ModelAlias[],
    archivedAt: r.archived_at,
    archivedBy: r.archived_by,
    onnxBlob: r.onnx_blob,
    onnxHash: r.onnx_hash,
  };
}


/** Records a trained model as the next version of the named model (creating the model on first training). */
export function recordModelVersion(ws: Workspace, v: NewModelVersion): ModelVersionRecord {
  return ws.db.transaction(() => {
    const now = new Date().toISOString();
    let model = ws.db.prepare('SELECT id, task FROM models WHERE name = ?').get(v.modelName) as { id: string; task: Task } | undefined;
    if (model && model.task !== v.task) {
      throw new AppError('conflict', `A model called "${v.modelName}" already exists for another goal. Choose another name.`, 'model');
    }
    if (!model) {
      model = { id: `mdl_${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`, task: v.task };
      ws.db.prepare('INSERT INTO models (id, name, task, created_at, created_by) VALUES (?, ?, ?, ?, ?)').run(model.id, v.modelName, v.task, now, ws.who);
      ws.audit.record('model.create', { id: model.id, name: v.modelName, task: v.task });
    }
    const runId = `run_${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
    ws.db
      .prepare(
        `INSERT INTO training_runs (id, model_id, dataset_version_id, job_id, settings, seed, app_version, started_at, ended_at, duration_s, leaderboard, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(runId, model.id, v.datasetVersionId, v.jobId, JSON.stringify(v.settings), v.settings.seed, v.appVersion, v.startedAt, v.endedAt, v.durationSeconds, JSON.stringify(v.leaderboard), ws.who);
    const prev = ws.db.prepare('SELECT MAX(version) AS v FROM model_versions WHERE model_id = ?').get(model.id) as { v: number | null };
    const version = (prev.v ?? 0) + 1;
    const info = ws.db
      .prepare(
        `INSERT INTO model_versions (model_id, version, run_id, algorithm, metrics, model_blob, model_hash, report_blob, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(model.id, version, runId, v.algorithm, JSON.stringify(v.metrics), v.modelBlob, v.modelHash, v.reportBlob, now, ws.who);
    ws.audit.record('model.version', { model: v.modelName, version, run: runId, algorithm: v.algorithm, metrics: v.metrics, modelHash: v.modelHash });
    return toInfo(ws.db.prepare(`${SELECT} WHERE mv.id = ?`).get(Number(info.lastInsertRowid)) as VersionRow);
  })();
}

/**
 * Finds a model version by "name", "name@3", "name@production" or a model id.
 * Without a version: the newest one that is not archived (the newest of all
 * when every version is archived).
 */
export function findModelVersion(db: ReadableDb, ref: string, version?: number | ModelAlias): ModelVersionRecord {
  const byName = (n: string) => db.prepare('SELECT id, name FROM models WHERE name = ? OR id = ?').get(n, n) as { id: string; name: string } | undefined;
  let m = byName(ref);
  let name = ref;
  let wanted: number | ModelAlias | undefined = version;
  const at = /^(.*)@(\d+|production|challenger)$/.exec(ref);
  if (!m && at) {
    name = at[1]!;
    wanted = version ?? (/^\d+$/.test(at[2]!) ? Number(at[2]) : (at[2] as ModelAlias));
    m = byName(name);
  }
  if (!m) throw new AppError('not_found', `There is no model called "${name}". Run "millwright models" to see the names.`, 'model');
  if (typeof wanted === 'string') {
    const a = db.prepare('SELECT version FROM model_aliases WHERE model_id = ? AND alias = ?').get(m.id, wanted) as { version: number } | undefined;
    if (!a) throw new AppError('not_found', `Model "${m.name}" has no ${wanted} version yet. Set one with: millwright promote "${m.name}@VERSION" --alias ${wanted} --reason "…"`, 'version');
    wanted = a.version;
  }
  const row = (
    wanted === undefined
      ? db.prepare(`${SELECT} WHERE mv.model_id = ? ORDER BY mv.archived_at IS NOT NULL, mv.version DESC LIMIT 1`).get(m.id)
      : db.prepare(`${SELECT} WHERE mv.model_id = ? AND mv.version = ?`).get(m.id, wanted)
  ) as VersionRow | undefined;
  if (!row) throw new AppError('not_found', wanted === undefined ? `Model "${m.name}" has no version yet.` : `Model "${m.name}" has no version ${wanted}.`, 'version');
  return toInfo(row);
}

export function publicInfo(r: ModelVersionRecord): ModelVersionInfo {
  const { id: _id, modelBlob: _m, reportBlob: _r, settings: _s, onnxBlob: _o, ...rest } = r;
  return rest;
}

export function listModels(db: ReadableDb): ModelSummary[] {
  const models = db.prepare('SELECT id, name, task, created_at, created_by FROM models').all() as { id: string; name: string; task: Task; created_at: string; created_by: string }[];
  const out: ModelSummary[] = [];
  for (const m of models) {
    const rows = db.prepare(`${SELECT} WHERE mv.model_id = ? ORDER BY mv.version DESC`).all(m.id) as VersionRow[];
    if (!rows.length) continue;
    const aliases = Object.fromEntries(MODEL_ALIASES.map((a) => [a, rows.find((r) => r.aliases?.split(',').includes(a))?.version ?? null])) as Record<ModelAlias, number | null>;
    const live = rows.find((r) => !r.archived_at) ?? rows[0]!;
    out.push({ id: m.id, name: m.name, task: m.task, createdAt: m.created_at, createdBy: m.created_by, latest: publicInfo(toInfo(live)), versions: rows.length, ...aliases });
  }
  return out.sort((a, b) => (a.latest.createdAt < b.latest.createdAt ? 1 : a.latest.createdAt > b.latest.createdAt ? -1 : 0));
}

export function getModel(db: ReadableDb, ref: string): { model: ModelSummary; versions: ModelVersionInfo[] } {
  const latest = findModelVersion(db, ref);
  const model = listModels(db).find((m) => m.name === latest.model)!;
  const rows = db.prepare(`${SELECT} WHERE m.name = ? ORDER BY mv.version DESC`).all(latest.model) as VersionRow[];
  return { model, versions: rows.map((r) => publicInfo(toInfo(r))) };
}
