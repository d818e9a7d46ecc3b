import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on one of our modules: the compiled .js in a build,
 * or the .ts source through tsx's require hook when the app runs from its
 * sources (unit tests, benchmarks).
 * `dir` and `base` name the module without extension, e.g. (__dirname, 'worker-entry').
 */
export function spawnModuleWorker(dir: string, base: string, workerData: unknown): Worker {
  const compiled = path.join(dir, `${base}.js`);
  if (fs.existsSync(compiled) && __filename.endsWith('.js')) return new Worker(compiled, { workerData });
  const source = path.join(dir, `${base}.ts`);
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, workerData });
}
