import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, JobInfo, SystemCheckResult } from '../shared/api';
import { MIGRATIONS } from './services/workspace/migrations';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'millwright.cjs');
const PKG_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let root: string;
let n = 0;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh, not yet created workspace folder. */
function freshDir(): string {
  return path.join(root, `ws-${++n}`);
}

function run(args: string[], env: Record<string, string | undefined> = {}): Run {
  const base: NodeJS.ProcessEnv = { ...process.env, HOME: path.join(root, 'home'), XDG_DATA_HOME: path.join(root, 'xdg') };
  delete base.MILLWRIGHT_HOME;
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: root,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A user error: exit 2, one "millwright:" line on stderr, no stack, nothing on stdout. */
function expectUserError(r: Run, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^millwright: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

beforeAll(() => {
  // The CLI runs from dist/; compile the current sources so the tests exercise them.
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-cli-'));
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('millwright CLI', () => {
  it('prints version information as JSON', () => {
    const ws = freshDir();
    const r = run(['version', '--json', '--workspace', ws]);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { name: string; version: string; workspace: string; schemaVersion: number; nodeVersion: string };
    expect(info.name).toBe('Millwright');
    expect(info.version).toBe(PKG_VERSION);
    expect(info.workspace).toBe(ws);
    expect(info.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    expect(info.nodeVersion).toBe(process.versions.node);
    expect(fs.existsSync(path.join(ws, 'millwright.db'))).toBe(true);
  });

  it('prints version information as text without --json', () => {
    const ws = freshDir();
    const r = run(['version', `--workspace=${ws}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Millwright ${PKG_VERSION}`);
    expect(r.stdout).toContain(`Workspace ${ws} (schema ${MIGRATIONS.at(-1)!.version})`);
    expect(() => JSON.parse(r.stdout)).toThrow();
  });

  it('refuses a non-numeric --limit with exit 2 and one line', () => {
    expectUserError(run(['jobs', '--limit', 'abc', '--workspace', freshDir()]), /--limit must be a number \(got "abc"\)/);
  });

  it('with --json, also gives the reason as JSON on stdout', () => {
    const r = run(['jobs', '--limit', 'abc', '--json', '--workspace', freshDir()]);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^millwright: --limit must be a number/);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'bad_input', message: '--limit must be a number (got "abc").', field: 'limit' } });
  });

  it('refuses an out-of-range --limit with exit 2', () => {
    expectUserError(run(['jobs', '--limit', '0', '--workspace', freshDir()]), /--limit must be a whole number from 1 to 500/);
  });

  it('refuses an unknown command with exit 2', () => {
    expectUserError(run(['frobnicate', '--workspace', freshDir()]), /Unknown command "frobnicate"/);
  });

  it('refuses an option that is missing its value with exit 2', () => {
    expectUserError(run(['version', '--workspace']), /--workspace needs a value/);
  });

  it('refuses an unknown option with exit 2', () => {
    expectUserError(run(['jobs', '--bogus', '--workspace', freshDir()]), /Unknown option --bogus for "jobs"/);
  });

  it('refuses an invalid state filter with exit 2, naming the field', () => {
    const r = run(['jobs', '--state', 'sleeping', '--workspace', freshDir()]);
    expectUserError(r, /"states\.0" must be one of/);
  });

  it('prints help with exit 0 for --help and to stderr with exit 2 without a command', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: millwright <command>/);
    for (const cmd of ['version', 'serve-app', 'jobs', 'audit']) expect(help.stdout).toContain(`  ${cmd}`);

    const none = run([]);
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^Usage: millwright <command>/);

    const jobsHelp = run(['jobs', '--help']);
    expect(jobsHelp.status).toBe(0);
    expect(jobsHelp.stdout).toContain('Usage: millwright jobs');
  });

  it('lists the audit log as JSON, starting with the workspace creation', () => {
    const ws = freshDir();
    const r = run(['audit', '--json', '--workspace', ws]);
    expect(r.status, r.stderr).toBe(0);
    const entries = JSON.parse(r.stdout) as AuditEntry[];
    expect(Array.isArray(entries)).toBe(true);
    const create = entries.find((e) => e.action === 'workspace.create');
    expect(create).toBeDefined();
    expect(create!.details).toMatchObject({ dir: ws, appVersion: PKG_VERSION });
    expect(create!.who).toBe(os.userInfo().username);
  });

  it('runs a system check here with progress on stderr and the job as JSON on stdout', () => {
    const ws = freshDir();
    const r = run(['jobs', 'run', 'system-check', '--seconds', '0.5', '--json', '--workspace', ws]);
    expect(r.status, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout) as JobInfo;
    expect(job.kind).toBe('system.check');
    expect(job.state).toBe('done');
    expect(job.progress).toBe(1);
    expect((job.result as SystemCheckResult).cpuScore).toBeGreaterThan(0);

    const progress = r.stderr.trimEnd().split('\n');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const line of progress) expect(line).toMatch(/^ *\d{1,3} % {2}\S/);
    expect(progress.at(-1)).toMatch(/^100 % {2}/);
    expect(r.stderr).not.toMatch(/^\s+at /m);

    // The job was persisted in the workspace.
    const list = run(['jobs', '--json', '--workspace', ws]);
    expect(list.status, list.stderr).toBe(0);
    const jobs = JSON.parse(list.stdout) as JobInfo[];
    expect(jobs.map((j) => [j.id, j.state])).toEqual([[job.id, 'done']]);

    const show = run(['jobs', 'show', job.id, '--workspace', ws]);
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toContain(`Checking this PC (${job.id})`);
    expect(show.stdout).toMatch(/state +done/);
  });

  it('answers jobs show for an unknown id with exit 2', () => {
    expectUserError(run(['jobs', 'show', 'job_nope', '--workspace', freshDir()]), /no task with id "job_nope"/);
  });

  it('refuses to run an unknown task with exit 2', () => {
    expectUserError(run(['jobs', 'run', 'defrag', '--workspace', freshDir()]), /Unknown task "defrag"/);
  });

  it('refuses a workspace from a newer version with exit 2 and leaves it alone', () => {
    const ws = freshDir();
    fs.mkdirSync(ws);
    const db = new Database(path.join(ws, 'millwright.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('user_version = 999');
    db.close();
    const r = run(['version', '--workspace', ws]);
    expectUserError(r, /newer version/);
    const after = new Database(path.join(ws, 'millwright.db'), { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(999);
    } finally {
      after.close();
    }
  });

  it('honours MILLWRIGHT_HOME, and --workspace wins over it', () => {
    const fromEnv = freshDir();
    const r = run(['version', '--json'], { MILLWRIGHT_HOME: fromEnv });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { workspace: string }).workspace).toBe(fromEnv);
    expect(fs.existsSync(path.join(fromEnv, 'millwright.db'))).toBe(true);

    const fromFlag = freshDir();
    const both = run(['version', '--json', '--workspace', fromFlag], { MILLWRIGHT_HOME: fromEnv });
    expect(both.status, both.stderr).toBe(0);
    expect((JSON.parse(both.stdout) as { workspace: string }).workspace).toBe(fromFlag);
  });

  it.runIf(process.platform === 'linux')('uses the XDG data folder when neither flag nor MILLWRIGHT_HOME is given', () => {
    const xdg = path.join(root, 'xdg-default');
    const r = run(['version', '--json'], { XDG_DATA_HOME: xdg });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { workspace: string }).workspace).toBe(path.join(xdg, 'Millwright'));
  });
});
