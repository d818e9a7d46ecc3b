/**
 * The edge runtime's admin API as the app and operations use it: the real
 * endpoint as a child process on loopback, signed .tar.gz bundles pushed to
 * it, rolled back, refused when tampered with, swapped under load, kept
 * across restarts; and its monitoring buckets read with a cursor, compared
 * with counts made here from the rows sent.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, onnxSignature, type OnnxSignature } from './services/onnx/export';
import { feeds, plantFrame, settings, sliceFrame, train, withOddRows } from './services/onnx/parity-harness';
import { createCore, type Core } from './services/compose';
import type { Candidate } from './services/training/automl';
import type { Frame } from './services/training/frame';
import {
  bundleEntries,
  callEdge,
  IFOREST,
  NO_TIME,
  rawPost,
  isRunning,
  killAll,
  objects,
  sha256,
  signManifest,
  signingKey,
  startEdge,
  stopEdge,
  tarGz,
  writeSignedBundle,
  type Edge,
  type SigningKey,
  type TarEntry,
} from './test-support/edge-child';
import { coreCaller } from './test-support/core-call';
import { latencyQuantile } from './services/monitor/latency';
import { SMOKE_HEADERS } from './services/deploy/smoke';
import { EndpointClient, type EdgeBucket, type EdgeEvent, type MonitoringPage } from './services/deploy/client';
import { pumpsModel, writePumpsCsv } from './test-support/pumps';

const TOKEN = 'predict-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const USER = 'Ada Lovelace (test)';
const TOKENS = ['--token', TOKEN, '--admin-token', ADMIN];

const hgb = (maxIter: number, learningRate: number, minSamplesLeaf: number): Candidate => ({ algorithm: 'hgb', params: { maxIter, learningRate, maxLeafNodes: 15, minSamplesLeaf, l2: 0, balanced: false } });

type NumericProfile = { name: string; kind: 'numeric'; edges: number[]; counts: number[]; missing: number };
type CategoryProfile = { name: string; kind: 'category'; categories: string[]; counts: number[]; missing: number };
type Profile = { rows: number; anomalyRate: number | null; inputs: (NumericProfile | CategoryProfile)[] };

interface Version {
  name: string;
  version: number;
  dir: string;
  tgz: Buffer;
  sig: OnnxSignature;
  manifestSha: string;
  profile: Profile;
  bytes: Uint8Array;
}

let tmp: string;
let frame: Frame;
let key: SigningKey;
let otherKey: SigningKey;
let v1: Version;
let v2: Version;
let v3: Version;
/** An anomaly model with window features (history rows), for monitoring. */
let unusual: Version;
/** Rows the answers of v1, v2 and v3 are compared on, and each version's answers to them from ONNX Runtime in this process. */
let rows: Record<string, unknown>[];
const answers = new Map<number, string>();

// ---------------------------------------------------------------- bundles

/** The value of a /predict field as the test reads it: null for missing. */
function numeric(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return Number(v);
  if (typeof v === 'string' && (v.trim() === '' || v.trim() === 'NaN')) return null;
  const x = Number(v);
  return Number.isNaN(x) ? null : x;
}

/** A training profile as the desktop writes it (contract (b)): deciles of the frame's values as edges, the two most common categories. */
function profileOf(f: Frame, sig: OnnxSignature): Profile {
  const rowsOf = objects(f, sig);
  const inputs = sig.inputs.map((input): NumericProfile | CategoryProfile => {
    const values = rowsOf.map((r) => r[input.name]);
    if (input.type === 'string') {
      const seen = new Map<string, number>();
      for (const v of values) if (typeof v === 'string' && v) seen.set(v, (seen.get(v) ?? 0) + 1);
      const categories = [...seen].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([c]) => c);
      return { name: input.name, kind: 'category', categories, counts: new Array(categories.length + 1).fill(0), missing: 0 };
    }
    const xs = values.map(numeric).filter((x): x is number => x !== null).sort((a, b) => a - b);
    const edges = [...new Set([1, 2, 3, 4, 5, 6, 7, 8, 9].map((q) => xs[Math.floor((q / 10) * (xs.length - 1))]!))];
    return { name: input.name, kind: 'numeric', edges, counts: new Array(edges.length + 1).fill(0), missing: 0 };
  });
  const profile = { rows: f.rows, anomalyRate: null, inputs };
  const counted = countBins(rowsOf, profile);
  for (const p of inputs) Object.assign(p, counted[p.name]);
  return profile;
}

/** Counts rows over a profile's bins by contract (b), independently of the runtime. */
function countBins(sent: Record<string, unknown>[], profile: Profile): Record<string, { counts: number[]; missing: number }> {
  const out: Record<string, { counts: number[]; missing: number }> = {};
  for (const p of profile.inputs) {
    const f = { counts: new Array(p.counts.length).fill(0) as number[], missing: 0 };
    for (const row of sent) {
      const v = row[p.name];
      if (p.kind === 'numeric') {
        const x = numeric(v);
        if (x === null) f.missing++;
        else f.counts[p.edges.filter((e) => e < x).length]! += 1;
      } else if (v === null || v === undefined || v === '') f.missing++;
      else {
        const i = p.categories.indexOf(String(v));
        f.counts[i < 0 ? p.categories.length : i]! += 1;
      }
    }
    out[p.name] = f;
  }
  return out;
}

function makeVersion(f: Frame, candidates: Candidate[], task: 'binary' | 'anomaly', name: string, version: number, signer: SigningKey = key, label = ''): Version {
  const p = train(f, task === 'anomaly' ? settings('anomaly') : settings('binary', NO_TIME), candidates);
  const bytes = exportOnnx(p, { modelName: name, modelVersion: version, appVersion: '0.1.0-test' });
  const sig = onnxSignature(p);
  const profile = profileOf(f, sig);
  const dir = path.join(tmp, 'bundles', `${name}-v${version}${label}`);
  const manifest = { format: 1, name, version, createdAt: '2026-01-01T00:00:00.000Z', appVersion: '0.1.0-test', signature: sig, timeColumn: task === 'anomaly' ? 'Time' : null, profile };
  // A runtime file and a Dockerfile too, as buildBundle lays a bundle out.
  const manifestBytes = writeSignedBundle(dir, manifest, { 'model.onnx': bytes, 'runtime/package.json': Buffer.from('{"name":"millwright-edge"}\n'), Dockerfile: Buffer.from('FROM node:20\n') }, signer);
  return { name, version, dir, tgz: tarGz(bundleEntries(dir)), sig, manifestSha: sha256(manifestBytes), profile, bytes };
}

type Prediction = { prediction: unknown; probabilities?: Record<string, number>; score?: number; anomaly?: boolean };
const answerOf = (preds: Prediction[]) => JSON.stringify(preds.map((p) => [p.prediction, p.probabilities]));

/** What ONNX Runtime in this process answers for the first rows of the frame, in /predict's form. */
async function expectedAnswer(v: Version, f: Frame): Promise<string> {
  const session = await ort.InferenceSession.create(Buffer.from(v.bytes));
  try {
    const out = await session.run(feeds(v.sig, f));
    const labels = Array.from(out.label!.data as ArrayLike<string>);
    const probs = Array.from(out.probabilities!.data as Float32Array);
    const classes = v.sig.classes!;
    return answerOf(labels.map((l, i) => ({ prediction: l, probabilities: Object.fromEntries(classes.map((c, k) => [c, probs[i * classes.length + k]!])) })));
  } finally {
    await session.release();
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-edge-admin-'));
  key = signingKey();
  otherKey = signingKey();
  frame = plantFrame(700);
  v1 = makeVersion(frame, [hgb(40, 0.1, 10)], 'binary', 'failure', 1);
  v2 = makeVersion(frame, [hgb(6, 0.3, 40)], 'binary', 'failure', 2);
  v3 = makeVersion(frame, [hgb(15, 0.2, 25)], 'binary', 'failure', 3);
  unusual = makeVersion(frame, [IFOREST], 'anomaly', 'unusual', 1);
  const head = sliceFrame(frame, 0, 40);
  rows = objects(head, v1.sig);
  for (const v of [v1, v2, v3]) answers.set(v.version, await expectedAnswer(v, head));
  expect(new Set(answers.values()).size, 'the three versions answer differently').toBe(3);
}, 120_000);

afterAll(() => {
  killAll();
  if (!process.env.KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------- calls

const admin = (edge: Edge, method: string, route: string, body?: unknown, headers: Record<string, string> = {}) => callEdge(edge.port, method, route, body, ADMIN, { 'X-Millwright-User': USER, ...headers });

async function served(edge: Edge): Promise<number> {
  const r = await callEdge(edge.port, 'POST', '/predict', rows, TOKEN);
  expect(r.status, r.text).toBe(200);
  const got = answerOf(r.body.predictions as Prediction[]);
  const version = [...answers].find(([, a]) => a === got)?.[0];
  expect(version, 'the answers are one version\'s').toBeDefined();
  return version!;
}

const adminLines = (edge: Edge) => edge.lines.filter((l) => 'admin' in l).map((l) => l.admin as { at: string; action: string; by: string | null; from: string; ok: boolean; error?: string; model?: unknown; previous?: unknown });

const stateDir = (name: string) => path.join(tmp, 'state', name);

function bundleFolders(state: string): string[] {
  return fs.readdirSync(path.join(state, 'bundles')).sort();
}

// ---------------------------------------------------------------- tests

describe('edge admin API: push, rollback, status', () => {
  let edge: Edge;
  let state: string;

  beforeAll(async () => {
    state = stateDir('main');
    fs.writeFileSync(path.join(tmp, 'v1.tar.gz'), v1.tgz);
    edge = await startEdge(path.join(tmp, 'v1.tar.gz'), [...TOKENS, '--state', state]);
  });
  afterAll(async () => {
    if (isRunning(edge)) expect(await stopEdge(edge)).toBe(0);
  });

  it('starts from a signed .tar.gz unpacked into the state folder, pins its key, and says what it serves', async () => {
    const status = await admin(edge, 'GET', '/admin/status');
    expect(status.status, status.text).toBe(200);
    expect(status.body).toEqual({
      stateId: fs.readFileSync(path.join(state, 'state-id'), 'utf8').trim(),
      model: { name: 'failure', version: '1', task: 'binary', bundleSha256: v1.manifestSha, installedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      previous: null,
      keyFingerprint: key.fingerprint,
      runtimeVersion: '0.1.0',
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      counters: { requests: 0, errors: 0, predictions: 0 },
      shadow: null,
    });
    const unpacked = path.join(state, 'bundles', v1.manifestSha.slice(0, 16));
    expect(bundleFolders(state)).toEqual([v1.manifestSha.slice(0, 16)]);
    expect(fs.readFileSync(path.join(unpacked, 'manifest.json')).equals(fs.readFileSync(path.join(v1.dir, 'manifest.json')))).toBe(true);
    expect(fs.readFileSync(path.join(unpacked, 'model.onnx')).equals(Buffer.from(v1.bytes))).toBe(true);
    expect(fs.readFileSync(path.join(state, 'pinned-key.pem'), 'utf8')).toBe(key.publicPem);
    expect(edge.lines[0]).toMatchObject({ key: { fingerprint: key.fingerprint, source: 'bundle' } });
    expect(await served(edge)).toBe(1);
  });

  it('takes only the admin token on /admin, and the admin token is not a predict token', async () => {
    const routes: [string, string][] = [['GET', '/admin/status'], ['POST', '/admin/bundle'], ['POST', '/admin/rollback'], ['GET', '/admin/monitoring'], ['GET', '/admin/nothing']];
    for (const [method, route] of routes) {
      for (const token of [null, TOKEN, `${ADMIN}x`, ADMIN.slice(0, -1)]) {
        const r = await callEdge(edge.port, method, route, method === 'POST' ? v2.tgz : undefined, token);
        expect(r.status, `${method} ${route} with ${token}`).toBe(401);
        expect(r.headers.get('www-authenticate')).toContain('Bearer');
        expect(r.body.error).toMatch(/admin token/);
      }
    }
    for (const [method, route] of [['POST', '/predict'], ['GET', '/metrics'], ['GET', '/v2/models/failure']]) {
      const r = await callEdge(edge.port, method!, route!, method === 'POST' ? rows : undefined, ADMIN);
      expect(r.status, `${method} ${route} with the admin token`).toBe(401);
    }
    // A client that asks before sending ("Expect: 100-continue") is refused before it sends the bundle.
    let continued = false;
    const asked = await rawPost(edge.port, '/admin/bundle', { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/gzip', 'Content-Length': v2.tgz.length, Expect: '100-continue' }, (req) => {
      req.on('continue', () => {
        continued = true;
        req.end(v2.tgz);
      });
    });
    expect(asked.status).toBe(401);
    expect(continued).toBe(false);

    const nothing = await admin(edge, 'GET', '/admin/nothing');
    expect(nothing.status).toBe(404);
    expect(nothing.body.error).toContain('/admin/status');
    const wrong = await admin(edge, 'GET', '/admin/bundle');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    // Nothing changed.
    expect((await admin(edge, 'GET', '/admin/status')).body.model.version).toBe('1');
  });

  it('answers 409 to a rollback when there is no previous bundle', async () => {
    const r = await admin(edge, 'POST', '/admin/rollback');
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ error: expect.stringContaining('There is no previous bundle to roll back to') });
    expect(r.body.error).toContain('failure version 1');
  });

  it('push serves the new version at once; rollback goes back and forth; the admin log says who did what', async () => {
    const pushed = await admin(edge, 'POST', '/admin/bundle', v2.tgz);
    expect(pushed.status, pushed.text).toBe(200);
    expect(pushed.body).toEqual({ model: { name: 'failure', version: '2' }, previous: { name: 'failure', version: '1' } });
    expect(await served(edge)).toBe(2);
    expect((await callEdge(edge.port, 'GET', '/v2/models/failure', undefined, TOKEN)).body.versions).toEqual(['2']);

    const again = await admin(edge, 'POST', '/admin/bundle', v2.tgz, { 'Content-Type': 'application/octet-stream' });
    expect(again.body).toEqual({ model: { name: 'failure', version: '2' }, previous: { name: 'failure', version: '1' }, unchanged: true });

    const back = await admin(edge, 'POST', '/admin/rollback');
    expect(back.body).toEqual({ model: { name: 'failure', version: '1' }, previous: { name: 'failure', version: '2' } });
    expect(await served(edge)).toBe(1);
    const forth = await admin(edge, 'POST', '/admin/rollback');
    expect(forth.body).toEqual({ model: { name: 'failure', version: '2' }, previous: { name: 'failure', version: '1' } });
    expect(await served(edge)).toBe(2);

    const status = (await admin(edge, 'GET', '/admin/status')).body;
    expect(status.model).toMatchObject({ version: '2', bundleSha256: v2.manifestSha });
    expect(status.previous).toEqual({ name: 'failure', version: '1', bundleSha256: v1.manifestSha, installedAt: expect.any(String) });
    expect(status.counters.predictions).toBe(4 * rows.length);
    expect(bundleFolders(state)).toEqual([v1.manifestSha.slice(0, 16), v2.manifestSha.slice(0, 16)].sort());
    const record = JSON.parse(fs.readFileSync(path.join(state, 'bundles.json'), 'utf8'));
    expect(record).toMatchObject({ current: { sha256: v2.manifestSha }, previous: { sha256: v1.manifestSha } });

    const log = adminLines(edge);
    expect(log.map((l) => [l.action, l.ok])).toEqual([['rollback', false], ['push', true], ['push', true], ['rollback', true], ['rollback', true]]);
    for (const l of log) {
      expect(l.by).toBe(USER);
      expect(l.from).toMatch(/127\.0\.0\.1$/);
      expect(Date.parse(l.at)).toBeGreaterThan(0);
    }
    expect(log[1]).toMatchObject({ model: { name: 'failure', version: '2' }, previous: { name: 'failure', version: '1' } });
    expect(log[0]!.error).toContain('no previous bundle');
  });

  it('refuses tampered and unsafe bundles with the reason, writes nothing, and keeps serving', async () => {
    const entries = bundleEntries(v3.dir);
    const replace = (name: string, data: Buffer): TarEntry[] => entries.map((e) => (e.name === name ? { name, data } : e));
    const manifest = fs.readFileSync(path.join(v3.dir, 'manifest.json'));
    const edited = Buffer.from(manifest.toString('utf8').replace('"version": 3', '"version": 4'));
    expect(edited.equals(manifest)).toBe(false);
    const foreign = makeVersion(frame, [hgb(15, 0.2, 25)], 'binary', 'failure', 3, otherKey, '-foreign');
    const escape = path.join(tmp, `escaped-${process.pid}`);
    const cases: [string, Buffer, number, RegExp][] = [
      ['manifest edited', tarGz(replace('manifest.json', edited)), 400, new RegExp(`^manifest\\.sig does not verify with the workspace key pinned at install \\(${escapeRe(key.fingerprint)}\\): manifest\\.json was changed after it was signed`)],
      ['signed by another key', foreign.tgz, 400, new RegExp(`^manifest\\.sig does not verify with the workspace key pinned at install \\(${escapeRe(key.fingerprint)}\\); this bundle was signed by ${escapeRe(otherKey.fingerprint)}\\.`)],
      ['another key claimed in the bundle', tarGz(replace('workspace-key.pub.pem', Buffer.from(otherKey.publicPem))), 400, /^workspace-key\.pub\.pem does not match the bundle's manifest/],
      ['model.onnx swapped', tarGz(replace('model.onnx', Buffer.from(v1.bytes))), 400, /^model\.onnx does not match the bundle's manifest \(sha256 [0-9a-f]{64}, manifest says [0-9a-f]{64}\): the file was changed after the bundle was made/],
      ['unsigned', tarGz(entries.filter((e) => e.name !== 'manifest.sig')), 400, /^The uploaded bundle has no manifest\.sig: unsigned bundles are refused/],
      ['a signature of something else', tarGz(replace('manifest.sig', Buffer.from(signManifest(Buffer.from('other'), key)))), 400, /manifest\.json was changed after it was signed/],
      ['"../x"', tarGz([...entries, { name: '../x', data: Buffer.from('x') }]), 400, /^The uploaded bundle: the entry "\.\.\/x" goes up a folder with "\.\."/],
      ['"runtime/../../x"', tarGz([...entries, { name: 'runtime/../../x', data: Buffer.from('x') }]), 400, /the entry "runtime\/\.\.\/\.\.\/x" goes up a folder/],
      ['an absolute path', tarGz([...entries, { name: `${escape}/evil`, data: Buffer.from('x') }]), 400, /the entry ".*\/evil" has an absolute path/],
      ['a symbolic link', tarGz([...entries, { name: 'runtime/lib', type: '2', link: '/etc' }]), 400, /^The uploaded bundle: the entry "runtime\/lib" is a symbolic link; a bundle holds only regular files and folders\.$/],
      ['a hard link', tarGz([...entries, { name: 'model2.onnx', type: '1', link: 'model.onnx' }]), 400, /the entry "model2\.onnx" is a hard link/],
      ['a device', tarGz([...entries, { name: 'null', type: '3' }]), 400, /the entry "null" is a character device/],
      ['a name twice', tarGz([...entries, { name: 'model.onnx', data: Buffer.from(v1.bytes) }]), 400, /the entry "model\.onnx" is in the archive twice/],
      ['a file not in the manifest', tarGz([...entries, { name: 'extra.sh', data: Buffer.from('rm -rf /') }]), 400, /the entry "extra\.sh" is not listed in manifest\.json/],
      ['a listed file missing', tarGz(entries.filter((e) => e.name !== 'Dockerfile')), 400, /manifest\.json lists Dockerfile, but the bundle has no such file/],
      ['not gzip', Buffer.from('just some bytes, not a bundle'), 400, /^The uploaded bundle is not a \.tar\.gz bundle: it cannot be decompressed/],
      ['gzip of no tar', tarGzRaw(Buffer.from('x'.repeat(600))), 400, /The uploaded bundle is damaged|cut short/],
      ['empty', Buffer.alloc(0), 400, /cannot be decompressed|cut short/],
    ];
    for (const [what, body, status, message] of cases) {
      const r = await admin(edge, 'POST', '/admin/bundle', body);
      expect(r.status, `${what}: ${r.text}`).toBe(status);
      expect(Object.keys(r.body), what).toEqual(['error']);
      expect(r.body.error, what).toMatch(message);
      expect(r.body.error, what).not.toMatch(/\n\s+at /);
    }
    const wrongType = await admin(edge, 'POST', '/admin/bundle', v3.tgz, { 'Content-Type': 'application/json' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error).toContain('application/gzip');

    // Still version 2, nothing written beside the two bundles, nothing outside the state folder.
    expect(await served(edge)).toBe(2);
    expect((await admin(edge, 'GET', '/admin/status')).body.previous.version).toBe('1');
    expect(bundleFolders(state)).toEqual([v1.manifestSha.slice(0, 16), v2.manifestSha.slice(0, 16)].sort());
    for (const f of [path.join(state, 'x'), path.join(state, 'bundles', 'x'), path.join(tmp, 'x'), escape]) expect(fs.existsSync(f), f).toBe(false);
    const refusals = adminLines(edge).filter((l) => !l.ok && l.action === 'push');
    expect(refusals).toHaveLength(cases.length + 1);
    expect(refusals[1]!.error).toContain(otherKey.fingerprint);
  });

  it('swaps under load without failing a request: every answer is one of the two versions\'', async () => {
    let done = false;
    const statuses: number[] = [];
    const seen = new Map<string, number>();
    const worker = async () => {
      while (!done || statuses.length < 200) {
        const r = await callEdge(edge.port, 'POST', '/predict', rows, TOKEN);
        statuses.push(r.status);
        const a = r.status === 200 ? answerOf(r.body.predictions as Prediction[]) : r.text;
        seen.set(a, (seen.get(a) ?? 0) + 1);
      }
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    const ops: [string, Buffer | undefined, string][] = [
      ['/admin/rollback', undefined, '1'],
      ['/admin/rollback', undefined, '2'],
      ['/admin/bundle', v1.tgz, '1'],
      ['/admin/bundle', v2.tgz, '2'],
      ['/admin/rollback', undefined, '1'],
      ['/admin/bundle', v2.tgz, '2'],
      ['/admin/rollback', undefined, '1'],
      ['/admin/rollback', undefined, '2'],
    ];
    for (const [route, body, version] of ops) {
      const r = await admin(edge, 'POST', route, body);
      expect(r.status, r.text).toBe(200);
      expect(r.body.model.version).toBe(version);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    done = true;
    await load;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect([...seen.keys()].every((a) => a === answers.get(1) || a === answers.get(2)), 'every answer is version 1\'s or version 2\'s').toBe(true);
    expect(seen.get(answers.get(1)!), 'some answers came from version 1').toBeGreaterThan(0);
    expect(seen.get(answers.get(2)!), 'some answers came from version 2').toBeGreaterThan(0);
    expect(await served(edge)).toBe(2);

    // Monitoring counted every row once, under the version that answered it.
    const predictions = (await admin(edge, 'GET', '/admin/status')).body.counters.predictions as number;
    const m = (await admin(edge, 'GET', '/admin/monitoring?limit=10000')).body as Monitoring;
    expect(m.more).toBe(false);
    expect(totals(m.buckets).rows).toBe(predictions);
    expect(new Set(m.buckets.map((b) => b.version))).toEqual(new Set(['1', '2']));
    const byVersion = (v: string) => totals(m.buckets.filter((b) => b.version === v)).rows;
    expect(byVersion('1') + byVersion('2')).toBe(predictions);
    expect(byVersion('1')).toBe(rows.length * (seen.get(answers.get(1)!)! + 2));
  });
});

describe('edge admin API: restarts and the pinned key', () => {
  it('after a push a restart serves the pushed bundle; a restart with another --bundle serves that one', async () => {
    const state = stateDir('restart');
    const tgz = path.join(tmp, 'restart-v1.tar.gz');
    fs.writeFileSync(tgz, v1.tgz);
    let edge = await startEdge(tgz, [...TOKENS, '--state', state]);
    expect((await admin(edge, 'POST', '/admin/bundle', v2.tgz)).status).toBe(200);
    expect(await stopEdge(edge)).toBe(0);

    // Same --bundle: what was pushed since is served, and nothing is pinned again.
    edge = await startEdge(tgz, [...TOKENS, '--state', state]);
    expect(edge.lines.some((l) => 'key' in l)).toBe(false);
    expect(await served(edge)).toBe(2);
    let status = (await admin(edge, 'GET', '/admin/status')).body;
    expect([status.model.version, status.previous.version]).toEqual(['2', '1']);
    expect(await stopEdge(edge)).toBe(0);

    // Another --bundle (a folder this time): operations installed it, and it wins; what ran becomes previous.
    edge = await startEdge(v3.dir, [...TOKENS, '--state', state]);
    expect(await served(edge)).toBe(3);
    status = (await admin(edge, 'GET', '/admin/status')).body;
    expect([status.model.version, status.previous.version]).toEqual(['3', '2']);
    expect(status.model.bundleSha256).toBe(v3.manifestSha);
    const back = await admin(edge, 'POST', '/admin/rollback');
    expect(back.body).toEqual({ model: { name: 'failure', version: '2' }, previous: { name: 'failure', version: '3' } });
    expect(await served(edge)).toBe(2);
    expect(await stopEdge(edge)).toBe(0);

    // The folder bundle is the --bundle of the last start: the rollback is kept.
    edge = await startEdge(v3.dir, [...TOKENS, '--state', state]);
    expect(await served(edge)).toBe(2);
    expect(await stopEdge(edge)).toBe(0);
  });

  it('verifies every start against the pinned key; --key pins another one', async () => {
    const state = stateDir('keys');
    const foreign = makeVersion(frame, [hgb(6, 0.3, 40)], 'binary', 'failure', 2, otherKey, '-foreign');
    const edge = await startEdge(v1.dir, [...TOKENS, '--state', state]);
    const code = await stopEdge(edge);
    expect(code, edge.stderr()).toBe(0);
    // The bundle's own key does not replace the pinned one.
    const refused = (await startEdge(foreign.dir, [...TOKENS, '--state', state]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`manifest.sig does not verify with the workspace key pinned at install (${key.fingerprint}); this bundle was signed by ${otherKey.fingerprint}.`);
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    // --key (here through MILLWRIGHT_KEY) pins the other workspace's key explicitly.
    const pem = path.join(tmp, 'other.pub.pem');
    fs.writeFileSync(pem, otherKey.publicPem);
    const other = await startEdge(foreign.dir, [...TOKENS, '--state', state], { MILLWRIGHT_KEY: pem });
    expect(other.lines[0]).toMatchObject({ key: { fingerprint: otherKey.fingerprint, source: 'option' } });
    expect((await admin(other, 'GET', '/admin/status')).body.keyFingerprint).toBe(otherKey.fingerprint);
    const push = await admin(other, 'POST', '/admin/bundle', v3.tgz);
    expect(push.status).toBe(400);
    expect(push.body.error).toContain(`this bundle was signed by ${key.fingerprint}`);
    expect(await stopEdge(other)).toBe(0);
    expect(fs.readFileSync(path.join(state, 'pinned-key.pem'), 'utf8')).toBe(otherKey.publicPem);

    const unsignedDir = path.join(tmp, 'unsigned');
    fs.cpSync(v1.dir, unsignedDir, { recursive: true });
    fs.rmSync(path.join(unsignedDir, 'manifest.sig'));
    const unsigned = (await startEdge(unsignedDir, [...TOKENS, '--state', stateDir('unsigned')]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('has no manifest.sig: unsigned bundles are refused');
  });

  it('answers 413 to a bundle over --max-bundle, and refuses one that unpacks to more than 4 times it', async () => {
    const edge = await startEdge(v1.dir, [...TOKENS, '--state', stateDir('limits'), '--max-bundle', '64k']);
    const big = Buffer.concat([v2.tgz, Buffer.alloc(64 * 1024)]);
    const r = await admin(edge, 'POST', '/admin/bundle', big);
    expect(r.status).toBe(413);
    expect(r.body.error).toBe('The request body is larger than this endpoint takes (64 KB); start the endpoint with a larger --max-bundle.');
    let continued = false;
    const asked = await rawPost(edge.port, '/admin/bundle', { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/gzip', 'Content-Length': big.length, Expect: '100-continue' }, (req) => {
      req.on('continue', () => {
        continued = true;
        req.end(big);
      });
    });
    expect(asked.status).toBe(413);
    expect(continued).toBe(false);
    const bomb = tarGz([{ name: 'manifest.json', data: Buffer.alloc(300 * 1024, 0x20) }]);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const b = await admin(edge, 'POST', '/admin/bundle', bomb);
    expect(b.status).toBe(400);
    expect(b.body.error).toBe('The uploaded bundle unpacks to more than 256 KB; refusing it (the limit is 4 times --max-bundle).');
    expect(await served(edge)).toBe(1);
    expect(await stopEdge(edge)).toBe(0);
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Bytes gzipped as they are, for archives that are not tar. */
const tarGzRaw = (bytes: Buffer) => zlib.gzipSync(bytes);

// ---------------------------------------------------------------- monitoring

/** The app's own types of the monitoring page (client.ts); a runtime that sends state ids and latency bins, as this one does. */
type Bucket = EdgeBucket & { latencyMs: Required<EdgeBucket['latencyMs']> };
type Event = EdgeEvent;
/** The flagged rows' events, without the context rows the endpoint sends around them (edge-shadow.test.ts tests those). */
const flaggedOnly = <E extends Event>(es: E[]) => es.filter((e) => e.flagged !== false);
type Monitoring = Omit<MonitoringPage, 'buckets'> & Required<Pick<MonitoringPage, 'stateId' | 'run'>> & { buckets: Bucket[] };

/** Per numeric input, the sum of the finite values in each bin as the edge sees them (float32), counted here from the rows sent. */
function sumBins(sent: Record<string, unknown>[], profile: Profile): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const p of profile.inputs) {
    if (p.kind !== 'numeric') continue;
    const sums = new Array<number>(p.counts.length).fill(0);
    for (const row of sent) {
      const x = numeric(row[p.name]);
      if (x !== null && Number.isFinite(x)) sums[p.edges.filter((e) => e < x).length]! += Math.fround(x);
    }
    out[p.name] = sums;
  }
  return out;
}

/** The buckets' sums of each numeric input, added up; and that each bucket's latency histogram gives its own count, p50 and p99. */
function bucketSums(buckets: Bucket[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const b of buckets) {
    expect(b.latencyMs.bins.reduce((n, [, k]) => n + k, 0)).toBe(b.latencyMs.count);
    expect([latencyQuantile(b.latencyMs.bins, 0.5), latencyQuantile(b.latencyMs.bins, 0.99)]).toEqual([b.latencyMs.p50, b.latencyMs.p99]);
    for (const [name, f] of Object.entries(b.features)) {
      if (!f.sums) continue;
      expect(f.sums).toHaveLength(f.counts.length);
      const into = (out[name] ??= f.sums.map(() => 0));
      f.sums.forEach((x, i) => (into[i]! += x));
    }
  }
  return out;
}

function expectSums(buckets: Bucket[], sent: Record<string, unknown>[], profile: Profile) {
  const want = sumBins(sent, profile);
  const got = bucketSums(buckets);
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [name, sums] of Object.entries(want)) sums.forEach((x, i) => expect(Math.abs(got[name]![i]! - x), `${name} bin ${i}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x))));
}

/** What the buckets add up to. */
function totals(buckets: Bucket[]) {
  const t = { requests: 0, errors: 0, rows: 0, anomalies: 0, latency: 0, predictions: {} as Record<string, number>, features: {} as Record<string, { counts: number[]; missing: number }> };
  for (const b of buckets) {
    t.requests += b.requests;
    t.errors += b.errors;
    t.rows += b.rows;
    t.anomalies += b.anomalies;
    t.latency += b.latencyMs.count;
    for (const [label, n] of Object.entries(b.predictions)) t.predictions[label] = (t.predictions[label] ?? 0) + n;
    for (const [name, f] of Object.entries(b.features)) {
      const into = (t.features[name] ??= { counts: f.counts.map(() => 0), missing: 0 });
      f.counts.forEach((n, i) => (into.counts[i]! += n));
      into.missing += f.missing;
    }
  }
  return t;
}

describe('edge admin API: monitoring', () => {
  let scoring: Frame;
  let edge: Edge;
  let tgz: string;
  let state: string;
  /** Rows sent and not yet read, with what the endpoint answered. */
  let sent: Record<string, unknown>[] = [];
  let flagged: { time: string; source: string; score: number }[] = [];
  const labels: Record<string, number> = {};
  const base = () => scoring.rows - 150;
  const iso = (i: number) => new Date((scoring.columns.get('Time') as { values: Float64Array }).values[i]!).toISOString();
  /** Rows [from, to) of the last 150 of the frame (the odd ones among them) as one source's stream, with their own time. */
  const stream = (from: number, to: number, source: string) => objects(scoring, unusual.sig, base() + from, base() + to, (i) => ({ source, Time: iso(i) }));

  async function send(batch: Record<string, unknown>[]) {
    const r = await callEdge(edge.port, 'POST', '/predict', batch, TOKEN);
    expect(r.status, r.text).toBe(200);
    const preds = r.body.predictions as Prediction[];
    preds.forEach((p, i) => {
      labels[p.prediction as string] = (labels[p.prediction as string] ?? 0) + 1;
      if (p.anomaly) flagged.push({ time: batch[i]!.Time as string, source: batch[i]!.source as string, score: p.score! });
    });
    sent.push(...batch);
  }

  const read = async (cursor?: string, limit?: number): Promise<Monitoring> => {
    const q = new URLSearchParams();
    if (cursor !== undefined) q.set('cursor', cursor);
    if (limit !== undefined) q.set('limit', String(limit));
    const r = await admin(edge, 'GET', `/admin/monitoring${q.size ? `?${q}` : ''}`);
    expect(r.status, r.text).toBe(200);
    return r.body as Monitoring;
  };

  /** The buckets and events since `cursor` hold exactly the rows sent since then, counted here independently. */
  function expectExactly(m: { buckets: Bucket[]; events: Event[] }, requests: number, errors: number) {
    const t = totals(m.buckets);
    expect(t.rows).toBe(sent.length);
    expect(t.features).toEqual(countBins(sent, unusual.profile));
    expectSums(m.buckets, sent, unusual.profile);
    expect(t.predictions).toEqual(Object.fromEntries(Object.entries(labels).filter(([, n]) => n > 0)));
    expect(t.anomalies).toBe(flagged.length);
    expect(t.requests).toBe(requests);
    expect(t.errors).toBe(errors);
    expect(t.latency).toBe(requests - errors);
    expect(flaggedOnly(m.events).map((e) => [e.time, e.source, e.score])).toEqual(flagged.map((f) => [f.time, f.source, f.score]));
    const seqs = m.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  }

  function forget() {
    sent = [];
    flagged = [];
    for (const k of Object.keys(labels)) delete labels[k];
  }

  beforeAll(async () => {
    scoring = withOddRows(plantFrame(700));
    expect(unusual.sig.historyRows, 'a model with window features').toBeGreaterThan(5);
    tgz = path.join(tmp, 'unusual.tar.gz');
    fs.writeFileSync(tgz, unusual.tgz);
    state = stateDir('monitoring');
    edge = await startEdge(tgz, [...TOKENS, '--state', state]);
  });
  afterAll(async () => {
    if (isRunning(edge)) await stopEdge(edge);
  });

  let cursor = '';

  it('counts every input over the profile\'s bins as counted here from the rows sent, once per row; reading with the cursor never repeats or skips', async () => {
    const empty = await read();
    expect(empty).toEqual({ stateId: expect.stringMatching(/^[0-9a-f]{32}$/), run: { id: expect.stringMatching(/^[0-9a-f]{16}$/), from: '0.0' }, cursor: '0.0', more: false, model: { name: 'unusual', version: '1' }, counters: { requests: 0, errors: 0, predictions: {}, anomalies: 0 }, buckets: [], events: [], dropped: { events: 0, anomalies: 0 } });

    for (const [a, b] of [[0, 20], [20, 40], [40, 60]]) await send(stream(a!, b!, 'line-1'));
    await send(stream(105, 150, 'line-2'));
    const bad = await callEdge(edge.port, 'POST', '/predict', { Inlet: 'hot' }, TOKEN);
    expect(bad.status).toBe(400);
    expect(flagged.length, 'some rows are flagged').toBeGreaterThan(0);
    expect(sent.some((r) => r.Grade === 'Z') && sent.some((r) => r.Inlet === null), 'unseen categories and missing values are among the rows').toBe(true);

    const first = await read();
    expect(first.buckets.length).toBeGreaterThanOrEqual(1);
    expectExactly(first, 5, 1);
    for (const b of first.buckets) {
      expect(b).toMatchObject({ name: 'unusual', version: '1' });
      expect(Date.parse(b.from)).toBeLessThanOrEqual(Date.parse(b.to));
      expect(b.latencyMs.p50!).toBeGreaterThan(0);
      expect(b.latencyMs.p99!).toBeGreaterThanOrEqual(b.latencyMs.p50!);
    }
    expect(first.cursor).toBe(`${first.buckets.at(-1)!.seq}.${first.events.at(-1)!.seq}`);
    expect(first.more).toBe(false);
    expect(first.counters).toEqual({ requests: 1 + 5, errors: 1, predictions: labels, anomalies: flagged.length });
    // Each profiled input is counted, and no more rows than were sent (a window model is fed history rows too).
    expect(Object.keys(totals(first.buckets).features).sort()).toEqual(unusual.profile.inputs.map((p) => p.name).sort());

    // Nothing new: nothing again.
    const again = await read(first.cursor);
    expect(again).toMatchObject({ cursor: first.cursor, more: false, buckets: [], events: [] });

    // New rows come once, and reading from an older cursor gives the same again (nothing is lost by a reader that did not keep its answer).
    forget();
    await send(stream(60, 90, 'line-1'));
    const next = await read(first.cursor);
    expectExactly(next, 1, 0);
    expect(next.buckets[0]!.seq).toBeGreaterThan(first.buckets.at(-1)!.seq);
    expect(await read(first.cursor)).toMatchObject({ cursor: next.cursor, buckets: next.buckets, events: next.events });

    // Page by page from the start: the same buckets and events, each once.
    const pages: Monitoring[] = [];
    let c: string | undefined;
    do {
      pages.push(await read(c, 1));
      c = pages.at(-1)!.cursor;
    } while (pages.at(-1)!.more);
    expect(pages.flatMap((p) => p.buckets)).toEqual([...first.buckets, ...next.buckets]);
    expect(pages.flatMap((p) => p.events)).toEqual([...first.events, ...next.events]);
    expect(pages.at(-1)!.cursor).toBe(next.cursor);
    cursor = next.cursor;

    for (const wrong of ['abc', '1', '1.2.3', '-1.0']) {
      const r = await admin(edge, 'GET', `/admin/monitoring?cursor=${encodeURIComponent(wrong)}`);
      expect(r.status, wrong).toBe(400);
      expect(r.body.error).toContain('"cursor"');
    }
    expect((await admin(edge, 'GET', '/admin/monitoring?limit=0')).status).toBe(400);
  });

  it('leaves a deploy\'s smoke test (X-Millwright-Check: smoke) out of the buckets and anomaly events, but counts it in /metrics', async () => {
    const before = await read(cursor);
    expect(before.buckets).toEqual([]);
    forget();
    // The smoke test's rows, flagged ones among them, sent as the deploy checks send them.
    const smoke = stream(0, 60, 'line-3');
    const answers = await new EndpointClient(`http://127.0.0.1:${edge.port}`, { token: TOKEN }).predict(smoke, SMOKE_HEADERS);
    const smokeFlagged = answers.filter((p) => p.anomaly).length;
    expect(smokeFlagged, 'some smoke rows are flagged').toBeGreaterThan(0);
    // Live rows without it are counted as ever.
    await send(stream(105, 150, 'line-1'));
    const m = await read(cursor);
    expectExactly(m, 1, 0);
    expect(m.events.some((e) => e.source === 'line-3')).toBe(false);
    // /metrics (and the counters beside the buckets) count both requests (and the read before them) and every answer.
    expect(m.counters.requests - before.counters.requests).toBe(3);
    expect(m.counters.anomalies - before.counters.anomalies).toBe(flagged.length + smokeFlagged);
    const answered = (c: Monitoring['counters']) => Object.values(c.predictions).reduce((a, b) => a + b, 0);
    expect(answered(m.counters) - answered(before.counters)).toBe(smoke.length + sent.length);
    const metrics = await callEdge(edge.port, 'GET', '/metrics', undefined, TOKEN);
    expect(metrics.text).toMatch(new RegExp(`^millwright_anomalies_total ${m.counters.anomalies}$`, 'm'));
    cursor = m.cursor;
  });

  it('a restart loses nothing not yet read: after SIGTERM, and after SIGKILL once the second\'s save is done', async () => {
    forget();
    await send(stream(90, 120, 'line-1'));
    const before = await read(cursor);
    expect(await stopEdge(edge)).toBe(0);
    edge = await startEdge(tgz, [...TOKENS, '--state', state]);
    // The same state folder (its id kept, also in /admin/status), a new run starting at the numbers on disk.
    const restarted = await read(before.cursor);
    expect(restarted.stateId).toBe(before.stateId);
    expect((await admin(edge, 'GET', '/admin/status')).body.stateId).toBe(before.stateId);
    expect(restarted.run.id).not.toBe(before.run.id);
    expect(restarted.run.from).toBe(before.cursor);
    // Another folder: another id.
    const other = await startEdge(tgz, [...TOKENS, '--state', stateDir('monitoring-other')]);
    expect((await admin(other, 'GET', '/admin/monitoring')).body.stateId).not.toBe(before.stateId);
    await stopEdge(other);
    await send(stream(120, 150, 'line-1'));
    await send(stream(45, 80, 'line-2'));
    await new Promise((resolve) => setTimeout(resolve, 2200));
    edge.proc.kill('SIGKILL');
    await edge.exit;
    edge = await startEdge(tgz, [...TOKENS, '--state', state]);
    const after = await read(cursor);
    expectExactly(after, 3, 0);
    const [b, e] = cursor.split('.').map(Number);
    expect(after.buckets.every((x) => x.seq > b!)).toBe(true);
    expect(after.events.every((x) => x.seq > e!)).toBe(true);
    expect(after.events.length).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(state, 'buckets.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(after.buckets.length + 2);
  });

  it('a read hands out only numbers already on disk, so a crash right after it gives none of them again', async () => {
    const onDisk = (file: string) => new Set(fs.readFileSync(path.join(state, file), 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { seq: number }).seq));
    let c = (await read(cursor)).cursor;
    forget();
    const got: Monitoring[] = [];
    // Rows arrive from four sources while the endpoint is read: records are added while a read saves.
    for (let round = 0; round < 4; round++) {
      const sending = Promise.all([0, 1, 2, 3].map((k) => send(stream(k * 30, k * 30 + 30, `race-${round}-${k}`))));
      for (let i = 0; i < 4; i++) {
        const m = await read(c);
        const events = onDisk('events.jsonl');
        const buckets = onDisk('buckets.jsonl');
        expect(m.events.filter((e) => !events.has(e.seq)).map((e) => e.seq), 'events handed out before they were saved').toEqual([]);
        expect(m.buckets.filter((b) => !buckets.has(b.seq)).map((b) => b.seq), 'buckets handed out before they were saved').toEqual([]);
        got.push(m);
        c = m.cursor;
      }
      await sending;
    }
    got.push(await read(c));
    c = got.at(-1)!.cursor;
    // Killed right after a read: after the restart the next numbers are new ones.
    edge.proc.kill('SIGKILL');
    await edge.exit;
    edge = await startEdge(tgz, [...TOKENS, '--state', state]);
    const events = flaggedOnly(got.flatMap((m) => m.events));
    const t = totals(got.flatMap((m) => m.buckets));
    expect(t.rows).toBe(sent.length);
    expect(t.requests).toBe(16);
    expect(t.anomalies).toBe(flagged.length);
    const key = (x: { time: string | number | null; source: string | null; score: number | null }) => `${x.time} ${x.source} ${x.score}`;
    expect(events.map(key).sort()).toEqual(flagged.map(key).sort());
    forget();
    await send(stream(0, 60, 'race-after'));
    const after = await read(c);
    expect(flaggedOnly(after.events).length).toBe(flagged.length);
    const [b, e] = c.split('.').map(Number);
    expect(after.events.every((x) => x.seq > e!)).toBe(true);
    expect(after.buckets.every((x) => x.seq > b!)).toBe(true);
    cursor = after.cursor;
  });
});

describe('edge admin API: bundles the app builds', () => {
  let core: Core;
  const call = coreCaller(() => core);

  beforeAll(async () => {
    core = createCore({ workspaceDir: path.join(tmp, 'ws') });
    await pumpsModel(core, call, writePumpsCsv(tmp), ['hgb', 'logistic']);
  }, 180_000);
  afterAll(async () => {
    await core?.close();
  });

  it('starts from buildBundle\'s .tar.gz, takes the next version pushed, and counts over the profile the app wrote', async () => {
    const one = await call('models.exportBundle', { model: 'P-101@1', out: path.join(tmp, 'p101-1.tar.gz') });
    const two = await call('models.exportBundle', { model: 'P-101@2', out: path.join(tmp, 'p101-2.tar.gz') });
    const state = stateDir('app-bundles');
    const edge = await startEdge(one.file, [...TOKENS, '--state', state]);
    expect(edge.lines[0]).toMatchObject({ key: { fingerprint: one.fingerprint, source: 'bundle' } });
    const status = (await admin(edge, 'GET', '/admin/status')).body;
    expect(status).toMatchObject({ model: { name: 'P-101', version: '1', task: 'binary' }, keyFingerprint: one.fingerprint });
    const installed = path.join(state, 'bundles', status.model.bundleSha256.slice(0, 16));
    const manifestBytes = fs.readFileSync(path.join(installed, 'manifest.json'));
    expect(sha256(manifestBytes)).toBe(status.model.bundleSha256);
    expect(fs.readdirSync(path.join(installed, 'runtime', 'lib')).sort()).toContain('admin.js');

    const pushed = await admin(edge, 'POST', '/admin/bundle', fs.readFileSync(two.file));
    expect(pushed.body).toEqual({ model: { name: 'P-101', version: '2' }, previous: { name: 'P-101', version: '1' } });

    const sent = Array.from({ length: 60 }, (_, i) => ({ Line: i % 7 === 0 ? null : ['A', 'B', 'C', 'D'][i % 4], Flow: i % 11 === 0 ? '' : (i * 37) % 101, Vibration: ((i * 53) % 89) / 10 }));
    const r = await callEdge(edge.port, 'POST', '/predict', sent, TOKEN);
    expect(r.status, r.text).toBe(200);
    const m = (await admin(edge, 'GET', '/admin/monitoring')).body as Monitoring;
    const current = (await admin(edge, 'GET', '/admin/status')).body.model.bundleSha256 as string;
    const manifest = JSON.parse(fs.readFileSync(path.join(state, 'bundles', current.slice(0, 16), 'manifest.json'), 'utf8')) as { profile: Profile };
    expect(manifest.profile.inputs.map((p) => p.name).sort()).toEqual(['Flow', 'Line', 'Vibration']);
    const mine = m.buckets.filter((b) => b.version === '2');
    expect(totals(mine).rows).toBe(60);
    expect(totals(mine).features).toEqual(countBins(sent, manifest.profile));
    expectSums(mine, sent, manifest.profile);
    expect(await stopEdge(edge)).toBe(0);
  }, 60_000);
});
