/**
 * Kill tests, the edge runtime (issue 11): the endpoint serving /predict
 * under steady load while bundles are pushed to it one after another is
 * killed with SIGKILL at random moments (and some restarts are killed while
 * they start), then started again on its state folder. After each kill it
 * must come back ready, serving a whole bundle (the one acknowledged last, or
 * the one whose push was under way), answering as that bundle does, with the
 * requests it answered before the kill still counted, except at most those of
 * the last state save (state.json is written at most once a second).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plantFrame, settings, train } from '../services/onnx/parity-harness';
import type { Frame } from '../services/training/frame';
import { bundleEntries, callEdge, HGB, killAll, modelBundle, NO_TIME, objects, SERVER, signingKey, startEdge, stopEdge, tarGz, type Edge, type ModelBundle } from '../test-support/edge-child';
import { countKill, exited, FULL, killAfter, killPlans, killSeed, MODE, newTally, recordKills, seededRandom, type KillPlan } from './support/kill-harness';

const TOKEN = 'kill-predict-token-0123456789ab';
const ADMIN = 'kill-admin-token-0123456789abcd';
/** The runtime saves state.json at most once a second (resources/runtime/lib/state.js, StateStore.start). */
const FLUSH_INTERVAL_MS = 1000;
/**
 * Answers older than this at the kill must have been saved: one interval,
 * and a save under way when the process died (writing and fsyncing on a
 * loaded disk) taking up to another, plus scheduling slack.
 */
const SAVED_AFTER_MS = 2 * FLUSH_INTERVAL_MS + 500;

const UNDER_LOAD = FULL ? 25 : 2;
const WHILE_STARTING = FULL ? 5 : 1;
const CLIENTS = 3;

const seed = killSeed();
const random = seededRandom(seed);
const tally = newTally();

let tmp: string;
let frame: Frame;
let bundles: ModelBundle[];
/** Each bundle's .tar.gz, as a push sends it. */
let archives: Buffer[];
/** What each bundle (by version) answers for the probe rows. */
const answers = new Map<string, unknown>();
let state: string;
let edge: Edge | null = null;

/** Every /predict request sent to this state folder, and the moments their 200 answers arrived. */
const predicts = { sent: 0, acked: [] as number[] };

async function predict(port: number, rows: unknown): Promise<{ status: number; body: unknown } | null> {
  predicts.sent++;
  try {
    const r = await callEdge(port, 'POST', '/predict', rows, TOKEN);
    if (r.status === 200) predicts.acked.push(Date.now());
    return { status: r.status, body: r.body };
  } catch {
    return null;
  }
}

const probeRows = () => objects(frame, bundles[0]!.sig, 0, 5);

async function probe(port: number): Promise<unknown> {
  const r = await predict(port, probeRows());
  return r?.status === 200 ? (r.body as { predictions: unknown }).predictions : { failed: r?.status ?? 'no answer' };
}

const start = () => startEdge(bundles[0]!.dir, ['--state', state, '--token', TOKEN, '--admin-token', ADMIN]);

async function servedVersion(port: number): Promise<string | null> {
  const r = await callEdge(port, 'GET', '/admin/status', undefined, ADMIN);
  return r.status === 200 ? String((r.body as { model: { version: string } }).model.version) : null;
}

function predictCount(metrics: string): number {
  const m = /^millwright_requests_total\{route="\/predict",code="200"\} (\d+)$/m.exec(metrics);
  return m ? Number(m[1]) : 0;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-kill-edge-'));
  state = path.join(tmp, 'state');
  const key = signingKey();
  frame = plantFrame(700, 5, false);
  // Two bundles that answer differently, so an answer tells which one is served.
  bundles = [
    await modelBundle(path.join(tmp, 'v1'), train(frame, settings('binary', NO_TIME), [HGB]), 'failure', 1, null, key),
    await modelBundle(path.join(tmp, 'v2'), train(frame, settings('binary', NO_TIME), [{ algorithm: 'hgb', params: { ...HGB.params, maxIter: 5, maxLeafNodes: 4 } }]), 'failure', 2, null, key),
  ];
  archives = bundles.map((b) => tarGz(bundleEntries(b.dir)));
  edge = await start();
  answers.set('1', await probe(edge.port));
  expect((await callEdge(edge.port, 'POST', '/admin/bundle', archives[1], ADMIN)).status).toBe(200);
  answers.set('2', await probe(edge.port));
  expect(answers.get('1')).not.toEqual(answers.get('2'));
}, 120_000);

afterAll(async () => {
  killAll();
  for (const b of bundles ?? []) await b.session.release();
  tally.details.seed = seed;
  recordKills('edge', { edge: tally }, { seed, flushIntervalMs: FLUSH_INTERVAL_MS, savedAfterMs: SAVED_AFTER_MS });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * What a restarted endpoint must show. `allowed`: the versions it may serve;
 * `base`: the /predict count the killed run started from (the requests of
 * this run are in `predicts`). Starts the count of the new run.
 */
/** The pushes of the run killed last and its admin log, shown when the bundle served after the restart is not one it may be. */
let pushLog: string[] = [];

async function verifyRestart(e: Edge, allowed: Set<string>, killedAt: number, base: number): Promise<{ problems: string[]; restored: number }> {
  const problems: string[] = [];
  const ready = await callEdge(e.port, 'GET', '/v2/health/ready', undefined, null);
  if (ready.status !== 200) problems.push(`/v2/health/ready answered ${ready.status} after the restart`);
  const version = await servedVersion(e.port);
  if (version === null || !allowed.has(version)) problems.push(`serves version ${version} after the restart; expected one of ${[...allowed].join(', ')}; bundles.json: ${fs.readFileSync(path.join(state, 'bundles.json'), 'utf8')}; pushes: ${pushLog.slice(-8).join(' | ')}`);
  const restored = predictCount((await callEdge(e.port, 'GET', '/metrics', undefined, TOKEN)).text);
  const acked = predicts.acked.filter((t) => t <= killedAt).length;
  const mustHave = predicts.acked.filter((t) => t <= killedAt - SAVED_AFTER_MS).length;
  if (restored < base + mustHave) problems.push(`${restored - base} of the killed run's /predict requests counted after the restart, but ${mustHave} were answered more than ${SAVED_AFTER_MS} ms before the kill`);
  if (restored > base + predicts.sent) problems.push(`${restored - base} of the killed run's /predict requests counted after the restart, more than the ${predicts.sent} it was sent`);
  const unsaved = Math.max(0, base + acked - restored);
  if (unsaved > 0) tally.details.maxUnsavedMs = Math.max(Number(tally.details.maxUnsavedMs ?? 0), killedAt - predicts.acked[restored - base]!);
  tally.details.maxUnsavedRequests = Math.max(Number(tally.details.maxUnsavedRequests ?? 0), unsaved);
  tally.details.savedRequests = Number(tally.details.savedRequests ?? 0) + Math.min(acked, restored - base);
  predicts.sent = 0;
  predicts.acked = [];
  const answer = await probe(e.port);
  if (version !== null && answers.has(version)) {
    try {
      expect(answer).toEqual(answers.get(version));
    } catch {
      problems.push(`answers the probe rows unlike version ${version}: ${JSON.stringify(answer).slice(0, 200)}`);
    }
  }
  if (/damaged|cannot be served again/.test(e.stderr())) problems.push(`warned at start: ${e.stderr().trim().slice(0, 300)}`);
  return { problems, restored };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

describe('the edge runtime killed under load', () => {
  it(`comes back ready after ${UNDER_LOAD} kills under load and ${WHILE_STARTING} while starting, serving a whole bundle with its counters (seed ${seed})`, async () => {
    // The count the current run started from, as saved (a fresh folder: 0); `predicts` holds what was sent to it since.
    let base = 0;
    let lastAcked = (await servedVersion(edge!.port))!;
    const plans: (KillPlan & { whileStarting: boolean })[] = shuffle([
      // The first one late enough that answers older than SAVED_AFTER_MS must be in the restored counters.
      ...killPlans(random, UNDER_LOAD, 4500, 0).map((p, i) => ({ ...p, delayMs: i === 0 ? SAVED_AFTER_MS + 500 + Math.round(p.delayMs / 3) : 300 + p.delayMs, whileStarting: false })),
      ...killPlans(random, WHILE_STARTING, 0, WHILE_STARTING).map((p) => ({ ...p, whileStarting: true })),
    ]);
    let pushes = 0;
    let pushesUnderWay = 0;
    for (const [i, plan] of plans.entries()) {
      const e = edge!;
      let allowed = new Set([lastAcked]);
      let killedAt: number;
      let phase: string;
      if (plan.whileStarting) {
        // Stop this run cleanly, then kill the next one while it starts (reading the bundle, the pinned key, the state).
        await stopEdge(e);
        const proc = spawn(process.execPath, [SERVER, '--bundle', bundles[0]!.dir, '--port', '0', '--state', state, '--token', TOKEN, '--admin-token', ADMIN], { stdio: ['ignore', 'pipe', 'pipe'] });
        const out = await killAfter(proc, plan.delayMs);
        killedAt = Date.now();
        if (!out.killed) throw new Error(`the endpoint ended by itself while starting (${out.code}): ${out.stderr}`);
        phase = out.stdout.includes('"listening"') ? 'listening' : out.stdout.includes('"model"') ? 'model loaded' : 'starting';
      } else {
        // Clients posting /predict, and bundles pushed one after another, until the kill.
        let stop = false;
        let underWay: string | null = null;
        pushLog = [];
        const clients = Array.from({ length: CLIENTS }, async () => {
          let n = 0;
          while (!stop) {
            const r = await predict(e.port, objects(frame, bundles[0]!.sig, (n * 7) % 600, ((n * 7) % 600) + 5));
            n++;
            if (r === null) break;
          }
        });
        const pusher = (async () => {
          while (!stop) {
            const next = lastAcked === '1' ? '2' : '1';
            underWay = next;
            pushes++;
            pushLog.push(`${Date.now()} push ${next}`);
            const r = await callEdge(e.port, 'POST', '/admin/bundle', archives[Number(next) - 1], ADMIN).catch(() => null);
            pushLog.push(`${Date.now()} ${r ? `${r.status} ${r.text.slice(0, 60)}` : 'no answer'}`);
            if (r === null) break;
            if (r.status !== 200) throw new Error(`a push was refused: ${r.status} ${r.text}`);
            lastAcked = next;
            underWay = null;
            await new Promise((res) => setTimeout(res, random() * 500));
          }
        })();
        const out = await killAfter(e.proc, plan.delayMs);
        killedAt = Date.now();
        pushLog.push(`${killedAt} killed; its admin log ended with ${JSON.stringify(e.lines.filter((l) => 'admin' in l).slice(-3))}`);
        stop = true;
        await Promise.all([...clients, pusher]);
        // The push acknowledged last, or the one whose answer the kill cut off.
        allowed = new Set([lastAcked]);
        if (underWay !== null) {
          allowed.add(underWay);
          pushesUnderWay++;
        }
        phase = underWay !== null ? 'pushing a bundle' : 'serving';
        if (!out.killed) throw new Error(`the endpoint ended by itself under load (${out.code}): ${e.stderr()}`);
      }
      edge = await start();
      const { problems, restored } = await verifyRestart(edge, allowed, killedAt, base);
      base = restored;
      lastAcked = (await servedVersion(edge.port)) ?? lastAcked;
      countKill(tally, { ...plan, early: plan.whileStarting }, phase, problems, `edge kill ${i + 1}`);
      tally.reruns++;
      if (!problems.length) tally.rerunsOk++;
    }
    tally.details.pushes = pushes;
    tally.details.killedWhilePushing = pushesUnderWay;
    tally.details.mode = MODE;
    expect(tally.problems).toEqual([]);
    expect(tally.kills).toBeGreaterThanOrEqual(UNDER_LOAD);
    expect(await stopEdge(edge!)).toBe(0);
    edge = null;
  }, FULL ? 900_000 : 80_000);

  it('exits cleanly after the kills: the state folder has one owner again', async () => {
    const e = await start();
    expect(fs.readFileSync(path.join(state, 'endpoint.pid'), 'utf8')).toBe(String(e.proc.pid));
    expect(await stopEdge(e)).toBe(0);
    expect(fs.existsSync(path.join(state, 'endpoint.pid'))).toBe(false);
    await exited(e.proc);
  }, 30_000);
});
