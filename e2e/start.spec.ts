import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { ROOT } from './server-mode';

test('npm start without a display prints a link that opens the app', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-start-'));
  const env: NodeJS.ProcessEnv = { ...process.env, MILLWRIGHT_HOME: workspace };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  const proc = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.cjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const link = await new Promise<string>((resolve, reject) => {
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Open this link in a browser:\s+(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
      setTimeout(() => reject(new Error(`no link printed in 20 s:\n${out}`)), 20_000);
    });
    expect(out).toContain('starting in server mode');
    await page.goto(link);
    await expect(page.getByRole('heading', { level: 1, name: 'Home' })).toBeVisible();
    const info = await page.evaluate(async () => {
      const token = sessionStorage.getItem('millwright.token')!;
      const res = await fetch('./api/app.info', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: '{}' });
      return (await res.json()) as { value: { workspace: string } };
    });
    expect(info.value.workspace).toBe(workspace);
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    fs.rmSync(workspace, { recursive: true, force: true });
  }
});
