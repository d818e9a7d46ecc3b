import crypto from 'node:crypto';
import type { ModelVersionInfo } from '../../../shared/api';
import { AppError } from '../../../shared/errors';
import type { EpisodeTally, Recalibration } from '../../../shared/feedback';
import type { TrainingReport } from '../../../shared/training';
import { findVersion } from '../datasets/versions';
import { setAlias } from '../registry/aliases';
import { modelOnnx, readPipeline } from '../scoring/onnx-store';
import { splitRows } from '../training/automl';
import { scoreMetrics } from '../training/evaluate';
import { buildFeatures, selectRows } from '../training/features';
import { loadFrame, numericValues } from '../training/frame';
import { findModelVersion, publicInfo, recordModelVersion, type ModelVersionRecord, type RunSettings } from '../training/models';
import { predictFeatures, type FittedPipeline } from '../training/pipeline';
import type { Workspace } from '../workspace/workspace';
import { answeredEpisodes, productionOrNewest } from './labels';

/** Fewer answered real/normal episodes than this suggest nothing. */
export const MIN_ANSWERS = 3;
/** In a trade-off, missing a real problem weighs as much as this many false alarms. */
const MISS_WEIGHT = 2;

/** An answered episode as the alarm level sees it: its peak score and whether it was a real problem. */
export interface Peak {
  score: number;
  real: boolean;
}

/** Real problems flagged (peak above the level) or missed, normal episodes flagged (false alarms) or quiet. */
export function tallyAt(peaks: Peak[], level: number): EpisodeTally {
  const t = { caught: 0, missed: 0, falseAlarms: 0, quiet: 0 };
  for (const p of peaks) {
    const flagged = p.score > level;
    if (p.real) t[flagged ? 'caught' : 'missed']++;
    else t[flagged ? 'falseAlarms' : 'quiet']++;
  }
  return t;
}

/** The shortest number (fewest significant digits) strictly between lo and hi: a level people can read, above the peak it avoids (the graph flags score > level) and below the one it catches. */
function roundIn(lo: number, hi: number): number {
  const mid = (lo + hi) / 2;
  for (let d = 1; d <= 12; d++) {
    const r = Number(mid.toPrecision(d));
    if (r > lo && r < hi) return r;
  }
  return mid;
}

/** Two levels, written with as many digits as it takes to tell them apart (at least 3 significant, as the model page writes levels). */
export function levelText(a: number, b?: number): [string, string] {
  for (let d = 3; d <= 8; d++) {
    const x = String(Number(a.toPrecision(d))), y = b === undefined ? '' : String(Number(b.toPrecision(d)));
    if (b === undefined || x !== y) return [x, y];
  }
  return [String(a), String(b ?? '')];
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "all 5 real problems" / "the real problem". */
function allOf(n: number, what: string): string {
  return n === 1 ? `the ${what}` : `all ${n} ${what}s`;
}

function avoided(before: EpisodeTally, after: EpisodeTally): string {
  const k = before.falseAlarms - after.falseAlarms, n = before.falseAlarms;
  return k === n ? `avoided ${allOf(n, 'false alarm')}` : `avoided ${k} of ${count(n, 'false alarm')}`;
}

/**
 * The alarm level the answers suggest (DESIGN.md section 10). First choice:
 * the level that avoids the most false alarms while every real problem is
 * still caught. When no such level avoids any, the best trade-off (a missed
 * real problem weighs as two false alarms), said as such. Levels are
 * compared on the episodes' peak scores: an episode is flagged at a level
 * when its peak is above it, as the model's graph flags a row.
 */
export function suggestLevel(peaks: Peak[], current: number): { suggested: number | null; before: EpisodeTally; after: EpisodeTally | null; sentence: string } {
  const before = tallyAt(peaks, current);
  const real = before.caught + before.missed;
  const [cur] = levelText(current);
  const none = (sentence: string) => ({ suggested: null, before, after: null, sentence });
  if (peaks.length < MIN_ANSWERS) {
    const answered = peaks.length ? `Only ${count(peaks.length, 'episode is', 'episodes are')} answered` : 'No episode is answered yet';
    return none(`${answered} as a real problem or normal operation; at least ${MIN_ANSWERS} are needed before the answers can suggest an alarm level.`);
  }
  if (!real) return none(`None of the ${peaks.length} answered episodes is a real problem yet, so another alarm level cannot be checked against one; the alarm level stays at ${cur}.`);
  if (!before.falseAlarms && !before.missed) return none(`The alarm level ${cur} caught ${allOf(real, 'real problem')} without a false alarm on the answered episodes; no change is needed.`);

  // One candidate level per stretch between neighbouring peaks (and one below and one above them all).
  const u = [...new Set(peaks.map((p) => p.score))].sort((a, b) => a - b);
  const pad = u.length > 1 ? (u[u.length - 1]! - u[0]!) / u.length : Math.abs(u[0]!) * 0.1 || 0.1;
  const levels = [roundIn(u[0]! - 2 * pad, u[0]!), ...u.map((lo, i) => roundIn(lo, u[i + 1] ?? lo + 2 * pad))];
  const options = levels.map((level) => ({ level, t: tallyAt(peaks, level) }));
  const closest = (a: { level: number }, b: { level: number }) => Math.abs(a.level - current) - Math.abs(b.level - current);

  const allCaught = options.filter((o) => o.t.missed === 0).sort((a, b) => a.t.falseAlarms - b.t.falseAlarms || closest(a, b))[0];
  if (allCaught && (allCaught.t.falseAlarms < before.falseAlarms || before.missed > 0)) {
    const [from, to] = levelText(current, allCaught.level);
    const raise = allCaught.level > current;
    const effect = before.missed > 0
      ? `caught ${allOf(real, 'real problem')} (${before.missed} missed at ${from})${allCaught.t.falseAlarms > before.falseAlarms ? ` at the cost of ${count(allCaught.t.falseAlarms - before.falseAlarms, 'more false alarm')}` : ''}`
      : `${avoided(before, allCaught.t)} and still caught ${allOf(real, 'real problem')}`;
    return { suggested: allCaught.level, before, after: allCaught.t, sentence: `${raise ? 'Raising' : 'Lowering'} the alarm level from ${from} to ${to} would have ${effect}.` };
  }

  const value = (t: EpisodeTally) => before.falseAlarms - t.falseAlarms + MISS_WEIGHT * (before.missed - t.missed);
  const trade = options.filter((o) => value(o.t) > 0).sort((a, b) => value(b.t) - value(a.t) || a.t.missed - b.t.missed || closest(a, b))[0];
  const impossible = `No alarm level would have avoided a false alarm and still caught ${allOf(real, 'real problem')}`;
  if (!trade) {
    return none(`${impossible}: the false alarms scored as high as the real problems, so the alarm level stays at ${cur}. Retraining on the answers can teach the model the difference.`);
  }
  const [from, to] = levelText(current, trade.level);
  return {
    suggested: trade.level,
    before,
    after: trade.t,
    sentence: `${impossible}; the best trade-off, ${trade.level > current ? 'raising' : 'lowering'} it from ${from} to ${to}, would have ${avoided(before, trade.t)} but missed ${trade.t.missed} of ${count(real, 'real problem')}.`,
  };
}

function anomalyVersion(ws: Workspace, model: string, version?: number): ModelVersionRecord {
  const v = version === undefined ? productionOrNewest(ws.db, model) : findModelVersion(ws.db, model, version);
  if (v.task !== 'anomaly') throw new AppError('bad_input', `"${v.model}" predicts ${v.target ?? 'a value'}; only models that flag unusual behaviour have an alarm level.`, 'model');
  return v;
}

/**
 * The version and those it was made from with another alarm level: the same
 * learner gives the same scores, so their episodes' peaks hold for it too.
 */
function sameScores(ws: Workspace, v: ModelVersionRecord): number[] {
  const out = [v.version];
  for (let from = v.settings.derivedFrom?.version; from !== undefined && !out.includes(from); ) {
    out.push(from);
    from = findModelVersion(ws.db, v.model, from).settings.derivedFrom?.version;
  }
  return out;
}

/** The alarm level the answered episodes of a model version (production by default) suggest, with its effect in words. */
export function recalibration(ws: Workspace, a: { model: string; version?: number }): Recalibration {
  const v = anomalyVersion(ws, a.model, a.version);
  const current = readPipeline(ws, v).threshold!;
  const episodes = sameScores(ws, v).flatMap((n) => answeredEpisodes(ws.db, v.model, n)).filter((e) => e.verdict !== 'unsure');
  const peaks = episodes.map((e) => ({ score: e.peakScore, real: e.verdict === 'real' }));
  const s = suggestLevel(peaks, current);
  return {
    model: v.model,
    version: v.version,
    current,
    suggested: s.suggested,
    answered: { real: peaks.filter((p) => p.real).length, normal: peaks.filter((p) => !p.real).length },
    before: s.before,
    after: s.after,
    sentence: s.sentence,
  };
}


/**
 * The holdout figures of a pipeline, worked out again in process: the same
 * rows, split and labels as its training run; the scores do not change with
 * the alarm level, only the flags and the figures counted from them.
 */
function refigure(ws: Workspace, v: ModelVersionRecord, p: FittedPipeline): { metrics: Record<string, number>; trainFlagRate: number } {
  const s = v.settings;
  const dv = findVersion(ws.db, v.dataset, v.datasetVersion);
  const frame = loadFrame(ws.blobs, dv.schema, dv.rowCount, [...s.inputs, ...(s.labelColumn ? [s.labelColumn] : [])], s.timeColumn);
  const split = splitRows(frame, s, null, Int32Array.from({ length: frame.rows }, (_, i) => i));
  const x = buildFeatures(p.plan, frame);
  const lab = s.labelColumn ? numericValues(frame.columns.get(s.labelColumn)!) : null;
  const hold = split.holdout;
  const metrics = scoreMetrics('anomaly', { kind: 'label', y: lab ? Uint8Array.from(hold, (i) => (lab[i]! > 0 ? 1 : 0)) : null }, predictFeatures(p, selectRows(x, hold)));
  const train = predictFeatures(p, selectRows(x, split.train)).flag!;
  let flagged = 0;
  for (const f of train) flagged += f;
  return { metrics, trainFlagRate: train.length ? flagged / train.length : 0 };
}

/**
 * A new model version that is the given one with another alarm level: the
 * same learner and features, a new threshold in its pipeline, report and
 * ONNX graph. Its run names the version it was made from and why; it is
 * marked challenger, so it is tried before it replaces production.
 */
export function applyThreshold(ws: Workspace, a: { model: string; version?: number; threshold: number; reason: string }): ModelVersionInfo {
  const v = anomalyVersion(ws, a.model, a.version);
  const pipeline = readPipeline(ws, v);
  const [from, to] = levelText(pipeline.threshold!, a.threshold);
  if (a.threshold === pipeline.threshold) throw new AppError('bad_input', `The alarm level of ${v.model} version ${v.version} is already ${from}.`, 'threshold');
  const next: FittedPipeline = { ...pipeline, threshold: a.threshold };
  const { metrics, trainFlagRate } = refigure(ws, v, next);
  const report = JSON.parse(ws.blobs.read(v.reportBlob).toString('utf8')) as TrainingReport;
  const leaderboard = report.leaderboard.map((e, i) => (i === report.bestIndex ? { ...e, metrics } : e));
  const derivedFrom: NonNullable<RunSettings['derivedFrom']> = { version: v.version, reason: a.reason.trim(), change: `alarm level ${from} → ${to}` };
  const settings = { ...v.settings, derivedFrom };
  const modelJson = JSON.stringify(next);
  const now = new Date().toISOString();
  const made = ws.db.transaction(() => {
    const nv = recordModelVersion(ws, {
      modelName: v.model,
      task: v.task,
      datasetVersionId: findVersion(ws.db, v.dataset, v.datasetVersion).id,
      jobId: null,
      settings,
      appVersion: v.appVersion,
      startedAt: now,
      endedAt: now,
      durationSeconds: 0,
      leaderboard,
      algorithm: pipeline.algorithm,
      metrics,
      modelBlob: ws.blobs.put(modelJson),
      modelHash: crypto.createHash('sha256').update(modelJson).digest('hex'),
      reportBlob: ws.blobs.put(JSON.stringify({ ...report, threshold: a.threshold, metrics, leaderboard, trainFlagRate, settings })),
    });
    modelOnnx(ws, nv);
    ws.audit.record('model.threshold', { model: v.model, from: v.version, version: nv.version, threshold: { from: pipeline.threshold, to: a.threshold }, reason: derivedFrom.reason });
    return setAlias(ws, { model: v.model, version: nv.version, alias: 'challenger', reason: `Version ${v.version} with the ${derivedFrom.change}: ${derivedFrom.reason}` });
  }).immediate();
  return publicInfo(made);
}
