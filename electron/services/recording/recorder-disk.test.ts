/**
 * A recording whose disk fills up and then has room again, on a real tmpfs
 * (root can mount one here) with a real Mosquitto broker: the state says
 * Failed with the reason while nothing can be written, and goes back to
 * Recording by itself once everything that waited in memory is written,
 * without a reconnect. No sample is lost.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_MOSQUITTO, Mosquitto } from '../../test-support/mosquitto';
import { scanBuffer, readBuffer } from './buffer';
import { mqttDriver } from './mqtt';
import { Recorder, type RecorderStatus } from './recorder';

let tmp: string;
let disk: string;
let mounted = false;
let broker: Mosquitto | null = null;
let pub: MqttClient | null = null;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-recorder-disk-'));
  disk = path.join(tmp, 'disk');
  fs.mkdirSync(disk);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs', disk], { stdio: 'pipe' });
    mounted = true;
  } catch {
    process.stderr.write('recorder-disk.test: skipped: a tmpfs cannot be mounted here (needs root).\n');
  }
  if (!mounted || !HAVE_MOSQUITTO) return;
  broker = await Mosquitto.start();
  pub = connect(broker.url, { clientId: `test-disk-pub-${process.pid}` });
  await new Promise<void>((resolve, reject) => {
    pub!.once('connect', () => resolve());
    pub!.once('error', reject);
  });
});

afterAll(async () => {
  await pub?.endAsync(true);
  await broker?.close();
  if (mounted) execFileSync('umount', [disk], { stdio: 'pipe' });
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const publish = (value: number) => new Promise<void>((resolve, reject) => pub!.publish('plant/flow', String(value), { qos: 1 }, (err) => (err ? reject(err) : resolve())));

/** Fills the disk to the last byte; returns the filler file. */
function fill(): string {
  const filler = path.join(disk, 'filler');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

describe.skipIf(!HAVE_MOSQUITTO)('a recording on a disk that fills up', () => {
  it('says Failed with the reason while nothing can be written, then Recording again by itself once there is room, keeping every sample', async (ctx) => {
    if (!mounted) ctx.skip();
    const states: RecorderStatus[] = [];
    const dir = path.join(disk, 'rec');
    const recorder = new Recorder({
      dir,
      tags: [{ id: 'plant/flow', name: 'flow' }],
      intervalMs: 1000,
      driver: mqttDriver,
      connectOptions: () => ({ settings: { kind: 'mqtt', url: broker!.url, topic: 'plant/#', payload: 'number', rejectUnauthorized: true }, pkiDir: path.join(tmp, 'pki'), trusted: new Set() }),
      onStatus: (s) => states.push({ ...s }),
      buffer: { flushMs: 50, syncMs: 100 },
    });
    recorder.start();
    try {
      await until('recording', () => recorder.state.state === 'recording');
      let v = 0;
      for (; v < 20; v++) await publish(v);
      await until('the first samples on disk', () => scanBuffer(dir).samples === 20);

      const filler = fill();
      // More than the page the segment file already has (tmpfs gives room a 4 KB page at a time).
      for (; v < 420; v++) await publish(v);
      await until('the disk-full state', () => recorder.state.state === 'failed');
      expect(recorder.state.message).toMatch(/^Not recording: the disk holding the workspace is full\. Free some space/);
      expect(scanBuffer(dir).samples, 'not everything could be written').toBeLessThan(420);

      fs.rmSync(filler);
      await until('recording again, without a reconnect', () => recorder.state.state === 'recording');
      for (; v < 430; v++) await publish(v);
      await until('every sample on disk', () => scanBuffer(dir).samples === 430);
      expect(states.map((s) => s.state)).toEqual(['recording', 'failed', 'recording']);
      expect(recorder.gaps(), 'the disk being full is not a gap in the data: every sample was kept').toEqual([]);
    } catch (e) {
      await recorder.stop().catch(() => undefined);
      throw e;
    }
    await recorder.stop();
    expect([...readBuffer(dir)].flat().map((s) => s.value)).toEqual(Array.from({ length: 430 }, (_, i) => i));
  });
});
