import { useEffect, useMemo, useRef, useState } from 'react';
import type { RecordingOverview } from '../../../shared/api';
import type { Recording } from '../../../shared/recording';
import { call } from '../../api/api';
import { LineChart } from '../../charts/line-chart';
import { Dialog } from '../../components/dialog';
import { errorMessage } from '../../store/report-error';
import { useStore } from '../../store/store';
import { formatInterval } from '../../wizards/record/record-logic';
import { timeZoneLabel } from '../when';
import { envelopeLine, fromLocalInput, parseGridSeconds, rangeProblem, rowsFor, toLocalInput } from './recording-logic';

/** Time buckets of the trend of the whole recording (a few per pixel of the chart, so the band of values looks solid). */
const OVERVIEW_POINTS = 1000;
/** Up to this many tags come in one call, so picking another is instant; with more, each is asked for when picked. */
const OVERVIEW_ALL_TAGS = 12;

/** "Save as dataset": a name, the time range (drawn over a trend of the recording), the time step, and how values in one step combine. */
export function SaveDialog({ recording: r, onClose, onStarted }: { recording: Recording; onClose: () => void; onStarted: (jobId: string, name: string) => void }) {
  const datasets = useStore((s) => s.datasets);
  const loadDatasets = useStore((s) => s.loadDatasets);
  const upsertJob = useStore((s) => s.upsertJob);
  const first = r.firstSampleAt ? Date.parse(r.firstSampleAt) : null;
  const last = r.lastSampleAt ? Date.parse(r.lastSampleAt) : null;
  const defaults = useMemo(() => ({ from: first === null ? '' : toLocalInput(first), to: last === null ? '' : toLocalInput(last) }), [first, last]);
  const [name, setName] = useState(r.name);
  const [fromText, setFrom] = useState(defaults.from);
  const [toText, setTo] = useState(defaults.to);
  const [stepText, setStep] = useState(String(r.intervalMs / 1000));
  const [aggregate, setAggregate] = useState<'mean' | 'last'>('mean');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [trendTag, setTrendTag] = useState(r.tags[0]?.id ?? '');
  // Overviews by what was asked for: '' all tags, else one tag's id.
  const [overviews, setOverviews] = useState<ReadonlyMap<string, RecordingOverview | { error: string }>>(new Map());
  const asked = useRef(new Set<string>());
  const mounted = useRef(true);
  const overviewKey = r.tags.length <= OVERVIEW_ALL_TAGS ? '' : trendTag;

  useEffect(() => void loadDatasets(), [loadDatasets]);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  useEffect(() => {
    if (asked.current.has(overviewKey)) return;
    asked.current.add(overviewKey);
    call('recordings.overview', { id: r.id, points: OVERVIEW_POINTS, ...(overviewKey ? { tag: overviewKey } : {}) })
      .then(
        (o): RecordingOverview | { error: string } => o,
        (err: unknown) => ({ error: errorMessage(err) }),
      )
      .then((o) => mounted.current && setOverviews((m) => new Map(m).set(overviewKey, o)));
  }, [r.id, overviewKey]);
  const loaded = overviews.get(overviewKey) ?? null;
  const overview = loaded && 'tags' in loaded ? loaded : null;

  const wholeFrom = fromText === defaults.from;
  const wholeTo = toText === defaults.to;
  const from = wholeFrom ? first : fromLocalInput(fromText);
  const to = wholeTo ? last : fromLocalInput(toText);
  const range = rangeProblem(from, to, first, last);
  const step = parseGridSeconds(stepText);
  const existing = datasets?.find((d) => d.name === name.trim());
  const rows = !range && 'ms' in step ? rowsFor(Math.max(from!, first!), Math.min(to!, last!), step.ms) : null;
  const problem = !name.trim() ? 'Give the dataset a name.' : (range ?? ('error' in step ? step.error : null));

  const series = useMemo(() => {
    const t = overview?.tags.find((x) => x.id === trendTag) ?? overview?.tags[0];
    if (!t || !overview) return null;
    // Lowest and highest value of each stretch of time, so a spike shows; the line breaks across gaps instead of joining the values on both sides.
    return { name: t.name, ...envelopeLine(t.points, overview.gaps, t.id, Date.now()) };
  }, [overview, trendTag]);
  const unit = r.tags.find((t) => t.id === trendTag)?.unit ?? null;

  const submit = () => {
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    call('recordings.save', {
      id: r.id,
      name: name.trim(),
      ...(wholeFrom || from === null ? {} : { from: new Date(from).toISOString() }),
      ...(wholeTo || to === null ? {} : { to: new Date(to).toISOString() }),
      ...('ms' in step && step.ms !== r.intervalMs ? { intervalMs: step.ms } : {}),
      aggregate,
    })
      .then((job) => {
        upsertJob(job);
        onStarted(job.id, name.trim());
      })
      .catch((err: unknown) => {
        setBusy(false);
        setError(errorMessage(err));
      });
  };

  return (
    <Dialog title="Save as dataset" submitLabel="Save dataset" busy={busy} error={error} onClose={onClose} onSubmit={submit} testId="recording-save-dialog">
      <div className="save-dialog">
        <label className="field">
          <span className="field-label">Dataset name</span>
          <input value={name} maxLength={200} data-testid="save-name" onChange={(e) => setName(e.target.value)} />
          <span className="field-hint">{existing ? `"${existing.name}" exists: this becomes its version ${(existing.version ?? 0) + 1}.` : 'A new dataset, one column per tag.'}</span>
        </label>

        <div className="field">
          <span className="field-label">Time range</span>
          <div className="save-range">
            <label className="save-range-end">
              <span className="muted small">From</span>
              <input type="datetime-local" step={1} value={fromText} data-testid="save-from" aria-invalid={(!wholeFrom && from === null) || undefined} onChange={(e) => setFrom(e.target.value)} />
            </label>
            <label className="save-range-end">
              <span className="muted small">To</span>
              <input type="datetime-local" step={1} value={toText} data-testid="save-to" aria-invalid={(!wholeTo && to === null) || undefined} onChange={(e) => setTo(e.target.value)} />
            </label>
            <button
              type="button"
              className="link-button save-whole"
              disabled={wholeFrom && wholeTo}
              onClick={() => {
                setFrom(defaults.from);
                setTo(defaults.to);
              }}
            >
              The whole recording
            </button>
          </div>
          <span className="field-hint">
            {wholeFrom && wholeTo ? `All of it, first to last sample${r.state === 'recording' ? ' (up to when you press Save)' : ''}.` : 'The shaded part of the trend below.'} Times in {timeZoneLabel()}.
          </span>
        </div>

        <div className="save-overview" data-testid="save-overview">
          {series && series.x.length > 1 ? (
            <LineChart
              x={series.x}
              xIsTime
              series={[{ name: series.name, values: series.values, look: 'actual' }]}
              unit={unit}
              bands={from !== null && to !== null && from < to ? [{ from, to }] : []}
              bandLabel="Saved"
              showZone={false}
              height={150}
              ariaLabel={`${series.name} over the whole recording, lowest and highest values, with the range to save shaded`}
            />
          ) : (
            <p className="muted small">{loaded && 'error' in loaded ? `Could not draw the trend: ${loaded.error}` : overview ? 'Not enough values yet to draw a trend.' : 'Loading the trend…'}</p>
          )}
          {overview?.sampled && (
            <p className="muted small" data-testid="save-overview-sampled">
              Trend drawn from a sample of this long recording; the saved dataset uses every value.
            </p>
          )}
          {r.tags.length > 1 && (
            <label className="save-trend-pick small">
              <span className="muted">Trend of</span>
              <select value={trendTag} onChange={(e) => setTrendTag(e.target.value)}>
                {r.tags.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>

        <label className="field save-step">
          <span className="field-label">Time step (seconds)</span>
          <input inputMode="decimal" value={stepText} data-testid="save-step" aria-invalid={'error' in step || undefined} onChange={(e) => setStep(e.target.value)} />
          <span className="field-hint">
            {'error' in step
              ? step.error
              : `One row every ${formatInterval(step.ms)}${step.ms === r.intervalMs ? ", the recording's interval" : ''}${rows !== null ? `: about ${rows.toLocaleString()} rows` : ''}.`}
          </span>
        </label>

        <details className="advanced">
          <summary>Advanced</summary>
          <label className="field">
            <span className="field-label">Several values in one step</span>
            <select value={aggregate} data-testid="save-aggregate" onChange={(e) => setAggregate(e.target.value as 'mean' | 'last')}>
              <option value="mean">Average them</option>
              <option value="last">Keep the last</option>
            </select>
            <span className="field-hint">Averaging suits measurements such as temperatures; keeping the last suits counters and set points.</span>
          </label>
        </details>
      </div>
    </Dialog>
  );
}
