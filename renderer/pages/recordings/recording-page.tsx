import { useCallback, useEffect, useState } from 'react';
import { formatBytes, formatDuration } from '../../../shared/format';
import { ACTIVE_RECORDING_STATES, GAP_ROWS, SOURCE_KIND_TITLES, type Recording, type RecordingLive } from '../../../shared/recording';
import { api, call } from '../../api/api';
import { AppLink } from '../../components/app-link';
import { formatTimestamp } from '../../components/format-cell';
import { Dialog } from '../../components/dialog';
import { Icon } from '../../components/icons';
import { JobProgress } from '../../components/job-progress';
import { PageHead } from '../../components/page-head';
import { isActive } from '../../store/jobs-slice';
import { errorMessage } from '../../store/report-error';
import { useStore } from '../../store/store';
import { formatInterval } from '../../wizards/record/record-logic';
import { timeZoneLabel } from '../when';
import { breakAtGaps, formatLiveValue, formatRange, gapMs, savedDataset, shownGaps } from './recording-logic';
import { RecordingStateChip } from './recording-state-chip';
import { SaveDialog } from './save-dialog';
import { Sparkline } from './sparkline';
import './recordings.css';

/** How often an active recording's page reads its newest values. */
const REFRESH_MS = 1000;
/** Points per sparkline. */
const SPARK_POINTS = 120;

/** One recording: its state, live sparklines per tag, gaps, and "Save as dataset". */
export function RecordingPage({ id }: { id: number }) {
  const go = useStore((s) => s.go);
  const keep = useStore((s) => s.keepRecording);
  const [live, setLive] = useState<RecordingLive | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<'stop' | 'save' | 'remove' | null>(null);
  const [saveJob, setSaveJob] = useState<{ id: string; name: string } | null>(null);
  const job = useStore((s) => (saveJob ? s.jobs[saveJob.id] : undefined));
  const cancelJob = useStore((s) => s.cancelJob);

  const load = useCallback(async () => {
    try {
      const l = await call('recordings.live', { id, points: SPARK_POINTS });
      setLive(l);
      setError(null);
      keep(l.recording);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [id, keep]);

  const active = live ? ACTIVE_RECORDING_STATES.includes(live.recording.state) : false;
  useEffect(() => {
    void load();
    const off = api().on('recording', (e) => e.id === id && void load());
    return off;
  }, [id, load]);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(t);
  }, [active, load]);
  // A finished save adds a dataset to the recording.
  const jobDone = job?.state === 'done';
  useEffect(() => {
    if (jobDone) void load();
  }, [jobDone, load]);

  if (!live) {
    return (
      <div className="page wide">
        {error ? (
          <div className="notice bad-notice card" role="alert">
            <Icon name="alert" />
            <div>
              <strong>This recording cannot be shown</strong>
              <span>{error}</span>
              <div className="notice-actions">
                <button className="button" onClick={() => go('data')}>
                  All data
                </button>
              </div>
            </div>
          </div>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </div>
    );
  }
  const r = live.recording;
  // live.gaps holds the newest gaps and those the sparklines need; gapsTotal counts all of them.
  const gapRows = shownGaps(live.gaps, live.gapsTotal);
  const savedBy = job && !isActive(job) && job.state === 'done' ? savedDataset(job.result, saveJob!.name) : null;

  return (
    <div className="page wide recording-page" data-testid="recording-page">
      <PageHead
        back="All data"
        onBack={() => go('data')}
        title={
          <span className="recording-title">
            {r.name} <RecordingStateChip state={r.state} message={r.message} />
          </span>
        }
        blurb={<span data-testid="recording-message">{r.message}</span>}
      >
        <div className="recording-actions">
          {active ? (
            <button className="button" data-testid="recording-stop" onClick={() => setDialog('stop')}>
              <Icon name="stop" size={16} /> Stop
            </button>
          ) : (
            <button className="button" data-testid="recording-remove" onClick={() => setDialog('remove')}>
              <Icon name="close" size={16} /> Delete
            </button>
          )}
          <button className="button primary" data-testid="recording-save" disabled={r.samples === 0 || Boolean(job && isActive(job))} onClick={() => setDialog('save')}>
            <Icon name="data" size={16} /> Save as dataset
          </button>
        </div>
      </PageHead>

      <Facts r={r} />

      {job && isActive(job) && (
        <JobProgress title="Saving as a dataset…" progress={job.progress} waiting={job.state === 'queued'} message={job.message} onCancel={() => void cancelJob(job.id)} testId="recording-save" />
      )}
      {savedBy && (
        <div className="notice card" data-testid="recording-saved" aria-live="polite">
          <Icon name="check" />
          <div>
            <strong>
              Saved as {savedBy.name}
              {savedBy.version !== null ? `, version ${savedBy.version}` : ''}.
            </strong>
            <span>
              <AppLink route="data" param={savedBy.name} className="link-button inline">
                Open the dataset
              </AppLink>{' '}
              to look at it or train a model on it.
            </span>
          </div>
        </div>
      )}
      {job && (job.state === 'failed' || job.state === 'interrupted') && (
        <div className="notice bad-notice card" role="alert">
          <Icon name="alert" />
          <div>
            <strong>Saving as a dataset did not finish</strong>
            <span>{job.error?.message ?? job.message}</span>
          </div>
        </div>
      )}

      <section className="recording-section" aria-labelledby="recording-tags-h">
        <div className="recording-section-head">
          <h3 id="recording-tags-h">Tags</h3>
          <span className="muted small">
            The newest {SPARK_POINTS} values of each; {active ? `updated every second.` : 'as they were when it stopped.'} Times in {timeZoneLabel()}.
          </span>
        </div>
        <div className="spark-grid">
          {live.tags.map((t) => {
            const unit = r.tags.find((x) => x.id === t.id)?.unit ?? null;
            const bad = t.last?.quality === 'bad';
            const values = t.spark.map((p) => p.v).filter((v): v is number => v !== null);
            const lo = values.length ? Math.min(...values) : null;
            const hi = values.length ? Math.max(...values) : null;
            return (
              <article key={t.id} className={`spark-card card ${bad ? 'bad' : ''}`} data-testid="recording-tag" aria-label={t.name}>
                <div className="spark-head">
                  <span className="spark-name" title={t.id}>
                    {t.name}
                  </span>
                  <span className="spark-value" data-testid="recording-tag-value">
                    {t.last ? (bad ? '—' : formatLiveValue(t.last, unit)) : '—'}
                  </span>
                </div>
                <Sparkline points={breakAtGaps(t.spark, live.gaps, t.id, Date.now())} ariaLabel={`${t.name}, newest values`} />
                <div className="spark-foot small">
                  {bad ? (
                    <span className="chip chip-bad">
                      <Icon name="alert" size={13} /> Bad quality
                    </span>
                  ) : (
                    <span className="muted" title="Lowest and highest of the values drawn">
                      {lo !== null && hi !== null ? formatRange(lo, hi, unit) : 'No value yet'}
                    </span>
                  )}
                  <span className="muted">
                    {t.last?.at ? `at ${formatTimestamp(Date.parse(t.last.at)).slice(11)}` : ''} · {t.samples.toLocaleString()} samples
                  </span>
                </div>
              </article>
            );
          })}
        </div>
      </section>

      <section className="recording-section" aria-labelledby="recording-gaps-h">
        <div className="recording-section-head">
          <h3 id="recording-gaps-h">Gaps</h3>
          <span className="muted small">Times the data stopped: lost connections, and tags that went quiet.</span>
        </div>
        {live.gapsTotal === 0 ? (
          <p className="muted small" data-testid="recording-no-gaps">
            No gaps{r.samples > 0 ? ': every tag has sent values since the start.' : ' so far.'}
          </p>
        ) : (
          <div className="card table-card">
            {gapRows.older > 0 && (
              <p className="muted small recording-gaps-older" data-testid="recording-gaps-older">
                The newest {GAP_ROWS} of {live.gapsTotal.toLocaleString()} gaps; {gapRows.older.toLocaleString()} older ones are kept with the recording and break its trend lines all the same.
              </p>
            )}
            <table className="table compact" data-testid="recording-gaps">
              <thead>
                <tr>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col" className="num">
                    Length
                  </th>
                  <th scope="col">Tag</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {gapRows.rows.map((g, i) => (
                  <tr key={gapRows.older + i}>
                    <td>{formatTimestamp(Date.parse(g.start))}</td>
                    <td>{g.end ? formatTimestamp(Date.parse(g.end)) : <span className="chip chip-warn">still going</span>}</td>
                    <td className="num">{formatDuration(gapMs(g, Date.now()))}</td>
                    <td>{g.tag ?? <span className="muted">all</span>}</td>
                    <td className="recording-gap-why">{g.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="recording-section" aria-labelledby="recording-datasets-h">
        <div className="recording-section-head">
          <h3 id="recording-datasets-h">Datasets saved from it</h3>
        </div>
        {r.datasets.length === 0 ? (
          <p className="muted small">None yet. "Save as dataset" turns all of it, or a time range, into a dataset to train on.</p>
        ) : (
          <ul className="plain-links" data-testid="recording-datasets">
            {r.datasets.map((d) => (
              <li key={`${d.name}@${d.version}`}>
                <AppLink route="data" param={d.name} className="link-button inline">
                  {d.name}
                </AppLink>{' '}
                <span className="muted small">version {d.version}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      {dialog === 'stop' && <StopDialog r={r} onClose={() => setDialog(null)} onStopped={(x) => (setLive({ ...live, recording: x }), keep(x), setDialog(null))} />}
      {dialog === 'remove' && <RemoveDialog r={r} onClose={() => setDialog(null)} onRemoved={() => go('data')} />}
      {dialog === 'save' && (
        <SaveDialog
          recording={r}
          onClose={() => setDialog(null)}
          onStarted={(j, name) => {
            setSaveJob({ id: j, name });
            setDialog(null);
          }}
        />
      )}
    </div>
  );
}

function Facts({ r }: { r: Recording }) {
  const at = (iso: string | null) => (iso ? formatTimestamp(Date.parse(iso)) : '—');
  const active = ACTIVE_RECORDING_STATES.includes(r.state);
  return (
    <div className="facts-row" data-testid="recording-facts">
      <Fact label={SOURCE_KIND_TITLES[r.source.kind]} value={r.source.name} />
      <Fact label="Address" value={r.source.url} mono wide />
      <Fact label="Started" value={at(r.startedAt)} />
      {r.stoppedAt ? <Fact label="Stopped" value={at(r.stoppedAt)} /> : <Fact label="Ends" value={r.endsAt ? at(r.endsAt) : 'When you stop it'} />}
      <Fact label={r.source.kind === 'mqtt' ? 'Time grid' : 'Interval'} value={formatInterval(r.intervalMs)} />
      <Fact label="Samples" value={r.samples.toLocaleString()} testId="recording-samples" />
      <Fact label="Gaps" value={r.gaps.toLocaleString()} tone={r.gaps > 0 ? 'warn' : undefined} testId="recording-gap-count" />
      <Fact label="Size on disk" value={formatBytes(r.bytes)} />
      {r.firstSampleAt && r.lastSampleAt && <Fact label={active ? 'Recorded so far' : 'Span'} value={formatDuration(Date.parse(r.lastSampleAt) - Date.parse(r.firstSampleAt))} />}
    </div>
  );
}

function Fact({ label, value, tone, wide, mono, testId }: { label: string; value: string; tone?: 'warn'; wide?: boolean; mono?: boolean; testId?: string }) {
  return (
    <div className={`fact ${tone ?? ''} ${wide ? 'wide' : ''}`}>
      <span className="muted small">{label}</span>
      <span className={`fact-value ${mono ? 'mono' : ''}`} title={value} data-testid={testId}>
        {value}
      </span>
    </div>
  );
}

function StopDialog({ r, onClose, onStopped }: { r: Recording; onClose: () => void; onStopped: (r: Recording) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog
      title="Stop recording?"
      submitLabel="Stop recording"
      busy={busy}
      error={error}
      testId="recording-stop-dialog"
      onClose={onClose}
      onSubmit={() => {
        setBusy(true);
        call('recordings.stop', { id: r.id })
          .then(onStopped)
          .catch((err: unknown) => {
            setBusy(false);
            setError(errorMessage(err));
          });
      }}
    >
      <p>
        Millwright stops reading from {r.source.name}. The {r.samples.toLocaleString()} samples recorded stay, and you can still save them as a dataset.
      </p>
      <p className="muted small">A stopped recording cannot go on; start a new one to record again.</p>
    </Dialog>
  );
}

function RemoveDialog({ r, onClose, onRemoved }: { r: Recording; onClose: () => void; onRemoved: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const loadRecordings = useStore((s) => s.loadRecordings);
  return (
    <Dialog
      title="Delete this recording?"
      submitLabel="Delete"
      busy={busy}
      error={error}
      testId="recording-remove-dialog"
      onClose={onClose}
      onSubmit={() => {
        setBusy(true);
        call('recordings.remove', { id: r.id })
          .then(() => {
            void loadRecordings();
            onRemoved();
          })
          .catch((err: unknown) => {
            setBusy(false);
            setError(errorMessage(err));
          });
      }}
    >
      <p>
        The {r.samples.toLocaleString()} samples of {r.name} ({formatBytes(r.bytes)} on disk) are deleted.
        {r.datasets.length > 0 ? ` The ${r.datasets.length === 1 ? 'dataset' : `${r.datasets.length} datasets`} saved from it stay.` : ' Nothing has been saved from it as a dataset.'}
      </p>
    </Dialog>
  );
}
