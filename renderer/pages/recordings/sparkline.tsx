import { useMemo } from 'react';
import { extentOf, linePath } from '../../charts/line-math';
import { useWidth } from '../../charts/use-width';

/**
 * The newest values of one tag as a small line, without axes: the card around it
 * names the tag, the last value and the range shown. A missing or bad value
 * breaks the line instead of joining across it.
 */
export function Sparkline({ points, height = 44, ariaLabel }: { points: readonly { t: number; v: number | null }[]; height?: number; ariaLabel: string }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const model = useMemo(() => {
    const xs = points.map((p) => p.t);
    const ys = points.map((p) => (p.v === null ? NaN : p.v));
    const xr = extentOf([xs]);
    const yr = extentOf([ys]);
    if (!xr || !yr || width <= 0) return null;
    const pad = 3;
    const [x0, x1] = xr[1] > xr[0] ? xr : [xr[0] - 1, xr[0] + 1];
    const [y0, y1] = yr[1] > yr[0] ? yr : [yr[0] - 1, yr[0] + 1];
    const sx = (x: number) => pad + ((x - x0) / (x1 - x0)) * (width - 2 * pad);
    const sy = (y: number) => pad + (1 - (y - y0) / (y1 - y0)) * (height - 2 * pad);
    let last: { x: number; y: number } | null = null;
    for (let i = points.length - 1; i >= 0; i--) {
      const v = points[i]!.v;
      if (v !== null && Number.isFinite(v)) {
        last = { x: sx(points[i]!.t), y: sy(v) };
        break;
      }
    }
    return { d: linePath(xs, ys, sx, sy), last };
  }, [points, width, height]);
  return (
    <div className="spark" ref={ref} style={{ height }}>
      {width > 0 && (
        <svg width={width} height={height} role="img" aria-label={ariaLabel} data-testid="spark">
          {model ? (
            <>
              <path className="spark-line" d={model.d} />
              {model.last && <circle className="spark-dot" cx={model.last.x} cy={model.last.y} r={2.5} />}
            </>
          ) : (
            <text className="spark-empty" x={width / 2} y={height / 2} dy="0.32em" textAnchor="middle">
              Waiting for values…
            </text>
          )}
        </svg>
      )}
    </div>
  );
}
