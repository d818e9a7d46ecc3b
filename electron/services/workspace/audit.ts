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

  static list(db: ReadableDb, opts: { limit: number; action?: string; beforeId?: number }): AuditEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.action) {
      where.push('action = ?');
      args.push(opts.action);
    }
    if (opts.beforeId) {
      where.push('id < ?');
      args.push(opts.beforeId);
    }
    const sql = `SELECT id, at, who, action, details FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    const rows = db.prepare(sql).all(...args, opts.limit) as AuditRow[];
    return rows.map((r) => ({ id: r.id, at: r.at, who: r.who, action: r.action, details: JSON.parse(r.details) as Record<string, unknown> }));
  }
}
