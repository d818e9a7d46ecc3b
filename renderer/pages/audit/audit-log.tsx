import { useEffect, useState } from 'react';
import { AppLink } from '../../components/app-link';
import { downloadText } from '../../components/download';
import { EmptyState } from '../../components/empty-state';
import { Icon } from '../../components/icons';
import { noFilter, type AuditFilter } from '../../store/audit-slice';
import { useStore } from '../../store/store';
import { formatWhen } from '../when';
import { AUDIT_KINDS, csvFileName, describeAudit, type AboutRef } from './audit-words';
import './audit.css';

/** Who did what and when: filters, the entries in plain words, older ones on request, and the lot as CSV. */
export function AuditLog() {
  const audit = useStore((s) => s.audit);
  const more = useStore((s) => s.auditMore);
  const loading = useStore((s) => s.auditLoading);
  const filter = useStore((s) => s.auditFilter);
  const loadAudit = useStore((s) => s.loadAudit);
  const loadMore = useStore((s) => s.loadMoreAudit);
  const setFilter = useStore((s) => s.setAuditFilter);
  useEffect(() => void loadAudit(), [loadAudit]);
  const filtered = Object.values(filter).some(Boolean);

  return (
    <div className="audit">
      <Filters filter={filter} onChange={setFilter} />
      <div className="toolbar">
        <span className="muted small" aria-live="polite">
          {audit === null ? '' : `${audit.length.toLocaleString()}${more ? '+' : ''} ${audit.length === 1 ? 'entry' : 'entries'}${filtered ? ' match the filters' : ''}, newest first.`}
        </span>
        <ExportButton />
      </div>
      {audit === null ? (
        <p className="muted">Loading…</p>
      ) : audit.length === 0 ? (
        <EmptyState
          icon="activity"
          title={filtered ? 'Nothing matches these filters' : 'Nothing recorded yet'}
          actions={
            filtered ? (
              <button className="button" onClick={() => setFilter(noFilter)}>
                Show everything
              </button>
            ) : undefined
          }
        >
          {filtered ? 'Choose another use case, object, person or kind, or clear the filters.' : 'Imports, training, alias moves and use case changes are recorded here with who did them.'}
        </EmptyState>
      ) : (
        <div className="card table-card">
          <table className="table audit-table" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col" className="wide">
                  What
                </th>
                <th scope="col">About</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {audit.map((e) => {
                const w = describeAudit(e);
                return (
                  <tr key={e.id}>
                    <td className="small nowrap">{formatWhen(e.at)}</td>
                    <td className="small">{e.who}</td>
                    <td>
                      {w.sentence}
                      <div className="muted small mono">{e.action}</div>
                    </td>
                    <td className="small">
                      <About refs={w.about} />
                    </td>
                    <td className="small details">{w.details}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {audit !== null && more && (
        <div className="audit-foot">
          <span className="muted small">Older entries follow.</span>
          <button className="button" onClick={() => void loadMore()} disabled={loading} data-testid="audit-more">
            {loading && <span className="spinner" aria-hidden />}
            Load more
          </button>
        </div>
      )}
    </div>
  );
}

function Filters({ filter, onChange }: { filter: AuditFilter; onChange: (patch: Partial<AuditFilter>) => void }) {
  const useCases = useStore((s) => s.useCases);
  const datasets = useStore((s) => s.datasets);
  const models = useStore((s) => s.models);
  const people = useStore((s) => s.people);
  const loadUseCases = useStore((s) => s.loadUseCases);
  const loadModels = useStore((s) => s.loadModels);
  const loadPeople = useStore((s) => s.loadPeople);
  useEffect(() => {
    void loadUseCases();
    void loadModels();
    void loadPeople();
  }, [loadUseCases, loadModels, loadPeople]);

  return (
    <div className="audit-filters" role="group" aria-label="Filter the audit log">
      <label className="field">
        <span className="field-label">Use case</span>
        <select value={filter.useCase} onChange={(e) => onChange({ useCase: e.target.value })} data-testid="audit-use-case">
          <option value="">Any</option>
          {useCases?.map((u) => (
            <option key={u.id} value={u.name}>
              {u.name}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span className="field-label">About</span>
        <select value={filter.object} onChange={(e) => onChange({ object: e.target.value })}>
          <option value="">Anything</option>
          {datasets && datasets.length > 0 && (
            <optgroup label="Datasets">
              {datasets.map((d) => (
                <option key={d.id} value={d.name}>
                  {d.name}
                </option>
              ))}
            </optgroup>
          )}
          {models && models.length > 0 && (
            <optgroup label="Models">
              {models.map((m) => (
                <option key={m.id} value={m.name}>
                  {m.name}
                </option>
              ))}
            </optgroup>
          )}
        </select>
      </label>
      <label className="field">
        <span className="field-label">Person</span>
        <select value={filter.who} onChange={(e) => onChange({ who: e.target.value })}>
          <option value="">Anyone</option>
          {people.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span className="field-label">Kind</span>
        <select value={filter.action} onChange={(e) => onChange({ action: e.target.value })}>
          {AUDIT_KINDS.map((k) => (
            <option key={k.value} value={k.value}>
              {k.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

function ExportButton() {
  const auditCsv = useStore((s) => s.auditCsv);
  const useCase = useStore((s) => s.auditFilter.useCase);
  const toast = useStore((s) => s.toast);
  const [busy, setBusy] = useState(false);
  const exportCsv = async () => {
    setBusy(true);
    const r = await auditCsv();
    setBusy(false);
    if (!r) return;
    downloadText(csvFileName(new Date(), useCase || null), r.csv);
    toast('success', `Exported ${r.rows.toLocaleString()} ${r.rows === 1 ? 'entry' : 'entries'} as CSV.`);
  };
  return (
    <button className="button audit-export" onClick={() => void exportCsv()} disabled={busy} data-testid="audit-export" title="The entries that match the filters, all of them, as a CSV file for a spreadsheet">
      <Icon name="download" size={16} /> Export CSV
    </button>
  );
}

function About({ refs }: { refs: AboutRef[] }) {
  if (!refs.length) return null;
  return (
    <ul className="plain-links audit-about">
      {refs.map((r) =>
        r.kind === 'useCase' ? (
          <li key={`${r.kind}:${r.name}`}>
            <span className="muted">use case</span> {r.name}
          </li>
        ) : (
          <li key={`${r.kind}:${r.name}`}>
            <AppLink route={r.kind === 'model' ? 'models' : 'data'} param={r.name}>
              {r.name}
            </AppLink>
          </li>
        ),
      )}
    </ul>
  );
}
