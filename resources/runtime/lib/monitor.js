'use strict';
/**
 * Monitoring buckets: what the endpoint served, a minute at a time, per
 * model version. Each bucket counts prediction requests and errors, their
 * latency, rows, predictions by label, anomalies, and every input's values
 * over the training profile's bins (manifest.profile), so the app computes
 * drift without the rows leaving the plant. Numeric inputs also sum their
 * finite values per bin (`sums`), so the app knows where in a bin the live
 * values sit; ±Infinity count in the end bins but are left out of the sums.
 * Latency goes out as its histogram too (`latencyMs.bins`: [bin, count]
 * pairs), so the app can take p50/p99 over any run of buckets as the edge
 * does (electron/services/monitor/latency.ts holds the same bin math). A bucket is open until its
 * minute ends, the model changes, or a reader asks (reading closes it, so a
 * reader gets everything up to now); closed buckets go to a SeqLog
 * (buckets.jsonl) with a sequence number a reader resumes from.
 */

const MINUTE = 60_000;

/** Request routes whose requests, errors and latency the buckets count ("mqtt": messages on the MQTT in-topic). */
const PREDICTION_ROUTES = new Set(['/predict', '/v2/models/{name}/infer', '/v2/models/{name}/versions/{version}/infer', 'mqtt']);

/** Latency histogram: bins 2% wide from 1 µs, so p50 and p99 are within 1% without keeping every request (the app's copy: electron/services/monitor/latency.ts). */
const LAT_BASE_MS = 0.001;
const LAT_STEP = Math.log(1.02);
const LAT_BINS = 1100;

/**
 * How one model's inputs fall into its profile's bins: per input (graph
 * order) the float32 cut points or the category indices; null when the
 * profile does not describe the input.
 * @typedef {{ name: string, numeric: true, edges: Float32Array, bins: number } | { name: string, numeric: false, index: Map<string, number>, bins: number } | null} InputBins
 */

/** @type {WeakMap<object, InputBins[]>} */
const binsByModel = new WeakMap();

/**
 * The profile's bins for each input of a model. Values reach the endpoint as
 * float32 (as the graph sees them), so the edges are compared as float32 too:
 * a value equal to an edge goes to the bin below it, as in the profile.
 * @param {import('./model').LoadedModel} model
 */
function binsOf(model) {
  let bins = binsByModel.get(model);
  if (bins) return bins;
  const profile = /** @type {{ inputs?: unknown }} */ (model.manifest).profile;
  /** @type {Map<string, Record<string, unknown>>} */
  const byName = new Map();
  if (profile && typeof profile === 'object' && Array.isArray(/** @type {Record<string, unknown>} */ (profile).inputs)) {
    for (const p of /** @type {Record<string, unknown>[]} */ (/** @type {Record<string, unknown>} */ (profile).inputs)) {
      if (p && typeof p.name === 'string') byName.set(p.name, p);
    }
  }
  bins = model.inputs.map((input) => {
    const p = byName.get(input.name);
    if (!p) return null;
    if (p.kind === 'numeric' && input.type === 'float32' && Array.isArray(p.edges) && p.edges.every((e) => typeof e === 'number')) {
      const edges = Float32Array.from(/** @type {number[]} */ (p.edges));
      return { name: input.name, numeric: true, edges, bins: edges.length + 1 };
    }
    if (p.kind === 'category' && input.type === 'string' && Array.isArray(p.categories)) {
      const cats = /** @type {unknown[]} */ (p.categories).map(String);
      return { name: input.name, numeric: false, index: new Map(cats.map((c, i) => [c, i])), bins: cats.length + 1 };
    }
    return null;
  });
  binsByModel.set(model, bins);
  return bins;
}

/** The bin of a float32 value: the number of edges strictly below it. */
function numericBin(edges, x) {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class Latency {
  constructor() {
    /** @type {Map<number, number>} bin → count */
    this.bins = new Map();
    this.count = 0;
    this.sum = 0;
  }

  add(ms) {
    const b = ms <= LAT_BASE_MS ? 0 : Math.min(LAT_BINS - 1, Math.floor(Math.log(ms / LAT_BASE_MS) / LAT_STEP) + 1);
    this.bins.set(b, (this.bins.get(b) ?? 0) + 1);
    this.count++;
    this.sum += ms;
  }

  /** The q-quantile in milliseconds: the middle of the bin holding that rank. */
  quantile(q) {
    if (!this.count) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const b of [...this.bins.keys()].sort((x, y) => x - y)) {
      seen += /** @type {number} */ (this.bins.get(b));
      if (seen >= rank) return b === 0 ? LAT_BASE_MS : round3(LAT_BASE_MS * Math.exp((b - 0.5) * LAT_STEP));
    }
    return null;
  }

  summary() {
    return { count: this.count, sum: round3(this.sum), p50: this.quantile(0.5), p99: this.quantile(0.99) };
  }

  toJSON() {
    return { bins: [...this.bins], count: this.count, sum: this.sum };
  }

  /** The histogram as [bin, count] pairs, lowest bin first. */
  pairs() {
    return [...this.bins].sort((x, y) => x[0] - y[0]);
  }

  static from(saved) {
    const l = new Latency();
    if (saved && Array.isArray(saved.bins)) {
      for (const [b, n] of saved.bins) if (Number.isInteger(b) && b >= 0 && b < LAT_BINS && Number.isFinite(n) && n > 0) l.bins.set(b, n);
      l.count = [...l.bins.values()].reduce((a, n) => a + n, 0);
      l.sum = Number.isFinite(saved.sum) ? saved.sum : 0;
    }
    return l;
  }
}

const round3 = (x) => Math.round(x * 1000) / 1000;

/**
 * An input's counts in a bucket; numeric inputs also sum their finite values
 * per bin (absent on a bucket continued from a state.json written before
 * sums existed: part sums would misplace the bin's mean).
 * @typedef {{ counts: number[], missing: number, sums?: number[] }} FeatureCounts
 */

/**
 * A shadow model's comparison with production in a bucket (shadow.js): rows
 * both scored, those they agreed on, each one's anomalies on them, and rows
 * the shadow failed to score.
 * @typedef {{ name: string, version: string, rows: number, agreed: number, anomalies: number, productionAnomalies: number, errors: number }} ShadowCounts
 */

/**
 * @typedef {{ from: number, until: number, name: string, version: string, requests: number, errors: number, rows: number,
 *   predictions: Record<string, number>, anomalies: number, latency: Latency, features: Record<string, FeatureCounts>, shadow?: ShadowCounts }} OpenBucket
 */

const SHADOW_COUNTS = /** @type {const} */ (['rows', 'agreed', 'anomalies', 'productionAnomalies', 'errors']);

class Monitor {
  /**
   * @param {import('./state').SeqLog} log where closed buckets go
   * @param {() => void} onChange
   * @param {() => number} now
   */
  constructor(log, onChange = () => undefined, now = Date.now) {
    this.log = log;
    this.onChange = onChange;
    this.now = now;
    /** @type {Map<string, OpenBucket>} by model name and version */
    this.open = new Map();
    /** When the last bucket was closed by a reader: the next one starts there, not at its minute's start. */
    this.lastClosed = 0;
    /** The shadow model running, if any: buckets opened while one runs carry its counts. @type {() => { name: string, version: string } | null} */
    this.shadowOf = () => null;
  }

  /** The open bucket of a model, after closing any whose minute is over. */
  bucket(name, version) {
    const t = this.now();
    this.closeExpired(t);
    const key = `${name}\u0000${version}`;
    let b = this.open.get(key);
    if (!b) {
      const minute = Math.floor(t / MINUTE) * MINUTE;
      b = { from: Math.max(minute, Math.min(this.lastClosed, t)), until: minute + MINUTE, name, version, requests: 0, errors: 0, rows: 0, predictions: {}, anomalies: 0, latency: new Latency(), features: {} };
      const s = this.shadowOf();
      if (s) b.shadow = shadowCounts(s);
      this.open.set(key, b);
    }
    return b;
  }

  /**
   * One answered HTTP request of a prediction route; others are not counted here.
   * @param {string} route the route's template
   * @param {{ name: string, version: string }} model
   */
  request(route, status, seconds, model) {
    if (!PREDICTION_ROUTES.has(route)) return;
    const b = this.bucket(model.name, model.version);
    b.requests++;
    if (status >= 400) b.errors++;
    else b.latency.add(seconds * 1000);
    this.onChange();
  }

  /**
   * Rows a model answered: the rows' own inputs (not the history rows a
   * window model is also fed), their predictions by label, the anomalies.
   * @param {import('./model').LoadedModel} model
   * @param {import('./model').Columns} cols
   * @param {number} n
   * @param {Map<string, number>} labels
   * @param {number} anomalies
   */
  rows(model, cols, n, labels, anomalies) {
    const b = this.bucket(model.name, model.version);
    b.rows += n;
    b.anomalies += anomalies;
    for (const [label, k] of labels) b.predictions[label] = (b.predictions[label] ?? 0) + k;
    const bins = binsOf(model);
    for (let j = 0; j < bins.length; j++) {
      const spec = bins[j];
      if (!spec) continue;
      let f = b.features[spec.name];
      if (!f || f.counts.length !== spec.bins) {
        f = b.features[spec.name] = { counts: new Array(spec.bins).fill(0), missing: 0 };
        if (spec.numeric) f.sums = new Array(spec.bins).fill(0);
      }
      const col = cols[j];
      if (spec.numeric) {
        const values = /** @type {Float32Array} */ (col);
        const { counts, sums } = f;
        for (let i = 0; i < n; i++) {
          const x = values[i];
          if (Number.isNaN(x)) f.missing++;
          else {
            const bin = numericBin(spec.edges, x);
            counts[bin]++;
            if (sums && x !== Infinity && x !== -Infinity) sums[bin] += x;
          }
        }
      } else {
        const values = /** @type {string[]} */ (col);
        const last = spec.bins - 1;
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v === '') f.missing++;
          else f.counts[spec.index.get(v) ?? last]++;
        }
      }
    }
    this.onChange();
  }

  /**
   * A shadow's comparison on rows `production` answered. A shadow installed or
   * removed closes the open buckets (closeAll), so a bucket counts one shadow.
   * @param {{ name: string, version: string }} production
   * @param {{ name: string, version: string }} shadow
   * @param {{ rows: number, agreed: number, anomalies: number, productionAnomalies: number, errors: number }} t
   */
  shadowRows(production, shadow, t) {
    const b = this.bucket(production.name, production.version);
    b.shadow ??= shadowCounts(shadow);
    if (b.shadow.name !== shadow.name || b.shadow.version !== shadow.version) return;
    for (const k of SHADOW_COUNTS) b.shadow[k] += t[k];
    this.onChange();
  }

  /** Closes the buckets whose minute is over (called on every record and by a timer). */
  closeExpired(t = this.now()) {
    for (const [key, b] of this.open) {
      if (t >= b.until) {
        this.open.delete(key);
        this.log.add(closed(b, b.until));
      }
    }
  }

  /** Closes every open bucket now: before a read (so the reader gets everything up to now) and at shutdown. */
  closeAll(t = this.now()) {
    this.closeExpired(t);
    if (!this.open.size) return;
    for (const b of this.open.values()) this.log.add(closed(b, t));
    this.open.clear();
    this.lastClosed = t;
    this.onChange();
  }

  /** The open buckets, for state.json: a restart continues them. */
  toJSON() {
    return { lastClosed: this.lastClosed, open: [...this.open.values()].map((b) => ({ ...b, latency: b.latency.toJSON() })) };
  }

  load(saved) {
    if (!saved || typeof saved !== 'object') return;
    if (Number.isFinite(saved.lastClosed)) this.lastClosed = saved.lastClosed;
    if (!Array.isArray(saved.open)) return;
    for (const b of saved.open) {
      if (!b || typeof b.name !== 'string' || typeof b.version !== 'string' || !Number.isFinite(b.from) || !Number.isFinite(b.until)) continue;
      const count = (v) => (Number.isFinite(v) && v >= 0 ? v : 0);
      /** @type {Record<string, FeatureCounts>} */
      const features = {};
      for (const [name, f] of Object.entries(b.features && typeof b.features === 'object' ? b.features : {})) {
        if (!f || !Array.isArray(f.counts)) continue;
        features[name] = { counts: f.counts.map(count), missing: count(f.missing) };
        // Sums only when every bin has one: an older state.json has none, and part sums would mislead.
        if (Array.isArray(f.sums) && f.sums.length === f.counts.length && f.sums.every((x) => Number.isFinite(x))) features[name].sums = [...f.sums];
      }
      /** @type {Record<string, number>} */
      const predictions = {};
      for (const [label, n] of Object.entries(b.predictions && typeof b.predictions === 'object' ? b.predictions : {})) predictions[label] = count(n);
      this.open.set(`${b.name}\u0000${b.version}`, {
        from: b.from,
        until: b.until,
        name: b.name,
        version: b.version,
        requests: count(b.requests),
        errors: count(b.errors),
        rows: count(b.rows),
        predictions,
        anomalies: count(b.anomalies),
        latency: Latency.from(b.latency),
        features,
        ...(b.shadow && typeof b.shadow.name === 'string' && typeof b.shadow.version === 'string'
          ? { shadow: { ...shadowCounts(b.shadow), ...Object.fromEntries(SHADOW_COUNTS.map((k) => [k, count(b.shadow[k])])) } }
          : {}),
      });
    }
  }
}

/** A closed bucket as readers get it. */
function closed(b, to) {
  return {
    from: new Date(b.from).toISOString(),
    to: new Date(Math.max(to, b.from)).toISOString(),
    name: b.name,
    version: b.version,
    requests: b.requests,
    errors: b.errors,
    rows: b.rows,
    predictions: b.predictions,
    anomalies: b.anomalies,
    latencyMs: { ...b.latency.summary(), bins: b.latency.pairs() },
    features: b.features,
    ...(b.shadow ? { shadow: b.shadow } : {}),
  };
}

/** @param {{ name: string, version: string }} s @returns {ShadowCounts} */
const shadowCounts = (s) => ({ name: s.name, version: s.version, rows: 0, agreed: 0, anomalies: 0, productionAnomalies: 0, errors: 0 });

module.exports = { Monitor, PREDICTION_ROUTES, numericBin, Latency, LAT_BASE_MS, LAT_STEP, LAT_BINS };
