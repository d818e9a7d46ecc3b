import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Input, MethodName, Output } from '../../../shared/api';
import type { Prediction } from '../../../shared/scoring';
import { createCore, type Core } from '../compose';
import { findModelVersion } from '../training/models';
import { checkWorkspace, restoreWorkspace } from './backup';

let root: string;
let core: Core;
let archive: string;

async function callOn<K extends MethodName>(c: Core, name: K, arg: Input<K> | Record<string, unknown>): Promise<Output<K>> {
  const env = await c.call(name, arg);
  if (!env.ok) throw Object.assign(new Error(env.error.message), { code: env.error.code });
  return env.value as Output<K>;
}

const ROWS = [
  { Flow: 80, Pressure: 10 },
  { Flow: 20, Pressure: 70 },
  { Flow: 61, Pressure: null },
];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-backup-'));
  core = createCore({ workspaceDir: path.join(root, 'ws') });
  const file = path.join(root, 'pumps.csv');
  const lines = ['Flow,Pressure,Trip'];
  for (let i = 0; i < 400; i++) lines.push(`${(i * 37) % 101},${(i * 53) % 89},${(i * 37) % 101 > 60 ? 1 : 0}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const inspected = await callOn(core, 'imports.inspect', { paths: [file] });
  const imp = await callOn(core, 'imports.analyze', { paths: [file], settings: inspected.settings, save: { name: 'pumps' } });
  expect((await core.jobs.wait(imp.id)).state).toBe('done');
  const job = await callOn(core, 'training.start', { dataset: 'pumps', task: 'binary', target: 'Trip', algorithms: ['hgb'], timeBudgetSeconds: 10, model: 'P-101' });
  expect((await core.jobs.wait(job.id)).state).toBe('done');
  await callOn(core, 'datasets.profile', { dataset: 'pumps' });
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('backup, restore and check', () => {
  it('finds nothing wrong in a healthy workspace', async () => {
    const r = await callOn(core, 'workspace.check', {});
    expect(r).toEqual(expect.objectContaining({ ok: true, database: 'ok', problems: [] }));
    // Columns, dictionaries, the profile, the model, its report and its ONNX graph.
    expect(r.referenced).toBeGreaterThanOrEqual(6);
    expect(r.blobs).toBeGreaterThanOrEqual(r.referenced);
  });

  it('round-trips: the restored workspace checks clean, and the model predicts the same', async () => {
    archive = path.join(root, 'backup.tar.gz');
    const b = await callOn(core, 'workspace.backup', { out: archive });
    expect(b.file).toBe(archive);
    expect(fs.existsSync(archive)).toBe(true);
    const target = path.join(root, 'restored');
    const r = await restoreWorkspace(archive, target);
    expect(fs.readdirSync(target).sort()).toEqual(['blobs', 'keys', 'millwright.db'].filter((n) => fs.existsSync(path.join(target, n))).sort());
    expect(checkWorkspace(target)).toEqual(expect.objectContaining({ ok: true, problems: [] }));
    expect(r.manifest.schemaVersion).toBe(core.ws.schemaVersion);
    const other = createCore({ workspaceDir: target });
    try {
      const a = (await callOn(core, 'models.predict', { model: 'P-101', rows: ROWS })) as Prediction[];
      const c = (await callOn(other, 'models.predict', { model: 'P-101', rows: ROWS })) as Prediction[];
      expect(c).toEqual(a);
      expect(findModelVersion(other.ws.db, 'P-101').onnxHash).toBe(findModelVersion(core.ws.db, 'P-101').onnxHash);
      const audit = other.ws.db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'model.version'").get() as { n: number };
      expect(audit.n).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('names a damaged blob and a missing one by what they hold', () => {
    const target = path.join(root, 'restored');
    const onnxBlob = (findModelVersion(core.ws.db, 'P-101').onnxBlob)!;
    const reportBlob = findModelVersion(core.ws.db, 'P-101').reportBlob;
    fs.appendFileSync(path.join(target, 'blobs', onnxBlob), 'x');
    fs.rmSync(path.join(target, 'blobs', reportBlob));
    const r = checkWorkspace(target);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Blob [0-9a-f]{12}… is damaged: its content does not match its name \(it holds the ONNX graph of P-101@1\)\.$/),
        expect.stringMatching(/^Missing blob [0-9a-f]{12}…: the report of P-101@1 cannot be read\.$/),
      ]),
    );
  });

  it('refuses a damaged archive, something that is not a backup, and a folder that is not empty, leaving nothing behind', async () => {
    const raw = zlib.gunzipSync(fs.readFileSync(archive));
    // Flip one byte inside the database file's contents (after the manifest's and the database's headers).
    const at = raw.indexOf(Buffer.from('SQLite format 3'));
    raw[at + 4000] = raw[at + 4000]! ^ 0xff;
    const damaged = path.join(root, 'damaged.tar.gz');
    fs.writeFileSync(damaged, zlib.gzipSync(raw));
    await expect(restoreWorkspace(damaged, path.join(root, 'r1'))).rejects.toThrow(/damaged\.tar\.gz is damaged: millwright\.db does not match its checksum/);
    expect(fs.existsSync(path.join(root, 'r1'))).toBe(false);
    const notBackup = path.join(root, 'notes.tar.gz');
    fs.writeFileSync(notBackup, zlib.gzipSync(Buffer.from('hello')));
    await expect(restoreWorkspace(notBackup, path.join(root, 'r2'))).rejects.toThrow(/notes\.tar\.gz is not a Millwright backup/);
    await expect(restoreWorkspace(archive, path.join(root, 'ws'))).rejects.toThrow(/is not empty/);
    expect(fs.readdirSync(root).filter((f) => f.includes('.part-'))).toEqual([]);
  });
});
