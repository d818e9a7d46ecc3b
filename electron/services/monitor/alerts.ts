import type { AppEvent } from '../../../shared/api';
import { AppError } from '../../../shared/errors';
import { ALERT_KINDS, type Alert, type AlertKind, type AlertRules, type Drift } from '../../../shared/monitor';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';

/**
 * Alerts (issue 8): rules evaluated after each poll. An alert fires once per
 * episode of its condition (one row, its last time moved on while it lasts)
 * and clears when the condition ends; a person acknowledges or snoozes it.
 * Every fire, clear, acknowledgement and snooze goes to the audit log.
 *
 * A rule with too little to judge by says nothing, and its alert stays as it
 * is: too few requests for the error rate, too few rows for the anomaly
 * rate, drift `unknown`. The drift rule also waits for a second opinion
 * (settleDrift): it fires after DRIFT_FIRE_AFTER evaluations in a row say
 * `changed`, and clears on `stable`, or after DRIFT_CLEAR_AFTER evaluations
 * in a row with new rows say `watch`; so a verdict that wavers between
 * changed and watch as the hour slides does not fire and clear again and again.
 */

/** Fewest requests in the hour before the error rate can fire. */
export const MIN_REQUESTS_FOR_ERRORS = 20;
/** Fewest rows and anomalies in the hour before the anomaly rate can fire. */
export const MIN_ROWS_FOR_ANOMALIES = 50;
export const MIN_ANOMALIES = 3;
/** Evaluations in a row saying `changed` before a drift alert fires (the first one may be a passing mix of rows). */
export const DRIFT_FIRE_AFTER = 2;
/** Evaluations in a row with new rows saying `watch` before a drift alert clears (`stable` clears it at once). */
export const DRIFT_CLEAR_AFTER = 3;

/** What the rules look at for one endpoint. */
export interface AlertFacts {
  endpoint: string;
  /** Not answering: since when (first failed contact), and why. Null while it answers or is stopped on purpose. */
  down: { since: number; reason: string | null } | null;
  /** The last hour. */
  requests: number;
  errors: number;
  rows: number;
  anomalies: number;
  /** The share of training rows the anomaly model flags (null: not an anomaly model, or unknown). */
  trainingAnomalyRate: number | null;
  /** The last hour's drift; null when not worked out this time (the alert stays as it is). */
  drift: Drift | null;
}

const pct = (x: number) => `${Number((x * 100).toPrecision(x < 0.01 ? 2 : 3))}%`;
const minutes = (ms: number) => {
  const m = Math.floor(ms / 60_000);
  return m < 120 ? `${m} minute${m === 1 ? '' : 's'}` : `${Math.floor(m / 60)} hours`;
};

/** The "down" rule alone: it needs only the clock, so it is checked between polls too. */
export function downCondition(rules: AlertRules, endpoint: string, down: AlertFacts['down'], now: number): string | null {
  const downFor = down ? now - down.since : 0;
  return rules.down.enabled && down && downFor > rules.down.minutes * 60_000 ? `${endpoint} has not answered for ${minutes(downFor)}.${down.reason ? ` ${down.reason}` : ''}` : null;
}

/**
 * The message of each rule whose condition holds, null for each that does
 * not, and nothing for a rule with nothing to say this time (kept as it is).
 */
export function conditions(rules: AlertRules, f: AlertFacts, now: number): Partial<Record<AlertKind, string | null>> {
  const out: Partial<Record<AlertKind, string | null>> = {};
  const e = f.endpoint;
  out.down = downCondition(rules, e, f.down, now);

  const rate = f.requests ? f.errors / f.requests : 0;
  if (!rules.errors.enabled) out.errors = null;
  else if (f.requests >= MIN_REQUESTS_FOR_ERRORS) {
    out.errors = rate * 100 > rules.errors.percent ? `${e} answered ${f.errors} of ${f.requests} requests with an error in the last hour (${pct(rate)}, above the ${rules.errors.percent}% limit).` : null;
  }

  // `watch` and `unknown` say nothing here: settleDrift decides with the evaluations before.
  if (!rules.drift.enabled) out.drift = null;
  else if (f.drift?.verdict === 'changed') out.drift = `The inputs ${e} receives changed from training in the last hour: ${f.drift.reason}`;
  else if (f.drift?.verdict === 'stable') out.drift = null;

  const trained = f.trainingAnomalyRate;
  const live = f.rows ? f.anomalies / f.rows : 0;
  if (!rules.anomalies.enabled || trained === null) out.anomalies = null;
  else if (f.rows >= MIN_ROWS_FOR_ANOMALIES) {
    out.anomalies =
      f.anomalies >= MIN_ANOMALIES && live > rules.anomalies.factor * trained
        ? `${e} flagged ${f.anomalies} of ${f.rows} rows as anomalies in the last hour (${pct(live)}), ${trained > 0 ? `${Number((live / trained).toPrecision(2))} times` : 'far above'} its training rate of ${pct(trained)} (the limit is ${rules.anomalies.factor} times).`
        : null;
  }
  return out;
}

/** Evaluations of one endpoint's drift in a row: saying changed, and with new rows saying watch. */
export interface DriftStreak {
  changed: number;
  watch: number;
}

/**
 * The drift rule's answer after the evaluations before (see the top of this
 * file): `message` from conditions() (a sentence: changed; null: stable;
 * absent: watch, unknown or not worked out), `firing` whether its alert fires
 * now, `newRows` whether this poll stored any. Updates `streak`.
 */
export function settleDrift(streak: DriftStreak, verdict: Drift['verdict'] | null, message: string | null | undefined, firing: boolean, newRows: boolean): string | null | undefined {
  if (message === null) {
    streak.changed = streak.watch = 0;
    return null;
  }
  if (message !== undefined) {
    streak.changed++;
    streak.watch = 0;
    return firing || streak.changed >= DRIFT_FIRE_AFTER ? message : undefined;
  }
  if (verdict !== 'watch') return undefined;
  streak.changed = 0;
  if (newRows) streak.watch++;
  return firing && streak.watch >= DRIFT_CLEAR_AFTER ? null : undefined;
}

interface AlertRow {
  id: number;
  endpoint: string;
  kind: AlertKind;
  state: 'firing' | 'cleared';
  message: string;
  first_at: string;
  last_at: string;
  cleared_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  snoozed_until: string | null;
}

const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  endpoint: r.endpoint,
  kind: r.kind,
  state: r.state,
  message: r.message,
  firstAt: r.first_at,
  lastAt: r.last_at,
  clearedAt: r.cleared_at,
  acknowledgedAt: r.acknowledged_at,
  acknowledgedBy: r.acknowledged_by,
  snoozedUntil: r.snoozed_until,
});

export function listAlerts(db: ReadableDb, opts: { endpoint?: string; all?: boolean; limit?: number } = {}): Alert[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (opts.endpoint) {
    where.push('endpoint = ?');
    args.push(opts.endpoint);
  }
  if (!opts.all) where.push("state = 'firing'");
  const rows = db.prepare(`SELECT * FROM monitor_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...args, opts.limit ?? 100) as AlertRow[];
  return rows.map(toAlert);
}

export class AlertBook {
  constructor(
    private readonly ws: Workspace,
    private readonly emit: (e: AppEvent) => void,
    private readonly now: () => number,
  ) {}

  private get(id: number): Alert {
    const r = this.ws.db.prepare('SELECT * FROM monitor_alerts WHERE id = ?').get(id) as AlertRow | undefined;
    if (!r) throw new AppError('not_found', `There is no alert number ${id}.`, 'id');
    return toAlert(r);
  }

  /** Fires, keeps or clears each rule's alert of one endpoint from `conditions`' answer. */
  apply(endpoint: string, found: Partial<Record<AlertKind, string | null>>): Alert[] {
    const at = new Date(this.now()).toISOString();
    const changed: Alert[] = [];
    // IMMEDIATE: another process polling the same workspace (the CLI beside the app) waits, so one episode stays one row.
    this.ws.db.transaction(() => {
      for (const kind of ALERT_KINDS) {
        const message = found[kind];
        if (message === undefined) continue;
        const open = this.ws.db.prepare("SELECT * FROM monitor_alerts WHERE endpoint = ? AND kind = ? AND state = 'firing'").get(endpoint, kind) as AlertRow | undefined;
        if (message !== null && !open) {
          const id = Number(this.ws.db.prepare("INSERT INTO monitor_alerts (endpoint, kind, state, message, first_at, last_at) VALUES (?, ?, 'firing', ?, ?, ?)").run(endpoint, kind, message, at, at).lastInsertRowid);
          this.ws.audit.record('alert.fire', { name: endpoint, id, kind, message }, new Date(at));
          changed.push(this.get(id));
        } else if (message !== null && open) {
          this.ws.db.prepare('UPDATE monitor_alerts SET last_at = ?, message = ? WHERE id = ?').run(at, message, open.id);
        } else if (message === null && open) {
          this.ws.db.prepare("UPDATE monitor_alerts SET state = 'cleared', cleared_at = ? WHERE id = ?").run(at, open.id);
          this.ws.audit.record('alert.clear', { name: endpoint, id: open.id, kind, message: open.message }, new Date(at));
          changed.push(this.get(open.id));
        }
      }
    }).immediate();
    for (const alert of changed) this.emit({ type: 'alert', alert });
    return changed;
  }

  /** Clears every firing alert of an endpoint that was removed: each audited ('alert.clear', with the reason) and told. */
  clearRemoved(endpoint: string): Alert[] {
    const at = new Date(this.now()).toISOString();
    const cleared = this.ws.db.transaction(() => {
      const open = this.ws.db.prepare("SELECT * FROM monitor_alerts WHERE endpoint = ? AND state = 'firing' ORDER BY id").all(endpoint) as AlertRow[];
      for (const a of open) {
        this.ws.db.prepare("UPDATE monitor_alerts SET state = 'cleared', cleared_at = ? WHERE id = ?").run(at, a.id);
        this.ws.audit.record('alert.clear', { name: endpoint, id: a.id, kind: a.kind, message: a.message, reason: 'The endpoint was removed.' }, new Date(at));
      }
      return open.map((a) => this.get(a.id));
    }).immediate();
    for (const alert of cleared) this.emit({ type: 'alert', alert });
    return cleared;
  }

  acknowledge(id: number): Alert {
    const a = this.get(id);
    const at = new Date(this.now()).toISOString();
    this.ws.db.transaction(() => {
      this.ws.db.prepare('UPDATE monitor_alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?').run(at, this.ws.who, id);
      this.ws.audit.record('alert.acknowledge', { name: a.endpoint, id, kind: a.kind, message: a.message }, new Date(at));
    })();
    const after = this.get(id);
    this.emit({ type: 'alert', alert: after });
    return after;
  }

  snooze(id: number, minutes: number): Alert {
    const a = this.get(id);
    const now = this.now();
    const until = new Date(now + minutes * 60_000).toISOString();
    this.ws.db.transaction(() => {
      this.ws.db.prepare('UPDATE monitor_alerts SET snoozed_until = ? WHERE id = ?').run(until, id);
      this.ws.audit.record('alert.snooze', { name: a.endpoint, id, kind: a.kind, minutes, until }, new Date(now));
    })();
    const after = this.get(id);
    this.emit({ type: 'alert', alert: after });
    return after;
  }
}
