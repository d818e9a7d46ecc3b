import type { StateCreator } from 'zustand';
import type { AppInfo, DatasetSummary, SampleInfo } from '../../shared/api';
import { call } from '../api/api';
import type { State } from './store';
import { reportError } from './report-error';

export interface DataSlice {
  info: AppInfo | null;
  datasets: DatasetSummary[] | null;
  samples: SampleInfo[];
  loadInfo(): Promise<void>;
  loadDatasets(): Promise<void>;
  loadSamples(): Promise<void>;
  addSample(id: string): Promise<void>;
}

export const createDataSlice: StateCreator<State, [], [], DataSlice> = (set, get) => {
  /** Fetches one field from the core; a failure becomes a toast and leaves the old value. */
  const loader =
    <K extends 'info' | 'datasets' | 'samples'>(key: K, fetch: () => Promise<DataSlice[K]>) =>
    async (): Promise<void> => {
      try {
        const value = await fetch();
        set({ [key]: value } as Pick<DataSlice, K>);
      } catch (err) {
        reportError(err);
      }
    };
  return {
    info: null,
    datasets: null,
    samples: [],
    loadInfo: loader('info', () => call('app.info', {})),
    loadDatasets: loader('datasets', () => call('datasets.list', {})),
    loadSamples: loader('samples', () => call('samples.list', {})),
    async addSample(id) {
      try {
        const job = await call('samples.add', { id });
        get().upsertJob(job);
        get().setTrayOpen(true);
      } catch (err) {
        reportError(err);
      }
    },
  };
};
