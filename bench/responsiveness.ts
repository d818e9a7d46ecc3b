/**
 * Responsiveness benchmark: does the main process stay responsive while a
 * CPU-heavy job runs?
 *
 * Starts the real core and server mode on a temporary workspace, then measures
 * the main thread's event-loop delay (perf_hooks.monitorEventLoopDelay) and
 * the round trip of `jobs.list` over HTTP while
 *   - nothing runs (idle baseline),
 *   - Millwright runs a `system.check` job (the work runs in a worker thread),
 *   - the peer runs the same matrix-multiply kernel on the main thread, as a
 *     design without worker threads would, for the same wall time.
 * Each run measures idle, Millwright, then the peer, and the runs repeat in
 * one process, so all three see the same machine and the same noise; the
 * report gives medians over runs.
 *
 * The HTTP client runs in a separate Node process: a client in the main
 * thread's own event loop would stall together with the server and hide it.
 * Like a UI polling the server, it keeps one keep-alive connection and one
 * request in flight: a request every 20 ms, or as soon as the previous reply
 * arrives if that took longer. A stall delays the request that meets it and
 * lowers the number of requests answered.
 *
 * Prints one JSON object on stdout; progress goes to stderr. Exits 0 even when
 * a target is missed ("pass": false); exits 1 only if the benchmark itself
 * could not run.
 *
 *   npx tsx bench/responsiveness.ts
 *   BENCH_RUNS=3 BENCH_JOB_SECONDS=5 npx tsx bench/responsiveness.ts
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { JobInfo, SystemCheckResult } from '../shared/api';
import { createCore, type Core } from '../electron/services/compose';
import { startServer } from '../electron/server';

const RUNS = envInt('BENCH_RUNS', 3, 1, 20);
const JOB_SECONDS = envInt('BENCH_JOB_SECONDS', 5, 1, 60);
const IDLE_MS = 2000;
const ELD_RESOLUTION_MS = 10;
const CLIENT_INTERVAL_MS = 20;
const PEER_CHUNK_MS = 200;
const TARGETS = { eventLoopDelayP99Ms: 50, apiRoundTripP99Ms: 20 };
const TOKEN = 'bench';

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

// ---------------------------------------------------------------------------
// The HTTP client, run as a separate Node process (plain CommonJS, no tsx).
// Protocol over the IPC channel: child -> {type:'ready'} after warm-up;
// parent -> {type:'start'}; parent -> {type:'stop'}; child -> {type:'result'}.
// ---------------------------------------------------------------------------
const CLIENT_SOURCE = String.raw`
'use strict';
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const [port, token, intervalMs] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const body = '{}';
let recording = false;
let loop = null;
const times = [];
let errors = 0;

function call() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/jobs.list',
        method: 'POST',
        agent,
        headers: {
          Authorization: 'Bearer ' + token,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : null));
      },
    );
    req.on('error', () => resolve(null));
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run() {
  let nextAt = performance.now();
  while (recording) {
    const wait = nextAt - performance.now();
    if (wait > 0) await sleep(wait);
    if (!recording) break;
    const ms = await call();
    if (ms === null) errors++;
    else times.push(ms);
    nextAt = Math.max(nextAt + intervalMs, performance.now());
  }
}

async function warmUp() {
  for (let i = 0; i < 20; i++) {
    if ((await call()) === null) throw new Error('The server did not answer jobs.list during warm-up.');
  }
  process.send({ type: 'ready' });
}

process.on('message', async (msg) => {
  if (msg.type === 'start') {
    recording = true;
    loop = run();
  } else if (msg.type === 'stop') {
    recording = false;
    await loop;
    process.send({ type: 'result', times, errors }, () => {
      agent.destroy();
      process.exit(0);
    });
  }
});
process.on('disconnect', () => process.exit(0));
warmUp().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + '\n');
  process.exit(1);
});
`;

interface ClientResult {
  times: number[];
  errors: number;
}

interface Client {
  start(): void;
  stop(): Promise<ClientResult>;
}

async function startClient(clientFile: string, port: number): Promise<Client> {
  const child: ChildProcess = fork(clientFile, [String(port), TOKEN, String(CLIENT_INTERVAL_MS)], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const messages: { type: string }[] = [];
  const waiters: ((m: { type: string }) => void)[] = [];
  child.on('message', (m: { type: string }) => {
    const w = waiters.shift();
    if (w) w(m);
    else messages.push(m);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`The HTTP client exited early (code ${code}).`))),
  );
  exited.catch(() => undefined);
  const next = (type: string) =>
    Promise.race([
      exited,
      new Promise<{ type: string }>((resolve) => {
        const m = messages.shift();
        if (m) resolve(m);
        else waiters.push(resolve);
      }),
    ]).then((m) => {
      if (m.type !== type) throw new Error(`The HTTP client sent "${m.type}", expected "${type}".`);
      return m;
    });
  await next('ready');
  return {
    start: () => child.send({ type: 'start' }),
    async stop() {
      child.send({ type: 'stop' });
      return (await next('result')) as unknown as ClientResult;
    },
  };
}

// ---------------------------------------------------------------------------
// The CPU work: the same 64×64 matrix-multiply kernel as the system.check job.
// ---------------------------------------------------------------------------
const N = 64;
const matA = new Float64Array(N * N).map((_, i) => ((i * 7919) % 101) / 101);
const matB = new Float64Array(N * N).map((_, i) => ((i * 104729) % 97) / 97);
const matC = new Float64Array(N * N);

/** Multiplies until `ms` have passed without yielding; returns the rounds done. */
function computeFor(ms: number): number {
  const n = N;
  const a = matA;
  const b = matB;
  const c = matC;
  let rounds = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const aik = a[i * n + k]!;
        for (let j = 0; j < n; j++) c[i * n + j] = c[i * n + j]! + aik * b[k * n + j]!;
      }
    }
    rounds++;
  }
  return rounds;
}

/**
 * The peer: the kernel on the main thread for `totalMs`, in blocking chunks of
 * PEER_CHUNK_MS with setImmediate between them, so timers and I/O get a turn
 * between chunks (kinder than one unbroken loop, which would stall for the
 * whole duration).
 */
async function runPeer(totalMs: number): Promise<{ wallMs: number; cpuScore: number }> {
  const start = performance.now();
  let rounds = 0;
  let computeMs = 0;
  for (;;) {
    const left = totalMs - (performance.now() - start);
    if (left <= 0) break;
    const t0 = performance.now();
    rounds += computeFor(Math.min(PEER_CHUNK_MS, left));
    computeMs += performance.now() - t0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return {
    wallMs: performance.now() - start,
    cpuScore: Math.round((rounds * 2 * N * N * N) / (computeMs / 1000) / 1e6),
  };
}

// ---------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------
interface RunFigures {
  eventLoopDelayP50Ms: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  eventLoopSamples: number;
  apiRoundTripP50Ms: number;
  apiRoundTripP99Ms: number;
  apiRoundTripMaxMs: number;
  apiRequests: number;
  apiErrors: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Event-loop delay: how much later than scheduled the 10 ms timer ran. */
const eldMs = (h: IntervalHistogram, p: number | 'max') =>
  round2(Math.max(0, (p === 'max' ? h.max : h.percentile(p)) / 1e6 - ELD_RESOLUTION_MS));

/**
 * Runs `work` while a fresh event-loop monitor and a fresh HTTP client record.
 * (A monitor is never re-enabled: its first sample after enable() would span
 * the time it was off.)
 */
async function measure<T>(clientFile: string, port: number, work: () => Promise<T>): Promise<{ out: T; figures: RunFigures }> {
  const client = await startClient(clientFile, port);
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  client.start();
  let out: T;
  try {
    out = await work();
  } finally {
    eld.disable();
  }
  const r = await client.stop();
  const rtt = [...r.times].sort((x, y) => x - y);
  return {
    out,
    figures: {
      eventLoopDelayP50Ms: eldMs(eld, 50),
      eventLoopDelayP99Ms: eldMs(eld, 99),
      eventLoopDelayMaxMs: eldMs(eld, 'max'),
      eventLoopSamples: eld.count,
      apiRoundTripP50Ms: round2(pct(rtt, 50)),
      apiRoundTripP99Ms: round2(pct(rtt, 99)),
      apiRoundTripMaxMs: round2(rtt.length ? rtt[rtt.length - 1]! : NaN),
      apiRequests: rtt.length,
      apiErrors: r.errors,
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return round2(s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2);
};

/** Medians over runs for p50 and p99, the worst run for max, totals for counts. */
function combine(runs: RunFigures[]) {
  const col = (k: keyof RunFigures) => runs.map((r) => r[k]);
  const sum = (k: keyof RunFigures) => col(k).reduce((a, b) => a + b, 0);
  return {
    eventLoopDelayP50Ms: median(col('eventLoopDelayP50Ms')),
    eventLoopDelayP99Ms: median(col('eventLoopDelayP99Ms')),
    eventLoopDelayMaxMs: Math.max(...col('eventLoopDelayMaxMs')),
    eventLoopSamples: sum('eventLoopSamples'),
    apiRoundTripP50Ms: median(col('apiRoundTripP50Ms')),
    apiRoundTripP99Ms: median(col('apiRoundTripP99Ms')),
    apiRoundTripMaxMs: Math.max(...col('apiRoundTripMaxMs')),
    apiRequests: sum('apiRequests'),
    apiErrors: sum('apiErrors'),
    perRunEventLoopDelayP99Ms: col('eventLoopDelayP99Ms'),
    perRunApiRoundTripP99Ms: col('apiRoundTripP99Ms'),
  };
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-bench-'));
  const workspaceDir = path.join(tmp, 'workspace');
  const rendererDir = path.join(tmp, 'renderer');
  fs.mkdirSync(workspaceDir);
  fs.mkdirSync(rendererDir);
  const clientFile = path.join(tmp, 'client.cjs');
  fs.writeFileSync(clientFile, CLIENT_SOURCE);

  let core: Core | undefined;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    core = createCore({ workspaceDir });
    server = await startServer({ core, rendererDir, token: TOKEN });
    const c = core;
    const port = server.port;
    log(`server on ${server.url}; ${RUNS} runs, system.check seconds=${JOB_SECONDS}, ${os.cpus().length} cores`);

    // Warm the job path once (tsx compiling the worker sources, zod, sqlite)
    // so the first measured run is not the only one paying for it.
    const warm = await c.call('system.check', { seconds: 0.2 });
    if (!warm.ok) throw new Error(`system.check could not start: ${warm.error.message}`);
    await c.jobs.wait((warm.value as JobInfo).id);

    const idleRuns: RunFigures[] = [];
    const mwRuns: RunFigures[] = [];
    const peerRuns: RunFigures[] = [];
    const mwScores: number[] = [];
    const peerScores: number[] = [];
    const jobStates: string[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const idleRun = await measure(clientFile, port, () => new Promise<void>((r) => setTimeout(r, IDLE_MS)));
      idleRuns.push(idleRun.figures);
      log(`run ${run} idle: ${JSON.stringify(idleRun.figures)}`);

      let jobWallMs = 0;
      const mwRun = await measure(clientFile, port, async () => {
        const t0 = performance.now();
        const started = await c.call('system.check', { seconds: JOB_SECONDS });
        if (!started.ok) throw new Error(`system.check could not start: ${started.error.message}`);
        const info = await c.jobs.wait((started.value as JobInfo).id);
        jobWallMs = performance.now() - t0;
        return info;
      });
      jobStates.push(mwRun.out.state);
      if (mwRun.out.state === 'done') mwScores.push((mwRun.out.result as SystemCheckResult).cpuScore);
      mwRuns.push(mwRun.figures);
      log(`run ${run} millwright: job ${mwRun.out.state} in ${Math.round(jobWallMs)} ms; ${JSON.stringify(mwRun.figures)}`);

      const peerRun = await measure(clientFile, port, () => runPeer(jobWallMs));
      peerScores.push(peerRun.out.cpuScore);
      peerRuns.push(peerRun.figures);
      log(`run ${run} peer: ${Math.round(peerRun.out.wallMs)} ms; ${JSON.stringify(peerRun.figures)}`);
    }

    const idle = combine(idleRuns);
    const mw = combine(mwRuns);
    const pr = combine(peerRuns);
    const jobsOk = jobStates.every((s) => s === 'done');
    const meets = {
      eventLoopDelayP99: mw.eventLoopDelayP99Ms < TARGETS.eventLoopDelayP99Ms,
      apiRoundTripP99: mw.apiRoundTripP99Ms < TARGETS.apiRoundTripP99Ms,
      noApiErrors: mw.apiErrors === 0,
      jobsFinished: jobsOk,
    };
    const report = {
      benchmark: 'responsiveness',
      method:
        `Main-thread event-loop delay from perf_hooks.monitorEventLoopDelay (resolution ${ELD_RESOLUTION_MS} ms; ` +
        `figures are the histogram values minus that ${ELD_RESOLUTION_MS} ms interval). API round trip: POST /api/jobs.list ` +
        `over loopback HTTP (server mode), from a separate Node process on one keep-alive connection, one request in flight, ` +
        `sent every ${CLIENT_INTERVAL_MS} ms or as soon as the previous reply arrives if later. Each run measures idle, ` +
        `Millwright, then the peer; ${RUNS} runs; p50/p99 are medians of the per-run figures, max is the worst run, counts are totals.`,
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform },
      runs: RUNS,
      idle: { description: `nothing running, ${IDLE_MS} ms per run`, ...idle },
      millwright: {
        description: `system.check job (seconds: ${JOB_SECONDS}): matrix-multiply kernel then a disk-write test, in a worker thread`,
        ...mw,
        cpuScoreMedian: mwScores.length ? median(mwScores) : null,
        jobStates,
      },
      peer_main_thread: {
        description:
          `the same 64x64 matrix-multiply kernel on the main thread (no worker), for the same wall time as each job run, ` +
          `in blocking ${PEER_CHUNK_MS} ms chunks with setImmediate between chunks`,
        ...pr,
        cpuScoreMedian: median(peerScores),
      },
      ratios: {
        peerOverMillwrightEventLoopDelayP99: round2(pr.eventLoopDelayP99Ms / Math.max(mw.eventLoopDelayP99Ms, 0.01)),
        peerOverMillwrightApiRoundTripP99: round2(pr.apiRoundTripP99Ms / mw.apiRoundTripP99Ms),
        millwrightOverIdleApiRoundTripP99: round2(mw.apiRoundTripP99Ms / idle.apiRoundTripP99Ms),
      },
      targets: TARGETS,
      meets,
      pass: Object.values(meets).every(Boolean),
    };
    await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(report, null, 2) + '\n', () => resolve()));
  } finally {
    await server?.close().catch(() => undefined);
    await core?.close().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function envInt(name: string, fallback: number, min: number, max: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v >= min && v <= max ? v : fallback;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[bench] failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
