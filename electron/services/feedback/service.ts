import type { AppEvent } from '../../../shared/api';
import { AppError } from '../../../shared/errors';
import { FeedbackSettingsSchema, type Episode, type EpisodeDetail, type EpisodeInput, type FeedbackSettings, type Inbox, type Verdict } from '../../../shared/feedback';
import type { TrainingReport } from '../../../shared/training';
import type { ProfileCache } from '../monitor/profiles';
import { findVersion } from '../datasets/versions';
import { findModelVersion } from '../training/models';
import type { Workspace } from '../workspace/workspace';
import { askable, EventClock, pendingBatches, pendingVersions, referenceOf, scanEvents, streamId, streamNewest, UTC_CLOCK, versionNumber, type Reference, type ScanResult, type StreamKey } from './episodes';
import { chartOf, parseBody } from './points';
import { lastRun, nextPromptTime, noteRun, previousPromptTime, promptMessage, readSettings, writeSettings } from './prompts';
import { profileOf, rankEpisodes } from './ranking';

/**
 * The feedback loop's first half (DESIGN.md section 10) behind feedback.*:
 * anomaly events grouped into episodes after every poll, the periodic
 * prompt that picks the few most informative, and the answers with who
 * and when.
 */

export interface FeedbackServiceDeps {
  ws: Workspace;
  emit: (e: AppEvent) => void;
  /** The monitor's cache of training profiles (contributing inputs are measured against them). */
  profiles: ProfileCache;
  now?: () => number;
}

interface EpisodeRow extends StreamKey {
  id: number;
  start_at: string;
  end_at: string;
  rows: number;
  peak_score: number;
  threshold: number | null;
  inputs: string;
  created_at: string;
  updated_at: string;
  prompted_at: string | null;
  verdict: Verdict | null;
  cause: string | null;
  comment: string | null;
  answered_by: string | null;
  answered_at: string | null;
}

const COLUMNS = 'id, origin, endpoint, job, source, model, version, start_at, end_at, rows, peak_score, threshold, inputs, created_at, updated_at, prompted_at, verdict, cause, comment, answered_by, answered_at';

/** The longest a timer may wait (setTimeout's limit is about 24.8 days); a later prompt is waited for in steps. */
const MAX_WAIT_MS = 2 ** 31 - 1;

export class FeedbackService {
  private readonly ws: Workspace;
  private readonly emit: (e: AppEvent) => void;
  private readonly profiles: ProfileCache;
  readonly now: () => number;
  private readonly thresholds = new Map<string, number | null>();
  /** The scan under way; the next waits for it, and reads wait so they see what the last poll brought. */
  private scanning: Promise<ScanResult> = Promise.resolve({ created: 0, extended: 0 });
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(deps: FeedbackServiceDeps) {
    this.ws = deps.ws;
    this.emit = deps.emit;
    this.profiles = deps.profiles;
    this.now = deps.now ?? Date.now;
  }

  settings(): FeedbackSettings {
    return readSettings(this.ws.db);
  }

  configure(patch: Partial<FeedbackSettings>): FeedbackSettings {
    const before = this.settings();
    const after = FeedbackSettingsSchema.parse({ ...before, ...patch });
    this.ws.db.transaction(() => {
      writeSettings(this.ws, after);
      this.ws.audit.record('feedback.configure', { before, after });
    })();
    if (this.timer) this.schedule();
    // Minimum sizes change which episodes are asked about and listed.
    this.emit({ type: 'feedback' });
    return after;
  }

  /** Groups the anomaly events not yet in an episode (after every poll, and when asked); one scan at a time. */
  scan(): Promise<ScanResult> {
    const run = this.scanning.catch(() => undefined).then(() => this.scanNow());
    this.scanning = run;
    return run;
  }

  private async scanNow(): Promise<ScanResult> {
    const refs = new Map<string, Reference>();
    const batches = pendingBatches(this.ws.db);
    for (const v of [...pendingVersions(this.ws.db), ...batches.map((b) => ({ model: b.model, version: String(b.version) }))]) {
      const key = `${v.model}\u0000${v.version}`;
      if (!refs.has(key)) refs.set(key, await this.reference(v.model, v.version));
    }
    const gapMs = this.settings().gapMinutes * 60_000;
    const r = scanEvents(this.ws, gapMs, (model, version) => refs.get(`${model}\u0000${version}`), new Date(this.now()), batches);
    if (r.created || r.extended) this.emit({ type: 'feedback' });
    return r;
  }

  /** The training profile and alarm level of a model version; nothing to compare with when the workspace cannot tell. */
  private async reference(model: string, version: string | number): Promise<Reference> {
    const lookup = await this.profiles.get(model, version);
    const v = versionNumber(String(version));
    return referenceOf(lookup.ok ? lookup.value.profile : null, this.threshold(model, v), this.clock(model, v));
  }

  /** How the version's training dataset version reads times (its import's time format and zone); ISO in UTC for a version not trained here. */
  private clock(model: string, version: number): EventClock {
    try {
      const v = findModelVersion(this.ws.db, model, version);
      const settings = findVersion(this.ws.db, v.dataset, v.datasetVersion).settings;
      return EventClock.of(settings.timeFormat ?? 'iso', settings.timeZone);
    } catch {
      return UTC_CLOCK;
    }
  }

  private threshold(model: string, version: number): number | null {
    const key = `${model}\u0000${version}`;
    if (!this.thresholds.has(key)) {
      let t: number | null = null;
      try {
        const v = findModelVersion(this.ws.db, model, version);
        const report = JSON.parse(this.ws.blobs.read(v.reportBlob).toString('utf8')) as Pick<TrainingReport, 'task' | 'threshold'>;
        t = report.task === 'anomaly' && typeof report.threshold === 'number' ? report.threshold : null;
      } catch {
        // A version not trained here (or without a report) has no known level.
      }
      this.thresholds.set(key, t);
    }
    return this.thresholds.get(key)!;
  }

  /** Episodes, newest first (too small to ask about and unanswered: left out until they grow). */
  async list(a: { status?: 'unanswered' | 'answered' | 'all'; model?: string; endpoint?: string; limit?: number } = {}): Promise<Episode[]> {
    await this.settled();
    this.checkFilter(a);
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (a.status === 'unanswered') where.push('verdict IS NULL');
    if (a.status === 'answered') where.push('verdict IS NOT NULL');
    if (a.model) {
      where.push('model = ?');
      args.push(this.modelName(a.model));
    }
    if (a.endpoint) {
      where.push('endpoint = ?');
      args.push(a.endpoint);
    }
    const rows = this.ws.db.prepare(`SELECT ${COLUMNS} FROM episodes ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY start_at DESC, id DESC`).all(...args) as EpisodeRow[];
    const s = this.settings();
    const shown = rows.filter((r) => r.verdict !== null || askable(spanOf(r), s)).slice(0, a.limit ?? 1000);
    return this.toEpisodes(shown, s);
  }

  /** A model or endpoint to list by that this workspace does not know (and no episode or anomaly event names) is said, instead of "no episodes". */
  checkFilter(a: { model?: string; endpoint?: string }): void {
    const db = this.ws.db;
    if (a.model && !db.prepare('SELECT 1 FROM models WHERE name = ? OR id = ? UNION ALL SELECT 1 FROM episodes WHERE model = ? UNION ALL SELECT 1 FROM monitor_events WHERE model = ? LIMIT 1').get(a.model, a.model, a.model, a.model)) {
      throw new AppError('not_found', `There is no model "${a.model}" in this workspace, and no episode or anomaly event of a model by that name. "millwright models" lists the models.`, 'model');
    }
    if (a.endpoint && !db.prepare('SELECT 1 FROM endpoints WHERE name = ? UNION ALL SELECT 1 FROM episodes WHERE endpoint = ? LIMIT 1').get(a.endpoint, a.endpoint)) {
      throw new AppError('not_found', `There is no endpoint "${a.endpoint}" in this workspace, and no episode from one by that name. "millwright endpoints" lists the endpoints.`, 'endpoint');
    }
  }

  private modelName(ref: string): string {
    return (this.ws.db.prepare('SELECT name FROM models WHERE name = ? OR id = ?').get(ref, ref) as { name: string } | undefined)?.name ?? ref;
  }

  /** Reads wait for the scan under way (a failed one is told where it ran). */
  private async settled(): Promise<void> {
    await this.scanning.catch(() => undefined);
  }

  private row(id: number): EpisodeRow {
    const r = this.ws.db.prepare(`SELECT ${COLUMNS} FROM episodes WHERE id = ?`).get(id) as EpisodeRow | undefined;
    if (!r) throw new AppError('not_found', `There is no episode ${id}. It may have been removed; "millwright feedback list" shows the episodes there are.`, 'id');
    return r;
  }

  /** Rows as the contract has them: open or not, and the rank of the unanswered ones. */
  private toEpisodes(rows: EpisodeRow[], s: FeedbackSettings): Episode[] {
    const newest = streamNewest(this.ws.db);
    const gapMs = s.gapMinutes * 60_000;
    const episodes = rows.map((r) => toEpisode(r, newest, gapMs, this.now()));
    const open = episodes.filter((e) => e.verdict === null);
    if (open.length) {
      const ranks = rankEpisodes(open, this.answeredProfiles());
      for (const e of open) {
        const k = ranks.get(e.id)!;
        e.rank = k.rank;
        e.rankReason = k.reason;
      }
    }
    return episodes;
  }

  /** The deviation profiles of the episodes answered real or normal, by model. */
  private answeredProfiles(): Map<string, Map<string, number>[]> {
    const out = new Map<string, Map<string, number>[]>();
    for (const r of this.ws.db.prepare("SELECT model, inputs FROM episodes WHERE verdict IN ('real', 'normal')").all() as { model: string; inputs: string }[]) {
      const list = out.get(r.model);
      if (list) list.push(profileOf(parseInputs(r.inputs)));
      else out.set(r.model, [profileOf(parseInputs(r.inputs))]);
    }
    return out;
  }

  async get(a: { id: number }): Promise<EpisodeDetail> {
    await this.settled();
    const r = this.row(a.id);
    const [episode] = this.toEpisodes([r], this.settings());
    const body = parseBody((this.ws.db.prepare('SELECT points FROM episodes WHERE id = ?').get(a.id) as { points: string }).points);
    const history = this.ws.db.prepare('SELECT verdict, cause, comment, by, at FROM episode_answers WHERE episode = ? ORDER BY id').all(a.id) as EpisodeDetail['history'];
    return { episode: episode!, chart: chartOf(body, episode!.inputs, episode!.start, episode!.end), history };
  }

  /** Answers (or changes the answer to) an episode: kept on it, added to its history with who and when, audited. */
  async answer(a: { id: number; verdict: Verdict; cause?: string; comment?: string }): Promise<Episode> {
    await this.settled();
    const before = this.row(a.id);
    const cause = a.verdict === 'real' ? a.cause?.trim() || null : null;
    const comment = a.comment?.trim() || null;
    const at = new Date(this.now()).toISOString();
    this.ws.db.transaction(() => {
      this.ws.db.prepare('UPDATE episodes SET verdict = ?, cause = ?, comment = ?, answered_by = ?, answered_at = ? WHERE id = ?').run(a.verdict, cause, comment, this.ws.who, at, a.id);
      this.ws.db.prepare('INSERT INTO episode_answers (episode, verdict, cause, comment, by, at) VALUES (?, ?, ?, ?, ?, ?)').run(a.id, a.verdict, cause, comment, this.ws.who, at);
      this.ws.audit.record(
        'feedback.answer',
        {
          episode: a.id,
          model: before.model,
          version: before.version,
          start: before.start_at,
          end: before.end_at,
          verdict: a.verdict,
          cause,
          comment,
          before: before.verdict ? { verdict: before.verdict, cause: before.cause, comment: before.comment } : null,
        },
        new Date(at),
      );
    })();
    this.emit({ type: 'feedback' });
    return this.toEpisodes([this.row(a.id)], this.settings())[0]!;
  }

  /** Causes given to real problems (of a model, or all), most used first; spellings that differ only in case count as one, written as most people wrote it. */
  causes(a: { model?: string } = {}): { cause: string; count: number }[] {
    const rows = this.ws.db
      .prepare(`SELECT cause, COUNT(*) AS n FROM episodes WHERE verdict = 'real' AND cause IS NOT NULL ${a.model ? 'AND model = ?' : ''} GROUP BY cause`)
      .all(...(a.model ? [this.modelName(a.model)] : [])) as { cause: string; n: number }[];
    const by = new Map<string, { cause: string; count: number; best: number }>();
    for (const r of rows) {
      const k = r.cause.toLocaleLowerCase();
      const c = by.get(k);
      if (!c) by.set(k, { cause: r.cause, count: r.n, best: r.n });
      else {
        c.count += r.n;
        if (r.n > c.best || (r.n === c.best && r.cause < c.cause)) [c.cause, c.best] = [r.cause, r.n];
      }
    }
    return [...by.values()].sort((x, y) => y.count - x.count || (x.cause < y.cause ? -1 : 1)).map(({ cause, count }) => ({ cause, count }));
  }

  /** The episodes the last prompt asked about that are still unanswered, most informative first, and when the next prompt comes. */
  async inbox(): Promise<Inbox> {
    await this.settled();
    const s = this.settings();
    const last = (this.ws.db.prepare('SELECT MAX(prompted_at) AS at FROM episodes').get() as { at: string | null }).at;
    const due = last ? this.toEpisodes(this.ws.db.prepare(`SELECT ${COLUMNS} FROM episodes WHERE prompted_at = ? AND verdict IS NULL`).all(last) as EpisodeRow[], s) : [];
    const unanswered = (this.ws.db.prepare(`SELECT ${COLUMNS} FROM episodes WHERE verdict IS NULL`).all() as EpisodeRow[]).filter((r) => askable(spanOf(r), s)).length;
    return {
      due: byRank(due).slice(0, s.perPrompt),
      unanswered,
      lastPromptAt: last,
      nextPromptAt: new Date(nextPromptTime(this.now(), s.promptTimes)).toISOString(),
    };
  }

  /**
   * Asks now: the most informative unanswered episodes (at most perPrompt)
   * are marked as asked, and windows are told ("3 episodes of … are
   * waiting for your answer"). Nothing to ask: nothing is said.
   */
  async prompt(): Promise<Inbox> {
    await this.settled();
    const s = this.settings();
    const now = this.now();
    const candidates = (this.ws.db.prepare(`SELECT ${COLUMNS} FROM episodes WHERE verdict IS NULL`).all() as EpisodeRow[]).filter((r) => askable(spanOf(r), s));
    const picked = byRank(this.toEpisodes(candidates, s).filter((e) => promptable(e, now))).slice(0, s.perPrompt);
    const at = new Date(now).toISOString();
    this.ws.db.transaction(() => {
      const mark = this.ws.db.prepare('UPDATE episodes SET prompted_at = ? WHERE id = ?');
      for (const e of picked) mark.run(at, e.id);
      noteRun(this.ws, now);
    })();
    if (picked.length) {
      this.emit({ type: 'prompt', due: picked.length, message: promptMessage(picked.map((e) => e.model)) });
      this.emit({ type: 'feedback' });
    }
    return this.inbox();
  }

  /**
   * Starts the prompt timer. A prompt time that passed while the app was
   * closed is made up once now; a workspace that never ran the schedule
   * starts counting from now.
   */
  start(): void {
    if (this.closed || this.timer) return;
    const now = this.now();
    const ran = lastRun(this.ws.db);
    if (ran === null) noteRun(this.ws, now);
    else if (previousPromptTime(now, this.settings().promptTimes) > ran) void this.prompt().catch(() => undefined);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.closed) return;
    const next = nextPromptTime(this.now(), this.settings().promptTimes);
    const wait = Math.min(MAX_WAIT_MS, Math.max(0, next - this.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      const due = this.now() >= next;
      void (due ? this.prompt() : Promise.resolve())
        .catch(() => undefined)
        .finally(() => {
          if (!this.closed) this.schedule();
        });
    }, wait);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.settled();
  }
}

/** An episode still growing waits this long (since it began) before a prompt asks about it anyway. */
export const OPEN_PROMPT_AFTER_MS = 4 * 60 * 60_000;

/**
 * Rule: a prompt asks about an episode once it is closed (no row within the
 * gap for a while), so the answer covers the whole stretch; one still open
 * after OPEN_PROMPT_AFTER_MS (a long fault that keeps being flagged) is asked
 * about anyway, since waiting longer would only delay the answer. Answering
 * closes it: later rows start a new episode.
 */
const promptable = (e: Episode, now: number): boolean => !e.open || now - Date.parse(e.createdAt) > OPEN_PROMPT_AFTER_MS;

const spanOf = (r: EpisodeRow) => ({ start: Date.parse(r.start_at), end: Date.parse(r.end_at), rows: r.rows });

const byRank = (es: Episode[]): Episode[] => [...es].sort((a, b) => (b.rank ?? 0) - (a.rank ?? 0) || b.start.localeCompare(a.start) || b.id - a.id);

function parseInputs(json: string): EpisodeInput[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as EpisodeInput[]) : [];
  } catch {
    return [];
  }
}

/**
 * Open: more rows may still join. Its end is within the gap of the newest row
 * of its stream, and it grew within the gap of now: the edge sends only
 * flagged rows and a few either side, so a stream that goes quiet (or runs
 * on normally) would otherwise leave its last episode open for good.
 */
function toEpisode(r: EpisodeRow, newest: Record<string, number>, gapMs: number, now: number): Episode {
  const key = streamId({ origin: r.origin, endpoint: r.endpoint, job: r.job, source: r.source, model: r.model, version: r.version });
  const last = newest[key];
  return {
    id: r.id,
    model: r.model,
    version: r.version,
    origin: r.origin,
    endpoint: r.endpoint,
    job: r.job,
    source: r.source,
    start: r.start_at,
    end: r.end_at,
    rows: r.rows,
    peakScore: r.peak_score,
    threshold: r.threshold,
    inputs: parseInputs(r.inputs),
    open: r.origin === 'endpoint' && last !== undefined && last - Date.parse(r.end_at) <= gapMs && now - Date.parse(r.updated_at) <= gapMs,
    verdict: r.verdict,
    cause: r.cause,
    comment: r.comment,
    answeredBy: r.answered_by,
    answeredAt: r.answered_at,
    promptedAt: r.prompted_at,
    rank: null,
    rankReason: null,
    createdAt: r.created_at,
  };
}
