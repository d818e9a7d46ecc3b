/**
 * The edge runtime's MQTT link against a real Mosquitto broker on loopback,
 * and its dynamic batching: rows that arrive while ONNX Runtime is busy are
 * scored together and must get exactly the answers they get alone.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feeds, plantFrame, settings, sliceFrame, train, withOddRows } from './services/onnx/parity-harness';
import type { Frame } from './services/training/frame';
import { bundleEntries, callEdge, HGB, IFOREST, isRunning, killAll, LINEAR, modelBundle, NO_TIME, objects as rowObjects, SERVER, signingKey, startEdge, stopEdge, tarGz, type Edge, type ModelBundle as Bundle } from './test-support/edge-child';
import { freePort } from './test-support/free-port';

const MOSQUITTO = '/usr/sbin/mosquitto';
const HAVE_MOSQUITTO = fs.existsSync(MOSQUITTO);
if (!HAVE_MOSQUITTO) process.stderr.write(`edge-mqtt.test: skipping the MQTT tests: ${MOSQUITTO} is not installed (apt-get install mosquitto).\n`);

const TOKEN = 'mqtt-test-token-0123456789';
let tmp: string;
let scoring: Frame;
let binary: Bundle;
let regression: Bundle;
let anomaly: Bundle;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-edge-mqtt-'));
  const key = signingKey();
  const frame = plantFrame(700);
  scoring = withOddRows(frame);
  binary = await modelBundle(path.join(tmp, 'failure'), train(frame, settings('binary', NO_TIME), [HGB]), 'Failure (pump P-101)', 3, null, key);
  regression = await modelBundle(path.join(tmp, 'yield'), train(frame, settings('regression', NO_TIME), [LINEAR]), 'yield', 1, null, key);
  anomaly = await modelBundle(path.join(tmp, 'unusual'), train(frame, settings('anomaly'), [IFOREST]), 'unusual', 2, 'Time', key);
}, 60_000);

afterAll(async () => {
  killAll();
  for (const b of [binary, regression, anomaly]) await b?.session.release();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------- helpers

/** Resolves once `check` holds, polling; fails with `what` after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Mosquitto on a loopback port, with a config written here; restartable on the same port. */
class Broker {
  proc: ChildProcess | null = null;
  log = '';
  constructor(
    readonly port: number,
    readonly conf: string,
  ) {
    fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', ''].join('\n'));
  }

  async start(): Promise<void> {
    const proc = spawn(MOSQUITTO, ['-c', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc = proc;
    await until(`mosquitto on port ${this.port}: ${this.log}`, () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(this.port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    );
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    const gone = new Promise((resolve) => proc.on('exit', resolve));
    proc.kill('SIGKILL');
    await gone;
  }
}

/** A test client that keeps every message it receives, by topic, in order. */
async function listener(port: number, topics: string[]): Promise<{ client: MqttClient; got: Map<string, string[]>; of: (topic: string) => unknown[] }> {
  const client = connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 200, clientId: `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}` });
  const got = new Map<string, string[]>();
  client.on('message', (topic, payload) => {
    if (!got.has(topic)) got.set(topic, []);
    got.get(topic)!.push(payload.toString('utf8'));
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(topics, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    client.once('error', reject);
  });
  return { client, got, of: (topic) => (got.get(topic) ?? []).map((t) => JSON.parse(t) as unknown) };
}

function publish(client: MqttClient, topic: string, message: unknown): Promise<void> {
  return new Promise((resolve, reject) => client.publish(topic, typeof message === 'string' ? message : JSON.stringify(message), { qos: 1 }, (err) => (err ? reject(err) : resolve())));
}

const call = (edge: Edge, method: string, route: string, body?: unknown) => callEdge(edge.port, method, route, body, TOKEN);

async function predict(edge: Edge, rows: unknown): Promise<Record<string, unknown>[]> {
  const r = await call(edge, 'POST', '/predict', rows);
  expect(r.status, r.text).toBe(200);
  return r.body.predictions as Record<string, unknown>[];
}

/** One /metrics sample's value (the first line that starts with `series`). */
async function metric(edge: Edge, series: string): Promise<number> {
  const r = await call(edge, 'GET', '/metrics');
  const line = r.text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

/** The endpoint with --mqtt on `broker`, resolved once it says it has subscribed. */
async function startWithMqtt(bundle: Bundle, broker: Broker, state: string, args: string[] = []): Promise<Edge> {
  const edge = await startEdge(bundle.dir, ['--state', path.join(tmp, state), '--mqtt', `mqtt://127.0.0.1:${broker.port}`, ...args], { MILLWRIGHT_TOKEN: TOKEN });
  await until('the endpoint to subscribe', () => edge.lines.some((l) => (l.mqtt as { connected?: string } | undefined)?.connected));
  return edge;
}

// ---------------------------------------------------------------- MQTT

describe.skipIf(!HAVE_MOSQUITTO)('edge runtime over MQTT (Mosquitto on loopback)', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = new Broker(await freePort(), path.join(tmp, 'mosquitto.conf'));
    await broker.start();
  });
  afterAll(async () => {
    await broker?.kill();
  });

  describe('a classifier on the default topics', () => {
    let edge: Edge;
    let sub: Awaited<ReturnType<typeof listener>>;
    // "Failure (pump P-101)" → millwright/failure-pump-p-101/…
    const IN = 'millwright/failure-pump-p-101/in';
    const OUT = 'millwright/failure-pump-p-101/out';

    beforeAll(async () => {
      edge = await startWithMqtt(binary, broker, 'state-binary');
      sub = await listener(broker.port, [OUT, `${OUT}/#`]);
    });
    afterAll(async () => {
      sub?.client.end(true);
      if (isRunning(edge)) expect(await stopEdge(edge)).toBe(0);
    });

    it('answers every row of every message on the out-topic, in order, as /predict answers the same rows', async () => {
      const rows = rowObjects(scoring, binary.sig, scoring.rows - 60, scoring.rows);
      const want = await predict(edge, rows);
      // Single objects and lists of rows, as a gateway might send them.
      const messages: unknown[] = [rows[0], rows.slice(1, 4), rows[4], rows.slice(5, 30), ...rows.slice(30)];
      const before = Date.now();
      for (const m of messages) await publish(sub.client, IN, m);
      await until('60 answers', () => sub.of(OUT).length >= 60);
      const got = sub.of(OUT) as Record<string, unknown>[];
      expect(got).toHaveLength(60);
      got.forEach((g, i) => {
        const { time, source, model, version, ...prediction } = g;
        expect(prediction, `row ${i}`).toEqual(want[i]);
        expect({ source, model, version }).toEqual({ source: 'default', model: 'Failure (pump P-101)', version: '3' });
        // Rows without a time of their own carry the time they were received.
        expect(Date.parse(time as string)).toBeGreaterThanOrEqual(before - 1000);
      });
      expect(new Set(want.map((p) => p.prediction)).size, 'both classes occur').toBe(2);
      expect(sub.got.get(`${OUT}/anomaly`) ?? []).toEqual([]);
      expect(await metric(edge, 'millwright_mqtt_messages_total{direction="in"}')).toBe(messages.length);
      await until('the broker to acknowledge every answer', async () => (await metric(edge, 'millwright_mqtt_messages_total{direction="out"}')) === 60);
      expect(await metric(edge, 'millwright_requests_total{route="mqtt",code="200"}')).toBe(messages.length);
      // MQTT rows are counted as predictions beside the /predict ones.
      const r = await call(edge, 'GET', '/metrics');
      const counted = [...r.text.matchAll(/^millwright_predictions_total\{label="[^"]+"\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
      expect(counted).toBe(120);
    });

    it('reports a message it cannot use on <out>/errors, counts it as an error, and keeps answering', async () => {
      const errorsBefore = await metric(edge, 'millwright_errors_total');
      const ok = rowObjects(scoring, binary.sig, 0, 2);
      const long = `{"Inlet": ${'9'.repeat(300)}`;
      await publish(sub.client, IN, ok[0]);
      await publish(sub.client, IN, long);
      await publish(sub.client, IN, { ...ok[1], Vibration: 3 });
      await publish(sub.client, IN, [ok[0], { ...ok[1], Pressure: 'high' }]);
      await publish(sub.client, IN, '');
      await publish(sub.client, IN, ok[1]);
      await until('4 error reports', () => sub.of(`${OUT}/errors`).length >= 4);
      const errors = sub.of(`${OUT}/errors`) as { error: string; topic: string; payload: string }[];
      expect(errors).toHaveLength(4);
      expect(errors[0]).toEqual({ error: expect.stringMatching(/^The message is not valid JSON: .+\.$/), topic: IN, payload: long.slice(0, 200) });
      expect(errors[1]!.error).toMatch(/^Row 1: "Vibration" is not an input of model "Failure \(pump P-101\)"\. Its inputs are: Inlet, Outlet, Pressure, Pump, Grade\.$/);
      expect(errors[2]!.error).toMatch(/^Row 2: "Pressure" must be a number, or null when missing; got "high"\.$/);
      expect(errors[3]).toEqual({ error: 'The message is empty; send a JSON object of named fields, or a list of them.', topic: IN, payload: '' });
      // The good messages before and after are answered; a message with a bad row gets no answer for any of its rows.
      await until('2 more answers', () => sub.of(OUT).length >= 62);
      const want = await predict(edge, ok);
      const tail = (sub.of(OUT) as Record<string, unknown>[]).slice(60).map(({ time: _t, source: _s, model: _m, version: _v, ...p }) => p);
      expect(tail).toEqual(want);
      expect(await metric(edge, 'millwright_mqtt_errors_total')).toBe(4);
      expect(await metric(edge, 'millwright_errors_total')).toBe(errorsBefore + 4);
      expect(await metric(edge, 'millwright_requests_total{route="mqtt",code="400"}')).toBe(4);
    });

    it('reconnects when the broker goes away and comes back, and answers what is sent after', async () => {
      expect(await metric(edge, 'millwright_mqtt_connected')).toBe(1);
      await broker.kill();
      await until('the endpoint to notice', async () => (await metric(edge, 'millwright_mqtt_connected')) === 0);
      expect(edge.lines.some((l) => (l.mqtt as { disconnected?: string } | undefined)?.disconnected)).toBe(true);
      // HTTP goes on meanwhile.
      expect(await predict(edge, rowObjects(scoring, binary.sig, 0, 1))).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 1500));
      await broker.start();
      await until('the endpoint to reconnect', async () => (await metric(edge, 'millwright_mqtt_connected')) === 1, 30_000);
      // The test's own client reconnects too; the broker kept nothing (persistence false), so it subscribes again.
      sub.client.end(true);
      sub = await listener(broker.port, [OUT, `${OUT}/#`]);
      await until('the endpoint to subscribe again', () => edge.lines.filter((l) => (l.mqtt as { connected?: string } | undefined)?.connected).length >= 2);
      const rows = rowObjects(scoring, binary.sig, 100, 110);
      await publish(sub.client, IN, rows);
      await until('10 answers after the restart', () => sub.of(OUT).length >= 10);
      const got = (sub.of(OUT) as Record<string, unknown>[]).map(({ time: _t, source: _s, model: _m, version: _v, ...p }) => p);
      expect(got).toEqual(await predict(edge, rows));
      expect(edge.stderr()).toMatch(/MQTT: mqtt:\/\/127\.0\.0\.1:\d+: .+; retrying with growing pauses/);
    }, 60_000);
  });

  describe('an anomaly model with window features on its own topics', () => {
    let edge: Edge;
    let sub: Awaited<ReturnType<typeof listener>>;
    const N = 90;
    let rows: Frame;
    const time = (i: number) => new Date((rows.columns.get('Time') as { values: Float64Array }).values[i]!).toISOString();

    beforeAll(async () => {
      rows = sliceFrame(scoring, scoring.rows - N, scoring.rows);
      edge = await startWithMqtt(anomaly, broker, 'state-anomaly', ['--mqtt-in', 'plant/+/readings', '--mqtt-out', 'plant/answers']);
      sub = await listener(broker.port, ['plant/answers', 'plant/answers/#']);
    });
    afterAll(async () => {
      sub?.client.end(true);
      if (isRunning(edge)) expect(await stopEdge(edge)).toBe(0);
    });

    it('continues each topic\'s stream, sends anomalies also to <out>/anomaly with each row\'s own time', async () => {
      // The same rows through /predict on a stream of their own give the answers to compare with.
      const want = await predict(edge, rowObjects(rows, anomaly.sig, 0, N, (i) => ({ source: 'http', Time: time(i) })));
      expect(want.some((p) => p.anomaly === true) && want.some((p) => p.anomaly === false)).toBe(true);
      // A wildcard in-topic: each topic is its own source. Rows in time order, one or several a message.
      const message = (from: number, to: number) => rowObjects(rows, anomaly.sig, from, to, (i) => ({ Time: time(i) }));
      for (const [a, b] of [[0, 1], [1, 40], [40, 41], [41, N]]) await publish(sub.client, 'plant/p-101/readings', message(a!, b!));
      await until(`${N} answers`, () => sub.of('plant/answers').length >= N);
      const got = sub.of('plant/answers') as Record<string, unknown>[];
      expect(got.map(({ time: _t, source: _s, model: _m, version: _v, ...p }) => p)).toEqual(want);
      expect(got.map((g) => g.time)).toEqual(Array.from({ length: N }, (_, i) => time(i)));
      expect(new Set(got.map((g) => `${g.source} ${g.model} ${g.version}`))).toEqual(new Set(['plant/p-101/readings unusual 2']));
      const flagged = got.filter((g) => g.anomaly === true);
      await until('the anomaly topic', () => sub.of('plant/answers/anomaly').length >= flagged.length);
      expect(sub.of('plant/answers/anomaly')).toEqual(flagged);
      expect(await metric(edge, 'millwright_anomalies_total')).toBe(2 * flagged.length);
    });

    it('has a shadow model score the rows that come over MQTT too', async () => {
      const admin = (method: string, route: string, body?: unknown) => callEdge(edge.port, method, route, body, edge.generated.admin!);
      // The same model as its own shadow: every row is compared, and they agree on each.
      const installed = await admin('POST', '/admin/shadow', tarGz(bundleEntries(anomaly.dir)));
      expect(installed.status, installed.text).toBe(200);
      const before = (await admin('GET', '/admin/monitoring')).body as { cursor: string };
      const answered = sub.of('plant/answers').length;
      await publish(sub.client, 'plant/p-102/readings', rowObjects(rows, anomaly.sig, 0, 30, (i) => ({ Time: time(i) })));
      await until('30 answers', () => sub.of('plant/answers').length >= answered + 30);
      const flagged = (sub.of('plant/answers') as Record<string, unknown>[]).slice(answered).filter((g) => g.anomaly === true).length;
      const page = (await admin('GET', `/admin/monitoring?cursor=${before.cursor}`)).body as { buckets: { shadow?: Record<string, number> }[] };
      const sum = (k: string) => page.buckets.reduce((n, b) => n + (b.shadow?.[k] ?? 0), 0);
      expect([sum('rows'), sum('agreed'), sum('anomalies'), sum('productionAnomalies'), sum('errors')]).toEqual([30, 30, flagged, flagged, 0]);
      // /metrics counts them too, by shadow model version, for a Prometheus beside the plant's other gateways.
      const shadowSeries = (name: string) => `millwright_shadow_${name}_total{name="${anomaly.name}",version="2"}`;
      const counted = await Promise.all(['rows', 'agreed', 'anomalies', 'errors'].map((k) => metric(edge, shadowSeries(k))));
      expect(counted[0]).toBeGreaterThanOrEqual(30);
      expect(counted[1]).toBe(counted[0]);
      expect(counted[2]).toBeGreaterThanOrEqual(flagged);
      expect(counted[3]).toBe(0);
      const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((f) => fs.existsSync(f));
      if (promtool) expect(execFileSync(promtool, ['check', 'metrics'], { input: (await call(edge, 'GET', '/metrics')).text, encoding: 'utf8' }).trim()).toBe('');
      expect((await admin('DELETE', '/admin/shadow')).status).toBe(200);
    });

    it('is refused at start when its in-topic would receive its own answers', async () => {
      const e = await startEdge(anomaly.dir, ['--state', path.join(tmp, 'state-loop'), '--mqtt', `mqtt://127.0.0.1:${broker.port}`, '--mqtt-in', 'plant/#', '--mqtt-out', 'plant/answers'], { MILLWRIGHT_TOKEN: TOKEN }).catch(
        (err: { code: number; stderr: string }) => err,
      );
      expect(e).toMatchObject({ code: 1, stderr: expect.stringContaining('The MQTT in-topic "plant/#" would also receive the endpoint\'s own answers on "plant/answers"') });
    });
  });
});

describe('edge runtime: MQTT options', () => {
  const refused = (args: string[]) => {
    const r = spawnSync(process.execPath, [SERVER, '--bundle', binary.dir, '--port', '0', '--state', path.join(tmp, 'state-options'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    return { status: r.status, stderr: r.stderr.split('\n')[0] };
  };

  it('refuses MQTT options that cannot work, naming the option', () => {
    expect(refused(['--mqtt-in', 'a/b'])).toEqual({ status: 2, stderr: 'millwright-edge: --mqtt-in needs --mqtt URL, the broker to connect to.' });
    expect(refused(['--mqtt', 'http://broker:1883'])).toEqual({ status: 2, stderr: 'millwright-edge: --mqtt must start with mqtt:// or mqtts:// and name a host, got "http://broker:1883".' });
    expect(refused(['--mqtt', 'mqtt://b', '--mqtt-out', 'a/+/b']).stderr).toContain('--mqtt-out is where answers are published, so it cannot hold the wildcards + or #');
    expect(refused(['--mqtt', 'mqtt://b', '--mqtt-in', 'a/#/b']).stderr).toContain('--mqtt-in: a wildcard must be a whole level');
    expect(refused(['--mqtt', 'mqtt://b', '--mqtt-ca', path.join(tmp, 'ca.pem')]).stderr).toBe('millwright-edge: --mqtt-ca is for mqtts:// brokers; the --mqtt address is not encrypted.');
    expect(refused(['--mqtt', 'mqtts://b', '--mqtt-ca', path.join(tmp, 'none.pem')]).stderr).toBe(`millwright-edge: --mqtt-ca: cannot read ${path.join(tmp, 'none.pem')} (ENOENT).`);
    const usage = spawnSync(process.execPath, [SERVER, '--help'], { encoding: 'utf8' }).stdout;
    for (const env of ['MILLWRIGHT_MQTT_URL', 'MILLWRIGHT_MQTT_IN', 'MILLWRIGHT_MQTT_OUT', 'MILLWRIGHT_MQTT_USERNAME', 'MILLWRIGHT_MQTT_PASSWORD', 'MILLWRIGHT_MQTT_CA']) expect(usage).toContain(env);
  });

  it('needs the mqtt package only when MQTT is configured, and says how to install it', async () => {
    // A copy of the runtime that finds onnxruntime-node but not mqtt, as a bundle installed with --omit=optional.
    const copy = path.join(tmp, 'runtime-without-mqtt');
    fs.cpSync(path.dirname(SERVER), copy, { recursive: true, filter: (src) => !src.includes('node_modules') });
    fs.mkdirSync(path.join(copy, 'node_modules'));
    fs.symlinkSync(path.resolve('node_modules/onnxruntime-node'), path.join(copy, 'node_modules', 'onnxruntime-node'), 'junction');
    fs.symlinkSync(path.resolve('node_modules/onnxruntime-common'), path.join(copy, 'node_modules', 'onnxruntime-common'), 'junction');
    const run = (args: string[]) => {
      const proc = spawn(process.execPath, [path.join(copy, 'server.js'), '--bundle', binary.dir, '--port', '0', '--state', path.join(tmp, 'state-no-mqtt'), ...args], { env: { PATH: process.env.PATH, MILLWRIGHT_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      return { proc, out: () => out, err: () => err, exit: new Promise<number | null>((resolve) => proc.on('exit', resolve)) };
    };
    const plain = run([]);
    await until('the copy to listen', () => plain.out().includes('"listening"') || plain.proc.exitCode !== null);
    expect(plain.out(), plain.err()).toContain('"listening"');
    plain.proc.kill('SIGTERM');
    expect(await plain.exit).toBe(0);
    const withMqtt = run(['--mqtt', 'mqtt://127.0.0.1:1']);
    expect(await withMqtt.exit).toBe(1);
    expect(withMqtt.err()).toContain('MQTT is configured (--mqtt), but the mqtt package is not installed beside the runtime: run "npm install --omit=dev" in the runtime folder');
  });
});

// ---------------------------------------------------------------- batching

describe('edge runtime: dynamic batching', () => {
  const require = createRequire(__filename);
  type Answer = { rows: number; outputs: Record<string, { data: ArrayLike<unknown> }> };
  type Model = {
    engine: { kind: string };
    run(cols: unknown[], total: number, skip: number): Promise<Answer>;
    runNow(cols: unknown[], total: number, skip: number): Answer | Promise<Answer>;
    score(cols: unknown[], n: number): Promise<Answer>;
    release(): void;
  };
  // The runtime's own module, in this process, to see how many runs it makes.
  const { LoadedModel } = require('../resources/runtime/lib/model.js') as { LoadedModel: { open(b: unknown, how?: { engine: 'worker' | 'direct' | 'public' }): Promise<Model> } };

  it.each([
    ['a boosting classifier with a category input', () => binary],
    ['a linear regression with contributions', () => regression],
  ])('scores calls made together in one run, with the answers each gets alone: %s', async (_, bundle) => {
    const b = bundle();
    const verified = { dir: b.dir, manifest: { name: b.name, version: 1, signature: b.sig }, signature: b.sig, modelBytes: Buffer.from(b.bytes) };
    // Through onnxruntime-node's public API, through the native session it wraps, and in a worker thread (what the endpoint uses).
    const publicApi = await LoadedModel.open(verified, { engine: 'public' });
    const direct = await LoadedModel.open(verified, { engine: 'direct' });
    const worker = await LoadedModel.open(verified);
    expect([publicApi.engine.kind, direct.engine.kind, worker.engine.kind]).toEqual(['public', 'direct', 'worker']);
    try {
      const all = feeds(b.sig, scoring);
      const cols = b.sig.inputs.map((i) => all[i.name]!.data as Float32Array | string[]);
      const row = (r: number, n = 1) => cols.map((c) => c.slice(r, r + n));
      const alone: Answer[] = [];
      for (let r = 0; r < scoring.rows; r++) alone.push(await publicApi.run(row(r), 1, 0));
      const whole = await publicApi.run(row(0, 100), 100, 0);
      for (const model of [publicApi, direct, worker]) {
        let runs = 0;
        const runNow = model.runNow.bind(model);
        model.runNow = (c, total, skip) => (runs++, runNow(c, total, skip));
        // Every row at once, plus calls of several rows and one too big to share a run.
        const together = await Promise.all([...Array.from({ length: scoring.rows }, (_, r) => model.score(row(r), 1)), model.score(row(0, 5), 5), model.score(row(0, 100), 100)]);
        expect(runs, 'far fewer runs than calls').toBeLessThan(scoring.rows / 10);
        for (let r = 0; r < scoring.rows; r++) {
          for (const [name, block] of Object.entries(alone[r]!.outputs)) expect(Array.from(together[r]!.outputs[name]!.data), `row ${r}, ${name}`).toEqual(Array.from(block.data));
        }
        for (const [name, block] of Object.entries(whole.outputs)) {
          const width = block.data.length / 100;
          expect(Array.from(together.at(-2)!.outputs[name]!.data)).toEqual(Array.from(block.data).slice(0, 5 * width));
          expect(Array.from(together.at(-1)!.outputs[name]!.data)).toEqual(Array.from(block.data));
        }
      }
    } finally {
      for (const model of [publicApi, direct, worker]) model.release();
    }
  });

  it('answers concurrent single-row /predict requests as ONNX Runtime does in process for each row', async () => {
    const edge = await startEdge(binary.dir, ['--state', path.join(tmp, 'state-batching')], { MILLWRIGHT_TOKEN: TOKEN });
    try {
      const rows = rowObjects(scoring, binary.sig);
      const out = await binary.session.run(feeds(binary.sig, scoring));
      const label = out.label!.data as string[];
      const probs = out.probabilities!.data as Float32Array;
      // 16 connections at a time, as a load generator would send them.
      const answers: Record<string, unknown>[] = new Array(rows.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < rows.length) {
            const i = next++;
            answers[i] = (await predict(edge, rows[i]))[0]!;
          }
        }),
      );
      answers.forEach((a, i) => expect(a, `row ${i}`).toEqual({ prediction: label[i], probabilities: { no: probs[2 * i], yes: probs[2 * i + 1] } }));
    } finally {
      await stopEdge(edge);
    }
  });
});
