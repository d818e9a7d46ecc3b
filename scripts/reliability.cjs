// `npm run test:reliability`: the long reliability run of issue 11 (fuzzing,
// kill tests, disk full, endpoint abuse, the 10-minute soak, hardening), then
// the figures table each test file wrote to test-results/reliability/.
//
//   node scripts/reliability.cjs            full run (MILLWRIGHT_RELIABILITY=full), prints the table
//   node scripts/reliability.cjs --short    the short version CI runs inside npm test
//   node scripts/reliability.cjs --table    only print the table from the last run
//   ... --readme                            also write the table into README.md's Reliability section
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dir = path.join(root, 'test-results', 'reliability');
const args = new Set(process.argv.slice(2));

function run() {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const env = { ...process.env, MILLWRIGHT_RELIABILITY: args.has('--short') ? 'short' : 'full', FORCE_COLOR: '0' };
  const r = spawnSync(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['vitest', 'run', 'electron/reliability/', '--reporter', 'default', '--outputFile.json', path.join(dir, 'vitest.json')], {
    cwd: root,
    stdio: 'inherit',
    env,
  });
  return r.status === 0;
}

const n = (x) => (typeof x === 'number' ? x.toLocaleString('en-US') : '–');
const pct = (x) => (typeof x === 'number' ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %` : '?');

/** One row per area: what was done, and what went wrong (must be 0). */
const AREAS = {
  fuzz: (f) => ['Inputs fuzzed (import, timestamps, API validators, bundles, edge inputs)', n(f.inputs), n(f.failures ?? 0)],
  kill: (f) => ['Processes killed with SIGKILL (import, train, deploy, edge runtime)', n(f.kills), n(f.damaged ?? 0)],
  'disk-full': (f) => ['Disk-full scenarios (tmpfs and file-size limit: clear error, workspace unchanged)', n(typeof f.scenarios === 'number' ? f.scenarios : Array.isArray(f.cases) ? f.cases.length : f.runs), n(f.damaged ?? f.failures ?? 0)],
  abuse: (f) => [
    `Abuse cases against an endpoint during valid traffic (${n(f.validRequests)} valid requests)`,
    `${n(f.refused)} refused${f.reported ? `, ${n(f.reported)} reported (older-version push)` : ''} of ${n(f.cases)}`,
    `${n(f.failedValid ?? 0)} failed valid requests`,
  ],
  soak: (f) => [
    `Soak: ${Math.round((f.seconds ?? 0) / 60)} min under load, ${n(f.swaps)} hot swaps, ${n(f.requests)} requests, RSS floor ${f.rssStartMb ?? '?'} → ${f.rssEndMb ?? '?'} MB (${pct(f.rssGrowth)}; median ${pct(f.rssMedianGrowth)}, peak ${pct(f.rssPeakGrowth)})`,
    n(f.requests),
    n(f.failed ?? 0),
  ],
  hardening: (f) => ['Electron and server-mode hardening checks', n(f.checks), n(f.failed ?? 0)],
};

function table() {
  const rows = [];
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'vitest.json') : [];
  // Several files of one area (fuzz-import.json, fuzz-inputs.json) add up.
  const byArea = new Map();
  let mode = null;
  for (const f of files.sort()) {
    const j = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    const area = j.area ?? f.replace(/(-[a-z]+)?\.json$/, '');
    mode = mode ?? j.mode ?? null;
    const prev = byArea.get(area);
    if (!prev) byArea.set(area, { ...j });
    else for (const [k, v] of Object.entries(j)) if (typeof v === 'number' && typeof prev[k] === 'number' && !/Mb$|Growth$/.test(k)) prev[k] += v;
  }
  for (const [area, f] of byArea) {
    const fmt = AREAS[area];
    rows.push(fmt ? fmt(f) : [area, JSON.stringify(f).slice(0, 80), '?']);
  }
  const lines = ['| What | Count | Failed or damaged |', '|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)];
  return { text: lines.join('\n'), mode, areas: byArea.size };
}

let ok = true;
if (!args.has('--table')) ok = run();
const t = table();
console.log(`\nReliability figures (${t.mode ?? 'unknown'} run):\n\n${t.text}\n`);
if (args.has('--readme')) {
  const readme = path.join(root, 'README.md');
  const text = fs.readFileSync(readme, 'utf8');
  const start = '<!-- reliability:start -->';
  const end = '<!-- reliability:end -->';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) {
    console.error('README.md has no reliability markers; table not written.');
    process.exit(1);
  }
  const stamp = `Measured ${new Date().toISOString().slice(0, 10)}, ${t.mode === 'full' ? '`npm run test:reliability`' : 'the short CI run'}, on a 2-core Debian 12 machine.`;
  fs.writeFileSync(readme, `${text.slice(0, i + start.length)}\n${t.text}\n\n${stamp}\n${text.slice(j)}`);
  console.log('README.md updated.');
}
process.exit(ok ? 0 : 1);
