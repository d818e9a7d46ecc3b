/**
 * The kill tests' harness (issue 11): real processes killed with SIGKILL at
 * random moments, what the workspace looks like afterwards as the CLI shows
 * it, and the figures written for the README.
 *
 * The moments come from a seeded generator: a failure prints its seed, and
 * MILLWRIGHT_KILL_SEED=N replays the same kills.
 */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { CliRun } from '../../test-support/cli-build';
import { transpileApp } from './hardening-build';

export const FULL = process.env.MILLWRIGHT_RELIABILITY === 'full';
export const MODE = FULL ? 'full' : 'short';

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIGURES_DIR = path.join(ROOT, 'test-results', 'reliability');

/** The seed of this run: MILLWRIGHT_KILL_SEED, else a fresh one. */
export function killSeed(): number {
  const given = Number(process.env.MILLWRIGHT_KILL_SEED);
  return Number.isSafeInteger(given) && given > 0 ? given : crypto.randomInt(1, 2 ** 31);
}

/** mulberry32 (the profile's sampler): small, seeded, good enough to spread kill moments. */
export { mulberry32 as seededRandom } from '../../services/datasets/profile';

/**
 * A moment in a run seen from outside (a file appearing, a line in another
 * process's log): `watch` calls `fire` when it comes and returns a function
 * that stops watching.
 */
export interface Trigger {
  label: string;
  watch: (fire: () => void) => () => void;
  /** Kill within this many ms of it (default 150). */
  withinMs?: number;
}

/** How long after its start (or after a line it writes, or a trigger) a process is killed. */
export interface KillPlan {
  delayMs: number;
  /** In the first moments (starting Node, opening the workspace), not somewhere in the work. */
  early: boolean;
  /** Counts the delay from the first line of standard error matching this (e.g. "Saving columns"), or from the trigger, not from the start. */
  after?: RegExp | Trigger;
}

const afterLabel = (after: RegExp | Trigger) => (after instanceof RegExp ? `"${after.source}"` : after.label);

/**
 * `count` kill moments: the first `early` of them within the first 250 ms;
 * the rest in turn within 150 ms of each of `after` (the first line matching
 * it, or its trigger: the riskiest steps, such as saving), uniform over
 * 0..90% of `expectedMs` (the whole run, starting Node included), and
 * uniform over the work itself, from `workFromMs` (when the run's first
 * progress line came) to 95%. A process that ends before its moment is not
 * a kill: the caller draws again.
 */
export function killPlans(random: () => number, count: number, expectedMs: number, early: number, workFromMs = 0, ...after: (RegExp | Trigger)[]): KillPlan[] {
  const kinds = [...after, 'whole', 'work'] as const;
  return Array.from({ length: count }, (_, i): KillPlan => {
    if (i < early) return { delayMs: Math.round(random() * 250), early: true };
    const kind = kinds[(i - early) % kinds.length]!;
    if (typeof kind !== 'string') return { delayMs: Math.round(random() * (kind instanceof RegExp ? 150 : (kind.withinMs ?? 150))), early: false, after: kind };
    const from = kind === 'work' ? Math.min(workFromMs, expectedMs * 0.9) : 0;
    const to = kind === 'work' ? expectedMs * 0.95 : expectedMs * 0.9;
    return { delayMs: Math.round(from + random() * (to - from)), early: false };
  });
}

/** Runs a command to its end: how long it took, and when its first progress line came (when the work began). */
export async function timedRun(cli: Cli, args: string[]): Promise<{ ms: number; workFromMs: number; status: number | null; stdout: string; stderr: string }> {
  const t0 = Date.now();
  const proc = await cli.start(args);
  let stdout = '';
  let stderr = '';
  let workFromMs = 0;
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (!workFromMs && /^\s*\d+(\.\d+)?\s?%\s/m.test(d)) workFromMs = Date.now() - t0;
    stderr += d;
  });
  const { code } = await exited(proc);
  await new Promise((r) => setImmediate(r));
  return { ms: Date.now() - t0, workFromMs, status: code, stdout, stderr };
}

export interface KillOutcome {
  /** True when SIGKILL found the process running (a kill); false when it had ended first. */
  killed: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the start to the kill, or to the end when it ended first. */
  afterMs: number;
  stdout: string;
  stderr: string;
}

export function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Waits until `delayMs` after `startedAt` (or after the first line of
 * standard error matching `after`), then kills the process with SIGKILL
 * unless it has ended; resolves when it is gone.
 */
export async function killAfter(proc: ChildProcess, delayMs: number, startedAt = Date.now(), after?: RegExp | Trigger): Promise<KillOutcome> {
  let stdout = '';
  let stderr = '';
  let killedAt: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) =>
    (timer = setTimeout(() => {
      if (proc.exitCode === null && proc.signalCode === null) {
        killedAt = Date.now();
        proc.kill('SIGKILL');
      }
    }, Math.max(0, ms)));
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (after instanceof RegExp && !timer && after.test(stderr)) arm(delayMs);
  });
  const end = exited(proc);
  if (!after) arm(startedAt + delayMs - Date.now());
  const unwatch = after && !(after instanceof RegExp) ? after.watch(() => timer ?? arm(delayMs)) : () => undefined;
  const { code, signal } = await end;
  unwatch();
  clearTimeout(timer);
  // Output still in the pipes when the process died.
  await new Promise((r) => setImmediate(r));
  return { killed: signal === 'SIGKILL' && killedAt !== null, code, signal, afterMs: (killedAt ?? Date.now()) - startedAt, stdout, stderr };
}

/**
 * Where a CLI command was when it died: its last progress line without the
 * percentage ("Saving columns"); before any, whether its task had been
 * recorded (`taskStarted`) or not.
 */
export function phaseOf(stderr: string, taskStarted: boolean): string {
  const lines = stderr.split('\n').filter((l) => /^\s*\d+(\.\d+)?\s?%\s/.test(l));
  const last = lines[lines.length - 1];
  if (!last) return taskStarted ? 'task starting' : 'starting';
  return last.replace(/^\s*\d+(\.\d+)?\s?%\s+/, '').replace(/[.…]+$/, '').replace(/ \S+\.csv$/, '').replace(/\d+/g, 'N').trim() || 'task starting';
}

/** Kills of one kind of process, and what was found after them. */
export interface KindTally {
  kills: number;
  /** Kills after which something was wrong (must stay 0). */
  damaged: number;
  /** Kills in the first 250 ms. */
  early: number;
  /** Runs that ended before their kill moment (drawn again, not counted). */
  missed: number;
  /** Commands run again after a kill, and how many of them gave the expected result. */
  reruns: number;
  rerunsOk: number;
  /** Jobs found marked 'interrupted' after a kill (a kill before the job started, or after it ended, leaves none). */
  interruptedMarked: number;
  /** Where the kills landed: a count per phase. */
  phases: Record<string, number>;
  /** Every problem found, with the kill that caused it (empty when nothing was wrong). */
  problems: string[];
  /** Anything else worth reporting (e.g. counters lost within the flush interval). */
  details: Record<string, unknown>;
}

export function newTally(): KindTally {
  return { kills: 0, damaged: 0, early: 0, missed: 0, reruns: 0, rerunsOk: 0, interruptedMarked: 0, phases: {}, problems: [], details: {} };
}

/** Counts one kill: its phase, and the problems found after it (any problem makes it damaged). */
export function countKill(t: KindTally, plan: KillPlan, phase: string, problems: string[], label: string): void {
  t.kills++;
  if (plan.early) t.early++;
  t.phases[phase] = (t.phases[phase] ?? 0) + 1;
  if (problems.length) {
    t.damaged++;
    t.problems.push(...problems.map((p) => `${label} (killed ${plan.delayMs} ms after ${plan.after ? afterLabel(plan.after) : 'the start'}, ${phase}): ${p}`));
  }
}

/**
 * Writes this file's kinds into test-results/reliability/kill.json, beside
 * the kinds other kill test files wrote (kill-import, kill-train-deploy and
 * kill-edge run in parallel, and the README reads one table): each file's
 * part goes to kill-parts/PART.json, and kill.json is summed from them under
 * a lock, so files finishing together do not lose each other's part.
 */
export function recordKills(part: string, byProcess: Record<string, KindTally>, extra: Record<string, unknown> = {}): void {
  const partsDir = path.join(FIGURES_DIR, 'kill-parts');
  fs.mkdirSync(partsDir, { recursive: true });
  writeJson(path.join(partsDir, `${part}.json`), { part, mode: MODE, at: new Date().toISOString(), byProcess, ...extra });
  const lock = path.join(FIGURES_DIR, 'kill.lock');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, 'wx'));
      break;
    } catch {
      // A lock older than the deadline was left by a killed run.
      if (Date.now() > deadline) fs.rmSync(lock, { force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    const parts = fs
      .readdirSync(partsDir)
      .filter((n) => n.endsWith('.json'))
      .sort()
      .map((n) => JSON.parse(fs.readFileSync(path.join(partsDir, n), 'utf8')) as { part: string; mode: string; at: string; byProcess: Record<string, KindTally> } & Record<string, unknown>);
    const all: Record<string, KindTally & { mode: string }> = {};
    for (const p of parts) for (const [kind, t] of Object.entries(p.byProcess)) all[kind] = { ...t, mode: p.mode };
    const kinds = Object.values(all);
    const modes = new Set(parts.map((p) => p.mode));
    writeJson(path.join(FIGURES_DIR, 'kill.json'), {
      area: 'kill',
      kills: kinds.reduce((s, t) => s + t.kills, 0),
      damaged: kinds.reduce((s, t) => s + t.damaged, 0),
      reruns: kinds.reduce((s, t) => s + t.reruns, 0),
      rerunsOk: kinds.reduce((s, t) => s + t.rerunsOk, 0),
      mode: modes.size === 1 ? [...modes][0] : 'mixed',
      byProcess: all,
      parts: Object.fromEntries(parts.map(({ part, byProcess: _omit, ...rest }) => [part, rest])),
    });
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

export function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

// ---------------------------------------------------------------- the CLI

export type Cli = ((args: string[], opts?: { timeoutMs?: number }) => Promise<CliRun>) & {
  ready: () => Promise<unknown>;
  /** A command left running, to be killed; `wrap` runs it under another program (e.g. prlimit --fsize=N). */
  start: (args: string[], wrap?: string[]) => Promise<ChildProcessWithoutNullStreams>;
};

/**
 * The CLI as privateCliBuildAsync gives it (a private copy of the app under
 * `dir`, a private HOME), transpiled file by file instead of compiled with
 * tsc: a few seconds instead of half a minute, which a kill test's time
 * budget needs. Types are the typecheck's job.
 */
export function quickCli(dir: string): Cli {
  let built: Promise<{ bin: string; env: NodeJS.ProcessEnv }> | undefined;
  const ready = () =>
    (built ??= transpileApp(dir).then(({ bin }) => {
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: path.join(dir, 'home'), XDG_DATA_HOME: path.join(dir, 'xdg') };
      delete env.MILLWRIGHT_HOME;
      return { bin, env };
    }));
  const start = async (args: string[], wrap: string[] = []) => {
    const { bin, env } = await ready();
    const [cmd, ...rest] = [...wrap, process.execPath, bin, ...args];
    return spawn(cmd!, rest, { cwd: dir, env });
  };
  const run = async (args: string[], opts: { timeoutMs?: number } = {}): Promise<CliRun> => {
    const child = await start(args);
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  };
  return Object.assign(run, { ready, start });
}

/**
 * Runs `millwright ARGS` and kills it at the plan's moment; when the command
 * ended first (it is then counted as missed), runs it again with half the
 * delay, and the last time with none. `completed`: the runs that ended before
 * their kill (each did what the command does). Null when no run was killed.
 */
export async function killRun(cli: Cli, tally: KindTally, args: string[], plan: KillPlan): Promise<{ plan: KillPlan; stderr: string; startedAt: number; completed: number } | null> {
  const attempts = 4;
  let p = plan;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const t0 = Date.now();
    const proc = await cli.start(args);
    const out = await killAfter(proc, p.delayMs, t0, p.after);
    if (out.killed) return { plan: p, stderr: out.stderr, startedAt: t0, completed: attempt };
    tally.missed++;
    if (out.code !== 0) throw new Error(`millwright ${args.join(' ')} failed by itself (${out.code}): ${out.stderr}`);
    p = { ...p, delayMs: attempt + 2 === attempts ? 0 : Math.round(p.delayMs / 2) };
  }
  return null;
}

// ---------------------------------------------------------------- the workspace as the CLI shows it

/** `millwright ARGS --json --workspace WS`; the parsed output, or a problem in words. */
export async function cliJson<T>(cli: Cli, ws: string, args: string[], timeoutMs = 120_000): Promise<{ ok: true; value: T; run: CliRun } | { ok: false; problem: string; run: CliRun }> {
  const run = await cli([...args, '--json', '--workspace', ws], { timeoutMs });
  const what = `millwright ${args.join(' ')}`;
  if (run.status !== 0) return { ok: false, problem: `${what} exited ${run.status}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`, run };
  if (/^\s+at /m.test(run.stderr)) return { ok: false, problem: `${what} printed a stack: ${run.stderr.slice(0, 300)}`, run };
  try {
    return { ok: true, value: JSON.parse(run.stdout) as T, run };
  } catch {
    return { ok: false, problem: `${what} printed no JSON: ${run.stdout.slice(0, 200)}`, run };
  }
}

export interface CheckJson {
  ok: boolean;
  blobs: number;
  referenced: number;
  database: string;
  problems: string[];
  unreferenced: number;
}

interface JobJson {
  id: string;
  kind: string;
  title: string;
  state: string;
  createdAt: string;
}

export interface AfterKill {
  problems: string[];
  check: CheckJson | null;
  /** Jobs whose title is `jobTitle`, newest first, as `millwright jobs` lists them after the next start. */
  jobs: JobJson[];
}

/**
 * What must hold after any kill: `millwright check` finds the workspace
 * consistent (database integrity, foreign keys, every referenced blob present
 * with the right hash), and no task is left queued or running (the next
 * start marks those of a dead process 'interrupted').
 */
export async function afterKill(cli: Cli, ws: string, jobTitle: string): Promise<AfterKill> {
  const problems: string[] = [];
  const check = await cliJson<CheckJson>(cli, ws, ['check']);
  if (!check.ok) problems.push(check.problem);
  else if (!check.value.ok || check.value.problems.length) problems.push(`millwright check found: ${check.value.problems.join('; ')}`);
  const jobs = await cliJson<JobJson[]>(cli, ws, ['jobs', '--limit', '500']);
  if (!jobs.ok) problems.push(jobs.problem);
  const listed = jobs.ok ? jobs.value : [];
  for (const j of listed) if (j.state === 'queued' || j.state === 'running') problems.push(`task ${j.id} (${j.title}) is still '${j.state}' after its process was killed`);
  return { problems, check: check.ok ? check.value : null, jobs: listed.filter((j) => j.title === jobTitle) };
}

// ---------------------------------------------------------------- data

export interface SensorStats {
  rows: number;
  flow: { min: number; max: number; mean: number };
}

/** A sensor log (time every minute, line, flow, vibration, temperature, trip) in memory, to write files of from any row on. */
export interface SensorLog {
  header: string;
  body: Buffer;
  /** Where each row starts in `body`. */
  starts: Float64Array;
  flow: Float64Array;
}

export function sensorLog(rows: number): SensorLog {
  const start = Date.UTC(2024, 0, 1);
  const two = (n: number) => String(n).padStart(2, '0');
  const minutes = Array.from({ length: 1440 }, (_, m) => `T${two(Math.floor(m / 60))}:${two(m % 60)}:00Z`);
  const starts = new Float64Array(rows);
  const flow = new Float64Array(rows);
  const parts: Buffer[] = [];
  let chunk: string[] = [];
  let offset = 0;
  let day = '';
  const put = () => {
    const b = Buffer.from(chunk.join(''));
    parts.push(b);
    chunk = [];
  };
  for (let i = 0; i < rows; i++) {
    if (i % 1440 === 0) day = new Date(start + (i / 1440) * 86_400_000).toISOString().slice(0, 10);
    const f = ((i * 37) % 1201) / 10;
    const vib = ((i * 53) % 89) / 10;
    const line = `${day}${minutes[i % 1440]},${'ABC'[i % 3]},${f},${vib},${20 + ((i * 7) % 171) / 10},${f > 70 && vib > 3 ? 'trip' : 'ok'}\n`;
    starts[i] = offset;
    flow[i] = f;
    offset += line.length;
    chunk.push(line);
    if (chunk.length === 20_000) put();
  }
  put();
  return { header: 'Time,Line,Flow [m3/h],Vibration [mm/s],Temperature [C],Trip\n', body: Buffer.concat(parts), starts, flow };
}

/**
 * Writes the log's rows from `from` on: each `from` gives other content
 * (other rows, times and statistics), so every import of one stores new
 * blobs. Returns the statistics its import must show.
 */
export function writeSensorCsv(log: SensorLog, file: string, from: number): SensorStats {
  fs.writeFileSync(file, Buffer.concat([Buffer.from(log.header), log.body.subarray(log.starts[from]!)]));
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = from; i < log.flow.length; i++) {
    const f = log.flow[i]!;
    if (f < min) min = f;
    if (f > max) max = f;
    sum += f;
  }
  const rows = log.flow.length - from;
  return { rows, flow: { min, max, mean: sum / rows } };
}
