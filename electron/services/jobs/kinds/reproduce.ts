import crypto from 'node:crypto';
import path from 'node:path';
import type { LeaderboardEntry, MetricInfo } from '../../../../shared/training';
import { formatMetric, type Candidate } from '../../training/automl';
import { exportOnnx } from '../../onnx/export';
import type { FittedPipeline } from '../../training/pipeline';
import { BlobStore } from '../../workspace/blobs';
import type { JobKindDef } from '../job-kind';
import { trainFromParams, type TrainParams } from './train';

export interface ReproduceParams {
  model: string;
  version: number;
  train: TrainParams;
  /** The candidates the original run finished, in its order: the search is replayed exactly. */
  candidates: Candidate[];
  original: { modelHash: string; onnxHash: string | null; appVersion: string; leaderboard: LeaderboardEntry[]; bestTitle: string; metric: MetricInfo };
  /** The alarm level of a version made from a trained one by a new level: set on the retrained model, as that change did. */
  threshold?: number;
}

export interface ReproduceResult {
  model: string;
  version: number;
  identical: boolean;
  original: { modelHash: string; onnxHash: string | null; appVersion: string };
  reproduced: { modelHash: string; onnxHash: string; appVersion: string };
  /** What differs, one plain sentence each; empty when identical. */
  differences: string[];
  seconds: number;
}

/**
 * Retrains a model version from its lineage (the same dataset version,
 * settings, seed and candidates) and says whether the result is the same
 * model (same ONNX hash), or exactly what differs.
 */
export const modelsReproduce: JobKindDef<ReproduceParams, ReproduceResult> = {
  kind: 'models.reproduce',
  title: (p) => `Reproducing "${p.model}" version ${p.version}`,
  run(ctx, p) {
    const r = trainFromParams(ctx, p.train, p.candidates);
    const blobs = new BlobStore(path.join(ctx.workspaceDir, 'blobs'), path.join(ctx.workspaceDir, 'tmp'));
    const trained = JSON.parse(blobs.read(r.modelBlob).toString('utf8')) as FittedPipeline;
    // As applyThreshold makes it: the same pipeline with the other level, hashed as written.
    const pipeline: FittedPipeline = p.threshold === undefined ? trained : { ...trained, threshold: p.threshold };
    const modelHash = p.threshold === undefined ? r.modelHash : crypto.createHash('sha256').update(JSON.stringify(pipeline)).digest('hex');
    // Written with the original version's name, number and app version, so equal models give equal bytes.
    const onnx = exportOnnx(pipeline, { modelName: p.model, modelVersion: p.version, appVersion: p.original.appVersion });
    const onnxHash = crypto.createHash('sha256').update(onnx).digest('hex');
    const differences: string[] = [];
    if (p.train.appVersion !== p.original.appVersion) differences.push(`It was trained with Millwright ${p.original.appVersion}; this is ${p.train.appVersion}.`);
    const best = r.report.leaderboard[r.report.bestIndex]!;
    if (best.title !== p.original.bestTitle) differences.push(`The search kept ${p.original.bestTitle} then, and ${best.title} now.`);
    const key = p.original.metric.key;
    for (const before of p.original.leaderboard) {
      if (before.status !== 'done') continue;
      const now = r.report.leaderboard.find((e) => e.title === before.title && e.status === 'done');
      if (!now) differences.push(`${before.title} did not finish this time.`);
      else if (now.metrics[key] !== before.metrics[key]) differences.push(`${before.title}: ${p.original.metric.label} ${formatMetric(before.metrics[key] ?? NaN)} then, ${formatMetric(now.metrics[key] ?? NaN)} now.`);
    }
    const identical = onnxHash === p.original.onnxHash && modelHash === p.original.modelHash;
    if (!identical && !differences.length) differences.push('Every score is the same, but the fitted numbers of the model differ slightly (a floating-point difference between machines or versions).');
    return {
      model: p.model,
      version: p.version,
      identical,
      original: { modelHash: p.original.modelHash, onnxHash: p.original.onnxHash, appVersion: p.original.appVersion },
      reproduced: { modelHash, onnxHash, appVersion: p.train.appVersion },
      differences: identical ? [] : differences,
      seconds: r.durationSeconds,
    };
  },
  commit(ws, p, r) {
    ws.audit.record('model.reproduce', { model: p.model, version: p.version, identical: r.identical, differences: r.differences });
    return r;
  },
};
