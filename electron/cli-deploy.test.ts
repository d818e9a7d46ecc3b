import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployResult, EndpointSummary } from '../shared/deploy';
import { freePort } from './test-support/free-port';
import { privateCliBuildAsync, userErrorLine } from './test-support/cli-build';
import { writePumpsCsv } from './test-support/pumps';

/**
 * millwright serve, endpoints, deploy and rollback as a person runs them:
 * the compiled CLI, an endpoint started with `millwright serve` on loopback,
 * real ONNX Runtime on both sides.
 */

const TOKEN = 'cli-predict-token-0123456789abcd';
const ADMIN = 'cli-admin-token-0123456789abcdef';

let root: string;
let ws: string;
let cli: ReturnType<typeof privateCliBuildAsync>;
let bundle: string;
let served: { proc: ChildProcess; url: string; stdout: () => string };

/** `millwright serve ARGS` left running; resolves once the endpoint listens. */
function serve(args: string[]): Promise<{ proc: ChildProcess; url: string; stdout: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: path.join(root, 'home') };
  delete env.MILLWRIGHT_HOME;
  const proc = spawn(process.execPath, [path.join(root, 'app', 'bin', 'millwright.cjs'), 'serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /\{"listening":\{"host":"[^"]*","port":(\d+)\}\}/.exec(out);
      if (m) resolve({ proc, url: `http://127.0.0.1:${m[1]}`, stdout: () => out });
    });
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    proc.once('exit', (code) => reject(new Error(`millwright serve exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error(`millwright serve did not listen: ${err}`)), 30_000);
  });
}

function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) resolve({ code: proc.exitCode, signal: null });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

async function json<T>(args: string[], expectStatus = 0, workspace = ws): Promise<T> {
  const r = await cli([...args, '--json', '--workspace', workspace], { timeoutMs: 120_000 });
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(expectStatus);
  return JSON.parse(r.stdout) as T;
}

async function trainPumps(workspace: string, algorithms: string[]): Promise<void> {
  const imp = await cli(['import', path.join(root, 'pumps.csv'), '--name', 'pumps', '--workspace', workspace, '--json'], { timeoutMs: 60_000 });
  expect(imp.status, imp.stderr).toBe(0);
  for (const a of algorithms) {
    const tr = await cli(['train', 'pumps', '--target', 'Trip', '--algorithms', a, '--model', 'P-101', '--time-budget', '10', '--workspace', workspace, '--json'], { timeoutMs: 120_000 });
    expect(tr.status, tr.stderr).toBe(0);
  }
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-cli-deploy-'));
  ws = path.join(root, 'ws');
  cli = privateCliBuildAsync(root);
  await cli.ready();
  writePumpsCsv(root);
  await trainPumps(ws, ['hgb', 'logistic']);
  bundle = path.join(root, 'p101-v1.tar.gz');
  const ex = await cli(['export', 'P-101@1', '--out', bundle, '--workspace', ws], { timeoutMs: 60_000 });
  expect(ex.status, ex.stderr).toBe(0);
  served = await serve([bundle, '--port', '0', '--token', TOKEN, '--admin-token', ADMIN]);
}, 400_000);

afterAll(async () => {
  if (served && served.proc.exitCode === null) {
    served.proc.kill('SIGKILL');
    await exited(served.proc);
  }
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('millwright serve', () => {
  it('runs the bundle in the foreground: the state folder beside it, answers with the given token', async () => {
    expect(fs.existsSync(path.join(root, 'state'))).toBe(true);
    expect(served.stdout()).toContain('"model":{"name":"P-101","version":');
    const res = await fetch(`${served.url}/predict`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ Line: 'A', Flow: 80, Vibration: 5 }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { predictions: { prediction: string }[] }).predictions[0]!.prediction).toMatch(/^(ok|trip)$/);
    // The tokens went by environment, not on the command line: the process list does not show them.
    const cmdline = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => { try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; } }).filter((c) => c.includes('server.js') && c.includes(bundle));
    expect(cmdline.length).toBeGreaterThan(0);
    for (const c of cmdline) expect(c).not.toContain(TOKEN);
  });

  it("passes on the endpoint's exit code and stops cleanly on SIGTERM", async () => {
    const bad = await cli(['serve', bundle, '--port', '0', '--token', 'short', '--state', path.join(root, 'state-2')], { timeoutMs: 30_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--token must be at least 16 characters/);
    const other = await serve([bundle, '--port', '0', '--state', path.join(root, 'state-3'), '--token', TOKEN, '--admin-token', ADMIN]);
    other.proc.kill('SIGTERM');
    expect(await exited(other.proc)).toEqual({ code: 0, signal: null });
    expect(other.stdout()).toContain('"stopped"');
    // Killed outright, millwright serve leaves no endpoint running without an owner: it stops with its parent.
    const orphan = await serve([bundle, '--port', '0', '--state', path.join(root, 'state-4'), '--token', TOKEN, '--admin-token', ADMIN, '--engine', 'main']);
    expect((await fetch(`${orphan.url}/v2/health/ready`)).status).toBe(200);
    orphan.proc.kill('SIGKILL');
    await exited(orphan.proc);
    const deadline = Date.now() + 15_000;
    let answering = true;
    while (answering && Date.now() < deadline) {
      answering = await fetch(`${orphan.url}/v2/health/ready`).then(() => true, () => false);
      if (answering) await new Promise((r) => setTimeout(r, 100));
    }
    expect(answering, 'the endpoint still answers after millwright serve was killed').toBe(false);
  }, 60_000);
});

describe('millwright endpoints, deploy and rollback', () => {
  it('adds the endpoint, deploys a second version with its checks passing, and rolls back', async () => {
    const added = await json<EndpointSummary>(['endpoints', 'add', 'line-3', '--url', served.url, '--token', TOKEN, '--admin-token', ADMIN]);
    expect(added).toEqual(expect.objectContaining({ name: 'line-3', kind: 'remote', status: 'up', canDeploy: true, model: { name: 'P-101', version: 1 } }));
    const list = await json<EndpointSummary[]>(['endpoints']);
    expect(list.map((e) => [e.name, e.status])).toEqual([['line-3', 'up']]);

    const r = await json<DeployResult>(['deploy', 'P-101@2', '--endpoint', 'line-3']);
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([['signature', true], ['health', true], ['smoke', true]]);
    expect(r.replaced).toEqual({ name: 'P-101', version: 1 });
    expect(r.curl).toContain('Bearer $TOKEN');

    // In words: what was deployed, each check, and how to call it.
    const text = await cli(['deploy', 'P-101@2', '--endpoint', 'line-3', '--workspace', ws], { timeoutMs: 120_000 });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Deployed P-101 version 2 to line-3 \(http:\/\/127\.0\.0\.1:\d+\), replacing P-101 version 2\./);
    expect(text.stdout).toMatch(/smoke\s+ok\s+\d+ test rows \(set aside when the model was trained\): the endpoint's answers match the app's/);
    expect(text.stdout).toContain('Call it:\n  curl -sS');

    const back = await json<EndpointSummary>(['rollback', '--endpoint', 'line-3']);
    expect(back.model).toEqual({ name: 'P-101', version: 1 });
    const status = await fetch(`${served.url}/admin/status`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(String(((await status.json()) as { model: { version: string | number } }).model.version)).toBe('1');
  }, 240_000);

  it('exits 1 and prints the checks when a check fails (a bundle signed by another workspace)', async () => {
    const other = path.join(root, 'other-ws');
    await trainPumps(other, ['logistic']);
    await json<EndpointSummary>(['endpoints', 'add', 'line-3', '--url', served.url, '--token', TOKEN, '--admin-token', ADMIN], 0, other);
    const r = await cli(['deploy', 'P-101', '--endpoint', 'line-3', '--workspace', other], { timeoutMs: 120_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^Deployed, but a check failed: P-101 version 1 to line-3/);
    expect(r.stdout).toMatch(/signature\s+FAILED\s+The endpoint refused the bundle: .*manifest\.sig does not verify/);
    const j = await cli(['deploy', 'P-101', '--endpoint', 'line-3', '--workspace', other, '--json'], { timeoutMs: 120_000 });
    expect(j.status).toBe(1);
    expect((JSON.parse(j.stdout) as DeployResult).ok).toBe(false);
  }, 300_000);

  it('says plainly when the endpoint cannot be reached or refuses the admin token', async () => {
    const port = await freePort();
    const gone = await json<EndpointSummary>(['endpoints', 'add', 'gone', '--url', `http://127.0.0.1:${port}`, '--token', TOKEN, '--admin-token', ADMIN]);
    expect(gone.status).toBe('down');
    const d = await cli(['deploy', 'P-101', '--endpoint', 'gone', '--workspace', ws], { timeoutMs: 60_000 });
    expect(d.status).toBe(1);
    expect(d.stderr.trim()).toBe(`millwright: Cannot reach http://127.0.0.1:${port} (connection refused: nothing listens there).`);

    await json<EndpointSummary>(['endpoints', 'add', 'wrong', '--url', served.url, '--token', TOKEN, '--admin-token', 'wrong-admin-token-0123456789abc']);
    const w = await cli(['deploy', 'P-101@2', '--endpoint', 'wrong', '--workspace', ws], { timeoutMs: 60_000 });
    expect(userErrorLine(w)).toBe(`millwright: ${served.url}: the admin token was refused (401). Check the admin token kept for this endpoint.`);
    const history = await cli(['audit', '--action', 'endpoint.deploy', '--json', '--workspace', ws]);
    const entries = JSON.parse(history.stdout) as { details: { name: string; ok: boolean } }[];
    expect(entries.filter((e) => e.details.name === 'wrong').map((e) => e.details.ok)).toEqual([false]);

    const removed = await json<{ removed: string }>(['endpoints', 'remove', 'wrong']);
    expect(removed).toEqual({ removed: 'wrong' });
    const list = await json<EndpointSummary[]>(['endpoints', 'list']);
    expect(list.map((e) => [e.name, e.status])).toEqual([['gone', 'down'], ['line-3', 'up']]);
  }, 120_000);

  it('refuses bad requests with exit 2 and one plain line', async () => {
    const cases: [string[], RegExp][] = [
      [['deploy', 'P-101'], /Give --endpoint NAME/],
      [['deploy', '--endpoint', 'line-3'], /Which model\? Usage: millwright deploy MODEL\[@VERSION\] --endpoint NAME/],
      [['deploy', 'nope', '--endpoint', 'line-3'], /no model called "nope"/i],
      [['deploy', 'P-101@9', '--endpoint', 'line-3'], /version 9/],
      [['deploy', 'P-101', '--endpoint', 'nowhere'], /There is no endpoint called "nowhere"\. Endpoints: "gone", "line-3"\./],
      [['rollback'], /Give --endpoint NAME/],
      [['endpoints', 'add', 'x'], /Give --url/],
      [['endpoints', 'add', 'x', '--url', 'http://a:1'], /--token T/],
      [['endpoints', 'add', 'bad/name', '--url', 'http://a:1', '--token', TOKEN], /name/],
      [['endpoints', 'add', 'x', '--url', 'not a url', '--token', TOKEN], /url/i],
      [['endpoints', 'add', 'x', '--url', 'http://a:1', '--token', 'short'], /token/],
      [['endpoints', 'add', 'line-3', '--url', 'http://a:1', '--token', TOKEN], /already exists/],
      [['endpoints', 'remove', 'nope'], /There is no endpoint called "nope"/],
      [['endpoints', 'frob'], /Unknown endpoints command "frob"/],
      [['serve'], /Which bundle\?/],
      [['serve', path.join(root, 'missing.tar.gz')], /missing\.tar\.gz does not exist/],
      [['serve', path.join(root, 'pumps.csv')], /pumps\.csv is not a bundle/],
      [['serve', bundle, '--port', '99999'], /--port must be a whole number from 0 to 65535/],
    ];
    for (const [args, pattern] of cases) {
      const r = await cli([...args, '--workspace', ws], { timeoutMs: 60_000 });
      const line = userErrorLine(r);
      expect(line, `${args.join(' ')} → ${r.status} ${r.stdout} ${r.stderr}`).not.toBeNull();
      expect(line, args.join(' ')).toMatch(pattern);
    }
    // --json gives the same reason as data.
    const j = await cli(['deploy', 'P-101', '--endpoint', 'nowhere', '--json', '--workspace', ws]);
    expect(j.status).toBe(2);
    expect(JSON.parse(j.stdout)).toEqual({ error: expect.objectContaining({ code: 'not_found' }) });
  }, 240_000);

  it('keeps the tokens out of the database, and lists the new commands in --help', async () => {
    const dbBytes = Buffer.concat(fs.readdirSync(ws).filter((f) => f.startsWith('millwright.db')).map((f) => fs.readFileSync(path.join(ws, f))));
    expect(dbBytes.includes(Buffer.from('line-3'))).toBe(true);
    for (const t of [TOKEN, ADMIN, 'wrong-admin-token-0123456789abc']) expect(dbBytes.includes(Buffer.from(t))).toBe(false);
    expect(fs.readFileSync(path.join(ws, 'keys', 'endpoints.json'), 'utf8')).toContain(ADMIN);
    const help = await cli(['--help']);
    for (const c of ['serve', 'endpoints', 'deploy', 'rollback']) expect(help.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    const one = await cli(['endpoints', '--help']);
    expect(one.stdout).toContain('millwright endpoints add NAME --url URL --token T [--admin-token T]');
  }, 60_000);
});
