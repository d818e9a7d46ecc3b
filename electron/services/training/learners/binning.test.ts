import { describe, expect, it } from 'vitest';
import { applyBins, findEdges, fitBins, MISSING_BIN } from './binning';

describe('binning', () => {
  it('puts each distinct value in its own bin when there are few, with float32 midpoints', () => {
    const col = Float64Array.from([3, 1, 2, 2, NaN, 1]);
    const b = fitBins({ rows: 6, columns: [col], names: ['a'] });
    expect(Array.from(b.thresholds[0]!)).toEqual([1.5, 2.5]);
    expect(Array.from(b.codes[0]!)).toEqual([2, 0, 1, 1, MISSING_BIN, 0]);
    expect(b.hasMissing).toEqual([true]);
    expect(b.binCounts).toEqual([3]);
  });

  it('uses at most 255 bins, roughly equal in size, for continuous values', () => {
    const n = 100_000;
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = Math.sin(i * 12.9898) * 43758.5453 % 1;
    const edges = findEdges(col, { sampleRows: 50_000 });
    expect(edges.length).toBe(254);
    for (let k = 1; k < edges.length; k++) expect(edges[k]!).toBeGreaterThan(edges[k - 1]!);
    for (const e of edges) expect(Math.fround(e)).toBe(e);
    const codes = applyBins({ rows: n, columns: [col], names: ['a'] }, [edges]).codes[0]!;
    const counts = new Array<number>(255).fill(0);
    for (const c of codes) counts[c]!++;
    expect(Math.min(...counts)).toBeGreaterThan(n / 255 / 2);
    expect(Math.max(...counts)).toBeLessThan((n / 255) * 2);
  });

  it('codes a value exactly on an edge into the lower bin, as a tree compares x <= threshold', () => {
    const edges = Float64Array.from([0.5, 1.5]);
    const codes = applyBins({ rows: 4, columns: [Float64Array.from([0.5, 0.50001, 1.5, 9])], names: ['a'] }, [edges]).codes[0]!;
    expect(Array.from(codes)).toEqual([0, 1, 1, 2]);
  });
});
