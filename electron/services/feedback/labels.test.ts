import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnData } from '../../../shared/datasets';
import { LABEL_COLUMNS } from '../../../shared/feedback';
import { coreCaller, importCsv, trainModel } from '../../test-support/core-call';
import { createCore, type Core } from '../compose';
import { loadColumn } from '../datasets/column-store';
import { findVersion } from '../datasets/versions';
import { modelLineage } from '../registry/lineage';
import { DatasetReader } from '../datasets/reader';
import { AuditLog } from '../workspace/audit';
import { labelRows } from './labels';
import { answer, insertEpisode, START, STEP, writeLineCsv } from './learning-fixture';

/**
 * "Add my answers to the data" on a real workspace: a real import, a real
 * anomaly model, episodes in the table as the monitor leaves them.
 */

let root: string;
let core: Core;
const call = coreCaller(() => core);
const ROWS = 1500;

function columns(dataset: string, version: number): { problem: Float64Array; cause: string[]; names: string[] } {
  const v = findVersion(core.ws.db, dataset, version);
  const load = (name: string) => loadColumn(core.ws.blobs, v.schema.find((c) => c.name === name)!, v.rowCount);
  const p = load(LABEL_COLUMNS.problem) as Extract<ColumnData, { values: Float64Array }>;
  const c = load(LABEL_COLUMNS.cause) as Extract<ColumnData, { codes: Int32Array }>;
  return { problem: p.values, cause: Array.from(c.codes, (k) => (k < 0 ? '' : c.dictionary[k]!)), names: v.schema.map((s) => s.name) };
}

/** Rows (in the fixture's order, which is time order) whose label is `value` (NaN: missing). */
function rowsWhere(values: Float64Array, value: number): number[] {
  const out: number[] = [];
  values.forEach((v, i) => { if (Number.isNaN(value) ? Number.isNaN(v) : v === value) out.push(i); });
  return out;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

let hotA: number, hotB: number, busy: number, unsure: number;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-labels-'));
  core = createCore({ workspaceDir: path.join(root, 'ws'), monitor: false, resumeEndpoints: false });
  await importCsv(core, call, writeLineCsv(root, ROWS, [[300, 310], [900, 905]]), 'line');
  await trainModel(core, call, { dataset: 'line', task: 'anomaly', algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'L-1' });
  hotA = insertEpisode(core.ws, { model: 'L-1', version: 1, from: 300, to: 310, peakScore: 0.8, verdict: 'real', cause: 'Cooling fan' });
  hotB = insertEpisode(core.ws, { model: 'L-1', version: 1, from: 900, to: 905, peakScore: 0.7, verdict: 'real', cause: 'Blocked filter' });
  busy = insertEpisode(core.ws, { model: 'L-1', version: 1, from: 500, to: 503, peakScore: 0.62, verdict: 'normal' });
  unsure = insertEpisode(core.ws, { model: 'L-1', version: 1, from: 700, to: 702, peakScore: 0.6, verdict: 'unsure' });
  // Not answered, and answered but long after the data: neither marks a row.
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: 1000, to: 1004, peakScore: 0.9, verdict: null });
  insertEpisode(core.ws, { model: 'L-1', version: 1, from: ROWS + 100, to: ROWS + 110, peakScore: 0.9, verdict: 'normal' });
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('labels on rows by time', () => {
  const ep = (id: number, start: number, end: number, verdict: 'real' | 'normal' | 'unsure', cause: string | null = null) => ({ id, model: 'M', version: 1, start, end, peakScore: 1, verdict, cause, answeredBy: 'x', answeredAt: 'y' });

  it('finds rows in any order, leaves rows without a time alone, and lets real win over normal where episodes overlap', () => {
    const time = Float64Array.from([50, 10, NaN, 30, 20, 40, 60]);
    const r = labelRows(time, [ep(1, 20, 40, 'normal'), ep(2, 40, 50, 'real', 'Fan'), ep(3, 60, 60, 'unsure'), ep(4, 100, 200, 'real', 'Pump')]);
    expect(Array.from(r.problem)).toEqual([1, NaN, NaN, 0, 0, 1, NaN]);
    // Rows answered normal name it as their cause, so a cause model has normal operation to tell the causes from.
    expect(Array.from(r.cause)).toEqual([0, -1, -1, 1, 1, 0, -1]);
    expect(r.causes).toEqual(['Fan', 'Normal operation']);
    expect(r.counts).toEqual({ real: 2, normal: 2, unsure: 1 });
    expect(r.used.map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it('one cause for spellings that differ only in case, written as first given', () => {
    const time = Float64Array.from([10, 20, 30]);
    const r = labelRows(time, [
      { ...ep(1, 10, 10, 'real', 'fan'), answeredAt: '2024-03-02T00:00:00.000Z' },
      { ...ep(2, 20, 20, 'real', 'Fan'), answeredAt: '2024-03-01T00:00:00.000Z' },
      { ...ep(3, 30, 30, 'real', 'FAN'), answeredAt: '2024-03-03T00:00:00.000Z' },
    ]);
    expect(r.causes).toEqual(['Fan']);
    expect(Array.from(r.cause)).toEqual([0, 0, 0]);
  });
});

describe('answers into the data', () => {
  it('makes a new version whose label columns mark exactly the rows in the answered ranges', async () => {
    const r = await call('feedback.addToData', { model: 'L-1' });
    expect(r).toMatchObject({ dataset: 'line', version: 2, rows: ROWS, episodes: 4, labelled: { real: 11 + 6, normal: 4, unsure: 3 } });
    expect(r.sentence).toBe(`Made line version 2 from version 1: 4 answered episodes mark 17 rows as a real problem and 4 rows as normal operation in "${LABEL_COLUMNS.problem}", with the cause in "${LABEL_COLUMNS.cause}".`);
    const { problem, cause, names } = columns('line', 2);
    expect(names).toEqual(['Time', 'Temp', 'Flow', LABEL_COLUMNS.problem, LABEL_COLUMNS.cause]);
    expect(rowsWhere(problem, 1)).toEqual([...range(300, 310), ...range(900, 905)]);
    expect(rowsWhere(problem, 0)).toEqual(range(500, 503));
    expect(rowsWhere(problem, NaN).length).toBe(ROWS - 21);
    expect(cause[300]).toBe('Cooling fan');
    expect(cause[905]).toBe('Blocked filter');
    expect(cause[299]).toBe('');
    expect(cause[500]).toBe('Normal operation');
    // The original version is untouched (versions never change).
    expect(findVersion(core.ws.db, 'line', 1).schema.map((c) => c.name)).toEqual(['Time', 'Temp', 'Flow']);
  });

  it('keeps where the labels came from: the parent version and each answered episode, audited', () => {
    const v = findVersion(core.ws.db, 'line', 2);
    const from = (v.settings as { labelsFrom: { dataset: string; version: number; episodes: { id: number; verdict: string; start: string }[] } }).labelsFrom;
    expect(from.dataset).toBe('line');
    expect(from.version).toBe(1);
    expect(from.episodes.map((e) => e.id).sort()).toEqual([hotA, hotB, busy, unsure].sort());
    expect(from.episodes.find((e) => e.id === busy)).toMatchObject({ verdict: 'normal', start: new Date(START + 500 * STEP).toISOString() });
    expect(v.changes?.columnsAdded).toEqual([LABEL_COLUMNS.problem, LABEL_COLUMNS.cause]);
    const entry = AuditLog.list(core.ws.db, { limit: 5, action: 'feedback.labels' })[0]!;
    expect(entry.details).toMatchObject({ model: 'L-1', dataset: 'line', from: 1, version: 2 });
  });

  it('replaces the label columns when answers change and are added again, instead of adding copies', async () => {
    answer(core.ws, busy, 'real', 'Cooling fan');
    answer(core.ws, hotB, 'normal');
    const r = await call('feedback.addToData', { model: 'L-1' });
    expect(r.version).toBe(3);
    expect(r.labelled).toEqual({ real: 11 + 4, normal: 6, unsure: 3 });
    const { problem, cause, names } = columns('line', 3);
    expect(names).toEqual(['Time', 'Temp', 'Flow', LABEL_COLUMNS.problem, LABEL_COLUMNS.cause]);
    expect(rowsWhere(problem, 1)).toEqual([...range(300, 310), ...range(500, 503)]);
    expect(rowsWhere(problem, 0)).toEqual(range(900, 905));
    expect(cause[501]).toBe('Cooling fan');
    expect(cause[901]).toBe('Normal operation');
    const from = (findVersion(core.ws.db, 'line', 3).settings as { labelsFrom: { version: number } }).labelsFrom;
    expect(from.version).toBe(2);
    // The same answers again: the version that holds them, nothing new.
    const again = await call('feedback.addToData', { model: 'L-1' });
    expect(again.version).toBe(3);
    expect(again.sentence).toMatch(/^line version 3 already holds these answers/);
  });

  it('shows the answers in the lineage of a model trained on the labelled version', async () => {
    await trainModel(core, call, { dataset: 'line', version: 3, task: 'anomaly', labelColumn: LABEL_COLUMNS.problem, inputs: ['Temp', 'Flow'], algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'L-1' });
    const lineage = modelLineage(core.ws, new DatasetReader(core.ws), { model: 'L-1', version: 2 });
    const answers = lineage.nodes.find((n) => n.id.startsWith('answers:'))!;
    expect(answers.title).toBe('Answers to 4 episodes');
    expect(lineage.edges).toContainEqual({ from: answers.id, to: lineage.nodes.find((n) => n.kind === 'dataset' && n.title === 'line version 3')!.id });
    expect(lineage.nodes.some((n) => n.kind === 'dataset' && n.title === 'line version 2')).toBe(true);
  }, 60_000);

  it('says which dataset cannot take the answers, and why', async () => {
    await importCsv(core, call, writeLineCsv(root, 200, [], 'later.csv'), 'later', {});
    // "later" holds the first 200 rows' times only: the answered episodes lie after it.
    await expect(call('feedback.addToData', { model: 'L-1', dataset: 'later' })).rejects.toThrow(
      /^None of the 5 answered episodes of "L-1" falls within the time range of dataset later@1 \(2024-01-01 00:00 – 2024-01-01 16:35\)\. Import the data/,
    );
    fs.writeFileSync(path.join(root, 'plain.csv'), 'Temp,Flow\n1,2\n3,4\n');
    await importCsv(core, call, path.join(root, 'plain.csv'), 'plain');
    await expect(call('feedback.addToData', { model: 'L-1', dataset: 'plain' })).rejects.toThrow(/^Dataset plain@1 has no time column/);
  });
});

describe('event times read as the training dataset reads its time column', () => {
  // A historian export in day-first local time (Europe/Berlin, UTC+1 in January), as the import reads it.
  const BERLIN = Date.parse('2024-01-10T00:00:00+01:00');
  const text = (i: number) => {
    const d = new Date(BERLIN + i * STEP + 3_600_000).toISOString();
    return `${d.slice(8, 10)}.${d.slice(5, 7)}.${d.slice(0, 4)} ${d.slice(11, 19)}`;
  };

  it('an episode from the edge covers the same rows the answers then label (day-first text, a zone other than UTC)', async () => {
    const lines = ['Zeit,Temp'];
    for (let i = 0; i < 600; i++) lines.push(`${text(i)},${(60 + Math.sin(i / 9) + (i >= 300 && i <= 310 ? 25 : 0)).toFixed(2)}`);
    fs.writeFileSync(path.join(root, 'de.csv'), lines.join('\n') + '\n');
    await importCsv(core, call, path.join(root, 'de.csv'), 'line-de', { timeColumn: 'Zeit', timeFormat: 'dmy', timeZone: 'Europe/Berlin' });
    await trainModel(core, call, { dataset: 'line-de', task: 'anomaly', algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'L-DE' });
    core.ws.db.prepare("INSERT INTO endpoints (name, kind, url, added_at, added_by) VALUES ('line-de-1', 'remote', 'http://127.0.0.1:1', '2024-03-01T00:00:00.000Z', 'ana')").run();
    const ins = core.ws.db.prepare("INSERT INTO monitor_events (endpoint, seq, time, received_at, source, model, version, score, inputs, flagged) VALUES ('line-de-1', ?, ?, '2026-01-01T00:00:00.000Z', 'default', 'L-DE', '1', 0.9, '{\"Temp\":85}', 1)");
    // The edge passes the row's own time through as the client sent it: the same text as the export.
    for (let i = 300; i <= 310; i++) ins.run(i, text(i));
    await core.feedback.scan();
    const [ep] = await core.feedback.list({ model: 'L-DE' });
    expect([ep!.start, ep!.end]).toEqual([new Date(BERLIN + 300 * STEP).toISOString(), new Date(BERLIN + 310 * STEP).toISOString()]);
    await core.feedback.answer({ id: ep!.id, verdict: 'real', cause: 'Fan' });
    const r = await call('feedback.addToData', { model: 'L-DE' });
    expect(rowsWhere(columns('line-de', r.version).problem, 1)).toEqual(range(300, 310));
  }, 120_000);

  it('with an endpoint, only the answers from that endpoint label the rows (one model serving two machines)', async () => {
    // The same model on a second machine: a stretch there answered normal, at times inside line-de's range.
    const iso = (i: number) => new Date(BERLIN + i * STEP).toISOString();
    core.ws.db
      .prepare("INSERT INTO episodes (origin, endpoint, model, version, start_at, end_at, rows, peak_score, created_at, updated_at, verdict, answered_by, answered_at) VALUES ('endpoint', 'line-de-2', 'L-DE', 1, ?, ?, 6, 0.8, ?, ?, 'normal', 'ana', ?)")
      .run(iso(400), iso(405), iso(0), iso(0), iso(0));
    const one = await call('feedback.addToData', { model: 'L-DE', endpoint: 'line-de-1' });
    expect(rowsWhere(columns('line-de', one.version).problem, 0)).toEqual([]);
    expect(one.sentence).toMatch(/^line-de version 2 already holds these answers: 1 answered episode from line-de-1 mark 11 rows as a real problem and 0 rows as normal operation/);
    const all = await call('feedback.addToData', { model: 'L-DE' });
    expect(rowsWhere(columns('line-de', all.version).problem, 0)).toEqual(range(400, 405));
    await expect(call('feedback.addToData', { model: 'L-DE', endpoint: 'line-de-9' })).rejects.toThrow(/^No episode of "L-DE" from endpoint "line-de-9" has been answered yet\./);
  });
});
