import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { ROOT, SCREENSHOTS } from './server-mode';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { electronBinary } = require('../scripts/electron-binary.cjs') as { electronBinary: () => string | null };

const binary = electronBinary();
const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const skipReason = !binary
  ? 'Electron spec skipped: no Electron binary is installed here (it downloads on a connected machine; see README).'
  : headless
    ? 'Electron spec skipped: there is no display (set DISPLAY, e.g. run under xvfb-run).'
    : '';
if (skipReason) console.log(skipReason);

test.describe('desktop app (Electron)', () => {
  test.skip(Boolean(skipReason), skipReason);

  test('opens one sandboxed window with the API bridge and the menu', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-electron-'));
    const app = await electron.launch({ executablePath: binary!, args: [ROOT, '--workspace', workspace] });
    try {
      const win = await app.firstWindow();
      await expect(win.getByRole('heading', { level: 1, name: 'Home' })).toBeVisible();
      expect(await win.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
      expect(await win.evaluate(() => Object.keys((window as unknown as { millwright: object }).millwright).sort())).toEqual(['call', 'fileRef', 'on', 'transport']);
      const info = await win.evaluate(() => (window as unknown as { millwright: { call(n: string, a: object): Promise<{ workspace: string }> } }).millwright.call('app.info', {}));
      expect(info.workspace).toBe(workspace);
      const bad = await win.evaluate(() =>
        (window as unknown as { millwright: { call(n: string, a: object): Promise<unknown> } }).millwright.call('jobs.list', { limit: 'x' }).then(
          () => null,
          (e: { code?: string; message: string }) => ({ code: e.code, message: e.message }),
        ),
      );
      expect(bad?.message).toContain('"limit" must be a number');
      // Sandboxed with context isolation: no Node globals leak into the page.
      expect(await win.evaluate(() => [typeof (globalThis as { process?: unknown }).process, typeof (globalThis as { module?: unknown }).module])).toEqual(['undefined', 'undefined']);
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
      // Navigation and new windows are refused.
      await win.evaluate(() => window.open('https://example.com'));
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
      const menus = await app.evaluate(({ Menu }) => Menu.getApplicationMenu()?.items.map((i) => i.label.replace('&', '')));
      expect(menus).toEqual(expect.arrayContaining(['File', 'View', 'Go', 'Help']));
      await win.screenshot({ path: path.join(SCREENSHOTS, 'electron-home.png') });
    } finally {
      await app.close();
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });
});
