import { useState } from 'react';
import type { KeyboardEvent as ReactKeyboardEvent, PointerEvent as ReactPointerEvent } from 'react';
import { niceTimeTicks } from '../../shared/downsample';
import { formatTick } from './chart-math';
import { ChartReadout, type Readout, TimeBands, ValueGrid } from './chart-parts';
import { slotAt, slotColumn, slotLabel, zeroBasedAxis } from './drift-chart-math';
import { useWidth } from './use-width';
import './result-charts.css';
import './drift-charts.css';

/** Counts per slot (requests, errors, unusual rows) as columns from zero. */
export interface CountSlots {
  kind: 'count';
  name: string;
  values: readonly number[];
}

/** A low and a high per slot (typical and slowest response time) as a column between them, with a tick at the low. */
export interface RangeSlots {
  kind: 'range';
  lowName: string;
  highName: string;
  low: readonly (number | null)[];
  high: readonly (number | null)[];
}

export interface SlotChartProps {
  /** Slot starts (epoch ms), ascending. */
  slots: readonly number[];
  slotMs: number;
  data: CountSlots | RangeSlots;
  /** Unit of the values, e.g. "ms" or "requests". */
  unit: string;
  /** Stretches shaded behind the columns, e.g. while an alert fired. */
  bands?: readonly { from: number; to: number }[];
  bandLabel?: string;
  height?: number;
  ariaLabel: string;
  timeZone?: string;
}

const M = { left: 48, right: 12, top: 10, bottom: 22 };

/**
 * One column per time slot over a window: the honest picture of counts per
 * minute or hour (a lone busy minute shows as a column, not a ramp), and of a
 * range such as p50–p99. Hover or the arrow keys read a slot.
 */
export function SlotChart({ slots, slotMs, data, unit, bands = [], bandLabel, height = 150, ariaLabel, timeZone }: SlotChartProps) {
  const [wrapRef, width] = useWidth<HTMLDivElement>();
  const [active, setActive] = useState<number | null>(null);
  const n = slots.length;
  const from = slots[0] ?? 0;
  const to = n ? slots[n - 1]! + slotMs : 1;
  const plotW = Math.max(1, width - M.left - M.right);
  const plotH = Math.max(1, height - M.top - M.bottom);
  const plot = { left: M.left, top: M.top, width: plotW, height: plotH };
  const axis = zeroBasedAxis(data.kind === 'count' ? data.values : data.high, Math.max(2, Math.floor(plotH / 30)), data.kind === 'count');
  const sy = (v: number) => M.top + plotH - (v / axis.top) * plotH;
  const sx = (t: number) => M.left + ((t - from) / (to - from)) * plotW;
  const xTicks = n ? niceTimeTicks(from, to, Math.max(2, Math.floor(plotW / 55)), timeZone) : [];
  const num = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? 'none' : `${formatTick(v, axis.step / 10)} ${unit}`);

  const legend = (
    <div className="lc-legend" aria-hidden="true">
      {data.kind === 'count' ? (
        <span>
          <i className="slot-key" /> {data.name}
        </span>
      ) : (
        <>
          <span>
            <i className="slot-key range" /> {data.lowName} to {data.highName.toLowerCase()}
          </span>
        </>
      )}
      {bands.length > 0 && bandLabel && (
        <span>
          <i className="lc-key lc-band-key" /> {bandLabel}
        </span>
      )}
    </div>
  );

  const pickAt = (e: ReactPointerEvent<SVGSVGElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const t = from + ((e.clientX - rect.left - M.left) / plotW) * (to - from);
    const i = slotAt(slots, slotMs, t);
    setActive(i >= 0 ? i : null);
  };
  const onKeyDown = (e: ReactKeyboardEvent<SVGSVGElement>) => {
    let next: number | null | undefined;
    if (e.key === 'ArrowRight') next = active === null ? n - 1 : Math.min(n - 1, active + 1);
    else if (e.key === 'ArrowLeft') next = active === null ? n - 1 : Math.max(0, active - 1);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = n - 1;
    else if (e.key === 'Escape') next = null;
    if (next === undefined || n === 0) return;
    e.preventDefault();
    setActive(next);
  };

  let readout: Readout | null = null;
  if (active !== null && active < n) {
    const t = slots[active]!;
    const when = `${slotLabel(t, 0, timeZone)}–${slotLabel(t + slotMs, 0, timeZone)}`;
    const lines =
      data.kind === 'count'
        ? [when, `${data.name}: ${num(data.values[active])}`]
        : [when, `${data.lowName}: ${num(data.low[active])}`, `${data.highName}: ${num(data.high[active])}`];
    const left = sx(t + slotMs / 2);
    readout = { left, flip: left > width - 180, lines };
  }

  const columns: React.ReactNode[] = [];
  for (let i = 0; i < n; i++) {
    const c = slotColumn(slots[i]!, slotMs, from, to, M.left, plotW);
    const cls = `slot-col${i === active ? ' active' : ''}`;
    if (data.kind === 'count') {
      const v = data.values[i];
      if (v !== undefined && Number.isFinite(v) && v > 0) columns.push(<rect key={i} className={cls} x={c.x} y={sy(v)} width={c.w} height={Math.max(1, M.top + plotH - sy(v))} />);
    } else {
      const lo = data.low[i];
      const hi = data.high[i];
      if (hi === null || hi === undefined || !Number.isFinite(hi)) continue;
      const low = lo !== null && lo !== undefined && Number.isFinite(lo) ? lo : hi;
      columns.push(
        <g key={i}>
          <rect className={`${cls} range`} x={c.x} y={sy(hi)} width={c.w} height={Math.max(1.5, sy(low) - sy(hi))} />
          <line className="slot-low" x1={c.x} x2={c.x + c.w} y1={sy(low)} y2={sy(low)} />
        </g>,
      );
    }
  }

  return (
    <div className="lc slot-chart" ref={wrapRef}>
      {legend}
      {width > 0 && n > 0 && (
        <svg
          className="lc-svg"
          width={width}
          height={height}
          role="img"
          aria-label={`${ariaLabel}. Arrow keys read the slots.`}
          tabIndex={0}
          onPointerMove={pickAt}
          onPointerLeave={() => setActive(null)}
          onBlur={() => setActive(null)}
          onKeyDown={onKeyDown}
        >
          <TimeBands bands={bands} plot={plot} sx={sx} minPx={2} />
          <ValueGrid ticks={axis.ticks} step={axis.step} plot={plot} sy={sy} />
          {xTicks.map((t) => (
            <text key={t.t} className="lc-label" x={Math.min(width - 24, Math.max(M.left + 16, sx(t.t)))} y={M.top + plotH + 16} textAnchor="middle">
              {t.label}
            </text>
          ))}
          {columns}
          <line className="lc-axis" x1={M.left} x2={M.left + plotW} y1={M.top + plotH + 0.5} y2={M.top + plotH + 0.5} />
        </svg>
      )}
      {n === 0 && <p className="muted small">No time slots in this window.</p>}
      <ChartReadout readout={readout} />
    </div>
  );
}
