import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/** The folder holding Millwright's package.json, from source or from dist/. */
export function appRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'millwright') return (cached = dir);
      } catch {
        // Not ours; keep walking up.
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('Cannot find the Millwright installation folder.');
    dir = up;
  }
}

export function appVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
