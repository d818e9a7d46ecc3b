// `npm test`: typecheck, lint, unit tests, build, end-to-end tests, in that
// order, then one closing line that sums every suite: "N passed, N failed".
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const results = path.join(root, 'test-results');
const bin = (name) => (process.platform === 'win32' ? `${name}.cmd` : name);
fs.mkdirSync(results, { recursive: true });

const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

function run(label, args) {
  const [cmd, ...rest] = args[0] === 'npm' ? args : ['npx', ...args];
  console.log(`\n=== ${label}: ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(bin(cmd), rest, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' } });
  return { ok: r.status === 0, seconds: ((Date.now() - t0) / 1000).toFixed(1) };
}

/** A step that is one check (typecheck, lint, build). */
function step(label, args) {
  const r = run(label, args);
  totals[r.ok ? 'passed' : 'failed']++;
  lines.push(`${label.padEnd(10)} ${r.ok ? 'passed' : 'FAILED'} (${r.seconds} s)`);
}

/** A suite whose runner writes a JSON report with per-test counts. */
function suite(label, args, report, count) {
  const file = path.join(results, report);
  fs.rmSync(file, { force: true });
  const r = run(label, args);
  let c = null;
  try {
    c = count(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    // No report: the runner itself failed before testing anything.
  }
  if (!c) c = { passed: 0, failed: 1, skipped: 0 };
  if (!r.ok && c.failed === 0) c.failed = 1; // e.g. an error outside any test
  totals.passed += c.passed;
  totals.failed += c.failed;
  totals.skipped += c.skipped;
  lines.push(`${label.padEnd(10)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (${r.seconds} s)`);
}

const only = process.argv[2];
const want = (name) => !only || only.split(',').includes(name);

if (want('typecheck')) {
  step('typecheck', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
  step('typecheck', ['tsc', '-p', 'tsconfig.renderer.json', '--noEmit']);
  step('typecheck', ['tsc', '-p', 'tsconfig.test.json', '--noEmit']);
}
if (want('lint')) step('lint', ['eslint', '--max-warnings', '0', '.']);
if (want('unit')) {
  suite('unit', ['vitest', 'run'], 'unit.json', (j) => ({
    passed: j.numPassedTests,
    failed: j.numFailedTests + (j.numRuntimeErrorTestSuites ?? 0),
    skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0),
  }));
}
if (want('build')) step('build', ['npm', 'run', '--silent', 'build']);
if (want('e2e')) {
  suite('e2e', ['playwright', 'test'], 'e2e.json', (j) => ({
    passed: j.stats.expected + (j.stats.flaky ?? 0),
    failed: j.stats.unexpected + (j.errors?.length ?? 0),
    skipped: j.stats.skipped,
  }));
}

console.log('\n=== Summary');
for (const l of lines) console.log(l);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed ? 1 : 0);
