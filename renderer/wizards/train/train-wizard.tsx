import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { JobInfo, Suggestion } from '../../../shared/api';
import type { ColumnType } from '../../../shared/datasets';
import { formatDuration } from '../../../shared/format';
import { ALGORITHM_TITLES, GOALS, GOAL_TITLES, RANKING_METRIC, ANOMALY_LABELLED_METRIC, type Goal } from '../../../shared/training';
import { call } from '../../api/api';
import { EmptyState } from '../../components/empty-state';
import { TYPE_LABELS } from '../../components/format-cell';
import { Icon, type IconName } from '../../components/icons';
import { ProgressBar } from '../../components/progress-bar';
import { ChoiceCard, RadioRow } from '../../components/radio-cards';
import { WizardHead } from '../../components/wizard-head';
import { isActive } from '../../store/jobs-slice';
import { useStore } from '../../store/store';
import {
  BUDGET_LABELS,
  BUDGET_STOPS,
  blockersApply,
  budgetFraction,
  budgetToIndex,
  effectiveInputs,
  enterMeansNext,
  formatBudget,
  indexToBudget,
  parseLags,
  parseProgressMessage,
  rankLive,
  readingsInWindow,
  STEP,
  stepLabels,
  stepProblem,
  TASK_ALGORITHMS,
  taskForGoal,
  WINDOW_MAX_MINUTES,
} from './train-logic';

const GOAL_ICONS: Record<Goal, IconName> = { predict_value: 'monitoring', predict_category: 'alert', detect_unusual: 'flask' };

const TASK_SENTENCE = {
  regression: 'a number',
  binary: 'a yes/no outcome',
  multiclass: 'a category',
  anomaly: 'unusual behaviour',
} as const;

function formatInterval(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : formatBudget(ms / 1000);
}

function typeLabel(type: string): string {
  return TYPE_LABELS[type as ColumnType] ?? type;
}

/** "#/train/DATASET": the Train wizard, full page, like the import. */
export function TrainPage() {
  const param = useStore((s) => s.pageParam);
  const open = useStore((s) => s.trainOpen);
  const go = useStore((s) => s.go);
  const datasets = useStore((s) => s.datasets);
  const loaded = datasets !== null;
  // Again once the list of datasets has arrived, so a default can be picked from it.
  useEffect(() => open(param), [param, open, loaded]);

  if (datasets !== null && datasets.length === 0) {
    return (
      <div className="page">
        <EmptyState
          icon="models"
          title="Bring in data first"
          actions={
            <button className="button primary" onClick={() => go('data', 'import')}>
              <Icon name="upload" /> Import data
            </button>
          }
        >
          A model learns from a dataset: sensor history with the value, failure or behaviour you care about.
        </EmptyState>
      </div>
    );
  }
  return (
    <div className="page wide">
      <TrainWizard onClose={() => go('models')} />
    </div>
  );
}

/** Train wizard: goal → what to predict (or known problems) → inputs → time budget → training; results open on the model page. */
export function TrainWizard({ onClose }: { onClose: () => void }) {
  const tr = useStore((s) => s.tr);
  const setStep = useStore((s) => s.trainSetStep);
  const start = useStore((s) => s.trainStart);
  const job = useStore((s) => (s.tr.job ? s.jobs[s.tr.job] : undefined));
  const training = tr.step === STEP.training;
  const back = useStore((s) => s.trainBackToSettings);
  const running = Boolean(job && isActive(job));
  const ended = Boolean(job && (job.state === 'failed' || job.state === 'cancelled' || job.state === 'interrupted'));
  const problem = training ? null : stepProblem(tr.step, tr, tr.suggestion, tr.suggesting);
  const labels = stepLabels(tr.goal);
  const blocking = Boolean(tr.suggestion && tr.suggestion.blockers.length > 0 && !tr.suggesting && blockersApply(tr.step, tr.goal));

  const next = () => {
    if (problem) return;
    if (tr.step === STEP.budget) void start();
    else setStep(tr.step + 1);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'Enter' || e.shiftKey || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || training) return;
    const t = e.target as HTMLElement;
    if (!enterMeansNext(t.tagName, t.getAttribute('type'))) return;
    e.preventDefault();
    next();
  };

  return (
    <div className="wizard card train-wizard" role="region" aria-label="Train a model" onKeyDown={onKeyDown}>
      <WizardHead
        title={<>Train a model{tr.dataset ? <span className="muted"> on {tr.dataset}</span> : null}</>}
        closeLabel="Close the training wizard"
        onClose={onClose}
        labels={labels}
        step={tr.step}
        canGo={(i) => !(training || i === STEP.training || (i > tr.step && !(i === tr.step + 1 && !problem)))}
        onStep={setStep}
      />
      <div className="wizard-body">
        {tr.step === STEP.goal && <GoalStep onNext={next} canNext={!problem} />}
        {tr.step === STEP.target && <TargetStep onNext={next} canNext={!problem} />}
        {tr.step === STEP.inputs && <InputsStep />}
        {tr.step === STEP.budget && <BudgetStep />}
        {tr.step === STEP.training && <TrainingStep />}
        {!training && blocking && <Blockers lines={tr.suggestion!.blockers} />}
      </div>
      <div className="wizard-foot">
        {training && ended ? (
          <>
            <button className="button" onClick={back}>
              Change the settings
            </button>
            <button className="button primary" data-testid="train-restart" onClick={() => void start()}>
              <Icon name="models" size={16} /> {job?.state === 'cancelled' ? 'Start again' : 'Try again'}
            </button>
          </>
        ) : training ? (
          <span className="muted small">{running ? 'Training runs in the background: you can leave this page and come back.' : ''}</span>
        ) : (
          <button className="button" onClick={() => (tr.step === 0 ? onClose() : setStep(tr.step - 1))}>
            {tr.step === 0 ? 'Cancel' : 'Back'}
          </button>
        )}
        {!training && (
          <div className="foot-right">
            {problem && !tr.suggesting && !blocking && (
              <span className="muted small foot-why" aria-live="polite">
                {problem}
              </span>
            )}
            {tr.suggesting && (
              <span className="muted small foot-why" aria-live="polite">
                <span className="spinner inline-spinner" aria-hidden="true" /> Looking at the data…
              </span>
            )}
            {tr.step < STEP.budget ? (
              <button className="button primary" data-testid="train-next" disabled={Boolean(problem)} onClick={next}>
                Next <Icon name="arrow" size={16} />
              </button>
            ) : (
              <button className="button primary" data-testid="train-start" disabled={Boolean(problem)} onClick={next}>
                <Icon name="models" size={16} /> Start training
              </button>
            )}
          </div>
        )}
      </div>
    </div>
  );
}

function Blockers({ lines }: { lines: string[] }) {
  return (
    <div className="card notice train-blockers" role="alert">
      <Icon name="alert" />
      <div>
        <strong>Training cannot start yet</strong>
        {lines.map((l) => (
          <p key={l}>{l}</p>
        ))}
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------
// Goal


function GoalStep({ onNext, canNext }: { onNext: () => void; canNext: boolean }) {
  const datasets = useStore((s) => s.datasets);
  const tr = useStore((s) => s.tr);
  const choose = useStore((s) => s.trainChooseGoal);
  const go = useStore((s) => s.go);
  const names = datasets?.map((d) => d.name) ?? [];
  if (tr.dataset && !names.includes(tr.dataset)) names.unshift(tr.dataset);
  const ds = datasets?.find((d) => d.name === tr.dataset);
  return (
    <div className="step">
      <label className="field train-dataset">
        <span className="field-label">Data to learn from</span>
        <select value={tr.dataset ?? ''} onChange={(e) => e.target.value && go('train', e.target.value)}>
          {!tr.dataset && <option value="">Choose a dataset…</option>}
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        {ds && (
          <span className="field-hint">
            Latest version ({ds.version ?? '–'}): {ds.rows.toLocaleString()} rows, {ds.columns.length} columns.
          </span>
        )}
      </label>
      <div className="goal-cards" role="radiogroup" aria-label="What should the model do?">
        {GOALS.map((g) => {
          const selected = tr.goal === g;
          return (
            <ChoiceCard
              key={g}
              selected={selected}
              first={!tr.goal && g === GOALS[0]}
              testId={`train-goal-${g}`}
              disabled={!tr.dataset}
              onChoose={() => void choose(g)}
              onNext={onNext}
              canNext={canNext}
              icon={GOAL_ICONS[g]}
              title={GOAL_TITLES[g].title}
              text={GOAL_TITLES[g].description}
            />
          );
        })}
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------
// What to predict / known problems

const SHOWN_TARGETS = 6;

function TargetStep({ onNext, canNext }: { onNext: () => void; canNext: boolean }) {
  const goal = useStore((s) => s.tr.goal);
  const suggestion = useStore((s) => s.tr.suggestion);
  if (goal === 'detect_unusual') return <KnownProblems />;
  return <TargetList suggestion={suggestion} onNext={onNext} canNext={canNext} />;
}

function TargetList({ suggestion, onNext, canNext }: { suggestion: Suggestion | null; onNext: () => void; canNext: boolean }) {
  const target = useStore((s) => s.tr.target);
  const goal = useStore((s) => s.tr.goal);
  const choose = useStore((s) => s.trainChooseTarget);
  const goalTargets = useStore((s) => s.tr.goalTargets);
  const [all, setAll] = useState(false);
  if (!suggestion) return <p className="muted">Looking at the data…</p>;
  const targets = goalTargets.length ? goalTargets : suggestion.targets;
  const cut = all ? targets.length : Math.max(SHOWN_TARGETS, targets.filter((t) => t.recommended).length);
  // Keep the chosen one visible even when it sits below the fold.
  const shown = targets.filter((t, i) => i < cut || t.name === target);
  const hidden = targets.length - shown.length;
  return (
    <div className="step">
      <p className="muted">
        {goal === 'predict_value' ? 'Which value should the model estimate?' : 'Which outcome should the model tell apart?'} The columns that suit this best are at the
        top.
      </p>
      <div className="target-list" role="radiogroup" aria-label="What you want to predict">
        {shown.map((t) => {
          const selected = t.name === target;
          return (
            <RadioRow
              key={t.name}
              selected={selected}
              first={!target && t === shown[0]}
              onChoose={() => void choose(t.name)}
              onNext={onNext}
              canNext={canNext}
              metaClass="small muted"
              main={
                <>
                  <span className="target-name">
                    {t.name}
                    {t.recommended && <span className="chip chip-active">Recommended</span>}
                  </span>
                  <span className="muted small">{t.reason}</span>
                </>
              }
              meta={
                <>
                  {typeLabel(t.type)}
                  {t.classes !== null && (
                    <>
                      <br />
                      {t.classes} {t.classes === 1 ? 'value' : 'values'}
                    </>
                  )}
                </>
              }
            />
          );
        })}
      </div>
      {hidden > 0 && (
        <button className="link-button" onClick={() => setAll(true)}>
          Show {hidden} more {hidden === 1 ? 'column' : 'columns'}
        </button>
      )}
      {target && suggestion.task && !suggestion.blockers.length && (
        <p className="small" aria-live="polite">
          The model will predict {TASK_SENTENCE[suggestion.task]}
          {suggestion.task === 'binary' || suggestion.task === 'multiclass'
            ? ` (${targets.find((t) => t.name === target)?.classes ?? 'several'} different values)`
            : ''}
          .
        </p>
      )}
    </div>
  );
}

function KnownProblems() {
  const tr = useStore((s) => s.tr);
  const s = tr.suggestion;
  if (!s) return <p className="muted">Looking at the data…</p>;
  const labelTargets = tr.goalTargets.length ? tr.goalTargets : s.targets;
  const suggested = labelTargets.map((t) => t.name);
  const others = s.inputs.map((i) => i.name).filter((n) => !suggested.includes(n));
  const reason = labelTargets.find((t) => t.name === tr.labelColumn)?.reason;
  // The label column judges the model; it is never one of its inputs, and columns that give it away are unticked.
  const choose = (name: string | null) => void useStore.getState().trainChooseLabel(name);
  return (
    <div className="step known-step">
      <p>
        The model learns what normal operation looks like from your sensors. It needs no labels.{' '}
        <span className="muted">
          If a column marks times when something was known to be wrong (1 = problem, 0 = normal), Millwright uses it to check how many of those problems the model
          would have flagged. It is never used to learn.
        </span>
      </p>
      <label className="field">
        <span className="field-label">Column that marks known problems (optional)</span>
        <select value={tr.labelColumn ?? ''} onChange={(e) => choose(e.target.value || null)}>
          <option value="">None: judge on normal operation only</option>
          {suggested.length > 0 && (
            <optgroup label="Suggested">
              {suggested.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </optgroup>
          )}
          {others.length > 0 && (
            <optgroup label="Other columns">
              {others.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </optgroup>
          )}
        </select>
        {reason && <span className="field-hint">{reason}</span>}
      </label>
    </div>
  );
}

// ---------------------------------------------------------------------------
// Inputs

function InputsStep() {
  const tr = useStore((s) => s.tr);
  const set = useStore((s) => s.trainSet);
  const [filter, setFilter] = useState('');
  const s = tr.suggestion;
  if (!s) return <p className="muted">Looking at the data…</p>;
  const offered = s.inputs.filter((i) => i.name !== tr.target && i.name !== tr.labelColumn);
  const ticked = new Set(effectiveInputs(tr, s));
  const f = filter.trim().toLowerCase();
  const visible = f ? offered.filter((i) => i.name.toLowerCase().includes(f)) : offered;
  const toggle = (name: string, on: boolean) => set({ inputs: on ? [...tr.inputs.filter((n) => n !== name), name] : tr.inputs.filter((n) => n !== name) });
  const tickedLeaks = offered.filter((i) => i.leak && ticked.has(i.name));
  const lags = parseLags(tr.lagsText);
  const readings = tr.windowMinutes ? readingsInWindow(tr.windowMinutes, s.intervalMs) : null;
  return (
    <div className="step">
      <div className="inputs-head">
        <p>
          <strong>
            {ticked.size} of {offered.length}
          </strong>{' '}
          <span className="muted">columns will be used as inputs. IDs and columns that give the answer away are left out; the reason is shown.</span>
        </p>
        <div className="inputs-tools">
          {offered.length > 12 && (
            <input type="search" className="inputs-filter" placeholder="Find a column" aria-label="Find a column" value={filter} onChange={(e) => setFilter(e.target.value)} />
          )}
          <button className="button small" onClick={() => set({ inputs: [...new Set([...tr.inputs, ...visible.map((i) => i.name)])] })}>
            Select all
          </button>
          <button className="button small" onClick={() => set({ inputs: tr.inputs.filter((n) => !visible.some((i) => i.name === n)) })}>
            Select none
          </button>
        </div>
      </div>
      {tickedLeaks.length > 0 && (
        <div className="card notice warn-notice" role="status">
          <Icon name="alert" />
          <div>
            <strong>
              {tickedLeaks.length === 1 ? `"${tickedLeaks[0]!.name}" may give the answer away` : `${tickedLeaks.length} ticked columns may give the answer away`}
            </strong>
            <span className="small">
              {tickedLeaks.length === 1
                ? 'A model that learns from it looks good here but fails in the plant, where it is not known in time. Untick it unless you are sure.'
                : 'A model that learns from them looks good here but fails in the plant, where they are not known in time. Untick them unless you are sure.'}
            </span>
          </div>
        </div>
      )}
      <div className="table-scroll inputs-table">
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Input</th>
              <th scope="col">Holds</th>
              <th scope="col">Unit</th>
              <th scope="col" className="wide">
                Note
              </th>
            </tr>
          </thead>
          <tbody>
            {visible.map((i) => (
              <tr key={i.name} className={ticked.has(i.name) ? '' : 'unticked'}>
                <td>
                  <label className="check">
                    <input type="checkbox" checked={ticked.has(i.name)} onChange={(e) => toggle(i.name, e.target.checked)} />
                    <span className="strong">{i.name}</span>
                  </label>
                </td>
                <td className="small">{typeLabel(i.type)}</td>
                <td className="small">{i.unit ?? <span className="missing">—</span>}</td>
                <td className="small">
                  {i.leak && (
                    <span className="chip chip-warn">
                      <Icon name="alert" size={12} /> Suspected leak
                    </span>
                  )}{' '}
                  {i.reason && <span className="muted">{i.reason}</span>}
                </td>
              </tr>
            ))}
            {visible.length === 0 && (
              <tr>
                <td colSpan={4} className="muted">
                  No column matches "{filter}".
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {s.timeColumn && tr.keepTimeOrder && (
        <fieldset className="card window-box">
          <legend>Recent history</legend>
          <label className="check">
            <input type="checkbox" checked={tr.useWindow} onChange={(e) => set({ useWindow: e.target.checked })} />
            <span>
              Also learn from the last{' '}
              <input
                type="number"
                className="window-minutes"
                aria-label="Window in minutes"
                min={1}
                max={WINDOW_MAX_MINUTES}
                value={tr.windowMinutes ?? ''}
                onChange={(e) => set({ windowMinutes: e.target.value === '' ? null : Number(e.target.value), useWindow: true })}
              />{' '}
              minutes of each sensor
            </span>
          </label>
          <span className="field-hint">
            Adds the average, spread, lowest, highest, trend and last value over that window
            {readings !== null && s.intervalMs ? `: about ${readings.toLocaleString()} readings at one every ${formatInterval(s.intervalMs)}` : ''}. Helps when
            a problem builds up slowly.
          </span>
        </fieldset>
      )}
      <details className="advanced">
        <summary>Advanced</summary>
        <div className="settings-grid">
          <label className="field">
            <span className="field-label">Earlier values (rows back)</span>
            <input value={tr.lagsText} placeholder="e.g. 1, 2, 5" onChange={(e) => set({ lagsText: e.target.value })} aria-invalid={Boolean(lags.error)} />
            <span className={lags.error ? 'field-hint error-text' : 'field-hint'}>{lags.error ?? "Adds each sensor's value from that many rows before. Leave empty for none."}</span>
          </label>
        </div>
      </details>
    </div>
  );
}

// ---------------------------------------------------------------------------
// Time budget

function BudgetStep() {
  const tr = useStore((s) => s.tr);
  const set = useStore((s) => s.trainSet);
  const models = useStore((s) => s.models);
  const loadModels = useStore((s) => s.loadModels);
  useEffect(() => {
    if (models === null) void loadModels();
  }, [models, loadModels]);
  const s = tr.suggestion;
  if (!s || !tr.goal) return <p className="muted">Looking at the data…</p>;
  const task = taskForGoal(tr.goal, s.task) ?? 'regression';
  const fitting = TASK_ALGORITHMS[task];
  const index = budgetToIndex(tr.budgetSeconds);
  const name = tr.modelName.trim() || s.modelName;
  const existing = models?.find((m) => m.name === name);
  const inputs = effectiveInputs(tr, s);
  const leaks = s.inputs.filter((i) => i.leak && inputs.includes(i.name)).map((i) => i.name);
  const lags = parseLags(tr.lagsText).lags;
  const timeOrder = Boolean(s.timeColumn && tr.keepTimeOrder);
  const windowOn = tr.useWindow && timeOrder && tr.windowMinutes;
  const chosen = tr.algorithms.filter((a) => fitting.includes(a));
  const tries = chosen.length ? chosen : fitting;
  const by = new Date(Date.now() + tr.budgetSeconds * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return (
    <div className="step budget-step">
      <div className="budget">
        <label className="field-label" htmlFor="train-budget">
          How long may Millwright search?
        </label>
        <div className="budget-value" aria-hidden="true">
          {formatBudget(tr.budgetSeconds)}
        </div>
        <input
          id="train-budget"
          className="budget-range"
          type="range"
          min={0}
          max={BUDGET_STOPS.length - 1}
          step={1}
          value={index}
          aria-valuetext={formatBudget(indexToBudget(index))}
          onChange={(e) => set({ budgetSeconds: indexToBudget(Number(e.target.value)) })}
        />
        <div className="budget-ticks" aria-hidden="true">
          {BUDGET_LABELS.map((b) => (
            <span key={b} style={{ left: `${budgetFraction(b) * 100}%` }}>
              {formatBudget(b)}
            </span>
          ))}
        </div>
        <p className="field-hint">
          Millwright tries several algorithms and keeps the best one it finds in this time; a longer search can find a better model. It stops by about {by} at the
          latest.
        </p>
      </div>
      <details className="advanced">
        <summary>Advanced</summary>
        <div className="settings-grid">
          <label className="field">
            <span className="field-label">Model name</span>
            <input value={tr.modelName} placeholder={s.modelName} maxLength={200} onChange={(e) => set({ modelName: e.target.value })} />
            <span className="field-hint">{existing ? `"${existing.name}" exists: this run becomes its version ${existing.versions + 1}.` : 'A new model.'}</span>
          </label>
          <label className="field">
            <span className="field-label">Data kept aside for checking (%)</span>
            <input
              type="number"
              min={5}
              max={50}
              value={tr.holdoutPercent}
              onChange={(e) => set({ holdoutPercent: e.target.value === '' ? NaN : Number(e.target.value) })}
            />
            <span className="field-hint">
              {timeOrder ? `The last ${tr.holdoutPercent || '…'} % of the time range, never seen while learning.` : `A random ${tr.holdoutPercent || '…'} % of the rows.`}
            </span>
          </label>
          {s.timeColumn && (
            <label className="field check-field">
              <span className="field-label">Time order</span>
              <span className="check">
                <input type="checkbox" checked={tr.keepTimeOrder} onChange={(e) => set({ keepTimeOrder: e.target.checked })} />
                Check on the most recent data (recommended)
              </span>
              <span className="field-hint">Off: check on random rows, and learn without recent history.</span>
            </label>
          )}
          <label className="field">
            <span className="field-label">Seed</span>
            <input type="number" min={0} step={1} value={tr.seed} onChange={(e) => set({ seed: e.target.value === '' ? NaN : Number(e.target.value) })} />
            <span className="field-hint">The same seed and data give the same model.</span>
          </label>
        </div>
        <fieldset className="algo-pick">
          <legend className="field-label">Algorithms to try</legend>
          {fitting.map((a) => {
            const on = tries.includes(a);
            return (
              <label key={a} className="check">
                <input
                  type="checkbox"
                  checked={on}
                  // The last one stays: something must be tried.
                  disabled={on && tries.length === 1}
                  onChange={(e) => {
                    const nextList = e.target.checked ? [...new Set([...tries, a])] : tries.filter((x) => x !== a);
                    // Every one ticked is the default, "all that fit", sent as an empty list.
                    set({ algorithms: nextList.length === fitting.length ? [] : fitting.filter((x) => nextList.includes(x)) });
                  }}
                />
                {ALGORITHM_TITLES[a]}
              </label>
            );
          })}
          <span className="field-hint">Untick one to leave it out. All that fit are tried by default.</span>
        </fieldset>
      </details>
      <div className="summary card">
        <strong>What will happen</strong>
        <ul>
          <li>
            {tr.goal === 'detect_unusual'
              ? `Learn what normal looks like in ${inputs.length} ${inputs.length === 1 ? 'sensor' : 'sensors'}`
              : `Learn to predict "${tr.target}" (${TASK_SENTENCE[task]}) from ${inputs.length} ${inputs.length === 1 ? 'input' : 'inputs'}`}{' '}
            of {s.dataset}, version {s.version} ({s.rows.toLocaleString()} rows).
          </li>
          {tr.goal === 'detect_unusual' && tr.labelColumn && <li>Judge it by the known problems marked in "{tr.labelColumn}".</li>}
          {leaks.length > 0 && (
            <li className="summary-warn">
              <Icon name="alert" size={14} /> Use {leaks.map((n) => `"${n}"`).join(', ')} although {leaks.length === 1 ? 'it' : 'they'} may give the answer away.
            </li>
          )}
          {windowOn && <li>Add the recent history of each sensor over {tr.windowMinutes} minutes.</li>}
          {lags.length > 0 && <li>Add earlier values from {lags.join(', ')} rows back.</li>}
          <li>
            Check it on {timeOrder ? `the last ${tr.holdoutPercent} % of the time range` : `a random ${tr.holdoutPercent} % of the rows`}, kept aside while learning.
          </li>
          <li>
            Try {tries.length === 1 ? ALGORITHM_TITLES[tries[0]!] : `up to ${tries.length} algorithms`} for at most {formatBudget(tr.budgetSeconds)}, and keep the best as{' '}
            {existing ? `version ${existing.versions + 1} of "${name}"` : `the new model "${name}"`}.
          </li>
        </ul>
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------
// Training

function useTicker(on: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return now;
}

/** Events carry every change; a poll each second catches messages an event may have merged. */
function usePoll(job: JobInfo | undefined) {
  const upsert = useStore((s) => s.upsertJob);
  const note = useStore((s) => s.trainNoteJob);
  const id = job?.id;
  const active = Boolean(job && isActive(job));
  useEffect(() => {
    if (!id || !active) return;
    let live = true;
    const t = setInterval(() => {
      call('jobs.get', { id })
        .then((j) => {
          if (!live) return;
          upsert(j);
          note(j);
        })
        .catch(() => undefined);
    }, 1000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [id, active, upsert, note]);
}

function TrainingStep() {
  const tr = useStore((s) => s.tr);
  const job = useStore((s) => (s.tr.job ? s.jobs[s.tr.job] : undefined));
  const cancel = useStore((s) => s.cancelJob);
  const running = Boolean(job && isActive(job));
  usePoll(job);
  const now = useTicker(running);
  const ranked = useMemo(() => rankLive(tr.live), [tr.live]);
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (running) cancelRef.current?.focus({ preventScroll: true });
  }, [running]);

  if (!job) return <p className="muted">Starting…</p>;
  const metric = tr.goal === 'detect_unusual' ? (tr.labelColumn ? ANOMALY_LABELLED_METRIC : RANKING_METRIC.anomaly) : tr.suggestion?.task ? RANKING_METRIC[tr.suggestion.task] : null;
  const started = job.startedAt ? Date.parse(job.startedAt) : null;
  const elapsed = started ? Math.max(0, (job.endedAt ? Date.parse(job.endedAt) : now) - started) : 0;
  const parsed = running && tr.trying ? parseProgressMessage(tr.trying) : null;
  const trying = parsed?.kind === 'trying' ? parsed.title : null;
  const tryingShown = trying && !tr.live.some((e) => e.title === trying) ? trying : null;

  return (
    <div className="step training-step">
      {running ? (
        <div className="train-progress" data-testid="train-progress">
          <div className="train-progress-head">
            <strong>{job.state === 'queued' ? 'Waiting to start…' : 'Training…'}</strong>
            <span className="muted small">
              {formatDuration(elapsed)} of at most {formatBudget(tr.budgetSeconds)} · {Math.round(job.progress * 100)} %
            </span>
          </div>
          <ProgressBar value={job.progress} label="Training progress" />
          <div className="train-progress-foot">
            <span className="small" aria-live="polite">
              {job.message || 'Preparing the data…'}
            </span>
            <button ref={cancelRef} className="button small" data-testid="train-cancel" onClick={() => void cancel(job.id)}>
              <Icon name="stop" size={14} /> Cancel training
            </button>
          </div>
        </div>
      ) : job.state === 'failed' || job.state === 'interrupted' ? (
        <div className="card notice bad-notice" role="alert" data-testid="train-ended">
          <Icon name="alert" />
          <div>
            <strong>{job.state === 'failed' ? 'Training failed' : 'Training was interrupted'}</strong>
            <p>{job.error?.message ?? 'The app stopped while training. Nothing was saved.'}</p>
          </div>
        </div>
      ) : job.state === 'cancelled' ? (
        <div className="card notice" role="status" data-testid="train-ended">
          <Icon name="info" />
          <div>
            <strong>Training was stopped</strong>
            <p className="muted">No new model version was saved.</p>
          </div>
        </div>
      ) : (
        <p className="ok-text" data-testid="train-progress">
          <Icon name="check" /> Training finished. Opening the results…
        </p>
      )}

      <section className="live-board" aria-label="Algorithms tried so far">
        <h3>Tried so far</h3>
        {ranked.length === 0 && !tryingShown ? (
          <p className="muted small">Each algorithm appears here with its score as soon as it has been checked.</p>
        ) : (
          <table className="table compact" data-testid="live-leaderboard">
            <thead>
              <tr>
                <th scope="col" className="num">
                  #
                </th>
                <th scope="col">Algorithm</th>
                <th scope="col" className="num">
                  {metric?.label ?? ranked[0]?.metricLabel ?? 'Score'}
                </th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {ranked.map((e, i) => (
                <tr key={e.title} className={i === 0 && e.value !== null ? 'best-row' : e.value === null ? 'muted' : ''}>
                  <td className="num">{e.value === null ? '–' : i + 1}</td>
                  <td className={i === 0 && e.value !== null ? 'strong' : ''}>{e.title}</td>
                  <td className="num">{e.value === null ? <span className="small">{e.text}</span> : formatLive(e.value)}</td>
                  <td>{i === 0 && e.value !== null && <span className="chip chip-active">Best so far</span>}</td>
                </tr>
              ))}
              {tryingShown && (
                <tr className="muted">
                  <td className="num">
                    <span className="spinner inline-spinner" aria-hidden="true" />
                  </td>
                  <td>{tryingShown}</td>
                  <td className="num small">trying…</td>
                  <td />
                </tr>
              )}
            </tbody>
          </table>
        )}
        {metric && ranked.length > 0 && <p className="muted small">{metric.higherIsBetter ? 'Higher is better.' : 'Lower is better.'}</p>}
      </section>
    </div>
  );
}

const liveFormat = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 4 });
function formatLive(v: number): string {
  return Math.abs(v) <= 1 ? v.toFixed(3) : liveFormat.format(v);
}

