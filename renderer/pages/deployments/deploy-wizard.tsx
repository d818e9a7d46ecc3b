import { useEffect, useState, type ReactNode } from 'react';
import type { ModelVersionInfo } from '../../../shared/api';
import { DEPLOY_CHECKS, type DeployCheck, type DeployResult, type EndpointSummary } from '../../../shared/deploy';
import { api, call } from '../../api/api';
import { CopyValue } from '../../components/copy-value';
import { Icon, type IconName } from '../../components/icons';
import { ChoiceCard, RadioRow } from '../../components/radio-cards';
import { WizardHead } from '../../components/wizard-head';
import { DEPLOY_STEP, DEPLOY_STEP_LABELS, type DeployDraft, type TargetKind } from '../../store/deploy-slice';
import { reportError } from '../../store/report-error';
import { useStore } from '../../store/store';
import { formatMetric } from '../models/report-logic';
import { baseName, downloadHref } from '../models/scoring-logic';
import { VersionChips } from '../models/versions';
import { formatWhen, timeZoneLabel } from '../when';
import {
  CHECK_TITLES,
  CHECK_WAITING,
  defaultBundlePath,
  defaultVersion,
  endpointBlocked,
  failedLines,
  inExportsFolder,
  nameProblem,
  portProblem,
  servedWords,
} from './deploy-logic';
import { AddEndpointDialog } from './endpoint-dialogs';
import { EndpointStatus } from './endpoint-status';
import './deployments.css';

/** Where the HTTP client keeps the access key for this tab (renderer/api/client.ts). */
const TOKEN_KEY = 'millwright.token';

/** Versions offered before "Show all": the newest few are what people deploy. */
const VERSIONS_SHOWN = 6;

const TARGETS: { kind: TargetKind; icon: IconName; title: string; text: string }[] = [
  { kind: 'local', icon: 'cpu', title: 'Run on this PC', text: 'Millwright starts an endpoint here, to try the model with real calls before it goes to the plant.' },
  { kind: 'endpoint', icon: 'upload', title: 'Push to an endpoint', text: 'Send it to an edge gateway or server that operations installed. The previous version stays for rollback.' },
  { kind: 'file', icon: 'download', title: 'Export a file', text: 'A signed bundle to hand to operations, with the server, a Dockerfile, a systemd unit and instructions.' },
];

/** The versions of the wizard's model, newest first (null while they load). */
function useVersions(model: string | null): ModelVersionInfo[] | null {
  const [got, setGot] = useState<{ model: string; versions: ModelVersionInfo[] } | null>(null);
  useEffect(() => {
    if (!model) return;
    let live = true;
    call('models.get', { model })
      .then((d) => live && setGot({ model, versions: d.versions }))
      .catch((err: unknown) => {
        reportError(err);
        if (live) setGot({ model, versions: [] });
      });
    return () => {
      live = false;
    };
  }, [model]);
  return got && got.model === model ? got.versions : null;
}

/** Why the wizard cannot move on from its step, or null. */
function stepProblem(d: DeployDraft, versions: ModelVersionInfo[] | null, endpoints: EndpointSummary[] | null): string | null {
  if (d.step === DEPLOY_STEP.version) {
    if (!d.model) return 'Choose a model.';
    if (versions === null) return 'Loading the versions…';
    if (d.version === null || !versions.some((v) => v.version === d.version && !v.archivedAt)) return 'Choose a version.';
    return null;
  }
  if (d.step !== DEPLOY_STEP.target) return null;
  if (d.target === 'file') return d.out.trim() ? null : 'Say where to write the file.';
  if (d.target === 'local') return nameProblem(d.localName) ?? portProblem(d.localPort);
  const e = endpoints?.find((x) => x.name === d.endpoint);
  if (!e) return 'Choose an endpoint, or add one.';
  return endpointBlocked(e);
}

/** Deploy wizard: version → where → checks → done, with the curl line that calls the endpoint. */
export function DeployWizard({ model, version, onClose }: { model: string | null; version: number | null; onClose: () => void }) {
  const d = useStore((s) => s.dw);
  const open = useStore((s) => s.deployOpen);
  const set = useStore((s) => s.deploySet);
  const start = useStore((s) => s.deployStart);
  const endpoints = useStore((s) => s.endpoints);
  const workspace = useStore((s) => s.info?.workspace ?? null);
  const versions = useVersions(d.model);

  useEffect(() => open(model, version), [open, model, version]);

  // Presets: production (else the newest), and the exports folder for a file.
  useEffect(() => {
    if (versions && d.version === null) {
      const v = defaultVersion(versions);
      if (v !== null) set({ version: v });
    }
  }, [versions, d.version, set]);
  useEffect(() => {
    if (d.target === 'file' && !d.out && workspace && d.model && d.version !== null) set({ out: defaultBundlePath(workspace, d.model, d.version) });
  }, [d.target, d.out, d.model, d.version, workspace, set]);

  const problem = stepProblem(d, versions, endpoints);
  const chosen = versions?.find((v) => v.version === d.version) ?? null;
  const next = () => {
    if (problem) return;
    if (d.step === DEPLOY_STEP.target) void start();
    else set({ step: d.step + 1 });
  };
  const inFlow = d.step >= DEPLOY_STEP.checks;

  return (
    <div className="wizard card deploy-wizard" role="region" aria-label="Deploy a model" data-testid="deploy-wizard">
      <WizardHead
        title={<>Deploy{d.model ? <span className="muted"> {d.model}</span> : ' a model'}</>}
        closeLabel="Close the deploy wizard"
        onClose={onClose}
        labels={DEPLOY_STEP_LABELS}
        step={d.step}
        canGo={(i) => !inFlow && i < DEPLOY_STEP.checks && (i <= d.step || (i === d.step + 1 && !problem))}
        onStep={(i) => set({ step: i })}
      />
      <div className="wizard-body">
        {d.step === DEPLOY_STEP.version && <VersionStep versions={versions} onNext={next} canNext={!problem} />}
        {d.step === DEPLOY_STEP.target && <TargetStep chosen={chosen} onNext={next} canNext={!problem} />}
        {d.step === DEPLOY_STEP.checks && <ChecksStep />}
        {d.step === DEPLOY_STEP.done && <DoneStep />}
      </div>
      <WizardFoot problem={problem} onNext={next} onClose={onClose} />
    </div>
  );
}

function WizardFoot({ problem, onNext, onClose }: { problem: string | null; onNext: () => void; onClose: () => void }) {
  const d = useStore((s) => s.dw);
  const set = useStore((s) => s.deploySet);
  const start = useStore((s) => s.deployStart);
  const go = useStore((s) => s.go);
  if (d.step === DEPLOY_STEP.checks) {
    return (
      <div className="wizard-foot">
        {d.running ? (
          <span className="muted small">The deployment goes on if you leave this page; a note says how it went.</span>
        ) : d.error ? (
          <button className="button" onClick={() => set({ step: DEPLOY_STEP.target })}>
            Back
          </button>
        ) : (
          <span />
        )}
        {!d.running && (
          <div className="foot-right">
            {d.error ? (
              <button className="button primary" onClick={() => void start()}>
                <Icon name="repeat" size={16} /> Try again
              </button>
            ) : (
              <button className="button primary" data-testid="deploy-next" onClick={() => set({ step: DEPLOY_STEP.done })}>
                Next <Icon name="arrow" size={16} />
              </button>
            )}
          </div>
        )}
      </div>
    );
  }
  if (d.step === DEPLOY_STEP.done) {
    return (
      <div className="wizard-foot">
        <button className="button" onClick={onClose}>
          {d.model ? 'Back to the model' : 'Close'}
        </button>
        <div className="foot-right">
          <button className="button primary" data-testid="deploy-open-deployments" onClick={() => go('deployments')}>
            <Icon name="deployments" size={16} /> Open Deployments
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className="wizard-foot">
      <button className="button" onClick={() => (d.step === 0 ? onClose() : set({ step: d.step - 1 }))}>
        {d.step === 0 ? 'Cancel' : 'Back'}
      </button>
      <div className="foot-right">
        {problem && (
          <span className="muted small foot-why" aria-live="polite">
            {problem}
          </span>
        )}
        {d.step === DEPLOY_STEP.version ? (
          <button className="button primary" data-testid="deploy-next" disabled={Boolean(problem)} onClick={onNext}>
            Next <Icon name="arrow" size={16} />
          </button>
        ) : (
          <button className="button primary" data-testid="deploy-start" disabled={Boolean(problem)} onClick={onNext}>
            <Icon name={d.target === 'file' ? 'download' : 'deployments'} size={16} /> {d.target === 'file' ? 'Write the file' : 'Deploy'}
          </button>
        )}
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------
// Step 1: which version

function VersionStep({ versions, onNext, canNext }: { versions: ModelVersionInfo[] | null; onNext: () => void; canNext: boolean }) {
  const d = useStore((s) => s.dw);
  const set = useStore((s) => s.deploySet);
  const models = useStore((s) => s.models);
  const loadModels = useStore((s) => s.loadModels);
  const go = useStore((s) => s.go);
  const [all, setAll] = useState(false);
  useEffect(() => void loadModels(), [loadModels]);

  const names = models?.map((m) => m.name) ?? [];
  if (d.model && !names.includes(d.model)) names.unshift(d.model);
  const live = versions?.filter((v) => !v.archivedAt) ?? [];
  const archived = (versions?.length ?? 0) - live.length;
  const listed = all ? live : live.slice(0, VERSIONS_SHOWN);
  const picked = live.find((v) => v.version === d.version);
  if (picked && !listed.includes(picked)) listed.push(picked);

  if (models !== null && names.length === 0) {
    return (
      <div className="step">
        <p>No model to deploy yet. Train one from a dataset first; its versions then appear here.</p>
        <div>
          <button className="button" onClick={() => go('models')}>
            <Icon name="models" size={16} /> Go to models
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className="step">
      <label className="field deploy-model-pick">
        <span className="field-label">Model</span>
        <select value={d.model ?? ''} onChange={(e) => e.target.value && set({ model: e.target.value })} data-testid="deploy-model">
          {!d.model && <option value="">Choose a model…</option>}
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      {d.model && versions === null && <p className="muted">Loading the versions…</p>}
      {d.model && versions !== null && live.length === 0 && <p className="muted">{d.model} has no version to deploy{archived ? ': every version is archived' : ''}.</p>}
      {live.length > 0 && (
        <div className="field">
          <span className="field-label" id="deploy-version-label">
            Version
          </span>
          <span className="field-hint">
            {live.some((v) => v.aliases.includes('production'))
              ? 'The production version is preselected: it is the one endpoints should run.'
              : 'The newest version is preselected; none is marked production yet.'}{' '}
            Times in {timeZoneLabel()}.
          </span>
          <div className="target-list deploy-versions" role="radiogroup" aria-labelledby="deploy-version-label">
            {listed.map((v) => {
              const selected = v.version === d.version;
              return (
                <RadioRow
                  key={v.version}
                  selected={selected}
                  first={d.version === null && v === listed[0]}
                  testId={`deploy-version-${v.version}`}
                  onChoose={() => set({ version: v.version })}
                  onNext={onNext}
                  canNext={canNext}
                  main={
                    <>
                      <span className="target-name">
                        Version {v.version} <VersionChips v={v} />
                      </span>
                      <span className="muted small">
                        {v.algorithmTitle} · trained on {v.dataset}, version {v.datasetVersion}
                      </span>
                    </>
                  }
                  meta={
                    <>
                      <span className="block">
                        {v.metric.label} <span className="strong">{formatMetric(v.metrics[v.metric.key], v.metric)}</span>
                      </span>
                      <span className="muted small">{formatWhen(v.createdAt)}</span>
                    </>
                  }
                />
              );
            })}
          </div>
          {live.length > VERSIONS_SHOWN && (
            <button className="link-button" onClick={() => setAll(!all)}>
              {all ? 'Show the newest only' : `Show all ${live.length} versions`}
            </button>
          )}
          {archived > 0 && <span className="field-hint">{archived === 1 ? 'One archived version is' : `${archived} archived versions are`} not offered; restore one on the model page to deploy it.</span>}
        </div>
      )}
    </div>
  );
}

// ---------------------------------------------------------------------------
// Step 2: where

function TargetStep({ chosen, onNext, canNext }: { chosen: ModelVersionInfo | null; onNext: () => void; canNext: boolean }) {
  const d = useStore((s) => s.dw);
  const set = useStore((s) => s.deploySet);
  return (
    <div className="step">
      <div className="deploy-targets" role="radiogroup" aria-label="Where should it run?">
        {TARGETS.map((t) => {
          const selected = d.target === t.kind;
          return (
            <ChoiceCard
              key={t.kind}
              selected={selected}
              first={false}
              testId={`deploy-target-${t.kind}`}
              onChoose={() => set({ target: t.kind })}
              onNext={onNext}
              canNext={canNext}
              className="deploy-target"
              icon={t.icon}
              iconSize={22}
              title={t.title}
              text={t.text}
            />
          );
        })}
      </div>
      <div className="deploy-target-detail">
        {d.target === 'local' && <LocalFields />}
        {d.target === 'endpoint' && <EndpointFields onNext={onNext} canNext={canNext} />}
        {d.target === 'file' && <FileFields />}
      </div>
      {chosen && <Summary chosen={chosen} />}
    </div>
  );
}

function LocalFields() {
  const d = useStore((s) => s.dw);
  const set = useStore((s) => s.deploySet);
  const existing = useStore((s) => s.endpoints?.find((e) => e.name === s.dw.localName.trim()) ?? null);
  const portWrong = portProblem(d.localPort);
  const nameWrong = nameProblem(d.localName);
  return (
    <>
      {existing && existing.kind === 'remote' && (
        <p className="error-text small">{existing.name} is an endpoint elsewhere, not on this PC. Choose another name under Advanced, or push to it instead.</p>
      )}
      <details className="advanced" open={Boolean(nameWrong || portWrong) || undefined}>
        <summary>Advanced</summary>
        <div className="settings-grid deploy-fields">
          <label className="field">
            <span className="field-label">Endpoint name</span>
            <span className="field-hint">How it is listed on the Deployments page.</span>
            <input value={d.localName} onChange={(e) => set({ localName: e.target.value })} aria-invalid={Boolean(nameWrong)} spellCheck={false} data-testid="deploy-local-name" />
          </label>
          <label className="field">
            <span className="field-label">Port</span>
            <span className="field-hint">Empty: a free port is chosen.</span>
            <input value={d.localPort} onChange={(e) => set({ localPort: e.target.value })} inputMode="numeric" placeholder="any free port" aria-invalid={Boolean(portWrong)} />
          </label>
        </div>
      </details>
    </>
  );
}

function EndpointFields({ onNext, canNext }: { onNext: () => void; canNext: boolean }) {
  const d = useStore((s) => s.dw);
  const set = useStore((s) => s.deploySet);
  const endpoints = useStore((s) => s.endpoints);
  const [adding, setAdding] = useState(false);
  const remote = endpoints?.filter((e) => e.kind === 'remote') ?? [];
  // A single endpoint that can take it is the obvious choice.
  const only = remote.length === 1 && remote[0]!.canDeploy ? remote[0]!.name : null;
  useEffect(() => {
    if (!d.endpoint && only) set({ endpoint: only });
  }, [d.endpoint, only, set]);
  return (
    <div className="field">
      <span className="field-label" id="deploy-endpoint-label">
        Endpoint
      </span>
      {endpoints === null ? (
        <p className="muted">Loading the endpoints…</p>
      ) : remote.length === 0 ? (
        <p className="muted">No endpoint is known yet. Add the one operations installed: its address and the tokens they printed at install.</p>
      ) : (
        <div className="target-list" role="radiogroup" aria-labelledby="deploy-endpoint-label">
          {remote.map((e) => {
            const selected = d.endpoint === e.name;
            const blocked = endpointBlocked(e);
            return (
              <RadioRow
                key={e.name}
                selected={selected}
                first={!d.endpoint && e === remote[0]}
                testId={`deploy-endpoint-${e.name}`}
                onChoose={() => set({ endpoint: e.name })}
                onNext={onNext}
                canNext={canNext}
                main={
                  <>
                    <span className="target-name">{e.name}</span>
                    <span className="muted small mono">{e.url}</span>
                    {blocked && <span className="small">{blocked}</span>}
                  </>
                }
                meta={
                  <>
                    <EndpointStatus e={e} compact />
                    <span className="muted small block">{e.model ? `Serves ${servedWords(e.model)}` : 'Serves nothing known yet'}</span>
                  </>
                }
              />
            );
          })}
        </div>
      )}
      <div className="deploy-add-endpoint">
        <button className="button small" onClick={() => setAdding(true)} data-testid="deploy-add-endpoint">
          <Icon name="plus" size={14} /> Add an endpoint…
        </button>
      </div>
      {adding && (
        <AddEndpointDialog
          onClose={() => setAdding(false)}
          onAdded={(e) => {
            setAdding(false);
            set({ endpoint: e.name });
          }}
        />
      )}
    </div>
  );
}

function FileFields() {
  const d = useStore((s) => s.dw);
  const set = useStore((s) => s.deploySet);
  const http = api().transport === 'http';
  return (
    <label className="field deploy-file">
      <span className="field-label">Write the bundle to</span>
      <span className="field-hint">
        {http ? 'A path on the PC that runs Millwright. Files in the workspace’s exports folder can be downloaded here once written.' : 'A .tar.gz file; the workspace’s exports folder unless you say otherwise.'}
      </span>
      <input value={d.out} onChange={(e) => set({ out: e.target.value })} spellCheck={false} data-testid="deploy-out" />
    </label>
  );
}

/** What will happen, in one or two sentences, before it happens. */
function Summary({ chosen }: { chosen: ModelVersionInfo }) {
  const d = useStore((s) => s.dw);
  const endpoints = useStore((s) => s.endpoints);
  const what = `Version ${chosen.version} of ${chosen.model}`;
  let text: ReactNode;
  if (d.target === 'file') {
    text = `${what} is written to ${baseName(d.out) || 'the file'} as a signed bundle. Nothing runs yet: operations installs it as its README.txt says.`;
  } else {
    const name = d.target === 'local' ? d.localName.trim() || 'this-pc' : d.endpoint;
    const e = endpoints?.find((x) => x.name === name);
    const where = d.target === 'local' ? (e ? `the endpoint ${name} on this PC` : `a new endpoint called ${name} on this PC`) : name ? `the endpoint ${name}` : 'the endpoint you choose';
    const silent = e && e.status === 'down' ? ` ${e.name} did not answer at the last contact, so the deployment may fail; Refresh it on the Deployments page first.` : '';
    const replaces = e?.model
      ? ` It replaces ${servedWords(e.model)}, which stays as the previous version: one click rolls back to it.`
      : '';
    text = `${what} goes to ${where}.${silent}${replaces} Then three checks run: the signature, the health of the endpoint, and a smoke test that sends rows the model was checked on and compares the answers with Millwright's own.`;
  }
  return (
    <div className="summary deploy-summary" data-testid="deploy-summary">
      <strong>What happens</strong>
      <p>{text}</p>
    </div>
  );
}

// ---------------------------------------------------------------------------
// Step 3: checks

function useElapsed(since: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (since === null) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [since]);
  return since === null ? 0 : Math.max(0, Math.round((now - since) / 1000));
}

function ChecksStep() {
  const d = useStore((s) => s.dw);
  const elapsed = useElapsed(d.running ? d.startedAt : null);
  const name = d.target === 'local' ? d.localName.trim() || 'this-pc' : d.endpoint;
  const where = d.target === 'file' ? `to ${baseName(d.out)}` : `to ${name}`;
  if (d.running) {
    return (
      <div className="step" data-testid="deploy-running">
        <div className="deploy-running">
          <div className="train-progress-head">
            <strong>
              {d.target === 'file' ? 'Writing' : 'Deploying'} version {d.version} {where}…
            </strong>
            <span className="muted small">{elapsed} s</span>
          </div>
          <div className="progress indeterminate" role="progressbar" aria-label="Deploying" aria-busy="true">
            <div className="progress-fill" />
          </div>
        </div>
        {d.target !== 'file' && (
          <ul className="deploy-checks" aria-label="Checks">
            {DEPLOY_CHECKS.map((c) => (
              <li key={c} className="deploy-check waiting">
                <span className="deploy-check-icon" aria-hidden="true">
                  <span className="spinner" />
                </span>
                <span className="deploy-check-name">{CHECK_TITLES[c]}</span>
                <span className="muted small">{CHECK_WAITING[c]}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }
  if (d.error || !d.result) {
    return (
      <div className="step">
        <div className="card notice bad-notice" role="alert" data-testid="deploy-error">
          <Icon name="alert" />
          <div>
            <strong>Version {d.version} was not deployed</strong>
            <p>{d.error ?? 'The deployment ended without a result. Try again.'}</p>
            <p className="muted small">Whatever ran before keeps running; nothing was changed.</p>
          </div>
        </div>
      </div>
    );
  }
  return (
    <div className="step">
      <ResultHead r={d.result} />
      <CheckList checks={d.result.checks} />
    </div>
  );
}

function ResultHead({ r }: { r: DeployResult }) {
  const failed = failedLines(r);
  if (failed.length === 0) {
    return (
      <p className="deploy-ok" data-testid="deploy-ok">
        <Icon name="check" />{' '}
        {r.file && !r.endpoint
          ? `Wrote version ${r.version} of ${r.model} as a signed bundle.`
          : `Version ${r.version} of ${r.model} runs on ${r.endpoint ?? 'the endpoint'}${r.checks.length ? '; every check passed' : ''}.`}
      </p>
    );
  }
  return <FailedNotice r={r} lines={failed} />;
}

/** A failed check: what failed, in plain words, and the way back. */
function FailedNotice({ r, lines }: { r: DeployResult; lines: string[] }) {
  const rollback = useStore((s) => s.deployRollback);
  const rolledBack = useStore((s) => s.dw.rolledBack);
  const [busy, setBusy] = useState(false);
  return (
    <div className="card notice bad-notice" role="alert" data-testid="deploy-failed">
      <Icon name="alert" />
      <div>
        <strong>
          Version {r.version} reached {r.endpoint ?? 'the endpoint'}, but {lines.length === 1 ? 'a check' : `${lines.length} checks`} failed
        </strong>
        {lines.map((l) => (
          <p key={l}>{l}</p>
        ))}
        {rolledBack ? (
          <p data-testid="deploy-rolled-back">
            <Icon name="check" size={14} /> {rolledBack.name} serves {rolledBack.model ? servedWords(rolledBack.model) : 'what it served before'} again.
          </p>
        ) : r.replaced && r.endpoint ? (
          <div className="notice-actions">
            <button
              className="button primary"
              disabled={busy}
              data-testid="deploy-rollback"
              onClick={() => {
                setBusy(true);
                void rollback().finally(() => setBusy(false));
              }}
            >
              {busy && <span className="spinner" aria-hidden />}
              <Icon name="repeat" size={16} /> Roll back to version {r.replaced.version}
            </button>
          </div>
        ) : (
          <p className="muted small">{r.endpoint ? `${r.endpoint} served nothing before, so there is nothing to roll back to. Stop it or deploy another version.` : ''}</p>
        )}
      </div>
    </div>
  );
}

function CheckList({ checks }: { checks: DeployCheck[] }) {
  if (checks.length === 0) return null;
  return (
    <ul className="deploy-checks" aria-label="Checks" data-testid="deploy-checks">
      {checks.map((c) => (
        <li key={c.name} className={`deploy-check ${c.ok ? 'ok' : 'failed'}`} data-testid={`deploy-check-${c.name}`}>
          <span className="deploy-check-icon">
            <Icon name={c.ok ? 'check' : 'alert'} size={16} />
          </span>
          <span className="deploy-check-name">
            {CHECK_TITLES[c.name]}
            <span className="deploy-check-word">{c.ok ? 'passed' : 'failed'}</span>
          </span>
          <span className="small">{c.detail}</span>
        </li>
      ))}
    </ul>
  );
}

// ---------------------------------------------------------------------------
// Step 4: done

function DoneStep() {
  const d = useStore((s) => s.dw);
  const reset = useStore((s) => s.deployReset);
  const r = d.result;
  if (!r) return <ChecksStep />;
  const failed = failedLines(r);
  return (
    <div className="step deploy-done">
      {failed.length > 0 ? <FailedNotice r={r} lines={failed} /> : <ResultHead r={r} />}
      {r.url && (
        <div className="field">
          <span className="field-label">Address</span>
          <span data-testid="deploy-url">
            <CopyValue value={r.url} label="endpoint address" />
          </span>
          {/^https?:\/\/(127\.|localhost\b|\[::1\])/.test(r.url) && <span className="field-hint">It listens on this PC only: programs elsewhere cannot reach it.</span>}
        </div>
      )}
      {r.curl && (
        <div className="field deploy-curl">
          <span className="field-label">Call it</span>
          <span className="field-hint">
            One real row to /predict; the answer comes back as JSON.
            {r.curl.includes('$TOKEN') ? ' $TOKEN stands for the endpoint’s predict token.' : ' The line holds the endpoint’s predict token: share it only with people who may call it.'}
          </span>
          <span data-testid="deploy-curl">
            <CopyValue value={r.curl} label="curl line" />
          </span>
        </div>
      )}
      {r.file && <BundleFile file={r.file} />}
      <div className="deploy-done-links">
        <button className="link-button" onClick={reset}>
          Deploy version {r.version} somewhere else
        </button>
      </div>
    </div>
  );
}

function BundleFile({ file }: { file: string }) {
  const workspace = useStore((s) => s.info?.workspace ?? '');
  const http = api().transport === 'http';
  const name = baseName(file);
  return (
    <div className="field">
      <span className="field-label">Bundle</span>
      {http && inExportsFolder(file, workspace) ? (
        <span className="deploy-file-out">
          <Icon name="data" size={16} />
          <span className="strong ellipsis" title={file}>
            {name}
          </span>
          <a className="button small" href={downloadHref(file, sessionStorage.getItem(TOKEN_KEY) ?? '')} download={name} data-testid="deploy-download">
            Download
          </a>
        </span>
      ) : (
        <CopyValue value={file} label="path of the bundle" />
      )}
      <span className="field-hint">Copy it to the gateway and follow README.txt inside: it says how to install, start, check and roll back.</span>
    </div>
  );
}
