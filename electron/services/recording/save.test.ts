import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../../shared/api';
import type { ColumnData } from '../../../shared/datasets';
import type { Tag } from '../../../shared/recording';
import { appRoot } from '../app/app-root';
import { loadColumn } from '../datasets/column-store';
import { findVersion, type VersionRecord } from '../datasets/versions';
import { JobManager } from '../jobs/job-manager';
import type { RecordingLineage, RecordingSaveParams, RecordingSaveSummary } from '../jobs/kinds/recordings-save';
import { Workspace } from '../workspace/workspace';
import { RecordingBuffer } from './buffer';

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
const TAGS: Tag[] = [
  { id: 'ns=1;s=Pump1.Flow', name: 'Flow', unit: 'm3/h' },
  { id: 'ns=1;s=Pump1.Setpoint', name: 'Setpoint' },
  { id: 'ns=1;s=Pump1.Pressure', name: 'Pressure', unit: 'bar' },
];
const SOURCE_GAP = [30_500, 35_200];
const PRESSURE_GAP = [45_500, 50_000];

let dir: string;
let ws: Workspace;
let jobs: JobManager;
let bufferDir: string;

/**
 * One minute of a pump, 09:00:00-09:00:59.7 UTC:
 * - Flow every 500 ms (values 10k and 10k+1 in second k);
 * - Setpoint by exception: 50 an hour before, 55 at 10.3 s, 60 at 40 s;
 * - Pressure at each whole second (100 + k), bad at 20-22 s, silent at 23 s;
 * - the connection lost from 30.5 s to 35.2 s (no samples), and Pressure
 *   silent from 45.5 s to 50 s with a gap mark of its own.
 */
function writeRecording(): void {
  const b = RecordingBuffer.open(bufferDir);
  const inGap = (ms: number, [a, z]: number[]) => ms >= a! && ms < z!;
  b.append({ t: T0 - 3_600_000, tag: 1, value: 50, quality: 'good' });
  for (let k = 0; k < 60; k++) {
    const at = k * 1000;
    if (!inGap(at, SOURCE_GAP) && !inGap(at, PRESSURE_GAP) && k !== 23) {
      b.append({ t: T0 + at, tag: 2, value: k >= 20 && k <= 22 ? null : 100 + k, quality: k >= 20 && k <= 22 ? 'bad' : 'good' });
    }
    if (!inGap(at + 200, SOURCE_GAP)) b.append({ t: T0 + at + 200, tag: 0, value: 10 * k, quality: 'good' });
    if (k === 10) b.append({ t: T0 + 10_300, tag: 1, value: 55, quality: 'good' });
    if (k === 30) b.gapStart(T0 + SOURCE_GAP[0]!, 'Lost the connection: the server closed it.', null);
    if (k === 35) b.gapEnd(T0 + SOURCE_GAP[1]!, null);
    if (k === 40) b.append({ t: T0 + 40_000, tag: 1, value: 60, quality: 'good' });
    if (k === 45) b.gapStart(T0 + PRESSURE_GAP[0]!, 'No value from Pump1.Pressure for 30 s.', 2);
    if (k === 50) b.gapEnd(T0 + PRESSURE_GAP[1]!, 2);
    if (!inGap(at + 700, SOURCE_GAP)) b.append({ t: T0 + at + 700, tag: 0, value: 10 * k + 1, quality: 'good' });
  }
  b.close();
}

function params(over: Partial<RecordingSaveParams> = {}): RecordingSaveParams {
  return {
    recordingId: 1,
    dir: bufferDir,
    tags: TAGS,
    from: T0,
    to: T0 + 59_700,
    intervalMs: 1000,
    aggregate: 'mean',
    name: 'Pump 1 minute',
    description: 'Two pumps on line 3.',
    source: { kind: 'opcua', url: 'opc.tcp://127.0.0.1:4840', name: 'Pump station' },
    ...over,
  };
}

async function save(p: RecordingSaveParams): Promise<JobInfo> {
  const job = jobs.start('recordings.save', p);
  return jobs.wait(job.id);
}

function column(v: VersionRecord, name: string): number[] {
  const c = v.schema.find((x) => x.name === name)!;
  return [...(loadColumn(ws.blobs, c, v.rowCount) as Extract<ColumnData, { values: Float64Array }>).values];
}

function scratchLeft(): string[] {
  const up = path.join(dir, 'tmp', 'uploads');
  return fs.existsSync(up) ? fs.readdirSync(up) : [];
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-recsave-'));
  ws = Workspace.open(dir, { who: 'ana' });
  jobs = new JobManager(ws, { appRoot: appRoot(), maxConcurrent: 1 });
  bufferDir = path.join(dir, 'recordings', '1');
  ws.db
    .prepare(
      `INSERT INTO recordings (id, name, source_id, source_name, kind, url, settings, tags, interval_ms, state, started_at, started_by)
       VALUES (1, 'Pump 1', NULL, 'Pump station', 'opcua', 'opc.tcp://127.0.0.1:4840', '{}', ?, 1000, 'stopped', ?, 'ana')`,
    )
    .run(JSON.stringify(TAGS), new Date(T0).toISOString());
  writeRecording();
});

afterAll(async () => {
  await jobs.close();
  ws.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('recordings.save', () => {
  it('saves a range as a dataset version on the grid, with values held by exception, gaps left empty and lineage', async () => {
    const job = await save(params());
    expect(job.error).toBeNull();
    expect(job.state).toBe('done');
    const summary = job.result as RecordingSaveSummary;
    expect(summary).toMatchObject({ dataset: 'Pump 1 minute', version: 1, created: true, rows: 60, rejectedRows: 0 });
    // The tags' order and units, not the pivot's alphabetical order.
    expect(summary.columns.map((c) => [c.name, c.type, c.unit])).toEqual([
      ['time', 'timestamp', null],
      ['Flow', 'number', 'm3/h'],
      ['Setpoint', 'number', null],
      ['Pressure', 'number', 'bar'],
    ]);
    expect(summary.columns.map((c) => c.missing)).toEqual([0, 4, 9, 13]);
    expect(summary.problems.map((p) => [p.kind, p.count])).toEqual([['bad_quality', 3]]);

    const v = findVersion(ws.db, 'Pump 1 minute');
    expect(v.timeColumn).toBe('time');
    expect([v.timeStart, v.timeEnd]).toEqual([T0, T0 + 59_000]);
    expect(column(v, 'time')).toEqual(Array.from({ length: 60 }, (_, k) => T0 + k * 1000));

    const flow = column(v, 'Flow');
    expect(flow[0]).toBe(0.5);
    expect(flow[29]).toBe(290.5);
    expect(flow[30]).toBe(300); // 30.7 s fell in the gap: the mean of one value
    expect(flow.slice(31, 35).every(Number.isNaN)).toBe(true); // not held into the gap
    expect(flow[35]).toBe(350.5);
    expect(flow[59]).toBe(590.5);

    const setpoint = column(v, 'Setpoint');
    expect(setpoint.slice(0, 10)).toEqual(Array(10).fill(50)); // held from an hour before the range
    expect(setpoint.slice(10, 31)).toEqual(Array(21).fill(55)); // held until the connection was lost
    expect(setpoint.slice(31, 40).every(Number.isNaN)).toBe(true); // not across the gap, nor after it until a new value
    expect(setpoint.slice(40)).toEqual(Array(20).fill(60));

    const pressure = column(v, 'Pressure');
    const missing = new Set([20, 21, 22, 23, 31, 32, 33, 34, 35, 46, 47, 48, 49]);
    pressure.forEach((x, k) => {
      if (missing.has(k)) expect(x, `Pressure at ${k} s`).toBeNaN();
      else expect(x, `Pressure at ${k} s`).toBe(100 + k);
    });

    const lineage = (v.settings as { lineage: string }).lineage;
    expect(lineage).toContain('Recorded from OPC UA server "Pump station" (opc.tcp://127.0.0.1:4840), recording 1.');
    expect(lineage).toContain('Tags: ns=1;s=Pump1.Flow as "Flow"; ns=1;s=Pump1.Setpoint as "Setpoint"; ns=1;s=Pump1.Pressure as "Pressure".');
    expect(lineage).toContain('2026-11-26T09:00:00.000Z to 2026-11-26T09:00:59.700Z), on');
    expect(lineage).toContain('on a 1 s grid with the mean of the values in each interval');
    expect(summary.lineage).toBe(lineage);
    const rec = (v.settings as { recording: RecordingLineage }).recording;
    expect(rec).toMatchObject({ id: 1, intervalMs: 1000, aggregate: 'mean', from: '2026-11-26T09:00:00.000Z', to: '2026-11-26T09:00:59.700Z', samples: 60 * 2 - 9 + 2 + (60 - 10) });
    expect(rec.tags.map((t) => t.column)).toEqual(['Flow', 'Setpoint', 'Pressure']);
    expect(v.settings).toMatchObject({ delimiter: ',', timeColumn: 'time', timeFormat: 'iso', longFormat: { tagColumn: 'tag', valueColumn: 'value', qualityColumn: 'quality', intervalMs: 1000, aggregate: 'mean' } });
    const ds = ws.db.prepare('SELECT description FROM datasets WHERE name = ?').get('Pump 1 minute') as { description: string };
    expect(ds.description).toBe('Two pumps on line 3.');

    expect(v.sources).toHaveLength(1);
    expect(v.sources[0]!.fileName).toMatch(/^Pump station \d{4}-\d\d-\d\d \d\d\.\d\d-\d\d\.\d\d\.59\.csv$/);
    expect(ws.db.prepare('SELECT * FROM recording_datasets').all()).toEqual([
      { recording_id: 1, version_id: v.id, from_at: '2026-11-26T09:00:00.000Z', to_at: '2026-11-26T09:00:59.700Z', interval_ms: 1000 },
    ]);
    expect(scratchLeft()).toEqual([]);
    const audit = ws.db.prepare("SELECT details FROM audit_log WHERE action = 'recording.save'").all() as { details: string }[];
    expect(audit.map((a) => JSON.parse(a.details) as unknown)).toEqual([expect.objectContaining({ recording: 1, dataset: 'Pump 1 minute', version: 1, created: true })]);
  }, 60_000);

  it('saving the same range again finds the same content: no new version, no second link', async () => {
    const first = findVersion(ws.db, 'Pump 1 minute');
    const job = await save(params({ description: '' }));
    expect(job.state).toBe('done');
    expect(job.result).toMatchObject({ dataset: 'Pump 1 minute', version: 1, created: false, rows: 60 });
    const again = findVersion(ws.db, 'Pump 1 minute');
    expect(again.id).toBe(first.id);
    expect(again.contentHash).toBe(first.contentHash);
    expect((ws.db.prepare('SELECT COUNT(*) AS n FROM dataset_versions').get() as { n: number }).n).toBe(1);
    expect((ws.db.prepare('SELECT COUNT(*) AS n FROM recording_datasets').get() as { n: number }).n).toBe(1);
  }, 60_000);

  it('puts a range that starts between grid times on the grid aligned down, with the last value of each interval', async () => {
    const job = await save(params({ name: 'Pump 5 s', from: T0 + 10_300, intervalMs: 5000, aggregate: 'last', description: undefined }));
    expect(job.error).toBeNull();
    const v = findVersion(ws.db, 'Pump 5 s');
    expect(v.rowCount).toBe(10);
    expect(column(v, 'time')).toEqual(Array.from({ length: 10 }, (_, k) => T0 + 10_000 + k * 5000));
    expect(column(v, 'Flow').slice(0, 5)).toEqual([141, 191, 241, 291, 300]);
    expect(column(v, 'Setpoint')[0]).toBe(55);
    expect(column(v, 'Pressure').slice(0, 3)).toEqual([114, 119, 124]);
    const lineage = (v.settings as { lineage: string }).lineage;
    expect(lineage).toContain('on a 5 s grid with the last value in each interval');
    const ds = ws.db.prepare('SELECT description FROM datasets WHERE name = ?').get('Pump 5 s') as { description: string };
    // Without words of the person's, one short sentence (the full lineage stays in the version's settings).
    expect(ds.description).toMatch(/^Recorded from OPC UA server "Pump station": 3 tags, 2026-11-26 \d\d:\d\d to \d\d:\d\d \(.+\), every 5 s\.$/);
    expect((ws.db.prepare('SELECT COUNT(*) AS n FROM recording_datasets WHERE version_id = ?').get(v.id) as { n: number }).n).toBe(1);
    expect(scratchLeft()).toEqual([]);
  }, 60_000);

  it('refuses a range without samples in words, and leaves no scratch file', async () => {
    const job = await save(params({ name: 'Nothing', from: T0 + 120_000, to: T0 + 180_000 }));
    expect(job.state).toBe('failed');
    expect(job.error?.code).toBe('bad_input');
    expect(job.error?.message).toMatch(/^The recording has no samples between \d{4}-\d\d-\d\d \d\d:02:00 and \d{4}-\d\d-\d\d \d\d:03:00 \(.+\)\. Choose a range in which it recorded values\.$/);
    expect(ws.db.prepare("SELECT 1 FROM datasets WHERE name = 'Nothing'").get()).toBeUndefined();
    expect(scratchLeft()).toEqual([]);
  }, 60_000);
});
