import { describe, expect, it } from 'vitest';
import { areaUnder, curvePath, extentOf, linePath, nearestIndex } from './line-math';

const id = (v: number) => v;

describe('linePath', () => {
  it('joins finite points and breaks the line at a gap', () => {
    expect(linePath([0, 1, 2, 3, 4], [5, 6, NaN, 8, 9], id, id)).toBe('M0,5L1,6M3,8L4,9');
  });

  it('starts a new line after a missing x as well, and is empty without points', () => {
    expect(linePath([0, NaN, 2], [1, 1, 1], id, id)).toBe('M0,1M2,1');
    expect(linePath([], [], id, id)).toBe('');
  });

  it('applies the scales and rounds to a tenth of a pixel', () => {
    expect(linePath([1], [2], (x) => x * 10 + 0.04, (y) => 100 - y / 3)).toBe('M10,99.3');
  });
});

describe('curvePath', () => {
  it('maps the unit square with y up and clamps outside values', () => {
    expect(curvePath([0, 0.5, 1.2], [0, 0.5, 1], { left: 10, top: 0, width: 100, height: 50 })).toBe('M10,50L60,25L110,0');
  });
});

describe('extentOf', () => {
  it('covers every array and the extra values, skipping non-numbers', () => {
    expect(extentOf([[3, NaN, 5], null, [4]], [10])).toEqual([3, 10]);
    expect(extentOf([[NaN]])).toBeNull();
  });
});

describe('nearestIndex', () => {
  it('finds the nearest x, preferring the earlier one on a tie', () => {
    const xs = [0, 10, 20, 30];
    expect(nearestIndex(xs, 14)).toBe(1);
    expect(nearestIndex(xs, 15)).toBe(1);
    expect(nearestIndex(xs, 16)).toBe(2);
    expect(nearestIndex(xs, -5)).toBe(0);
    expect(nearestIndex(xs, 99)).toBe(3);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

describe('areaUnder', () => {
  it('is 0.5 under the diagonal and 1 under a perfect ROC curve', () => {
    expect(areaUnder([0, 1], [0, 1])).toBeCloseTo(0.5);
    expect(areaUnder([0, 0, 1], [0, 1, 1])).toBeCloseTo(1);
    expect(areaUnder([1, 0.5, 0], [1, 0.75, 0])).toBeCloseTo(0.625);
  });
});
