import { useMemo, useState } from 'react';
import { describeThreshold, type ThresholdPoint, type TrainingReport } from '../../../shared/training';
import { ConfusionMatrix, OutcomeMatrix } from '../../charts/confusion-matrix';
import { CurveChart } from '../../charts/curve-chart';
import { LineChart } from '../../charts/line-chart';
import { areaUnder } from '../../charts/line-math';
import {
  binaryCells,
  flaggedShare,
  formatMetric,
  holdoutMs,
  labelBands,
  METRIC_WORDS,
  metricText,
  nearestThresholdIndex,
  positiveName,
  pointFromConfusion,
  prPoint,
  residuals,
  rocPoint,
  sortedThresholds,
} from './report-logic';

const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

function Numbers({ report, keys, unit, caption }: { report: TrainingReport; keys: string[]; unit?: string | null; caption?: string }) {
  const present = keys.filter((k) => typeof report.metrics[k] === 'number' && Number.isFinite(report.metrics[k]));
  if (present.length === 0) return null;
  return (
    <dl className="numbers" aria-label={caption}>
      {caption && <div className="numbers-caption muted small">{caption}</div>}
      {present.map((k) => (
        <div key={k} className="number">
          <dt className="muted small">{METRIC_WORDS[k]?.label ?? k}</dt>
          <dd>
            {metricText(k, report.metrics[k]!)}
            {unit && (k === 'mae' || k === 'rmse') ? ` ${unit}` : ''}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** How well the chosen model works, in the form that suits its task. */
export function Performance({ report, unit }: { report: TrainingReport; unit: string | null }) {
  switch (report.task) {
    case 'binary':
      return <BinaryPerformance report={report} />;
    case 'multiclass':
      return <MulticlassPerformance report={report} />;
    case 'regression':
      return <RegressionPerformance report={report} unit={unit} />;
    case 'anomaly':
      return <AnomalyPerformance report={report} />;
  }
}

/** Threshold slider state shared by yes/no and labelled unusual-behaviour models. */
function useThreshold(report: TrainingReport) {
  const points = useMemo(() => sortedThresholds(report.thresholds), [report.thresholds]);
  const initial = nearestThresholdIndex(points, report.threshold);
  const [index, setIndex] = useState(initial);
  const point: ThresholdPoint | null =
    points[index] ?? pointFromConfusion(report.confusion, report.classes, report.positiveClass, report.threshold);
  return { points, index, setIndex, initial, point };
}

function ThresholdSlider({
  points,
  index,
  setIndex,
  initial,
  point,
  report,
  probability,
}: ReturnType<typeof useThreshold> & { report: TrainingReport; probability: boolean }) {
  const ms = holdoutMs(report);
  const noun: [string, string] = report.task === 'anomaly' ? ['known problem', 'known problems'] : ['failure', 'failures'];
  const level = (t: number) => (probability ? `${Math.round(t * 100)} % sure` : `a score of ${formatMetric(t)}`);
  if (!point) return null;
  return (
    <div className="threshold">
      {points.length > 1 && (
        <>
          <label className="field-label" htmlFor="threshold-slider">
            Raise an alarm when the model is at least {level(point.threshold)}
          </label>
          <div className="threshold-row">
            <span className="muted small">More alarms</span>
            <input
              id="threshold-slider"
              className="budget-range"
              data-testid="threshold-slider"
              type="range"
              min={0}
              max={points.length - 1}
              step={1}
              value={index}
              aria-valuetext={`${level(point.threshold)}: ${describeThreshold(point, ms, noun)}`}
              onChange={(e) => setIndex(Number(e.target.value))}
            />
            <span className="muted small">Fewer alarms</span>
          </div>
        </>
      )}
      <p className="threshold-says" aria-live="polite">
        At this level the model {describeThreshold(point, ms, noun)}
        {ms === null ? '' : ' (on the checked period)'}.
      </p>
      {points.length > 1 && (
        <p className="muted small">
          The model was saved with an alarm at {level(report.threshold)}. Moving the slider shows what another level would mean; it does not change the model.
          {index !== initial && (
            <>
              {' '}
              <button className="link-button inline" onClick={() => setIndex(initial)}>
                Back to the saved level
              </button>
            </>
          )}
        </p>
      )}
    </div>
  );
}

function BinaryPerformance({ report }: { report: TrainingReport }) {
  const t = useThreshold(report);
  const positive = positiveName(report);
  const p = t.point;
  const positives = p ? p.tp + p.fn : 0;
  const total = p ? p.tp + p.fn + p.fp + p.tn : 0;
  const s = report.series;
  const threshold = t.points[t.index]?.threshold ?? report.threshold;
  return (
    <section className="card section result-section" aria-labelledby="perf-title">
      <h3 id="perf-title">How well it spots "{positive}"</h3>
      <div className="perf-grid">
        <div className="perf-main">
          <ThresholdSlider {...t} report={report} probability />
          {p && <OutcomeMatrix cells={binaryCells(p, positive)} positive={positive} ariaLabel={`Outcomes on the checked rows at the chosen alarm level`} />}
          <Numbers report={report} keys={['accuracy', 'roc_auc', 'f1', 'precision', 'recall']} caption="At the saved alarm level, on the checked rows:" />
        </div>
        <div className="perf-curves">
          {report.roc && (
            <CurveChart
              kind="roc"
              xs={report.roc.fpr}
              ys={report.roc.tpr}
              point={p ? rocPoint(p) : null}
              note={`area ${formatMetric(report.metrics.roc_auc ?? areaUnder(report.roc.fpr, report.roc.tpr), { key: 'roc_auc' })}`}
              ariaLabel="ROC curve: failures caught against normal rows flagged, for every alarm level"
            />
          )}
          {report.pr && (
            <CurveChart
              kind="pr"
              xs={report.pr.recall}
              ys={report.pr.precision}
              point={p ? prPoint(p) : null}
              baseline={total > 0 ? positives / total : null}
              ariaLabel="Precision–recall curve: alarms that were real against failures caught, for every alarm level"
            />
          )}
        </div>
      </div>
      {s?.score && (
        <div className="perf-chart">
          <h4>How sure the model was over the checked period</h4>
          <LineChart
            x={s.x}
            xIsTime={s.xIsTime}
            series={[{ name: `How sure of "${positive}"`, values: s.score, look: 'model' }]}
            unit={null}
            threshold={{ value: threshold, label: 'Alarm level' }}
            bands={labelBands(s.x, s.label)}
            bandLabel={`Real "${positive}"`}
            ariaLabel={`How sure the model was of ${positive} over the checked rows, with the alarm level`}
            timeZone={ZONE}
          />
        </div>
      )}
    </section>
  );
}

function MulticlassPerformance({ report }: { report: TrainingReport }) {
  return (
    <section className="card section result-section" aria-labelledby="perf-title">
      <h3 id="perf-title">Which category it said, for each real one</h3>
      <p className="muted small">Rows are the real category, columns what the model said. The diagonal is right; the last column is the share it got right.</p>
      {report.confusion && report.classes ? (
        <ConfusionMatrix classes={report.classes} matrix={report.confusion} ariaLabel="Real category against predicted category on the checked rows" />
      ) : (
        <p className="muted">No confusion matrix in this report.</p>
      )}
      <Numbers report={report} keys={['accuracy', 'f1']} />
    </section>
  );
}

function RegressionPerformance({ report, unit }: { report: TrainingReport; unit: string | null }) {
  const s = report.series;
  const res = useMemo(() => (s?.actual && s.predicted ? residuals(s.actual, s.predicted) : null), [s]);
  const target = report.target ?? 'the value';
  return (
    <section className="card section result-section" aria-labelledby="perf-title">
      <h3 id="perf-title">Predicted and measured {target}</h3>
      <Numbers report={report} keys={['mae', 'rmse', 'r2']} unit={unit} />
      {s?.actual && s.predicted ? (
        <>
          <div className="perf-chart">
            <LineChart
              x={s.x}
              xIsTime={s.xIsTime}
              series={[
                { name: `Measured ${target}`, values: s.actual, look: 'actual' },
                { name: 'Predicted', values: s.predicted, look: 'model' },
              ]}
              unit={unit}
              ariaLabel={`Measured and predicted ${target} over the checked rows`}
              timeZone={ZONE}
            />
          </div>
          {res && (
            <div className="perf-chart">
              <h4>How far off it was (measured minus predicted)</h4>
              <LineChart
                x={s.x}
                xIsTime={s.xIsTime}
                series={[{ name: 'Measured minus predicted', values: res, look: 'neutral' }]}
                unit={unit}
                zeroLine
                height={180}
                ariaLabel={`Error of the prediction of ${target} over the checked rows`}
                timeZone={ZONE}
              />
            </div>
          )}
        </>
      ) : (
        <p className="muted">No predictions over time in this report.</p>
      )}
    </section>
  );
}

function AnomalyPerformance({ report }: { report: TrainingReport }) {
  const t = useThreshold(report);
  const s = report.series;
  const threshold = t.points[t.index]?.threshold ?? report.threshold;
  const flagged = s?.score ? flaggedShare(s.score, threshold) : null;
  const labelled = Boolean(s?.label && s.label.some((v) => v >= 0.5));
  return (
    <section className="card section result-section" aria-labelledby="perf-title">
      <h3 id="perf-title">Unusual behaviour over the checked period</h3>
      <p>
        {flagged !== null && (
          <>
            At this alarm level the model flags <strong>{(flagged * 100).toFixed(1)} %</strong> of the checked rows
            {report.trainFlagRate !== null ? `, and ${(report.trainFlagRate * 100).toFixed(1)} % of the rows it learned from` : ''}.{' '}
          </>
        )}
        <span className="muted">Scores above the dashed line raise an alarm.</span>
      </p>
      {t.points.length > 0 && <ThresholdSlider {...t} report={report} probability={false} />}
      {t.points.length > 0 && t.point && (
        <OutcomeMatrix cells={binaryCells(t.point, 'known problem')} positive="Known problem" ariaLabel="Outcomes on the checked rows at the chosen alarm level" />
      )}
      <Numbers report={report} keys={['events', 'events_caught', 'false_alarms', 'event_f1', 'holdout_flag_rate', 'train_flag_rate', 'stability']} />
      {s?.score ? (
        <div className="perf-chart">
          <LineChart
            x={s.x}
            xIsTime={s.xIsTime}
            series={[{ name: 'Unusual-behaviour score', values: s.score, look: 'model' }]}
            unit={null}
            threshold={{ value: threshold, label: 'Alarm level' }}
            bands={labelled ? labelBands(s.x, s.label) : []}
            bandLabel="Known problem"
            height={260}
            ariaLabel="Unusual-behaviour score over the checked rows, with the alarm level and known problems"
            timeZone={ZONE}
          />
        </div>
      ) : (
        <p className="muted">No scores over time in this report.</p>
      )}
    </section>
  );
}
