import type { JobInfo } from '../../../shared/api';
import { LABEL_COLUMNS } from '../../../shared/feedback';
import type { DatasetReader } from '../datasets/reader';
import type { VersionRecord } from '../datasets/versions';
import type { JobManager } from '../jobs/job-manager';
import { prepareTraining } from '../training/service';
import type { Workspace } from '../workspace/workspace';
import { productionOrNewest, type LabelSettings } from './labels';

/** Answered episodes (real or normal) whose labels a dataset version holds; 0 without labels. */
export function answersIn(dv: VersionRecord): number {
  const from = (dv.settings as Partial<LabelSettings>).labelsFrom;
  return from && dv.schema.some((c) => c.name === LABEL_COLUMNS.problem) ? from.episodes.filter((e) => e.verdict !== 'unsure').length : 0;
}

/**
 * Retrains a model (DESIGN.md section 10): the production version's settings
 * (its newest version when none is production) on the newest version of its
 * dataset, or the one given. An anomaly model learns from the answers when
 * that version holds them: rows answered "real problem" are left out of
 * fitting and judge the model. The new version is marked challenger when the
 * job finishes, so it is compared before it replaces production.
 */
export function startRetrain(
  ws: Workspace,
  reader: DatasetReader,
  jobs: JobManager,
  appVersion: string,
  a: { model: string; dataset?: string; version?: number; timeBudgetSeconds?: number },
): JobInfo {
  const from = productionOrNewest(ws.db, a.model);
  const dv = reader.version(a.dataset ?? from.dataset, a.version);
  const s = from.settings;
  const labelled = s.task === 'anomaly' && dv.schema.some((c) => c.name === LABEL_COLUMNS.problem);
  const keepLabel = s.labelColumn && dv.schema.some((c) => c.name === s.labelColumn) ? s.labelColumn : null;
  const params = prepareTraining(
    reader,
    {
      dataset: dv.datasetName,
      version: dv.version,
      model: from.model,
      task: s.task,
      target: s.target,
      labelColumn: labelled ? LABEL_COLUMNS.problem : keepLabel,
      inputs: s.inputs,
      timeColumn: s.timeColumn,
      windowMinutes: s.windowMinutes,
      lags: s.lags,
      holdoutFraction: s.holdoutFraction,
      timeBudgetSeconds: a.timeBudgetSeconds ?? s.timeBudgetSeconds,
      seed: s.seed,
      algorithms: s.algorithms,
    },
    appVersion,
  );
  const answers = labelled ? answersIn(dv) : 0;
  const reason = `Retrained from version ${from.version} on ${dv.datasetName}@${dv.version} with ${answers} answer${answers === 1 ? '' : 's'}`;
  const job = jobs.start('models.train', { ...params, challenger: { reason } });
  ws.audit.record('model.retrain', { model: from.model, from: from.version, dataset: dv.datasetName, version: dv.version, labelColumn: params.settings.labelColumn, answers, job: job.id });
  return job;
}
