/**
 * Recording live data end to end through the core (issue 10), against a
 * real node-opcua server on loopback: a source saved with its password
 * sealed, tags recorded into the buffer, sparklines, a server restart ridden
 * out with one gap, the trend of the whole recording, the app closing and going on with its recording, a
 * certificate trusted only by an explicit decision, and a time range saved
 * as a dataset version whose values are the server's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Recording } from '../shared/recording';
import { createCore, type Core } from './services/compose';
import { scanBuffer, readBuffer } from './services/recording/buffer';
import type { Sealer } from './services/recording/secrets';
import { coreCaller } from './test-support/core-call';
import { startOpcUaServer, simulatedValue, type RunningOpcUaServer } from './test-support/opcua-server';
import { HAVE_MOSQUITTO, Mosquitto, pumpReading, startPublisher } from './test-support/mosquitto';
import { until } from './test-support/until';

let root: string;
let server: RunningOpcUaServer;
let core: Core;
const call = coreCaller(() => core);

const wsDir = () => path.join(root, 'ws');
const open = (opts: Partial<Parameters<typeof createCore>[0]> = {}) => createCore({ workspaceDir: wsDir(), resumeEndpoints: false, monitor: false, ...opts });

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-recording-'));
  // Passwords travel encrypted with the server's certificate, so the server offers a secure endpoint beside None.
  server = await startOpcUaServer({ securityModes: ['None', 'SignAndEncrypt'], users: { operator: 'S3cret-pa55word' } });
  core = open();
}, 60_000);

afterAll(async () => {
  await core?.close();
  await server?.stop({ removePki: true });
  if (root) fs.rmSync(root, { recursive: true, force: true });
}, 30_000);

const COUNTER = 'ns=1;s=Pump1.Counter';
const TEMP = 'ns=1;s=Pump1.Temperature';

describe('a source', () => {
  it('that takes no password over an unsecured connection says what to change', async () => {
    const other = await startOpcUaServer({ users: { operator: 'x' } });
    try {
      const r = await call('sources.test', { settings: { kind: 'opcua', url: other.url, securityMode: 'none', securityPolicy: 'None', auth: 'password', username: 'operator' }, password: 'x' });
      expect(r).toMatchObject({ ok: false, problem: 'security_mismatch' });
      expect(r.message).toMatch(/does not accept user names and passwords with security "none"/);
    } finally {
      await other.stop({ removePki: true });
    }
  }, 60_000);

  it('keeps its password sealed: never in the database file, never returned, and opened to connect', async () => {
    const bad = await call('sources.test', { settings: { kind: 'opcua', url: server.url, securityMode: 'none', securityPolicy: 'None', auth: 'password', username: 'operator' }, password: 'wrong' });
    expect(bad.ok).toBe(false);
    expect(bad.problem).toBe('wrong_credentials');
    const src = await call('sources.save', { name: 'Pump station', settings: { kind: 'opcua', url: server.url, securityMode: 'none', securityPolicy: 'None', auth: 'password', username: 'operator' }, password: 'S3cret-pa55word' });
    expect(src.hasPassword).toBe(true);
    expect(JSON.stringify(await call('sources.list', {}))).not.toContain('S3cret');
    const ok = await call('sources.test', { source: src.id });
    expect(ok.ok).toBe(true);
    core.ws.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const f of fs.readdirSync(wsDir()).filter((n) => n.startsWith('millwright.db'))) {
      expect(fs.readFileSync(path.join(wsDir(), f)).includes(Buffer.from('S3cret-pa55word')), f).toBe(false);
    }
    // The audit says a password was sealed, not what it is.
    const audit = await call('audit.list', { action: 'source.add' });
    expect(audit[0]!.details).toMatchObject({ name: 'Pump station', password: 'sealed' });
    expect(JSON.stringify(audit)).not.toContain('S3cret');
  });

  it("sealed by the desktop app's keychain, it cannot be opened without it, and says so", async () => {
    // Electron's safeStorage cannot run here (no Electron binary): a stand-in with its interface.
    const keychain: Sealer = { kind: 'safeStorage', seal: (t) => Buffer.from(`kc:${Buffer.from(t).toString('base64')}`), open: (b) => Buffer.from(b.toString().slice(3), 'base64').toString() };
    await core.close();
    core = open({ sealer: keychain });
    const src = await call('sources.save', { name: 'Keychain station', settings: { kind: 'opcua', url: server.url, securityMode: 'none', securityPolicy: 'None', auth: 'password', username: 'operator' }, password: 'S3cret-pa55word' });
    expect((await call('sources.test', { source: src.id })).ok).toBe(true);
    await core.close();
    core = open();
    const r = await call('sources.test', { source: src.id });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/kept in this PC's keychain by the desktop app; the command line cannot open it/);
    await call('sources.remove', { id: src.id });
  });
});

describe('a recording', () => {
  let rec: Recording;

  it('records the tags into its buffer with the values the server had at each sample time', async () => {
    const [src] = (await call('sources.list', {})).filter((s) => s.name === 'Pump station');
    rec = await call('recordings.start', { source: src!.id, tags: [{ id: COUNTER, name: 'Counter' }, { id: TEMP, name: 'Temperature' }], intervalMs: 200 });
    expect(rec.state).toBe('connecting');
    await until('20 samples of each tag', async () => (await call('recordings.live', { id: rec.id, points: 50 })).tags.every((t) => t.samples >= 20));
    const live = await call('recordings.live', { id: rec.id, points: 50 });
    expect(live.recording.state).toBe('recording');
    expect(live.tags.map((t) => t.name)).toEqual(['Counter', 'Temperature']);
    for (const [i, id] of [COUNTER.slice(7), TEMP.slice(7)].entries()) {
      const spark = live.tags[i]!.spark;
      expect(spark.length).toBeGreaterThanOrEqual(20);
      for (const p of spark) expect(p.v).toBeCloseTo(simulatedValue(id, p.t) as number, 6);
      // In time order, about 200 ms apart.
      for (let k = 1; k < spark.length; k++) expect(spark[k]!.t).toBeGreaterThan(spark[k - 1]!.t);
    }
    expect(live.tags[0]!.last?.quality).toBe('good');
    // The overview of a running recording reaches its newest sample (written out first): Counter only climbs.
    const ov = await call('recordings.overview', { id: rec.id, points: 10 });
    expect(ov.tags[0]!.points.at(-1)!.max).toBeGreaterThanOrEqual(live.tags[0]!.last!.value!);
  });

  it('rides out a server restart with one gap and goes on recording', async () => {
    await server.stop();
    const lost = await until('reconnecting', async () => {
      const r = await call('recordings.get', { id: rec.id });
      return r.state === 'reconnecting' ? r : null;
    });
    expect(lost.message).toMatch(/Trying again in \d+ s/);
    const before = (await call('recordings.get', { id: rec.id })).samples;
    await server.restart();
    await until('recording again', async () => (await call('recordings.get', { id: rec.id })).state === 'recording', 45_000);
    await until('new samples', async () => (await call('recordings.get', { id: rec.id })).samples > before + 10);
    const live = await call('recordings.live', { id: rec.id, points: 10 });
    expect(live.gaps).toHaveLength(1);
    expect(live.gaps[0]!.end).not.toBeNull();
    expect(live.gaps[0]!.reason).toMatch(/connection|answer|server/i);
    expect(live.recording.gaps).toBe(1);
  }, 90_000);

  it('stops, keeping every sample in the buffer, and lists what it recorded', async () => {
    // Stop pressed twice at once (a double click): both see it stopped, neither is told another process records it.
    const [stopped, again] = await Promise.all([call('recordings.stop', { id: rec.id }), call('recordings.stop', { id: rec.id })]);
    expect(again.state).toBe('stopped');
    expect(stopped.state).toBe('stopped');
    const st = scanBuffer(path.join(wsDir(), 'recordings', String(rec.id)));
    expect(st.samples).toBe(stopped.samples);
    expect(st.gaps).toHaveLength(1);
    // Counter (one step every 100 ms) sampled every 200 ms: each sample is the server's value at its own time.
    let n = 0;
    for (const chunk of readBuffer(path.join(wsDir(), 'recordings', String(rec.id)))) {
      for (const s of chunk) {
        if (s.tag !== 0) continue;
        expect(s.value).toBe(simulatedValue('Pump1.Counter', s.t));
        n++;
      }
    }
    expect(n).toBeGreaterThan(20);
    const list = await call('recordings.list', {});
    expect(list[0]).toMatchObject({ id: rec.id, state: 'stopped', message: expect.stringMatching(/^Stopped by /) });
  });

  it('draws the whole recording for "Save as dataset": lowest and highest value per time bucket, and its gap', async () => {
    const r = await call('recordings.get', { id: rec.id });
    const ov = await call('recordings.overview', { id: rec.id, points: 10 });
    expect(ov.sampled).toBe(false);
    expect(ov.tags.map((t) => t.name)).toEqual(['Counter', 'Temperature']);
    expect(ov.gaps).toEqual([expect.objectContaining({ tag: null, reason: expect.stringMatching(/connection|answer|server/i) })]);
    // Ten buckets from the first to the last sample; each tag's lowest and highest there are those of its samples on disk.
    const first = Date.parse(r.firstSampleAt!);
    const width = (Date.parse(r.lastSampleAt!) - first) / 10;
    const want = [0, 1].map(() => Array.from({ length: 10 }, (_, i) => ({ t: first + i * width, min: null as number | null, max: null as number | null })));
    for (const chunk of readBuffer(path.join(wsDir(), 'recordings', String(rec.id)))) {
      for (const s of chunk) {
        if (s.value === null || s.quality === 'bad') continue;
        const b = want[s.tag]![Math.min(9, Math.floor((s.t - first) / width))]!;
        b.min = b.min === null ? s.value : Math.min(b.min, s.value);
        b.max = b.max === null ? s.value : Math.max(b.max, s.value);
      }
    }
    expect(ov.tags.map((t) => t.points)).toEqual(want);
    // One tag by its id; a tag it does not record is named.
    expect((await call('recordings.overview', { id: rec.id, points: 10, tag: TEMP })).tags.map((t) => t.name)).toEqual(['Temperature']);
    await expect(call('recordings.overview', { id: rec.id, tag: 'ns=1;s=Nope' })).rejects.toMatchObject({ code: 'not_found', field: 'tag' });
  });

  it('saves a time range as a dataset version on a 1 s grid, with lineage to the source and tags', async () => {
    const r = await call('recordings.get', { id: rec.id });
    const from = new Date(Math.ceil(Date.parse(r.firstSampleAt!) / 1000) * 1000).toISOString();
    const to = new Date(Date.parse(from) + 3000).toISOString();
    const job = await call('recordings.save', { id: rec.id, name: 'pump-live', from, to, intervalMs: 1000, aggregate: 'last' });
    const done = await core.jobs.wait(job.id);
    expect(done.state, JSON.stringify(done.error)).toBe('done');
    const ds = await call('datasets.get', { dataset: 'pump-live' });
    const v = ds.versions[0]!;
    expect(v.columns.map((c) => c.name)).toEqual(expect.arrayContaining(['Counter', 'Temperature']));
    expect(v.sources[0]!.fileName).toMatch(/\.csv$/);
    const page = await call('datasets.rows', { dataset: 'pump-live', offset: 0, limit: 100 });
    expect(page.total).toBeGreaterThanOrEqual(3);
    expect(page.total).toBeLessThanOrEqual(4);
    const at = v.columns.findIndex((c) => c.name === v.timeColumn);
    const counter = v.columns.findIndex((c) => c.name === 'Counter');
    for (const row of page.rows) {
      // The last sample of each 1 s slot: Counter (time / 100) is 5 to 9 steps into the slot.
      const slot = typeof row[at] === 'number' ? (row[at] as number) : Date.parse(String(row[at]));
      const steps = (row[counter] as number) - slot / 100;
      // The slot at the end of the range holds only the value the tag had at that instant (sampled up to 300 ms before).
      const [lo, hi] = slot < Date.parse(to) ? [5, 10] : [-3, 1];
      expect(steps, JSON.stringify(row)).toBeGreaterThanOrEqual(lo);
      expect(steps, JSON.stringify(row)).toBeLessThan(hi);
    }
    expect((await call('recordings.get', { id: rec.id })).datasets).toEqual([{ name: 'pump-live', version: 1 }]);
    const audit = JSON.stringify(await call('audit.list', {}));
    expect(audit).toContain('recording.start');
    expect(audit).toContain('recording.stop');
  }, 60_000);

  it('refuses to save an empty recording or a range that ends before it starts, naming the field', async () => {
    await expect(call('recordings.save', { id: rec.id, name: 'x', from: '2026-11-26T10:00:00Z', to: '2026-11-26T09:00:00Z' })).rejects.toMatchObject({ code: 'bad_input', field: 'to' });
    await expect(call('recordings.save', { id: rec.id, name: 'x', from: 'yesterday' })).rejects.toMatchObject({ code: 'bad_input', field: 'from' });
  });
});

describe('a recording for longer than a timer can wait (24.8 days)', () => {
  it('keeps recording instead of ending at once', async () => {
    const [src] = (await call('sources.list', {})).filter((s) => s.name === 'Pump station');
    const rec = await call('recordings.start', { source: src!.id, tags: [{ id: COUNTER, name: 'Counter' }], intervalMs: 200, durationMs: 30 * 86_400_000 });
    expect(Date.parse(rec.endsAt!) - Date.parse(rec.startedAt)).toBe(30 * 86_400_000);
    await until('samples', async () => (await call('recordings.get', { id: rec.id })).samples >= 3);
    expect((await call('recordings.get', { id: rec.id })).state).toBe('recording');
    await call('recordings.stop', { id: rec.id });
  }, 30_000);
});

describe('the desktop app closing and starting again', () => {
  it('pauses its recording and goes on with it, the time it was closed a gap', async () => {
    await core.close();
    core = open({ resumeRecordings: true });
    const [src] = (await call('sources.list', {})).filter((s) => s.name === 'Pump station');
    const rec = await call('recordings.start', { source: src!.id, tags: [{ id: COUNTER, name: 'Counter' }], intervalMs: 200 });
    await until('samples', async () => (await call('recordings.get', { id: rec.id })).samples >= 5);
    await core.close();
    core = open({ resumeEndpoints: false });
    const paused = await call('recordings.get', { id: rec.id });
    expect(paused.state).toBe('interrupted');
    expect(paused.message).toMatch(/goes on when Millwright starts again/);
    await core.close();
    core = open({ resumeRecordings: true });
    const before = paused.samples;
    await until('recording again', async () => (await call('recordings.get', { id: rec.id })).state === 'recording');
    await until('new samples', async () => (await call('recordings.get', { id: rec.id })).samples > before + 5);
    const live = await call('recordings.live', { id: rec.id, points: 5 });
    expect(live.gaps.map((g) => g.reason)).toEqual(['Millwright was not running.']);
    await call('recordings.stop', { id: rec.id });
  }, 60_000);
});

describe('an OPC UA server with security', () => {
  let secure: RunningOpcUaServer;
  beforeAll(async () => {
    secure = await startOpcUaServer({ securityModes: ['SignAndEncrypt'], productName: 'Secure line' });
  }, 60_000);
  afterAll(async () => secure?.stop({ removePki: true }), 30_000);

  it('is connected to only after a person trusts the certificate the server presents, audited', async () => {
    const settings = { kind: 'opcua' as const, url: secure.url, securityMode: 'signAndEncrypt' as const, securityPolicy: 'Basic256Sha256' as const, auth: 'anonymous' as const };
    const first = await call('sources.test', { settings });
    expect(first).toMatchObject({ ok: false, problem: 'untrusted_certificate' });
    expect(first.certificate!.thumbprint).toBe(secure.certificateThumbprint);
    // A thumbprint other than the one presented is refused: the decision is about what the person saw.
    await expect(call('sources.trust', { settings, thumbprint: 'AA:BB', trust: true })).rejects.toMatchObject({ code: 'conflict', field: 'thumbprint' });
    const no = await call('sources.trust', { settings, thumbprint: secure.certificateThumbprint, trust: false });
    expect(no.ok).toBe(false);
    expect((await call('sources.test', { settings })).message).toMatch(/chose not to trust this server's certificate/);
    const yes = await call('sources.trust', { settings, thumbprint: secure.certificateThumbprint, trust: true });
    expect(yes.ok, yes.message).toBe(true);
    expect(yes.message).toMatch(/signed and encrypted/);
    const actions = (await call('audit.list', {})).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['source.distrust', 'source.trust']));
  }, 60_000);
});

describe.skipIf(!HAVE_MOSQUITTO)('an MQTT broker', () => {
  let broker: Mosquitto;
  let publisher: Awaited<ReturnType<typeof startPublisher>>;
  beforeAll(async () => {
    broker = await Mosquitto.start({ users: { gateway: 'Br0ker-pw' } });
    publisher = await startPublisher(broker.url, { topic: 'plant/pump1', everyMs: 100, username: 'gateway', password: 'Br0ker-pw' });
  }, 60_000);
  afterAll(async () => {
    await publisher?.stop();
    await broker?.close();
  }, 30_000);

  it('lists the JSON fields heard, records two of them with the values published, rides out a broker restart, and saves', async () => {
    const settings = { kind: 'mqtt' as const, url: broker.url, topic: 'plant/#', payload: 'json' as const, username: 'gateway', rejectUnauthorized: true };
    expect((await call('sources.test', { settings, password: 'nope' })).problem).toBe('wrong_credentials');
    const src = await call('sources.save', { name: 'Gateway', settings, password: 'Br0ker-pw' });
    const heard = await call('sources.browse', { source: src.id, listenMs: 1500 });
    const ids = heard.nodes.filter((n) => n.kind === 'variable' && n.numeric).map((n) => n.id);
    expect(ids).toEqual(expect.arrayContaining(['plant/pump1#temperature', 'plant/pump1#motor.current', 'plant/pump1#running']));
    const rec = await call('recordings.start', { source: src.id, tags: [{ id: 'plant/pump1#temperature', name: 'temperature' }, { id: 'plant/pump1#motor.current', name: 'motor current' }], intervalMs: 1000 });
    await until('10 samples of each', async () => (await call('recordings.live', { id: rec.id, points: 20 })).tags.every((t) => t.samples >= 10));
    // Every value recorded is one the publisher sent.
    const sent = { temperature: new Set<number>(), current: new Set<number>() };
    for (let i = 0; i < 5000; i++) {
      sent.temperature.add(pumpReading(i).temperature);
      sent.current.add(pumpReading(i).motor.current);
    }
    const live = await call('recordings.live', { id: rec.id, points: 20 });
    for (const p of live.tags[0]!.spark) expect(sent.temperature.has(p.v!), String(p.v)).toBe(true);
    for (const p of live.tags[1]!.spark) expect(sent.current.has(p.v!), String(p.v)).toBe(true);

    await broker.kill();
    await until('reconnecting', async () => (await call('recordings.get', { id: rec.id })).state === 'reconnecting');
    await broker.restart();
    const before = (await call('recordings.get', { id: rec.id })).samples;
    await until('recording again', async () => (await call('recordings.get', { id: rec.id })).state === 'recording', 45_000);
    await until('new samples', async () => (await call('recordings.get', { id: rec.id })).samples > before + 10, 30_000);
    const stopped = await call('recordings.stop', { id: rec.id });
    expect(stopped.gaps).toBe(1);
    const job = await call('recordings.save', { id: rec.id, name: 'gateway-live', intervalMs: 1000 });
    const done = await core.jobs.wait(job.id);
    expect(done.state, JSON.stringify(done.error)).toBe('done');
    const v = (await call('datasets.get', { dataset: 'gateway-live' })).versions[0]!;
    expect(v.columns.map((c) => c.name)).toEqual(expect.arrayContaining(['temperature', 'motor current']));
    expect(v.rows).toBeGreaterThan(2);
  }, 120_000);
});
