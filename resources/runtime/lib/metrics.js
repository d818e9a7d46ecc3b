'use strict';
/**
 * Counters of the endpoint in Prometheus' text exposition format (0.0.4).
 * They are kept in the state folder, so a restart continues the counts.
 */

/** Request duration buckets, in seconds: half a millisecond to five seconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Distinct prediction labels kept; any further one counts as "other" (a model swap can bring new classes). */
const MAX_LABELS = 200;

/** Shadow model versions counted; the oldest is forgotten past this (each shadow install can be another). */
const MAX_SHADOWS = 20;

/** What is counted of each shadow model version, and what each count means in /metrics. */
const SHADOW_COUNTS = [
  ['rows', 'millwright_shadow_rows_total', 'Rows a shadow model scored beside production, by shadow model version.'],
  ['agreed', 'millwright_shadow_agreed_total', 'Rows on which the shadow model gave the same answer as production.'],
  ['anomalies', 'millwright_shadow_anomalies_total', 'Rows the shadow model flagged as unusual (anomaly models).'],
  ['errors', 'millwright_shadow_errors_total', 'Rows the shadow model could not score (it fell behind, or failed).'],
];

class Metrics {
  constructor() {
    /** @type {Map<string, Map<string, number>>} route → status code → count */
    this.requests = new Map();
    this.errors = 0;
    /** @type {Map<string, { counts: number[], sum: number, count: number }>} route → non-cumulative bucket counts (+Inf last) */
    this.durations = new Map();
    /** @type {Map<string, number>} */
    this.predictions = new Map();
    this.anomalies = 0;
    /** @type {Map<string, { name: string, version: string, rows: number, agreed: number, anomalies: number, errors: number }>} name@version → counts */
    this.shadows = new Map();
    /** The MQTT link's state when --mqtt is given (not saved: it describes this run). @type {{ connected: boolean, received: number, published: number, errors: number } | null} */
    this.mqtt = null;
  }

  /** One answered request: its route's template (not the raw path, which would grow without bound), status and time. */
  request(route, status, seconds) {
    let byCode = this.requests.get(route);
    if (!byCode) this.requests.set(route, (byCode = new Map()));
    const code = String(status);
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    if (status >= 400) this.errors++;
    let h = this.durations.get(route);
    if (!h) this.durations.set(route, (h = { counts: new Array(BUCKETS.length + 1).fill(0), sum: 0, count: 0 }));
    let b = BUCKETS.findIndex((le) => seconds <= le);
    if (b < 0) b = BUCKETS.length;
    h.counts[b]++;
    h.sum += seconds;
    h.count++;
  }

  prediction(label, n = 1) {
    const key = this.predictions.has(label) || this.predictions.size < MAX_LABELS ? label : 'other';
    this.predictions.set(key, (this.predictions.get(key) ?? 0) + n);
  }

  anomaly(n = 1) {
    this.anomalies += n;
  }

  /**
   * A shadow model's comparison of some rows with production's answers.
   * @param {{ name: string, version: string }} info
   * @param {{ rows: number, agreed: number, anomalies: number, errors: number }} t
   */
  shadow(info, t) {
    const key = JSON.stringify([info.name, info.version]);
    let s = this.shadows.get(key);
    // The most recently counted last: the oldest use is forgotten first.
    if (s) this.shadows.delete(key);
    else {
      while (this.shadows.size >= MAX_SHADOWS) this.shadows.delete(/** @type {string} */ (this.shadows.keys().next().value));
      s = { name: info.name, version: info.version, rows: 0, agreed: 0, anomalies: 0, errors: 0 };
    }
    this.shadows.set(key, s);
    for (const [k] of SHADOW_COUNTS) s[k] += t[k];
  }

  /**
   * @param {{ name: string, version: string, appVersion: string }} model
   * @returns {string}
   */
  render(model) {
    const out = [];
    const family = (name, type, help) => out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);

    family('millwright_requests_total', 'counter', 'HTTP requests answered, by route and status code; route "mqtt" counts messages on the MQTT in-topic, with the status /predict would give.');
    for (const [route, byCode] of sorted(this.requests)) {
      for (const [code, n] of sorted(byCode)) out.push(`millwright_requests_total${labels({ route, code })} ${n}`);
    }

    family('millwright_errors_total', 'counter', 'HTTP requests answered with a status of 400 or more, and MQTT messages that could not be used.');
    out.push(`millwright_errors_total ${this.errors}`);

    family('millwright_request_duration_seconds', 'histogram', 'Time from a request arriving to its answer being sent, by route.');
    for (const [route, h] of sorted(this.durations)) {
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += h.counts[i];
        out.push(`millwright_request_duration_seconds_bucket${labels({ route, le: String(le) })} ${cumulative}`);
      });
      out.push(`millwright_request_duration_seconds_bucket${labels({ route, le: '+Inf' })} ${h.count}`);
      out.push(`millwright_request_duration_seconds_sum${labels({ route })} ${h.sum}`);
      out.push(`millwright_request_duration_seconds_count${labels({ route })} ${h.count}`);
    }

    family('millwright_predictions_total', 'counter', 'Rows answered, by answer: the class for classifiers, "anomaly" or "normal" for anomaly models, "value" for regression.');
    for (const [label, n] of sorted(this.predictions)) out.push(`millwright_predictions_total${labels({ label })} ${n}`);

    family('millwright_anomalies_total', 'counter', 'Rows an anomaly model flagged as unusual.');
    out.push(`millwright_anomalies_total ${this.anomalies}`);

    if (this.mqtt) {
      family('millwright_mqtt_connected', 'gauge', 'Whether the endpoint is connected to its MQTT broker (1) or not (0).');
      out.push(`millwright_mqtt_connected ${this.mqtt.connected ? 1 : 0}`);
      family('millwright_mqtt_messages_total', 'counter', 'MQTT messages received on the in-topic (in) and published and acknowledged by the broker (out), since the endpoint started.');
      out.push(`millwright_mqtt_messages_total${labels({ direction: 'in' })} ${this.mqtt.received}`, `millwright_mqtt_messages_total${labels({ direction: 'out' })} ${this.mqtt.published}`);
      family('millwright_mqtt_errors_total', 'counter', 'MQTT messages that could not be used (answered on the errors topic), since the endpoint started.');
      out.push(`millwright_mqtt_errors_total ${this.mqtt.errors}`);
    }

    if (this.shadows.size) {
      for (const [k, name, help] of SHADOW_COUNTS) {
        family(name, 'counter', help);
        for (const s of this.shadows.values()) out.push(`${name}${labels({ name: s.name, version: s.version })} ${s[k]}`);
      }
    }

    family('millwright_model_info', 'gauge', 'The model version being served (always 1).');
    out.push(`millwright_model_info${labels({ name: model.name, version: model.version, app_version: model.appVersion })} 1`);
    return `${out.join('\n')}\n`;
  }

  toJSON() {
    return {
      requests: Object.fromEntries([...this.requests].map(([r, m]) => [r, Object.fromEntries(m)])),
      errors: this.errors,
      durations: Object.fromEntries(this.durations),
      predictions: Object.fromEntries(this.predictions),
      anomalies: this.anomalies,
      shadows: [...this.shadows.values()],
    };
  }

  /** Restores saved counts; a part that does not read as counts starts from zero. */
  load(saved) {
    if (!saved || typeof saved !== 'object') return;
    const count = (v) => (Number.isFinite(v) && v >= 0 ? v : 0);
    if (saved.requests && typeof saved.requests === 'object') {
      for (const [route, codes] of Object.entries(saved.requests)) {
        if (codes && typeof codes === 'object') this.requests.set(route, new Map(Object.entries(codes).map(([c, n]) => [c, count(n)])));
      }
    }
    this.errors = count(saved.errors);
    if (saved.durations && typeof saved.durations === 'object') {
      for (const [route, h] of Object.entries(saved.durations)) {
        if (h && Array.isArray(h.counts) && h.counts.length === BUCKETS.length + 1) {
          this.durations.set(route, { counts: h.counts.map(count), sum: count(h.sum), count: count(h.count) });
        }
      }
    }
    if (saved.predictions && typeof saved.predictions === 'object') {
      for (const [label, n] of Object.entries(saved.predictions)) this.predictions.set(label, count(n));
    }
    this.anomalies = count(saved.anomalies);
    if (Array.isArray(saved.shadows)) {
      for (const s of saved.shadows.slice(-MAX_SHADOWS)) {
        if (s && typeof s.name === 'string' && typeof s.version === 'string') {
          this.shadows.set(JSON.stringify([s.name, s.version]), { name: s.name, version: s.version, rows: count(s.rows), agreed: count(s.agreed), anomalies: count(s.anomalies), errors: count(s.errors) });
        }
      }
    }
  }
}

const sorted = (map) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function labels(obj) {
  const parts = Object.entries(obj).map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return `{${parts.join(',')}}`;
}

module.exports = { Metrics, BUCKETS };
