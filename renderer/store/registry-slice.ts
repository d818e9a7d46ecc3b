import type { StateCreator } from 'zustand';
import type { UseCaseSummary } from '../../shared/registry';
import type { ModelAlias } from '../../shared/training';
import { call } from '../api/api';
import { isActive } from './jobs-slice';
import { errorMessage, reportError } from './report-error';
import type { State } from './store';

export interface UseCaseDraft {
  name: string;
  goal: string;
  kpi: string;
}

/** The registry: use cases, and the Reproduce jobs of model versions (kept here so leaving the page never loses one). */
export interface RegistrySlice {
  useCases: UseCaseSummary[] | null;
  loadUseCases(): Promise<void>;
  /** Creates a use case, or changes the one named: its name, or the core's sentence when it refuses. */
  saveUseCase(draft: UseCaseDraft, existing: string | null): Promise<{ saved: string } | { refused: string }>;
  /** Puts a dataset or model under a use case (null takes it out). */
  assignUseCase(kind: 'dataset' | 'model', name: string, useCase: string | null): Promise<void>;
  /** Points production or challenger at a version, or archives or restores it: null when done, else the core's sentence. */
  changeVersion(change: VersionChange): Promise<string | null>;
  /** "model@version" → the Reproduce job started for it. */
  reproducing: Record<string, string>;
  reproduceStart(model: string, version: number): Promise<void>;
}

export type VersionChange =
  | { model: string; version: number; alias: ModelAlias; reason: string }
  | { model: string; version: number; archive: true; reason: string }
  | { model: string; version: number; restore: true };

export const versionKey = (model: string, version: number) => `${model}@${version}`;

export const createRegistrySlice: StateCreator<State, [], [], RegistrySlice> = (set, get) => ({
  useCases: null,
  async loadUseCases() {
    try {
      set({ useCases: await call('useCases.list', {}) });
    } catch (err) {
      reportError(err);
    }
  },
  async saveUseCase(draft, existing) {
    try {
      const saved = existing ? await call('useCases.update', { useCase: existing, ...draft }) : await call('useCases.create', draft);
      await get().loadUseCases();
      get().toast('success', existing ? `Saved the use case ${saved.name}.` : `Created the use case ${saved.name}.`);
      return { saved: saved.name };
    } catch (err) {
      return { refused: errorMessage(err) };
    }
  },
  async assignUseCase(kind, name, useCase) {
    try {
      await call('useCases.assign', { kind, name, useCase });
      await get().loadUseCases();
      get().toast('success', useCase ? `${name} is now under the use case ${useCase}.` : `${name} is no longer under a use case.`);
    } catch (err) {
      reportError(err);
    }
  },
  async changeVersion(c) {
    try {
      if ('alias' in c) await call('models.promote', c);
      else if ('archive' in c) await call('models.archive', { model: c.model, version: c.version, ...(c.reason.trim() ? { reason: c.reason.trim() } : {}) });
      else await call('models.restore', { model: c.model, version: c.version });
      const done =
        'alias' in c ? `Version ${c.version} of ${c.model} is now ${c.alias}.` : 'archive' in c ? `Archived version ${c.version} of ${c.model}.` : `Restored version ${c.version} of ${c.model}.`;
      get().toast('success', done);
      // Aliases change what Home and the Models list show.
      void get().loadModels();
      void get().loadUseCases();
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  },
  reproducing: {},
  async reproduceStart(model, version) {
    const key = versionKey(model, version);
    const running = get().reproducing[key];
    const job = running ? get().jobs[running] : undefined;
    if (job && isActive(job)) return;
    try {
      const started = await call('models.reproduce', { model, version });
      get().upsertJob(started);
      set({ reproducing: { ...get().reproducing, [key]: started.id } });
    } catch (err) {
      reportError(err);
    }
  },
});
