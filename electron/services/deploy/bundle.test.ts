import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prediction } from '../../../shared/scoring';
import { coreCaller } from '../../test-support/core-call';
import { pumpsModel, writePumpsCsv } from '../../test-support/pumps';
import { createCore, type Core } from '../compose';
import { verifyManifest } from './bundle';

let root: string;
let core: Core;

const call = coreCaller(() => core);

function untar(file: string, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('tar', ['-xzf', file, '-C', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-bundle-'));
  core = createCore({ workspaceDir: path.join(root, 'ws') });
  await pumpsModel(core, call, writePumpsCsv(root), ['hgb']);
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('the deployment bundle', () => {
  it('is the same bytes every time, with the files operations needs', async () => {
    const a = await call('models.exportBundle', { model: 'P-101@1', out: path.join(root, 'a.tar.gz') });
    const b = await call('models.exportBundle', { model: 'P-101@1', out: path.join(root, 'b.tar.gz') });
    expect(a.sha256).toBe(b.sha256);
    expect(fs.readFileSync(a.file).equals(fs.readFileSync(b.file))).toBe(true);
    expect(a.files.slice(0, 2)).toEqual(['manifest.json', 'manifest.sig']);
    expect(a.files).toEqual(expect.arrayContaining(['model.onnx', 'runtime/server.js', 'runtime/lib/app.js', 'runtime/package.json', 'Dockerfile', 'k8s.yaml', 'millwright-edge.service', 'README.txt', 'workspace-key.pub.pem']));
    expect(a.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('is signed by the workspace key; any change to the manifest breaks the signature', async () => {
    const dir = path.join(root, 'a');
    untar(path.join(root, 'a.tar.gz'), dir);
    const manifest = fs.readFileSync(path.join(dir, 'manifest.json'));
    const sig = fs.readFileSync(path.join(dir, 'manifest.sig'), 'utf8');
    const pub = fs.readFileSync(path.join(core.ws.dir, 'keys', 'workspace-ed25519.pub.pem'), 'utf8');
    expect(fs.readFileSync(path.join(dir, 'workspace-key.pub.pem'), 'utf8')).toBe(pub);
    expect(verifyManifest(manifest, sig, pub)).toBe(true);
    const tampered = Buffer.from(manifest.toString('utf8').replace('"version": 1', '"version": 2'));
    expect(tampered.equals(manifest)).toBe(false);
    expect(verifyManifest(tampered, sig, pub)).toBe(false);
    const m = JSON.parse(manifest.toString('utf8')) as { name: string; version: number; files: Record<string, string> };
    expect(m).toEqual(expect.objectContaining({ name: 'P-101', version: 1 }));
    for (const [name, hash] of Object.entries(m.files)) {
      const { createHash } = await import('node:crypto');
      expect(createHash('sha256').update(fs.readFileSync(path.join(dir, name))).digest('hex'), name).toBe(hash);
    }
  });

  it('runs as README.txt says: node runtime/server.js --bundle . answers as the app does', async () => {
    const dir = path.join(root, 'a');
    const readme = fs.readFileSync(path.join(dir, 'README.txt'), 'utf8');
    expect(readme).toContain('node runtime/server.js --bundle . --port 8080');
    // The runtime's one dependency comes from the app's node_modules here (README's npm install needs the network).
    fs.symlinkSync(path.resolve('node_modules'), path.join(dir, 'runtime', 'node_modules'), 'junction');
    // Every option README.txt names for the runtime (not for the millwright command or npm) is one its --help lists.
    const help = spawnSync(process.execPath, ['runtime/server.js', '--help'], { cwd: dir, encoding: 'utf8' });
    expect(help.status).toBe(0);
    const runtimeLines = readme.split('\n').filter((l) => !/^\s*(millwright|cd runtime) /.test(l)).join('\n');
    const named = [...new Set(runtimeLines.match(/--[a-z][a-z-]+/g))];
    expect(named).toEqual(expect.arrayContaining(['--mqtt', '--mqtt-in', '--mqtt-out', '--mqtt-ca', '--engine']));
    for (const flag of named) expect(help.stdout, flag).toMatch(new RegExp(`${flag}\\b`));
    const token = 'a-test-token-of-32-characters-xx';
    const child = spawn(process.execPath, ['runtime/server.js', '--bundle', '.', '--port', '0', '--token', token, '--admin-token', 'another-admin-token-of-32-chars!'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString('utf8');
          for (const line of out.split('\n')) {
            try {
              const j = JSON.parse(line) as { listening?: { port: number } };
              if (j.listening) resolve(j.listening.port);
            } catch { /* not a whole line yet */ }
          }
        });
        child.on('exit', (code) => reject(new Error(`runtime exited ${code}`)));
        setTimeout(() => reject(new Error('runtime did not start')), 20_000);
      });
      const rows = [{ Line: 'A', Flow: 80, Vibration: 5 }, { Line: 'C', Flow: 20, Vibration: 1 }];
      const res = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(rows) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { predictions: { prediction: string; probabilities: Record<string, number> }[] };
      const app = (await call('models.predict', { model: 'P-101', rows })) as Prediction[];
      expect(body.predictions.map((p) => p.prediction)).toEqual(app.map((p) => p.prediction));
      expect(body.predictions[0]!.probabilities.trip).toBeCloseTo(app[0]!.probabilities!.trip!, 6);
      // README's own curl line works as printed, with a typical row of the training data.
      const curl = readme.split('\n').find((l) => l.trim().startsWith('curl -H "Authorization: Bearer $MILLWRIGHT_TOKEN"'))!.trim().replace(':8080/', `:${port}/`);
      expect(curl).toContain('"Line":"');
      const r = spawnSync('/bin/sh', ['-c', `${curl} -sS`], { encoding: 'utf8', env: { ...process.env, MILLWRIGHT_TOKEN: token } });
      expect(r.status, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { predictions: { prediction: string }[] }).predictions[0]!.prediction).toMatch(/^(ok|trip)$/);
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);
});
