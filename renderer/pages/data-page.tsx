import { useEffect, useState } from 'react';
import { formatBytes } from '../../shared/format';
import { EmptyState } from '../components/empty-state';
import { Icon } from '../components/icons';
import { useStore } from '../store/store';
import { formatWhen } from './when';
import { SampleButton } from './sample-button';

export function DataPage() {
  const datasets = useStore((s) => s.datasets);
  const loadDatasets = useStore((s) => s.loadDatasets);
  const [showImport, setShowImport] = useState(false);
  useEffect(() => void loadDatasets(), [loadDatasets]);

  const importButton = (
    <button className="button primary" onClick={() => setShowImport(true)}>
      <Icon name="upload" /> Import data
    </button>
  );

  return (
    <div className="page">
      {showImport && <ImportNotice onClose={() => setShowImport(false)} />}
      {datasets === null ? (
        <p className="muted">Loading…</p>
      ) : datasets.length === 0 ? (
        <EmptyState
          icon="data"
          title="No data yet"
          actions={
            <>
              {importButton}
              <SampleButton />
            </>
          }
        >
          Bring in sensor history from a CSV or Excel file or a historian export. Not sure where to start? Try one of the sample datasets from
          real machines.
        </EmptyState>
      ) : (
        <>
          <div className="toolbar">
            <span className="muted">
              {datasets.length} {datasets.length === 1 ? 'dataset' : 'datasets'}
            </span>
            <div className="toolbar-actions">
              <SampleButton />
              {importButton}
            </div>
          </div>
          <div className="card table-card">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Source file</th>
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
                      <div className="strong">{d.name}</div>
                      <div className="muted small">{d.description}</div>
                    </td>
                    <td className="mono small">{d.fileName}</td>
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
    </div>
  );
}

function ImportNotice({ onClose }: { onClose: () => void }) {
  return (
    <div className="notice card" role="dialog" aria-label="Import data">
      <Icon name="info" />
      <div>
        <strong>Importing your own files comes with the import wizard.</strong>
        <p className="muted small">
          It will read CSV, TSV and Excel files and historian exports, check them and show every problem by row and column. This preview
          build can add the sample datasets only.
        </p>
      </div>
      <button className="icon-button" onClick={onClose} aria-label="Close">
        <Icon name="close" size={16} />
      </button>
    </div>
  );
}
