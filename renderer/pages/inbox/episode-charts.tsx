import { useMemo, useState } from 'react';
import type { EpisodeDetail } from '../../../shared/feedback';
import { LineChart } from '../../charts/line-chart';
import { cardCharts, scoreText } from './inbox-logic';

/**
 * A card's small trends, historian style: the score against its alarm level,
 * then the inputs that contributed most with their normal range from training,
 * the episode shaded on each. The page names the time zone once.
 */
export function EpisodeCharts({ detail }: { detail: EpisodeDetail }) {
  const c = useMemo(() => cardCharts(detail), [detail]);
  const e = detail.episode;
  const bands = [c.band];
  // One crosshair over the score and the inputs, as in a historian's stacked trends.
  const [at, setAt] = useState<number | null>(null);
  const crosshair = { at, set: setAt };
  return (
    <div className="episode-trends">
      <div className="lc-legend" aria-hidden="true">
        <span>
          <i className="lc-key lc-model" /> Score
        </span>
        {e.threshold !== null && (
          <span>
            <i className="lc-key lc-threshold-key" /> Alarm level
          </span>
        )}
        <span>
          <i className="lc-key lc-actual" /> Input
        </span>
        {c.inputs.some((i) => i.normal) && (
          <span>
            <i className="lc-key lc-range-key" /> Normal range in training
          </span>
        )}
        <span>
          <i className="lc-key lc-band-key" /> This episode
        </span>
      </div>
      <div className="episode-charts">
        <figure className="episode-chart score" data-testid="episode-score-chart">
          <figcaption>Score{e.threshold !== null && <span className="muted small"> · alarm level {scoreText(e.threshold)}</span>}</figcaption>
          <LineChart
            x={c.score.x}
            xIsTime
            series={[{ name: 'Score', values: c.score.values, look: 'model' }]}
            unit={null}
            threshold={e.threshold === null ? null : { value: e.threshold, label: 'Alarm level' }}
            bands={bands}
            bandLabel="This episode"
            height={120}
            showZone={false}
            showLegend={false}
            crosshair={crosshair}
            ariaLabel={`Score of ${e.model} around the episode, with the alarm level`}
          />
        </figure>
        {c.inputs.map((i) => (
          <figure key={i.name} className="episode-chart" data-testid="episode-input-chart">
            <figcaption title={i.words ? `${i.name}: ${i.words}` : i.name}>
              <span className="strong">{i.name}</span>
              {i.words && <span className="muted small"> · {i.words}</span>}
            </figcaption>
            <LineChart
              x={i.line.x}
              xIsTime
              series={[{ name: i.name, values: i.line.values, look: 'actual' }]}
              unit={null}
              range={i.normal ? { ...i.normal, label: 'Normal range' } : null}
              bands={bands}
              bandLabel="This episode"
              height={120}
              showZone={false}
              showLegend={false}
              crosshair={crosshair}
              ariaLabel={`${i.name} around the episode${i.normal ? ', with its normal range in training' : ''}`}
            />
          </figure>
        ))}
      </div>
    </div>
  );
}
