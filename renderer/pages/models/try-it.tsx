import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { Prediction, TryItForm } from '../../../shared/scoring';
import type { TrainingReport } from '../../../shared/training';
import { call } from '../../api/api';
import { Icon } from '../../components/icons';
import { errorMessage } from '../../store/report-error';
import './scoring.css';
import {
  answerWords,
  changedInputs,
  effectSubject,
  fieldLabel,
  filledFrom,
  historyNote,
  initialValues,
  listWords,
  otherRow,
  pushRows,
  rowOf,
  shownValue,
  splitInputs,
  splitPushes,
  type FormInput,
  type FormValues,
  type ModelWords,
} from './scoring-logic';

/** How long typing may pause before the model answers again. */
const ANSWER_DELAY_MS = 400;

/** "Try it": the model's inputs filled from a real row, its answer in plain words and what pushed it. */
export function TryIt({ model, version, report, unit }: { model: string; version: number; report: TrainingReport; unit: string | null }) {
  const [form, setForm] = useState<TryItForm | null>(null);
  const [values, setValues] = useState<FormValues>({});
  const [answer, setAnswer] = useState<Prediction | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const request = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const ask = useCallback(
    async (f: TryItForm, v: FormValues) => {
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
      const mine = ++request.current;
      setBusy(true);
      try {
        const [p] = await call('models.predict', { model, version, rows: [rowOf(f.inputs, v)], ...(f.historyRows > 0 ? { historyRow: f.row } : {}) });
        if (mine !== request.current) return;
        setAnswer(p ?? null);
        setError(null);
      } catch (err) {
        if (mine === request.current) setError(errorMessage(err));
      } finally {
        if (mine === request.current) setBusy(false);
      }
    },
    [model, version],
  );

  const load = useCallback(
    async (row?: number) => {
      try {
        const f = await call('models.tryIt', { model, version, ...(row === undefined ? {} : { row }) });
        const v = initialValues(f);
        setForm(f);
        setValues(v);
        setLoadError(null);
        await ask(f, v);
      } catch (err) {
        setLoadError(errorMessage(err));
      }
    },
    [model, version, ask],
  );

  useEffect(() => {
    void load();
    // Answers still on their way belong to the version being left.
    const pending = request;
    const debounce = timer;
    return () => {
      pending.current++;
      if (debounce.current) clearTimeout(debounce.current);
    };
  }, [load]);

  if (loadError) {
    return (
      <TryItCard>
        <p className="error-text" role="alert">
          {loadError}
        </p>
      </TryItCard>
    );
  }
  if (!form) {
    return (
      <TryItCard>
        <p className="muted">Filling in a row from the training data…</p>
      </TryItCard>
    );
  }

  const words: ModelWords = { task: form.task, target: form.target, classes: form.classes, unit };
  const change = (name: string, text: string) => {
    const next = { ...values, [name]: text };
    setValues(next);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => void ask(form, next), ANSWER_DELAY_MS);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void ask(form, values);
  };
  const changed = changedInputs(form, values);
  const { shown, more } = splitInputs(form.inputs, report.importance);
  const history = historyNote(form);
  const fields = (list: FormInput[]) => (
    <div className="try-fields">
      {list.map((input) => (
        <Field key={input.name} input={input} text={values[input.name] ?? ''} onChange={(t) => change(input.name, t)} />
      ))}
    </div>
  );

  return (
    <TryItCard>
      <p className="muted small" data-testid="try-from">
        {filledFrom(form, unit)}
        {changed.length > 0 && (
          <>
            {' '}
            You changed {listWords(changed)}.{' '}
            <button
              type="button"
              className="link-button inline"
              onClick={() => {
                const v = initialValues(form);
                setValues(v);
                void ask(form, v);
              }}
            >
              Back to the row's values
            </button>
          </>
        )}
        {history && <span className="block">{history}</span>}
      </p>
      <div className="try-grid">
        <form className="try-form" onSubmit={submit} aria-label="Values to try">
          {fields(shown)}
          {more.length > 0 && (
            <details className="more-inputs">
              <summary>More inputs ({more.length})</summary>
              {fields(more)}
            </details>
          )}
          <div className="try-actions">
            <button type="submit" className="button primary" data-testid="try-answer-button">
              Answer
            </button>
            <button type="button" className="button" onClick={() => void load(otherRow(form))}>
              Another real row
            </button>
          </div>
        </form>
        <div className={`try-result ${busy ? 'busy' : ''}`} aria-busy={busy}>
          {error ? (
            <div className="notice bad-notice try-error" role="alert">
              <Icon name="alert" />
              <div>
                <strong>No answer for these values</strong>
                <p>{error}</p>
              </div>
            </div>
          ) : answer ? (
            <Answer answer={answer} words={words} threshold={report.threshold} inputs={form.inputs} values={values} />
          ) : (
            <p className="muted">Asking the model…</p>
          )}
        </div>
      </div>
    </TryItCard>
  );
}

function TryItCard({ children }: { children: ReactNode }) {
  return (
    <section className="card section result-section try-it" aria-labelledby="try-title" data-testid="try-it">
      <div>
        <h3 id="try-title">Try it</h3>
        <p className="muted small">Change any value and the model answers again, as it would for a live row.</p>
      </div>
      {children}
    </section>
  );
}

function Field({ input, text, onChange }: { input: FormInput; text: string; onChange: (text: string) => void }) {
  const id = `try-${input.name.replace(/[^A-Za-z0-9_-]+/g, '_')}`;
  let control: ReactNode;
  if (input.kind === 'number') {
    control = <input id={id} type="number" step="any" inputMode="decimal" value={text} placeholder="not known" onChange={(e) => onChange(e.target.value)} />;
  } else {
    const options: [string, string][] =
      input.kind === 'boolean'
        ? [
            ['true', 'Yes'],
            ['false', 'No'],
          ]
        : (input.levels ?? []).map((l) => [l, l]);
    // A value from the row that the list lacks stays choosable.
    if (text !== '' && !options.some(([v]) => v === text)) options.push([text, text]);
    control = (
      <select id={id} value={text} onChange={(e) => onChange(e.target.value)}>
        <option value="">Not known</option>
        {options.map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
    );
  }
  return (
    <div className="field">
      <label className="field-label" htmlFor={id} title={fieldLabel(input)}>
        {fieldLabel(input)}
      </label>
      {control}
    </div>
  );
}

function Answer({ answer, words, threshold, inputs, values }: { answer: Prediction; words: ModelWords; threshold: number; inputs: FormInput[]; values: FormValues }) {
  const a = answerWords(answer, words, threshold);
  const rows = pushRows(answer, words);
  const { bars, still, smaller } = splitPushes(rows);
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const lead = rows.find((r) => r.share !== 0);
  return (
    <>
      <div className={`answer ${a.alarm ? 'answer-alarm' : ''}`} data-testid="try-answer" aria-live="polite">
        {a.alarm && <Icon name="alert" size={22} />}
        <div>
          <p className="answer-headline">
            {a.headline}
            {a.figure && <span className="answer-figure">: {a.figure}</span>}
          </p>
          {a.detail && <p className="muted small">{a.detail}</p>}
        </div>
      </div>
      {rows.length > 0 && (
        <div className="pushes-block">
          <h4>What pushed this answer</h4>
          {lead && <p className="push-lead">{lead.sentence}.</p>}
          <p className="muted small">
            Each input against its typical value in the training data: bars to the right raised {effectSubject(words, answer.prediction)}, bars to the left lowered it.
          </p>
          <ol className="pushes" aria-label="Inputs by how much they pushed this answer" data-testid="try-pushes">
            {bars.map((r) => {
              const input = byName.get(r.input);
              const share = Math.min(1, Math.abs(r.share));
              return (
                <li key={r.input} className="push-row" title={`${r.sentence}.`}>
                  <span className="push-label">
                    <span className="push-name">{r.input}</span>
                    {input && <span className="muted small push-now">{shownValue(input, values[r.input] ?? '')}</span>}
                  </span>
                  <span className="push-track" aria-hidden="true">
                    <span className="push-half left">{r.share < 0 && <span className="push-fill" style={{ width: `${share * 100}%` }} />}</span>
                    <span className="push-half right">{r.share > 0 && <span className="push-fill" style={{ width: `${share * 100}%` }} />}</span>
                  </span>
                  <span className="push-value small" aria-hidden="true">
                    {r.valueText}
                  </span>
                  <span className="sr-only">{r.sentence}.</span>
                </li>
              );
            })}
          </ol>
          {(still.length > 0 || smaller > 0) && (
            <p className="muted small" data-testid="try-still">
              {smaller > 0 && `${smaller.toLocaleString()} more ${smaller === 1 ? 'input' : 'inputs'} moved it less. `}
              {still.length > 0 && `Hardly changed it: ${still.join(', ')}.`}
            </p>
          )}
        </div>
      )}
    </>
  );
}
