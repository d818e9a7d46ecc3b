import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { JobInfo } from '../shared/api';
import type { DeployResult } from '../shared/deploy';
import type { EndpointDashboard, MonitorSettings } from '../shared/monitor';
import { ROOT, apiCall, finished, shoot, useServerMode } from './server-mode';

const MODEL = 'Failure alarm';
const ENDPOINT = 'line-1';
const INPUTS = ['Type', 'Air temperature', 'Process temperature', 'Rotational speed', 'Torque', 'Tool wear'];

const app = useServerMode();

// The second test deploys an unusual-behaviour model on the dataset the first one imports.
test.describe.configure({ mode: 'serial' });
let dataset = '';

/** Shows the top of the page at each screenshot size. */
const atTop = (page: Page) => () => page.locator('#main').evaluate((el) => el.scrollTo(0, 0));
/** Scrolls a part of the page to the top of the view at each screenshot size. */
const atPart = (page: Page, testId: string) => () =>
  page.getByTestId(testId).evaluate((el) => {
    const main = document.getElementById('main')!;
    main.scrollTop += el.getBoundingClientRect().top - main.getBoundingClientRect().top - 12;
  });

async function dismissToasts(page: Page): Promise<void> {
  await page.evaluate(() => document.querySelectorAll<HTMLButtonElement>('.toasts button[aria-label="Dismiss"]').forEach((b) => b.click()));
}

function pageErrors(page: Page): string[] {
  const seen: string[] = [];
  page.on('pageerror', (e) => seen.push(e.message));
  return seen;
}

type Row = Record<string, string | number>;

/**
 * Every 5th row of the sample, named as the imported dataset names its columns: traffic that looks like training.
 * Interleaved so any 50 rows in a row span the whole file (its air temperature wanders over time, and a
 * check between two requests must not see one stretch of it alone).
 */
function sampleRows(): Row[] {
  const lines = fs.readFileSync(path.join(ROOT, 'resources', 'samples', 'ai4i2020.csv'), 'utf8').trim().split('\n').slice(1);
  const order: number[] = [];
  for (let k = 0; k < 200; k += 5) for (let i = k; i < lines.length; i += 200) order.push(i);
  const rows: Row[] = [];
  for (const i of order) {
    const c = lines[i]!.split(',');
    rows.push({ Type: c[2]!, 'Air temperature': Number(c[3]), 'Process temperature': Number(c[4]), 'Rotational speed': Number(c[5]), Torque: Number(c[6]), 'Tool wear': Number(c[7]) });
  }
  return rows;
}

/** The same rows from a machine that now runs hotter, slower and under more load. */
const shifted = (rows: Row[]): Row[] =>
  rows.map((r) => ({ ...r, 'Air temperature': Number(r['Air temperature']) + 6, 'Process temperature': Number(r['Process temperature']) + 6, 'Rotational speed': Number(r['Rotational speed']) - 250, Torque: Number(r.Torque) + 20 }));

/**
 * Sends rows to the endpoint's /predict, 1000 to a request: a background check between two requests then
 * sees hundreds of rows, never a few dozen whose chance spread could pass for drift.
 */
async function send(url: string, token: string, rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const res = await fetch(new URL('predict', url.endsWith('/') ? url : `${url}/`), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(rows.slice(i, i + 1000)),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }
}

test('watch a model on this PC: settings, normal traffic stays stable, shifted traffic shows changed inputs, an input over training, acknowledge the alert', async ({ page, request }) => {
  test.setTimeout(420_000);
  const server = app();
  const crashes = pageErrors(page);

  // Nothing deployed: the page says what belongs here and offers Deploy.
  await page.goto(server.openUrl);
  await page.getByRole('link', { name: 'Monitoring' }).click();
  await expect(page.getByRole('heading', { name: 'No deployed models to watch' })).toBeVisible();
  await expect(page.getByTestId('monitor-deploy')).toBeVisible();
  await shoot(page, '100-monitoring-empty', atTop(page));

  // Settings: check every 5 seconds; a wrong number is refused naming the field.
  await page.getByRole('link', { name: 'Settings' }).click();
  const settings = page.getByTestId('monitor-settings');
  await expect(settings.getByTestId('rule-down')).toContainText('an endpoint has not answered for');
  await expect(settings.getByTestId('monitor-setting-down')).toHaveValue('5');
  await expect(settings.getByTestId('monitor-setting-errors')).toHaveValue('1');
  await expect(settings.getByTestId('monitor-setting-anomalies')).toHaveValue('3');
  await settings.getByTestId('monitor-setting-down').fill('0');
  await settings.getByTestId('monitor-settings-save').click();
  await expect(settings.getByRole('alert')).toContainText('Not answering for');
  await expect(settings.getByTestId('monitor-setting-down')).toHaveAttribute('aria-invalid', 'true');
  await settings.getByTestId('monitor-setting-down').fill('5');
  await settings.getByTestId('monitor-setting-unit').selectOption('seconds');
  await settings.getByTestId('monitor-setting-interval').fill('5');
  await settings.getByTestId('monitor-settings-save').click();
  await expect(page.locator('.toasts')).toContainText('Endpoints are checked every 5 seconds');
  expect((await apiCall<MonitorSettings>(request, server, 'monitor.settings', {})).intervalSeconds).toBe(5);
  await dismissToasts(page);
  await shoot(page, '101-settings-monitoring', atPart(page, 'monitor-settings'));

  // A model on this PC (the deploy spec covers the wizard), and normal traffic.
  const samples = await apiCall<{ id: string; title: string }[]>(request, server, 'samples.list', {});
  const sample = samples.find((s) => /Milling machine failures/.test(s.title))!;
  const added = await finished(request, server, await apiCall<JobInfo>(request, server, 'samples.add', { id: sample.id }), 60_000);
  dataset = (added.result as { dataset: string }).dataset;
  const train = { dataset, model: MODEL, task: 'binary', target: 'Machine failure', inputs: INPUTS, algorithms: ['logistic'], timeBudgetSeconds: 10 };
  await finished(request, server, await apiCall<JobInfo>(request, server, 'training.start', train), 120_000);
  const deployed = await apiCall<DeployResult>(request, server, 'deploy.run', { model: MODEL, version: 1, target: { kind: 'local', name: ENDPOINT } });
  expect(deployed.ok).toBe(true);
  const token = /Bearer ([^"]+)"/.exec(deployed.curl!)![1]!;
  const normal = sampleRows();
  await send(deployed.url!, token, normal);

  // The list: this endpoint answers, with its traffic, and its inputs look like training.
  await page.getByRole('link', { name: 'Monitoring' }).click();
  const row = page.getByTestId(`monitor-row-${ENDPOINT}`);
  await expect(row).toBeVisible({ timeout: 30_000 });
  // Check now says it is checking, and for how long, until the endpoints have answered (the real call, held back a moment to see it).
  await page.route('**/api/monitor.cycle', async (route) => {
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  await page.getByTestId('monitor-check-now').click();
  await expect(page.getByTestId('monitor-check-now')).toBeDisabled();
  await expect(page.getByTestId('monitor-check-now')).toContainText('Checking 1 endpoint…');
  await expect(page.getByTestId('monitor-check-now')).toHaveText('Check now', { timeout: 30_000 });
  await page.unroute('**/api/monitor.cycle');
  await expect(row.getByTestId('monitor-requests')).not.toHaveText('0 requests', { timeout: 30_000 });
  await expect(row.getByTestId('monitor-serves')).toContainText(`${MODEL}, version 1`);
  await expect(row.getByTestId('monitor-contact')).toContainText('Answering');
  // Sampling noise may put an input on watch (a distance past half its threshold), never on changed.
  await expect(row.getByTestId('monitor-drift')).toHaveAttribute('data-verdict', /^(stable|watch)$/);
  await expect(row.locator('.chip-bad')).toHaveCount(0);
  await dismissToasts(page);
  await shoot(page, '102-monitoring-stable', atTop(page));

  // Its dashboard: health tiles, charts, and the heat map in grey.
  await row.getByRole('link', { name: ENDPOINT }).click();
  await expect(page.getByTestId('dashboard-verdict')).toHaveAttribute('data-verdict', /^(stable|watch)$/);
  // The tiles say what the core measured: the requests, and the rows in them (the deploy's smoke test sent some too).
  const stable = await apiCall<EndpointDashboard>(request, server, 'monitor.dashboard', { name: ENDPOINT });
  expect(stable.drift.rows).toBeGreaterThanOrEqual(normal.length);
  await expect(page.getByTestId('tile-traffic')).toContainText(`${stable.health.requests.toLocaleString('en-US')}requests with ${stable.drift.rows.toLocaleString('en-US')} rows`);
  await expect(page.getByTestId('tile-version')).toContainText('version 1');
  await expect(page.getByTestId('heatmap')).toBeVisible();
  await expect(page.locator('.heatmap-cell.tone-changed')).toHaveCount(0);
  // No alert fired on traffic like training's (each request carries rows from across the whole sample).
  const none = await apiCall<unknown[]>(request, server, 'alerts.list', { all: true });
  expect(none, JSON.stringify(none)).toEqual([]);
  await shoot(page, '103-dashboard-stable', atTop(page));

  // Shifted traffic: the machine runs hotter and under more load.
  // No button pressed: the background check (every 5 s) tells the page, which reloads by itself.
  await send(deployed.url!, token, shifted(normal));
  await expect(page.getByTestId('dashboard-verdict')).toHaveAttribute('data-verdict', 'changed', { timeout: 60_000 });
  await expect(page.getByTestId('dashboard-reason')).toContainText(/Torque|Rotational speed|Air temperature|Process temperature/);
  await expect(page.locator('.heatmap-cell.tone-changed').first()).toBeVisible();
  await expect(page.getByTestId('monitor-input-Torque').locator('[data-verdict]')).toHaveAttribute('data-verdict', 'changed');
  await expect(page.getByTestId('monitor-input-Type').locator('[data-verdict]')).toHaveAttribute('data-verdict', 'stable');
  // The drift rule fires an alert, shown on the dashboard and counted in the navigation.
  const alerts = page.getByTestId('monitor-alerts');
  await expect(alerts.locator('[data-kind="drift"]')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('nav-alert-badge')).toHaveText(/^[1-9]$/);
  const dash = await apiCall<EndpointDashboard>(request, server, 'monitor.dashboard', { name: ENDPOINT });
  expect(dash.drift.verdict).toBe('changed');
  await dismissToasts(page);
  await shoot(page, '104-dashboard-changed', atTop(page));
  await shoot(page, '105-dashboard-charts', atPart(page, 'chart-traffic'));
  await page.mouse.move(1, 1);
  await shoot(page, '106-dashboard-heatmap', atPart(page, 'monitor-drift-card'));

  // A day: the same rows in 15-minute slots, the window named in the head.
  await page.getByTestId('monitor-window').getByText('Day').click();
  await expect(page.getByText('over the last 24 hours').first()).toBeVisible();
  const day = await apiCall<EndpointDashboard>(request, server, 'monitor.dashboard', { name: ENDPOINT, window: 'day' });
  await expect(page.getByTestId('heatmap').locator('.heatmap-row').first().locator('.heatmap-cell')).toHaveCount(day.heatmap.slots.length);
  await expect(page.getByTestId('dashboard-verdict')).toHaveAttribute('data-verdict', 'changed');
  await page.getByTestId('monitor-window').getByText('Hour').click();
  await expect(page.getByTestId('heatmap').locator('.heatmap-row').first().locator('.heatmap-cell')).toHaveCount(dash.heatmap.slots.length);

  // An input over training: from the heat map with the keyboard, then by a click on its row.
  const heatmap = page.getByTestId('heatmap');
  await heatmap.focus();
  await page.keyboard.press('ArrowDown');
  // The newest slot of the first input is read out: its name, its PSI and its verdict in words.
  await expect(page.locator('.heatmap [aria-live]')).toContainText(new RegExp(`^${dash.heatmap.inputs[0]}, .*: PSI [0-9.]+, (stable|watch|changed)`));
  await page.keyboard.press('Enter');
  const panel = page.getByTestId('input-histogram');
  await expect(panel.getByRole('heading')).toHaveText(dash.heatmap.inputs[0]!);
  await page.getByTestId('heatmap-row-Torque').click();
  await expect(panel.getByRole('heading')).toHaveText('Torque');
  await expect(panel.getByTestId('input-verdict')).toHaveAttribute('data-verdict', 'changed');
  await expect(panel.getByTestId('input-bars').locator('.pairs-row')).toHaveCount(10);
  await expect(panel.getByTestId('input-bars')).toContainText('Training');
  await shoot(page, '107-input-histogram', atPart(page, 'monitor-inputs-card'));

  // Acknowledge from the list: the alert stays while inputs differ, but no longer counts in the navigation.
  await page.getByRole('link', { name: 'Monitoring' }).click();
  await expect(row.getByTestId('monitor-drift')).toHaveAttribute('data-verdict', 'changed');
  await expect(row.getByTestId('monitor-alert-count')).not.toHaveText('none');
  const drift = page.getByTestId('monitor-alerts').locator('[data-kind="drift"]');
  await expect(drift.getByTestId('alert-message')).toContainText(ENDPOINT);
  await drift.getByTestId('alert-acknowledge').click();
  await expect(drift.getByTestId('alert-handled')).toContainText('Acknowledged');
  await expect(drift.getByTestId('alert-acknowledge')).toHaveCount(0);
  await expect(page.getByTestId('nav-alert-badge')).toHaveCount(0);
  await expect(row.getByTestId('monitor-alert-count')).not.toHaveClass(/chip-bad/);
  // Snooze offers 1, 8 and 24 hours.
  await drift.getByTestId('alert-snooze').click();
  await expect(page.getByRole('menuitem')).toHaveText([/1 hour/, /8 hours/, /24 hours/]);
  await page.getByRole('menuitem', { name: /8 hours/ }).click();
  await expect(drift.getByTestId('alert-handled')).toContainText('Snoozed until');
  await dismissToasts(page);
  await shoot(page, '109-alert-acknowledged', atTop(page));

  // Stopped on purpose: silent, but grey and named so, not an alarm.
  await apiCall(request, server, 'endpoints.stop', { name: ENDPOINT });
  await page.getByTestId('monitor-check-now').click();
  await expect(row.getByTestId('monitor-contact')).toContainText('Stopped', { timeout: 30_000 });
  await expect(row.getByTestId('monitor-contact').locator('.chip-bad')).toHaveCount(0);
  expect(crashes).toEqual([]);
});

test('an unusual-behaviour model: flagged rows over time, Normal beside Unusual behaviour, and its alert', async ({ page, request }) => {
  test.setTimeout(300_000);
  const server = app();
  const crashes = pageErrors(page);
  const inputs = INPUTS.filter((i) => i !== 'Type');
  const train = { dataset, model: 'Mill watch', task: 'anomaly', inputs, algorithms: ['iforest'], timeBudgetSeconds: 10 };
  await finished(request, server, await apiCall<JobInfo>(request, server, 'training.start', train), 120_000);
  const deployed = await apiCall<DeployResult>(request, server, 'deploy.run', { model: 'Mill watch', version: 1, target: { kind: 'local', name: 'line-2' } });
  expect(deployed.ok).toBe(true);
  const token = /Bearer ([^"]+)"/.exec(deployed.curl!)![1]!;
  const normal = sampleRows().map(({ Type: _type, ...r }) => r);
  await send(deployed.url!, token, normal);
  await send(deployed.url!, token, shifted(normal));

  await page.goto(server.openUrl);
  await page.evaluate(() => (location.hash = '#/monitoring/line-2'));
  // The background check (every 5 s since the first test) finds the flagged rows and fires the unusual-behaviour alert.
  await expect(page.getByTestId('monitor-alerts').locator('[data-kind="anomalies"]')).toBeVisible({ timeout: 60_000 });
  const dash = await apiCall<EndpointDashboard>(request, server, 'monitor.dashboard', { name: 'line-2' });
  expect(dash.health.anomalies).toBeGreaterThan(0);
  const chart = page.getByTestId('chart-anomalies');
  await expect(chart).toContainText('Unusual rows');
  await expect(chart.locator('.slot-col').first()).toBeVisible();
  const bars = page.getByTestId('prediction-bars');
  await expect(bars).toContainText('Normal');
  await expect(bars).toContainText('Unusual behaviour');
  await expect(bars).not.toContainText('anomaly');
  await dismissToasts(page);
  await shoot(page, '108-unusual-behaviour', atPart(page, 'chart-traffic'));
  expect(crashes).toEqual([]);
});
