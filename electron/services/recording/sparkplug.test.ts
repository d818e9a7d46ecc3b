/**
 * Sparkplug B: payloads encoded and decoded through the real protobuf schema,
 * aliases resolved from births, and the MQTT driver recording a simulated
 * edge node on Mosquitto: by default it only listens and says which node's
 * birth it missed; asked to (rebirth), it asks that node for its births again.
 * A recording that restarts or reconnects without the births says which edge
 * node's tags are not being recorded, and records that time as their gap,
 * until the node is born again: one gap per tag however often the broker
 * drops meanwhile, a status that does not change with every message, and
 * (rebirth on) the same once a node does not answer the Rebirth request.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_MOSQUITTO, Mosquitto } from '../../test-support/mosquitto';
import { recordingNeedsAttention } from '../../../shared/recording';
import { readBuffer, readGaps } from './buffer';
import type { DriverConnection, Sample } from './driver';
import { mqttDriver } from './mqtt';
import { Recorder, type RecorderStatus } from './recorder';
import { decodePayload, encodePayload, parseTopic, SparkplugDecoder, sparkplugTopic, type MetricInput } from './sparkplug';

const T0 = Date.UTC(2024, 5, 1, 8, 0, 0);

const NODE_BIRTH: MetricInput[] = [
  { name: 'bdSeq', datatype: 'Int64', value: 0 },
  { name: 'Node Control/Rebirth', datatype: 'Boolean', value: false },
  { name: 'Uptime', alias: 1, datatype: 'Int64', value: 3600 },
];

const PUMP_BIRTH: MetricInput[] = [
  { name: 'Temperature', alias: 10, datatype: 'Double', value: 61.5, timestamp: T0, unit: '°C' },
  { name: 'Pressure', alias: 11, datatype: 'Float', value: 3.25, timestamp: T0 },
  { name: 'Level', alias: 12, datatype: 'Int32', value: -3, timestamp: T0 },
  { name: 'Running', alias: 13, datatype: 'Boolean', value: true, timestamp: T0 },
  { name: 'Mode', alias: 14, datatype: 'String', value: 'AUTO', timestamp: T0 },
  { name: 'Motor/Current', alias: 15, datatype: 'Double', value: 12, timestamp: T0 },
];

/** A DDATA metric the compact way: alias and value only. */
const byAlias = (alias: number, datatype: MetricInput['datatype'], value: MetricInput['value'], timestamp?: number): MetricInput => ({ alias, datatype, value, timestamp, sendDatatype: false });

describe('Sparkplug B payloads', () => {
  it('round-trips every supported type, with timestamps, nulls and units', () => {
    const bytes = encodePayload({
      timestamp: T0,
      seq: 3,
      metrics: [
        ...PUMP_BIRTH,
        { name: 'Count', alias: 16, datatype: 'Int64', value: -123456789012 },
        { name: 'Flags', alias: 17, datatype: 'UInt32', value: 4_000_000_000 },
        { name: 'Small', datatype: 'Int8', value: -5 },
        { name: 'Broken', datatype: 'Double', value: null },
      ],
    });
    const p = decodePayload(bytes);
    expect(p.timestamp).toBe(T0);
    expect(p.seq).toBe(3);
    expect(p.metrics.map((m) => [m.name, m.alias, m.datatype, m.value])).toEqual([
      ['Temperature', 10, 10, 61.5],
      ['Pressure', 11, 9, 3.25],
      ['Level', 12, 3, -3],
      ['Running', 13, 11, true],
      ['Mode', 14, 12, 'AUTO'],
      ['Motor/Current', 15, 10, 12],
      ['Count', 16, 4, -123456789012],
      ['Flags', 17, 7, 4_000_000_000],
      ['Small', null, 1, -5],
      ['Broken', null, 10, null],
    ]);
    expect(p.metrics[0]).toMatchObject({ timestamp: T0, unit: '°C', isNull: false });
    expect(p.metrics[9]).toMatchObject({ isNull: true, timestamp: null });
  });

  it('throws on bytes that are not a Sparkplug payload', () => {
    expect(() => decodePayload(Buffer.from('{"temperature": 1}'))).toThrow();
  });

  it('splits Sparkplug topics and refuses others', () => {
    expect(parseTopic('spBv1.0/Plant/DDATA/Edge1/Pump1')).toEqual({ group: 'Plant', type: 'DDATA', node: 'Edge1', device: 'Pump1', folder: 'spBv1.0/Plant/Edge1/Pump1' });
    expect(parseTopic('spBv1.0/Plant/NBIRTH/Edge1')).toMatchObject({ type: 'NBIRTH', device: null, folder: 'spBv1.0/Plant/Edge1' });
    expect(parseTopic('spBv1.0/STATE/scada')).toBeNull();
    expect(parseTopic('spBv1.0/Plant/DDATA/Edge1')).toBeNull();
    expect(parseTopic('spBv1.0/Plant/NDATA/Edge1/Pump1')).toBeNull();
    expect(parseTopic('plant/pump1')).toBeNull();
  });

  it('names alias-only data from the births, per device, with the birth data type', () => {
    const d = new SparkplugDecoder();
    d.handle(sparkplugTopic('Plant', 'NBIRTH', 'Edge1'), encodePayload({ timestamp: T0, metrics: NODE_BIRTH }));
    d.handle(sparkplugTopic('Plant', 'DBIRTH', 'Edge1', 'Pump1'), encodePayload({ timestamp: T0, metrics: PUMP_BIRTH }));
    d.handle(sparkplugTopic('Plant', 'DBIRTH', 'Edge1', 'Pump2'), encodePayload({ timestamp: T0, metrics: [{ name: 'Temperature', alias: 20, datatype: 'Double', value: 40 }] }));

    const data = encodePayload({ timestamp: T0 + 1000, metrics: [byAlias(12, 'Int32', -9, T0 + 500), byAlias(10, 'Double', 62.5), byAlias(99, 'Double', 1)] });
    // Without the birth, an Int32 is just the unsigned number it is stored as.
    expect(decodePayload(data).metrics[0]!.value).toBe(4294967287);
    const msg = d.handle(sparkplugTopic('Plant', 'DDATA', 'Edge1', 'Pump1'), data)!;
    expect(msg.unresolved).toBe(1);
    expect(msg.readings.map((r) => [r.tag, r.dataType, r.value, r.t, r.unit])).toEqual([
      ['spBv1.0/Plant/Edge1/Pump1#Level', 'Int32', -9, T0 + 500, null],
      ['spBv1.0/Plant/Edge1/Pump1#Temperature', 'Double', 62.5, T0 + 1000, '°C'],
    ]);
    const other = d.handle(sparkplugTopic('Plant', 'DDATA', 'Edge1', 'Pump2'), encodePayload({ metrics: [byAlias(20, 'Double', 41)] }))!;
    expect(other.readings.map((r) => [r.tag, r.value])).toEqual([['spBv1.0/Plant/Edge1/Pump2#Temperature', 41]]);
    const node = d.handle(sparkplugTopic('Plant', 'NDATA', 'Edge1'), encodePayload({ metrics: [byAlias(1, 'Int64', 3700)] }))!;
    expect(node.readings.map((r) => [r.tag, r.dataType, r.value])).toEqual([['spBv1.0/Plant/Edge1#Uptime', 'Int64', 3700]]);

    // A new NBIRTH starts over: the old device aliases mean nothing until the device is born again.
    d.handle(sparkplugTopic('Plant', 'NBIRTH', 'Edge1'), encodePayload({ timestamp: T0, metrics: NODE_BIRTH }));
    expect(d.handle(sparkplugTopic('Plant', 'DDATA', 'Edge1', 'Pump1'), data)!.unresolved).toBe(3);
    expect(d.handle(sparkplugTopic('Plant', 'DDATA', 'Edge1', 'Pump1'), Buffer.from('not protobuf at all, surely'))).toBeNull();
  });
});

/** A Sparkplug edge node `Edge1` in group `Plant` with one device `Pump1`; answers rebirth requests. */
class EdgeNode {
  rebirths = 0;
  /** Rebirth requests answered (births sent again). */
  reborn = 0;
  private constructor(private readonly client: MqttClient) {}

  static async start(url: string): Promise<EdgeNode> {
    const client = connect(url, { clientId: `edge1-${process.pid}` });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const node = new EdgeNode(client);
    client.on('message', (_topic, payload) => {
      const rebirth = decodePayload(payload).metrics.some((m) => m.name === 'Node Control/Rebirth' && m.value === true);
      if (!rebirth) return;
      node.rebirths++;
      void node.births().then(() => node.reborn++);
    });
    await client.subscribeAsync(sparkplugTopic('Plant', 'NCMD', 'Edge1'), { qos: 1 });
    return node;
  }

  async births(): Promise<void> {
    await this.send('NBIRTH', NODE_BIRTH, false);
    await this.send('DBIRTH', PUMP_BIRTH);
  }

  async send(type: 'NBIRTH' | 'DBIRTH' | 'NDATA' | 'DDATA' | 'DDEATH', metrics: MetricInput[], device = true, timestamp = Date.now()): Promise<void> {
    const topic = sparkplugTopic('Plant', type, 'Edge1', device ? 'Pump1' : undefined);
    await this.client.publishAsync(topic, Buffer.from(encodePayload({ timestamp, metrics })), { qos: 1 });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}

describe.skipIf(!HAVE_MOSQUITTO)('Sparkplug B through the MQTT driver', () => {
  let tmp: string;
  let broker: Mosquitto;
  let edge: EdgeNode;
  const open: DriverConnection[] = [];

  const sparkplugDriver = async (rebirth?: boolean): Promise<DriverConnection> => {
    const c = await mqttDriver.connect({
      settings: { kind: 'mqtt', url: broker.url, topic: 'spBv1.0/Plant/#', payload: 'sparkplug', rejectUnauthorized: true, ...(rebirth === undefined ? {} : { rebirth }) },
      pkiDir: path.join(tmp, 'pki'),
      trusted: new Set(),
    });
    open.push(c);
    return c;
  };

  async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-sparkplug-'));
    broker = await Mosquitto.start();
  });

  afterAll(async () => {
    for (const c of open) await c.close();
    await edge?.stop();
    await broker?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('browses metrics by edge node and device, records alias-only data with metric timestamps, and marks a dead device bad', async () => {
    const c = await sparkplugDriver();
    edge = await EdgeNode.start(broker.url);
    await edge.births();
    await edge.send('DDATA', [byAlias(10, 'Double', 63.25), byAlias(12, 'Int32', -9)]);

    const { nodes } = await c.browse({ listenMs: 800 });
    expect(nodes.map((n) => n.id)).toEqual([
      'spBv1.0/Plant/Edge1',
      'spBv1.0/Plant/Edge1#Uptime',
      'spBv1.0/Plant/Edge1/Pump1',
      'spBv1.0/Plant/Edge1/Pump1#Level',
      'spBv1.0/Plant/Edge1/Pump1#Mode',
      'spBv1.0/Plant/Edge1/Pump1#Motor/Current',
      'spBv1.0/Plant/Edge1/Pump1#Pressure',
      'spBv1.0/Plant/Edge1/Pump1#Running',
      'spBv1.0/Plant/Edge1/Pump1#Temperature',
    ]);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    expect(byId.get('spBv1.0/Plant/Edge1/Pump1#Temperature')).toMatchObject({ name: 'Pump1.Temperature', dataType: 'Double', numeric: true, value: 63.25, unit: '°C' });
    expect(byId.get('spBv1.0/Plant/Edge1/Pump1#Level')).toMatchObject({ dataType: 'Int32', value: -9 });
    expect(byId.get('spBv1.0/Plant/Edge1/Pump1#Motor/Current')).toMatchObject({ name: 'Pump1.Motor.Current', value: 12 });
    expect(byId.get('spBv1.0/Plant/Edge1/Pump1#Running')).toMatchObject({ dataType: 'Boolean', numeric: true, value: true });
    expect(byId.get('spBv1.0/Plant/Edge1/Pump1#Mode')).toMatchObject({ dataType: 'String', numeric: false, value: 'AUTO' });
    expect(byId.get('spBv1.0/Plant/Edge1/Pump1')).toMatchObject({ kind: 'folder', hasChildren: true });

    const samples: Sample[] = [];
    const picked = ['Temperature', 'Level', 'Running'].map((m) => ({ id: `spBv1.0/Plant/Edge1/Pump1#${m}`, name: m }));
    await c.subscribe(picked, 1000, (s) => samples.push(s));
    await edge.send('DDATA', [byAlias(10, 'Double', 64, T0 + 1000), byAlias(12, 'Int32', -10, T0 + 1000), byAlias(13, 'Boolean', false, T0 + 1000)]);
    // Report by exception: a message with only the temperature says nothing about the others.
    await edge.send('DDATA', [byAlias(10, 'Double', 64.5)], true, T0 + 2000);
    await edge.send('DDEATH', [], true, T0 + 3000);
    await until('seven samples', () => samples.length >= 7);
    expect(samples.map((s) => [s.tag.split('#')[1], s.t - T0, s.value, s.quality])).toEqual([
      ['Temperature', 1000, 64, 'good'],
      ['Level', 1000, -10, 'good'],
      ['Running', 1000, 0, 'good'],
      ['Temperature', 2000, 64.5, 'good'],
      ['Temperature', 3000, null, 'bad'],
      ['Level', 3000, null, 'bad'],
      ['Running', 3000, null, 'bad'],
    ]);
    const [temperature] = await c.read(['spBv1.0/Plant/Edge1/Pump1#Temperature']);
    expect(temperature).toMatchObject({ value: null, quality: 'bad' });
  });

  it('asks an edge node it joined late for its births once, then reads its alias-only data', async () => {
    await edge.births();
    const c = await sparkplugDriver(true);
    const before = edge.rebirths;
    const answered = edge.reborn;
    for (const v of [70, 71, 72]) await edge.send('DDATA', [byAlias(10, 'Double', v)]);
    await until('the births sent again', () => edge.reborn > answered);
    expect((await c.browse({ listenMs: 0 })).nodes.some((n) => n.id.endsWith('#Temperature') && n.value === 61.5)).toBe(true);
    await edge.send('DDATA', [byAlias(10, 'Double', 73.5)]);
    let value: number | null = null;
    await until('the alias-only value', () => {
      void c.read(['spBv1.0/Plant/Edge1/Pump1#Temperature']).then(([v]) => (value = v!.value));
      return value === 73.5;
    });
    expect(edge.rebirths - before).toBe(1);
  });

  it('by default never writes to the broker: no Rebirth command, and browse says which edge node to restart and how many messages were lost', async () => {
    // Every command any Sparkplug host sends to any edge node of any group.
    const watcher = connect(broker.url, { clientId: `ncmd-watch-${process.pid}` });
    const commands: string[] = [];
    watcher.on('message', (topic) => commands.push(topic));
    await watcher.subscribeAsync(['spBv1.0/+/NCMD/#', 'spBv1.0/+/DCMD/#'], { qos: 1 });
    try {
      await edge.births();
      const c = await sparkplugDriver();
      const before = edge.rebirths;
      const values = [80, 81, 82, 83];
      for (const v of values) await edge.send('DDATA', [byAlias(10, 'Double', v)]);
      const note = (n: number) =>
        `Edge node Plant/Edge1 sends values by alias only and its birth message was missed, so ${n} messages could not be read. Restart that edge node, or turn on "Ask edge nodes for their birth again" under Advanced.`;
      let heard = await c.browse({ listenMs: 0 });
      await until('the four unreadable messages counted', () => {
        void c.browse({ listenMs: 0 }).then((r) => (heard = r));
        return heard.notes?.[0] === note(values.length);
      });
      expect(heard.notes).toEqual([note(4)]);
      // Nothing of it could be listed: the aliases mean nothing without the birth.
      expect(heard.nodes).toEqual([]);
      // Give a command the driver might have sent time to come back through the broker.
      await new Promise((r) => setTimeout(r, 500));
      expect(commands).toEqual([]);
      expect(edge.rebirths).toBe(before);

      // Once the node is restarted (it sends its births), the note goes and its data reads.
      await edge.births();
      await edge.send('DDATA', [byAlias(10, 'Double', 84.5)]);
      await until('the births and the value after them', () => {
        void c.browse({ listenMs: 0 }).then((r) => (heard = r));
        return heard.nodes.some((n) => n.id === 'spBv1.0/Plant/Edge1/Pump1#Temperature' && n.value === 84.5);
      });
      expect(heard.notes).toEqual([]);
      expect(commands).toEqual([]);
    } finally {
      await watcher.endAsync(true);
    }
  });
});

describe.skipIf(!HAVE_MOSQUITTO)('recording a Sparkplug edge node whose birth was missed', () => {
  let tmp: string;
  let broker: Mosquitto;
  let edge: EdgeNode;
  let watcher: MqttClient;
  /** Every command any Sparkplug host sends to any edge node of any group. */
  const commands: string[] = [];

  const UPTIME = 'spBv1.0/Plant/Edge1#Uptime';
  const TEMPERATURE = 'spBv1.0/Plant/Edge1/Pump1#Temperature';
  const TAGS = [
    { id: UPTIME, name: 'Uptime' },
    { id: TEMPERATURE, name: 'Temperature' },
  ];
  const RECORDING = /^Recording 2 tags from mqtt:\/\/127\.0\.0\.1:\d+\.$/;
  const ASK = 'Restart that edge node, or turn on "Ask edge nodes for their birth again" under Advanced.';
  /** What the status says of one edge node: `what` ("one message", "10 messages") is a coarse count, hence "at least". */
  const nodeWords = (node: string, what: string, tags: string) =>
    `Edge node Plant/${node}: at least ${what} could not be read since \\d\\d:\\d\\d because its birth message was missed \\(it sends values by alias only\\), so ${tags} not being recorded\\.`;
  const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const warning = (what: string) => new RegExp(`^${nodeWords('Edge1', what, 'Uptime and Temperature are')} ${esc(ASK)}$`);
  const gapReason = (node: string) => `The birth message of edge node Plant/${node} was missed: its values sent by alias only could not be read.`;
  const GAP_REASON = gapReason('Edge1');

  function recorder(dir: string, states: RecorderStatus[], resumedAfter: { since: number; reason: string } | null = null, opts: { tags?: typeof TAGS; rebirth?: boolean } = {}): Recorder {
    return new Recorder({
      dir,
      tags: opts.tags ?? TAGS,
      intervalMs: 1000,
      driver: mqttDriver,
      // By default no `rebirth` at all: as settings saved before it existed, and the default.
      connectOptions: () => ({
        settings: { kind: 'mqtt', url: broker.url, topic: 'spBv1.0/Plant/#', payload: 'sparkplug', rejectUnauthorized: true, ...(opts.rebirth === undefined ? {} : { rebirth: opts.rebirth }) },
        pkiDir: path.join(tmp, 'pki'),
        trusted: new Set(),
      }),
      onStatus: (st) => states.push({ ...st }),
      resumedAfter,
      buffer: { flushMs: 50, syncMs: 100 },
    });
  }

  async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const last = (r: Recorder, id: string) => r.live(1).find((t) => t.id === id)!.last?.value;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-sparkplug-rec-'));
    broker = await Mosquitto.start();
    edge = await EdgeNode.start(broker.url);
    watcher = connect(broker.url, { clientId: `ncmd-watch-rec-${process.pid}` });
    watcher.on('message', (topic) => commands.push(topic));
    await watcher.subscribeAsync(['spBv1.0/+/NCMD/#', 'spBv1.0/+/DCMD/#'], { qos: 1 });
  });

  afterAll(async () => {
    await watcher?.endAsync(true);
    await edge?.stop();
    await broker?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('after a restart: says which edge node, how many messages and what to do, records a gap for its tags, and records again once the node is born again', async () => {
    const dir = path.join(tmp, 'restarted');
    const firstStates: RecorderStatus[] = [];
    const first = recorder(dir, firstStates);
    first.start();
    try {
      await until('recording', () => first.state.state === 'recording');
      await edge.births();
      await edge.send('NDATA', [byAlias(1, 'Int64', 3601)], false);
      await edge.send('DDATA', [byAlias(10, 'Double', 62)]);
      await until('the alias-only values, read with the births', () => last(first, UPTIME) === 3601 && last(first, TEMPERATURE) === 62);
      expect(first.state.message).toMatch(RECORDING);
    } finally {
      await first.stop();
    }

    // Millwright restarts: the new connection never saw the births.
    const states: RecorderStatus[] = [];
    const second = recorder(dir, states, { since: Date.now(), reason: 'Millwright was not running.' });
    second.start();
    try {
      await until('recording again', () => second.state.state === 'recording');
      expect(second.state.message).toMatch(RECORDING);
      const sentFrom = Date.now();
      for (const v of [3602, 3603, 3604]) await edge.send('NDATA', [byAlias(1, 'Int64', v)], false);
      for (const v of [63, 64]) await edge.send('DDATA', [byAlias(10, 'Double', v)]);
      await until('the warning (one message each of the node and its device so far: a coarse count)', () => warning('2 messages').test(second.state.message));
      // Still recording (what can be read is), but it says in words what is not.
      expect(second.state.state).toBe('recording');
      expect(states.map((st) => st.message).filter((m) => /^Edge node/.test(m)).length).toBeGreaterThan(0);
      // The time without readable values is a gap of each of the node's tags, open while it lasts.
      const open = second.gaps().filter((g) => g.tag !== null);
      expect(open.map((g) => [g.tag, g.tagId, g.end, g.reason])).toEqual([
        ['Uptime', UPTIME, null, GAP_REASON],
        ['Temperature', TEMPERATURE, null, GAP_REASON],
      ]);
      // The page and the recording's own words say so: amber "Partly recording", not a calm Recording.
      expect(recordingNeedsAttention(second.state)).toBe(true);
      for (const g of open) expect(Date.parse(g.start)).toBeGreaterThanOrEqual(sentFrom);
      await until('the gaps on disk', () => readGaps(dir).filter((g) => g.tag !== null && g.end === null).length === 2);
      expect(second.live(1).map((t) => t.samples)).toEqual([0, 0]);
      // Nothing was asked of the edge node (rebirth is off): no command reached the broker.
      await new Promise((r) => setTimeout(r, 500));
      expect(commands).toEqual([]);
      expect(edge.rebirths).toBe(0);

      // The edge node restarts (its births come): the warning goes, its values are recorded again.
      await edge.births();
      await edge.send('NDATA', [byAlias(1, 'Int64', 3700)], false);
      await edge.send('DDATA', [byAlias(10, 'Double', 65.5)]);
      await until('the values after the births', () => last(second, UPTIME) === 3700 && last(second, TEMPERATURE) === 65.5);
      await until('the warning gone', () => RECORDING.test(second.state.message));
      expect(second.state.state).toBe('recording');
      expect(recordingNeedsAttention(second.state)).toBe(false);
      const closed = second.gaps().filter((g) => g.tag !== null);
      expect(closed.map((g) => g.tag)).toEqual(['Uptime', 'Temperature']);
      for (const g of closed) expect(Date.parse(g.end!)).toBeGreaterThanOrEqual(Date.parse(g.start));
      expect(commands).toEqual([]);
    } finally {
      await second.stop();
    }

    // On disk: the tag gaps end, the birth values are recorded from then on (not at the births' own 2024 timestamps), nothing of the unreadable messages.
    const gaps = readGaps(dir).filter((g) => g.tag !== null);
    expect(gaps.map((g) => [g.tag, g.reason, g.end !== null])).toEqual([
      [0, GAP_REASON, true],
      [1, GAP_REASON, true],
    ]);
    const after = [...readBuffer(dir)].flat().filter((x) => x.t >= gaps[0]!.start);
    expect(after.filter((x) => x.tag === 0).map((x) => x.value)).toEqual([3600, 3700]);
    expect(after.filter((x) => x.tag === 1).map((x) => x.value)).toEqual([61.5, 65.5]);
    for (const x of after) expect(x.t).toBeGreaterThanOrEqual(gaps[x.tag]!.end!);
  });

  it('after a reconnect: the same warning and gap, and still no command to the edge node', async () => {
    const dir = path.join(tmp, 'reconnected');
    const states: RecorderStatus[] = [];
    const r = recorder(dir, states);
    r.start();
    try {
      await until('recording', () => r.state.state === 'recording');
      await edge.births();
      await edge.send('DDATA', [byAlias(10, 'Double', 70)]);
      await until('the alias-only value, read with the births', () => last(r, TEMPERATURE) === 70);

      // The broker restarts: the recorder reconnects, with a decoder that has no births.
      await broker.kill();
      await until('reconnecting', () => r.state.state === 'reconnecting');
      await broker.restart();
      await until('recording again', () => r.state.state === 'recording', 20_000);
      expect(r.state.message).toMatch(RECORDING);
      await until('the edge node back on the broker', () => edge.connected, 10_000);
      for (const v of [71, 72]) await edge.send('DDATA', [byAlias(10, 'Double', v)]);
      await until('the warning', () => new RegExp(`^${nodeWords('Edge1', 'one message', 'Temperature is')} ${esc(ASK)} The other tag is being recorded\\.$`).test(r.state.message));
      // The time the broker was away is the whole source's gap (closed); the time since, Temperature's own (open).
      expect(r.gaps().map((g) => [g.tag, g.end === null, g.tag === null ? 'lost' : g.reason])).toEqual([
        [null, false, 'lost'],
        ['Temperature', true, GAP_REASON],
      ]);
      expect(last(r, TEMPERATURE)).toBe(70);
      await new Promise((res) => setTimeout(res, 500));
      expect(commands).toEqual([]);
    } finally {
      await r.stop();
    }
  });

  it('keeps one gap per tag across broker restarts while the node is not born again, and ends it with the birth', async () => {
    const dir = path.join(tmp, 'drops');
    const states: RecorderStatus[] = [];
    const r = recorder(dir, states);
    r.start();
    try {
      await until('recording', () => r.state.state === 'recording');
      const unreadable = async (v: number) => {
        await edge.send('NDATA', [byAlias(1, 'Int64', v)], false);
        await edge.send('DDATA', [byAlias(10, 'Double', v)]);
      };
      await unreadable(1);
      await until('the warning', () => warning('2 messages').test(r.state.message));
      for (let drop = 1; drop <= 3; drop++) {
        await broker.kill();
        await until('reconnecting', () => r.state.state === 'reconnecting');
        await broker.restart();
        await until('recording again', () => r.state.state === 'recording', 20_000);
        // Connected again, but the tags are still unreadable: Partly recording, not a calm Recording.
        expect(recordingNeedsAttention(r.state), r.state.message).toBe(true);
        await until('the edge node back on the broker', () => edge.connected, 10_000);
        // After the last drop the node says nothing readable or unreadable before its birth: the gaps stay open all the same.
        if (drop < 3) {
          await unreadable(drop + 1);
          await until('the warning again', () => warning('2 messages').test(r.state.message));
        }
      }
      // One open gap per tag for the whole episode, and the three times the broker was away.
      expect(r.gaps().map((g) => [g.tag, g.end === null])).toEqual([
        ['Uptime', true],
        ['Temperature', true],
        [null, false],
        [null, false],
        [null, false],
      ]);
      expect(r.gaps().filter((g) => g.tag !== null).map((g) => g.reason)).toEqual([GAP_REASON, GAP_REASON]);
      await until('the gaps on disk', () => readGaps(dir).length === 5 && readGaps(dir).filter((g) => g.end === null).length === 2);

      // The birth comes on the new connection, with no unreadable message before it on that connection: both gaps end.
      await edge.births();
      await until('the birth values', () => last(r, UPTIME) === 3600 && last(r, TEMPERATURE) === 61.5);
      await until('the tag gaps closed', () => r.gaps().every((g) => g.end !== null));
      expect(r.state.message).toMatch(RECORDING);
      await edge.send('DDATA', [byAlias(10, 'Double', 66.5)]);
      await until('a value after the birth', () => last(r, TEMPERATURE) === 66.5);
      expect(r.gaps().length).toBe(5);
      expect(commands).toEqual([]);
    } finally {
      await r.stop();
    }
    const onDisk = readGaps(dir);
    expect(onDisk.map((g) => [g.tag, g.end !== null])).toEqual([
      [0, true],
      [1, true],
      [null, true],
      [null, true],
      [null, true],
    ]);
  }, 90_000);

  /** A client that publishes for edge nodes of its own (not Edge1): they never answer anything. */
  async function silentNodes(): Promise<{ send: (node: string, value: number) => Promise<void>; birth: (node: string, metric: string, value: number) => Promise<void>; stop: () => Promise<void> }> {
    const c = connect(broker.url, { clientId: `silent-${process.pid}-${Date.now()}` });
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    return {
      send: async (node, value) => void (await c.publishAsync(sparkplugTopic('Plant', 'NDATA', node), Buffer.from(encodePayload({ timestamp: Date.now(), metrics: [byAlias(1, 'Double', value)] })), { qos: 1 })),
      birth: async (node, metric, value) =>
        void (await c.publishAsync(sparkplugTopic('Plant', 'NBIRTH', node), Buffer.from(encodePayload({ timestamp: Date.now(), metrics: [{ name: metric, alias: 1, datatype: 'Double', value }] })), { qos: 1 })),
      stop: async () => void (await c.endAsync(true)),
    };
  }

  it('after a reconnect, another node\'s birth does not calm the warning about a silent node whose tags are still unreadable', async () => {
    const nodes = await silentNodes();
    const dir = path.join(tmp, 'carried');
    const states: RecorderStatus[] = [];
    const r = recorder(dir, states, null, { tags: [...TAGS, { id: 'spBv1.0/Plant/Other#Flow', name: 'Flow' }] });
    r.start();
    try {
      await until('recording', () => r.state.state === 'recording');
      await edge.send('NDATA', [byAlias(1, 'Int64', 1)], false);
      await until('the warning about Edge1', () => /^Edge node Plant\/Edge1: /.test(r.state.message));
      await broker.kill();
      await until('reconnecting', () => r.state.state === 'reconnecting');
      await broker.restart();
      await until('recording again', () => r.state.state === 'recording', 20_000);
      await until('the edge node back on the broker', () => edge.connected, 10_000);
      // Edge1 stays silent; the other node is born and sends a readable value.
      await nodes.birth('Other', 'Flow', 4.5);
      await until('the other node\'s value', () => last(r, 'spBv1.0/Plant/Other#Flow') === 4.5);
      await new Promise((res) => setTimeout(res, 300));
      expect(recordingNeedsAttention(r.state), r.state.message).toBe(true);
      expect(r.state.message, r.state.message).toMatch(/^Edge node Plant\/Edge1: .* The other 2 tags are being recorded\.$/);
      expect(r.gaps().filter((g) => g.tag !== null && g.end === null).map((g) => g.tag)).toEqual(['Uptime']);
      // Edge1's birth ends it all.
      await edge.births();
      await until('calm again', () => /^Recording 3 tags from /.test(r.state.message));
      expect(r.gaps().every((g) => g.end !== null)).toBe(true);
    } finally {
      await r.stop();
      await nodes.stop();
    }
  }, 60_000);

  it('several edge nodes: lists each, gives the advice once, and a busy node changes the status only when its count reaches 10, 100 …', async () => {
    const nodes = await silentNodes();
    const dir = path.join(tmp, 'busy');
    const states: RecorderStatus[] = [];
    const tags = [
      { id: 'spBv1.0/Plant/Busy#Flow', name: 'Flow' },
      { id: 'spBv1.0/Plant/Quiet#Level', name: 'Level' },
      { id: 'spBv1.0/Plant/Quiet#Speed', name: 'Speed' },
    ];
    const r = recorder(dir, states, null, { tags });
    r.start();
    try {
      await until('recording', () => r.state.state === 'recording');
      await nodes.send('Quiet', 1);
      const quiet = nodeWords('Quiet', 'one message', 'Level and Speed are');
      await until('the quiet node said', () => new RegExp(`^${quiet} ${esc(ASK)} The other tag is being recorded\\.$`).test(r.state.message));
      const from = states.length;
      // 250 unreadable messages in about 4 s.
      for (let i = 0; i < 250; i++) {
        await nodes.send('Busy', i);
        await new Promise((res) => setTimeout(res, 15));
      }
      await until('the count at 100', () => r.state.message.includes('at least 100 messages'));
      await new Promise((res) => setTimeout(res, 1500));
      const both = (what: string) =>
        new RegExp(`^${nodeWords('Busy', what, 'Flow is')} ${quiet} ${esc('Restart those edge nodes, or turn on "Ask edge nodes for their birth again" under Advanced.')}$`);
      // Three changes, not one a second; each names both nodes and gives the advice once.
      const seen = states.slice(from).map((st) => st.message);
      expect(seen).toHaveLength(3);
      ['one message', '10 messages', '100 messages'].forEach((what, i) => expect(seen[i]).toMatch(both(what)));
      expect(recordingNeedsAttention(r.state)).toBe(true);

      // The quiet node is born: only the busy one is left, the advice for one node.
      await nodes.birth('Quiet', 'Level', 4.5);
      await until('the quiet node gone from the status', () => new RegExp(`^${nodeWords('Busy', '100 messages', 'Flow is')} ${esc(ASK)} The other 2 tags are being recorded\\.$`).test(r.state.message));
      expect(r.gaps().map((g) => [g.tag, g.end === null])).toEqual([
        ['Level', false],
        ['Speed', false],
        ['Flow', true],
      ]);
    } finally {
      await r.stop();
      await nodes.stop();
    }
  }, 60_000);

  it('rebirth on: an edge node that does not answer the Rebirth request is said, with when it was asked, and its tags get a gap until it answers', async () => {
    const nodes = await silentNodes();
    const dir = path.join(tmp, 'unanswered');
    const states: RecorderStatus[] = [];
    const tags = [{ id: 'spBv1.0/Plant/Mute#Flow', name: 'Flow' }];
    const r = recorder(dir, states, null, { tags, rebirth: true });
    const asked = commands.length;
    r.start();
    try {
      await until('recording', () => r.state.state === 'recording');
      const sentFrom = Date.now();
      for (let i = 0; i < 5; i++) await nodes.send('Mute', i);
      await until('the Rebirth request', () => commands.length > asked);
      expect(commands.slice(asked)).toEqual([sparkplugTopic('Plant', 'NCMD', 'Mute')]);
      // It has time to answer: calm meanwhile.
      await new Promise((res) => setTimeout(res, 3000));
      expect(r.state.message).toMatch(/^Recording 1 tag from /);
      await until(
        'no answer said',
        () =>
          new RegExp(
            `^${nodeWords('Mute', 'one message', 'Flow is')} Millwright asked it for its birth at \\d\\d:\\d\\d, no answer yet\\. ` +
              `${esc('Restart that edge node, or ask its administrator to check that it answers the Sparkplug Rebirth request and that the broker lets Millwright send it.')}$`,
          ).test(r.state.message),
        15_000,
      );
      expect(recordingNeedsAttention(r.state)).toBe(true);
      const open = r.gaps();
      expect(open.map((g) => [g.tag, g.end, g.reason])).toEqual([['Flow', null, gapReason('Mute')]]);
      expect(Date.parse(open[0]!.start)).toBeGreaterThanOrEqual(sentFrom);
      expect(r.live(1)[0]!.samples).toBe(0);

      // It is born at last: the gap ends, its value is recorded.
      await nodes.birth('Mute', 'Flow', 12.5);
      await until('the birth value', () => last(r, 'spBv1.0/Plant/Mute#Flow') === 12.5);
      await until('calm again', () => /^Recording 1 tag from /.test(r.state.message));
      expect(r.gaps().map((g) => [g.tag, g.end !== null])).toEqual([['Flow', true]]);
      // Asked once (at most once a minute).
      expect(commands.slice(asked)).toEqual([sparkplugTopic('Plant', 'NCMD', 'Mute')]);
    } finally {
      await r.stop();
      await nodes.stop();
    }
  }, 60_000);
});
