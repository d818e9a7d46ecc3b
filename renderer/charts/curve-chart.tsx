import { curvePath } from './line-math';
import './result-charts.css';

export interface CurveChartProps {
  kind: 'roc' | 'pr';
  /** ROC: share of normal rows flagged; PR: share of failures caught (recall). */
  xs: readonly number[];
  /** ROC: share of failures caught; PR: share of alarms that were real (precision). */
  ys: readonly number[];
  /** The point of the chosen alarm level, marked on the curve. */
  point?: { x: number; y: number } | null;
  /** PR: share of rows that are failures (what guessing would give). */
  baseline?: number | null;
  /** A line under the title, e.g. "Area 0.93". */
  note?: string;
  ariaLabel: string;
}

const SIZE = 220;
const M = { left: 44, right: 10, top: 10, bottom: 40 };
const TICKS = [0, 0.25, 0.5, 0.75, 1];

const WORDS = {
  roc: { title: 'Caught versus false alarms', x: 'Normal rows flagged', y: 'Failures caught', guess: 'Guessing' },
  pr: { title: 'Caught versus alarms that were real', x: 'Failures caught', y: 'Alarms that were real', guess: 'Guessing' },
} as const;

/**
 * ROC or precision–recall curve in a fixed square, axes in plain words and in percent,
 * with the chosen alarm level marked and a line for what guessing would give.
 */
export function CurveChart({ kind, xs, ys, point, baseline, note, ariaLabel }: CurveChartProps) {
  const w = WORDS[kind];
  const box = { left: M.left, top: M.top, width: SIZE, height: SIZE };
  const sx = (v: number) => box.left + Math.min(1, Math.max(0, v)) * box.width;
  const sy = (v: number) => box.top + (1 - Math.min(1, Math.max(0, v))) * box.height;
  const width = M.left + SIZE + M.right;
  const height = M.top + SIZE + M.bottom;
  const guess =
    kind === 'roc'
      ? { x1: sx(0), y1: sy(0), x2: sx(1), y2: sy(1) }
      : typeof baseline === 'number' && Number.isFinite(baseline)
        ? { x1: sx(0), y1: sy(baseline), x2: sx(1), y2: sy(baseline) }
        : null;
  const pct = (v: number) => `${Math.round(v * 100)}`;
  return (
    <figure className="curve">
      <figcaption className="curve-title">
        <span className="strong">{w.title}</span>
        {note && <span className="muted small"> · {note}</span>}
      </figcaption>
      <svg className="curve-svg" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={ariaLabel}>
        {TICKS.map((t) => (
          <g key={t}>
            <line className="lc-grid" x1={sx(0)} x2={sx(1)} y1={Math.round(sy(t)) + 0.5} y2={Math.round(sy(t)) + 0.5} />
            <line className="lc-grid" x1={Math.round(sx(t)) + 0.5} x2={Math.round(sx(t)) + 0.5} y1={sy(0)} y2={sy(1)} />
            <text className="lc-label" x={sx(0) - 6} y={sy(t)} dy="0.32em" textAnchor="end">
              {pct(t)}
            </text>
            <text className="lc-label" x={sx(t)} y={sy(0) + 14} textAnchor="middle">
              {pct(t)}
            </text>
          </g>
        ))}
        <rect className="curve-frame" x={box.left} y={box.top} width={box.width} height={box.height} />
        {guess && <line className="curve-guess" {...guess} />}
        <path className="lc-line lc-model curve-line" d={curvePath(xs, ys, box)} />
        {point && <circle className="curve-point" cx={sx(point.x)} cy={sy(point.y)} r={5} />}
        <text className="lc-label curve-axis" x={box.left + box.width / 2} y={height - 6} textAnchor="middle">
          {w.x} (%)
        </text>
        <text className="lc-label curve-axis" transform={`translate(11 ${box.top + box.height / 2}) rotate(-90)`} textAnchor="middle">
          {w.y} (%)
        </text>
      </svg>
      {guess && (
        <div className="curve-legend muted small" aria-hidden="true">
          <span>
            <i className="lc-key lc-model" /> This model
          </span>
          <span>
            <i className="lc-key curve-guess-key" /> {w.guess}
          </span>
          {point && (
            <span>
              <i className="curve-point-key" /> Chosen alarm level
            </span>
          )}
        </div>
      )}
    </figure>
  );
}
