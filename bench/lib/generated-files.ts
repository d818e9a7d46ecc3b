import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * Benchmark input files, generated once into the temp folder and reused while
 * a sidecar JSON still records their sizes (the generators are deterministic,
 * so equal sizes mean equal files). `base` names the set; `suffixes` become
 * `${base}${suffix}`; `generate` writes every file.
 */
export function generatedFiles<K extends string>(
  base: string,
  suffixes: Record<K, string>,
  generate: (files: Record<K, string>) => void,
  log: (msg: string) => void,
): Record<K, string> {
  const stem = path.join(os.tmpdir(), base);
  const files = Object.fromEntries(Object.entries<string>(suffixes).map(([k, s]) => [k, `${stem}${s}`])) as Record<K, string>;
  const meta = `${stem}.json`;
  const sizeOf = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : -1);
  const names = Object.keys(files) as K[];
  try {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as Record<string, number>;
    if (names.every((k) => m[k] === sizeOf(files[k]))) {
      const first = files[names[0]!];
      log(`reusing ${first} (${(sizeOf(first) / 1e6).toFixed(0)} MB)${names.length > 1 ? ` and ${names.slice(1).map((k) => path.basename(files[k])).join(', ')}` : ''}`);
      return files;
    }
  } catch {
    // No usable sidecar: generate.
  }
  log(`generating ${path.basename(stem)} into ${os.tmpdir()} …`);
  const t = performance.now();
  generate(files);
  fs.writeFileSync(meta, JSON.stringify(Object.fromEntries(names.map((k) => [k, sizeOf(files[k])]))));
  log(`generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return files;
}
