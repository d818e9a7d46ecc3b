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

/** Adds a sample, opens its dataset page and starts the wizard from its "Train a model" button. */
async function addSampleAndTrain(page: Page, title: RegExp): Promise<void> {
  await page.goto(server.openUrl);
  await page.getByRole('link', { name: 'Home' }).click();
  await page.getByRole('button', { name: 'Try it with sample data' }).click();
  await page.getByRole('menu').getByRole('menuitem', { name: title }).click();
  await expect(page.getByRole('status').filter({ hasText: /^Added / }).last()).toBeVisible({ timeout: 60_000 });
  await page.keyboard.press('Escape');
  await page.getByRole('link', { name: 'Data' }).click();
  await page.getByRole('row', { name: title }).getByRole('link', { name: title }).click();
  await page.getByRole('button', { name: 'Train a model' }).click();
}

/** Moves the budget slider to its first stop (10 s) so the run is short. */
async function shortestBudget(page: Page): Promise<void> {
  const slider = page.locator('#train-budget');
  await slider.focus();
  await page.keyboard.press('Home');
  await expect(slider).toHaveAttribute('aria-valuetext', /10 s/);
}

test('the train wizard trains a failure model on the AI4I sample and explains the result', async ({ page }) => {
  test.setTimeout(240_000);
  await addSampleAndTrain(page, /Milling machine failures/);
  const wizard = page.getByRole('region', { name: 'Train a model' });
  await expect(wizard).toBeVisible();
  await shoot(page, '60-train-goal');

  await wizard.getByTestId('train-goal-predict_category').click();
  await wizard.getByTestId('train-next').click();
  // The suggested target comes first, with the reason.
  const targets = wizard.getByRole('radiogroup', { name: 'What you want to predict' });
  await expect(targets.getByRole('radio').first()).toBeChecked();
  await expect(targets).toContainText('Machine failure');
  await shoot(page, '61-train-target');

  await wizard.getByTestId('train-next').click();
  // Leaks and IDs are unticked, with the reason in plain words.
  const twf = wizard.getByRole('row', { name: /TWF/ });
  await expect(twf.getByRole('checkbox')).not.toBeChecked();
  await expect(twf).toContainText('gives the answer away');
  await expect(wizard.getByRole('row', { name: /UDI/ }).getByRole('checkbox')).not.toBeChecked();
  await expect(wizard.getByRole('row', { name: /Torque/ }).getByRole('checkbox')).toBeChecked();
  await shoot(page, '62-train-inputs');

  await wizard.getByTestId('train-next').click();
  await shortestBudget(page);
  await shoot(page, '63-train-budget');

  await wizard.getByTestId('train-start').click();
  await expect(wizard.getByTestId('train-progress').first()).toBeVisible();
  await expect(wizard.getByTestId('train-cancel')).toBeVisible();
  await shoot(page, '64-train-running');

  // When it ends the app opens the model's page.
  const headline = page.getByTestId('model-headline');
  await expect(headline).toBeVisible({ timeout: 180_000 });
  await expect(headline).toContainText(/right \d+ times out of 100/);
  await expect(page.getByTestId('leaderboard')).toContainText('Gradient boosting');
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();
  await expect(page.getByTestId('importance')).toContainText(/Torque|Rotational speed|Tool wear/);
  await shoot(page, '65-model-results');

  // The threshold speaks in consequences, and moving it changes them.
  const slider = page.getByTestId('threshold-slider');
  await slider.scrollIntoViewIfNeeded();
  const before = await slider.getAttribute('aria-valuetext');
  expect(before).toMatch(/catches \d+ of \d+ failures/);
  await slider.focus();
  await page.keyboard.press('Home');
  await expect(slider).toHaveAttribute('aria-valuetext', /catches (\d+) of \1 failures/);
  await shoot(page, '66-model-threshold');

  await page.getByRole('link', { name: 'Models' }).click();
  await expect(page.getByTestId('models-table')).toContainText('Machine failure');
  await shoot(page, '67-models-list');
});

test('unusual behaviour on the machine temperature sample, with a window of recent history', async ({ page }) => {
  test.setTimeout(240_000);
  await addSampleAndTrain(page, /Industrial machine temperature/);
  const wizard = page.getByRole('region', { name: 'Train a model' });
  await wizard.getByTestId('train-goal-detect_unusual').click();
  await wizard.getByTestId('train-next').click();
  await wizard.getByTestId('train-next').click();
  await wizard.getByRole('checkbox', { name: /Also learn from the last/ }).check();
  await shoot(page, '68-train-anomaly-inputs');
  await wizard.getByTestId('train-next').click();
  await shortestBudget(page);
  await wizard.getByTestId('train-start').click();
  const headline = page.getByTestId('model-headline');
  await expect(headline).toBeVisible({ timeout: 180_000 });
  await expect(headline).toContainText(/flags/);
  await shoot(page, '69-model-anomaly');
});
