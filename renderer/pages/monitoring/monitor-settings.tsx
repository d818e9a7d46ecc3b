import { useEffect, useId, useState, type ReactNode } from 'react';
import { useStore } from '../../store/store';
import './monitoring.css';
import { type DraftField, type IntervalUnit, type SettingsDraft, intervalWords, parseSettingsDraft, settingsDraft } from './monitor-logic';

/** Settings › Monitoring: how often endpoints are checked and when to tell someone, in sentences with the numbers inside them. */
export function MonitorSettingsSection() {
  const settings = useStore((s) => s.monitorSettings);
  const load = useStore((s) => s.loadMonitorSettings);
  const configure = useStore((s) => s.configureMonitor);
  const toast = useStore((s) => s.toast);
  const [draft, setDraft] = useState<SettingsDraft | null>(null);
  const [problem, setProblem] = useState<{ field: DraftField | null; error: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const id = useId();

  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    if (settings) setDraft(settingsDraft(settings));
  }, [settings]);

  if (!draft || !settings) {
    return (
      <section className="card section" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>Monitoring</h2>
        <p className="muted">Loading…</p>
      </section>
    );
  }

  const dirty = JSON.stringify(draft) !== JSON.stringify(settingsDraft(settings));
  const edit = (p: Partial<SettingsDraft>) => {
    setDraft({ ...draft, ...p });
    setProblem(null);
  };
  const save = async () => {
    const parsed = parseSettingsDraft(draft);
    if ('error' in parsed) return setProblem(parsed);
    setSaving(true);
    const refused = await configure(parsed.settings);
    setSaving(false);
    if (refused) setProblem({ field: null, error: refused });
    else toast('success', `Saved. Endpoints are checked ${intervalWords(parsed.settings.intervalSeconds)}.`);
  };
  const bad = (f: DraftField) => problem?.field === f;
  const numberBox = (f: DraftField, value: string, set: (v: string) => void, label: string, width = 5) => (
    <input
      className="inline-number"
      inputMode="decimal"
      size={width}
      value={value}
      onChange={(e) => set(e.target.value)}
      aria-label={label}
      aria-invalid={bad(f) || undefined}
      aria-describedby={bad(f) ? `${id}-error` : undefined}
      data-testid={`monitor-setting-${f}`}
    />
  );

  return (
    <section className="card section monitor-settings" aria-labelledby={`${id}-title`} data-testid="monitor-settings">
      <h2 id={`${id}-title`}>Monitoring</h2>
      <p className="muted small">Millwright checks every endpoint in the background, whether or not this window is open, and compares what it sees with the training data.</p>
      <div className="rule-line">
        Check every endpoint every {numberBox('interval', draft.interval, (v) => edit({ interval: v }), 'How often to check')}
        <select value={draft.unit} onChange={(e) => edit({ unit: e.target.value as IntervalUnit })} aria-label="Unit of the interval" data-testid="monitor-setting-unit">
          <option value="seconds">{Number(draft.interval) === 1 ? 'second' : 'seconds'}</option>
          <option value="minutes">{Number(draft.interval) === 1 ? 'minute' : 'minutes'}</option>
        </select>
      </div>
      <h3>Tell me when</h3>
      <Rule on={draft.down.enabled} set={(on) => edit({ down: { ...draft.down, enabled: on } })} testId="rule-down">
        an endpoint has not answered for {numberBox('down', draft.down.minutes, (v) => edit({ down: { ...draft.down, minutes: v } }), 'Minutes without an answer')} minutes
      </Rule>
      <Rule on={draft.errors.enabled} set={(on) => edit({ errors: { ...draft.errors, enabled: on } })} testId="rule-errors">
        an endpoint&apos;s error rate is above {numberBox('errors', draft.errors.percent, (v) => edit({ errors: { ...draft.errors, percent: v } }), 'Error rate in percent')} % over the last
        hour
      </Rule>
      <Rule on={draft.drift.enabled} set={(on) => edit({ drift: { enabled: on } })} testId="rule-drift">
        a model&apos;s inputs have changed compared with its training data
      </Rule>
      <Rule on={draft.anomalies.enabled} set={(on) => edit({ anomalies: { ...draft.anomalies, enabled: on } })} testId="rule-anomalies">
        unusual behaviour is more than {numberBox('anomalies', draft.anomalies.factor, (v) => edit({ anomalies: { ...draft.anomalies, factor: v } }), 'Times the rate in training', 4)} times as
        frequent as in training
      </Rule>
      <label className="rule-line">
        <input type="checkbox" checked={draft.notifications} onChange={(e) => edit({ notifications: e.target.checked })} data-testid="monitor-setting-notifications" />
        Also show alerts as Windows or macOS notifications (in the desktop app)
      </label>
      {problem && (
        <p className="field-error" id={`${id}-error`} role="alert">
          {problem.error}
        </p>
      )}
      <div className="rule-actions">
        <button className="button primary" onClick={() => void save()} disabled={!dirty || saving} data-testid="monitor-settings-save">
          {saving ? 'Saving…' : 'Save'}
        </button>
        {dirty && (
          <button className="button" onClick={() => (setDraft(settingsDraft(settings)), setProblem(null))}>
            Undo changes
          </button>
        )}
      </div>
    </section>
  );
}

/** A rule: a switch, then the sentence it switches (which names the checkbox, numbers included). */
function Rule({ on, set, testId, children }: { on: boolean; set(on: boolean): void; testId: string; children: ReactNode }) {
  const id = useId();
  return (
    <div className={`rule-line${on ? '' : ' off'}`} data-testid={testId}>
      <input type="checkbox" checked={on} onChange={(e) => set(e.target.checked)} aria-labelledby={id} />
      <span id={id}>{children}</span>
    </div>
  );
}
