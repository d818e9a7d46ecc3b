// Finds Electron's binary without triggering its download: since Electron 42,
// require('electron') downloads on first use, which hangs or fails offline.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function electronDir() {
  try {
    return path.dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
}

/** Absolute path of the Electron executable, or null when it is not installed. */
function electronBinary() {
  const dir = electronDir();
  if (!dir) return null;
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, process.platform === 'win32' ? 'electron.exe' : 'electron');
    return fs.existsSync(p) ? p : null;
  }
  try {
    const rel = fs.readFileSync(path.join(dir, 'path.txt'), 'utf8').trim();
    const full = path.join(dir, 'dist', rel);
    return fs.existsSync(full) ? full : null;
  } catch {
    return null;
  }
}

module.exports = { electronBinary, electronDir };
