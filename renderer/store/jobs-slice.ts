import type { StateCreator } from 'zustand';
import type { JobInfo } from '../../shared/api';
import { call } from '../api/api';
import type { State } from './store';
import { reportError } from './report-error';

export interface JobsSlice {
  jobs: Record<string, JobInfo>;
  loadJobs(): Promise<void>;
  upsertJob(job: JobInfo): void;
  cancelJob(id: string): Promise<void>;
}

export const createJobsSlice: StateCreator<State, [], [], JobsSlice> = (set, get) => ({
  jobs: {},
  async loadJobs() {
    try {
      const list = await call('jobs.list', { limit: 100 });
      set({ jobs: Object.fromEntries(list.map((j) => [j.id, j])) });
    } catch (err) {
      reportError(err);
    }
  },
  upsertJob(job) {
    const before = get().jobs[job.id];
    // A reply can arrive after a newer pushed event (cancel answers "Stopping…"
    // while the job has already ended); an ended job never runs again.
    if (before && !isActive(before) && isActive(job)) return;
    set({ jobs: { ...get().jobs, [job.id]: job } });
    if (before && before.state !== job.state) {
      if (job.state === 'failed') get().toast('error', `${job.title} failed: ${job.error?.message ?? 'no reason given'}`);
      if (job.state === 'interrupted') get().toast('error', `${job.title} was interrupted.`);
    }
  },
  async cancelJob(id) {
    try {
      get().upsertJob(await call('jobs.cancel', { id }));
    } catch (err) {
      reportError(err);
    }
  },
});

export function sortedJobs(jobs: Record<string, JobInfo>): JobInfo[] {
  return Object.values(jobs).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.id.localeCompare(a.id)));
}

export function isActive(job: JobInfo): boolean {
  return job.state === 'queued' || job.state === 'running';
}
