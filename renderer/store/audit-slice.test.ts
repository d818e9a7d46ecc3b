import { describe, expect, it } from 'vitest';
import { create } from 'zustand';
import type { ApiClient, AuditEntry } from '../../shared/api';
import { setClient } from '../api/api';
import { AUDIT_PAGE, createAuditSlice, type AuditSlice } from './audit-slice';
import type { State } from './store';

const entry = (id: number): AuditEntry => ({ id, at: '2026-04-01T10:00:00Z', who: 'ana', action: 'model.alias', details: {} });

/** A fake core: an audit log of `total` entries, newest first, that records what it was asked. */
function fakeCore(total: number) {
  const asked: Record<string, unknown>[] = [];
  const client = {
    transport: 'http',
    async call(name: string, arg: Record<string, unknown>) {
      asked.push({ name, ...arg });
      if (name !== 'audit.list') throw new Error(`unexpected ${name}`);
      const before = typeof arg.beforeId === 'number' ? arg.beforeId : total + 1;
      const ids = Array.from({ length: total }, (_, i) => total - i).filter((id) => id < before);
      return ids.slice(0, Number(arg.limit)).map(entry);
    },
  } as unknown as ApiClient;
  setClient(client);
  return asked;
}

const store = () => create<State>()((...a) => ({ ...createAuditSlice(...a) }) as unknown as State);

describe('audit paging and filters', () => {
  it('loads a page, then the older entries before the last one shown', async () => {
    const asked = fakeCore(AUDIT_PAGE + 7);
    const s = store();
    await s.getState().loadAudit();
    expect(s.getState().audit).toHaveLength(AUDIT_PAGE);
    expect(s.getState().auditMore).toBe(true);
    await s.getState().loadMoreAudit();
    const audit = s.getState().audit!;
    expect(audit).toHaveLength(AUDIT_PAGE + 7);
    expect(audit.at(-1)!.id).toBe(1);
    expect(s.getState().auditMore).toBe(false);
    expect(asked[1]).toEqual(expect.objectContaining({ beforeId: 8 }));
  });

  it('asks again from the newest with only the filters that are set', async () => {
    const asked = fakeCore(3);
    const s = store();
    (s.getState() as AuditSlice).setAuditFilter({ useCase: 'P-101 trips', action: 'model.alias' });
    await new Promise((r) => setTimeout(r, 0));
    expect(asked.at(-1)).toEqual({ name: 'audit.list', limit: AUDIT_PAGE, useCase: 'P-101 trips', action: 'model.alias' });
    expect(s.getState().auditMore).toBe(false);
  });
});
