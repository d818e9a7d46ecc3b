import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { Core } from '../services/compose';
import type { coreCaller } from './core-call';

/** A small pump table (line, flow, vibration → trip), the same bytes every time. */
export function writePumpsCsv(dir: string, rows = 500): string {
  const file = path.join(dir, 'pumps.csv');
  const lines = ['Line,Flow [m3/h],Vibration [mm/s],Trip'];
  for (let i = 0; i < rows; i++) {
    const flow = (i * 37) % 101, vib = ((i * 53) % 89) / 10;
    lines.push(`${['A', 'B', 'C'][i % 3]},${flow},${vib},${flow > 60 && vib > 3 ? 'trip' : 'ok'}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Imports the pump table as dataset "pumps" and trains model P-101 once per algorithm (version 1, 2, …). */
export async function pumpsModel(core: Core, call: ReturnType<typeof coreCaller>, file: string, algorithms: string[]): Promise<void> {
  const inspected = await call('imports.inspect', { paths: [file] });
  const imp = await call('imports.analyze', { paths: [file], settings: inspected.settings, save: { name: 'pumps' } });
  expect((await core.jobs.wait(imp.id)).state).toBe('done');
  for (const algorithm of algorithms) {
    const job = await call('training.start', { dataset: 'pumps', task: 'binary', target: 'Trip', algorithms: [algorithm], timeBudgetSeconds: 10, model: 'P-101' });
    expect((await core.jobs.wait(job.id)).state).toBe('done');
  }
}
