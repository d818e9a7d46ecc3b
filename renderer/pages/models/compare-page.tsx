import { useEffect, useState } from 'react';
import type { ModelVersionInfo } from '../../../shared/api';
import type { Comparison, InputShift, SideSummary } from '../../../shared/registry';
import { call } from '../../api/api';
import { Icon } from '../../components/icons';
import { PageHead } from '../../components/page-head';
import { reportError } from '../../store/report-error';
import { useStore } from '../../store/store';
import { formatWhen } from '../when';
import { axisNumber, comparedMetrics, holdoutWords, onAxis, rightSide, rowsWords, settingWords, sharedAxis, shiftWords, type Span } from './compare-logic';
import './registry.css';
import { fieldText, rowLabel } from './scoring-logic';

/** "#/models/NAME/compare/1/2": two versions side by side on the same rows: verdict, metrics, settings, data, and where they disagree. */
export function ComparePage({ name, a, b }: { name: string; a: number; b: number }) {
  const go = useStore((s) => s.go);
  const [c, setC] = useState<Comparison | null>(null);
  const [error, setError] = useState<string | null>(null);
  const versions = useVersions(name);

  useEffect(() => {
    let live = true;
    call('models.compare', { a: `${name}@${a}`, b: `${name}@${b}` })
      .then((x) => live && setC(x))
      .catch((err: unknown) => {
        if (!live) return;
        setError(err instanceof Error ? err.message : 'The two versions cannot be compared.');
        reportError(err);
      });
    return () => {
      live = false;
    };
  }, [name, a, b]);

  const pick = (x: number, y: number) => {
    if (x === y) return;
    const [lo, hi] = [x, y].sort((p, q) => p - q);
    go('models', name, ['compare', String(lo), String(hi)]);
  };

  return (
    <div className="page wide compare-page">
      <PageHead
        back={name}
        onBack={() => go('models', name)}
        title={`Version ${Math.min(a, b)} and version ${Math.max(a, b)} of ${name}`}
        blurb="Both versions answer the same rows, so the numbers can be set side by side."
      >
        {versions && versions.length > 2 && (
          <div className="compare-pickers">
            <VersionSelect label="Compare version" versions={versions} value={Math.min(a, b)} other={Math.max(a, b)} onChange={(x) => pick(x, Math.max(a, b))} />
            <VersionSelect label="with version" versions={versions} value={Math.max(a, b)} other={Math.min(a, b)} onChange={(y) => pick(Math.min(a, b), y)} />
          </div>
        )}
      </PageHead>
      {error && (
        <div className="card notice bad-notice" role="alert">
          <Icon name="alert" />
          <div>
            <strong>These two versions cannot be compared</strong>
            <p>{error}</p>
          </div>
        </div>
      )}
      {!c && !error && <p className="muted">Scoring both versions on the same rows…</p>}
      {c && <ComparisonView c={c} target={versions?.find((v) => v.version === c.b.version)?.target ?? null} />}
    </div>
  );
}

function useVersions(name: string): ModelVersionInfo[] | null {
  const [versions, setVersions] = useState<ModelVersionInfo[] | null>(null);
  useEffect(() => {
    let live = true;
    call('models.get', { model: name })
      .then((d) => live && setVersions(d.versions))
      // The pickers are a convenience; the comparison shows without them.
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [name]);
  return versions;
}

function VersionSelect({ label, versions, value, other, onChange }: { label: string; versions: ModelVersionInfo[]; value: number; other: number; onChange: (v: number) => void }) {
  return (
    <label className="version-pick">
      <span className="muted small">{label}</span>
      <select value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {versions
          .filter((v) => v.version !== other && v.task === versions.find((x) => x.version === other)?.task)
          .map((v) => (
            <option key={v.version} value={v.version}>
              {v.version} · {v.algorithmTitle}
              {v.aliases.length ? ` · ${v.aliases.join(', ')}` : ''}
            </option>
          ))}
      </select>
    </label>
  );
}

function ComparisonView({ c, target }: { c: Comparison; target: string | null }) {
  return (
    <>
      <section className="card headline" aria-label="Verdict">
        <p className="headline-text" data-testid="compare-verdict">
          {c.sentence}
        </p>
        <p className="muted small">{holdoutWords(c.holdout)}</p>
      </section>
      <div className="compare-sides">
        <Side s={c.a} />
        <Side s={c.b} />
      </div>
      <div className="compare-grid">
        <Metrics c={c} />
        <Settings c={c} />
      </div>
      <DataChanges c={c} />
      <Disagreements c={c} target={target} />
    </>
  );
}

function Side({ s }: { s: SideSummary }) {
  return (
    <div className="fact compare-side">
      <span className="muted small">Version {s.version}</span>
      <span className="fact-value" title={s.algorithm}>
        {s.algorithm}
      </span>
      <span className="small muted">
        Trained {formatWhen(s.createdAt)} by {s.createdBy} on {s.dataset} version {s.datasetVersion} ({s.rows.toLocaleString()} rows)
      </span>
    </div>
  );
}

function Metrics({ c }: { c: Comparison }) {
  const rows = comparedMetrics(c);
  return (
    <section className="card section result-section" aria-labelledby="cmp-metrics">
      <h3 id="cmp-metrics">How well each does on the same rows</h3>
      <table className="table compact compare-table" data-testid="compare-metrics">
        <thead>
          <tr>
            <th scope="col">Measure</th>
            <th scope="col" className="num">
              Version {c.a.version}
            </th>
            <th scope="col" className="num">
              Version {c.b.version}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} className={r.ranking ? 'best-row' : ''}>
              <th scope="row" className={r.ranking ? 'strong' : ''}>
                {r.label}
                {r.ranking && <span className="muted small block">ranks the versions</span>}
              </th>
              <Cell text={r.a} better={r.better === 'a'} />
              <Cell text={r.b} better={r.better === 'b'} />
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">
        <Icon name="check" size={12} /> marks the better value. {c.metric.higherIsBetter ? `Higher ${c.metric.label} is better.` : `Lower ${c.metric.label} is better.`}
      </p>
    </section>
  );
}

function Cell({ text, better }: { text: string; better: boolean }) {
  return (
    <td className={`num ${better ? 'better' : ''}`}>
      {better && (
        <>
          <Icon name="check" size={12} />
          <span className="sr-only">better: </span>
        </>
      )}{' '}
      {text}
    </td>
  );
}

function Settings({ c }: { c: Comparison }) {
  return (
    <section className="card section result-section" aria-labelledby="cmp-settings">
      <h3 id="cmp-settings">What changed in the settings</h3>
      {c.settings.length === 0 ? (
        <p className="muted">Nothing: both were trained with the same settings.</p>
      ) : (
        <table className="table compact compare-table wrap" data-testid="compare-settings">
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">Version {c.a.version}</th>
              <th scope="col">Version {c.b.version}</th>
            </tr>
          </thead>
          <tbody>
            {c.settings.map((s) => (
              <tr key={s.name}>
                <th scope="row">{s.name}</th>
                <td>{settingWords(s.name, s.a)}</td>
                <td>{settingWords(s.name, s.b)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function DataChanges({ c }: { c: Comparison }) {
  const d = c.data;
  return (
    <section className="card section result-section" aria-labelledby="cmp-data" data-testid="compare-data">
      <h3 id="cmp-data">What changed in the data</h3>
      <ul className="plain-list compare-data-facts">
        <li>
          {d.sameData
            ? `Both learned from the same data: ${c.b.dataset} version ${c.b.datasetVersion}, ${rowsWords(d)}.`
            : `${c.a.dataset} version ${c.a.datasetVersion} → ${c.b.dataset} version ${c.b.datasetVersion}: ${rowsWords(d)}.`}
        </li>
        {d.columnsAdded.length > 0 && <li>Columns added: {d.columnsAdded.join(', ')}.</li>}
        {d.columnsRemoved.length > 0 && <li>Columns removed: {d.columnsRemoved.join(', ')}.</li>}
        {!d.sameData && d.columnsAdded.length === 0 && d.columnsRemoved.length === 0 && <li>The same columns.</li>}
      </ul>
      {d.inputs.length > 0 && (
        <>
          <h4>The inputs that matter most</h4>
          <p className="muted small">
            Each bar spans the middle 90% of an input’s values (5th to 95th percentile); the tick marks the median. Version {c.a.version} above, version{' '}
            {c.b.version} below, on one scale.
          </p>
          <ul className="shifts">
            {d.inputs.map((x) => (
              <Shift key={x.input} x={x} a={c.a.version} b={c.b.version} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function Shift({ x, a, b }: { x: InputShift; a: number; b: number }) {
  const axis = sharedAxis(x.a, x.b);
  const shifted = x.ks !== null && x.ks >= 0.1;
  return (
    <li className="shift">
      <div className="shift-words">
        <span className="strong">{x.input}</span>
        <span className={`small ${shifted ? 'warn-text' : 'muted'}`}>{shiftWords(x)}</span>
      </div>
      {axis ? (
        <div className="shift-bars" aria-hidden>
          <RangeBar label={`v${a}`} span={x.a} axis={axis} tone="a" />
          <RangeBar label={`v${b}`} span={x.b} axis={axis} tone="b" />
          <div className="range-axis">
            <span>{axisNumber(axis.min)}</span>
            <span>{axisNumber(axis.max)}</span>
          </div>
        </div>
      ) : (
        <span className="muted small">No numbers to draw.</span>
      )}
    </li>
  );
}

function RangeBar({ label, span, axis, tone }: { label: string; span: Span | null; axis: { min: number; max: number }; tone: 'a' | 'b' }) {
  return (
    <div className="range-row">
      <span className="range-label small muted">{label}</span>
      <span className="range-track">
        {span && (
          <>
            <span className={`range-band tone-${tone}`} style={{ left: `${onAxis(span.p5, axis)}%`, width: `${Math.max(0.5, onAxis(span.p95, axis) - onAxis(span.p5, axis))}%` }} />
            <span className="range-median" style={{ left: `${onAxis(span.median, axis)}%` }} title={`median ${axisNumber(span.median)}`} />
          </>
        )}
      </span>
    </div>
  );
}

function Disagreements({ c, target }: { c: Comparison; target: string | null }) {
  const rows = c.disagreements;
  return (
    <section className="card section result-section" aria-labelledby="cmp-disagree" data-testid="compare-disagreements">
      <h3 id="cmp-disagree">Where they disagree most</h3>
      {rows.length === 0 ? (
        <p className="muted">Nowhere: on these rows both versions give the same answers.</p>
      ) : (
        <>
          <p className="muted small">
            The {rows.length === 1 ? 'row' : `${rows.length} rows`} of {c.holdout.dataset} where the two answers lie furthest apart, with what really happened.
          </p>
          <div className="table-scroll full">
            <table className="table compact compare-table disagree-table">
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Row
                  </th>
                  <th scope="col">Version {c.a.version} said</th>
                  <th scope="col">Version {c.b.version} said</th>
                  <th scope="col">What happened{target ? ` (${target})` : ''}</th>
                  <th scope="col">Input values</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => {
                  const right = rightSide(r.a, r.b, r.actual);
                  return (
                    <tr key={r.row}>
                      <td className="num">{rowLabel(r.row)}</td>
                      <Answer text={r.a} right={right === 'a'} />
                      <Answer text={r.b} right={right === 'b'} />
                      <td>{r.actual ?? <span className="muted">not known</span>}</td>
                      <td className="small disagree-values">
                        {Object.entries(r.values)
                          .map(([k, v]) => `${k} ${v === null ? 'missing' : fieldText(v)}`)
                          .join(' · ')}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function Answer({ text, right }: { text: string; right: boolean }) {
  return (
    <td className={right ? 'better' : ''}>
      {text}
      {right && (
        <span className="right-tag">
          <Icon name="check" size={12} /> right
        </span>
      )}
    </td>
  );
}
