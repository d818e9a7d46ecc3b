/**
 * Arithmetic for the drift charts: how a heat-map cell is shaded, where its
 * cells and time labels go, how the keyboard moves across it, and how paired
 * training/live bars are scaled. Pure, so it is unit tested.
 */
import { niceNumberTicks, zonedParts } from '../../shared/downsample';
import type { DriftVerdict } from '../../shared/monitor';

/**
 * A cell's shade. ISA-101: a stable input needs no colour, so stable cells are
 * a grey that darkens with PSI (four steps up to the watch level); only watch
 * and changed get the abnormal colours. `empty`: no rows in that slot.
 */
export type CellTone = 'empty' | 'grey-0' | 'grey-1' | 'grey-2' | 'grey-3' | 'watch' | 'changed';

/** PSI at which an input is usually put on watch: the grey scale spans 0 up to it. */
export const PSI_WATCH = 0.1;

export function cellTone(verdict: DriftVerdict, psi: number | null): CellTone {
  if (verdict === 'changed') return 'changed';
  if (verdict === 'watch') return 'watch';
  if (psi === null || !Number.isFinite(psi)) return 'empty';
  const step = Math.floor((Math.max(0, psi) / PSI_WATCH) * 4);
  return `grey-${Math.min(3, step)}` as CellTone;
}

/** The legend, in the order of the scale, with words for each shade. */
export const CELL_LEGEND: readonly { tone: CellTone; label: string }[] = [
  { tone: 'empty', label: 'No rows' },
  { tone: 'grey-0', label: 'Stable, like training' },
  { tone: 'grey-3', label: 'Stable, moving a little' },
  { tone: 'watch', label: 'Watch' },
  { tone: 'changed', label: 'Changed' },
];

export interface HeatLayout {
  /** Left edge of the first cell (after the input names). */
  left: number;
  cellW: number;
  cellH: number;
  width: number;
  height: number;
  /** How many time labels fit under the cells with `labelPx` each (at least 2). */
  maxLabels: number;
}

/**
 * Cells fill the width after a column of input names; a cell never gets
 * narrower than 3 px (the chart then grows wider than its box and scrolls),
 * and as many time labels fit as leave each `labelPx` of room.
 */
export function heatLayout(o: { width: number; slots: number; rows: number; labelW: number; rowH: number; axisH: number; labelPx: number }): HeatLayout {
  const slots = Math.max(1, o.slots);
  const cellW = Math.max(3, (o.width - o.labelW) / slots);
  const maxLabels = Math.max(2, Math.floor((cellW * slots) / o.labelPx));
  return { left: o.labelW, cellW, cellH: o.rowH, width: o.labelW + cellW * slots, height: o.rows * o.rowH + o.axisH, maxLabels };
}

export interface Cell {
  row: number;
  col: number;
}

/** The newest slot in which any input had rows (where reading with the keyboard starts), else the newest slot. */
export function newestFilledCol(psi: readonly (readonly (number | null)[])[], cols: number): number {
  for (let col = cols - 1; col >= 0; col--) if (psi.some((row) => row[col] !== null && row[col] !== undefined)) return col;
  return cols - 1;
}

/**
 * Arrow keys move one cell, Home/End go to the row's ends, PageUp/PageDown to the first/last input; null for other keys.
 * The first arrow lands on the first input at `startCol` (default: the newest slot).
 */
export function moveCell(at: Cell | null, key: string, rows: number, cols: number, startCol = cols - 1): Cell | null {
  if (rows <= 0 || cols <= 0) return null;
  const c = at ?? { row: 0, col: Math.max(0, Math.min(cols - 1, startCol)) };
  const clampRow = (r: number) => Math.max(0, Math.min(rows - 1, r));
  const clampCol = (k: number) => Math.max(0, Math.min(cols - 1, k));
  if (!at && ['ArrowRight', 'ArrowLeft', 'ArrowUp', 'ArrowDown'].includes(key)) return c;
  switch (key) {
    case 'ArrowRight':
      return { row: c.row, col: clampCol(c.col + 1) };
    case 'ArrowLeft':
      return { row: c.row, col: clampCol(c.col - 1) };
    case 'ArrowDown':
      return { row: clampRow(c.row + 1), col: c.col };
    case 'ArrowUp':
      return { row: clampRow(c.row - 1), col: c.col };
    case 'Home':
      return { row: c.row, col: 0 };
    case 'End':
      return { row: c.row, col: cols - 1 };
    case 'PageUp':
      return { row: 0, col: c.col };
    case 'PageDown':
      return { row: rows - 1, col: c.col };
    default:
      return null;
  }
}

export interface PairedRow {
  label: string;
  /** Shares 0..1 of their own totals. */
  reference: number;
  current: number;
}

/**
 * Bar lengths 0..1 for paired bars: both series on one scale, the largest
 * share filling the track, so a bin that grew is visibly longer than its
 * reference. Missing or non-finite shares count as 0.
 */
export function pairedLengths(rows: readonly PairedRow[]): { reference: number; current: number }[] {
  const fin = (v: number) => (Number.isFinite(v) && v > 0 ? v : 0);
  let max = 0;
  for (const r of rows) max = Math.max(max, fin(r.reference), fin(r.current));
  return rows.map((r) => ({ reference: max > 0 ? fin(r.reference) / max : 0, current: max > 0 ? fin(r.current) / max : 0 }));
}

/** Counts as shares of their total (all zero when the total is zero). */
export function toShares(counts: readonly number[]): number[] {
  let total = 0;
  for (const c of counts) if (Number.isFinite(c) && c > 0) total += c;
  return counts.map((c) => (total > 0 && Number.isFinite(c) && c > 0 ? c / total : 0));
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** A slot's start as a short time label: "14:05" when the slots span a day or less, "Tue 14:00" beyond. */
export function slotLabel(t: number, spanMs: number, timeZone?: string): string {
  const p = zonedParts(t, timeZone);
  const hm = `${pad2(p.hour)}:${pad2(p.minute)}`;
  return spanMs > 86_400_000 ? `${WEEKDAY[p.weekday]} ${hm}` : hm;
}

// ---------------------------------------------------------------------------
// Slot charts: one column per time slot (counts from zero, or a low–high range such as p50–p99)

/**
 * Top of a value axis that starts at zero and holds the largest value (at least 1, so an all-zero chart
 * still has a scale), with its ticks; `whole`: counts, so no tick between whole numbers.
 */
export function zeroBasedAxis(values: readonly (number | null)[], maxTicks: number, whole = false): { top: number; ticks: number[]; step: number } {
  let max = 0;
  for (const v of values) if (v !== null && Number.isFinite(v) && v > max) max = v;
  const hi = max > 0 ? max : 1;
  let ticks = niceNumberTicks(0, hi, maxTicks);
  if (whole && ticks.length >= 2 && ticks[1]! - ticks[0]! < 1) ticks = Array.from({ length: Math.ceil(hi) + 1 }, (_, i) => i);
  const step = ticks.length >= 2 ? ticks[1]! - ticks[0]! : hi;
  const last = ticks[ticks.length - 1] ?? hi;
  return { top: last >= hi ? last : last + step, ticks: last >= hi ? ticks : [...ticks, last + step], step };
}

/** The slot holding time t (slots are ascending starts, each `slotMs` long), or -1. */
export function slotAt(slots: readonly number[], slotMs: number, t: number): number {
  let lo = 0;
  let hi = slots.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = slots[mid]!;
    if (t < s) hi = mid - 1;
    else if (t >= s + slotMs) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** A slot's column in pixels: a 1 px gap between neighbours while columns are wider than 3 px. */
export function slotColumn(t: number, slotMs: number, from: number, to: number, left: number, width: number): { x: number; w: number } {
  const sx = (v: number) => left + ((v - from) / (to - from)) * width;
  const a = sx(t);
  const b = sx(t + slotMs);
  return { x: a, w: b - a > 3 ? b - a - 1 : Math.max(0.75, b - a) };
}
