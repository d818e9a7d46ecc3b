import type { StateCreator } from 'zustand';
import type { AppInfo, AuditEntry, DatasetSummary, SampleInfo } from '../../shared/api';
import { call } from '../api/api';
import type { State } from './store';
import { reportError } from './report-error';

export interface DataSlice {
  info: AppInfo | null;
  datasets: DatasetSummary[] | null;
  samples: SampleInfo[];
  audit: AuditEntry[] | null;
  loadInfo(): Promise<void>;
  loadDatasets(): Promise<void>;
  loadSamples(): Promise<void>;
  loadAudit(): Promise<void>;
  addSample(id: string): Promise<void>;
}

export const createDataSlice: StateCreator<State, [], [], DataSlice> = (set, get) => ({
  info: null,
  datasets: null,
  samples: [],
  audit: null,
  async loadInfo() {
    try {
      set({ info: await call('app.info', {}) });
    } catch (err) {
      reportError(err);
    }
  },
  async loadDatasets() {
    try {
      set({ datasets: await call('datasets.list', {}) });
    } catch (err) {
      reportError(err);
    }
  },
  async loadSamples() {
    try {
      set({ samples: await call('samples.list', {}) });
    } catch (err) {
      reportError(err);
    }
  },
  async loadAudit() {
    try {
      set({ audit: await call('audit.list', { limit: 200 }) });
    } catch (err) {
      reportError(err);
    }
  },
  async addSample(id) {
    try {
      const job = await call('samples.add', { id });
      get().upsertJob(job);
      get().setTrayOpen(true);
    } catch (err) {
      reportError(err);
    }
  },
});
