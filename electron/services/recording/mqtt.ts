/**
 * The MQTT source driver (mqtt.js): one connection to a broker that listens to
 * the source's topic filter from connect on and keeps the last value of every
 * tag it hears, so browsing shows live values and reading is instant.
 *
 * Payloads are read three ways (MqttSettings.payload):
 * - json: every numeric, boolean or text field of a JSON object is a tag
 *   `topic#dotted.path` (a JSON number on its own is the tag `topic`);
 * - number: the payload is one number (or true/false), the tag is the topic;
 * - sparkplug: Sparkplug B births and data, tags `spBv1.0/GROUP/NODE[/DEVICE]#METRIC`.
 * A message that does not parse as the chosen kind is skipped.
 *
 * The driver does not reconnect (reconnectPeriod 0): the recorder owns retries.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import { missedBirthNote, REBIRTH_APP_HINT, type BrowseNode, type BrowseResult, type LiveValue, type MqttSettings, type Tag } from '../../../shared/recording';
import { ConnectError, type ConnectOptions, type Driver, type DriverConnection, type Sample, type Subscription, type UnreadableTags } from './driver';
import { encodePayload, isControlMetric, SparkplugDecoder, sparkplugTopic, type SparkplugMessage } from './sparkplug';

type PayloadKind = MqttSettings['payload'];
type Value = number | boolean | string | null;

/** Browse returns at most this many nodes (truncated says there were more). */
export const MAX_BROWSE_NODES = 2000;
/** Tags whose last value is kept; past this, only tags asked for by read/subscribe are added. */
const MAX_HEARD = 20_000;
/** Fields taken from one JSON message, array items per array, nesting depth. */
const MAX_FIELDS = 1000;
const MAX_ARRAY_ITEMS = 10;
const MAX_DEPTH = 8;
/** read() waits this long for tags not heard yet. */
const READ_WAIT_MS = 3000;
const DEFAULT_TIMEOUT_MS = 10_000;
const NOTHING_HEARD = 'Nothing heard yet';
/** Ask an edge node for its births again at most this often (Sparkplug, when settings.rebirth is on). */
const REBIRTH_EVERY_MS = 60_000;
/** Rebirth on: an edge node asked for its births that has not sent them after this long is reported as one whose birth was missed. */
export const REBIRTH_ANSWER_MS = 10_000;
/** The count of unreadable messages a recording's status says changes when it reaches 1, 10, 100, … or at most this often (not with every message). */
const UNREADABLE_COUNT_EVERY_MS = 60_000;

/** One tag's value in one message. */
export interface Reading {
  tag: string;
  /** The folder it is listed under in browse (the topic for JSON, the edge node or device for Sparkplug); null for none. */
  folder: string | null;
  /** Name parts from the root, used for the column name: topic levels and the field. */
  parts: string[];
  value: Value;
  /** "number", "boolean", "string", "null"; Sparkplug's own type names ("Double", "Int32"…). */
  dataType: string;
  /** The timestamp the payload gives for this value (ms), null when none. */
  t: number | null;
  unit: string | null;
}

/** What one message says. */
export interface ParsedMessage {
  readings: Reading[];
  /**
   * True when the message stands for every tag of its topic (JSON and plain
   * numbers): a picked field missing from it is recorded as bad. Sparkplug data
   * messages carry only what changed, so a missing metric is not bad.
   */
  whole: boolean;
  /** Sparkplug NDEATH/DDEATH: tag ids starting with one of these have no value any more. */
  dead: string[];
  sparkplug: SparkplugMessage | null;
}

const NUMBER_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Numbers as they are, booleans as 1/0, numeric text parsed; null otherwise. */
export function toNumber(v: Value): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && NUMBER_TEXT.test(v.trim())) return Number(v.trim());
  return null;
}

const topicParts = (topic: string) => topic.split('/').filter((p) => p !== '');

// Plausible epochs (1990..2100) in s, ms, µs and ns.
const EPOCH_MS = { min: 631_152_000_000, max: 4_102_444_800_000 };

/** A payload timestamp as ms since 1970: ISO 8601 text or epoch seconds/ms/µs/ns. Null when it is not one. */
export function parseTimestamp(v: unknown): number | null {
  if (typeof v === 'string') {
    const s = v.trim();
    if (NUMBER_TEXT.test(s)) return parseTimestamp(Number(s));
    if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return null;
    const t = Date.parse(s);
    return Number.isFinite(t) ? t : null;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return null;
  for (const scale of [1, 1e-3, 1e3, 1e6]) {
    const ms = scale === 1e-3 ? v * 1000 : v / scale;
    if (ms >= EPOCH_MS.min && ms <= EPOCH_MS.max) return Math.round(ms);
  }
  return null;
}

const TIME_FIELDS = ['timestamp', 'time', 'ts', 'datetime', 'date_time', 't'];

function jsonTimestamp(obj: Record<string, unknown>): number | null {
  const keys = new Map(Object.keys(obj).map((k) => [k.toLowerCase(), k]));
  for (const f of TIME_FIELDS) {
    const k = keys.get(f);
    if (k === undefined) continue;
    const t = parseTimestamp(obj[k]);
    if (t !== null) return t;
  }
  return null;
}

function flatten(v: unknown, path: string, depth: number, out: [string, Value][]): void {
  if (out.length >= MAX_FIELDS) return;
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') {
    out.push([path, v]);
  } else if (depth < MAX_DEPTH && Array.isArray(v)) {
    v.slice(0, MAX_ARRAY_ITEMS).forEach((item, i) => flatten(item, path ? `${path}.${i}` : String(i), depth + 1, out));
  } else if (depth < MAX_DEPTH && typeof v === 'object') {
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) flatten(item, path ? `${path}.${k}` : k, depth + 1, out);
  }
}

const typeOfValue = (v: Value): string => (v === null ? 'null' : typeof v);

function parseJson(topic: string, text: string): ParsedMessage | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  const t = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? jsonTimestamp(doc as Record<string, unknown>) : null;
  const fields: [string, Value][] = [];
  flatten(doc, '', 0, fields);
  const parts = topicParts(topic);
  const readings = fields.map(([path, value]): Reading =>
    path === ''
      ? { tag: topic, folder: null, parts, value, dataType: typeOfValue(value), t, unit: null }
      : { tag: `${topic}#${path}`, folder: topic, parts: [...parts, path], value, dataType: typeOfValue(value), t, unit: null },
  );
  return { readings, whole: true, dead: [], sparkplug: null };
}

function parseNumber(topic: string, text: string): ParsedMessage | null {
  const s = text.trim();
  let value: Value;
  if (NUMBER_TEXT.test(s)) value = Number(s);
  else if (/^(true|false)$/i.test(s)) value = s.toLowerCase() === 'true';
  else return null;
  return { readings: [{ tag: topic, folder: null, parts: topicParts(topic), value, dataType: typeOfValue(value), t: null, unit: null }], whole: true, dead: [], sparkplug: null };
}

function parseSparkplug(topic: string, payload: Uint8Array, decoder: SparkplugDecoder): ParsedMessage | null {
  const msg = decoder.handle(topic, payload);
  if (!msg) return null;
  const { group, node, device, folder, type } = msg.topic;
  const base = [group, node, ...(device ? [device] : [])];
  const dead = type === 'NDEATH' ? [`${folder}#`, `${folder}/`] : type === 'DDEATH' ? [`${folder}#`] : [];
  return {
    readings: msg.readings.map((r) => ({ tag: r.tag, folder, parts: [...base, r.metric.replace(/\//g, '.')], value: r.value, dataType: r.dataType, t: r.t, unit: r.unit })),
    whole: false,
    dead,
    sparkplug: msg,
  };
}

/**
 * What a message says, read as `kind`; null when it does not parse as that
 * kind (the message is then skipped). `decoder` keeps Sparkplug births between calls.
 */
export function parseMessage(kind: PayloadKind, topic: string, payload: Uint8Array, decoder: SparkplugDecoder): ParsedMessage | null {
  if (kind === 'sparkplug') return parseSparkplug(topic, payload, decoder);
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  return kind === 'number' ? parseNumber(topic, text) : parseJson(topic, text);
}

/**
 * The topic filters to subscribe to for a tag, and example topics its values
 * arrive on (to check whether the source's own filter already covers them).
 * Sparkplug tags need their edge node's births too, for the aliases.
 */
export function tagTopics(kind: PayloadKind, tagId: string): { filters: string[]; samples: string[] } {
  const topic = kind === 'json' ? tagId.split('#', 1)[0]! : kind === 'number' ? tagId : null;
  if (topic !== null) return { filters: [topic], samples: [topic] };
  const [ns, group, node, device] = tagId.split('#', 1)[0]!.split('/');
  const birth = sparkplugTopic(group ?? '', 'NBIRTH', node ?? '');
  if (device === undefined) return { filters: [[ns, group, '+', node].join('/')], samples: [birth, sparkplugTopic(group ?? '', 'NDATA', node ?? '')] };
  return {
    filters: [[ns, group, '+', node, device].join('/'), birth],
    samples: [birth, sparkplugTopic(group ?? '', 'DBIRTH', node ?? '', device), sparkplugTopic(group ?? '', 'DDATA', node ?? '', device)],
  };
}

/** The MQTT topic a JSON or plain-number tag's values arrive on. */
function tagTopic(kind: PayloadKind, tagId: string): string {
  return kind === 'json' ? tagId.split('#', 1)[0]! : tagId;
}

/** True when `topic` matches the subscription `filter` (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return !(i === 0 && topic.startsWith('$'));
    if (i >= t.length) return false;
    if (f[i] === '+') {
      if (i === 0 && topic.startsWith('$')) return false;
      continue;
    }
    if (f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A topic filter a broker accepts: `#` only as the last level, `+` only as a whole level. */
export function validTopicFilter(filter: string): boolean {
  if (!filter || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((l, i) => (l.includes('#') ? l === '#' && i === levels.length - 1 : !l.includes('+') || l === '+'));
}

/** Name parts joined with dots from `from` on; at most 200 characters (the end is kept). */
const joinName = (parts: string[], from: number) => {
  const s = parts.slice(Math.max(0, from)).join('.');
  return s.length > 200 ? s.slice(s.length - 200) : s;
};

/**
 * The column name a tag gets on its own: the last topic level and the field
 * (`pump1.motor.current`), the last two topic levels for plain numbers
 * (`pump1.temperature`), the device (or node) and metric for Sparkplug.
 */
export function defaultTagName(parts: string[]): string {
  return joinName(parts, parts.length - 2);
}

/** Column names for tags heard together: the default, with more topic levels in front where two would be the same. */
function uniqueNames(entries: { tag: string; parts: string[] }[]): Map<string, string> {
  const level = new Map(entries.map((e) => [e.tag, 2]));
  const partsOf = new Map(entries.map((e) => [e.tag, e.parts]));
  const names = new Map<string, string>();
  for (let round = 0; round < 32; round++) {
    names.clear();
    const byName = new Map<string, string[]>();
    for (const e of entries) {
      const name = joinName(e.parts, e.parts.length - level.get(e.tag)!);
      names.set(e.tag, name);
      const same = byName.get(name);
      if (same) same.push(e.tag);
      else byName.set(name, [e.tag]);
    }
    let changed = false;
    for (const tags of byName.values()) {
      if (tags.length < 2) continue;
      for (const tag of tags) {
        if (level.get(tag)! < partsOf.get(tag)!.length) {
          level.set(tag, level.get(tag)! + 1);
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  const seen = new Map<string, number>();
  for (const n of names.values()) seen.set(n, (seen.get(n) ?? 0) + 1);
  for (const [tag, n] of names) if (seen.get(n)! > 1) names.set(tag, tag.length > 200 ? tag.slice(tag.length - 200) : tag);
  return names;
}

interface Heard extends Reading {
  receivedAt: number;
}

interface Target {
  host: string;
  port: number;
  secure: boolean;
  /** mqtt://host:port (with the path for WebSockets). */
  display: string;
}

const PROTOCOLS: Record<string, { port: number; secure: boolean }> = {
  'mqtt:': { port: 1883, secure: false },
  'mqtts:': { port: 8883, secure: true },
  'ws:': { port: 80, secure: false },
  'wss:': { port: 443, secure: true },
};

function parseBrokerUrl(raw: string): Target {
  const text = raw.trim();
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ConnectError('bad_url', `"${text}" is not a broker address. Write it as mqtt://host:1883 (or mqtts://, ws://, wss://).`);
  }
  const proto = PROTOCOLS[u.protocol];
  if (!proto) {
    throw new ConnectError('bad_url', `The broker address must start with mqtt://, mqtts://, ws:// or wss://, for example mqtt://${/^[\w.-]+:\d+$/.test(text) ? text : '192.168.0.10:1883'}.`);
  }
  if (!u.hostname) throw new ConnectError('bad_url', `The broker address "${text}" has no host name. Write it as ${u.protocol}//host:${proto.port}.`);
  const port = u.port ? Number(u.port) : proto.port;
  const ws = u.protocol === 'ws:' || u.protocol === 'wss:';
  return { host: u.hostname, port, secure: proto.secure, display: `${u.protocol}//${u.hostname}:${port}${ws && u.pathname !== '/' ? u.pathname : ''}` };
}

function readFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is no such file' : 'it cannot be read';
    throw new ConnectError('tls', `The ${what} file ${file} cannot be used: ${why}. Choose it again under Advanced.`);
  }
}

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
]);

/** A connect failure in words, with what to do. */
function connectError(err: unknown, target: Target, s: MqttSettings, handshakeDone = true): ConnectError {
  const e = err as { code?: unknown; message?: string };
  const code = e.code;
  const where = `${target.host}:${target.port}`;
  const message = e.message ?? String(err);
  if (typeof code === 'number') {
    if (code === 4 || code === 5 || code === 134 || code === 135) {
      return s.username
        ? new ConnectError('wrong_credentials', `The broker at ${where} refused the user name "${s.username}" or its password. Check both (they are case-sensitive) and connect again.`)
        : new ConnectError('wrong_credentials', `The broker at ${where} does not let anonymous clients in. Enter a user name and password, then connect again.`);
    }
    if (code === 1 || code === 132) return new ConnectError('other', `The broker at ${where} does not speak MQTT 3.1.1, the version Millwright uses.`);
    if (code === 2 || code === 133) return new ConnectError('rejected_by_server', `The broker at ${where} refused this client's id. Try again; if it keeps refusing, ask its administrator which client ids it accepts.`);
    if (code === 138) return new ConnectError('rejected_by_server', `The broker at ${where} has banned this client. Ask its administrator.`);
    if (code === 3 || code === 136 || code === 137 || code === 139) return new ConnectError('other', `The broker at ${where} is not available just now (${message.replace(/^Connection refused: /, '')}). Try again in a moment.`);
    return new ConnectError('rejected_by_server', `The broker at ${where} refused the connection (${message.replace(/^Connection refused: /, '')}).`);
  }
  if (typeof code === 'string') {
    if (code === 'ECONNREFUSED') return new ConnectError('unreachable', `Nothing answers at ${where}. Check the host and port, and that the broker is running.`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ConnectError('unreachable', `No computer named "${target.host}" was found. Check the broker's host name.`);
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') return new ConnectError('unreachable', `${target.host} cannot be reached from this PC (port ${target.port}). Check the network and the address.`);
    if (code === 'ETIMEDOUT') return new ConnectError('timeout', `The broker at ${where} did not answer in time. Check the host and port, and that a firewall lets this PC through.`);
    if (UNTRUSTED.has(code)) {
      return new ConnectError(
        'tls',
        s.caFile
          ? `The broker's certificate is not signed by the CA certificate ${s.caFile}. Add the broker's own CA certificate under Advanced, then connect again.`
          : `The broker's certificate is not trusted (it is self-signed or signed by an authority this PC does not know). Add the broker's CA certificate under Advanced, then connect again.`,
      );
    }
    if (code === 'CERT_HAS_EXPIRED') return new ConnectError('tls', `The broker's certificate has expired. Ask the broker's administrator to renew it (or check this PC's clock).`);
    if (code === 'CERT_NOT_YET_VALID') return new ConnectError('tls', `The broker's certificate is not valid yet. Check this PC's clock, or ask the broker's administrator.`);
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new ConnectError('tls', `The broker's certificate is not for "${target.host}". Use the host name the certificate was made for in the address, or ask the broker's administrator for a certificate that names ${target.host}.`);
    }
    if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN/.test(code)) {
      return s.clientCertFile
        ? new ConnectError('tls', `The broker refused this PC's client certificate ${s.clientCertFile}. Check that it is the one the broker's administrator gave you, with its key, under Advanced.`)
        : new ConnectError('tls', `The broker asks for a client certificate. Add the certificate and its key under Advanced, then connect again.`);
    }
    if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || code.startsWith('ERR_TLS_')) {
      return new ConnectError('tls', `The secure connection to ${where} failed (${message}). Check that ${target.port} is the broker's TLS port (often 8883), or use mqtt:// for a port without TLS.`);
    }
    if (code === 'ECONNRESET' || code === 'EPIPE') return closedEarly(target, handshakeDone);
  }
  if (message === 'TLS not authorized') return new ConnectError('tls', `The broker's certificate is not trusted. Add the broker's CA certificate under Advanced, then connect again.`);
  if (message === 'connack timeout') return timedOut(target);
  return new ConnectError('other', `Could not connect to the broker at ${where}: ${message.replace(/\.$/, '')}.`);
}

const timedOut = (t: Target) =>
  new ConnectError('timeout', `The broker at ${t.host}:${t.port} did not answer in time. Check the host and port, and that a firewall lets this PC through.`);

/** The broker hung up before CONNACK (`handshakeDone` false: before the TLS handshake finished). */
function closedEarly(t: Target, handshakeDone: boolean): ConnectError {
  const where = `${t.host}:${t.port}`;
  if (t.secure && !handshakeDone) {
    return new ConnectError('tls', `The broker at ${where} hung up before the secure connection was set up. Check that ${t.port} is the broker's TLS port (often 8883), or use mqtt:// for a port without TLS.`);
  }
  return new ConnectError(
    'other',
    t.secure
      ? `The broker at ${where} closed the connection before answering. Check the port and the certificates under Advanced.`
      : `The broker at ${where} closed the connection before answering. If the broker expects TLS on this port, use mqtts:// in the address.`,
  );
}

/** Why an open connection ended, in words. */
function lostReason(err: Error | null, target: Target): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (!err) return `The broker at ${target.host}:${target.port} closed the connection.`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `The connection to the broker at ${target.host}:${target.port} was cut.`;
  if (/keepalive/i.test(err.message)) return `The broker at ${target.host}:${target.port} stopped answering.`;
  return `Lost the connection to the broker at ${target.host}:${target.port}: ${err.message.replace(/\.$/, '')}.`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const pad2 = (n: number) => String(n).padStart(2, '0');

/** A time of this PC's clock as a person reads it: "10:42" today, "27 Nov 10:42" on another day. */
export function clockTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  return d.toDateString() === new Date(now).toDateString() ? hm : `${d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })} ${hm}`;
}

/** Tag names as a list in words: "Temperature", "Temperature and Pressure", "Temperature, Pressure and 4 more tags". */
function tagList(names: string[]): string {
  if (names.length <= 3) return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;
  return `${names.slice(0, 2).join(', ')} and ${names.length - 2} more tags`;
}

const messageCount = (n: number) => (n === 1 ? 'one message' : `${n.toLocaleString('en-US')} messages`);

/**
 * What a recording says about one Sparkplug edge node `node` (GROUP/NODE)
 * whose picked tags cannot be read because its birth was missed: the same
 * facts as browse's missedBirthNote, with since when, which tags are not being
 * recorded and, with rebirth on, when it was asked for its birth
 * (`askedAt`). `messages` is a coarse count (see Unreadable.shown), hence
 * "at least". What to do comes once after all nodes: missedBirthAdvice.
 */
export function missedBirthStatus(node: string, messages: number, since: number, tagNames: string[], askedAt: number | null, now = Date.now()): string {
  const tags = tagList(tagNames);
  return (
    `Edge node ${node}: at least ${messageCount(messages)} could not be read since ${clockTime(since, now)} because its birth message was missed (it sends values by alias only), ` +
    `so ${tags} ${tagNames.length === 1 ? 'is' : 'are'} not being recorded.` +
    (askedAt === null ? '' : ` Millwright asked it for its birth at ${clockTime(askedAt, now)}, no answer yet.`)
  );
}

/** What to do about `nodes` edge nodes whose birth was missed: restart them or (rebirth off) let Millwright ask; (rebirth on) check why they do not answer. */
export function missedBirthAdvice(nodes: number, rebirth: boolean): string {
  const that = nodes === 1 ? 'that edge node' : 'those edge nodes';
  return rebirth
    ? `Restart ${that}, or ask its administrator to check that ${nodes === 1 ? 'it answers' : 'they answer'} the Sparkplug Rebirth request and that the broker lets Millwright send it.`
    : `Restart ${that}, or ${REBIRTH_APP_HINT}.`;
}

/** Browse's note, rebirth on: an edge node whose birth was missed and that did not answer the Rebirth request. */
function unansweredRebirthNote(node: string, messages: number, askedAt: number, now = Date.now()): string {
  return `Edge node ${node} sends values by alias only and its birth message was missed, so ${messageCount(messages)} could not be read. Millwright asked it for its birth at ${clockTime(askedAt, now)}, no answer yet. ${missedBirthAdvice(1, true)}`;
}

/** True for 1, 10, 100, 1,000 …: where the count a status says moves on. */
const isPowerOfTen = (n: number) => n >= 1 && 10 ** Math.round(Math.log10(n)) === n;

/** The gap reason for the tags of a Sparkplug edge node whose birth was missed. */
export const missedBirthGap = (node: string) => `The birth message of edge node ${node} was missed: its values sent by alias only could not be read.`;

/** Sparkplug: messages of one edge node or device (its folder) that could not be read since its last birth. */
interface Unreadable {
  /** GROUP/NODE */
  node: string;
  messages: number;
  /**
   * The count a recording's status says: `messages` when it reached 1, 10,
   * 100 … or when the last one came a minute after the count was last taken
   * (`shownAt`), so the status does not change with every message.
   */
  shown: number;
  shownAt: number;
  /** When the first of them came (ms). */
  since: number;
  /** Rebirth on: when its edge node was asked for its births (reported only REBIRTH_ANSWER_MS after); null with rebirth off. */
  askedAt: number | null;
}

/** A subscription that wants to hear about its tags that cannot be read. */
interface UnreadableWatcher {
  tags: Tag[];
  onUnreadable: (now: UnreadableTags[], readable: string[]) => void;
  /** What it was told last (JSON), so it hears only changes. */
  last: string;
}

class MqttConnection implements DriverConnection {
  readonly serverName: string;
  private readonly heard = new Map<string, Heard>();
  /** Tags read or subscribed: always kept, even past MAX_HEARD. */
  private readonly wanted = new Set<string>();
  private readonly listeners = new Set<(msg: ParsedMessage, topic: string, receivedAt: number) => void>();
  /** Topic filters subscribed besides the source's own. */
  private readonly extraTopics = new Set<string>();
  private readonly rebirthAsked = new Map<string, number>();
  /**
   * Sparkplug: per folder (`spBv1.0/GROUP/NODE` for the node's own metrics,
   * `…/NODE/DEVICE` for a device's), messages with alias-only values that
   * could not be read since its last birth (NBIRTH, DBIRTH) seen.
   */
  private readonly unreadable = new Map<string, Unreadable>();
  private readonly unreadableWatchers = new Set<UnreadableWatcher>();
  /** Rebirth on: a report due when a node asked for its births has had REBIRTH_ANSWER_MS to answer. */
  private readonly answerTimers = new Set<NodeJS.Timeout>();
  private readonly decoder = new SparkplugDecoder();
  private readonly listeningSince = Date.now();
  private overflow = false;
  private closed = false;
  private lost = false;
  private lastError: Error | null = null;

  constructor(
    private readonly client: MqttClient,
    private readonly settings: MqttSettings,
    private readonly target: Target,
    private readonly onLost: ((reason: string) => void) | undefined,
    early: { topic: string; payload: Buffer; at: number }[],
  ) {
    this.serverName = target.display;
    client.on('message', (topic, payload) => this.onMessage(topic, payload, Date.now()));
    for (const m of early) this.onMessage(m.topic, m.payload, m.at);
    client.on('error', (err) => {
      this.lastError = err;
      if (!client.connected) this.lose();
    });
    client.on('close', () => this.lose());
    client.on('offline', () => this.lose());
  }

  private lose(): void {
    if (this.closed || this.lost) return;
    this.lost = true;
    this.client.end(true);
    try {
      this.onLost?.(lostReason(this.lastError, this.target));
    } catch {
      // the recorder's handler must not take the client down with it
    }
  }

  private onMessage(topic: string, payload: Buffer, receivedAt: number): void {
    if (this.closed) return;
    const msg = parseMessage(this.settings.payload, topic, payload, this.decoder);
    if (!msg) return;
    if (msg.sparkplug) this.trackBirths(msg.sparkplug, receivedAt);
    for (const r of msg.readings) {
      if (!this.heard.has(r.tag) && this.heard.size >= MAX_HEARD && !this.wanted.has(r.tag)) {
        this.overflow = true;
        continue;
      }
      this.heard.set(r.tag, { ...r, receivedAt });
    }
    for (const prefix of msg.dead) {
      for (const [tag, h] of this.heard) if (tag.startsWith(prefix)) this.heard.set(tag, { ...h, value: null, t: msg.sparkplug?.timestamp ?? null, receivedAt });
    }
    for (const l of this.listeners) l(msg, topic, receivedAt);
  }

  /**
   * Sparkplug data sent by alias only is unreadable until the edge node's
   * births are seen, and births are sent once, when a node starts. A host that
   * joins later may ask for them again with the standard Node Control/Rebirth
   * command (as SCADA hosts do), but that is a write to the plant's broker:
   * only when the settings ask for it (`rebirth`). Otherwise the messages that
   * could not be read are counted per edge node and device, browse says so,
   * and so does a recording of their tags (onUnreadable of subscribe). With
   * rebirth on they are counted too, and said once the node has not answered
   * the request for REBIRTH_ANSWER_MS (it ignores it, or the broker drops it).
   */
  private trackBirths(m: SparkplugMessage, receivedAt: number): void {
    const { group, node, type, folder } = m.topic;
    // A birth gives the names of the aliases of its node (NBIRTH) or device (DBIRTH): what follows reads.
    const born = type === 'NBIRTH' || type === 'DBIRTH';
    if (born) this.unreadable.delete(folder);
    let changed = false;
    if (m.unresolved > 0) {
      const rebirth = this.settings.rebirth === true;
      if (rebirth) this.askRebirth(group, node);
      const u = this.unreadable.get(folder);
      if (!u) {
        const askedAt = rebirth ? (this.rebirthAsked.get(`${group}/${node}`) ?? receivedAt) : null;
        this.unreadable.set(folder, { node: `${group}/${node}`, messages: 1, shown: 1, shownAt: receivedAt, since: receivedAt, askedAt });
        changed = true;
      } else {
        u.messages++;
        if (isPowerOfTen(u.messages) || receivedAt - u.shownAt >= UNREADABLE_COUNT_EVERY_MS) {
          u.shown = u.messages;
          u.shownAt = receivedAt;
          changed = true;
        }
      }
    }
    // A birth is told to the subscriptions with tags it names, even one this connection never listed (a recording may carry their gap over from before a reconnect).
    if (changed || born) this.reportUnreadable(born ? folder : null);
  }

  /**
   * Unreadable messages per edge node, sorted by node: of the folders holding one of `tags`
   * (all folders without), with the coarse count a status says (`exact` false) or the exact
   * one; with rebirth on, only nodes that have had time to answer the request.
   */
  private unreadableByNode(now: number, exact: boolean, tags?: Tag[]): [string, { messages: number; since: number; askedAt: number | null; tags: Tag[] }][] {
    const byNode = new Map<string, { messages: number; since: number; askedAt: number | null; tags: Tag[] }>();
    for (const [folder, u] of this.unreadable) {
      if (u.askedAt !== null && now - u.askedAt < REBIRTH_ANSWER_MS) continue;
      const hit = tags ? tags.filter((t) => t.id.startsWith(`${folder}#`)) : [];
      if (tags && !hit.length) continue;
      const messages = exact ? u.messages : u.shown;
      const n = byNode.get(u.node);
      if (n) {
        n.messages += messages;
        n.since = Math.min(n.since, u.since);
        if (u.askedAt !== null) n.askedAt = Math.min(n.askedAt ?? Infinity, u.askedAt);
        n.tags.push(...hit);
      } else {
        byNode.set(u.node, { messages, since: u.since, askedAt: u.askedAt, tags: hit });
      }
    }
    return [...byNode].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The picked `tags` that cannot be read, one entry per edge node (sorted); with rebirth on, only nodes that have had time to answer. */
  private unreadableOf(tags: Tag[]): UnreadableTags[] {
    const now = Date.now();
    const byNode = this.unreadableByNode(now, false, tags);
    const advice = missedBirthAdvice(byNode.length, this.settings.rebirth === true);
    return byNode.map(([node, n]) => ({
      tags: n.tags.map((t) => t.id),
      since: n.since,
      reason: missedBirthGap(node),
      message: missedBirthStatus(node, n.messages, n.since, n.tags.map((t) => t.name), n.askedAt, now),
      advice,
    }));
  }

  /**
   * Tells each subscription that asked about its tags that cannot be read,
   * when that changed, or when the birth of `born` (a folder) came and it has
   * tags there.
   */
  private reportUnreadable(born: string | null = null): void {
    for (const w of this.unreadableWatchers) {
      const now = this.unreadableOf(w.tags);
      const readable = born === null ? [] : w.tags.filter((t) => t.id.startsWith(`${born}#`)).map((t) => t.id);
      const text = JSON.stringify(now);
      if (text === w.last && !readable.length) continue;
      w.last = text;
      try {
        w.onUnreadable(now, readable);
      } catch {
        // a failing consumer must not stop the messages
      }
    }
  }

  /** Sends the edge node `group/node` the Node Control/Rebirth command, at most once a minute. */
  private askRebirth(group: string, node: string): void {
    const key = `${group}/${node}`;
    const now = Date.now();
    if (now - (this.rebirthAsked.get(key) ?? -Infinity) < REBIRTH_EVERY_MS) return;
    this.rebirthAsked.set(key, now);
    const payload = encodePayload({ timestamp: now, metrics: [{ name: 'Node Control/Rebirth', datatype: 'Boolean', value: true }] });
    this.client.publish(sparkplugTopic(group, 'NCMD', node), Buffer.from(payload), { qos: 0 }, () => undefined);
    // No birth by then: the recordings of its tags say so.
    const timer = setTimeout(() => {
      this.answerTimers.delete(timer);
      if (!this.closed) this.reportUnreadable();
    }, REBIRTH_ANSWER_MS + 50);
    timer.unref();
    this.answerTimers.add(timer);
  }

  private async waitListened(listenMs: number): Promise<void> {
    const left = listenMs - (Date.now() - this.listeningSince);
    const end = Date.now() + left;
    while (Date.now() < end && !this.closed && !this.lost) await sleep(Math.min(100, end - Date.now()));
  }

  /** Subscribes to the topics of tags the source's own filter does not cover. */
  private async cover(tags: string[]): Promise<void> {
    const fresh = new Set<string>();
    for (const tag of tags) {
      const { filters, samples } = tagTopics(this.settings.payload, tag);
      if (samples.every((t) => topicMatches(this.settings.topic, t))) continue;
      for (const f of filters) if (!this.extraTopics.has(f) && validTopicFilter(f)) fresh.add(f);
    }
    if (!fresh.size) return;
    for (const t of fresh) this.extraTopics.add(t);
    await new Promise<void>((resolve) => this.client.subscribe([...fresh], { qos: 1 }, () => resolve()));
  }

  async browse(opts: { parent?: string; search?: string; listenMs?: number }): Promise<BrowseResult> {
    await this.waitListened(opts.listenMs ?? 3000);
    const all = [...this.heard.values()].filter((h) => !(h.folder && h.tag.startsWith('spBv1.0/') && isControlMetric(h.tag.slice(h.tag.indexOf('#') + 1))));
    const names = uniqueNames(all);
    const q = opts.search?.trim().toLowerCase() ?? '';
    const hit = (id: string, name: string) => !q || id.toLowerCase().includes(q) || name.toLowerCase().includes(q);
    const variable = (h: Heard): BrowseNode => {
      const name = names.get(h.tag)!;
      return {
        id: h.tag,
        name,
        path: h.folder ? `${h.folder}/${h.tag.slice(h.folder.length + 1)}` : h.tag,
        kind: 'variable',
        hasChildren: false,
        dataType: h.dataType,
        numeric: toNumber(h.value) !== null || h.dataType === 'number' || h.dataType === 'boolean' || /Int|Float|Double|Boolean/.test(h.dataType),
        unit: h.unit,
        value: h.value,
      };
    };
    // Folders (and variables without one) in topic order, each folder followed by its variables in field order.
    const groups = new Map<string, Heard[]>();
    for (const h of all) {
      const key = h.folder ?? h.tag;
      const members = groups.get(key);
      if (members) members.push(h);
      else groups.set(key, [h]);
    }
    const nodes: BrowseNode[] = [];
    let truncated = this.overflow;
    const push = (n: BrowseNode) => {
      if (nodes.length >= MAX_BROWSE_NODES) truncated = true;
      else nodes.push(n);
    };
    for (const key of [...groups.keys()].sort()) {
      const members = groups.get(key)!.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
      const folderless = members.filter((h) => !h.folder);
      const inside = members.filter((h) => h.folder);
      if (opts.parent !== undefined) {
        if (key === opts.parent) for (const h of inside) if (hit(h.tag, names.get(h.tag)!)) push(variable(h));
        continue;
      }
      for (const h of folderless) if (hit(h.tag, names.get(h.tag)!)) push(variable(h));
      if (!inside.length) continue;
      const matching = inside.filter((h) => hit(h.tag, names.get(h.tag)!));
      if (!matching.length && !hit(key, key)) continue;
      push({ id: key, name: key, path: key, kind: 'folder', hasChildren: true, dataType: null, numeric: false, unit: null, value: null });
      for (const h of matching) push(variable(h));
    }
    // Exact counts here; with rebirth on, only nodes that did not answer the request in time.
    const now = Date.now();
    const notes = this.unreadableByNode(now, true).map(([node, n]) => (n.askedAt === null ? missedBirthNote(node, n.messages) : unansweredRebirthNote(node, n.messages, n.askedAt, now)));
    return { nodes, truncated, notes };
  }

  async read(tags: string[]): Promise<LiveValue[]> {
    for (const t of tags) this.wanted.add(t);
    await this.cover(tags);
    const end = Date.now() + READ_WAIT_MS;
    while (!this.closed && !this.lost && Date.now() < end && tags.some((t) => !this.heard.has(t))) await sleep(50);
    return tags.map((tag): LiveValue => {
      const h = this.heard.get(tag);
      if (!h) return { tag, value: null, text: NOTHING_HEARD, quality: 'bad', at: null };
      const value = toNumber(h.value);
      return { tag, value, text: h.value === null ? null : String(h.value), quality: h.value === null ? 'bad' : 'good', at: new Date(h.t ?? h.receivedAt).toISOString() };
    });
  }

  /**
   * Calls onSample for each message that carries a picked tag. MQTT values
   * come when they are published, so intervalMs is not used here (the
   * recorder's grid is applied when a recording is saved as a dataset).
   */
  async subscribe(tags: Tag[], _intervalMs: number, onSample: (s: Sample) => void, onUnreadable?: (now: UnreadableTags[], readable: string[]) => void): Promise<Subscription> {
    const ids = new Set(tags.map((t) => t.id));
    for (const id of ids) this.wanted.add(id);
    const kind = this.settings.payload;
    // JSON and plain numbers: the picked tags of each topic, to mark those missing from a message.
    const byTopic = new Map<string, string[]>();
    if (kind !== 'sparkplug') {
      for (const id of ids) {
        const topic = tagTopic(kind, id);
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), id]);
      }
    }
    const emit = (s: Sample) => {
      try {
        onSample(s);
      } catch {
        // a failing consumer must not stop the other tags' samples
      }
    };
    const listener = (msg: ParsedMessage, topic: string, receivedAt: number) => {
      if (msg.whole) {
        const picked = byTopic.get(topic);
        if (!picked) return;
        const got = new Map(msg.readings.map((r) => [r.tag, r]));
        const msgT = msg.readings.find((r) => r.t !== null)?.t ?? null;
        for (const tag of picked) {
          const r = got.get(tag);
          const value = r ? toNumber(r.value) : null;
          emit({ tag, t: r?.t ?? msgT ?? receivedAt, value, quality: value === null ? 'bad' : 'good' });
        }
        return;
      }
      for (const r of msg.readings) {
        if (!ids.has(r.tag)) continue;
        const value = toNumber(r.value);
        emit({ tag: r.tag, t: r.t ?? receivedAt, value, quality: value === null ? 'bad' : 'good' });
      }
      for (const prefix of msg.dead) for (const tag of ids) if (tag.startsWith(prefix)) emit({ tag, t: msg.sparkplug?.timestamp ?? receivedAt, value: null, quality: 'bad' });
    };
    this.listeners.add(listener);
    // '[]': nothing to say until something cannot be read (messages heard while connecting included).
    const watcher: UnreadableWatcher | null = onUnreadable && kind === 'sparkplug' ? { tags: [...tags], onUnreadable, last: '[]' } : null;
    if (watcher) {
      this.unreadableWatchers.add(watcher);
      this.reportUnreadable();
    }
    await this.cover([...ids]);
    return {
      close: async () => {
        this.listeners.delete(listener);
        if (watcher) this.unreadableWatchers.delete(watcher);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.unreadableWatchers.clear();
    for (const t of this.answerTimers) clearTimeout(t);
    this.answerTimers.clear();
    if (this.lost) return;
    await Promise.race([new Promise<void>((resolve) => this.client.end(false, {}, () => resolve())), sleep(1000)]);
    this.client.end(true);
  }
}

async function connectMqtt(opts: ConnectOptions): Promise<DriverConnection> {
  const s = opts.settings;
  if (s.kind !== 'mqtt') throw new ConnectError('other', 'This source is not an MQTT broker.');
  const target = parseBrokerUrl(s.url);
  const topic = s.topic?.trim() || '#';
  if (!validTopicFilter(topic)) {
    throw new ConnectError('other', `"${topic}" is not a topic filter a broker accepts: use + for one whole level and # only at the end, for example plant/+/temperature or plant/#.`);
  }
  const settings: MqttSettings = { ...s, topic, payload: s.payload ?? 'json', rejectUnauthorized: s.rejectUnauthorized ?? true, rebirth: s.rebirth ?? false };
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const options: IClientOptions = {
    clientId: `millwright-${randomBytes(6).toString('hex')}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    keepalive: 15,
    protocolVersion: 4,
    resubscribe: false,
  };
  if (settings.username) options.username = settings.username;
  if (opts.password !== undefined && opts.password !== '') options.password = opts.password;
  if (target.secure) {
    options.rejectUnauthorized = settings.rejectUnauthorized;
    if (settings.caFile) options.ca = [...tls.rootCertificates, readFile(settings.caFile, 'CA certificate').toString('utf8')];
    if (settings.clientCertFile) options.cert = readFile(settings.clientCertFile, 'client certificate');
    if (settings.clientKeyFile) options.key = readFile(settings.clientKeyFile, 'client key');
  }

  let client: MqttClient;
  try {
    client = mqttConnect(settings.url.trim(), options);
  } catch (err) {
    throw new ConnectError('bad_url', `"${settings.url}" is not a broker address mqtt.js can use: ${(err as Error).message}`);
  }
  // mqtt.js emits 'error' more than once for some failures; an unheard 'error' would throw.
  client.on('error', () => undefined);
  // Whether the TLS handshake finished, to tell a TLS failure from a broker hanging up on MQTT (mqtts:// only).
  let handshakeDone = !target.secure || !(client.stream instanceof tls.TLSSocket);
  if (!handshakeDone) client.stream.once('secureConnect', () => (handshakeDone = true));
  // Retained messages can arrive right after the subscription, before the connection object exists.
  const early: { topic: string; payload: Buffer; at: number }[] = [];
  const keepEarly = (t: string, p: Buffer) => early.push({ topic: t, payload: p, at: Date.now() });
  client.on('message', keepEarly);

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(timedOut(target)), timeoutMs + 250);
      const done = (err?: ConnectError) => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onError);
        client.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onConnect = () => done();
      const onError = (err: Error) => done(connectError(err, target, settings, handshakeDone));
      const onClose = () => done(closedEarly(target, handshakeDone));
      client.on('connect', onConnect);
      client.on('error', onError);
      client.on('close', onClose);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(timedOut(target)), timeoutMs);
      client.subscribe(topic, { qos: 1 }, (err) => {
        clearTimeout(timer);
        if (!err) return resolve();
        const code = (err as { code?: unknown }).code;
        reject(
          typeof code === 'number' && code >= 0x80
            ? new ConnectError('rejected_by_server', `The broker at ${target.host}:${target.port} does not let ${settings.username ? `"${settings.username}"` : 'anonymous clients'} read ${topic}. Ask its administrator, or pick a topic filter this user may read.`)
            : new ConnectError('other', `The broker at ${target.host}:${target.port} did not accept the topic filter ${topic}: ${err.message}.`),
        );
      });
    });
  } catch (err) {
    client.end(true);
    throw err instanceof ConnectError ? err : connectError(err, target, settings, handshakeDone);
  }
  client.off('message', keepEarly);
  return new MqttConnection(client, settings, target, opts.onLost, early);
}

/** The MQTT driver for the recording service. */
export const mqttDriver: Driver = { connect: connectMqtt };
