import { describe, expect, it } from 'vitest';
import { CELL_LEGEND, cellTone, heatLayout, moveCell, newestFilledCol, pairedLengths, slotAt, slotColumn, slotLabel, toShares, zeroBasedAxis } from './drift-chart-math';

describe('heat map shades', () => {
  it('keeps stable cells grey, darker as PSI approaches the watch level, and colours only watch and changed', () => {
    expect(cellTone('stable', 0)).toBe('grey-0');
    expect(cellTone('stable', 0.024)).toBe('grey-0');
    expect(cellTone('stable', 0.026)).toBe('grey-1');
    expect(cellTone('stable', 0.06)).toBe('grey-2');
    expect(cellTone('stable', 0.08)).toBe('grey-3');
    // A verdict of stable beyond the usual PSI level (the test said no) stays grey: the verdict decides the colour.
    expect(cellTone('stable', 0.4)).toBe('grey-3');
    expect(cellTone('watch', 0.02)).toBe('watch');
    expect(cellTone('changed', 0.05)).toBe('changed');
    expect(cellTone('changed', null)).toBe('changed');
  });

  it('shows a slot without rows as empty, whatever its verdict says', () => {
    expect(cellTone('unknown', null)).toBe('empty');
    expect(cellTone('stable', null)).toBe('empty');
    expect(cellTone('stable', Number.NaN)).toBe('empty');
    // Too few rows to judge, but some: shaded by the PSI there is.
    expect(cellTone('unknown', 0.01)).toBe('grey-0');
  });

  it('names every shade of the legend in words', () => {
    for (const l of CELL_LEGEND) expect(l.label.length).toBeGreaterThan(3);
    expect(CELL_LEGEND.map((l) => l.tone)).toEqual(['empty', 'grey-0', 'grey-3', 'watch', 'changed']);
  });
});

describe('heat map layout', () => {
  it('fills the width after the names and fits as many time labels as have room', () => {
    const l = heatLayout({ width: 750, slots: 60, rows: 6, labelW: 150, rowH: 22, axisH: 22, labelPx: 48 });
    expect(l.cellW).toBe(10);
    expect(l.width).toBe(750);
    expect(l.height).toBe(6 * 22 + 22);
    expect(l.maxLabels).toBe(12);
  });

  it('never draws cells narrower than 3 px: the chart grows and scrolls instead', () => {
    const l = heatLayout({ width: 400, slots: 168, rows: 2, labelW: 150, rowH: 22, axisH: 22, labelPx: 80 });
    expect(l.cellW).toBe(3);
    expect(l.width).toBe(150 + 3 * 168);
    expect(l.maxLabels).toBe(6);
  });

  it('keeps at least two time labels, the first and a later one', () => {
    expect(heatLayout({ width: 200, slots: 10, rows: 1, labelW: 150, rowH: 22, axisH: 22, labelPx: 80 }).maxLabels).toBe(2);
  });
});

describe('heat map keyboard', () => {
  it('starts at the newest slot of the first input and moves one cell per arrow, stopping at the edges', () => {
    const first = moveCell(null, 'ArrowDown', 3, 5);
    expect(first).toEqual({ row: 0, col: 4 });
    expect(moveCell(first, 'ArrowRight', 3, 5)).toEqual({ row: 0, col: 4 });
    expect(moveCell(first, 'ArrowLeft', 3, 5)).toEqual({ row: 0, col: 3 });
    expect(moveCell(first, 'ArrowUp', 3, 5)).toEqual({ row: 0, col: 4 });
    expect(moveCell({ row: 1, col: 2 }, 'ArrowDown', 3, 5)).toEqual({ row: 2, col: 2 });
    expect(moveCell({ row: 2, col: 2 }, 'ArrowDown', 3, 5)).toEqual({ row: 2, col: 2 });
  });

  it('starts at the newest slot that has rows, so the first cell read says something', () => {
    const psi = [
      [0.01, 0.3, null, null],
      [null, 0.2, null, null],
    ];
    expect(newestFilledCol(psi, 4)).toBe(1);
    expect(newestFilledCol([[null, null]], 2)).toBe(1);
    expect(moveCell(null, 'ArrowRight', 2, 4, newestFilledCol(psi, 4))).toEqual({ row: 0, col: 1 });
  });

  it('jumps with Home, End, PageUp and PageDown, and ignores other keys', () => {
    const at = { row: 1, col: 2 };
    expect(moveCell(at, 'Home', 3, 5)).toEqual({ row: 1, col: 0 });
    expect(moveCell(at, 'End', 3, 5)).toEqual({ row: 1, col: 4 });
    expect(moveCell(at, 'PageUp', 3, 5)).toEqual({ row: 0, col: 2 });
    expect(moveCell(at, 'PageDown', 3, 5)).toEqual({ row: 2, col: 2 });
    expect(moveCell(at, 'a', 3, 5)).toBeNull();
    expect(moveCell(at, 'ArrowDown', 0, 5)).toBeNull();
  });
});

describe('paired bars', () => {
  it('draws both series on one scale, the largest share filling the track', () => {
    const l = pairedLengths([
      { label: 'a', reference: 0.5, current: 0.25 },
      { label: 'b', reference: 0.5, current: 0.75 },
    ]);
    expect(l[0]).toEqual({ reference: 0.5 / 0.75, current: 0.25 / 0.75 });
    expect(l[1]!.current).toBe(1);
    expect(l[1]!.reference).toBeCloseTo(2 / 3, 12);
  });

  it('treats missing or negative shares as nothing, and all zeros as empty bars', () => {
    expect(pairedLengths([{ label: 'a', reference: Number.NaN, current: -1 }])).toEqual([{ reference: 0, current: 0 }]);
    expect(pairedLengths([])).toEqual([]);
  });

  it('turns counts into shares of their total', () => {
    expect(toShares([1, 3, 0])).toEqual([0.25, 0.75, 0]);
    expect(toShares([0, 0])).toEqual([0, 0]);
    expect(toShares([2, Number.NaN, -1, 2])).toEqual([0.5, 0, 0, 0.5]);
  });
});

describe('slot labels', () => {
  const t = Date.UTC(2026, 10, 24, 14, 5); // a Tuesday
  it('shows the time of day within a day, and the weekday beyond', () => {
    expect(slotLabel(t, 3_600_000, 'UTC')).toBe('14:05');
    expect(slotLabel(t, 7 * 86_400_000, 'UTC')).toBe('Tue 14:05');
    expect(slotLabel(t, 3_600_000, 'Asia/Kolkata')).toBe('19:35');
  });
});

describe('slot charts', () => {
  it('starts counts at zero and puts the top on a round tick that holds the largest', () => {
    expect(zeroBasedAxis([0, 3, 31, null], 4)).toEqual({ top: 40, ticks: [0, 10, 20, 30, 40], step: 10 });
    expect(zeroBasedAxis([0, 20], 4)).toEqual({ top: 20, ticks: [0, 10, 20], step: 10 });
  });

  it('puts counts on whole numbers only', () => {
    expect(zeroBasedAxis([0, 0], 4, true)).toEqual({ top: 1, ticks: [0, 1], step: 1 });
    expect(zeroBasedAxis([0, 3], 6, true)).toEqual({ top: 3, ticks: [0, 1, 2, 3], step: 1 });
    expect(zeroBasedAxis([0, 0], 4).ticks.length).toBeGreaterThan(2);
  });

  it('keeps a scale when every value is zero or missing', () => {
    const a = zeroBasedAxis([0, 0, null, Number.NaN], 3);
    expect(a.top).toBeGreaterThanOrEqual(1);
    expect(a.ticks[0]).toBe(0);
  });

  it('finds the slot a time falls in, and none outside them', () => {
    const slots = [0, 60_000, 120_000, 300_000];
    expect(slotAt(slots, 60_000, 0)).toBe(0);
    expect(slotAt(slots, 60_000, 59_999)).toBe(0);
    expect(slotAt(slots, 60_000, 60_000)).toBe(1);
    expect(slotAt(slots, 60_000, 130_000)).toBe(2);
    expect(slotAt(slots, 60_000, 200_000)).toBe(-1);
    expect(slotAt(slots, 60_000, 359_999)).toBe(3);
    expect(slotAt(slots, 60_000, -1)).toBe(-1);
    expect(slotAt([], 60_000, 0)).toBe(-1);
  });

  it('draws a slot as a column with a gap when there is room, and at least a hairline when there is not', () => {
    expect(slotColumn(60_000, 60_000, 0, 600_000, 50, 500)).toEqual({ x: 100, w: 49 });
    const thin = slotColumn(0, 60_000, 0, 60_000 * 1000, 0, 500);
    expect(thin.x).toBe(0);
    expect(thin.w).toBe(0.75);
  });
});
