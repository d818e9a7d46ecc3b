import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployResult, EndpointSummary } from '../../../shared/deploy';
import type { Prediction } from '../../../shared/scoring';
import { coreCaller, importCsv, trainModel } from '../../test-support/core-call';
import { freePort } from '../../test-support/free-port';
import { pumpsModel, writePumpsCsv } from '../../test-support/pumps';
import { createCore, type Core } from '../compose';
import { AuditLog } from '../workspace/audit';
import { runtimeCommand, waitForListening } from './local';

/**
 * Deployments end to end in the core: real edge runtimes as child processes
 * on loopback, real ONNX Runtime on both sides, the real workspace database.
 */

const RUNTIME = path.resolve(__dirname, '..', '..', '..', 'resources', 'runtime');
let root: string;
let wsDir: string;
let core: Core;
const call = coreCaller(() => core);
const children: ChildProcess[] = [];

/** An endpoint "operations" runs: the edge runtime started with a bundle and its own tokens. */
async function startRemote(bundle: string, tokens: { token: string; adminToken: string }): Promise<{ url: string; proc: ChildProcess }> {
  const state = fs.mkdtempSync(path.join(root, 'remote-state-'));
  const cmd = runtimeCommand(RUNTIME, ['--bundle', bundle, '--state', state, '--port', '0'], { MILLWRIGHT_TOKEN: tokens.token, MILLWRIGHT_ADMIN_TOKEN: tokens.adminToken });
  const proc = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  const port = await waitForListening(proc, 30_000, () => undefined);
  return { url: `http://127.0.0.1:${port}`, proc };
}

async function post(url: string, token: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

async function adminStatus(url: string, adminToken: string): Promise<{ model: { name: string; version: string; bundleSha256: string }; previous: { version: string } | null; startedAt: string }> {
  const res = await fetch(`${url}/admin/status`, { headers: { Authorization: `Bearer ${adminToken}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}

const ROWS = [{ Line: 'A', Flow: 80, Vibration: 5 }, { Line: 'C', Flow: 20, Vibration: 1 }, { Line: 'B', Flow: 65, Vibration: 3.5 }];

/** The endpoint's answers for ROWS equal the app's (ONNX Runtime here) for that version. */
async function expectSameAnswers(url: string, token: string, version: number): Promise<void> {
  const r = await post(`${url}/predict`, token, ROWS);
  expect(r.status).toBe(200);
  const got = (r.json as { predictions: { prediction: string; probabilities: Record<string, number> }[] }).predictions;
  const app = (await call('models.predict', { model: 'P-101', version, rows: ROWS })) as Prediction[];
  expect(got.map((p) => p.prediction)).toEqual(app.map((p) => p.prediction));
  got.forEach((p, i) => {
    for (const [cls, prob] of Object.entries(app[i]!.probabilities!)) expect(Math.abs(p.probabilities[cls]! - prob)).toBeLessThanOrEqual(1e-6);
  });
}

const tokensFile = () => path.join(wsDir, 'keys', 'endpoints.json');
const tokensOf = (name: string) => (JSON.parse(fs.readFileSync(tokensFile(), 'utf8')) as Record<string, { token: string; adminToken: string }>)[name]!;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-deploy-'));
  wsDir = path.join(root, 'ws');
  core = createCore({ workspaceDir: wsDir });
  await pumpsModel(core, call, writePumpsCsv(root), ['hgb', 'logistic']);
}, 180_000);

afterAll(async () => {
  await core?.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('a local endpoint ("Run on this PC")', () => {
  let first: DeployResult;

  it('starts with the version, passes the signature, health and smoke checks, and answers as the app does', async () => {
    first = await call('deploy.run', { model: 'P-101', version: 1, target: { kind: 'local' } });
    expect(first.checks.map((c) => [c.name, c.ok])).toEqual([['signature', true], ['health', true], ['smoke', true]]);
    expect(first.ok).toBe(true);
    expect(first).toEqual(expect.objectContaining({ model: 'P-101', version: 1, endpoint: 'this-pc', file: null, replaced: null }));
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.checks[2]!.detail).toMatch(/^\d+ test rows \(set aside when the model was trained\): the endpoint's answers match the app's \(labels identical, largest difference 0\)\.$/);
    expect(first.checks[0]!.detail).toMatch(/signed by the workspace key SHA256:.*serves this bundle \(P-101 version 1/);
    const { token, adminToken } = tokensOf('this-pc');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(adminToken).not.toBe(token);
    await expectSameAnswers(first.url!, token, 1);
    // The curl line carries the real token (the app knows it) and a real row, and works as printed.
    expect(first.curl).toContain(`Bearer ${token}`);
    const curl = spawnSync('/bin/sh', ['-c', first.curl!], { encoding: 'utf8' });
    expect(curl.status, curl.stderr).toBe(0);
    expect((JSON.parse(curl.stdout) as { predictions: { prediction: string }[] }).predictions[0]!.prediction).toMatch(/^(ok|trip)$/);
    const [e] = await call('endpoints.list', {});
    expect(e).toEqual(expect.objectContaining({ name: 'this-pc', kind: 'local', status: 'up', canDeploy: true, model: { name: 'P-101', version: 1 }, lastError: null }));
  }, 120_000);

  it('takes a second version through the admin API without a restart; rollback puts the first back; history shows both', async () => {
    const { token, adminToken } = tokensOf('this-pc');
    const before = await adminStatus(first.url!, adminToken);
    const second = await call('deploy.run', { model: 'P-101', version: 2, target: { kind: 'local' } });
    expect(second.ok, JSON.stringify(second.checks)).toBe(true);
    expect(second.url).toBe(first.url);
    expect(second.replaced).toEqual({ name: 'P-101', version: 1 });
    const after = await adminStatus(first.url!, adminToken);
    expect(after.model.version).toBe('2');
    expect(after.startedAt).toBe(before.startedAt);
    await expectSameAnswers(first.url!, token, 2);

    const rolled = await call('deploy.rollback', { endpoint: 'this-pc' });
    expect(rolled.model).toEqual({ name: 'P-101', version: 1 });
    expect(rolled.previous).toEqual({ name: 'P-101', version: 2 });
    expect((await adminStatus(first.url!, adminToken)).model.version).toBe('1');
    await expectSameAnswers(first.url!, token, 1);

    const history = await call('endpoints.history', { name: 'this-pc' });
    expect(history.map((h) => [h.action, h.model, h.version, h.ok])).toEqual([['rollback', 'P-101', 1, true], ['deploy', 'P-101', 2, true], ['deploy', 'P-101', 1, true]]);
    expect(history[0]!.by).toBe(core.ws.who);
    const audit = AuditLog.list(core.ws.db, { limit: 50, action: 'endpoint' }).map((a) => a.action);
    expect(audit.filter((a) => a === 'endpoint.deploy')).toHaveLength(2);
    expect(audit).toEqual(expect.arrayContaining(['endpoint.add', 'endpoint.start', 'endpoint.rollback']));
  }, 120_000);

  it('stops and starts with its state; the app starts it again when it opens', async () => {
    const { token } = tokensOf('this-pc');
    const stopped = await call('endpoints.stop', { name: 'this-pc' });
    expect(stopped.status).toBe('stopped');
    await expect(fetch(`${first.url}/v2/health/ready`)).rejects.toThrow();
    const refreshed = await call('endpoints.refresh', { name: 'this-pc' });
    expect(refreshed.status).toBe('stopped');
    const started = await call('endpoints.start', { name: 'this-pc' });
    expect(started).toEqual(expect.objectContaining({ status: 'up', url: first.url, model: { name: 'P-101', version: 1 } }));
    await expectSameAnswers(first.url!, token, 1);
    // Closing the app stops the child; opening it again brings the endpoint back, serving what it served.
    await core.close();
    await expect(fetch(`${first.url}/v2/health/ready`)).rejects.toThrow();
    core = createCore({ workspaceDir: wsDir });
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${first.url}/v2/health/ready`).catch(() => null);
      if (r?.status === 200) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    await expectSameAnswers(first.url!, token, 1);
    expect((await call('endpoints.refresh', { name: 'this-pc' })).status).toBe('up');
  }, 120_000);
  it('on a port another program holds: a clear error, nothing deployed, and the next try starts afresh', async () => {
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(port, '127.0.0.1', () => r()));
    try {
      await expect(call('deploy.run', { model: 'P-101', target: { kind: 'local', name: 'busy-pc', port } })).rejects.toThrow(`Port ${port} on this PC is already in use by another program. Choose another port, or none to take any free one.`);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
    expect(await call('endpoints.history', { name: 'busy-pc' })).toEqual([]);
    expect(fs.existsSync(path.join(wsDir, 'endpoints', 'busy-pc', 'first-bundle.tar.gz'))).toBe(false);
    const r = await call('deploy.run', { model: 'P-101', target: { kind: 'local', name: 'busy-pc', port } });
    expect(r.ok).toBe(true);
    expect(r.url).toBe(`http://127.0.0.1:${port}`);
    await call('endpoints.remove', { name: 'busy-pc' });
  }, 120_000);
  it('that stops by itself is marked down with the reason, and starts again', async () => {
    const pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(path.join(wsDir, 'endpoints', 'this-pc', 'state'));
      } catch {
        return false;
      }
    });
    expect(pids).toHaveLength(1);
    process.kill(Number(pids[0]), 'SIGKILL');
    let e = (await call('endpoints.list', {})).find((x) => x.name === 'this-pc')!;
    for (let i = 0; i < 50 && e.status !== 'down'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      e = (await call('endpoints.list', {})).find((x) => x.name === 'this-pc')!;
    }
    expect(e.status).toBe('down');
    expect(e.lastError).toMatch(/^The endpoint stopped by itself \(SIGKILL\)\. Start it again, or see .*endpoint\.log\.$/);
    const again = await call('endpoints.start', { name: 'this-pc' });
    expect(again).toEqual(expect.objectContaining({ status: 'up', lastError: null, url: first.url, model: { name: 'P-101', version: 1 } }));
  }, 60_000);
});

describe('an endpoint operations runs', () => {
  const tokens = { token: 'remote-predict-token-0123456789', adminToken: 'remote-admin-token-0123456789ab' };
  let remote: { url: string; proc: ChildProcess };

  beforeAll(async () => {
    const b = await call('models.exportBundle', { model: 'P-101', version: 1, out: path.join(root, 'p101-v1.tar.gz') });
    remote = await startRemote(b.file, tokens);
  }, 60_000);

  it('with a wrong admin token: added but marked down with the reason; a deployment fails clearly and records nothing deployed', async () => {
    const added = await call('endpoints.add', { name: 'line-3', url: remote.url, token: tokens.token, adminToken: 'not-the-admin-token-0123456789' });
    expect(added.status).toBe('down');
    expect(added.lastError).toBe(`${remote.url}: the admin token was refused (401). Check the admin token kept for this endpoint.`);
    await expect(call('deploy.run', { model: 'P-101', version: 2, target: { kind: 'endpoint', name: 'line-3' } })).rejects.toThrow(/the admin token was refused \(401\)/);
    expect(await call('endpoints.history', { name: 'line-3' })).toEqual([]);
    expect((await adminStatus(remote.url, tokens.adminToken)).model.version).toBe('1');
    const failed = AuditLog.list(core.ws.db, { limit: 5, action: 'endpoint.deploy' })[0]!;
    expect(failed.details).toEqual(expect.objectContaining({ name: 'line-3', ok: false }));
    await call('endpoints.remove', { name: 'line-3' });
    expect(tokensOf('line-3')).toBeUndefined();
  });

  it('takes a deployment with its checks, then a rollback', async () => {
    await call('endpoints.add', { name: 'line-3', url: `${remote.url}/`, ...tokens });
    const [e] = (await call('endpoints.list', {})).filter((x: EndpointSummary) => x.name === 'line-3');
    expect(e).toEqual(expect.objectContaining({ url: remote.url, kind: 'remote', status: 'up', canDeploy: true, model: { name: 'P-101', version: 1 } }));
    const r = await call('deploy.run', { model: 'P-101@2', target: { kind: 'endpoint', name: 'line-3' } });
    expect(r.checks.map((c) => c.ok)).toEqual([true, true, true]);
    expect(r.replaced).toEqual({ name: 'P-101', version: 1 });
    // The app does not print a remote endpoint's token.
    expect(r.curl).toMatch(/^curl -sS -H "Authorization: Bearer \$TOKEN" -H "Content-Type: application\/json" -d '\{"[^']+\}' http:\/\/127\.0\.0\.1:\d+\/predict$/);
    await expectSameAnswers(remote.url, tokens.token, 2);
    const back = await call('deploy.rollback', { endpoint: 'line-3' });
    expect(back.model).toEqual({ name: 'P-101', version: 1 });
    await expectSameAnswers(remote.url, tokens.token, 1);
    expect((await call('endpoints.history', { name: 'line-3' })).map((h) => [h.action, h.version])).toEqual([['rollback', 1], ['deploy', 2]]);
    // The lineage of each version ends at the endpoints it went to, and says what they serve now.
    const steps = async (version: number) => (await call('models.lineage', { model: 'P-101', version })).nodes.filter((n) => n.kind === 'deployment').map((n) => [n.title, n.subtitle]);
    expect(await steps(2)).toEqual([['Deployed to this-pc', 'serves P-101 version 1 now'], ['Deployed to busy-pc', 'the endpoint was removed since'], ['Deployed to line-3', 'serves P-101 version 1 now']]);
    expect(await steps(1)).toEqual([['Deployed to this-pc', 'serves it now']]);
  }, 120_000);

  it('without its admin token: watched through /metrics, not deployed to', async () => {
    const e = await call('endpoints.add', { name: 'watch-only', url: remote.url, token: tokens.token });
    expect(e).toEqual(expect.objectContaining({ status: 'up', canDeploy: false, model: { name: 'P-101', version: 1 }, lastError: null }));
    expect(e.requests).toBeGreaterThan(0);
    await expect(call('deploy.run', { model: 'P-101', target: { kind: 'endpoint', name: 'watch-only' } })).rejects.toThrow('The workspace has no admin token for "watch-only", so it cannot deploy to it. Remove it and add it again with --admin-token.');
    await expect(call('deploy.rollback', { endpoint: 'watch-only' })).rejects.toThrow(/no admin token/);
    await call('endpoints.remove', { name: 'watch-only' });
  });

  it('refuses a bundle signed by another workspace: the signature check fails and the deployment is recorded as failed', async () => {
    const other = createCore({ workspaceDir: path.join(root, 'other-ws') });
    try {
      // The same data, trained in another workspace (another signing key).
      const callOther = coreCaller(() => other);
      await pumpsModel(other, callOther, path.join(root, 'pumps.csv'), ['logistic']);
      await callOther('endpoints.add', { name: 'line-3', url: remote.url, ...tokens });
      const r = await callOther('deploy.run', { model: 'P-101', target: { kind: 'endpoint', name: 'line-3' } });
      expect(r.ok).toBe(false);
      expect(r.checks[0]!.ok).toBe(false);
      expect(r.checks[0]!.detail).toMatch(/^The endpoint refused the bundle: .*manifest\.sig does not verify with the workspace key pinned at install/);
      expect(r.checks.slice(1).every((c) => !c.ok)).toBe(true);
      expect((await callOther('endpoints.history', {})).map((h) => h.ok)).toEqual([false]);
    } finally {
      await other.close();
    }
    expect((await adminStatus(remote.url, tokens.adminToken)).model.version).toBe('1');
  }, 120_000);

  it('that cannot be reached: kept as down with the reason; deploying to it says so', async () => {
    const port = await freePort();
    const added = await call('endpoints.add', { name: 'gone', url: `http://127.0.0.1:${port}`, token: 'some-token-of-sixteen-chars', adminToken: 'another-token-of-sixteen' });
    expect(added.status).toBe('down');
    expect(added.lastError).toBe(`Cannot reach http://127.0.0.1:${port} (connection refused: nothing listens there).`);
    expect(added.lastContact).toBeNull();
    await expect(call('deploy.run', { model: 'P-101', target: { kind: 'endpoint', name: 'gone' } })).rejects.toThrow(`Cannot reach http://127.0.0.1:${port} (connection refused: nothing listens there).`);
    await expect(call('deploy.rollback', { endpoint: 'gone' })).rejects.toThrow(/Cannot reach/);
    expect(await call('endpoints.history', { name: 'gone' })).toEqual([]);
    await expect(call('deploy.run', { model: 'P-101', target: { kind: 'endpoint', name: 'nowhere' } })).rejects.toThrow(/There is no endpoint called "nowhere"/);
  }, 60_000);
});

describe('a model that reads history (window features and lags)', () => {
  it("passes the smoke test: the endpoint's window sees the same past rows as the app", async () => {
    const file = path.join(root, 'kiln.csv');
    const lines = ['Time,Temperature [C],Pressure [bar],Fault'];
    for (let i = 0; i < 600; i++) {
      const t = new Date(Date.UTC(2024, 2, 1) + i * 60_000).toISOString();
      const phase = i % 50;
      const temp = 200 + 10 * Math.sin(i / 7) + (phase >= 40 ? (phase - 40) * 3 : 0) + ((i * 7919) % 13) / 10;
      lines.push(`${t},${temp.toFixed(2)},${(3 + Math.cos(i / 5)).toFixed(3)},${phase >= 45 ? 'yes' : 'no'}`);
    }
    fs.writeFileSync(file, lines.join('\n') + '\n');
    await importCsv(core, call, file, 'kiln', { timeColumn: 'Time' });
    await trainModel(core, call, { dataset: 'kiln', task: 'binary', target: 'Fault', inputs: ['Temperature', 'Pressure'], timeColumn: 'Time', windowMinutes: 10, lags: [1, 3], algorithms: ['hgb'], timeBudgetSeconds: 10, model: 'kiln-fault' });
    const r = await call('deploy.run', { model: 'kiln-fault', target: { kind: 'local', name: 'kiln-pc' } });
    expect(r.checks.map((c) => [c.name, c.ok]), JSON.stringify(r.checks)).toEqual([['signature', true], ['health', true], ['smoke', true]]);
    expect(r.checks[2]!.detail).toMatch(/^20 test rows \(set aside when the model was trained\): the endpoint's answers match the app's/);
    // Without the past the same rows get other answers, so the check above did compare windows.
    const { token } = tokensOf('kiln-pc');
    const rows = lines.slice(481, 501).map((l) => l.split(',')).map((c) => ({ Time: c[0], Temperature: Number(c[1]), Pressure: Number(c[2]), source: 'no-past' }));
    const alone = await post(`${r.url}/predict`, token, rows);
    const withPast = await post(`${r.url}/predict`, token, lines.slice(461, 501).map((l) => l.split(',')).map((c) => ({ Time: c[0], Temperature: Number(c[1]), Pressure: Number(c[2]), source: 'with-past' })));
    const probs = (j: unknown) => (j as { predictions: { probabilities: Record<string, number> }[] }).predictions.map((p) => Object.values(p.probabilities)[1]);
    expect(probs(alone.json)).not.toEqual(probs(withPast.json).slice(20));
    await call('endpoints.remove', { name: 'kiln-pc' });
    expect(fs.existsSync(path.join(wsDir, 'endpoints', 'kiln-pc'))).toBe(false);
  }, 180_000);
});

describe('an anomaly model', () => {
  it('passes the smoke test on flags and scores', async () => {
    await trainModel(core, call, { dataset: 'pumps', task: 'anomaly', inputs: ['Flow', 'Vibration'], algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'pump-odd' });
    const r = await call('deploy.run', { model: 'pump-odd', target: { kind: 'local', name: 'odd-pc' } });
    expect(r.checks.map((c) => c.ok), JSON.stringify(r.checks)).toEqual([true, true, true]);
    expect(r.checks[2]!.detail).toMatch(/^\d+ test rows \(set aside when the model was trained\): the endpoint's answers match the app's \(flags identical, largest difference 0\)\.$/);
    await call('endpoints.remove', { name: 'odd-pc' });
  }, 120_000);
});

describe('tokens', () => {
  it('are kept in keys/endpoints.json (0600), never in the database', () => {
    expect(fs.statSync(tokensFile()).mode & 0o777).toBe(0o600);
    const all = JSON.parse(fs.readFileSync(tokensFile(), 'utf8')) as Record<string, { token: string; adminToken?: string }>;
    const secrets = Object.values(all).flatMap((t) => [t.token, t.adminToken].filter((x): x is string => Boolean(x)));
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    core.ws.db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = Buffer.concat(fs.readdirSync(wsDir).filter((f) => f.startsWith('millwright.db')).map((f) => fs.readFileSync(path.join(wsDir, f))));
    expect(bytes.length).toBeGreaterThan(10_000);
    for (const s of [...secrets, 'not-the-admin-token-0123456789']) expect(bytes.includes(Buffer.from(s)), s.slice(0, 6)).toBe(false);
    // The endpoint names are there, so the search itself works.
    expect(bytes.includes(Buffer.from('line-3'))).toBe(true);
  });
});
