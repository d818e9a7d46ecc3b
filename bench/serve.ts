/**
 * Serving benchmark (issue 7): how many single-row predictions per second
 * does the edge endpoint answer over loopback, and how fast, beside a bare
 * Node http server answering a constant JSON, loaded the same way in the same
 * run on the same machine?
 *
 *   1. Trains a 300-tree gradient-boosting model (31 leaves, learning rate
 *      0.1, no early stopping) on 20,000 generated rows × 20 numeric inputs,
 *      through the app (import job, model version) and exports its signed
 *      bundle with `models.exportBundle`, as operations would get it.
 *   2. Starts, each as its own child process: the endpoint from the bundle's
 *      own runtime/server.js, the same with `--engine main` (ONNX Runtime on
 *      the event loop's thread instead of a worker thread), and a bare
 *      node:http server that reads the body and answers a constant JSON of
 *      the same size as a /predict answer; and the floor (bench/lib/floor-server.cjs):
 *      node:http, JSON.parse and the runtime's own ONNX Runtime engine on the
 *      same model, with none of the endpoint's checks, metrics or monitoring,
 *      the most any endpoint serving this model could answer here.
 *   3. Loads them from a third child process with autocannon: the bare
 *      server, POST /predict with one row (both engines), POST /v2/models/{name}/infer with
 *      one row (20 FP32 tensors of shape [1]), each at full speed with the
 *      number of connections that gave the most requests per second in a
 *      short sweep; then /predict at 80% of each engine's own full rate (autocannon
 *      overallRate) for the latency there. Rounds interleave the targets;
 *      figures are medians over the rounds.
 *
 * Latency percentiles are exact, from every response's time as autocannon
 * reports it (its own histogram counts whole milliseconds).
 * Targets: /predict and v2 infer ≥ 60% of the bare server's requests per
 * second; p99 < 5 ms at 80% of /predict's full rate.
 *
 *   npm run bench serve
 *   BENCH_ROUNDS=5 BENCH_SECONDS=5 npx tsx bench/serve.ts
 *   BENCH_SERVE_CACHE=/tmp/serve-cache npx tsx bench/serve.ts   (trains once, then reuses the bundle)
 */
import { spawn, spawnSync, fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TrainSettings } from '../shared/training';
import { createCore, type Core } from '../electron/services/compose';
import { trainAutoml, type Candidate } from '../electron/services/training/automl';
import { loadFrame, type Frame } from '../electron/services/training/frame';
import { recordModelVersion } from '../electron/services/training/models';
import { buildReport } from '../electron/services/training/report';
import { envInt, log, median, rng, round, sensorRow, sensorValue } from './lib/common';

const ROWS = 20_000;
const INPUTS = 20;
const TREES = 300;
const ROUNDS = envInt('BENCH_ROUNDS', 3, 1, 20);
const SECONDS = envInt('BENCH_SECONDS', 4, 1, 60);
const SWEEP = [16, 32, 64, 128];
/** Connections tried for the 80% run, fewest first: the first that carries the rate is used. */
const AT80_CONNECTIONS = [16, 32, 64];
const TOKEN = 'bench-serve-token-0123456789';
const ADMIN_TOKEN = 'bench-serve-admin-0123456789';
const NAMES = Array.from({ length: INPUTS }, (_, j) => `s${String(j + 1).padStart(2, '0')}`);
const TARGETS = { ratioMin: 0.6, p99MaxMs: 5 };

// ---------------------------------------------------------------- the load generator (a child process)

interface Load {
  url: string;
  connections: number;
  seconds: number;
  /** Requests sent in turn by each connection. */
  requests: { method: 'POST'; path: string; body: string; headers: Record<string, string> }[];
  /** Requests per second over all connections; full speed when absent. */
  overallRate?: number;
}

interface LoadResult {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** The part of autocannon's programmatic API used here (the package has no type declarations). */
type Autocannon = (
  opts: Record<string, unknown>,
  done: (err: unknown, result: { requests: { total: number }; non2xx: number; errors: number; timeouts: number }) => void,
) => { on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void };

/** Runs in the load generator's process: one autocannon run per message from the parent. */
function loadWorker(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon = require('autocannon') as Autocannon;
  process.on('message', (load: Load) => {
    let times = new Float64Array(1 << 16);
    let n = 0;
    const instance = autocannon(
      { url: load.url, connections: load.connections, duration: load.seconds, requests: load.requests, overallRate: load.overallRate, pipelining: 1 },
      (err, result) => {
        if (err) {
          process.send!({ error: String(err) });
          return;
        }
        const sorted = times.subarray(0, n).sort();
        const at = (q: number) => (n ? sorted[Math.min(n - 1, Math.floor(q * n))]! : NaN);
        const out: LoadResult = { reqPerSec: result.requests.total / load.seconds, p50Ms: at(0.5), p99Ms: at(0.99), requests: result.requests.total, non2xx: result.non2xx, errors: result.errors + result.timeouts };
        process.send!(out);
      },
    );
    instance.on('response', (_client, _status, _bytes, ms) => {
      if (n === times.length) {
        const grown = new Float64Array(times.length * 2);
        grown.set(times);
        times = grown;
      }
      times[n++] = ms;
    });
  });
  process.send!({ ready: true });
}

// ---------------------------------------------------------------- the bare server (a child process)

/** A node:http server that reads the body and answers `answer`; prints its port. */
const BARE_SERVER = `
const http = require('node:http');
const answer = process.argv[1];
const server = http.createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ listening: server.address() }) + '\\n'));
`;

/** Spawns a server and resolves with its port once it prints {"listening": {port}}. */
function startServer(args: string[], what: string, env: NodeJS.ProcessEnv = process.env): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"listening":\{[^}]*"port":(\d+)/.exec(out);
      if (m) resolve({ proc, port: Number(m[1]) });
    });
    proc.on('exit', (code) => reject(new Error(`${what} exited with ${code}: ${err}`)));
  });
}

// ---------------------------------------------------------------- the model

/** Twenty sensor-like columns and a 0/1 label from a nonlinear rule (bench/infer's generator, fewer rows). */
function writeCsv(file: string): void {
  const rand = rng(20251126);
  const lines = [`${NAMES.join(',')},failure`];
  const z = new Float64Array(INPUTS);
  for (let r = 0; r < ROWS; r++) {
    const y = sensorRow(rand, z);
    lines.push(`${NAMES.map((_, j) => sensorValue(j, z[j]!).toFixed(4)).join(',')},${y}`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

async function call<T>(core: Core, name: string, arg: unknown): Promise<T> {
  const r = await core.call(name, arg);
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.value as T;
}

/** Imports the CSV, fits the 300-tree model, records it as a version and exports its bundle; returns the rows to send. */
type Bundle = { file: string; model: string; trees: number; rows: Record<string, number>[] };

/**
 * BENCH_SERVE_CACHE=DIR keeps the trained bundle there and reuses it on the
 * next run (training takes minutes; the bundle is what is measured).
 */
async function cachedBundle(root: string): Promise<Bundle> {
  const dir = process.env.BENCH_SERVE_CACHE;
  if (!dir) return makeBundle(root);
  const meta = path.join(dir, 'bundle.json');
  // The bundle carries its own copy of the runtime: reused only while the runtime's code is the same.
  const runtime = path.join(__dirname, '..', 'resources', 'runtime');
  const hash = crypto.createHash('sha256');
  for (const f of ['server.js', ...fs.readdirSync(path.join(runtime, 'lib')).sort().map((n) => `lib/${n}`)]) hash.update(f).update(fs.readFileSync(path.join(runtime, f)));
  const runtimeSha256 = hash.digest('hex');
  if (fs.existsSync(meta)) {
    const kept = JSON.parse(fs.readFileSync(meta, 'utf8')) as Bundle & { runtimeSha256?: string };
    if (kept.runtimeSha256 === runtimeSha256) {
      log(`reusing the bundle in ${dir}`);
      return { ...kept, file: path.join(dir, 'bundle.tar.gz') };
    }
    log(`the runtime changed since the bundle in ${dir} was made: making it again`);
  }
  const made = await makeBundle(root);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(made.file, path.join(dir, 'bundle.tar.gz'));
  fs.writeFileSync(meta, JSON.stringify({ ...made, file: null, runtimeSha256 }));
  return made;
}

async function makeBundle(root: string): Promise<Bundle> {
  const csv = path.join(root, 'sensors.csv');
  writeCsv(csv);
  const core = createCore({ workspaceDir: path.join(root, 'ws') });
  try {
    const inspected = await call<{ settings: unknown }>(core, 'imports.inspect', { paths: [csv] });
    const job = await call<{ id: string }>(core, 'imports.analyze', { paths: [csv], settings: inspected.settings, save: { name: 'sensors' } });
    const done = await core.jobs.wait(job.id);
    if (done.state !== 'done') throw new Error(`import ended ${done.state}: ${done.error?.message}`);
    const dv = core.ws.db.prepare("SELECT dv.id, dv.schema, dv.row_count FROM dataset_versions dv JOIN datasets d ON d.id = dv.dataset_id WHERE d.name = 'sensors'").get() as { id: number; schema: string; row_count: number };
    const frame: Frame = loadFrame(core.ws.blobs, JSON.parse(dv.schema) as Frame['schema'], dv.row_count, [...NAMES, 'failure'], null);
    const settings: TrainSettings = { task: 'binary', target: 'failure', labelColumn: null, inputs: NAMES, timeColumn: null, windowMinutes: null, lags: [], holdoutFraction: 0.2, timeBudgetSeconds: 1800, seed: 0, algorithms: [] };
    const cand: Candidate = { algorithm: 'hgb', params: { maxIter: TREES, learningRate: 0.1, maxLeafNodes: 31, minSamplesLeaf: 20, l2: 0, balanced: false, earlyStopping: false } };
    const t0 = performance.now();
    const outcome = trainAutoml(frame, settings, { progress: () => undefined, throwIfCancelled: () => undefined, now: () => performance.now() }, { candidates: [cand] });
    const fitS = (performance.now() - t0) / 1000;
    const learner = outcome.pipeline.learner;
    const trees = learner.kind === 'hgb' ? learner.trees.length : 0;
    const report = buildReport(outcome, frame, settings);
    const v = recordModelVersion(core.ws, {
      modelName: 'bench serve', task: 'binary', datasetVersionId: dv.id, jobId: null, settings: { ...settings, metric: outcome.metric, holdout: report.holdout },
      appVersion: core.version, startedAt: new Date().toISOString(), endedAt: new Date().toISOString(), durationSeconds: fitS,
      leaderboard: outcome.leaderboard, algorithm: cand.algorithm, metrics: outcome.metrics, modelBlob: core.ws.blobs.put(JSON.stringify(outcome.pipeline)), modelHash: '-', reportBlob: core.ws.blobs.put(JSON.stringify(report)),
    });
    log(`fit ${TREES} trees on ${ROWS.toLocaleString('en-US')} rows in ${fitS.toFixed(1)} s`);
    const file = path.join(root, 'bundle.tar.gz');
    await call(core, 'models.exportBundle', { model: `${v.model}@${v.version}`, out: file });
    const cols = NAMES.map((n) => (frame.columns.get(n) as { values: Float64Array }).values);
    const rows = Array.from({ length: 200 }, (_, k) => Object.fromEntries(NAMES.map((n, j) => [n, cols[j]![(k * 97) % frame.rows]!])));
    return { file, model: v.model, trees, rows };
  } finally {
    await core.close();
  }
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-bench-serve-'));
  const children: ChildProcess[] = [];
  try {
    const bundle = await cachedBundle(root);
    if (bundle.trees !== TREES) throw new Error(`the model has ${bundle.trees} trees, not ${TREES}`);
    // Unpacked as README.txt says, with the runtime's dependencies from this checkout (npm install would need the network).
    const dir = path.join(root, 'bundle');
    fs.mkdirSync(dir);
    const untar = spawnSync('tar', ['-xzf', bundle.file, '-C', dir], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
    fs.symlinkSync(path.resolve('node_modules'), path.join(dir, 'runtime', 'node_modules'), 'junction');

    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MILLWRIGHT_')));
    const edge = await startServer([path.join(dir, 'runtime', 'server.js'), '--bundle', dir, '--port', '0', '--state', path.join(root, 'state'), '--token', TOKEN], 'the endpoint', clean);
    children.push(edge.proc);
    // The same bundle with ONNX Runtime on the event loop's thread (--engine main), from a copy of the state folder's parent.
    const edgeMain = await startServer([path.join(dir, 'runtime', 'server.js'), '--bundle', dir, '--port', '0', '--state', path.join(root, 'state-main'), '--token', TOKEN, '--engine', 'main'], 'the endpoint (--engine main)', clean);
    children.push(edgeMain.proc);
    // The same bundle again, with the same model installed beside it as a shadow (issue 9): every request is scored twice, only production answers.
    const edgeShadow = await startServer([path.join(dir, 'runtime', 'server.js'), '--bundle', dir, '--port', '0', '--state', path.join(root, 'state-shadow'), '--token', TOKEN, '--admin-token', ADMIN_TOKEN], 'the endpoint with a shadow', clean);
    children.push(edgeShadow.proc);
    const installed = await fetch(`http://127.0.0.1:${edgeShadow.port}/admin/shadow`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/gzip' }, body: fs.readFileSync(bundle.file) });
    if (installed.status !== 200) throw new Error(`/admin/shadow answered ${installed.status}: ${await installed.text()}`);
    const headers = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
    const first = await fetch(`http://127.0.0.1:${edge.port}/predict`, { method: 'POST', headers, body: JSON.stringify(bundle.rows[0]) });
    const answer = await first.text();
    if (first.status !== 200) throw new Error(`/predict answered ${first.status}: ${answer}`);
    const bare = await startServer(['-e', BARE_SERVER, answer], 'the bare server');
    children.push(bare.proc);
    // The least an endpoint serving this model must do (bench/lib/floor-server.cjs): what ONNX Runtime and HTTP leave on this machine.
    const floor = await startServer([path.join(__dirname, 'lib', 'floor-server.cjs'), dir, TOKEN], 'the floor server', clean);
    children.push(floor.proc);
    const floorFirst = await fetch(`http://127.0.0.1:${floor.port}/predict`, { method: 'POST', headers, body: JSON.stringify(bundle.rows[0]) });
    const floorAnswer = await floorFirst.text();
    if (floorAnswer !== answer) throw new Error(`the floor server answered ${floorAnswer}, the endpoint ${answer}`);

    const worker = fork(__filename, ['--load-worker'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(worker);
    await new Promise((resolve) => worker.once('message', resolve));
    const load = (l: Load) =>
      new Promise<LoadResult>((resolve, reject) => {
        worker.once('message', (m: LoadResult | { error: string }) => ('error' in m ? reject(new Error(m.error)) : resolve(m)));
        worker.send(l);
      });

    const modelName = encodeURIComponent(bundle.model);
    const targets = {
      bare: { url: `http://127.0.0.1:${bare.port}`, requests: bundle.rows.map((r) => ({ method: 'POST' as const, path: '/predict', body: JSON.stringify(r), headers })) },
      floor: { url: `http://127.0.0.1:${floor.port}`, requests: bundle.rows.map((r) => ({ method: 'POST' as const, path: '/predict', body: JSON.stringify(r), headers })) },
      predict: { url: `http://127.0.0.1:${edge.port}`, requests: bundle.rows.map((r) => ({ method: 'POST' as const, path: '/predict', body: JSON.stringify(r), headers })) },
      predictMain: { url: `http://127.0.0.1:${edgeMain.port}`, requests: bundle.rows.map((r) => ({ method: 'POST' as const, path: '/predict', body: JSON.stringify(r), headers })) },
      predictShadow: { url: `http://127.0.0.1:${edgeShadow.port}`, requests: bundle.rows.map((r) => ({ method: 'POST' as const, path: '/predict', body: JSON.stringify(r), headers })) },
      v2: {
        url: `http://127.0.0.1:${edge.port}`,
        requests: bundle.rows.map((r) => ({ method: 'POST' as const, path: `/v2/models/${modelName}/infer`, body: JSON.stringify({ inputs: NAMES.map((n) => ({ name: n, shape: [1], datatype: 'FP32', data: [r[n]] })) }), headers })),
      },
    };
    type Target = keyof typeof targets;
    const names = Object.keys(targets) as Target[];
    const check = (what: string, r: LoadResult) => {
      if (r.non2xx || r.errors) throw new Error(`${what}: ${r.non2xx} answers other than 2xx and ${r.errors} errors in ${r.requests} requests`);
      return r;
    };

    log('warming up');
    for (const t of names) check(`${t} warm-up`, await load({ ...targets[t], connections: 16, seconds: 2 }));
    const sweep: Record<string, Record<number, number>> = {};
    const best: Record<string, number> = {};
    for (const t of names) {
      sweep[t] = {};
      for (const c of SWEEP) sweep[t][c] = Math.round(check(`${t} sweep`, await load({ ...targets[t], connections: c, seconds: 2 })).reqPerSec);
      best[t] = SWEEP.reduce((a, b) => (sweep[t]![b]! > sweep[t]![a]! ? b : a));
      log(`${t}: ${SWEEP.map((c) => `${c} connections ${sweep[t]![c]} req/s`).join(', ')}`);
    }

    const runs: Record<Target, LoadResult[]> = { bare: [], floor: [], predict: [], predictMain: [], predictShadow: [], v2: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of names) {
        runs[t].push(check(t, await load({ ...targets[t], connections: best[t]!, seconds: SECONDS })));
        log(`round ${r + 1}/${ROUNDS} ${t}: ${Math.round(runs[t].at(-1)!.reqPerSec)} req/s, p50 ${runs[t].at(-1)!.p50Ms.toFixed(2)} ms, p99 ${runs[t].at(-1)!.p99Ms.toFixed(2)} ms`);
      }
    }
    const summary = (xs: LoadResult[], connections: number) => ({ reqPerSec: Math.round(median(xs.map((x) => x.reqPerSec))), p50Ms: round(median(xs.map((x) => x.p50Ms))), p99Ms: round(median(xs.map((x) => x.p99Ms))), connections, rounds: xs.map((x) => Math.round(x.reqPerSec)) });
    const result = { bare: summary(runs.bare, best.bare!), floor: summary(runs.floor, best.floor!), predict: summary(runs.predict, best.predict!), predictMain: summary(runs.predictMain, best.predictMain!), predictShadow: summary(runs.predictShadow, best.predictShadow!), v2: summary(runs.v2, best.v2!) };

    /** /predict at 80% of an engine's own full rate: the fewest connections that carry it, then ROUNDS rounds. */
    const at80Of = async (t: 'predict' | 'predictMain') => {
      const rate = Math.round(0.8 * result[t].reqPerSec);
      // autocannon paces each connection on its own timer, all started together: many connections at a set rate arrive in bursts. Fewest that carry the rate.
      let connections = AT80_CONNECTIONS[0]!;
      for (const c of AT80_CONNECTIONS) {
        connections = c;
        if (check(`${t} at 80%`, await load({ ...targets[t], connections: c, seconds: 2, overallRate: rate })).reqPerSec >= 0.97 * rate) break;
      }
      const at80: LoadResult[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        at80.push(check(`${t} at 80%`, await load({ ...targets[t], connections, seconds: SECONDS, overallRate: rate })));
        log(`round ${r + 1}/${ROUNDS} ${t} at ${rate} req/s: ${Math.round(at80.at(-1)!.reqPerSec)} req/s, p50 ${at80.at(-1)!.p50Ms.toFixed(2)} ms, p99 ${at80.at(-1)!.p99Ms.toFixed(2)} ms`);
      }
      return { rate, reqPerSec: Math.round(median(at80.map((x) => x.reqPerSec))), p50Ms: round(median(at80.map((x) => x.p50Ms))), p99Ms: round(median(at80.map((x) => x.p99Ms))), connections };
    };
    const predictAt80 = await at80Of('predict');
    const predictMainAt80 = await at80Of('predictMain');

    const ratios = { floor: round(result.floor.reqPerSec / result.bare.reqPerSec), predict: round(result.predict.reqPerSec / result.bare.reqPerSec), predictMain: round(result.predictMain.reqPerSec / result.bare.reqPerSec), v2: round(result.v2.reqPerSec / result.bare.reqPerSec) };
    const cpus = os.cpus();
    const out = {
      benchmark: 'serve',
      machine: { cores: cpus.length, cpu: cpus[0]?.model ?? 'unknown', node: process.version, load_1m: round(os.loadavg()[0]!, 2) },
      model: { trees: bundle.trees, inputs: INPUTS, trainRows: ROWS, bundleBytes: fs.statSync(bundle.file).size },
      ...result,
      predictAt80,
      predictMainAt80,
      ratios,
      /** The endpoint's /predict over the floor's: what the endpoint's own checks, metrics and monitoring cost. */
      predictOfFloor: round(result.predict.reqPerSec / result.floor.reqPerSec),
      /** What a shadow run costs the endpoint: /predict with the model scoring beside itself, over /predict alone. */
      shadowCost: { throughputRatio: round(result.predictShadow.reqPerSec / result.predict.reqPerSec), p50Ms: [result.predict.p50Ms, result.predictShadow.p50Ms] },
      sweep,
      targets: {
        ratioMin: TARGETS.ratioMin,
        p99MaxMs: TARGETS.p99MaxMs,
        met: {
          predict: ratios.predict >= TARGETS.ratioMin,
          predictMain: ratios.predictMain >= TARGETS.ratioMin,
          v2: ratios.v2 >= TARGETS.ratioMin,
          p99At80: predictAt80.p99Ms < TARGETS.p99MaxMs,
          p99At80Main: predictMainAt80.p99Ms < TARGETS.p99MaxMs,
        },
      },
      notes: [
        `Each of the endpoint, the bare server and the load generator (autocannon ${(JSON.parse(fs.readFileSync(require.resolve('autocannon/package.json'), 'utf8')) as { version: string }).version}) is its own process on this ${cpus.length}-core machine, over loopback; every request carries one row and the bearer token.`,
        `connections: the number that gave the most requests per second in a 2 s sweep over ${SWEEP.join(', ')}; rounds: requests per second of each round. predictAt80: the fewest connections of ${AT80_CONNECTIONS.join(', ')} that carried the rate in a 2 s try (autocannon paces every connection on its own timer, started together, so many connections at a set rate arrive in bursts).`,
        'floor: bench/lib/floor-server.cjs, the least an endpoint serving this model must do (node:http, the token compared, JSON.parse, the edge runtime\'s own ONNX Runtime engine in a worker thread with the same batching, the answer\'s JSON) and nothing more: no field checks, metrics, monitoring or state. Its ratio to bare is the most the 60% target can get on this machine with this model.',
        'predict and v2: the endpoint as it starts by default (--engine worker: ONNX Runtime in a thread of its own); predictMain: the same bundle started with --engine main (ONNX Runtime on the event loop\'s thread); predictShadow: the default endpoint with the same model installed as a shadow (/admin/shadow), so each row is scored twice and the two answers compared.',
        `Rounds of ${SECONDS} s, ${ROUNDS} per target, interleaved; figures are medians. Latency is from the request being written to the answer read, by autocannon, percentiles over every request.`,
      ],
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv.includes('--load-worker')) loadWorker();
else {
  main().catch((e: unknown) => {
    process.stderr.write(`[bench] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
