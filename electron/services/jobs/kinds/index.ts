import type { JobKind } from '../../../../shared/api';
import type { JobKindDef } from '../job-kind';
import { importsAnalyze, importsSave } from './imports';
import { samplesAdd } from './samples-add';
import { datasetsProfile } from './profile';
import { systemCheck } from './system-check';
import { modelsReproduce } from './reproduce';
import { modelsScore } from './score';
import { modelsTrain } from './train';
import { recordingsSave } from './recordings-save';

/** Every job kind, by name. Workers and the JobManager both read this table. */
export const JOB_KIND_DEFS: Record<JobKind, JobKindDef<never, unknown>> = {
  'system.check': systemCheck as JobKindDef<never, unknown>,
  'samples.add': samplesAdd as JobKindDef<never, unknown>,
  'imports.analyze': importsAnalyze as JobKindDef<never, unknown>,
  'imports.save': importsSave as JobKindDef<never, unknown>,
  'datasets.profile': datasetsProfile as JobKindDef<never, unknown>,
  'models.train': modelsTrain as JobKindDef<never, unknown>,
  'models.score': modelsScore as JobKindDef<never, unknown>,
  'models.reproduce': modelsReproduce as JobKindDef<never, unknown>,
  'recordings.save': recordingsSave as JobKindDef<never, unknown>,
};
