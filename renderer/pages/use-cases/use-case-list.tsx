import { useEffect, useState } from 'react';
import type { UseCaseSummary } from '../../../shared/registry';
import { AppLink } from '../../components/app-link';
import { Icon } from '../../components/icons';
import { noFilter } from '../../store/audit-slice';
import { useStore } from '../../store/store';
import { formatMetric } from '../models/report-logic';
import './use-cases.css';
import { UseCaseDialog } from './use-case-dialog';

const HEALTH_WORDS: Record<UseCaseSummary['health'], string> = {
  ok: 'A model is in production',
  attention: 'Needs a decision: no model in production',
  empty: 'No model yet',
};

/** A status light with its meaning in words beside it (colour is never the only signal). */
export function HealthLight({ health }: { health: UseCaseSummary['health'] }) {
  return (
    <span className={`light light-${health}`} title={HEALTH_WORDS[health]} role="img" aria-label={HEALTH_WORDS[health]}>
      {health === 'ok' && <Icon name="check" size={11} />}
      {health === 'attention' && '!'}
    </span>
  );
}

/** Home: every use case with its health at a glance, goal, KPI, models and data. */
export function UseCaseList() {
  const useCases = useStore((s) => s.useCases);
  const load = useStore((s) => s.loadUseCases);
  const [editing, setEditing] = useState<UseCaseSummary | 'new' | null>(null);
  useEffect(() => void load(), [load]);
  if (useCases === null) return null;
  const dialog = editing && <UseCaseDialog existing={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />;
  const newButton = (
    <button className="button" onClick={() => setEditing('new')} data-testid="new-use-case">
      <Icon name="plus" size={16} /> New use case
    </button>
  );

  if (useCases.length === 0) {
    return (
      <section className="card section use-case-intro" aria-labelledby="uc-title">
        <div>
          <h2 id="uc-title">Use cases</h2>
          <p className="muted">
            Name a problem on the plant, such as “Warn 2 hours before pump P-101 trips”, with the KPI that says whether it works. Its data and models then sit
            together here, with how it is going at a glance.
          </p>
        </div>
        {newButton}
        {dialog}
      </section>
    );
  }

  return (
    <section className="use-cases" aria-labelledby="uc-title">
      <div className="toolbar">
        <h2 id="uc-title">Use cases</h2>
        <div className="toolbar-actions">{newButton}</div>
      </div>
      <ul className="use-case-grid">
        {useCases.map((u) => (
          <li key={u.id}>
            <UseCaseCard u={u} onEdit={() => setEditing(u)} />
          </li>
        ))}
      </ul>
      {dialog}
    </section>
  );
}

function UseCaseCard({ u, onEdit }: { u: UseCaseSummary; onEdit: () => void }) {
  const go = useStore((s) => s.go);
  const models = useStore((s) => s.models);
  const setAuditFilter = useStore((s) => s.setAuditFilter);
  return (
    <article className={`card use-case health-${u.health}`} aria-labelledby={`uc-${u.id}`} data-testid="use-case-card">
      <header className="use-case-head">
        <HealthLight health={u.health} />
        <div className="use-case-title">
          <h3 id={`uc-${u.id}`}>{u.name}</h3>
          <p className="small" data-testid="use-case-status">
            {u.status}
          </p>
        </div>
        <button className="button small" onClick={onEdit} aria-label={`Change ${u.name}`}>
          Change
        </button>
      </header>
      <dl className="use-case-facts">
        <dt>Goal</dt>
        <dd>{u.goal}</dd>
        <dt>KPI</dt>
        <dd>{u.kpi}</dd>
        <dt>Models</dt>
        <dd>
          {u.models.length === 0 ? (
            <span className="muted">None yet. Choose this use case on a model’s page.</span>
          ) : (
            <ul className="plain-links">
              {u.models.map((m) => {
                const latest = models?.find((x) => x.name === m.name)?.latest.version;
                return (
                  <li key={m.name}>
                    <AppLink route="models" param={m.name} className="row-link strong">
                      {m.name}
                    </AppLink>{' '}
                    {m.production !== null ? (
                      <span className="chip chip-production">production: version {m.production}</span>
                    ) : (
                      <span className="chip chip-warn">not in production</span>
                    )}
                    <span className="muted small block">
                      {m.metric} {formatMetric(m.value)}
                      {latest !== undefined && latest !== m.production ? ` for version ${latest}, the newest` : ''} · {m.versions}{' '}
                      {m.versions === 1 ? 'version' : 'versions'}
                    </span>
                  </li>
                );
              })}
            </ul>
          )}
        </dd>
        <dt>Data</dt>
        <dd>
          {u.datasets.length === 0 ? (
            <span className="muted">None yet. Choose this use case on a dataset’s page.</span>
          ) : (
            <ul className="plain-links">
              {u.datasets.map((d) => (
                <li key={d}>
                  <AppLink route="data" param={d}>
                    {d}
                  </AppLink>
                </li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
      <footer className="use-case-foot">
        <button
          className="link-button"
          onClick={() => {
            setAuditFilter({ ...noFilter, useCase: u.name });
            go('activity', 'audit');
          }}
        >
          What happened here <Icon name="arrow" size={14} />
        </button>
      </footer>
    </article>
  );
}
