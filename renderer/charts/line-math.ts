/**
 * Arithmetic for the SVG result charts (lines over time or row number, curves in
 * the unit square): path building with gaps, extents and the nearest point.
 * Pure, so it is unit tested.
 */
import { upperBound } from '../../shared/downsample';

/** An SVG path through the finite points; a missing value breaks the line instead of joining across it. */
export function linePath(xs: readonly number[], ys: readonly number[], sx: (x: number) => number, sy: (y: number) => number): string {
  const n = Math.min(xs.length, ys.length);
  let d = '';
  let pen = false;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${round(sx(x))},${round(sy(y))}`;
    pen = true;
  }
  return d;
}

/** A step curve (ROC, precision–recall) is drawn as given: points in order, joined. */
export function curvePath(xs: readonly number[], ys: readonly number[], size: { left: number; top: number; width: number; height: number }): string {
  return linePath(
    xs,
    ys,
    (x) => size.left + clamp01(x) * size.width,
    (y) => size.top + (1 - clamp01(y)) * size.height,
  );
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Lowest and highest finite value over all arrays (and extra values such as a threshold); null when there is none. */
export function extentOf(arrays: readonly (readonly number[] | null | undefined)[], extra: readonly number[] = []): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  const take = (v: number) => {
    if (!Number.isFinite(v)) return;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  };
  for (const a of arrays) if (a) for (const v of a) take(v);
  for (const v of extra) take(v);
  return lo <= hi ? [lo, hi] : null;
}

/** Index of the x nearest to `x` in ascending xs; -1 when empty. */
export function nearestIndex(xs: readonly number[], x: number): number {
  const n = xs.length;
  if (n === 0 || !Number.isFinite(x)) return -1;
  const i = upperBound(xs as ArrayLike<number>, x);
  if (i <= 0) return 0;
  if (i >= n) return n - 1;
  return x - xs[i - 1]! <= xs[i]! - x ? i - 1 : i;
}

/** Area under a curve by the trapezoid rule, with points sorted by x (for a label under ROC charts). */
export function areaUnder(xs: readonly number[], ys: readonly number[]): number {
  const pts = xs
    .map((x, i) => [x, ys[i]!] as const)
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    .sort((a, b) => a[0] - b[0]);
  let area = 0;
  for (let i = 1; i < pts.length; i++) area += ((pts[i]![0] - pts[i - 1]![0]) * (pts[i]![1] + pts[i - 1]![1])) / 2;
  return area;
}
