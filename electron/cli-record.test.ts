/**
 * `millwright record` and `millwright recordings` as a person (or a script)
 * runs them, against a real node-opcua server on loopback: bad flags exit 2
 * before anything is saved; a recording with a duration ends by itself; a
 * SIGKILL in the middle of recording loses at most the last second, the
 * recording is then marked interrupted, and what it holds saves as a dataset.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceSettingsSchema, type Recording } from '../shared/recording';
import { recordSettings, type RecordCli } from './cli-record';
import { readBuffer } from './services/recording/buffer';
import { Workspace } from './services/workspace/workspace';
import { privateCliBuildAsync, userErrorLine } from './test-support/cli-build';
import { simulatedValue, startOpcUaServer, type RunningOpcUaServer } from './test-support/opcua-server';

let root: string;
let wsDir: string;
let cli: ReturnType<typeof privateCliBuildAsync>;
let server: RunningOpcUaServer;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-cli-record-'));
  wsDir = path.join(root, 'ws');
  cli = privateCliBuildAsync(root);
  server = await startOpcUaServer();
  await cli.ready();
}, 300_000);

afterAll(async () => {
  await server?.stop({ removePki: true });
  if (root) fs.rmSync(root, { recursive: true, force: true });
}, 30_000);

function count(table: string): number {
  if (!fs.existsSync(path.join(wsDir, 'millwright.db'))) return 0;
  const ws = Workspace.open(wsDir, { who: 'test' });
  try {
    return (ws.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    ws.close();
  }
}

const COUNTER = 'ns=1;s=Pump1.Counter';

describe('millwright record', () => {
  it('refuses bad flags and unreachable servers with one line, exit 2, and saves nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['record', 'opcua', 'http://x:1', '--tags', 'a'], /is not an OPC UA address; it looks like opc\.tcp:\/\//],
      [['record', 'opcua', server.url], /Which tags\? Give --tags/],
      [['record', 'opcua', server.url, '--tags', COUNTER, '--interval', 'fast'], /--interval must be a duration like 500ms/],
      [['record', 'opcua', server.url, '--tags', COUNTER, '--security', 'maybe'], /--security must be none, sign or encrypt/],
      [['record', 'opcua', server.url, '--tags', COUNTER, '--user', 'op'], /needs its password: .*--password-env VAR/],
      [['record', 'opcua', 'opc.tcp://127.0.0.1:1', '--tags', COUNTER], /Cannot record from the OPC UA server opc\.tcp:\/\/127\.0\.0\.1:1: .*127\.0\.0\.1:1/],
      [['record', 'mqtt', 'mqtt://127.0.0.1:1'], /Which topic\? Give --topic/],
      [['record', 'serial', 'COM1'], /Record from what\?/],
      [['record', 'mqtt', 'mqtt://gw:s3cret@127.0.0.1:1', '--topic', 't'], /not in the address \(it would be stored and shown in clear\)/],
      [['record', 'mqtt', 'mqtt://127.0.0.1:1', '--topic', 'plant/#', '--field', 'temperature'], /With --field, --topic must be one topic/],
      [['record', 'mqtt', 'mqtt://127.0.0.1:1', '--topic', 'plant/#', '--rebirth'], /--rebirth is for Sparkplug B edge nodes: it goes with --payload sparkplug \(got --payload json\)/],
      [['record', 'opcua', server.url, '--tags', COUNTER, '--rebirth'], /--rebirth is for Sparkplug B edge nodes on an MQTT broker/],
      // A known switch: the flags pass, and it is the broker that cannot be reached.
      [['record', 'mqtt', 'mqtt://127.0.0.1:1', '--topic', 'spBv1.0/#', '--payload', 'sparkplug', '--rebirth'], /Cannot record from the MQTT broker mqtt:\/\/127\.0\.0\.1:1/],
      [['recordings', 'save', '7'], /Name the dataset with --name NAME/],
      [['recordings', 'save', 'x', '--name', 'n'], /Which recording\? Give its number/],
    ];
    for (const [args, want] of cases) {
      const r = await cli([...args, '--workspace', wsDir], { timeoutMs: 60_000 });
      const line = userErrorLine(r);
      expect(line, `${args.join(' ')}\n${r.stderr}`).not.toBeNull();
      expect(line!, args.join(' ')).toMatch(want);
    }
    const tag = await cli(['record', 'opcua', server.url, '--tags', 'Pump1/NoSuchTag', '--workspace', wsDir], { timeoutMs: 60_000 });
    expect(userErrorLine(tag)).toMatch(/The server has no tag "Pump1\/NoSuchTag"/);
    // Checked before anything is saved: no source, no recording.
    expect(count('sources')).toBe(0);
    expect(count('recordings')).toBe(0);
  }, 240_000);

  it('records for the duration asked, by node id and by path, and prints the recording as JSON', async () => {
    const r = await cli(['record', 'opcua', server.url, '--tags', `${COUNTER},Line2/Conveyor/BeltSpeed`, '--interval', '200ms', '--duration', '3s', '--name', 'short', '--json', '--workspace', wsDir], { timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout) as Recording;
    expect(rec).toMatchObject({ name: 'short', state: 'stopped', message: 'Recorded for as long as asked.', gaps: 0, intervalMs: 200, durationMs: 3000 });
    expect(rec.tags.map((t) => [t.id, t.name])).toEqual([
      [COUNTER, 'Pump1.Counter'],
      ['ns=1;s=Line2.Conveyor.BeltSpeed', 'Conveyor.BeltSpeed'],
    ]);
    // 3 s at 200 ms for two tags: about 30 samples.
    expect(rec.samples).toBeGreaterThan(16);
    expect(rec.samples).toBeLessThan(40);
    const list = await cli(['recordings', '--json', '--workspace', wsDir], { timeoutMs: 60_000 });
    expect((JSON.parse(list.stdout) as { recordings: Recording[] }).recordings.map((x) => [x.id, x.state])).toEqual([[rec.id, 'stopped']]);
  }, 120_000);
});

describe('record mqtt --rebirth', () => {
  const flags = (f: Record<string, string | true>): RecordCli => ({
    json: false,
    out: () => undefined,
    err: () => undefined,
    core: () => {
      throw new Error('not used');
    },
    flag: (n) => (typeof f[n] === 'string' ? f[n] : undefined),
    has: (n) => n in f,
  });
  const URL = 'mqtt://broker.local:1883';

  it('asks Sparkplug edge nodes for their births only with --rebirth, and a saved source is reused only with the same choice', () => {
    const off = recordSettings('mqtt', URL, flags({ topic: 'spBv1.0/#', payload: 'sparkplug' }));
    const on = recordSettings('mqtt', URL, flags({ topic: 'spBv1.0/#', payload: 'sparkplug', rebirth: true }));
    expect(off).toMatchObject({ payload: 'sparkplug', rebirth: false });
    expect(on).toMatchObject({ payload: 'sparkplug', rebirth: true });
    // recordCommand reuses a saved source when these are equal.
    const canonical = (x: unknown) => JSON.stringify(SourceSettingsSchema.parse(x));
    expect(canonical(on)).not.toBe(canonical(off));
    // A source saved before the option existed is the same as one without --rebirth.
    expect(canonical({ kind: 'mqtt', url: URL, topic: 'spBv1.0/#', payload: 'sparkplug', rejectUnauthorized: true })).toBe(canonical(off));
  });
});

/** Starts `millwright record` and resolves once it reports samples; returns the child and the recording's id. */
async function recording(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; id: number; stderr: () => string }> {
  const child = await cli.start(['record', 'opcua', server.url, '--tags', COUNTER, '--interval', '100ms', ...args, '--workspace', wsDir]);
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const end = Date.now() + 60_000;
  while (!/Recording (\d+) "/.test(err)) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`record did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, id: Number(/Recording (\d+) "/.exec(err)![1]), stderr: () => err };
}

describe('a kill during recording', () => {
  it('loses at most the last second, every time, and leaves a recording that is marked interrupted and saves', async () => {
    for (let round = 0; round < 3; round++) {
      const { child, id } = await recording(['--name', `killed-${round}`]);
      // Kill at a random moment once samples flow.
      await new Promise((r) => setTimeout(r, 1500 + Math.random() * 2500));
      const exited = new Promise((r) => child.once('exit', r));
      const killedAt = Date.now();
      child.kill('SIGKILL');
      await exited;
      const dir = path.join(wsDir, 'recordings', String(id));
      const ts: number[] = [];
      for (const chunk of readBuffer(dir)) for (const s of chunk) {
        expect(s.value).toBe(simulatedValue('Pump1.Counter', s.t));
        ts.push(s.t);
      }
      expect(ts.length, `round ${round}`).toBeGreaterThan(5);
      // Everything the server sampled up to a second before the kill is on disk.
      expect(killedAt - ts[ts.length - 1]!, `round ${round}: last sample ${killedAt - ts[ts.length - 1]!} ms before the kill`).toBeLessThanOrEqual(1000);
      // And nothing is missing in between: one sample per 100 ms (the server's timestamps).
      for (let k = 1; k < ts.length; k++) expect(ts[k]! - ts[k - 1]!, `round ${round}, sample ${k}`).toBeLessThan(350);
    }
    const list = await cli(['recordings', '--json', '--workspace', wsDir], { timeoutMs: 60_000 });
    const recs = (JSON.parse(list.stdout) as { recordings: Recording[] }).recordings.filter((r) => r.name.startsWith('killed-'));
    expect(recs).toHaveLength(3);
    for (const r of recs) {
      expect(r.state).toBe('interrupted');
      expect(r.message).toMatch(/Millwright stopped while recording .*everything recorded before is kept/);
      expect(r.samples).toBeGreaterThan(5);
    }
    const saved = await cli(['recordings', 'save', String(recs[0]!.id), '--name', 'after-kill', '--interval', '1s', '--json', '--workspace', wsDir], { timeoutMs: 120_000 });
    expect(saved.status, saved.stderr).toBe(0);
    const summary = JSON.parse(saved.stdout) as { dataset: string; version: number; rows: number; columns: { name: string }[] };
    expect(summary).toMatchObject({ dataset: 'after-kill', version: 1 });
    expect(summary.rows).toBeGreaterThan(1);
    expect(summary.columns.map((c) => c.name)).toContain('Pump1.Counter');
  }, 240_000);

  it('Ctrl+C (SIGINT) stops cleanly with the recording printed', async () => {
    const { child, stderr } = await recording(['--name', 'interrupted-by-hand']);
    await new Promise((r) => setTimeout(r, 1500));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGINT');
    expect(await code, stderr()).toBe(0);
    expect(out).toMatch(/state {5}Stopped: Stopped by /);
  }, 120_000);
});
