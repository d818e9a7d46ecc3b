import { useEffect } from 'react';
import { ACTIVE_RECORDING_STATES, SOURCE_KIND_TITLES } from '../../../shared/recording';
import { api } from '../../api/api';
import { AppLink } from '../../components/app-link';
import { useStore } from '../../store/store';
import { formatWhen } from '../when';
import { RecordingStateChip } from './recording-state-chip';
import './recordings.css';

/** While a recording runs, the list's sample counts are read this often. */
const POLL_MS = 3000;

/** The route of a recording's page: "#/data/recordings/12". */
export const RECORDINGS_PARAM = 'recordings';

/** The Data page's Recordings: every recording with its state, and the way to start one. */
export function RecordingsSection({ recordButton }: { recordButton: React.ReactNode }) {
  const recordings = useStore((s) => s.recordings);
  const load = useStore((s) => s.loadRecordings);
  const running = recordings?.some((r) => ACTIVE_RECORDING_STATES.includes(r.state)) ?? false;
  useEffect(() => {
    void load();
    return api().on('recording', () => void load());
  }, [load]);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(t);
  }, [running, load]);

  // With no data at all, the page's empty state already offers to record.
  if (recordings === null || (recordings.length === 0 && !recordButton)) return null;
  return (
    <section className="recordings-section" aria-labelledby="recordings-h" data-testid="recordings-section">
      <div className="toolbar">
        <h2 id="recordings-h" className="recordings-h">
          Recordings
        </h2>
        {recordings.length > 0 && <span className="muted small">Times in {Intl.DateTimeFormat().resolvedOptions().timeZone}</span>}
      </div>
      {recordings.length === 0 ? (
        <div className="recordings-empty card">
          <span className="muted">No recordings yet. Record live values from an OPC UA server or an MQTT broker, then save them as a dataset to train on.</span>
          {recordButton}
        </div>
      ) : (
        <div className="card table-card">
          <table className="table" data-testid="recordings-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Source</th>
                <th scope="col">State</th>
                <th scope="col" className="num">
                  Samples
                </th>
                <th scope="col">Started</th>
                <th scope="col">Datasets</th>
              </tr>
            </thead>
            <tbody>
              {recordings.map((r) => (
                <tr key={r.id} data-testid={`recording-row-${r.id}`}>
                  <td>
                    <AppLink route="data" param={RECORDINGS_PARAM} path={[String(r.id)]} className="strong row-link">
                      {r.name}
                    </AppLink>
                    <div className="muted small">
                      {r.tags.length === 1 ? 'one tag' : `${r.tags.length} tags`}
                      {r.gaps > 0 ? ` · ${r.gaps === 1 ? 'one gap' : `${r.gaps} gaps`}` : ''}
                    </div>
                  </td>
                  <td>
                    {r.source.name}
                    <div className="muted small">{SOURCE_KIND_TITLES[r.source.kind]}</div>
                  </td>
                  <td>
                    <RecordingStateChip state={r.state} message={r.message} />
                  </td>
                  <td className="num">{r.samples.toLocaleString()}</td>
                  <td className="small nowrap">
                    {formatWhen(r.startedAt)}
                    <div className="muted">by {r.startedBy}</div>
                  </td>
                  <td className="small">
                    {r.datasets.length === 0 ? (
                      <span className="muted">—</span>
                    ) : (
                      r.datasets.map((d, i) => (
                        <span key={`${d.name}@${d.version}`}>
                          {i > 0 && ', '}
                          <AppLink route="data" param={d.name}>
                            {d.name}
                          </AppLink>
                          <span className="muted"> v{d.version}</span>
                        </span>
                      ))
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
