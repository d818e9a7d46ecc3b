#!/usr/bin/env node
'use strict';
/**
 * Millwright's edge endpoint (DESIGN.md section 9): serves one bundle's ONNX
 * graph over HTTP with ONNX Runtime. Plain CommonJS, shipped as-is inside
 * deployment bundles; its only dependency is onnxruntime-node (and mqtt,
 * loaded only when --mqtt is given).
 *
 *   node server.js --bundle PATH [--port N] [--host H] [--token T] [--admin-token T] [--state DIR] [--key FILE]
 *
 * Standard output carries one JSON object a line (the bound address, tokens
 * generated at the first start, shutdown); problems go to standard error.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { parseOptions, UsageError, USAGE } = require('./lib/options');
const { BundleError, readBundle, verifyFiles } = require('./lib/bundle');
const { LoadedModel, ModelHolder, Streams } = require('./lib/model');
const { Metrics } = require('./lib/metrics');
const { SeqLog, StateStore, resolveTokens, lockStateDir } = require('./lib/state');
const { installAtStart } = require('./lib/installed');
const { Monitor } = require('./lib/monitor');
const { Shadow } = require('./lib/shadow');
const { ContextRows } = require('./lib/context');
const { adminRoutes } = require('./lib/admin');
const { createApp } = require('./lib/app');
const { MqttLink, MqttError, resolveSettings, clientIdFor } = require('./lib/mqtt');

const RUNTIME_VERSION = require('./package.json').version;

/** How long shutdown waits for requests in flight before closing their connections. */
const DRAIN_MS = 10_000;
/**
 * Anomaly events kept, and monitoring buckets kept (about a week of minutes).
 * The context rows around anomalies (context.js) have a cap of their own, as
 * many, so they never push an anomaly out (up to 24 of them go with each).
 * MILLWRIGHT_EVENTS_KEPT sets both caps lower, for tests.
 */
const EVENTS_KEPT = 10_000;
const BUCKETS_KEPT = 7 * 24 * 60;
/**
 * Slow and silent clients: a request's headers must arrive within `headers`
 * ms of the connection or of the request's start (Node answers 408 and
 * closes; a connection that never sends a byte is cut so too), the whole
 * request within `request` ms, checked every second rather than Node's 30 s
 * so a slowloris is cut on time. A connection with no traffic either way for
 * `idle` ms is closed unless a request on it is still being answered (Node
 * gives an answer stuck in writing a second period): a client that stops
 * reading its answers would otherwise hold it for ever.
 * MILLWRIGHT_TIMEOUTS_MS="headers,request,idle" sets them lower, for tests.
 */
const TIMEOUTS = { headers: 20_000, request: 60_000, idle: 60_000 };
/** --engine → the scorer's engine. */
const ENGINES = /** @type {const} */ ({ worker: 'worker', main: 'direct' });

/** MILLWRIGHT_EVENTS_KEPT: a whole number from 1 to EVENTS_KEPT, else the default. @param {string | undefined} v */
const keptFromEnv = (v) => (v && /^\d{1,6}$/.test(v) && Number(v) >= 1 && Number(v) <= EVENTS_KEPT ? Number(v) : null);
/** MILLWRIGHT_TIMEOUTS_MS: three whole numbers of ms, each from 1000 to its default, headers at most request; else the defaults. @param {string | undefined} v */
function timeoutsFromEnv(v) {
  const m = v ? /^(\d{4,6}),(\d{4,6}),(\d{4,6})$/.exec(v) : null;
  if (!m) return TIMEOUTS;
  const [headers, request, idle] = [m[1], m[2], m[3]].map(Number);
  const fits = headers <= TIMEOUTS.headers && request <= TIMEOUTS.request && idle <= TIMEOUTS.idle && headers <= request;
  return fits ? { headers, request, idle } : TIMEOUTS;
}
const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const warn = (message) => process.stderr.write(`millwright-edge: ${message}\n`);

/**
 * Starts the endpoint. Resolves once it listens; `swapBundle` replaces the
 * model without dropping requests, `stop` drains and saves.
 * @param {ReturnType<typeof parseOptions>} opts
 */
async function startEdgeServer(opts) {
  fs.mkdirSync(opts.state, { recursive: true, mode: 0o700 });
  const unlock = lockStateDir(opts.state);
  let model = null;
  try {
    const { key, installed, served, maxUnpacked } = installAtStart(opts, say, warn);
    model = await LoadedModel.open(served, { engine: ENGINES[opts.engine] });
    const tokens = resolveTokens(
      opts.state,
      { token: opts.token, adminToken: opts.adminToken },
      (role, token, file) => say({ token: { role, value: token, note: `Generated at first start and shown only now; only its SHA-256 digest is kept, in ${file}.` } }),
      warn,
    );
    const metrics = new Metrics();
    const eventsKept = keptFromEnv(process.env.MILLWRIGHT_EVENTS_KEPT) ?? EVENTS_KEPT;
    const events = new SeqLog(opts.state, eventsKept, 'events.jsonl', eventsKept);
    const buckets = new SeqLog(opts.state, BUCKETS_KEPT, 'buckets.jsonl');
    let store;
    const dirty = () => store.markDirty();
    const streams = new Streams(opts.maxSources, dirty);
    const monitor = new Monitor(buckets, dirty);
    const openModel = (b) => LoadedModel.open(b, { engine: ENGINES[opts.engine] });
    const shadow = new Shadow({ stateDir: opts.state, key, openModel, maxSources: opts.maxSources, tally: (p, s, t) => {
        monitor.shadowRows(p, s, t);
        metrics.shadow(s, t);
      }, onChange: dirty, warn });
    monitor.shadowOf = () => shadow.status();
    const context = new ContextRows((e) => events.add(e), opts.maxSources, dirty);
    store = new StateStore(opts.state, { metrics, streams, events, buckets, monitor, shadow, context }, warn);
    store.load();
    await shadow.load();
    const holder = new ModelHolder(model);
    const admin = adminRoutes({
      holder,
      installed,
      key,
      openModel,
      metrics,
      monitor,
      shadow,
      events,
      buckets,
      save: () => store.save(),
      identity: () => ({ stateId: store.stateId, run: store.run }),
      maxBundle: opts.maxBundle,
      maxUnpacked,
      runtimeVersion: RUNTIME_VERSION,
      startedAt: new Date().toISOString(),
      log: say,
    });
    const app = createApp({ holder, streams, metrics, context, tokens, maxBody: opts.maxBody, monitor, shadow, admin, runtimeVersion: RUNTIME_VERSION, onChange: dirty, logError: warn });

    const timeouts = timeoutsFromEnv(process.env.MILLWRIGHT_TIMEOUTS_MS);
    /** While a request is being answered, its connection's idle timeout is ignored (a listener on the answer keeps Node from closing it). */
    const answering = (handler) => (req, res) => {
      const busy = () => undefined;
      res.on('timeout', busy);
      void handler(req, res).finally(() => res.off('timeout', busy));
    };
    const server = http.createServer({ requestTimeout: timeouts.request, headersTimeout: timeouts.headers, connectionsCheckingInterval: 1000 }, answering(app.handle));
    server.setTimeout(timeouts.idle);
    server.on('checkContinue', answering(app.handleContinue));
    const mqtt = opts.mqtt
      ? new MqttLink(resolveSettings(opts.mqtt, model.name), { predictObjects: app.predictObjects, countRequest: app.countRequest, metrics, maxBody: opts.maxBody, clientId: clientIdFor(opts.state), say, warn, logError: warn })
      : null;
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve(undefined);
      });
    });
    store.start();
    mqtt?.start();
    const addr = /** @type {import('node:net').AddressInfo} */ (server.address());

    let stopping = null;
    return {
      address: { host: addr.address, port: addr.port },
      holder,
      events,
      /** Installs another bundle (folder or .tar.gz, checked with the pinned key) and switches to it, as a push does; requests in flight finish on the old model. */
      async swapBundle(where) {
        const checked = verifyFiles(readBundle(where, maxUnpacked), where, key);
        const next = await LoadedModel.open(installed.install(checked), { engine: ENGINES[opts.engine] });
        installed.served(checked);
        return holder.swap(next);
      },
      /** Stops taking connections, lets requests in flight finish (up to DRAIN_MS), saves the state. */
      stop() {
        if (stopping) return stopping;
        app.state.draining = true;
        const mqttStopped = mqtt ? mqtt.stop() : Promise.resolve();
        stopping = new Promise((resolve) => {
          const force = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
          server.close(async () => {
            clearTimeout(force);
            await mqttStopped;
            // The shadow's comparisons of the last rows answered go into the buckets saved.
            await shadow.idle();
            store
              .stop()
              .catch((e) => warn(`Cannot save the state at shutdown: ${e.message}`))
              .finally(() => {
                holder.close();
                shadow.stop();
                unlock();
                resolve(undefined);
              });
          });
          server.closeIdleConnections();
        });
        return stopping;
      },
    };
  } catch (e) {
    unlock();
    model?.release();
    throw e;
  }
}

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    warn(e.message);
    process.stderr.write(`\n${USAGE}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let edge;
  try {
    edge = await startEdgeServer(opts);
  } catch (e) {
    const known = e instanceof BundleError || e instanceof MqttError || (e && (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL'));
    warn(`cannot start: ${known ? e.message : e && e.stack ? e.stack : String(e)}`);
    process.exit(1);
  }
  const m = edge.holder.current;
  say({ model: { name: m.name, version: m.version, task: m.signature.task, inputs: m.inputs.length, historyRows: m.historyRows, bundle: path.resolve(opts.bundle) } });

  let signals = 0;
  const onSignal = (signal) => {
    signals++;
    if (signals > 1) {
      warn(`${signal} again: stopping now without waiting for requests in flight.`);
      process.exit(1);
    }
    const stopped = edge.stop();
    say({ stopping: { signal } });
    void stopped.then(() => {
      say({ stopped: { signal } });
      process.exit(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Started by a supervisor with an IPC channel (millwright serve): when it dies, even by SIGKILL, the channel closes and the endpoint stops as on SIGTERM instead of running on unowned.
  if (process.channel) process.once('disconnect', () => onSignal('disconnect'));
  // Only now: a supervisor that stops the endpoint as soon as it listens must find the handlers in place.
  say({ listening: edge.address });
}

if (require.main === module) {
  main().catch((e) => {
    warn(e && e.stack ? e.stack : String(e));
    process.exit(1);
  });
}

module.exports = { startEdgeServer };
