import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorCycleSchema } from '../shared/monitor';
import { privateCliBuildAsync, userErrorLine } from './test-support/cli-build';
import { coreCaller } from './test-support/core-call';
import { pumpsModel, writePumpsCsv } from './test-support/pumps';
import { createCore, type Core } from './services/compose';
import { killEdge, predict, startRemoteEdge, type RemoteEdge } from './services/monitor/edge-fixture';

/**
 * `millwright monitor` as a person runs it: the compiled CLI against a
 * workspace with a real endpoint on loopback.
 */

let root: string;
let ws: string;
let cli: ReturnType<typeof privateCliBuildAsync>;
let edge: RemoteEdge;
const tokens = { token: 'cli-monitor-token-0123456789abcd', adminToken: 'cli-monitor-admin-0123456789abcd' };

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-cli-monitor-'));
  ws = path.join(root, 'ws');
  cli = privateCliBuildAsync(root);
  await cli.ready();
  let core: Core | undefined = createCore({ workspaceDir: ws, resumeEndpoints: false, monitor: false });
  const call = coreCaller(() => core!);
  try {
    await pumpsModel(core, call, writePumpsCsv(root), ['logistic']);
    const bundle = (await call('models.exportBundle', { model: 'P-101', version: 1, out: path.join(root, 'b.tar.gz') })).file;
    edge = await startRemoteEdge(bundle, path.join(root, 'state'), tokens);
    await call('endpoints.add', { name: 'kiln-2', url: edge.url, ...tokens });
  } finally {
    await core.close();
    core = undefined;
  }
  const rows = Array.from({ length: 40 }, (_, i) => ({ Line: ['A', 'B', 'C'][i % 3], Flow: (i * 37) % 101, Vibration: ((i * 53) % 89) / 10 }));
  for (let i = 0; i < 4; i++) expect(await predict(edge.url, tokens.token, rows)).toBe(200);
}, 180_000);

afterAll(async () => {
  if (edge) await killEdge(edge);
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('millwright monitor', () => {
  it('without --once polls in a loop, printing each round as JSON, until Ctrl+C', async () => {
    const child = spawn(process.execPath, [path.join(root, 'app', 'bin', 'millwright.cjs'), 'monitor', '--json', '--workspace', ws], { env: { ...process.env, HOME: path.join(root, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const firstLine = new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      setTimeout(() => reject(new Error(`no round printed: ${out}`)), 30_000);
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const round = MonitorCycleSchema.parse(JSON.parse(await firstLine));
    expect(round.endpoints.map((e) => [e.name, e.reachable, e.requests])).toEqual([['kiln-2', true, 4]]);
    const code = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    child.kill('SIGINT');
    expect(await code).toBe(0);
    // Stopped while a round may be printing: no stack, no unhandled rejection.
    expect(err).not.toMatch(/Unhandled|\n\s+at /);
  }, 60_000);

  it('--once --json prints one poll cycle in the MonitorCycle shape', async () => {
    const r = await cli(['monitor', '--once', '--json', '--workspace', ws], { timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const cycle = MonitorCycleSchema.parse(JSON.parse(r.stdout));
    expect(cycle.endpoints).toHaveLength(1);
    const e = cycle.endpoints[0]!;
    expect(e).toEqual(expect.objectContaining({ name: 'kiln-2', reachable: true, model: { name: 'P-101', version: 1 }, requests: 4, errors: 0, alerts: [] }));
    expect(e.lastContact).not.toBeNull();
    // 160 rows drawn from the training table: judged, and stable.
    expect(e.drift.verdict).toBe('stable');
    expect(e.drift.inputs.map((i) => i.name).sort()).toEqual(['Flow', 'Line', 'Vibration']);
    for (const i of e.drift.inputs) expect(i.psi).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('--once prints the verdicts in plain words', async () => {
    const r = await cli(['monitor', '--once', '--workspace', ws], { timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kiln-2: answering \(last contact \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\), serves P-101 version 1\.\n {2}Last hour: 4 requests, 0 errors, 99% answered within [\d.]+ ms\.\n {2}Drift: stable\.\n/);
    expect(r.stdout).toMatch(/^ {4}Flow: stable \(PSI [\d.e-]+, (ks|wasserstein) [\d.e-]+\)$/m);
  }, 60_000);

  it('bad arguments exit 2 with one line', async () => {
    for (const args of [['monitor', 'kiln-2'], ['monitor', '--once=yes'], ['monitor', '--every', '5']]) {
      const r = await cli([...args, '--workspace', ws]);
      expect(userErrorLine(r), `${args.join(' ')}: ${r.stdout}${r.stderr}`).not.toBeNull();
    }
    expect(userErrorLine(await cli(['monitor', 'kiln-2', '--workspace', ws]))).toBe('millwright: "monitor" takes no names (got "kiln-2"). Usage: millwright monitor [--once] [--json]');
  }, 60_000);
});
