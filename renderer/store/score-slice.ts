import type { StateCreator } from 'zustand';
import type { FileRef } from '../../shared/api';
import { api, call } from '../api/api';
import { isActive } from './jobs-slice';
import { errorMessage } from './report-error';
import type { State } from './store';

/** The "Score a file" card of one model: kept in the store so leaving the page never loses a running job or its result. */
export interface ScoreDraft {
  file: FileRef | null;
  /** The file being sent to the core (server mode), with how much has gone. */
  sending: { name: string; fraction: number } | null;
  evaluate: boolean;
  /** The job that writes the scored file. */
  scoreJob: string | null;
  /** The job that checks the answers against the file's own (only when asked). */
  checkJob: string | null;
  /** What went wrong before any job ran, in the core's words. */
  error: string | null;
}

export interface ScoreSlice {
  /** By model name. */
  scoring: Record<string, ScoreDraft>;
  scorePickFile(model: string, file: File): Promise<void>;
  scoreSetEvaluate(model: string, evaluate: boolean): void;
  scoreStart(model: string, version: number): Promise<void>;
  /** Stops whichever of the card's jobs still run. */
  scoreCancel(model: string): Promise<void>;
  /** Back to an empty card, for another file. */
  scoreReset(model: string): void;
}

export const blankScore: ScoreDraft = { file: null, sending: null, evaluate: false, scoreJob: null, checkJob: null, error: null };

export const createScoreSlice: StateCreator<State, [], [], ScoreSlice> = (set, get) => {
  const draft = (model: string): ScoreDraft => get().scoring[model] ?? blankScore;
  const patch = (model: string, p: Partial<ScoreDraft>) => set({ scoring: { ...get().scoring, [model]: { ...draft(model), ...p } } });
  const running = (model: string) => {
    const d = draft(model);
    return [d.scoreJob, d.checkJob].some((id) => {
      const job = id ? get().jobs[id] : undefined;
      return Boolean(job && isActive(job));
    });
  };

  return {
    scoring: {},

    async scorePickFile(model, file) {
      if (running(model) || draft(model).sending) return;
      patch(model, { sending: { name: file.name, fraction: 0 }, error: null, scoreJob: null, checkJob: null });
      try {
        const ref = await api().fileRef(file, (fraction) => patch(model, { sending: { name: file.name, fraction } }));
        patch(model, { file: ref, sending: null });
      } catch (err) {
        patch(model, { sending: null, error: errorMessage(err) });
      }
    },

    scoreSetEvaluate(model, evaluate) {
      patch(model, { evaluate });
    },

    async scoreStart(model, version) {
      const d = draft(model);
      if (!d.file || running(model)) return;
      patch(model, { error: null, scoreJob: null, checkJob: null });
      const file = d.file.path;
      try {
        // One job writes the scored file and, when asked, checks it against the answers in the file.
        const job = await call('models.score', { model, version, file, ...(d.evaluate ? { evaluate: true, keepFile: true } : {}) });
        get().upsertJob(job);
        patch(model, { scoreJob: job.id, checkJob: null });
      } catch (err) {
        patch(model, { error: errorMessage(err), scoreJob: null, checkJob: null });
      }
    },

    async scoreCancel(model) {
      const d = draft(model);
      for (const id of [d.scoreJob, d.checkJob]) {
        const job = id ? get().jobs[id] : undefined;
        if (job && isActive(job)) await get().cancelJob(job.id);
      }
    },

    scoreReset(model) {
      if (running(model)) return;
      patch(model, { ...blankScore, evaluate: draft(model).evaluate });
    },
  };
};
