import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, Input, MethodName, Output } from '../../../shared/api';
import type { UseCaseSummary } from '../../../shared/registry';
import { createCore, type Core } from '../compose';

let root: string;
let core: Core;

async function call<K extends MethodName>(name: K, arg: Input<K> | Record<string, unknown>): Promise<Output<K>> {
  const env = await core.call(name, arg);
  if (!env.ok) throw Object.assign(new Error(env.error.message), { code: env.error.code });
  return env.value as Output<K>;
}

async function importCsv(name: string, lines: string[]): Promise<void> {
  const file = path.join(root, `${name}.csv`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const inspected = await call('imports.inspect', { paths: [file] });
  const job = await call('imports.analyze', { paths: [file], settings: inspected.settings, save: { name } });
  expect((await core.jobs.wait(job.id)).state).toBe('done');
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-usecases-'));
  core = createCore({ workspaceDir: path.join(root, 'ws') });
  const rows = ['Flow,Pressure,Trip'];
  for (let i = 0; i < 300; i++) rows.push(`${(i * 37) % 101},${(i * 53) % 89},${(i * 37) % 101 > 60 ? 1 : 0}`);
  await importCsv('pump P-101', rows);
  await importCsv('boiler', ['Temp,Load', ...Array.from({ length: 50 }, (_, i) => `${20 + i},${i % 7}`)]);
  const job = await call('training.start', { dataset: 'pump P-101', task: 'binary', target: 'Trip', algorithms: ['logistic'], timeBudgetSeconds: 10, model: 'P-101 trips' });
  expect((await core.jobs.wait(job.id)).state).toBe('done');
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('use cases', () => {
  it('holds a goal and a KPI, with datasets and models under it and its health at a glance', async () => {
    const created = await call('useCases.create', { name: 'Pump P-101 trips', goal: 'Warn 2 hours before pump P-101 trips', kpi: 'missed trips per month' });
    expect(created).toEqual(expect.objectContaining({ name: 'Pump P-101 trips', health: 'empty', datasets: [], models: [] }));
    await call('useCases.assign', { useCase: 'Pump P-101 trips', kind: 'dataset', name: 'pump P-101' });
    await call('useCases.assign', { useCase: 'Pump P-101 trips', kind: 'model', name: 'P-101 trips' });
    let [u] = (await call('useCases.list', {})) as UseCaseSummary[];
    expect(u!.datasets).toEqual(['pump P-101']);
    expect(u!.models).toEqual([expect.objectContaining({ name: 'P-101 trips', versions: 1, production: null, metric: 'ROC AUC' })]);
    expect(u!.health).toBe('attention');
    expect(u!.status).toBe('1 model trained; none is in production yet.');
    await call('models.promote', { model: 'P-101 trips', version: 1, alias: 'production', reason: 'first one in service' });
    [u] = (await call('useCases.list', {})) as UseCaseSummary[];
    expect(u!.health).toBe('ok');
    expect(u!.status).toBe('In production: P-101 trips version 1.');
  });

  it('refuses an empty goal, a missing KPI and a duplicate name, naming the field', async () => {
    await expect(call('useCases.create', { name: 'X', goal: ' ', kpi: 'k' })).rejects.toThrow(/goal in plain words/);
    await expect(call('useCases.create', { name: 'X', goal: 'g', kpi: '' })).rejects.toThrow(/KPI that matters/);
    await expect(call('useCases.create', { name: 'Pump P-101 trips', goal: 'g', kpi: 'k' })).rejects.toThrow(/already exists/);
    await expect(call('useCases.assign', { useCase: 'Nope', kind: 'model', name: 'P-101 trips' })).rejects.toThrow(/no use case called "Nope"/);
  });
});

describe('the audit log', () => {
  it('filters by use case (everything under it), by object, by person and by kind of action', async () => {
    const under = (await call('audit.list', { useCase: 'Pump P-101 trips', limit: 1000 })) as AuditEntry[];
    const actions = new Set(under.map((e) => e.action));
    expect(actions).toEqual(new Set(['dataset.create', 'dataset.version', 'model.create', 'model.version', 'model.alias', 'usecase.create', 'usecase.assign']));
    expect(under.some((e) => JSON.stringify(e.details).includes('boiler'))).toBe(false);
    const boiler = (await call('audit.list', { object: 'boiler', limit: 1000 })) as AuditEntry[];
    expect(boiler.map((e) => e.action).sort()).toEqual(['dataset.create', 'dataset.version']);
    const models = (await call('audit.list', { action: 'model', limit: 1000 })) as AuditEntry[];
    expect(models.length).toBeGreaterThan(0);
    expect(models.every((e) => e.action.startsWith('model.'))).toBe(true);
    expect(await call('audit.people', {})).toEqual([core.ws.who]);
    expect(await call('audit.list', { who: 'somebody else', limit: 10 })).toEqual([]);
  });

  it('exports as CSV a spreadsheet reads: a header, one line per entry, quotes where needed', async () => {
    const r = await call('audit.csv', { useCase: 'Pump P-101 trips' });
    const lines = r.csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,at,who,action,about,details');
    expect(lines).toHaveLength(r.rows + 1);
    const alias = lines.find((l) => l.includes(',model.alias,'))!;
    expect(alias).toMatch(/,model\.alias,P-101 trips,"\{""model"":""P-101 trips"",""alias"":""production"",.*""reason"":""first one in service""\}"$/);
  });
});
