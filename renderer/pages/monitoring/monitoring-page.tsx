import { useEffect } from 'react';
import type { EndpointMonitor } from '../../../shared/monitor';
import { AppLink } from '../../components/app-link';
import { EmptyState } from '../../components/empty-state';
import { Icon } from '../../components/icons';
import { useStore } from '../../store/store';
import { timeZoneLabel } from '../when';
import { AlertsPanel } from './alerts-panel';
import { ContactChip, VerdictChip } from './chips';
import { CheckNowButton, useNow } from './check-now';
import { EndpointDashboardView } from './endpoint-dashboard';
import { count, intervalWords, latencyText, needsPerson, percentText } from './monitor-logic';
import './monitoring.css';

/** "#/monitoring" lists the endpoints with their health and drift; "#/monitoring/NAME" is one endpoint's dashboard. */
export function MonitoringPage() {
  const param = useStore((s) => s.pageParam);
  return param ? <EndpointDashboardView name={param} /> : <EndpointList />;
}

function EndpointList() {
  const monitor = useStore((s) => s.monitor);
  const error = useStore((s) => s.monitorError);
  const alerts = useStore((s) => s.alerts);
  const settings = useStore((s) => s.monitorSettings);
  const load = useStore((s) => s.loadMonitor);
  const loadAlerts = useStore((s) => s.loadAlerts);
  const loadSettings = useStore((s) => s.loadMonitorSettings);
  const go = useStore((s) => s.go);
  const now = useNow();

  useEffect(() => {
    void load();
    void loadAlerts();
    void loadSettings();
  }, [load, loadAlerts, loadSettings]);

  if (!monitor) {
    return (
      <div className="page">
        {error ? (
          <p className="card section" role="alert">
            {error}
          </p>
        ) : (
          <p className="muted">Loading the endpoints…</p>
        )}
      </div>
    );
  }
  if (monitor.endpoints.length === 0) {
    return (
      <div className="page">
        <EmptyState
          icon="monitoring"
          title="No deployed models to watch"
          actions={
            <button className="button primary" onClick={() => go('deployments', 'deploy')} data-testid="monitor-deploy">
              <Icon name="deployments" size={16} /> Deploy a model
            </button>
          }
        >
          Once a model runs on an endpoint, this page shows its health, how many predictions it makes, and whether the incoming sensor data still looks
          like the data it was trained on (stable, watch, changed).
        </EmptyState>
      </div>
    );
  }

  return (
    <div className="page wide monitoring">
      <AlertsPanel alerts={alerts ?? []} now={now} />
      <div className="toolbar">
        <span className="muted">
          {count(monitor.endpoints.length, 'endpoint', 'endpoints')}
          {settings && ` · checked ${intervalWords(settings.intervalSeconds)}`} · traffic over the last hour · times in {timeZoneLabel()}
        </span>
        <div className="toolbar-actions">
          <CheckNowButton endpoints={monitor.endpoints.length} />
        </div>
      </div>
      <div className="card table-card">
        <table className="table monitor-table" data-testid="monitor-table">
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Contact</th>
              <th scope="col" className="num">
                Last hour
              </th>
              <th scope="col" className="num" title="Response time of the slowest 1 % of requests over the last hour (p99)">
                Slowest 1 %
              </th>
              <th scope="col">Inputs vs training</th>
              <th scope="col" className="num">
                Alerts
              </th>
            </tr>
          </thead>
          <tbody>
            {monitor.endpoints.map((e) => (
              <EndpointRow key={e.name} e={e} now={now} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function EndpointRow({ e, now }: { e: EndpointMonitor; now: number }) {
  const stopped = useStore((s) => s.endpoints?.find((x) => x.name === e.name)?.status === 'stopped');
  const firing = e.alerts.filter((a) => a.state === 'firing').length;
  // Red while someone still has to look at one; grey once each has been acknowledged or snoozed.
  const unseen = e.alerts.some((a) => needsPerson(a, now));
  const changed = e.drift.inputs.filter((i) => i.verdict === 'changed').length;
  return (
    <tr data-testid={`monitor-row-${e.name}`}>
      <td>
        <AppLink route="monitoring" param={e.name} className="row-link strong">
          {e.name}
        </AppLink>
        <span className="muted small block" data-testid="monitor-serves">
          {e.model ? `${e.model.name}, version ${e.model.version}` : 'Model not known yet'}
        </span>
      </td>
      <td className="monitor-contact-cell">
        <ContactChip e={e} now={now} stopped={stopped} />
      </td>
      <td className="num">
        <span data-testid="monitor-requests">{count(e.requests, 'request', 'requests')}</span>
        <span className={`small block${e.errors > 0 ? '' : ' muted'}`} data-testid="monitor-errors">
          {count(e.errors, 'error', 'errors')}
          {e.errors > 0 && ` (${percentText(e.errors / e.requests)})`}
        </span>
      </td>
      <td className="num">{latencyText(e.latencyP99Ms)}</td>
      <td>
        <VerdictChip verdict={e.drift.verdict} testId="monitor-drift" />
        {changed > 0 && <span className="muted small block">{count(changed, 'input changed', 'inputs changed')}</span>}
      </td>
      <td className="num">
        {firing > 0 ? (
          <span className={`chip ${unseen ? 'chip-bad' : 'chip-neutral'}`} data-testid="monitor-alert-count" title={unseen ? undefined : 'Acknowledged or snoozed'}>
            <Icon name="alert" size={12} /> {firing}
          </span>
        ) : (
          <span className="muted" data-testid="monitor-alert-count">
            none
          </span>
        )}
      </td>
    </tr>
  );
}
