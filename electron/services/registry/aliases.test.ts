import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Input, MethodName, ModelSummary, Output } from '../../../shared/api';
import { createCore, type Core } from '../compose';
import { findModelVersion } from '../training/models';

let root: string;
let core: Core;

async function call<K extends MethodName>(name: K, arg: Input<K> | Record<string, unknown>): Promise<Output<K>> {
  const env = await core.call(name, arg);
  if (!env.ok) throw Object.assign(new Error(env.error.message), { code: env.error.code });
  return env.value as Output<K>;
}

async function refusal(name: MethodName, arg: Record<string, unknown>): Promise<{ code: string; message: string }> {
  const env = await core.call(name, arg);
  if (env.ok) throw new Error(`expected ${name} to be refused`);
  return env.error;
}

function auditOf(action: string): Record<string, unknown>[] {
  return (core.ws.db.prepare('SELECT details FROM audit_log WHERE action = ? ORDER BY id').all(action) as { details: string }[]).map((r) => JSON.parse(r.details) as Record<string, unknown>);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-aliases-'));
  core = createCore({ workspaceDir: path.join(root, 'ws') });
  const file = path.join(root, 'pumps.csv');
  const lines = ['Flow,Pressure,Trip'];
  for (let i = 0; i < 400; i++) lines.push(`${(i * 37) % 101},${(i * 53) % 89},${(i * 37) % 101 > 60 ? 1 : 0}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const inspected = await call('imports.inspect', { paths: [file] });
  const imp = await call('imports.analyze', { paths: [file], settings: inspected.settings, save: { name: 'pumps' } });
  expect((await core.jobs.wait(imp.id)).state).toBe('done');
  for (let k = 0; k < 3; k++) {
    const job = await call('training.start', { dataset: 'pumps', task: 'binary', target: 'Trip', algorithms: ['logistic'], timeBudgetSeconds: 10, model: 'P-101 trips', seed: k });
    expect((await core.jobs.wait(job.id)).state).toBe('done');
  }
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('aliases and archiving', () => {
  it('points production at a version with a reason, audited, and NAME@production finds it', async () => {
    const v = await call('models.promote', { model: 'P-101 trips', version: 2, alias: 'production', reason: 'Best recall on the March trips' });
    expect(v.version).toBe(2);
    expect(v.aliases).toEqual(['production']);
    expect(findModelVersion(core.ws.db, 'P-101 trips@production').version).toBe(2);
    const list = (await call('models.list', {})) as ModelSummary[];
    expect(list[0]!.production).toBe(2);
    expect(list[0]!.challenger).toBeNull();
    expect(auditOf('model.alias')).toEqual([expect.objectContaining({ model: 'P-101 trips', alias: 'production', from: null, to: 2, reason: 'Best recall on the March trips' })]);
  });

  it('moves production to another version, recording where it came from', async () => {
    await call('models.promote', { model: 'P-101 trips', version: 3, alias: 'production', reason: 'Retrained with April data' });
    expect(findModelVersion(core.ws.db, 'P-101 trips@production').version).toBe(3);
    expect(findModelVersion(core.ws.db, 'P-101 trips', 2).aliases).toEqual([]);
    expect(auditOf('model.alias').at(-1)).toEqual(expect.objectContaining({ from: 2, to: 3, reason: 'Retrained with April data' }));
  });

  it('refuses a move without a reason, to the version it already has, or making one version both aliases', async () => {
    expect((await refusal('models.promote', { model: 'P-101 trips', version: 1, alias: 'challenger', reason: '  ' })).message).toMatch(/Say why/);
    expect((await refusal('models.promote', { model: 'P-101 trips', version: 3, alias: 'production', reason: 'again' })).message).toMatch(/already points at version 3/);
    const both = await refusal('models.promote', { model: 'P-101 trips', version: 3, alias: 'challenger', reason: 'try it' });
    expect(both.code).toBe('conflict');
    expect(both.message).toMatch(/already production/);
    expect((await refusal('models.promote', { model: 'P-101 trips', version: 9, alias: 'challenger', reason: 'try it' })).message).toMatch(/no version 9/);
    expect(auditOf('model.alias')).toHaveLength(2);
  });

  it('makes the challenger production in one step, clearing the challenger alias', async () => {
    await call('models.promote', { model: 'P-101 trips', version: 2, alias: 'challenger', reason: 'on trial for a month' });
    const v = await call('models.promote', { model: 'P-101 trips', version: 2, alias: 'production', reason: 'a month without a missed trip' });
    expect(v.aliases).toEqual(['production']);
    expect(findModelVersion(core.ws.db, 'P-101 trips', 3).aliases).toEqual([]);
    const moves = auditOf('model.alias').slice(-2);
    expect(moves).toEqual([
      expect.objectContaining({ alias: 'challenger', from: 2, to: null, reason: 'Became production: a month without a missed trip' }),
      expect.objectContaining({ alias: 'production', from: 3, to: 2 }),
    ]);
    // Back as it was for the next test.
    await call('models.promote', { model: 'P-101 trips', version: 3, alias: 'production', reason: 'back to version 3' });
  });

  it('archives a version without an alias, skips it as the default, refuses one that is production, and restores', async () => {
    expect((await refusal('models.archive', { model: 'P-101 trips', version: 3 })).message).toMatch(/is production\. Point that alias at another version first/);
    const archived = await call('models.archive', { model: 'P-101 trips', version: 2, reason: 'superseded' });
    expect(archived.archivedAt).not.toBeNull();
    expect((await refusal('models.promote', { model: 'P-101 trips', version: 2, alias: 'challenger', reason: 'back on trial' })).message).toMatch(/archived\. Restore it/);
    // The newest version that is not archived is the default.
    await call('models.promote', { model: 'P-101 trips', version: 1, alias: 'challenger', reason: 'compare with the old one' });
    expect(findModelVersion(core.ws.db, 'P-101 trips').version).toBe(3);
    const restored = await call('models.restore', { model: 'P-101 trips', version: 2 });
    expect(restored.archivedAt).toBeNull();
    expect(auditOf('model.archive')).toEqual([expect.objectContaining({ version: 2, reason: 'superseded' })]);
    expect(auditOf('model.restore')).toEqual([expect.objectContaining({ version: 2 })]);
  });
});
