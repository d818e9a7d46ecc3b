/**
 * Work an import can do on the second core while its own thread goes on:
 * fingerprinting the source file while it is parsed, profiling the columns
 * while they are written. Each task runs in a short-lived worker thread.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { ColumnData, ColumnSchema } from '../../../shared/datasets';
import { spawnModuleWorker } from '../jobs/spawn-worker';
import { profileDataset, type DatasetProfile } from './profile';

type Task = { task: 'fingerprint'; file: string } | { task: 'profile'; schema: ColumnSchema[]; columns: ColumnData[] };

export async function fingerprintFile(file: string): Promise<{ fileName: string; sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { fileName: path.basename(file), sha256: hash.digest('hex'), size };
}

function run<T>(task: Task): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = spawnModuleWorker(__dirname, 'side-work', task);
    let done = false;
    w.once('message', (m: { ok: true; value: T } | { ok: false; message: string }) => {
      done = true;
      void w.terminate();
      if (m.ok) resolve(m.value);
      else reject(new Error(m.message));
    });
    w.once('error', (err) => {
      done = true;
      reject(err);
    });
    w.once('exit', (code) => {
      if (!done) reject(new Error(`side worker exited with code ${code}`));
    });
  });
}

/** sha256 and size of a file, computed on another thread. */
export function fingerprintInWorker(file: string): Promise<{ fileName: string; sha256: string; size: number }> {
  return run({ task: 'fingerprint', file });
}

/** The profile of columns, computed on another thread (shared-memory columns are not copied). */
export function profileInWorker(schema: ColumnSchema[], columns: ColumnData[]): Promise<DatasetProfile> {
  return run({ task: 'profile', schema, columns });
}

if (!isMainThread && parentPort && (workerData as Task | undefined)?.task) {
  const t = workerData as Task;
  const reply = (p: Promise<unknown>) =>
    p.then(
      (value) => parentPort!.postMessage({ ok: true, value }),
      (err: Error) => parentPort!.postMessage({ ok: false, message: err.message }),
    );
  if (t.task === 'fingerprint') void reply(fingerprintFile(t.file));
  else void reply(Promise.resolve().then(() => profileDataset(t.schema, t.columns)));
}
