/** Pieces the SVG charts over time share: shaded stretches, the value grid with its labels, and the readout of one point. */
import { formatTick } from './chart-math';

export interface Plot {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Stretches of time shaded behind the data (episodes, alerts), clipped to the plot; at least `minPx` wide so a short one stays visible. */
export function TimeBands({ bands, plot, sx, minPx = 1.5 }: { bands: readonly { from: number; to: number }[]; plot: Plot; sx(t: number): number; minPx?: number }) {
  return (
    <>
      {bands.map((b, i) => {
        const a = Math.max(plot.left, sx(b.from));
        const z = Math.min(plot.left + plot.width, sx(b.to));
        return z > a ? <rect key={i} className="lc-band" x={a} y={plot.top} width={Math.max(minPx, z - a)} height={plot.height} /> : null;
      })}
    </>
  );
}

/** Horizontal grid lines at the value ticks, each labelled on the left. */
export function ValueGrid({ ticks, step, plot, sy }: { ticks: readonly number[]; step: number; plot: Plot; sy(v: number): number }) {
  return (
    <>
      {ticks.map((v) => (
        <g key={v}>
          <line className="lc-grid" x1={plot.left} x2={plot.left + plot.width} y1={Math.round(sy(v)) + 0.5} y2={Math.round(sy(v)) + 0.5} />
          <text className="lc-label" x={plot.left - 6} y={sy(v)} dy="0.32em" textAnchor="end">
            {formatTick(v, step)}
          </text>
        </g>
      ))}
    </>
  );
}

export interface Readout {
  /** Where the point is, in px from the chart's left. */
  left: number;
  /** Open to the left, near the right edge. */
  flip: boolean;
  /** The first line (the time) in bold. */
  lines: string[];
}

/** The box beside the pointer or keyboard cursor, and the same words for screen readers. */
export function ChartReadout({ readout }: { readout: Readout | null }) {
  return (
    <>
      {readout && (
        <div className={`lc-readout${readout.flip ? ' flip' : ''}`} style={{ left: readout.flip ? readout.left - 12 : readout.left + 12 }} aria-hidden="true">
          {readout.lines.map((l, i) => (
            <div key={i} className={i === 0 ? 'strong' : undefined}>
              {l}
            </div>
          ))}
        </div>
      )}
      <p className="sr-only" aria-live="polite">
        {readout ? readout.lines.join('. ') : ''}
      </p>
    </>
  );
}
