/**
 * The edge runtime (resources/runtime/server.js) as operations run it: a
 * child process on a loopback port, serving bundles made here from trained
 * pipelines, answered by the real ONNX Runtime. Its answers are compared with
 * ONNX Runtime in this process on the same rows, and the time-series stream
 * with the app's batch scoring (scoreColumns).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxSignature } from './services/onnx/export';
import { feeds, plantFrame, settings, sliceFrame, train, withOddRows } from './services/onnx/parity-harness';
import { scoreColumns } from './services/scoring/inference';
import type { Frame } from './services/training/frame';
import type { FittedPipeline } from './services/training/pipeline';
import {
  callEdge,
  HGB,
  IFOREST,
  isRunning,
  killAll,
  LINEAR,
  modelBundle,
  NO_TIME,
  objects,
  rawPost as rawPostAs,
  SERVER,
  signingKey,
  startEdge as start,
  stopEdge as stop,
  type Edge,
  type ModelBundle,
  type SigningKey,
} from './test-support/edge-child';

const TOKEN = 'test-token-0123456789abcdef';

type Bundle = ModelBundle;

let tmp: string;
let frame: Frame;
let scoring: Frame;
let binary: Bundle;
let regression: Bundle;
let anomaly: Bundle;
/** The workspace key the test bundles are signed with; the endpoints pin it at their first start. */
let key: SigningKey;

/** A bundle folder laid out as buildBundle writes it, signed with the test's workspace key. */
const makeBundle = (p: FittedPipeline, name: string, version: number, timeColumn: string | null) => modelBundle(path.join(tmp, `${name}-v${version}`, 'bundle'), p, name, version, timeColumn, key);

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-edge-'));
  key = signingKey();
  frame = plantFrame(700);
  scoring = withOddRows(frame);
  binary = await makeBundle(train(frame, settings('binary', NO_TIME), [HGB]), 'failure', 3, null);
  regression = await makeBundle(train(frame, settings('regression', NO_TIME), [LINEAR]), 'yield', 1, null);
  anomaly = await makeBundle(train(frame, settings('anomaly'), [IFOREST]), 'unusual', 2, 'Time');
}, 60_000);

afterAll(async () => {
  killAll();
  for (const b of [binary, regression, anomaly]) await b?.session.release();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------- the process

const call = (edge: Edge, method: string, route: string, body?: unknown, token: string | null = TOKEN) => callEdge(edge.port, method, route, body, token);

const predict = async (edge: Edge, rows: unknown) => {
  const r = await call(edge, 'POST', '/predict', rows);
  expect(r.status, r.text).toBe(200);
  return r.body.predictions as { prediction: unknown; probabilities?: Record<string, number>; score?: number; anomaly?: boolean; contributions?: Record<string, number> }[];
};

/** A POST with the predict token through node:http, for bodies sent in pieces or past the limit. */
const rawPost = (port: number, route: string, headers: Record<string, string | number>, send: Parameters<typeof rawPostAs>[3]) => rawPostAs(port, route, { Authorization: `Bearer ${TOKEN}`, ...headers }, send);

// ---------------------------------------------------------------- rows

/** The same rows as Open Inference Protocol tensors, each input in a different allowed form. */
function tensors(f: Frame, sig: OnnxSignature, from: number, to: number) {
  const n = to - from;
  return sig.inputs.map((input, k) => {
    const col = f.columns.get(input.name)!;
    if ('codes' in col) return { name: input.name, shape: [n], datatype: 'BYTES', data: Array.from(col.codes.subarray(from, to), (c) => (c < 0 ? '' : col.dictionary[c]!)) };
    const values = Array.from(col.type === 'boolean' ? Array.from(col.values.subarray(from, to), (v) => (v === 255 ? NaN : v)) : col.values.subarray(from, to));
    // Float64 as given, float32 nested as [N, 1], missing as null or "NaN".
    if (k % 2 === 0) return { name: input.name, shape: [n], datatype: 'FP64', data: values.map((v) => (Number.isNaN(v) ? 'NaN' : v)) };
    return { name: input.name, shape: [n, 1], datatype: 'FP32', data: values.map((v) => [Number.isNaN(v) ? null : Math.fround(v)]) };
  });
}

async function inProcess(b: Bundle, f: Frame) {
  const out = await b.session.run(feeds(b.sig, f));
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.type === 'int64' ? Array.from(t.data as BigInt64Array, Number) : Array.from(t.data as ArrayLike<number | string>)]));
}

/** What the app's batch scoring gives for rows [0, rows) of a frame, in blocks of `chunkRows`. */
async function batchScores(b: Bundle, f: Frame, chunkRows: number) {
  const score: number[] = [];
  const flag: number[] = [];
  await scoreColumns(b.session, b.sig, f.columns, f.rows, (block) => {
    score.push(...block.score!);
    flag.push(...block.anomaly!);
  }, { chunkRows });
  return { score, flag };
}

// ---------------------------------------------------------------- tests

describe('edge runtime: a binary classifier with a category input', () => {
  let edge: Edge;
  const tail = () => sliceFrame(scoring, scoring.rows - 60, scoring.rows);

  beforeAll(async () => {
    edge = await start(binary.dir, ['--token', TOKEN, '--state', path.join(tmp, 'state-binary')]);
  });
  afterAll(async () => {
    if (isRunning(edge)) expect(await stop(edge)).toBe(0);
  });

  it('answers the health checks without a token and everything else only with the right one', async () => {
    expect(await call(edge, 'GET', '/v2/health/live', undefined, null)).toMatchObject({ status: 200, body: { live: true } });
    expect(await call(edge, 'GET', '/v2/health/ready', undefined, null)).toMatchObject({ status: 200, body: { ready: true } });
    for (const [method, route] of [['GET', '/v2'], ['GET', '/metrics'], ['POST', '/predict'], ['GET', '/v2/models/failure'], ['POST', '/v2/models/failure/infer'], ['GET', '/nothing']]) {
      for (const token of [null, 'wrong-token-0123456789abc', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
        const r = await call(edge, method!, route!, method === 'POST' ? {} : undefined, token);
        expect(r.status, `${method} ${route} with ${token}`).toBe(401);
        expect(r.headers.get('www-authenticate')).toContain('Bearer');
        expect(r.body.error).toMatch(/token/);
      }
    }
    expect(await call(edge, 'GET', '/v2')).toMatchObject({ status: 200, body: { name: 'millwright-edge', version: '0.1.0', extensions: [] } });
  });

  it('describes the model in the Open Inference Protocol', async () => {
    const meta = {
      name: 'failure',
      versions: ['3'],
      platform: 'onnxruntime',
      inputs: [
        { name: 'Inlet', datatype: 'FP32', shape: [-1] },
        { name: 'Outlet', datatype: 'FP32', shape: [-1] },
        { name: 'Pressure', datatype: 'FP32', shape: [-1] },
        { name: 'Pump', datatype: 'FP32', shape: [-1] },
        { name: 'Grade', datatype: 'BYTES', shape: [-1] },
      ],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      ],
    };
    expect((await call(edge, 'GET', '/v2/models/failure')).body).toEqual(meta);
    expect((await call(edge, 'GET', '/v2/models/failure/versions/3')).body).toEqual(meta);
    expect(await call(edge, 'GET', '/v2/models/failure/ready')).toMatchObject({ status: 200, body: { name: 'failure', ready: true } });
    const other = await call(edge, 'GET', '/v2/models/yield');
    expect(other.status).toBe(404);
    expect(other.body.error).toContain('"yield"');
    expect((await call(edge, 'GET', '/v2/models/failure/versions/9/ready')).status).toBe(404);
    expect((await call(edge, 'POST', '/v2/models/yield/infer', { inputs: [] })).status).toBe(404);
  });

  it('/predict answers as ONNX Runtime does in process, in request order', async () => {
    const rows = tail();
    const want = await inProcess(binary, rows);
    const got = await predict(edge, objects(rows, binary.sig));
    expect(got).toHaveLength(rows.rows);
    expect(got.map((p) => p.prediction)).toEqual(want.label);
    expect(got.flatMap((p) => [p.probabilities!.no, p.probabilities!.yes])).toEqual(want.probabilities);
    expect(new Set(want.label).size, 'both classes among the rows').toBe(2);
    // One object alone.
    const one = await predict(edge, objects(rows, binary.sig, 5, 6)[0]);
    expect(one).toEqual([got[5]]);
  });

  it('started with --engine main (ONNX Runtime on the event loop\'s thread) answers exactly as with its worker thread', async () => {
    const rows = tail();
    const main = await start(binary.dir, ['--engine', 'main', '--token', TOKEN, '--state', path.join(tmp, 'state-binary-main')]);
    try {
      const got = await predict(main, objects(rows, binary.sig));
      expect(got).toEqual(await predict(edge, objects(rows, binary.sig)));
      expect(got.map((p) => p.prediction)).toEqual((await inProcess(binary, rows)).label);
    } finally {
      await stop(main);
    }
  });

  it('/predict takes "NaN", "Infinity", "-Infinity", numeric text, "" and missing fields as the pipeline does', async () => {
    const rows = [
      { Inlet: 'NaN', Outlet: 'Infinity', Pressure: '-Infinity', Pump: 'true', Grade: 'B' },
      { Inlet: ' 61.25 ', Outlet: '7.5e1', Pressure: '', Pump: 0, Grade: '' },
      { Grade: 'A' },
      { Inlet: 1e39, Outlet: -3.4e38, Pressure: 6, Pump: null, Grade: 'unseen grade' },
    ];
    const f32 = (...v: number[]) => new ort.Tensor('float32', Float32Array.from(v), [v.length]);
    const out = await binary.session.run({
      Inlet: f32(NaN, 61.25, NaN, Infinity),
      Outlet: f32(Infinity, 75, NaN, -3.4e38),
      Pressure: f32(-Infinity, NaN, NaN, 6),
      Pump: f32(1, 0, NaN, NaN),
      Grade: new ort.Tensor('string', ['B', '', 'A', 'unseen grade'], [4]),
    });
    const got = await predict(edge, rows);
    expect(got.map((p) => p.prediction)).toEqual(out.label!.data);
    expect(got.flatMap((p) => [p.probabilities!.no, p.probabilities!.yes])).toEqual(Array.from(out.probabilities!.data as Float32Array));
  });

  it('v2 infer answers as ONNX Runtime does in process, for every numeric datatype and nested data', async () => {
    const rows = tail();
    const want = await inProcess(binary, rows);
    const r = await call(edge, 'POST', '/v2/models/failure/infer', { id: 'batch-7', inputs: tensors(scoring, binary.sig, scoring.rows - 60, scoring.rows) });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({
      model_name: 'failure',
      model_version: '3',
      id: 'batch-7',
      outputs: [
        { name: 'label', shape: [60], datatype: 'BYTES', data: want.label },
        { name: 'probabilities', shape: [60, 2], datatype: 'FP32', data: want.probabilities },
      ],
    });
    // INT64, INT32 and BOOL for numbers; only the outputs asked for.
    const small = await call(edge, 'POST', '/v2/models/failure/versions/3/infer', {
      inputs: [
        { name: 'Inlet', shape: [2], datatype: 'INT64', data: [60, 70] },
        { name: 'Outlet', shape: [2], datatype: 'INT32', data: [80, 71] },
        { name: 'Pressure', shape: [2], datatype: 'FP32', data: [6.5, 5] },
        { name: 'Pump', shape: [2], datatype: 'BOOL', data: [true, false] },
        { name: 'Grade', shape: [2, 1], datatype: 'BYTES', data: [['C'], ['A']] },
      ],
      outputs: [{ name: 'probabilities' }],
    });
    const ref = await binary.session.run({
      Inlet: new ort.Tensor('float32', Float32Array.of(60, 70), [2]),
      Outlet: new ort.Tensor('float32', Float32Array.of(80, 71), [2]),
      Pressure: new ort.Tensor('float32', Float32Array.of(6.5, 5), [2]),
      Pump: new ort.Tensor('float32', Float32Array.of(1, 0), [2]),
      Grade: new ort.Tensor('string', ['C', 'A'], [2]),
    });
    expect(small.body).toEqual({ model_name: 'failure', model_version: '3', outputs: [{ name: 'probabilities', shape: [2, 2], datatype: 'FP32', data: Array.from(ref.probabilities!.data as Float32Array) }] });
  });

  it('answers 400 naming the field (and the row) for input it cannot use', async () => {
    const good = objects(tail(), binary.sig, 0, 2);
    const predictCases: [unknown, RegExp][] = [
      [[good[0], { ...good[1], Torque: 40 }], /Row 2: "Torque" is not an input of model "failure"/],
      [[good[0], { ...good[1], Inlet: 'abc' }], /Row 2: "Inlet" must be a number/],
      [[{ ...good[0], Inlet: '12,5' }], /Row 1: "Inlet" must be a number/],
      [[good[0], good[1], { ...good[0], Grade: { level: 'A' } }], /Row 3: "Grade" must be a category/],
      [{ ...good[0], Pump: 'maybe' }, /Row 1: "Pump" must be a yes\/no value/],
      [{ ...good[0], Outlet: [1, 2] }, /Row 1: "Outlet" must be a number/],
      [[good[0], 7], /Row 2 is not an object/],
      [{ ...good[0], source: 12 }, /Row 1: "source" must be a name/],
      [{ ...good[0], Time: '2024-01-01' }, /Row 1: "Time" is not an input/],
      [JSON.stringify({ constructor: 1 }), /Row 1: "constructor" is not an input/],
      [{ ...good[0], Inlet: 'constructor' }, /Row 1: "Inlet" must be a number/],
      ['{"Inlet": 1,', /not valid JSON/],
      ['', /no body/],
    ];
    for (const [body, message] of predictCases) {
      const r = await call(edge, 'POST', '/predict', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(r.body)).toContain('error');
      expect(r.body.error).toMatch(message);
    }
    const inputs = tensors(scoring, binary.sig, 0, 3);
    const without = (name: string) => inputs.filter((t) => t.name !== name);
    const replace = (name: string, t: Record<string, unknown>) => inputs.map((x) => (x.name === name ? { ...x, ...t } : x));
    const inferCases: [unknown, RegExp][] = [
      [{ inputs: without('Grade') }, /Input "Grade" is missing/],
      [{ inputs: [...inputs, { name: 'Torque', shape: [3], datatype: 'FP32', data: [1, 2, 3] }] }, /"Torque" is not an input/],
      [{ inputs: replace('Inlet', { datatype: 'BYTES', data: ['1', '2', '3'] }) }, /Input "Inlet" holds numbers: its datatype must be FP32/],
      [{ inputs: replace('Grade', { datatype: 'FP32', data: [1, 2, 3] }) }, /Input "Grade" is a category: its datatype must be BYTES/],
      [{ inputs: replace('Pressure', { shape: [3], data: [1, 2] }) }, /Input "Pressure": shape \[3\] needs 3 values, "data" has 2/],
      [{ inputs: replace('Pressure', { shape: [2], data: [1, 2] }) }, /Input "Pressure" has 2 rows but "Inlet" has 3/],
      [{ inputs: replace('Outlet', { shape: [3], datatype: 'FP32', data: [1, 'abc', 3] }) }, /Input "Outlet", element 1: "abc" is not a FP32 value/],
      [{ inputs: replace('Outlet', { shape: [3], datatype: 'INT64', data: [1, 2.5, 3] }) }, /Input "Outlet", element 1: 2.5 is not a INT64 value/],
      [{ inputs: replace('Pump', { shape: [3, 2], data: [1, 0, 1, 0, 1, 0] }) }, /Input "Pump": "shape" must be \[N\]/],
      [{ inputs: [...inputs, inputs[0]] }, /Input "Inlet" is given twice/],
      [{ inputs, outputs: [{ name: 'score' }] }, /"score" is not an output of model "failure"/],
      [{ inputs: 'Inlet' }, /"inputs" must be a non-empty list/],
      [{ id: 5, inputs }, /"id" must be a string/],
    ];
    for (const [body, message] of inferCases) {
      const r = await call(edge, 'POST', '/v2/models/failure/infer', body);
      expect(r.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(r.body.error).toMatch(message);
    }
  });

  it('answers 404 for unknown routes and 405 with Allow for wrong methods, as JSON', async () => {
    const nothing = await call(edge, 'GET', '/v3/models');
    expect(nothing.status).toBe(404);
    expect(nothing.headers.get('content-type')).toContain('application/json');
    expect(nothing.body.error).toContain('/v3/models');
    const cases: [string, string, string | null, string][] = [
      ['GET', '/predict', TOKEN, 'POST'],
      ['PUT', '/v2/models/failure/infer', TOKEN, 'POST'],
      ['POST', '/metrics', TOKEN, 'GET, HEAD'],
      ['DELETE', '/v2/models/failure', TOKEN, 'GET, HEAD'],
      ['POST', '/v2/health/live', null, 'GET, HEAD'],
    ];
    for (const [method, route, token, allow] of cases) {
      const r = await call(edge, method, route, undefined, token);
      expect(r.status, `${method} ${route}`).toBe(405);
      expect(r.headers.get('allow')).toBe(allow);
      expect(r.body.error).toContain(method);
    }
  });

  it('answers 413 past the body limit, announced or not, and keeps serving', async () => {
    const big = Buffer.alloc(1024 * 1024 + 10, 0x20);
    const announced = await rawPost(edge.port, '/predict', { 'Content-Type': 'application/json', 'Content-Length': big.length }, (req) => req.end(big));
    expect(announced.status).toBe(413);
    expect(JSON.parse(announced.body).error).toContain('1 MB');
    const chunked = await rawPost(edge.port, '/predict', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, (req) => {
      for (let i = 0; i < 20; i++) req.write(big.subarray(0, 100_000));
      req.end();
    });
    expect(chunked.status).toBe(413);
    // Just under the limit is read (and is not JSON).
    const under = await rawPost(edge.port, '/predict', { 'Content-Type': 'application/json' }, (req) => req.end(big.subarray(0, 1024 * 1024 - 1)));
    expect(under.status).toBe(400);
    expect((await call(edge, 'GET', '/v2/health/live')).status).toBe(200);
  });

  it('serves /metrics in Prometheus text format', async () => {
    const r = await call(edge, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = r.text;
    for (const family of ['millwright_requests_total counter', 'millwright_errors_total counter', 'millwright_request_duration_seconds histogram', 'millwright_predictions_total counter', 'millwright_anomalies_total counter', 'millwright_model_info gauge']) {
      expect(text).toContain(`# TYPE ${family}`);
      expect(text).toContain(`# HELP ${family.split(' ')[0]} `);
    }
    expect(text).toMatch(/^millwright_requests_total\{route="\/predict",code="200"\} [1-9]\d*$/m);
    expect(text).toMatch(/^millwright_requests_total\{route="\/predict",code="413"\} 2$/m);
    expect(text).toMatch(/^millwright_requests_total\{route="unmatched",code="404"\} 1$/m);
    expect(text).toMatch(/^millwright_predictions_total\{label="yes"\} [1-9]\d*$/m);
    expect(text).toMatch(/^millwright_request_duration_seconds_bucket\{route="\/predict",le="0.0005"\} \d+$/m);
    expect(text).toMatch(/^millwright_request_duration_seconds_bucket\{route="\/predict",le="5"\} \d+$/m);
    expect(text).toMatch(/^millwright_request_duration_seconds_bucket\{route="\/predict",le="\+Inf"\} \d+$/m);
    expect(text).toContain('millwright_model_info{name="failure",version="3",app_version="0.1.0-test"} 1');
    const errors = Number(/^millwright_errors_total (\d+)$/m.exec(text)![1]);
    expect(errors).toBeGreaterThan(40);
  });

  const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => fs.existsSync(p));
  it.skipIf(!promtool)(`/metrics passes promtool check metrics${promtool ? '' : ' (skipped: promtool is not installed; apt-get install prometheus)'}`, async () => {
    const r = await call(edge, 'GET', '/metrics');
    // promtool prints lint problems and exits non-zero on any.
    const out = execFileSync(promtool!, ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
    expect(out.trim()).toBe('');
  });
});

describe('edge runtime: regression with contributions', () => {
  it('/predict and v2 infer answer as ONNX Runtime does in process', async () => {
    const edge = await start(regression.dir, ['--state', path.join(tmp, 'state-regression')], { MILLWRIGHT_TOKEN: TOKEN });
    const rows = sliceFrame(scoring, scoring.rows - 40, scoring.rows);
    const want = await inProcess(regression, rows);
    const got = await predict(edge, objects(rows, regression.sig));
    expect(got.map((p) => p.prediction)).toEqual(want.value);
    const names = regression.sig.inputs.map((i) => i.name);
    expect(got.flatMap((p) => names.map((n) => p.contributions![n]))).toEqual(want.contributions);
    const r = await call(edge, 'POST', '/v2/models/yield/infer', { inputs: tensors(scoring, regression.sig, scoring.rows - 40, scoring.rows) });
    expect(r.body.outputs).toEqual([
      { name: 'value', shape: [40], datatype: 'FP32', data: want.value },
      { name: 'contributions', shape: [40, names.length], datatype: 'FP32', data: want.contributions },
    ]);
    expect(await stop(edge)).toBe(0);
  });
});

describe('edge runtime: an anomaly model with window features', () => {
  let edge: Edge;
  let rows: Frame;
  let batch: { score: number[]; flag: number[] };
  const N = 90;
  const time = (i: number) => new Date((rows.columns.get('Time') as { values: Float64Array }).values[i]!).toISOString();
  const stream = (from: number, to: number, source: string) => objects(rows, anomaly.sig, from, to, (i) => ({ source, Time: time(i) }));

  beforeAll(async () => {
    expect(anomaly.sig.historyRows).toBeGreaterThan(10);
    // Ordinary rows, then the odd ones (gaps, ±1e30, unseen grades), in time order.
    rows = sliceFrame(scoring, scoring.rows - N, scoring.rows);
    batch = await batchScores(anomaly, rows, 16_384);
    expect(batch.flag.some((f) => f === 1), 'some rows are flagged').toBe(true);
    expect(batch.flag.some((f) => f === 0), 'some rows are normal').toBe(true);
    edge = await start(anomaly.dir, ['--state', path.join(tmp, 'state-anomaly')], { MILLWRIGHT_TOKEN: TOKEN });
  });
  afterAll(async () => {
    if (isRunning(edge)) await stop(edge);
  });

  const scores = (got: Awaited<ReturnType<typeof predict>>) => ({ score: got.map((p) => p.score), flag: got.map((p) => (p.anomaly ? 1 : 0)) });

  it('a batch posted in time order gives what the app\'s batch scoring gives, whatever its block size', async () => {
    expect(await batchScores(anomaly, rows, 7)).toEqual(batch);
    const got = await predict(edge, stream(0, N, 'batch'));
    expect(scores(got)).toEqual(batch);
    expect(got.every((p) => p.prediction === (p.anomaly ? 'anomaly' : 'normal'))).toBe(true);
  });

  it('rows posted one at a time, or in pieces, give the same answers as the batch', async () => {
    const single: Awaited<ReturnType<typeof predict>> = [];
    for (let i = 0; i < N; i++) single.push(...(await predict(edge, stream(i, i + 1, 'single')[0])));
    expect(scores(single)).toEqual(batch);
    const pieces: Awaited<ReturnType<typeof predict>> = [];
    for (const [a, b] of [[0, 5], [5, 6], [6, 40], [40, N]]) pieces.push(...(await predict(edge, stream(a!, b!, 'pieces'))));
    expect(scores(pieces)).toEqual(batch);
  });

  it('keeps one window per source: two sources interleaved in one request', async () => {
    const a = stream(0, N, 'left');
    const b = stream(0, N, 'right');
    const mixed = a.flatMap((row, i) => [row, b[i]!]);
    const got = await predict(edge, mixed);
    expect(scores(got.filter((_, i) => i % 2 === 0))).toEqual(batch);
    expect(scores(got.filter((_, i) => i % 2 === 1))).toEqual(batch);
  });

  it('v2 infer continues a stream named in parameters.source', async () => {
    const score: number[] = [];
    const flag: number[] = [];
    for (const [a, b] of [[0, 30], [30, N]]) {
      const r = await call(edge, 'POST', '/v2/models/unusual/infer', { parameters: { source: 'v2' }, inputs: tensors(rows, anomaly.sig, a!, b!) });
      expect(r.status, r.text).toBe(200);
      const out = Object.fromEntries((r.body.outputs as { name: string; datatype: string; data: number[] }[]).map((o) => [o.name, o]));
      expect(out.score!.datatype).toBe('FP32');
      expect(out.anomaly!.datatype).toBe('INT64');
      score.push(...out.score!.data);
      flag.push(...out.anomaly!.data);
    }
    expect({ score, flag }).toEqual(batch);
  });

  it('keeps counters, the generated token and the windows across a restart, and records anomaly events with each row\'s time', async () => {
    const state = path.join(tmp, 'state-restart');
    let e = await start(anomaly.dir, ['--state', state]);
    const token = e.generated.predict!;
    expect(token).toMatch(/^[\w-]{40,}$/);
    expect(e.generated.admin).toBeDefined();
    expect(fs.readFileSync(path.join(state, 'tokens.json'), 'utf8')).not.toContain(token);
    const first = await call(e, 'POST', '/predict', stream(0, 50, 'restart'), token);
    expect(first.status).toBe(200);
    const before = (await call(e, 'GET', '/metrics', undefined, token)).text;
    expect(await stop(e)).toBe(0);
    expect(e.lines.map((l) => Object.keys(l)[0])).toEqual(['key', 'token', 'token', 'model', 'listening', 'stopping', 'stopped']);
    expect(e.lines[0]).toEqual({ key: { fingerprint: key.fingerprint, source: 'bundle', file: path.join(state, 'pinned-key.pem'), note: expect.stringContaining('Trust on first use') } });

    e = await start(anomaly.dir, ['--state', state]);
    expect(e.generated).toEqual({});
    expect((await call(e, 'GET', '/v2', undefined, token)).status).toBe(200);
    const after = (await call(e, 'GET', '/metrics', undefined, token)).text;
    const count = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"/]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    expect(count(before, 'millwright_requests_total{route="/predict",code="200"}')).toBe(1);
    expect(count(after, 'millwright_requests_total{route="/predict",code="200"}')).toBe(1);
    expect(count(after, 'millwright_requests_total{route="/metrics",code="200"}')).toBe(1);
    expect(count(after, 'millwright_predictions_total{label="normal"}')).toBe(count(before, 'millwright_predictions_total{label="normal"}'));
    // The window survived: the rest of the stream answers as the batch does.
    const rest = await call(e, 'POST', '/predict', stream(50, N, 'restart'), token);
    const all = [...first.body.predictions, ...rest.body.predictions];
    expect(scores(all)).toEqual(batch);
    expect(await stop(e)).toBe(0);

    const saved = fs.readFileSync(path.join(state, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; time: string; source: string; score: number; model: string; inputs: Record<string, unknown>; flagged: boolean });
    // The flagged rows' events (the context rows around them are tested in edge-shadow.test.ts), numbered with them in one sequence.
    const events = saved.filter((ev) => ev.flagged);
    const flagged = batch.flag.flatMap((f, i) => (f ? [i] : []));
    expect(events.map((ev) => ev.time)).toEqual(flagged.map(time));
    expect(saved.map((ev) => ev.seq)).toEqual(saved.map((_, k) => k + 1));
    expect(events.map((ev) => ev.score)).toEqual(flagged.map((i) => batch.score[i]));
    expect(events[0]).toMatchObject({ source: 'restart', model: 'unusual' });
    expect(Object.keys(events[0]!.inputs)).toEqual(anomaly.sig.inputs.map((i) => i.name));
    const after2 = fs.readFileSync(path.join(state, 'state.json'), 'utf8');
    expect(JSON.parse(after2).eventSeq).toBe(saved.length);
  });
});

describe('edge runtime: refusals and shutdown', () => {
  it('refuses to start on a model that does not match its manifest', async () => {
    const dir = path.join(tmp, 'tampered', 'bundle');
    fs.mkdirSync(dir, { recursive: true });
    for (const f of ['manifest.json', 'manifest.sig', 'workspace-key.pub.pem']) fs.copyFileSync(path.join(binary.dir, f), path.join(dir, f));
    const bytes = Buffer.from(binary.bytes);
    bytes[bytes.length - 3]! ^= 0x01;
    fs.writeFileSync(path.join(dir, 'model.onnx'), bytes);
    const e = (await start(dir, ['--token', TOKEN]).catch((x: unknown) => x)) as { code: number; stderr: string };
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('model.onnx does not match the bundle\'s manifest');
    expect(e.stderr).toContain('Refusing to serve it');
    expect(e.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses options it does not know, and short tokens', async () => {
    for (const [args, message] of [[['--prot', '80'], 'Unknown option "--prot"'], [['--token', 'short'], '--token must be at least 16 characters'], [['--engine', 'gpu'], '--engine must be "worker" or "main"']] as const) {
      const e = (await start(binary.dir, [...args]).catch((x: unknown) => x)) as { code: number; stderr: string };
      expect(e.code).toBe(2);
      expect(e.stderr).toContain(message);
    }
  });

  it('on SIGTERM stops taking connections, finishes the request in flight, saves and exits 0', async () => {
    const state = path.join(tmp, 'state-shutdown');
    const edge = await start(binary.dir, ['--token', TOKEN, '--state', state]);
    const body = Buffer.from(JSON.stringify(objects(scoring, binary.sig, 0, 20)));
    const half = body.length >> 1;
    // "Expect: 100-continue" tells us when the endpoint holds the request: then half the body goes.
    let sent!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const inFlight = rawPost(edge.port, '/predict', { 'Content-Type': 'application/json', 'Content-Length': body.length, Expect: '100-continue' }, (req) => {
      req.on('continue', () => {
        req.write(body.subarray(0, half));
        held();
      });
      sent = () => req.end(body.subarray(half));
    });
    await holding;
    await new Promise((r) => setTimeout(r, 50));
    edge.proc.kill('SIGTERM');
    while (!edge.lines.some((l) => 'stopping' in l)) await new Promise((r) => setTimeout(r, 10));
    await expect(fetch(`http://127.0.0.1:${edge.port}/v2/health/live`)).rejects.toThrow();
    sent();
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe('close');
    expect(JSON.parse(r.body).predictions).toHaveLength(20);
    expect(await edge.exit).toBe(0);
    const saved = JSON.parse(fs.readFileSync(path.join(state, 'state.json'), 'utf8'));
    expect(saved.metrics.requests['/predict']).toEqual({ 200: 1 });
    expect(fs.existsSync(path.join(state, 'endpoint.pid'))).toBe(false);
  });
});

describe('edge runtime: switching bundles in a running endpoint', () => {
  it('switches to another bundle without dropping requests in flight', async () => {
    const require = createRequire(__filename);
    const { startEdgeServer } = require(SERVER) as {
      startEdgeServer(o: object): Promise<{ address: { port: number }; swapBundle(dir: string): Promise<unknown>; stop(): Promise<void> }>;
    };
    const next = await makeBundle(train(frame, settings('binary', NO_TIME), [HGB]), 'failure', 4, null);
    const server = await startEdgeServer({ bundle: binary.dir, port: 0, host: '127.0.0.1', token: TOKEN, adminToken: `${TOKEN}-admin`, state: path.join(tmp, 'state-swap'), maxBody: 1 << 20, maxSources: 10, key: null, maxBundle: 1 << 20, mqtt: null });
    const edge = { port: server.address.port } as Edge;
    const rows = objects(scoring, binary.sig, 0, 50);
    const requests = Array.from({ length: 40 }, (_, i) => call(edge, 'POST', '/predict', rows.slice(i, i + 10)));
    await server.swapBundle(next.dir);
    const more = Array.from({ length: 10 }, () => call(edge, 'POST', '/predict', rows));
    const replies = await Promise.all([...requests, ...more]);
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    expect((await call(edge, 'GET', '/v2/models/failure')).body.versions).toEqual(['4']);
    expect((await call(edge, 'GET', '/v2/models/failure/versions/3')).status).toBe(404);
    await server.stop();
    await next.session.release();
  });
});
