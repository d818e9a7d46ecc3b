import { Fragment, useCallback, useEffect, useMemo, useState } from 'react';
import type { DatasetSummary, SeriesResult, VersionSummary } from '../../../shared/api';
import { formatBytes, formatDuration } from '../../../shared/format';
import { call } from '../../api/api';
import { formatCell, formatTimestamp, TYPE_LABELS } from '../../components/format-cell';
import { Icon } from '../../components/icons';
import { PageHead } from '../../components/page-head';
import { reportError } from '../../store/report-error';
import { useStore } from '../../store/store';
import { TimeSeriesChart } from '../../charts/time-series-chart';
import { Histogram } from '../../charts/histogram';
import { VirtualTable } from '../../components/virtual-table';
import type { ColumnProfileView, DatasetProfileView } from './profile-types';
import { UseCaseSelect } from '../use-cases/use-case-select';

type Tab = 'overview' | 'trend' | 'table' | 'versions';
const TABS: [Tab, string][] = [
  ['overview', 'Columns'],
  ['trend', 'Trend'],
  ['table', 'Rows'],
  ['versions', 'Versions'],
];

/** One dataset: its columns' profile, a trend of chosen sensors, every row, and its versions. */
export function DatasetPage({ name }: { name: string }) {
  const go = useStore((s) => s.go);
  const [data, setData] = useState<{ dataset: DatasetSummary; versions: VersionSummary[] } | null>(null);
  const [version, setVersion] = useState<number | null>(null);
  const [tab, setTab] = useState<Tab>('overview');
  const [profile, setProfile] = useState<DatasetProfileView | null>(null);

  useEffect(() => {
    let live = true;
    call('datasets.get', { dataset: name })
      .then((d) => live && (setData(d), setVersion(d.versions[0]?.version ?? null)))
      .catch((err: unknown) => {
        reportError(err);
        if (live) go('data');
      });
    return () => {
      live = false;
    };
  }, [name, go]);

  useEffect(() => {
    if (version === null) return;
    let live = true;
    setProfile(null);
    call('datasets.profile', { dataset: name, version })
      .then((p) => live && setProfile(p as DatasetProfileView))
      .catch(reportError);
    return () => {
      live = false;
    };
  }, [name, version]);

  if (!data) return <p className="muted">Loading…</p>;
  const v = data.versions.find((x) => x.version === version) ?? data.versions[0];
  if (!v) return <p className="muted">This dataset has no imported version yet.</p>;

  return (
    <div className="page wide dataset-page">
      <PageHead back="All data" onBack={() => go('data')} title={data.dataset.name} blurb={data.dataset.description}>
        <label className="version-pick">
          <span className="muted small">Version</span>
          <select value={v.version} onChange={(e) => setVersion(Number(e.target.value))}>
            {data.versions.map((x) => (
              <option key={x.version} value={x.version}>
                {x.version} · {new Date(x.createdAt).toLocaleDateString()}
              </option>
            ))}
          </select>
        </label>
        <UseCaseSelect kind="dataset" name={data.dataset.name} />
        <button className="button primary" onClick={() => go('train', data.dataset.name)}>
          <Icon name="models" size={16} /> Train a model
        </button>
      </PageHead>
      <div className="facts-row">
        <Fact label="Rows" value={v.rows.toLocaleString()} />
        <Fact label="Columns" value={String(v.columns.length)} />
        {v.timeStart !== null && v.timeEnd !== null && (
          <>
            <Fact label="From" value={formatTimestamp(v.timeStart)} />
            <Fact label="To" value={formatTimestamp(v.timeEnd)} />
            <Fact label="Span" value={formatDuration(v.timeEnd - v.timeStart)} />
          </>
        )}
        <Fact label="Source" value={v.sources.map((s) => `${s.fileName} (${formatBytes(s.size)})`).join(', ')} wide />
        {v.rejectedRows > 0 && <Fact label="Rows skipped at import" value={v.rejectedRows.toLocaleString()} tone="warn" />}
      </div>
      <div className="tabs" role="tablist" aria-label="Dataset views">
        {TABS.map(([id, label]) => (
          <button key={id} role="tab" aria-selected={tab === id} aria-controls={`ds-panel-${id}`} id={`ds-tab-${id}`} className="tab" onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
        <span className="muted small tabs-note">Times in {Intl.DateTimeFormat().resolvedOptions().timeZone}</span>
      </div>
      <div role="tabpanel" id={`ds-panel-${tab}`} aria-labelledby={`ds-tab-${tab}`}>
        {tab === 'overview' && <ProfileTable profile={profile} version={v} />}
        {tab === 'trend' && <Trend name={name} version={v} />}
        {tab === 'table' && <Rows name={name} version={v} />}
        {tab === 'versions' && <Versions versions={data.versions} />}
      </div>
    </div>
  );
}

function Fact({ label, value, tone, wide }: { label: string; value: string; tone?: 'warn'; wide?: boolean }) {
  return (
    <div className={`fact ${tone ?? ''} ${wide ? 'wide' : ''}`}>
      <span className="muted small">{label}</span>
      <span className="fact-value" title={value}>
        {value}
      </span>
    </div>
  );
}

const num = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 5 });
const show = (n: number | null | undefined) => (typeof n === 'number' && Number.isFinite(n) ? num.format(n) : '—');

function ProfileTable({ profile, version }: { profile: DatasetProfileView | null; version: VersionSummary }) {
  const [open, setOpen] = useState<string | null>(null);
  if (!profile) return <p className="muted">Working out the statistics…</p>;
  return (
    <>
      <div className="card table-card">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Column</th>
            <th scope="col">Holds</th>
            <th scope="col" className="num">
              Missing
            </th>
            <th scope="col" className="num">
              Min
            </th>
            <th scope="col" className="num">
              Mean
            </th>
            <th scope="col" className="num">
              Max
            </th>
            <th scope="col">Distribution</th>
          </tr>
        </thead>
        <tbody>
          {profile.columns.map((c) => (
            <Fragment key={c.name}>
              <tr className={open === c.name ? 'expanded' : ''}>
                <td>
                  <button className="row-toggle" aria-expanded={open === c.name} onClick={() => setOpen(open === c.name ? null : c.name)}>
                    <span aria-hidden className="caret">{open === c.name ? '▾' : '▸'}</span>
                    <span className="strong">{c.name}</span>
                  </button>
                  {c.unit && <div className="muted small indent">{c.unit}</div>}
                </td>
                <td className="small">{TYPE_LABELS[c.type]}</td>
                <td className={`num ${c.profile.missing > 0 ? '' : 'muted'}`}>
                  {c.profile.missing.toLocaleString()}
                  {c.profile.missing > 0 && <div className="muted small">{((100 * c.profile.missing) / Math.max(1, version.rows)).toFixed(1)} %</div>}
                </td>
                <ProfileNumbers p={c.profile} type={c.type} />
                <td>
                  <MiniDistribution p={c.profile} name={c.name} unit={c.unit} />
                </td>
              </tr>
              {open === c.name && (
                <tr className="detail-row">
                  <td colSpan={7}>
                    <ColumnDetail name={c.name} unit={c.unit} p={c.profile} />
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
    {profile.correlations && profile.correlations.columns.length > 1 && <Correlations c={profile.correlations} />}
    </>
  );
}

function ColumnDetail({ name, unit, p }: { name: string; unit: string | null; p: ColumnProfileView }) {
  if (p.kind === 'numeric' || p.kind === 'time') {
    return (
      <div className="column-detail">
        <div className="detail-chart">
          <Histogram data={p.histogram} unit={p.kind === 'time' ? null : unit} ariaLabel={`Distribution of ${name}`} height={180} />
        </div>
        {p.kind === 'numeric' && p.quantiles ? (
          <dl className="facts compact-facts">
            <dt>Typical range (5–95 %)</dt>
            <dd>
              {show(p.quantiles.p05)} – {show(p.quantiles.p95)} {unit ?? ''}
            </dd>
            <dt>Median</dt>
            <dd>
              {show(p.quantiles.p50)} {unit ?? ''}
            </dd>
            <dt>Middle half (25–75 %)</dt>
            <dd>
              {show(p.quantiles.p25)} – {show(p.quantiles.p75)} {unit ?? ''}
            </dd>
            <dt>Spread (std)</dt>
            <dd>
              {show(p.std)} {unit ?? ''}
            </dd>
          </dl>
        ) : p.kind === 'time' ? (
          <dl className="facts compact-facts">
            <dt>Usual step</dt>
            <dd>{formatDuration(p.medianIntervalMs)}</dd>
            <dt>Gaps (over 3 steps)</dt>
            <dd>{p.gaps.toLocaleString()}</dd>
            {p.largestGaps?.slice(0, 3).map((g, i) => (
              <Fragment key={i}>
                <dt>{i === 0 ? 'Largest gaps' : ''}</dt>
                <dd>
                  {formatTimestamp(g.start)} → {formatTimestamp(g.end)} ({formatDuration(g.durationMs)})
                </dd>
              </Fragment>
            ))}
          </dl>
        ) : null}
      </div>
    );
  }
  if (p.kind === 'category') {
    return (
      <ul className="top-values">
        {p.top.map((t) => (
          <li key={t.value}>
            <span className="top-label">{t.value}</span>
            <span className="top-bar" style={{ width: `${(100 * t.count) / Math.max(1, p.top[0]!.count)}%` }} />
            <span className="num small">{t.count.toLocaleString()}</span>
          </li>
        ))}
      </ul>
    );
  }
  return null;
}

/** Pairwise correlation of numeric columns: darker means they move together more (or more opposite). */
function Correlations({ c }: { c: { columns: string[]; matrix: (number | null)[][] } }) {
  return (
    <section className="card section correlations">
      <h3>How the sensors move together</h3>
      <p className="muted small">Correlation from −1 (one rises as the other falls) to +1 (they rise together). Near 0: no straight-line link.</p>
      <div className="table-scroll">
        <table className="corr">
          <thead>
            <tr>
              <th />
              {c.columns.map((n) => (
                <th key={n} scope="col" title={n}>
                  <span className="corr-head">{n}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {c.columns.map((row, i) => (
              <tr key={row}>
                <th scope="row">{row}</th>
                {c.matrix[i]!.map((v, j) => (
                  <td
                    key={j}
                    className={v === null || !Number.isFinite(v) ? 'corr-na' : `${v >= 0 ? 'corr-pos' : 'corr-neg'}${Math.abs(v) > 0.55 ? ' corr-strong' : ''}`}
                    style={v === null || !Number.isFinite(v) ? undefined : { ['--a' as string]: Math.abs(v).toFixed(2) }}
                    title={`${row} × ${c.columns[j]}: ${v === null || !Number.isFinite(v) ? 'not defined' : v.toFixed(2)}`}
                  >
                    {v === null || !Number.isFinite(v) ? '' : v.toFixed(2)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function ProfileNumbers({ p, type }: { p: ColumnProfileView; type: string }) {
  if (p.kind === 'numeric') {
    return (
      <>
        <td className="num">{show(p.min)}</td>
        <td className="num">{show(p.mean)}</td>
        <td className="num">{show(p.max)}</td>
      </>
    );
  }
  if (p.kind === 'time') {
    return (
      <>
        <td className="num small">{Number.isFinite(p.first) ? formatTimestamp(p.first) : '—'}</td>
        <td className="num small">every {formatDuration(p.medianIntervalMs)}</td>
        <td className="num small">{Number.isFinite(p.last) ? formatTimestamp(p.last) : '—'}</td>
      </>
    );
  }
  return (
    <td colSpan={3} className="small muted">
      {p.kind === 'category' ? `${p.distinct.toLocaleString()} different values` : p.kind === 'boolean' ? `${p.trueCount.toLocaleString()} yes, ${p.falseCount.toLocaleString()} no` : type}
    </td>
  );
}

function MiniDistribution({ p, name, unit }: { p: ColumnProfileView; name: string; unit: string | null }) {
  if ((p.kind === 'numeric' || p.kind === 'time') && p.histogram.counts.length) {
    return <Histogram data={p.histogram} unit={unit} ariaLabel={`Distribution of ${name}`} tiny />;
  }
  if (p.kind === 'category') {
    return (
      <span className="small muted">
        {p.top
          .slice(0, 3)
          .map((t) => `${t.value} (${t.count.toLocaleString()})`)
          .join(', ')}
      </span>
    );
  }
  return null;
}

function Trend({ name, version }: { name: string; version: VersionSummary }) {
  const numeric = useMemo(() => version.columns.filter((c) => c.type === 'number' || c.type === 'integer' || c.type === 'boolean'), [version]);
  const [chosen, setChosen] = useState<string[]>(() => numeric.slice(0, 3).map((c) => c.name));
  const [range, setRange] = useState<[number, number] | null>(null);
  const [width, setWidth] = useState(1200);
  const [data, setData] = useState<SeriesResult | null>(null);

  useEffect(() => {
    if (!version.timeColumn || !chosen.length) return;
    let live = true;
    call('datasets.series', {
      dataset: name,
      version: version.version,
      columns: chosen,
      buckets: Math.max(10, Math.min(8000, Math.round(width))),
      ...(range ? { from: range[0], to: range[1] } : {}),
    })
      .then((d) => live && setData(d))
      .catch(reportError);
    return () => {
      live = false;
    };
  }, [name, version, chosen, range, width]);

  const onRange = useCallback((from: number, to: number) => setRange([from, to]), []);
  if (!version.timeColumn) return <p className="muted">This dataset has no time column, so there is no trend to draw. Its columns are on the Columns tab.</p>;
  return (
    <div className="trend">
      <fieldset className="sensor-pick">
        <legend className="small muted">Sensors to show</legend>
        {numeric.map((c) => (
          <label key={c.name} className={chosen.includes(c.name) ? 'checked' : ''}>
            <input
              type="checkbox"
              checked={chosen.includes(c.name)}
              disabled={!chosen.includes(c.name) && chosen.length >= 8}
              onChange={(e) => setChosen(e.target.checked ? [...chosen, c.name] : chosen.filter((x) => x !== c.name))}
            />
            {c.name}
            {c.unit ? ` [${c.unit}]` : ''}
          </label>
        ))}
      </fieldset>
      {chosen.length === 0 ? (
        <p className="muted">Choose one or more sensors above.</p>
      ) : data ? (
        <div className="card chart-card">
          <TimeSeriesChart
            series={data.series.map((s) => ({ name: s.name, unit: s.unit, data: s.data }))}
            // The requested range shows at once (old data stretched) until the finer data arrives.
            from={range?.[0] ?? data.from}
            to={range?.[1] ?? data.to}
            fullRange={data.fullRange}
            onRangeChange={onRange}
            onWidth={setWidth}
            timeZone={Intl.DateTimeFormat().resolvedOptions().timeZone}
            height={Math.max(320, 140 * data.series.length + 60)}
            ariaLabel={`Trend of ${chosen.join(', ')}`}
          />
        </div>
      ) : (
        <p className="muted">Loading the trend…</p>
      )}
    </div>
  );
}

function Rows({ name, version }: { name: string; version: VersionSummary }) {
  const columns = useMemo(
    () =>
      version.columns.map((c, i) => ({
        key: i,
        name: c.name,
        unit: c.unit,
        align: (c.type === 'number' || c.type === 'integer' ? 'right' : 'left') as 'left' | 'right',
        width: c.type === 'timestamp' ? 170 : undefined,
      })),
    [version],
  );
  const fetchRows = useCallback(
    async (offset: number, limit: number) => {
      const page = await call('datasets.rows', { dataset: name, version: version.version, offset, limit });
      return page.rows.map((r) => r.map((v, i) => formatCell(v, version.columns[i]!.type)));
    },
    [name, version],
  );
  return <VirtualTable rowCount={version.rows} columns={columns} fetchRows={fetchRows} ariaLabel={`Rows of ${name}`} />;
}

function Versions({ versions }: { versions: VersionSummary[] }) {
  return (
    <div className="card table-card">
      <table className="table">
        <thead>
          <tr>
            <th scope="col" className="num">
              Version
            </th>
            <th scope="col">Saved</th>
            <th scope="col" className="num">
              Rows
            </th>
            <th scope="col">Files</th>
            <th scope="col" className="wide">
              What changed
            </th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version}>
              <td className="num strong">{v.version}</td>
              <td className="small nowrap">
                {new Date(v.createdAt).toLocaleString()}
                <div className="muted">by {v.createdBy}</div>
              </td>
              <td className="num">{v.rows.toLocaleString()}</td>
              <td className="small">{v.sources.map((s) => s.fileName).join(', ')}</td>
              <td className="small">{describeChanges(v.changes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface Changes {
  previousVersion: number;
  rowsBefore: number;
  rowsAfter: number;
  timeBefore: [number, number] | null;
  timeAfter: [number, number] | null;
  columnsAdded: string[];
  columnsRemoved: string[];
  columnsRetyped: { name: string; from: string; to: string }[];
}

function describeChanges(raw: unknown): string {
  if (!raw) return 'First version.';
  const c = raw as Changes;
  const parts: string[] = [];
  const d = c.rowsAfter - c.rowsBefore;
  parts.push(d === 0 ? 'Same number of rows' : d > 0 ? `${d.toLocaleString()} rows more` : `${(-d).toLocaleString()} rows fewer`);
  if (c.timeAfter && c.timeBefore && (c.timeAfter[0] !== c.timeBefore[0] || c.timeAfter[1] !== c.timeBefore[1])) {
    parts.push(`time range now ${formatTimestamp(c.timeAfter[0])} – ${formatTimestamp(c.timeAfter[1])}`);
  }
  if (c.columnsAdded.length) parts.push(`new columns: ${c.columnsAdded.join(', ')}`);
  if (c.columnsRemoved.length) parts.push(`removed columns: ${c.columnsRemoved.join(', ')}`);
  for (const r of c.columnsRetyped) parts.push(`${r.name} now ${TYPE_LABELS[r.to as keyof typeof TYPE_LABELS] ?? r.to}`);
  return `${parts.join('; ')} (compared with version ${c.previousVersion}).`;
}
