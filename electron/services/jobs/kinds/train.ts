import crypto from 'node:crypto';
import path from 'node:path';
import type { TrainingReport, TrainSettings } from '../../../../shared/training';
import type { StoredColumn } from '../../datasets/column-store';
import { trainAutoml, type Candidate } from '../../training/automl';
import { loadFrame } from '../../training/frame';
import { recordModelVersion, type RunSettings } from '../../training/models';
import { buildReport } from '../../training/report';
import { modelOnnx } from '../../scoring/onnx-store';
import { setAlias } from '../../registry/aliases';
import { BlobStore } from '../../workspace/blobs';
import type { JobContext, JobKindDef } from '../job-kind';

export interface TrainParams {
  versionId: number;
  dataset: string;
  version: number;
  rowCount: number;
  schema: StoredColumn[];
  modelName: string;
  settings: TrainSettings;
  appVersion: string;
  jobId?: string;
  /** Retraining (feedback/retrain.ts): the new version is marked challenger with this reason. */
  challenger?: { reason: string };
}

export interface TrainRunResult {
  modelBlob: string;
  modelHash: string;
  reportBlob: string;
  report: TrainingReport;
  settings: RunSettings;
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
}

export interface TrainJobResult {
  model: string;
  version: number;
  run: string;
  modelHash: string;
  /** sha256 of the version's ONNX graph. */
  onnxHash: string;
  report: TrainingReport;
}

/**
 * Loads the dataset version, trains (AutoML within the budget, or exactly the
 * given candidates when reproducing), and writes the model and report blobs.
 */
export function trainFromParams(ctx: JobContext, p: TrainParams, candidates?: Candidate[]): TrainRunResult {
  const started = Date.now();
  const blobs = new BlobStore(path.join(ctx.workspaceDir, 'blobs'), path.join(ctx.workspaceDir, 'tmp'));
  const s = p.settings;
  ctx.progress(0, 'Loading data…');
  const names = [...s.inputs, ...(s.target ? [s.target] : []), ...(s.labelColumn ? [s.labelColumn] : [])];
  const frame = loadFrame(blobs, p.schema, p.rowCount, names, s.timeColumn);
  const outcome = trainAutoml(
    frame,
    s,
    {
      progress: (f, m) => ctx.progress(Math.min(0.95, f), m),
      throwIfCancelled: () => ctx.throwIfCancelled(),
      now: () => performance.now(),
    },
    candidates ? { candidates } : {},
  );
  ctx.progress(0.95, 'Writing the report…');
  const report = buildReport(outcome, frame, s);
  const modelJson = JSON.stringify(outcome.pipeline);
  const ended = Date.now();
  return {
    modelBlob: blobs.put(modelJson),
    modelHash: crypto.createHash('sha256').update(modelJson).digest('hex'),
    reportBlob: blobs.put(JSON.stringify(report)),
    report,
    settings: { ...s, metric: outcome.metric, holdout: report.holdout },
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(ended).toISOString(),
    durationSeconds: (ended - started) / 1000,
  };
}

/**
 * Trains within the time budget in a worker and records the best model as a
 * new version. The fitted pipeline and the report are blobs; the same
 * dataset version, settings, seed and app version give the same model bytes.
 */
export const modelsTrain: JobKindDef<TrainParams, TrainRunResult> = {
  kind: 'models.train',
  title: (p) => `Training "${p.modelName}" on ${p.dataset}`,
  run(ctx, p) {
    return trainFromParams(ctx, p);
  },
  commit(ws, p, r): TrainJobResult {
    const best = r.report.leaderboard[r.report.bestIndex]!;
    const v = recordModelVersion(ws, {
      modelName: p.modelName,
      task: p.settings.task,
      datasetVersionId: p.versionId,
      jobId: p.jobId ?? null,
      settings: r.settings,
      appVersion: p.appVersion,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      durationSeconds: r.durationSeconds,
      leaderboard: r.report.leaderboard,
      algorithm: best.algorithm,
      metrics: r.report.metrics,
      modelBlob: r.modelBlob,
      modelHash: r.modelHash,
      reportBlob: r.reportBlob,
    });
    // Every version gets its ONNX graph at once: what the app, the CLI and the edge run.
    const onnx = modelOnnx(ws, v);
    if (p.challenger) setAlias(ws, { model: v.model, version: v.version, alias: 'challenger', reason: p.challenger.reason });
    return { model: v.model, version: v.version, run: v.runId, modelHash: v.modelHash, onnxHash: onnx.hash, report: r.report };
  },
};
