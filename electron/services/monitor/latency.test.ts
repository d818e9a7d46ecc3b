import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { rng } from '../../../bench/lib/common';
import { LAT_BASE_MS, LAT_BINS, LAT_STEP, latencyBin, latencyQuantile, mergeLatency, type LatencyBins } from './latency';

interface EdgeLatency {
  add(ms: number): void;
  quantile(q: number): number | null;
  pairs(): [number, number][];
  bins: Map<number, number>;
}
/** The edge runtime's own module (plain CommonJS), not a copy. */
const edge = createRequire(import.meta.url)('../../../resources/runtime/lib/monitor.js') as {
  Latency: new () => EdgeLatency;
  LAT_BASE_MS: number;
  LAT_STEP: number;
  LAT_BINS: number;
};

describe('latency bins on the app side', () => {
  it('use the edge runtime’s constants', () => {
    expect([LAT_BASE_MS, LAT_STEP, LAT_BINS]).toEqual([edge.LAT_BASE_MS, edge.LAT_STEP, edge.LAT_BINS]);
  });

  it('give over several buckets the quantiles the edge gives counting them in one', () => {
    const u = rng(5);
    for (const spread of [0.3, 2, 6]) {
      const whole = new edge.Latency();
      const buckets = Array.from({ length: 7 }, () => new edge.Latency());
      for (let i = 0; i < 5000; i++) {
        // Log-normal latencies from about 1 µs to seconds, with a slow tail.
        const ms = Math.exp(Math.log(2) + spread * (u() + u() + u() - 1.5)) * (u() < 0.02 ? 40 : 1);
        whole.add(ms);
        buckets[Math.floor(u() * buckets.length)]!.add(ms);
        expect(latencyBin(ms)).toBe([...bucketOf(ms)][0]);
      }
      const merged = mergeLatency(...buckets.map((b) => b.pairs() as LatencyBins));
      expect(merged).toEqual(whole.bins);
      for (const q of [0.01, 0.5, 0.9, 0.99, 0.999, 1]) expect(latencyQuantile(merged, q), `q ${q}, spread ${spread}`).toBe(whole.quantile(q));
      // Each bucket alone, from its pairs as the admin API sends them.
      for (const b of buckets) expect(latencyQuantile(b.pairs(), 0.99)).toBe(b.quantile(0.99));
    }
    expect(latencyQuantile([], 0.5)).toBeNull();
    expect(mergeLatency([[3, 2], [-1, 5], [LAT_BINS, 1], [4, 0], [2.5, 1]], undefined)).toEqual(new Map([[3, 2]]));
  });
});

/** The edge's bin for one latency: what a fresh Latency holds after adding it. */
function bucketOf(ms: number): Iterable<number> {
  const l = new edge.Latency();
  l.add(ms);
  return l.bins.keys();
}
