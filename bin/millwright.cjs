#!/usr/bin/env node
'use strict';
// The millwright CLI. The TypeScript is compiled by `npm install` (prepare).
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'electron', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('millwright: the app is not built yet. Run `npm install` (or `npm run build`) in ' + path.dirname(__dirname) + '.\n');
  process.exit(1);
}
require(cli).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write('millwright: internal error: ' + (err && err.message) + '\n'); process.exitCode = 1; },
);
