'use strict';
/**
 * Command-line options and environment variables of the edge endpoint.
 * A flag wins over its environment variable, which wins over the default.
 */
const fs = require('node:fs');
const path = require('node:path');

const USAGE = `Usage: node server.js --bundle PATH [options]

  --bundle PATH        the bundle: its .tar.gz (unpacked into the state
                       folder) or its unpacked folder                      (MILLWRIGHT_BUNDLE)
  --port N             TCP port, 0 for any free one; default 8080          (MILLWRIGHT_PORT)
  --host H             address to listen on; default 127.0.0.1             (MILLWRIGHT_HOST)
  --token T            bearer token for predictions and metrics            (MILLWRIGHT_TOKEN)
  --admin-token T      bearer token for the admin API                      (MILLWRIGHT_ADMIN_TOKEN)
  --state DIR          counters, tokens, history rows, anomaly events,
                       monitoring, the installed bundles, the pinned key;
                       default: "state" beside the bundle                  (MILLWRIGHT_STATE)
  --key FILE           the workspace's public key (PEM) every bundle's
                       manifest.sig must verify with; default: the key
                       pinned in the state folder, or at the first start
                       the first bundle's own workspace-key.pub.pem        (MILLWRIGHT_KEY)
  --max-body SIZE      largest request body, e.g. 1048576, 512k, 2m;
                       default 1m                                          (MILLWRIGHT_MAX_BODY)
  --max-bundle SIZE    largest bundle pushed to /admin/bundle; a bundle
                       may unpack to 4 times this; default 256m            (MILLWRIGHT_MAX_BUNDLE)
  --max-sources N      time-series streams kept; default 1000              (MILLWRIGHT_MAX_SOURCES)
  --engine E           where ONNX Runtime scores: "worker" (a thread of
                       its own, so requests keep being read meanwhile) or
                       "main" (the event loop's thread: the least CPU per
                       request, for machines of 1 or 2 cores that also run
                       the callers); default worker                        (MILLWRIGHT_ENGINE)
  --mqtt URL           also take rows from an MQTT broker, mqtt://host:1883
                       or mqtts://host:8883                                (MILLWRIGHT_MQTT_URL)
  --mqtt-in TOPIC      where rows arrive, as /predict bodies (+ and #
                       allowed; each topic is then its own source);
                       default millwright/<model>/in                       (MILLWRIGHT_MQTT_IN)
  --mqtt-out TOPIC     where each row's prediction goes; anomalies also to
                       TOPIC/anomaly, unusable messages to TOPIC/errors;
                       default millwright/<model>/out                      (MILLWRIGHT_MQTT_OUT)
  --mqtt-username U    user name at the broker                             (MILLWRIGHT_MQTT_USERNAME)
  --mqtt-password P    password at the broker                              (MILLWRIGHT_MQTT_PASSWORD)
  --mqtt-ca FILE       CA certificate (PEM) the mqtts:// broker's
                       certificate must chain to                           (MILLWRIGHT_MQTT_CA)
  --help               this text

A token that is not given is generated at the first start, printed once, and
only its SHA-256 digest is kept in the state folder, so a restart keeps it.
Tokens given on the command line show in the process list: prefer the
environment variables.

Bundles must be signed: manifest.sig must verify with the pinned key, at
every start and every push, and every file must match its sha256 in
manifest.json. A pushed bundle is served again after a restart, unless
--bundle names another bundle than at the last start: that one is then
served, as a new installation.`;

const FLAGS = {
  bundle: 'MILLWRIGHT_BUNDLE',
  port: 'MILLWRIGHT_PORT',
  host: 'MILLWRIGHT_HOST',
  token: 'MILLWRIGHT_TOKEN',
  'admin-token': 'MILLWRIGHT_ADMIN_TOKEN',
  state: 'MILLWRIGHT_STATE',
  'max-body': 'MILLWRIGHT_MAX_BODY',
  'max-sources': 'MILLWRIGHT_MAX_SOURCES',
  engine: 'MILLWRIGHT_ENGINE',
  key: 'MILLWRIGHT_KEY',
  'max-bundle': 'MILLWRIGHT_MAX_BUNDLE',
  mqtt: 'MILLWRIGHT_MQTT_URL',
  'mqtt-in': 'MILLWRIGHT_MQTT_IN',
  'mqtt-out': 'MILLWRIGHT_MQTT_OUT',
  'mqtt-username': 'MILLWRIGHT_MQTT_USERNAME',
  'mqtt-password': 'MILLWRIGHT_MQTT_PASSWORD',
  'mqtt-ca': 'MILLWRIGHT_MQTT_CA',
};

/** Tokens shorter than this are refused: they could be guessed. */
const MIN_TOKEN_LENGTH = 16;

class UsageError extends Error {}

/**
 * @param {string[]} argv arguments after the script name
 * @param {Record<string, string | undefined>} env
 * @returns {{ help: boolean, bundle: string, port: number, host: string, token: string | null, adminToken: string | null, state: string, maxBody: number, maxSources: number, key: string | null, maxBundle: number, engine: 'worker' | 'main', mqtt: MqttOptions | null }}
 */
function parseOptions(argv, env) {
  /** @type {Record<string, string>} */
  const given = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m || !Object.hasOwn(FLAGS, m[1])) throw new UsageError(`Unknown option "${arg}".`);
    let value = m[2];
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${m[1]} needs a value.`);
      value = argv[++i];
    }
    given[m[1]] = value;
  }
  const get = (flag) => (given[flag] !== undefined ? given[flag] : env[FLAGS[flag]] !== undefined && env[FLAGS[flag]] !== '' ? env[FLAGS[flag]] : undefined);
  if (help) return { help: true, bundle: '', port: 0, host: '', token: null, adminToken: null, state: '', maxBody: 0, maxSources: 0, key: null, maxBundle: 0, engine: 'worker', mqtt: null };

  const bundle = get('bundle');
  if (!bundle) throw new UsageError('--bundle PATH is needed: the bundle\'s .tar.gz, or the folder holding its manifest.json and model.onnx.');
  const port = integer(get('port') ?? '8080', '--port', 0, 65535);
  const host = get('host') ?? '127.0.0.1';
  const token = tokenOption(get('token'), '--token');
  const adminToken = tokenOption(get('admin-token'), '--admin-token');
  if (token !== null && token === adminToken) throw new UsageError('--token and --admin-token must differ: the admin token can replace the model.');
  const bundleDir = path.resolve(bundle);
  const state = path.resolve(get('state') ?? path.join(bundleDir, '..', 'state'));
  const maxBody = size(get('max-body') ?? '1m', '--max-body');
  const maxBundle = size(get('max-bundle') ?? '256m', '--max-bundle');
  const keyFile = get('key');
  const key = keyFile === undefined ? null : path.resolve(keyFile);
  const maxSources = integer(get('max-sources') ?? '1000', '--max-sources', 1, 1_000_000);
  const engine = get('engine') ?? 'worker';
  if (engine !== 'worker' && engine !== 'main') throw new UsageError(`--engine must be "worker" or "main", got "${engine}".`);
  return { help: false, bundle: bundleDir, port, host, token, adminToken, state, maxBody, maxSources, key, maxBundle, engine, mqtt: mqttOptions(get) };
}

/**
 * @typedef {{ url: string, inTopic: string | null, outTopic: string | null, username: string | null, password: string | null, ca: Buffer | null }} MqttOptions
 * Topics left null take defaults from the model's name at start.
 */

/** @param {(flag: string) => string | undefined} get @returns {MqttOptions | null} */
function mqttOptions(get) {
  const url = get('mqtt');
  if (url === undefined) {
    const stray = ['mqtt-in', 'mqtt-out', 'mqtt-username', 'mqtt-password', 'mqtt-ca'].find((f) => get(f) !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --mqtt URL, the broker to connect to.`);
    return null;
  }
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--mqtt must be a broker address such as mqtt://broker:1883 or mqtts://broker:8883, got "${url}".`);
  }
  if ((parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') || !parsed.hostname) {
    throw new UsageError(`--mqtt must start with mqtt:// or mqtts:// and name a host, got "${url}".`);
  }
  const inTopic = topicOption(get('mqtt-in'), '--mqtt-in', true);
  const outTopic = topicOption(get('mqtt-out'), '--mqtt-out', false);
  const caFile = get('mqtt-ca');
  let ca = null;
  if (caFile !== undefined) {
    if (parsed.protocol !== 'mqtts:') throw new UsageError('--mqtt-ca is for mqtts:// brokers; the --mqtt address is not encrypted.');
    try {
      ca = fs.readFileSync(path.resolve(caFile));
    } catch (e) {
      throw new UsageError(`--mqtt-ca: cannot read ${path.resolve(caFile)} (${e.code ?? e.message}).`);
    }
  }
  return { url, inTopic, outTopic, username: get('mqtt-username') ?? null, password: get('mqtt-password') ?? null, ca };
}

/** An MQTT topic; wildcards only where they may stand (a whole level, # last) and only in the one subscribed to. */
function topicOption(value, what, wildcards) {
  if (value === undefined) return null;
  if (!value || value.includes('\0') || Buffer.byteLength(value) > 65535) throw new UsageError(`${what} must be a topic name such as plant/line1/readings.`);
  const levels = value.split('/');
  const bad = wildcards
    ? levels.some((l, i) => (l.includes('#') && (l !== '#' || i !== levels.length - 1)) || (l.includes('+') && l !== '+'))
    : /[+#]/.test(value);
  if (bad) {
    throw new UsageError(wildcards ? `${what}: a wildcard must be a whole level ("+", or "#" at the end), got "${value}".` : `${what} is where answers are published, so it cannot hold the wildcards + or #; got "${value}".`);
  }
  return value;
}

function integer(text, what, min, max) {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a whole number, got "${text}".`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${what} must be between ${min} and ${max}, got ${n}.`);
  return n;
}

function size(text, what) {
  const m = /^(\d+)\s*([kmKM]?)[bB]?$/.exec(text.trim());
  if (!m) throw new UsageError(`${what} must be a size in bytes such as 1048576, 512k or 2m, got "${text}".`);
  const n = Number(m[1]) * (m[2].toLowerCase() === 'k' ? 1024 : m[2].toLowerCase() === 'm' ? 1024 * 1024 : 1);
  if (n < 1024 || n > 1024 * 1024 * 1024) throw new UsageError(`${what} must be between 1k and 1024m.`);
  return n;
}

function tokenOption(value, what) {
  if (value === undefined) return null;
  if (value.length < MIN_TOKEN_LENGTH || /\s/.test(value)) throw new UsageError(`${what} must be at least ${MIN_TOKEN_LENGTH} characters without spaces.`);
  return value;
}

module.exports = { parseOptions, UsageError, USAGE };
