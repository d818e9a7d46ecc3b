import type { StateCreator } from 'zustand';
import type { JobInfo, ModelSummary, Suggestion } from '../../shared/api';
import type { Goal, TrainingReport } from '../../shared/training';
import { call } from '../api/api';
import {
  blankChoices,
  buildTrainInput,
  defaultWindowMinutes,
  mergeProgress,
  STEP,
  type LiveEntry,
  type TrainChoices,
} from '../wizards/train/train-logic';
import { reportError } from './report-error';
import type { State } from './store';

/** What a finished training job returns. */
export interface TrainResult {
  model: string;
  version: number;
  run: string;
  report: TrainingReport;
}

/** The Train wizard's draft: kept in the store so Back, or leaving the page, never loses what was entered. */
export interface TrainDraft extends TrainChoices {
  step: number;
  suggestion: Suggestion | null;
  /** The columns offered for the goal (kept apart: a suggestion made for one target need not list them all again). */
  goalTargets: Suggestion['targets'];
  suggesting: boolean;
  /** The training job this wizard started. */
  job: string | null;
  /** Finished candidates read from the job's progress messages, in the order they finished. */
  live: LiveEntry[];
  /** The latest "Trying …" message, for the row that is being worked on. */
  trying: string | null;
}

export interface ModelsSlice {
  models: ModelSummary[] | null;
  loadModels(): Promise<void>;
  tr: TrainDraft;
  /** Opens the wizard on a dataset (the last one used when none is given); a running training is never dropped. */
  trainOpen(dataset: string | null): void;
  trainSet(patch: Partial<TrainChoices>): void;
  trainSetStep(step: number): void;
  trainChooseDataset(dataset: string): void;
  trainChooseGoal(goal: Goal): Promise<void>;
  trainChooseTarget(target: string): Promise<void>;
  /** Unusual behaviour: the column of known problems; inputs that give it away are unticked again. */
  trainChooseLabel(label: string | null): Promise<void>;
  trainStart(): Promise<void>;
  /** Takes in any update of a training job: the live leaderboard, and what happens when it ends. */
  trainNoteJob(job: JobInfo): void;
  /** After a failure or a cancel: back to the settings, everything kept. */
  trainBackToSettings(): void;
}

const LAST_DATASET_KEY = 'millwright.train.dataset';

export function lastTrainDataset(): string | null {
  try {
    return localStorage.getItem(LAST_DATASET_KEY);
  } catch {
    return null;
  }
}

const blank = (dataset: string | null): TrainDraft => ({
  ...blankChoices(dataset),
  step: 0,
  suggestion: null,
  goalTargets: [],
  suggesting: false,
  job: null,
  live: [],
  trying: null,
});

/** Ended jobs whose end has been handled (a job can arrive both as an event and from polling). */
const ended = new Set<string>();

export const createModelsSlice: StateCreator<State, [], [], ModelsSlice> = (set, get) => {
  const patch = (p: Partial<TrainDraft>) => set({ tr: { ...get().tr, ...p } });
  let request = 0;

  /** Asks the core for a suggestion; a later request wins over an earlier one that answers late. */
  const suggest = async (goal: Goal, target: string | null): Promise<Suggestion | null> => {
    const { dataset } = get().tr;
    if (!dataset) return null;
    const mine = ++request;
    patch({ suggesting: true });
    try {
      const label = goal === 'detect_unusual' ? get().tr.labelColumn : null;
      const s = await call('training.suggest', { dataset, goal, ...(target ? { target } : {}), ...(label ? { labelColumn: label } : {}) });
      if (mine !== request) return null;
      patch({ suggestion: s, suggesting: false });
      return s;
    } catch (err) {
      if (mine === request) patch({ suggesting: false, suggestion: null });
      reportError(err);
      return null;
    }
  };

  /** Ticks, window and name follow a new suggestion (a new goal or target). */
  const adopt = (s: Suggestion) => {
    const tr = get().tr;
    const suggestedWindow = defaultWindowMinutes(s.intervalMs);
    patch({
      inputs: s.inputs.filter((i) => i.selected && i.name !== tr.target && i.name !== tr.labelColumn).map((i) => i.name),
      windowMinutes: tr.windowMinutes ?? suggestedWindow,
      useWindow: s.timeColumn ? tr.useWindow : false,
      keepTimeOrder: s.timeColumn ? tr.keepTimeOrder : true,
    });
  };

  const active = (id: string | null) => {
    const job = id ? get().jobs[id] : undefined;
    return Boolean(job && (job.state === 'queued' || job.state === 'running'));
  };

  return {
    models: null,
    async loadModels() {
      try {
        set({ models: await call('models.list', {}) });
      } catch (err) {
        reportError(err);
      }
    },
    tr: blank(null),

    trainOpen(dataset) {
      const tr = get().tr;
      if (active(tr.job)) return;
      const known = get().datasets?.map((d) => d.name) ?? null;
      const last = lastTrainDataset();
      // Preset: the dataset asked for, else the one in the draft, else the last one trained on, else the newest.
      let wanted = dataset ?? tr.dataset ?? (last && (!known || known.includes(last)) ? last : null) ?? known?.[0] ?? null;
      // A name that is not (or no longer) in the workspace falls back to the newest dataset.
      if (known && wanted && !known.includes(wanted)) wanted = known[0] ?? null;
      if (wanted && wanted !== tr.dataset) get().trainChooseDataset(wanted);
    },

    trainSet(p) {
      patch(p);
    },

    trainSetStep(step) {
      patch({ step });
    },

    trainChooseDataset(dataset) {
      request++;
      if (dataset) {
        try {
          localStorage.setItem(LAST_DATASET_KEY, dataset);
        } catch {
          // A full or blocked storage only loses the convenience.
        }
      }
      const keep = get().tr;
      set({ tr: { ...blank(dataset || null), budgetSeconds: keep.budgetSeconds } });
      if (dataset && keep.goal) void get().trainChooseGoal(keep.goal);
    },

    async trainChooseGoal(goal) {
      const before = get().tr;
      // Choosing the same goal again keeps what was entered after it.
      if (before.goal === goal && before.suggestion && !before.suggesting) return;
      if (before.goal !== goal) patch({ goal, target: null, labelColumn: null, suggestion: null, goalTargets: [], inputs: [], modelName: '', algorithms: [] });
      const s = await suggest(goal, null);
      if (!s) return;
      patch({ goalTargets: s.targets });
      if (goal === 'detect_unusual') {
        adopt(s);
        return;
      }
      // Preset the recommended target (or keep the one chosen before, when it is still offered).
      const current = get().tr.target;
      const keep = current && s.targets.some((t) => t.name === current) ? current : null;
      const pick = keep ?? s.targets.find((t) => t.recommended)?.name ?? s.targets[0]?.name ?? null;
      if (pick) await get().trainChooseTarget(pick);
    },

    async trainChooseTarget(target) {
      const { goal } = get().tr;
      if (!goal) return;
      patch({ target });
      const s = await suggest(goal, target);
      if (s) adopt(s);
    },

    async trainChooseLabel(label) {
      patch({ labelColumn: label });
      const s = await suggest('detect_unusual', null);
      if (s) adopt(s);
    },

    async trainStart() {
      const tr = get().tr;
      if (!tr.suggestion || active(tr.job)) return;
      try {
        const job = await call('training.start', buildTrainInput(tr, tr.suggestion));
        get().upsertJob(job);
        patch({ job: job.id, live: [], trying: null, step: STEP.training });
        get().trainNoteJob(job);
      } catch (err) {
        reportError(err);
      }
    },

    trainNoteJob(job) {
      if (job.kind !== 'models.train') return;
      const tr = get().tr;
      if (job.id === tr.job && job.message) {
        const live = mergeProgress(tr.live, job.message);
        const trying = /^\s*Trying\b/i.test(job.message) ? job.message : tr.trying;
        if (live !== tr.live || trying !== tr.trying) patch({ live, trying });
      }
      const over = job.state === 'done' || job.state === 'failed' || job.state === 'cancelled' || job.state === 'interrupted';
      if (!over || ended.has(job.id)) return;
      ended.add(job.id);
      if (job.state !== 'done') return;
      void get().loadModels();
      const r = job.result as Partial<TrainResult> | null;
      if (!r?.model) return;
      get().toast('success', `Trained ${r.model}, version ${r.version ?? '?'}.`);
      if (job.id === get().tr.job) {
        // The wizard is done with this run; its settings stay for the next one.
        patch({ step: 0, job: null, live: [], trying: null });
        if (get().route === 'train') get().go('models', r.model);
      }
    },

    trainBackToSettings() {
      patch({ step: STEP.budget, job: null, live: [], trying: null });
    },
  };
};
