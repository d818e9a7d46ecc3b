import { useEffect } from 'react';
import { Icon, type IconName } from '../components/icons';
import { useStore } from '../store/store';
import type { RouteId } from '../store/ui-slice';
import { lastTrainDataset } from '../store/models-slice';
import { SampleButton } from './sample-button';
import { UseCaseList } from './use-cases/use-case-list';

interface Step {
  n: number;
  title: string;
  text: string;
  page: RouteId;
  param?: string | null;
  icon: IconName;
  done: boolean;
}

export function HomePage() {
  const datasets = useStore((s) => s.datasets);
  const go = useStore((s) => s.go);
  const loadDatasets = useStore((s) => s.loadDatasets);
  const hasModels = useStore((s) => (s.models?.length ?? 0) > 0);
  const loadModels = useStore((s) => s.loadModels);
  const hasUseCases = useStore((s) => (s.useCases?.length ?? 0) > 0);
  useEffect(() => void loadDatasets(), [loadDatasets]);
  useEffect(() => void loadModels(), [loadModels]);

  const hasData = (datasets?.length ?? 0) > 0;
  const last = lastTrainDataset();
  const trainOn = datasets?.some((d) => d.name === last) ? last : (datasets?.[0]?.name ?? null);
  const steps: Step[] = [
    { n: 1, title: 'Bring in data', text: 'CSV, Excel or historian exports from your sensors.', page: 'data', icon: 'data', done: hasData },
    {
      n: 2,
      title: 'Train a model',
      text: 'Say what you want to predict; Millwright finds a good model.',
      // With data and no model yet, the step opens the Train wizard itself.
      page: hasData && !hasModels ? 'train' : 'models',
      param: hasData && !hasModels ? trainOn : null,
      icon: 'models',
      done: hasModels,
    },
    { n: 3, title: 'Deploy it', text: 'Hand a signed bundle to operations, or run it on this PC.', page: 'deployments', icon: 'deployments', done: false },
    { n: 4, title: 'Keep watch', text: 'Millwright monitors the model and asks you about unusual episodes.', page: 'monitoring', icon: 'monitoring', done: false },
  ];
  const next = steps.find((s) => !s.done) ?? steps[0]!;

  return (
    <div className="page home">
      {/* Once there are use cases they are what a returning person looks for; until then the way in comes first. */}
      {hasUseCases && <UseCaseList />}
      <section className="hero card">
        <div className="hero-text">
          <h2>From plant data to a model that watches your process</h2>
          <p className="muted">
            Millwright turns sensor history into models that predict values, spot failures and flag unusual behaviour, then runs them next to
            your equipment. No programming needed.
          </p>
          <div className="hero-actions">
            <button className="button primary large" onClick={() => go('data', 'import')}>
              <Icon name="upload" /> Import your data
            </button>
            <SampleButton large />
          </div>
        </div>
        <ol className="loop" aria-label="The four steps">
          {steps.map((s) => (
            <li key={s.n} className={`loop-step ${s.done ? 'done' : ''} ${s === next ? 'next' : ''}`}>
              <button className="loop-button" onClick={() => go(s.page, s.param)}>
                <span className="loop-n" aria-hidden>
                  {s.done ? <Icon name="check" size={16} /> : s.n}
                </span>
                <span className="loop-body">
                  <span className="loop-title">
                    {s.title}
                    {s.done && <span className="sr-only"> (done)</span>}
                    {s === next && <span className="next-tag">Next</span>}
                  </span>
                  <span className="muted small">{s.text}</span>
                </span>
                <Icon name={s.icon} />
              </button>
            </li>
          ))}
        </ol>
      </section>
      {!hasUseCases && <UseCaseList />}
    </div>
  );
}
