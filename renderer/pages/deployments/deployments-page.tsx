import { useEffect, useState } from 'react';
import type { EndpointSummary } from '../../../shared/deploy';
import { AppLink } from '../../components/app-link';
import { EmptyState } from '../../components/empty-state';
import { Icon } from '../../components/icons';
import { useStore } from '../../store/store';
import { formatWhen, timeZoneLabel } from '../when';
import { endpointBlocked, historyWords, relativeTime, trafficWords } from './deploy-logic';
import { DeployWizard } from './deploy-wizard';
import { AddEndpointDialog, RemoveDialog, RollbackDialog } from './endpoint-dialogs';
import { EndpointStatus } from './endpoint-status';
import './deployments.css';

/** How often the page contacts the endpoints while it is open. */
const REFRESH_MS = 15_000;

/** "#/deployments" lists the endpoints; "#/deployments/deploy/MODEL[/VERSION]" is the Deploy wizard. */
export function DeploymentsPage() {
  const param = useStore((s) => s.pageParam);
  const path = useStore((s) => s.pagePath);
  const go = useStore((s) => s.go);
  if (param === 'deploy') {
    const [model, version] = path;
    const n = Number(version);
    return (
      <div className="page wide">
        <DeployWizard model={model ?? null} version={Number.isInteger(n) && n > 0 ? n : null} onClose={() => (model ? go('models', model) : go('deployments'))} />
      </div>
    );
  }
  return <Endpoints />;
}

type Pending = { kind: 'rollback' | 'remove'; e: EndpointSummary } | { kind: 'add' } | null;

function Endpoints() {
  const endpoints = useStore((s) => s.endpoints);
  const history = useStore((s) => s.deployHistory);
  const load = useStore((s) => s.loadEndpoints);
  const loadHistory = useStore((s) => s.loadDeployHistory);
  const refreshAll = useStore((s) => s.refreshEndpoints);
  const go = useStore((s) => s.go);
  const [now, setNow] = useState(() => Date.now());
  const [pending, setPending] = useState<Pending>(null);

  // Statuses are contacted on arrival and every 15 s while the page is open.
  useEffect(() => {
    let live = true;
    // An unreachable endpoint can take a while to time out: one round at a time.
    let busy = false;
    const tick = () => {
      if (busy) return;
      busy = true;
      void refreshAll().finally(() => {
        busy = false;
        if (live) setNow(Date.now());
      });
    };
    void load().then(tick);
    void loadHistory();
    const t = setInterval(tick, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [load, loadHistory, refreshAll]);

  const deployButton = (
    <button className="button primary" onClick={() => go('deployments', 'deploy')} data-testid="deploy-a-model">
      <Icon name="deployments" size={16} /> Deploy a model
    </button>
  );
  const addButton = (
    <button className="button" onClick={() => setPending({ kind: 'add' })} data-testid="add-endpoint">
      <Icon name="plus" size={16} /> Add endpoint
    </button>
  );
  const dialogs = (
    <>
      {pending?.kind === 'add' && <AddEndpointDialog onClose={() => setPending(null)} onAdded={() => setPending(null)} />}
      {pending?.kind === 'rollback' && <RollbackDialog e={pending.e} onClose={() => setPending(null)} />}
      {pending?.kind === 'remove' && <RemoveDialog e={pending.e} onClose={() => setPending(null)} />}
    </>
  );

  if (endpoints === null) {
    return (
      <div className="page">
        <p className="muted">Loading the endpoints…</p>
      </div>
    );
  }
  if (endpoints.length === 0) {
    return (
      <div className="page">
        <EmptyState
          icon="deployments"
          title="No endpoints yet"
          actions={
            <>
              {deployButton}
              {addButton}
            </>
          }
        >
          An endpoint is a small server beside the equipment, or on this PC, that runs a model and answers other programs with its predictions. Deploy
          a model to start one here, or add one that operations installed.
        </EmptyState>
        {history && history.length > 0 && <History />}
        {dialogs}
      </div>
    );
  }

  return (
    <div className="page wide deployments">
      <div className="toolbar">
        <span className="muted">
          {endpoints.length} {endpoints.length === 1 ? 'endpoint' : 'endpoints'} · checked every {REFRESH_MS / 1000} s · times in {timeZoneLabel()}
        </span>
        <div className="toolbar-actions">
          {addButton}
          {deployButton}
        </div>
      </div>
      <div className="card table-card">
        <table className="table endpoints-table" data-testid="endpoints-table">
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col">Serves</th>
              <th scope="col" className="num">
                Traffic
              </th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((e) => (
              <EndpointRow key={e.name} e={e} now={now} onRollback={() => setPending({ kind: 'rollback', e })} onRemove={() => setPending({ kind: 'remove', e })} />
            ))}
          </tbody>
        </table>
      </div>
      <History />
      {dialogs}
    </div>
  );
}

function EndpointRow({ e, now, onRollback, onRemove }: { e: EndpointSummary; now: number; onRollback: () => void; onRemove: () => void }) {
  const act = useStore((s) => s.endpointAction);
  const toast = useStore((s) => s.toast);
  const [busy, setBusy] = useState<string | null>(null);
  const run = async (action: 'refresh' | 'stop' | 'start') => {
    setBusy(action);
    const refused = await act(e.name, action);
    setBusy(null);
    if (refused) toast('error', refused);
  };
  const traffic = trafficWords(e);
  const noDeploy = endpointBlocked(e);
  const rollbackWhy = noDeploy ?? (e.previous ? null : `${e.name} has no previous version to go back to.`);
  const local = e.kind === 'local';
  return (
    <tr data-testid={`endpoint-${e.name}`}>
      <td>
        <span className="strong">{e.name}</span>
        <span className="muted small block">{local ? 'This PC' : 'Remote'}</span>
        <span className="muted small block mono endpoint-url">{e.url}</span>
      </td>
      <td className="endpoint-status-cell">
        <EndpointStatus e={e} now={now} />
        {e.status !== 'down' && (
          <span className="muted small block" data-testid="endpoint-last-contact">
            Last contact: {e.lastContact ? <span title={formatWhen(e.lastContact)}>{relativeTime(e.lastContact, now)}</span> : 'never'}
          </span>
        )}
      </td>
      <td className="endpoint-serves" data-testid="endpoint-serves">
        {e.model ? (
          <>
            <AppLink route="models" param={e.model.name}>
              {e.model.name}
            </AppLink>
            <span className="block" data-testid="endpoint-version">
              version {e.model.version}
            </span>
            {e.previous && (
              <span className="muted small block" data-testid="endpoint-previous">
                before: version {e.previous.version}
              </span>
            )}
          </>
        ) : (
          <span className="muted">Nothing known yet</span>
        )}
      </td>
      <td className="num">
        {traffic ? (
          <>
            {traffic.requests}
            {traffic.errors && <span className={`small block ${e.errors ? '' : 'muted'}`}>{traffic.errors}</span>}
          </>
        ) : (
          <span className="muted">–</span>
        )}
      </td>
      <td>
        <div className="endpoint-actions" role="group" aria-label={`${e.name} actions`}>
          <button className="button small" onClick={() => void run('refresh')} disabled={busy !== null} title="Refresh: contact it now" aria-label={`Refresh ${e.name}`} data-testid="endpoint-refresh">
            {busy === 'refresh' ? <span className="spinner" aria-hidden /> : <Icon name="repeat" size={14} />}
          </button>
          <button className="button small" onClick={onRollback} disabled={busy !== null || rollbackWhy !== null} title={rollbackWhy ?? `Go back to version ${e.previous?.version}`} data-testid="endpoint-rollback">
            Roll back
          </button>
          {local &&
            (e.status === 'stopped' ? (
              <button className="button small" onClick={() => void run('start')} disabled={busy !== null} data-testid="endpoint-start">
                {busy === 'start' ? <span className="spinner" aria-hidden /> : <Icon name="arrow" size={14} />} Start
              </button>
            ) : (
              <button className="button small" onClick={() => void run('stop')} disabled={busy !== null} data-testid="endpoint-stop">
                {busy === 'stop' ? <span className="spinner" aria-hidden /> : <Icon name="stop" size={14} />} Stop
              </button>
            ))}
          <button className="button small" onClick={onRemove} disabled={busy !== null} data-testid="endpoint-remove">
            Remove
          </button>
        </div>
      </td>
    </tr>
  );
}

function History() {
  const history = useStore((s) => s.deployHistory);
  if (!history) return null;
  return (
    <section className="card section deploy-history" aria-labelledby="deploy-history-title" data-testid="deploy-history">
      <h3 id="deploy-history-title">Deployment history</h3>
      {history.length === 0 ? (
        <p className="muted">No deployments yet.</p>
      ) : (
        <div className="table-scroll full">
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Endpoint</th>
                <th scope="col" className="wide">
                  What
                </th>
                <th scope="col">By</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {history.map((r, i) => (
                <tr key={`${r.at}-${r.endpoint}-${i}`}>
                  <td className="nowrap">{formatWhen(r.at)}</td>
                  <td>{r.endpoint}</td>
                  <td>{historyWords(r)}</td>
                  <td>{r.by}</td>
                  <td>
                    {r.ok ? (
                      <span className="muted">Done</span>
                    ) : (
                      <span className="chip chip-bad">
                        <Icon name="alert" size={12} /> Failed
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
