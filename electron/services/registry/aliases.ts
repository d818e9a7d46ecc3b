import { AppError } from '../../../shared/errors';
import type { ModelAlias } from '../../../shared/training';
import { findModelVersion, type ModelVersionRecord } from '../training/models';
import type { Workspace } from '../workspace/workspace';

/** A reason has to say something: at least a few characters, not just spaces. */
function checkReason(reason: string | undefined, what: string): string {
  const r = (reason ?? '').trim();
  if (r.length < 3) throw new AppError('bad_input', `Say why you ${what} (a few words, kept in the audit log).`, 'reason');
  return r;
}

function modelId(ws: Workspace, v: ModelVersionRecord): string {
  return (ws.db.prepare('SELECT model_id FROM model_versions WHERE id = ?').get(v.id) as { model_id: string }).model_id;
}

/**
 * Points an alias at a model version (DESIGN.md section 8). Versions never
 * change; only aliases move, each move with a reason, in the audit log.
 * An archived version cannot take an alias, and production and challenger
 * are never the same version.
 */
export function setAlias(ws: Workspace, a: { model: string; version: number; alias: ModelAlias; reason: string }): ModelVersionRecord {
  return ws.db.transaction(() => {
    const v = findModelVersion(ws.db, a.model, a.version);
    const reason = checkReason(a.reason, `move "${a.alias}"`);
    if (v.archivedAt) throw new AppError('conflict', `Version ${v.version} of "${v.model}" is archived. Restore it before making it ${a.alias}.`, 'version');
    const id = modelId(ws, v);
    const current = ws.db.prepare('SELECT alias, version FROM model_aliases WHERE model_id = ?').all(id) as { alias: ModelAlias; version: number }[];
    const same = current.find((c) => c.alias === a.alias);
    if (same?.version === v.version) throw new AppError('conflict', `"${a.alias}" already points at version ${v.version} of "${v.model}".`, 'version');
    const other = current.find((c) => c.alias !== a.alias && c.version === v.version);
    // The usual step: the challenger on trial becomes production, and is no longer the challenger.
    const graduates = other?.alias === 'challenger' && a.alias === 'production';
    if (other && !graduates) throw new AppError('conflict', `Version ${v.version} of "${v.model}" is already ${other.alias}; a version cannot be ${other.alias} and ${a.alias} at once.`, 'alias');
    const now = new Date().toISOString();
    if (graduates) {
      ws.db.prepare("DELETE FROM model_aliases WHERE model_id = ? AND alias = 'challenger'").run(id);
      ws.audit.record('model.alias', { model: v.model, alias: 'challenger', from: v.version, to: null, reason: `Became production: ${reason}` });
    }
    ws.db
      .prepare(
        `INSERT INTO model_aliases (model_id, alias, version, reason, set_at, set_by) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version, reason = excluded.reason, set_at = excluded.set_at, set_by = excluded.set_by`,
      )
      .run(id, a.alias, v.version, reason, now, ws.who);
    ws.audit.record('model.alias', { model: v.model, alias: a.alias, from: same?.version ?? null, to: v.version, reason });
    return findModelVersion(ws.db, v.model, v.version);
  })();
}

/** Takes an alias off (the model then has no production or challenger version). */
export function clearAlias(ws: Workspace, a: { model: string; alias: ModelAlias; reason: string }): void {
  ws.db.transaction(() => {
    const v = findModelVersion(ws.db, a.model, a.alias);
    const reason = checkReason(a.reason, `clear "${a.alias}"`);
    ws.db.prepare('DELETE FROM model_aliases WHERE model_id = ? AND alias = ?').run(modelId(ws, v), a.alias);
    ws.audit.record('model.alias', { model: v.model, alias: a.alias, from: v.version, to: null, reason });
  })();
}

/** Hides a version from the default choice; refused while an alias points at it. */
export function archiveVersion(ws: Workspace, a: { model: string; version: number; reason?: string }): ModelVersionRecord {
  return ws.db.transaction(() => {
    const v = findModelVersion(ws.db, a.model, a.version);
    if (v.archivedAt) throw new AppError('conflict', `Version ${v.version} of "${v.model}" is already archived.`, 'version');
    if (v.aliases.length) throw new AppError('conflict', `Version ${v.version} of "${v.model}" is ${v.aliases.join(' and ')}. Point ${v.aliases.length > 1 ? 'those aliases' : 'that alias'} at another version first.`, 'version');
    ws.db.prepare('UPDATE model_versions SET archived_at = ?, archived_by = ? WHERE id = ?').run(new Date().toISOString(), ws.who, v.id);
    ws.audit.record('model.archive', { model: v.model, version: v.version, reason: a.reason?.trim() || null });
    return findModelVersion(ws.db, v.model, v.version);
  })();
}

export function restoreVersion(ws: Workspace, a: { model: string; version: number }): ModelVersionRecord {
  return ws.db.transaction(() => {
    const v = findModelVersion(ws.db, a.model, a.version);
    if (!v.archivedAt) throw new AppError('conflict', `Version ${v.version} of "${v.model}" is not archived.`, 'version');
    ws.db.prepare('UPDATE model_versions SET archived_at = NULL, archived_by = NULL WHERE id = ?').run(v.id);
    ws.audit.record('model.restore', { model: v.model, version: v.version });
    return findModelVersion(ws.db, v.model, v.version);
  })();
}
