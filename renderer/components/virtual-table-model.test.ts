import { describe, expect, it } from 'vitest';
import {
  MAX_SCROLL_PX,
  PageCache,
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

describe('scroll model', () => {
  it('is the identity while the rows fit in one element', () => {
    const m = scrollModel(1000, 28, 560);
    expect(m.scaled).toBe(false);
    expect(m.contentHeight).toBe(28_000);
    expect(virtualFromScroll(m, 1234)).toBe(1234);
    expect(scrollFromVirtual(m, 1234)).toBe(1234);
    expect(m.maxScroll).toBe(28_000 - 560);
  });

  it('scales a million rows into a spacer the browser can hold, ends to ends', () => {
    const m = scrollModel(1_000_000, 28, 560);
    expect(m.scaled).toBe(true);
    expect(m.contentHeight).toBe(MAX_SCROLL_PX);
    expect(virtualFromScroll(m, 0)).toBe(0);
    expect(virtualFromScroll(m, m.maxScroll)).toBe(m.maxVirtual);
    // The last row sits at the bottom of the viewport at the end.
    const end = visibleRows(m, virtualFromScroll(m, m.maxScroll), 0);
    expect(end.last).toBe(1_000_000);
    expect(end.offset + (end.last - end.first) * 28).toBeCloseTo(560);
    // Half way down the thumb is half way down the rows.
    const mid = visibleRows(m, virtualFromScroll(m, m.maxScroll / 2), 0);
    expect(Math.abs(mid.first - (1_000_000 - 20) / 2)).toBeLessThan(2);
    // Round trip.
    for (const v of [0, 1, 12_345_678, m.maxVirtual]) expect(virtualFromScroll(m, scrollFromVirtual(m, v))).toBeCloseTo(v, 3);
  });

  it('scrolls a hundred million rows without losing the last one', () => {
    const m = scrollModel(100_000_000, 28, 700);
    const end = visibleRows(m, m.maxVirtual, 3);
    expect(end.last).toBe(100_000_000);
    expect(scrollFromVirtual(m, m.maxVirtual)).toBe(m.maxScroll);
  });

  it('clamps scrollTop outside the range (overscroll, stale values)', () => {
    const m = scrollModel(1_000_000, 28, 560);
    expect(virtualFromScroll(m, -50)).toBe(0);
    expect(virtualFromScroll(m, m.maxScroll + 500)).toBe(m.maxVirtual);
  });

  it('lists the rows in view with overscan and the first row offset', () => {
    const m = scrollModel(100, 28, 280);
    expect(visibleRows(m, 0, 0)).toEqual({ first: 0, last: 10, offset: 0 });
    expect(visibleRows(m, 42, 2)).toEqual({ first: 0, last: 14, offset: -42 });
    expect(visibleRows(m, 280, 2)).toEqual({ first: 8, last: 22, offset: -56 });
    expect(visibleRows(scrollModel(0, 28, 280), 0, 2)).toEqual({ first: 0, last: 0, offset: 0 });
  });

  it('brings a row into view with the smallest move', () => {
    const m = scrollModel(1000, 28, 280);
    expect(ensureRowVisible(m, 0, 5)).toBe(0);
    expect(ensureRowVisible(m, 0, 10)).toBe(28 * 11 - 280);
    expect(ensureRowVisible(m, 1000, 3)).toBe(84);
    expect(ensureRowVisible(m, 0, 999)).toBe(m.maxVirtual);
    expect(rowsPerPage(m)).toBe(10);
  });
});

describe('keyboard', () => {
  it('moves the highlighted row and stays inside the table', () => {
    expect(moveRowForKey('ArrowDown', -1, 50, 10)).toBe(0);
    expect(moveRowForKey('ArrowDown', 49, 50, 10)).toBe(49);
    expect(moveRowForKey('ArrowUp', 0, 50, 10)).toBe(0);
    expect(moveRowForKey('PageDown', 5, 50, 10)).toBe(15);
    expect(moveRowForKey('PageDown', 45, 50, 10)).toBe(49);
    expect(moveRowForKey('PageUp', 5, 50, 10)).toBe(0);
    expect(moveRowForKey('Home', 30, 50, 10)).toBe(0);
    expect(moveRowForKey('End', 3, 50, 10)).toBe(49);
    expect(moveRowForKey('x', 3, 50, 10)).toBeNull();
    expect(moveRowForKey('ArrowDown', 0, 0, 10)).toBeNull();
  });

  it('converts wheel lines and pages to pixels', () => {
    expect(wheelPixels(100, 0, 28, 560)).toBe(100);
    expect(wheelPixels(3, 1, 28, 560)).toBe(84);
    expect(wheelPixels(1, 2, 28, 560)).toBe(532);
  });
});

describe('pages', () => {
  it('lists the pages that hold a row range', () => {
    expect(pagesFor(0, 30, 200)).toEqual([0]);
    expect(pagesFor(190, 230, 200)).toEqual([0, 1]);
    expect(pagesFor(400, 400, 200)).toEqual([]);
    expect(pagesFor(999_990, 1_000_000, 200)).toEqual([4999]);
  });

  it('keeps the most recently used pages', () => {
    const c = new PageCache<string>(3);
    c.set(1, 'a');
    c.set(2, 'b');
    c.set(3, 'c');
    expect(c.get(1)).toBe('a'); // 1 is now the newest
    c.set(4, 'd'); // evicts 2
    expect(c.has(2)).toBe(false);
    expect(c.has(1)).toBe(true);
    expect(c.size).toBe(3);
    c.peek(3); // no refresh
    c.set(5, 'e'); // evicts 3
    expect(c.has(3)).toBe(false);
    c.clear();
    expect(c.size).toBe(0);
  });

  it('sizes the row-number column for the largest number', () => {
    expect(rowNumberWidth(10)).toBe(48);
    expect(rowNumberWidth(1_000_000)).toBeGreaterThan(rowNumberWidth(1000));
  });
});
