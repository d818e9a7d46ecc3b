/**
 * The arithmetic of the virtual table: which rows are in view, the scaled scroll
 * model for row counts taller than a browser lets an element be, keyboard moves,
 * and the page cache. Pure (no DOM) so it is unit tested.
 */

/** Past this the spacer stops growing (Chrome caps element heights near 33.5M px; stay well below). */
export const MAX_SCROLL_PX = 10_000_000;

/**
 * Rows are laid out in a "virtual" space of rowCount × rowHeight px. When that is
 * taller than maxPx, the scroll container gets a spacer of maxPx only and scrollTop
 * maps proportionally onto the virtual space, so the thumb's ends are the table's ends.
 */
export interface ScrollModel {
  rowCount: number;
  rowHeight: number;
  /** Height of the rows' viewport (below the header), px. */
  viewport: number;
  /** Height of the spacer the browser scrolls, px. */
  contentHeight: number;
  /** True when contentHeight is smaller than the rows' real height. */
  scaled: boolean;
  /** Largest scrollTop. */
  maxScroll: number;
  /** Largest virtual offset (the last row's bottom at the viewport's bottom). */
  maxVirtual: number;
}

export function scrollModel(rowCount: number, rowHeight: number, viewport: number, maxPx = MAX_SCROLL_PX): ScrollModel {
  const total = Math.max(0, rowCount) * rowHeight;
  const view = Math.max(0, viewport);
  const scaled = total > maxPx;
  const contentHeight = scaled ? maxPx : total;
  return {
    rowCount: Math.max(0, rowCount),
    rowHeight,
    viewport: view,
    contentHeight,
    scaled,
    maxScroll: Math.max(0, contentHeight - view),
    maxVirtual: Math.max(0, total - view),
  };
}

export function clampVirtual(m: ScrollModel, virtualTop: number): number {
  return Math.min(m.maxVirtual, Math.max(0, Number.isFinite(virtualTop) ? virtualTop : 0));
}

/** Virtual offset for a scrollTop (the identity unless scaled). */
export function virtualFromScroll(m: ScrollModel, scrollTop: number): number {
  if (!m.scaled) return clampVirtual(m, scrollTop);
  if (m.maxScroll <= 0) return 0;
  return clampVirtual(m, (Math.min(m.maxScroll, Math.max(0, scrollTop)) / m.maxScroll) * m.maxVirtual);
}

/** scrollTop that shows a virtual offset (the identity unless scaled). */
export function scrollFromVirtual(m: ScrollModel, virtualTop: number): number {
  const v = clampVirtual(m, virtualTop);
  if (!m.scaled) return v;
  if (m.maxVirtual <= 0) return 0;
  return (v / m.maxVirtual) * m.maxScroll;
}

/** Rows [first, last) to render at virtualTop with `overscan` extra each side, and the first one's y in the viewport. */
export function visibleRows(m: ScrollModel, virtualTop: number, overscan: number): { first: number; last: number; offset: number } {
  const v = clampVirtual(m, virtualTop);
  const first = Math.max(0, Math.floor(v / m.rowHeight) - overscan);
  const last = Math.min(m.rowCount, Math.ceil((v + m.viewport) / m.rowHeight) + overscan);
  return { first, last, offset: first * m.rowHeight - v };
}

/** Rows that fit in the viewport entirely (at least 1): the PageUp/PageDown step. */
export function rowsPerPage(m: ScrollModel): number {
  return Math.max(1, Math.floor(m.viewport / m.rowHeight));
}

/** The smallest change of virtualTop that brings `row` fully into view. */
export function ensureRowVisible(m: ScrollModel, virtualTop: number, row: number): number {
  const top = row * m.rowHeight;
  const bottom = top + m.rowHeight;
  let v = clampVirtual(m, virtualTop);
  if (top < v) v = top;
  else if (bottom > v + m.viewport) v = bottom - m.viewport;
  return clampVirtual(m, v);
}

/** Where a key moves the highlighted row, or null when the key is not the table's. -1 means no row yet. */
export function moveRowForKey(key: string, current: number, rowCount: number, pageRows: number): number | null {
  if (rowCount <= 0) return null;
  const at = current < 0 ? -1 : current;
  const clamp = (r: number) => Math.min(rowCount - 1, Math.max(0, r));
  switch (key) {
    case 'ArrowDown':
      return clamp(at + 1);
    case 'ArrowUp':
      return clamp(at < 0 ? 0 : at - 1);
    case 'PageDown':
      return clamp((at < 0 ? 0 : at) + pageRows);
    case 'PageUp':
      return clamp(at - pageRows);
    case 'Home':
      return 0;
    case 'End':
      return rowCount - 1;
    default:
      return null;
  }
}

/** Pixels of one wheel event (lines and pages converted). */
export function wheelPixels(delta: number, deltaMode: number, rowHeight: number, viewport: number): number {
  if (deltaMode === 1) return delta * rowHeight;
  if (deltaMode === 2) return delta * Math.max(rowHeight, viewport - rowHeight);
  return delta;
}

/** Pages of `pageSize` rows that hold rows [first, last). */
export function pagesFor(first: number, last: number, pageSize: number): number[] {
  if (last <= first) return [];
  const out: number[] = [];
  for (let p = Math.floor(first / pageSize); p <= Math.floor((last - 1) / pageSize); p++) out.push(p);
  return out;
}

/** A least-recently-used map of page number to rows. */
export class PageCache<T> {
  private readonly pages = new Map<number, T>();
  constructor(readonly capacity: number) {}

  get(page: number): T | undefined {
    const v = this.pages.get(page);
    if (v !== undefined) {
      // Map keeps insertion order: re-inserting makes it the most recent.
      this.pages.delete(page);
      this.pages.set(page, v);
    }
    return v;
  }

  /** Looks without refreshing: for render paths that must not reorder. */
  peek(page: number): T | undefined {
    return this.pages.get(page);
  }

  has(page: number): boolean {
    return this.pages.has(page);
  }

  set(page: number, value: T): void {
    this.pages.delete(page);
    this.pages.set(page, value);
    while (this.pages.size > this.capacity) {
      const oldest = this.pages.keys().next().value as number;
      this.pages.delete(oldest);
    }
  }

  clear(): void {
    this.pages.clear();
  }

  get size(): number {
    return this.pages.size;
  }
}

/** Width in px of the row-number column for rowCount rows (digits and separators of the last number). */
export function rowNumberWidth(rowCount: number): number {
  const digits = String(Math.max(1, rowCount)).length;
  const separators = Math.floor((digits - 1) / 3);
  return Math.max(48, Math.ceil(digits * 8 + separators * 4 + 24));
}
