/**
 * Kill tests, `millwright import` (issue 11): the compiled CLI importing a
 * large sensor log, killed with SIGKILL at random moments: in the first
 * 250 ms (starting Node, before the workspace exists), anywhere in the run, in the
 * work itself, and just after "Saving columns". After each kill, as the next
 * commands see it: `millwright check` finds the workspace consistent (blobs
 * present with the right content), no task is left running (the killed one
 * is marked 'interrupted'), the datasets imported before are listed as they
 * were and the killed one only whole (its rows and statistics), and the same
 * import run again gives the version it would have given.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterKill, cliJson, countKill, FULL, killPlans, killRun, killSeed, MODE, newTally, phaseOf, quickCli, recordKills, seededRandom, sensorLog, timedRun, writeSensorCsv, type CheckJson, type Cli, type SensorStats } from './support/kill-harness';

const KILLS = { import: FULL ? 25 : 3 };
const EARLY = FULL ? 4 : 1;
/** Rows of each imported file: enough that the import's own work is a good part of its run. */
const ROWS = FULL ? 1_500_000 : 600_000;

const seed = killSeed();
const random = seededRandom(seed);
const tallies = { import: newTally() };
const started = Date.now();

let root: string;
let cli: Cli;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-kill-import-'));
  cli = quickCli(root);
  await cli.ready();
}, 120_000);

afterAll(() => {
  recordKills('import', tallies, { seed, rows: ROWS, seconds: Math.round((Date.now() - started) / 1000) });
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('millwright import, killed', () => {
  it(`leaves only whole dataset versions, marks the task interrupted, and imports again (${KILLS.import} kills, seed ${seed})`, async () => {
    const t = tallies.import;
    // A fresh workspace: the first kill comes before it exists.
    const ws = path.join(root, 'ws-import');
    const imported = new Map<string, SensorStats>();
    // Every file starts at another row of one log, so each import stores blobs of its own.
    const log = sensorLog(ROWS + 50 * KILLS.import);
    const calibrate = path.join(root, 'calibrate.csv');
    const calibrateStats = writeSensorCsv(log, calibrate, 0);
    let calibrated: { ms: number; workFromMs: number } | null = null;
    // The first kill is early; the others are drawn once an import was timed.
    let plans = killPlans(random, 1, 0, 1);
    for (let k = 0; k < KILLS.import; k++) {
      if (k === 1) {
        // How long an import runs here, uninterrupted, and when its work begins (it also proves the file imports).
        const r = await timedRun(cli, ['import', calibrate, '--name', 'calibrate', '--json', '--workspace', ws]);
        expect(r.status, r.stderr).toBe(0);
        expect((JSON.parse(r.stdout) as { rows: number }).rows).toBe(calibrateStats.rows);
        imported.set('calibrate', calibrateStats);
        calibrated = r;
        plans = [...plans, ...killPlans(random, KILLS.import - 1, r.ms, EARLY - 1, r.workFromMs, /Saving columns/)];
      }
      const plan = plans[k]!;
      const name = `line-${k}`;
      const file = path.join(root, `${name}.csv`);
      const stats = writeSensorCsv(log, file, 1 + 50 * k);
      const args = ['import', file, '--name', name, '--json', '--workspace', ws];
      const killed = await killRun(cli, t, args, plan);
      if (!killed) {
        imported.set(name, stats);
        continue;
      }
      const problems: string[] = [];
      const after = await afterKill(cli, ws, `Reading ${name}.csv`);
      problems.push(...after.problems);
      for (const j of after.jobs) {
        if (j.state === 'interrupted') t.interruptedMarked++;
        else if (j.state !== 'done') problems.push(`the killed import's task is '${j.state}', not 'interrupted'`);
      }
      // Listed: the datasets imported before, unchanged, and this one only if whole.
      const listed = await cliJson<{ name: string; version: number | null; rows: number }[]>(cli, ws, ['datasets']);
      let there = false;
      if (!listed.ok) problems.push(listed.problem);
      else {
        for (const d of listed.value) {
          const want = d.name === name ? stats : imported.get(d.name);
          if (!want) problems.push(`an unexpected dataset "${d.name}" is listed`);
          else if (d.version !== 1 || d.rows !== want.rows) problems.push(`${d.name} is listed as version ${d.version} with ${d.rows} rows, not version 1 with ${want.rows}`);
          if (d.name === name) there = true;
        }
        for (const n of imported.keys()) if (!listed.value.some((d) => d.name === n)) problems.push(`${n}, imported before, is no longer listed`);
      }
      // The same command again: the version, or the one the killed run had finished.
      t.reruns++;
      const again = await cliJson<{ dataset: string; version: number; created: boolean; rows: number; rejectedRows: number }>(cli, ws, args.slice(0, -3));
      const rerunProblems: string[] = [];
      if (!again.ok) rerunProblems.push(`the import run again failed: ${again.problem}`);
      else {
        const v = again.value;
        if (v.dataset !== name || v.version !== 1 || v.rows !== stats.rows || v.rejectedRows !== 0 || v.created === there) {
          rerunProblems.push(`the import run again gave ${JSON.stringify({ ...v, columns: undefined, problems: undefined })}; expected version 1 of ${name} with ${stats.rows} rows, created ${!there}`);
        }
      }
      // A version the killed run had saved must be whole: the file's rows and statistics.
      if (again.ok && there) {
        const profile = await cliJson<{ rows: number; columns: { name: string; profile: { count: number; missing: number; min?: number; max?: number; mean?: number } }[] }>(cli, ws, ['profile', name]);
        const flow = profile.ok ? profile.value.columns.find((c) => c.name === 'Flow')?.profile : undefined;
        if (!profile.ok) rerunProblems.push(profile.problem);
        else if (profile.value.rows !== stats.rows || !flow || flow.missing !== 0 || flow.min !== stats.flow.min || flow.max !== stats.flow.max || Math.abs(flow.mean! - stats.flow.mean) > 1e-9 * stats.flow.mean) {
          rerunProblems.push(`${name}'s statistics are not the file's: ${JSON.stringify({ rows: profile.value.rows, flow })}; expected ${JSON.stringify(stats)}`);
        }
      }
      if (!rerunProblems.length) t.rerunsOk++;
      imported.set(name, stats);
      countKill(t, killed.plan, phaseOf(killed.stderr, after.jobs.some((j) => Date.parse(j.createdAt) >= killed.startedAt - 1000)), [...problems, ...rerunProblems], `import kill ${k + 1}`);
    }
    const last = await cliJson<CheckJson>(cli, ws, ['check']);
    expect(last.ok && last.value.ok, last.ok ? last.value.problems.join('; ') : last.problem).toBe(true);
    if (last.ok) t.details.unreferencedBlobs = last.value.unreferenced;
    t.details.expectedMs = calibrated?.ms;
    t.details.workFromMs = calibrated?.workFromMs;
    t.details.mode = MODE;
    expect(t.problems).toEqual([]);
    expect(t.kills).toBeGreaterThanOrEqual(KILLS.import - 1);
  }, FULL ? 1_800_000 : 90_000);
});
