/**
 * Poll benchmark (issue 8): one monitoring cycle over 200 endpoints — real
 * edge runtimes on loopback — in under 10 seconds, while the UI's API round
 * trip stays under 50 ms at the 99th percentile.
 *
 *   1. Trains a small model (the pump table, logistic regression) in a temp
 *      workspace and exports its signed bundle, as operations would get it.
 *   2. Starts BENCH_ENDPOINTS endpoints (default 200) from resources/runtime
 *      with startEdgeServer, as server.js does, BENCH_PROCESSES child
 *      processes (default 4) holding a share each, every endpoint with its
 *      own state folder and tokens, scoring on the event loop (--engine main:
 *      200 worker threads would not fit a small machine).
 *   3. Sends each endpoint some traffic (3 requests of 10 rows), so every
 *      poll has buckets to read, and adds the endpoints to the workspace
 *      with `endpoints.add` (which contacts each once, as in the app).
 *   4. Times one `monitor.cycle` through the core (health, admin status,
 *      monitoring pages stored, alerts evaluated) while, in the same process,
 *      `endpoints.list` and `monitor.status` are called every 20 ms as the
 *      Deployments and Monitoring pages do; their round trips give p50/p99.
 *      Before it, one monitor.status works out every endpoint's last hour,
 *      as the app does when it starts (statusColdMs, not in the p99).
 *
 *   npx tsx bench/lib/monitor-poll.ts      prints the JSON
 *   import { benchPoll } from './lib/monitor-poll'
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Input, MethodName, Output } from '../../shared/api';
import { createCore, type Core } from '../../electron/services/compose';
import { predict, RUNTIME_DIR } from '../../electron/services/monitor/edge-fixture';
import { inPool } from '../../electron/services/monitor/scheduler';
import { envInt, log, round } from './common';

const TARGETS = { cycleMs: 10_000, apiP99Ms: 50 };
const TOKEN = 'bench-poll-token-0123456789abcdef';
const ADMIN = 'bench-poll-admin-0123456789abcdef';
const API_EVERY_MS = 20;

/** What each child runs: endpoints from the runtime's own startEdgeServer, their ports on stdout, a clean stop on SIGTERM. */
const CHILD = `
const path = require('node:path');
const { startEdgeServer } = require(${JSON.stringify(path.join(RUNTIME_DIR, 'server.js'))});
const { parseOptions } = require(${JSON.stringify(path.join(RUNTIME_DIR, 'lib', 'options.js'))});
const [bundle, stateRoot, from, count, token, admin] = JSON.parse(process.argv[1]);
const edges = [];
(async () => {
  for (let i = from; i < from + count; i++) {
    const opts = parseOptions(['--bundle', bundle, '--state', path.join(stateRoot, 'e' + i), '--port', '0', '--host', '127.0.0.1', '--engine', 'main'], { MILLWRIGHT_TOKEN: token, MILLWRIGHT_ADMIN_TOKEN: admin });
    edges.push(await startEdgeServer(opts));
  }
  process.stdout.write(JSON.stringify({ benchPorts: edges.map((e) => e.address.port) }) + '\\n');
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
process.on('SIGTERM', () => Promise.all(edges.map((e) => e.stop())).then(() => process.exit(0)));
`;

function startChild(args: unknown[]): Promise<{ proc: ChildProcess; ports: number[] }> {
  const proc = spawn(process.execPath, ['-e', CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      // The runtime says things of its own on stdout (the key it pinned); the ports come on a line of their own.
      const line = out.split('\n').find((l) => l.startsWith('{"benchPorts":'));
      if (line) resolve({ proc, ports: (JSON.parse(line) as { benchPorts: number[] }).benchPorts });
    });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    proc.once('exit', (code) => reject(new Error(`an endpoint process exited (${code}): ${err.slice(-2000)}`)));
  });
}

/** A call into the core that throws the reply's error. */
async function callCore<K extends MethodName>(core: Core, name: K, arg: Input<K>): Promise<Output<K>> {
  const r = await core.call(name, arg);
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.value as Output<K>;
}

/** The pump table of the tests (line, flow, vibration → trip), imported and trained as P-101 version 1 (logistic regression). */
async function trainPumps(core: Core, dir: string): Promise<void> {
  const file = path.join(dir, 'pumps.csv');
  const lines = ['Line,Flow,Vibration,Trip'];
  for (let i = 0; i < 500; i++) {
    const flow = (i * 37) % 101, vib = ((i * 53) % 89) / 10;
    lines.push(`${['A', 'B', 'C'][i % 3]},${flow},${vib},${flow > 60 && vib > 3 ? 'trip' : 'ok'}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const inspected = await callCore(core, 'imports.inspect', { paths: [file] });
  const imported = await core.jobs.wait((await callCore(core, 'imports.analyze', { paths: [file], settings: inspected.settings, save: { name: 'pumps' } })).id);
  if (imported.state !== 'done') throw new Error(`import: ${imported.error?.message}`);
  const trained = await core.jobs.wait((await callCore(core, 'training.start', { dataset: 'pumps', task: 'binary', target: 'Trip', algorithms: ['logistic'], timeBudgetSeconds: 10, model: 'P-101' })).id);
  if (trained.state !== 'done') throw new Error(`training: ${trained.error?.message}`);
}

function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]! : NaN;
}

/** Calls `name` every API_EVERY_MS until stopped, one at a time; the round trips in ms. */
function apiLoop(core: Core, name: 'endpoints.list' | 'monitor.status'): { stop: () => Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t = performance.now();
      const r = await core.call(name, {});
      if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
      times.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, API_EVERY_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return times;
    },
  };
}

export async function benchPoll(): Promise<object> {
  const endpoints = envInt('BENCH_ENDPOINTS', 200, 1, 2000);
  const processes = Math.min(endpoints, envInt('BENCH_PROCESSES', 4, 1, 64));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-bench-poll-'));
  const children: ChildProcess[] = [];
  let core: Core | undefined;
  try {
    core = createCore({ workspaceDir: path.join(root, 'ws'), resumeEndpoints: false, monitor: false });
    log('training a small model and exporting its bundle');
    await trainPumps(core, root);
    const bundle = (await callCore(core, 'models.exportBundle', { model: 'P-101', version: 1, out: path.join(root, 'bundle.tar.gz') })).file;

    log(`starting ${endpoints} endpoints in ${processes} processes`);
    const t0 = performance.now();
    const per = Math.ceil(endpoints / processes);
    const started = await Promise.all(
      Array.from({ length: processes }, (_, k) => {
        const from = k * per;
        const count = Math.max(0, Math.min(per, endpoints - from));
        return startChild([bundle, path.join(root, 'edges'), from, count, TOKEN, ADMIN]).then((c) => {
          children.push(c.proc);
          return c.ports;
        });
      }),
    );
    const ports = started.flat();
    log(`endpoints listening after ${round((performance.now() - t0) / 1000, 1)} s; sending traffic`);
    const rows = Array.from({ length: 10 }, (_, i) => ({ Line: ['A', 'B', 'C'][i % 3], Flow: (i * 37) % 101, Vibration: ((i * 53) % 89) / 10 }));
    for (let round3 = 0; round3 < 3; round3++) {
      await Promise.all(
        ports.map(async (port) => {
          const status = await predict(`http://127.0.0.1:${port}`, TOKEN, rows);
          if (status !== 200) throw new Error(`port ${port} answered ${status}`);
        }),
      );
    }
    // Added as a person adds them (each contacted once, so the app knows what it serves), 16 at a time.
    const c = core;
    await inPool(ports, 16, (port, i) => callCore(c, 'endpoints.add', { name: `edge-${String(i + 1).padStart(3, '0')}`, url: `http://127.0.0.1:${port}`, token: TOKEN, adminToken: ADMIN }));

    // The app works out every endpoint's last hour once when it starts; the same here, timed apart.
    const w0 = performance.now();
    await callCore(core, 'monitor.status', {});
    const statusColdMs = performance.now() - w0;
    log('one poll cycle, with endpoints.list and monitor.status every 20 ms');
    const list = apiLoop(core, 'endpoints.list');
    const status = apiLoop(core, 'monitor.status');
    await new Promise((r) => setTimeout(r, 200));
    // How long the core's own event loop was held up (what every call waits behind), apart from CPU taken by others on this machine.
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const c0 = performance.now();
    const cycle = await callCore(core, 'monitor.cycle', {});
    const cycleMs = performance.now() - c0;
    lag.disable();
    await new Promise((r) => setTimeout(r, 200));
    const listTimes = (await list.stop()).sort((a, b) => a - b);
    const statusTimes = (await status.stop()).sort((a, b) => a - b);

    const reached = cycle.endpoints.filter((e) => e.reachable).length;
    const requests = cycle.endpoints.reduce((n, e) => n + e.requests, 0);
    if (reached !== endpoints || requests !== 3 * endpoints) throw new Error(`the cycle reached ${reached} of ${endpoints} endpoints and counted ${requests} requests (expected ${3 * endpoints})`);
    const all = [...listTimes, ...statusTimes].sort((a, b) => a - b);
    const apiP50Ms = round(percentile(all, 0.5), 2);
    const apiP99Ms = round(percentile(all, 0.99), 2);
    return {
      endpoints,
      processes,
      cycleMs: round(cycleMs, 1),
      apiP50Ms,
      apiP99Ms,
      apiCalls: all.length,
      byMethod: {
        'endpoints.list': { calls: listTimes.length, p50Ms: round(percentile(listTimes, 0.5), 2), p99Ms: round(percentile(listTimes, 0.99), 2) },
        'monitor.status': { calls: statusTimes.length, p50Ms: round(percentile(statusTimes, 0.5), 2), p99Ms: round(percentile(statusTimes, 0.99), 2) },
      },
      statusColdMs: round(statusColdMs, 1),
      eventLoopDelayMs: { p50: round(lag.percentile(50) / 1e6, 1), p99: round(lag.percentile(99) / 1e6, 1), max: round(lag.max / 1e6, 1) },
      loadAverage: round(os.loadavg()[0]!, 2),
      requestsCounted: requests,
      targets: TARGETS,
      met: { cycle: cycleMs < TARGETS.cycleMs, api: apiP99Ms < TARGETS.apiP99Ms },
    };
  } finally {
    await core?.close();
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchPoll().then(
    (r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
