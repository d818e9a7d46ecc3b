import { WINDOW_MS, type Drift, type DriftVerdict, type EndpointDashboard, type Health, type InputHistogram, type MonitorPoint, type MonitorWindow } from '../../../shared/monitor';
import type { InputProfile } from '../deploy/profile';
import type { EndpointRecord, Served } from '../deploy/endpoints';
import { inputDrift, mergeBinCounts, modelVerdict, predictionDrift, slotVerdict, type BinCounts } from './drift';
import { latencyQuantile, mergeLatency } from './latency';
import type { ProfileLookup, VersionProfile } from './profiles';
import type { PollState, StoredBucket } from './store';

/**
 * What the stored buckets say over a window ending now: health, drift of
 * the inputs against the training profile, the series of time slots, the
 * heat map of inputs by slot, and one input's histogram.
 */

/**
 * p50 and p99 of the requests in some buckets, from their merged latency
 * histograms (latency.ts), exactly as the edge would give them for one
 * bucket. Buckets from an edge that sends no histogram give only their own
 * p50/p99: then the p50 of the bucket holding the middle request and the
 * highest p99 stand in.
 */
export function latencyOf(buckets: StoredBucket[]): { p50: number | null; p99: number | null } {
  const withCount = buckets.filter((b) => (b.latency?.count ?? 0) > 0);
  if (!withCount.length) return { p50: null, p99: null };
  if (withCount.every((b) => Array.isArray(b.latency.bins))) {
    const merged = mergeLatency(...withCount.map((b) => b.latency.bins));
    return { p50: latencyQuantile(merged, 0.5), p99: latencyQuantile(merged, 0.99) };
  }
  const sorted = [...withCount].sort((a, b) => (a.latency.p50 ?? 0) - (b.latency.p50 ?? 0));
  const total = sorted.reduce((n, b) => n + b.latency.count, 0);
  let seen = 0;
  let p50: number | null = null;
  for (const b of sorted) {
    seen += b.latency.count;
    if (seen * 2 >= total) {
      p50 = b.latency.p50;
      break;
    }
  }
  return { p50, p99: Math.max(...withCount.map((b) => b.latency.p99 ?? 0)) };
}

/** Slot width and count per window: a minute for the hour, 15 minutes for the day, an hour for the week. */
export const SLOTS: Record<MonitorWindow, { ms: number; count: number }> = {
  hour: { ms: 60_000, count: 60 },
  day: { ms: 15 * 60_000, count: 96 },
  week: { ms: 3_600_000, count: 168 },
};

/**
 * The span a window covers, ending now: the last hour to the minute; a day
 * or a week from the start of its first slot, so its totals are its slots'
 * (they are read from quarter-hour rows, see store.ts).
 */
export function windowRange(window: MonitorWindow, now: number): { from: Date; to: Date } {
  return { from: new Date(window === 'hour' ? now - WINDOW_MS.hour : slotStarts(window, now)[0]!), to: new Date(now) };
}

/** The buckets of the model version an endpoint serves now: only they count for drift. */
export function ofServed(buckets: StoredBucket[], served: Served | null): StoredBucket[] {
  if (!served) return [];
  const version = String(served.version);
  return buckets.filter((b) => b.model === served.name && b.version === version);
}

export function health(e: EndpointRecord, poll: PollState | null, buckets: StoredBucket[]): Health {
  let requests = 0, errors = 0, anomalies = 0;
  for (const b of buckets) {
    requests += b.requests;
    errors += b.errors;
    anomalies += b.anomalies;
  }
  const lat = latencyOf(buckets);
  const failing = e.status !== 'up' && e.status !== 'stopped' && (poll?.failures ?? 0) > 0;
  return {
    reachable: e.status === 'up',
    lastContact: e.lastContact,
    noContactSince: failing ? (e.lastContact ?? poll?.downSince ?? null) : null,
    lastError: e.lastError,
    model: e.model,
    requests,
    errors,
    errorRate: requests ? errors / requests : null,
    latencyP50Ms: lat.p50,
    latencyP99Ms: lat.p99,
    anomalies,
    nextContact: poll?.next ?? null,
  };
}

/** Every input's counts summed over buckets. */
export function mergedFeatures(buckets: StoredBucket[]): Map<string, BinCounts> {
  const out = new Map<string, BinCounts>();
  for (const b of buckets) {
    for (const [name, f] of Object.entries(b.features())) out.set(name, mergeBinCounts(out.get(name), f));
  }
  return out;
}

function sumLabels(buckets: StoredBucket[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of buckets) for (const [label, n] of Object.entries(b.predictions)) out[label] = (out[label] ?? 0) + n;
  return out;
}

/** The profile's spread of predictions on the training rows, where the profile has one. */
export function trainingPredictions(lookup: ProfileLookup | null): Record<string, number> | null {
  if (!lookup?.ok) return null;
  return (lookup.value.profile as { predictions?: Record<string, number> | null }).predictions ?? null;
}

/** Drift over a window from the buckets of the version served (see ofServed). */
export function drift(window: MonitorWindow, range: { from: Date; to: Date }, served: StoredBucket[], lookup: ProfileLookup | null, model: Served | null): Drift {
  const rows = served.reduce((n, b) => n + b.rows, 0);
  const live = sumLabels(served);
  const base = { window, from: range.from.toISOString(), to: range.to.toISOString(), rows, liveAccuracy: null };
  if (!lookup?.ok) {
    const reason = !model ? 'The endpoint has not said which model it serves yet.' : lookup ? lookup.reason : 'The workspace has no admin token for this endpoint, so its monitoring data cannot be read; add it again with its admin token to see drift.';
    return { ...base, verdict: 'unknown', reason, inputs: [], predictions: { training: null, window: live, distance: null, verdict: 'unknown' } };
  }
  const { profile, ranks } = lookup.value;
  const merged = mergedFeatures(served);
  const inputs = profile.inputs.map((ref) => inputDrift(ref, profile.rows, merged.get(ref.name), ranks.get(ref.name) ?? null));
  const verdict = modelVerdict(inputs, rows);
  return { ...base, verdict: verdict.verdict, reason: verdict.reason, inputs, predictions: predictionDrift(trainingPredictions(lookup), live) };
}

/** Slot starts of a window ending now, oldest first, aligned to the slot width. */
export function slotStarts(window: MonitorWindow, now: number): number[] {
  const { ms, count } = SLOTS[window];
  const last = Math.floor(now / ms) * ms;
  return Array.from({ length: count }, (_, i) => last - (count - 1 - i) * ms);
}

/** The buckets of each slot (by the bucket's start). */
function bySlot(window: MonitorWindow, starts: number[], buckets: StoredBucket[]): StoredBucket[][] {
  const { ms } = SLOTS[window];
  const first = starts[0]!;
  const out = starts.map((): StoredBucket[] => []);
  for (const b of buckets) {
    const i = Math.floor((b.from - first) / ms);
    if (i >= 0 && i < out.length) out[i]!.push(b);
  }
  return out;
}

export function series(window: MonitorWindow, now: number, buckets: StoredBucket[]): MonitorPoint[] {
  const starts = slotStarts(window, now);
  return bySlot(window, starts, buckets).map((bs, i) => {
    const lat = latencyOf(bs);
    let requests = 0, errors = 0, rows = 0, anomalies = 0;
    for (const b of bs) {
      requests += b.requests;
      errors += b.errors;
      rows += b.rows;
      anomalies += b.anomalies;
    }
    return { at: new Date(starts[i]!).toISOString(), requests, errors, rows, anomalies, latencyP50Ms: lat.p50, latencyP99Ms: lat.p99 };
  });
}

/**
 * The heat map, a row per input; `between` runs after each row (the service
 * lets other calls through there: a week of 168 slots × 20 inputs is many
 * tests).
 */
export async function heatmap(window: MonitorWindow, now: number, served: StoredBucket[], lookup: ProfileLookup | null, between: () => Promise<void> = async () => undefined): Promise<EndpointDashboard['heatmap']> {
  const starts = slotStarts(window, now);
  const slots = starts.map((t) => new Date(t).toISOString());
  if (!lookup?.ok) return { inputs: [], slots, psi: [], verdicts: [] };
  const { profile, ranks } = lookup.value;
  const perSlot = bySlot(window, starts, served).map(mergedFeatures);
  const psi: (number | null)[][] = [];
  const verdicts: DriftVerdict[][] = [];
  for (const ref of profile.inputs) {
    const row = perSlot.map((m) => (m.size ? inputDrift(ref, profile.rows, m.get(ref.name), ranks.get(ref.name) ?? null) : null));
    psi.push(row.map((d) => d?.psi ?? null));
    // Red only for a change that would count for the model (see slotVerdict): a map of inputs × slots is many tests.
    verdicts.push(row.map((d) => (d ? slotVerdict(d, profile.inputs.length) : 'unknown')));
    await between();
  }
  return { inputs: profile.inputs.map((i) => i.name), slots, psi, verdicts };
}

/** Labels of an input's bins in words: "≤ 18.2", "20.5 – 21.3", "> 30.1"; categories by name, then "(other)". */
export function binLabels(ref: InputProfile): string[] {
  if (ref.kind === 'category') return [...ref.categories, '(other)'];
  const e = ref.edges;
  if (!e.length) return ['any value'];
  const text = edgeTexts(e);
  return [`≤ ${text[0]}`, ...e.slice(1).map((_, i) => `${text[i]} – ${text[i + 1]}`), `> ${text[e.length - 1]}`];
}

/** The shortest way to write the edges (3 significant digits or more) that keeps neighbours apart. */
function edgeTexts(edges: number[]): string[] {
  for (let p = 3; p <= 12; p++) {
    const t = edges.map((x) => String(Number(x.toPrecision(p))));
    if (t.every((s, i) => i === 0 || s !== t[i - 1])) return t;
  }
  return edges.map(String);
}

const shares = (counts: readonly number[]): number[] => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total ? c / total : 0));
};

export function histogram(endpoint: string, window: MonitorWindow, served: StoredBucket[], ref: InputProfile, vp: VersionProfile): InputHistogram {
  const cur = mergedFeatures(served).get(ref.name);
  const liveCounts = cur && cur.counts.length === ref.counts.length ? cur.counts : ref.counts.map(() => 0);
  const trainingTotal = ref.counts.reduce((a, b) => a + b, 0) + ref.missing;
  const liveTotal = liveCounts.reduce((a, b) => a + b, 0) + (cur?.missing ?? 0);
  return {
    endpoint,
    input: ref.name,
    kind: ref.kind,
    window,
    bins: binLabels(ref),
    training: shares(ref.counts),
    live: shares(liveCounts),
    missing: { training: trainingTotal ? ref.missing / trainingTotal : 0, live: liveTotal ? (cur?.missing ?? 0) / liveTotal : 0 },
    drift: inputDrift(ref, vp.profile.rows, cur, vp.ranks.get(ref.name) ?? null),
  };
}
