import { describe, expect, it } from 'vitest';
import type { InputProfile } from '../deploy/profile';
import type { EdgeBinCounts } from '../deploy/client';
import { latencyBin } from './latency';
import type { StoredBucket } from './store';
import { binLabels, heatmap, latencyOf, series, slotStarts } from './windows';

/** Windows over stored buckets: slots, series, latency over merged histograms, bin labels in words. */

const T0 = Date.parse('2026-03-02T10:00:00.000Z');

function bucket(fromMs: number, b: Partial<Omit<StoredBucket, 'features'>> & { features?: Record<string, EdgeBinCounts> } = {}): StoredBucket {
  const { features = {}, ...rest } = b;
  return { seq: 1, from: fromMs, to: fromMs + 60_000, model: 'm', version: '1', requests: 0, errors: 0, rows: 0, anomalies: 0, predictions: {}, latency: { count: 0, sum: 0, p50: null, p99: null }, ...rest, features: () => features };
}

/** A latency histogram of these values, as the edge sends it. */
function bins(values: number[]): [number, number][] {
  const m = new Map<number, number>();
  for (const v of values) m.set(latencyBin(v), (m.get(latencyBin(v)) ?? 0) + 1);
  return [...m];
}

describe('slots', () => {
  it('end at the slot holding now, aligned to the slot width', () => {
    const now = T0 + 17 * 60_000 + 5_000;
    const hour = slotStarts('hour', now);
    expect(hour).toHaveLength(60);
    expect(new Date(hour.at(-1)!).toISOString()).toBe('2026-03-02T10:17:00.000Z');
    expect(new Date(hour[0]!).toISOString()).toBe('2026-03-02T09:18:00.000Z');
    const day = slotStarts('day', now);
    expect(day).toHaveLength(96);
    expect(new Date(day.at(-1)!).toISOString()).toBe('2026-03-02T10:15:00.000Z');
    const week = slotStarts('week', now);
    expect(week).toHaveLength(168);
    expect(new Date(week.at(-1)!).toISOString()).toBe('2026-03-02T10:00:00.000Z');
  });

  it('sum the buckets that start in them, with p50/p99 over the merged histograms', () => {
    const now = T0 + 30 * 60_000;
    const a = [1, 2, 3, 4, 100];
    const b = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
    const s = series('day', now, [
      bucket(T0 - 16 * 60_000, { requests: 99 }), // the slot 9:30, inside the day
      bucket(T0, { requests: 5, errors: 1, rows: 9, anomalies: 2, latency: { count: 5, sum: 110, p50: 3, p99: 100, bins: bins(a) } }),
      bucket(T0 + 60_000, { requests: 10, rows: 10, latency: { count: 10, sum: 95, p50: 9, p99: 14, bins: bins(b) } }),
      bucket(T0 + 20 * 60_000, { requests: 1 }),
    ]);
    const at = (iso: string) => s.find((p) => p.at === iso)!;
    expect(at('2026-03-02T10:00:00.000Z')).toEqual(expect.objectContaining({ requests: 15, errors: 1, rows: 19, anomalies: 2 }));
    expect(at('2026-03-02T09:30:00.000Z').requests).toBe(99);
    expect(at('2026-03-02T10:15:00.000Z')).toEqual(expect.objectContaining({ requests: 1, latencyP50Ms: null, latencyP99Ms: null }));
    // Over the 15 requests: the 8th smallest is 8 ms, the 15th is 100 ms (each within the histogram's 2%).
    expect(at('2026-03-02T10:00:00.000Z').latencyP50Ms! / 8).toBeCloseTo(1, 1);
    expect(at('2026-03-02T10:00:00.000Z').latencyP99Ms! / 100).toBeCloseTo(1, 1);
    expect(s.reduce((n, p) => n + p.requests, 0)).toBe(115);
  });

  it('without histograms (an older edge), latency falls back to the buckets\' own figures', () => {
    const r = latencyOf([bucket(T0, { latency: { count: 10, sum: 30, p50: 3, p99: 9 } }), bucket(T0, { latency: { count: 30, sum: 150, p50: 5, p99: 20 } })]);
    expect(r).toEqual({ p50: 5, p99: 20 });
    expect(latencyOf([bucket(T0)])).toEqual({ p50: null, p99: null });
  });
});

describe('bin labels', () => {
  it('say each numeric bin in words, with enough digits to tell neighbours apart', () => {
    const ref: InputProfile = { name: 'T', kind: 'numeric', edges: [18.2, 20.5123, 20.5456, 30.1], counts: [1, 1, 1, 1, 1], missing: 0 };
    expect(binLabels(ref)).toEqual(['≤ 18.2', '18.2 – 20.51', '20.51 – 20.55', '20.55 – 30.1', '> 30.1']);
    expect(binLabels({ name: 'T', kind: 'numeric', edges: [], counts: [0], missing: 4 })).toEqual(['any value']);
  });

  it('name categories, then (other)', () => {
    expect(binLabels({ name: 'Line', kind: 'category', categories: ['A', 'B'], counts: [3, 2, 1], missing: 0 })).toEqual(['A', 'B', '(other)']);
  });
});

describe('the heat map', () => {
  it('has a row per input and a column per slot; slots without rows are unknown', async () => {
    const ref: InputProfile = { name: 'Flow', kind: 'numeric', edges: [10, 20, 30], counts: [250, 250, 250, 250], missing: 0 };
    const lookup = { ok: true as const, value: { versionId: 1, model: 'm', version: 1, profile: { rows: 1000, anomalyRate: null, inputs: [ref] }, ranks: new Map([['Flow', 1]]) } };
    const now = T0 + 5 * 60_000;
    const same = bucket(T0 + 60_000, { rows: 400, features: { Flow: { counts: [100, 100, 100, 100], missing: 0 } } });
    const moved = bucket(T0 + 2 * 60_000, { rows: 400, features: { Flow: { counts: [0, 0, 0, 400], missing: 0 } } });
    const h = await heatmap('hour', now, [same, moved], lookup);
    expect(h.inputs).toEqual(['Flow']);
    expect(h.slots).toHaveLength(60);
    const i = h.slots.indexOf('2026-03-02T10:01:00.000Z');
    expect(h.psi[0]![i]).toBeCloseTo(0, 12);
    expect(h.verdicts[0]![i]).toBe('stable');
    expect(h.psi[0]![i + 1]).toBeGreaterThan(1);
    expect(h.verdicts[0]![i + 1]).toBe('changed');
    expect(h.psi[0]![i - 1]).toBeNull();
    expect(h.verdicts[0]![i - 1]).toBe('unknown');
  });

  it('shows a change only at p < 0.05 as watch, not red, and a slot of fewer than 30 rows as unknown', async () => {
    const ref: InputProfile = { name: 'Flow', kind: 'numeric', edges: [10, 20, 30], counts: [250, 250, 250, 250], missing: 0 };
    const lookup = { ok: true as const, value: { versionId: 1, model: 'm', version: 1, profile: { rows: 1000, anomalyRate: null, inputs: [ref] }, ranks: new Map([['Flow', 1]]) } };
    // Chi-squared p ≈ 0.026 (the input alone: 'changed'), above 0.01 / 1 input.
    const slight = bucket(T0 + 60_000, { rows: 400, features: { Flow: { counts: [130, 100, 86, 84], missing: 0 } } });
    const few = bucket(T0 + 2 * 60_000, { rows: 29, features: { Flow: { counts: [0, 0, 0, 29], missing: 0 } } });
    const h = await heatmap('hour', T0 + 5 * 60_000, [slight, few], lookup);
    const i = h.slots.indexOf('2026-03-02T10:01:00.000Z');
    expect(h.verdicts[0]![i]).toBe('watch');
    expect(h.verdicts[0]![i + 1]).toBe('unknown');
  });
});
