import fs from 'node:fs';
import path from 'node:path';
import type { Verdict } from '../../../shared/feedback';
import type { Workspace } from '../workspace/workspace';

/**
 * Test data for learning from answers: a line's temperature and flow every
 * 5 minutes from START, with stretches where the temperature runs hot (the
 * "real problems") and single rows where the flow is briefly high (`busy`,
 * row → extra flow) but normal.
 * The same bytes every time.
 */
export const START = Date.parse('2024-01-01T00:00:00Z');
export const STEP = 5 * 60_000;
export const at = (row: number): string => new Date(START + row * STEP).toISOString();

export function writeLineCsv(dir: string, rows: number, hot: [number, number][], name = 'line.csv', busy: Record<number, number> = {}): string {
  const lines = ['Time,Temp [°C],Flow [m3/h]'];
  for (let i = 0; i < rows; i++) {
    const isHot = hot.some(([a, b]) => i >= a && i <= b);
    const temp = 60 + 2 * Math.sin(i / 20) + ((i * 37) % 11) / 10 + (isHot ? 25 : 0);
    const flow = 100 + 5 * Math.cos(i / 30) + ((i * 53) % 7) / 5 + (busy[i] ?? 0);
    lines.push(`${at(i)},${temp.toFixed(2)},${flow.toFixed(2)}`);
  }
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

export interface EpisodeSeed {
  model: string;
  version: number;
  /** First and last row (as row numbers of the fixture's series). */
  from: number;
  to: number;
  peakScore: number;
  verdict: Verdict | null;
  cause?: string;
  endpoint?: string;
}

/** An episode as the monitor makes them, answered or not (straight into the table, as H1's grouping would). */
export function insertEpisode(ws: Workspace, e: EpisodeSeed): number {
  const now = new Date().toISOString();
  const info = ws.db
    .prepare(
      `INSERT INTO episodes (origin, endpoint, model, version, start_at, end_at, rows, peak_score, threshold, created_at, updated_at, verdict, cause, answered_by, answered_at)
       VALUES ('endpoint', ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)`,
    )
    .run(e.endpoint ?? 'this-pc', e.model, e.version, at(e.from), at(e.to), e.to - e.from + 1, e.peakScore, now, now, e.verdict, e.cause ?? null, e.verdict ? 'tester' : null, e.verdict ? now : null);
  return Number(info.lastInsertRowid);
}

/** Answers (or re-answers) an episode in the table. */
export function answer(ws: Workspace, id: number, verdict: Verdict | null, cause?: string): void {
  ws.db.prepare('UPDATE episodes SET verdict = ?, cause = ?, answered_by = ?, answered_at = ? WHERE id = ?').run(verdict, cause ?? null, verdict ? 'tester' : null, verdict ? new Date().toISOString() : null, id);
}
