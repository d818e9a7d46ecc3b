import { useEffect } from 'react';
import { formatBytes } from '../../shared/format';
import { AppLink } from '../components/app-link';
import { EmptyState } from '../components/empty-state';
import { Icon } from '../components/icons';
import { useStore } from '../store/store';
import { formatWhen } from './when';
import { SampleButton } from './sample-button';
import { ImportWizard } from '../wizards/import/import-wizard';
import { DatasetPage } from './dataset/dataset-page';
import { RecordWizard } from '../wizards/record/record-wizard';
import { RecordingPage } from './recordings/recording-page';
import { RECORDINGS_PARAM, RecordingsSection } from './recordings/recordings-section';

export function DataPage() {
  const param = useStore((s) => s.pageParam);
  const path = useStore((s) => s.pagePath);
  const go = useStore((s) => s.go);
  if (param === 'record') {
    return (
      <div className="page wide">
        <RecordWizard onClose={() => go('data')} onStarted={(id) => go('data', RECORDINGS_PARAM, [String(id)])} />
      </div>
    );
  }
  if (param === RECORDINGS_PARAM && /^\d+$/.test(path[0] ?? '')) return <RecordingPage key={path[0]} id={Number(path[0])} />;
  if (param === 'import') {
    return (
      <div className="page wide">
        <ImportWizard onClose={() => go('data')} />
      </div>
    );
  }
  if (param) return <DatasetPage name={param} />;
  return <DatasetList />;
}

function DatasetList() {
  const datasets = useStore((s) => s.datasets);
  const loadDatasets = useStore((s) => s.loadDatasets);
  const go = useStore((s) => s.go);
  useEffect(() => void loadDatasets(), [loadDatasets]);

  const importButton = (
    <button className="button primary" onClick={() => go('data', 'import')}>
      <Icon name="upload" /> Import data
    </button>
  );
  const recordButton = (
    <button className="button" data-testid="record-live-data" onClick={() => go('data', 'record')}>
      <span className="record-dot" aria-hidden /> Record live data
    </button>
  );

  return (
    <div className="page">
      {datasets === null ? (
        <p className="muted">Loading…</p>
      ) : datasets.length === 0 ? (
        <EmptyState
          icon="data"
          title="No data yet"
          actions={
            <>
              {importButton}
              {recordButton}
              <SampleButton />
            </>
          }
        >
          Bring in sensor history from a CSV or Excel file or a historian export, or record live values from an OPC UA server or MQTT broker. Not sure where to
          start? Try one of the sample datasets from real machines.
        </EmptyState>
      ) : (
        <>
          <div className="toolbar">
            <span className="muted">
              {datasets.length} {datasets.length === 1 ? 'dataset' : 'datasets'}
            </span>
            <div className="toolbar-actions">
              <SampleButton />
              {recordButton}
              {importButton}
            </div>
          </div>
          <div className="card table-card">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Source file</th>
                  <th scope="col" className="num">Version</th>
                  <th scope="col" className="num">Rows</th>
                  <th scope="col" className="num">Columns</th>
                  <th scope="col" className="num">Size</th>
                  <th scope="col">Added</th>
                </tr>
              </thead>
              <tbody>
                {datasets.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <AppLink route="data" param={d.name} className="strong row-link">
                        {d.name}
                      </AppLink>
                      <div className="muted small">{d.description}</div>
                    </td>
                    <td className="mono small">{d.fileName}</td>
                    <td className="num">{d.version ?? '—'}</td>
                    <td className="num">{d.rows.toLocaleString()}</td>
                    <td className="num" title={d.columns.join(', ')}>
                      {d.columns.length}
                    </td>
                    <td className="num">{formatBytes(d.sizeBytes)}</td>
                    <td className="small nowrap">
                      {formatWhen(d.createdAt)}
                      <div className="muted">by {d.createdBy}</div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {datasets !== null && <RecordingsSection recordButton={datasets.length === 0 ? null : recordButton} />}
    </div>
  );
}

