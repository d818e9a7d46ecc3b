import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent as ReactKeyboardEvent, PointerEvent as ReactPointerEvent } from 'react';
import { type MinMaxSeries, formatZonedTime, niceTimeTicks, seriesBucketMs, timeZoneLabel } from '../../shared/downsample';
import {
  type Lane,
  type TimeRange,
  bucketNear,
  chartKeyAction,
  defaultChartHeight,
  formatMinMax,
  formatTick,
  layoutLanes,
  paddedDomain,
  panBy,
  pxToTime,
  safeTimeZone,
  selectionRange,
  seriesColor,
  timeToPx,
  valueAxis,
  valueToPx,
  visibleExtent,
  visibleIndexRange,
  wheelZoomFactor,
  zoomAround,
} from './chart-math';
import './charts.css';

export interface TrendSeries {
  name: string;
  unit: string | null;
  /** Min/max per pixel column, as minMaxDownsample returns it (from the server or computed here). */
  data: MinMaxSeries;
  /** Overrides the theme's series colour. */
  color?: string;
}

export interface TrendBand {
  from: number;
  to: number;
  label: string;
  tone: 'alarm' | 'warn' | 'info';
}

export interface TimeSeriesChartProps {
  series: TrendSeries[];
  /** The time window shown (epoch ms). */
  from: number;
  to: number;
  /** Everything there is: zoom and pan stay inside it, double-click and Home return to it. */
  fullRange: [number, number];
  /** Called with the new window after a drag, wheel, key or double-click. The parent owns from/to. */
  onRangeChange(from: number, to: number): void;
  /** Episodes and alerts, shaded behind the data. */
  bands?: TrendBand[];
  /** Height of the plot in CSS px (lanes and time axis); defaults to about 120 px a lane. */
  height?: number;
  /** IANA zone for the time axis and readout; the system zone when absent. */
  timeZone?: string;
  ariaLabel: string;
  /** Width of the plot area in CSS px, so the parent can ask for one bucket per pixel column. */
  onWidth?(px: number): void;
  /** Narrowest window a zoom can reach, ms (default 2 s). */
  minSpanMs?: number;
  /** Show "Times in <zone>" under the axis (default true); turn off when the screen already names the zone once. */
  showZone?: boolean;
  /** Show the short how-to line under the axis (default true). */
  showHint?: boolean;
}

const GUTTER = 64; // left, for the value axes
const RIGHT = 12;
const AXIS = 24; // time axis below the lanes
const LANE_GAP = 10;
const BAND_STRIP = 18; // room above the lanes for band labels, when there are bands
const DRAG_MIN_PX = 4;

interface Theme {
  font: string;
  text: string;
  muted: string;
  border: string;
  strong: string;
  surface: string;
  accent: string;
  series: string[];
  tone: Record<TrendBand['tone'], { fill: string; text: string }>;
}

function readTheme(el: Element): Theme {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  const series: string[] = [];
  for (let i = 1; i <= 8; i++) {
    const c = cs.getPropertyValue(`--series-${i}`).trim();
    if (c) series.push(c);
  }
  return {
    font: cs.fontFamily || 'system-ui, sans-serif',
    text: v('--text', '#1d2430'),
    muted: v('--text-muted', '#566172'),
    border: v('--border', '#d3d8df'),
    strong: v('--border-strong', '#b9c0ca'),
    surface: v('--surface', '#ffffff'),
    accent: v('--accent', '#2f5d8f'),
    series,
    tone: {
      alarm: { fill: v('--bad-bg', '#fbe3e1'), text: v('--bad', '#b3261e') },
      warn: { fill: v('--warn-bg', '#fff1cf'), text: v('--warn-text', '#6b4a00') },
      info: { fill: v('--accent-soft', '#dfe8f2'), text: v('--text-muted', '#566172') },
    },
  };
}

/** What the last draw laid out, for hit tests and the readout. */
interface DrawnLayout {
  plotW: number;
  lanes: Lane[];
  steps: number[];
  lanesBottom: number;
}

interface DrawInput {
  width: number;
  height: number;
  series: TrendSeries[];
  from: number;
  to: number;
  bands: TrendBand[];
  timeZone: string | undefined;
}

function drawTrend(ctx: CanvasRenderingContext2D, d: DrawInput, theme: Theme): { layout: DrawnLayout; points: number } {
  const { width, height, from, to, series } = d;
  ctx.clearRect(0, 0, width, height);
  const plotW = Math.max(1, width - GUTTER - RIGHT);
  const strip = d.bands.length > 0 ? BAND_STRIP : 0;
  const lanes = layoutLanes(height - strip, Math.max(1, series.length), AXIS, LANE_GAP).map((l) => ({ top: l.top + strip, height: l.height }));
  const lanesBottom = height - AXIS;
  const x = (t: number) => GUTTER + timeToPx(t, from, to, plotW);
  const font = (px: number, weight = 400) => `${weight} ${px}px ${theme.font}`;
  const steps: number[] = [];
  let points = 0;
  if (!(to > from)) return { layout: { plotW, lanes, steps, lanesBottom }, points };

  // Bands behind everything, across all lanes, labelled in the strip above them when the label fits.
  for (const b of d.bands) {
    const x0 = Math.max(GUTTER, x(b.from));
    const x1 = Math.min(GUTTER + plotW, x(b.to));
    if (x1 <= x0) continue;
    const tone = theme.tone[b.tone];
    ctx.fillStyle = tone.fill;
    ctx.fillRect(x0, 0, Math.max(1, x1 - x0), lanesBottom);
    ctx.fillStyle = tone.text;
    ctx.fillRect(x0, 0, Math.max(1, x1 - x0), 2);
    if (x1 - x0 >= 24) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0, 0, x1 - x0 - 2, strip);
      ctx.clip();
      ctx.font = font(11, 600);
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'left';
      const room = x1 - x0 - 8;
      let label = b.label;
      if (ctx.measureText(label).width > room) {
        while (label.length > 1 && ctx.measureText(`${label}…`).width > room) label = label.slice(0, -1);
        label = `${label.trimEnd()}…`;
      }
      ctx.fillText(label, x0 + 4, strip / 2 + 1);
      ctx.restore();
    }
  }

  // Time grid and axis.
  const ticks = niceTimeTicks(from, to, Math.max(2, Math.floor(plotW / 110)), d.timeZone);
  ctx.strokeStyle = theme.border;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const tk of ticks) {
    const px = Math.round(x(tk.t)) + 0.5;
    ctx.moveTo(px, 0);
    ctx.lineTo(px, lanesBottom);
  }
  ctx.stroke();
  ctx.fillStyle = theme.muted;
  ctx.font = font(11);
  ctx.textBaseline = 'top';
  ctx.textAlign = 'center';
  for (const tk of ticks) {
    const w = ctx.measureText(tk.label).width;
    const cx = Math.min(width - w / 2 - 2, Math.max(GUTTER + w / 2 - 8, x(tk.t)));
    ctx.fillText(tk.label, cx, lanesBottom + 6);
  }
  ctx.strokeStyle = theme.strong;
  ctx.beginPath();
  ctx.moveTo(GUTTER, Math.round(lanesBottom) + 0.5);
  ctx.lineTo(GUTTER + plotW, Math.round(lanesBottom) + 0.5);
  ctx.stroke();

  if (series.length === 0) {
    ctx.fillStyle = theme.muted;
    ctx.font = font(13);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('Choose sensors to see their trend', GUTTER + plotW / 2, lanesBottom / 2);
  }

  series.forEach((s, i) => {
    const lane = lanes[i]!;
    const color = seriesColor(i, s.color, theme.series);
    const bw = seriesBucketMs(s.data, (to - from) / plotW);
    const top = lane.top + 4;
    const h = Math.max(1, lane.height - 8);

    // Lane frame: value axis on the left, a rule underneath when another lane follows.
    ctx.strokeStyle = theme.strong;
    ctx.beginPath();
    ctx.moveTo(GUTTER - 0.5, lane.top);
    ctx.lineTo(GUTTER - 0.5, lane.top + lane.height);
    ctx.stroke();
    if (i < series.length - 1) {
      ctx.strokeStyle = theme.border;
      ctx.beginPath();
      ctx.moveTo(8, Math.round(lane.top + lane.height + LANE_GAP / 2) + 0.5);
      ctx.lineTo(GUTTER + plotW, Math.round(lane.top + lane.height + LANE_GAP / 2) + 0.5);
      ctx.stroke();
    }

    const extent = visibleExtent(s.data, from, to, bw);
    const domain = extent ? paddedDomain(extent[0], extent[1]) : null;
    if (!domain) {
      steps.push(1);
      ctx.fillStyle = theme.muted;
      ctx.font = font(12);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('No values in this time range', GUTTER + plotW / 2, lane.top + lane.height / 2);
    } else {
      const [lo, hi] = domain;
      const y = (v: number) => valueToPx(v, lo, hi, top, h);
      const axis = valueAxis(lo, hi, Math.max(2, Math.floor(h / 20)));
      steps.push(axis.step);
      ctx.strokeStyle = theme.border;
      ctx.beginPath();
      for (const v of axis.ticks) {
        const py = Math.round(y(v)) + 0.5;
        ctx.moveTo(GUTTER, py);
        ctx.lineTo(GUTTER + plotW, py);
      }
      ctx.stroke();
      ctx.fillStyle = theme.muted;
      ctx.font = font(11);
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      for (const v of axis.ticks) ctx.fillText(formatTick(v, axis.step), GUTTER - 6, y(v));

      // Data: a min–max band per pixel column and a line through first and last values.
      ctx.save();
      ctx.beginPath();
      ctx.rect(GUTTER, lane.top, plotW, lane.height);
      ctx.clip();
      points += drawSeries(ctx, s.data, from, to, plotW, bw, y, color);
      ctx.restore();
    }

    // Lane title: swatch, name and unit on a quiet backdrop.
    const title = s.unit ? `${s.name} (${s.unit})` : s.name;
    ctx.font = font(12, 600);
    const tw = Math.min(ctx.measureText(title).width, plotW - 40);
    ctx.globalAlpha = 0.85;
    ctx.fillStyle = theme.surface;
    ctx.fillRect(GUTTER + 4, lane.top + 2, tw + 28, 18);
    ctx.globalAlpha = 1;
    ctx.fillStyle = color;
    ctx.fillRect(GUTTER + 10, lane.top + 10, 12, 3);
    ctx.fillStyle = theme.text;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(title, GUTTER + 28, lane.top + 11.5, tw);
  });

  return { layout: { plotW, lanes, steps, lanesBottom }, points };
}

/**
 * Draw one series, merging buckets that fall in the same pixel column so any
 * density (even raw samples) costs at most a few operations per column.
 * Returns the number of buckets read.
 */
function drawSeries(
  ctx: CanvasRenderingContext2D,
  s: MinMaxSeries,
  from: number,
  to: number,
  plotW: number,
  bw: number,
  y: (v: number) => number,
  color: string,
): number {
  const [i0, i1] = visibleIndexRange(s, from, to, bw);
  if (i1 <= i0) return 0;
  const scale = plotW / (to - from);
  ctx.fillStyle = color;
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.25;
  ctx.lineJoin = 'round';
  ctx.globalAlpha = 0.3;
  ctx.beginPath();
  let col = NaN;
  let left = 0;
  let right = 0;
  let mn = 0;
  let mx = 0;
  let first = 0;
  let last = 0;
  let brk = true;
  let open = false;
  const flush = () => {
    const yTop = y(mx);
    const yBot = y(mn);
    ctx.fillRect(left, yTop, Math.max(1, right - left), Math.max(1, yBot - yTop));
    if (brk || !open) ctx.moveTo(left, y(first));
    else ctx.lineTo(left, y(first));
    ctx.lineTo(Math.max(left + 0.5, right), y(last));
    open = true;
  };
  for (let i = i0; i < i1; i++) {
    const x0 = GUTTER + (s.x[i]! - from) * scale;
    const x1 = x0 + bw * scale;
    const c = Math.floor(x0);
    if (c === col && !s.breakBefore[i]) {
      if (s.min[i]! < mn) mn = s.min[i]!;
      if (s.max[i]! > mx) mx = s.max[i]!;
      last = s.last[i]!;
      if (x1 > right) right = x1;
      continue;
    }
    if (col === col) flush(); // not the first
    col = c;
    left = x0;
    right = x1;
    mn = s.min[i]!;
    mx = s.max[i]!;
    first = s.first[i]!;
    last = s.last[i]!;
    brk = s.breakBefore[i]!;
  }
  flush();
  ctx.globalAlpha = 1;
  ctx.stroke();
  return i1 - i0;
}

interface Drag {
  mode: 'select' | 'pan';
  startPx: number;
  curPx: number;
  range: TimeRange;
}

interface Readout {
  px: number;
  time: string;
  rows: { name: string; color: string; value: string }[];
  bands: TrendBand[];
}

/**
 * Historian-style trend: one lane per sensor with its own value axis, a shared
 * time axis in the plant's zone, min/max bands per pixel column, drag to zoom,
 * double-click to reset, wheel to zoom, Shift+drag and arrows to pan.
 */
export function TimeSeriesChart(props: TimeSeriesChartProps) {
  const { series, from, to, fullRange, bands, ariaLabel, onWidth } = props;
  const timeZone = useMemo(() => safeTimeZone(props.timeZone), [props.timeZone]);
  const height = props.height ?? defaultChartHeight(series.length);
  const wrapRef = useRef<HTMLDivElement>(null);
  const baseRef = useRef<HTMLCanvasElement>(null);
  const overRef = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [readout, setReadout] = useState<Readout | null>(null);
  const [dragging, setDragging] = useState<Drag['mode'] | null>(null);

  // Latest props and interaction state for event handlers and frames, without re-subscribing.
  const latest = useRef(props);
  const layoutRef = useRef<DrawnLayout | null>(null);
  const hoverRef = useRef<{ px: number; py: number } | null>(null);
  const dragRef = useRef<Drag | null>(null);
  const frameRef = useRef(0);
  const dirtyRef = useRef({ base: true, overlay: true });
  const themeRef = useRef<Theme | null>(null);
  const readoutRef = useRef<((px: number) => void) | null>(null);
  const zoneRef = useRef(timeZone);
  useLayoutEffect(() => {
    latest.current = props;
    zoneRef.current = timeZone;
  });

  const minSpan = props.minSpanMs ?? 2000;
  const full = useMemo<TimeRange>(() => [fullRange[0], fullRange[1]], [fullRange]);

  const paint = useCallback(() => {
    frameRef.current = 0;
    const base = baseRef.current;
    const over = overRef.current;
    const wrap = wrapRef.current;
    if (!base || !over || !wrap) return;
    const p = latest.current;
    const w = wrap.clientWidth;
    const h = p.height ?? defaultChartHeight(p.series.length);
    if (w <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    for (const c of [base, over]) {
      const pw = Math.round(w * dpr);
      const ph = Math.round(h * dpr);
      if (c.width !== pw || c.height !== ph) {
        c.width = pw;
        c.height = ph;
        dirtyRef.current.base = true;
        dirtyRef.current.overlay = true;
      }
    }
    const t0 = performance.now();
    const theme = readTheme(base);
    themeRef.current = theme;
    if (dirtyRef.current.base) {
      dirtyRef.current.base = false;
      const ctx = base.getContext('2d');
      if (!ctx) return;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const { layout, points } = drawTrend(
        ctx,
        { width: w, height: h, series: p.series, from: p.from, to: p.to, bands: p.bands ?? [], timeZone: zoneRef.current },
        theme,
      );
      layoutRef.current = layout;
      const ms = performance.now() - t0;
      wrap.dataset.drawMs = ms.toFixed(2);
      wrap.dataset.points = String(points);
      wrap.dataset.from = String(p.from);
      wrap.dataset.to = String(p.to);
      // The data under a still cursor changed (zoom by key or wheel, new data): refresh the readout.
      const hover = hoverRef.current;
      if (hover && dragRef.current?.mode !== 'select') readoutRef.current?.(hover.px);
    }
    if (dirtyRef.current.overlay) {
      dirtyRef.current.overlay = false;
      const ctx = over.getContext('2d');
      if (!ctx) return;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      const layout = layoutRef.current;
      if (!layout) return;
      const drag = dragRef.current;
      if (drag?.mode === 'select' && Math.abs(drag.curPx - drag.startPx) >= DRAG_MIN_PX) {
        const a = Math.max(0, Math.min(drag.startPx, drag.curPx));
        const b = Math.min(layout.plotW, Math.max(drag.startPx, drag.curPx));
        ctx.globalAlpha = 0.14;
        ctx.fillStyle = theme.accent;
        ctx.fillRect(GUTTER + a, 0, b - a, layout.lanesBottom);
        ctx.globalAlpha = 1;
        ctx.strokeStyle = theme.accent;
        ctx.lineWidth = 1;
        ctx.strokeRect(GUTTER + a + 0.5, 0.5, Math.max(0, b - a - 1), layout.lanesBottom - 1);
      }
      const hover = hoverRef.current;
      if (hover && hover.px >= 0 && hover.px <= layout.plotW) {
        const px = Math.round(GUTTER + hover.px) + 0.5;
        ctx.strokeStyle = theme.muted;
        ctx.lineWidth = 1;
        ctx.setLineDash([3, 3]);
        ctx.beginPath();
        ctx.moveTo(px, 0);
        ctx.lineTo(px, layout.lanesBottom);
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
  }, []);

  const request = useCallback(
    (what: 'base' | 'overlay' | 'both') => {
      if (what !== 'overlay') dirtyRef.current.base = true;
      if (what !== 'base') dirtyRef.current.overlay = true;
      if (!frameRef.current) frameRef.current = requestAnimationFrame(paint);
    },
    [paint],
  );

  useEffect(
    () => () => {
      cancelAnimationFrame(frameRef.current);
      frameRef.current = 0; // so a remount (StrictMode) can schedule again
    },
    [],
  );

  // Redraw when anything drawn changes; the overlay too, since the layout may move.
  useEffect(() => request('both'), [request, series, from, to, bands, timeZone, width, height]);

  // Size: follow the wrapper; report the plot width.
  useEffect(() => {
    const wrap = wrapRef.current;
    if (!wrap) return;
    const ro = new ResizeObserver(() => setWidth(wrap.clientWidth));
    ro.observe(wrap);
    setWidth(wrap.clientWidth);
    return () => ro.disconnect();
  }, []);
  const plotWidth = Math.max(0, Math.round(width - GUTTER - RIGHT));
  useEffect(() => {
    if (plotWidth > 0) onWidth?.(plotWidth);
  }, [plotWidth, onWidth]);

  // Theme switches (data-theme on <html>, or the OS scheme) and screen changes (devicePixelRatio) repaint.
  useEffect(() => {
    const mo = new MutationObserver(() => request('both'));
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'class', 'style'] });
    const scheme = window.matchMedia('(prefers-color-scheme: dark)');
    const onScheme = () => request('both');
    scheme.addEventListener('change', onScheme);
    let dprQuery = window.matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
    const onDpr = () => {
      dprQuery.removeEventListener('change', onDpr);
      dprQuery = window.matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
      dprQuery.addEventListener('change', onDpr);
      request('both');
    };
    dprQuery.addEventListener('change', onDpr);
    return () => {
      mo.disconnect();
      scheme.removeEventListener('change', onScheme);
      dprQuery.removeEventListener('change', onDpr);
    };
  }, [request]);

  const change = useCallback((range: TimeRange | null) => {
    if (!range) return false;
    const p = latest.current;
    if (range[0] === p.from && range[1] === p.to) return false;
    p.onRangeChange(range[0], range[1]);
    return true;
  }, []);

  const plotX = (e: { clientX: number }) => {
    const rect = overRef.current!.getBoundingClientRect();
    return e.clientX - rect.left - GUTTER;
  };

  const updateReadout = useCallback((px: number | null) => {
    const layout = layoutRef.current;
    const p = latest.current;
    if (px === null || !layout || px < 0 || px > layout.plotW || !(p.to > p.from)) {
      setReadout(null);
      return;
    }
    const t = pxToTime(px, p.from, p.to, layout.plotW);
    const msPerPx = (p.to - p.from) / layout.plotW;
    const palette = themeRef.current?.series ?? [];
    setReadout({
      px,
      time: formatZonedTime(t, zoneRef.current, p.to - p.from < 2 * 3_600_000),
      rows: p.series.map((s, i) => {
        const bw = seriesBucketMs(s.data, msPerPx);
        const k = bucketNear(s.data, t, bw, 1.5 * msPerPx);
        return {
          name: s.name,
          color: seriesColor(i, s.color, palette),
          value: k < 0 ? 'no value' : formatMinMax(s.data.min[k]!, s.data.max[k]!, layout.steps[i] ?? 1, s.unit),
        };
      }),
      bands: (p.bands ?? []).filter((b) => t >= b.from && t <= b.to),
    });
  }, []);

  useLayoutEffect(() => {
    readoutRef.current = updateReadout;
  }, [updateReadout]);

  const onPointerDown = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0) return;
    const px = plotX(e);
    const layout = layoutRef.current;
    if (!layout || px < 0 || px > layout.plotW) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    const mode = e.shiftKey ? 'pan' : 'select';
    dragRef.current = { mode, startPx: px, curPx: px, range: [latest.current.from, latest.current.to] };
    setDragging(mode);
  };

  const onPointerMove = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    const px = plotX(e);
    const rect = e.currentTarget.getBoundingClientRect();
    hoverRef.current = { px, py: e.clientY - rect.top };
    const drag = dragRef.current;
    const layout = layoutRef.current;
    if (drag && layout) {
      drag.curPx = px;
      if (drag.mode === 'pan') {
        const span = drag.range[1] - drag.range[0];
        change(panBy(drag.range[0], drag.range[1], (-(px - drag.startPx) / layout.plotW) * span, full));
      }
    }
    updateReadout(drag?.mode === 'select' ? null : px);
    request('overlay');
  };

  const endDrag = (e: ReactPointerEvent<HTMLCanvasElement>, commit: boolean) => {
    const drag = dragRef.current;
    dragRef.current = null;
    setDragging(null);
    if (e.currentTarget.hasPointerCapture(e.pointerId)) e.currentTarget.releasePointerCapture(e.pointerId);
    const layout = layoutRef.current;
    if (commit && drag?.mode === 'select' && layout) {
      const p = latest.current;
      change(selectionRange(drag.startPx, plotX(e), p.from, p.to, layout.plotW, full, minSpan, DRAG_MIN_PX));
    }
    request('overlay');
  };

  const onPointerLeave = () => {
    if (dragRef.current) return;
    hoverRef.current = null;
    setReadout(null);
    request('overlay');
  };

  // Wheel zoom needs a non-passive listener to keep the page from scrolling; it lets the page scroll when nothing would change.
  useEffect(() => {
    const el = overRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      const layout = layoutRef.current;
      const p = latest.current;
      if (!layout || e.ctrlKey) return;
      if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        // Sideways on a touchpad: pan.
        const span = p.to - p.from;
        const dx = e.deltaMode === 1 ? e.deltaX * 16 : e.deltaX;
        if (change(panBy(p.from, p.to, (dx / layout.plotW) * span, full))) e.preventDefault();
        return;
      }
      if (e.deltaY === 0) return;
      const rect = el.getBoundingClientRect();
      const px = Math.min(layout.plotW, Math.max(0, e.clientX - rect.left - GUTTER));
      const anchor = pxToTime(px, p.from, p.to, layout.plotW);
      if (change(zoomAround(p.from, p.to, anchor, wheelZoomFactor(e.deltaY, e.deltaMode), full, minSpan))) e.preventDefault();
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [change, full, minSpan]);

  const onKeyDown = (e: ReactKeyboardEvent<HTMLCanvasElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const action = chartKeyAction(e.key, e.shiftKey);
    if (!action) {
      if (e.key === 'Escape' && dragRef.current) {
        dragRef.current = null;
        setDragging(null);
        request('overlay');
      }
      return;
    }
    e.preventDefault();
    const { from: f, to: t } = latest.current;
    if (action.kind === 'reset') change(full);
    else if (action.kind === 'pan') change(panBy(f, t, action.fraction * (t - f), full));
    else change(zoomAround(f, t, (f + t) / 2, action.factor, full, minSpan));
  };

  const zoneLabel = Number.isFinite(from) && Number.isFinite(to) ? timeZoneLabel(from, timeZone, to) : timeZoneLabel(Date.now(), timeZone);
  const summary = useMemo(() => {
    if (!(to > from)) return `${ariaLabel}: no time range.`;
    const names = series.map((s) => (s.unit ? `${s.name} (${s.unit})` : s.name)).join(', ');
    const withSeconds = to - from < 2 * 3_600_000;
    const range = `${formatZonedTime(from, timeZone, withSeconds)} to ${formatZonedTime(to, timeZone, withSeconds)}, ${zoneLabel}`;
    const marked = bands && bands.length > 0 ? ` ${bands.length} marked ${bands.length === 1 ? 'period' : 'periods'}: ${bands.map((b) => b.label).join(', ')}.` : '';
    return `${series.length === 0 ? 'No sensors chosen' : `Trend of ${names}`}, from ${range}.${marked}`;
  }, [ariaLabel, series, from, to, timeZone, bands, zoneLabel]);

  const readoutLeft = readout ? GUTTER + readout.px : 0;
  const flip = readout !== null && readoutLeft > width - 240;

  return (
    <div className="ts-chart" ref={wrapRef}>
      <div className="ts-chart-plot" style={{ height }}>
        <canvas ref={baseRef} className="ts-chart-canvas" style={{ width: '100%', height }} aria-hidden="true" />
        <canvas
          ref={overRef}
          className={`ts-chart-canvas ts-chart-overlay${dragging === 'pan' ? ' panning' : ''}`}
          style={{ width: '100%', height }}
          tabIndex={0}
          role="img"
          aria-label={`${ariaLabel}. Drag to zoom, double-click or Home to show all, arrow keys to move in time, plus and minus to zoom.`}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={(e) => endDrag(e, true)}
          onPointerCancel={(e) => endDrag(e, false)}
          onPointerLeave={onPointerLeave}
          onDoubleClick={() => change(full)}
          onKeyDown={onKeyDown}
        />
        {readout && (
          <div
            className={`ts-chart-readout${flip ? ' flip' : ''}`}
            style={{ left: flip ? readoutLeft - 12 : readoutLeft + 12 }}
            aria-hidden="true"
          >
            <div className="ts-chart-readout-time">{readout.time}</div>
            {readout.bands.map((b, i) => (
              <div className={`ts-chart-readout-band ${b.tone}`} key={`b${i}`}>
                {b.label}
              </div>
            ))}
            {readout.rows.map((r, i) => (
              <div className="ts-chart-readout-row" key={i}>
                <span className="ts-chart-swatch" style={{ background: r.color }} />
                <span className="ts-chart-readout-name">{r.name}</span>
                <span className={`ts-chart-readout-value${r.value === 'no value' ? ' muted' : ''}`}>{r.value}</span>
              </div>
            ))}
          </div>
        )}
      </div>
      {(props.showZone !== false || props.showHint !== false) && (
        <div className="ts-chart-foot small muted">
          {props.showZone !== false && <span>Times in {zoneLabel}</span>}
          {props.showHint !== false && (
            <span className="ts-chart-hint">Drag to zoom · double-click to show all · Shift+drag or ← → to move · wheel or + − to zoom</span>
          )}
        </div>
      )}
      <p className="sr-only" aria-live="polite">
        {summary}
      </p>
    </div>
  );
}
