import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { SCREENSHOTS, shoot, startServerMode, type ServerMode } from './server-mode';

let server: ServerMode;

test.beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  server = await startServerMode();
});
test.afterAll(async () => {
  await server?.stop();
});

async function openApp(page: Page): Promise<void> {
  await page.goto(server.openUrl);
  await expect(page.getByRole('heading', { level: 1, name: 'Home' })).toBeVisible();
}

const PAGES = [
  ['Home', 'home'],
  ['Data', 'data'],
  ['Models', 'models'],
  ['Deployments', 'deployments'],
  ['Monitoring', 'monitoring'],
  ['Inbox', 'inbox'],
  ['Activity', 'activity'],
  ['Settings', 'settings'],
] as const;

test('the printed link opens the app and the access key leaves the address bar', async ({ page }) => {
  await openApp(page);
  expect(page.url()).not.toContain('token');
  // A reload in the same tab keeps working: the key is kept for the session.
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Home' })).toBeVisible();
});

test('without the access key the page explains how to get in and the API refuses', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await expect(page.getByRole('heading', { name: 'Open Millwright with its link' })).toBeVisible();
  const status = await page.evaluate(async () => (await fetch('./api/app.info', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status);
  expect(status).toBe(401);
  await shoot(page, '00-no-access');
  await context.close();
});

test('every page in the navigation opens, in the order of the loop', async ({ page }) => {
  await openApp(page);
  const nav = page.getByRole('navigation', { name: 'Main' });
  const labels = await nav.getByRole('link').allInnerTexts();
  expect(labels.map((l) => l.trim())).toEqual(PAGES.map(([label]) => label));
  let i = 1;
  for (const [label, id] of PAGES) {
    await nav.getByRole('link', { name: label }).click();
    await expect(page.getByRole('heading', { level: 1, name: label })).toBeVisible();
    await expect(nav.getByRole('link', { name: label })).toHaveAttribute('aria-current', 'page');
    expect(page.url()).toContain(`#/${id}`);
    await shoot(page, `${String(i++).padStart(2, '0')}-${id}-empty`);
  }
  // Back goes to the previous page, as in any desktop app with history.
  await page.goBack();
  await expect(page.getByRole('heading', { level: 1, name: 'Activity' })).toBeVisible();
});

test('empty pages say what belongs there and offer the action that fills them', async ({ page }) => {
  await openApp(page);
  await page.getByRole('link', { name: 'Models' }).click();
  await expect(page.getByRole('heading', { name: 'No models yet' })).toBeVisible();
  await page.getByRole('button', { name: 'Bring in data first' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Data' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'No data yet' })).toBeVisible();
});

test('trying sample data runs a background task and adds the dataset', async ({ page }) => {
  await openApp(page);
  await page.getByRole('button', { name: 'Try it with sample data' }).click();
  const menu = page.getByRole('menu');
  await expect(menu.getByRole('menuitem')).toHaveCount(2);
  await shoot(page, '10-home-sample-menu');
  await menu.getByRole('menuitem', { name: /Milling machine failures/ }).click();
  await expect(page.getByRole('dialog', { name: 'Background tasks' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Added Milling machine failures (AI4I 2020) to your data.' })).toBeVisible();
  await shoot(page, '11-home-after-sample');
  await page.keyboard.press('Escape');
  await page.getByRole('link', { name: 'Data' }).click();
  const row = page.getByRole('row', { name: /Milling machine failures/ });
  await expect(row).toContainText('10,000');
  await expect(row).toContainText('ai4i2020.csv');
  await shoot(page, '12-data-with-sample');

  // Its page profiles every column; a column opens to its full distribution, and correlations follow.
  await row.getByRole('link', { name: /Milling machine failures/ }).click();
  await expect(page.getByRole('heading', { name: 'Milling machine failures (AI4I 2020)' })).toBeVisible();
  await page.getByRole('button', { name: 'Torque' }).click();
  await expect(page.getByRole('img', { name: 'Distribution of Torque' }).last()).toBeVisible();
  await expect(page.getByText('Typical range (5–95 %)')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'How the sensors move together' })).toBeVisible();
  await shoot(page, '13-dataset-ai4i-columns');
  await page.getByRole('link', { name: 'Data' }).click();

  // The home page now shows the first step as done and training as next.
  await page.getByRole('link', { name: 'Home' }).click();
  await expect(page.locator('.loop-step.done')).toHaveCount(1);
  await expect(page.locator('.loop-step.next')).toContainText('Train a model');

  // Adding the same sample again changes nothing.
  await page.getByRole('button', { name: 'Try it with sample data' }).click();
  await page.getByRole('menuitem', { name: /Milling machine failures/ }).click();
  await expect(page.getByRole('status').filter({ hasText: 'is already in your data' })).toBeVisible();
  await page.getByRole('link', { name: 'Data' }).click();
  await expect(page.getByRole('row', { name: /Milling machine failures/ })).toHaveCount(1);
});

test('a running task shows progress in the tray and can be cancelled', async ({ page }) => {
  await openApp(page);
  // Start a long task the way the Settings page does, but long enough to cancel.
  await page.evaluate(async () => {
    const token = sessionStorage.getItem('millwright.token')!;
    await fetch('./api/system.check', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ seconds: 60 }),
    });
  });
  await expect(page.getByRole('button', { name: /1 running/ })).toBeVisible();
  await page.getByRole('button', { name: /1 running/ }).click();
  const tray = page.getByRole('dialog', { name: 'Background tasks' });
  const item = tray.locator('[data-job-state="running"]');
  await expect(item.getByRole('progressbar')).toBeVisible();
  await expect.poll(async () => Number(await item.getByRole('progressbar').getAttribute('aria-valuenow'))).toBeGreaterThan(0);
  await shoot(page, '20-tray-running');
  await item.getByRole('button', { name: 'Cancel' }).click();
  await expect(tray.locator('[data-job-state="cancelled"]').first()).toContainText('Cancelled', { timeout: 15_000 });
  await shoot(page, '21-tray-cancelled');

  await tray.getByRole('button', { name: /All tasks and the audit log/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Activity' })).toBeVisible();
  await expect(page.getByRole('row', { name: /Checking this PC/ }).first()).toContainText('Cancelled');
  await shoot(page, '22-activity-tasks');
  await page.getByRole('tab', { name: 'Audit log' }).click();
  await expect(page.getByRole('row', { name: /Cancelled a task/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /Created the workspace/ })).toBeVisible();
  await shoot(page, '23-activity-audit');
});

test('checking this PC shows progress and then the results', async ({ page }) => {
  await openApp(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Check this PC' }).click();
  await expect(page.getByRole('progressbar', { name: 'Checking this PC' }).first()).toBeVisible();
  await expect(page.getByText('Computing speed')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText(/MFLOP\/s per core/)).toBeVisible();
  await shoot(page, '30-settings-check-done');
});

test('keyboard: shortcuts move between pages and focus is visible', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('Control+3');
  await expect(page.getByRole('heading', { level: 1, name: 'Models' })).toBeVisible();
  await page.keyboard.press('Control+7');
  await expect(page.getByRole('heading', { level: 1, name: 'Activity' })).toBeVisible();
  // After a page change focus sits on the content, so Tab reaches the page's first control.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('tab', { name: 'Background tasks' })).toBeFocused();
  // The skip link comes first in the tab order, shows itself when focused, and is followed by the navigation.
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await skip.focus();
  expect(await skip.evaluate((el) => el.getBoundingClientRect().left)).toBeGreaterThanOrEqual(0);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Home' })).toBeFocused();
  const outline = await page.getByRole('link', { name: 'Home' }).evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).toBe('solid');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Home' })).toBeVisible();
  // The skip link moves focus into the content without leaving the page.
  await skip.focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#main')).toBeFocused();
  await expect(page.getByRole('heading', { level: 1, name: 'Home' })).toBeVisible();
});

test('dark theme applies everywhere and is remembered', async ({ page }) => {
  await openApp(page);
  await page.getByRole('button', { name: 'Use dark theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg).toBe('rgb(22, 25, 30)');
  await shoot(page, '40-home-dark');
  await page.getByRole('link', { name: 'Data' }).click();
  await shoot(page, '41-data-dark');
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('radio', { name: 'Dark' })).toBeChecked();
  await shoot(page, '42-settings-dark');
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.getByRole('radio', { name: 'Light' }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
});

test('an invalid call through the browser transport gets a clear error, not a crash', async ({ page }) => {
  await openApp(page);
  const reply = await page.evaluate(async () => {
    const token = sessionStorage.getItem('millwright.token')!;
    const res = await fetch('./api/jobs.list', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ limit: 'ten' }),
    });
    return { status: res.status, body: (await res.json()) as { ok: boolean; error: { code: string; message: string; field: string } } };
  });
  expect(reply.status).toBe(400);
  expect(reply.body.ok).toBe(false);
  expect(reply.body.error.code).toBe('bad_input');
  expect(reply.body.error.field).toBe('limit');
  expect(reply.body.error.message).toContain('"limit" must be a number');
  expect(reply.body.error.message).not.toMatch(/\bat \S+:\d+/);
});

test('a fresh start returns to the last page used', async ({ page }) => {
  await openApp(page);
  await page.getByRole('link', { name: 'Activity' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Activity' })).toBeVisible();
  await page.goto(server.url + '/');
  await expect(page.getByRole('heading', { level: 1, name: 'Activity' })).toBeVisible();
});
