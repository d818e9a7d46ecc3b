/**
 * Inference benchmark (issue 5): how fast does ONNX Runtime answer for a
 * Millwright model, one row at a time and in bulk, beside the TypeScript
 * model's own predict on the same rows in the same run; and is scoring a CSV
 * file at least as fast as importing it?
 *
 * Generates (once; reused from the temp folder while its size matches) a CSV
 * of 1,000,000 rows × 20 numeric inputs and a 0/1 label. Then, in one process:
 *   1. imports the file through the app's own job (inspect, analyse, save),
 *   2. trains a 300-tree gradient-boosting model (31 leaves, learning rate 0.1,
 *      no early stopping) and a logistic model on its first 100,000 rows,
 *      records them as model versions and writes their ONNX graphs,
 *   3. single-row latency, p50 and p99 over 10,000 calls after 1,000 warm-up
 *      calls: onnxruntime-node InferenceSession.run with 20 float32 [1] inputs,
 *      beside the TypeScript pipeline on a one-row feature set,
 *   4. batch throughput over all 1,000,000 rows already in memory: ONNX Runtime
 *      in blocks of 16,384 rows, beside the TypeScript pipeline,
 *   5. scores the CSV file through the app's own job (read, ONNX Runtime,
 *      write the file with prediction columns), with each model, and
 *      compares with step 1,
 *   6. the peer (bench/lib/score_peer.py): pandas reads the same file,
 *      scikit-learn and XGBoost (300 trees, 31 leaves) and LogisticRegression
 *      predict every row, pandas writes it out with the prediction columns.
 * Times are medians of BENCH_RUNS runs (default 3; 1 for the file jobs when
 * BENCH_FAST=1). Targets: boosting single-row p50 < 50 µs; scoring the CSV
 * no slower than importing it.
 *
 *   npm run bench infer
 *   BENCH_ROWS=200000 BENCH_RUNS=1 npx tsx bench/infer.ts
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { ColumnData } from '../shared/datasets';
import type { TrainSettings } from '../shared/training';
import { createCore, type Core } from '../electron/services/compose';
import { exportOnnx, packedSignature } from '../electron/services/onnx/export';
import { scoreColumns } from '../electron/services/scoring/inference';
import { modelOnnx } from '../electron/services/scoring/onnx-store';
import { trainAutoml, type Candidate } from '../electron/services/training/automl';
import { buildFeatures } from '../electron/services/training/features';
import { frameFromColumns, type Frame } from '../electron/services/training/frame';
import { recordModelVersion } from '../electron/services/training/models';
import { predictFeatures, type FittedPipeline } from '../electron/services/training/pipeline';
import { buildReport } from '../electron/services/training/report';
import { envInt, log, median, rng, round, sensorRow, sensorValue } from './lib/common';
import { generatedFiles } from './lib/generated-files';

const ROWS = envInt('BENCH_ROWS', 1_000_000, 1000, 20_000_000);
const RUNS = envInt('BENCH_RUNS', 3, 1, 20);
const TRAIN_ROWS = Math.min(100_000, ROWS);
const INPUTS = 20;
const LATENCY_CALLS = 10_000;
const WARMUP = 1_000;
const GENERATOR_VERSION = 1;
const TARGETS = { hgbSingleRowP50MaxUs: 50, scoreVsImportRatioMax: 1 };
const NAMES = Array.from({ length: INPUTS }, (_, j) => `s${String(j + 1).padStart(2, '0')}`);




function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}



/** Twenty sensor-like columns (a few carry the signal, with interactions) and a 0/1 label; 1% missing in two columns. */
function generate(file: string): void {
  const rand = rng(20251126);
  const fd = fs.openSync(`${file}.part`, 'w');
  fs.writeSync(fd, `${NAMES.join(',')},failure\n`);
  const z = new Float64Array(INPUTS);
  let out = '';
  for (let r = 0; r < ROWS; r++) {
    const y = sensorRow(rand, z);
    let line = '';
    for (let j = 0; j < INPUTS; j++) {
      const v = sensorValue(j, z[j]!);
      line += (j === 7 || j === 13) && rand() < 0.01 ? ',' : `${v.toFixed(4)},`;
    }
    out += `${line}${y}\n`;
    if (out.length > 1 << 20) {
      fs.writeSync(fd, out);
      out = '';
    }
  }
  fs.writeSync(fd, out);
  fs.closeSync(fd);
  fs.renameSync(`${file}.part`, file);
}

async function waitJob(core: Core, id: string): Promise<unknown> {
  const done = await core.jobs.wait(id);
  if (done.state !== 'done') throw new Error(`job ${done.kind} ended ${done.state}: ${done.error?.message}`);
  return done.result;
}

async function call<T>(core: Core, name: string, arg: unknown): Promise<T> {
  const r = await core.call(name, arg);
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.value as T;
}

async function importOnce(core: Core, file: string, name: string): Promise<number> {
  const t0 = performance.now();
  const inspected = await call<{ settings: unknown }>(core, 'imports.inspect', { paths: [file] });
  const job = await call<{ id: string }>(core, 'imports.analyze', { paths: [file], settings: inspected.settings, save: { name } });
  await waitJob(core, job.id);
  return (performance.now() - t0) / 1000;
}

function sliceFrame(columns: Map<string, ColumnData>, rows: number, schema: Frame['schema']): Frame {
  const cut = new Map<string, ColumnData>();
  for (const [k, c] of columns) cut.set(k, 'codes' in c ? { ...c, codes: c.codes.slice(0, rows) } : ({ type: c.type, values: c.values.slice(0, rows) } as ColumnData));
  return frameFromColumns(cut, schema, rows, null);
}

function fit(frame: Frame, cand: Candidate): { pipeline: FittedPipeline; outcome: ReturnType<typeof trainAutoml>; settings: TrainSettings } {
  const settings: TrainSettings = { task: 'binary', target: 'failure', labelColumn: null, inputs: NAMES, timeColumn: null, windowMinutes: null, lags: [], holdoutFraction: 0.2, timeBudgetSeconds: 1800, seed: 0, algorithms: [] };
  const outcome = trainAutoml(frame, settings, { progress: () => undefined, throwIfCancelled: () => undefined, now: () => performance.now() }, { candidates: [cand] });
  return { pipeline: outcome.pipeline, outcome, settings };
}

/** Single-row latency in µs: ORT session.run with one row, and the TypeScript pipeline on one row. */
async function latency(
  session: ort.InferenceSession,
  packedSession: ort.InferenceSession,
  pipeline: FittedPipeline,
  columns: Map<string, ColumnData>,
): Promise<{ onnx_packed: { p50_us: number; p99_us: number }; onnx: { p50_us: number; p99_us: number }; typescript: { p50_us: number; p99_us: number } }> {
  const num = (name: string) => (columns.get(name) as { values: Float64Array }).values;
  const packedName = packedSignature(pipeline).packed!.name;
  const time = async (s: ort.InferenceSession, feedsOf: (row: number) => Record<string, ort.Tensor>) => {
    const times = new Float64Array(LATENCY_CALLS);
    for (let k = 0; k < WARMUP + LATENCY_CALLS; k++) {
      const feeds = feedsOf((k * 7919) % ROWS);
      const t0 = performance.now();
      await s.run(feeds);
      const t1 = performance.now();
      if (k >= WARMUP) times[k - WARMUP] = (t1 - t0) * 1000;
    }
    return times.sort();
  };
  const ortTimes = await time(session, (row) => Object.fromEntries(NAMES.map((name) => [name, new ort.Tensor('float32', Float32Array.of(num(name)[row]!), [1])])));
  const packedTimes = await time(packedSession, (row) => ({ [packedName]: new ort.Tensor('float32', Float32Array.from(NAMES, (name) => num(name)[row]!), [1, NAMES.length]) }));
  const tsTimes = new Float64Array(LATENCY_CALLS);
  for (let k = 0; k < WARMUP + LATENCY_CALLS; k++) {
    const row = (k * 7919) % ROWS;
    const t0 = performance.now();
    const x = { rows: 1, columns: NAMES.map((n) => Float64Array.of(num(n)[row]!)), names: NAMES };
    predictFeatures(pipeline, x);
    const t1 = performance.now();
    if (k >= WARMUP) tsTimes[k - WARMUP] = (t1 - t0) * 1000;
  }
  tsTimes.sort();
  return {
    onnx_packed: { p50_us: round(percentile(packedTimes, 0.5), 1), p99_us: round(percentile(packedTimes, 0.99), 1) },
    onnx: { p50_us: round(percentile(ortTimes, 0.5), 1), p99_us: round(percentile(ortTimes, 0.99), 1) },
    typescript: { p50_us: round(percentile(tsTimes, 0.5), 1), p99_us: round(percentile(tsTimes, 0.99), 1) },
  };
}

/**
 * What onnxruntime-node itself costs per call: p50 of a graph that only adds
 * its inputs (one Sum), with 1 and with 20 float32 [1] inputs. The difference
 * is the binding's price per named input, paid by any 20-input model.
 */
async function bindingFloor(): Promise<{ one_input_p50_us: number; twenty_inputs_p50_us: number }> {
  const graph = (n: number) => {
    const names = Array.from({ length: n }, (_, i) => `x${i}`);
    const type = { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }] } } };
    return onnx.ModelProto.encode(onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: onnx.GraphProto.create({ name: 'floor', node: [onnx.NodeProto.create({ opType: 'Sum', input: names, output: ['y'] })], input: names.map((name) => ({ name, type })), output: [{ name: 'y', type }] }),
    })).finish();
  };
  const p50 = async (n: number) => {
    const session = await ort.InferenceSession.create(graph(n), { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const feeds: Record<string, ort.Tensor> = {};
    for (let i = 0; i < n; i++) feeds[`x${i}`] = new ort.Tensor('float32', Float32Array.of(1), [1]);
    const times = new Float64Array(LATENCY_CALLS);
    for (let k = 0; k < WARMUP + LATENCY_CALLS; k++) {
      const t0 = performance.now();
      await session.run(feeds);
      if (k >= WARMUP) times[k - WARMUP] = (performance.now() - t0) * 1000;
    }
    await session.release();
    return round(percentile(times.sort(), 0.5), 1);
  };
  return { one_input_p50_us: await p50(1), twenty_inputs_p50_us: await p50(INPUTS) };
}

/** Rows per second over every row in memory: ORT in blocks, and the TypeScript pipeline (features + predict). */
async function throughput(session: ort.InferenceSession, stored: ReturnType<typeof modelOnnx>, frame: Frame): Promise<{ onnx_rows_per_s: number; typescript_rows_per_s: number; max_abs_diff: number }> {
  const onnxRuns: number[] = [];
  const tsRuns: number[] = [];
  let p1 = new Float32Array(0);
  let ts: Float64Array = new Float64Array(0);
  for (let r = 0; r < RUNS; r++) {
    const got = new Float32Array(frame.rows);
    const t0 = performance.now();
    await scoreColumns(session, stored.signature, frame.columns, frame.rows, (b, start) => {
      for (let i = 0; i < b.rows; i++) got[start + i] = b.probabilities![i * 2 + 1]!;
    });
    onnxRuns.push((performance.now() - t0) / 1000);
    p1 = got;
    const t1 = performance.now();
    const pred = predictFeatures(stored.pipeline, buildFeatures(stored.pipeline.plan, frame));
    tsRuns.push((performance.now() - t1) / 1000);
    ts = pred.proba!;
  }
  let maxDiff = 0;
  for (let i = 0; i < frame.rows; i++) maxDiff = Math.max(maxDiff, Math.abs(p1[i]! - ts[i * 2 + 1]!));
  return { onnx_rows_per_s: Math.round(frame.rows / median(onnxRuns)), typescript_rows_per_s: Math.round(frame.rows / median(tsRuns)), max_abs_diff: maxDiff };
}

/** The peer's figures for scoring the same file (bench/lib/score_peer.py), or why there are none. */
function scorePeer(csv: string): unknown {
  log('peer: pandas, scikit-learn and XGBoost scoring the same file …');
  const py = spawnSync('/usr/bin/python3', [path.join(__dirname, 'lib', 'score_peer.py'), csv, '--target', 'failure', '--train-rows', String(TRAIN_ROWS), '--runs', String(RUNS)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (py.status !== 0) return { skipped: `score_peer.py did not run (apt-get install python3-sklearn python3-pandas python3-xgboost): ${(py.stderr || String(py.error)).trim().split('\n').at(-1)}` };
  const peer = JSON.parse(py.stdout) as { models: Record<string, { score_s: number; score_vs_read: number }> };
  log(`peer: ${Object.entries(peer.models).map(([k, m]) => `${k} ${m.score_s.toFixed(2)} s (${m.score_vs_read.toFixed(1)}× reading)`).join(', ')}`);
  return peer;
}

async function main(): Promise<void> {
  const { csv } = generatedFiles(`millwright-bench-infer-v${GENERATOR_VERSION}-${ROWS}`, { csv: '.csv' }, (f) => generate(f.csv), log);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-bench-infer-'));
  const core = createCore({ workspaceDir: path.join(root, 'ws') });
  try {
    const importRuns: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      importRuns.push(await importOnce(core, csv, r === 0 ? 'sensors' : `sensors-${r}`));
      log(`import ${r + 1}/${RUNS}: ${importRuns.at(-1)!.toFixed(2)} s`);
    }
    const dv = core.ws.db.prepare("SELECT dv.id, dv.schema, dv.row_count FROM dataset_versions dv JOIN datasets d ON d.id = dv.dataset_id WHERE d.name = 'sensors'").get() as { id: number; schema: string; row_count: number };
    const schema = JSON.parse(dv.schema) as Frame['schema'];
    const { loadFrame } = await import('../electron/services/training/frame');
    const full = loadFrame(core.ws.blobs, schema, dv.row_count, [...NAMES, 'failure'], null);
    const trainFrame = sliceFrame(full.columns, TRAIN_ROWS, schema);
    const models: Record<string, unknown> = {};
    const cands: Record<string, Candidate> = {
      hgb: { algorithm: 'hgb', params: { maxIter: 300, learningRate: 0.1, maxLeafNodes: 31, minSamplesLeaf: 20, l2: 0, balanced: false, earlyStopping: false } },
      logistic: { algorithm: 'logistic', params: { C: 1 } },
    };
    const modelNames: Record<string, string> = {};
    for (const [name, cand] of Object.entries(cands)) {
      log(`fitting ${name} on ${TRAIN_ROWS.toLocaleString('en-US')} rows …`);
      const t0 = performance.now();
      const { pipeline, outcome, settings } = fit(trainFrame, cand);
      const fitS = (performance.now() - t0) / 1000;
      const report = buildReport(outcome, trainFrame, settings);
      const json = JSON.stringify(pipeline);
      const v = recordModelVersion(core.ws, {
        modelName: `bench ${name}`, task: 'binary', datasetVersionId: dv.id, jobId: null, settings: { ...settings, metric: outcome.metric, holdout: report.holdout },
        appVersion: core.version, startedAt: new Date().toISOString(), endedAt: new Date().toISOString(), durationSeconds: fitS,
        leaderboard: outcome.leaderboard, algorithm: cand.algorithm, metrics: outcome.metrics, modelBlob: core.ws.blobs.put(json), modelHash: '-', reportBlob: core.ws.blobs.put(JSON.stringify(report)),
      });
      const stored = modelOnnx(core.ws, v);
      modelNames[name] = v.model;
      const trees = pipeline.learner.kind === 'hgb' ? pipeline.learner.trees.length : 0;
      log(`${name}: fit ${fitS.toFixed(1)} s${trees ? `, ${trees} trees` : ''}, ONNX ${(stored.bytes.length / 1024).toFixed(0)} KiB`);
      const session = await ort.InferenceSession.create(stored.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      const packedSession = await ort.InferenceSession.create(exportOnnx(pipeline, { modelName: v.model, modelVersion: v.version, appVersion: v.appVersion }, { packed: true }), { intraOpNumThreads: 1, interOpNumThreads: 1 });
      const lat = await latency(session, packedSession, pipeline, full.columns);
      await packedSession.release();
      log(`${name}: single row p50 ${lat.onnx_packed.p50_us} µs packed, ${lat.onnx.p50_us} µs with named inputs (TypeScript ${lat.typescript.p50_us} µs)`);
      const thr = await throughput(session, stored, full);
      log(`${name}: ${thr.onnx_rows_per_s.toLocaleString('en-US')} rows/s (TypeScript ${thr.typescript_rows_per_s.toLocaleString('en-US')} rows/s)`);
      await session.release();
      models[name] = { fit_s: round(fitS), trees: trees || undefined, onnx_bytes: stored.bytes.length, holdout_roc_auc: round(outcome.metrics.roc_auc ?? NaN, 4), single_row: lat, batch_1m: { rows: full.rows, ...thr } };
    }
    const floor = await bindingFloor();
    log(`onnxruntime-node alone: ${floor.one_input_p50_us} µs per call with 1 input, ${floor.twenty_inputs_p50_us} µs with ${INPUTS}`);
    const scoreRuns: Record<string, number[]> = {};
    for (const name of Object.keys(cands)) {
      scoreRuns[name] = [];
      for (let r = 0; r < RUNS; r++) {
        const out = path.join(root, `scored-${r}.csv`);
        const t0 = performance.now();
        const job = await call<{ id: string }>(core, 'models.score', { model: modelNames[name], file: csv, out });
        await waitJob(core, job.id);
        scoreRuns[name].push((performance.now() - t0) / 1000);
        log(`score file with ${name} ${r + 1}/${RUNS}: ${scoreRuns[name].at(-1)!.toFixed(2)} s (${(fs.statSync(out).size / 1e6).toFixed(0)} MB written)`);
        fs.rmSync(out);
      }
    }
    const importS = median(importRuns);
    const scoreS = median(scoreRuns.hgb!);
    const logisticScoreS = median(scoreRuns.logistic!);
    const peer = scorePeer(csv);
    const hgb = models.hgb as { single_row: { onnx_packed: { p50_us: number } } };
    const targets = {
      hgb_single_row_p50_us: { value: hgb.single_row.onnx_packed.p50_us, max: TARGETS.hgbSingleRowP50MaxUs, pass: hgb.single_row.onnx_packed.p50_us < TARGETS.hgbSingleRowP50MaxUs },
      score_csv_vs_import_ratio: { value: round(scoreS / importS), max: TARGETS.scoreVsImportRatioMax, pass: scoreS / importS <= TARGETS.scoreVsImportRatioMax },
      score_csv_vs_import_ratio_logistic: { value: round(logisticScoreS / importS), max: TARGETS.scoreVsImportRatioMax, pass: logisticScoreS / importS <= TARGETS.scoreVsImportRatioMax },
    };
    const cpus = os.cpus();
    const out = {
      benchmark: 'infer',
      machine: { cores: cpus.length, cpu: cpus[0]?.model ?? 'unknown', node: process.version, onnxruntime: (ort.env.versions as { node?: string } | undefined)?.node ?? 'onnxruntime-node', load_1m: round(os.loadavg()[0]!, 2) },
      rows: ROWS,
      inputs: INPUTS,
      runs: RUNS,
      models,
      onnxruntime_node_floor: floor,
      csv_file: {
        file: csv,
        bytes: fs.statSync(csv).size,
        import_s: round(importS),
        score_s: round(scoreS),
        score_s_logistic: round(logisticScoreS),
        import_runs: importRuns.map((x) => round(x)),
        score_runs: Object.fromEntries(Object.entries(scoreRuns).map(([k, xs]) => [k, xs.map((x) => round(x))])),
      },
      peer,
      targets,
      pass: Object.values(targets).every((t) => t.pass),
      notes: [
        'Single-row latency is one InferenceSession.run call, intra-op threads 1, in this process: onnx_packed on the graph the app runs in process (the 20 numbers in one float32 [1, 20] tensor; the target is checked on it), onnx on the exported graph with 20 named float32 [1] tensors; the TypeScript figure is predictFeatures on a one-row feature set.',
        `onnxruntime_node_floor: the same call on a graph that only adds its inputs; the binding costs about ${round((floor.twenty_inputs_p50_us - floor.one_input_p50_us) / (INPUTS - 1), 1)} µs per named input, so a model with ${INPUTS} named inputs cannot answer one row faster than ${floor.twenty_inputs_p50_us} µs through onnxruntime-node on this machine.`,
        'import_s is the app\'s whole import (inspect, analyse and save as a dataset version); score_s is the app\'s whole scoring job (read the file, ONNX Runtime, write it out with prediction columns), with the 300-tree model; score_s_logistic the same with the logistic model.',
        'peer (bench/lib/score_peer.py): the same file scored by pandas.read_csv, predict_proba on every row (scikit-learn\'s HistGradientBoostingClassifier and XGBoost with the same 300 trees and 31 leaves, and LogisticRegression), and pandas.to_csv with the prediction columns, on all cores; score_vs_read is that whole over reading alone, the peer\'s side of score_csv_vs_import_ratio.',
      ],
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    await core.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`[bench] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
