/**
 * Issue 11, point 4: "no network call to anywhere but configured endpoints".
 * The app runs in server mode while a browser visits every page; every request
 * the page makes must go to the app's own origin (no fonts, CDNs or telemetry),
 * and every socket the core process and its children hold, sampled from /proc
 * through the whole run, must stay on this PC's loopback: the browser talking
 * to the app, and the one endpoint the test configured (a stub on 127.0.0.1).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import type { JobInfo, SampleInfo } from '../shared/api';
import type { EndpointSummary } from '../shared/deploy';
import { writeHardeningFigures, type HardeningDetail } from '../electron/reliability/support/hardening-figures';
import { describeSocket, isLoopback, leavesThisPc, procAvailable, sampleSockets } from '../electron/reliability/support/hardening-sockets';
import { apiCall, finished, startServerMode } from './server-mode';

const PAGES = ['Home', 'Data', 'Models', 'Deployments', 'Monitoring', 'Inbox', 'Activity', 'Settings'];

test('the page and the core reach nothing but the app itself and the configured endpoint', async ({ page, request }) => {
  test.setTimeout(60_000);
  // A configured endpoint on loopback: it answers slowly, so the sampler sees the core's connection to it.
  const heard: string[] = [];
  const stub = http.createServer((req, res) => {
    heard.push(`${req.method} ${req.url}`);
    setTimeout(() => res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"error":"stub"}'), 400);
  });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  const stubPort = (stub.address() as AddressInfo).port;

  const server = await startServerMode();
  const sampler = procAvailable() ? sampleSockets(server.proc.pid!, 50) : null;
  const requests: string[] = [];
  page.context().on('request', (r) => requests.push(r.url()));
  page.on('websocket', (ws) => requests.push(ws.url()));
  const popups: string[] = [];
  page.context().on('page', (p) => popups.push(p.url()));
  let seen: ReturnType<NonNullable<typeof sampler>['stop']> | undefined;
  try {
    await page.goto(server.openUrl);
    await expect(page.getByRole('heading', { level: 1, name: 'Home' })).toBeVisible();
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const label of PAGES) {
      await nav.getByRole('link', { name: label }).click();
      await expect(page.getByRole('heading', { level: 1, name: label })).toBeVisible();
    }

    // Something to show: a sample dataset (its page draws charts) and the stub endpoint.
    const samples = await apiCall<SampleInfo[]>(request, server, 'samples.list', {});
    const added = await finished(request, server, await apiCall<JobInfo>(request, server, 'samples.add', { id: samples[0]!.id }), 30_000);
    const dataset = (added.result as { dataset: string }).dataset;
    const endpoint = await apiCall<EndpointSummary>(request, server, 'endpoints.add', { name: 'loopback-stub', url: `http://127.0.0.1:${stubPort}`, token: 'stub-token-0123456789' });
    expect(endpoint.name).toBe('loopback-stub');
    await apiCall(request, server, 'monitor.cycle', {});

    await nav.getByRole('link', { name: 'Data' }).click();
    await page.getByRole('link', { name: dataset }).first().click();
    await expect(page.getByRole('heading', { name: dataset }).first()).toBeVisible();
    for (const label of ['Deployments', 'Monitoring', 'Models', 'Home']) {
      await nav.getByRole('link', { name: label }).click();
      await expect(page.getByRole('heading', { level: 1, name: label })).toBeVisible();
    }
    await page.reload();
    await expect(page.getByRole('heading', { level: 1, name: 'Home' })).toBeVisible();
  } finally {
    seen = sampler?.stop();
    await server.stop();
    await new Promise((r) => stub.close(r));
  }

  const details: HardeningDetail[] = [];
  /** Runs one group of assertions and records it for the figures, failed or not. */
  const check = (name: string, cases: number, extra: Record<string, unknown>, body: () => void) => {
    const d: HardeningDetail = { source: 'e2e', check: name, cases, ok: false, ...extra };
    details.push(d);
    body();
    d.ok = true;
  };
  try {
    const origin = new URL(server.url).origin;
    const foreign = requests.filter((u) => {
      const url = new URL(u);
      return /^(https?|wss?):$/.test(url.protocol) ? url.origin !== origin : !['data:', 'blob:', 'about:'].includes(url.protocol);
    });
    check('network watch › every request of the page goes to the app origin', requests.length, { requests: requests.length, foreign: foreign.length }, () => {
      expect(foreign, 'requests the page made to anywhere but the app').toEqual([]);
      expect(popups).toEqual([]);
      // Not vacuous: the page loaded its files and called its API.
      expect(requests.filter((u) => u.startsWith(`${origin}/api/`)).length).toBeGreaterThan(10);
      expect(requests.some((u) => /\/assets\/.+\.js$/.test(u))).toBe(true);
    });
    check('network watch › the core contacted the configured endpoint', 1, { endpointRequests: heard.length }, () => {
      expect(heard.length).toBeGreaterThan(0);
    });
    if (seen) {
      const sockets = seen.sockets;
      const leaving = sockets.filter(leavesThisPc);
      check('network watch › every socket of the core stays on loopback', sockets.length, { samples: seen.samples, sockets: sockets.length, leaving: leaving.length }, () => {
        expect(leaving.map(describeSocket), 'sockets of the core that leave this PC').toEqual([]);
        for (const s of sockets.filter((x) => x.state === 'LISTEN')) expect(isLoopback(s.local), describeSocket(s)).toBe(true);
        // The sampler saw the traffic it vouches for: the browser's connections and the core's to the endpoint.
        const port = Number(new URL(server.url).port);
        expect(sockets.some((s) => s.state === 'ESTABLISHED' && s.localPort === port)).toBe(true);
        expect(sockets.some((s) => s.remotePort === stubPort && isLoopback(s.remote))).toBe(true);
      });
    }
  } finally {
    writeHardeningFigures('e2e', details, process.env.MILLWRIGHT_RELIABILITY === 'full' ? 'full' : 'short');
  }
});
