import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EpisodeDetailSchema } from '../../../shared/feedback';
import { coreCaller, importCsv, trainModel } from '../../test-support/core-call';
import { createCore, type Core } from '../compose';
import { killEdge, predict, startRemoteEdge, type RemoteEdge } from '../monitor/edge-fixture';

/**
 * Episodes from a real edge endpoint: an anomaly model trained in the
 * workspace, its bundle served by the edge runtime on loopback, rows
 * streamed into it with two clear hot stretches; one poll later the
 * workspace holds exactly those two episodes, in data time, with the
 * temperature named first.
 */

const START = Date.parse('2024-05-01T00:00:00Z');
const STEP = 5 * 60_000;
const at = (row: number) => new Date(START + row * STEP).toISOString();
const tokens = { token: 'feedback-predict-token-0123456789', adminToken: 'feedback-admin-token-0123456789ab' };

/** Normal operation: temperature about 60, flow about 100 (the same bytes every time). */
const temp = (i: number) => 60 + 2 * Math.sin(i / 20) + ((i * 37) % 11) / 10;
const flow = (i: number) => 100 + 5 * Math.cos(i / 30) + ((i * 53) % 7) / 5;
/** The stretches that run hot, as rows of the streamed series. */
const HOT: [number, number][] = [
  [200, 210],
  [400, 430],
];

let root: string;
let core: Core;
let edge: RemoteEdge;
const call = coreCaller(() => core);

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-feedback-edge-'));
  core = createCore({ workspaceDir: path.join(root, 'ws'), resumeEndpoints: false, monitor: false });
  const lines = ['Time,Temp,Flow'];
  for (let i = 0; i < 1500; i++) lines.push(`${new Date(START - (1500 - i) * STEP).toISOString()},${temp(i).toFixed(2)},${flow(i).toFixed(2)}`);
  const file = path.join(root, 'line.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  await importCsv(core, call, file, 'line');
  // PCA: its score grows with the distance from training (an isolation forest's levels off past the training range).
  await trainModel(core, call, { dataset: 'line', task: 'anomaly', inputs: ['Temp', 'Flow'], algorithms: ['pca'], timeBudgetSeconds: 10, model: 'Line temperature' });
  const bundle = (await call('models.exportBundle', { model: 'Line temperature', out: path.join(root, 'line.tar.gz') })).file;
  edge = await startRemoteEdge(bundle, path.join(root, 'edge-state'), tokens);
  await call('endpoints.add', { name: 'line-1', url: edge.url, ...tokens });
}, 180_000);

afterAll(async () => {
  await core?.close();
  if (edge) await killEdge(edge);
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('episodes from a real endpoint', () => {
  it('two hot stretches streamed in become exactly two episodes, in data time, temperature first, with the rows around them on the chart', async () => {
    // Normal rows close to the middle of training, so only the hot stretches are flagged.
    const row = (i: number) => {
      const hot = HOT.some(([a, b]) => i >= a && i <= b);
      return { time: at(i), Temp: hot ? 95 + (i % 3) : 60.5 + (i % 2) / 10, Flow: 100 + (i % 3) / 10 };
    };
    for (let from = 0; from < 600; from += 50) expect(await predict(edge.url, tokens.token, Array.from({ length: 50 }, (_, k) => row(from + k)))).toBe(200);
    await call('monitor.cycle', { name: 'line-1' });
    const episodes = (await call('feedback.list', {})).sort((a, b) => a.start.localeCompare(b.start));
    expect(episodes.map((e) => [e.endpoint, e.model, e.version, e.start, e.end, e.rows])).toEqual(HOT.map(([a, b]) => ['line-1', 'Line temperature', 1, at(a), at(b), b - a + 1]));
    const report = (await call('models.report', { model: 'Line temperature', version: 1 })) as { threshold: number };
    for (const e of episodes) {
      expect(e.inputs[0]!.name).toBe('Temp');
      expect(e.inputs[0]!.deviation).toBeGreaterThan(10);
      expect(e.inputs[0]!.normalHigh!).toBeLessThan(70);
      expect(e.threshold).toBe(report.threshold);
      expect(e.peakScore).toBeGreaterThan(report.threshold);
      expect(e.open).toBe(false);
      expect(e.rank).not.toBeNull();
    }
    // The chart: the flagged rows, and the context rows the edge sent either side of them.
    const d = EpisodeDetailSchema.parse(await call('feedback.get', { id: episodes[0]!.id }));
    const flagged = d.chart.score.filter((p) => p.flagged).map((p) => p.t);
    expect(flagged).toEqual(Array.from({ length: 11 }, (_, k) => at(200 + k)));
    expect(d.chart.score.filter((p) => !p.flagged).length).toBeGreaterThan(0);
    expect(d.chart.from < at(200) && d.chart.to > at(210)).toBe(true);
    expect(d.chart.inputs.map((i) => i.name)).toEqual(['Temp', 'Flow']);
    // Polling again groups nothing twice.
    await call('monitor.cycle', { name: 'line-1' });
    expect(await call('feedback.scan', {})).toEqual({ created: 0, extended: 0 });
    expect(await call('feedback.list', {})).toHaveLength(2);
  }, 60_000);

  it('a batch scoring job of the model: its flagged rows become episodes of that job, in the file\'s time', async () => {
    const lines = ['Time,Temp,Flow'];
    const hot = (i: number) => (i >= 50 && i <= 55) || (i >= 150 && i <= 152);
    for (let i = 0; i < 200; i++) lines.push(`${at(1000 + i)},${hot(i) ? 97 : 60.5},100.1`);
    const file = path.join(root, 'batch.csv');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const job = await call('models.score', { model: 'Line temperature', file, out: path.join(root, 'batch-scored.csv') });
    const done = await core.jobs.wait(job.id);
    expect(done.state).toBe('done');
    expect(done.result).not.toHaveProperty('flagged');
    const batch = (await call('feedback.list', {})).filter((e) => e.origin === 'batch').sort((a, b) => a.start.localeCompare(b.start));
    expect(batch.map((e) => [e.job, e.endpoint, e.start, e.end, e.rows, e.open, e.inputs[0]!.name])).toEqual([
      [job.id, null, at(1050), at(1055), 6, false, 'Temp'],
      [job.id, null, at(1150), at(1152), 3, false, 'Temp'],
    ]);
    expect(await call('feedback.scan', {})).toEqual({ created: 0, extended: 0 });
    // The same file scored again: the same stretches are not asked about (or counted) twice.
    const again = await call('models.score', { model: 'Line temperature', file, out: path.join(root, 'batch-scored-again.csv') });
    expect((await core.jobs.wait(again.id)).state).toBe('done');
    expect((await call('feedback.list', { status: 'all' })).filter((e) => e.origin === 'batch').map((e) => [e.job, e.start])).toEqual([
      [job.id, at(1150)],
      [job.id, at(1050)],
    ]);
  }, 60_000);

  it("a scored file's times without a zone are read in the zone the training data was imported in, not this PC's", async () => {
    // Training data imported as India time (UTC+05:30); the PC runs in UTC.
    const local = (ms: number) => new Date(ms + 5.5 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    const train = ['Time,Temp,Flow'];
    for (let i = 0; i < 1500; i++) train.push(`${local(START - (1500 - i) * STEP)},${temp(i).toFixed(2)},${flow(i).toFixed(2)}`);
    fs.writeFileSync(path.join(root, 'line-ist.csv'), train.join('\n') + '\n');
    await importCsv(core, call, path.join(root, 'line-ist.csv'), 'line-ist', { timeColumn: 'Time', timeZone: 'Asia/Kolkata' });
    await trainModel(core, call, { dataset: 'line-ist', task: 'anomaly', inputs: ['Temp', 'Flow'], algorithms: ['pca'], timeBudgetSeconds: 10, model: 'Line IST' });
    const lines = ['Time,Temp,Flow'];
    for (let i = 0; i < 100; i++) lines.push(`${local(START + (3000 + i) * STEP)},${i >= 40 && i <= 44 ? 97 : 60.5},100.1`);
    fs.writeFileSync(path.join(root, 'batch-ist.csv'), lines.join('\n') + '\n');
    const job = await call('models.score', { model: 'Line IST', file: path.join(root, 'batch-ist.csv'), out: path.join(root, 'batch-ist-scored.csv') });
    expect((await core.jobs.wait(job.id)).state).toBe('done');
    const eps = (await call('feedback.list', { model: 'Line IST' })).filter((e) => e.job === job.id);
    expect(eps.map((e) => [e.start, e.end])).toEqual([[at(3040), at(3044)]]);
  }, 90_000);
});
