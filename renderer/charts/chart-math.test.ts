import { describe, expect, it } from 'vitest';
import { minMaxDownsample } from '../../shared/downsample';
import {
  binAt,
  bucketNear,
  chartKeyAction,
  clampRange,
  formatMinMax,
  formatNumber,
  formatTick,
  histogramExtent,
  isValidHistogram,
  layoutLanes,
  paddedDomain,
  safeTimeZone,
  panBy,
  pxToTime,
  selectionRange,
  seriesColor,
  shares,
  timeToPx,
  valueAxis,
  valueToPx,
  visibleExtent,
  visibleIndexRange,
  wheelZoomFactor,
  zoomAround,
} from './chart-math';

const FULL: [number, number] = [0, 1_000_000];

describe('scales', () => {
  it('maps time to pixels and back', () => {
    expect(timeToPx(250, 0, 1000, 400)).toBe(100);
    expect(pxToTime(100, 0, 1000, 400)).toBe(250);
    for (const px of [0, 13.5, 399]) expect(timeToPx(pxToTime(px, 1e12, 1e12 + 36e5, 400), 1e12, 1e12 + 36e5, 400)).toBeCloseTo(px, 6);
  });

  it('maps values upward from the bottom of a lane', () => {
    expect(valueToPx(10, 0, 10, 20, 100)).toBe(20);
    expect(valueToPx(0, 0, 10, 20, 100)).toBe(120);
    expect(valueToPx(5, 0, 10, 20, 100)).toBe(70);
  });

  it('pads a value domain and centres a flat line', () => {
    expect(paddedDomain(0, 100)).toEqual([-6, 106]);
    expect(paddedDomain(20, 20)).toEqual([19, 21]);
    expect(paddedDomain(0, 0)).toEqual([-1, 1]);
    expect(paddedDomain(Infinity, -Infinity)).toBeNull();
    const axis = valueAxis(-6, 106, 5);
    expect(axis.ticks).toEqual([0, 50, 100]);
    expect(axis.step).toBe(50);
  });
});

describe('range changes', () => {
  it('zooms around the cursor, keeping the time under it in place', () => {
    const [a, b] = zoomAround(100_000, 300_000, 150_000, 0.5, FULL, 1000);
    expect(b - a).toBe(100_000);
    // The anchor was a quarter of the way in; it still is.
    expect((150_000 - a) / (b - a)).toBeCloseTo(0.25);
    const [c, d] = zoomAround(a, b, 150_000, 2, FULL, 1000);
    expect([c, d]).toEqual([100_000, 300_000]);
  });

  it('never zooms out past the full range or in past the narrowest span', () => {
    expect(zoomAround(0, 900_000, 450_000, 4, FULL, 1000)).toEqual(FULL);
    const [a, b] = zoomAround(500_000, 502_000, 501_000, 0.01, FULL, 1000);
    expect(b - a).toBe(1000);
    expect(a).toBe(500_500);
    // A full range shorter than the narrowest span: all of it.
    expect(zoomAround(0, 10, 5, 0.1, [0, 10], 1000)).toEqual([0, 10]);
  });

  it('shifts a range back inside the full range', () => {
    expect(clampRange(-500, 1500, FULL, 100)).toEqual([0, 2000]);
    expect(clampRange(999_500, 1_000_500, FULL, 100)).toEqual([999_000, 1_000_000]);
    expect(clampRange(-5, 2_000_000, FULL, 100)).toEqual(FULL);
    expect(clampRange(500, 510, FULL, 100)).toEqual([455, 555]);
  });

  it('pans without changing the width and stops at the ends', () => {
    expect(panBy(100, 200, 50, FULL)).toEqual([150, 250]);
    expect(panBy(100, 200, -500, FULL)).toEqual([0, 100]);
    expect(panBy(999_800, 999_900, 500, FULL)).toEqual([999_900, 1_000_000]);
    expect(panBy(0, 1_000_000, 500, FULL)).toEqual(FULL);
  });

  it('turns a drag into a range, and a click into nothing', () => {
    expect(selectionRange(100, 300, 0, 1000, 1000, [0, 1000], 10)).toEqual([100, 300]);
    expect(selectionRange(300, 100, 0, 1000, 1000, [0, 1000], 10)).toEqual([100, 300]);
    expect(selectionRange(100, 102, 0, 1000, 1000, [0, 1000], 10)).toBeNull();
    // Dragged past the plot's edge: clipped to it.
    expect(selectionRange(-50, 200, 0, 1000, 1000, [0, 1000], 10)).toEqual([0, 200]);
    // Narrower than the narrowest span: widened around its middle.
    expect(selectionRange(100, 110, 0, 1000, 1000, [0, 1000], 50)).toEqual([80, 130]);
  });

  it('zooms in on wheel up and out on wheel down, within bounds', () => {
    expect(wheelZoomFactor(-100, 0)).toBeLessThan(1);
    expect(wheelZoomFactor(100, 0)).toBeGreaterThan(1);
    expect(wheelZoomFactor(3, 1)).toBeCloseTo(wheelZoomFactor(48, 0));
    expect(wheelZoomFactor(100_000, 0)).toBe(4);
    expect(wheelZoomFactor(-100_000, 0)).toBe(0.25);
  });

  it('maps keys to pan, zoom and reset', () => {
    expect(chartKeyAction('ArrowLeft', false)).toEqual({ kind: 'pan', fraction: -0.1 });
    expect(chartKeyAction('ArrowRight', true)).toEqual({ kind: 'pan', fraction: 0.5 });
    expect(chartKeyAction('+', false)).toEqual({ kind: 'zoom', factor: 0.5 });
    expect(chartKeyAction('=', false)).toEqual({ kind: 'zoom', factor: 0.5 });
    expect(chartKeyAction('-', false)).toEqual({ kind: 'zoom', factor: 2 });
    expect(chartKeyAction('Home', false)).toEqual({ kind: 'reset' });
    expect(chartKeyAction('a', false)).toBeNull();
  });
});

describe('series in view', () => {
  const x = Float64Array.from({ length: 1000 }, (_, i) => i * 10);
  const y = Float64Array.from({ length: 1000 }, (_, i) => (i >= 400 && i < 420 ? NaN : i));
  const s = minMaxDownsample(x, y, 0, 10_000, 100); // 100 ms buckets

  it('finds the buckets overlapping a window, with one spare each side', () => {
    expect(visibleIndexRange(s, 2000, 3000, 100)).toEqual([19, 32]);
    expect(visibleIndexRange(s, -5000, 20_000, 100)).toEqual([0, s.x.length]);
    expect(visibleIndexRange(s, 20_000, 30_000, 100)).toEqual([s.x.length - 1, s.x.length]);
  });

  it('measures the extent of what is in view only', () => {
    expect(visibleExtent(s, 2000, 3000, 100)).toEqual([200, 309]);
    expect(visibleExtent(s, 20_000, 30_000, 100)).toBeNull();
  });

  it('finds the bucket under the cursor, or the nearest within a tolerance', () => {
    expect(s.x[bucketNear(s, 2050, 100, 0)]).toBe(2000);
    // 4000..4200 is a NaN gap; bucket 4100 is missing.
    expect(bucketNear(s, 4150, 100, 0)).toBe(-1);
    expect(s.x[bucketNear(s, 4190, 100, 20)]).toBe(4200);
    expect(bucketNear(s, -10, 100, 5)).toBe(-1);
    expect(bucketNear({ x: [], min: [], max: [], first: [], last: [], breakBefore: [] }, 5, 1, 1)).toBe(-1);
  });
});

describe('layout', () => {
  it('stacks equal lanes above the time axis', () => {
    const lanes = layoutLanes(400, 3, 28, 8);
    expect(lanes).toHaveLength(3);
    expect(lanes[0]).toEqual({ top: 0, height: (400 - 28 - 16) / 3 });
    expect(lanes[2]!.top + lanes[2]!.height).toBeCloseTo(400 - 28);
    expect(lanes[1]!.top).toBeCloseTo(lanes[0]!.height + 8);
    expect(layoutLanes(400, 0, 28, 8)).toEqual([]);
  });
});

describe('numbers', () => {
  it('writes ticks with the decimals their step needs', () => {
    expect(formatTick(0.5, 0.5, 'en-US')).toBe('0.5');
    expect(formatTick(1500, 500, 'en-US')).toBe('1,500');
    expect(formatTick(1500, 500, 'de-DE')).toBe('1.500');
    expect(formatTick(0.25, 0.05, 'de-DE')).toBe('0,25');
    expect(formatNumber(-0.0001, 2, 'en-US')).toBe('0.00');
    expect(formatNumber(NaN, 2, 'en-US')).toBe('–');
  });

  it('writes a min–max readout one decimal finer than the axis, with the unit', () => {
    expect(formatMinMax(12.31, 12.94, 1, '°C', 'en-US')).toBe('12.3–12.9 °C');
    expect(formatMinMax(12.31, 12.33, 1, '°C', 'en-US')).toBe('12.3 °C');
    expect(formatMinMax(5, 7, 1, null, 'en-US')).toBe('5.0–7.0');
  });

  it('falls back to the system zone for an unknown zone name', () => {
    expect(safeTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(safeTimeZone('Mars/Olympus')).toBeUndefined();
    expect(safeTimeZone(undefined)).toBeUndefined();
  });

  it('picks series colours: own, theme, fallback', () => {
    expect(seriesColor(0, '#123456', ['#aaa'])).toBe('#123456');
    expect(seriesColor(3, undefined, ['#a', '#b'])).toBe('#b');
    expect(seriesColor(1, undefined, [])).toMatch(/^#/);
  });
});

describe('histogram helpers', () => {
  const h = { edges: [0, 10, 20, 30], counts: [5, 15, 0] };

  it('checks the shape', () => {
    expect(isValidHistogram(h)).toBe(true);
    expect(isValidHistogram({ edges: [0, 1], counts: [1, 2] })).toBe(false);
    expect(isValidHistogram({ edges: [0, 2, 1], counts: [1, 2] })).toBe(false);
    expect(isValidHistogram({ edges: [], counts: [] })).toBe(false);
  });

  it('finds the bin of a value, closing the last bin on the right', () => {
    expect(binAt(h.edges, 0)).toBe(0);
    expect(binAt(h.edges, 10)).toBe(1);
    expect(binAt(h.edges, 29.9)).toBe(2);
    expect(binAt(h.edges, 30)).toBe(2);
    expect(binAt(h.edges, 31)).toBe(-1);
    expect(binAt(h.edges, -1)).toBe(-1);
  });

  it('turns counts into shares and covers both histograms', () => {
    expect(shares([1, 3])).toEqual([0.25, 0.75]);
    expect(shares([0, 0])).toEqual([0, 0]);
    expect(histogramExtent(h, { edges: [-5, 5], counts: [1] })).toEqual([-5, 30]);
    expect(histogramExtent({ edges: [3, 3], counts: [1] })).toEqual([2.5, 3.5]);
  });
});
