import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import type { Workspace } from '../workspace/workspace';
import { workspaceKey } from './bundle';
import type { EndpointStore } from './endpoints';

/**
 * Local endpoints: edge runtimes (resources/runtime/server.js) this app runs
 * as child processes on 127.0.0.1, one per endpoint, each with its own state
 * folder under the workspace (endpoints/NAME/state). The first bundle is
 * given with --bundle; later ones are pushed through the admin API, so a
 * deployment never restarts the process. Tokens come from the workspace's
 * keys folder and go to the child by environment variables (never on the
 * command line, where the process list would show them); the pinned key is
 * the workspace's public key.
 */

/** How long a stop waits for the runtime to drain before killing it. */
const STOP_GRACE_MS = 8_000;
const START_TIMEOUT_MS = 60_000;

interface Child {
  proc: ChildProcess;
  port: number;
  stopping: boolean;
  exited: Promise<void>;
}

/**
 * The command that runs the edge runtime with this process's own binary
 * (Electron runs as Node for it). The runtime reads MILLWRIGHT_* settings:
 * unless `keepEnv`, only the ones given here count.
 */
export function runtimeCommand(runtimeDir: string, args: string[], env: Record<string, string | undefined>, keepEnv = false): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (keepEnv || !k.startsWith('MILLWRIGHT_')) base[k] = v;
  if (process.versions.electron) base.ELECTRON_RUN_AS_NODE = '1';
  for (const [k, v] of Object.entries(env)) if (v !== undefined) base[k] = v;
  return { command: process.execPath, args: [path.join(runtimeDir, 'server.js'), ...args], env: base };
}

/** Reads the runtime's stdout (one JSON object a line) until it says where it listens. */
export function waitForListening(proc: ChildProcess, timeoutMs: number, onLine: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      f();
    };
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        onLine(line);
        try {
          const j = JSON.parse(line) as { listening?: { port?: number } };
          if (typeof j.listening?.port === 'number') finish(() => resolve(j.listening!.port!));
        } catch {
          // Not JSON: a line for the log only.
        }
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      for (const line of d.split('\n')) if (line) onLine(line);
    });
    const lastWords = () => stderr.trim().split('\n').filter(Boolean).pop()?.replace(/^millwright-edge:\s*/, '') ?? '';
    proc.once('exit', (code, signal) => finish(() => reject(new AppError('io', `The edge runtime stopped before it listened (${signal ?? `exit code ${code}`})${lastWords() ? `: ${lastWords()}` : '.'}`))));
    proc.once('error', (e) => finish(() => reject(new AppError('io', `Cannot run the edge runtime: ${e.message}.`))));
    const timer = setTimeout(() => finish(() => reject(new AppError('io', `The edge runtime did not start within ${timeoutMs / 1000} s${lastWords() ? `: ${lastWords()}` : '.'}`))), timeoutMs);
  });
}

export class LocalEndpoints {
  private readonly children = new Map<string, Child>();
  private closed = false;

  constructor(
    private readonly ws: Workspace,
    private readonly store: EndpointStore,
    private readonly runtimeDir: string,
  ) {}

  dir(name: string): string {
    return path.join(this.ws.dir, 'endpoints', name);
  }

  /** The bundle the endpoint was first started with (the runtime serves what was pushed since, from its state). */
  firstBundle(name: string): string {
    return path.join(this.dir(name), 'first-bundle.tar.gz');
  }

  isRunning(name: string): boolean {
    return this.children.has(name);
  }

  /**
   * Starts the endpoint's runtime. `bundle` (a .tar.gz) becomes its first
   * bundle when given; otherwise it starts with the one it has. The port it
   * had before is asked for again, so its URL stays the same.
   */
  async start(name: string, opts: { bundle?: string; port?: number } = {}): Promise<{ port: number; url: string }> {
    if (this.closed) throw new AppError('conflict', 'Millwright is closing; the endpoint was not started.');
    const running = this.children.get(name);
    if (running) return { port: running.port, url: `http://127.0.0.1:${running.port}` };
    const e = this.store.get(name);
    if (e.kind !== 'local') throw new AppError('bad_input', `"${name}" is an endpoint operations runs elsewhere; only endpoints on this PC can be started and stopped here.`, 'name');
    const tokens = this.store.tokens.get(name);
    if (!tokens?.adminToken) throw new AppError('conflict', `The tokens of the local endpoint "${name}" are missing from ${path.join(this.ws.dir, 'keys')}. Remove the endpoint and deploy again.`, 'name');
    const first = this.firstBundle(name);
    fs.mkdirSync(path.join(this.dir(name), 'state'), { recursive: true, mode: 0o700 });
    const hadBundle = fs.existsSync(first);
    if (opts.bundle) {
      const tmp = `${first}.part-${process.pid}`;
      fs.copyFileSync(opts.bundle, tmp);
      fs.renameSync(tmp, first);
    }
    if (!fs.existsSync(first)) throw new AppError('conflict', `The local endpoint "${name}" has never been given a bundle; deploy a model version to it.`, 'name');
    const wanted = opts.port ?? e.port ?? 0;
    let port: number;
    try {
      try {
        port = await this.spawn(name, tokens, wanted);
      } catch (err) {
        // The port it had is taken now: take any free one (its URL changes).
        if (wanted === 0 || !(err instanceof AppError) || !/already in use/.test(err.message) || opts.port !== undefined) throw err;
        port = await this.spawn(name, tokens, 0);
      }
    } catch (err) {
      // A first bundle that never ran is not kept: the next deployment starts afresh.
      if (!hadBundle) fs.rmSync(first, { force: true });
      throw err;
    }
    const url = `http://127.0.0.1:${port}`;
    this.store.setLocal(name, { runState: 'running', port, url });
    // It listens: whatever went wrong before is over.
    this.store.noteContact(name, { status: 'up', error: null, reached: true });
    this.ws.audit.record('endpoint.start', { name, url });
    return { port, url };
  }

  private async spawn(name: string, tokens: { token: string; adminToken?: string }, port: number): Promise<number> {
    const keyFile = path.join(this.ws.dir, 'keys', 'workspace-ed25519.pub.pem');
    workspaceKey(this.ws);
    const cmd = runtimeCommand(
      this.runtimeDir,
      ['--bundle', this.firstBundle(name), '--state', path.join(this.dir(name), 'state'), '--host', '127.0.0.1', '--port', String(port), '--key', keyFile],
      { MILLWRIGHT_TOKEN: tokens.token, MILLWRIGHT_ADMIN_TOKEN: tokens.adminToken },
    );
    const log = fs.createWriteStream(path.join(this.dir(name), 'endpoint.log'), { flags: 'a' });
    const proc = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    let lastErr = '';
    const listening = waitForListening(proc, START_TIMEOUT_MS, (line) => {
      log.write(`${new Date().toISOString()} ${line}\n`);
      if (!line.startsWith('{')) lastErr = line.replace(/^millwright-edge:\s*/, '');
    });
    let p: number;
    try {
      p = await listening;
    } catch (e) {
      proc.kill('SIGKILL');
      await exited;
      log.end();
      if (port !== 0 && e instanceof AppError && /EADDRINUSE/.test(e.message)) {
        throw new AppError('bad_input', `Port ${port} on this PC is already in use by another program. Choose another port, or none to take any free one.`, 'port');
      }
      throw e;
    }
    const child: Child = { proc, port: p, stopping: false, exited };
    this.children.set(name, child);
    proc.once('exit', (code, signal) => {
      log.end();
      if (this.children.get(name) === child) this.children.delete(name);
      if (child.stopping || this.closed || !this.ws.db.open) return;
      // It stopped on its own: say so on the Deployments page.
      this.store.noteContact(name, { status: 'down', error: `The endpoint stopped by itself (${signal ?? `exit code ${code}`})${lastErr ? `: ${lastErr}` : '.'} Start it again, or see ${path.join(this.dir(name), 'endpoint.log')}.`, reached: false });
    });
    return p;
  }

  /** Stops the endpoint's process (SIGTERM: it drains requests in flight; SIGKILL after a few seconds). */
  async stop(name: string, opts: { remember?: boolean } = {}): Promise<void> {
    const child = this.children.get(name);
    if (opts.remember !== false && this.ws.db.open) this.store.setLocal(name, { runState: 'stopped' });
    if (!child) return;
    child.stopping = true;
    child.proc.kill('SIGTERM');
    const killer = setTimeout(() => child.proc.kill('SIGKILL'), STOP_GRACE_MS);
    await child.exited;
    clearTimeout(killer);
    this.children.delete(name);
  }

  /** Starts the local endpoints that were running when the app last closed; a failure is noted on the endpoint, not thrown. */
  async resume(): Promise<void> {
    for (const e of this.store.list()) {
      if (e.kind !== 'local' || e.runState !== 'running' || this.children.has(e.name)) continue;
      try {
        await this.start(e.name);
      } catch (err) {
        if (this.ws.db.open) this.store.noteContact(e.name, { status: 'down', error: `It could not be started again: ${(err as Error).message}`, reached: false });
      }
    }
  }

  /** Stops every child this app runs, keeping their "running" mark so the next start brings them back. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.children.keys()].map((name) => this.stop(name, { remember: false })));
  }
}
