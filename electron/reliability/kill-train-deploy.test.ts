/**
 * Kill tests, `millwright train` and `millwright deploy` (issue 11): the
 * compiled CLI killed with SIGKILL at random moments (in the first 250 ms,
 * anywhere in the run, in the work, just after "Writing the report"). After
 * each kill, as the next commands see it: `millwright check` finds the
 * workspace consistent, no task is left running (the killed training is
 * marked 'interrupted'), only whole model versions are listed (each with the
 * model's hash, blobs present with the right content), the endpoint serves
 * the bundle it had or the one being deployed (ready, answering as that
 * version does), and the same command run again gives the same model, or
 * passes its deployment checks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployResult } from '../../shared/deploy';
import { callEdge, killAll, startEdge, type Edge } from '../test-support/edge-child';
import { writePumpsCsv } from '../test-support/pumps';
import { afterKill, cliJson, countKill, FULL, killPlans, killRun, killSeed, MODE, newTally, phaseOf, quickCli, recordKills, seededRandom, timedRun, type Cli, type KindTally, type Trigger } from './support/kill-harness';

const KILLS = FULL ? { train: 25, deploy: 25 } : { train: 2, deploy: 2 };
const EARLY = FULL ? 4 : 0;
const TOKEN = 'kill-cli-predict-token-0123456789';
const ADMIN = 'kill-cli-admin-token-0123456789ab';
/** Training that the time budget never cuts short, so the same data and seed give the same model bytes. */
const TRAIN = ['train', 'pumps', '--target', 'Trip', '--algorithms', 'hgb,logistic', '--model', 'K', '--time-budget', '120', '--seed', '7'];

const seed = killSeed();
const random = seededRandom(seed);
const tallies: Record<'train' | 'deploy', KindTally> = { train: newTally(), deploy: newTally() };
const started = Date.now();

let root: string;
let cli: Cli;
let edge: Edge | null = null;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-kill-train-'));
  cli = quickCli(root);
  await cli.ready();
}, 120_000);

afterAll(() => {
  killAll();
  recordKills('train-deploy', tallies, { seed, seconds: Math.round((Date.now() - started) / 1000) });
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('millwright train and deploy, killed', () => {
  const ws = () => path.join(root, 'ws-train');
  let reference: { modelHash: string; ms: number; workFromMs: number };

  beforeAll(async () => {
    writePumpsCsv(root);
    const imp = await cliJson<{ rows: number }>(cli, ws(), ['import', path.join(root, 'pumps.csv'), '--name', 'pumps']);
    expect(imp.ok, imp.ok ? '' : imp.problem).toBe(true);
    const r = await timedRun(cli, [...TRAIN, '--json', '--workspace', ws()]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { version: number; modelHash: string };
    expect(out.version).toBe(1);
    reference = { modelHash: out.modelHash, ms: r.ms, workFromMs: r.workFromMs };
  }, 120_000);

  it(`training: only whole model versions with the model's hash, the task interrupted, and training again gives the same model (${KILLS.train} kills)`, async () => {
    const t = tallies.train;
    const plans = killPlans(random, KILLS.train, reference.ms, EARLY, reference.workFromMs, /Writing the report/);
    for (const [k, plan] of plans.entries()) {
      const before = await cliJson<{ versions: { version: number }[] }>(cli, ws(), ['models', 'show', 'K']);
      const count = before.ok ? before.value.versions.length : 0;
      const killed = await killRun(cli, t, [...TRAIN, '--json', '--workspace', ws()], plan);
      if (!killed) continue;
      const problems: string[] = [];
      const after = await afterKill(cli, ws(), 'Training "K" on pumps');
      problems.push(...after.problems);
      // The killed run's task, when it got as far as starting one (a kill after it ended leaves it 'done').
      for (const j of after.jobs.filter((x) => Date.parse(x.createdAt) >= killed.startedAt - 1000)) {
        if (j.state === 'interrupted') t.interruptedMarked++;
        else if (j.state !== 'done') problems.push(`the killed training's task is '${j.state}', not 'interrupted'`);
      }
      const listed = await cliJson<{ versions: { version: number; modelHash: string }[] }>(cli, ws(), ['models', 'show', 'K']);
      let now = count;
      if (!listed.ok) problems.push(listed.problem);
      else {
        now = listed.value.versions.length;
        // Runs that ended before their kill moment each added a version.
        const was = count + killed.completed;
        if (now !== was && now !== was + 1) problems.push(`${now} versions of K are listed after the kill; there were ${was}`);
        for (const v of listed.value.versions) if (v.modelHash !== reference.modelHash) problems.push(`K version ${v.version} is listed with model hash ${v.modelHash.slice(0, 12)}…, not the model's ${reference.modelHash.slice(0, 12)}…`);
      }
      t.reruns++;
      const again = await cliJson<{ version: number; modelHash: string }>(cli, ws(), TRAIN);
      const rerunProblems: string[] = [];
      if (!again.ok) rerunProblems.push(`training again failed: ${again.problem}`);
      else if (again.value.version !== now + 1 || again.value.modelHash !== reference.modelHash) {
        rerunProblems.push(`training again gave version ${again.value.version} with hash ${again.value.modelHash.slice(0, 12)}…; expected version ${now + 1} with ${reference.modelHash.slice(0, 12)}…`);
      }
      if (!rerunProblems.length) t.rerunsOk++;
      countKill(t, killed.plan, phaseOf(killed.stderr, after.jobs.some((j) => Date.parse(j.createdAt) >= killed.startedAt - 1000)), [...problems, ...rerunProblems], `train kill ${k + 1}`);
    }
    t.details.expectedMs = reference.ms;
    t.details.workFromMs = reference.workFromMs;
    t.details.mode = MODE;
    expect(t.problems).toEqual([]);
    expect(t.kills).toBeGreaterThanOrEqual(KILLS.train - 1);
  }, FULL ? 1_800_000 : 60_000);

  it(`deploying: the endpoint serves the bundle it had or the new one, never a broken one, and deploying again passes its checks (${KILLS.deploy} kills)`, async () => {
    const t = tallies.deploy;
    // Two versions that answer differently: K@1 (gradient boosting) and a logistic regression.
    const logistic = await cliJson<{ version: number }>(cli, ws(), ['train', 'pumps', '--target', 'Trip', '--algorithms', 'logistic', '--model', 'K', '--time-budget', '30']);
    expect(logistic.ok, logistic.ok ? '' : logistic.problem).toBe(true);
    const versions = ['1', String(logistic.ok ? logistic.value.version : 0)];
    const bundle = path.join(root, 'k1.tar.gz');
    expect((await cli(['export', 'K@1', '--out', bundle, '--workspace', ws()], { timeoutMs: 60_000 })).status).toBe(0);
    edge = await startEdge(bundle, ['--state', path.join(root, 'edge-state'), '--token', TOKEN, '--admin-token', ADMIN]);
    const port = edge.port;
    const added = await cliJson(cli, ws(), ['endpoints', 'add', 'line-3', '--url', `http://127.0.0.1:${port}`, '--token', TOKEN, '--admin-token', ADMIN]);
    expect(added.ok, added.ok ? '' : added.problem).toBe(true);
    const served = async () => {
      const r = await callEdge(port, 'GET', '/admin/status', undefined, ADMIN);
      return r.status === 200 ? String((r.body as { model: { version: string } }).model.version) : `status ${r.status}`;
    };
    const probe = async () => {
      const r = await callEdge(port, 'POST', '/predict', [{ Line: 'A', Flow: 80, Vibration: 5 }, { Line: 'C', Flow: 20, Vibration: 1 }], TOKEN);
      return r.status === 200 ? (r.body as { predictions: unknown }).predictions : { status: r.status, body: r.text };
    };
    const answers = new Map<string, unknown>([['1', await probe()]]);
    // One deployment uninterrupted: how long it takes, and what the other version answers.
    const t0 = Date.now();
    const first = await cliJson<DeployResult>(cli, ws(), ['deploy', `K@${versions[1]}`, '--endpoint', 'line-3']);
    const expectedMs = Date.now() - t0;
    expect(first.ok && first.value.ok, first.ok ? JSON.stringify(first.value.checks) : first.problem).toBe(true);
    answers.set(versions[1]!, await probe());
    expect(answers.get(versions[1]!)).not.toEqual(answers.get('1'));

    // Moments seen from outside, as deploy writes nothing while it works: its bundle written to the workspace's tmp/ (the push follows), and the endpoint logging the push (the checks and the record follow).
    const poll = (seen: () => boolean) => (fire: () => void) => {
      const timer = setInterval(() => seen() && fire(), 2);
      return () => clearInterval(timer);
    };
    const tmp = path.join(ws(), 'tmp');
    const bundles = () => fs.readdirSync(tmp).filter((n) => n.startsWith('deploy-'));
    const bundleWritten: Trigger = {
      label: 'the bundle was written',
      withinMs: 40,
      // A new one: killed deploys leave theirs behind.
      watch: (fire) => {
        const before = new Set(bundles());
        return poll(() => bundles().some((n) => !before.has(n)))(fire);
      },
    };
    let pushesLogged = 0;
    const pushes = () => edge!.lines.filter((l) => (l.admin as { action?: string } | undefined)?.action === 'push').length;
    const pushAnswered: Trigger = { label: 'the endpoint took the push', withinMs: 60, watch: (fire) => ((pushesLogged = pushes()), poll(() => pushes() > pushesLogged)(fire)) };
    const plans = killPlans(random, KILLS.deploy, expectedMs, EARLY, 0, bundleWritten, pushAnswered);
    for (const [k, plan] of plans.entries()) {
      const had = await served();
      const target = had === versions[0] ? versions[1]! : versions[0]!;
      const killed = await killRun(cli, t, ['deploy', `K@${target}`, '--endpoint', 'line-3', '--json', '--workspace', ws()], plan);
      if (!killed) continue;
      const problems: string[] = [];
      const after = await afterKill(cli, ws(), '');
      problems.push(...after.problems);
      const now = await served();
      if (now !== had && now !== target) problems.push(`the endpoint serves ${now} after the kill; it served ${had} and was being sent ${target}`);
      const ready = await callEdge(port, 'GET', '/v2/health/ready', undefined, null);
      if (ready.status !== 200) problems.push(`/v2/health/ready answered ${ready.status} after the kill`);
      const answer = await probe();
      if (JSON.stringify(answer) !== JSON.stringify(answers.get(now))) problems.push(`the endpoint answers unlike version ${now}: ${JSON.stringify(answer).slice(0, 200)}`);
      t.reruns++;
      const again = await cliJson<DeployResult>(cli, ws(), ['deploy', `K@${target}`, '--endpoint', 'line-3']);
      const rerunProblems: string[] = [];
      if (!again.ok) rerunProblems.push(`deploying again failed: ${again.problem}`);
      else if (!again.value.ok) rerunProblems.push(`deploying again failed its checks: ${JSON.stringify(again.value.checks)}`);
      else if ((await served()) !== target) rerunProblems.push(`after deploying again the endpoint serves ${await served()}, not ${target}`);
      if (!rerunProblems.length) t.rerunsOk++;
      countKill(t, killed.plan, now === target ? 'after the push' : 'before the push', [...problems, ...rerunProblems], `deploy kill ${k + 1}`);
    }
    // What the kills left in the workspace's scratch folder (the bundle being built is removed only when deploy ends).
    t.details.leftInTmp = fs.readdirSync(path.join(ws(), 'tmp')).filter((n) => n.startsWith('deploy-')).length;
    t.details.expectedMs = expectedMs;
    t.details.mode = MODE;
    expect(t.problems).toEqual([]);
    expect(t.kills).toBeGreaterThanOrEqual(KILLS.deploy - 1);
  }, FULL ? 1_800_000 : 60_000);
});
