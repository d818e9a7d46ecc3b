import crypto from 'node:crypto';
import { AppError } from '../../../shared/errors';
import type { UseCaseSummary } from '../../../shared/registry';
import { listModels } from '../training/models';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';

interface UseCaseRow {
  id: string;
  name: string;
  goal: string;
  kpi: string;
  created_at: string;
  created_by: string;
}

function clean(text: string | undefined, field: string, what: string, max: number): string {
  const t = (text ?? '').trim();
  if (!t) throw new AppError('bad_input', `Give the use case ${what}.`, field);
  if (t.length > max) throw new AppError('bad_input', `The ${what} is longer than ${max} characters; keep it short.`, field);
  return t;
}

function find(db: ReadableDb, ref: string): UseCaseRow {
  const row = db.prepare('SELECT * FROM use_cases WHERE id = ? OR name = ?').get(ref, ref) as UseCaseRow | undefined;
  if (!row) throw new AppError('not_found', `There is no use case called "${ref}".`, 'useCase');
  return row;
}

export function listUseCases(db: ReadableDb): UseCaseSummary[] {
  const rows = db.prepare('SELECT * FROM use_cases ORDER BY name').all() as UseCaseRow[];
  const models = listModels(db);
  return rows.map((u) => {
    const datasets = (db.prepare('SELECT name FROM datasets WHERE use_case_id = ? ORDER BY name').all(u.id) as { name: string }[]).map((d) => d.name);
    const names = new Set((db.prepare('SELECT name FROM models WHERE use_case_id = ?').all(u.id) as { name: string }[]).map((m) => m.name));
    const mine = models.filter((m) => names.has(m.name)).map((m) => ({ name: m.name, versions: m.versions, production: m.production, metric: m.latest.metric.label, value: m.latest.metrics[m.latest.metric.key] ?? null }));
    const live = mine.filter((m) => m.production !== null);
    const health: UseCaseSummary['health'] = live.length ? 'ok' : mine.length ? 'attention' : 'empty';
    const status = live.length
      ? `In production: ${live.map((m) => `${m.name} version ${m.production}`).join(', ')}.`
      : mine.length
        ? `${mine.length} model${mine.length === 1 ? '' : 's'} trained; none is in production yet.`
        : datasets.length
          ? 'Data is here; no model trained yet.'
          : 'Nothing here yet: add data to start.';
    return { id: u.id, name: u.name, goal: u.goal, kpi: u.kpi, createdAt: u.created_at, createdBy: u.created_by, datasets, models: mine, health, status };
  });
}

export function createUseCase(ws: Workspace, a: { name: string; goal: string; kpi: string }): UseCaseSummary {
  const name = clean(a.name, 'name', 'a name', 200);
  const goal = clean(a.goal, 'goal', 'a goal in plain words (what should it do, for whom)', 1000);
  const kpi = clean(a.kpi, 'kpi', 'the KPI that matters (for example "missed trips per month")', 300);
  if (ws.db.prepare('SELECT 1 FROM use_cases WHERE name = ?').get(name)) throw new AppError('conflict', `A use case called "${name}" already exists.`, 'name');
  const id = `uc_${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
  ws.db.prepare('INSERT INTO use_cases (id, name, goal, kpi, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)').run(id, name, goal, kpi, new Date().toISOString(), ws.who);
  ws.audit.record('usecase.create', { id, name, goal, kpi });
  return listUseCases(ws.db).find((u) => u.id === id)!;
}

export function updateUseCase(ws: Workspace, a: { useCase: string; name?: string; goal?: string; kpi?: string }): UseCaseSummary {
  const u = find(ws.db, a.useCase);
  const next = {
    name: a.name === undefined ? u.name : clean(a.name, 'name', 'a name', 200),
    goal: a.goal === undefined ? u.goal : clean(a.goal, 'goal', 'a goal in plain words', 1000),
    kpi: a.kpi === undefined ? u.kpi : clean(a.kpi, 'kpi', 'the KPI that matters', 300),
  };
  if (next.name !== u.name && ws.db.prepare('SELECT 1 FROM use_cases WHERE name = ?').get(next.name)) throw new AppError('conflict', `A use case called "${next.name}" already exists.`, 'name');
  ws.db.prepare('UPDATE use_cases SET name = ?, goal = ?, kpi = ? WHERE id = ?').run(next.name, next.goal, next.kpi, u.id);
  ws.audit.record('usecase.update', { id: u.id, name: next.name, before: { name: u.name, goal: u.goal, kpi: u.kpi }, after: next });
  return listUseCases(ws.db).find((x) => x.id === u.id)!;
}

/** Puts a dataset or a model under a use case (or takes it out with useCase null). */
export function assignToUseCase(ws: Workspace, a: { useCase: string | null; kind: 'dataset' | 'model'; name: string }): void {
  const u = a.useCase === null ? null : find(ws.db, a.useCase);
  const table = a.kind === 'dataset' ? 'datasets' : 'models';
  const row = ws.db.prepare(`SELECT id, use_case_id FROM ${table} WHERE name = ?`).get(a.name) as { id: string; use_case_id: string | null } | undefined;
  if (!row) throw new AppError('not_found', `There is no ${a.kind} called "${a.name}".`, 'name');
  ws.db.prepare(`UPDATE ${table} SET use_case_id = ? WHERE id = ?`).run(u?.id ?? null, row.id);
  ws.audit.record('usecase.assign', { useCase: u?.name ?? null, [a.kind]: a.name, kind: a.kind });
}

/** The names of everything under a use case, for filtering the audit log. */
export function useCaseObjects(db: ReadableDb, ref: string): { id: string; names: string[] } {
  const u = find(db, ref);
  const names = [
    u.name,
    ...(db.prepare('SELECT name FROM datasets WHERE use_case_id = ?').all(u.id) as { name: string }[]).map((r) => r.name),
    ...(db.prepare('SELECT name FROM models WHERE use_case_id = ?').all(u.id) as { name: string }[]).map((r) => r.name),
  ];
  return { id: u.id, names };
}
