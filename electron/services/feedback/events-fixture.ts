import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AppEvent } from '../../../shared/api';
import { ProfileCache } from '../monitor/profiles';
import { Workspace } from '../workspace/workspace';
import { FeedbackService } from './service';

/**
 * For the feedback tests: a workspace with endpoints kiln-1 and kiln-2 and
 * anomaly events stored as the monitor stores them, minutes after T0.
 */
export const T0 = Date.parse('2024-03-04T08:00:00Z');
export const MIN = 60_000;
export const at = (m: number): string => new Date(T0 + m * MIN).toISOString();

export interface EventSeed {
  m: number;
  score?: number;
  source?: string;
  model?: string;
  version?: string;
  /** false: a context row. */
  flagged?: boolean;
  /** 'none': the row carries no time of its own (it counts when received, minute m). */
  time?: 'iso' | 'none';
  inputs?: Record<string, unknown>;
}

export class EventsFixture {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-feedback-'));
  readonly ws = Workspace.open(path.join(this.root, 'ws'), { who: 'ana' });
  readonly events: AppEvent[] = [];
  private seq = 0;
  now = T0 + 1000 * MIN;

  constructor() {
    for (const name of ['kiln-1', 'kiln-2']) this.ws.db.prepare("INSERT INTO endpoints (name, kind, url, added_at, added_by) VALUES (?, 'remote', 'http://127.0.0.1:1', '2024-03-01T00:00:00.000Z', 'ana')").run(name);
  }

  /** A FeedbackService on the workspace (as after a start of the app), its clock at `now` (or the system's). */
  service(clock: 'fixture' | 'system' = 'fixture'): FeedbackService {
    return new FeedbackService({ ws: this.ws, emit: (e) => this.events.push(e), profiles: new ProfileCache(this.ws), ...(clock === 'fixture' ? { now: () => this.now } : {}) });
  }

  put(endpoint: string, rows: EventSeed[]): void {
    const ins = this.ws.db.prepare('INSERT INTO monitor_events (endpoint, seq, time, received_at, source, model, version, score, inputs, flagged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const r of rows) {
      const own = r.time !== 'none';
      ins.run(endpoint, ++this.seq, own ? at(r.m) : null, own ? '2030-01-01T00:00:00.000Z' : at(r.m), r.source ?? 'default', r.model ?? 'Kiln', r.version ?? '1', r.score ?? 0.7, JSON.stringify(r.inputs ?? { Temp: 70 + r.m }), r.flagged === false ? 0 : 1);
    }
  }

  close(): void {
    this.ws.close();
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
