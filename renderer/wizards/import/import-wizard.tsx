import { useRef, useState, type DragEvent, type ReactNode } from 'react';
import { COLUMN_TYPES, DELIMITERS, TEXT_ENCODINGS, type ColumnType, type Problem, type ReadSettings } from '../../../shared/datasets';
import { formatBytes } from '../../../shared/format';
import { formatCell, TYPE_LABELS } from '../../components/format-cell';
import { Icon } from '../../components/icons';
import { WizardHead } from '../../components/wizard-head';
import { ProgressBar } from '../../components/progress-bar';
import { IMPORT_STEPS, type Choice } from '../../store/import-slice';
import { useStore } from '../../store/store';

const DELIMITER_LABELS: Record<string, string> = { ',': 'Comma ( , )', ';': 'Semicolon ( ; )', '\t': 'Tab', '|': 'Vertical bar ( | )', ' ': 'Spaces (aligned columns)' };
const ENCODING_LABELS: Record<string, string> = {
  'utf-8': 'UTF-8 (Unicode)',
  'utf-16le': 'UTF-16 little-endian',
  'utf-16be': 'UTF-16 big-endian',
  'windows-1252': 'Windows-1252 (Western European)',
};
const CHOICE_LABELS: Record<Choice, string> = { missing: 'Treat as missing', skip: 'Skip these rows', keep: 'Keep as they are' };

/** Import wizard: choose files → how we read it → columns → problems → name and save. */
export function ImportWizard({ onClose }: { onClose: () => void }) {
  const step = useStore((s) => s.imp.step);
  const setStep = useStore((s) => s.importSetStep);
  const imp = useStore((s) => s.imp);
  const saveJob = useStore((s) => (s.imp.saveJob ? s.jobs[s.imp.saveJob] : undefined));
  const analyzeJob = useStore((s) => (s.imp.analyzeJob ? s.jobs[s.imp.analyzeJob] : undefined));
  const canNext =
    (step === 0 && imp.inspect !== null) ||
    (step === 1 && imp.inspect !== null && !imp.inspecting) ||
    (step === 2 && imp.inspect !== null && !imp.inspecting) ||
    (step === 3 && imp.analysis !== null && (imp.totals?.rowsKept ?? 1) > 0);
  const saving = saveJob && (saveJob.state === 'queued' || saveJob.state === 'running');

  return (
    <div className="wizard card" role="region" aria-label="Import data">
      <WizardHead title="Import data" closeLabel="Close the import" onClose={onClose} labels={IMPORT_STEPS} step={step} canGo={(i) => !(i > step && !(i === step + 1 && canNext))} onStep={setStep} />
      <div className="wizard-body">
        {step === 0 && <ChooseFiles />}
        {step === 1 && <HowWeReadIt />}
        {step === 2 && <Columns />}
        {step === 3 && <Problems running={analyzeJob} />}
        {step === 4 && <NameAndSave />}
      </div>
      <div className="wizard-foot">
        <button className="button" onClick={() => (step === 0 ? onClose() : setStep(step - 1))} disabled={Boolean(saving)}>
          {step === 0 ? 'Cancel' : 'Back'}
        </button>
        {step < 4 ? (
          <button className="button primary" disabled={!canNext} onClick={() => setStep(step + 1)}>
            Next <Icon name="arrow" size={16} />
          </button>
        ) : (
          <SaveButton />
        )}
      </div>
    </div>
  );
}

function ChooseFiles() {
  const add = useStore((s) => s.importAddFiles);
  const uploading = useStore((s) => s.imp.uploading);
  const inspecting = useStore((s) => s.imp.inspecting);
  const files = useStore((s) => s.imp.files);
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const list = [...e.dataTransfer.files];
    if (list.length) void add(list);
  };
  return (
    <div className="step">
      <div
        className={`drop-zone ${over ? 'over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <Icon name="upload" size={32} />
        <p className="strong">Drop CSV, TSV, TXT or Excel (.xlsx) files here</p>
        <p className="muted small">Several files with the same columns (one per month, say) are joined into one dataset.</p>
        <button className="button primary" onClick={() => input.current?.click()} disabled={Boolean(uploading) || inspecting}>
          Choose files…
        </button>
        <input
          ref={input}
          type="file"
          multiple
          accept=".csv,.tsv,.txt,.dat,.xlsx,text/csv,text/plain"
          hidden
          aria-label="Files to import"
          onChange={(e) => {
            const list = [...(e.target.files ?? [])];
            e.target.value = '';
            if (list.length) void add(list);
          }}
        />
      </div>
      {uploading && (
        <div className="inline-progress">
          <span className="small">Sending {uploading.name}…</span>
          <ProgressBar value={uploading.fraction} label={`Sending ${uploading.name}`} />
        </div>
      )}
      {inspecting && <p className="muted small">Looking at the file…</p>}
      {files.length > 0 && (
        <ul className="file-list">
          {files.map((f) => (
            <li key={f.path}>
              <Icon name="data" size={16} /> <span className="strong">{f.fileName}</span> <span className="muted small">{formatBytes(f.sizeBytes)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Field({ label, hint, children }: { label: string; hint?: string; children: ReactNode }) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      {children}
      {hint && <span className="field-hint">{hint}</span>}
    </label>
  );
}

function HowWeReadIt() {
  const inspect = useStore((s) => s.imp.inspect)!;
  const change = useStore((s) => s.importChange);
  const s = inspect.settings;
  const ex = inspect.explanations;
  const set = (p: Partial<ReadSettings>) => void change(p);
  const excel = inspect.sheets !== undefined;
  return (
    <div className="step read-step">
      <div className="settings-grid">
        {excel && (
          <Field label="Sheet" hint={ex.sheet}>
            <select value={s.sheet ?? ''} onChange={(e) => set({ sheet: e.target.value })}>
              {inspect.sheets!.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </Field>
        )}
        {!excel && (
          <>
        <Field label="Values are separated by" hint={ex.delimiter}>
          <select value={s.delimiter} onChange={(e) => set({ delimiter: e.target.value as ReadSettings['delimiter'] })}>
            {DELIMITERS.map((d) => (
              <option key={d} value={d}>
                {DELIMITER_LABELS[d]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Decimal mark" hint={ex.decimal}>
          <select value={s.decimal} onChange={(e) => set({ decimal: e.target.value as ReadSettings['decimal'] })}>
            <option value=".">Point (12.5)</option>
            <option value=",">Comma (12,5)</option>
          </select>
        </Field>
        <Field label="Thousands separator" hint={ex.thousands}>
          <select value={s.thousands} onChange={(e) => set({ thousands: e.target.value as ReadSettings['thousands'] })}>
            <option value="">None</option>
            <option value=",">Comma (1,234)</option>
            <option value=".">Point (1.234)</option>
            <option value=" ">Space (1 234)</option>
            <option value="'">Apostrophe (1'234)</option>
          </select>
        </Field>
        <Field label="Text encoding" hint={ex.encoding}>
          <select value={s.encoding} onChange={(e) => set({ encoding: e.target.value as ReadSettings['encoding'] })}>
            {TEXT_ENCODINGS.map((x) => (
              <option key={x} value={x}>
                {ENCODING_LABELS[x]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Lines to skip before the header" hint={ex.skipLines}>
          <input type="number" min={0} max={1000} value={s.skipLines} onChange={(e) => set({ skipLines: Math.max(0, Number(e.target.value) || 0) })} />
        </Field>
          </>
        )}
        <Field label="First row holds column names" hint={ex.hasHeader}>
          <select value={s.hasHeader ? 'yes' : 'no'} onChange={(e) => set({ hasHeader: e.target.value === 'yes' })}>
            <option value="yes">Yes</option>
            <option value="no">No, name them Column 1, 2, …</option>
          </select>
        </Field>
        <Field label="Time column" hint={inspect.timeExplanation ?? ex.timeColumn}>
          <select value={s.timeColumn ?? ''} onChange={(e) => set({ timeColumn: e.target.value || null })}>
            <option value="">None (rows are not in time order)</option>
            {inspect.schema.map((c) => (
              <option key={c.header} value={c.header}>
                {c.header}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Time zone of the timestamps" hint={ex.timeZone ?? 'Used for times written without an offset.'}>
          <input list="time-zones" value={s.timeZone} onChange={(e) => e.target.value && set({ timeZone: e.target.value })} />
          <datalist id="time-zones">
            {zones().map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </Field>
      </div>
      <LongFormat />
      <Preview />
    </div>
  );
}

/** Historian exports in long form (time, tag, value[, quality]) become one column per tag on a regular time grid. */
function LongFormat() {
  const inspect = useStore((st) => st.imp.inspect)!;
  const change = useStore((st) => st.importChange);
  const lf = inspect.settings.longFormat ?? null;
  const suggested = inspect.explanations.longFormat;
  if (!lf && !suggested) return null;
  const headers = inspect.schema.map((c) => c.header);
  const set = (p: Partial<NonNullable<ReadSettings['longFormat']>> | null) =>
    void change({ longFormat: p === null ? null : { ...(lf as NonNullable<ReadSettings['longFormat']>), ...p } });
  return (
    <fieldset className="long-format card">
      <legend>Historian long format</legend>
      {suggested && <p className="muted small">{suggested}</p>}
      {lf ? (
        <div className="settings-grid">
          <Field label="Tag (sensor name) column">
            <select value={lf.tagColumn} onChange={(e) => set({ tagColumn: e.target.value })}>
              {headers.map((h) => (
                <option key={h}>{h}</option>
              ))}
            </select>
          </Field>
          <Field label="Value column">
            <select value={lf.valueColumn} onChange={(e) => set({ valueColumn: e.target.value })}>
              {headers.map((h) => (
                <option key={h}>{h}</option>
              ))}
            </select>
          </Field>
          <Field label="Quality column" hint="Values marked Bad or Uncertain become missing.">
            <select value={lf.qualityColumn ?? ''} onChange={(e) => set({ qualityColumn: e.target.value || null })}>
              <option value="">None</option>
              {headers.map((h) => (
                <option key={h}>{h}</option>
              ))}
            </select>
          </Field>
          <Field label="Time grid (seconds)" hint="Empty: the usual sampling interval of the tags.">
            <input
              type="number"
              min={0}
              value={lf.intervalMs === null ? '' : lf.intervalMs / 1000}
              onChange={(e) => set({ intervalMs: e.target.value === '' || Number(e.target.value) <= 0 ? null : Number(e.target.value) * 1000 })}
            />
          </Field>
          <Field label="Several values in one step">
            <select value={lf.aggregate} onChange={(e) => set({ aggregate: e.target.value as 'mean' | 'last' })}>
              <option value="mean">Average them</option>
              <option value="last">Keep the last</option>
            </select>
          </Field>
        </div>
      ) : null}
      {lf ? (
        <button className="link-button" onClick={() => set(null)}>
          Read the file as it is instead (no pivot)
        </button>
      ) : (
        <button className="button small" onClick={() => void change({ longFormat: undefined })}>
          Pivot to one column per tag
        </button>
      )}
    </fieldset>
  );
}

function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  return intl.supportedValuesOf?.('timeZone') ?? ['UTC'];
}

function Preview() {
  const inspect = useStore((s) => s.imp.inspect)!;
  const inspecting = useStore((s) => s.imp.inspecting);
  const zone = inspect.settings.timeZone;
  return (
    <div className={`preview ${inspecting ? 'stale' : ''}`}>
      <div className="preview-head">
        <strong>Preview</strong>
        <span className="muted small">
          The first {inspect.preview.length} rows as they will be read{inspect.settings.timeColumn ? `; times in ${zone}` : ''}.
        </span>
      </div>
      <div className="table-scroll">
        <table className="table compact">
          <thead>
            <tr>
              {inspect.schema.map((c) => (
                <th key={c.header} scope="col" className={c.type === 'number' || c.type === 'integer' ? 'num' : ''}>
                  {c.name}
                  {c.unit && <span className="unit"> [{c.unit}]</span>}
                  <div className="type-tag">{TYPE_LABELS[c.type]}</div>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {inspect.preview.map((row, r) => (
              <tr key={r}>
                {row.map((v, i) => {
                  const col = inspect.schema[i]!;
                  const text = formatCell(v, col.type, zone);
                  return (
                    <td key={i} className={col.type === 'number' || col.type === 'integer' ? 'num' : ''}>
                      {text === null ? <span className="missing">—</span> : text}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Columns() {
  const inspect = useStore((s) => s.imp.inspect)!;
  const setType = useStore((s) => s.importSetType);
  return (
    <div className="step">
      <p className="muted">Millwright guessed what each column holds. Change a type if the guess is wrong; values that do not fit are reported in the next step.</p>
      <div className="table-scroll">
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Unit</th>
              <th scope="col">Holds</th>
              <th scope="col">First values</th>
            </tr>
          </thead>
          <tbody>
            {inspect.schema.map((c, i) => (
              <tr key={c.header}>
                <td className="strong">{c.name}</td>
                <td>{c.unit ?? <span className="missing">—</span>}</td>
                <td>
                  <select aria-label={`Type of ${c.name}`} value={c.type} onChange={(e) => void setType(c.header, e.target.value as ColumnType)}>
                    {COLUMN_TYPES.map((t) => (
                      <option key={t} value={t}>
                        {TYPE_LABELS[t]}
                      </option>
                    ))}
                  </select>
                </td>
                <td className="muted small">
                  {inspect.preview
                    .slice(0, 3)
                    .map((r) => formatCell(r[i] ?? null, c.type, inspect.settings.timeZone) ?? '—')
                    .join(' · ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Problems({ running }: { running: ReturnType<typeof useStore.getState>['jobs'][string] | undefined }) {
  const analysis = useStore((s) => s.imp.analysis);
  const totals = useStore((s) => s.imp.totals);
  const cancel = useStore((s) => s.cancelJob);
  const retry = useStore((s) => s.importAnalyze);
  if (!analysis) {
    if (running && (running.state === 'running' || running.state === 'queued')) {
      return (
        <div className="step">
          <p className="strong">Reading every row…</p>
          <div className="inline-progress">
            <ProgressBar value={running.progress} label="Reading the files" />
            <span className="muted small">
              {running.message} · {Math.round(running.progress * 100)} %
            </span>
            <button className="button small" onClick={() => void cancel(running.id)}>
              <Icon name="stop" size={14} /> Cancel
            </button>
          </div>
        </div>
      );
    }
    return (
      <div className="step">
        {running?.error && <p className="error-text">{running.error.message}</p>}
        {running?.state === 'cancelled' && <p className="muted">Reading was cancelled.</p>}
        <button className="button primary" onClick={() => void retry()}>
          Read the files
        </button>
      </div>
    );
  }
  return (
    <div className="step">
      <div className="totals" aria-live="polite">
        <Total label="Rows read" value={analysis.rows} />
        <Total label="Will be saved" value={totals?.rowsKept ?? analysis.rows} />
        <Total label="Will be skipped" value={totals?.rowsSkipped ?? 0} tone={(totals?.rowsSkipped ?? 0) > 0 ? 'warn' : undefined} />
        {analysis.blankLines > 0 && <Total label="Blank lines ignored" value={analysis.blankLines} />}
      </div>
      {analysis.problems.length === 0 ? (
        <p className="ok-text">
          <Icon name="check" /> No problems found. Every row is ready to save.
        </p>
      ) : (
        analysis.problems.map((p) => <ProblemCard key={p.kind} problem={p} />)
      )}
    </div>
  );
}

function Total({ label, value, tone }: { label: string; value: number; tone?: 'warn' }) {
  return (
    <div className={`total ${tone ?? ''}`}>
      <span className="total-value">{value.toLocaleString()}</span>
      <span className="muted small">{label}</span>
    </div>
  );
}

function ProblemCard({ problem }: { problem: Problem }) {
  const choice = useStore((s) => s.imp.choices[problem.kind] ?? problem.defaultChoice);
  const choose = useStore((s) => s.importChoose);
  const [all, setAll] = useState(false);
  const shown = all ? problem.examples : problem.examples.slice(0, 5);
  return (
    <section className="problem card" aria-label={problem.title}>
      <div className="problem-head">
        <Icon name="alert" />
        <strong>{problem.title}</strong>
        <span className="chip chip-warn">{problem.count.toLocaleString()}</span>
        {problem.choices.length > 1 && (
          <fieldset className="segmented small-seg">
            <legend className="sr-only">What to do with {problem.title}</legend>
            {problem.choices.map((c) => (
              <label key={c} className={choice === c ? 'checked' : ''}>
                <input type="radio" name={`choice-${problem.kind}`} value={c} checked={choice === c} onChange={() => void choose(problem.kind, c)} />
                {CHOICE_LABELS[c]}
              </label>
            ))}
          </fieldset>
        )}
      </div>
      <table className="table compact">
        <thead>
          <tr>
            <th scope="col" className="num">
              Line
            </th>
            <th scope="col">Column</th>
            <th scope="col">Text in the file</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e, i) => (
            <tr key={i}>
              <td className="num">{e.line.toLocaleString()}</td>
              <td>{e.column ?? '—'}</td>
              <td className="mono small">{e.raw === '' ? <span className="missing">(empty)</span> : e.raw}</td>
              <td className="small">{e.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {problem.examples.length > 5 && (
        <button className="link-button" onClick={() => setAll(!all)}>
          {all ? 'Show fewer' : `Show the first ${problem.examples.length} examples`}
        </button>
      )}
    </section>
  );
}

function NameAndSave() {
  const imp = useStore((s) => s.imp);
  const setName = useStore((s) => s.importSetName);
  const datasets = useStore((s) => s.datasets);
  const existing = datasets?.find((d) => d.name === imp.name.trim());
  const insp = imp.inspect!;
  return (
    <div className="step name-step">
      <Field label="Name" hint={existing ? `A dataset called "${existing.name}" exists: this import becomes its version ${(existing.version ?? 0) + 1}.` : 'A new dataset.'}>
        <input value={imp.name} onChange={(e) => setName(e.target.value, imp.description)} maxLength={200} />
      </Field>
      <Field label="Description (optional)">
        <textarea rows={2} value={imp.description} onChange={(e) => setName(imp.name, e.target.value)} maxLength={2000} />
      </Field>
      <div className="summary card">
        <strong>What will happen</strong>
        <ul>
          <li>
            Save {(imp.totals?.rowsKept ?? imp.analysis?.rows ?? 0).toLocaleString()} rows × {insp.schema.length} columns from {imp.files.map((f) => f.fileName).join(', ')}.
          </li>
          {(imp.totals?.rowsSkipped ?? 0) > 0 && <li>Skip {imp.totals!.rowsSkipped.toLocaleString()} rows with problems (they stay in the report).</li>}
          {insp.settings.timeColumn && (
            <li>
              Sort the rows by "{insp.settings.timeColumn}", read in {insp.settings.timeZone}.
            </li>
          )}
          <li>Keep the data as an unchangeable version; the original files are not modified.</li>
        </ul>
      </div>
    </div>
  );
}

function SaveButton() {
  const imp = useStore((s) => s.imp);
  const save = useStore((s) => s.importSave);
  const job = useStore((s) => (s.imp.saveJob ? s.jobs[s.imp.saveJob] : undefined));
  const busy = job && (job.state === 'queued' || job.state === 'running');
  if (busy) {
    return (
      <div className="inline-progress save-progress">
        <ProgressBar value={job.progress} label="Saving" />
        <span className="muted small">{job.message}</span>
      </div>
    );
  }
  return (
    <button className="button primary" disabled={!imp.name.trim() || !imp.analysis} onClick={() => void save()}>
      <Icon name="check" /> Save dataset
    </button>
  );
}
