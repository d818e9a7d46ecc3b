/**
 * Import benchmark: how fast does Millwright read a large plant export into
 * typed columns, and how much memory does it take, next to pandas.read_csv on
 * the same file in the same run?
 *
 * Generates (once; reused from the temp folder while its size matches) a CSV
 * of 1,000,000 rows: an ISO timestamp at 1 s steps and 20 numeric columns with
 * about six significant digits, some negative; and a copy with ';' between
 * values and decimal commas. Each Millwright run is a fresh child process
 * (sniffFile + readDelimited), so its peak RSS is its own: sampled every 50 ms
 * and checked against the kernel's high-water mark (VmHWM). Medians of 3 runs.
 *
 * pandas runs via /usr/bin/python3 /work/shared/baselines/peer.py read-csv,
 * which takes no options: on the ';' file it reads pandas' default dialect
 * (one text column), reported for completeness only.
 *
 * Prints one JSON object on stdout; progress goes to stderr. Exits 0 even when
 * a target is missed ("pass": false); exits 1 only if the benchmark itself
 * could not run.
 *
 *   npx tsx bench/import.ts
 *   BENCH_ROWS=200000 BENCH_RUNS=1 npx tsx bench/import.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ColumnData } from '../shared/datasets';
import { envInt, log, median, rng, round } from './lib/common';
import { generatedFiles } from './lib/generated-files';

const ROWS = envInt('BENCH_ROWS', 1_000_000, 1000, 50_000_000);
const RUNS = envInt('BENCH_RUNS', 3, 1, 20);
const NUMERIC_COLUMNS = 20;
const GENERATOR_VERSION = 1;
const PEER = '/work/shared/baselines/peer.py';
const PYTHON = '/usr/bin/python3';
const TARGETS = { secondsRatioMax: 1, peakOverTypedMax: 3 };





// ---------------------------------------------------------------------------
// Data


function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Writes both files; returns their sizes. Deterministic, so a sidecar records the sizes to check reuse. */
function generate(plain: string, comma: string): void {
  const rand = rng(20240301);
  const a = fs.openSync(`${plain}.part`, 'w');
  const b = fs.openSync(`${comma}.part`, 'w');
  const names = Array.from({ length: NUMERIC_COLUMNS }, (_, j) => `Sensor ${j + 1} [${['°C', 'bar', 'm3/h', 'rpm', 'kW'][j % 5]}]`);
  fs.writeSync(a, `timestamp,${names.join(',')}\n`);
  fs.writeSync(b, `timestamp;${names.join(';')}\n`);
  // Each column has its own scale and sign pattern, like real tags.
  const scales = Array.from({ length: NUMERIC_COLUMNS }, (_, j) => 10 ** ((j % 6) - 2));
  const offsets = Array.from({ length: NUMERIC_COLUMNS }, (_, j) => (j % 3 === 0 ? -0.5 : 0));
  const start = Date.UTC(2024, 0, 1);
  let outA = '';
  let outB = '';
  for (let r = 0; r < ROWS; r++) {
    const d = new Date(start + r * 1000);
    const ts = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    let lineA = ts;
    let lineB = ts;
    for (let j = 0; j < NUMERIC_COLUMNS; j++) {
      const v = (rand() + offsets[j]!) * scales[j]! * 1000;
      const s = v.toPrecision(6);
      lineA += ',' + s;
      lineB += ';' + s.replace('.', ',');
    }
    outA += lineA + '\n';
    outB += lineB + '\n';
    if (outA.length > 1 << 22) {
      fs.writeSync(a, outA);
      fs.writeSync(b, outB);
      outA = '';
      outB = '';
    }
  }
  fs.writeSync(a, outA);
  fs.writeSync(b, outB);
  fs.closeSync(a);
  fs.closeSync(b);
  fs.renameSync(`${plain}.part`, plain);
  fs.renameSync(`${comma}.part`, comma);
}

function ensureFiles(): { plain: string; comma: string } {
  return generatedFiles(`millwright-bench-import-v${GENERATOR_VERSION}-${ROWS}`, { plain: '.csv', comma: '-decimal-comma.csv' }, (f) => generate(f.plain, f.comma), log);
}

// ---------------------------------------------------------------------------
// One Millwright run (child process)

interface ChildResult {
  seconds: number;
  sniffSeconds: number;
  readSeconds: number;
  /** Seconds of saving the dataset version: column blobs, profile, version row. */
  writeSeconds: number;
  /** True when the compiled build was measured (as the app runs), false for the TypeScript sources. */
  compiled: boolean;
  rows: number;
  columns: number;
  problems: string[];
  baselineRssMB: number;
  peakRssMB: number;
  typedColumnsMB: number;
}

function typedBytes(columns: ColumnData[]): number {
  let n = 0;
  for (const c of columns) n += 'codes' in c ? c.codes.byteLength : c.values.byteLength;
  return n;
}

function vmHwmBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

type PipelineModule = typeof import('../electron/services/datasets/import/pipeline');
type SniffModule = typeof import('../electron/services/datasets/import/csv-reader');
type VersionsModule = typeof import('../electron/services/datasets/versions');
type WorkspaceModule = typeof import('../electron/services/workspace/workspace');

/**
 * The code the app runs: the compiled build (dist/, made by npm install) when
 * it exists, so worker threads start from JavaScript as they do in the app;
 * the TypeScript sources otherwise.
 */
function productModules(): { pipeline: PipelineModule; sniff: SniffModule; versions: VersionsModule; workspace: WorkspaceModule; compiled: boolean } {
  const dist = path.join(__dirname, '..', 'dist', 'electron', 'services');
  const compiled = fs.existsSync(path.join(dist, 'datasets', 'import', 'pipeline.js'));
  const base = compiled ? dist : path.join(__dirname, '..', 'electron', 'services');
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    pipeline: require(path.join(base, 'datasets', 'import', 'pipeline')) as PipelineModule,
    sniff: require(path.join(base, 'datasets', 'import', 'csv-reader')) as SniffModule,
    versions: require(path.join(base, 'datasets', 'versions')) as VersionsModule,
    workspace: require(path.join(base, 'workspace', 'workspace')) as WorkspaceModule,
    compiled,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/**
 * One import as the import job runs it, in a fresh workspace: sniff, read (the
 * source's fingerprint is taken on the other core meanwhile), then save the
 * version (column blobs, profile on the other core, the version row).
 */
async function child(file: string): Promise<void> {
  const m = productModules();
  if (global.gc) global.gc();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-bench-ws-'));
  const ws = m.workspace.Workspace.open(dir, { who: 'bench', appVersion: 'bench' });
  try {
    const t0 = performance.now();
    const sniffed = await m.sniff.sniffFile(file);
    const t1 = performance.now();
    const staged = await m.pipeline.readFiles({ paths: [file], settings: sniffed.settings }, { onProgress: sample });
    const t2 = performance.now();
    const { missing: _missing, ...version } = await m.pipeline.finish(staged, { workspaceDir: dir, name: 'bench', choices: {} }, { onProgress: sample });
    m.versions.recordVersion(ws, { ...version, datasetName: 'bench' });
    const t3 = performance.now();
    clearInterval(timer);
    sample();
    peak = Math.max(peak, vmHwmBytes());
    const result: ChildResult = {
      seconds: (t3 - t0) / 1000,
      sniffSeconds: (t1 - t0) / 1000,
      readSeconds: (t2 - t1) / 1000,
      writeSeconds: (t3 - t2) / 1000,
      rows: staged.rowCount,
      columns: staged.columns.length,
      problems: staged.problems.map((p) => `${p.kind}:${p.count}`),
      baselineRssMB: baseline / 2 ** 20,
      peakRssMB: peak / 2 ** 20,
      typedColumnsMB: typedBytes(staged.columns) / 2 ** 20,
      compiled: m.compiled,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    ws.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(file: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, __filename, '--child', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`Millwright run exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

async function millwrightRun(file: string, label: string, i: number): Promise<ChildResult> {
  const r = await runChild(file);
  log(
    `${label} run ${i + 1}: ${r.seconds.toFixed(2)} s (sniff ${r.sniffSeconds.toFixed(2)}), peak RSS ${r.peakRssMB.toFixed(0)} MB ` +
      `(baseline ${r.baselineRssMB.toFixed(0)}), typed ${r.typedColumnsMB.toFixed(0)} MB, ${r.rows} rows, problems ${r.problems.join(' ') || 'none'}`,
  );
  if (r.rows !== ROWS || r.columns !== NUMERIC_COLUMNS + 1 || r.problems.length) {
    throw new Error(`${label}: read ${r.rows} rows × ${r.columns} columns with problems [${r.problems.join(', ')}], expected ${ROWS} × ${NUMERIC_COLUMNS + 1} and none`);
  }
  return r;
}

function summarize(runs: ChildResult[]) {
  const increase = median(runs.map((r) => r.peakRssMB - r.baselineRssMB));
  const typedColumnsMB = runs[0]!.typedColumnsMB;
  return {
    seconds: round(median(runs.map((r) => r.seconds))),
    readSeconds: round(median(runs.map((r) => r.readSeconds))),
    sniffSeconds: round(median(runs.map((r) => r.sniffSeconds))),
    writeSeconds: runs[0]!.writeSeconds === null ? null : round(median(runs.map((r) => r.writeSeconds ?? 0))),
    peakRssMB: round(median(runs.map((r) => r.peakRssMB)), 1),
    baselineRssMB: round(median(runs.map((r) => r.baselineRssMB)), 1),
    peakIncreaseMB: round(increase, 1),
    typedColumnsMB: round(typedColumnsMB, 1),
    /** Peak RSS above the process's RSS before reading, over the typed columns' size. */
    peakOverTypedRatio: round(increase / typedColumnsMB),
    runs: runs.map((r) => round(r.seconds)),
  };
}

// ---------------------------------------------------------------------------
// pandas

function ensurePandas(): void {
  if (spawnSync(PYTHON, ['-c', 'import pandas'], { stdio: 'ignore' }).status === 0) return;
  log('pandas is missing: apt-get install -y python3-pandas');
  const install = () => spawnSync('apt-get', ['install', '-y', 'python3-pandas'], { stdio: ['ignore', 'ignore', 'inherit'] }).status;
  if (install() !== 0) {
    spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    install();
  }
  if (spawnSync(PYTHON, ['-c', 'import pandas'], { stdio: 'ignore' }).status !== 0) throw new Error('pandas could not be installed');
}

interface PandasRun {
  seconds: number | null;
  shape: string;
  error?: string;
}

function pandasRun(file: string, label: string, i: number): PandasRun {
  const r = spawnSync(PYTHON, [PEER, 'read-csv', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    const error = (r.stderr.trim().split('\n').pop() ?? '').slice(0, 300);
    log(`${label} run ${i + 1} failed: ${error}`);
    return { seconds: null, shape: '', error };
  }
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; rows: number; columns: number };
  const shape = `${j.rows} × ${j.columns}`;
  log(`${label} run ${i + 1}: ${j.seconds.toFixed(2)} s (${shape})`);
  return { seconds: j.seconds, shape };
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const { plain, comma } = ensureFiles();
  ensurePandas();
  // Rounds interleave Millwright and pandas, so both meet the same machine load.
  const mwRuns: ChildResult[] = [];
  const mwCommaRuns: ChildResult[] = [];
  const pdRuns: PandasRun[] = [];
  const pdCommaRuns: PandasRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    mwRuns.push(await millwrightRun(plain, 'millwright', i));
    pdRuns.push(pandasRun(plain, 'pandas', i));
    mwCommaRuns.push(await millwrightRun(comma, 'millwright decimal comma', i));
    if (pdCommaRuns.every((r) => r.seconds !== null)) pdCommaRuns.push(pandasRun(comma, 'pandas on the decimal-comma file', i));
  }
  const failed = pdRuns.find((r) => r.seconds === null);
  if (failed) throw new Error(`pandas could not read ${plain}: ${failed.error}`);
  const mw = summarize(mwRuns);
  const mwComma = summarize(mwCommaRuns);
  const pd = { seconds: round(median(pdRuns.map((r) => r.seconds!))), runs: pdRuns.map((r) => round(r.seconds!)) };
  const pdCommaFailed = pdCommaRuns.find((r) => r.seconds === null);
  const ratio = mw.seconds / pd.seconds;
  const pass = ratio <= TARGETS.secondsRatioMax && mw.peakOverTypedRatio <= TARGETS.peakOverTypedMax && mwComma.peakOverTypedRatio <= TARGETS.peakOverTypedMax;
  const out = {
    benchmark: 'import',
    rows: ROWS,
    columns: NUMERIC_COLUMNS + 1,
    fileBytes: fs.statSync(plain).size,
    fileBytesDecimalComma: fs.statSync(comma).size,
    runs: RUNS,
    machine: { cpus: os.cpus().length, node: process.version },
    millwright: mw,
    millwright_decimal_comma: mwComma,
    pandas: pd,
    pandas_decimal_comma: pdCommaFailed
      ? {
          seconds: null,
          error: pdCommaFailed.error,
          note: "peer.py read-csv takes no options (no sep=';', decimal=','); with its default dialect pandas cannot read this file",
        }
      : {
          seconds: round(median(pdCommaRuns.map((r) => r.seconds!))),
          runs: pdCommaRuns.map((r) => round(r.seconds!)),
          note: `peer.py read-csv takes no options, so pandas read the ';' file with its default dialect (${pdCommaRuns[0]?.shape}), not as numbers`,
        },
    ratio: round(ratio),
    ratio_decimal_comma_vs_pandas_plain: round(mwComma.seconds / pd.seconds),
    targets: TARGETS,
    pass,
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

if (process.argv[2] === '--child') {
  child(process.argv[3]!).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
