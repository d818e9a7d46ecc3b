import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { ROOT, SCREENSHOTS, shoot, startServerMode, type ServerMode } from './server-mode';

let server: ServerMode;
const SAMPLE = path.join(ROOT, 'resources', 'samples', 'machine_temperature_system_failure.csv');

test.beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  server = await startServerMode();
});
test.afterAll(async () => {
  await server?.stop();
});

test('the import wizard reads a sensor export, reports its problems, saves it and draws its trend', async ({ page }) => {
  await page.goto(server.openUrl);
  await page.getByRole('button', { name: 'Import your data' }).click();
  const wizard = page.getByRole('region', { name: 'Import data' });
  await expect(wizard.getByRole('listitem').filter({ hasText: 'Choose files' })).toHaveAttribute('aria-current', 'step');
  await shoot(page, '50-import-choose');

  await wizard.getByLabel('Files to import').setInputFiles(SAMPLE);
  // Step 2: detected settings and a live preview.
  await expect(wizard.getByText('Preview')).toBeVisible();
  await expect(wizard.getByLabel('Values are separated by')).toHaveValue(',');
  await expect(wizard.getByLabel('Time column')).toHaveValue('timestamp');
  await expect(wizard.locator('.preview tbody tr')).toHaveCount(50);
  await expect(wizard.locator('.preview tbody tr').first()).toContainText('2013-12-02 21:15:00');
  await shoot(page, '51-import-how-we-read-it');

  // Changing a setting re-reads the preview: a wrong delimiter gives one column.
  await wizard.getByLabel('Values are separated by').selectOption(';');
  await expect(wizard.locator('.preview thead th')).toHaveCount(1);
  await wizard.getByLabel('Values are separated by').selectOption(',');
  await expect(wizard.locator('.preview thead th')).toHaveCount(2);
  await expect(wizard.getByLabel('Time column')).toHaveValue('timestamp');

  await wizard.getByRole('button', { name: 'Next' }).click();
  await expect(wizard.getByLabel('Type of value')).toHaveValue('number');
  await shoot(page, '52-import-columns');

  await wizard.getByRole('button', { name: 'Next' }).click();
  // The NAB series repeats one hour in January 2014: the report says so with line numbers.
  const dup = wizard.getByRole('region', { name: 'Rows with the same time as another row' });
  await expect(dup).toBeVisible({ timeout: 30_000 });
  await expect(dup.locator('.chip')).toHaveText('12');
  await expect(dup.getByRole('cell', { name: '10,151' })).toBeVisible();
  await expect(wizard.locator('.total').filter({ hasText: 'Rows read' })).toContainText('22,695');
  await shoot(page, '53-import-problems');
  await dup.getByRole('radio', { name: 'Skip these rows' }).check();
  await expect(wizard.locator('.total').filter({ hasText: 'Will be skipped' })).toContainText('12');
  await expect(wizard.locator('.total').filter({ hasText: 'Will be saved' })).toContainText('22,683');
  await dup.getByRole('radio', { name: 'Keep as they are' }).check();
  await expect(wizard.locator('.total').filter({ hasText: 'Will be skipped' })).toContainText('0');

  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByLabel('Name').fill('Machine temperature');
  await expect(wizard.getByText('Save 22,695 rows × 2 columns')).toBeVisible();
  await shoot(page, '54-import-name');
  await wizard.getByRole('button', { name: 'Save dataset' }).click();

  // The dataset page opens on the new version.
  await expect(page.getByRole('heading', { name: 'Machine temperature' })).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('.fact').filter({ hasText: 'Rows' }).first()).toContainText('22,695');
  await expect(page.getByRole('row', { name: /value/ })).toContainText('85.92');
  await shoot(page, '55-dataset-columns');

  await page.getByRole('tab', { name: 'Trend' }).click();
  const chart = page.locator('[data-draw-ms]');
  await expect(chart).toBeVisible();
  await expect.poll(async () => Number(await chart.getAttribute('data-points'))).toBeGreaterThan(100);
  await shoot(page, '56-dataset-trend');

  await page.getByRole('tab', { name: 'Rows' }).click();
  await expect(page.getByRole('grid')).toHaveAttribute('aria-rowcount', /22696|22695/);
  await shoot(page, '57-dataset-rows');
  await page.getByRole('tab', { name: 'Versions' }).click();
  await expect(page.getByRole('row', { name: /First version/ })).toBeVisible();
  await shoot(page, '58-dataset-versions');
});

test('importing a file that is not data explains the problem and saves nothing', async ({ page }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-bad-'));
  const bad = path.join(dir, 'photo.csv');
  fs.writeFileSync(bad, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0]));
  await page.goto(server.openUrl);
  await page.getByRole('link', { name: 'Data' }).click();
  const before = await page.evaluate(async () => {
    const token = sessionStorage.getItem('millwright.token')!;
    const r = await fetch('./api/datasets.list', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: '{}' });
    return ((await r.json()) as { value: unknown[] }).value.length;
  });
  await page.goto(server.url + '/#/data/import');
  await page.getByLabel('Files to import').setInputFiles(bad);
  await expect(page.getByRole('alert')).toContainText('photo.csv');
  await expect(page.getByRole('alert')).not.toContainText(/\bat \S+:\d+/);
  await shoot(page, '59-import-bad-file');
  const after = await page.evaluate(async () => {
    const token = sessionStorage.getItem('millwright.token')!;
    const r = await fetch('./api/datasets.list', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: '{}' });
    return ((await r.json()) as { value: unknown[] }).value.length;
  });
  expect(after).toBe(before);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a million-row trend redraws in under 200 ms after a zoom', async ({ page }) => {
  test.setTimeout(180_000);
  // One million rows at 1 s steps, imported through the CLI into the same workspace.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-1m-'));
  const file = path.join(dir, 'line4.csv');
  const out = fs.openSync(file, 'w');
  fs.writeSync(out, 'time,pressure [bar]\n');
  const t0 = Date.UTC(2024, 0, 1);
  let chunk = '';
  for (let i = 0; i < 1_000_000; i++) {
    chunk += `${new Date(t0 + i * 1000).toISOString()},${(5 + Math.sin(i / 5000) + ((i * 7919) % 1000) / 5000).toFixed(4)}\n`;
    if (chunk.length > 1 << 20) {
      fs.writeSync(out, chunk);
      chunk = '';
    }
  }
  fs.writeSync(out, chunk);
  fs.closeSync(out);
  execFileSync(process.execPath, [path.join(ROOT, 'bin', 'millwright.cjs'), 'import', file, '--name', 'Line 4', '--workspace', server.workspace], { stdio: 'ignore' });
  fs.rmSync(dir, { recursive: true, force: true });

  await page.goto(server.openUrl);
  await page.goto(`${server.url}/#/data/${encodeURIComponent('Line 4')}`);
  await page.getByRole('tab', { name: 'Trend' }).click();
  const chart = page.locator('[data-draw-ms]');
  await expect.poll(async () => Number(await chart.getAttribute('data-points'))).toBeGreaterThan(100);
  const canvas = page.locator('[data-draw-ms] canvas').first();
  const box = (await canvas.boundingBox())!;
  const before = await chart.getAttribute('data-from');
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  const started = await page.evaluate(() => performance.now());
  await page.mouse.up();
  await page.waitForFunction((b) => document.querySelector('[data-draw-ms]')?.getAttribute('data-from') !== b, before, { polling: 'raf' });
  const elapsed = (await page.evaluate(() => performance.now())) - started;
  const drawMs = Number(await chart.getAttribute('data-draw-ms'));
  console.log(`1M-point trend: zoom to redraw ${elapsed.toFixed(0)} ms (draw ${drawMs.toFixed(1)} ms)`);
  expect(drawMs).toBeLessThan(200);
  expect(elapsed).toBeLessThan(1000);
  await shoot(page, '60-trend-1m-zoomed');
});
