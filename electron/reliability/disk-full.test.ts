/**
 * A full disk (issue 11): `millwright import` into a workspace on a disk
 * that fills up says so in one plain line naming the workspace, and damages
 * nothing: `millwright check` finds the workspace consistent, the datasets
 * are listed as before, the task is marked failed with the same sentence, and
 * once there is room the same import succeeds.
 *
 * The disk is a small tmpfs mounted for the test (root can mount one here and
 * on CI); a file-size limit on the process (prlimit --fsize, EFBIG) is the
 * second case, and the only one where mount is not permitted.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePumpsCsv } from '../test-support/pumps';
import { cliJson, exited, FIGURES_DIR, MODE, quickCli, sensorLog, writeJson, writeSensorCsv, type CheckJson, type Cli } from './support/kill-harness';

const MB = 1024 * 1024;
/** 300,000 rows: each number column alone is 2.4 MB as a blob. */
const BIG_ROWS = 300_000;

let root: string;
let cli: Cli;
let mounted: string | null = null;
let big: string;
let pumps: string;
const cases: Record<string, unknown>[] = [];

function canMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function hasPrlimit(): boolean {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const disk = path.join(os.tmpdir(), `millwright-disk-full-${process.pid}`);
const tmpfs = (() => {
  fs.mkdirSync(disk, { recursive: true });
  return canMount(disk);
})();
if (tmpfs) mounted = disk;
const prlimit = hasPrlimit();

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-disk-full-'));
  cli = quickCli(root);
  await cli.ready();
  big = path.join(root, 'big.csv');
  writeSensorCsv(sensorLog(BIG_ROWS), big, 0);
  pumps = writePumpsCsv(root);
}, 120_000);

afterAll(() => {
  if (mounted) {
    try {
      execFileSync('umount', [mounted], { stdio: 'pipe' });
    } catch (e) {
      console.warn(`could not unmount ${mounted}: ${(e as Error).message}`);
    }
  }
  fs.rmSync(disk, { recursive: true, force: true });
  writeJson(path.join(FIGURES_DIR, 'disk-full.json'), {
    area: 'disk-full',
    mode: MODE,
    disk: [tmpfs ? 'tmpfs' : null, prlimit ? 'fsize' : null].filter(Boolean).join('+') || 'none',
    scenarios: cases.length,
    damaged: cases.filter((c) => c.damaged).length,
    cases,
  });
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** Progress lines ("  79 %  Saving columns…") left out: what a failed command said. */
const reasonLines = (stderr: string) => stderr.trimEnd().split('\n').filter((l) => l && !/^\s*\d+(\.\d+)?\s?%\s/.test(l));

interface Listed {
  name: string;
  version: number | null;
  rows: number;
}

async function datasets(ws: string): Promise<Listed[]> {
  const r = await cliJson<Listed[]>(cli, ws, ['datasets']);
  if (!r.ok) throw new Error(r.problem);
  return r.value.map(({ name, version, rows }) => ({ name, version, rows }));
}

/** The workspace as a failed command must leave it: consistent, the same datasets, no task running, no scratch file or blob left. */
async function expectUndamaged(ws: string, before: Listed[], record: Record<string, unknown>): Promise<void> {
  const check = await cliJson<CheckJson>(cli, ws, ['check']);
  expect(check.ok && check.value.problems, check.ok ? '' : check.problem).toEqual([]);
  expect(check.ok && check.value.ok).toBe(true);
  expect(await datasets(ws)).toEqual(before);
  const jobs = await cliJson<{ title: string; state: string; error: { message: string } | null }[]>(cli, ws, ['jobs']);
  expect(jobs.ok).toBe(true);
  const imports = jobs.ok ? jobs.value.filter((j) => j.title === 'Reading big.csv') : [];
  expect(imports.map((j) => j.state)).toEqual(imports.map(() => 'failed'));
  expect(imports[0]?.error?.message).toMatch(/^The disk holding the workspace/);
  expect(fs.readdirSync(path.join(ws, 'tmp')).filter((n) => n.endsWith('.part'))).toEqual([]);
  // The failed import's columns are swept when it ends: the room it took comes back.
  expect(check.ok && check.value.unreferenced, 'blobs left without a record').toBe(0);
  Object.assign(record, { checkOk: true, datasetsUnchanged: true, unreferencedBlobs: check.ok ? check.value.unreferenced : null });
}

/** A failed command's one line: exit 1 (not the person's input) or 2, nothing on stdout, no stack. */
function expectOneLine(r: { status: number | null; stdout: string; stderr: string }, pattern: RegExp): string {
  expect([1, 2], r.stderr).toContain(r.status);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const lines = reasonLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  return lines[0]!;
}

describe.skipIf(!tmpfs)('a workspace on a disk that fills up (a 4 MB tmpfs)', () => {
  const ws = () => path.join(disk, 'ws');
  let before: Listed[];

  it('an import too big for the disk stops with one line saying the disk is full, and nothing is damaged', async () => {
    const record: Record<string, unknown> = { name: 'import onto a full disk (ENOSPC)', damaged: true };
    cases.push(record);
    const first = await cliJson(cli, ws(), ['import', pumps, '--name', 'pumps']);
    expect(first.ok, first.ok ? '' : first.problem).toBe(true);
    before = await datasets(ws());
    const r = await cli(['import', big, '--workspace', ws()], { timeoutMs: 120_000 });
    const escaped = ws().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    record.line = expectOneLine(r, new RegExp(`^millwright: The disk holding the workspace \\(${escaped}\\) is full: nothing more can be written there\\. Free some space`));
    record.exit = r.status;
    // Scripts reading --json get the same reason as data.
    const j = await cli(['import', big, '--json', '--workspace', ws()], { timeoutMs: 120_000 });
    expect(JSON.parse(j.stdout)).toEqual({ error: { code: 'io', message: expect.stringMatching(/^The disk holding the workspace .* is full/) } });
    await expectUndamaged(ws(), before, record);
    record.damaged = false;
  }, 120_000);

  it('with not a byte left, every command says the disk is full (not that the workspace is damaged), and works again once there is room', async () => {
    const record: Record<string, unknown> = { name: 'commands on a disk with no byte free', damaged: true };
    cases.push(record);
    // Fill what is left.
    const filler = path.join(disk, 'filler');
    const fd = fs.openSync(filler, 'w');
    try {
      const block = Buffer.alloc(64 * 1024);
      for (;;) fs.writeSync(fd, block);
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    for (const args of [['datasets'], ['check'], ['import', pumps, '--name', 'again']]) {
      const r = await cli([...args, '--workspace', ws()], { timeoutMs: 60_000 });
      const line = expectOneLine(r, /^millwright: The disk holding the workspace \(.*\) is full/);
      expect(line).not.toMatch(/not a Millwright workspace/);
      record[args[0]!] = line;
    }
    fs.rmSync(filler);
    await expectUndamaged(ws(), before, record);
    record.damaged = false;
  }, 120_000);

  it('after the disk grows the same import succeeds, and the workspace checks clean', async () => {
    const record: Record<string, unknown> = { name: 'the same import once there is room', damaged: true };
    cases.push(record);
    execFileSync('mount', ['-o', 'remount,size=64m', disk], { stdio: 'pipe' });
    const r = await cliJson<{ dataset: string; version: number; rows: number; created: boolean }>(cli, ws(), ['import', big], 120_000);
    expect(r.ok, r.ok ? '' : r.problem).toBe(true);
    expect(r.ok && { dataset: r.value.dataset, version: r.value.version, rows: r.value.rows }).toEqual({ dataset: 'big', version: 1, rows: BIG_ROWS });
    const check = await cliJson<CheckJson>(cli, ws(), ['check']);
    expect(check.ok && check.value.problems).toEqual([]);
    expect(await datasets(ws())).toEqual([...before, { name: 'big', version: 1, rows: BIG_ROWS }].sort((a, b) => a.name.localeCompare(b.name)));
    record.damaged = false;
    record.recovered = true;
  }, 120_000);
});

describe.skipIf(!prlimit)('a file-size limit on the process (prlimit --fsize, EFBIG)', () => {
  it('an import past the limit stops with one line naming the limit, nothing is damaged, and without it the import succeeds', async () => {
    const record: Record<string, unknown> = { name: 'import past a 1 MB file-size limit (EFBIG)', damaged: true };
    cases.push(record);
    const ws = path.join(root, 'ws-fsize');
    const first = await cliJson(cli, ws, ['import', pumps, '--name', 'pumps']);
    expect(first.ok, first.ok ? '' : first.problem).toBe(true);
    const before = await datasets(ws);
    // Node ignores SIGXFSZ, so a write past the limit fails with EFBIG instead of killing the process.
    const proc = await cli.start(['import', big, '--workspace', ws], ['prlimit', `--fsize=${MB}`, '--']);
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const { code, signal } = await exited(proc);
    expect(signal).toBeNull();
    record.line = expectOneLine({ status: code, stdout, stderr }, /^millwright: The disk holding the workspace \(.*\) is full for a file this large/);
    record.exit = code;
    await expectUndamaged(ws, before, record);
    const r = await cliJson<{ rows: number }>(cli, ws, ['import', big], 120_000);
    expect(r.ok && r.value.rows, r.ok ? '' : r.problem).toBe(BIG_ROWS);
    record.damaged = false;
    record.recovered = true;
  }, 120_000);
});
