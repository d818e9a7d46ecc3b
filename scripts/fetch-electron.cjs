// postinstall: fetch Electron's binary where the internet is reachable, and
// never fail the install where it is not (Millwright then runs in a browser).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { electronBinary, electronDir } = require('./electron-binary.cjs');

function main() {
  if (process.env.MILLWRIGHT_SKIP_ELECTRON_DOWNLOAD) return;
  if (electronBinary()) return;
  const dir = electronDir();
  if (!dir) return; // production install without devDependencies
  const r = spawnSync(process.execPath, [path.join(dir, 'install.js')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 10 * 60 * 1000,
    encoding: 'utf8',
  });
  if (r.status === 0 && electronBinary()) {
    console.log('Millwright: Electron is installed; `npm start` opens the desktop app.');
    return;
  }
  const first = String(r.stderr || r.error || '').split('\n').find((l) => l.trim()) || 'no reason given';
  console.log(
    'Millwright: the Electron binary could not be downloaded (' + first.trim().slice(0, 160) + ').\n' +
      '  `npm start` will run Millwright in server mode and print a link to open in a browser.\n' +
      '  To get the desktop window later, run `npx install-electron` on a machine with internet access.',
  );
}

main();
