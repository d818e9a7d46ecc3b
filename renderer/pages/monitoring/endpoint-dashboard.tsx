import { useEffect, useMemo, type ReactNode } from 'react';
import { MONITOR_WINDOWS, type Alert, type EndpointDashboard, type InputDrift, type MonitorPoint } from '../../../shared/monitor';
import { Heatmap } from '../../charts/heatmap';
import { PairedBars } from '../../charts/paired-bars';
import { type CountSlots, type RangeSlots, SlotChart } from '../../charts/slot-chart';
import { PageHead } from '../../components/page-head';
import { useStore } from '../../store/store';
import { timeZoneLabel } from '../when';
import { AlertsPanel, EarlierAlerts } from './alerts-panel';
import { ContactChip, VerdictChip } from './chips';
import { InputPanel } from './input-panel';
import { CheckNowButton, useNow } from './check-now';
import { TEST_WORDS, WINDOW_WORDS, byImportance, contactNote, isAnomalySpread, count, latencyText, percentText, predictionRows, statText } from './monitor-logic';

/** One endpoint over a window ending now: health, traffic over time, drift of each input against training, the spread of its predictions. */
export function EndpointDashboardView({ name }: { name: string }) {
  const view = useStore((s) => s.dashboard);
  const window = useStore((s) => s.monitorWindow);
  const setWindow = useStore((s) => s.setMonitorWindow);
  const load = useStore((s) => s.loadDashboard);
  const loadSettings = useStore((s) => s.loadMonitorSettings);
  const loadEndpoints = useStore((s) => s.loadEndpoints);
  const openInput = useStore((s) => s.openInput);
  const go = useStore((s) => s.go);
  const now = useNow();

  useEffect(() => {
    void load(name);
    void loadSettings();
    void loadEndpoints();
    void openInput(name, null);
  }, [name, load, loadSettings, loadEndpoints, openInput]);

  const d = view?.name === name ? view.data : null;
  const error = view?.name === name ? view.error : null;
  const served = d?.health.model;

  return (
    <div className="page wide monitoring">
      <PageHead
        back="Monitoring"
        onBack={() => go('monitoring')}
        title={name}
        blurb={
          <>
            {served ? `Serves ${served.name}, version ${served.version}` : 'Model not known yet'} · over {WINDOW_WORDS[window].sentence} · times in {timeZoneLabel()}
          </>
        }
      >
        <div className="monitor-head-actions">
          {d && d.window !== window && !error && (
            <span className="muted small" role="status">
              Loading {WINDOW_WORDS[window].sentence}…
            </span>
          )}
          <fieldset className="segmented" data-testid="monitor-window">
            <legend className="sr-only">Window</legend>
            {MONITOR_WINDOWS.map((w) => (
              <label key={w} className={window === w ? 'checked' : ''}>
                <input type="radio" name="monitor-window" value={w} checked={window === w} onChange={() => setWindow(w)} />
                {WINDOW_WORDS[w].button}
              </label>
            ))}
          </fieldset>
          <CheckNowButton name={name} endpoints={1} />
        </div>
      </PageHead>
      {error && (
        <p className="card section monitor-error" role="alert" data-testid="dashboard-error">
          {error}
        </p>
      )}
      {!d && !error && <p className="muted">Loading {name}…</p>}
      {d && <Dashboard d={d} now={now} />}
    </div>
  );
}

function Dashboard({ d, now }: { d: EndpointDashboard; now: number }) {
  const settings = useStore((s) => s.monitorSettings);
  const inputView = useStore((s) => s.inputView);
  const openInput = useStore((s) => s.openInput);
  const stopped = useStore((s) => s.endpoints?.find((x) => x.name === d.name)?.status === 'stopped');
  const h = d.health;
  const selected = inputView?.endpoint === d.name ? inputView.input : null;
  const errorLimit = settings?.rules.errors.enabled ? settings.rules.errors.percent / 100 : null;
  const tooManyErrors = errorLimit !== null && h.errorRate !== null && h.errorRate > errorLimit;
  const pick = (input: string) => void openInput(d.name, selected === input ? null : input);

  return (
    <>
      <AlertsPanel alerts={d.alerts} now={now} showEndpoint={false} />

      <section className="monitor-tiles" aria-label="Health" data-testid="monitor-health">
        <Tile label="Contact" bad={!h.reachable && !stopped}>
          <ContactChip e={h} now={now} stopped={stopped} compact />
          <span className="muted small block">{contactNote(h, stopped, now)}</span>
          {!h.reachable && !stopped && h.lastError && <span className="small block">{h.lastError}</span>}
        </Tile>
        <Tile label="Traffic" testId="tile-traffic">
          <span className="tile-value">{h.requests.toLocaleString()}</span>
          <span className="muted small block">
            {h.requests === 1 ? 'request' : 'requests'} with {count(d.drift.rows, 'row', 'rows')} over {WINDOW_WORDS[d.window].sentence}
          </span>
        </Tile>
        <Tile label="Error rate" bad={tooManyErrors} testId="tile-errors">
          <span className="tile-value">{percentText(h.errorRate)}</span>
          <span className="muted small block">
            {count(h.errors, 'error', 'errors')}
            {errorLimit !== null && ` · alert above ${percentText(errorLimit)}`}
          </span>
        </Tile>
        <Tile label="Response time" testId="tile-latency">
          <span className="tile-value">{latencyText(h.latencyP50Ms)}</span>
          <span className="muted small block">typical (p50)</span>
          <span className="muted small block">slowest 1&nbsp;% (p99): {latencyText(h.latencyP99Ms)}</span>
        </Tile>
        <Tile label="Version running" testId="tile-version">
          <span className="tile-value small-value">{h.model ? `version ${h.model.version}` : '–'}</span>
          <span className="muted small block ellipsis" title={h.model?.name}>
            {h.model?.name ?? 'not known yet'}
          </span>
        </Tile>
      </section>

      <OverTime d={d} now={now} />

      <section className="card section monitor-drift" aria-labelledby="drift-title" data-testid="monitor-drift-card">
        <div className="monitor-drift-head">
          <h3 id="drift-title">Inputs compared with training</h3>
          <VerdictChip verdict={d.drift.verdict} testId="dashboard-verdict" />
        </div>
        <p className="monitor-reason" data-testid="dashboard-reason">
          {d.drift.reason}
        </p>
        <p className="muted small">
          {count(d.drift.rows, 'row', 'rows')} over {WINDOW_WORDS[d.window].sentence}. Each cell compares one input in one time slot with its training data (PSI, population
          stability index). Click an input to see its values.
        </p>
        <Heatmap
          inputs={d.heatmap.inputs}
          slots={d.heatmap.slots}
          psi={d.heatmap.psi}
          verdicts={d.heatmap.verdicts}
          slotMs={WINDOW_WORDS[d.window].slotMs}
          selected={selected}
          onSelect={pick}
          ariaLabel={`Drift of ${d.heatmap.inputs.length} inputs over ${WINDOW_WORDS[d.window].sentence}`}
        />
      </section>

      <div className="monitor-inputs-grid">
        <InputsTable inputs={d.drift.inputs} selected={selected} onPick={pick} />
        {selected && <InputPanel onClose={() => void openInput(d.name, null)} />}
      </div>

      <Predictions d={d} />

      <EarlierAlerts alerts={d.alerts} now={now} />
    </>
  );
}

function Tile({ label, bad = false, testId, children }: { label: string; bad?: boolean; testId?: string; children: ReactNode }) {
  return (
    <div className={`card monitor-tile${bad ? ' bad' : ''}`} data-testid={testId}>
      <span className="tile-label">{label}</span>
      {children}
    </div>
  );
}

const SLOT_UNIT: Record<EndpointDashboard['window'], string> = { hour: 'per minute', day: 'per 15 min', week: 'per hour' };

/** Stretches when an alert fired, shaded on every chart. */
function alertBands(alerts: readonly Alert[], now: number): { from: number; to: number }[] {
  return alerts.map((a) => ({ from: Date.parse(a.firstAt), to: a.clearedAt ? Date.parse(a.clearedAt) : now })).filter((b) => Number.isFinite(b.from) && b.to > b.from);
}

function OverTime({ d, now }: { d: EndpointDashboard; now: number }) {
  const model = useMemo(() => {
    const of = (f: (p: MonitorPoint) => number | null) => d.series.map(f);
    return {
      slots: d.series.map((p) => Date.parse(p.at)),
      requests: d.series.map((p) => p.requests),
      errors: d.series.map((p) => p.errors),
      anomalies: d.series.map((p) => p.anomalies),
      p50: of((p) => p.latencyP50Ms),
      p99: of((p) => p.latencyP99Ms),
    };
  }, [d.series]);
  const bands = alertBands(d.alerts, now);
  const per = SLOT_UNIT[d.window];
  const flagsUnusual = d.health.anomalies > 0 || isAnomalySpread(d.drift.predictions.training, d.drift.predictions.window);
  const slotMs = WINDOW_WORDS[d.window].slotMs;
  const chart = (title: string, unitWords: string, data: CountSlots | RangeSlots, unit: string, testId: string) => (
    <section className="card monitor-chart" aria-label={title} data-testid={testId}>
      <h4>
        {title} <span className="muted small">({unitWords})</span>
      </h4>
      <SlotChart slots={model.slots} slotMs={slotMs} data={data} unit={unit} bands={bands} bandLabel="While an alert fired" ariaLabel={`${title}, ${unitWords}`} />
    </section>
  );
  return (
    <div className="monitor-charts" aria-label="Over time">
      {chart('Requests', per, { kind: 'count', name: 'Requests', values: model.requests }, 'requests', 'chart-traffic')}
      {chart('Errors', per, { kind: 'count', name: 'Errors', values: model.errors }, 'errors', 'chart-errors')}
      {chart('Response time', 'ms', { kind: 'range', lowName: 'Typical (p50)', highName: 'Slowest 1 % (p99)', low: model.p50, high: model.p99 }, 'ms', 'chart-latency')}
      {flagsUnusual ? (
        chart('Unusual behaviour', `rows ${per}`, { kind: 'count', name: 'Unusual rows', values: model.anomalies }, 'rows', 'chart-anomalies')
      ) : (
        <section className="card monitor-chart" aria-label="Unusual behaviour" data-testid="chart-anomalies">
          <h4>Unusual behaviour</h4>
          <p className="muted small">This kind of model does not flag unusual behaviour. A model trained to find unusual behaviour shows the rows it flagged here.</p>
        </section>
      )}
    </div>
  );
}

function InputsTable({ inputs, selected, onPick }: { inputs: readonly InputDrift[]; selected: string | null; onPick(input: string): void }) {
  const rows = byImportance(inputs);
  return (
    <section className="card table-card monitor-inputs" aria-labelledby="inputs-title" data-testid="monitor-inputs-card">
      <h3 id="inputs-title" className="table-title">
        Inputs, most important first
      </h3>
      <table className="table compact" data-testid="monitor-inputs">
        <thead>
          <tr>
            <th scope="col">Input</th>
            <th scope="col">Verdict</th>
            <th scope="col" className="num" title="Population stability index against training: below 0.1 is usual">
              PSI
            </th>
            <th scope="col">Test</th>
            <th scope="col" className="num">
              Statistic
            </th>
            <th scope="col" className="num">
              Rows
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((i) => (
            <tr key={i.name} className={selected === i.name ? 'selected' : ''} data-testid={`monitor-input-${i.name}`}>
              <td>
                <button
                  className="link-button input-pick"
                  onClick={() => onPick(i.name)}
                  aria-pressed={selected === i.name}
                  title={i.importanceRank !== null ? `Number ${i.importanceRank} by importance in training` : undefined}
                >
                  {i.name}
                </button>
              </td>
              <td>
                <VerdictChip verdict={i.verdict} />
              </td>
              <td className="num">{statText(i.psi)}</td>
              <td className="nowrap">{i.test ? TEST_WORDS[i.test] : '–'}</td>
              <td className="num">
                {statText(i.statistic)}
                {i.pValue !== null && <span className="muted small block">p {i.pValue < 0.001 ? '< 0.001' : `= ${statText(i.pValue)}`}</span>}
              </td>
              <td className="num">{i.rows.toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Predictions({ d }: { d: EndpointDashboard }) {
  const p = d.drift.predictions;
  const rows = predictionRows(p.training, p.window);
  const acc = d.drift.liveAccuracy;
  return (
    <section className="card section monitor-predictions" aria-labelledby="predictions-title" data-testid="monitor-predictions">
      <div className="monitor-drift-head">
        <h3 id="predictions-title">Predictions: training and live</h3>
        <VerdictChip verdict={p.verdict} />
      </div>
      {rows.length === 0 ? (
        <p className="muted">
          {d.drift.rows === 0
            ? `No predictions over ${WINDOW_WORDS[d.window].sentence} yet.`
            : 'This model predicts numbers, so there is no spread of classes to compare with training.'}
        </p>
      ) : (
        <PairedBars rows={rows} ariaLabel="Share of each prediction, training beside live" testId="prediction-bars" />
      )}
      <p className="muted small">
        {rows.length === 0 ? '' : p.distance === null ? 'Training did not record its predictions, so there is nothing to compare with.' : `Jensen–Shannon distance between the two: ${statText(p.distance)} (0 is the same spread, 1 is nothing in common).`}
        {acc && ` Of ${count(acc.labelled, 'alarm', 'alarms')} answered in the Inbox, ${Math.round(acc.value * acc.labelled)} ${Math.round(acc.value * acc.labelled) === 1 ? 'was a real problem' : 'were real problems'}.`}
      </p>
    </section>
  );
}
