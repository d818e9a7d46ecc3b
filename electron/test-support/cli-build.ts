import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Compiles the current sources into a private copy of the app under `dir`, so
 * a CLI test never reads dist/ while another test file rewrites it. Returns a
 * function that runs `millwright ARGS` there with a private HOME, without
 * blocking the test process (long commands such as training would otherwise
 * starve vitest's worker RPC). The compile runs in the background and the
 * first run waits for it: a synchronous tsc holds the test worker's event loop for half a
 * minute or more on a loaded machine, long enough for vitest's own calls from
 * the worker to time out ("Timeout calling onTaskUpdate") and fail the run.
 */
export function privateCliBuildAsync(dir: string): ((args: string[], opts?: { timeoutMs?: number }) => Promise<CliRun>) & { ready: () => Promise<unknown>; start: (args: string[]) => Promise<ChildProcessWithoutNullStreams> } {
  let built: Promise<{ bin: string; env: NodeJS.ProcessEnv }> | undefined;
  const ready = () => (built ??= compileCliAsync(dir));
  void ready().catch(() => undefined);
  const run = async (args: string[], opts: { timeoutMs?: number } = {}): Promise<CliRun> => {
    const cli = await ready();
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [cli.bin, ...args], { cwd: dir, env: cli.env, timeout: opts.timeoutMs ?? 30_000 });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  };
  /** A command left running (e.g. `millwright record`), to be stopped or killed by the test. */
  const start = async (args: string[]): Promise<ChildProcessWithoutNullStreams> => {
    const cli = await ready();
    return spawn(process.execPath, [cli.bin, ...args], { cwd: dir, env: cli.env });
  };
  /** Await in beforeAll, so the first test does not spend its own time limit on the compile. */
  return Object.assign(run, { ready, start });
}

const tscArgs = (build: string) => [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', path.join(build, 'dist'), '--sourceMap', 'false'];

async function compileCliAsync(dir: string): Promise<{ bin: string; env: NodeJS.ProcessEnv }> {
  const build = path.join(dir, 'app');
  const { status, output } = await new Promise<{ status: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, tscArgs(build), { cwd: ROOT });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('close', (code) => resolve({ status: code, output }));
  });
  return finishBuild(dir, build, status, output);
}

function finishBuild(dir: string, build: string, status: number | null, output: string): { bin: string; env: NodeJS.ProcessEnv } {
  // Type errors are the typecheck's to report; tsc still emits, and these tests check behaviour.
  if (!fs.existsSync(path.join(build, 'dist', 'electron', 'cli.js'))) throw new Error(`tsc emitted no CLI:\n${output}`);
  if (status !== 0) console.warn(`tsc reported type errors; testing the emitted code anyway:\n${output.slice(0, 2000)}`);
  fs.mkdirSync(path.join(build, 'bin'));
  fs.copyFileSync(path.join(ROOT, 'bin', 'millwright.cjs'), path.join(build, 'bin', 'millwright.cjs'));
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(build, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(build, 'node_modules'), 'junction');
  // The edge runtime and samples the app ships (a deployment builds its bundle from resources/runtime).
  fs.symlinkSync(path.join(ROOT, 'resources'), path.join(build, 'resources'), 'junction');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: path.join(dir, 'home'), XDG_DATA_HOME: path.join(dir, 'xdg') };
  delete env.MILLWRIGHT_HOME;
  return { bin: path.join(build, 'bin', 'millwright.cjs'), env };
}

/** A user error: exit 2, exactly one "millwright:" line on stderr, no stack, nothing on stdout. */
export function userErrorLine(r: CliRun): string | null {
  if (r.status !== 2 || r.stdout !== '') return null;
  // Progress lines of a job ("  40 %  Reading x.csv…") may come before the reason.
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !/^\s*\d+(\.\d+)?\s?%\s/.test(l));
  if (lines.length !== 1 || !lines[0]!.startsWith('millwright: ') || /^\s+at /m.test(r.stderr)) return null;
  return lines[0]!;
}
