import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { JobInfo } from '../shared/api';
import type { DeployResult } from '../shared/deploy';
import type { Episode, Inbox } from '../shared/feedback';
import { apiCall, finished, shoot, useServerMode, type ServerMode } from './server-mode';

const MODEL = 'Line 4 watch';
const DATASET = 'Line 4';
const ENDPOINT = 'line-4';

/** A line's temperature and flow every 5 minutes: a week to learn from, then two days streamed to the endpoint. */
const START = Date.parse('2024-01-01T00:00:00Z');
const STEP = 5 * 60_000;
const TRAIN_ROWS = 2016;
const ALL_ROWS = 2616;
/** Real problems: the temperature runs hot. */
const HOT: [number, number][] = [
  [2100, 2124],
  [2400, 2415],
];
/** Normal operation that looks unusual: a short high flow while a tank fills. */
const BUMPS: [number, number][] = [
  [2200, 2205],
  [2300, 2303],
];
const at = (row: number) => new Date(START + row * STEP).toISOString();
const within = (i: number, spans: [number, number][]) => spans.some(([a, b]) => i >= a && i <= b);

type Row = { Time: string; Temp: number; Flow: number };

function row(i: number): Row {
  const temp = 60 + 2 * Math.sin(i / 20) + ((i * 37) % 11) / 10 + (within(i, HOT) ? 22 : 0);
  const flow = 100 + 5 * Math.cos(i / 30) + ((i * 53) % 7) / 5 + (within(i, BUMPS) ? 16 : 0);
  return { Time: at(i), Temp: Number(temp.toFixed(2)), Flow: Number(flow.toFixed(2)) };
}

function writeCsv(dir: string, rows: number, name: string): string {
  const lines = ['Time,Temp [°C],Flow [m3/h]'];
  for (let i = 0; i < rows; i++) {
    const r = row(i);
    lines.push(`${r.Time},${r.Temp},${r.Flow}`);
  }
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function importCsv(request: Parameters<typeof apiCall>[0], server: ServerMode, file: string): Promise<void> {
  const inspected = await apiCall<{ settings: Record<string, unknown> }>(request, server, 'imports.inspect', { paths: [file] });
  const job = await apiCall<JobInfo>(request, server, 'imports.analyze', { paths: [file], settings: { ...inspected.settings, timeColumn: 'Time', timeZone: 'UTC' }, save: { name: DATASET } });
  await finished(request, server, job, 60_000);
}

/** Sends rows to the endpoint's /predict, 200 to a request. */
async function send(url: string, token: string, rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    const res = await fetch(new URL('predict', url.endsWith('/') ? url : `${url}/`), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(rows.slice(i, i + 200)),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }
}

/** The row numbers an episode spans, in the series above. */
const rowsOf = (e: Pick<Episode, 'start' | 'end'>): [number, number] => [Math.round((Date.parse(e.start) - START) / STEP), Math.round((Date.parse(e.end) - START) / STEP)];
const overlaps = (e: Pick<Episode, 'start' | 'end'>, spans: [number, number][]) => {
  const [a, b] = rowsOf(e);
  return spans.some(([x, y]) => a <= y && b >= x);
};

const atTop = (page: Page) => () => page.locator('#main').evaluate((el) => el.scrollTo(0, 0));
const atPart = (page: Page, testId: string) => () =>
  page.getByTestId(testId).first().evaluate((el) => {
    const main = document.getElementById('main')!;
    main.scrollTop += el.getBoundingClientRect().top - main.getBoundingClientRect().top - 12;
  });

async function dismissToasts(page: Page): Promise<void> {
  await page.evaluate(() => document.querySelectorAll<HTMLButtonElement>('.toasts button[aria-label="Dismiss"]').forEach((b) => b.click()));
}

const app = useServerMode();

test('the feedback loop: episodes from a live endpoint, answered in the Inbox with the keyboard, then a better model from the answers, promoted with a reason', async ({ page, request }) => {
  test.setTimeout(300_000);
  const server = app();
  const crashes: string[] = [];
  page.on('pageerror', (e) => crashes.push(e.message));
  const dir = fs.mkdtempSync(path.join(server.workspace, 'csv-'));

  // A week of the line to learn from, an unusual-behaviour model, and an endpoint on this PC.
  await importCsv(request, server, writeCsv(dir, TRAIN_ROWS, 'line-4-week.csv'));
  const train = { dataset: DATASET, model: MODEL, task: 'anomaly', inputs: ['Temp', 'Flow'], timeColumn: 'Time', windowMinutes: 30, algorithms: ['iforest'], timeBudgetSeconds: 10 };
  await finished(request, server, await apiCall<JobInfo>(request, server, 'training.start', train), 120_000);
  await apiCall(request, server, 'models.promote', { model: MODEL, version: 1, alias: 'production', reason: 'First model of line 4' });
  const deployed = await apiCall<DeployResult>(request, server, 'deploy.run', { model: MODEL, version: 1, target: { kind: 'local', name: ENDPOINT } });
  expect(deployed.ok, JSON.stringify(deployed)).toBe(true);
  const token = /Bearer ([^"]+)"/.exec(deployed.curl!)![1]!;

  // Settings › Questions about episodes: ask at two times, three episodes at a time.
  await page.goto(server.openUrl);
  await page.getByRole('link', { name: 'Settings' }).click();
  const settings = page.getByTestId('feedback-settings');
  await expect(settings.getByTestId('feedback-setting-time')).toHaveCount(3);
  await settings.getByTestId('feedback-setting-time').nth(2).fill('');
  await settings.getByTestId('feedback-settings-save').click();
  await expect(settings.getByRole('alert')).toHaveCount(0);
  await settings.getByText('Advanced: how unusual rows become episodes').click();
  await settings.getByTestId('feedback-setting-minRows').fill('0');
  await settings.getByTestId('feedback-settings-save').click();
  await expect(settings.getByRole('alert')).toContainText('The fewest unusual rows to ask about must be a whole number from 1');
  await expect(settings.getByTestId('feedback-setting-minRows')).toHaveAttribute('aria-invalid', 'true');
  await settings.getByTestId('feedback-setting-minRows').fill('2');
  await settings.getByTestId('feedback-setting-perPrompt').selectOption('3');
  await settings.getByTestId('feedback-settings-save').click();
  await expect(page.locator('.toasts')).toContainText('The Inbox asks at 06:00, 14:00, about at most 3 episodes each time.');
  expect(await apiCall(request, server, 'feedback.settings', {})).toMatchObject({ promptTimes: ['06:00', '14:00'], perPrompt: 3, minRows: 2 });
  await dismissToasts(page);
  await shoot(page, '110-settings-feedback', atPart(page, 'feedback-settings'));

  // Two days of the line through the endpoint: two hot stretches, two fills, the rest normal.
  const rest: Row[] = [];
  for (let i = TRAIN_ROWS; i < ALL_ROWS; i++) rest.push(row(i));
  await send(deployed.url!, token, rest);

  // Nothing asked yet: the Inbox says when it will ask.
  await page.getByRole('link', { name: 'Inbox' }).click();
  await expect(page.getByRole('heading', { name: 'Nothing to answer' })).toBeVisible();
  await expect(page.getByTestId('inbox-next')).toHaveText(/^Next questions (at|tomorrow at) (06|14):00\.$/);

  // Monitoring reads the endpoint's flagged rows; they become episodes.
  await page.getByRole('link', { name: 'Monitoring' }).click();
  await page.getByTestId('monitor-check-now').click();
  await expect(page.getByTestId('monitor-check-now')).toHaveText('Check now', { timeout: 60_000 });
  // The background poller reads the rest a page at a time; here the test does it without waiting.
  let episodes: Episode[] = [];
  await expect(async () => {
    await apiCall(request, server, 'monitor.cycle', { name: ENDPOINT });
    await apiCall(request, server, 'feedback.scan', {});
    episodes = await apiCall<Episode[]>(request, server, 'feedback.list', { status: 'all' });
    expect(HOT.every((span) => episodes.some((e) => overlaps(e, [span])))).toBe(true);
    expect(episodes.some((e) => overlaps(e, BUMPS))).toBe(true);
  }).toPass({ timeout: 60_000 });

  await page.getByRole('link', { name: 'Inbox' }).click();
  await expect(page.getByRole('heading', { name: 'Nothing to answer' })).toBeVisible();
  await shoot(page, '111-inbox-nothing-asked', atTop(page));

  // Ask me now: at most three cards, most informative first, with the badge in the navigation.
  await page.getByTestId('ask-now').click();
  const cards = page.locator('[data-testid^="episode-card-"]');
  await expect(cards.first()).toBeVisible();
  const inbox = await apiCall<Inbox>(request, server, 'feedback.inbox', {});
  expect(inbox.due.length).toBeGreaterThan(0);
  expect(inbox.due.length).toBeLessThanOrEqual(3);
  await expect(cards).toHaveCount(inbox.due.length);
  await expect(page.getByTestId('nav-inbox-badge')).toHaveText(String(inbox.due.length));
  const first = page.getByTestId(`episode-card-${inbox.due[0]!.id}`);
  await expect(first.getByTestId('episode-peak')).toContainText('Peak score');
  await expect(first.getByTestId('episode-peak')).toContainText('alarm level');
  await expect(first.getByTestId('episode-why')).toContainText('Asked because:');
  await expect(first.getByTestId('episode-score-chart').locator('.lc-threshold')).toHaveCount(1);
  await expect(first.getByTestId('episode-input-chart').first().locator('.lc-band').first()).toBeVisible();
  await expect(first.getByTestId('answer-real')).toContainText('R');
  await dismissToasts(page);
  await shoot(page, '112-inbox-cards', atTop(page));
  // One crosshair over the card's trends: pointing at the score marks the same time on the inputs.
  await first.getByTestId('episode-score-chart').locator('svg').hover();
  await expect(first.getByTestId('episode-input-chart').first().getByTestId('lc-shared-cursor')).toHaveCount(1);
  await page.mouse.move(1, 1);
  await expect(first.getByTestId('episode-input-chart').first().getByTestId('lc-shared-cursor')).toHaveCount(0);
  await page.getByTestId('ask-now').focus();
  // J and K move between the questions.
  if (inbox.due.length > 1) {
    await page.keyboard.press('j');
    await expect(cards.nth(1)).toBeFocused();
    await page.keyboard.press('k');
    await expect(cards.nth(0)).toBeFocused();
  }

  // Make sure the questions include a hot stretch and a normal one (the rank decides which come first).
  const hot = inbox.due.find((e) => overlaps(e, HOT)) ?? episodes.find((e) => overlaps(e, HOT) && !e.verdict)!;
  const calm = inbox.due.find((e) => !overlaps(e, HOT)) ?? episodes.find((e) => !overlaps(e, HOT) && !e.verdict)!;
  const shown = new Set(inbox.due.map((e) => e.id));

  // A real problem with the keyboard: focus the card, R, type a new cause, Enter.
  const answerByKeys = async (id: number, keys: () => Promise<void>) => {
    if (shown.has(id)) {
      await page.getByTestId(`episode-card-${id}`).focus();
      await keys();
    } else {
      // Not among the questions: answered from All episodes.
      const table = page.getByTestId('episodes-table');
      await table.getByTestId('episodes-filter').getByText('All', { exact: true }).click();
      await table.getByTestId(`episode-row-${id}`).getByTestId('episode-row-open').click();
      return 'table';
    }
    return 'card';
  };
  const hotCard = page.getByTestId(`episode-card-${hot.id}`);
  if ((await answerByKeys(hot.id, () => page.keyboard.press('r'))) === 'card') {
    await expect(hotCard.getByTestId('cause-picker')).toBeVisible();
    await expect(hotCard.getByTestId('cause-input')).toBeFocused();
    await page.keyboard.type('Cooling water failure');
    await dismissToasts(page);
    await shoot(page, '113-inbox-cause', () => hotCard.getByTestId('cause-picker').evaluate((el) => el.scrollIntoView({ block: 'end' })));
    await page.keyboard.press('Enter');
  } else {
    const card = page.getByTestId('episodes-table').getByTestId(`episode-card-${hot.id}`);
    await card.getByTestId('answer-real').click();
    await card.getByTestId('cause-input').fill('Cooling water failure');
    await card.getByTestId('cause-input').press('Enter');
  }
  await expect.poll(async () => (await apiCall<{ episode: Episode }>(request, server, 'feedback.get', { id: hot.id })).episode).toMatchObject({ verdict: 'real', cause: 'Cooling water failure' });

  // Not sure about the other one (U), then changed to Normal operation (N).
  const calmCard = page.getByTestId(`episode-card-${calm.id}`).first();
  if (shown.has(calm.id)) {
    await calmCard.focus();
    await page.keyboard.press('u');
    await expect(calmCard.getByTestId('episode-answer')).toHaveText('Not sure');
    await calmCard.getByTestId('episode-change').click();
    await expect(calmCard).toBeFocused();
    await page.keyboard.press('n');
  } else {
    await page.getByTestId('episodes-table').getByTestId(`episode-row-${calm.id}`).getByTestId('episode-row-open').click();
    await calmCard.getByTestId('answer-unsure').click();
    await page.getByTestId('episodes-table').getByTestId(`episode-row-${calm.id}`).getByTestId('episode-row-open').click();
    await calmCard.getByTestId('answer-normal').click();
  }
  await expect.poll(async () => (await apiCall<{ episode: Episode; history: unknown[] }>(request, server, 'feedback.get', { id: calm.id })).history.length).toBe(2);
  expect((await apiCall<{ episode: Episode }>(request, server, 'feedback.get', { id: calm.id })).episode.verdict).toBe('normal');
  if (shown.has(hot.id)) await expect(hotCard.getByTestId('episode-answer')).toHaveText('Real problem: Cooling water failure');
  await dismissToasts(page);
  await page.mouse.move(1, 1);
  await shoot(page, '114-inbox-answered', atTop(page));

  // The rest answered as the operators know them (the CLI and other people answer too): hot stretches real, the others normal.
  for (const e of await apiCall<Episode[]>(request, server, 'feedback.list', { status: 'unanswered' })) {
    const real = overlaps(e, HOT);
    await apiCall(request, server, 'feedback.answer', { id: e.id, verdict: real ? 'real' : 'normal', ...(real ? { cause: 'Cooling water failure' } : {}) });
  }
  const table = page.getByTestId('episodes-table');
  await table.getByTestId('episodes-filter').getByText('Answered', { exact: true }).click();
  await expect(table.locator('[data-testid^="episode-row-"]').first()).toBeVisible();
  await expect(table).toContainText('Real problem: Cooling water failure');
  await expect(page.getByTestId('nav-inbox-badge')).toHaveCount(0);
  await shoot(page, '115-inbox-all-episodes', atPart(page, 'episodes-table'));

  // The whole series now in the dataset, so the answers can mark its rows.
  await importCsv(request, server, writeCsv(dir, ALL_ROWS, 'line-4-all.csv'));

  // The model page: what the answers suggest, the effect of a new alarm level.
  await page.getByRole('link', { name: 'Models' }).click();
  await page.getByRole('link', { name: MODEL }).first().click();
  const improve = page.getByTestId('improve-panel');
  await expect(improve).toBeVisible();
  await expect(improve.getByTestId('suggestion-recalibrate')).toBeVisible({ timeout: 20_000 });
  await improve.getByTestId('suggestion-recalibrate-action').click();
  await expect(improve.getByTestId('suggestion-recalibrate')).toContainText(/false alarm/);
  await expect(improve.getByTestId('recalibration')).toContainText('Alarm level now');
  await expect(improve.getByTestId('recalibration-bars').locator('.pairs-row')).toHaveCount(2);
  await dismissToasts(page);
  await shoot(page, '116-improve-recalibration', atPart(page, 'improve-panel'));
  // A version with the new level is one click and a reason away (not made here: the retrain below is the challenger).
  await improve.getByTestId('apply-threshold').click();
  await expect(page.getByTestId('apply-threshold-dialog')).toContainText('marks it the challenger');
  await page.getByTestId('apply-threshold-dialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('apply-threshold-dialog')).toHaveCount(0);

  // Answers into the data, then a challenger trained on them.
  await improve.getByTestId('add-to-data').click();
  await expect(improve.getByTestId('labels-result')).toContainText(`${DATASET} version 3`);
  await expect(improve.getByTestId('labels-result').getByRole('link')).toHaveText(`Open ${DATASET}, version 3`);
  await improve.getByTestId('train-challenger').click();
  await expect(improve.getByTestId('retrain-progress')).toBeVisible();
  await dismissToasts(page);
  await shoot(page, '117-improve-retraining', atPart(page, 'suggestion-cause_model'));

  // Production beside the challenger: the same holdout, the answered episodes.
  const report = improve.getByTestId('challenger-report');
  await expect(report).toBeVisible({ timeout: 150_000 });
  await expect(report).toContainText('version 2');
  await expect(report.getByTestId('challenger-sentence')).not.toBeEmpty();
  await expect(report.getByTestId('challenger-episodes').locator('.pairs-row')).toHaveCount(2);
  await dismissToasts(page);
  await shoot(page, '118-challenger-report', atPart(page, 'challenger-report'));

  // The challenger in shadow on the endpoint: it scores the same requests, production still answers.
  await report.getByTestId('shadow-start').click();
  await expect(report.getByTestId(`shadow-${ENDPOINT}`)).toContainText(`In shadow on ${ENDPOINT}`);
  expect(await apiCall<{ model: string; version: number } | null>(request, server, 'shadow.status', { endpoint: ENDPOINT })).toMatchObject({ model: MODEL, version: 2 });
  await dismissToasts(page);

  // Promote with a reason, deploying it to the endpoint that runs production.
  await report.getByTestId('challenger-promote').click();
  const dialog = page.getByTestId('challenger-dialog');
  await expect(dialog.getByTestId('promote-deploy')).toBeChecked();
  await dialog.getByRole('button', { name: 'Promote' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Say why in a few words');
  await dialog.getByTestId('change-reason').fill('Retrained on line 4 with the answered episodes as labels; catches the same hot stretches');
  await shoot(page, '119-promote', undefined);
  await dialog.getByRole('button', { name: 'Promote' }).click();
  await expect(dialog).toHaveCount(0, { timeout: 60_000 });
  await expect(page.locator('.toasts')).toContainText(`Version 2 of ${MODEL} is now in production.`);
  const models = await apiCall<{ name: string; production: number | null; challenger: number | null }[]>(request, server, 'models.list', {});
  expect(models.find((m) => m.name === MODEL)).toMatchObject({ production: 2, challenger: null });
  // Promoting ended the shadow run.
  expect(await apiCall(request, server, 'shadow.status', { endpoint: ENDPOINT })).toBeNull();
  expect(crashes).toEqual([]);
});
