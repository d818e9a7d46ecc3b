import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChallengerReportSchema, LABEL_COLUMNS, type Episode } from '../shared/feedback';
import { privateCliBuildAsync, userErrorLine } from './test-support/cli-build';
import { coreCaller, importCsv, trainModel, type CoreCall } from './test-support/core-call';
import { NAB_WINDOWS as WINDOWS, nabSeriesLines, overlapsNabWindow } from './test-support/nab';
import { createCore, type Core } from './services/compose';

/**
 * The whole feedback loop on real industrial data: the NAB machine-temperature
 * series (a large industrial machine's temperature sensor, every 5 minutes
 * from 2 December 2013 to 19 February 2014, with four windows around known
 * failures). Import the first week, train an anomaly model, deploy a local
 * endpoint, stream the rest of the series into it, let monitoring pull, find
 * episodes, answer them by the known windows (through the CLI, as a person
 * would), recalibrate, retrain on the labelled data, compare, promote.
 */

/** Training: the first week, before the first failure window. */
const CUT = '2013-12-09 00:00:00';
const MODEL = 'machine-temp';
const CAUSE = 'Machine failure';

let root: string;
let wsDir: string;
let core: Core | undefined;
let call: CoreCall;
let cli: ReturnType<typeof privateCliBuildAsync>;
let rows: { timestamp: string; value: number }[];
let episodes: Episode[];

const overlapsWindow = overlapsNabWindow;
const open = () => {
  core = createCore({ workspaceDir: wsDir, resumeEndpoints: true, monitor: false });
  call = coreCaller(() => core!);
};
const closeCore = async () => {
  await core?.close();
  core = undefined;
};

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-feedback-loop-'));
  wsDir = path.join(root, 'ws');
  cli = privateCliBuildAsync(root);
  await cli.ready();
  // The series repeats one hour (2014-01-07 02:00–02:55, a clock set back): the repeats are dropped, as the import would ask.
  const lines = nabSeriesLines();
  const cut = lines.findIndex((l) => l.startsWith(CUT));
  fs.writeFileSync(path.join(root, 'first-week.csv'), [lines[0], ...lines.slice(1, cut)].join('\n') + '\n');
  fs.writeFileSync(path.join(root, 'whole-series.csv'), lines.join('\n') + '\n');
  rows = lines.slice(cut).map((l) => {
    const [t, v] = l.split(',');
    return { timestamp: `${t!.replace(' ', 'T')}Z`, value: Number(v) };
  });

  open();
  await importCsv(core!, call, path.join(root, 'first-week.csv'), MODEL, { timeColumn: 'timestamp', timeZone: 'UTC' });
  await trainModel(core!, call, { dataset: MODEL, task: 'anomaly', inputs: ['value'], timeColumn: 'timestamp', windowMinutes: 60, algorithms: ['pca'], timeBudgetSeconds: 20, seed: 7, model: MODEL });
  await call('models.promote', { model: MODEL, version: 1, alias: 'production', reason: 'first model of the machine temperature' });
  const deployed = await call('deploy.run', { model: MODEL, version: 1, target: { kind: 'local', name: 'press-7' } });
  expect(deployed.ok, JSON.stringify(deployed.checks)).toBe(true);
  const { token } = (JSON.parse(fs.readFileSync(path.join(wsDir, 'keys', 'endpoints.json'), 'utf8')) as Record<string, { token: string }>)['press-7']!;
  // The rest of the series, a day per request, as a gateway would send it.
  for (let i = 0; i < rows.length; i += 288) {
    const res = await fetch(`${deployed.url}/predict`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(rows.slice(i, i + 288)) });
    expect(res.status, await res.text()).toBe(200);
  }
  // Monitoring pulls everything (a page at a time), and episodes are grouped after each poll.
  for (let round = 0; round < 20; round++) {
    await call('monitor.cycle', { name: 'press-7' });
    const scan = await call('feedback.scan', {});
    if (round > 0 && scan.created === 0 && scan.extended === 0) break;
  }
  episodes = await call('feedback.list', { status: 'all', model: MODEL, limit: 10_000 });
}, 600_000);

afterAll(async () => {
  await closeCore();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('the feedback loop on the NAB machine-temperature series', () => {
  it('finds episodes in the streamed data that overlap the known failure windows', () => {
    expect(episodes.length).toBeGreaterThanOrEqual(4);
    const first = Date.parse(rows[0]!.timestamp);
    const last = Date.parse(rows[rows.length - 1]!.timestamp);
    for (const e of episodes) {
      expect(e.origin).toBe('endpoint');
      expect(e.endpoint).toBe('press-7');
      expect(Date.parse(e.start)).toBeGreaterThanOrEqual(first);
      expect(Date.parse(e.end)).toBeLessThanOrEqual(last);
      expect(Date.parse(e.end)).toBeGreaterThanOrEqual(Date.parse(e.start));
      expect(e.inputs[0]?.name).toBe('value');
      expect(e.peakScore).toBeGreaterThan(e.threshold!);
    }
    // Episodes do not overlap one another.
    const sorted = [...episodes].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    for (let i = 1; i < sorted.length; i++) expect(Date.parse(sorted[i]!.start)).toBeGreaterThan(Date.parse(sorted[i - 1]!.end));
    const hit = WINDOWS.filter(([a, b]) => episodes.some((e) => Date.parse(e.start) <= b && Date.parse(e.end) >= a));
    expect(hit.length, `windows with an episode: ${hit.length} of ${WINDOWS.length}`).toBeGreaterThanOrEqual(3);
    // And some episodes fall outside them: the false alarms the answers will teach the model about.
    expect(episodes.filter((e) => !overlapsWindow(e)).length).toBeGreaterThanOrEqual(3);
  });

  it('is answered from the command line by the known windows, and a wrong verdict is refused with exit 2', async () => {
    await closeCore();
    const list = await cli(['feedback', 'list', '--json', '--workspace', wsDir], { timeoutMs: 60_000 });
    expect(list.status, list.stderr).toBe(0);
    const printed = (JSON.parse(list.stdout) as { episodes: Record<string, unknown>[] }).episodes;
    expect(printed.map((e) => e.id).sort()).toEqual(episodes.map((e) => e.id).sort());
    expect(Object.keys(printed[0]!).sort()).toEqual(['cause', 'comment', 'end', 'endpoint', 'id', 'inputs', 'model', 'peakScore', 'start', 'verdict']);
    expect(printed[0]!.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    const bad = await cli(['feedback', 'answer', String(episodes[0]!.id), '--verdict', 'maybe', '--workspace', wsDir]);
    expect(userErrorLine(bad)).toBe('millwright: --verdict must be real, normal or unsure (got "maybe").');

    const real = episodes.find(overlapsWindow)!;
    const normal = episodes.find((e) => !overlapsWindow(e))!;
    const a = await cli(['feedback', 'answer', String(real.id), '--verdict', 'real', '--cause', CAUSE, '--comment', 'bearing seized', '--json', '--workspace', wsDir]);
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual(expect.objectContaining({ id: real.id, verdict: 'real', cause: CAUSE, comment: 'bearing seized' }));
    const n = await cli(['feedback', 'answer', String(normal.id), '--verdict', 'normal', '--workspace', wsDir]);
    expect(n.status, n.stderr).toBe(0);
    expect(n.stdout).toContain('Normal operation');

    // The rest through the API (as the Inbox does), each by the known windows.
    open();
    for (const e of episodes) {
      if (e.id === real.id || e.id === normal.id) continue;
      await call('feedback.answer', overlapsWindow(e) ? { id: e.id, verdict: 'real', cause: CAUSE } : { id: e.id, verdict: 'normal' });
    }
    const answered = await call('feedback.list', { status: 'answered', model: MODEL, limit: 10_000 });
    expect(answered).toHaveLength(episodes.length);
    expect(await call('feedback.list', { status: 'unanswered', model: MODEL })).toEqual([]);
    // The dashboard says how often the endpoint's alarms were real, from the answers.
    const dash = await call('monitor.dashboard', { name: 'press-7', window: 'week' });
    const realCount = episodes.filter(overlapsWindow).length;
    expect(dash.drift.liveAccuracy).toEqual({ metric: 'share of answered alarms that were real problems', value: realCount / episodes.length, labelled: episodes.length });
    const detail = await call('feedback.get', { id: real.id });
    expect(detail.history.map((h) => [h.verdict, h.cause, h.comment])).toEqual([['real', CAUSE, 'bearing seized']]);
  }, 180_000);

  it('suggests an alarm level that avoids false alarms and still catches every real problem, and makes a version with it', async () => {
    const r = await call('feedback.recalibration', { model: MODEL });
    const real = episodes.filter(overlapsWindow).length;
    const normal = episodes.length - real;
    expect(r.answered).toEqual({ real, normal });
    expect(r.before.caught + r.before.missed).toBe(real);
    expect(r.before.falseAlarms).toBe(normal);
    expect(r.suggested).not.toBeNull();
    expect(r.suggested!).toBeGreaterThan(r.current);
    expect(r.after!.falseAlarms).toBeLessThan(r.before.falseAlarms);
    expect(r.after!.caught).toBe(r.before.caught);
    expect(r.sentence).toMatch(new RegExp(`would have avoided ${r.before.falseAlarms - r.after!.falseAlarms} of ${r.before.falseAlarms} false alarms`));

    const v = await call('feedback.applyThreshold', { model: MODEL, threshold: r.suggested!, reason: 'fewer false alarms on the answered episodes' });
    expect(v.version).toBe(2);
    expect(v.aliases).toEqual(['challenger']);
    const report = (await call('models.report', { model: MODEL, version: 2 })) as { threshold: number };
    expect(report.threshold).toBe(r.suggested);
  }, 120_000);

  it('retrains on the labelled data: the challenger raises fewer false alarms on the answered episodes, and is promoted and deployed', async () => {
    await importCsv(core!, call, path.join(root, 'whole-series.csv'), MODEL, { timeColumn: 'timestamp', timeZone: 'UTC' });
    const labels = await call('feedback.addToData', { model: MODEL });
    expect(labels.dataset).toBe(MODEL);
    expect(labels.version).toBe(3);
    expect(labels.episodes).toBe(episodes.length);
    expect(labels.labelled.real).toBeGreaterThan(0);
    expect(labels.labelled.normal).toBeGreaterThan(0);

    // Six failures confirmed with one cause: the app offers a model that names the cause, and the labelled data can train it.
    const offer = (await call('feedback.suggestions', { model: MODEL })).find((x) => x.kind === 'cause_model');
    expect(offer?.detail).toEqual(expect.objectContaining({ cause: CAUSE }));
    await trainModel(core!, call, { dataset: MODEL, version: 3, task: 'binary', target: LABEL_COLUMNS.cause, inputs: ['value'], timeColumn: 'timestamp', windowMinutes: 60, algorithms: ['tree'], timeBudgetSeconds: 10, model: 'machine-temp-cause' });
    const causeModel = (await call('models.report', { model: 'machine-temp-cause' })) as { classes: string[] };
    expect(causeModel.classes).toEqual([CAUSE, 'Normal operation']);

    // Retrained, compared and promoted from the command line, as a script at the plant would.
    const retrained = await cli(['retrain', MODEL, '--time-budget', '30', '--json', '--workspace', wsDir], { timeoutMs: 240_000 });
    expect(retrained.status, retrained.stderr).toBe(0);
    const report = ChallengerReportSchema.extend({ job: z.string() }).parse(JSON.parse(retrained.stdout));
    expect(report.production?.version).toBe(1);
    expect(report.challenger?.version).toBe(3);
    const ep = report.episodes!;
    expect(ep.real + ep.normal).toBe(episodes.length);
    expect(ep.challenger.falseAlarms, report.sentence).toBeLessThan(ep.production.falseAlarms);
    expect(ep.challenger.caught).toBeGreaterThan(0);
    expect(report.sentence).toMatch(/^The challenger \(v3\) /);

    const promoted = await cli(['challenger', 'promote', MODEL, '--reason', 'fewer false alarms on the answered episodes', '--workspace', wsDir], { timeoutMs: 120_000 });
    expect(promoted.status, promoted.stderr).toBe(0);
    expect(promoted.stdout.trim()).toBe(`Production of ${MODEL} is now version 3.`);
    const { model } = await call('models.get', { model: MODEL });
    expect([model.production, model.challenger]).toEqual([3, null]);
    const endpoint = (await call('endpoints.list', {})).find((e) => e.name === 'press-7')!;
    expect(endpoint.model).toEqual({ name: MODEL, version: 3 });
  }, 300_000);
});
