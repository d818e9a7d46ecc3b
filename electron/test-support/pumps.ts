import fs from 'node:fs';
import path from 'node:path';
import type { Core } from '../services/compose';
import { importCsv, trainModel, type CoreCall } from './core-call';

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
export async function pumpsModel(core: Core, call: CoreCall, file: string, algorithms: string[]): Promise<void> {
  await importCsv(core, call, file, 'pumps');
  for (const algorithm of algorithms) await trainModel(core, call, { dataset: 'pumps', task: 'binary', target: 'Trip', algorithms: [algorithm], timeBudgetSeconds: 10, model: 'P-101' });
}
