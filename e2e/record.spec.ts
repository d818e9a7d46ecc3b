import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { expect, test, type Locator, type Page } from '@playwright/test';
import type { DatasetSummary, VersionSummary } from '../shared/api';
import type { Recording } from '../shared/recording';
import { freePort } from '../electron/test-support/free-port';
import { apiCall, ROOT, shoot, useServerMode } from './server-mode';

/**
 * Recording live plant data (issue 10) as a person does it: the wizard against node-opcua's
 * own server with simulated pumps on loopback (an unreachable address, a certificate refused,
 * then a connection without message security), tags picked in the tree and by search, a
 * recording watched until its sparklines fill and through a restart of the server (amber
 * while it reconnects, then a gap), stopped, saved as a dataset and opened.
 * Then the same against Debian's Mosquitto with a publisher of JSON pump readings.
 */

const app = useServerMode();
test.describe.configure({ mode: 'serial' });

interface Child {
  proc: ChildProcess;
  info: Record<string, unknown> & { url: string };
  stop(): Promise<void>;
}

/** Starts a test-support server (`npx tsx FILE ARGS`) and waits for the JSON line it prints when it listens. */
async function startChild(file: string, args: string[]): Promise<Child> {
  const proc = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, file), ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout! });
    rl.on('line', (l) => l.trim().startsWith('{') && resolve(l));
    proc.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${stderr}`)));
    setTimeout(() => reject(new Error(`${file} did not start in 90 s: ${stderr}`)), 90_000);
  });
  return {
    proc,
    info: JSON.parse(line) as Child['info'],
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

const children: Child[] = [];
test.afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
});

const atTop = (page: Page) => () => page.locator('#main').evaluate((el) => el.scrollTo(0, 0));
const atPart = (locator: Locator) => () =>
  locator.first().evaluate((el) => {
    const main = document.getElementById('main')!;
    main.scrollTop += el.getBoundingClientRect().top - main.getBoundingClientRect().top - 12;
  });

async function dismissToasts(page: Page): Promise<void> {
  await page.evaluate(() => document.querySelectorAll<HTMLButtonElement>('.toasts button[aria-label="Dismiss"]').forEach((b) => b.click()));
}

/** The number a fact shows ("1,234" → 1234). */
async function factNumber(locator: Locator): Promise<number> {
  return Number((await locator.innerText()).replace(/[^\d]/g, '') || '0');
}

/** The recording the page shows, read from its address. */
function recordingIdOf(page: Page): number {
  const m = /#\/data\/recordings\/(\d+)/.exec(page.url());
  if (!m) throw new Error(`not a recording page: ${page.url()}`);
  return Number(m[1]);
}

test('record an OPC UA server: connect, pick tags in the tree and by search, watch it through a server restart, stop, save as a dataset', async ({ page, request }) => {
  test.setTimeout(300_000);
  const server = app();
  const crashes: string[] = [];
  page.on('pageerror', (e) => crashes.push(e.message));
  const opcua = await startChild('electron/test-support/opcua-server.ts', ['--port', String(await freePort()), '--secure']);
  children.push(opcua);
  const url = opcua.info.url;

  await page.goto(server.openUrl);
  await page.getByRole('link', { name: 'Data' }).click();
  await page.getByTestId('record-live-data').click();
  const wizard = page.getByTestId('record-wizard');
  await expect(wizard.getByRole('radio', { name: /OPC UA server/ })).toHaveAttribute('aria-checked', 'true');
  await expect(wizard.getByTestId('record-url')).toHaveAttribute('placeholder', 'opc.tcp://192.168.0.10:4840');
  // Not an address yet: Connect says what is missing instead of trying.
  await wizard.getByTestId('record-url').fill('192.168.0.10:4840');
  await expect(wizard.getByTestId('record-connect')).toBeDisabled();
  await expect(wizard).toContainText('An OPC UA address starts with opc.tcp://');

  // Nothing listens there: the problem in plain words, no stack.
  const closed = await freePort();
  await wizard.getByTestId('record-url').fill(`opc.tcp://127.0.0.1:${closed}`);
  await shoot(page, '120-record-connect', atTop(page));
  await wizard.getByTestId('record-connect').click();
  const result = wizard.getByTestId('record-connect-result');
  await expect(result).toContainText('Could not connect', { timeout: 60_000 });
  await expect(result).not.toContainText(/Error:|at .*\.js|ECONNREFUSED/);
  expect((await result.innerText()).length).toBeGreaterThan(30);
  await dismissToasts(page);
  await shoot(page, '121-record-unreachable', atTop(page));

  // Signed and encrypted: the server's certificate is shown to decide about; "Don't trust" keeps it out.
  await wizard.getByTestId('record-url').fill(url);
  await wizard.getByText('Advanced', { exact: true }).click();
  await wizard.getByTestId('record-security-mode').selectOption('signAndEncrypt');
  await expect(wizard.getByTestId('record-security-policy')).toHaveValue('Basic256Sha256');
  await wizard.getByTestId('record-connect').click();
  await expect(wizard.getByTestId('record-connecting')).toBeVisible();
  const cert = wizard.getByTestId('record-certificate');
  await expect(cert).toBeVisible({ timeout: 90_000 });
  await expect(cert.getByTestId('record-thumbprint')).toHaveText(String(opcua.info.certificateThumbprint));
  await expect(cert).toContainText('Issued to');
  await expect(cert).toContainText('Valid');
  await shoot(page, '122-record-certificate', atPart(cert));
  await cert.getByTestId('record-distrust').click();
  await expect(result).toContainText('Not trusted', { timeout: 60_000 });
  await expect(result).toContainText('not to trust');
  await expect(wizard.getByTestId('record-next')).toBeDisabled();

  // No message security (anonymous): connected, saved under a name the person gives.
  await wizard.getByTestId('record-security-mode').selectOption('none');
  await wizard.getByText('Advanced', { exact: true }).click();
  await wizard.getByTestId('record-connect').click();
  await expect(result).toContainText('Connected', { timeout: 60_000 });
  await expect(wizard.getByTestId('record-source-name')).toHaveAttribute('placeholder', '127.0.0.1');
  await wizard.getByTestId('record-source-name').fill('Pump station');
  await dismissToasts(page);
  await shoot(page, '123-record-connected', atPart(result));
  await wizard.getByTestId('record-next').click();

  // Pick tags: open Pump1, tick three numbers; its text tag cannot be ticked and says why.
  await wizard.getByTestId('record-open-Pump1').click();
  await wizard.getByLabel('Record Pump1/Temperature').check();
  await wizard.getByLabel('Record Pump1/Pressure').check();
  await wizard.getByLabel('Record Pump1/Speed').check();
  const nameBox = wizard.getByLabel('Record Pump1/Name');
  await expect(nameBox).toBeDisabled();
  await expect(wizard.locator('[data-path="Pump1/Name"]')).toContainText('Holds text: only numbers and on/off values can be recorded.');
  const selected = wizard.getByTestId('record-selected');
  await expect(selected.getByTestId('record-selected-tag')).toHaveCount(3);
  // Live values are read while picking.
  await expect(selected.getByTestId('record-live-value')).toHaveCount(3, { timeout: 20_000 });
  await expect(selected.getByTestId('record-live-value').first()).toContainText('°C');
  // A column named by the person.
  await selected.getByLabel('Column name for Pump1/Speed').fill('Pump speed');
  await shoot(page, '124-record-tree', atTop(page));

  // Search finds a tag deep in Line2.
  await wizard.getByTestId('record-search').fill('Torque');
  const hit = wizard.locator('[data-path="Line2/Station3/Robot/Axis1/Torque"]');
  await expect(hit).toBeVisible({ timeout: 30_000 });
  await hit.getByRole('checkbox').check();
  await expect(selected.getByTestId('record-selected-tag')).toHaveCount(4);
  await shoot(page, '125-record-search', atTop(page));
  const columns = ['Temperature', 'Pressure', 'Pump speed', 'Torque'];
  expect(await selected.getByTestId('record-column-name').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value))).toEqual(columns);
  await wizard.getByTestId('record-next').click();

  // How long: a value every second, until stopped, with a summary.
  await expect(wizard.getByRole('radio', { name: '1 s', exact: true })).toBeChecked();
  await expect(wizard.getByTestId('record-until-stopped')).toBeChecked();
  await expect(wizard.getByTestId('record-name')).toHaveAttribute('placeholder', /^Pump station \d{4}-\d\d-\d\d \d\d:\d\d$/);
  await wizard.getByTestId('record-name').fill('Pump station trial');
  await expect(wizard.getByTestId('record-summary')).toContainText('Millwright records 4 tags (Temperature, Pressure, Pump speed, Torque) from Pump station');
  await expect(wizard.getByTestId('record-summary')).toContainText('about 14,400 values an hour');
  await shoot(page, '126-record-how-long', atTop(page));
  await wizard.getByTestId('record-start').click();

  // The recording page: sparklines fill and the count grows, refreshed every second.
  const rec = page.getByTestId('recording-page');
  await expect(rec).toBeVisible({ timeout: 30_000 });
  const id = recordingIdOf(page);
  await expect(rec.getByTestId('recording-state')).toHaveAttribute('data-state', 'recording', { timeout: 30_000 });
  const tags = rec.getByTestId('recording-tag');
  await expect(tags).toHaveCount(4);
  await expect.poll(() => factNumber(rec.getByTestId('recording-samples')), { timeout: 60_000 }).toBeGreaterThan(40);
  for (let i = 0; i < 4; i++) {
    await expect(tags.nth(i).locator('.spark-line')).toHaveAttribute('d', /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){4,}/);
    await expect(tags.nth(i).getByTestId('recording-tag-value')).not.toHaveText('—');
  }
  await expect(tags.filter({ hasText: 'Temperature' }).getByTestId('recording-tag-value')).toContainText('°C');
  await expect(rec.getByTestId('recording-facts')).toContainText('opc.tcp://');
  await expect(rec.getByTestId('recording-no-gaps')).toBeVisible();
  await shoot(page, '127-recording-live', atTop(page));

  // The server goes away: the state turns amber and says when it tries again; back on the same port, recording goes on and the gap is listed.
  const port = opcua.info.port as number;
  await opcua.stop();
  await expect(rec.getByTestId('recording-state')).toHaveAttribute('data-state', 'reconnecting', { timeout: 60_000 });
  await expect(rec.getByTestId('recording-state')).toHaveClass(/chip-warn/);
  await expect(rec.getByTestId('recording-message')).toContainText('Trying again in');
  await shoot(page, '128-recording-reconnecting', atTop(page));
  children.push(await startChild('electron/test-support/opcua-server.ts', ['--port', String(port), '--secure']));
  await expect(rec.getByTestId('recording-state')).toHaveAttribute('data-state', 'recording', { timeout: 90_000 });
  const gaps = rec.getByTestId('recording-gaps');
  await expect(gaps.locator('tbody tr').first()).toBeVisible({ timeout: 30_000 });
  await expect(gaps.locator('tbody tr').first().locator('td').nth(3)).toHaveText('all');
  await expect.poll(() => factNumber(rec.getByTestId('recording-gap-count')), { timeout: 30_000 }).toBeGreaterThan(0);
  // Values from both sides of the gap: each sparkline breaks there (two strokes) instead of joining across it.
  for (let i = 0; i < 4; i++) await expect(tags.nth(i).locator('.spark-line')).toHaveAttribute('d', /^M[^M]+M[^M]*L/, { timeout: 30_000 });
  await shoot(page, '129-recording-gap', atPart(rec.locator('.spark-grid')));

  // Stop, after saying so.
  await rec.getByTestId('recording-stop').click();
  const stopDialog = page.getByTestId('recording-stop-dialog');
  await expect(stopDialog).toContainText('Millwright stops reading from Pump station');
  await shoot(page, '130-recording-stop');
  await stopDialog.getByRole('button', { name: 'Stop recording' }).click();
  await expect(rec.getByTestId('recording-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
  await expect(rec.getByTestId('recording-stop')).toHaveCount(0);
  const stopped = await apiCall<Recording>(request, server, 'recordings.get', { id });
  expect(stopped.state).toBe('stopped');
  expect(stopped.tags.map((t) => t.name)).toEqual(columns);

  // Save as a dataset: the whole recording, shaded over its trend.
  await rec.getByTestId('recording-save').click();
  const save = page.getByTestId('recording-save-dialog');
  await expect(save.getByTestId('save-name')).toHaveValue('Pump station trial');
  await save.getByTestId('save-name').fill('Pump station recorded');
  await expect(save.getByTestId('save-overview').locator('.lc-band')).toHaveCount(1, { timeout: 20_000 });
  await expect(save).toContainText("One row every 1 s, the recording's interval");
  await shoot(page, '131-recording-save');
  await save.getByRole('button', { name: 'Save dataset' }).click();
  const saved = rec.getByTestId('recording-saved');
  await expect(saved).toContainText('Saved as Pump station recorded, version 1', { timeout: 90_000 });
  await expect(rec.getByTestId('recording-datasets')).toContainText('Pump station recorded');
  await dismissToasts(page);
  await shoot(page, '132-recording-saved', atTop(page));

  // The dataset has the picked tags as its columns.
  const ds = await apiCall<{ dataset: DatasetSummary; versions: VersionSummary[] }>(request, server, 'datasets.get', { dataset: 'Pump station recorded' });
  for (const c of columns) expect(ds.dataset.columns).toContain(c);
  expect(ds.dataset.rows).toBeGreaterThan(5);
  await saved.getByRole('link', { name: 'Open the dataset' }).click();
  const head = page.locator('.dataset-head');
  await expect(head).toContainText('Pump station recorded');
  for (const c of columns) await expect(page.locator('#main')).toContainText(c);
  await shoot(page, '133-dataset-from-recording', atTop(page));

  // The Data page lists the recording with the dataset saved from it.
  await page.getByRole('link', { name: 'Data' }).click();
  const row = page.getByTestId(`recording-row-${id}`);
  await expect(row).toContainText('Pump station trial');
  await expect(row).toContainText('Stopped');
  await expect(row).toContainText('Pump station recorded');
  await shoot(page, '134-data-recordings', atPart(page.getByTestId('recordings-section')));
  expect(crashes).toEqual([]);
});

test('record an MQTT broker: listen, pick JSON fields, record a few seconds and stop', async ({ page, request }) => {
  test.skip(!fs.existsSync('/usr/sbin/mosquitto') || !fs.existsSync(path.join(ROOT, 'electron/test-support/mosquitto.ts')), 'Mosquitto is not installed');
  test.setTimeout(180_000);
  const server = app();
  const crashes: string[] = [];
  page.on('pageerror', (e) => crashes.push(e.message));
  const broker = await startChild('electron/test-support/mosquitto.ts', ['--port', String(await freePort()), '--publish']);
  children.push(broker);

  await page.goto(server.openUrl);
  await page.getByRole('link', { name: 'Data' }).click();
  await page.getByTestId('record-live-data').click();
  const wizard = page.getByTestId('record-wizard');
  // The OPC UA server saved before is offered; this is a new source.
  await expect(wizard.getByTestId('record-source-new')).toHaveAttribute('aria-checked', 'true');
  await expect(wizard.getByRole('radiogroup', { name: 'Saved sources' })).toContainText('Pump station');
  await wizard.getByTestId('record-kind-mqtt').click();
  await expect(wizard.getByTestId('record-url')).toHaveAttribute('placeholder', 'mqtt://broker.local:1883');
  await expect(wizard.getByTestId('record-topic')).toHaveValue('#');
  await wizard.getByTestId('record-url').fill(broker.info.url);
  await wizard.getByTestId('record-topic').fill('plant/#');
  await wizard.getByTestId('record-connect').click();
  await expect(wizard.getByTestId('record-connect-result')).toContainText('Connected', { timeout: 30_000 });
  await wizard.getByTestId('record-next').click();

  // Listening, then what was heard as a tree.
  await expect(wizard.getByTestId('record-listening')).toBeVisible();
  await shoot(page, '135-record-mqtt-listening', atTop(page));
  await expect(wizard.getByTestId('record-heard')).toContainText('Heard', { timeout: 30_000 });
  await wizard.getByLabel('Record plant/pump1/temperature').check();
  await wizard.getByLabel('Record plant/pump1/motor.current').check();
  const selected = wizard.getByTestId('record-selected');
  await expect(selected.getByTestId('record-selected-tag')).toHaveCount(2);
  await expect(selected.getByTestId('record-live-value')).toHaveCount(2, { timeout: 20_000 });
  await shoot(page, '136-record-mqtt-tags', atTop(page));
  const names = await selected.getByTestId('record-column-name').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
  await wizard.getByTestId('record-next').click();

  await expect(wizard.getByTestId('record-interval-note')).toContainText('MQTT records every message as it arrives.');
  await wizard.getByTestId('record-start').click();
  const rec = page.getByTestId('recording-page');
  await expect(rec.getByTestId('recording-state')).toHaveAttribute('data-state', 'recording', { timeout: 30_000 });
  const id = recordingIdOf(page);
  // The publisher sends every 200 ms: two fields, about ten samples a second.
  await expect.poll(() => factNumber(rec.getByTestId('recording-samples')), { timeout: 30_000 }).toBeGreaterThan(20);
  await expect(rec.getByTestId('recording-tag')).toHaveCount(2);
  await expect(rec.getByTestId('recording-tag').first().locator('.spark-line')).toHaveAttribute('d', /L/);
  await shoot(page, '137-recording-mqtt', atTop(page));
  await rec.getByTestId('recording-stop').click();
  await page.getByTestId('recording-stop-dialog').getByRole('button', { name: 'Stop recording' }).click();
  await expect(rec.getByTestId('recording-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
  const r = await apiCall<Recording>(request, server, 'recordings.get', { id });
  expect(r.source.kind).toBe('mqtt');
  expect(r.tags.map((t) => t.name)).toEqual(names);
  expect(r.tags.map((t) => t.id)).toEqual(['plant/pump1#temperature', 'plant/pump1#motor.current']);
  expect(r.samples).toBeGreaterThan(20);
  expect(crashes).toEqual([]);
});
