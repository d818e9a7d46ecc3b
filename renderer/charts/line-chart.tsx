import { useEffect, useId, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent as ReactKeyboardEvent, PointerEvent as ReactPointerEvent } from 'react';
import { formatZonedTime, niceNumberTicks, niceTimeTicks, timeZoneLabel } from '../../shared/downsample';
import { formatNumber, formatTick, paddedDomain, safeTimeZone, valueAxis } from './chart-math';
import { ChartReadout, type Readout, TimeBands, ValueGrid } from './chart-parts';
import { extentOf, linePath, nearestIndex } from './line-math';
import './result-charts.css';

export interface LineSeries {
  name: string;
  values: readonly number[];
  /** Look of the pen: the measured value in dark grey, the model's in the accent, others from the series palette. */
  look: 'actual' | 'model' | 'neutral';
}

export interface LineChartProps {
  /** Epoch ms when xIsTime, else row numbers; ascending. */
  x: readonly number[];
  xIsTime: boolean;
  series: LineSeries[];
  /** Unit of the values (shown on the axis and in the readout). */
  unit: string | null;
  /** A horizontal limit, e.g. the alarm level of an unusual-behaviour score. */
  threshold?: { value: number; label: string } | null;
  /** A horizontal reference at zero (residuals). */
  zeroLine?: boolean;
  /** Shaded stretches, e.g. known problems or real failures. */
  bands?: readonly { from: number; to: number }[];
  bandLabel?: string;
  /** A horizontal stretch of values shaded behind the lines, e.g. an input's normal range in training. */
  range?: { low: number; high: number; label: string } | null;
  /** Say "Times in <zone>" under the axis (default true); off where the screen names the zone once. */
  showZone?: boolean;
  /** The key above the plot (default true); off where charts side by side share one key. */
  showLegend?: boolean;
  /** A crosshair shared by charts over the same time: the time pointed at in any of them (epoch ms), and how to say it. */
  crosshair?: { at: number | null; set(t: number | null): void };
  height?: number;
  ariaLabel: string;
  timeZone?: string;
}

const M = { left: 60, right: 14, top: 10, bottom: 24 };

/**
 * Lines on one shared value axis over time (or row number), in SVG: for a model's
 * predictions against the measured values, residuals, and scores against their alarm level.
 * Hover or the arrow keys (when focused) read the values at one point.
 */
export function LineChart({ x, xIsTime, series, unit, threshold, zeroLine, bands = [], bandLabel, range = null, showZone = true, showLegend = true, crosshair, height = 240, ariaLabel, timeZone }: LineChartProps) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [active, setActive] = useState<number | null>(null);
  const zone = useMemo(() => safeTimeZone(timeZone), [timeZone]);
  const clipId = `lc-clip-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  // Tell the charts beside this one where the pointer or keyboard cursor is.
  const share = crosshair?.set;
  useEffect(() => {
    if (share && xIsTime) share(active === null ? null : (x[active] ?? null));
  }, [share, active, x, xIsTime]);

  useEffect(() => {
    const wrap = wrapRef.current;
    if (!wrap) return;
    const ro = new ResizeObserver(() => setWidth(wrap.clientWidth));
    ro.observe(wrap);
    setWidth(wrap.clientWidth);
    return () => ro.disconnect();
  }, []);

  const model = useMemo(() => {
    const xr = extentOf([x]);
    const extra = [...(threshold ? [threshold.value] : []), ...(zeroLine ? [0] : []), ...(range ? [range.low, range.high] : [])];
    const yr = extentOf(
      series.map((s) => s.values),
      extra,
    );
    const domain = yr ? paddedDomain(yr[0], yr[1]) : null;
    if (!xr || !domain) return null;
    const x0 = xr[0];
    const x1 = xr[1] > xr[0] ? xr[1] : xr[0] + 1;
    return { x0, x1, y0: domain[0], y1: domain[1] };
  }, [x, series, threshold, zeroLine, range]);

  const legend = (
    <div className="lc-legend" aria-hidden="true">
      {series.map((s) => (
        <span key={s.name}>
          <i className={`lc-key lc-${s.look}`} /> {s.name}
        </span>
      ))}
      {threshold && (
        <span>
          <i className="lc-key lc-threshold-key" /> {threshold.label}
        </span>
      )}
      {bands.length > 0 && bandLabel && (
        <span>
          <i className="lc-key lc-band-key" /> {bandLabel}
        </span>
      )}
      {range && (
        <span>
          <i className="lc-key lc-range-key" /> {range.label}
        </span>
      )}
    </div>
  );

  if (!model) {
    return (
      <div className="lc" ref={wrapRef} role="img" aria-label={`${ariaLabel}: no values`}>
        <p className="muted small">No values to show.</p>
      </div>
    );
  }

  const plotW = Math.max(1, width - M.left - M.right);
  const plotH = Math.max(1, height - M.top - M.bottom);
  const plot = { left: M.left, top: M.top, width: plotW, height: plotH };
  const sx = (v: number) => M.left + ((v - model.x0) / (model.x1 - model.x0)) * plotW;
  const sy = (v: number) => M.top + (1 - (v - model.y0) / (model.y1 - model.y0)) * plotH;
  const yAxis = valueAxis(model.y0, model.y1, Math.max(2, Math.floor(plotH / 36)));
  const maxXTicks = Math.max(2, Math.floor(plotW / 110));
  const xTicks = xIsTime
    ? niceTimeTicks(model.x0, model.x1, maxXTicks, zone)
    : niceNumberTicks(model.x0, model.x1, maxXTicks).map((t) => ({ t, label: formatNumber(t, 0) }));
  const valueText = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? `${formatTick(v, yAxis.step / 10)}${unit ? ` ${unit}` : ''}` : 'no value');
  const xText = (v: number) => (xIsTime ? formatZonedTime(v, zone, model.x1 - model.x0 < 2 * 3600_000) : `Row ${formatNumber(v, 0)}`);

  const pickAt = (e: ReactPointerEvent<SVGSVGElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const v = model.x0 + ((e.clientX - rect.left - M.left) / plotW) * (model.x1 - model.x0);
    const i = nearestIndex(x, v);
    setActive(i >= 0 ? i : null);
  };

  const onKeyDown = (e: ReactKeyboardEvent<SVGSVGElement>) => {
    const n = x.length;
    const step = e.shiftKey ? Math.max(1, Math.round(n / 10)) : 1;
    let next: number | null | undefined;
    if (e.key === 'ArrowRight') next = active === null ? 0 : Math.min(n - 1, active + step);
    else if (e.key === 'ArrowLeft') next = active === null ? n - 1 : Math.max(0, active - step);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = n - 1;
    else if (e.key === 'Escape') next = null;
    if (next === undefined) return;
    e.preventDefault();
    setActive(next);
  };

  let readout: Readout | null = null;
  if (active !== null && active < x.length) {
    const at = x[active]!;
    const lines = [xText(at), ...series.map((s) => `${s.name}: ${valueText(s.values[active])}`)];
    if (threshold) {
      const v = series[0]?.values[active];
      if (typeof v === 'number' && Number.isFinite(v)) lines.push(v >= threshold.value ? 'Above the alarm level' : 'Below the alarm level');
    }
    if (bandLabel && bands.some((b) => at >= b.from && at <= b.to)) lines.push(bandLabel);
    if (range) {
      const v = series[0]?.values[active];
      if (typeof v === 'number' && Number.isFinite(v)) lines.push(v < range.low || v > range.high ? `Outside ${range.label.toLowerCase()}` : `Within ${range.label.toLowerCase()}`);
    }
    const left = sx(at);
    readout = { left, flip: left > width - 220, lines };
  }

  const zoneText = xIsTime && showZone ? timeZoneLabel(model.x0, zone, model.x1) : null;

  return (
    <div className="lc" ref={wrapRef}>
      {showLegend && legend}
      {width > 0 && (
        <svg
          className="lc-svg"
          width={width}
          height={height}
          role="img"
          aria-label={`${ariaLabel}. Arrow keys read the values.`}
          tabIndex={0}
          onPointerMove={pickAt}
          onPointerLeave={() => setActive(null)}
          onBlur={() => setActive(null)}
          onKeyDown={onKeyDown}
        >
          <defs>
            <clipPath id={clipId}>
              <rect x={M.left} y={M.top} width={plotW} height={plotH} />
            </clipPath>
          </defs>
          {range && (
            <rect
              className="lc-range"
              x={M.left}
              width={plotW}
              y={Math.max(M.top, sy(range.high))}
              height={Math.max(1, Math.min(M.top + plotH, sy(range.low)) - Math.max(M.top, sy(range.high)))}
            />
          )}
          <TimeBands bands={bands} plot={plot} sx={sx} />
          <ValueGrid ticks={yAxis.ticks} step={yAxis.step} plot={plot} sy={sy} />
          {unit && (
            <text className="lc-label lc-unit" x={4} y={M.top + 4} dy="0.7em">
              {unit}
            </text>
          )}
          {xTicks.map((t) => (
            <g key={t.t}>
              <line className="lc-grid" x1={Math.round(sx(t.t)) + 0.5} x2={Math.round(sx(t.t)) + 0.5} y1={M.top} y2={M.top + plotH} />
              <text className="lc-label" x={Math.min(width - 30, Math.max(M.left + 20, sx(t.t)))} y={M.top + plotH + 16} textAnchor="middle">
                {t.label}
              </text>
            </g>
          ))}
          <line className="lc-axis" x1={M.left} x2={M.left + plotW} y1={M.top + plotH + 0.5} y2={M.top + plotH + 0.5} />
          {zeroLine && model.y0 < 0 && model.y1 > 0 && <line className="lc-zero" x1={M.left} x2={M.left + plotW} y1={sy(0)} y2={sy(0)} />}
          <g clipPath={`url(#${clipId})`}>
            {series.map((s) => (
              <path key={s.name} className={`lc-line lc-${s.look}`} d={linePath(x, s.values, sx, sy)} />
            ))}
          </g>
          {threshold && (
            <g>
              <line className="lc-threshold" x1={M.left} x2={M.left + plotW} y1={sy(threshold.value)} y2={sy(threshold.value)} />
            </g>
          )}
          {readout && <line className="lc-cursor" x1={readout.left} x2={readout.left} y1={M.top} y2={M.top + plotH} />}
          {!readout && crosshair?.at != null && crosshair.at >= model.x0 && crosshair.at <= model.x1 && (
            <line className="lc-cursor" x1={sx(crosshair.at)} x2={sx(crosshair.at)} y1={M.top} y2={M.top + plotH} data-testid="lc-shared-cursor" />
          )}
          {readout &&
            active !== null &&
            series.map((s) => {
              const v = s.values[active];
              return typeof v === 'number' && Number.isFinite(v) ? <circle key={s.name} className={`lc-dot lc-${s.look}`} cx={readout!.left} cy={sy(v)} r={3.5} /> : null;
            })}
        </svg>
      )}
      {zoneText && <div className="lc-foot small muted">Times in {zoneText}</div>}
      <ChartReadout readout={readout} />
    </div>
  );
}
