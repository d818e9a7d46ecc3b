import http from 'node:http';
import https from 'node:https';
import { AppError } from '../../../shared/errors';
import type { Served } from './endpoints';

/**
 * HTTP client of an edge endpoint (resources/runtime): health, the admin API
 * (status, push, rollback) and /predict. Every failure becomes one sentence
 * naming the endpoint and what went wrong, never a stack.
 */

/** GET /admin/status (contract (a)). */
export interface AdminStatus {
  /** The state folder's id (runtimes before issue 8's fix have none). */
  stateId?: string;
  model: Served & { task: string; bundleSha256: string; installedAt: string };
  previous: (Served & { bundleSha256: string; installedAt: string }) | null;
  keyFingerprint: string;
  runtimeVersion: string;
  startedAt: string;
  counters: { requests: number; errors: number; predictions: number };
  /** The shadow model running beside production (runtimes before issue 9 do not say). */
  shadow?: EdgeShadow | null;
}

/** A shadow model at the edge: which, and since when (ISO time). */
export interface EdgeShadow {
  name: string;
  version: string;
  since: string;
}

/** A bucket's comparison of the shadow with production (present only while a shadow runs). */
export interface EdgeShadowCounts {
  name: string;
  version: string;
  rows: number;
  agreed: number;
  anomalies: number;
  productionAnomalies: number;
  errors: number;
}

/** One input of a monitoring bucket: counts over its profile's bins (numeric inputs may also carry each bin's sum of values). */
export interface EdgeBinCounts {
  counts: number[];
  missing: number;
  sums?: number[];
}

/** A closed minute bucket of GET /admin/monitoring. */
export interface EdgeBucket {
  seq: number;
  from: string;
  to: string;
  name: string;
  version: string;
  requests: number;
  errors: number;
  rows: number;
  predictions: Record<string, number>;
  anomalies: number;
  latencyMs: { count: number; sum: number; p50: number | null; p99: number | null; bins?: [number, number][] };
  features: Record<string, EdgeBinCounts>;
  shadow?: EdgeShadowCounts;
}

/**
 * An anomalous row as the endpoint recorded it, or (`flagged: false`) a
 * context row sent just before or after one (never an anomaly); runtimes
 * before issue 9 send flagged rows only, without the field.
 */
export interface EdgeEvent {
  seq: number;
  flagged?: boolean;
  time: string | number | null;
  receivedAt: string;
  source: string | null;
  model: string;
  version: string;
  score: number | null;
  inputs: Record<string, unknown>;
}

/**
 * GET /admin/monitoring (contract (a)): a page after a cursor; `more` when another page waits.
 * `stateId`: the endpoint's state folder (another id: the folder was reset or replaced, numbers start again);
 * `run`: this run of the endpoint and the numbers on disk when it started ("buckets.events"): a reader
 * past them when it meets a new run knows the folder went back (a backup restored). Older runtimes send neither.
 */
export interface MonitoringPage {
  stateId?: string;
  run?: { id: string; from: string };
  cursor: string;
  more: boolean;
  model: Served;
  counters: { requests: number; errors: number; predictions: Record<string, number>; anomalies: number };
  buckets: EdgeBucket[];
  events: EdgeEvent[];
  /** Events numbered after the cursor up to this page's last that the endpoint dropped unread, and how many were anomalies (null: not known). Older runtimes leave it out. */
  dropped?: { events: number; anomalies: number | null };
}

export interface PushReply {
  model: Served;
  previous: Served | null;
  unchanged?: true;
}

/** One row's answer from /predict. */
export interface EdgePrediction {
  prediction?: string | number | null;
  probabilities?: Record<string, number | null>;
  score?: number | null;
  anomaly?: boolean;
}

type Auth = 'admin' | 'predict' | null;

interface Reply {
  status: number;
  text: string;
  json: unknown;
}

const MAX_REPLY_BYTES = 64 * 1024 * 1024;

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return null;
  }
}

/** Why a connection failed, in words. */
function networkReason(e: NodeJS.ErrnoException, timeoutMs: number): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens there';
    case 'ENOTFOUND':
      return 'no such host';
    case 'EAI_AGAIN':
      return 'the host name could not be looked up';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the network cannot reach that host';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'the connection was closed before an answer came';
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return `no answer within ${Math.round(timeoutMs / 1000)} s`;
    default:
      if (e.code && /CERT|SSL|TLS|SELF_SIGNED/.test(e.code)) return `its TLS certificate was not accepted (${e.message})`;
      return e.message || String(e.code);
  }
}

export class EndpointClient {
  readonly url: string;

  constructor(
    url: string,
    private readonly tokens: { token?: string | null; adminToken?: string | null },
    private readonly opts: { timeoutMs?: number; user?: string } = {},
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  private get timeoutMs(): number {
    return this.opts.timeoutMs ?? 15_000;
  }

  private request(method: string, route: string, auth: Auth, body?: { bytes: Buffer; type: string; headers?: Record<string, string> }, timeoutMs = this.timeoutMs): Promise<Reply> {
    const target = new URL(this.url + route);
    const lib = target.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = auth === 'admin' ? this.tokens.adminToken : auth === 'predict' ? this.tokens.token : null;
    if (auth && !token) {
      throw new AppError('bad_input', auth === 'admin' ? `The workspace has no admin token for ${this.url}; add the endpoint again with its admin token to deploy to it.` : `The workspace has no token for ${this.url}.`, auth === 'admin' ? 'adminToken' : 'token');
    }
    if (token) headers.Authorization = `Bearer ${token}`;
    // The endpoint's admin log says who pushed or rolled back.
    if (auth === 'admin' && this.opts.user) headers['X-Millwright-User'] = this.opts.user.replace(/[^\x20-\x7e]/g, '?');
    if (body) {
      Object.assign(headers, body.headers);
      headers['Content-Type'] = body.type;
      headers['Content-Length'] = String(body.bytes.length);
    }
    return new Promise<Reply>((resolve, reject) => {
      const req = lib.request(target, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > MAX_REPLY_BYTES) {
            req.destroy();
            reject(new AppError('io', `${this.url}${route} answered with more than ${MAX_REPLY_BYTES / 1024 / 1024} MB; that is not a Millwright endpoint.`));
          } else chunks.push(d);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, text, json: parseJson(text) });
        });
        res.on('error', (e) => reject(new AppError('io', `Cannot reach ${this.url} (${networkReason(e, timeoutMs)}).`)));
      });
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => reject(new AppError('io', `Cannot reach ${this.url} (${networkReason(e, timeoutMs)}).`)));
      req.end(body?.bytes);
    });
  }

  /** The reply's JSON when 2xx; otherwise the endpoint's reason as an AppError. */
  private async call<T>(method: string, route: string, auth: Auth, body?: { bytes: Buffer; type: string; headers?: Record<string, string> }, timeoutMs?: number): Promise<T> {
    const r = await this.request(method, route, auth, body, timeoutMs);
    if (r.status >= 200 && r.status < 300) {
      if (r.json === null) throw new AppError('io', `${this.url}${route} did not answer with JSON; is this a Millwright endpoint?`);
      return r.json as T;
    }
    const said = (r.json as { error?: unknown } | null)?.error;
    const reason = typeof said === 'string' ? said : r.text.trim().slice(0, 200) || 'no reason given';
    if (r.status === 401 || r.status === 403) {
      throw new AppError('bad_input', auth === 'admin' ? `${this.url}: the admin token was refused (${r.status}). Check the admin token kept for this endpoint.` : `${this.url}: the token was refused (${r.status}). Check the token kept for this endpoint.`, auth === 'admin' ? 'adminToken' : 'token');
    }
    if (r.status === 404 && route.startsWith('/admin/')) {
      throw new AppError('bad_input', `${this.url} has no admin API (${route} answered 404); it runs an older edge runtime. Install a bundle exported by this version of Millwright there.`);
    }
    if (r.status === 409) throw new AppError('conflict', `${this.url}: ${reason}`);
    if (r.status === 413) throw new AppError('bad_input', `${this.url} refused the bundle as too large (413): ${reason}`);
    if (r.status >= 400 && r.status < 500) throw new AppError('bad_input', `${this.url} refused it (${r.status}): ${reason}`);
    throw new AppError('io', `${this.url}${route} failed (${r.status}): ${reason}`);
  }

  /** True when /v2/health/ready answers 200. */
  async ready(): Promise<{ ok: boolean; detail: string }> {
    const r = await this.request('GET', '/v2/health/ready', null);
    if (r.status === 200 && (r.json as { ready?: boolean } | null)?.ready === true) return { ok: true, detail: 'ready' };
    const said = (r.json as { error?: string } | null)?.error;
    return { ok: false, detail: `/v2/health/ready answered ${r.status}${said ? `: ${said}` : ''}` };
  }

  status(): Promise<AdminStatus> {
    return this.call<AdminStatus>('GET', '/admin/status', 'admin');
  }

  /** GET /admin/monitoring: the buckets and anomaly events after `cursor` (exactly once), at most `limit` of each. */
  monitoring(cursor: string | null, limit = 1000): Promise<MonitoringPage> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    return this.call<MonitoringPage>('GET', `/admin/monitoring?${q}`, 'admin');
  }

  /** Sends a bundle (.tar.gz bytes); the endpoint checks it and swaps with no dropped request. */
  push(bundle: Buffer): Promise<PushReply> {
    return this.call<PushReply>('POST', '/admin/bundle', 'admin', { bytes: bundle, type: 'application/gzip' }, Math.max(this.timeoutMs, 120_000));
  }

  /** Installs a bundle (.tar.gz bytes) as the shadow model: checked as a push is, refused (409) when it cannot score production's rows. */
  installShadow(bundle: Buffer): Promise<{ shadow: EdgeShadow; unchanged?: true }> {
    return this.call('POST', '/admin/shadow', 'admin', { bytes: bundle, type: 'application/gzip' }, Math.max(this.timeoutMs, 120_000));
  }

  /** Removes the shadow model; what it was, or null when none ran. */
  removeShadow(): Promise<{ removed: EdgeShadow | null }> {
    return this.call('DELETE', '/admin/shadow', 'admin');
  }

  rollback(): Promise<PushReply> {
    return this.call<PushReply>('POST', '/admin/rollback', 'admin', { bytes: Buffer.from('{}'), type: 'application/json' });
  }

  /** `headers`: more request headers (the smoke test's X-Millwright-Check, see smoke.ts). */
  async predict(rows: Record<string, unknown>[], headers: Record<string, string> = {}): Promise<EdgePrediction[]> {
    const r = await this.call<{ predictions?: EdgePrediction[] }>('POST', '/predict', 'predict', { bytes: Buffer.from(JSON.stringify(rows)), type: 'application/json', headers });
    if (!Array.isArray(r.predictions) || r.predictions.length !== rows.length) throw new AppError('io', `${this.url}/predict answered ${Array.isArray(r.predictions) ? r.predictions.length : 'no'} predictions for ${rows.length} rows.`);
    return r.predictions;
  }

  /** /metrics (predict token): what an endpoint without the admin token tells about itself. */
  async metrics(): Promise<{ model: Served | null; requests: number; errors: number }> {
    const r = await this.request('GET', '/metrics', 'predict');
    if (r.status === 401 || r.status === 403) throw new AppError('bad_input', `${this.url}: the token was refused (${r.status}). Check the token kept for this endpoint.`, 'token');
    if (r.status !== 200) throw new AppError('io', `${this.url}/metrics failed (${r.status}).`);
    let model: Served | null = null;
    let requests = 0, errors = 0;
    for (const line of r.text.split('\n')) {
      const info = /^millwright_model_info\{(.*)\}\s/.exec(line);
      if (info) {
        const labels = Object.fromEntries([...info[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!.replace(/\\(.)/g, '$1')]));
        if (labels.name) model = { name: labels.name, version: /^\d+$/.test(labels.version ?? '') ? Number(labels.version) : (labels.version ?? '') };
      }
      const req = /^millwright_requests_total(?:\{[^}]*\})?\s+(\d+(?:\.\d+)?)/.exec(line);
      if (req) requests += Number(req[1]);
      const err = /^millwright_errors_total(?:\{[^}]*\})?\s+(\d+(?:\.\d+)?)/.exec(line);
      if (err) errors += Number(err[1]);
    }
    return { model, requests, errors };
  }
}
