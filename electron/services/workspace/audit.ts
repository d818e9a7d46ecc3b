import type { AuditEntry } from '../../../shared/api';
import type { ReadableDb, WritableDb } from './db';

interface AuditRow {
  id: number;
  at: string;
  who: string;
  action: string;
  details: string;
}

/** Append-only record of who did what and when. */
export class AuditLog {
  constructor(
    private readonly db: WritableDb,
    private readonly who: string,
  ) {}

  record(action: string, details: Record<string, unknown> = {}, at = new Date()): number {
    const info = this.db
      .prepare('INSERT INTO audit_log (at, who, action, details) VALUES (?, ?, ?, ?)')
      .run(at.toISOString(), this.who, action, JSON.stringify(details));
    return Number(info.lastInsertRowid);
  }

  /**
   * Entries newest first. `who` is the person; `objects` are names of
   * datasets, models or use cases an entry must be about.
   */
  static list(db: ReadableDb, opts: { limit: number; action?: string; beforeId?: number; who?: string; objects?: string[] }): AuditEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.action) {
      // "model" matches every model.* action.
      where.push(opts.action.includes('.') ? 'action = ?' : "action LIKE ? || '.%'");
      args.push(opts.action);
    }
    if (opts.beforeId) {
      where.push('id < ?');
      args.push(opts.beforeId);
    }
    if (opts.who) {
      where.push('who = ?');
      args.push(opts.who);
    }
    if (opts.objects) {
      if (!opts.objects.length) return [];
      const marks = opts.objects.map(() => '?').join(', ');
      where.push(`(${['model', 'dataset', 'name', 'useCase'].map((k) => `json_extract(details, '$.${k}') IN (${marks})`).join(' OR ')})`);
      for (let k = 0; k < 4; k++) args.push(...opts.objects);
    }
    const sql = `SELECT id, at, who, action, details FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    const rows = db.prepare(sql).all(...args, opts.limit) as AuditRow[];
    return rows.map((r) => ({ id: r.id, at: r.at, who: r.who, action: r.action, details: JSON.parse(r.details) as Record<string, unknown> }));
  }

  /** The people who appear in the log, for the filter. */
  static people(db: ReadableDb): string[] {
    return (db.prepare('SELECT DISTINCT who FROM audit_log ORDER BY who').all() as { who: string }[]).map((r) => r.who);
  }

  /** Entries as CSV (RFC 4180): when, who, action, what it was about, and the details as JSON. */
  static toCsv(entries: AuditEntry[]): string {
    const q = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const about = (d: Record<string, unknown>) => ['useCase', 'dataset', 'model', 'name'].map((k) => d[k]).filter((v) => typeof v === 'string').join(' / ');
    const lines = ['id,at,who,action,about,details', ...entries.map((e) => [String(e.id), e.at, q(e.who), q(e.action), q(about(e.details)), q(JSON.stringify(e.details))].join(','))];
    return lines.join('\r\n') + '\r\n';
  }
}
