import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { JobInfo } from '../shared/api';
import type { DeployResult } from '../shared/deploy';
import type { ChallengerReport, Episode, Inbox, Recalibration } from '../shared/feedback';
import { NAB_WINDOWS as WINDOWS, nabSeriesLines as seriesLines, overlapsNabWindow } from '../electron/test-support/nab';
import { apiCall, finished, shoot, useServerMode, type ServerMode } from './server-mode';

/**
 * The feedback loop of electron/feedback-loop.test.ts, done by a person in the UI: the NAB
 * machine-temperature series (a large industrial machine's temperature every 5 minutes,
 * 2 December 2013 to 19 February 2014, with four windows around known failures).
 */
const MODEL = 'machine-temp';
/** Named apart from the model, so 'version 3' on a page says which it is. */
const DATASET = 'Machine temperature';
const ENDPOINT = 'press-7';
const CAUSE = 'Machine failure';

/** Training: the first week, before the first failure window. */
const CUT = '2013-12-09 00:00:00';

type Row = { timestamp: string; value: number };

async function importCsv(request: Parameters<typeof apiCall>[0], server: ServerMode, file: string): Promise<void> {
  const inspected = await apiCall<{ settings: Record<string, unknown> }>(request, server, 'imports.inspect', { paths: [file] });
  const job = await apiCall<JobInfo>(request, server, 'imports.analyze', { paths: [file], settings: { ...inspected.settings, timeColumn: 'timestamp', timeZone: 'UTC' }, save: { name: DATASET } });
  await finished(request, server, job, 60_000);
}

/** Sends rows to the endpoint's /predict, a day (288 rows) to a request, as a gateway would. */
async function send(url: string, token: string, rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 288) {
    const res = await fetch(new URL('predict', url.endsWith('/') ? url : `${url}/`), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(rows.slice(i, i + 288)),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }
}

const overlapsWindow = overlapsNabWindow;

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

test('the feedback loop on the NAB machine temperature: episodes from a live endpoint, answered in the Inbox with the keyboard, a new alarm level, then a better model from the answers, promoted with a reason', async ({ page, request }) => {
  test.setTimeout(300_000);
  const server = app();
  const crashes: string[] = [];
  page.on('pageerror', (e) => crashes.push(e.message));
  const dir = fs.mkdtempSync(path.join(server.workspace, 'csv-'));
  const lines = seriesLines();
  const cut = lines.findIndex((l) => l.startsWith(CUT));
  const firstWeek = path.join(dir, 'first-week.csv');
  const wholeSeries = path.join(dir, 'whole-series.csv');
  fs.writeFileSync(firstWeek, [lines[0], ...lines.slice(1, cut)].join('\n') + '\n');
  fs.writeFileSync(wholeSeries, lines.join('\n') + '\n');
  const rest: Row[] = lines.slice(cut).map((l) => {
    const [t, v] = l.split(',');
    return { timestamp: `${t!.replace(' ', 'T')}Z`, value: Number(v) };
  });

  // The first week to learn from, an unusual-behaviour model with a 60-minute window, and an endpoint on this PC.
  await importCsv(request, server, firstWeek);
  const train = { dataset: DATASET, model: MODEL, task: 'anomaly', inputs: ['value'], timeColumn: 'timestamp', windowMinutes: 60, algorithms: ['pca'], timeBudgetSeconds: 20, seed: 7 };
  await finished(request, server, await apiCall<JobInfo>(request, server, 'training.start', train), 120_000);
  await apiCall(request, server, 'models.promote', { model: MODEL, version: 1, alias: 'production', reason: 'First model of the machine temperature' });
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

  // The rest of the series through the endpoint, a day per request, with its own timestamps.
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
  for (let round = 0; round < 30; round++) {
    await apiCall(request, server, 'monitor.cycle', { name: ENDPOINT });
    const scan = await apiCall<{ created: number; extended: number }>(request, server, 'feedback.scan', {});
    if (round > 0 && scan.created === 0 && scan.extended === 0) break;
  }
  const episodes = await apiCall<Episode[]>(request, server, 'feedback.list', { status: 'all', model: MODEL, limit: 10_000 });
  const hit = WINDOWS.filter(([a, b]) => episodes.some((e) => Date.parse(e.start) <= b && Date.parse(e.end) >= a));
  expect(hit.length, `windows with an episode: ${hit.length} of ${WINDOWS.length}`).toBeGreaterThanOrEqual(3);
  expect(episodes.filter((e) => !overlapsWindow(e)).length).toBeGreaterThanOrEqual(3);

  await page.getByRole('link', { name: 'Inbox' }).click();
  // Episodes wait, but none has been asked about yet: the page does not say there is nothing to answer.
  await expect(page.getByRole('heading', { name: 'No questions asked yet' })).toBeVisible();
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
  // One crosshair over the card's trends: pointing at the score marks the same time on the input.
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

  // One episode in a known failure window and one outside them (the rank decides whether the prompt asked about them).
  const hot = inbox.due.find(overlapsWindow) ?? episodes.find(overlapsWindow)!;
  const calm = inbox.due.find((e) => !overlapsWindow(e)) ?? episodes.find((e) => !overlapsWindow(e))!;
  const shown = new Set(inbox.due.map((e) => e.id));
  const table = page.getByTestId('episodes-table');
  /** An episode the prompt did not ask about is answered from All episodes, in the card under its row. */
  const openRow = async (id: number) => {
    await table.getByTestId('episodes-filter').getByText('All', { exact: true }).click();
    const row = table.getByTestId(`episode-row-${id}`);
    while (!(await row.isVisible()) && (await table.getByTestId('episodes-more').isVisible())) await table.getByTestId('episodes-more').click();
    await row.getByTestId('episode-row-open').click();
    return table.getByTestId(`episode-card-${id}`);
  };

  // A real problem with the keyboard: focus the card, R, type a new cause, Enter.
  const hotCard = shown.has(hot.id) ? page.getByTestId(`episode-card-${hot.id}`) : await openRow(hot.id);
  if (shown.has(hot.id)) {
    await hotCard.focus();
    await page.keyboard.press('r');
  } else {
    await hotCard.getByTestId('answer-real').click();
    await hotCard.getByTestId('cause-input').focus();
  }
  await expect(hotCard.getByTestId('cause-picker')).toBeVisible();
  await expect(hotCard.getByTestId('cause-input')).toBeFocused();
  await page.keyboard.type(CAUSE);
  await dismissToasts(page);
  await shoot(page, '113-inbox-cause', () => hotCard.getByTestId('cause-picker').evaluate((el) => el.scrollIntoView({ block: 'end' })));
  await page.keyboard.press('Enter');
  await expect.poll(async () => (await apiCall<{ episode: Episode }>(request, server, 'feedback.get', { id: hot.id })).episode).toMatchObject({ verdict: 'real', cause: CAUSE });

  // Not sure about one outside the windows (U), then changed to Normal operation (N).
  if (shown.has(calm.id)) {
    const calmCard = page.getByTestId(`episode-card-${calm.id}`);
    await calmCard.focus();
    await page.keyboard.press('u');
    await expect(calmCard.getByTestId('episode-answer')).toHaveText('Not sure');
    await calmCard.getByTestId('episode-change').click();
    await expect(calmCard).toBeFocused();
    await page.keyboard.press('n');
  } else {
    // A card opened from the table answers with its buttons (the keys belong to the questions above).
    const calmCard = await openRow(calm.id);
    await calmCard.getByTestId('answer-unsure').click();
    await expect(calmCard).toHaveCount(0);
    await (await openRow(calm.id)).getByTestId('answer-normal').click();
  }
  await expect.poll(async () => (await apiCall<{ episode: Episode; history: unknown[] }>(request, server, 'feedback.get', { id: calm.id })).history.length).toBe(2);
  expect((await apiCall<{ episode: Episode }>(request, server, 'feedback.get', { id: calm.id })).episode.verdict).toBe('normal');
  if (shown.has(hot.id)) await expect(page.getByTestId(`episode-card-${hot.id}`).getByTestId('episode-answer')).toHaveText(`Real problem: ${CAUSE}`);
  await dismissToasts(page);
  await page.mouse.move(1, 1);
  // The answers given: at the top the cards, or the rows in All episodes for those the prompt did not ask about.
  await shoot(page, '114-inbox-answered', shown.has(calm.id) ? atTop(page) : () => table.getByTestId(`episode-row-${calm.id}`).evaluate((el) => el.scrollIntoView({ block: 'center' })));

  // The rest answered by the known windows (the CLI and other people answer too).
  for (const e of await apiCall<Episode[]>(request, server, 'feedback.list', { status: 'unanswered', model: MODEL, limit: 10_000 })) {
    await apiCall(request, server, 'feedback.answer', overlapsWindow(e) ? { id: e.id, verdict: 'real', cause: CAUSE } : { id: e.id, verdict: 'normal' });
  }
  await expect(page.getByTestId('nav-inbox-badge')).toHaveCount(0);
  await table.getByTestId('episodes-filter').getByText('Answered', { exact: true }).click();
  await table.getByTestId('episodes-filter').getByText('All', { exact: true }).click();
  const rows = table.locator('[data-testid^="episode-row-"]');
  await expect(rows.first()).toBeVisible();
  await expect(table).toContainText(`Real problem: ${CAUSE}`);
  await expect(table.getByTestId('episodes-count')).toHaveText(new RegExp(`^${episodes.length} episodes`));
  await shoot(page, '115-inbox-all-episodes', atPart(page, 'episodes-table'));
  // A long list shows its newest first and the rest on asking.
  if (episodes.length > (await rows.count())) {
    await table.getByTestId('episodes-more').click();
    await expect(rows).toHaveCount(Math.min(episodes.length, 40));
  }

  // The whole series now in the dataset, so the answers can mark its rows.
  await importCsv(request, server, wholeSeries);

  // The model page: what the answers suggest, the effect of a new alarm level.
  await page.getByRole('link', { name: 'Models' }).click();
  await page.getByRole('link', { name: MODEL }).first().click();
  const improve = page.getByTestId('improve-panel');
  await expect(improve).toBeVisible();
  await expect(improve.getByTestId('suggestion-recalibrate')).toBeVisible({ timeout: 20_000 });
  await improve.getByTestId('suggestion-recalibrate-action').click();
  const recal = await apiCall<Recalibration>(request, server, 'feedback.recalibration', { model: MODEL });
  const real = episodes.filter(overlapsWindow).length;
  expect(recal.answered).toEqual({ real, normal: episodes.length - real });
  expect(recal.suggested!).toBeGreaterThan(recal.current);
  expect(recal.after!.falseAlarms).toBeLessThan(recal.before.falseAlarms);
  expect(recal.after!.caught).toBe(recal.before.caught);
  await expect(improve).toContainText(`would have avoided ${recal.before.falseAlarms - recal.after!.falseAlarms} of ${recal.before.falseAlarms} false alarms`);
  await expect(improve.getByTestId('recalibration')).toContainText('Alarm level now');
  await expect(improve.getByTestId('recalibration-bars').locator('.pairs-row')).toHaveCount(2);
  await dismissToasts(page);
  await shoot(page, '116-improve-recalibration', atPart(page, 'improve-panel'));
  // A version with the new level, made with a reason: it becomes the challenger, production stays.
  await improve.getByTestId('apply-threshold').click();
  const applyDialog = page.getByTestId('apply-threshold-dialog');
  await expect(applyDialog).toContainText('marks it the challenger');
  await applyDialog.getByTestId('change-reason').fill('Fewer false alarms on the answered episodes, the same failures caught');
  await applyDialog.getByRole('button', { name: 'Make the version' }).click();
  await expect(applyDialog).toHaveCount(0, { timeout: 30_000 });
  await expect(improve.getByTestId('threshold-made')).toHaveText(/^Made version 2 with alarm level .+\. It is the challenger/);
  await expect(improve.getByTestId('apply-threshold')).toHaveCount(0);
  await expect.poll(async () => (await apiCall<{ model: { production: number | null; challenger: number | null } }>(request, server, 'models.get', { model: MODEL })).model).toMatchObject({ production: 1, challenger: 2 });
  expect(((await apiCall<{ threshold: number }>(request, server, 'models.report', { model: MODEL, version: 2 })) as { threshold: number }).threshold).toBe(recal.suggested);

  // Answers into the data, then a challenger trained on them.
  await improve.getByTestId('add-to-data').click();
  await expect(improve.getByTestId('labels-result')).toContainText(`${DATASET} version 3`);
  await expect(improve.getByTestId('labels-result').getByRole('link')).toHaveText(`Open ${DATASET}, version 3`);
  await improve.getByTestId('train-challenger').click();
  await expect(improve.getByTestId('retrain-progress')).toBeVisible();
  await dismissToasts(page);
  await shoot(page, '117-improve-retraining', atPart(page, 'improve-panel'));

  // Production beside the challenger: the same holdout, the answered episodes.
  const report = improve.getByTestId('challenger-report');
  await expect(report).toContainText('version 3', { timeout: 150_000 });
  await expect(report.getByTestId('challenger-sentence')).not.toBeEmpty();
  await expect(report.getByTestId('challenger-episodes').locator('.pairs-row')).toHaveCount(2);
  const compared = await apiCall<ChallengerReport>(request, server, 'challenger.report', { model: MODEL });
  expect([compared.production?.version, compared.challenger?.version]).toEqual([1, 3]);
  expect(compared.episodes!.real + compared.episodes!.normal).toBe(episodes.length);
  expect(compared.episodes!.challenger.falseAlarms, compared.sentence).toBeLessThan(compared.episodes!.production.falseAlarms);
  expect(compared.episodes!.challenger.caught).toBeGreaterThan(0);
  await expect(report.getByTestId('challenger-sentence')).toHaveText(compared.sentence);
  // It catches fewer real problems than production: keeping production is the highlighted choice.
  if (compared.episodes!.challenger.caught < compared.episodes!.production.caught) {
    await expect(report.getByTestId('challenger-discard')).toHaveText('Keep production, discard version 3');
    await expect(report.getByTestId('challenger-discard')).toHaveClass(/\bprimary\b/);
    await expect(report.getByTestId('challenger-promote')).not.toHaveClass(/\bprimary\b/);
  }
  await dismissToasts(page);
  await shoot(page, '118-challenger-report', atPart(page, 'challenger-report'));

  // The challenger in shadow on the endpoint: it scores the same requests, production still answers.
  await report.getByTestId('shadow-start').click();
  await expect(report.getByTestId(`shadow-${ENDPOINT}`)).toContainText(`In shadow on ${ENDPOINT}`);
  expect(await apiCall<{ model: string; version: number } | null>(request, server, 'shadow.status', { endpoint: ENDPOINT })).toMatchObject({ model: MODEL, version: 3 });
  await dismissToasts(page);

  // Promote with a reason, deploying it to the endpoint that runs production.
  await report.getByTestId('challenger-promote').click();
  const dialog = page.getByTestId('challenger-dialog');
  await expect(dialog.getByTestId('promote-deploy')).toBeChecked();
  // Told before promoting what it would lose: fewer real problems caught than production.
  const misses = compared.episodes!.production.caught - compared.episodes!.challenger.caught;
  const fewer = `it catches fewer real problems than production (version 1): ${compared.episodes!.challenger.caught} of ${compared.episodes!.real}, against ${compared.episodes!.production.caught}`;
  if (misses > 0) await expect(dialog.getByTestId('promote-warning')).toContainText(fewer);
  else await expect(dialog.getByTestId('promote-warning').filter({ hasText: 'fewer real problems' })).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Promote' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Say why in a few words');
  await dialog.getByTestId('change-reason').fill('Fewer false alarms on the answered episodes, as the operators asked; watching the failures it would miss');
  await shoot(page, '119-promote', undefined);
  await dialog.getByRole('button', { name: 'Promote' }).click();
  await expect(dialog).toHaveCount(0, { timeout: 60_000 });
  await expect(page.locator('.toasts')).toContainText(`Version 3 of ${MODEL} is now in production.`);
  const models = await apiCall<{ name: string; production: number | null; challenger: number | null }[]>(request, server, 'models.list', {});
  expect(models.find((m) => m.name === MODEL)).toMatchObject({ production: 3, challenger: null });
  const endpoint = (await apiCall<{ name: string; model: { name: string; version: number } | null }[]>(request, server, 'endpoints.list', {})).find((e) => e.name === ENDPOINT);
  expect(endpoint?.model).toEqual({ name: MODEL, version: 3 });
  // Promoting ended the shadow run.
  expect(await apiCall(request, server, 'shadow.status', { endpoint: ENDPOINT })).toBeNull();
  expect(crashes).toEqual([]);
});
