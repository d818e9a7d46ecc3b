import { useEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent as ReactKeyboardEvent, PointerEvent as ReactPointerEvent } from 'react';
import { niceNumberTicks, stepDecimals } from '../../shared/downsample';
import { type HistogramData, binAt, formatNumber, formatTick, histogramExtent, isValidHistogram, shares, valueAxis } from './chart-math';
import './charts.css';

export type { HistogramData } from './chart-math';

export interface HistogramProps {
  data: HistogramData;
  /** Drawn in grey behind `data` (training vs live, UX.md). Both are then shown as shares of their totals. */
  reference?: HistogramData;
  /** Unit of the values on the x axis. */
  unit: string | null;
  ariaLabel: string;
  /** Height in CSS px including the axes (default 160); the width follows the container. */
  height?: number;
  /** Legend names when a reference is drawn. */
  name?: string;
  referenceName?: string;
  /** Render the sparkline-size variant (HistogramSpark, 120 × 32) instead, for profile tables. */
  tiny?: boolean;
}

const M = { left: 48, right: 10, top: 8, bottom: 22 };

const compact = new Map<string, Intl.NumberFormat>();
function formatCount(n: number, short: boolean): string {
  const key = short ? 'short' : 'long';
  let f = compact.get(key);
  if (!f) {
    f = new Intl.NumberFormat(undefined, short ? { notation: 'compact', maximumFractionDigits: 1 } : { maximumFractionDigits: 0 });
    compact.set(key, f);
  }
  return f.format(n);
}

const formatShare = (s: number) => `${formatNumber(s * 100, s > 0 && s < 0.1 ? 1 : 0)} %`;

/** Decimals for bin edges: enough to tell neighbouring edges apart. */
function edgeDecimals(edges: number[]): number {
  let w = Infinity;
  for (let i = 1; i < edges.length; i++) if (edges[i]! - edges[i - 1]! > 0) w = Math.min(w, edges[i]! - edges[i - 1]!);
  return Number.isFinite(w) ? Math.min(6, stepDecimals(w)) : 0;
}

function binText(h: HistogramData, i: number, unit: string | null): string {
  const d = edgeDecimals(h.edges);
  const range = `${formatNumber(h.edges[i]!, d)} – ${formatNumber(h.edges[i + 1]!, d)}`;
  return unit ? `${range} ${unit}` : range;
}

/**
 * Histogram of one column, optionally over a reference in grey. Hover or the
 * arrow keys (when focused) show a bin's range and count.
 */
export function Histogram(props: HistogramProps) {
  if (props.tiny) return <HistogramSpark data={props.data} reference={props.reference} unit={props.unit} ariaLabel={props.ariaLabel} />;
  return <FullHistogram {...props} />;
}

function FullHistogram({ data, reference, unit, ariaLabel, height = 160, name = 'This data', referenceName = 'Training' }: HistogramProps) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [active, setActive] = useState<number | null>(null);

  useEffect(() => {
    const wrap = wrapRef.current;
    if (!wrap) return;
    const ro = new ResizeObserver(() => setWidth(wrap.clientWidth));
    ro.observe(wrap);
    setWidth(wrap.clientWidth);
    return () => ro.disconnect();
  }, []);

  const valid = isValidHistogram(data);
  const ref = reference && isValidHistogram(reference) ? reference : undefined;
  const asShares = ref !== undefined;

  const model = useMemo(() => {
    if (!valid) return null;
    const ys = asShares ? shares(data.counts) : data.counts;
    const refYs = ref ? shares(ref.counts) : [];
    const yMax = Math.max(...ys, ...refYs, 0) || 1;
    const [x0, x1] = histogramExtent(data, ref);
    const total = data.counts.reduce((a, b) => a + b, 0);
    return { ys, refYs, yMax, x0, x1, total };
  }, [data, ref, valid, asShares]);

  if (!model) {
    return (
      <div className="hist" ref={wrapRef} role="img" aria-label={`${ariaLabel}: no values`}>
        <p className="muted small">No values to show.</p>
      </div>
    );
  }

  const plotW = Math.max(1, width - M.left - M.right);
  const plotH = Math.max(1, height - M.top - M.bottom);
  const sx = (v: number) => M.left + ((v - model.x0) / (model.x1 - model.x0)) * plotW;
  const y = valueAxis(0, model.yMax, Math.max(2, Math.floor(plotH / 36)));
  const sy = (v: number) => M.top + plotH - (v / model.yMax) * plotH;
  const xTicks = niceNumberTicks(model.x0, model.x1, Math.max(2, Math.floor(plotW / 70)));
  const xStep = xTicks.length >= 2 ? xTicks[1]! - xTicks[0]! : model.x1 - model.x0;
  const xDecimals = stepDecimals(xStep);

  const bar = (h: HistogramData, ys: number[], i: number, cls: string, key: string) => {
    const a = sx(h.edges[i]!);
    const b = sx(h.edges[i + 1]!);
    const w = b - a > 3 ? b - a - 1 : Math.max(0.5, b - a);
    const top = sy(ys[i]!);
    return ys[i]! > 0 ? <rect key={key} className={cls} x={a} y={top} width={w} height={Math.max(1, M.top + plotH - top)} /> : null;
  };

  const pickAt = (e: ReactPointerEvent<SVGSVGElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const v = model.x0 + ((e.clientX - rect.left - M.left) / plotW) * (model.x1 - model.x0);
    const i = binAt(data.edges, v);
    setActive(i >= 0 ? i : null);
  };

  const onKeyDown = (e: ReactKeyboardEvent<SVGSVGElement>) => {
    const n = data.counts.length;
    let next: number | null | undefined;
    if (e.key === 'ArrowRight') next = active === null ? 0 : Math.min(n - 1, active + 1);
    else if (e.key === 'ArrowLeft') next = active === null ? n - 1 : Math.max(0, active - 1);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = n - 1;
    else if (e.key === 'Escape') next = null;
    if (next === undefined) return;
    e.preventDefault();
    setActive(next);
  };

  let tooltip: { left: number; lines: string[] } | null = null;
  if (active !== null && active < data.counts.length) {
    const count = data.counts[active]!;
    const lines = [binText(data, active, unit), `${formatCount(count, false)} ${count === 1 ? 'value' : 'values'}${model.total > 0 ? ` (${formatShare(count / model.total)})` : ''}`];
    if (ref) {
      const mid = (data.edges[active]! + data.edges[active + 1]!) / 2;
      const j = binAt(ref.edges, mid);
      lines[1] = `${name}: ${lines[1]}`;
      lines.push(`${referenceName}: ${j >= 0 ? formatShare(model.refYs[j]!) : 'none'}`);
    }
    const left = Math.min(width - 80, Math.max(80, (sx(data.edges[active]!) + sx(data.edges[active + 1]!)) / 2));
    tooltip = { left, lines };
  }

  const yLabel = (v: number) => (asShares ? `${formatTick(v * 100, y.step * 100)} %` : formatCount(v, true));

  return (
    <div className="hist" ref={wrapRef}>
      {ref && (
        <div className="hist-legend" aria-hidden="true">
          <span>
            <i className="hist-key" /> {name}
          </span>
          <span>
            <i className="hist-key ref" /> {referenceName}
          </span>
        </div>
      )}
      {width > 0 && (
        <svg
          className="hist-svg"
          width={width}
          height={height}
          role="img"
          aria-label={ariaLabel}
          tabIndex={0}
          onPointerMove={pickAt}
          onPointerLeave={() => setActive(null)}
          onBlur={() => setActive(null)}
          onKeyDown={onKeyDown}
        >
          {y.ticks.map((v) => (
            <g key={v}>
              {v > 0 && <line className="hist-grid" x1={M.left} x2={M.left + plotW} y1={Math.round(sy(v)) + 0.5} y2={Math.round(sy(v)) + 0.5} />}
              <text className="hist-label" x={M.left - 6} y={sy(v)} dy="0.32em" textAnchor="end">
                {yLabel(v)}
              </text>
            </g>
          ))}
          {ref && ref.counts.map((_, i) => bar(ref, model.refYs, i, 'hist-ref', `r${i}`))}
          {data.counts.map((_, i) => bar(data, model.ys, i, i === active ? 'hist-bar active' : 'hist-bar', `d${i}`))}
          <line className="hist-axis" x1={M.left} x2={M.left + plotW} y1={M.top + plotH + 0.5} y2={M.top + plotH + 0.5} />
          {xTicks.map((v, k) => {
            const x = sx(v);
            const last = k === xTicks.length - 1;
            return (
              <text key={v} className="hist-label" x={x} y={M.top + plotH + 15} textAnchor={last && unit ? 'end' : 'middle'}>
                {formatNumber(v, xDecimals)}
                {last && unit ? ` ${unit}` : ''}
              </text>
            );
          })}
        </svg>
      )}
      {tooltip && (
        <div className="hist-tooltip" style={{ left: tooltip.left }} aria-hidden="true">
          {tooltip.lines.map((l, i) => (
            <div key={i} className={i === 0 ? 'strong' : undefined}>
              {l}
            </div>
          ))}
        </div>
      )}
      <p className="sr-only" aria-live="polite">
        {tooltip ? tooltip.lines.join('. ') : ''}
      </p>
    </div>
  );
}

export interface HistogramSparkProps {
  data: HistogramData;
  reference?: HistogramData;
  unit?: string | null;
  ariaLabel: string;
  width?: number;
  height?: number;
}

/** A sparkline-size histogram for profile tables (120 × 32 by default); bars carry their range and count as a native tooltip. */
export function HistogramSpark({ data, reference, unit = null, ariaLabel, width = 120, height = 32 }: HistogramSparkProps) {
  const valid = isValidHistogram(data);
  const ref = reference && isValidHistogram(reference) ? reference : undefined;
  if (!valid) {
    return <svg className="hist-spark" width={width} height={height} role="img" aria-label={`${ariaLabel}: no values`} />;
  }
  const ys = ref ? shares(data.counts) : data.counts;
  const refYs = ref ? shares(ref.counts) : [];
  const yMax = Math.max(...ys, ...refYs, 0) || 1;
  const [x0, x1] = histogramExtent(data, ref);
  const sx = (v: number) => ((v - x0) / (x1 - x0)) * width;
  const sy = (v: number) => height - 1 - (v / yMax) * (height - 2);
  const bars = (h: HistogramData, values: number[], cls: string, withTitle: boolean) =>
    h.counts.map((c, i) => {
      if (!(values[i]! > 0)) return null;
      const a = sx(h.edges[i]!);
      const b = sx(h.edges[i + 1]!);
      const top = sy(values[i]!);
      return (
        <rect key={`${cls}${i}`} className={cls} x={a} y={top} width={b - a > 2 ? b - a - 0.5 : Math.max(0.5, b - a)} height={height - top}>
          {withTitle && <title>{`${binText(h, i, unit)}: ${formatCount(c, false)}`}</title>}
        </rect>
      );
    });
  return (
    <svg className="hist-spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={ariaLabel}>
      {ref && bars(ref, refYs, 'hist-ref', false)}
      {bars(data, ys, 'hist-bar', true)}
    </svg>
  );
}
