import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { AppEvent, Envelope, Handlers } from '../../shared/api';
import { createHandlers } from './api/handlers';
import { dispatch, logInternal } from './api/dispatch';
import { DeployService } from './deploy/deploy';
import { appRoot, appVersion } from './app/app-root';
import { JobManager } from './jobs/job-manager';
import { MonitorService } from './monitor/service';
import { FeedbackService } from './feedback/service';
import { DatasetReader } from './datasets/reader';
import { ScoringService } from './scoring/service';
import { Workspace } from './workspace/workspace';
import { sweepAtStart } from './workspace/blob-sweep';
import { RecordingService } from './recording/service';
import type { Sealer } from './recording/secrets';

export interface CoreOptions {
  workspaceDir: string;
  electronVersion?: string | null;
  maxConcurrentJobs?: number;
  /**
   * Start again the local endpoints that were running when the app last
   * closed (default true). Short CLI commands say false: an endpoint they
   * started would stop when they exit.
   */
  resumeEndpoints?: boolean;
  /**
   * Poll the endpoints in the background (default true). Short CLI commands
   * say false: `monitor.cycle` still polls when asked.
   */
  monitor?: boolean;
  /**
   * Go on with the recordings this app started before it last closed, and
   * let the recordings it starts go on after a restart (default: as
   * resumeEndpoints). The CLI's recordings end with the command.
   */
  resumeRecordings?: boolean;
  /** Seals source passwords: Electron's safeStorage in the desktop app; the workspace key otherwise. */
  sealer?: Sealer | null;
}

/** The core services, wired once per entry point (Electron main, server mode, CLI). */
export interface Core {
  readonly ws: Workspace;
  readonly jobs: JobManager;
  readonly handlers: Handlers;
  readonly events: EventEmitter<{ event: [AppEvent] }>;
  /** Endpoint monitoring and alerts; its background loop runs unless CoreOptions.monitor is false. */
  readonly monitor: MonitorService;
  /** Episodes, prompts and answers; its prompt timer runs unless CoreOptions.monitor is false. */
  readonly feedback: FeedbackService;
  /** Sources and recordings running in this process. */
  readonly recording: RecordingService;
  readonly version: string;
  call(name: unknown, arg: unknown): Promise<Envelope<unknown>>;
  close(): Promise<void>;
}

export function createCore(opts: CoreOptions): Core {
  const root = appRoot();
  const version = appVersion();
  const ws = Workspace.open(opts.workspaceDir, { appVersion: version });
  const events = new EventEmitter<{ event: [AppEvent] }>();
  events.setMaxListeners(100);
  const jobs = new JobManager(ws, {
    appRoot: root,
    maxConcurrent: opts.maxConcurrentJobs,
    onChange: (job) => events.emit('event', { type: 'job', job }),
  });
  jobs.recoverInterrupted();
  ws.blobs.cleanTmp();
  ws.cleanScratch();
  // Blobs a killed task left without a record; an hour old, so no other window's task is still writing them.
  try {
    sweepAtStart(ws);
  } catch (err) {
    logInternal(ws.logDir, 'blobs.sweep', err);
  }
  const reader = new DatasetReader(ws);
  const scoring = new ScoringService(ws, reader);
  const deploy = new DeployService(ws, path.join(root, 'resources', 'runtime'));
  const resumed = opts.resumeEndpoints === false ? Promise.resolve() : deploy.resume();
  const monitor = new MonitorService({ ws, deploy, emit: (e) => events.emit('event', e) });
  if (opts.monitor !== false) monitor.start();
  const feedback = new FeedbackService({ ws, emit: (e) => events.emit('event', e), profiles: monitor.profiles });
  // Episodes are grouped after every poll and batch scoring job (a failed scan is tried again after the next).
  events.on('event', (e) => {
    if (e.type === 'monitor' || (e.type === 'job' && e.job.kind === 'models.score' && e.job.state === 'done')) void feedback.scan().catch((err: unknown) => logInternal(ws.logDir, 'feedback.scan', err));
  });
  if (opts.monitor !== false) feedback.start();
  const recording = new RecordingService({ ws, jobs, emit: (e) => events.emit('event', e), sealer: opts.sealer, resume: opts.resumeRecordings ?? opts.resumeEndpoints !== false });
  try {
    recording.recover();
  } catch (err) {
    logInternal(ws.logDir, 'recordings.recover', err);
  }
  const handlers = createHandlers({ ws, jobs, appRoot: root, appVersion: version, electronVersion: opts.electronVersion ?? null, reader, scoring, deploy, monitor, feedback, recording });
  return {
    ws,
    jobs,
    handlers,
    events,
    monitor,
    feedback,
    recording,
    version,
    call: (name, arg) => dispatch(handlers, name, arg, ws.logDir),
    async close() {
      await monitor.close();
      await feedback.close();
      await recording.close();
      await jobs.close();
      await resumed;
      await deploy.close();
      await scoring.close();
      ws.close();
    },
  };
}
