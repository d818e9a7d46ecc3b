import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import type { JobInfo } from '../shared/api';
import type { EndpointSummary } from '../shared/deploy';
import { apiCall, finished, shoot, useServerMode, type ServerMode } from './server-mode';

const MODEL = 'Failure alarm';
const INPUTS = ['Type', 'Air temperature', 'Process temperature', 'Rotational speed', 'Torque', 'Tool wear'];

const app = useServerMode();

// The second test uses the model and the endpoint the first one makes.
test.describe.configure({ mode: 'serial' });

/** Shows the top of the page at each screenshot size. */
const atTop = (page: Page) => () => page.locator('#main').evaluate((el) => el.scrollTo(0, 0));

/** Success notes fade by themselves; screenshots should not wait for that. */
async function dismissToasts(page: Page): Promise<void> {
  await page.evaluate(() => document.querySelectorAll<HTMLButtonElement>('.toasts button[aria-label="Dismiss"]').forEach((b) => b.click()));
}

/** Errors the page throws (a render loop blanks the app without failing a locator at once). */
function pageErrors(page: Page): string[] {
  const seen: string[] = [];
  page.on('pageerror', (e) => seen.push(e.message));
  return seen;
}

async function trainVersion(request: Parameters<typeof apiCall>[0], server: ServerMode, dataset: string, algorithm: string): Promise<void> {
  const train = { dataset, model: MODEL, task: 'binary', target: 'Machine failure', inputs: INPUTS, algorithms: [algorithm], timeBudgetSeconds: 10 };
  await finished(request, server, await apiCall<JobInfo>(request, server, 'training.start', train), 120_000);
}

/** Runs the curl line the wizard shows, as a person would paste it into a shell (or, without curl, sends the same request). */
async function runCurl(line: string): Promise<unknown> {
  if (fs.existsSync('/usr/bin/curl')) return JSON.parse(execFileSync('sh', ['-c', line], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] })) as unknown;
  const token = /Bearer ([^"]+)"/.exec(line)![1]!;
  const body = /-d '(.*)' (\S+)$/.exec(line)!;
  const res = await fetch(body[2]!, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body[1]!.replace(/'\\''/g, "'") });
  return (await res.json()) as unknown;
}

/** Waits until the three checks are shown and each passed. */
async function checksPass(page: Page): Promise<void> {
  const wizard = page.getByTestId('deploy-wizard');
  await expect(wizard.getByTestId('deploy-checks')).toBeVisible({ timeout: 120_000 });
  for (const name of ['signature', 'health', 'smoke']) await expect(wizard.getByTestId(`deploy-check-${name}`)).toContainText('passed');
  await expect(wizard.getByTestId('deploy-ok')).toContainText(/every check passed/);
}

test('deploy a model on this PC, call it with the curl line, deploy a newer version, roll back and stop', async ({ page, request }) => {
  test.setTimeout(420_000);
  const server = app();
  const crashes = pageErrors(page);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });

  // Sample and first version through the API: the train wizard has its own spec.
  const samples = await apiCall<{ id: string; title: string }[]>(request, server, 'samples.list', {});
  const sample = samples.find((s) => /Milling machine failures/.test(s.title));
  expect(sample).toBeTruthy();
  const added = await finished(request, server, await apiCall<JobInfo>(request, server, 'samples.add', { id: sample!.id }), 60_000);
  const dataset = (added.result as { dataset: string }).dataset;
  await trainVersion(request, server, dataset, 'logistic');

  // Nothing deployed yet: the page says what an endpoint is and offers the wizard.
  await page.goto(server.openUrl);
  await page.getByRole('link', { name: 'Deployments' }).click();
  await expect(page.getByRole('heading', { name: 'No endpoints yet' })).toBeVisible();
  await expect(page.getByTestId('deploy-a-model')).toBeVisible();

  // From the model page: Deploy opens the wizard on the version to deploy (the only one, so the newest).
  await page.evaluate((name) => (location.hash = `#/models/${encodeURIComponent(name)}`), MODEL);
  await page.getByTestId('deploy-model').click();
  const wizard = page.getByTestId('deploy-wizard');
  await expect(wizard).toBeVisible();
  await expect(wizard.getByTestId('deploy-version-1')).toHaveAttribute('aria-checked', 'true');
  await expect(wizard.getByTestId('deploy-version-1')).toContainText('Logistic regression');
  await shoot(page, '90-deploy-version', atTop(page));
  await wizard.getByTestId('deploy-next').click();

  // Where: Run on this PC, named this-pc unless changed under Advanced.
  await wizard.getByTestId('deploy-target-local').click();
  await expect(wizard.getByTestId('deploy-target-local')).toHaveAttribute('aria-checked', 'true');
  await expect(wizard.getByTestId('deploy-summary')).toContainText('Version 1 of Failure alarm goes to a new endpoint called this-pc on this PC');
  await shoot(page, '91-deploy-where', atTop(page));
  await wizard.getByTestId('deploy-start').click();

  // Checks: signature, health and the smoke test, each with its sentence.
  await checksPass(page);
  await expect(wizard.getByTestId('deploy-check-smoke')).toContainText(/rows?/);
  await shoot(page, '92-deploy-checks', atTop(page));
  await wizard.getByTestId('deploy-next').click();

  // Done: the address and a curl line that really calls the endpoint.
  const curl = wizard.getByTestId('deploy-curl');
  await expect(curl).toContainText('/predict');
  await expect(curl).toContainText('"Torque"');
  await curl.getByRole('button', { name: 'Copy the curl line' }).click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain('/predict');
  expect(copied).toContain('"Torque"');
  expect(copied).toBe((await curl.locator('code').innerText()).trim());
  const answer = JSON.stringify(await runCurl(copied));
  expect(answer).toMatch(/"prediction"/);
  await dismissToasts(page);
  await shoot(page, '93-deploy-done', atTop(page));

  // Deployments: this-pc is up and serves version 1.
  await wizard.getByTestId('deploy-open-deployments').click();
  const row = page.getByTestId('endpoint-this-pc');
  await expect(row.getByTestId('endpoint-status')).toContainText('Up');
  await expect(row.getByTestId('endpoint-serves')).toContainText(MODEL);
  await expect(row.getByTestId('endpoint-version')).toHaveText('version 1');
  await expect(row).toContainText('This PC');

  // A second version, deployed from the Deployments page: production is not set, so the newest is preselected.
  await trainVersion(request, server, dataset, 'hgb');
  await page.getByTestId('deploy-a-model').click();
  await wizard.getByTestId('deploy-model').selectOption(MODEL);
  await expect(wizard.getByTestId('deploy-version-2')).toHaveAttribute('aria-checked', 'true');
  await wizard.getByTestId('deploy-next').click();
  await expect(wizard.getByTestId('deploy-target-local')).toHaveAttribute('aria-checked', 'true');
  await expect(wizard.getByTestId('deploy-summary')).toContainText('It replaces Failure alarm version 1, which stays as the previous version');
  await wizard.getByTestId('deploy-start').click();
  await checksPass(page);
  await wizard.getByTestId('deploy-next').click();
  await wizard.getByTestId('deploy-open-deployments').click();
  await expect(row.getByTestId('endpoint-version')).toHaveText('version 2');
  await expect(row.getByTestId('endpoint-previous')).toHaveText('before: version 1');
  await expect(page.getByTestId('deploy-history')).toContainText(`Deployed ${MODEL} version 2`);

  // Roll back from the page, after a dialog that names what goes back.
  await row.getByTestId('endpoint-rollback').click();
  const dialog = page.getByTestId('rollback-dialog');
  await expect(dialog).toContainText(`It serves ${MODEL} version 2 now; this-pc goes back to ${MODEL} version 1`);
  await dismissToasts(page);
  await shoot(page, '94-deployments-rollback', atTop(page));
  await dialog.getByRole('button', { name: 'Roll back to version 1' }).click();
  await expect(dialog).toBeHidden();
  await expect(row.getByTestId('endpoint-version')).toHaveText('version 1');
  await expect(row.getByTestId('endpoint-previous')).toHaveText('before: version 2');
  await expect(page.getByTestId('deploy-history')).toContainText(`Rolled back to ${MODEL} version 1`);
  // The endpoint itself says so, not only the page.
  const after = await apiCall<EndpointSummary>(request, server, 'endpoints.refresh', { name: 'this-pc' });
  expect(after.model?.name).toBe(MODEL);
  expect(String(after.model?.version)).toBe('1');

  // Stop: the endpoint no longer answers, and the page says it is stopped, in grey.
  await row.getByTestId('endpoint-stop').click();
  await expect(row.getByTestId('endpoint-status')).toContainText('Stopped');
  await expect(row.getByTestId('endpoint-start')).toBeVisible();
  await expect(row.locator('.chip-bad')).toHaveCount(0);
  await expect(runCurl(copied)).rejects.toThrow();
  await dismissToasts(page);
  await shoot(page, '95-deployments-stopped', atTop(page));
  expect(crashes).toEqual([]);
});

test('export a signed bundle and download it; an endpoint that cannot be reached is down, in red, with the reason', async ({ page }) => {
  test.setTimeout(120_000);
  const server = app();
  const crashes = pageErrors(page);
  await page.goto(server.openUrl);

  // Export a file: the path is preset to the workspace's exports folder, and the browser can download it.
  await page.evaluate((name) => (location.hash = `#/deployments/deploy/${encodeURIComponent(name)}/1`), MODEL);
  const wizard = page.getByTestId('deploy-wizard');
  await expect(wizard.getByTestId('deploy-version-1')).toHaveAttribute('aria-checked', 'true');
  await wizard.getByTestId('deploy-next').click();
  await wizard.getByTestId('deploy-target-file').click();
  await expect(wizard.getByTestId('deploy-out')).toHaveValue(/[\\/]exports[\\/]Failure alarm v1\.tar\.gz$/);
  await expect(wizard.getByTestId('deploy-summary')).toContainText('Nothing runs yet');
  await wizard.getByTestId('deploy-start').click();
  await expect(wizard.getByTestId('deploy-check-signature')).toContainText('passed', { timeout: 60_000 });
  await expect(wizard.getByTestId('deploy-ok')).toContainText('Wrote version 1 of Failure alarm as a signed bundle');
  await wizard.getByTestId('deploy-next').click();
  const [download] = await Promise.all([page.waitForEvent('download'), wizard.getByTestId('deploy-download').click()]);
  expect(download.suggestedFilename()).toBe('Failure alarm v1.tar.gz');
  const bytes = fs.readFileSync(await download.path());
  expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);

  // Add an endpoint: a wrong address is refused in the dialog, naming the field; a closed port is kept, marked down with the reason.
  await page.getByRole('link', { name: 'Deployments' }).click();
  await page.getByTestId('add-endpoint').click();
  const dialog = page.getByTestId('add-endpoint-dialog');
  await dialog.getByLabel('Name').fill('line-3');
  await dialog.getByLabel('Address').fill('10.0.4.21:8080');
  await dialog.getByLabel('Predict token').fill('predict-token-0123456789');
  await dialog.getByLabel('Admin token (optional)').fill('admin-token-0123456789');
  await dialog.getByRole('button', { name: 'Add endpoint' }).click();
  await expect(dialog.getByRole('alert')).toContainText('The address starts with http:// or https://');
  await expect(dialog.getByLabel('Address')).toHaveAttribute('aria-invalid', 'true');
  await dialog.getByLabel('Address').fill('http://127.0.0.1:9');
  await dialog.getByRole('button', { name: 'Add endpoint' }).click();
  await expect(dialog).toBeHidden({ timeout: 30_000 });
  const row = page.getByTestId('endpoint-line-3');
  await expect(row).toContainText('Remote');
  await expect(row.locator('.chip-bad')).toContainText('Down');
  await expect(row.getByTestId('endpoint-status')).toContainText(/Has never answered|No contact since/);
  await expect(row.getByTestId('endpoint-status')).toContainText('127.0.0.1:9');
  await expect(row.getByTestId('endpoint-rollback')).toBeDisabled();
  await dismissToasts(page);

  // The wizard offers it as a place to push to, with its status.
  await page.getByTestId('deploy-a-model').click();
  await wizard.getByTestId('deploy-model').selectOption(MODEL);
  await wizard.getByTestId('deploy-next').click();
  await wizard.getByTestId('deploy-target-endpoint').click();
  await expect(wizard.getByTestId('deploy-endpoint-line-3')).toHaveAttribute('aria-checked', 'true');
  await expect(wizard.getByTestId('deploy-endpoint-line-3')).toContainText('Down');
  await expect(wizard.getByTestId('deploy-summary')).toContainText('line-3 did not answer at the last contact');

  // Remove: confirmed, then gone.
  await page.getByRole('link', { name: 'Deployments' }).click();
  await row.getByTestId('endpoint-remove').click();
  const remove = page.getByTestId('remove-endpoint-dialog');
  await expect(remove).toContainText('The endpoint itself keeps running where operations installed it');
  await remove.getByRole('button', { name: 'Remove' }).click();
  await expect(row).toBeHidden();
  expect(crashes).toEqual([]);
});
