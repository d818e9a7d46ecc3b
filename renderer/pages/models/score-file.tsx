import { useEffect, useRef, useState, type DragEvent } from 'react';
import type { JobInfo } from '../../../shared/api';
import { formatBytes } from '../../../shared/format';
import { api } from '../../api/api';
import { Icon } from '../../components/icons';
import { JobProgress } from '../../components/job-progress';
import { ProgressBar } from '../../components/progress-bar';
import { isActive } from '../../store/jobs-slice';
import { blankScore } from '../../store/score-slice';
import { useStore } from '../../store/store';
import './scoring.css';
import { asScoreResult, baseName, countWords, downloadHref, mergeResults, metricRows, type ModelWords } from './scoring-logic';

/** What import reads; the same list the import wizard offers. */
const ACCEPT = '.csv,.tsv,.txt,.dat,.xlsx,text/csv,text/plain';

/** Where the HTTP client keeps the access key for this tab (renderer/api/client.ts). */
const TOKEN_KEY = 'millwright.token';

const ended = (j: JobInfo | undefined) => j?.state === 'failed' || j?.state === 'interrupted';

/** "Score a file": a file in, the same file back with the model's answers appended, and optionally how right they were. */
export function ScoreFile({ model, version, words }: { model: string; version: number; words: ModelWords }) {
  const d = useStore((s) => s.scoring[model]) ?? blankScore;
  const scoreJob = useStore((s) => {
    const id = s.scoring[model]?.scoreJob;
    return id ? s.jobs[id] : undefined;
  });
  const checkJob = useStore((s) => {
    const id = s.scoring[model]?.checkJob;
    return id ? s.jobs[id] : undefined;
  });
  const pick = useStore((s) => s.scorePickFile);
  const setEvaluate = useStore((s) => s.scoreSetEvaluate);
  const start = useStore((s) => s.scoreStart);
  const cancel = useStore((s) => s.scoreCancel);
  const reset = useStore((s) => s.scoreReset);

  const jobs = [scoreJob, checkJob].filter((j): j is JobInfo => Boolean(j));
  const running = jobs.some(isActive);
  const failed = jobs.find(ended);
  const cancelled = !running && jobs.some((j) => j.state === 'cancelled');
  const done = jobs.length > 0 && jobs.every((j) => j.state === 'done');

  // When one of the two jobs fails, the other has nothing left to add.
  useEffect(() => {
    if (failed && running) void cancel(model);
  }, [failed, running, cancel, model]);

  const canCheck = words.task !== 'anomaly';
  const busy = running || Boolean(d.sending);
  const fileName = d.file?.fileName ?? null;

  return (
    <section className="card section result-section score-file" aria-labelledby="score-title" data-testid="score-file">
      <div>
        <h3 id="score-title">Score a file</h3>
        <p className="muted small">
          The model answers every row of a CSV or Excel file with the same columns as its training data. You get the file back with the answers added as new
          columns.
        </p>
      </div>

      <FilePicker fileName={fileName} sizeBytes={d.file?.sizeBytes ?? null} disabled={busy} onPick={(f) => void pick(model, f)} />
      {d.sending && (
        <div className="inline-progress">
          <span className="small">Sending {d.sending.name}…</span>
          <ProgressBar value={d.sending.fraction} label={`Sending ${d.sending.name}`} />
        </div>
      )}

      {canCheck && (
        <label className="check">
          <input type="checkbox" checked={d.evaluate} disabled={busy} onChange={(e) => setEvaluate(model, e.target.checked)} />
          <span>
            Also check against the answers in the file
            {words.target ? <span className="muted"> (its “{words.target}” column)</span> : null}
          </span>
        </label>
      )}

      {!running && (
        <button className="button primary" data-testid="score-start" disabled={!d.file || busy} onClick={() => void start(model, version)}>
          <Icon name="arrow" size={16} /> {done || cancelled || failed ? 'Score it again' : 'Score the file'}
        </button>
      )}

      {d.error && !running && <Problem title="The file was not scored" message={d.error} />}
      {running && <Running jobs={jobs} onCancel={() => void cancel(model)} />}
      {failed && !running && (
        <Problem
          title={failed.state === 'interrupted' ? 'Scoring was interrupted' : 'Scoring failed'}
          message={failed.error?.message ?? 'The app stopped while scoring. Nothing was written.'}
        />
      )}
      {cancelled && !failed && (
        <div className="notice card score-notice" role="status">
          <Icon name="info" />
          <div>
            <strong>Scoring was stopped</strong>
            <p className="muted">No scored file was kept.</p>
          </div>
        </div>
      )}
      {done && <Result scored={scoreJob} checked={checkJob} words={words} onAnother={() => reset(model)} />}
    </section>
  );
}

function FilePicker({ fileName, sizeBytes, disabled, onPick }: { fileName: string | null; sizeBytes: number | null; disabled: boolean; onPick: (f: File) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const f = e.dataTransfer.files[0];
    if (f && !disabled) onPick(f);
  };
  return (
    <div
      className={`drop-zone compact ${over ? 'over' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <Icon name="upload" size={20} />
      {fileName ? (
        <span className="score-drop-file" data-testid="score-file-name">
          <span className="strong">{fileName}</span>
          {sizeBytes !== null && <span className="muted small"> · {formatBytes(sizeBytes)}</span>}
        </span>
      ) : (
        <span className="muted">Drop a CSV or Excel file here, or</span>
      )}
      <button className="button small" disabled={disabled} onClick={() => input.current?.click()}>
        {fileName ? 'Choose another file…' : 'Choose a file…'}
      </button>
      <input
        ref={input}
        type="file"
        accept={ACCEPT}
        hidden
        aria-label="File to score"
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) onPick(f);
        }}
      />
    </div>
  );
}

function Running({ jobs, onCancel }: { jobs: JobInfo[]; onCancel: () => void }) {
  const progress = jobs.reduce((a, j) => a + (j.state === 'done' ? 1 : j.progress), 0) / Math.max(1, jobs.length);
  const current = jobs.find(isActive);
  return (
    <JobProgress
      title="Scoring…"
      progress={progress}
      waiting={jobs.every((j) => j.state === 'queued')}
      message={current?.message || 'Reading the file…'}
      onCancel={onCancel}
      testId="score"
    />
  );
}

function Problem({ title, message }: { title: string; message: string }) {
  return (
    <div className="card notice bad-notice score-notice" role="alert" data-testid="score-error">
      <Icon name="alert" />
      <div>
        <strong>{title}</strong>
        <p>{message}</p>
      </div>
    </div>
  );
}

function Result({ scored, checked, words, onAnother }: { scored: JobInfo | undefined; checked: JobInfo | undefined; words: ModelWords; onAnother: () => void }) {
  const r = mergeResults(asScoreResult(scored?.result), asScoreResult(checked?.result));
  if (!r) return <Problem title="The result cannot be shown" message="The scoring job ended without a result. Try again." />;
  const counts = countWords(r, words);
  const metrics = metricRows(r.metrics, words.unit);
  const checkedRows = r.metrics?.rows;
  return (
    <div className="score-result" data-testid="score-result">
      <p className="ok-text">
        <Icon name="check" /> Scored {r.rows.toLocaleString()} {r.rows === 1 ? 'row' : 'rows'} of {baseName(r.file)} with version {r.version}.
      </p>
      {counts && <p data-testid="score-counts">{counts}</p>}
      {metrics.length > 0 && (
        <div className="score-metrics">
          <p className="muted small">
            Checked against the answers in the file
            {typeof checkedRows === 'number' ? ` (${checkedRows.toLocaleString()} ${checkedRows === 1 ? 'row' : 'rows'} with an answer)` : ''}:
          </p>
          <dl className="numbers" data-testid="score-metrics">
            {metrics.map((m) => (
              <div key={m.key} className="number">
                <dt className="muted small">{m.label}</dt>
                <dd>{m.text}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
      {r.out && <Output out={r.out} />}
      {r.added.length > 0 && (
        <p className="small score-added">
          <span className="muted">Columns added:</span>{' '}
          {r.added.map((c) => (
            <code key={c} className="chip">
              {c}
            </code>
          ))}
        </p>
      )}
      <button className="link-button" onClick={onAnother}>
        Score another file
      </button>
    </div>
  );
}

/** The scored file: a download in a browser, its place on disk (with Copy) in the desktop app. */
function Output({ out }: { out: string }) {
  const toast = useStore((s) => s.toast);
  const http = api().transport === 'http';
  const name = baseName(out);
  const copy = () =>
    navigator.clipboard.writeText(out).then(
      () => toast('success', 'Copied the path of the scored file.'),
      () => toast('error', 'Could not copy. Select the path and copy it by hand.'),
    );
  return (
    <div className="score-out">
      <Icon name="data" size={16} />
      {http ? (
        <>
          <span className="strong score-out-name" title={name}>
            {name}
          </span>
          <a className="button small" href={downloadHref(out, sessionStorage.getItem(TOKEN_KEY) ?? '')} download={name} data-testid="score-download">
            Download
          </a>
        </>
      ) : (
        <>
          <code className="score-out-path" title={out}>
            {out}
          </code>
          <button className="button small" onClick={() => void copy()}>
            Copy
          </button>
        </>
      )}
    </div>
  );
}
