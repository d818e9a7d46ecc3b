/**
 * The edge's latency histogram on the app side (resources/runtime/lib/
 * monitor.js, class Latency): each bucket sends its bins as [bin, count]
 * pairs, and p50/p99 over any run of buckets are taken from their merged bins
 * exactly as the edge takes them from one bucket's, so a window's figure is
 * the one the edge would give had it counted the window in one bucket.
 */

/** Bin 0 holds every latency up to 1 µs. */
export const LAT_BASE_MS = 0.001;
/** Each further bin is 2% wider than the one before. */
export const LAT_STEP = Math.log(1.02);
export const LAT_BINS = 1100;

/** A latency histogram: [bin, count] pairs. */
export type LatencyBins = readonly (readonly [number, number])[];

/** The bin a latency in milliseconds falls in (as the edge's Latency.add). */
export function latencyBin(ms: number): number {
  return ms <= LAT_BASE_MS ? 0 : Math.min(LAT_BINS - 1, Math.floor(Math.log(ms / LAT_BASE_MS) / LAT_STEP) + 1);
}

/** The latency a bin stands for: its middle on the log scale, rounded to 1 ns (bin 0: 1 µs). */
export function binLatencyMs(bin: number): number {
  return bin === 0 ? LAT_BASE_MS : Math.round(LAT_BASE_MS * Math.exp((bin - 0.5) * LAT_STEP) * 1000) / 1000;
}

/** Adds histograms bin by bin; pairs out of range or with no positive count are left out (as the edge's Latency.from). */
export function mergeLatency(...parts: (LatencyBins | undefined)[]): Map<number, number> {
  const into = new Map<number, number>();
  for (const part of parts) {
    if (!Array.isArray(part)) continue;
    for (const pair of part) {
      if (!Array.isArray(pair)) continue;
      const [b, n] = pair;
      if (Number.isInteger(b) && b >= 0 && b < LAT_BINS && Number.isFinite(n) && n > 0) into.set(b, (into.get(b) ?? 0) + n);
    }
  }
  return into;
}

/** The q-quantile in milliseconds of a histogram (the middle of the bin holding rank ⌈q·count⌉), null when empty: the edge's Latency.quantile. */
export function latencyQuantile(bins: ReadonlyMap<number, number> | LatencyBins, q: number): number | null {
  const map = bins instanceof Map ? bins : mergeLatency(bins as LatencyBins);
  let count = 0;
  for (const n of map.values()) count += n;
  if (!count) return null;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (const b of [...map.keys()].sort((x, y) => x - y)) {
    seen += map.get(b)!;
    if (seen >= rank) return binLatencyMs(b);
  }
  return null;
}
