/**
 * Drift benchmark (issue 8): drift of 1,000,000 live rows × 20 numeric inputs
 * against a training profile in under a second, beside the same computation
 * with numpy and scipy (bench/lib/drift_peer.py) in the same run on the same
 * data.
 *
 * The profile is the app's own (deploy/profile.ts numericProfile over a
 * generated training sample of BENCH_REFERENCE_ROWS rows, default 5000, so
 * the test is the normalised Wasserstein distance; 1000 or fewer gives KS).
 * The live rows are the sensor generator's values, a quarter of the inputs
 * shifted by half a standard deviation and one in a thousand missing. Timed,
 * for all 20 inputs: binColumn (bin the raw column over the profile's edges,
 * with per-bin sums) and inputDrift (PSI and the test). The peer does the
 * same with np.searchsorted, np.bincount and scipy.stats, reading the columns
 * from float64 files before its clock starts. Times are medians of
 * BENCH_RUNS runs (default 5).
 *
 *   npx tsx bench/lib/monitor-drift.ts      prints the JSON
 *   import { benchDrift } from './lib/monitor-drift'
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { numericProfile, type NumericProfile } from '../../electron/services/deploy/profile';
import { binColumn, inputDrift } from '../../electron/services/monitor/drift';
import { envInt, log, median, rng, round, sensorValue } from './common';

const INPUTS = 20;
const TARGET_MS = 1000;

function normals(rand: () => number): () => number {
  return () => {
    let u = rand();
    while (u === 0) u = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
}

export async function benchDrift(): Promise<object> {
  const rows = envInt('BENCH_ROWS', 1_000_000, 1000, 20_000_000);
  const runs = envInt('BENCH_RUNS', 5, 1, 50);
  const referenceRows = envInt('BENCH_REFERENCE_ROWS', 5000, 50, 1_000_000);
  const normal = normals(rng(8));

  const profiles: NumericProfile[] = [];
  for (let j = 0; j < INPUTS; j++) profiles.push(numericProfile(`sensor_${j + 1}`, Float64Array.from({ length: referenceRows }, () => sensorValue(j, normal()))));
  const shifted = (j: number) => j % 4 === 0;
  log(`drift: generating ${rows} rows × ${INPUTS} inputs`);
  const columns = profiles.map((_, j) => {
    const col = new Float64Array(rows);
    for (let i = 0; i < rows; i++) col[i] = i % 1000 === 999 ? NaN : sensorValue(j, normal() + (shifted(j) ? 0.5 : 0));
    return col;
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-drift-'));
  try {
    columns.forEach((c, j) => fs.writeFileSync(path.join(dir, `col${j}.f64`), new Uint8Array(c.buffer, c.byteOffset, c.byteLength)));
    fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify({ rows, runs, referenceRows, inputs: profiles }));

    const once = () => profiles.map((p, j) => inputDrift(p, referenceRows, binColumn(p, columns[j]!), null));
    once(); // warm-up: the JIT, as the peer's imports are loaded before its clock
    const times: number[] = [];
    let drift = once();
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      drift = once();
      times.push(performance.now() - t0);
    }
    log(`drift: Millwright median ${round(median(times), 1)} ms; running the numpy/scipy peer`);

    const py = spawnSync('/usr/bin/python3', [path.join(__dirname, 'drift_peer.py'), 'bench', dir], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (py.status !== 0) throw new Error(`drift_peer.py failed: ${py.stderr}`);
    const peer = JSON.parse(py.stdout) as { medianMs: number; runsMs: number[]; results: [number, number][] };
    // Both computed the same numbers: the largest difference in PSI and in the test's statistic (KS: its p-value).
    let psiDiff = 0, statDiff = 0;
    drift.forEach((d, j) => {
      const [psi, stat] = peer.results[j]!;
      psiDiff = Math.max(psiDiff, Math.abs(d.psi! - psi));
      statDiff = Math.max(statDiff, Math.abs((d.test === 'ks' ? d.pValue! : d.statistic!) - stat));
    });

    const ms = median(times);
    const cpus = os.cpus();
    return {
      benchmark: 'monitor-drift',
      machine: { cores: cpus.length, cpu: cpus[0]?.model ?? 'unknown', node: process.version, load_1m: round(os.loadavg()[0]!, 2) },
      rows,
      inputs: INPUTS,
      referenceRows,
      test: drift[0]!.test,
      runs,
      millwright: { medianMs: round(ms, 1), runsMs: times.map((t) => round(t, 1)) },
      peer: { medianMs: round(peer.medianMs, 1), runsMs: peer.runsMs.map((t) => round(t, 1)) },
      ratio: round(ms / peer.medianMs, 2),
      target: `< ${TARGET_MS} ms`,
      met: ms < TARGET_MS,
      agreement: { maxPsiDifference: psiDiff, maxStatisticDifference: statDiff },
      verdicts: drift.map((d) => d.verdict),
      notes: [
        'Timed: for every input, binning the raw float64 column over the profile\'s edges (counts, missing, per-bin sums) and the drift of the input (PSI and the test the reference size picks). Generating the rows and writing them out are not timed.',
        `The peer (numpy ${'np.searchsorted + np.bincount'}, scipy.stats) reads the columns from float64 files before its clock starts. Inputs 1, 5, 9, 13 and 17 are shifted by half a standard deviation.`,
      ],
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (/monitor-drift\.ts$/.test(process.argv[1] ?? '')) {
  benchDrift().then(
    (out) => process.stdout.write(JSON.stringify(out, null, 2) + '\n'),
    (e: unknown) => {
      process.stderr.write(`[bench] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
