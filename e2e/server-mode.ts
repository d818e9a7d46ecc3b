import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { test, type APIRequestContext, type Page } from '@playwright/test';
import type { JobInfo } from '../shared/api';

export interface ServerMode {
  url: string;
  openUrl: string;
  workspace: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export const ROOT = path.join(__dirname, '..');
export const SCREENSHOTS = path.join(ROOT, 'artifacts', 'screenshots');

/** Starts `millwright serve-app` on a free port against a fresh temporary workspace. */
export async function startServerMode(): Promise<ServerMode> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-e2e-'));
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin', 'millwright.cjs'), 'serve-app', '--port', '0', '--json', '--workspace', workspace], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout! });
    rl.once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`serve-app exited with ${code}: ${stderr}`)));
    setTimeout(() => reject(new Error(`serve-app did not start in 20 s: ${stderr}`)), 20_000);
  });
  const info = JSON.parse(first) as { url: string; open: string };
  return {
    url: info.url,
    openUrl: info.open,
    workspace,
    proc,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(workspace, { recursive: true, force: true });
    },
  };
}

/**
 * Starts server mode before the spec file's tests and stops it after them; the getter
 * returns the running server (call it inside a test, not at import time).
 */
export function useServerMode(): () => ServerMode {
  let server: ServerMode | undefined;
  test.beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    server = await startServerMode();
  });
  test.afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('Server mode has not started.');
    return server;
  };
}

/**
 * Saves a screenshot of the page at both sizes UX.md asks every screen to be checked at.
 * `frame` runs after each resize, e.g. to scroll the part being checked into view again.
 */
export async function shoot(page: Page, name: string, frame?: () => Promise<void>): Promise<void> {
  for (const [w, h] of [
    [1400, 900],
    [1024, 700],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await frame?.();
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${w}x${h}.png`) });
  }
  await page.setViewportSize({ width: 1400, height: 900 });
}

/** Calls the app's HTTP API the way the page does, with the access key from the link. */
export async function apiCall<T>(request: APIRequestContext, server: ServerMode, name: string, arg: unknown): Promise<T> {
  const token = new URL(server.openUrl).searchParams.get('token') ?? '';
  const res = await request.post(new URL(`api/${name}`, server.url).toString(), { headers: { Authorization: `Bearer ${token}` }, data: arg });
  const reply = (await res.json()) as { ok: true; value: T } | { ok: false; error: { message: string } };
  if (!reply.ok) throw new Error(`${name}: ${reply.error.message}`);
  return reply.value;
}

/** Waits for a job to end; anything but done fails the test with the job's own reason. */
export async function finished(request: APIRequestContext, server: ServerMode, job: JobInfo, timeoutMs: number): Promise<JobInfo> {
  const end = Date.now() + timeoutMs;
  for (let j = job; ; j = await apiCall<JobInfo>(request, server, 'jobs.get', { id: j.id })) {
    if (j.state === 'done') return j;
    if (j.state !== 'queued' && j.state !== 'running') throw new Error(`${j.title} ended ${j.state}: ${j.error?.message ?? ''}`);
    if (Date.now() > end) throw new Error(`${j.title} did not finish in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
