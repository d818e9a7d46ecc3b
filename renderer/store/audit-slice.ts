import type { StateCreator } from 'zustand';
import type { AuditEntry } from '../../shared/api';
import { call } from '../api/api';
import { reportError } from './report-error';
import type { State } from './store';

/** The audit log's filters; '' means any. */
export interface AuditFilter {
  useCase: string;
  /** A dataset or model name. */
  object: string;
  who: string;
  /** An action prefix ("model") or one action ("model.alias"). */
  action: string;
}

export interface AuditSlice {
  auditFilter: AuditFilter;
  /** Entries loaded so far, newest first; null before the first page arrives. */
  audit: AuditEntry[] | null;
  /** True when the last page was full, so older entries may follow. */
  auditMore: boolean;
  auditLoading: boolean;
  people: string[];
  /** Loads the first page with the current filters (again). */
  loadAudit(): Promise<void>;
  loadMoreAudit(): Promise<void>;
  setAuditFilter(patch: Partial<AuditFilter>): void;
  loadPeople(): Promise<void>;
  /** The whole filtered log as CSV text, or null when it could not be made. */
  auditCsv(): Promise<{ csv: string; rows: number } | null>;
}

export const AUDIT_PAGE = 50;
export const noFilter: AuditFilter = { useCase: '', object: '', who: '', action: '' };

/** The filters as the API takes them: empty ones left out. */
function args(f: AuditFilter) {
  return {
    ...(f.useCase ? { useCase: f.useCase } : {}),
    ...(f.object ? { object: f.object } : {}),
    ...(f.who ? { who: f.who } : {}),
    ...(f.action ? { action: f.action } : {}),
  };
}

export const createAuditSlice: StateCreator<State, [], [], AuditSlice> = (set, get) => {
  // A page asked for with older filters must not land on top of a newer answer.
  let request = 0;
  const page = async (beforeId: number | undefined) => {
    const mine = ++request;
    set({ auditLoading: true });
    try {
      const rows = await call('audit.list', { limit: AUDIT_PAGE, ...args(get().auditFilter), ...(beforeId ? { beforeId } : {}) });
      if (mine !== request) return;
      set({ audit: beforeId ? [...(get().audit ?? []), ...rows] : rows, auditMore: rows.length === AUDIT_PAGE, auditLoading: false });
    } catch (err) {
      if (mine === request) set({ auditLoading: false });
      reportError(err);
    }
  };
  return {
    auditFilter: noFilter,
    audit: null,
    auditMore: false,
    auditLoading: false,
    people: [],
    loadAudit: () => page(undefined),
    async loadMoreAudit() {
      const last = get().audit?.at(-1);
      if (last && get().auditMore && !get().auditLoading) await page(last.id);
    },
    setAuditFilter(patch) {
      set({ auditFilter: { ...get().auditFilter, ...patch } });
      void page(undefined);
    },
    async loadPeople() {
      try {
        set({ people: await call('audit.people', {}) });
      } catch (err) {
        reportError(err);
      }
    },
    async auditCsv() {
      try {
        return await call('audit.csv', args(get().auditFilter));
      } catch (err) {
        reportError(err);
        return null;
      }
    },
  };
};
