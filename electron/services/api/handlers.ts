import os from 'node:os';
import path from 'node:path';
import type { Handlers } from '../../../shared/api';
import { getDataset, listDatasets } from '../datasets/datasets';
import { inspectFiles } from '../datasets/import/inspect';
import { stagedTotals } from '../datasets/import/pipeline';
import type { DatasetReader } from '../datasets/reader';
import type { JobManager } from '../jobs/job-manager';
import { listSamples, samplePath } from '../samples/catalog';
import { AppError } from '../../../shared/errors';
import { AuditLog } from '../workspace/audit';
import { findModelVersion, getModel, listModels, publicInfo } from '../training/models';
import { archiveVersion, restoreVersion, setAlias } from '../registry/aliases';
import { writeMlflow } from '../registry/mlflow';
import { buildBundle } from '../deploy/bundle';
import { DeployService } from '../deploy/deploy';
import { shadowSummary, startShadow, stopShadow } from '../deploy/shadow';
import { MonitorService } from '../monitor/service';
import { FeedbackService } from '../feedback/service';
import { backupWorkspace, checkWorkspace } from '../registry/backup';
import { prepareReproduce } from '../registry/reproduce';
import { compareVersions } from '../registry/compare';
import { modelLineage } from '../registry/lineage';
import { assignToUseCase, createUseCase, listUseCases, updateUseCase, useCaseObjects } from '../registry/use-cases';
import { prepareTraining, suggestTraining } from '../training/service';
import { addAnswersToData } from '../feedback/labels';
import { applyThreshold, recalibration } from '../feedback/recalibrate';
import { startRetrain } from '../feedback/retrain';
import { challengerReport, discardChallenger, promoteChallenger } from '../feedback/challenger';
import { feedbackSuggestions } from '../feedback/suggestions';
import type { ScoringService } from '../scoring/service';
import { RecordingService } from '../recording/service';
import type { Workspace } from '../workspace/workspace';

export interface HandlerDeps {
  ws: Workspace;
  jobs: JobManager;
  appRoot: string;
  appVersion: string;
  electronVersion: string | null;
  reader: DatasetReader;
  scoring: ScoringService;
  /** Endpoints and deployments; compose.ts passes the one it closes (a fresh one otherwise). */
  deploy?: DeployService;
  /** Monitoring; compose.ts passes the one whose loop it runs (a fresh one otherwise, polling only when asked). */
  monitor?: MonitorService;
  /** Episodes, prompts and answers; compose.ts passes the one whose prompt timer it runs (a fresh one otherwise). */
  feedback?: FeedbackService;
  /** Sources and recordings; compose.ts passes the one it closes (a fresh one otherwise, which resumes nothing). */
  recording?: RecordingService;
}

/** The one function table that IPC, HTTP and the CLI dispatch into. */
/** The audit log's filters, with a use case turned into the names of everything under it. */
function auditFilterFor(ws: Workspace) {
  return <T extends { who?: string; object?: string; useCase?: string; action?: string }>(a: T) => {
    const { object, useCase, ...rest } = a;
    let objects: string[] | undefined;
    if (useCase) objects = useCaseObjects(ws.db, useCase).names;
    if (object) objects = objects ? objects.filter((n) => n === object) : [object];
    return { ...rest, ...(objects ? { objects } : {}) };
  };
}

export function createHandlers({ ws, jobs, appRoot, appVersion, electronVersion, reader, scoring, deploy = new DeployService(ws, path.join(appRoot, 'resources', 'runtime')), monitor = new MonitorService({ ws, deploy, emit: () => undefined }), feedback = new FeedbackService({ ws, emit: () => undefined, profiles: monitor.profiles }), recording = new RecordingService({ ws, jobs, emit: () => undefined }) }: HandlerDeps): Handlers {
  const auditFilter = auditFilterFor(ws);
  return {
    'app.info': () => ({
      name: 'Millwright',
      version: appVersion,
      workspace: ws.dir,
      schemaVersion: ws.schemaVersion,
      platform: `${os.type()} ${os.release()} (${process.arch})`,
      nodeVersion: process.versions.node,
      electronVersion,
      user: ws.who,
    }),
    'jobs.list': (a) => jobs.list(a),
    'jobs.get': (a) => jobs.get(a.id),
    'jobs.cancel': (a) => jobs.cancel(a.id),
    'system.check': (a) => jobs.start('system.check', a),
    'audit.list': (a) => AuditLog.list(ws.db, auditFilter(a)),
    'audit.csv': (a) => {
      const entries = AuditLog.list(ws.db, { ...auditFilter(a), limit: 1_000_000 });
      return { csv: AuditLog.toCsv(entries), rows: entries.length };
    },
    'audit.people': () => AuditLog.people(ws.db),
    'useCases.list': () => listUseCases(ws.db),
    'useCases.create': (a) => createUseCase(ws, a),
    'useCases.update': (a) => updateUseCase(ws, a),
    'useCases.assign': (a) => {
      assignToUseCase(ws, a);
      return { ok: true as const };
    },
    'samples.list': () => listSamples(appRoot),
    'samples.add': (a) => {
      samplePath(appRoot, a.id); // fails now, not in the worker, when the sample does not exist
      return jobs.start('samples.add', a);
    },
    'datasets.list': () => listDatasets(ws.db),
    'datasets.get': (a) => getDataset(ws.db, a.dataset),
    'datasets.profile': async (a) => {
      let v = reader.version(a.dataset, a.version);
      if (!v.profileBlob) {
        // First look at this version: work the profile out in a worker, then keep it.
        const job = jobs.start('datasets.profile', { versionId: v.id, dataset: v.datasetName, version: v.version, rowCount: v.rowCount, schema: v.schema });
        const done = await jobs.wait(job.id);
        if (done.state !== 'done') throw new AppError(done.state === 'cancelled' ? 'cancelled' : 'job_failed', done.error?.message ?? 'The statistics could not be worked out.');
        v = reader.version(a.dataset, v.version);
      }
      return JSON.parse(ws.blobs.read(v.profileBlob!).toString('utf8')) as unknown;
    },
    'datasets.rows': (a) => reader.rows(a.dataset, a.version, a.offset, a.limit),
    'datasets.series': (a) => reader.series(a.dataset, a.version, a.columns, a.buckets, a.from, a.to),
    'imports.inspect': (a) => inspectFiles(a.paths, a.settings, a.types),
    'imports.analyze': (a) => jobs.start('imports.analyze', a),
    'imports.totals': (a) => stagedTotals(ws.dir, a.stagingId, a.choices ?? {}),
    'imports.save': (a) => jobs.start('imports.save', a),
    'training.suggest': (a) => suggestTraining(reader, a),
    'training.start': (a) => jobs.start('models.train', prepareTraining(reader, a, appVersion)),
    'models.list': () => listModels(ws.db),
    'models.get': (a) => getModel(ws.db, a.model),
    'models.report': (a) => {
      const v = findModelVersion(ws.db, a.model, a.version);
      return JSON.parse(ws.blobs.read(v.reportBlob).toString('utf8')) as unknown;
    },
    'models.promote': (a) => publicInfo(setAlias(ws, a)),
    'models.archive': (a) => publicInfo(archiveVersion(ws, a)),
    'models.restore': (a) => publicInfo(restoreVersion(ws, a)),
    'models.exportMlflow': (a) => {
      const v = findModelVersion(ws.db, a.model, a.version);
      const form = scoring.tryIt({ model: v.model, version: v.version });
      return writeMlflow(ws, v, a.out, Object.fromEntries(form.inputs.map((i) => [i.name, i.value])));
    },
    'models.lineage': (a) => modelLineage(ws, reader, a),
    'models.compare': (a) => compareVersions(ws, reader, a.a, a.b),
    'models.reproduce': (a) => jobs.start('models.reproduce', prepareReproduce(ws, reader, a, appVersion)),
    'workspace.backup': (a) => backupWorkspace(ws, a.out, appVersion),
    'workspace.check': () => checkWorkspace(ws.dir),
    'models.exportBundle': (a) => buildBundle(ws, findModelVersion(ws.db, a.model, a.version), a.out, path.join(appRoot, 'resources', 'runtime')),
    'models.score': async (a) => jobs.start('models.score', await scoring.prepareScore(a)),
    'models.tryIt': (a) => scoring.tryIt(a),
    'models.predict': (a) => scoring.predict(a),
    'endpoints.list': () => deploy.list(),
    'endpoints.add': (a) => deploy.add(a),
    'endpoints.remove': async (a) => {
      const removed = await deploy.remove(a.name);
      monitor.forget(a.name);
      return removed;
    },
    'endpoints.refresh': (a) => deploy.refresh(a.name),
    'endpoints.stop': (a) => deploy.stop(a.name),
    'endpoints.start': (a) => deploy.start(a.name),
    'endpoints.history': (a) => deploy.history(a),
    'deploy.run': (a) => deploy.run(a),
    'deploy.rollback': (a) => deploy.rollback(a),
    'monitor.cycle': (a) => monitor.cycle(a),
    'monitor.status': () => monitor.status(),
    'monitor.dashboard': (a) => monitor.dashboard(a),
    'monitor.input': (a) => monitor.input(a),
    'monitor.settings': () => monitor.settings(),
    'monitor.configure': (a) => monitor.configure(a),
    'alerts.list': (a) => monitor.listAlerts(a),
    'alerts.acknowledge': (a) => monitor.acknowledge(a.id),
    'alerts.snooze': (a) => monitor.snooze(a.id, a.minutes),
    // Issue 9 (feedback loop): replaced as the services land.
    'feedback.inbox': () => feedback.inbox(),
    'feedback.list': (a) => feedback.list(a),
    'feedback.get': (a) => feedback.get(a),
    'feedback.answer': (a) => feedback.answer(a),
    'feedback.causes': (a) => feedback.causes(a),
    'feedback.scan': () => feedback.scan(),
    'feedback.prompt': () => feedback.prompt(),
    'feedback.settings': () => feedback.settings(),
    'feedback.configure': (a) => feedback.configure(a),
    'feedback.addToData': (a) => addAnswersToData(ws, a),
    'feedback.suggestions': (a) => feedbackSuggestions(ws, deploy.list(), a),
    'feedback.recalibration': (a) => recalibration(ws, a),
    'feedback.applyThreshold': (a) => applyThreshold(ws, a),
    'retrain.start': (a) => startRetrain(ws, reader, jobs, appVersion, a),
    'challenger.report': (a) => challengerReport(ws, reader, a),
    'challenger.promote': (a) => promoteChallenger(ws, deploy, a),
    'challenger.discard': (a) => discardChallenger(ws, deploy, a),
    'shadow.start': (a) => {
      const served = deploy.store.get(a.endpoint).model;
      const model = a.model ?? served?.name;
      if (!model) throw new AppError('bad_input', `${a.endpoint} serves no model yet, so there is nothing to run a shadow beside. Deploy a model to it first.`, 'model');
      return startShadow(ws, deploy, a.endpoint, model, a.version ?? findModelVersion(ws.db, model, 'challenger').version);
    },
    'shadow.stop': async (a) => {
      const r = await stopShadow(ws, deploy, a.endpoint);
      return { endpoint: r.endpoint, stopped: r.stopped };
    },
    'shadow.status': (a) => {
      deploy.store.get(a.endpoint);
      return shadowSummary(ws, a.endpoint);
    },
    'sources.list': () => recording.listSources(),
    'sources.test': (a) => recording.test(a),
    'sources.save': (a) => recording.saveSource(a),
    'sources.remove': (a) => recording.removeSource(a.id),
    'sources.trust': (a) => recording.trust(a),
    'sources.browse': (a) => recording.browse(a),
    'sources.read': (a) => recording.read(a),
    'recordings.list': () => recording.list(),
    'recordings.get': (a) => recording.get(a.id),
    'recordings.start': (a) => recording.start(a),
    'recordings.stop': (a) => recording.stop(a),
    'recordings.live': (a) => recording.live(a),
    'recordings.overview': (a) => recording.overview(a),
    'recordings.save': (a) => recording.save(a),
    'recordings.remove': (a) => recording.remove(a),
  };
}
