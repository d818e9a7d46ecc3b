/**
 * Soak (issue 11, point 5): the edge runtime as a child process under a
 * steady /predict load from keep-alive clients, with a hot swap (a push of
 * the other signed version through /admin/bundle) every minute, alternating
 * two versions. No request may fail, and the runtime's resident memory
 * (VmRSS of the child, from /proc) must stay flat: its floor (the 10th
 * percentile) over the last stretch at most 10 % above its floor over a
 * stretch of the same length after the warm-up (both versions loaded once).
 * Figures go to test-results/reliability/soak.json.
 *
 * Why the floor: V8 lets the heap grow for minutes and then gives it back
 * in one major collection, so RSS is a saw tooth. Runs with a swap every
 * 20 s went 117 → 127 MB over three minutes and back to 117 MB at once; a
 * median over the last 30 s said +9 % or 0 % depending on where the tooth
 * fell. A leak raises the floor; the tooth does not. The median and the
 * peak are reported beside it.
 *
 * MILLWRIGHT_RELIABILITY=full: 10 minutes, a swap every 60 s, floor growth
 * under 10 %. The short version (CI): 45 s, a swap every 10 s, and only a
 * loose bound on memory (under 50 %), as 45 s says little about a leak but
 * much about a swap that fails a request.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, onnxSignature, type OnnxSignature } from '../services/onnx/export';
import { plantFrame, settings, sliceFrame, train } from '../services/onnx/parity-harness';
import type { Candidate } from '../services/training/automl';
import type { Frame } from '../services/training/frame';
import { bundleEntries, callEdge, isRunning, killAll, NO_TIME, objects, signingKey, startEdge, stopEdge, tarGz, writeSignedBundle, type Edge, type SigningKey } from '../test-support/edge-child';
import { Load, rssMb, sleep } from './support/load';

const FULL = process.env.MILLWRIGHT_RELIABILITY === 'full';
/**
 * The schedule, in seconds from the start of the load: two quick swaps in
 * the warm-up (so both versions have been loaded before memory is measured),
 * the baseline stretch (`stretch` seconds from `baseline`), then a swap
 * every `every` seconds until `total`; the end stretch is the last
 * `stretch` seconds.
 */
const PLAN = FULL
  ? { total: 600, warmupSwaps: [10, 20], baseline: 30, every: 60, firstSwap: 60, stretch: 180, sampleMs: 2000, maxGrowth: 0.1 }
  : { total: 45, warmupSwaps: [3, 6], baseline: 8, every: 10, firstSwap: 15, stretch: 10, sampleMs: 500, maxGrowth: 0.5 };
const CLIENTS = 4;
const RATE = 250;
const ROWS = 20;
const TOKEN = 'soak-predict-token-0123456789';
const ADMIN = 'soak-admin-token-0123456789ab';
const FIGURES = path.resolve(__dirname, '../../test-results/reliability/soak.json');

const hgb = (maxIter: number, learningRate: number, minSamplesLeaf: number): Candidate => ({ algorithm: 'hgb', params: { maxIter, learningRate, maxLeafNodes: 15, minSamplesLeaf, l2: 0, balanced: false } });

let tmp: string;
let key: SigningKey;
let sig: OnnxSignature;
const tgz = new Map<number, Buffer>();
let predictBody: Buffer;

function bundle(f: Frame, candidate: Candidate, version: number): Buffer {
  const p = train(f, settings('binary', NO_TIME), [candidate]);
  const bytes = exportOnnx(p, { modelName: 'failure', modelVersion: version, appVersion: '0.1.0-test' });
  sig = onnxSignature(p);
  const dir = path.join(tmp, `failure-v${version}`);
  writeSignedBundle(dir, { format: 1, name: 'failure', version, createdAt: '2026-01-01T00:00:00.000Z', appVersion: '0.1.0-test', signature: sig, timeColumn: null }, { 'model.onnx': bytes }, key);
  return tarGz(bundleEntries(dir));
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-soak-'));
  key = signingKey();
  const frame = plantFrame(400);
  tgz.set(1, bundle(frame, hgb(30, 0.1, 10), 1));
  tgz.set(2, bundle(frame, hgb(8, 0.3, 30), 2));
  predictBody = Buffer.from(JSON.stringify(objects(sliceFrame(frame, 0, ROWS), sig)));
}, 120_000);

afterAll(() => {
  killAll();
  if (!process.env.KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};
const median = (xs: number[]) => quantile(xs, 0.5);
const mb = (x: number) => Math.round(x * 10) / 10;

describe('edge runtime soak: steady load with hot swaps', () => {
  let edge: Edge;

  beforeAll(async () => {
    const first = path.join(tmp, 'v1.tar.gz');
    fs.writeFileSync(first, tgz.get(1)!);
    edge = await startEdge(first, ['--token', TOKEN, '--admin-token', ADMIN, '--state', path.join(tmp, 'state')]);
  });
  afterAll(async () => {
    if (edge && isRunning(edge)) await stopEdge(edge);
  });

  it(`serves ${PLAN.total} s of steady load with a hot swap every ${PLAN.every} s: no failed request, memory flat`, async () => {
    const pid = edge.proc.pid!;
    const load = new Load({
      port: edge.port,
      clients: CLIENTS,
      ratePerSecond: RATE,
      maxMs: (PLAN.total + 120) * 1000,
      request: () => ({ method: 'POST', path: '/predict', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: predictBody }),
      check: (b) => {
        const p = (b as { predictions?: { prediction?: unknown }[] }).predictions;
        return p && p.length === ROWS && p.every((x) => x.prediction === 'yes' || x.prediction === 'no') ? null : `answer ${JSON.stringify(b).slice(0, 200)}`;
      },
    });
    const t0 = Date.now();
    const at = () => (Date.now() - t0) / 1000;

    // Memory, sampled all along.
    const samples: { t: number; mb: number }[] = [];
    const sampler = setInterval(() => {
      const m = rssMb(pid);
      if (m !== null) samples.push({ t: at(), mb: m });
    }, PLAN.sampleMs);

    // The swaps: alternate versions 2 and 1, each push answered 200 with the version pushed.
    const swapTimes = [...PLAN.warmupSwaps];
    for (let s = PLAN.firstSwap; s < PLAN.total; s += PLAN.every) swapTimes.push(s);
    const swaps: { at: number; version: string; ms: number; status: number }[] = [];
    let served = 1;
    for (const when of swapTimes) {
      const wait = when * 1000 - (Date.now() - t0);
      if (wait > 0) await sleep(wait);
      const version = served === 1 ? 2 : 1;
      const started = Date.now();
      const r = await callEdge(edge.port, 'POST', '/admin/bundle', tgz.get(version)!, ADMIN, { 'X-Millwright-User': 'soak test' });
      swaps.push({ at: Math.round(at()), version: String(r.body?.model?.version), ms: Date.now() - started, status: r.status });
      expect(r.status, r.text).toBe(200);
      expect(r.body.model.version).toBe(String(version));
      served = version;
    }
    const rest = PLAN.total * 1000 - (Date.now() - t0);
    if (rest > 0) await sleep(rest);
    const figures = await load.stop();
    clearInterval(sampler);

    const inStretch = (from: number, to: number) => samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.mb);
    const first = inStretch(PLAN.baseline, PLAN.baseline + PLAN.stretch);
    const last = inStretch(PLAN.total - PLAN.stretch, PLAN.total + 5);
    const rssStart = quantile(first, 0.1);
    const rssEnd = quantile(last, 0.1);
    const growth = (rssEnd - rssStart) / rssStart;
    const medianGrowth = (median(last) - median(first)) / median(first);
    const peakGrowth = (Math.max(...last) - rssStart) / rssStart;
    const out = {
      area: 'soak',
      seconds: Math.round(figures.seconds),
      swaps: swaps.length,
      requests: figures.requests,
      failed: figures.failed,
      rssStartMb: mb(rssStart),
      rssEndMb: mb(rssEnd),
      rssMaxMb: mb(Math.max(...samples.map((s) => s.mb))),
      rssGrowth: Math.round(growth * 1000) / 1000,
      rssMedianGrowth: Math.round(medianGrowth * 1000) / 1000,
      rssPeakGrowth: Math.round(peakGrowth * 1000) / 1000,
      stretchSeconds: PLAN.stretch,
      maxGrowth: PLAN.maxGrowth,
      ratePerSecond: Math.round(figures.requests / figures.seconds),
      rowsPerRequest: ROWS,
      latencyMs: figures.latencyMs,
      swapMs: { max: Math.max(...swaps.map((s) => s.ms)), median: median(swaps.map((s) => s.ms)) },
      rssMb: samples.filter((_, i) => i % Math.max(1, Math.round(samples.length / 30)) === 0).map((s) => [Math.round(s.t), mb(s.mb)]),
      mode: FULL ? 'full' : 'short',
    };
    fs.mkdirSync(path.dirname(FIGURES), { recursive: true });
    fs.writeFileSync(FIGURES, `${JSON.stringify(out, null, 2)}\n`);
    console.log(JSON.stringify(out));

    expect(figures.failures, 'failed requests').toEqual([]);
    expect(figures.failed).toBe(0);
    expect(figures.requests).toBeGreaterThan(PLAN.total * 20);
    expect(swaps.every((s) => s.status === 200)).toBe(true);
    expect(Number.isFinite(growth), `RSS samples: ${samples.length}`).toBe(true);
    expect(growth, `RSS floor ${mb(rssStart)} MB after the warm-up, ${mb(rssEnd)} MB at the end`).toBeLessThan(PLAN.maxGrowth);
    // Only the bundle served and the one before it are kept on disk, however many swaps.
    expect(fs.readdirSync(path.join(tmp, 'state', 'bundles'))).toHaveLength(2);
    expect(isRunning(edge)).toBe(true);
    expect(await stopEdge(edge)).toBe(0);
  }, (PLAN.total + 180) * 1000);
});
