import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type APIRequestContext, type Locator } from '@playwright/test';
import type { JobInfo } from '../shared/api';
import { ROOT, SCREENSHOTS, shoot, startServerMode, type ServerMode } from './server-mode';

/** The app's own copy of the AI4I 2020 sample. */
const AI4I = path.join(ROOT, 'resources', 'samples', 'ai4i2020.csv');
const MODEL = 'Failure alarm';

let server: ServerMode;
let scratch: string;

// The second test uses the model the first one trains.
test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-score-'));
  server = await startServerMode();
});
test.afterAll(async () => {
  await server?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** Calls the app's HTTP API the way the page does, with the access key from the link. */
async function apiCall<T>(request: APIRequestContext, name: string, arg: unknown): Promise<T> {
  const token = new URL(server.openUrl).searchParams.get('token') ?? '';
  const res = await request.post(new URL(`api/${name}`, server.url).toString(), { headers: { Authorization: `Bearer ${token}` }, data: arg });
  const reply = (await res.json()) as { ok: true; value: T } | { ok: false; error: { message: string } };
  if (!reply.ok) throw new Error(`${name}: ${reply.error.message}`);
  return reply.value;
}

async function finished(request: APIRequestContext, job: JobInfo, timeoutMs: number): Promise<JobInfo> {
  const end = Date.now() + timeoutMs;
  for (let j = job; ; j = await apiCall<JobInfo>(request, 'jobs.get', { id: j.id })) {
    if (j.state === 'done') return j;
    if (j.state !== 'queued' && j.state !== 'running') throw new Error(`${j.title} ended ${j.state}: ${j.error?.message ?? ''}`);
    if (Date.now() > end) throw new Error(`${j.title} did not finish in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Keeps `target` in view at each screenshot size. */
const inView = (target: Locator) => () => target.evaluate((el) => el.scrollIntoView({ block: 'start' }));

test('try a failure model on a real row, then score a file with it and download the answers', async ({ page, request }) => {
  test.setTimeout(180_000);
  // Sample and model through the API: the train wizard has its own spec.
  const samples = await apiCall<{ id: string; title: string }[]>(request, 'samples.list', {});
  const sample = samples.find((s) => /Milling machine failures/.test(s.title));
  expect(sample).toBeTruthy();
  const added = await finished(request, await apiCall<JobInfo>(request, 'samples.add', { id: sample!.id }), 60_000);
  const dataset = (added.result as { dataset: string }).dataset;
  const train = { dataset, model: MODEL, task: 'binary', target: 'Machine failure', algorithms: ['hgb'], timeBudgetSeconds: 10 };
  await finished(request, await apiCall<JobInfo>(request, 'training.start', train), 120_000);

  await page.goto(server.openUrl);
  await page.evaluate((name) => (location.hash = `#/models/${encodeURIComponent(name)}`), MODEL);
  await expect(page.getByTestId('model-headline')).toBeVisible();

  // Try it: filled from a real row, answered in words, with what pushed the answer.
  const tryIt = page.getByTestId('try-it');
  const answer = page.getByTestId('try-answer');
  await expect(answer).toContainText(/Machine failure (likely|unlikely|possible): (over |under )?\d+\s%\s(sure|chance)/);
  await expect(page.getByTestId('try-from')).toContainText(/Filled from row [\d,]+ of .+ what really happened: Machine failure = [01]/);
  const pushes = page.getByTestId('try-pushes').getByRole('listitem');
  expect(await pushes.count()).toBeGreaterThanOrEqual(3);
  await expect(pushes.first()).toContainText(/points|no change/);
  await shoot(page, '70-try-it', inView(tryIt));

  // An ordinary speed and torque make a failure unlikely; a much higher torque (overstrain, too much power) makes it likely.
  await tryIt.getByLabel('Rotational speed (rpm)').fill('1500');
  const torque = tryIt.getByLabel('Torque (Nm)');
  await torque.fill('40');
  await torque.press('Enter');
  await expect(answer).toContainText('Machine failure unlikely');
  const before = await answer.innerText();
  await torque.fill('85');
  await expect(answer).toContainText(/Machine failure (likely|possible)/);
  expect(await answer.innerText()).not.toBe(before);
  await expect(page.getByTestId('try-from')).toContainText('You changed Rotational speed and Torque');
  await expect(pushes.first()).toContainText('Torque');
  await shoot(page, '71-try-it-changed', inView(tryIt));

  // The whole sample takes long enough to watch it run, and to stop it (when the run is not over first).
  const card = page.getByTestId('score-file');
  await card.getByLabel('File to score').setInputFiles(AI4I);
  await expect(card.getByTestId('score-file-name')).toContainText('ai4i2020.csv');
  await card.getByTestId('score-start').click();
  const caught = await card.getByTestId('score-progress').waitFor({ timeout: 5_000 }).then(
    () => true,
    () => false,
  );
  if (caught) {
    await shoot(page, '72-score-running', inView(card));
    await card.getByTestId('score-cancel').click({ timeout: 2_000 }).catch(() => undefined);
  }
  await expect(card.getByText(/Scoring was stopped|Scored 10,000 rows/)).toBeVisible({ timeout: 60_000 });

  // Score a file: the first 200 rows of the sample, checked against their answers.
  const csv = path.join(scratch, 'ai4i-200.csv');
  fs.writeFileSync(csv, fs.readFileSync(AI4I, 'utf8').split(/\r?\n/).slice(0, 201).join('\n') + '\n');
  await card.getByLabel('File to score').setInputFiles(csv);
  await expect(card.getByTestId('score-file-name')).toContainText('ai4i-200.csv');
  await card.getByRole('checkbox', { name: /Also check against the answers in the file/ }).check();
  await card.getByTestId('score-start').click();

  const result = card.getByTestId('score-result');
  await expect(result).toBeVisible({ timeout: 60_000 });
  await expect(result).toContainText('Scored 200 rows of ai4i-200.csv');
  await expect(card.getByTestId('score-counts')).toContainText(/\d+ of 200 rows predicted as Machine failure/);
  await expect(card.getByTestId('score-metrics')).toContainText('Right');
  await expect(result).toContainText('probability_1');
  await shoot(page, '73-score-result', inView(card));

  // In a browser the scored file comes as a download.
  const [download] = await Promise.all([page.waitForEvent('download'), card.getByTestId('score-download').click()]);
  expect(download.suggestedFilename()).toMatch(/^ai4i-200 scored by Failure alarm v1.*\.csv$/);
  const header = fs.readFileSync(await download.path(), 'utf8').split('\n')[0]!;
  expect(header).toMatch(/,prediction,probability_0,probability_1$/);
  const lines = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  expect(lines).toHaveLength(201);
});

test('a file without the columns the model needs is refused in plain words', async ({ page }) => {
  const bad = path.join(scratch, 'wrong-columns.csv');
  fs.writeFileSync(bad, 'time,flow\n2024-01-01 00:00,1.5\n2024-01-01 00:01,1.7\n');
  await page.goto(server.openUrl);
  await page.evaluate((name) => (location.hash = `#/models/${encodeURIComponent(name)}`), MODEL);
  const card = page.getByTestId('score-file');
  await card.getByLabel('File to score').setInputFiles(bad);
  await expect(card.getByTestId('score-file-name')).toContainText('wrong-columns.csv');
  await card.getByTestId('score-start').click();
  const error = card.getByTestId('score-error');
  await expect(error).toContainText(/wrong-columns\.csv has no column .*"Torque"/);
  await expect(error).not.toContainText(/at \w+ \(|Error:/);
});
