import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Page } from '@playwright/test';

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
