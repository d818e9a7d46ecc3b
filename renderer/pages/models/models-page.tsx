import { useEffect } from 'react';
import { AppLink } from '../../components/app-link';
import { EmptyState } from '../../components/empty-state';
import { Icon } from '../../components/icons';
import { lastTrainDataset } from '../../store/models-slice';
import { useStore } from '../../store/store';
import { formatWhen, timeZoneLabel } from '../when';
import { ComparePage } from './compare-page';
import { LineagePage } from './lineage-page';
import { ModelPage } from './model-page';
import { formatMetric, taskWords } from './report-logic';

/** "#/models" lists the models; "#/models/NAME" opens one, "…/lineage/2" where version 2 came from, "…/compare/1/2" two versions side by side. */
export function ModelsPage() {
  const param = useStore((s) => s.pageParam);
  const path = useStore((s) => s.pagePath);
  const [view, a, b] = path;
  if (param && view === 'lineage' && a) return <LineagePage key={`${param}@${a}`} name={param} version={Number(a)} />;
  if (param && view === 'compare' && a && b) return <ComparePage key={`${param}@${a}-${b}`} name={param} a={Number(a)} b={Number(b)} />;
  if (param) return <ModelPage key={param} name={param} />;
  return <ModelList />;
}

/** The dataset the Train button opens: the last one trained on when it still exists, else the newest. */
function useTrainDataset(): string | null {
  const datasets = useStore((s) => s.datasets);
  const last = lastTrainDataset();
  if (last && datasets?.some((d) => d.name === last)) return last;
  return datasets?.[0]?.name ?? null;
}

function ModelList() {
  const models = useStore((s) => s.models);
  const loadModels = useStore((s) => s.loadModels);
  const hasData = useStore((s) => (s.datasets?.length ?? 0) > 0);
  const go = useStore((s) => s.go);
  const dataset = useTrainDataset();
  useEffect(() => void loadModels(), [loadModels]);

  const trainButton = (
    <button className="button primary" onClick={() => go('train', dataset)}>
      <Icon name="models" /> Train a model
    </button>
  );

  if (models === null) return <div className="page"><p className="muted">Loading the models…</p></div>;
  if (models.length === 0) {
    return (
      <div className="page">
        <EmptyState
          icon="models"
          title="No models yet"
          actions={
            hasData ? (
              <>
                {trainButton}
                <button className="button" onClick={() => go('data')}>
                  <Icon name="data" /> See your data
                </button>
              </>
            ) : (
              <button className="button primary" onClick={() => go('data')}>
                <Icon name="data" /> Bring in data first
              </button>
            )
          }
        >
          A model learns from a dataset to predict a value, spot a failure or flag unusual behaviour. Each training run becomes a model version you can
          compare, approve and deploy.
        </EmptyState>
      </div>
    );
  }

  return (
    <div className="page wide">
      <div className="toolbar">
        <span className="muted">
          {models.length} {models.length === 1 ? 'model' : 'models'} · times in {timeZoneLabel()}
        </span>
        <div className="toolbar-actions">{hasData && trainButton}</div>
      </div>
      <div className="card table-card">
        <table className="table" data-testid="models-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Goal</th>
              <th scope="col">Best algorithm</th>
              <th scope="col" className="num">
                Score
              </th>
              <th scope="col">Trained on</th>
              <th scope="col">Trained</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => {
              const v = m.latest;
              return (
                <tr key={m.id}>
                  <td>
                    <AppLink route="models" param={m.name} className="strong row-link">
                      {m.name}
                    </AppLink>
                    <div className="muted small">
                      Version {v.version}
                      {m.versions > 1 ? ` of ${m.versions}` : ''}
                      {m.production !== null ? ` · production: version ${m.production}` : ''}
                    </div>
                  </td>
                  <td>
                    {taskWords(m.task)}
                    {v.target && <div className="muted small">{v.target}</div>}
                  </td>
                  <td>{v.algorithmTitle}</td>
                  <td className="num">
                    {formatMetric(v.metrics[v.metric.key], v.metric)}
                    <div className="muted small">{v.metric.label}</div>
                  </td>
                  <td className="small">
                    <AppLink route="data" param={v.dataset}>
                      {v.dataset}
                    </AppLink>
                    <div className="muted">version {v.datasetVersion}</div>
                  </td>
                  <td className="small nowrap">
                    {formatWhen(v.createdAt)}
                    <div className="muted">by {v.createdBy}</div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
