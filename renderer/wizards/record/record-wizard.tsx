import { useEffect, useState } from 'react';
import { SOURCE_KIND_TITLES } from '../../../shared/recording';
import { Icon } from '../../components/icons';
import { WizardHead } from '../../components/wizard-head';
import { connected, recordingNameOf, sourceNameOf } from '../../store/record-slice';
import { useStore } from '../../store/store';
import { ConnectStep } from './connect-step';
import {
  columnNameProblem,
  DURATION_UNITS,
  formatInterval,
  INTERVAL_PRESETS,
  intervalNote,
  parseDuration,
  parseIntervalSeconds,
  RECORD_STEP,
  RECORD_STEP_LABELS,
  valuesPerHour,
} from './record-logic';
import { TagsStep } from './tags-step';
import './record.css';

/** "Record live data": Connect → Pick tags → How long; starting opens the recording's page. */
export function RecordWizard({ onClose, onStarted }: { onClose: () => void; onStarted: (id: number) => void }) {
  const d = useStore((s) => s.rw);
  const sources = useStore((s) => s.sources);
  const open = useStore((s) => s.recordOpen);
  const set = useStore((s) => s.recordSet);
  const saveSource = useStore((s) => s.recordSaveSource);
  const start = useStore((s) => s.recordStart);
  useEffect(() => open(), [open]);
  // Closing keeps the draft for next time, but not a typed password.
  const close = () => {
    set({ password: '' });
    onClose();
  };

  const problem = stepProblem();
  function stepProblem(): string | null {
    if (d.step === RECORD_STEP.connect) return d.testing || d.trusting ? null : connected(d) ? null : 'Connect first.';
    if (d.step === RECORD_STEP.tags) return d.picked.length === 0 ? 'Tick at least one tag.' : columnNameProblem(d.picked);
    const interval = d.customInterval === null ? null : parseIntervalSeconds(d.customInterval);
    if (interval && 'error' in interval) return interval.error;
    const duration = d.untilStopped ? null : parseDuration(d.durationText, d.durationUnit);
    if (duration && 'error' in duration) return duration.error;
    return null;
  }
  const next = async () => {
    if (problem) return;
    if (d.step === RECORD_STEP.connect) await saveSource();
    else if (d.step === RECORD_STEP.tags) set({ step: RECORD_STEP.when });
    else {
      const id = await start();
      if (id !== null) onStarted(id);
    }
  };
  const busy = d.saving || d.starting;
  const canGo = (i: number) => !busy && (i < d.step || (i === d.step + 1 && !problem && d.step !== RECORD_STEP.connect));

  return (
    <div className="wizard card record-wizard" role="region" aria-label="Record live data" data-testid="record-wizard">
      <WizardHead
        title={
          <>
            Record live data{d.step > RECORD_STEP.connect && d.sourceName ? <span className="muted"> from {d.sourceName}</span> : null}
          </>
        }
        closeLabel="Close the recording wizard"
        onClose={close}
        labels={RECORD_STEP_LABELS}
        step={d.step}
        canGo={canGo}
        onStep={(i) => set({ step: i })}
      />
      <div className="wizard-body">
        {d.step === RECORD_STEP.connect && <ConnectStep onNext={() => void next()} />}
        {d.step === RECORD_STEP.tags && <TagsStep />}
        {d.step === RECORD_STEP.when && <WhenStep />}
      </div>
      <div className="wizard-foot">
        <button className="button" disabled={busy} onClick={() => (d.step === 0 ? close() : set({ step: d.step - 1 }))}>
          {d.step === 0 ? 'Cancel' : 'Back'}
        </button>
        <div className="foot-right">
          {d.error && (
            <span className="error-text small foot-why" role="alert">
              {d.error}
            </span>
          )}
          {!d.error && problem && (
            <span className="muted small foot-why" aria-live="polite">
              {problem}
            </span>
          )}
          {d.step < RECORD_STEP.when ? (
            <button className="button primary" data-testid="record-next" disabled={Boolean(problem) || busy || d.testing || d.trusting} onClick={() => void next()}>
              {d.saving && <span className="spinner" aria-hidden />}
              Next <Icon name="arrow" size={16} />
            </button>
          ) : (
            <button className="button primary" data-testid="record-start" disabled={Boolean(problem) || busy} onClick={() => void next()}>
              {d.starting ? <span className="spinner" aria-hidden /> : <RecordDot />}
              Start recording
            </button>
          )}
        </div>
      </div>
      {sources === null && d.step === RECORD_STEP.connect && <span className="sr-only">Loading the saved sources…</span>}
    </div>
  );
}

function RecordDot() {
  return <span className="record-dot" aria-hidden />;
}

/** Step 3: how often, how long, and what it is called, with a summary of what will happen. */
function WhenStep() {
  const d = useStore((s) => s.rw);
  const sources = useStore((s) => s.sources);
  const set = useStore((s) => s.recordSet);
  const [now] = useState(() => new Date());
  const kind = d.form.kind;
  const custom = d.customInterval !== null;
  const parsedInterval = custom ? parseIntervalSeconds(d.customInterval ?? '') : { ms: d.intervalMs };
  const intervalMs = 'ms' in parsedInterval ? parsedInterval.ms : null;
  const duration = d.untilStopped ? null : parseDuration(d.durationText, d.durationUnit);
  const durationMs = duration && 'ms' in duration ? duration.ms : null;
  const perHour = intervalMs ? valuesPerHour(kind, d.picked.length, intervalMs) : null;
  const ends = durationMs ? new Date(now.getTime() + durationMs) : null;
  const defaultName = recordingNameOf({ ...d, name: '' }, sources, now);
  const source = sourceNameOf(d, sources);
  const tags = d.picked.length === 1 ? 'one tag' : `${d.picked.length} tags`;

  return (
    <div className="step record-when">
      <div className="field">
        <span className="field-label" id="record-interval-label">
          {kind === 'opcua' ? 'A value every' : 'Time grid'}
        </span>
        <fieldset className="segmented" aria-labelledby="record-interval-label">
          {INTERVAL_PRESETS.map((ms) => (
            <label key={ms} className={!custom && d.intervalMs === ms ? 'checked' : ''}>
              <input type="radio" name="record-interval" checked={!custom && d.intervalMs === ms} onChange={() => set({ intervalMs: ms, customInterval: null })} />
              {formatInterval(ms)}
            </label>
          ))}
          <label className={custom ? 'checked' : ''}>
            <input type="radio" name="record-interval" checked={custom} data-testid="record-interval-custom" onChange={() => set({ customInterval: String(d.intervalMs / 1000) })} />
            Other
          </label>
        </fieldset>
        {custom && (
          <span className="record-custom">
            <input
              className="record-number"
              inputMode="decimal"
              value={d.customInterval ?? ''}
              aria-label="Interval in seconds"
              data-testid="record-interval-seconds"
              aria-invalid={intervalMs === null || undefined}
              onChange={(e) => set({ customInterval: e.target.value })}
              autoFocus
            />{' '}
            seconds
          </span>
        )}
        <span className="field-hint" data-testid="record-interval-note">
          {intervalMs ? intervalNote(kind, intervalMs) : 'From 0.1 s to one hour.'}
        </span>
      </div>

      <div className="field">
        <span className="field-label" id="record-duration-label">
          How long
        </span>
        <div className={`record-duration ${d.untilStopped ? 'until' : ''}`} role="radiogroup" aria-labelledby="record-duration-label">
          <label className="check">
            <input type="radio" name="record-duration" checked={d.untilStopped} data-testid="record-until-stopped" onChange={() => set({ untilStopped: true })} />
            Until I stop it
          </label>
          <label className="check">
            <input type="radio" name="record-duration" checked={!d.untilStopped} data-testid="record-for" onChange={() => set({ untilStopped: false })} />
            For
          </label>
          <input
            className="record-number"
            inputMode="decimal"
            value={d.durationText}
            aria-label="How long, amount"
            data-testid="record-duration-amount"
            aria-invalid={(!d.untilStopped && durationMs === null) || undefined}
            onChange={(e) => set({ durationText: e.target.value, untilStopped: false })}
          />
          <select value={d.durationUnit} aria-label="How long, unit" onChange={(e) => set({ durationUnit: e.target.value as typeof d.durationUnit, untilStopped: false })}>
            {DURATION_UNITS.map((u) => (
              <option key={u} value={u}>
                {u}
              </option>
            ))}
          </select>
        </div>
        <span className="field-hint">
          {d.untilStopped
            ? 'It records until you press Stop on its page. You can save any part of it as a dataset meanwhile.'
            : ends
              ? `It stops by itself at about ${ends.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit', day: 'numeric', month: 'short' })}.`
              : (duration && 'error' in duration ? duration.error : '')}
        </span>
      </div>

      <label className="field record-name">
        <span className="field-label">Name of the recording</span>
        <input value={d.name} placeholder={defaultName} maxLength={200} data-testid="record-name" onChange={(e) => set({ name: e.target.value })} />
      </label>

      <div className="summary card" data-testid="record-summary">
        <strong>What will happen</strong>
        <ul>
          <li>
            Millwright records {tags} ({d.picked.map((t) => t.name).join(', ')}) from {source}, {SOURCE_KIND_TITLES[kind]} at <span className="mono">{d.form.url.trim()}</span>
            {kind === 'opcua' && intervalMs ? `, a value every ${formatInterval(intervalMs)}` : ', every message it publishes'}
            {d.untilStopped ? ', until you stop it.' : durationMs ? `, for ${d.durationText.trim()} ${d.durationUnit}.` : '.'}
          </li>
          {perHour !== null && <li>That is about {perHour.toLocaleString()} values an hour, written to disk as they arrive.</li>}
          <li>It runs in the background while Millwright is open; if the connection drops it reconnects by itself and counts the gap.</li>
          <li>On its page you see live trends, and save any time range as a dataset to train on.</li>
        </ul>
      </div>
    </div>
  );
}
