import { TIME_BUDGET, type LeaderboardEntry } from '../../../shared/training';
import type { DatasetReader } from '../datasets/reader';
import type { ReproduceParams } from '../jobs/kinds/reproduce';
import { modelOnnx, readPipeline } from '../scoring/onnx-store';
import { findModelVersion } from '../training/models';
import type { Workspace } from '../workspace/workspace';

/** The job parameters that replay a model version's training exactly: same data, settings, seed and candidates. */
export function prepareReproduce(ws: Workspace, reader: DatasetReader, a: { model: string; version?: number }, appVersion: string): ReproduceParams {
  const v = findModelVersion(ws.db, a.model, a.version);
  // A version made by a new alarm level was not trained: the version it came from was (through any chain of such changes),
  // and the reproduced model gets the alarm level this one has.
  let trained = v;
  for (let hops = 0; trained.settings.derivedFrom && hops < 100; hops++) trained = findModelVersion(ws.db, a.model, trained.settings.derivedFrom.version);
  const threshold = trained === v ? undefined : (readPipeline(ws, v).threshold ?? undefined);
  const run = ws.db.prepare('SELECT leaderboard FROM training_runs WHERE id = ?').get(trained.runId) as { leaderboard: string };
  const leaderboard = JSON.parse(run.leaderboard) as LeaderboardEntry[];
  const dv = reader.version(trained.dataset, trained.datasetVersion);
  const { metric: _m, holdout: _h, derivedFrom: _d, ...settings } = trained.settings;
  const candidates = leaderboard.filter((e) => e.status === 'done' && e.algorithm !== 'ensemble').map((e) => ({ algorithm: e.algorithm as Exclude<typeof e.algorithm, 'ensemble'>, params: e.params }));
  return {
    model: v.model,
    version: v.version,
    // The longest budget: on a slower PC every candidate still finishes, as it did the first time.
    train: { versionId: dv.id, dataset: dv.datasetName, version: dv.version, rowCount: dv.rowCount, schema: dv.schema, modelName: v.model, settings: { ...settings, timeBudgetSeconds: TIME_BUDGET.max }, appVersion },
    candidates,
    original: { modelHash: v.modelHash, onnxHash: modelOnnx(ws, v).hash, appVersion: v.appVersion, leaderboard, bestTitle: trained.algorithmTitle, metric: trained.metric },
    ...(threshold !== undefined ? { threshold } : {}),
  };
}
