import { useEffect, useState } from 'react';
import type { ModelSummary, ModelVersionInfo } from '../../../shared/api';
import { formatDuration } from '../../../shared/format';
import { ALGORITHM_TITLES, describeEntry, describeHoldout, type TrainingReport, type TrainSettings } from '../../../shared/training';
import { call } from '../../api/api';
import { BarList } from '../../charts/bar-list';
import { Icon } from '../../components/icons';
import { PageHead } from '../../components/page-head';
import { reportError } from '../../store/report-error';
import { useStore } from '../../store/store';
import { formatWhen } from '../when';
import { ImprovePanel } from './improve-panel';
import { Performance } from './performance';
import { asReport, formatMetric, formatSeconds, importanceRows, predictsWhat, taskWords } from './report-logic';
import { ScoreFile } from './score-file';
import { TryIt } from './try-it';
import { Versions } from './versions';
import { UseCaseSelect } from '../use-cases/use-case-select';

const IMPORTANCE_SHOWN = 12;

/** One model: what it does in a sentence, how well, what was tried, what mattered; older versions on a picker. */
export function ModelPage({ name }: { name: string }) {
  const go = useStore((s) => s.go);
  const [data, setData] = useState<{ model: ModelSummary; versions: ModelVersionInfo[] } | null>(null);
  const [version, setVersion] = useState<number | null>(null);
  const [report, setReport] = useState<{ version: number; report: TrainingReport | null } | null>(null);
  // Bumped after an alias moves or a version is archived, to read the versions again.
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let live = true;
    call('models.get', { model: name })
      .then((d) => {
        if (!live) return;
        setData(d);
        setVersion((v) => v ?? d.versions[0]?.version ?? null);
      })
      .catch((err: unknown) => {
        reportError(err);
        if (live) go('models');
      });
    return () => {
      live = false;
    };
  }, [name, go, generation]);

  useEffect(() => {
    if (version === null) return;
    let live = true;
    call('models.report', { model: name, version })
      .then((r) => live && setReport({ version, report: asReport(r) }))
      .catch((err: unknown) => {
        reportError(err);
        if (live) setReport({ version, report: null });
      });
    return () => {
      live = false;
    };
  }, [name, version]);

  const shown = data?.versions.find((x) => x.version === version) ?? data?.versions[0];
  const unit = useTargetUnit(shown);

  if (!data) return <p className="muted">Loading…</p>;
  const v = shown;
  if (!v) return <p className="muted">This model has no trained version yet.</p>;
  const r = report && report.version === v.version ? report.report : undefined;
  const tried = r ? r.leaderboard.filter((e) => e.status === 'done').length : null;

  return (
    <div className="page wide model-page">
      <PageHead back="All models" onBack={() => go('models')} title={data.model.name} blurb={predictsWhat(v.task, v.target)}>
        <UseCaseSelect kind="model" name={data.model.name} />
        <button className="button" onClick={() => go('train', v.dataset)}>
          <Icon name="models" size={16} /> Train again
        </button>
        <button className="button primary" onClick={() => go('deployments', 'deploy', [data.model.name])} data-testid="deploy-model">
          <Icon name="deployments" size={16} /> Deploy
        </button>
      </PageHead>

      <Versions model={data.model} versions={data.versions} shown={v} onShow={setVersion} onChanged={() => setGeneration((g) => g + 1)} />

      <div className="facts-row">
        <Fact label="Goal" value={taskWords(v.task)} />
        <Fact label="Trained on" value={`${v.dataset}, version ${v.datasetVersion}`} />
        <Fact label="Trained" value={`${formatWhen(v.createdAt)} by ${v.createdBy}`} />
        <Fact label="Search took" value={formatDuration(v.durationSeconds * 1000)} />
        {r && <Fact label="Checked on" value={`${describeHoldout(r.holdout)} (${r.holdout.rows.toLocaleString()} rows)`} wide />}
      </div>

      <section className="card headline" aria-label="In one sentence">
        <p className="headline-text" data-testid="model-headline">
          {r ? (r.sentences[r.bestIndex] ?? (r.leaderboard[r.bestIndex] ? describeEntry(r.leaderboard[r.bestIndex]!, r) : v.sentence)) : v.sentence}
        </p>
        <p className="muted small">
          {tried === 1 ? 'The only algorithm tried' : `Best of ${tried ?? '…'} algorithms tried`}, ranked by {v.metric.label} (
          {formatMetric(v.metrics[v.metric.key], v.metric)}; {v.metric.higherIsBetter ? 'higher' : 'lower'} is better).
          {r ? ` ${learnedFrom(r)}` : ''}
        </p>
      </section>

      <ImprovePanel model={data.model} onChanged={() => setGeneration((g) => g + 1)} />

      {r === undefined ? (
        <p className="muted">Loading the results…</p>
      ) : r === null ? (
        <p className="muted">The results of this version cannot be shown.</p>
      ) : (
        <>
          {r.warnings.length > 0 && (
            <div className="card notice warn-notice" role="status">
              <Icon name="alert" />
              <div>
                <strong>Worth knowing</strong>
                <ul className="plain-list">
                  {r.warnings.map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              </div>
            </div>
          )}
          <Performance key={v.version} report={r} unit={unit} />
          <Leaderboard report={r} />
          <Importance report={r} unit={unit} />
          <TryIt key={`try-${v.version}`} model={data.model.name} version={v.version} report={r} unit={unit} />
          <ScoreFile model={data.model.name} version={v.version} words={{ task: r.task, target: r.target, classes: r.classes, unit }} />
          <SettingsUsed report={r} version={v} />
        </>
      )}
    </div>
  );
}

/** "Learned from 8,000 rows; the kept model then learned from all 10,000." (finalRows arrived later in the contract, so it may be missing.) */
function learnedFrom(r: TrainingReport): string {
  const final = (r as Partial<TrainingReport>).finalRows;
  if (typeof final === 'number' && final > r.trainRows) {
    return `Judged after learning from ${r.trainRows.toLocaleString()} rows; the kept model then learned from all ${final.toLocaleString()}, the checked rows included.`;
  }
  return `Learned from ${r.trainRows.toLocaleString()} rows.`;
}

/** The unit of the predicted column, from the dataset version the model learned from (units on every axis). */
function useTargetUnit(v: ModelVersionInfo | undefined): string | null {
  const [unit, setUnit] = useState<{ key: string; unit: string | null } | null>(null);
  const key = v && v.target ? `${v.dataset}\u0000${v.datasetVersion}\u0000${v.target}` : null;
  useEffect(() => {
    if (!v || !v.target || !key) return;
    let live = true;
    call('datasets.get', { dataset: v.dataset })
      .then((d) => {
        const col = d.versions.find((x) => x.version === v.datasetVersion)?.columns.find((c) => c.name === v.target);
        if (live) setUnit({ key, unit: col?.unit ?? null });
      })
      // A dataset removed since training only loses the unit.
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [key, v]);
  return unit && unit.key === key ? unit.unit : null;
}

function Fact({ label, value, wide }: { label: string; value: string; wide?: boolean }) {
  return (
    <div className={`fact ${wide ? 'wide' : ''}`}>
      <span className="muted small">{label}</span>
      <span className="fact-value" title={value}>
        {value}
      </span>
    </div>
  );
}

function Leaderboard({ report }: { report: TrainingReport }) {
  const m = report.metric;
  return (
    <section className="card section result-section" aria-labelledby="lb-title">
      <h3 id="lb-title">Algorithms tried</h3>
      <div className="table-scroll full">
        <table className="table compact" data-testid="leaderboard">
          <thead>
            <tr>
              <th scope="col">Algorithm</th>
              <th scope="col" className="num">
                {m.label}
              </th>
              <th scope="col" className="num">
                Fit time
              </th>
              <th scope="col" className="wide">
                In words
              </th>
            </tr>
          </thead>
          <tbody>
            {report.leaderboard.map((e, i) => {
              const best = i === report.bestIndex;
              return (
                <tr key={`${e.algorithm}-${i}`} className={best ? 'best-row' : e.status !== 'done' ? 'muted' : ''} aria-current={best ? 'true' : undefined}>
                  <td className={best ? 'strong' : ''}>
                    {e.title}
                    {best && (
                      <>
                        {' '}
                        <span className="chip chip-active">
                          <Icon name="check" size={12} /> Chosen
                        </span>
                      </>
                    )}
                    {e.algorithm === 'ensemble' && (
                      <span className="block muted small" data-testid="blend-members">
                        {Object.entries(e.params)
                          .map(([name, w]) => `${name} ${Math.round(Number(w) * 100)}%`)
                          .join(' · ')}
                      </span>
                    )}
                  </td>
                  <td className="num">{e.status === 'done' ? formatMetric(e.metrics[m.key], m) : '–'}</td>
                  <td className="num">{e.status === 'done' ? formatSeconds(e.fitSeconds) : '–'}</td>
                  <td className="small">{report.sentences[i] ?? describeEntry(e, report)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="muted small">{m.higherIsBetter ? `Higher ${m.label} is better.` : `Lower ${m.label} is better.`}</p>
    </section>
  );
}

function Importance({ report, unit }: { report: TrainingReport; unit: string | null }) {
  const [all, setAll] = useState(false);
  const rows = importanceRows(report.importance);
  if (rows.length === 0) return null;
  const shown = all ? rows : rows.slice(0, IMPORTANCE_SHOWN);
  const m = report.metric;
  const lower = !m.higherIsBetter;
  // Errors (RMSE, MAE) are in the unit of what is predicted.
  const u = unit && (m.key === 'rmse' || m.key === 'mae') ? ` ${unit}` : '';
  return (
    <section className="card section result-section" aria-labelledby="imp-title" data-testid="importance">
      <h3 id="imp-title">These inputs mattered most</h3>
      <p className="muted small">
        How much worse the model gets when one input is scrambled: {lower ? `${m.label} rises by` : `${m.label} falls by`} the amount shown. Inputs near zero hardly
        matter.
      </p>
      <BarList
        ariaLabel="Inputs by how much they mattered"
        rows={shown.map((r) => ({
          label: r.input,
          share: r.share,
          valueText: r.drop > 0 ? `${formatMetric(r.drop, m)}${u}` : 'no effect',
          hint: `${r.input}: ${m.label} ${lower ? 'rises' : 'falls'} by ${formatMetric(r.drop, m)}${u} without it`,
        }))}
      />
      {rows.length > IMPORTANCE_SHOWN && (
        <button className="link-button" onClick={() => setAll(!all)}>
          {all ? 'Show fewer' : `Show all ${rows.length} inputs`}
        </button>
      )}
    </section>
  );
}

/** The settings are kept with the run; the report may carry them (older reports do not). */
function SettingsUsed({ report, version }: { report: TrainingReport; version: ModelVersionInfo }) {
  const settings = report.settings as Partial<TrainSettings> | undefined;
  return (
    <details className="card settings-used">
      <summary>Settings used</summary>
      <dl className="facts">
        {version.target && (
          <>
            <dt>Predicts</dt>
            <dd>{version.target}</dd>
          </>
        )}
        {settings?.labelColumn && (
          <>
            <dt>Known problems from</dt>
            <dd>{settings.labelColumn}</dd>
          </>
        )}
        <dt>Inputs ({version.inputs.length})</dt>
        <dd>{version.inputs.join(', ')}</dd>
        {report.features.length > version.inputs.length && (
          <>
            <dt>Derived inputs</dt>
            <dd>{report.features.length.toLocaleString()} in all, including recent history and earlier values</dd>
          </>
        )}
        {settings && 'windowMinutes' in settings && (
          <>
            <dt>Recent history</dt>
            <dd>{settings.windowMinutes ? `${settings.windowMinutes} minutes` : 'Not used'}</dd>
          </>
        )}
        {settings?.lags && settings.lags.length > 0 && (
          <>
            <dt>Earlier values</dt>
            <dd>{settings.lags.join(', ')} rows back</dd>
          </>
        )}
        {settings?.timeBudgetSeconds !== undefined && (
          <>
            <dt>Time budget</dt>
            <dd>{formatDuration(settings.timeBudgetSeconds * 1000)}</dd>
          </>
        )}
        <dt>Checked on</dt>
        <dd>
          {describeHoldout(report.holdout)}, {report.holdout.rows.toLocaleString()} rows
        </dd>
        {settings?.seed !== undefined && (
          <>
            <dt>Seed</dt>
            <dd>{settings.seed}</dd>
          </>
        )}
        {settings?.algorithms && settings.algorithms.length > 0 && (
          <>
            <dt>Algorithms allowed</dt>
            <dd>{settings.algorithms.map((a) => ALGORITHM_TITLES[a] ?? a).join(', ')}</dd>
          </>
        )}
        <dt>Run</dt>
        <dd className="mono small">
          {version.runId} · model {version.modelHash.slice(0, 12)}
        </dd>
      </dl>
    </details>
  );
}
