import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DeployCheck, DeployResult, DeployTarget, DeploymentRecord, EndpointSummary } from '../../../shared/deploy';
import { AppError } from '../../../shared/errors';
import { findModelVersion, type ModelVersionRecord } from '../training/models';
import type { Workspace } from '../workspace/workspace';
import { buildBundle, readManifest, verifyManifest, workspaceKey } from './bundle';
import { EndpointClient, type AdminStatus } from './client';
import { EndpointStore, newToken, summaryOf, type Contact, type EndpointRecord } from './endpoints';
import { LocalEndpoints } from './local';
import { trainingProfile } from './profile';
import { versionRows } from './rows';
import { compareAnswers, curlLine, SMOKE_HEADERS, smokePlan } from './smoke';

/**
 * Deployments (DESIGN.md section 9): a model version's signed bundle pushed
 * to an endpoint (or a local endpoint started with it), then checked:
 * signature, health, and a smoke test against the app's own answers.
 */

/** The local endpoint "Run on this PC" makes when no name is given. */
export const DEFAULT_LOCAL_NAME = 'this-pc';

/** What an endpoint serves, its version a number when it is one (the runtime sends text). */
const served = (m: { name: string; version: number | string } | null | undefined) => (m ? { name: m.name, version: /^\d+$/.test(String(m.version)) ? Number(m.version) : m.version } : null);

export class DeployService {
  readonly store: EndpointStore;
  readonly local: LocalEndpoints;
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ws: Workspace,
    readonly runtimeDir: string,
  ) {
    this.store = new EndpointStore(ws);
    this.local = new LocalEndpoints(ws, this.store, runtimeDir);
  }

  /** One operation at a time per endpoint (two deployments to one endpoint would race). */
  private exclusive<T>(name: string, f: () => Promise<T>): Promise<T> {
    const before = this.busy.get(name) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(f);
    const tail = run.catch(() => undefined);
    this.busy.set(name, tail);
    void tail.then(() => {
      if (this.busy.get(name) === tail) this.busy.delete(name);
    });
    return run;
  }

  private client(e: EndpointRecord, timeoutMs?: number): EndpointClient {
    const t = this.store.tokens.get(e.name);
    return new EndpointClient(e.url, { token: t?.token ?? null, adminToken: t?.adminToken ?? null }, { user: this.ws.who, ...(timeoutMs ? { timeoutMs } : {}) });
  }

  list(): EndpointSummary[] {
    return this.store.list().map(summaryOf);
  }

  history(a: { name?: string; limit?: number }): DeploymentRecord[] {
    return this.store.history(a);
  }

  /** Asks the endpoint how it is: health, and what it serves (admin status, or /metrics without the admin token). */
  private async contact(e: EndpointRecord, c = this.client(e)): Promise<{ contact: Contact; status: AdminStatus | null }> {
    const notRunHere = e.kind === 'local' && !this.local.isRunning(e.name);
    try {
      const ready = await c.ready();
      if (!ready.ok) return { contact: { status: 'down', error: `${e.url} is not ready: ${ready.detail}.`, reached: true }, status: null };
      if (e.canDeploy) {
        const s = await c.status();
        return {
          contact: { status: 'up', error: null, reached: true, model: served(s.model), previous: served(s.previous), bundleSha256: s.model.bundleSha256, requests: s.counters.requests, errors: s.counters.errors },
          status: s,
        };
      }
      const m = await c.metrics();
      return { contact: { status: 'up', error: null, reached: true, model: m.model, requests: m.requests, errors: m.errors }, status: null };
    } catch (err) {
      const message = err instanceof AppError ? err.message : String(err);
      // A local endpoint nobody runs is stopped, not broken.
      if (notRunHere && /Cannot reach/.test(message)) return { contact: { status: 'stopped', error: null, reached: false }, status: null };
      return { contact: { status: 'down', error: message, reached: !/Cannot reach/.test(message) }, status: null };
    }
  }

  async refresh(name: string): Promise<EndpointSummary> {
    const e = this.store.get(name);
    const { contact } = await this.contact(e);
    return summaryOf(this.store.noteContact(name, contact));
  }

  /**
   * One contact for the monitor, inside the endpoint's lock (a poll must not
   * write what an endpoint served before a deployment over what it serves
   * after): health and what it serves are noted as a refresh does; then, when
   * it is up and the workspace has its admin token, `then` reads more with
   * the same client. A failure of `then` comes back as words in `readError`.
   */
  async observe<T>(name: string, then: (client: EndpointClient, e: EndpointRecord) => Promise<T>, timeoutMs?: number): Promise<{ endpoint: EndpointRecord; contact: Contact; read?: T; readError?: string }> {
    return this.exclusive(name, async () => {
      const e = this.store.get(name);
      const client = this.client(e, timeoutMs);
      const { contact } = await this.contact(e, client);
      const endpoint = this.store.noteContact(name, contact);
      if (contact.status !== 'up' || !e.canDeploy) return { endpoint, contact };
      try {
        return { endpoint, contact, read: await then(client, endpoint) };
      } catch (err) {
        return { endpoint, contact, readError: err instanceof Error ? err.message : String(err) };
      }
    });
  }

  /** Adds an endpoint operations runs; contacts it once (an unreachable one is kept, marked down with the reason). */
  async add(a: { name: string; url: string; token: string; adminToken?: string }): Promise<EndpointSummary> {
    const url = new URL(a.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('bad_input', `The URL must start with http:// or https:// (got "${a.url}").`, 'url');
    if (a.adminToken !== undefined && a.adminToken === a.token) throw new AppError('bad_input', 'The admin token must differ from the predict token.', 'adminToken');
    const clean = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
    this.store.add({ name: a.name, kind: 'remote', url: clean, tokens: { token: a.token, ...(a.adminToken ? { adminToken: a.adminToken } : {}) } });
    return this.refresh(a.name);
  }

  async remove(name: string): Promise<{ removed: string }> {
    return this.exclusive(name, async () => {
      const e = this.store.get(name);
      if (e.kind === 'local') {
        await this.local.stop(name);
        fs.rmSync(this.local.dir(name), { recursive: true, force: true });
      }
      this.store.remove(name);
      return { removed: name };
    });
  }

  async stop(name: string): Promise<EndpointSummary> {
    return this.exclusive(name, async () => {
      const e = this.store.get(name);
      if (e.kind !== 'local') throw new AppError('bad_input', `"${name}" runs elsewhere; only endpoints on this PC can be stopped here.`, 'name');
      if (!this.local.isRunning(name) && e.runState === 'running' && (await this.contact(e)).contact.status === 'up') {
        throw new AppError('conflict', `"${name}" is run by another Millwright window on this PC; stop it there.`, 'name');
      }
      await this.local.stop(name);
      this.ws.audit.record('endpoint.stop', { name });
      return summaryOf(this.store.noteContact(name, { status: 'stopped', error: null, reached: false }));
    });
  }

  async start(name: string): Promise<EndpointSummary> {
    return this.exclusive(name, async () => {
      await this.local.start(name);
      return this.refresh(name);
    });
  }

  /** Puts back what the endpoint served before its last deployment. */
  async rollback(a: { endpoint: string }): Promise<EndpointSummary> {
    return this.exclusive(a.endpoint, async () => {
      const e = await this.ensureRunning(this.store.get(a.endpoint));
      const reply = await this.client(e).rollback();
      const now = served(reply.model)!;
      this.store.recordDeployment({ endpoint: e.name, action: 'rollback', model: now.name, version: now.version, ok: true, detail: { replaced: served(reply.previous) } });
      return this.refresh(e.name);
    });
  }

  /** A local endpoint that should take a deployment but is not running here is started (with what it had). */
  private async ensureRunning(e: EndpointRecord): Promise<EndpointRecord> {
    if (!e.canDeploy) throw new AppError('bad_input', `The workspace has no admin token for "${e.name}", so it cannot deploy to it. Remove it and add it again with --admin-token.`, 'adminToken');
    if (e.kind === 'local' && !this.local.isRunning(e.name)) {
      // Another window of the app may run it: then it answers, and pushing works there.
      if ((await this.contact(e)).contact.status !== 'up') await this.local.start(e.name);
      return this.store.get(e.name);
    }
    return e;
  }

  async run(a: { model: string; version?: number; target: DeployTarget }): Promise<DeployResult> {
    const v = findModelVersion(this.ws.db, a.model, a.version);
    const t = a.target;
    if (t.kind === 'file') {
      // The wizard's default place, the exports folder (server mode downloads from there), is made on first use; any other folder must exist.
      const exportsDir = path.join(this.ws.dir, 'exports');
      if (path.dirname(path.resolve(t.out)) === exportsDir) fs.mkdirSync(exportsDir, { recursive: true });
      const built = await buildBundle(this.ws, v, t.out, this.runtimeDir);
      const check = this.signatureOfFile(built.file);
      return { model: v.model, version: v.version, endpoint: null, url: null, file: built.file, replaced: null, checks: [check], curl: null, ok: check.ok };
    }
    const name = t.kind === 'local' ? (t.name ?? DEFAULT_LOCAL_NAME) : t.name;
    return this.exclusive(name, () => this.deployTo(v, name, t));
  }

  /** The bundle's manifest against the workspace key, read back from the written file. */
  private signatureOfFile(file: string): DeployCheck {
    const { manifest, signature } = readManifest(fs.readFileSync(file));
    const key = workspaceKey(this.ws);
    const ok = verifyManifest(manifest, signature, key.publicPem);
    return { name: 'signature', ok, detail: ok ? `manifest.json is signed by the workspace key ${key.fingerprint}.` : `manifest.json does not verify with the workspace key ${key.fingerprint}.` };
  }

  private async deployTo(v: ModelVersionRecord, name: string, t: Exclude<DeployTarget, { kind: 'file' }>): Promise<DeployResult> {
    let e = this.store.find(name);
    if (t.kind === 'local') {
      if (e && e.kind !== 'local') throw new AppError('bad_input', `"${name}" is an endpoint operations runs elsewhere, not one on this PC. Push to it as an endpoint, or choose another name.`, 'name');
      if (!e) {
        e = this.store.add({ name, kind: 'local', url: 'http://127.0.0.1', tokens: { token: newToken(), adminToken: newToken() }, port: t.port ?? null });
      }
    } else if (!e) e = this.store.get(name);
    if (!e.canDeploy) throw new AppError('bad_input', `The workspace has no admin token for "${e.name}", so it cannot deploy to it. Remove it and add it again with --admin-token.`, 'adminToken');

    const rows = versionRows(this.ws, v);
    const profile = await trainingProfile(this.ws, v, rows);
    // The smoke rows and the app's answers for them; window models' rows go under a source of their own.
    const plan = await smokePlan(rows, { source: `millwright-smoke-${crypto.randomBytes(4).toString('hex')}`, timeColumn: v.settings.timeColumn });
    const tmpDir = path.join(this.ws.dir, 'tmp');
    fs.mkdirSync(tmpDir, { recursive: true });
    const file = path.join(tmpDir, `deploy-${crypto.randomBytes(6).toString('hex')}.tar.gz`);
    try {
      const built = await buildBundle(this.ws, v, file, this.runtimeDir, { audit: false, profile });
      const bytes = fs.readFileSync(file);
      let replaced: { name: string; version: number | string } | null = e.model;
      let pushed = false;
      let refusal: string | null = null;
      const firstStart = e.kind === 'local' && !this.local.isRunning(e.name) && !fs.existsSync(this.local.firstBundle(e.name));
      try {
        if (firstStart) {
          replaced = null;
          await this.local.start(e.name, { bundle: file, ...(t.kind === 'local' && t.port !== undefined ? { port: t.port } : {}) });
          pushed = true;
        } else {
          e = await this.ensureRunning(e);
          const before = await this.client(e).status();
          replaced = served(before.model);
          await this.client(e).push(bytes);
          pushed = true;
        }
      } catch (err) {
        // The endpoint looked at the bundle and refused it (a bad signature, a model it cannot load): that is the signature check failing.
        if (err instanceof AppError && err.code === 'bad_input' && /refused it \(4\d\d\)|too large/.test(err.message)) refusal = err.message;
        else {
          this.ws.audit.record('endpoint.deploy', { name: e.name, model: v.model, version: v.version, ok: false, error: err instanceof Error ? err.message : String(err) });
          throw err;
        }
      }
      e = this.store.get(e.name);
      const client = this.client(e);
      const checks: DeployCheck[] = [];
      let status: AdminStatus | null = null;
      if (!pushed) {
        checks.push({ name: 'signature', ok: false, detail: `The endpoint refused the bundle: ${refusal}` });
        checks.push({ name: 'health', ok: false, detail: 'Not checked: the bundle was not installed.' });
        checks.push({ name: 'smoke', ok: false, detail: 'Not run: the bundle was not installed.' });
      } else {
        // Signature: ours verifies, and the endpoint says it serves exactly this bundle.
        const key = workspaceKey(this.ws);
        const { manifest, signature } = readManifest(bytes);
        const verifies = verifyManifest(manifest, signature, key.publicPem);
        let health: DeployCheck;
        try {
          const ready = await client.ready();
          status = await client.status();
          health = ready.ok
            ? { name: 'health', ok: true, detail: `/v2/health/ready answered ready and /admin/status answered (edge runtime ${status.runtimeVersion}, ${plural(status.counters.requests, 'request')}, ${plural(status.counters.errors, 'error')} so far).` }
            : { name: 'health', ok: false, detail: `${e.url} is not ready: ${ready.detail}.` };
        } catch (err) {
          health = { name: 'health', ok: false, detail: err instanceof Error ? err.message : String(err) };
        }
        const servesIt = status !== null && status.model.name === v.model && String(status.model.version) === String(v.version) && status.model.bundleSha256 === built.manifestSha256;
        const sameKey = status === null || status.keyFingerprint === key.fingerprint;
        checks.push({
          name: 'signature',
          ok: verifies && servesIt && sameKey,
          detail: !verifies
            ? `manifest.json does not verify with the workspace key ${key.fingerprint}.`
            : !sameKey
              ? `The endpoint pins another key (${status!.keyFingerprint}) than this workspace's (${key.fingerprint}).`
              : servesIt
                ? `manifest.json is signed by the workspace key ${key.fingerprint}, and the endpoint serves this bundle (${v.model} version ${v.version}, manifest ${built.manifestSha256.slice(0, 12)}…).`
                : status
                  ? `The endpoint serves ${status.model.name} version ${status.model.version} (manifest ${status.model.bundleSha256.slice(0, 12)}…), not the bundle just sent (${v.model} version ${v.version}, manifest ${built.manifestSha256.slice(0, 12)}…).`
                  : 'The endpoint did not say what it serves.',
        });
        checks.push(health);
        try {
          const got = await client.predict(plan.request, SMOKE_HEADERS);
          checks.push(compareAnswers(plan, got));
        } catch (err) {
          checks.push({ name: 'smoke', ok: false, detail: `Holdout rows could not be checked: ${err instanceof Error ? err.message : String(err)}` });
        }
      }
      const ok = checks.every((c) => c.ok);
      if (!ok && pushed) {
        const failed = checks.filter((c) => !c.ok).map((c) => c.name).join(' and ');
        const i = checks.findIndex((c) => !c.ok);
        checks[i] = { ...checks[i]!, detail: `${checks[i]!.detail} ${replaced ? `Rolling back puts ${replaced.name} version ${replaced.version} back` : 'There is no earlier version to roll back to'}; nothing was rolled back automatically (${failed} failed).` };
      }
      this.store.recordDeployment({ endpoint: e.name, action: 'deploy', model: v.model, version: v.version, modelVersionId: v.id, bundleSha256: built.manifestSha256, ok, detail: { replaced, checks: checks.map((c) => ({ name: c.name, ok: c.ok })) } });
      if (status) {
        this.store.noteContact(e.name, { status: 'up', error: null, reached: true, model: served(status.model), previous: served(status.previous), bundleSha256: status.model.bundleSha256, requests: status.counters.requests, errors: status.counters.errors });
      } else this.store.noteContact(e.name, (await this.contact(e)).contact);
      e = this.store.get(e.name);
      const token = e.kind === 'local' ? (this.store.tokens.get(e.name)?.token ?? null) : null;
      return {
        model: v.model,
        version: v.version,
        endpoint: e.name,
        url: e.url,
        file: null,
        replaced,
        checks,
        curl: plan.compare.length ? curlLine(e.url, token, plan.source ? withoutSource(plan.request[plan.compare[0]!.at]!) : plan.request[plan.compare[0]!.at]!) : null,
        ok,
      };
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /** Starts the local endpoints that were running when the app last closed. */
  resume(): Promise<void> {
    return this.local.resume();
  }

  close(): Promise<void> {
    return this.local.close();
  }
}

/** A smoke row as a person would send it: without the smoke test's own source. */
function withoutSource(row: Record<string, unknown>): Record<string, unknown> {
  const { source: _source, ...rest } = row;
  return rest;
}

/** "1 request", "2 requests". */
function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
