/**
 * Endpoint abuse, all at once (issue 11, point 3): the edge runtime as a
 * child process on loopback, serving a steady valid /predict and v2 infer
 * load from keep-alive clients while, at the same time, it gets malformed
 * JSON, wrong shapes, bodies past its limits (honest, lying and chunked),
 * slow and silent clients, hundreds of idle connections, wrong tokens,
 * replayed and tampered bundles, and archives with path tricks. Each abuse
 * case must be refused with its status (or, for an older bundle pushed
 * again, served and reported as a downgrade), no valid request may fail,
 * the runtime must not crash or answer 500, and nothing may be written
 * outside its state folder. Figures go to test-results/reliability/abuse.json.
 *
 * MILLWRIGHT_RELIABILITY=full runs it with the runtime's real timeouts
 * (20 s for headers, 60 s for a request, 60 s idle) and more slow clients;
 * the short version lowers the timeouts through MILLWRIGHT_TIMEOUTS_MS.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, onnxSignature, type OnnxSignature } from '../services/onnx/export';
import { plantFrame, settings, sliceFrame, train } from '../services/onnx/parity-harness';
import { tarHeader } from '../services/registry/backup';
import type { Candidate } from '../services/training/automl';
import type { Frame } from '../services/training/frame';
import {
  bundleEntries,
  killAll,
  isRunning,
  NO_TIME,
  objects,
  sha256,
  signingKey,
  startEdge,
  stopEdge,
  tarGz,
  writeSignedBundle,
  type Edge,
  type SigningKey,
  type TarEntry,
} from '../test-support/edge-child';
import { Load, sleep } from './support/load';

const FULL = process.env.MILLWRIGHT_RELIABILITY === 'full';
/** The runtime's timeouts (server.js TIMEOUTS) in full mode; lowered for the short one. */
const TIMEOUTS = FULL ? { headers: 20_000, request: 60_000, idle: 60_000 } : { headers: 4_000, request: 8_000, idle: 8_000 };
/** How late a timeout may cut a connection: the runtime checks every second, and this machine is loaded. */
const SLACK = 5_000;
const SLOWLORIS = FULL ? 60 : 20;
const TRICKLERS = FULL ? 20 : 8;
const IDLE_SOCKETS = FULL ? 1000 : 600;
/** Clients sending a body past the limit at once without reading the answer. */
const BLIND = FULL ? 60 : 20;
/** Requests a client that stops reading sends at once: their answers (/metrics, 2 KB or more each) are far more than the buffers on the way hold. */
const READER_REQUESTS = 20_000;
const CLIENTS = 4;
const ROWS = 20;

const TOKEN = 'abuse-predict-token-0123456789';
const ADMIN = 'abuse-admin-token-0123456789ab';
const MAX_BODY = 1024 * 1024;
const MAX_BUNDLE = 2 * 1024 * 1024;
const FIGURES = path.resolve(__dirname, '../../test-results/reliability/abuse.json');

const hgb = (maxIter: number, learningRate: number, minSamplesLeaf: number): Candidate => ({ algorithm: 'hgb', params: { maxIter, learningRate, maxLeafNodes: 15, minSamplesLeaf, l2: 0, balanced: false } });

interface Version {
  version: number;
  dir: string;
  tgz: Buffer;
  entries: TarEntry[];
  manifestSha: string;
}

let tmp: string;
let key: SigningKey;
let otherKey: SigningKey;
let frame: Frame;
let sig: OnnxSignature;
let v1: Version;
let v2: Version;
let v3: Version;
/** A v3 signed by another workspace's key. */
let foreign: Version;
let predictBody: Buffer;
let inferBody: Buffer;
/** Names of a number, a yes/no and a category input of the model. */
let num: string;
let bool: string;
let cat: string;

function makeVersion(f: Frame, candidate: Candidate, version: number, signer: SigningKey, label = ''): Version {
  const p = train(f, settings('binary', NO_TIME), [candidate]);
  const bytes = exportOnnx(p, { modelName: 'failure', modelVersion: version, appVersion: '0.1.0-test' });
  sig = onnxSignature(p);
  const dir = path.join(tmp, 'bundles', `failure-v${version}${label}`);
  const manifest = { format: 1, name: 'failure', version, createdAt: '2026-01-01T00:00:00.000Z', appVersion: '0.1.0-test', signature: sig, timeColumn: null };
  const manifestBytes = writeSignedBundle(dir, manifest, { 'model.onnx': bytes, 'runtime/package.json': Buffer.from('{"name":"millwright-edge"}\n'), Dockerfile: Buffer.from('FROM node:20\n') }, signer);
  const entries = bundleEntries(dir);
  return { version, dir, tgz: tarGz(entries), entries, manifestSha: sha256(manifestBytes) };
}

/** The same rows as v2 infer tensors: categories as BYTES, numbers and yes/no values as FP64 with null for missing. */
function tensorsOf(f: Frame) {
  return sig.inputs.map((input) => {
    const col = f.columns.get(input.name)!;
    if ('codes' in col) return { name: input.name, shape: [f.rows], datatype: 'BYTES', data: Array.from(col.codes, (c) => (c < 0 ? '' : col.dictionary[c]!)) };
    const values = Array.from(col.values as ArrayLike<number>, (v) => (col.type === 'boolean' ? (v === 255 ? null : v) : Number.isNaN(v) ? null : v));
    return { name: input.name, shape: [f.rows], datatype: 'FP64', data: values };
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-abuse-'));
  key = signingKey();
  otherKey = signingKey();
  frame = plantFrame(400);
  v1 = makeVersion(frame, hgb(30, 0.1, 10), 1, key);
  v2 = makeVersion(frame, hgb(8, 0.3, 30), 2, key);
  v3 = makeVersion(frame, hgb(15, 0.2, 20), 3, key);
  foreign = makeVersion(frame, hgb(15, 0.2, 20), 3, otherKey, '-foreign');
  const head = sliceFrame(frame, 0, ROWS);
  predictBody = Buffer.from(JSON.stringify(objects(head, sig)));
  inferBody = Buffer.from(JSON.stringify({ id: 'valid', inputs: tensorsOf(head) }));
  num = sig.inputs.find((i) => i.type === 'float32' && i.kind !== 'boolean')!.name;
  bool = sig.inputs.find((i) => i.kind === 'boolean')!.name;
  cat = sig.inputs.find((i) => i.type === 'string')!.name;
}, 120_000);

afterAll(() => {
  killAll();
  if (!process.env.KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------- talking to the endpoint

interface Answer {
  status: number;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: http.IncomingHttpHeaders;
}

/** One request on a connection of its own (no pool, so no keep-alive race decides an abuse case). */
function send(port: number, method: string, route: string, opts: { token?: string | null; auth?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  const headers: Record<string, string | number> = { ...opts.headers };
  if (opts.auth !== undefined) headers.Authorization = opts.auth;
  else if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) {
    headers['Content-Length'] = Buffer.byteLength(opts.body);
    headers['Content-Type'] ??= Buffer.isBuffer(opts.body) ? 'application/gzip' : 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: route, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          // /metrics is text
        }
        resolve({ status: res.statusCode!, text, body, headers: res.headers });
      });
    });
    req.setTimeout(60_000, () => req.destroy(new Error('no answer in 60 s')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

interface Raw {
  /** Status codes of the answers read, in order. */
  statuses: number[];
  text: string;
  /** The endpoint closed the connection (before `waitMs`). */
  closed: boolean;
  /** When it was closed, in ms from the start. */
  closedAfter: number;
}

/**
 * A connection driven byte by byte: `drive` writes what it wants (writes on
 * a closed socket are ignored); resolves when the endpoint closes the
 * connection or after `waitMs`, whichever first.
 */
function raw(port: number, drive: (s: net.Socket, isOpen: () => boolean) => Promise<void> | void, waitMs: number): Promise<Raw> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const chunks: Buffer[] = [];
    let open = true;
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => chunks.push(d));
    const finish = (closed: boolean) => {
      if (!open) return;
      open = false;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ statuses: [...text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1])), text, closed, closedAfter: Date.now() - t0 });
      s.destroy();
    };
    s.on('close', () => finish(true));
    s.on('end', () => finish(true));
    const timer = setTimeout(() => finish(false), waitMs);
    s.once('connect', () => void Promise.resolve(drive(s, () => open && !s.destroyed)).catch(() => undefined));
  });
}

/** Writes `bytes` in pieces, giving the event loop a turn between them, until done or the connection closes. */
async function writeAll(s: net.Socket, isOpen: () => boolean, bytes: Buffer, piece = 64 * 1024): Promise<void> {
  for (let i = 0; i < bytes.length && isOpen(); i += piece) {
    if (!s.write(bytes.subarray(i, i + piece))) await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 200);
      s.once('drain', () => (clearTimeout(t), resolve()));
    });
  }
}

const head = (method: string, route: string, lines: string[]) => Buffer.from(`${method} ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`, 'latin1');

// ---------------------------------------------------------------- cases

type Verdict = 'refused' | 'reported';
interface Result {
  group: string;
  name: string;
  verdict: Verdict | null;
  problem: string | null;
}

class Problem extends Error {}
function must(ok: unknown, why: string): asserts ok {
  if (!ok) throw new Problem(why);
}

/** A JSON refusal: the status, {"error": sentence} (with field and row at most), no stack; the sentence matching `re` when given. */
function refused(a: Answer, status: number, re?: RegExp) {
  must(a.status === status, `answered ${a.status}, not ${status}: ${a.text.slice(0, 200)}`);
  must(a.body && typeof a.body.error === 'string' && a.body.error.length > 0, `no {"error"} in ${a.text.slice(0, 200)}`);
  const extra = Object.keys(a.body).filter((k) => !['error', 'field', 'row', 'ready'].includes(k));
  must(extra.length === 0, `unexpected fields ${extra.join(', ')}`);
  must(!/\n\s+at /.test(a.body.error), 'a stack trace in the answer');
  if (re) must(re.test(a.body.error), `"${a.body.error.slice(0, 300)}" does not match ${re}`);
}

/** A refusal on a raw connection: the status (first answer) and the connection closed within `withinMs`. */
function cut(r: Raw, status: number | number[], withinMs: number, what = '') {
  const want = Array.isArray(status) ? status : [status];
  must(r.statuses.length > 0 && want.includes(r.statuses[0]!), `${what}answered ${r.statuses.join(', ') || 'nothing'}, not ${want.join(' or ')}, ${r.closed ? `closed after ${r.closedAfter} ms` : 'not closed'}: ${r.text.slice(0, 200)}`);
  must(r.closed, `${what}the connection was not closed in ${withinMs} ms`);
  must(r.closedAfter <= withinMs, `${what}the connection was closed after ${r.closedAfter} ms, not within ${withinMs}`);
}

async function pool(jobs: (() => Promise<void>)[], n: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) await jobs[next++]!();
  }));
}

/** Deep nesting: `[[[…]]]` or `{"a":{"a":…}}`, `depth` levels around `inner`. */
const deepArray = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const DEEP = 100_000;

/** A ustar header for entries the edge-child's tarGz cannot write: a type, a link name, a prefix. */
function header(name: string, size: number, o: { type?: string; link?: string; prefix?: string } = {}): Buffer {
  const h = tarHeader(name, size, 1_700_000_000);
  if (o.type) h.write(o.type, 156, 1, 'ascii');
  if (o.link) h.write(o.link, 157, 100, 'utf8');
  if (o.prefix) h.write(o.prefix, 345, 155, 'utf8');
  h.write('        ', 148, 8, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** A .tar.gz of raw blocks (headers and data, padded here) then the end-of-archive blocks. */
function tarGzBlocks(parts: { h: Buffer; data?: Buffer }[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    out.push(p.h);
    if (p.data) {
      out.push(p.data);
      const pad = (512 - (p.data.length % 512)) % 512;
      if (pad) out.push(Buffer.alloc(pad));
    }
  }
  out.push(Buffer.alloc(1024));
  return zlib.gzipSync(Buffer.concat(out));
}

/** The blocks of the bundle's own entries, as tarGzBlocks takes them. */
const blocksOf = (entries: TarEntry[]) => entries.map((e) => ({ h: header(e.name, e.data!.length), data: e.data! }));

const pax = (records: Record<string, string>) => {
  const text = Object.entries(records)
    .map(([k, v]) => {
      const body = ` ${k}=${v}\n`;
      let len = body.length + 1;
      while (String(len).length + body.length !== len) len = String(len).length + body.length;
      return `${len}${body}`;
    })
    .join('');
  return Buffer.from(text);
};

/** Every path under `dir` (folders end with "/"), links not followed, except those under `skip`. */
function tree(dir: string, skip: string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (skip.some((s) => p === s || p.startsWith(`${s}${path.sep}`))) continue;
      out.push(path.relative(dir, p) + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

// ---------------------------------------------------------------- the test

describe('edge endpoint abuse, all at once, while valid traffic flows', () => {
  let edge: Edge;
  let state: string;

  beforeAll(async () => {
    state = path.join(tmp, 'state');
    const tgz = path.join(tmp, 'v1.tar.gz');
    fs.writeFileSync(tgz, v1.tgz);
    const env: Record<string, string> = FULL ? {} : { MILLWRIGHT_TIMEOUTS_MS: `${TIMEOUTS.headers},${TIMEOUTS.request},${TIMEOUTS.idle}` };
    edge = await startEdge(tgz, ['--token', TOKEN, '--admin-token', ADMIN, '--state', state, '--max-body', String(MAX_BODY), '--max-bundle', String(MAX_BUNDLE)], env);
  });
  afterAll(async () => {
    if (edge && isRunning(edge)) await stopEdge(edge);
  });

  it('refuses every abuse case with its status, fails no valid request, and writes nothing outside its state folder', async () => {
    const port = edge.port;
    const results: Result[] = [];
    const run = (group: string, name: string, fn: () => Promise<Verdict | void>) => async () => {
      try {
        const v = await fn();
        results.push({ group, name, verdict: v ?? 'refused', problem: null });
      } catch (e) {
        results.push({ group, name, verdict: null, problem: e instanceof Problem ? e.message : `threw ${e instanceof Error ? e.stack : String(e)}` });
      }
    };
    const post = (route: string, body: string | Buffer, token: string | null = TOKEN, headers: Record<string, string> = {}) => send(port, 'POST', route, { token, body, headers });
    const admin = (method: string, route: string, body?: Buffer) => send(port, method, route, { token: ADMIN, ...(body ? { body } : {}), headers: { 'X-Millwright-User': 'abuse test' } });
    const predictTo = (body: string | Buffer) => post('/predict', body);
    const inferTo = (body: unknown) => post('/v2/models/failure/infer', typeof body === 'string' ? body : JSON.stringify(body));

    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside);
    const marker = `mw-escape-${process.pid}`;
    const before = tree(tmp, [state]);
    const t0 = Date.now();

    // Valid traffic: /predict, and every fourth request v2 infer, from keep-alive clients.
    const load = new Load({
      port,
      clients: CLIENTS,
      request: (i) => ({
        method: 'POST',
        path: i % 4 === 3 ? '/v2/models/failure/infer' : '/predict',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: i % 4 === 3 ? inferBody : predictBody,
      }),
      check: (b) => {
        const body = b as { predictions?: { prediction?: unknown }[]; outputs?: { name: string; data: unknown[] }[] };
        if (body.predictions) return body.predictions.length === ROWS && body.predictions.every((p) => p.prediction === 'yes' || p.prediction === 'no') ? null : `predictions: ${JSON.stringify(body).slice(0, 200)}`;
        const label = body.outputs?.find((o) => o.name === 'label');
        return label && label.data.length === ROWS ? null : `outputs: ${JSON.stringify(body).slice(0, 200)}`;
      },
    });
    expect(await load.flowing(20), 'valid traffic flows before the abuse').toBe(true);

    // ---- malformed JSON
    const json: (() => Promise<void>)[] = [
      ['truncated', '[{"a": 1, "b'],
      ['trailing garbage', `${predictBody.toString()} xyz`],
      ['two JSON values', `${predictBody.toString()} ${predictBody.toString()}`],
      ['empty body', ''],
      ['only whitespace', ' \n\t '],
      ['a byte order mark first', `\uFEFF${predictBody.toString()}`],
      ['NUL bytes', `[{"${num}": 1\u0000}]`],
      ['single quotes', `[{'${num}': 1}]`],
      ['a comment', `[/* x */ {"${num}": 1}]`],
      ['NaN as a bare word', `[{"${num}": NaN}]`],
    ].map(([name, body]) => run('malformed JSON', name!, async () => refused(await predictTo(body!), 400, /^The (body is not valid JSON|request has no body)/)));
    json.push(
      run('malformed JSON', 'invalid UTF-8 in a number field', async () => refused(await predictTo(Buffer.concat([Buffer.from(`[{"${num}": "`), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('"}]')])), 400, new RegExp(`"${num}" must be a number`))),
      run('malformed JSON', 'a lone surrogate in a number field', async () => refused(await predictTo(`[{"${num}": "\\ud800"}]`), 400, new RegExp(`"${num}" must be a number`))),
      run('malformed JSON', `lists nested ${DEEP} deep`, async () => refused(await predictTo(deepArray(DEEP)), 400, /^Row 1 is not an object/)),
      run('malformed JSON', `objects nested ${DEEP} deep`, async () => refused(await predictTo(deepObject(DEEP)), 400, /"a" is not an input/)),
      run('malformed JSON', `a field's value nested ${DEEP} deep`, async () => refused(await predictTo(`[{"${num}": ${deepArray(DEEP)}}]`), 400, new RegExp(`"${num}" must be a number, or null when missing; got \\[`))),
      run('malformed JSON', `a category nested ${DEEP} deep`, async () => refused(await predictTo(`[{"${cat}": ${deepArray(DEEP)}}]`), 400, new RegExp(`"${cat}" must be a category`))),
      run('malformed JSON', `"source" nested ${DEEP} deep`, async () => refused(await predictTo(`[{"source": ${deepArray(DEEP)}}]`), 400, /"source" must be a name/)),
      run('malformed JSON', `"time" nested ${DEEP} deep`, async () => refused(await predictTo(`[{"time": ${deepArray(DEEP)}}]`), 400, /"time" must be a timestamp/)),
      run('malformed JSON', 'a 900 KB string as a number', async () => refused(await predictTo(`[{"${num}": "${'9'.repeat(450_000)}x${'9'.repeat(450_000)}"}]`), 400, new RegExp(`"${num}" must be a number`))),
      run('malformed JSON', 'a 900 KB field name', async () => refused(await predictTo(`[{"${'k'.repeat(900_000)}": 1}]`), 400, /is not an input of model "failure"/)),
      run('malformed JSON', 'a 900 KB string never closed', async () => refused(await predictTo(`[{"${num}": "${'x'.repeat(900_000)}`), 400, /^The body is not valid JSON/)),
      run('malformed JSON', '"__proto__" as a field', async () => refused(await predictTo(`[{"__proto__": {"${num}": 1}}]`), 400, /"__proto__" is not an input/)),
      run('malformed JSON', '"constructor" as a field', async () => refused(await predictTo('[{"constructor": 1}]'), 400, /"constructor" is not an input/)),
      run('malformed JSON', 'v2 infer: truncated', async () => refused(await inferTo('{"inputs": [{"name": '), 400, /^The body is not valid JSON/)),
      run('malformed JSON', `v2 infer: inputs nested ${DEEP} deep`, async () => refused(await inferTo(`{"inputs": ${deepArray(DEEP, '{}')}}`), 400, /^inputs\[0\] must be an object/)),
      run('malformed JSON', `v2 infer: a shape nested ${DEEP} deep`, async () => refused(await inferTo(`{"inputs": [{"name": "${num}", "datatype": "FP32", "shape": ${deepArray(DEEP)}, "data": [1]}]}`), 400, /"shape" must be \[N\]/)),
      run('malformed JSON', `v2 infer: data nested ${DEEP} deep`, async () => refused(await inferTo(`{"inputs": [{"name": "${num}", "datatype": "FP32", "shape": [2], "data": ${deepArray(DEEP)}}]}`), 400, /needs 2 values, "data" has 1/)),
    );

    // ---- wrong types and shapes
    const t = (name: string, extra: Record<string, unknown> = {}) => ({ name, shape: [1], datatype: 'FP32', data: [1], ...extra });
    const all = (over: Record<string, Record<string, unknown>> = {}) => sig.inputs.map((i) => over[i.name] ?? (i.type === 'string' ? t(i.name, { datatype: 'BYTES', data: ['A'] }) : t(i.name)));
    const shapes: [string, unknown, RegExp][] = [
      ['a number', 42, /^Row 1 is not an object/],
      ['a string', 'rows', /^Row 1 is not an object/],
      ['null', null, /^Row 1 is not an object/],
      ['true', true, /^Row 1 is not an object/],
      ['a list of numbers', [1, 2, 3], /^Row 1 is not an object/],
      ['a list of lists', [[1, 2]], /^Row 1 is not an object/],
      ['an object as a number', [{ [num]: { x: 1 } }], new RegExp(`"${num}" must be a number`)],
      ['a list as a number', [{ [num]: [1] }], new RegExp(`"${num}" must be a number`)],
      ['true as a number', [{ [num]: true }], new RegExp(`"${num}" must be a number`)],
      ['text as a number', [{ [num]: '12,5' }], new RegExp(`"${num}" must be a number`)],
      ['"maybe" as yes/no', [{ [bool]: 'maybe' }], new RegExp(`"${bool}" must be a yes/no value`)],
      ['an object as a category', [{ [cat]: {} }], new RegExp(`"${cat}" must be a category`)],
      ['a field the model does not have', [{ Nope: 1 }], /"Nope" is not an input/],
      ['a bad row among good ones', [...(JSON.parse(predictBody.toString()) as unknown[]), { [num]: 'x' }], new RegExp(`^Row ${ROWS + 1}: "${num}"`)],
      ['a number as "source"', [{ source: 5 }], /"source" must be a name/],
      ['a 300-character "source"', [{ source: 's'.repeat(300) }], /"source" must be a name of 1 to 200/],
      ['an object as "time"', [{ time: {} }], /"time" must be a timestamp/],
      ['a 100-character "time"', [{ time: 't'.repeat(100) }], /"time" must be a timestamp/],
    ];
    const shape: (() => Promise<void>)[] = shapes.map(([name, body, re]) => run('wrong types and shapes', `/predict: ${name}`, async () => refused(await predictTo(JSON.stringify(body)), 400, re)));
    const infers: [string, unknown, RegExp, number?][] = [
      ['a list', [], /^The body must be an object/],
      ['no inputs', {}, /"inputs" must be a non-empty list/],
      ['inputs as an object', { inputs: {} }, /"inputs" must be a non-empty list/],
      ['inputs empty', { inputs: [] }, /"inputs" must be a non-empty list/],
      ['a number as a tensor', { inputs: [5] }, /inputs\[0\] must be an object/],
      ['a tensor without a name', { inputs: [{ shape: [1], datatype: 'FP32', data: [1] }] }, /has no "name"/],
      ['a shape as text', { inputs: all({ [num]: t(num, { shape: '1' }) }) }, /"shape" must be \[N\]/],
      ['a negative shape', { inputs: all({ [num]: t(num, { shape: [-1] }) }) }, /"shape" must be \[N\]/],
      ['a shape [1, 2]', { inputs: all({ [num]: t(num, { shape: [1, 2], data: [1, 2] }) }) }, /"shape" must be \[N\]/],
      ['a shape of 3 dimensions', { inputs: all({ [num]: t(num, { shape: [1, 1, 1] }) }) }, /"shape" must be \[N\]/],
      ['no datatype', { inputs: all({ [num]: t(num, { datatype: undefined }) }) }, /has no "datatype"/],
      ['datatype FOO', { inputs: all({ [num]: t(num, { datatype: 'FOO' }) }) }, /its datatype must be FP32/],
      ['BYTES for numbers', { inputs: all({ [num]: t(num, { datatype: 'BYTES', data: ['1'] }) }) }, /its datatype must be FP32/],
      ['FP32 for a category', { inputs: all({ [cat]: t(cat) }) }, /its datatype must be BYTES/],
      ['no data', { inputs: all({ [num]: t(num, { data: undefined }) }) }, /has no "data"/],
      ['fewer values than the shape', { inputs: all({ [num]: t(num, { shape: [3] }) }) }, /needs 3 values, "data" has 1/],
      ['text in FP32', { inputs: all({ [num]: t(num, { data: ['1'] }) }) }, /is not a FP32 value/],
      ['1.5 in INT64', { inputs: all({ [num]: t(num, { datatype: 'INT64', data: [1.5] }) }) }, /is not a INT64 value/],
      ['2 in BOOL', { inputs: all({ [num]: t(num, { datatype: 'BOOL', data: [2] }) }) }, /is not a BOOL value/],
      ['-1 in UINT8', { inputs: all({ [num]: t(num, { datatype: 'UINT8', data: [-1] }) }) }, /is not a UINT8 value/],
      ['objects in data', { inputs: all({ [num]: t(num, { data: [{ x: 1 }] }) }) }, /not objects/],
      ['a number in BYTES', { inputs: all({ [cat]: t(cat, { datatype: 'BYTES', data: [5] }) }) }, /BYTES values must be text/],
      ['inputs of different lengths', { inputs: all({ [num]: t(num, { shape: [2], data: [1, 2] }) }) }, /has 2 rows but|has 1 rows but/],
      ['an input twice', { inputs: [...all(), t(num)] }, /is given twice/],
      ['an input the model does not have', { inputs: [...all(), t('Nope')] }, /"Nope" is not an input/],
      ['an input missing', { inputs: all().filter((x) => x.name !== num) }, new RegExp(`Input "${num}" is missing`)],
      ['outputs as an object', { inputs: all(), outputs: {} }, /"outputs" must be a list/],
      ['an output the model does not have', { inputs: all(), outputs: [{ name: 'nope' }] }, /"nope" is not an output/],
      ['a number as an output', { inputs: all(), outputs: [5] }, /outputs\[0\] has no "name"/],
      ['a number as id', { id: 5, inputs: all() }, /"id" must be a string/],
      ['a list as parameters', { parameters: [], inputs: all() }, /"parameters" must be an object/],
      ['a number as parameters.source', { parameters: { source: 5 }, inputs: all() }, /"parameters.source" must be a name/],
    ];
    shape.push(...infers.map(([name, body, re]) => run('wrong types and shapes', `v2 infer: ${name}`, async () => refused(await inferTo(body), 400, re))));
    shape.push(
      run('wrong types and shapes', 'v2 infer: a model not served', async () => refused(await post('/v2/models/other/infer', inferBody), 404, /"other" is not served here/)),
      run('wrong types and shapes', 'v2 infer: a version not served', async () => refused(await post('/v2/models/failure/versions/999/infer', inferBody), 404, /has no version "999"/)),
      run('wrong types and shapes', 'GET /predict', async () => refused(await send(port, 'GET', '/predict', { token: TOKEN }), 405, /GET is not allowed on \/predict/)),
      run('wrong types and shapes', 'PUT on v2 infer', async () => refused(await send(port, 'PUT', '/v2/models/failure/infer', { token: TOKEN, body: inferBody }), 405)),
      run('wrong types and shapes', 'a route that does not exist', async () => refused(await send(port, 'GET', '/etc/passwd', { token: TOKEN }), 404)),
      run('wrong types and shapes', '/predict/../admin/status with the predict token', async () => refused(await send(port, 'GET', '/predict/../admin/status', { token: TOKEN }), 401, /admin token/)),
      run('wrong types and shapes', '/%2e%2e/admin/status with the predict token', async () => refused(await send(port, 'GET', '/%2e%2e/admin/status', { token: TOKEN }), 401, /admin token/)),
      run('wrong types and shapes', 'an absolute URL to /admin/status with the predict token', async () => refused(await send(port, 'GET', 'http://elsewhere/admin/status', { token: TOKEN }), 401, /admin token/)),
      run('wrong types and shapes', '//admin/status with the predict token', async () => {
        const a = await send(port, 'GET', '//admin/status', { token: TOKEN });
        must(a.status === 401 || a.status === 404, `answered ${a.status}: ${a.text.slice(0, 200)}`);
        refused(a, a.status);
      }),
      run('wrong types and shapes', 'a bad percent-encoding in the model name', async () => refused(await post('/v2/models/%E0%A4%A/infer', inferBody), 404)),
    );

    // ---- bodies past the limits
    const big = Buffer.alloc(2 * MAX_BODY, 0x20);
    const closeBy = 20_000;
    const sizes: (() => Promise<void>)[] = [
      run('huge bodies', '/predict: 2 MB, announced', async () => {
        cut(await raw(port, (s, open) => writeAll(s, open, Buffer.concat([head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, `Content-Length: ${big.length}`]), big])), closeBy), 413, closeBy);
      }),
      run('huge bodies', '/predict: 2 MB announced, 10 bytes sent', async () => {
        cut(await raw(port, (s) => void s.write(Buffer.concat([head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, `Content-Length: ${big.length}`]), Buffer.from('[{"a": 1}]')])), closeBy), 413, closeBy);
      }),
      run('huge bodies', '/predict: Content-Length 100, then 2 MB', async () => {
        // The first 100 bytes are the body (not JSON: 400); the rest is no request (Node answers 400 and closes).
        const r = await raw(port, (s, open) => writeAll(s, open, Buffer.concat([head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, 'Content-Length: 100']), Buffer.from(`[{"${num}": "`), big])), closeBy);
        cut(r, 400, closeBy);
        must(r.statuses.every((x) => x === 400), `answered ${r.statuses.join(', ')}`);
      }),
      run('huge bodies', '/predict: Content-Length and chunked at once', async () => {
        cut(await raw(port, (s) => void s.write(Buffer.concat([head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, 'Content-Length: 5', 'Transfer-Encoding: chunked']), Buffer.from('5\r\n[{}]\n\r\n0\r\n\r\n')])), closeBy), 400, closeBy);
      }),
      run('huge bodies', '/predict: two Content-Lengths', async () => {
        cut(await raw(port, (s) => void s.write(Buffer.concat([head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, 'Content-Length: 4', 'Content-Length: 400']), Buffer.from('[{}]')])), closeBy), 400, closeBy);
      }),
      run('huge bodies', '/predict: a negative Content-Length', async () => {
        cut(await raw(port, (s) => void s.write(head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, 'Content-Length: -5'])), closeBy), 400, closeBy);
      }),
      // Many at once, each sending on without reading: the endpoint must still be read the 413 (it lingers before closing, so the client is not reset while it sends).
      ...Array.from({ length: BLIND }, (_, k) => run('huge bodies', `/predict: chunked, 3 MB, sent blind (${k + 1} of ${BLIND} at once)`, async () => {
        const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 0x20), Buffer.from('\r\n')]);
        cut(await raw(port, (s, open) => writeAll(s, open, Buffer.concat([head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, 'Transfer-Encoding: chunked']), ...new Array<Buffer>(48).fill(chunk), Buffer.from('0\r\n\r\n')])), closeBy), 413, closeBy);
      })),
      run('huge bodies', '/predict: chunked without end', async () => {
        const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 0x20), Buffer.from('\r\n')]);
        const r = await raw(port, async (s, open) => {
          s.write(head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, 'Transfer-Encoding: chunked']));
          // Up to 64 MB, or until the endpoint closes.
          for (let i = 0; i < 1024 && open(); i++) await writeAll(s, open, chunk);
        }, closeBy);
        cut(r, 413, closeBy);
      }),
      run('huge bodies', '/predict: a chunk size that is no number', async () => {
        cut(await raw(port, (s) => void s.write(Buffer.concat([head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, 'Transfer-Encoding: chunked']), Buffer.from('zz\r\nxx\r\n0\r\n\r\n')])), closeBy), 400, closeBy);
      }),
      run('huge bodies', 'v2 infer: 2 MB, announced', async () => {
        cut(await raw(port, (s, open) => writeAll(s, open, Buffer.concat([head('POST', '/v2/models/failure/infer', [`Authorization: Bearer ${TOKEN}`, `Content-Length: ${big.length}`]), big])), closeBy), 413, closeBy);
      }),
      run('huge bodies', '/predict: 2 MB after "Expect: 100-continue"', async () => {
        let continued = false;
        const r = await raw(port, (s) => {
          s.on('data', (d: Buffer) => {
            if (d.toString('latin1').startsWith('HTTP/1.1 100')) continued = true;
          });
          s.write(head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, `Content-Length: ${big.length}`, 'Expect: 100-continue']));
        }, closeBy);
        cut(r, 413, closeBy);
        must(!continued, 'the endpoint asked for the body');
      }),
      run('huge bodies', '/admin/bundle: 3 MB, announced', async () => {
        const bytes = crypto.randomBytes(MAX_BUNDLE + MAX_BODY);
        const r = await raw(port, (s, open) => writeAll(s, open, Buffer.concat([head('POST', '/admin/bundle', [`Authorization: Bearer ${ADMIN}`, 'Content-Type: application/gzip', `Content-Length: ${bytes.length}`]), bytes])), closeBy);
        cut(r, 413, closeBy);
        must(/start the endpoint with a larger --max-bundle/.test(r.text), r.text.slice(0, 300));
      }),
      run('huge bodies', '/admin/bundle: 3 MB, chunked', async () => {
        const chunk = Buffer.concat([Buffer.from('10000\r\n'), crypto.randomBytes(0x10000), Buffer.from('\r\n')]);
        cut(await raw(port, (s, open) => writeAll(s, open, Buffer.concat([head('POST', '/admin/bundle', [`Authorization: Bearer ${ADMIN}`, 'Content-Type: application/gzip', 'Transfer-Encoding: chunked']), ...new Array<Buffer>(48).fill(chunk), Buffer.from('0\r\n\r\n')])), closeBy), 413, closeBy);
      }),
      run('huge bodies', 'headers over 16 KB', async () => {
        const lines = Array.from({ length: 400 }, (_, i) => `X-Filler-${i}: ${'f'.repeat(60)}`);
        cut(await raw(port, (s) => void s.write(head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, ...lines, 'Content-Length: 2'])), closeBy), 431, closeBy);
      }),
    ];

    // ---- tokens
    const tokens: (() => Promise<void>)[] = [];
    const predictRoutes: [string, string, Buffer | undefined][] = [
      ['POST', '/predict', predictBody],
      ['POST', '/v2/models/failure/infer', inferBody],
      ['GET', '/metrics', undefined],
      ['GET', '/v2/models/failure', undefined],
      ['GET', '/v2', undefined],
    ];
    const wrongPredict: [string, string | undefined][] = [
      ['no token', undefined],
      ['a wrong token of the same length', `Bearer ${'x'.repeat(TOKEN.length)}`],
      ['the token and one more character', `Bearer ${TOKEN}x`],
      ['the token less its last character', `Bearer ${TOKEN.slice(0, -1)}`],
      ['an empty bearer', 'Bearer '],
      ['the token without "Bearer"', TOKEN],
      ['the token as Basic credentials', `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`],
      ['the admin token', `Bearer ${ADMIN}`],
      ['an 8 KB token', `Bearer ${'t'.repeat(8192)}`],
      ['the token then another word', `Bearer ${TOKEN} ${TOKEN}`],
    ];
    for (const [method, route, body] of predictRoutes) {
      for (const [name, auth] of wrongPredict) {
        tokens.push(run('wrong and missing tokens', `${method} ${route}: ${name}`, async () => {
          const a = await send(port, method, route, { ...(auth !== undefined ? { auth } : {}), ...(body ? { body, headers: { 'Content-Type': 'application/json' } } : {}) });
          refused(a, 401, auth === undefined ? /needs a token/ : /not valid for this endpoint/);
          must(String(a.headers['www-authenticate']).startsWith('Bearer realm="millwright-edge"'), `WWW-Authenticate: ${a.headers['www-authenticate']}`);
        }));
      }
    }
    const adminRoutes: [string, string, Buffer | undefined][] = [
      ['GET', '/admin/status', undefined],
      ['POST', '/admin/bundle', v3.tgz],
      ['POST', '/admin/rollback', undefined],
      ['POST', '/admin/shadow', v3.tgz],
      ['DELETE', '/admin/shadow', undefined],
      ['GET', '/admin/monitoring', undefined],
    ];
    const wrongAdmin: [string, string | undefined][] = [
      ['no token', undefined],
      ['the predict token', `Bearer ${TOKEN}`],
      ['a wrong token of the same length', `Bearer ${'x'.repeat(ADMIN.length)}`],
      ['the admin token and one more character', `Bearer ${ADMIN}x`],
      ['the admin token less its last character', `Bearer ${ADMIN.slice(0, -1)}`],
      ['the admin token as Basic credentials', `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}`],
      ['an 8 KB token', `Bearer ${'t'.repeat(8192)}`],
    ];
    for (const [method, route, body] of adminRoutes) {
      for (const [name, auth] of wrongAdmin) {
        tokens.push(run('wrong and missing tokens', `${method} ${route}: ${name}`, async () => {
          const a = await send(port, method, route, { ...(auth !== undefined ? { auth } : {}), ...(body ? { body } : {}) });
          refused(a, 401, /admin token/);
          must(String(a.headers['www-authenticate']).startsWith('Bearer realm="millwright-edge-admin"'), `WWW-Authenticate: ${a.headers['www-authenticate']}`);
        }));
      }
    }
    tokens.push(run('wrong and missing tokens', 'a 20 KB Authorization header', async () => {
      cut(await raw(port, (s) => void s.write(head('GET', '/metrics', [`Authorization: Bearer ${'t'.repeat(20_000)}`])), closeBy), 431, closeBy);
    }));

    // ---- replayed bundles, in order: the pushes of this group change what is served
    const replay = async () => {
      const legit = await admin('POST', '/admin/bundle', v2.tgz);
      expect(legit.status, legit.text).toBe(200);
      await run('replayed bundles', 'the bundle served, pushed again', async () => {
        const a = await admin('POST', '/admin/bundle', v2.tgz);
        must(a.status === 200, `answered ${a.status}: ${a.text}`);
        must(JSON.stringify(a.body) === JSON.stringify({ model: { name: 'failure', version: '2' }, previous: { name: 'failure', version: '1' }, unchanged: true }), `answered ${a.text}`);
      })();
      await run('replayed bundles', 'an older signed bundle, pushed again', async () => {
        const a = await admin('POST', '/admin/bundle', v1.tgz);
        must(a.status === 200, `answered ${a.status}: ${a.text}`);
        must(JSON.stringify(a.body) === JSON.stringify({ model: { name: 'failure', version: '1' }, previous: { name: 'failure', version: '2' }, downgrade: { from: '2', to: '1' } }), `answered ${a.text}`);
        // The admin log line is written before the answer, but comes through another pipe.
        const pushed = () => edge.lines.map((l) => l.admin as { action?: string; ok?: boolean; model?: unknown; downgrade?: unknown } | undefined).filter((l) => l?.action === 'push' && l.ok);
        for (let i = 0; i < 100 && pushed().length < 3; i++) await sleep(20);
        const line = pushed().find((l) => (l?.model as { version?: string } | undefined)?.version === '1');
        must(JSON.stringify(line?.downgrade) === JSON.stringify({ from: '2', to: '1' }), `the admin log says ${JSON.stringify(line)}`);
        return 'reported';
      })();
      const back = await admin('POST', '/admin/bundle', v2.tgz);
      expect(back.body, back.text).toEqual({ model: { name: 'failure', version: '2' }, previous: { name: 'failure', version: '1' } });
      await run('replayed bundles', 'an older bundle pushed with the predict token', async () => refused(await post('/admin/bundle', v1.tgz, TOKEN), 401, /admin token/))();
      await run('replayed bundles', 'an older bundle pushed as a shadow with the predict token', async () => refused(await post('/admin/shadow', v1.tgz, TOKEN), 401, /admin token/))();
    };

    // ---- tampered bundles (all refused: they run while the replays change what is served)
    const entries = v3.entries;
    const replace = (name: string, data: Buffer): TarEntry[] => entries.map((e) => (e.name === name ? { name, data } : e));
    const model = entries.find((e) => e.name === 'model.onnx')!.data!;
    const flipped = Buffer.from(model);
    flipped[flipped.length >> 1]! ^= 0xff;
    const manifest = entries.find((e) => e.name === 'manifest.json')!.data!;
    const signature = entries.find((e) => e.name === 'manifest.sig')!.data!.toString().trim();
    const badSig = Buffer.from(signature, 'base64');
    badSig[10]! ^= 0x01;
    const rehashed = Buffer.from(manifest.toString().replace(sha256(model), sha256(flipped)));
    const gz = Buffer.from(v3.tgz);
    gz[gz.length >> 1]! ^= 0xff;
    const fp = key.fingerprint.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const tampered: [string, Buffer, RegExp, number?][] = [
      ['a byte flipped in model.onnx', tarGz(replace('model.onnx', flipped)), /^model\.onnx does not match the bundle's manifest \(sha256 [0-9a-f]{64}, manifest says [0-9a-f]{64}\)/],
      ['manifest edited (version 3 → 9)', tarGz(replace('manifest.json', Buffer.from(manifest.toString().replace('"version": 3', '"version": 9')))), new RegExp(`^manifest\\.sig does not verify with the workspace key pinned at install \\(${fp}\\): manifest\\.json was changed after it was signed`)],
      ['manifest edited to list a changed model', tarGz(replace('manifest.json', rehashed).map((e) => (e.name === 'model.onnx' ? { name: e.name, data: flipped } : e))), /manifest\.json was changed after it was signed/],
      ['manifest with "format" nested 100000 deep', tarGz(replace('manifest.json', Buffer.from(manifest.toString().replace('"format": 1', `"format": ${deepArray(DEEP)}`)))), /is not a Millwright bundle manifest: format \[…\] is not one/],
      ['signed by another key', foreign.tgz, new RegExp(`^manifest\\.sig does not verify with the workspace key pinned at install \\(${fp}\\); this bundle was signed by ${otherKey.fingerprint.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`)],
      ['another key put in the bundle', tarGz(replace('workspace-key.pub.pem', Buffer.from(otherKey.publicPem))), /^workspace-key\.pub\.pem does not match the bundle's manifest/],
      ['a bit flipped in the signature', tarGz(replace('manifest.sig', Buffer.from(badSig.toString('base64')))), /manifest\.json was changed after it was signed/],
      ['a signature that is no base64', tarGz(replace('manifest.sig', Buffer.from('not a signature!'))), /manifest\.sig is not a base64 Ed25519 signature/],
      ['unsigned', tarGz(entries.filter((e) => e.name !== 'manifest.sig')), /has no manifest\.sig: unsigned bundles are refused/],
      ['a byte flipped in the gzip stream', gz, /cannot be decompressed|is damaged|cut short/],
      ['cut in half', v3.tgz.subarray(0, v3.tgz.length >> 1), /cannot be decompressed|cut short/],
      ['unpacking to more than 4 times --max-bundle', tarGz([{ name: 'manifest.json', data: Buffer.alloc(4 * MAX_BUNDLE + 1024, 0x20) }]), /unpacks to more than 8 MB; refusing it/],
      ['no bundle at all', crypto.randomBytes(5000), /cannot be decompressed/],
    ];
    const tamper: (() => Promise<void>)[] = tampered.map(([name, body, re]) => run('tampered bundles', name, async () => refused(await admin('POST', '/admin/bundle', body), 400, re)));
    tamper.push(
      run('tampered bundles', 'a byte flipped in model.onnx, as a shadow', async () => refused(await admin('POST', '/admin/shadow', tarGz(replace('model.onnx', flipped))), 400, /^model\.onnx does not match/)),
      run('tampered bundles', 'a bundle as JSON', async () => refused(await send(port, 'POST', '/admin/bundle', { token: ADMIN, body: v3.tgz, headers: { 'Content-Type': 'application/json' } }), 415, /application\/gzip/)),
    );

    // ---- path tricks in bundle archives (v3's entries and one more)
    const evil = Buffer.from('#!/bin/sh\necho escaped\n');
    const paths: [string, Buffer, RegExp][] = [
      ['"../"', tarGz([...entries, { name: `../${marker}`, data: evil }]), /goes up a folder with "\.\."/],
      ['"runtime/../../"', tarGz([...entries, { name: `runtime/../../${marker}`, data: evil }]), /goes up a folder with "\.\."/],
      ['"./../"', tarGz([...entries, { name: `./../${marker}`, data: evil }]), /goes up a folder with "\.\."/],
      ['"../" as a folder', tarGz([...entries, { name: '../', type: '5' }]), /goes up a folder with "\.\."/],
      ['an absolute path', tarGz([...entries, { name: path.join(outside, marker), data: evil }]), /has an absolute path/],
      ['a drive letter', tarGz([...entries, { name: `C:/${marker}`, data: evil }]), /has an absolute path/],
      ['backslashes', tarGz([...entries, { name: `..\\..\\${marker}`, data: evil }]), /has a backslash in its name/],
      ['a symbolic link out, then a file through it', tarGz([...entries, { name: 'runtime/lib', type: '2', link: outside }, { name: `runtime/lib/${marker}`, data: evil }]), /the entry "runtime\/lib" is a symbolic link/],
      ['a symbolic link up', tarGz([...entries, { name: 'up', type: '2', link: '../../..' }]), /is a symbolic link/],
      ['a hard link to /etc/passwd', tarGz([...entries, { name: 'passwd', type: '1', link: '/etc/passwd' }]), /is a hard link/],
      ['a hard link to model.onnx', tarGz([...entries, { name: 'model2.onnx', type: '1', link: 'model.onnx' }]), /is a hard link/],
      ['a character device', tarGz([...entries, { name: 'null', type: '3' }]), /is a character device/],
      ['a block device', tarGz([...entries, { name: 'sda', type: '4' }]), /is a block device/],
      ['a FIFO', tarGz([...entries, { name: 'fifo', type: '6' }]), /is a FIFO/],
      ['a pax path with "../"', tarGzBlocks([...blocksOf(entries), { h: header('PaxHeader', pax({ path: `../../${marker}` }).length, { type: 'x' }), data: pax({ path: `../../${marker}` }) }, { h: header('harmless', evil.length), data: evil }]), /goes up a folder with "\.\."/],
      ['a pax link target', tarGzBlocks([...blocksOf(entries), { h: header('PaxHeader', pax({ path: 'x', linkpath: '/etc/passwd' }).length, { type: 'x' }), data: pax({ path: 'x', linkpath: '/etc/passwd' }) }, { h: header('x', 0, { type: '2' }) }]), /names a link target/],
      ['a GNU long name with "../"', tarGzBlocks([...blocksOf(entries), { h: header('././@LongLink', `../${'d/'.repeat(60)}../../${marker}`.length + 1, { type: 'L' }), data: Buffer.from(`../${'d/'.repeat(60)}../../${marker}\0`) }, { h: header('short', evil.length), data: evil }]), /goes up a folder with "\.\."/],
      ['a ustar prefix of ".."', tarGzBlocks([...blocksOf(entries), { h: header(marker, evil.length, { prefix: '../..' }), data: evil }]), /goes up a folder with "\.\."/],
      ['a file the manifest does not list', tarGz([...entries, { name: `${marker}.sh`, data: evil }]), /is not listed in manifest\.json/],
      ['model.onnx twice', tarGz([...entries, { name: 'model.onnx', data: flipped }]), /is in the archive twice/],
    ];
    const archive: (() => Promise<void>)[] = paths.map(([name, body, re]) => run('path tricks in archives', name, async () => refused(await admin('POST', '/admin/bundle', body), 400, re)));

    // ---- slow clients
    const headerBytes = head('POST', '/predict', [`Authorization: Bearer ${TOKEN}`, 'Content-Type: application/json', `Content-Length: ${predictBody.length}`]);
    /** Writes a byte a second while the connection is open. */
    const trickle = async (s: net.Socket, open: () => boolean, bytes: Buffer) => {
      for (let i = 0; i < bytes.length && open(); i++) {
        s.write(bytes.subarray(i, i + 1));
        await sleep(1000);
      }
    };
    const slow: (() => Promise<void>)[] = [];
    for (let i = 0; i < SLOWLORIS; i++) {
      slow.push(run('slow clients', `slowloris ${i + 1}: headers a byte a second`, async () => {
        const r = await raw(port, (s, open) => trickle(s, open, headerBytes), TIMEOUTS.headers + SLACK + 5_000);
        cut(r, 408, TIMEOUTS.headers + SLACK);
        must(r.closedAfter >= TIMEOUTS.headers - 1000, `cut after ${r.closedAfter} ms, before the headers timeout`);
      }));
    }
    for (let i = 0; i < TRICKLERS; i++) {
      slow.push(run('slow clients', `body ${i + 1} a byte a second`, async () => {
        const r = await raw(port, async (s, open) => {
          s.write(headerBytes);
          await trickle(s, open, predictBody);
        }, TIMEOUTS.request + SLACK + 5_000);
        cut(r, 408, TIMEOUTS.request + SLACK);
        must(r.closedAfter >= TIMEOUTS.request - 1000, `cut after ${r.closedAfter} ms, before the request timeout`);
      }));
    }
    slow.push(
      run('slow clients', 'half a body, then silence', async () => {
        const r = await raw(port, (s) => void s.write(Buffer.concat([headerBytes, predictBody.subarray(0, predictBody.length >> 1)])), TIMEOUTS.request + SLACK + 5_000);
        cut(r, 408, TIMEOUTS.request + SLACK);
      }),
      run('slow clients', 'half the headers, then silence', async () => {
        const r = await raw(port, (s) => void s.write(headerBytes.subarray(0, 30)), TIMEOUTS.headers + SLACK + 5_000);
        cut(r, 408, TIMEOUTS.headers + SLACK);
      }),
      run('slow clients', `a reader that stops reading: ${READER_REQUESTS} requests sent at once, answers not read`, async () => {
        const one = head('GET', '/metrics', [`Authorization: Bearer ${TOKEN}`]);
        const s = net.connect(port, '127.0.0.1');
        s.pause();
        let got = '';
        let closed = false;
        s.on('data', (d: Buffer) => (got += d.toString('latin1')));
        s.on('error', () => undefined);
        const closing = new Promise<void>((resolve) => s.on('close', () => ((closed = true), resolve())));
        await new Promise((resolve) => s.once('connect', resolve));
        void writeAll(s, () => !closed, Buffer.concat(new Array<Buffer>(READER_REQUESTS).fill(one)));
        // The endpoint answers until the buffers on the way are full; its count of /metrics answers then stands still (this loop's own reads add one each).
        const answered = async () => Number(/^millwright_requests_total\{route="\/metrics",code="200"\} (\d+)$/m.exec((await send(port, 'GET', '/metrics', { token: TOKEN })).text)?.[1] ?? 0);
        let last = -1;
        let since = Date.now();
        const until = Date.now() + (FULL ? 180_000 : 60_000);
        const seen: number[] = [];
        while (Date.now() < until && !closed) {
          const n = await answered();
          seen.push(n);
          if (n > last + 1) since = Date.now();
          else if (Date.now() - since > 2_000) break;
          last = n;
          await sleep(250);
        }
        must(Date.now() < until, `the endpoint never stopped answering: ${seen.slice(-20).join(' ')}`);
        // Then nothing moves either way: the endpoint must close the connection after the idle timeout (Node gives an answer stuck in writing one more period).
        await sleep(Math.max(0, since + 2 * TIMEOUTS.idle + SLACK - Date.now()));
        s.resume();
        await Promise.race([closing, sleep(10_000)]);
        s.destroy();
        const answers = got.match(/^HTTP\/1\.1 200 /gm)?.length ?? 0;
        must(closed, `the connection was not closed (${answers} answers read)`);
        must(answers < READER_REQUESTS, `all ${answers} requests were answered: the endpoint never stalled, so this proves nothing`);
      }),
    );

    // ---- many connections: idle sockets, and valid traffic meanwhile
    const connections = [
      run('many connections', `${IDLE_SOCKETS} idle connections opened at once`, async () => {
        const sockets = await Promise.all(Array.from({ length: IDLE_SOCKETS }, () => new Promise<{ s: net.Socket; openedAt: number; closedAt: number | null; got: string }>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          const o = { s, openedAt: 0, closedAt: null as number | null, got: '' };
          s.on('error', () => undefined);
          s.on('data', (d: Buffer) => (o.got += d.toString('latin1')));
          s.on('close', () => (o.closedAt = Date.now()));
          s.once('connect', () => ((o.openedAt = Date.now()), resolve(o)));
          s.once('error', () => resolve(o));
        })));
        const opened = Date.now();
        try {
          must(sockets.every((o) => o.closedAt === null), `${sockets.filter((o) => o.closedAt !== null).length} connections were refused`);
          must(await load.flowing(50), 'valid traffic stopped while the idle connections were open');
          // A connection that never sends a byte is cut as one whose headers are late: 408, closed.
          while (Date.now() - opened < TIMEOUTS.headers + SLACK && sockets.some((o) => o.closedAt === null)) await sleep(250);
          const open = sockets.filter((o) => o.closedAt === null).length;
          must(open === 0, `${open} of ${IDLE_SOCKETS} idle connections still open after ${Date.now() - opened} ms`);
          const early = sockets.filter((o) => o.closedAt! - o.openedAt < TIMEOUTS.headers - 1000).length;
          must(early === 0, `${early} idle connections closed before the headers timeout`);
          const answers = new Set(sockets.map((o) => o.got.split('\r\n')[0]));
          must(answers.size === 1 && answers.has('HTTP/1.1 408 Request Timeout'), `the idle connections heard ${[...answers].join(' | ')}`);
        } finally {
          for (const o of sockets) o.s.destroy();
        }
      }),
    ];

    // All at once: the slow ones first, so the quick ones run while they wait.
    const abuseStarted = load.counts;
    await Promise.all([
      pool(slow, slow.length),
      pool(connections, 1),
      pool(sizes, BLIND),
      pool(json, 3),
      pool(shape, 4),
      pool(tokens, 6),
      replay(),
      pool(tamper, 2),
      pool(archive, 2),
    ]);
    const abuseEnded = load.counts;
    const figures = await load.stop();

    // The figures, written before the verdicts so a failing run still shows them.
    const byCase: Record<string, { cases: number; refused: number; reported?: number }> = {};
    for (const r of results) {
      const g = (byCase[r.group] ??= { cases: 0, refused: 0 });
      g.cases++;
      if (r.verdict === 'refused') g.refused++;
      if (r.verdict === 'reported') g.reported = (g.reported ?? 0) + 1;
    }
    const out = {
      area: 'abuse',
      cases: results.length,
      refused: results.filter((r) => r.verdict === 'refused').length,
      reported: results.filter((r) => r.verdict === 'reported').length,
      validRequests: figures.requests,
      validDuringAbuse: abuseEnded.requests - abuseStarted.requests,
      failedValid: figures.failed,
      validLatencyMs: figures.latencyMs,
      seconds: Math.round((Date.now() - t0) / 100) / 10,
      timeoutsMs: TIMEOUTS,
      byCase,
      mode: FULL ? 'full' : 'short',
    };
    fs.mkdirSync(path.dirname(FIGURES), { recursive: true });
    fs.writeFileSync(FIGURES, `${JSON.stringify(out, null, 2)}\n`);
    console.log(JSON.stringify(out));

    expect(results.filter((r) => r.problem !== null).map((r) => `${r.group} / ${r.name}: ${r.problem}`)).toEqual([]);

    // No crash: the endpoint is alive, ready, never answered 500, and wrote no stack trace.
    expect(isRunning(edge), 'the endpoint is still running').toBe(true);
    expect((await send(port, 'GET', '/v2/health/ready')).status).toBe(200);
    const metrics = await send(port, 'GET', '/metrics', { token: TOKEN });
    expect(metrics.text.match(/^millwright_requests_total\{.*code="5\d\d".*$/gm) ?? [], 'no 5xx answer').toEqual([]);
    expect(edge.stderr(), 'nothing on standard error').not.toMatch(/could not answer|\n\s+at |Error/);

    // Nothing written outside the state folder; in it, only the two bundles served and served before.
    const after = tree(tmp, [state]);
    expect(after).toEqual(before);
    expect(fs.readdirSync(outside)).toEqual([]);
    for (const p of [path.join(os.tmpdir(), marker), path.join(path.dirname(tmp), marker), path.join('/', marker), path.join(state, marker), path.join(state, 'bundles', marker)]) expect(fs.existsSync(p), p).toBe(false);
    expect(tree(state).filter((p) => p.includes(marker))).toEqual([]);
    expect(fs.readdirSync(path.join(state, 'bundles')).sort()).toEqual([v1.manifestSha.slice(0, 16), v2.manifestSha.slice(0, 16)].sort());
    const status = (await admin('GET', '/admin/status')).body as { model: { version: string; bundleSha256: string }; previous: { version: string }; shadow: unknown };
    expect([status.model.version, status.model.bundleSha256, status.previous.version, status.shadow]).toEqual(['2', v2.manifestSha, '1', null]);

    expect(figures.failures, 'failed valid requests').toEqual([]);
    expect(figures.failed).toBe(0);
    expect(out.validDuringAbuse).toBeGreaterThan(100);
    expect(out.refused + out.reported).toBe(out.cases);
    expect(out.reported).toBe(1);

    expect(await stopEdge(edge), 'the endpoint stops cleanly after it all').toBe(0);
  }, FULL ? 600_000 : 120_000);
});
