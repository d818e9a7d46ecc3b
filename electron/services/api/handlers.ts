import os from 'node:os';
import type { Handlers } from '../../../shared/api';
import { listDatasets } from '../datasets/datasets';
import type { JobManager } from '../jobs/job-manager';
import { listSamples, samplePath } from '../samples/catalog';
import { AuditLog } from '../workspace/audit';
import type { Workspace } from '../workspace/workspace';

export interface HandlerDeps {
  ws: Workspace;
  jobs: JobManager;
  appRoot: string;
  appVersion: string;
  electronVersion: string | null;
}

/** The one function table that IPC, HTTP and the CLI dispatch into. */
export function createHandlers({ ws, jobs, appRoot, appVersion, electronVersion }: HandlerDeps): Handlers {
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
    'audit.list': (a) => AuditLog.list(ws.db, a),
    'samples.list': () => listSamples(appRoot),
    'samples.add': (a) => {
      samplePath(appRoot, a.id); // fails now, not in the worker, when the sample does not exist
      return jobs.start('samples.add', a);
    },
    'datasets.list': () => listDatasets(ws.db),
  };
}
