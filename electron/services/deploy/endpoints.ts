import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DeploymentRecord, EndpointSummary } from '../../../shared/deploy';
import type { LineageNode } from '../../../shared/registry';
import { AppError } from '../../../shared/errors';
import type { ReadableDb } from '../workspace/db';
import type { Workspace } from '../workspace/workspace';

/**
 * The endpoints a workspace knows (table `endpoints`), what was deployed to
 * them (table `deployments`), and their tokens (keys/endpoints.json).
 */

export type EndpointKind = EndpointSummary['kind'];
export type EndpointStatus = EndpointSummary['status'];
export type Served = { name: string; version: number | string };

export interface EndpointTokens {
  /** The predict token (also reads /metrics). */
  token: string;
  /** The admin token: push, roll back, status, monitoring. */
  adminToken?: string;
}

interface EndpointRow {
  name: string;
  kind: EndpointKind;
  url: string;
  added_at: string;
  added_by: string;
  status: EndpointStatus;
  last_contact: string | null;
  last_error: string | null;
  model: string | null;
  previous: string | null;
  bundle_sha256: string | null;
  requests: number | null;
  errors: number | null;
  run_state: 'running' | 'stopped' | null;
  port: number | null;
}

export interface EndpointRecord extends EndpointSummary {
  bundleSha256: string | null;
  /** Local endpoints: whether it should run (the app starts it again when it opens). */
  runState: 'running' | 'stopped' | null;
  /** Local endpoints: the port it last listened on. */
  port: number | null;
}

/** What one contact with an endpoint found out. */
export interface Contact {
  status: EndpointStatus;
  error: string | null;
  model?: Served | null;
  previous?: Served | null;
  bundleSha256?: string | null;
  requests?: number | null;
  errors?: number | null;
  /** False when nothing answered: the time of the last contact stays as it was. */
  reached: boolean;
}

const TOKENS_FILE = 'endpoints.json';

/**
 * Tokens of the endpoints, by name, in the workspace's keys folder (mode
 * 0600, written whole through a temporary file), never in SQLite: a copied
 * database must not let anyone replace a model. The desktop app should keep
 * them in Electron's safeStorage instead (issue 10).
 */
export class TokenStore {
  private readonly file: string;

  constructor(ws: Workspace) {
    this.file = path.join(ws.dir, 'keys', TOKENS_FILE);
  }

  /** The file as last read, by inode and time: every write renames a new file in, so another writer (process) is noticed. */
  private read: { stamp: string; all: Readonly<Record<string, EndpointTokens>> } | null = null;

  /** Read-only: the monitor asks many times a second, so the parsed file is kept while it is unchanged. */
  private readAll(): Readonly<Record<string, EndpointTokens>> {
    let stamp: string;
    try {
      const st = fs.statSync(this.file);
      stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      return {};
    }
    if (this.read?.stamp === stamp) return this.read.all;
    try {
      const all = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, EndpointTokens>;
      this.read = { stamp, all };
      return all;
    } catch (e) {
      throw new AppError('io', `Cannot read the endpoint tokens in ${this.file}: ${(e as Error).message}.`);
    }
  }

  private writeAll(all: Record<string, EndpointTokens>): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw new AppError('io', `Cannot write the endpoint tokens to ${this.file}: ${(e as Error).message}.`);
    }
  }

  get(name: string): EndpointTokens | null {
    return this.readAll()[name] ?? null;
  }

  /** Every endpoint's tokens, read once (a list of many endpoints must not read the file once per endpoint). */
  all(): Readonly<Record<string, EndpointTokens>> {
    return this.readAll();
  }

  set(name: string, tokens: EndpointTokens): void {
    this.writeAll({ ...this.readAll(), [name]: tokens });
  }

  delete(name: string): void {
    const all = { ...this.readAll() };
    if (!(name in all)) return;
    delete all[name];
    this.writeAll(all);
  }
}

/** A token nobody can guess: 32 random bytes, base64url. */
export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

const parseServed = (text: string | null): Served | null => (text ? (JSON.parse(text) as Served) : null);

export class EndpointStore {
  readonly tokens: TokenStore;

  constructor(private readonly ws: Workspace) {
    this.tokens = new TokenStore(ws);
  }

  private toRecord(r: EndpointRow, tokens: EndpointTokens | null = this.tokens.get(r.name)): EndpointRecord {
    return {
      name: r.name,
      url: r.url,
      kind: r.kind,
      canDeploy: Boolean(tokens?.adminToken),
      status: r.status,
      model: parseServed(r.model),
      previous: parseServed(r.previous),
      lastContact: r.last_contact,
      lastError: r.last_error,
      requests: r.requests,
      errors: r.errors,
      addedAt: r.added_at,
      addedBy: r.added_by,
      bundleSha256: r.bundle_sha256,
      runState: r.run_state,
      port: r.port,
    };
  }

  list(): EndpointRecord[] {
    const tokens = this.tokens.all();
    return (this.ws.db.prepare('SELECT * FROM endpoints ORDER BY name').all() as EndpointRow[]).map((r) => this.toRecord(r, tokens[r.name] ?? null));
  }

  find(name: string): EndpointRecord | null {
    const r = this.ws.db.prepare('SELECT * FROM endpoints WHERE name = ?').get(name) as EndpointRow | undefined;
    return r ? this.toRecord(r) : null;
  }

  get(name: string): EndpointRecord {
    const e = this.find(name);
    if (!e) {
      const known = this.list().map((x) => `"${x.name}"`);
      throw new AppError('not_found', `There is no endpoint called "${name}".${known.length ? ` Endpoints: ${known.join(', ')}.` : ' Add one first (millwright endpoints add NAME --url URL --token T).'}`, 'name');
    }
    return e;
  }

  add(e: { name: string; kind: EndpointKind; url: string; tokens: EndpointTokens; port?: number | null }): EndpointRecord {
    if (this.find(e.name)) throw new AppError('conflict', `An endpoint called "${e.name}" already exists. Choose another name, or remove it first.`, 'name');
    this.tokens.set(e.name, e.tokens);
    this.ws.db
      .prepare('INSERT INTO endpoints (name, kind, url, added_at, added_by, run_state, port) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.name, e.kind, e.url, new Date().toISOString(), this.ws.who, e.kind === 'local' ? 'stopped' : null, e.port ?? null);
    this.ws.audit.record('endpoint.add', { name: e.name, kind: e.kind, url: e.url, canDeploy: Boolean(e.tokens.adminToken) });
    return this.get(e.name);
  }

  remove(name: string): void {
    const e = this.get(name);
    this.ws.db.prepare('DELETE FROM endpoints WHERE name = ?').run(name);
    this.tokens.delete(name);
    this.ws.audit.record('endpoint.remove', { name, kind: e.kind, url: e.url });
  }

  /** Keeps what a contact found out; fields it did not learn stay as they were. */
  noteContact(name: string, c: Contact): EndpointRecord {
    const sets: string[] = ['status = ?', 'last_error = ?'];
    const args: (string | number | null)[] = [c.status, c.error];
    if (c.reached) {
      sets.push('last_contact = ?');
      args.push(new Date().toISOString());
    }
    const put = (col: string, v: unknown) => {
      if (v === undefined) return;
      sets.push(`${col} = ?`);
      args.push(v === null ? null : typeof v === 'object' ? JSON.stringify(v) : (v as string | number));
    };
    put('model', c.model);
    put('previous', c.previous);
    put('bundle_sha256', c.bundleSha256);
    put('requests', c.requests);
    put('errors', c.errors);
    this.ws.db.prepare(`UPDATE endpoints SET ${sets.join(', ')} WHERE name = ?`).run(...args, name);
    return this.get(name);
  }

  setLocal(name: string, s: { runState?: 'running' | 'stopped'; port?: number; url?: string }): void {
    if (s.runState) this.ws.db.prepare('UPDATE endpoints SET run_state = ? WHERE name = ?').run(s.runState, name);
    if (s.port !== undefined) this.ws.db.prepare('UPDATE endpoints SET port = ? WHERE name = ?').run(s.port, name);
    if (s.url !== undefined) this.ws.db.prepare('UPDATE endpoints SET url = ? WHERE name = ?').run(s.url, name);
  }

  /** One deployment or rollback, with the audit entry that goes with it. */
  recordDeployment(d: { endpoint: string; action: 'deploy' | 'rollback'; model: string; version: number | string; modelVersionId?: number | null; bundleSha256?: string | null; ok: boolean; detail?: Record<string, unknown> }): void {
    this.ws.db
      .prepare('INSERT INTO deployments (endpoint, action, model, version, model_version_id, bundle_sha256, at, by, ok, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(d.endpoint, d.action, d.model, String(d.version), d.modelVersionId ?? null, d.bundleSha256 ?? null, new Date().toISOString(), this.ws.who, d.ok ? 1 : 0, JSON.stringify(d.detail ?? {}));
    this.ws.audit.record(d.action === 'deploy' ? 'endpoint.deploy' : 'endpoint.rollback', { name: d.endpoint, model: d.model, version: d.version, ok: d.ok, ...(d.detail ?? {}) });
  }

  history(opts: { name?: string; limit?: number } = {}): DeploymentRecord[] {
    const rows = this.ws.db
      .prepare(`SELECT endpoint, action, model, version, at, by, ok FROM deployments ${opts.name ? 'WHERE endpoint = ?' : ''} ORDER BY id DESC LIMIT ?`)
      .all(...(opts.name ? [opts.name] : []), opts.limit ?? 100) as { endpoint: string; action: 'deploy' | 'rollback'; model: string; version: string; at: string; by: string; ok: number }[];
    return rows.map((r) => ({ endpoint: r.endpoint, action: r.action, model: r.model, version: /^\d+$/.test(r.version) ? Number(r.version) : r.version, at: r.at, by: r.by, ok: r.ok === 1 }));
  }
}

/** The shape the API returns: without the core's own fields. */
export function summaryOf(e: EndpointRecord): EndpointSummary {
  const { bundleSha256: _b, runState: _r, port: _p, ...summary } = e;
  return summary;
}

/**
 * The lineage steps after a model version: each endpoint it was deployed to
 * (its last successful deployment there), and whether it still serves it.
 */
export function deploymentNodes(db: ReadableDb, v: { id: number; model: string; version: number }): LineageNode[] {
  const rows = db
    .prepare(
      `SELECT d.id, d.endpoint, d.at, d.by, d.bundle_sha256, e.url, e.kind, e.model AS serves
         FROM deployments d LEFT JOIN endpoints e ON e.name = d.endpoint
        WHERE d.id IN (SELECT MAX(id) FROM deployments WHERE model_version_id = ? AND action = 'deploy' AND ok = 1 GROUP BY endpoint)
        ORDER BY d.id`,
    )
    .all(v.id) as { id: number; endpoint: string; at: string; by: string; bundle_sha256: string | null; url: string | null; kind: EndpointKind | null; serves: string | null }[];
  return rows.map((r) => {
    const now = parseServed(r.serves);
    const serving = now !== null && now.name === v.model && String(now.version) === String(v.version);
    const state = r.url === null ? 'the endpoint was removed since' : serving ? 'serves it now' : now ? `serves ${now.name} version ${now.version} now` : 'not contacted since';
    return {
      id: `deployment:${r.id}`,
      kind: 'deployment',
      title: `Deployed to ${r.endpoint}`,
      subtitle: state,
      who: r.by,
      when: r.at,
      details: {
        Endpoint: r.endpoint,
        ...(r.url ? { URL: r.url, Kind: r.kind === 'local' ? 'on this PC' : 'run by operations' } : {}),
        'Bundle manifest SHA-256': r.bundle_sha256 ?? '',
        Now: state,
      },
      link: '#/deployments',
    };
  });
}
