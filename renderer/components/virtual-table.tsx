import { useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent as ReactKeyboardEvent, ReactElement } from 'react';
import {
  PageCache,
  clampVirtual,
  ensureRowVisible,
  moveRowForKey,
  pagesFor,
  rowNumberWidth,
  rowsPerPage,
  scrollFromVirtual,
  scrollModel,
  virtualFromScroll,
  visibleRows,
  wheelPixels,
} from './virtual-table-model';
import './virtual-table.css';

export interface VirtualTableColumn {
  /** Index of the column's value in each fetched row. */
  key: number;
  name: string;
  unit: string | null;
  align: 'left' | 'right';
  /** px; 120 for right-aligned (numbers), 180 otherwise. */
  width?: number;
}

export type VirtualTableCell = string | number | null;

export interface VirtualTableProps {
  columns: VirtualTableColumn[];
  rowCount: number;
  /** Rows [offset, offset + limit); called in pages of 200, at most a few at once. A new function clears the cache. */
  fetchRows(offset: number, limit: number): Promise<VirtualTableCell[][]>;
  ariaLabel: string;
  /** CSS height of the table (default: between 320 px and 760 px, 62 % of the window). */
  height?: number | string;
  /** The highlighted row changed (0-based), by keyboard or click. */
  onActiveRowChange?(row: number): void;
  /** A page failed to load; it is retried after a few seconds while in view. */
  onError?(error: unknown): void;
}

export const ROW_HEIGHT = 28;
const HEADER_HEIGHT = 34;
const PAGE_SIZE = 200;
const CACHE_PAGES = 50;
const MAX_IN_FLIGHT = 3;
const OVERSCAN = 6;
const RETRY_MS = 3000;

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 6 });
const rowNumberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

function cellText(v: VirtualTableCell): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? numberFormat.format(v) : null;
  return v;
}

/**
 * A table for up to hundreds of millions of rows: rows are fetched in pages and
 * only those in view are in the DOM. Past ~10M px of rows the scrollbar maps
 * proportionally onto the rows, while the wheel and keys still move row by row.
 */
export function VirtualTable({ columns, rowCount, fetchRows, ariaLabel, height, onActiveRowChange, onError }: VirtualTableProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const idBase = useId();
  const [viewport, setViewport] = useState(0);
  const [virtualTop, setVirtualTopState] = useState(0);
  const [active, setActive] = useState(-1);
  const [loaded, setLoaded] = useState(0); // bumped when a page arrives or fails

  const cache = useRef(new PageCache<VirtualTableCell[][]>(CACHE_PAGES));
  const inFlight = useRef(new Set<number>());
  const failedAt = useRef(new Map<number, number>());
  const generation = useRef(0);
  const virtualRef = useRef(0);
  const lastScrollTop = useRef(0);

  const model = useMemo(() => scrollModel(rowCount, ROW_HEIGHT, viewport), [rowCount, viewport]);
  const modelRef = useRef(model);
  useLayoutEffect(() => {
    modelRef.current = model;
  });

  const setVirtualTop = useCallback((v: number) => {
    virtualRef.current = v;
    setVirtualTopState(v);
  }, []);

  /** Show virtual offset v: set scrollTop to match and remember it, so the scroll event it causes is not read back. */
  const scrollToVirtual = useCallback(
    (v: number) => {
      const el = scrollRef.current;
      const m = modelRef.current;
      const next = clampVirtual(m, v);
      setVirtualTop(next);
      if (!el) return;
      el.scrollTop = scrollFromVirtual(m, next);
      lastScrollTop.current = el.scrollTop;
    },
    [setVirtualTop],
  );

  // A new data source: forget everything and go back to the top.
  useEffect(() => {
    generation.current++;
    cache.current.clear();
    inFlight.current.clear();
    failedAt.current.clear();
    setActive(-1);
    scrollToVirtual(0);
    setLoaded((n) => n + 1);
  }, [fetchRows, scrollToVirtual]);

  // Viewport size.
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const measure = () => setViewport(Math.max(0, el.clientHeight - HEADER_HEIGHT));
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    measure();
    return () => ro.disconnect();
  }, []);

  // When the model changes (resize, row count), keep the same rows in view.
  useLayoutEffect(() => {
    if (model.scaled) scrollToVirtual(virtualRef.current);
    else if (virtualRef.current > model.maxVirtual) setVirtualTop(model.maxVirtual);
  }, [model, scrollToVirtual, setVirtualTop]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const top = el.scrollTop;
    if (Math.abs(top - lastScrollTop.current) < 0.5) return; // horizontal scroll, or our own scrollToVirtual
    lastScrollTop.current = top;
    setVirtualTop(virtualFromScroll(modelRef.current, top));
  };

  // In the scaled model the wheel moves rows 1:1 (the browser would move them by the scale factor).
  useEffect(() => {
    const el = scrollRef.current;
    if (!el || !model.scaled) return;
    const onWheel = (e: WheelEvent) => {
      if (e.ctrlKey) return; // page zoom
      e.preventDefault();
      const m = modelRef.current;
      if (e.deltaY) scrollToVirtual(virtualRef.current + wheelPixels(e.deltaY, e.deltaMode, m.rowHeight, m.viewport));
      if (e.deltaX) el.scrollLeft += wheelPixels(e.deltaX, e.deltaMode, 16, el.clientWidth);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [model.scaled, scrollToVirtual]);

  const { first, last, offset } = visibleRows(model, virtualTop, OVERSCAN);

  // Fetch the pages in view that are missing, a few at a time; arrivals re-run this for what is in view then.
  useEffect(() => {
    const gen = generation.current;
    const now = Date.now();
    let retryIn = Infinity;
    for (const page of pagesFor(first, last, PAGE_SIZE)) {
      if (cache.current.get(page) !== undefined || inFlight.current.has(page)) continue;
      const failed = failedAt.current.get(page);
      if (failed !== undefined && now - failed < RETRY_MS) {
        retryIn = Math.min(retryIn, RETRY_MS - (now - failed));
        continue;
      }
      if (inFlight.current.size >= MAX_IN_FLIGHT) break;
      inFlight.current.add(page);
      const offsetRows = page * PAGE_SIZE;
      fetchRows(offsetRows, Math.min(PAGE_SIZE, rowCount - offsetRows))
        .then((rows) => {
          if (gen !== generation.current) return;
          cache.current.set(page, rows);
          failedAt.current.delete(page);
        })
        .catch((err: unknown) => {
          if (gen !== generation.current) return;
          failedAt.current.set(page, Date.now());
          onError?.(err);
        })
        .finally(() => {
          if (gen !== generation.current) return;
          inFlight.current.delete(page);
          setLoaded((n) => n + 1);
        });
    }
    if (!Number.isFinite(retryIn)) return;
    const timer = setTimeout(() => setLoaded((n) => n + 1), retryIn + 10);
    return () => clearTimeout(timer);
  }, [first, last, loaded, fetchRows, rowCount, onError]);

  const choose = (row: number) => {
    setActive(row);
    onActiveRowChange?.(row);
  };

  const onKeyDown = (e: ReactKeyboardEvent<HTMLDivElement>) => {
    if (e.altKey || e.metaKey) return;
    const next = moveRowForKey(e.key, active, rowCount, rowsPerPage(model));
    if (next === null) return;
    e.preventDefault();
    choose(next);
    scrollToVirtual(ensureRowVisible(model, virtualRef.current, next));
  };

  const numWidth = rowNumberWidth(rowCount);
  const widths = columns.map((c) => c.width ?? (c.align === 'right' ? 120 : 180));
  const totalWidth = numWidth + widths.reduce((a, b) => a + b, 0);
  const windowHeight = Math.min(viewport, model.contentHeight);

  const rows: ReactElement[] = [];
  let busy = false;
  for (let r = first; r < last; r++) {
    const page = Math.floor(r / PAGE_SIZE);
    const data = cache.current.peek(page)?.[r - page * PAGE_SIZE];
    const failed = !data && failedAt.current.has(page) && !inFlight.current.has(page);
    if (!data) busy = true;
    rows.push(
      <div
        key={r}
        id={`${idBase}-r${r}`}
        role="row"
        aria-rowindex={r + 2}
        aria-selected={r === active}
        className={`vt-row${r === active ? ' active' : ''}${r % 2 ? ' odd' : ''}`}
        style={{ transform: `translateY(${offset + (r - first) * ROW_HEIGHT}px)` }}
        onMouseDown={() => choose(r)}
      >
        <div role="rowheader" className="vt-cell vt-rownum" style={{ width: numWidth }}>
          {rowNumberFormat.format(r + 1)}
        </div>
        {columns.map((c, i) => {
          if (!data) {
            return (
              <div key={c.key} role="gridcell" className={`vt-cell ${c.align}`} style={{ width: widths[i] }}>
                {failed ? i === 0 && <span className="vt-failed">Could not load these rows; trying again…</span> : <span className="vt-placeholder" />}
              </div>
            );
          }
          const text = cellText(data[c.key] ?? null);
          return (
            <div key={c.key} role="gridcell" className={`vt-cell ${c.align}`} style={{ width: widths[i] }} title={text && text.length > 24 ? text : undefined}>
              {text === null ? (
                <span className="vt-missing">
                  <span aria-hidden="true">—</span>
                  <span className="sr-only">missing</span>
                </span>
              ) : (
                text
              )}
            </div>
          );
        })}
      </div>,
    );
  }

  const activeInView = active >= first && active < last;

  return (
    <div
      ref={scrollRef}
      className="vt"
      style={height === undefined ? undefined : { height }}
      role="grid"
      tabIndex={0}
      aria-label={ariaLabel}
      aria-rowcount={rowCount + 1}
      aria-colcount={columns.length + 1}
      aria-busy={busy || undefined}
      aria-activedescendant={activeInView ? `${idBase}-r${active}` : undefined}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
    >
      <div className="vt-header" role="row" aria-rowindex={1} style={{ width: totalWidth, height: HEADER_HEIGHT }}>
        <div role="columnheader" className="vt-cell vt-rownum" style={{ width: numWidth }}>
          Row
        </div>
        {columns.map((c, i) => (
          <div key={c.key} role="columnheader" className={`vt-cell ${c.align}`} style={{ width: widths[i] }} title={c.unit ? `${c.name} (${c.unit})` : c.name}>
            <span className="vt-name">{c.name}</span>
            {c.unit && <span className="vt-unit">{c.unit}</span>}
          </div>
        ))}
      </div>
      {rowCount === 0 ? (
        <p className="vt-empty muted">No rows.</p>
      ) : (
        <div className="vt-spacer" role="presentation" style={{ height: model.contentHeight, width: totalWidth }}>
          <div className="vt-window" role="rowgroup" style={{ height: windowHeight, top: HEADER_HEIGHT }}>
            {rows}
          </div>
        </div>
      )}
    </div>
  );
}
