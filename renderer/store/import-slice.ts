import type { StateCreator } from 'zustand';
import type { FileRef, InspectResult, JobInfo } from '../../shared/api';
import type { ColumnType, Problem, ProblemKind, ReadSettings } from '../../shared/datasets';
import { api, call } from '../api/api';
import { reportError } from './report-error';
import type { State } from './store';

export const IMPORT_STEPS = ['Choose files', 'How we read it', 'Columns', 'Problems', 'Name and save'] as const;
export type Choice = 'missing' | 'skip' | 'keep';

export interface Analysis {
  stagingId: string;
  rows: number;
  blankLines: number;
  problems: Problem[];
}

/** The import wizard's draft: kept in the store so Back, or leaving the page, never loses what was entered. */
export interface ImportSlice {
  imp: {
    step: number;
    files: FileRef[];
    uploading: { name: string; fraction: number } | null;
    inspect: InspectResult | null;
    inspecting: boolean;
    overrides: Partial<ReadSettings>;
    types: Record<string, ColumnType>;
    analyzeJob: string | null;
    analysis: Analysis | null;
    choices: Partial<Record<ProblemKind, Choice>>;
    totals: { rowsRead: number; rowsKept: number; rowsSkipped: number } | null;
    name: string;
    description: string;
    saveJob: string | null;
  };
  importReset(): void;
  importSetStep(step: number): void;
  importAddFiles(files: File[]): Promise<void>;
  importChange(overrides: Partial<ReadSettings>): Promise<void>;
  importSetType(header: string, type: ColumnType): Promise<void>;
  importAnalyze(): Promise<void>;
  importAnalysisDone(job: JobInfo): void;
  importChoose(kind: ProblemKind, choice: Choice): Promise<void>;
  importSetName(name: string, description: string): void;
  importSave(): Promise<void>;
}

const blank = (): ImportSlice['imp'] => ({
  step: 0,
  files: [],
  uploading: null,
  inspect: null,
  inspecting: false,
  overrides: {},
  types: {},
  analyzeJob: null,
  analysis: null,
  choices: {},
  totals: null,
  name: '',
  description: '',
  saveJob: null,
});

export const createImportSlice: StateCreator<State, [], [], ImportSlice> = (set, get) => {
  const patch = (p: Partial<ImportSlice['imp']>) => set({ imp: { ...get().imp, ...p } });

  const inspect = async () => {
    const { files, overrides, types } = get().imp;
    if (!files.length) return;
    patch({ inspecting: true });
    try {
      const result = await call('imports.inspect', { paths: files.map((f) => f.path), settings: overrides, types });
      // Reading settings or types changed: an earlier analysis no longer applies.
      patch({ inspect: result, inspecting: false, analysis: null, analyzeJob: null, totals: null });
    } catch (err) {
      patch({ inspecting: false });
      reportError(err);
    }
  };

  const refreshTotals = async () => {
    const { analysis, choices } = get().imp;
    if (!analysis) return;
    try {
      patch({ totals: await call('imports.totals', { stagingId: analysis.stagingId, choices }) });
    } catch (err) {
      reportError(err);
    }
  };

  return {
    imp: blank(),
    importReset() {
      set({ imp: blank() });
    },
    importSetStep(step) {
      patch({ step });
      if (step === 3 && !get().imp.analysis && !get().imp.analyzeJob) void get().importAnalyze();
    },
    async importAddFiles(list) {
      const refs: FileRef[] = [];
      try {
        for (const f of list) {
          patch({ uploading: { name: f.name, fraction: 0 } });
          refs.push(await api().fileRef(f, (fraction) => patch({ uploading: { name: f.name, fraction } })));
        }
      } catch (err) {
        patch({ uploading: null });
        reportError(err);
        return;
      }
      const stem = refs[0]?.fileName.replace(/\.[^.]+$/, '') ?? '';
      patch({ files: refs, uploading: null, overrides: {}, types: {}, analysis: null, analyzeJob: null, choices: {}, totals: null, name: get().imp.name || stem });
      patch({ inspect: null });
      await inspect();
      // A file that cannot be read leaves nothing behind to confuse the next try.
      if (get().imp.inspect) patch({ step: 1 });
      else patch({ files: [] });
    },
    async importChange(overrides) {
      patch({ overrides: { ...get().imp.overrides, ...overrides } });
      await inspect();
    },
    async importSetType(header, type) {
      patch({ types: { ...get().imp.types, [header]: type } });
      await inspect();
    },
    async importAnalyze() {
      const { files, inspect: insp, types } = get().imp;
      if (!insp) return;
      try {
        const job = await call('imports.analyze', { paths: files.map((f) => f.path), settings: insp.settings, types });
        get().upsertJob(job);
        patch({ analyzeJob: job.id, analysis: null, totals: null });
      } catch (err) {
        reportError(err);
      }
    },
    importAnalysisDone(job) {
      if (job.id !== get().imp.analyzeJob) return;
      if (job.state === 'done') {
        patch({ analysis: job.result as Analysis });
        void refreshTotals();
      } else patch({ analyzeJob: null });
    },
    async importChoose(kind, choice) {
      patch({ choices: { ...get().imp.choices, [kind]: choice } });
      await refreshTotals();
    },
    importSetName(name, description) {
      patch({ name, description });
    },
    async importSave() {
      const { analysis, name, description, choices } = get().imp;
      if (!analysis) return;
      try {
        const job = await call('imports.save', { stagingId: analysis.stagingId, name: name.trim(), description, choices });
        get().upsertJob(job);
        patch({ saveJob: job.id });
      } catch (err) {
        reportError(err);
      }
    },
  };
};
