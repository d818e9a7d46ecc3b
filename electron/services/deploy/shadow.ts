import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import type { ShadowSummary } from '../../../shared/feedback';
import type { EdgeShadowCounts, EndpointClient } from './client';
import { findModelVersion } from '../training/models';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';
import { QUARTER_MS, SHADOW_COUNTS, shadowKey, type QuarterShadows } from '../monitor/store';
import { buildBundle } from './bundle';
import type { DeployService } from './deploy';
import { trainingProfile } from './profile';
import { versionRows } from './rows';

/**
 * Shadow runs (DESIGN.md section 10): a model version scoring beside
 * production on an endpoint, where only production answers. Its bundle is
 * built as a deployment's is and installed at the edge with POST
 * /admin/shadow (resources/runtime/lib/shadow.js); the `shadows` table says
 * which runs where since when, and the comparison comes back in each minute
 * bucket's `shadow` (monitor_buckets.shadow, summed into
 * monitor_quarters.shadow), summed here from `since`.
 */

interface ShadowRow {
  endpoint: string;
  model: string;
  version: number;
  since: string;
  started_by: string;
}

const shadowRow = (db: ReadableDb, endpoint: string) => db.prepare('SELECT endpoint, model, version, since, started_by FROM shadows WHERE endpoint = ?').get(endpoint) as ShadowRow | undefined;

/** Runs in the deploy service's lock on the endpoint, with its client; says in words why when the endpoint cannot be asked. */
async function atEdge<T>(deploy: DeployService, endpoint: string, what: string, f: (c: EndpointClient) => Promise<T>): Promise<T> {
  const seen = await deploy.observe(endpoint, (c) => f(c), 120_000);
  if (seen.readError !== undefined) throw new AppError('conflict', `${endpoint} could not ${what}: ${seen.readError}`, 'endpoint');
  if (seen.read === undefined) {
    if (!seen.endpoint.canDeploy) throw new AppError('bad_input', `The workspace has no admin token for "${endpoint}", so it cannot ${what} there. Remove it and add it again with its admin token.`, 'endpoint');
    throw new AppError('conflict', `${endpoint} cannot be reached to ${what}: ${seen.contact.error ?? `it is ${seen.contact.status}`}.`, 'endpoint');
  }
  return seen.read;
}

/**
 * Runs `model` version `version` in shadow on `endpoint`: its bundle built as
 * a deployment builds it, installed beside what the endpoint serves (any
 * shadow there before is replaced), recorded and audited.
 */
export async function startShadow(ws: Workspace, deploy: DeployService, endpoint: string, model: string, version: number): Promise<ShadowSummary> {
  const e = deploy.store.get(endpoint);
  const v = findModelVersion(ws.db, model, version);
  if (e.model && e.model.name === v.model && String(e.model.version) === String(v.version)) {
    throw new AppError('bad_input', `${endpoint} serves ${v.model} version ${v.version} already; a shadow runs another version beside it.`, 'version');
  }
  const rows = versionRows(ws, v);
  const profile = await trainingProfile(ws, v, rows);
  const tmpDir = path.join(ws.dir, 'tmp');
  fs.mkdirSync(tmpDir, { recursive: true });
  const file = path.join(tmpDir, `shadow-${crypto.randomBytes(6).toString('hex')}.tar.gz`);
  let since: string;
  try {
    await buildBundle(ws, v, file, deploy.runtimeDir, { audit: false, profile });
    const bytes = fs.readFileSync(file);
    const reply = await atEdge(deploy, endpoint, `run ${v.model} version ${v.version} in shadow`, (c) => c.installShadow(bytes));
    since = reply.shadow.since;
  } catch (err) {
    ws.audit.record('shadow.start', { endpoint, model: v.model, version: v.version, ok: false, error: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    fs.rmSync(file, { force: true });
  }
  ws.db.prepare('INSERT OR REPLACE INTO shadows (endpoint, model, version, since, started_by) VALUES (?, ?, ?, ?, ?)').run(endpoint, v.model, v.version, since, ws.who);
  ws.audit.record('shadow.start', { endpoint, model: v.model, version: v.version, since, ok: true });
  return shadowSummary(ws, endpoint)!;
}

/**
 * Ends the shadow run on `endpoint`, at the edge and here. An endpoint that
 * cannot be reached still has its run forgotten here, and `note` says the
 * shadow may still run there. `stopped`: a run was recorded or removed.
 */
export async function stopShadow(ws: Workspace, deploy: DeployService, endpoint: string, reason?: string): Promise<{ endpoint: string; stopped: boolean; note: string | null }> {
  deploy.store.get(endpoint);
  const row = shadowRow(ws.db, endpoint);
  let removed = false;
  let note: string | null = null;
  try {
    removed = (await atEdge(deploy, endpoint, 'remove its shadow model', (c) => c.removeShadow())).removed !== null;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    note = row
      ? `${why} The shadow run of ${row.model} version ${row.version} is forgotten here; the endpoint may still run it until it is removed there (or the next start or stop of a shadow reaches it).`
      : why;
  }
  if (row) ws.db.prepare('DELETE FROM shadows WHERE endpoint = ?').run(endpoint);
  const stopped = row !== undefined || removed;
  if (stopped || note) {
    ws.audit.record('shadow.stop', { endpoint, model: row?.model ?? null, version: row?.version ?? null, ...(reason?.trim() ? { reason: reason.trim() } : {}), atEdge: removed, ...(note ? { note } : {}) });
  }
  if (!row && note) throw new AppError('conflict', note, 'endpoint');
  return { endpoint, stopped, note };
}

/** When: the time of day, with the date when it is not today. */
function whenOf(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

const n = (x: number) => x.toLocaleString('en-US');
const rowsWord = (x: number) => `${n(x)} row${x === 1 ? '' : 's'}`;

/**
 * The shadow run on `endpoint` so far (null when none): the minute buckets'
 * comparisons since `since` for this shadow, and the quarter hours for the
 * time before the oldest minute kept.
 */
export function shadowSummary(ws: Workspace, endpoint: string): ShadowSummary | null {
  const row = shadowRow(ws.db, endpoint);
  if (!row) return null;
  const t: Record<(typeof SHADOW_COUNTS)[number], number> = { rows: 0, agreed: 0, anomalies: 0, productionAnomalies: 0, errors: 0 };
  const add = (s: Partial<EdgeShadowCounts> | undefined) => {
    if (!s || s.name !== row.model || String(s.version) !== String(row.version)) return;
    for (const k of SHADOW_COUNTS) t[k] += typeof s[k] === 'number' && Number.isFinite(s[k]) ? s[k] : 0;
  };
  // A bucket closes when a shadow starts, so one that ends after `since` counted this run only.
  const buckets = ws.db.prepare("SELECT shadow FROM monitor_buckets WHERE endpoint = ? AND to_at > ? AND shadow != '{}'").all(endpoint, row.since) as { shadow: string }[];
  for (const b of buckets) add(JSON.parse(b.shadow) as EdgeShadowCounts);
  const oldest = ws.db.prepare('SELECT MIN(from_at) AS at FROM monitor_buckets WHERE endpoint = ?').get(endpoint) as { at: string | null };
  if (oldest.at && oldest.at > row.since) {
    // Minutes pruned: the quarter hours from the run's start up to the first minute kept.
    const from = new Date(Math.floor(Date.parse(row.since) / QUARTER_MS) * QUARTER_MS).toISOString();
    const before = new Date(Math.floor(Date.parse(oldest.at) / QUARTER_MS) * QUARTER_MS).toISOString();
    const quarters = ws.db.prepare("SELECT shadow FROM monitor_quarters WHERE endpoint = ? AND from_at >= ? AND from_at < ? AND shadow != '{}'").all(endpoint, from, before) as { shadow: string }[];
    for (const q of quarters) add((JSON.parse(q.shadow) as QuarterShadows)[shadowKey(row.model, row.version)]);
  }
  const v = findModelVersion(ws.db, row.model, row.version);
  const who = v.aliases.includes('challenger') ? `the challenger (v${row.version})` : `${row.model} version ${row.version}`;
  const kind = v.task === 'anomaly' ? 'anomaly' : v.task === 'regression' ? 'value' : 'label';
  const when = whenOf(row.since);
  let sentence: string;
  if (t.rows === 0) sentence = `Since ${when} ${who} runs in shadow on ${endpoint}; it has scored no rows beside production yet.`;
  else {
    const agreement = `${who} and production ${kind === 'value' ? 'answered within 1% of each other' : 'agreed'} on ${n(t.agreed)} of ${rowsWord(t.rows)}`;
    sentence = `Since ${when} ${agreement}${kind === 'anomaly' ? `; it flagged ${rowsWord(t.anomalies)} as anomalies, production ${n(t.productionAnomalies)}` : ''}.`;
  }
  if (t.errors > 0) sentence += ` It could not score ${rowsWord(t.errors)} (production answered them as usual).`;
  return {
    endpoint,
    model: row.model,
    version: row.version,
    since: row.since,
    rows: t.rows,
    agreed: t.agreed,
    productionAnomalies: t.productionAnomalies,
    shadowAnomalies: t.anomalies,
    sentence,
  };
}
