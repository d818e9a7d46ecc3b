// `npm run bench [name]`: runs each bench/*.ts (or the one named), prints its
// JSON and keeps a copy in bench/out/ (not committed).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dir = path.join(root, 'bench');
const out = path.join(dir, 'out');
fs.mkdirSync(out, { recursive: true });
const only = process.argv[2];
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && (!only || f === `${only}.ts` || f === only));
if (!files.length) {
  console.error(`No benchmark called "${only}". Available: ${fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  console.error(`== ${f}`);
  const r = spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(dir, f)], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(r.stdout);
  fs.writeFileSync(path.join(out, f.replace(/\.ts$/, '.json')), r.stdout);
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
