/**
 * The trend of a whole recording that "Save as dataset" draws to pick a time
 * range from: the lowest and highest value of each tag in equal time buckets
 * from the first to the last sample, so a spike shows however long the
 * recording is.
 *
 * A buffer of up to `limit` records (3 million, about 0.9 s to read) is read
 * whole. A longer one is read in evenly spaced runs of records, `limit` in
 * all, and the overview says it is `sampled`: a spike between two runs may be
 * missed there (the saved dataset still uses every value).
 */
import { bufferRecords, readBuffer, readWindows, scanBuffer, type BufferedSample } from './buffer';

/** Records read at most before the overview reads spaced runs instead (about 0.9 s of reading). */
export const OVERVIEW_READ_LIMIT = 3_000_000;
/** Runs of records per bucket when sampling, so each bucket gets several looks even where the sample rate varies. */
const RUNS_PER_BUCKET = 4;
/** Samples handled between two turns of the event loop, so a long read does not hold up the recordings running beside it. */
const YIELD_EVERY = 200_000;

export interface OverviewPoint {
  /** Start of the bucket (ms since 1970). */
  t: number;
  /** Lowest and highest good value of the tag in the bucket; null when it has none. */
  min: number | null;
  max: number | null;
}

export interface OverviewOptions {
  /** How many tags the recording has (tag indexes 0 … tags-1). */
  tags: number;
  /** Buckets per tag. */
  points: number;
  /** Only this tag index (default every tag). */
  only?: number | null;
  /** First and last sample (ms) when the caller knows them; else counted from the buffer. A sample outside goes to the nearest edge bucket. */
  span?: { first: number; last: number } | null;
  /** Records read at most before reading spaced runs (default OVERVIEW_READ_LIMIT). */
  limit?: number;
}

export interface BufferOverview {
  /** One entry per tag asked for, in tag order. */
  tags: { tag: number; points: OverviewPoint[] }[];
  sampled: boolean;
}

/**
 * Min and max per tag per time bucket of the buffer in `dir`. The buckets
 * are (last - first) / points wide, the last one closed at the last sample;
 * a recording whose samples all share one time has one bucket. Bad samples
 * and samples without a number are left out, as the saved dataset leaves them
 * out.
 */
export async function bufferOverview(dir: string, o: OverviewOptions): Promise<BufferOverview> {
  const limit = Math.max(1, Math.floor(o.limit ?? OVERVIEW_READ_LIMIT));
  const asked = o.only === null || o.only === undefined ? Array.from({ length: o.tags }, (_, i) => i) : [o.only];
  let span = o.span ?? null;
  if (!span) {
    const st = scanBuffer(dir);
    span = st.firstT === null || st.lastT === null ? null : { first: st.firstT, last: st.lastT };
  }
  if (!span || asked.length === 0) return { tags: asked.map((tag) => ({ tag, points: [] })), sampled: false };

  const { first, last } = span;
  const n = last > first ? Math.max(1, Math.floor(o.points)) : 1;
  const width = (last - first) / n;
  // Where each tag index goes in lo/hi (-1: not asked).
  const slot = new Int32Array(o.tags).fill(-1);
  asked.forEach((tag, k) => (slot[tag] = k));
  const lo = asked.map(() => new Float64Array(n).fill(Infinity));
  const hi = asked.map(() => new Float64Array(n).fill(-Infinity));

  const total = bufferRecords(dir);
  const sampled = total > limit;
  const runs = Math.min(limit, n * RUNS_PER_BUCKET);
  const batches: Iterable<BufferedSample[]> = sampled ? readWindows(dir, { windows: runs, perWindow: Math.floor(limit / runs) }) : readBuffer(dir);

  let since = 0;
  for (const batch of batches) {
    for (const s of batch) {
      const v = s.value;
      if (s.quality === 'bad' || v === null || !Number.isFinite(v) || s.tag >= o.tags) continue;
      const k = slot[s.tag]!;
      if (k < 0) continue;
      const i = width > 0 ? Math.min(n - 1, Math.max(0, Math.floor((s.t - first) / width))) : 0;
      if (v < lo[k]![i]!) lo[k]![i] = v;
      if (v > hi[k]![i]!) hi[k]![i] = v;
    }
    since += batch.length;
    if (since >= YIELD_EVERY) {
      since = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  return {
    tags: asked.map((tag, k) => ({
      tag,
      points: Array.from({ length: n }, (_, i) => {
        const min = lo[k]![i]!;
        return min === Infinity ? { t: first + i * width, min: null, max: null } : { t: first + i * width, min, max: hi[k]![i]! };
      }),
    })),
    sampled,
  };
}
