import { useState } from 'react';
import type { JobInfo, SystemCheckResult } from '../../shared/api';
import { call } from '../api/api';
import { Icon } from '../components/icons';
import { ProgressBar } from '../components/progress-bar';
import { reportError } from '../store/report-error';
import { useStore } from '../store/store';
import { FeedbackSettingsSection } from './feedback-settings';
import { MonitorSettingsSection } from './monitoring/monitor-settings';
import type { ThemeChoice } from '../store/ui-slice';

export function SettingsPage() {
  const theme = useStore((s) => s.theme);
  const setTheme = useStore((s) => s.setTheme);
  const info = useStore((s) => s.info);
  const samples = useStore((s) => s.samples);
  return (
    <div className="page settings">
      <section className="card section">
        <h2>Appearance</h2>
        <fieldset className="segmented">
          <legend className="muted small">Theme</legend>
          {(['system', 'light', 'dark'] as ThemeChoice[]).map((t) => (
            <label key={t} className={theme === t ? 'checked' : ''}>
              <input type="radio" name="theme" value={t} checked={theme === t} onChange={() => setTheme(t)} />
              {t === 'system' ? 'Same as Windows/macOS' : t === 'light' ? 'Light' : 'Dark'}
            </label>
          ))}
        </fieldset>
      </section>

      <MonitorSettingsSection />

      <FeedbackSettingsSection />

      <SystemCheck />

      <section className="card section">
        <h2>Workspace</h2>
        <dl className="facts">
          <dt>Folder</dt>
          <dd className="mono">{info?.workspace ?? '…'}</dd>
          <dt>Signed in as</dt>
          <dd>{info?.user ?? '…'}</dd>
          <dt>Workspace format</dt>
          <dd>version {info?.schemaVersion ?? '…'}</dd>
        </dl>
        <p className="muted small">
          Change the folder by starting Millwright with <code>--workspace</code> or the <code>MILLWRIGHT_HOME</code> environment variable.
        </p>
      </section>

      <section className="card section">
        <h2>About Millwright</h2>
        <dl className="facts">
          <dt>Version</dt>
          <dd>{info?.version ?? '…'}</dd>
          <dt>Running as</dt>
          <dd>{info?.electronVersion ? `Desktop app (Electron ${info.electronVersion})` : 'Server mode in a browser'}</dd>
          <dt>Computer</dt>
          <dd>{info?.platform ?? '…'}</dd>
        </dl>
        <h3>Sample data</h3>
        <ul className="credits">
          {samples.map((s) => (
            <li key={s.id}>
              <strong>{s.title}</strong> · {s.licence}
              <div className="muted small">{s.credit}</div>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function SystemCheck() {
  const [jobId, setJobId] = useState<string | null>(null);
  const job: JobInfo | undefined = useStore((s) => (jobId ? s.jobs[jobId] : undefined));
  const upsert = useStore((s) => s.upsertJob);
  const cancel = useStore((s) => s.cancelJob);
  const running = job && (job.state === 'running' || job.state === 'queued');
  const result = job?.state === 'done' ? (job.result as SystemCheckResult) : null;

  const start = async () => {
    try {
      const j = await call('system.check', { seconds: 3 });
      upsert(j);
      setJobId(j.id);
    } catch (err) {
      reportError(err);
    }
  };

  return (
    <section className="card section">
      <h2>This PC</h2>
      <p className="muted small">Measures how fast this computer trains models and writes to the workspace disk. Takes about 3 seconds.</p>
      {running ? (
        <div className="check-running">
          <ProgressBar value={job.progress} label="Checking this PC" />
          <span className="muted small">{job.message}</span>
          <button className="button small" onClick={() => void cancel(job.id)}>
            <Icon name="stop" size={14} /> Cancel
          </button>
        </div>
      ) : (
        <button className="button" onClick={() => void start()}>
          <Icon name="cpu" /> Check this PC
        </button>
      )}
      {result && (
        <dl className="facts result">
          <dt>Computing speed</dt>
          <dd>{result.cpuScore.toLocaleString()} MFLOP/s per core</dd>
          <dt>Disk write speed</dt>
          <dd>{result.diskWriteMBps.toLocaleString()} MB/s</dd>
          <dt>Processor cores</dt>
          <dd>{result.cores}</dd>
          <dt>Memory</dt>
          <dd>{result.memoryGiB} GiB</dd>
        </dl>
      )}
      {job?.state === 'cancelled' && <p className="muted small">The check was cancelled.</p>}
    </section>
  );
}
