'use strict';
/**
 * The endpoint's MQTT link (optional, --mqtt URL): sensor readings arrive on
 * the in-topic as /predict bodies, and every row's prediction leaves on the
 * out-topic, anomalies also on <out>/anomaly, and messages that cannot be
 * used on <out>/errors. Rows are scored by the same code as /predict, so
 * metrics, anomaly events and monitoring count them too.
 *
 * Messages are handled one at a time, in the order they arrive, and each is
 * acknowledged (PUBACK) only once its answers are handed to the client; the
 * session is persistent (a fixed client id, clean: false), so readings sent
 * while the endpoint restarts wait at the broker instead of being lost.
 * The mqtt package is loaded only when MQTT is configured.
 */
const { createHash } = require('node:crypto');
const os = require('node:os');
const { HttpError } = require('./http');

/** Reconnection delays grow from the first to the last, doubling (with a little jitter so a fleet does not reconnect in step). */
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** How long shutdown waits for the broker to acknowledge the last answers. */
const END_WAIT_MS = 5_000;
/** How much of an unusable message an error report repeats. */
const PAYLOAD_ECHO = 200;

/** MQTT set up in a way that cannot work, with the reason in words an operator can act on. */
class MqttError extends Error {}

/** The model name as a topic level: lower case, letters and digits, dashes between. */
function slug(name) {
  return (
    String(name)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'model'
  );
}

/** The topics used when --mqtt-in / --mqtt-out are not given. */
function defaultTopics(modelName) {
  const base = `millwright/${slug(modelName)}`;
  return { in: `${base}/in`, out: `${base}/out` };
}

/** True when `topic` is one that the subscription `filter` (with + and # wildcards) receives. */
function topicMatches(filter, topic) {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return !(i === 0 && t[0].startsWith('$'));
    if (i >= t.length) return false;
    if (f[i] === '+') {
      if (i === 0 && t[0].startsWith('$')) return false;
      continue;
    }
    if (f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** The broker's address without a password, for messages and logs. */
function shownUrl(url) {
  try {
    const u = new URL(url);
    u.password = '';
    u.username = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** The mqtt package, or an error that says how to install it. */
function loadMqtt() {
  try {
    return require('mqtt');
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND' && /'mqtt'/.test(e.message)) {
      throw new MqttError('MQTT is configured (--mqtt), but the mqtt package is not installed beside the runtime: run "npm install --omit=dev" in the runtime folder (mqtt is an optional dependency), or start without --mqtt.', { cause: e });
    }
    throw e;
  }
}

/**
 * @typedef {{ url: string, inTopic: string, outTopic: string, username: string | null, password: string | null, ca: Buffer | null }} MqttSettings
 */

/**
 * The options with default topics filled in from the model's name; refuses
 * an in-topic that would also receive the endpoint's own answers.
 * @param {import('./options').MqttOptions} opts
 * @param {string} modelName
 * @returns {MqttSettings}
 */
function resolveSettings(opts, modelName) {
  const defaults = defaultTopics(modelName);
  const inTopic = opts.inTopic ?? defaults.in;
  const outTopic = opts.outTopic ?? defaults.out;
  const echo = [outTopic, `${outTopic}/anomaly`, `${outTopic}/errors`].find((t) => topicMatches(inTopic, t));
  if (echo) throw new MqttError(`The MQTT in-topic "${inTopic}" would also receive the endpoint's own answers on "${echo}"; choose topics apart (--mqtt-in, --mqtt-out).`);
  return { ...opts, inTopic, outTopic };
}

class MqttLink {
  /**
   * @param {MqttSettings} settings topics already resolved
   * @param {{
   *   predictObjects: (body: unknown, source?: string) => Promise<{ model: { name: string, version: string }, predictions: Record<string, unknown>[], rows: { source: string, time: string | number | null }[] }>,
   *   countRequest: (route: string, status: number, seconds: number) => void,
   *   metrics: import('./metrics').Metrics,
   *   maxBody: number,
   *   clientId: string,
   *   say: (obj: unknown) => void,
   *   warn: (message: string) => void,
   *   logError: (message: string) => void,
   * }} deps
   */
  constructor(settings, deps) {
    this.settings = settings;
    this.deps = deps;
    this.shown = shownUrl(settings.url);
    /** With a wildcard in the in-topic, each topic is its own stream (source) unless a row names one. */
    this.topicIsSource = /[+#]/.test(settings.inTopic);
    this.client = null;
    this.stopping = false;
    this.delay = BACKOFF_FIRST_MS;
    this.retry = null;
    /** The message being handled, awaited at shutdown. */
    this.busy = Promise.resolve();
    this.lastProblem = '';
    /** Loaded here, so a missing package stops the endpoint at start, before it listens. */
    this.mqtt = loadMqtt();
    deps.metrics.mqtt = { connected: false, received: 0, published: 0, errors: 0 };
  }

  /** Connects in the background; the endpoint serves HTTP whether the broker is there or not. */
  start() {
    const s = this.settings;
    /** @type {Record<string, unknown>} */
    const options = {
      clientId: this.deps.clientId,
      clean: false,
      keepalive: 30,
      connectTimeout: 10_000,
      // Reconnection is ours, with backoff; mqtt.js would retry at a fixed period.
      reconnectPeriod: 0,
      resubscribe: false,
    };
    if (s.username !== null) options.username = s.username;
    if (s.password !== null) options.password = s.password;
    if (s.ca) options.ca = s.ca;
    const client = this.mqtt.connect(s.url, options);
    this.client = client;
    client.handleMessage = (packet, done) => {
      // Once stopping, a message is left unacknowledged: the broker keeps it for the next start.
      if (this.stopping) return;
      const handled = this.handle(packet.topic, packet.payload);
      this.busy = handled;
      void handled.then(() => done());
    };
    client.on('connect', (connack) => {
      this.delay = BACKOFF_FIRST_MS;
      this.lastProblem = '';
      this.deps.metrics.mqtt.connected = true;
      client.subscribe(s.inTopic, { qos: 1 }, (err, granted) => {
        const refused = err ? err.message : granted && granted.some((g) => g.qos === 128) ? 'the broker refused the subscription' : '';
        if (refused) {
          this.deps.warn(`MQTT: cannot subscribe to "${s.inTopic}" on ${this.shown}: ${refused}.`);
          return;
        }
        this.deps.say({ mqtt: { connected: this.shown, in: s.inTopic, out: s.outTopic, sessionPresent: Boolean(connack && connack.sessionPresent) } });
      });
    });
    client.on('error', (e) => {
      this.problem(e && e.message ? e.message : String(e));
    });
    client.on('close', () => {
      const was = this.deps.metrics.mqtt.connected;
      this.deps.metrics.mqtt.connected = false;
      if (was && !this.stopping) this.deps.say({ mqtt: { disconnected: this.shown } });
      this.scheduleReconnect();
    });
  }

  /** Reports a connection problem once until it changes or the link recovers. */
  problem(message) {
    if (this.stopping || message === this.lastProblem) return;
    this.lastProblem = message;
    this.deps.warn(`MQTT: ${this.shown}: ${message}; retrying with growing pauses (up to ${BACKOFF_MAX_MS / 1000} s).`);
  }

  scheduleReconnect() {
    if (this.stopping || this.retry || !this.client) return;
    const wait = Math.round(this.delay * (0.8 + 0.4 * Math.random()));
    this.delay = Math.min(BACKOFF_MAX_MS, this.delay * 2);
    this.retry = setTimeout(() => {
      this.retry = null;
      const c = this.client;
      if (this.stopping || !c || c.connected) return;
      // Keep the stores: answers not yet acknowledged are sent again once connected.
      c.reconnect({ incomingStore: c.incomingStore, outgoingStore: c.outgoingStore });
    }, wait);
    this.retry.unref();
  }

  /**
   * One message from the in-topic: scored and answered, or reported on
   * <out>/errors. Never throws.
   * @param {string} topic
   * @param {Buffer} payload
   */
  async handle(topic, payload) {
    if (!topicMatches(this.settings.inTopic, topic)) return; // left over from an earlier subscription of this session
    const { metrics, logError } = this.deps;
    metrics.mqtt.received++;
    const started = process.hrtime.bigint();
    const receivedAt = new Date().toISOString();
    let status = 200;
    let body;
    try {
      if (payload.length > this.deps.maxBody) throw new HttpError(413, `The message is larger than this endpoint takes (${payload.length} bytes, at most ${this.deps.maxBody}); send fewer rows per message.`);
      const text = payload.toString('utf8');
      if (!text.trim()) throw new HttpError(400, 'The message is empty; send a JSON object of named fields, or a list of them.');
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new HttpError(400, `The message is not valid JSON: ${e instanceof SyntaxError ? e.message : 'it nests too deeply'}.`);
      }
      const answer = await this.deps.predictObjects(body, this.topicIsSource ? topic : undefined);
      const out = this.settings.outTopic;
      answer.predictions.forEach((p, i) => {
        const row = answer.rows[i];
        const message = JSON.stringify({ time: row.time ?? receivedAt, source: row.source, model: answer.model.name, version: answer.model.version, ...p });
        this.publish(out, message);
        if (p.anomaly === true) this.publish(`${out}/anomaly`, message);
      });
    } catch (e) {
      metrics.mqtt.errors++;
      let error;
      if (e instanceof HttpError) {
        error = e.message;
        status = e.status;
      } else {
        status = 500;
        logError(`MQTT message on ${topic}: ${e && e.stack ? e.stack : String(e)}`);
        error = 'The endpoint could not answer this message; its log has the details.';
      }
      const text = payload.toString('utf8');
      this.publish(`${this.settings.outTopic}/errors`, JSON.stringify({ error, topic, payload: text.length > PAYLOAD_ECHO ? text.slice(0, PAYLOAD_ECHO) : text }));
    }
    // A message counts as a request of route "mqtt", with the status /predict would have answered.
    this.deps.countRequest('mqtt', status, Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Publishes with QoS 1; while the broker is away the client keeps the message and sends it once connected. */
  publish(topic, message) {
    const c = this.client;
    if (!c) return;
    c.publish(topic, message, { qos: 1 }, (err) => {
      if (err) {
        if (!this.stopping) this.deps.warn(`MQTT: could not publish to "${topic}": ${err.message}.`);
        return;
      }
      this.deps.metrics.mqtt.published++;
    });
  }

  /** Finishes the message in hand, waits (a little) for the broker to acknowledge what was sent, and disconnects. */
  async stop() {
    if (this.stopping) return;
    this.stopping = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const c = this.client;
    if (!c) return;
    await this.busy;
    await new Promise((resolve) => {
      const force = setTimeout(() => c.end(true, {}, () => resolve(undefined)), END_WAIT_MS);
      c.end(false, {}, () => {
        clearTimeout(force);
        resolve(undefined);
      });
    });
    this.deps.metrics.mqtt.connected = false;
  }
}

/**
 * A client id that stays the same across restarts of one endpoint (so the
 * broker keeps its session) and differs between endpoints (machine and
 * state folder), within MQTT 3.1.1's 23 characters.
 */
function clientIdFor(stateDir) {
  return `mw-${createHash('sha256').update(`${os.hostname()}\n${stateDir}`).digest('hex').slice(0, 20)}`;
}

module.exports = { MqttLink, MqttError, resolveSettings, defaultTopics, topicMatches, shownUrl, clientIdFor, slug };
