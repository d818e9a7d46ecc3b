/**
 * The MQTT driver against Debian's Mosquitto on loopback: browsing what is
 * published, reading last values, subscribing, connection problems in words
 * (bad address, nothing listening, silence, wrong password, TLS), and losing
 * the broker.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttSettings } from '../../../shared/recording';
import { freePort } from '../../test-support/free-port';
import { HAVE_MOSQUITTO, Mosquitto } from '../../test-support/mosquitto';
import { ConnectError, type DriverConnection, type Sample } from './driver';
import { mqttDriver, parseTimestamp, topicMatches, validTopicFilter } from './mqtt';

if (!HAVE_MOSQUITTO) process.stderr.write('mqtt.test: skipping the broker tests: /usr/sbin/mosquitto is not installed (apt-get install mosquitto).\n');

let tmp: string;
let broker: Mosquitto;
let pub: MqttClient;
const open: DriverConnection[] = [];

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function publish(topic: string, message: unknown, retain = false): Promise<void> {
  const body = typeof message === 'string' ? message : JSON.stringify(message);
  return new Promise((resolve, reject) => pub.publish(topic, body, { qos: 1, retain }, (err) => (err ? reject(err) : resolve())));
}

async function driver(url: string, settings: Partial<MqttSettings> = {}, extra: { password?: string; timeoutMs?: number; onLost?: (r: string) => void } = {}): Promise<DriverConnection> {
  const c = await mqttDriver.connect({
    settings: { kind: 'mqtt', url, topic: '#', payload: 'json', rejectUnauthorized: true, ...settings },
    pkiDir: path.join(tmp, 'pki'),
    trusted: new Set(),
    ...extra,
  });
  open.push(c);
  return c;
}

/** The ConnectError a connect fails with (fails the test if it connects). */
async function failure(url: string, settings: Partial<MqttSettings> = {}, extra: { password?: string; timeoutMs?: number } = {}): Promise<ConnectError> {
  try {
    await driver(url, settings, extra);
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    return err as ConnectError;
  }
  throw new Error(`connecting to ${url} should have failed`);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-mqtt-driver-'));
  if (!HAVE_MOSQUITTO) return;
  broker = await Mosquitto.start();
  pub = connect(broker.url, { clientId: `test-pub-${process.pid}` });
  await new Promise<void>((resolve, reject) => {
    pub.once('connect', () => resolve());
    pub.once('error', reject);
  });
});

afterAll(async () => {
  for (const c of open) await c.close();
  await pub?.endAsync(true);
  await broker?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('helpers', () => {
  it('reads payload timestamps as ISO text or epoch s/ms/µs and refuses other numbers', () => {
    expect(parseTimestamp('2024-05-01T10:00:00Z')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseTimestamp(1714557600)).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseTimestamp(1714557600.5)).toBe(Date.UTC(2024, 4, 1, 10) + 500);
    expect(parseTimestamp(1714557600000)).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseTimestamp('1714557600000')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseTimestamp(1714557600000000)).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseTimestamp(42)).toBeNull();
    expect(parseTimestamp('12')).toBeNull();
    expect(parseTimestamp('soon')).toBeNull();
  });

  it('matches topic filters as a broker does', () => {
    expect(topicMatches('plant/#', 'plant/pump1/temp')).toBe(true);
    expect(topicMatches('plant/#', 'plant')).toBe(true);
    expect(topicMatches('plant/+/temp', 'plant/pump1/temp')).toBe(true);
    expect(topicMatches('plant/+/temp', 'plant/pump1/flow')).toBe(false);
    expect(topicMatches('plant/+', 'plant/pump1/temp')).toBe(false);
    expect(topicMatches('#', '$SYS/broker/uptime')).toBe(false);
    expect(validTopicFilter('plant/+/temp')).toBe(true);
    expect(validTopicFilter('plant/#/temp')).toBe(false);
    expect(validTopicFilter('plant/pump+')).toBe(false);
  });
});

describe.skipIf(!HAVE_MOSQUITTO)('MQTT driver on Mosquitto', () => {
  it('browses JSON topics as folders of dotted fields with their last values', async () => {
    await publish('browse/a/pump1', { temperature: 20 }, true);
    const c = await driver(broker.url, { topic: 'browse/#' });
    expect(c.serverName).toBe(`mqtt://127.0.0.1:${broker.port}`);
    await publish('browse/plant/pump1', { temperature: 61.5, pressure: '3.2', running: true, state: 'RUNNING', motor: { current: 12.25, rpm: 1480 }, values: [1, 2] });
    await publish('browse/plant/pump2', { temperature: 59 });
    await publish('browse/plant/raw', 'not json {');
    await publish('elsewhere/pump3', { temperature: 1 });
    const { nodes, truncated } = await c.browse({ listenMs: 1000 });
    expect(truncated).toBe(false);
    expect(nodes.map((n) => n.id)).toEqual([
      'browse/a/pump1',
      'browse/a/pump1#temperature',
      'browse/plant/pump1',
      'browse/plant/pump1#motor.current',
      'browse/plant/pump1#motor.rpm',
      'browse/plant/pump1#pressure',
      'browse/plant/pump1#running',
      'browse/plant/pump1#state',
      'browse/plant/pump1#temperature',
      'browse/plant/pump1#values.0',
      'browse/plant/pump1#values.1',
      'browse/plant/pump2',
      'browse/plant/pump2#temperature',
    ]);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    expect(byId.get('browse/plant/pump1')).toMatchObject({ kind: 'folder', hasChildren: true, value: null, dataType: null });
    expect(byId.get('browse/plant/pump1#temperature')).toMatchObject({ kind: 'variable', value: 61.5, numeric: true, dataType: 'number', path: 'browse/plant/pump1/temperature' });
    expect(byId.get('browse/plant/pump1#motor.current')).toMatchObject({ name: 'pump1.motor.current', value: 12.25, numeric: true });
    expect(byId.get('browse/plant/pump1#running')).toMatchObject({ value: true, numeric: true, dataType: 'boolean' });
    expect(byId.get('browse/plant/pump1#state')).toMatchObject({ value: 'RUNNING', numeric: false, dataType: 'string' });
    expect(byId.get('browse/plant/pump1#pressure')).toMatchObject({ value: '3.2', numeric: true, dataType: 'string' });
    expect(byId.get('browse/plant/pump2#temperature')).toMatchObject({ name: 'pump2.temperature', value: 59 });
    // Two pump1 topics: the names take one more topic level so they stay apart as column names.
    expect(byId.get('browse/plant/pump1#temperature')!.name).toBe('plant.pump1.temperature');
    expect(byId.get('browse/a/pump1#temperature')!.name).toBe('a.pump1.temperature');

    const found = await c.browse({ search: 'MOTOR', listenMs: 0 });
    expect(found.nodes.map((n) => n.id)).toEqual(['browse/plant/pump1', 'browse/plant/pump1#motor.current', 'browse/plant/pump1#motor.rpm']);
    const inside = await c.browse({ parent: 'browse/plant/pump2', listenMs: 0 });
    expect(inside.nodes.map((n) => n.id)).toEqual(['browse/plant/pump2#temperature']);
    await publish('browse/a/pump1', '', true);
  });

  it('takes plain numbers (and true/false) as one value per topic, skipping other payloads', async () => {
    const c = await driver(broker.url, { topic: 'num/#', payload: 'number' });
    await publish('num/line1/flow', '12.5');
    await publish('num/line1/valve', 'true');
    await publish('num/line2/flow', ' -7e1 ');
    await publish('num/line1/junk', { a: 1 });
    const { nodes } = await c.browse({ listenMs: 800 });
    expect(nodes.map((n) => [n.id, n.name, n.kind, n.value, n.numeric])).toEqual([
      ['num/line1/flow', 'line1.flow', 'variable', 12.5, true],
      ['num/line1/valve', 'line1.valve', 'variable', true, true],
      ['num/line2/flow', 'line2.flow', 'variable', -70, true],
    ]);
    const values = await c.read(['num/line1/flow', 'num/line1/valve']);
    expect(values.map((v) => [v.value, v.text, v.quality])).toEqual([
      [12.5, '12.5', 'good'],
      [1, 'true', 'good'],
    ]);
  });

  it('reads last values (retained ones at once, later ones when they come) and says what it never heard', async () => {
    await publish('read/pump', { temperature: 70.25, timestamp: '2024-05-01T10:00:00Z' }, true);
    const c = await driver(broker.url, { topic: 'read/#' });
    const [first] = await c.read(['read/pump#temperature']);
    expect(first).toEqual({ tag: 'read/pump#temperature', value: 70.25, text: '70.25', quality: 'good', at: '2024-05-01T10:00:00.000Z' });

    const started = Date.now();
    const pending = c.read(['read/late#x', 'read/never#x']);
    setTimeout(() => void publish('read/late', { x: 5 }), 300);
    const [late, never] = await pending;
    expect(late).toMatchObject({ tag: 'read/late#x', value: 5, quality: 'good' });
    expect(never).toEqual({ tag: 'read/never#x', value: null, text: 'Nothing heard yet', quality: 'bad', at: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(Date.now() - started).toBeLessThan(5000);
    await publish('read/pump', '', true);
  });

  it('delivers a sample per message for each picked field, with payload timestamps and bad quality where a field is missing', async () => {
    const c = await driver(broker.url, { topic: 'sub/#' });
    const samples: Sample[] = [];
    const tags = ['temperature', 'motor.current', 'running', 'state', 'missing'].map((f) => ({ id: `sub/pump#${f}`, name: f }));
    const sub = await c.subscribe(tags, 1000, (s) => samples.push(s));
    const t1 = Date.UTC(2024, 0, 2, 3, 4, 5);
    await publish('sub/pump', { temperature: 50.5, motor: { current: 10 }, running: true, state: 'RUNNING', ts: t1 / 1000 });
    await publish('sub/pump', 'garbage');
    await publish('sub/other', { temperature: 99 });
    await publish('sub/pump', { temperature: '51.5', running: false, timestamp: '2024-01-02T03:04:06.250Z' });
    const before = Date.now();
    await publish('sub/pump', { temperature: 52, motor: { current: 11.5 } });
    await until('three messages of samples', () => samples.length >= 15);
    const after = Date.now();
    const of = (f: string) => samples.filter((s) => s.tag === `sub/pump#${f}`);
    expect(of('temperature').map((s) => [s.value, s.quality])).toEqual([
      [50.5, 'good'],
      [51.5, 'good'],
      [52, 'good'],
    ]);
    expect(of('motor.current').map((s) => [s.value, s.quality])).toEqual([
      [10, 'good'],
      [null, 'bad'],
      [11.5, 'good'],
    ]);
    expect(of('running').map((s) => s.value)).toEqual([1, 0, null]);
    expect(of('state').map((s) => [s.value, s.quality])).toEqual([
      [null, 'bad'],
      [null, 'bad'],
      [null, 'bad'],
    ]);
    expect(of('missing').every((s) => s.value === null && s.quality === 'bad')).toBe(true);
    const times = of('temperature').map((s) => s.t);
    expect(times[0]).toBe(t1);
    expect(times[1]).toBe(t1 + 1250);
    expect(times[2]).toBeGreaterThanOrEqual(before - 5);
    expect(times[2]).toBeLessThanOrEqual(after + 5);
    expect(samples).toHaveLength(15);

    await sub.close();
    await publish('sub/pump', { temperature: 53 });
    const [now] = await c.read(['sub/pump#temperature']);
    expect(now!.value).toBe(53);
    expect(samples).toHaveLength(15);
  });

  it('subscribes to a tag outside the source topic filter when asked for it', async () => {
    const c = await driver(broker.url, { topic: 'narrow/#' });
    const samples: Sample[] = [];
    await c.subscribe([{ id: 'wide/pump#flow', name: 'flow' }], 1000, (s) => samples.push(s));
    await publish('wide/pump', { flow: 3.5 });
    await until('a sample from wide/pump', () => samples.length > 0);
    expect(samples[0]).toMatchObject({ tag: 'wide/pump#flow', value: 3.5, quality: 'good' });
  });

  it('explains addresses that are not broker addresses', async () => {
    for (const url of ['http://127.0.0.1:1883', 'localhost:1883', 'mqtt//host', 'mqtt://']) {
      const err = await failure(url);
      expect(err.problem, url).toBe('bad_url');
      expect(err.message).toMatch(/mqtt:\/\//);
    }
    const topic = await failure(broker.url, { topic: 'plant/#/temp' });
    expect(topic.problem).toBe('other');
    expect(topic.message).toContain('plant/#/temp');
  });

  it('says nothing answers on a port without a broker', async () => {
    const port = await freePort();
    const err = await failure(`mqtt://127.0.0.1:${port}`);
    expect(err.problem).toBe('unreachable');
    expect(err.message).toContain(`127.0.0.1:${port}`);
  });

  it('gives up on a server that never answers, within the timeout, and closes its socket', async () => {
    const sockets: net.Socket[] = [];
    const closed: boolean[] = [];
    const silent = net.createServer((s) => {
      const i = sockets.push(s) - 1;
      closed[i] = false;
      s.on('close', () => (closed[i] = true));
      s.on('error', () => undefined);
      s.resume(); // read (and drop) the CONNECT, so the hang-up is seen
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      const err = await failure(`mqtt://127.0.0.1:${port}`, {}, { timeoutMs: 600 });
      expect(err.problem).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(2000);
      await until('the client to hang up', () => sockets.length > 0 && closed.every(Boolean), 2000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('tells wrong credentials from missing ones, and connects with the right password', async () => {
    const locked = await Mosquitto.start({ users: { operator: 'pump-station-7' } });
    try {
      const wrong = await failure(locked.url, { username: 'operator' }, { password: 'nope' });
      expect(wrong.problem).toBe('wrong_credentials');
      expect(wrong.message).toContain('"operator"');
      const anonymous = await failure(locked.url);
      expect(anonymous.problem).toBe('wrong_credentials');
      expect(anonymous.message).toMatch(/anonymous/);
      const c = await driver(locked.url, { username: 'operator', topic: 'x/#' }, { password: 'pump-station-7' });
      expect(c.serverName).toBe(`mqtt://127.0.0.1:${locked.port}`);
      await c.close();
    } finally {
      await locked.close();
    }
  });

  it('over TLS: refuses an untrusted broker in words, connects with its CA, checks the host name, and speaks WebSockets', async () => {
    const secure = await Mosquitto.start({ tls: { names: ['localhost'] }, websockets: {} });
    try {
      const untrusted = await failure(secure.tlsUrl);
      expect(untrusted.problem).toBe('tls');
      expect(untrusted.message).toMatch(/CA certificate under Advanced/);

      const c = await driver(secure.tlsUrl, { caFile: secure.tls!.caFile, topic: 'tls/#' });
      expect(c.serverName).toBe(`mqtts://localhost:${secure.tlsPort}`);
      await c.close();

      const lax = await driver(secure.tlsUrl, { rejectUnauthorized: false, topic: 'tls/#' });
      await lax.close();

      const wrongName = await failure(`mqtts://127.0.0.1:${secure.tlsPort}`, { caFile: secure.tls!.caFile });
      expect(wrongName.problem).toBe('tls');
      expect(wrongName.message).toContain('"127.0.0.1"');

      const notTls = await failure(`mqtts://localhost:${secure.port}`, { caFile: secure.tls!.caFile });
      expect(notTls.problem).toBe('tls');

      const noFile = await failure(secure.tlsUrl, { caFile: path.join(tmp, 'missing-ca.pem') });
      expect(noFile.problem).toBe('tls');
      expect(noFile.message).toContain('missing-ca.pem');

      const ws = await driver(secure.wsUrl, { topic: 'ws/#' });
      const wsPub = connect(secure.url);
      await new Promise<void>((r) => wsPub.once('connect', () => r()));
      await wsPub.publishAsync('ws/pump', JSON.stringify({ speed: 1450 }), { qos: 1 });
      const [speed] = await ws.read(['ws/pump#speed']);
      expect(speed!.value).toBe(1450);
      await wsPub.endAsync();
      await ws.close();
    } finally {
      await secure.close();
    }
  });

  it('asks for a client certificate when the broker wants one, and connects with it', async () => {
    const strict = await Mosquitto.start({ tls: { requireClientCert: true } });
    try {
      const without = await failure(strict.tlsUrl, { caFile: strict.tls!.caFile });
      expect(without.problem).toBe('tls');
      expect(without.message).toMatch(/client certificate/);
      const c = await driver(strict.tlsUrl, { caFile: strict.tls!.caFile, clientCertFile: strict.tls!.clientCertFile, clientKeyFile: strict.tls!.clientKeyFile, topic: 'x/#' });
      await c.close();
    } finally {
      await strict.close();
    }
  });

  it('says once when the broker goes away, and nothing after close()', async () => {
    const fragile = await Mosquitto.start();
    try {
      const lost: string[] = [];
      await driver(fragile.url, { topic: 'x/#' }, { onLost: (r) => lost.push(r) });
      const closedLost: string[] = [];
      const closing = await driver(fragile.url, { topic: 'x/#' }, { onLost: (r) => closedLost.push(r) });
      await closing.close();
      await closing.close();

      const killedAt = Date.now();
      await fragile.kill();
      await until('onLost', () => lost.length > 0, 3000);
      expect(Date.now() - killedAt).toBeLessThan(3000);
      expect(lost[0]).toContain(`127.0.0.1:${fragile.port}`);

      await fragile.restart();
      const again: string[] = [];
      const c = await driver(fragile.url, { topic: 'x/#' }, { onLost: (r) => again.push(r) });
      const closeStarted = Date.now();
      await c.close();
      expect(Date.now() - closeStarted).toBeLessThan(1500);
      await fragile.kill();
      await new Promise((r) => setTimeout(r, 500));
      expect(lost).toHaveLength(1);
      expect(closedLost).toEqual([]);
      expect(again).toEqual([]);
    } finally {
      await fragile.close();
    }
  });
});
