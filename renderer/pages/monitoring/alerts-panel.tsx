import { useState } from 'react';
import type { Alert } from '../../../shared/monitor';
import { AppLink } from '../../components/app-link';
import { Icon } from '../../components/icons';
import { MenuButton } from '../../components/menu-button';
import { useStore } from '../../store/store';
import { clockTime, relativeTime } from '../deployments/deploy-logic';
import { ALERT_KIND_WORDS, SNOOZE_CHOICES, alertStateWords } from './monitor-logic';

/** Firing alerts at the top of a page, each with Acknowledge and Snooze; nothing when none fire. */
export function AlertsPanel({ alerts, now, showEndpoint = true }: { alerts: readonly Alert[]; now: number; showEndpoint?: boolean }) {
  const firing = alerts.filter((a) => a.state === 'firing');
  if (firing.length === 0) return null;
  return (
    <section className="card monitor-alerts" aria-labelledby="monitor-alerts-title" data-testid="monitor-alerts">
      <h3 id="monitor-alerts-title">
        <Icon name="alert" size={16} /> {firing.length === 1 ? '1 alert' : `${firing.length} alerts`} firing
      </h3>
      <ul className="monitor-alert-list">
        {firing.map((a) => (
          <AlertRow key={a.id} a={a} now={now} showEndpoint={showEndpoint} />
        ))}
      </ul>
    </section>
  );
}

function AlertRow({ a, now, showEndpoint }: { a: Alert; now: number; showEndpoint: boolean }) {
  const act = useStore((s) => s.alertAction);
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<string | null>(null);
  const run = async (action: Parameters<typeof act>[1]) => {
    setBusy(true);
    setRefused(await act(a.id, action));
    setBusy(false);
  };
  const handled = alertStateWords(a, now);
  const quiet = Boolean(a.acknowledgedAt);
  return (
    <li className={`monitor-alert${quiet ? ' handled' : ''}`} data-testid={`alert-${a.id}`} data-kind={a.kind}>
      <span className={`chip ${quiet ? 'chip-neutral' : 'chip-bad'}`}>
        <Icon name="alert" size={12} /> {ALERT_KIND_WORDS[a.kind]}
      </span>
      <div className="monitor-alert-text">
        <span className="strong" data-testid="alert-message">
          {a.message}
        </span>
        <span className="muted small">
          {showEndpoint && (
            <>
              <AppLink route="monitoring" param={a.endpoint}>
                {a.endpoint}
              </AppLink>
              {' · '}
            </>
          )}
          Since <span title={new Date(a.firstAt).toLocaleString()}>{clockTime(a.firstAt, now)}</span> ({relativeTime(a.firstAt, now)})
          {handled && <span data-testid="alert-handled"> · {handled}</span>}
        </span>
        {refused && (
          <span className="small" role="alert">
            {refused}
          </span>
        )}
      </div>
      <div className="monitor-alert-actions">
        {!a.acknowledgedAt && (
          <button className="button small" disabled={busy} onClick={() => void run({ kind: 'acknowledge' })} data-testid="alert-acknowledge">
            <Icon name="check" size={14} /> Acknowledge
          </button>
        )}
        <MenuButton
          buttonClass="button small"
          menuClass="menu-snooze"
          disabled={busy}
          testId="alert-snooze"
          label={
            <>
              <Icon name="moon" size={14} /> Snooze
            </>
          }
          items={(close) =>
            SNOOZE_CHOICES.map((c) => (
              <li key={c.minutes} role="none">
                <button
                  role="menuitem"
                  className="menu-item"
                  onClick={() => {
                    close();
                    void run({ kind: 'snooze', minutes: c.minutes });
                  }}
                >
                  <span className="menu-title">For {c.label}</span>
                  <span className="muted small">No notifications until then; the alert stays on this page.</span>
                </button>
              </li>
            ))
          }
        />
      </div>
    </li>
  );
}

/** Alerts that fired and cleared: what happened, from when to when. Nothing when there were none. */
export function EarlierAlerts({ alerts, now }: { alerts: readonly Alert[]; now: number }) {
  const cleared = alerts.filter((a) => a.state === 'cleared');
  if (cleared.length === 0) return null;
  return (
    <section className="card section monitor-earlier" aria-labelledby="earlier-alerts-title" data-testid="earlier-alerts">
      <h3 id="earlier-alerts-title">Earlier alerts</h3>
      <table className="table compact">
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">Until</th>
            <th scope="col">What</th>
            <th scope="col" className="wide">
              Message
            </th>
          </tr>
        </thead>
        <tbody>
          {cleared.map((a) => (
            <tr key={a.id}>
              <td className="nowrap">{clockTime(a.firstAt, now)}</td>
              <td className="nowrap">{a.clearedAt ? clockTime(a.clearedAt, now) : '–'}</td>
              <td className="nowrap">{ALERT_KIND_WORDS[a.kind]}</td>
              <td>
                {a.message}
                {a.acknowledgedAt && <span className="muted small block">{alertStateWords(a, now)}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
