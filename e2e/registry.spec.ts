import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import type { JobInfo, VersionSummary } from '../shared/api';
import { apiCall, finished, shoot, useServerMode } from './server-mode';

const MODEL = 'Failure alarm';
const USE_CASE = 'Mill failures';
const REASON = 'Catches most failures on the checked rows and is simple to explain';
const INPUTS = ['Type', 'Air temperature', 'Process temperature', 'Rotational speed', 'Torque', 'Tool wear'];

const app = useServerMode();

/** Shows the top of the page at each screenshot size. */
const atTop = (page: Page) => () => page.locator('#main').evaluate((el) => el.scrollTo(0, 0));

/** Opens an address of the app the way a link inside it does. */
async function open(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
}

/** Success notes fade by themselves; screenshots should not wait for that. (A click through the page: a note may fade between finding and clicking it.) */
async function dismissToasts(page: Page): Promise<void> {
  await page.evaluate(() => document.querySelectorAll<HTMLButtonElement>('.toasts button[aria-label="Dismiss"]').forEach((b) => b.click()));
}

test('use cases, aliases with reasons, lineage, compare, reproduce and the audit log', async ({ page, request }) => {
  test.setTimeout(300_000);
  const server = app();
  // Sample and two versions through the API: the train wizard has its own spec.
  const samples = await apiCall<{ id: string; title: string }[]>(request, server, 'samples.list', {});
  const sample = samples.find((s) => /Milling machine failures/.test(s.title));
  expect(sample).toBeTruthy();
  const added = await finished(request, server, await apiCall<JobInfo>(request, server, 'samples.add', { id: sample!.id }), 60_000);
  const dataset = (added.result as { dataset: string }).dataset;
  for (const algorithm of ['logistic', 'hgb']) {
    const train = { dataset, model: MODEL, task: 'binary', target: 'Machine failure', inputs: INPUTS, algorithms: [algorithm], timeBudgetSeconds: 10 };
    await finished(request, server, await apiCall<JobInfo>(request, server, 'training.start', train), 120_000);
  }
  const { versions } = await apiCall<{ versions: VersionSummary[] }>(request, server, 'datasets.get', { dataset });
  const sha256 = versions[0]!.sources[0]!.sha256;
  expect(sha256).toMatch(/^[0-9a-f]{64}$/);

  // A use case, created on Home.
  await page.goto(server.openUrl);
  await page.getByRole('link', { name: 'Home' }).click();
  await page.getByTestId('new-use-case').click();
  const dialog = page.getByRole('dialog', { name: 'New use case' });
  await expect(dialog.getByLabel('Goal')).toHaveAttribute('placeholder', 'Warn 2 hours before pump P-101 trips');
  await dialog.getByLabel('Name').fill(USE_CASE);
  await dialog.getByLabel('Goal').fill('Warn the shift before the milling machine fails from tool wear, heat, power or strain');
  await dialog.getByLabel('KPI').fill('missed failures per month');
  await dialog.getByRole('button', { name: 'Create use case' }).click();
  await expect(dialog).toBeHidden();
  const card = page.getByTestId('use-case-card').filter({ hasText: USE_CASE });
  await expect(card.getByTestId('use-case-status')).toContainText('Nothing here yet');

  // The model and the dataset go under it from their own pages.
  await open(page, `#/models/${encodeURIComponent(MODEL)}`);
  await expect(page.getByTestId('versions')).toBeVisible();
  await page.getByTestId('use-case-select').selectOption(USE_CASE);
  await expect(page.getByRole('status').filter({ hasText: `${MODEL} is now under the use case ${USE_CASE}` })).toBeVisible();
  await open(page, `#/data/${encodeURIComponent(dataset)}`);
  await page.getByTestId('use-case-select').selectOption(USE_CASE);
  await expect(page.getByRole('status').filter({ hasText: `${dataset} is now under the use case ${USE_CASE}` })).toBeVisible();

  // Version 1 becomes production, with the reason asked for in a dialog; version 2 goes on trial.
  await open(page, `#/models/${encodeURIComponent(MODEL)}`);
  const table = page.getByTestId('versions');
  await table.getByRole('button', { name: 'Version 1' }).click();
  await page.getByTestId('make-production').click();
  const change = page.getByTestId('version-change-dialog');
  await expect(change).toContainText('No version of Failure alarm is in production yet');
  await change.getByRole('button', { name: 'Make production' }).click();
  await expect(change.getByRole('alert')).toContainText('Say why');
  await change.getByTestId('change-reason').fill(REASON);
  await change.getByRole('button', { name: 'Make production' }).click();
  await expect(change).toBeHidden();
  await expect(table.getByRole('row', { name: /Version 1/ })).toContainText('production');
  await table.getByRole('button', { name: 'Version 2' }).click();
  await page.getByTestId('make-challenger').click();
  await change.getByTestId('change-reason').fill('Gradient boosting on the same data, on trial beside production');
  await change.getByRole('button', { name: 'Make challenger' }).click();
  await expect(change).toBeHidden();
  await expect(table.getByRole('row', { name: /Version 2/ })).toContainText('challenger');

  // Home shows each use case at a glance: this one in production, with its model and data; another one not started.
  await apiCall(request, server, 'useCases.create', { name: 'P-101 trips', goal: 'Warn 2 hours before pump P-101 trips', kpi: 'missed trips per month' });
  await page.getByRole('link', { name: 'Home' }).click();
  await expect(card.getByTestId('use-case-status')).toHaveText(`In production: ${MODEL} version 1.`);
  await expect(card).toContainText('production: version 1');
  await expect(card).toContainText(dataset);
  await dismissToasts(page);
  await expect(page.getByTestId('use-case-card').filter({ hasText: 'P-101 trips' }).getByTestId('use-case-status')).toContainText('Nothing here yet');
  await shoot(page, '80-home-use-cases');

  await open(page, `#/models/${encodeURIComponent(MODEL)}`);
  await expect(table.getByRole('row', { name: /Version 2/ })).toContainText('challenger');
  await shoot(page, '81-model-versions-aliases', atTop(page));

  // Lineage: source file → dataset version → run → model version, then "not deployed yet".
  await page.getByTestId('open-lineage').click();
  await expect(page).toHaveURL(/#\/models\/Failure%20alarm\/lineage\/2$/);
  await expect(page.getByTestId('lineage-traced')).toBeVisible();
  await expect(page.getByText('Not deployed yet')).toBeVisible();
  await page.getByTestId('lineage-node-source').click();
  const details = page.getByTestId('lineage-details');
  await expect(details).toContainText('SHA-256');
  await expect(details).toContainText(sha256);
  await shoot(page, '82-lineage');

  // Compare 1 with 2: the verdict and the metrics side by side.
  await page.getByRole('button', { name: `← ${MODEL}` }).click();
  await page.getByTestId('compare-with').click();
  await page.getByRole('menuitem', { name: /Version 1/ }).click();
  await expect(page).toHaveURL(/#\/models\/Failure%20alarm\/compare\/1\/2$/);
  await expect(page.getByTestId('compare-verdict')).toContainText(/On the same [\d,]+ rows, (version [12] does better: ROC AUC|both score ROC AUC)/, { timeout: 60_000 });
  const metrics = page.getByTestId('compare-metrics');
  await expect(metrics).toContainText('ROC AUC');
  await expect(metrics.getByRole('columnheader', { name: 'Version 1' })).toBeVisible();
  await expect(metrics.getByRole('columnheader', { name: 'Version 2' })).toBeVisible();
  await expect(page.getByTestId('compare-settings')).toContainText('Kept model');
  await expect(page.getByTestId('compare-disagreements')).toBeVisible();
  await shoot(page, '83-compare');

  // Reproduce version 2: the same data, settings and seed give the same ONNX graph.
  await page.getByRole('button', { name: `← ${MODEL}` }).click();
  await expect(table.getByRole('row', { name: /Version 2/ })).toHaveAttribute('aria-current', 'true');
  await page.getByTestId('reproduce').click();
  const result = page.getByTestId('reproduce-result');
  await expect(result).toContainText('Identical — same ONNX hash', { timeout: 180_000 });
  await dismissToasts(page);
  await shoot(page, '84-reproduce', atTop(page));

  // The audit log, filtered to the use case, says the alias move in words; the same entries export as CSV.
  await page.getByRole('link', { name: 'Activity' }).click();
  await page.getByRole('tab', { name: 'Audit log' }).click();
  await page.getByTestId('audit-use-case').selectOption(USE_CASE);
  const audit = page.getByTestId('audit-table');
  await expect(audit).toContainText(`Made version 1 of ${MODEL} production: ${REASON}`);
  await expect(audit).toContainText(`Put the model ${MODEL} under the use case ${USE_CASE}`);
  await expect(audit).not.toContainText('Created the workspace');
  await shoot(page, '85-audit');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-export').click()]);
  expect(download.suggestedFilename()).toMatch(/^millwright-audit-mill-failures-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  expect(csv.split(/\r?\n/)[0]).toBe('id,at,who,action,about,details');
  expect(csv).toContain('model.alias');
});
