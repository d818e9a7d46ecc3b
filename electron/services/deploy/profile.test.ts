import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prediction } from '../../../shared/scoring';
import { coreCaller, importCsv, trainModel } from '../../test-support/core-call';
import { createCore, type Core } from '../compose';
import { findModelVersion } from '../training/models';
import { categoryProfile, numericBin, numericProfile, trainingProfile, type InputProfile, type TrainingProfile } from './profile';

/** Runs a Python script (numpy) with JSON on stdin and returns its JSON. */
function python<T>(script: string, input: unknown): T {
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** numpy's deciles (np.quantile, linear), duplicates removed, counts by np.searchsorted(side='left'). */
const NUMPY_BINS = `
import json, sys, math
import numpy as np
def bins(values):
    x = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    present = x[~np.isnan(x)]
    finite = present[np.isfinite(present)]
    edges = np.unique(np.quantile(finite, np.arange(1, 10) / 10)) if finite.size else np.array([])
    b = np.searchsorted(edges, present, side='left')
    counts = np.bincount(b, minlength=edges.size + 1)
    fin = np.isfinite(present)
    sums = np.bincount(b[fin], weights=present[fin], minlength=edges.size + 1)
    nfin = np.bincount(b[fin], minlength=edges.size + 1)
    means = [float(s / n) if n else None for s, n in zip(sums, nfin)]
    return {'edges': edges.tolist(), 'counts': counts.tolist(), 'missing': int(np.isnan(x).sum()), 'means': means, 'std': float(np.std(finite)) if finite.size else 0.0}
`;

const enc = (v: number) => (Number.isNaN(v) ? null : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v);

describe('numeric and category bins', () => {
  it('are numpy deciles with duplicates removed, and numpy bin counts', () => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const cases: number[][] = [
      Array.from({ length: 1000 }, () => rnd() * 100 - 20),
      Array.from({ length: 301 }, () => Math.round(rnd() * 4)), // many ties: fewer than 9 edges
      Array.from({ length: 57 }, (_, i) => (i % 9 === 0 ? NaN : i % 13 === 0 ? Infinity : i % 17 === 0 ? -Infinity : rnd() * 1e6)),
      [5, 5, 5, 5],
      [NaN, NaN],
      [1.5],
    ];
    const theirs = python<{ edges: number[]; counts: number[]; missing: number; means: (number | null)[]; std: number }[]>(
      `${NUMPY_BINS}\ncases = json.load(sys.stdin)\nprint(json.dumps([bins([float(v) if isinstance(v, str) else v for v in c]) for c in cases]))`,
      cases.map((c) => c.map(enc)),
    );
    cases.forEach((c, k) => {
      const ours = numericProfile('x', c) as Extract<InputProfile, { kind: 'numeric' }>;
      expect(ours.edges, `case ${k}`).toEqual(theirs[k]!.edges);
      expect(ours.counts, `case ${k}`).toEqual(theirs[k]!.counts);
      expect(ours.missing, `case ${k}`).toBe(theirs[k]!.missing);
      // Per-bin means: numpy's bincount adds in the same order, so the same doubles.
      expect(ours.means, `case ${k}`).toEqual(theirs[k]!.means);
      expect(ours.std, `case ${k}`).toBeCloseTo(theirs[k]!.std, 9);
      expect(Math.abs(ours.std! - theirs[k]!.std)).toBeLessThanOrEqual(1e-12 * Math.max(1, theirs[k]!.std));
      expect(ours.edges.length).toBeLessThanOrEqual(9);
      expect(ours.counts.reduce((a, b) => a + b, 0) + ours.missing).toBe(c.length);
    });
    expect((numericProfile('x', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) as { edges: number[] }).edges).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('puts a value on an edge in the bin below it, and ±Infinity at the ends', () => {
    const edges = [1, 2, 3];
    expect([0.5, 1, 1.5, 2, 3, 3.01, -Infinity, Infinity].map((x) => numericBin(edges, x))).toEqual([0, 0, 1, 1, 2, 3, 0, 3]);
  });

  it('names the 20 most frequent categories, ties in text order, and counts the rest in one bin', () => {
    const values: string[] = [];
    for (let k = 0; k < 25; k++) for (let n = 0; n < 30 - k - (k % 2); n++) values.push(`L${String(k).padStart(2, '0')}`);
    values.push('', '', '');
    const p = categoryProfile('Line', values) as Extract<InputProfile, { kind: 'category' }>;
    expect(p.categories).toHaveLength(20);
    expect(p.counts).toHaveLength(21);
    expect(p.missing).toBe(3);
    // L00 (30), then L01 and L02 (28 each: text order), ...
    expect(p.categories.slice(0, 4)).toEqual(['L00', 'L01', 'L02', 'L03']);
    expect(p.counts.slice(0, 4)).toEqual([30, 28, 28, 26]);
    expect(p.counts.reduce((a, b) => a + b, 0)).toBe(values.length - 3);
    expect(p.counts[20]).toBe(['L20', 'L21', 'L22', 'L23', 'L24'].reduce((n, l) => n + values.filter((v) => v === l).length, 0));
  });
});

let root: string;
let core: Core;
let csv: string;

const call = coreCaller(() => core);

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-profile-'));
  core = createCore({ workspaceDir: path.join(root, 'ws') });
  csv = path.join(root, 'line.csv');
  // One row a minute, written out of order; 25 lines of falling frequency, some rows without a line or a flow.
  let s = 11;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const rows: string[] = [];
  for (let i = 0; i < 1200; i++) {
    const t = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString().replace('T', ' ').slice(0, 19);
    let k = 0;
    for (let u = rnd() * 325; u > 25 - k && k < 24; k++) u -= 25 - k;
    const line = i % 37 === 0 ? '' : `L${String(k).padStart(2, '0')}`;
    const flow = i % 41 === 0 ? '' : String(Math.round(rnd() * 60 + (i % 7)));
    const temp = (20 + rnd() * 10).toFixed(3);
    const trip = Number(flow || 0) > 50 && Number(temp) > 26 ? 'yes' : 'no';
    rows.push(`${t},${line},${flow},${temp},${trip}`);
  }
  const order = rows.map((_, i) => i).sort((a, b) => ((a * 7919) % 1201) - ((b * 7919) % 1201));
  fs.writeFileSync(csv, ['Time,Line,Flow [m3/h],Temperature [C],Trip', ...order.map((i) => rows[i])].join('\n') + '\n');
  await importCsv(core, call, csv, 'line', { timeColumn: 'Time' });
  await trainModel(core, call, { dataset: 'line', task: 'binary', target: 'Trip', inputs: ['Line', 'Flow', 'Temperature'], algorithms: ['hgb'], timeBudgetSeconds: 10, model: 'trips' });
  await trainModel(core, call, { dataset: 'line', task: 'anomaly', inputs: ['Flow', 'Temperature'], algorithms: ['iforest'], timeBudgetSeconds: 10, model: 'odd' });
}, 180_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('the training profile of a model version', () => {
  it('counts the training rows (time order, the first 80% of the time range) over numpy deciles and the top categories', async () => {
    const v = findModelVersion(core.ws.db, 'trips');
    expect(v.settings.timeColumn).toBe('Time');
    const p = await trainingProfile(core.ws, v);
    const theirs = python<TrainingProfile>(
      `${NUMPY_BINS}
import csv, datetime
from collections import Counter
rows = list(csv.DictReader(open(json.load(sys.stdin))))
t = lambda r: datetime.datetime.fromisoformat(r['Time']).timestamp()
rows.sort(key=t)
t0, t1 = t(rows[0]), t(rows[-1])
cut = t0 + 0.8 * (t1 - t0)
train = [r for r in rows if t(r) < cut]
lines = Counter(r['Line'] for r in train if r['Line'] != '')
ranked = sorted(lines.items(), key=lambda kv: (-kv[1], kv[0]))
top = ranked[:20]
line = {'name': 'Line', 'kind': 'category', 'categories': [k for k, _ in top], 'counts': [n for _, n in top] + [sum(n for _, n in ranked[20:])], 'missing': sum(1 for r in train if r['Line'] == '')}
num = lambda col, name: dict(name=name, kind='numeric', **bins([float(r[col]) if r[col] != '' else None for r in train]))
print(json.dumps({'rows': len(train), 'anomalyRate': None, 'inputs': [line, num('Flow [m3/h]', 'Flow'), num('Temperature [C]', 'Temperature')]}))`,
      csv,
    );
    expect(p.rows).toBe(960);
    expect(p.anomalyRate).toBeNull();
    // The graph names its inputs in its own order; compare by name (std apart: numpy sums pairwise).
    const withoutStd = (i: InputProfile) => (i.kind === 'numeric' ? { ...i, std: undefined } : i);
    const byName = (x: TrainingProfile) => Object.fromEntries(x.inputs.map((i) => [i.name, withoutStd(i)]));
    expect(byName(p)).toEqual(byName(theirs));
    for (const input of p.inputs) {
      const their = theirs.inputs.find((i) => i.name === input.name)!;
      if (input.kind === 'numeric' && their.kind === 'numeric') expect(Math.abs(input.std! - their.std!)).toBeLessThan(1e-12 * their.std!);
    }
    const line = byName(p).Line as Extract<InputProfile, { kind: 'category' }>;
    expect(line.categories).toHaveLength(20);
    expect(line.counts.at(-1)).toBeGreaterThan(0);
    // Deterministic: the same version gives the same profile.
    expect(JSON.stringify(await trainingProfile(core.ws, v))).toBe(JSON.stringify(p));
  }, 60_000);

  it("gives an anomaly model's flag rate on its training rows", async () => {
    const v = findModelVersion(core.ws.db, 'odd');
    const p = await trainingProfile(core.ws, v);
    expect(p.inputs.map((i) => i.name).sort()).toEqual(['Flow', 'Temperature']);
    // The app's own scoring of the same training rows (time order, the first 960).
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    lines.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    const train = lines.slice(0, 960).map((c) => ({ Flow: c[2] === '' ? null : Number(c[2]), Temperature: Number(c[3]) }));
    const answers = (await call('models.predict', { model: 'odd', rows: train.slice(0, 500) })) as Prediction[];
    const rest = (await call('models.predict', { model: 'odd', rows: train.slice(500) })) as Prediction[];
    const flagged = [...answers, ...rest].filter((a) => a.anomaly).length;
    expect(flagged).toBeGreaterThan(0);
    expect(p.anomalyRate).toBe(flagged / 960);
    // Predictions by label, as the edge counts them.
    expect(p.predictions).toEqual({ anomaly: flagged, normal: 960 - flagged });
  }, 60_000);

  it("counts a classifier's predictions on its training rows by class", async () => {
    const p = await trainingProfile(core.ws, findModelVersion(core.ws.db, 'trips'));
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    lines.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    const train = lines.slice(0, 960).map((c) => ({ Line: c[1] === '' ? null : c[1]!, Flow: c[2] === '' ? null : Number(c[2]), Temperature: Number(c[3]) }));
    const answers = [...((await call('models.predict', { model: 'trips', rows: train.slice(0, 500) })) as Prediction[]), ...((await call('models.predict', { model: 'trips', rows: train.slice(500) })) as Prediction[])];
    const byClass: Record<string, number> = {};
    for (const a of answers) byClass[String(a.prediction)] = (byClass[String(a.prediction)] ?? 0) + 1;
    expect(Object.keys(byClass).length).toBeGreaterThan(1);
    expect(p.predictions).toEqual(byClass);
    expect(Object.values(p.predictions!).reduce((a, b) => a + b, 0)).toBe(960);
  }, 60_000);

  it('goes into the bundle manifest, which stays the same bytes', async () => {
    const a = await call('models.exportBundle', { model: 'trips', out: path.join(root, 'a.tar.gz') });
    const b = await call('models.exportBundle', { model: 'trips', out: path.join(root, 'b.tar.gz') });
    expect(a.sha256).toBe(b.sha256);
    const dir = path.join(root, 'unpacked');
    fs.mkdirSync(dir);
    expect(spawnSync('tar', ['-xzf', a.file, '-C', dir]).status).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { profile: TrainingProfile };
    expect(manifest.profile).toEqual(JSON.parse(JSON.stringify(await trainingProfile(core.ws, findModelVersion(core.ws.db, 'trips')))));
  }, 60_000);
});
