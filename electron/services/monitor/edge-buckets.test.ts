import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { binColumn, mergeBinCounts, type BinCounts } from './drift';
import type { NumericProfile } from '../deploy/profile';

interface Closed { features: Record<string, BinCounts>; latencyMs: { count: number; bins: [number, number][] } }
/** The edge runtime's own bucket module (plain CommonJS). */
const { Monitor } = createRequire(import.meta.url)('../../../resources/runtime/lib/monitor.js') as {
  Monitor: new (log: { add(b: Closed): void }, onChange?: () => void, now?: () => number) => {
    rows(model: object, cols: unknown[], n: number, labels: Map<string, number>, anomalies: number): void;
    request(route: string, status: number, seconds: number, model: object): void;
    closeAll(t?: number): void;
    load(saved: unknown): void;
    toJSON(): unknown;
  };
};

const profile: NumericProfile = { name: 'Flow', kind: 'numeric', edges: [1, 2.5, 4], counts: [1, 1, 1, 1], missing: 0 };
/** 0.1 and 0.3 are not float32 numbers: a float32 value equal to the rounded edge belongs below it, at the edge and in binColumn. */
const tenths: NumericProfile = { name: 'Gap', kind: 'numeric', edges: [0.1, 0.3], counts: [1, 1, 1], missing: 0 };
const model = { name: 'm', version: '1', manifest: { profile: { inputs: [profile] } }, inputs: [{ name: 'Flow', type: 'float32' }] };
const twoInputs = { name: 'm', version: '1', manifest: { profile: { inputs: [profile, tenths] } }, inputs: [{ name: 'Flow', type: 'float32' }, { name: 'Gap', type: 'float32' }] };

describe('edge buckets as the app reads them', () => {
  it('sum the finite float32 values per bin, as binColumn does on the same values; latency goes with its bins', () => {
    const closed: Closed[] = [];
    const t = 1_700_000_000_000;
    const m = new Monitor({ add: (b) => closed.push(b) }, undefined, () => t);
    const values = Float32Array.from([0.5, 1, 1.25, 2.5, 3.3, 4, 9.75, Infinity, -Infinity, NaN, 2.6]);
    const gaps = Float32Array.from([0.1, 0.1, 0.2, 0.3, 0.30000001, 0.5, 0.05, 0.3, 0.3, 0.1, 0.7]);
    m.rows(twoInputs, [values, gaps], values.length, new Map([['value', values.length]]), 0);
    m.request('/predict', 200, 0.004, model);
    m.request('/predict', 200, 0.0021, model);
    m.closeAll(t);
    expect(closed).toHaveLength(1);
    expect(closed[0]!.features.Flow).toEqual(binColumn(profile, values));
    expect(closed[0]!.features.Flow!.sums).toEqual([0.5 + 1, 1.25 + 2.5, Math.fround(3.3) + 4 + Math.fround(2.6), 9.75]);
    expect(closed[0]!.features.Gap).toEqual(binColumn(tenths, gaps));
    expect(closed[0]!.features.Gap!.counts).toEqual([4, 5, 2]);
    expect(binColumn(tenths, Float64Array.from(gaps)).counts, 'compared in float64, the values on the edges move up').not.toEqual([4, 5, 2]);
    expect(closed[0]!.latencyMs.count).toBe(2);
    expect(closed[0]!.latencyMs.bins.map(([, n]) => n)).toEqual([1, 1]);
  });

  it('continue an open bucket saved before sums existed without sums (part sums would misplace the mean); the next bucket has them', () => {
    const closed: Closed[] = [];
    let t = 1_700_000_000_000;
    const m = new Monitor({ add: (b) => closed.push(b) }, undefined, () => t);
    m.load({ lastClosed: 0, open: [{ from: t - 1000, until: t + 59_000, name: 'm', version: '1', requests: 1, errors: 0, rows: 2, predictions: { value: 2 }, anomalies: 0, latency: { bins: [[400, 1]], count: 1, sum: 3 }, features: { Flow: { counts: [1, 1, 0, 0], missing: 0 } } }] });
    m.rows(model, [Float32Array.from([3, 5])], 2, new Map([['value', 2]]), 0);
    m.closeAll(t);
    expect(closed[0]!.features.Flow).toEqual({ counts: [1, 1, 1, 1], missing: 0 });
    expect(closed[0]!.latencyMs.bins).toEqual([[400, 1]]);
    t += 1000;
    m.rows(model, [Float32Array.from([3, 5])], 2, new Map([['value', 2]]), 0);
    m.closeAll(t);
    expect(closed[1]!.features.Flow).toEqual({ counts: [0, 0, 1, 1], missing: 0, sums: [0, 0, 3, 5] });
    // Over both, the app keeps the counts and drops the sums.
    expect(mergeBinCounts(mergeBinCounts(undefined, closed[0]!.features.Flow!), closed[1]!.features.Flow!)).toEqual({ counts: [1, 1, 2, 2], missing: 0 });
    // Saved and loaded again, an open bucket keeps its sums.
    m.rows(model, [Float32Array.from([0.25])], 1, new Map([['value', 1]]), 0);
    const again = new Monitor({ add: (b) => closed.push(b) }, undefined, () => t);
    again.load(JSON.parse(JSON.stringify(m.toJSON())));
    again.closeAll(t);
    expect(closed[2]!.features.Flow).toEqual({ counts: [1, 0, 0, 0], missing: 0, sums: [0.25, 0, 0, 0] });
  });
});
