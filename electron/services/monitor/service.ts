import { performance } from 'node:perf_hooks';
import type { AppEvent } from '../../../shared/api';
import { AppError } from '../../../shared/errors';
import { MonitorSettingsSchema, type Alert, type Drift, type EndpointDashboard, type EndpointMonitor, type Health, type InputHistogram, type MonitorCycle, type MonitorSettings, type MonitorWindow } from '../../../shared/monitor';
import type { DeployService } from '../deploy/deploy';
import type { EndpointRecord } from '../deploy/endpoints';
import type { Workspace } from '../workspace/workspace';
import type { ReadableDb } from '../workspace/db';
import { AlertBook, conditions, downCondition, listAlerts, settleDrift, type AlertFacts, type DriftStreak } from './alerts';
import { ProfileCache, type ProfileLookup } from './profiles';
import { Scheduler, type PollOutcome, type SchedulerOptions } from './scheduler';
import { bucketsSince, pollState, quartersSince, readSettings, writeSettings, type StoredBucket } from './store';
import { drift, health, heatmap, histogram, ofServed, series, windowRange } from './windows';

/**
 * Monitoring (DESIGN.md section 10) behind the monitor.* and alerts.*
 * methods: the scheduler's polls, and what the stored data says about each
 * endpoint over a window ending now.
 */

/**
 * How long an endpoint's hour view is reused by monitor.status before it is
 * worked out again. Each poll (or failed try) works it out anew, so this
 * matters only for an endpoint polled seldom (backoff).
 */
const VIEW_TTL_MS = 10 * 60_000;

interface HourView {
  at: number;
  health: Health;
  drift: Drift;
  lookup: ProfileLookup | null;
  served: StoredBucket[];
}

export interface MonitorServiceDeps {
  ws: Workspace;
  deploy: DeployService;
  emit: (e: AppEvent) => void;
  now?: () => number;
  scheduler?: Omit<SchedulerOptions, 'now' | 'afterPolls' | 'onTick'>;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class MonitorService {
  readonly scheduler: Scheduler;
  readonly alerts: AlertBook;
  readonly profiles: ProfileCache;
  private readonly ws: Workspace;
  private readonly deploy: DeployService;
  private readonly emit: (e: AppEvent) => void;
  readonly now: () => number;
  private readonly views = new Map<string, HourView>();
  /** Per endpoint, the drift verdicts of the evaluations before (settleDrift). */
  private readonly driftStreaks = new Map<string, DriftStreak>();
  private warm: Promise<void> | null = null;
  private closed = false;

  constructor(deps: MonitorServiceDeps) {
    this.ws = deps.ws;
    this.deploy = deps.deploy;
    this.emit = deps.emit;
    this.now = deps.now ?? Date.now;
    this.profiles = new ProfileCache(this.ws);
    this.alerts = new AlertBook(this.ws, this.emit, this.now);
    this.scheduler = new Scheduler(this.ws, this.deploy, () => this.settings(), {
      ...deps.scheduler,
      now: this.now,
      afterPolls: (outcomes) => this.afterPolls(outcomes),
      onTick: () => this.checkDown(),
    });
  }

  settings(): MonitorSettings {
    return readSettings(this.ws.db);
  }

  configure(patch: Partial<MonitorSettings>): MonitorSettings {
    const before = this.settings();
    const after = MonitorSettingsSchema.parse({ ...before, ...patch });
    this.ws.db.transaction(() => {
      writeSettings(this.ws, after);
      // A shorter interval applies now, not after the next poll at the old one; endpoints backing off keep their time.
      if (after.intervalSeconds < before.intervalSeconds) {
        this.ws.db.prepare('UPDATE endpoints SET monitor_next = ? WHERE monitor_failures = 0 AND monitor_next > ?').run(new Date(this.now() + after.intervalSeconds * 1000).toISOString(), new Date(this.now() + after.intervalSeconds * 1000).toISOString());
      }
      this.ws.audit.record('monitor.configure', { before, after });
    })();
    // New rules apply to what is known now, not only after the next poll.
    this.views.clear();
    return after;
  }

  /** Polls now (every endpoint, or the one named), whatever the schedule says, and returns what it found. */
  async cycle(a: { name?: string } = {}): Promise<MonitorCycle> {
    if (a.name) this.deploy.store.get(a.name);
    const outcomes = await this.scheduler.pollMany(a.name ? [a.name] : undefined);
    const names = new Set(outcomes.map((o) => o.name));
    return { endpoints: (await this.status()).endpoints.filter((e) => names.has(e.name)) };
  }

  /** Each endpoint as of the last poll, without contacting anyone. */
  async status(): Promise<MonitorCycle> {
    const endpoints: EndpointMonitor[] = [];
    const alerts = new Map<string, Alert[]>();
    for (const a of listAlerts(this.ws.db, { limit: 100_000 })) alerts.set(a.endpoint, [...(alerts.get(a.endpoint) ?? []), a]);
    let since = performance.now();
    for (const e of this.deploy.store.list()) {
      // A view in hand is used at once: with every view known, the whole list is one short turn of the event loop.
      const kept = this.keptView(e);
      endpoints.push(this.summary(e, kept ?? (await this.hourView(e)), alerts.get(e.name) ?? []));
      // Working out many endpoints' views must not hold up other calls (the pages' own, IPC's).
      if (!kept && performance.now() - since > 8) {
        await yieldToLoop();
        since = performance.now();
      }
    }
    return { endpoints };
  }

  /** Contact and model as the endpoints table has them now; traffic and drift as of the last poll. */
  private summary(e: EndpointRecord, v: HourView, alerts: Alert[]): EndpointMonitor {
    return {
      name: e.name,
      reachable: e.status === 'up',
      lastContact: e.lastContact,
      model: e.model,
      requests: v.health.requests,
      errors: v.health.errors,
      latencyP99Ms: v.health.latencyP99Ms,
      drift: { verdict: v.drift.verdict, inputs: v.drift.inputs.map((i) => ({ name: i.name, verdict: i.verdict, psi: i.psi, statistic: i.statistic, test: i.test })) },
      alerts,
    };
  }

  /** The last hour of an endpoint, reused for a while (the page and the CLI ask often; the data changes once a poll). */
  /** The profile to compare with; none without the admin token (no monitoring data to compare). */
  private async lookup(e: EndpointRecord): Promise<ProfileLookup | null> {
    return e.model && e.canDeploy ? this.profiles.get(e.model.name, e.model.version) : null;
  }

  private keptView(e: EndpointRecord): HourView | null {
    const kept = this.views.get(e.name);
    return kept && this.now() - kept.at < VIEW_TTL_MS && kept.health.model?.name === e.model?.name && kept.health.model?.version === e.model?.version ? kept : null;
  }

  private async hourView(e: EndpointRecord, fresh = false): Promise<HourView> {
    const now = this.now();
    const kept = fresh ? null : this.keptView(e);
    if (kept) return kept;
    const range = windowRange('hour', now);
    const buckets = bucketsSince(this.ws.db, e.name, range.from);
    const served = ofServed(buckets, e.model);
    const lookup = await this.lookup(e);
    const view: HourView = { at: now, health: health(e, pollState(this.ws.db, e.name), buckets), drift: drift('hour', range, served, lookup, e.model), lookup, served };
    this.views.set(e.name, view);
    return view;
  }

  /** The buckets of a window: minutes for the hour, quarter hours for a day or a week. */
  private windowBuckets(name: string, window: MonitorWindow, range: { from: Date }): StoredBucket[] {
    return window === 'hour' ? bucketsSince(this.ws.db, name, range.from) : quartersSince(this.ws.db, name, range.from);
  }

  async dashboard(a: { name: string; window?: MonitorWindow }): Promise<EndpointDashboard> {
    const window = a.window ?? 'hour';
    const e = this.deploy.store.get(a.name);
    const now = this.now();
    const range = windowRange(window, now);
    const buckets = this.windowBuckets(e.name, window, range);
    const served = ofServed(buckets, e.model);
    const lookup = await this.lookup(e);
    return {
      name: e.name,
      window,
      health: health(e, pollState(this.ws.db, e.name), buckets),
      series: series(window, now, buckets),
      drift: { ...drift(window, range, served, lookup, e.model), liveAccuracy: answeredAlarms(this.ws.db, e.name, e.model?.name ?? null, range.from) },
      heatmap: await heatmap(window, now, served, lookup, yieldToLoop),
      alerts: listAlerts(this.ws.db, { endpoint: e.name, all: true, limit: 50 }),
    };
  }

  async input(a: { name: string; input: string; window?: MonitorWindow }): Promise<InputHistogram> {
    const window = a.window ?? 'hour';
    const e = this.deploy.store.get(a.name);
    if (!e.model) throw new AppError('conflict', `"${e.name}" has not said which model it serves yet, so its inputs are not known.`, 'name');
    const lookup = await this.profiles.get(e.model.name, e.model.version);
    if (!lookup.ok) throw new AppError('conflict', lookup.reason, 'name');
    const ref = lookup.value.profile.inputs.find((i) => i.name === a.input);
    if (!ref) throw new AppError('not_found', `${e.model.name} version ${e.model.version} on "${e.name}" has no input called "${a.input}". Its inputs: ${lookup.value.profile.inputs.map((i) => `"${i.name}"`).join(', ')}.`, 'input');
    const range = windowRange(window, this.now());
    const served = ofServed(this.windowBuckets(e.name, window, range), e.model);
    return histogram(e.name, window, served, ref, lookup.value);
  }

  listAlerts(a: { endpoint?: string; all?: boolean; limit?: number }): Alert[] {
    return listAlerts(this.ws.db, a);
  }

  /** After an endpoint is removed: its firing alerts clear (audited, told) and what was kept of it in memory goes. */
  forget(name: string): void {
    this.alerts.clearRemoved(name);
    this.views.delete(name);
    this.driftStreaks.delete(name);
  }

  acknowledge(id: number): Alert {
    return this.alerts.acknowledge(id);
  }

  snooze(id: number, minutes: number): Alert {
    return this.alerts.snooze(id, minutes);
  }

  /** After polls: every rule of each endpoint polled, then one event so open pages reload. */
  private async afterPolls(outcomes: PollOutcome[]): Promise<void> {
    const rules = this.settings().rules;
    const now = this.now();
    for (const o of outcomes) {
      const e = this.deploy.store.find(o.name);
      if (!e) continue;
      const v = await this.hourView(e, true);
      const found = conditions(rules, this.facts(e, v), now);
      if (rules.drift.enabled) {
        let streak = this.driftStreaks.get(e.name);
        if (!streak) this.driftStreaks.set(e.name, (streak = { changed: 0, watch: 0 }));
        const firing = listAlerts(this.ws.db, { endpoint: e.name }).some((a) => a.kind === 'drift');
        found.drift = settleDrift(streak, v.drift.verdict, found.drift, firing, o.buckets > 0);
        if (found.drift === undefined) delete found.drift;
      }
      this.alerts.apply(e.name, found);
      await yieldToLoop();
    }
    if (outcomes.length) this.emit({ type: 'monitor', endpoints: outcomes.map((o) => o.name) });
  }

  private facts(e: EndpointRecord, v: HourView): AlertFacts {
    const poll = pollState(this.ws.db, e.name);
    return {
      endpoint: e.name,
      down: downOf(e, poll),
      requests: v.health.requests,
      errors: v.health.errors,
      rows: v.drift.rows,
      anomalies: v.served.reduce((n, b) => n + b.anomalies, 0),
      trainingAnomalyRate: v.lookup?.ok ? v.lookup.value.profile.anomalyRate : null,
      drift: v.drift,
    };
  }

  /** The clock's rule: an endpoint that has not answered for N minutes fires between polls too (backoff polls it seldom). */
  private checkDown(): void {
    const rules = this.settings().rules;
    const now = this.now();
    const firing = new Set(listAlerts(this.ws.db, { limit: 100_000 }).filter((a) => a.kind === 'down').map((a) => a.endpoint));
    for (const e of this.deploy.store.list()) {
      // Only an endpoint that is not answering, or has a "down" alert to clear, has anything to check.
      if (e.status === 'up' && !firing.has(e.name)) continue;
      this.alerts.apply(e.name, { down: downCondition(rules, e.name, downOf(e, pollState(this.ws.db, e.name)), now) });
    }
  }

  /** Starts the background loop (a tick a second; each endpoint is polled when its time comes), after working out every endpoint's last hour once. */
  start(tickMs?: number): void {
    this.warm ??= this.status()
      .catch(() => undefined)
      .then(() => {
        if (!this.closed) this.scheduler.start(tickMs);
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.warm;
    await this.scheduler.stop();
  }
}

function downOf(e: EndpointRecord, poll: ReturnType<typeof pollState>): AlertFacts['down'] {
  if (e.status === 'up' || e.status === 'stopped' || !poll || poll.failures === 0 || !poll.downSince) return null;
  return { since: Date.parse(poll.downSince), reason: e.lastError };
}

/**
 * How often the endpoint's alarms were real, from the episodes of the window
 * that people answered "real problem" or "normal operation" (issue 9's
 * feedback): null until someone has answered one.
 */
export function answeredAlarms(db: ReadableDb, endpoint: string, model: string | null, from: Date): Drift['liveAccuracy'] {
  if (!model) return null;
  const r = db
    .prepare("SELECT COUNT(*) AS n, COALESCE(SUM(verdict = 'real'), 0) AS real FROM episodes WHERE origin = 'endpoint' AND endpoint = ? AND model = ? AND verdict IN ('real', 'normal') AND created_at >= ?")
    .get(endpoint, model, from.toISOString()) as { n: number; real: number };
  return r.n ? { metric: 'share of answered alarms that were real problems', value: r.real / r.n, labelled: r.n } : null;
}
