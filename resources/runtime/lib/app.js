'use strict';
/**
 * The endpoint's routes: the Open Inference Protocol (KServe v2 REST),
 * /predict with named fields, /metrics, and the admin API (admin.js). Every
 * route but the two health checks needs the predict token, except /admin/…,
 * which needs the admin token (and the predict token is not one).
 */
const { HttpError, readJson, sendJson, send, announcesTooMuch, lingerOnClose } = require('./http');
const { authorized } = require('./state');
const { DEFAULT_SOURCE } = require('./model');
const { predictRows, inferRequest, toJsonNumber } = require('./values');

const DATATYPES = { float32: 'FP32', int64: 'INT64', string: 'BYTES' };

/** A request path that URL parsing would leave as it is: "/" and segments of letters, digits, "_" and "-"; no query. */
const PLAIN_PATH = /^(?:\/[\w-]+)+$|^\/$/;

/** The request's path; 400 when it is not one. Plain paths skip the URL parser, a few µs of every prediction. */
function pathOf(url = '/') {
  if (PLAIN_PATH.test(url)) return url;
  try {
    return new URL(url, 'http://edge').pathname;
  } catch {
    throw new HttpError(400, 'The request path is not a valid URL path.');
  }
}

/** Distinct Authorization headers remembered as valid, at most. */
const VERIFIED_MAX = 64;

/**
 * @param {{
 *   holder: import('./model').ModelHolder,
 *   streams: import('./model').Streams,
 *   metrics: import('./metrics').Metrics,
 *   context: import('./context').ContextRows,
 *   tokens: { predict: Buffer, admin: Buffer },
 *   maxBody: number,
 *   monitor?: import('./monitor').Monitor,
 *   shadow?: import('./shadow').Shadow,
 *   admin?: { template: string, auth: string, maxBody?: number, methods: Record<string, Function> }[],
 *   runtimeVersion: string,
 *   onChange: () => void,
 *   logError: (message: string) => void,
 * }} deps
 */
function createApp(deps) {
  const { holder, streams, metrics, context, tokens, maxBody, monitor, shadow, runtimeVersion, onChange, logError } = deps;
  const state = { draining: false };

  /** The served model when `name` (and `version`, if given) is it; 404 otherwise. */
  function served(params) {
    const m = holder.current;
    if (params.name !== m.name) throw new HttpError(404, `Model "${params.name}" is not served here; this endpoint serves "${m.name}".`);
    if (params.version !== undefined && params.version !== m.version) throw new HttpError(404, `Model "${m.name}" has no version "${params.version}" here; this endpoint serves version ${m.version}.`);
    return m;
  }

  /**
   * Counts the answers and keeps anomaly events with each row's own
   * timestamp, and the context rows around them (context.js).
   * `check`: the rows of a deployment's smoke test (see isCheck), counted in
   * /metrics only, not in the monitoring buckets or events. A shadow model,
   * if one runs, scores the same rows afterwards (shadow.js).
   */
  function account(model, answer, source, cols, times, check = false) {
    const o = answer.outputs;
    const tally = new Map();
    const add = (label) => tally.set(label, (tally.get(label) ?? 0) + 1);
    const receivedAt = Date.now();
    let flaggedRows = 0;
    for (let i = 0; i < answer.rows; i++) {
      if (o.label) add(/** @type {string[]} */ (o.label.data)[i]);
      else if (o.anomaly) {
        const flagged = o.anomaly.data[i] === 1;
        add(flagged ? 'anomaly' : 'normal');
        if (flagged) {
          flaggedRows++;
          metrics.anomaly();
        }
        if (check) continue;
        context.row(source, { name: model.name, version: model.version, model, cols, i, time: times[i], score: toJsonNumber(/** @type {number} */ (o.score?.data[i] ?? NaN)), receivedAt }, flagged);
      } else add('value');
    }
    for (const [label, n] of tally) metrics.prediction(label, n);
    if (!check) {
      monitor?.rows(model, cols, answer.rows, tally, flaggedRows);
      shadow?.after(model, answer, source, cols, answer.rows);
    }
    onChange();
  }

  async function infer(req, params) {
    served(params);
    const body = await readJson(req, maxBody);
    return holder.use(async (model) => {
      const r = inferRequest(body, model, DEFAULT_SOURCE);
      const answer = await streams.score(model, r.source, r.cols, r.n);
      account(model, answer, r.source, r.cols, r.times, isCheck(req));
      const outputs = r.outputs.map((name) => {
        const spec = /** @type {import('./bundle').OnnxOutput} */ (model.outputs.find((o) => o.name === name));
        const block = answer.outputs[name];
        const data = block.type === 'string' ? block.data : Array.from(/** @type {Float32Array} */ (block.data), toJsonNumber);
        return { name, shape: spec.shape.length === 2 ? [answer.rows, block.width] : [answer.rows], datatype: DATATYPES[block.type], data };
      });
      return { model_name: model.name, model_version: model.version, ...(r.id !== undefined ? { id: r.id } : {}), outputs };
    });
  }

  /**
   * Scores /predict rows (one object or a list of named fields) and counts
   * them, whatever brought them (HTTP or MQTT). Throws HttpError 400 naming
   * the row and field for input it cannot use.
   * @param {unknown} body
   * @param {string} [source] the stream of rows that name none
   * @param {boolean} [check] a smoke test's rows (see account)
   * @returns {Promise<{ model: { name: string, version: string }, predictions: Record<string, unknown>[], rows: { source: string, time: string | number | null }[] }>}
   */
  function predictObjects(body, source = DEFAULT_SOURCE, check = false) {
    return holder.use(async (model) => {
      const { n, groups } = predictRows(body, model, source);
      const predictions = new Array(n);
      const rows = new Array(n);
      await Promise.all(
        [...groups].map(async ([from, g]) => {
          const answer = await streams.score(model, from, g.cols, g.indices.length);
          account(model, answer, from, g.cols, g.times, check);
          g.indices.forEach((row, i) => {
            predictions[row] = predictionOf(model, answer, i);
            rows[row] = { source: from, time: g.times[i] };
          });
        }),
      );
      return { model: { name: model.name, version: model.version }, predictions, rows };
    });
  }

  async function predict(req) {
    const { predictions } = await predictObjects(await readJson(req, maxBody), DEFAULT_SOURCE, isCheck(req));
    return { predictions };
  }

  /**
   * `auth`: false for none, true for the predict token, 'admin' for the admin token.
   * @type {{ template: string, pattern: RegExp, keys: string[], auth: boolean | string, maxBody?: number, methods: Record<string, (req: import('node:http').IncomingMessage, params: Record<string, string>) => unknown> }[]}
   */
  const routes = [
    { template: '/v2', auth: true, methods: { GET: () => ({ name: 'millwright-edge', version: runtimeVersion, extensions: [] }) } },
    { template: '/v2/health/live', auth: false, methods: { GET: () => ({ live: true }) } },
    {
      template: '/v2/health/ready',
      auth: false,
      methods: { GET: () => (state.draining ? new HttpError(503, 'The endpoint is shutting down.', { ready: false }) : { ready: true }) },
    },
    { template: '/v2/models/{name}', auth: true, methods: { GET: (_req, p) => modelMetadata(served(p)) } },
    { template: '/v2/models/{name}/versions/{version}', auth: true, methods: { GET: (_req, p) => modelMetadata(served(p)) } },
    { template: '/v2/models/{name}/ready', auth: true, methods: { GET: (_req, p) => modelReady(served(p)) } },
    { template: '/v2/models/{name}/versions/{version}/ready', auth: true, methods: { GET: (_req, p) => modelReady(served(p)) } },
    { template: '/v2/models/{name}/infer', auth: true, methods: { POST: infer } },
    { template: '/v2/models/{name}/versions/{version}/infer', auth: true, methods: { POST: infer } },
    { template: '/predict', auth: true, methods: { POST: predict } },
    { template: '/metrics', auth: true, methods: { GET: () => new Text(metrics.render(holder.current), 'text/plain; version=0.0.4; charset=utf-8') } },
    ...(deps.admin ?? []),
  ].map((r) => {
    const keys = [];
    const pattern = new RegExp(`^${r.template.replace(/\{(\w+)\}/g, (_, k) => (keys.push(k), '([^/]+)'))}$`);
    return { ...r, keys, pattern };
  });

  function modelReady(m) {
    return state.draining ? new HttpError(503, 'The endpoint is shutting down.', { name: m.name, ready: false }) : { name: m.name, ready: true };
  }

  function match(pathname) {
    for (const r of routes) {
      const m = r.pattern.exec(pathname);
      if (!m) continue;
      const params = {};
      r.keys.forEach((k, i) => {
        try {
          params[k] = decodeURIComponent(m[i + 1]);
        } catch {
          params[k] = m[i + 1];
        }
      });
      return { route: r, params };
    }
    return null;
  }

  /** Counts one answered request (an HTTP route's template, or "mqtt" for a message) in the metrics and, unless a smoke test's (`check`), the monitoring buckets. */
  function countRequest(route, status, seconds, check = false) {
    metrics.request(route, status, seconds);
    if (!check) monitor?.request(route, status, seconds, holder.current);
    onChange();
  }

  const isAdmin = (pathname, found) => (found ? found.route.auth === 'admin' : pathname === '/admin' || pathname.startsWith('/admin/'));

  /**
   * Authorization headers that carried a valid token, with the role: the
   * check costs a SHA-256, a good share of a prediction's time, so a client's
   * repeated header is looked up instead. Only headers that passed the
   * constant-time check are kept, and a Map finds a string by its hash, so
   * the time a wrong token takes does not depend on how much of it is right.
   * @type {Map<string, 'admin' | 'predict'>}
   */
  const verified = new Map();

  function tokenFits(header, role) {
    if (typeof header === 'string' && verified.get(header) === role) return true;
    if (!authorized(header, tokens[role])) return false;
    if (verified.size < VERIFIED_MAX) verified.set(/** @type {string} */ (header), role);
    return true;
  }

  /** The 401 for a request without the token its route needs (the admin token on /admin/…), or null. */
  function refusal(req, pathname, found) {
    if (found && !found.route.auth) return null;
    const admin = isAdmin(pathname, found);
    if (tokenFits(req.headers.authorization, admin ? 'admin' : 'predict')) return null;
    const why = !req.headers.authorization
      ? `This endpoint needs a token: send "Authorization: Bearer <${admin ? 'admin token' : 'token'}>".`
      : admin
        ? 'The admin API needs the admin token; this token is not it.'
        : 'The token is not valid for this endpoint.';
    return new HttpError(401, why, {}, { 'WWW-Authenticate': `Bearer realm="millwright-edge${admin ? '-admin' : ''}"` });
  }

  /** Answers one request; never lets an exception or a stack reach the caller. */
  async function handle(req, res) {
    const started = process.hrtime.bigint();
    let label = 'unmatched';
    res.on('finish', () => countRequest(label, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9, isCheck(req)));
    const close = state.draining;
    try {
      const pathname = pathOf(req.url);
      const found = match(pathname);
      if (found) label = found.route.template;
      const admin = isAdmin(pathname, found);
      const refused = refusal(req, pathname, found);
      if (refused) throw refused;
      if (!found && admin) throw new HttpError(404, `Nothing at ${pathname}. Admin routes: /admin/status, /admin/bundle, /admin/rollback, /admin/shadow, /admin/monitoring.`);
      if (!found) throw new HttpError(404, `Nothing at ${pathname}. Routes: /predict, /metrics, /v2, /v2/health/live, /v2/health/ready, /v2/models/{name}[/ready|/infer].`);
      const method = req.method === 'HEAD' ? 'GET' : /** @type {string} */ (req.method);
      const handler = found.route.methods[method];
      if (!handler) {
        const allow = Object.keys(found.route.methods).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
        throw new HttpError(405, `${req.method} is not allowed on ${pathname}; use ${allow}.`, {}, { Allow: allow });
      }
      const result = await handler(req, found.params);
      if (result instanceof HttpError) throw result;
      if (result instanceof Text) send(res, 200, result.text, result.type, {}, close || state.draining);
      else sendJson(res, 200, result, {}, close || state.draining);
    } catch (e) {
      if (e instanceof HttpError) {
        // A refused request's body is not read: close rather than let the client send it all, but read and drop what is on its way meanwhile, so the client reads the answer.
        const refusedBody = e.status === 413 || (e.status === 401 && hasBody(req));
        if (refusedBody) lingerOnClose(req.socket);
        sendJson(res, e.status, { error: e.message, ...e.detail }, e.headers, close || state.draining || refusedBody);
      } else {
        logError(`${req.method} ${req.url}: ${e && e.stack ? e.stack : String(e)}`);
        sendJson(res, 500, { error: "The endpoint could not answer this request; its log has the details." }, {}, close || state.draining);
      }
    }
  }

  /**
   * A client that asks before sending its body ("Expect: 100-continue", as
   * curl does past 1 MB): one announcing too much, or without the route's
   * token, hears 413 or 401 before sending it.
   */
  function handleContinue(req, res) {
    let ok = true;
    try {
      const pathname = pathOf(req.url);
      const found = match(pathname);
      ok = !announcesTooMuch(req, found?.route.maxBody ?? maxBody) && !refusal(req, pathname, found);
    } catch {
      // not a URL: handle() answers 400
    }
    if (ok) res.writeContinue();
    return handle(req, res);
  }

  return { handle, handleContinue, predictObjects, countRequest, state };
}

/**
 * A deployment's smoke test ("X-Millwright-Check: smoke", sent by the app's
 * deploy checks): answered and counted in /metrics like any request, but left
 * out of the monitoring buckets and anomaly events, so the holdout rows it
 * sends right after a deploy are not judged as live traffic. Any holder of
 * the predict token could send it; it hides rows from monitoring only, never
 * from /metrics.
 */
const isCheck = (req) => req.headers['x-millwright-check'] === 'smoke';

const hasBody = (req) => Number(req.headers['content-length']) > 0 || req.headers['transfer-encoding'] !== undefined;

/** A plain-text answer. */
class Text {
  constructor(text, type) {
    this.text = text;
    this.type = type;
  }
}

/** @param {import('./model').LoadedModel} m */
function modelMetadata(m) {
  return {
    name: m.name,
    versions: [m.version],
    platform: 'onnxruntime',
    inputs: m.inputs.map((i) => ({ name: i.name, datatype: DATATYPES[i.type], shape: [-1] })),
    outputs: m.outputs.map((o) => ({ name: o.name, datatype: DATATYPES[o.type], shape: o.shape.map((d) => (typeof d === 'number' ? d : -1)) })),
  };
}

/**
 * One /predict answer: `prediction` is the class, the value, or "anomaly" /
 * "normal"; classifiers add `probabilities` by class, anomaly models `score`
 * and `anomaly`, linear models `contributions` by input.
 * @param {import('./model').LoadedModel} model
 * @param {import('./model').Answer} answer
 */
function predictionOf(model, answer, i) {
  const o = answer.outputs;
  /** @type {Record<string, unknown>} */
  const p = {};
  if (o.value) p.prediction = toJsonNumber(/** @type {number} */ (o.value.data[i]));
  if (o.label) p.prediction = o.label.data[i];
  if (o.probabilities) {
    const w = o.probabilities.width;
    const classes = model.signature.classes ?? [];
    /** @type {Record<string, unknown>} */
    const probs = {};
    for (let k = 0; k < w; k++) probs[classes[k] ?? String(k)] = toJsonNumber(/** @type {number} */ (o.probabilities.data[i * w + k]));
    p.probabilities = probs;
  }
  if (o.score) {
    const flagged = o.anomaly ? o.anomaly.data[i] === 1 : false;
    p.prediction = flagged ? 'anomaly' : 'normal';
    p.score = toJsonNumber(/** @type {number} */ (o.score.data[i]));
    p.anomaly = flagged;
  }
  if (o.contributions) {
    const w = o.contributions.width;
    /** @type {Record<string, unknown>} */
    const c = {};
    model.inputs.forEach((input, k) => {
      if (k < w) c[input.name] = toJsonNumber(/** @type {number} */ (o.contributions.data[i * w + k]));
    });
    p.contributions = c;
  }
  return p;
}

module.exports = { createApp, modelMetadata, predictionOf };
