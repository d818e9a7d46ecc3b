// `npm start`: the desktop window when Electron's binary and a display are
// present; otherwise server mode, which prints a link to open in a browser.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const { electronBinary } = require('./electron-binary.cjs');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const binary = electronBinary();
const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;

let child;
if (binary && !headless && !process.env.MILLWRIGHT_SERVER_MODE) {
  child = spawn(binary, [root, ...args], { stdio: 'inherit', cwd: root });
} else {
  const why = !binary ? 'Electron is not installed here' : 'there is no display';
  console.log(`Millwright: starting in server mode because ${why}.`);
  child = spawn(process.execPath, [path.join(root, 'bin', 'millwright.cjs'), 'serve-app', ...args], {
    stdio: 'inherit',
    cwd: root,
  });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
