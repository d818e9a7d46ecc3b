import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { ModelSummary } from '../../../shared/api';
import type { ChallengerReport, FeedbackSuggestion, Recalibration } from '../../../shared/feedback';
import { PairedBars } from '../../charts/paired-bars';
import { AppLink } from '../../components/app-link';
import { Dialog } from '../../components/dialog';
import { REASON_MISSING, ReasonField } from '../../components/reason-field';
import { Icon } from '../../components/icons';
import { JobProgress } from '../../components/job-progress';
import { isActive } from '../../store/jobs-slice';
import { useStore } from '../../store/store';
import { scoreText } from '../inbox/inbox-logic';
import { SUGGESTION_ACTIONS, agreementWords, episodePairs, metricSides, promoteWarnings, shadowTargets, tallyPairs } from './improve-logic';
import './improve.css';

const count = (v: number) => Math.round(v).toLocaleString();

/**
 * "Improve" on a model page: what the answers in the Inbox suggest, each with one
 * action; the answers added to the data; a challenger trained, compared with
 * production on the same holdout and the answered episodes, tried in shadow, then
 * promoted or discarded with a reason.
 */
export function ImprovePanel({ model, onChanged }: { model: ModelSummary; onChanged(): void }) {
  const view = useStore((s) => (s.improve?.model === model.name ? s.improve : null));
  const load = useStore((s) => s.loadImprove);
  const loadEndpoints = useStore((s) => s.loadEndpoints);
  const name = model.name;

  useEffect(() => {
    void load(name);
    void loadEndpoints();
  }, [name, load, loadEndpoints]);

  // Nothing to say for a model that flags nothing and has no challenger.
  const report = view?.report ?? null;
  if (model.task !== 'anomaly' && !report?.challenger && !(view?.suggestions ?? []).length) return null;

  return (
    <section className="card section improve" aria-labelledby="improve-title" data-testid="improve-panel">
      <h3 id="improve-title">Improve with your answers</h3>
      {view?.error && (
        <p className="improve-error" role="alert" data-testid="improve-error">
          {view.error}
        </p>
      )}
      {!view || view.suggestions === null ? (
        <p className="muted">Reading your answers…</p>
      ) : (
        <>
          <Suggestions model={model} suggestions={view.suggestions ?? []} recalibration={view.recalibration} recalibrating={view.recalibrating} onChanged={onChanged} />
          <DataAndRetrain model={model} onChanged={onChanged} />
          {report?.challenger && <ChallengerView model={model} report={report} onChanged={onChanged} />}
        </>
      )}
    </section>
  );
}

function Suggestions({
  model,
  suggestions,
  recalibration,
  recalibrating,
  onChanged,
}: {
  model: ModelSummary;
  suggestions: FeedbackSuggestion[];
  recalibration: Recalibration | null;
  recalibrating: boolean;
  onChanged(): void;
}) {
  const recalibrate = useStore((s) => s.recalibrate);
  const retrain = useStore((s) => s.retrain);
  const toast = useStore((s) => s.toast);
  const go = useStore((s) => s.go);
  if (suggestions.length === 0) {
    return (
      <p className="muted" data-testid="improve-none">
        No suggestions yet. Answer the questions in the <AppLink route="inbox" param="">Inbox</AppLink>: after a few answers Millwright suggests a better alarm level,
        or a retrain when the inputs have changed.
      </p>
    );
  }
  const act = async (s: FeedbackSuggestion) => {
    if (s.kind === 'recalibrate') return recalibrate(model.name);
    if (s.kind === 'retrain') {
      const refused = await retrain(model.name);
      if (refused) toast('error', refused);
      return;
    }
    const dataset = typeof s.detail.dataset === 'string' ? s.detail.dataset : model.latest.dataset;
    go('train', dataset);
  };
  return (
    <ul className="improve-suggestions" data-testid="improve-suggestions">
      {suggestions.map((s) => (
        <li key={`${s.kind}-${s.sentence}`} data-kind={s.kind} data-testid={`suggestion-${s.kind}`}>
          <div className="improve-suggestion">
            <Icon name="info" size={16} />
            <p className="improve-sentence">{s.sentence}</p>
            <button className="button small" onClick={() => void act(s)} disabled={s.kind === 'recalibrate' && recalibrating} data-testid={`suggestion-${s.kind}-action`}>
              {s.kind === 'recalibrate' && recalibrating && <span className="spinner" aria-hidden />}
              {SUGGESTION_ACTIONS[s.kind]}
            </button>
          </div>
          {s.kind === 'recalibrate' && recalibration && <RecalibrationView model={model} r={recalibration} said={s.sentence} onChanged={onChanged} />}
        </li>
      ))}
    </ul>
  );
}

/** The effect of a new alarm level on the answered episodes, and the button that makes a version with it. */
function RecalibrationView({ model, r, said, onChanged }: { model: ModelSummary; r: Recalibration; said: string; onChanged(): void }) {
  const apply = useStore((s) => s.applyThreshold);
  const [asking, setAsking] = useState(false);
  // The version made here: said in place of the button, so the same level is not made twice.
  const [made, setMade] = useState<number | null>(null);
  return (
    <div className="improve-detail" data-testid="recalibration">
      {/* The suggestion above usually says it already; a sentence for another version or newer answers is shown. */}
      {r.sentence !== said && (
        <p className="strong" data-testid="recalibration-sentence">
          {r.sentence}
        </p>
      )}
      <p className="muted small">
        From {r.answered.real.toLocaleString()} real {r.answered.real === 1 ? 'problem' : 'problems'} and {r.answered.normal.toLocaleString()} normal{' '}
        {r.answered.normal === 1 ? 'episode' : 'episodes'} you answered, on version {r.version}. Alarm level now {scoreText(r.current)}
        {r.suggested !== null && `, suggested ${scoreText(r.suggested)}`}.
      </p>
      {r.after && (
        <PairedBars
          rows={tallyPairs(r.before, r.after)}
          referenceName={`Now (alarm level ${scoreText(r.current)})`}
          currentName={`With ${scoreText(r.suggested)}`}
          valueText={count}
          ariaLabel="False alarms and real problems caught on the answered episodes, now and with the suggested alarm level"
          testId="recalibration-bars"
        />
      )}
      {made !== null ? (
        <div className="improve-labels" data-testid="threshold-made">
          <Icon name="check" size={16} />
          <p>
            Made version {made} with alarm level {scoreText(r.suggested)}. It is the challenger: compare it with production below before promoting it.
          </p>
        </div>
      ) : (
        r.suggested !== null && (
          <button className="button primary" onClick={() => setAsking(true)} data-testid="apply-threshold">
            Make a version with this alarm level
          </button>
        )
      )}
      {asking && r.suggested !== null && (
        <ReasonDialog
          title={`A version of ${model.name} with alarm level ${scoreText(r.suggested)}`}
          submitLabel="Make the version"
          placeholder="Fewer false alarms on the answered episodes, same real problems caught"
          testId="apply-threshold-dialog"
          onClose={() => setAsking(false)}
          onSubmit={async (reason) => {
            const res = await apply(model.name, r.version, r.suggested!, reason);
            if ('refused' in res) return res.refused;
            setMade(res.made.version);
            onChanged();
            return null;
          }}
        >
          <p>
            Makes a new version that is version {r.version} with its alarm level moved from {scoreText(r.current)} to {scoreText(r.suggested)}, and marks it the challenger.
            Production does not change until you promote it.
          </p>
        </ReasonDialog>
      )}
    </div>
  );
}

/** "Add my answers to the data" and "Train a challenger", with what each made. */
function DataAndRetrain({ model, onChanged }: { model: ModelSummary; onChanged(): void }) {
  const labels = useStore((s) => s.improve?.labels ?? null);
  const jobId = useStore((s) => s.improve?.retrainJob ?? null);
  const job = useStore((s) => (jobId ? s.jobs[jobId] : undefined));
  const addToData = useStore((s) => s.addAnswersToData);
  const retrain = useStore((s) => s.retrain);
  const cancel = useStore((s) => s.cancelJob);
  const load = useStore((s) => s.loadImprove);
  const [busy, setBusy] = useState<'data' | 'train' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seen = useRef<string | null>(null);
  const running = Boolean(job && isActive(job));

  // A finished retrain made the challenger: read the comparison and the versions again.
  useEffect(() => {
    if (job?.state === 'done' && seen.current !== job.id) {
      seen.current = job.id;
      void load(model.name);
      onChanged();
    }
  }, [job, model.name, load, onChanged]);

  const run = async (what: 'data' | 'train') => {
    setBusy(what);
    setError(null);
    const refused = what === 'data' ? await addToData(model.name) : await retrain(model.name);
    setBusy(null);
    setError(refused);
  };

  return (
    <div className="improve-actions-block">
      <div className="improve-actions">
        <button className="button" onClick={() => void run('data')} disabled={busy !== null} data-testid="add-to-data" title="Makes a new version of the dataset with your answers as a label column">
          {busy === 'data' ? <span className="spinner" aria-hidden /> : <Icon name="data" size={16} />} Add my answers to the data
        </button>
        <button className="button" onClick={() => void run('train')} disabled={busy !== null || running} data-testid="train-challenger" title="Trains a new version with production's settings on the newest data, and marks it the challenger">
          {busy === 'train' ? <span className="spinner" aria-hidden /> : <Icon name="models" size={16} />} Train a challenger
        </button>
      </div>
      {error && (
        <p className="improve-error" role="alert">
          {error}
        </p>
      )}
      {labels && (
        <div className="improve-labels" data-testid="labels-result">
          <Icon name="check" size={16} />
          <p>
            {labels.sentence}{' '}
            <AppLink route="data" param={labels.dataset} className="link-button inline">
              Open {labels.dataset}, version {labels.version}
            </AppLink>
          </p>
        </div>
      )}
      {job && running && (
        <JobProgress
          title={`Training a challenger for ${model.name}…`}
          progress={job.progress}
          waiting={job.state === 'queued'}
          message={job.message || 'Reading the data…'}
          onCancel={() => void cancel(job.id)}
          testId="retrain"
        />
      )}
      {job?.state === 'cancelled' && <p className="muted small">Training the challenger was stopped; nothing was changed.</p>}
      {job?.state === 'failed' && (
        <p className="improve-error" role="alert">
          The challenger could not be trained: {job.error?.message ?? 'no reason given'}
        </p>
      )}
    </div>
  );
}

/** Production beside the challenger: the same holdout, the answered episodes, shadow runs; then promote or discard. */
function ChallengerView({ model, report, onChanged }: { model: ModelSummary; report: ChallengerReport; onChanged(): void }) {
  const endpoints = useStore((s) => s.endpoints);
  const shadow = useStore((s) => s.shadow);
  const decide = useStore((s) => s.decideChallenger);
  const toast = useStore((s) => s.toast);
  const [deciding, setDeciding] = useState<'promote' | 'discard' | null>(null);
  const [deploy, setDeploy] = useState(true);
  const [busyShadow, setBusyShadow] = useState<string | null>(null);
  const sides = metricSides(report);
  const pairs = episodePairs(report);
  const warnings = promoteWarnings(report);
  const worse = sides?.better === 'production' || warnings.length > 0;
  const targets = shadowTargets(endpoints, model.name, report.shadows);
  const serving = (endpoints ?? []).filter((e) => e.model?.name === model.name).map((e) => e.name);
  const c = report.challenger!;
  const p = report.production;

  const toggleShadow = async (endpoint: string, on: boolean) => {
    setBusyShadow(endpoint);
    const r = await shadow(model.name, endpoint, on);
    setBusyShadow(null);
    if (typeof r === 'string') toast('error', r);
    else toast('success', on ? `Version ${c.version} now runs in shadow on ${endpoint}: it scores every request, production still answers.` : `Stopped the shadow run on ${endpoint}.`);
  };

  return (
    <div className="improve-challenger" data-testid="challenger-report">
      <h4>
        {p ? `Production (version ${p.version}) beside the challenger (version ${c.version})` : `The challenger, version ${c.version}`}
      </h4>
      <p className="strong" data-testid="challenger-sentence">
        {report.sentence}
      </p>
      <div className="improve-compare">
        {sides && (
          <table className="table compact improve-metric" data-testid="challenger-metric">
            <caption className="muted small">
              On the same checked rows
              {report.holdout && ` (${report.holdout.dataset}, version ${report.holdout.datasetVersion}, ${report.holdout.rows.toLocaleString()} rows)`}
            </caption>
            <thead>
              <tr>
                <th scope="col">{sides.label}</th>
                <th scope="col" className="num">
                  Production, v{sides.production.version}
                </th>
                <th scope="col" className="num">
                  Challenger, v{sides.challenger.version}
                </th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td className="muted small">{sides.better === 'same' ? 'No difference' : sides.better ? `${sides.better === 'challenger' ? 'Challenger' : 'Production'} is better` : ''}</td>
                <td className={`num${sides.better === 'production' ? ' strong' : ''}`}>{sides.production.text}</td>
                <td className={`num${sides.better === 'challenger' ? ' strong' : ''}`}>{sides.challenger.text}</td>
              </tr>
            </tbody>
          </table>
        )}
        {pairs && p && (
          <div className="improve-episodes">
            <p className="muted small">
              On the episodes you answered ({report.episodes!.real.toLocaleString()} real {report.episodes!.real === 1 ? 'problem' : 'problems'},{' '}
              {report.episodes!.normal.toLocaleString()} normal)
            </p>
            <PairedBars
              rows={pairs}
              referenceName={`Production, version ${p.version}`}
              currentName={`Challenger, version ${c.version}`}
              valueText={count}
              ariaLabel="Real problems caught and false alarms on the answered episodes, production beside the challenger"
              testId="challenger-episodes"
            />
          </div>
        )}
      </div>
      {targets.length > 0 && (
        <ul className="improve-shadows" aria-label="Shadow runs">
          {targets.map((t) => (
            <li key={t.endpoint} data-testid={`shadow-${t.endpoint}`}>
              {t.run ? (
                <>
                  <span>
                    <span className="chip">In shadow on {t.endpoint}</span> {t.run.sentence || agreementWords(t.run)}
                  </span>
                  <button className="button small" onClick={() => void toggleShadow(t.endpoint, false)} disabled={busyShadow !== null} data-testid="shadow-stop">
                    <Icon name="stop" size={14} /> Stop the shadow run
                  </button>
                </>
              ) : (
                <>
                  <span className="muted small">{t.endpoint} runs production. The challenger can score the same requests beside it without answering them.</span>
                  <button className="button small" onClick={() => void toggleShadow(t.endpoint, true)} disabled={busyShadow !== null} data-testid="shadow-start">
                    Try it in shadow on {t.endpoint}
                  </button>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {/* When the figures favour production, keeping it is the highlighted choice; promoting stays one click away. */}
      <div className="improve-decide">
        <button className={`button${worse ? '' : ' primary'}`} onClick={() => setDeciding('promote')} data-testid="challenger-promote">
          <Icon name="check" size={16} /> Promote version {c.version}
        </button>
        <button className={`button${worse ? ' primary' : ''}`} onClick={() => setDeciding('discard')} data-testid="challenger-discard">
          {worse ? `Keep production, discard version ${c.version}` : 'Discard'}
        </button>
      </div>
      {deciding && (
        <ReasonDialog
          title={deciding === 'promote' ? `Promote version ${c.version} of ${model.name}` : `Discard version ${c.version} as the challenger`}
          submitLabel={deciding === 'promote' ? 'Promote' : 'Discard'}
          placeholder={deciding === 'promote' ? 'Catches the same real problems with fewer false alarms' : 'No better than production on the answered episodes'}
          testId="challenger-dialog"
          onClose={() => setDeciding(null)}
          onSubmit={async (reason) => {
            const res = await decide(model.name, deciding === 'promote' ? { promote: true, deploy: deploy && serving.length > 0 } : { promote: false }, reason);
            if ('refused' in res) return res.refused;
            onChanged();
            return null;
          }}
          extra={
            deciding === 'promote' && serving.length > 0 ? (
              <label className="check-field">
                <input type="checkbox" checked={deploy} onChange={(e) => setDeploy(e.target.checked)} data-testid="promote-deploy" />
                Deploy it to {serving.length === 1 ? 'the endpoint that runs' : 'the endpoints that run'} production: {serving.join(', ')}
              </label>
            ) : null
          }
        >
          {deciding === 'promote' && warnings.length > 0 && (
            <div className="notice warn-notice promote-warning" data-testid="promote-warning">
              <Icon name="alert" size={16} />
              <div>
                {warnings.map((w) => (
                  <p key={w}>{w}</p>
                ))}
              </div>
            </div>
          )}
          <p>
            {deciding === 'promote'
              ? `Version ${c.version} becomes production${p ? ` in place of version ${p.version}, which stays in the registry and can be promoted back` : ''}.${report.shadows.length ? ' Its shadow runs end.' : ''}`
              : `Version ${c.version} stays in the registry but is no longer the challenger${report.shadows.length ? ', and its shadow runs end' : ''}.`}
          </p>
        </ReasonDialog>
      )}
    </div>
  );
}

/** Asks for the reason (kept in the audit log) before a change; shows the core's sentence when it refuses. */
function ReasonDialog({
  title,
  submitLabel,
  placeholder,
  testId,
  onClose,
  onSubmit,
  extra,
  children,
}: {
  title: string;
  submitLabel: string;
  placeholder: string;
  testId: string;
  onClose(): void;
  onSubmit(reason: string): Promise<string | null>;
  extra?: ReactNode;
  children: ReactNode;
}) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    if (reason.trim().length < 3) return setError(REASON_MISSING);
    setBusy(true);
    const refused = await onSubmit(reason.trim());
    setBusy(false);
    if (refused) setError(refused);
    else onClose();
  };
  return (
    <Dialog title={title} submitLabel={submitLabel} onClose={onClose} onSubmit={() => void submit()} busy={busy} error={error} testId={testId}>
      {children}
      <ReasonField
        value={reason}
        onChange={(v) => {
          setReason(v);
          setError(null);
        }}
        placeholder={placeholder}
      />
      {extra}
    </Dialog>
  );
}
