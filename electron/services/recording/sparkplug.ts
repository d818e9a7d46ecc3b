/**
 * Sparkplug B (Eclipse Tahu) payloads: decoding what edge nodes publish, and
 * encoding, for tests and simulated sources.
 *
 * Edge nodes send a birth certificate (NBIRTH for the node, DBIRTH for each
 * device) that names every metric and may give it a numeric alias; later
 * NDATA/DDATA messages often carry only the alias and only the metrics that
 * changed (report by exception). SparkplugDecoder keeps the births it has seen
 * so it can turn an alias back into the metric's name and data type.
 *
 * Tag ids are `spBv1.0/GROUP/NODE[/DEVICE]#METRIC`: the topic without the
 * message type, so a metric keeps its id across births and data messages.
 */
import protobuf from 'protobufjs';

export const SPARKPLUG_NAMESPACE = 'spBv1.0';

/** The subset of sparkplug_b.proto this module reads (unknown fields, e.g. DataSet and Template values, are skipped). */
const PROTO = `
syntax = "proto2";
package org.eclipse.tahu.protobuf;
message Payload {
  message PropertyValue {
    optional uint32 type = 1;
    optional bool is_null = 2;
    oneof value {
      uint32 int_value = 3;
      uint64 long_value = 4;
      float float_value = 5;
      double double_value = 6;
      bool boolean_value = 7;
      string string_value = 8;
    }
  }
  message PropertySet {
    repeated string keys = 1;
    repeated PropertyValue values = 2;
  }
  message Metric {
    optional string name = 1;
    optional uint64 alias = 2;
    optional uint64 timestamp = 3;
    optional uint32 datatype = 4;
    optional bool is_historical = 5;
    optional bool is_transient = 6;
    optional bool is_null = 7;
    optional PropertySet properties = 9;
    oneof value {
      uint32 int_value = 10;
      uint64 long_value = 11;
      float float_value = 12;
      double double_value = 13;
      bool boolean_value = 14;
      string string_value = 15;
      bytes bytes_value = 16;
    }
  }
  optional uint64 timestamp = 1;
  repeated Metric metrics = 2;
  optional uint64 seq = 3;
  optional string uuid = 4;
  optional bytes body = 5;
}
`;

const PayloadType = protobuf.parse(PROTO, { keepCase: true }).root.lookupType('org.eclipse.tahu.protobuf.Payload');

/** Sparkplug B data types, by their number in the specification. */
export const SPARKPLUG_TYPES = {
  Unknown: 0,
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
  PropertySet: 20,
  PropertySetList: 21,
} as const;
export type SparkplugTypeName = keyof typeof SPARKPLUG_TYPES;

const TYPE_NAMES = new Map<number, SparkplugTypeName>(Object.entries(SPARKPLUG_TYPES).map(([k, v]) => [v, k as SparkplugTypeName]));

/** "Double", "Int32"… for a data type number ("Unknown" when it is not one). */
export function sparkplugTypeName(datatype: number | null): string {
  return (datatype !== null && TYPE_NAMES.get(datatype)) || 'Unknown';
}

export type SparkplugValue = number | boolean | string | null;

export interface SparkplugMetric {
  name: string | null;
  alias: number | null;
  /** ms since 1970, when the metric has its own. */
  timestamp: number | null;
  datatype: number | null;
  value: SparkplugValue;
  isNull: boolean;
  isHistorical: boolean;
  /** The engineering unit from the metric's properties (engUnit / EngUnit / Units), if any. */
  unit: string | null;
}

export interface SparkplugPayload {
  timestamp: number | null;
  seq: number | null;
  metrics: SparkplugMetric[];
}

interface RawValue {
  int_value?: number;
  long_value?: string;
  float_value?: number;
  double_value?: number;
  boolean_value?: boolean;
  string_value?: string;
  bytes_value?: Uint8Array;
}

interface RawMetric extends RawValue {
  name?: string;
  alias?: string;
  timestamp?: string;
  datatype?: number;
  is_historical?: boolean;
  is_null?: boolean;
  properties?: { keys?: string[]; values?: (RawValue & { is_null?: boolean })[] };
}

interface RawPayload {
  timestamp?: string;
  seq?: string;
  metrics?: RawMetric[];
}

const num = (s: string | undefined): number | null => (s === undefined ? null : Number(s));

/** A metric's value as a JS value, read with its data type (signed integers are stored as unsigned). */
function valueOf(raw: RawValue, datatype: number | null): SparkplugValue {
  if (raw.int_value !== undefined) {
    const v = raw.int_value >>> 0;
    switch (datatype) {
      case SPARKPLUG_TYPES.Int8:
        return (v << 24) >> 24;
      case SPARKPLUG_TYPES.Int16:
        return (v << 16) >> 16;
      case SPARKPLUG_TYPES.Int32:
        return v | 0;
      default:
        return v;
    }
  }
  if (raw.long_value !== undefined) {
    const v = BigInt(raw.long_value);
    return Number(datatype === SPARKPLUG_TYPES.Int64 ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v));
  }
  if (raw.float_value !== undefined) return raw.float_value;
  if (raw.double_value !== undefined) return raw.double_value;
  if (raw.boolean_value !== undefined) return raw.boolean_value;
  if (raw.string_value !== undefined) return raw.string_value;
  return null;
}

const UNIT_KEYS = new Set(['engunit', 'engunits', 'units', 'unit']);

function unitOf(props: RawMetric['properties']): string | null {
  const keys = props?.keys ?? [];
  for (let i = 0; i < keys.length; i++) {
    if (!UNIT_KEYS.has(keys[i]!.toLowerCase())) continue;
    const v = props?.values?.[i];
    if (v && typeof v.string_value === 'string' && v.string_value.trim()) return v.string_value.trim();
  }
  return null;
}

/**
 * Decodes a Sparkplug B payload. `typeOf` supplies the data type of a metric
 * that does not carry one (data messages usually leave it to the birth).
 * Throws on bytes that are not a Sparkplug B payload.
 */
export function decodePayload(bytes: Uint8Array, typeOf?: (m: { name: string | null; alias: number | null }) => number | null): SparkplugPayload {
  const msg = PayloadType.decode(bytes);
  const o = PayloadType.toObject(msg, { longs: String, defaults: false }) as RawPayload;
  return {
    timestamp: num(o.timestamp),
    seq: num(o.seq),
    metrics: (o.metrics ?? []).map((m) => {
      const name = m.name ?? null;
      const alias = num(m.alias);
      const datatype = m.datatype ?? typeOf?.({ name, alias }) ?? null;
      const isNull = m.is_null === true;
      return {
        name,
        alias,
        timestamp: num(m.timestamp),
        datatype,
        value: isNull ? null : valueOf(m, datatype),
        isNull,
        isHistorical: m.is_historical === true,
        unit: unitOf(m.properties),
      };
    }),
  };
}

export interface MetricInput {
  name?: string;
  alias?: number;
  timestamp?: number;
  datatype: SparkplugTypeName;
  /** null: sent with is_null. */
  value: number | boolean | string | null;
  isHistorical?: boolean;
  unit?: string;
  /** false: leave the data type out, as data messages may (the receiver knows it from the birth). */
  sendDatatype?: boolean;
}

export interface PayloadInput {
  timestamp?: number;
  seq?: number;
  metrics: MetricInput[];
}

const u64 = (v: number | bigint): string => BigInt.asUintN(64, BigInt(typeof v === 'number' ? Math.trunc(v) : v)).toString();

/** Encodes a Sparkplug B payload (what an edge node would publish). */
export function encodePayload(p: PayloadInput): Uint8Array {
  const metrics = p.metrics.map((m) => {
    const datatype = SPARKPLUG_TYPES[m.datatype];
    const out: Record<string, unknown> = m.sendDatatype === false ? {} : { datatype };
    if (m.name !== undefined) out.name = m.name;
    if (m.alias !== undefined) out.alias = u64(m.alias);
    if (m.timestamp !== undefined) out.timestamp = u64(m.timestamp);
    if (m.isHistorical) out.is_historical = true;
    if (m.unit !== undefined) out.properties = { keys: ['engUnit'], values: [{ type: SPARKPLUG_TYPES.String, string_value: m.unit }] };
    const v = m.value;
    if (v === null) {
      out.is_null = true;
      return out;
    }
    switch (m.datatype) {
      case 'Int8':
      case 'Int16':
      case 'Int32':
      case 'UInt8':
      case 'UInt16':
      case 'UInt32':
        out.int_value = Number(v) >>> 0;
        break;
      case 'Int64':
      case 'UInt64':
      case 'DateTime':
        out.long_value = u64(Number(v));
        break;
      case 'Float':
        out.float_value = Number(v);
        break;
      case 'Double':
        out.double_value = Number(v);
        break;
      case 'Boolean':
        out.boolean_value = Boolean(v);
        break;
      case 'String':
      case 'Text':
      case 'UUID':
        out.string_value = String(v);
        break;
      default:
        throw new Error(`encodePayload: ${m.datatype} values are not supported`);
    }
    return out;
  });
  const obj: Record<string, unknown> = { metrics };
  if (p.timestamp !== undefined) obj.timestamp = u64(p.timestamp);
  if (p.seq !== undefined) obj.seq = u64(p.seq);
  return PayloadType.encode(PayloadType.fromObject(obj)).finish();
}

export const SPARKPLUG_MESSAGE_TYPES = ['NBIRTH', 'NDEATH', 'DBIRTH', 'DDEATH', 'NDATA', 'DDATA', 'NCMD', 'DCMD'] as const;
export type SparkplugMessageType = (typeof SPARKPLUG_MESSAGE_TYPES)[number];

export interface SparkplugTopic {
  group: string;
  type: SparkplugMessageType;
  node: string;
  device: string | null;
  /** `spBv1.0/GROUP/NODE[/DEVICE]`: the tag ids' part before `#`. */
  folder: string;
}

/** Splits `spBv1.0/GROUP/TYPE/NODE[/DEVICE]`; null for anything else (STATE messages included). */
export function parseTopic(topic: string): SparkplugTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== SPARKPLUG_NAMESPACE || parts.length < 4 || parts.length > 5) return null;
  const [, group, type, node, device] = parts as [string, string, string, string, string | undefined];
  if (!group || !node || device === '' || !(SPARKPLUG_MESSAGE_TYPES as readonly string[]).includes(type)) return null;
  const isDevice = type.startsWith('D');
  if (isDevice !== (device !== undefined)) return null;
  return { group, type: type as SparkplugMessageType, node, device: device ?? null, folder: [SPARKPLUG_NAMESPACE, group, node, ...(device ? [device] : [])].join('/') };
}

/** The topic an edge node publishes `type` on. */
export function sparkplugTopic(group: string, type: SparkplugMessageType, node: string, device?: string): string {
  return [SPARKPLUG_NAMESPACE, group, type, node, ...(device ? [device] : [])].join('/');
}

/** Metrics every edge node has that are about Sparkplug itself, not the plant (bdSeq, Node Control/Rebirth…). */
export function isControlMetric(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Device Control/') || name.startsWith('Properties/');
}

export interface SparkplugReading {
  /** `spBv1.0/GROUP/NODE[/DEVICE]#METRIC` */
  tag: string;
  metric: string;
  /** "Double", "Boolean"… */
  dataType: string;
  value: SparkplugValue;
  /** The metric's timestamp, else the payload's; null when neither has one. */
  t: number | null;
  unit: string | null;
  historical: boolean;
}

export interface SparkplugMessage {
  topic: SparkplugTopic;
  /** The payload's timestamp (ms), null when it has none. */
  timestamp: number | null;
  readings: SparkplugReading[];
  /** Metrics sent by alias only whose birth certificate has not been seen. */
  unresolved: number;
}

interface Birth {
  name: string;
  datatype: number | null;
  unit: string | null;
}

interface EdgeNode {
  /** alias → metric, for the node and all its devices (aliases are unique per edge node). */
  aliases: Map<number, Birth & { device: string | null }>;
  /** `device\0name` → birth */
  metrics: Map<string, Birth>;
  born: boolean;
}

const key = (device: string | null, name: string) => `${device ?? ''}\u0000${name}`;

/**
 * Follows births and data of every edge node it is given and turns messages
 * into readings with names, data types and units.
 */
export class SparkplugDecoder {
  private readonly nodes = new Map<string, EdgeNode>();

  /** True once an NBIRTH of `group/node` was seen. */
  hasBirth(group: string, node: string): boolean {
    return this.nodes.get(`${group}/${node}`)?.born === true;
  }

  /** The readings of one message; null when the topic is not a Sparkplug B one or the payload does not decode. */
  handle(topicName: string, payload: Uint8Array): SparkplugMessage | null {
    const topic = parseTopic(topicName);
    if (!topic || topic.type === 'NCMD' || topic.type === 'DCMD') return null;
    const nodeKey = `${topic.group}/${topic.node}`;
    let node = this.nodes.get(nodeKey);
    if (topic.type === 'NBIRTH' || !node) {
      node = { aliases: new Map(), metrics: new Map(), born: false };
      this.nodes.set(nodeKey, node);
    }
    const n = node;
    const lookup = (m: { name: string | null; alias: number | null }): (Birth & { device?: string | null }) | undefined =>
      m.name !== null ? n.metrics.get(key(topic.device, m.name)) : m.alias !== null ? n.aliases.get(m.alias) : undefined;
    let decoded: SparkplugPayload;
    try {
      decoded = decodePayload(payload, (m) => lookup(m)?.datatype ?? null);
    } catch {
      return null;
    }
    if (topic.type === 'NBIRTH') n.born = true;
    if (topic.type === 'DBIRTH') {
      for (const [alias, b] of n.aliases) if (b.device === topic.device) n.aliases.delete(alias);
      for (const k of n.metrics.keys()) if (k.startsWith(key(topic.device, ''))) n.metrics.delete(k);
    }
    const birth = topic.type === 'NBIRTH' || topic.type === 'DBIRTH';
    const readings: SparkplugReading[] = [];
    let unresolved = 0;
    for (const m of decoded.metrics) {
      const known = lookup(m);
      const name = m.name ?? known?.name ?? null;
      if (name === null) {
        unresolved++;
        continue;
      }
      const datatype = m.datatype ?? known?.datatype ?? null;
      const unit = m.unit ?? known?.unit ?? null;
      if (birth) {
        const b: Birth = { name, datatype, unit };
        n.metrics.set(key(topic.device, name), b);
        if (m.alias !== null) n.aliases.set(m.alias, { ...b, device: topic.device });
      }
      readings.push({
        tag: `${topic.folder}#${name}`,
        metric: name,
        dataType: sparkplugTypeName(datatype),
        value: m.value,
        t: m.timestamp ?? decoded.timestamp,
        unit,
        historical: m.isHistorical,
      });
    }
    return { topic, timestamp: decoded.timestamp, readings, unresolved };
  }
}
