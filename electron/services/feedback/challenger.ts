import type { ModelVersionInfo } from '../../../shared/api';
import { AppError } from '../../../shared/errors';
import type { ChallengerReport, EpisodeTally, ShadowSummary } from '../../../shared/feedback';
import type { DatasetReader } from '../datasets/reader';
import type { DeployService } from '../deploy/deploy';
import { shadowSummary, stopShadow } from '../deploy/shadow';
import { clearAlias, setAlias } from '../registry/aliases';
import { compareVersions, scoreAll } from '../registry/compare';
import { loadFrame } from '../training/frame';
import { findModelVersion, publicInfo, type ModelVersionRecord } from '../training/models';
import type { Workspace } from '../workspace/workspace';
import { answeredEpisodes, productionOf, timeSpan } from './labels';

/**
 * Production beside its challenger (DESIGN.md section 10): the same holdout,
 * the answered episodes scored again by both, and the shadow runs; then
 * promote with a reason (and deploy where production ran), or discard.
 */

/** The challenger version, or null when the model has none. */
export function challengerOf(ws: Workspace, model: string): ModelVersionRecord | null {
  const m = findModelVersion(ws.db, model).model;
  try {
    return findModelVersion(ws.db, m, 'challenger');
  } catch (e) {
    if (e instanceof AppError && e.code === 'not_found') return null;
    throw e;
  }
}

/** Shadow runs of a version, as the deploy side keeps them (deploy/shadow.ts): read, summed and ended there. */
const shadowSide = {
  endpoints(ws: Workspace, v: ModelVersionRecord): string[] {
    return (ws.db.prepare('SELECT endpoint FROM shadows WHERE model = ? AND version = ? ORDER BY endpoint').all(v.model, v.version) as { endpoint: string }[]).map((r) => r.endpoint);
  },
  summaries(ws: Workspace, v: ModelVersionRecord): ShadowSummary[] {
    return this.endpoints(ws, v).flatMap((e) => shadowSummary(ws, e) ?? []);
  },
  /** Ends them all; an endpoint out of reach has its run forgotten here with a note (kept in the audit entry). */
  async stop(ws: Workspace, deploy: DeployService, v: ModelVersionRecord, reason: string): Promise<{ ended: string[]; notes: string[] }> {
    const ended: string[] = [], notes: string[] = [];
    for (const endpoint of this.endpoints(ws, v)) {
      const r = await stopShadow(ws, deploy, endpoint, reason);
      if (r.stopped) ended.push(endpoint);
      if (r.note) notes.push(r.note);
    }
    return { ended, notes };
  },
};

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** How each version fares on the answered episodes: an episode is flagged when any of its rows in the data is. */
async function episodeTallies(ws: Workspace, reader: DatasetReader, prod: ModelVersionRecord, chall: ModelVersionRecord): Promise<ChallengerReport['episodes']> {
  // The newest version of the challenger's dataset: after "Add my answers to the data", the labelled one.
  const dv = reader.version(chall.dataset);
  if (!dv.timeColumn) return null;
  const episodes = answeredEpisodes(ws.db, chall.model).filter((e) => e.verdict !== 'unsure');
  if (!episodes.length) return null;
  const inputs = [...new Set([...prod.inputs, ...chall.inputs])];
  const missing = inputs.filter((n) => !dv.schema.some((c) => c.name === n));
  if (missing.length) throw new AppError('bad_input', `${dv.datasetName}@${dv.version} has no column ${missing.map((n) => `"${n}"`).join(', ')}, which the models read.`, 'dataset');
  const frame = loadFrame(ws.blobs, dv.schema, dv.rowCount, inputs, dv.timeColumn);
  const time = frame.time!;
  const [a, b] = [await scoreAll(prod, ws, frame), await scoreAll(chall, ws, frame)];
  const empty = (): EpisodeTally => ({ caught: 0, missed: 0, falseAlarms: 0, quiet: 0 });
  const out = { real: 0, normal: 0, production: empty(), challenger: empty() };
  for (const e of episodes) {
    const [from, to] = timeSpan(time, e.start, e.end);
    if (from >= to) continue; // not in the data
    const real = e.verdict === 'real';
    out[real ? 'real' : 'normal']++;
    for (const [s, t] of [[a, out.production], [b, out.challenger]] as const) {
      let flagged = false;
      for (let i = from; i < to && !flagged; i++) flagged = s.anomaly![i] === 1;
      if (real) t[flagged ? 'caught' : 'missed']++;
      else t[flagged ? 'falseAlarms' : 'quiet']++;
    }
  }
  return out.real + out.normal ? out : null;
}

function fares(t: EpisodeTally, real: number): string {
  const raises = `raises ${count(t.falseAlarms, 'false alarm')}`;
  if (!real) return raises;
  const catches = t.caught === real ? (real === 1 ? 'catches the real problem' : `catches all ${real} real problems`) : `catches ${t.caught} of ${count(real, 'real problem')}`;
  return `${catches} and ${raises}`;
}

/** Production and challenger on the same holdout and on the answered episodes, with the shadow runs, in one sentence. */
export async function challengerReport(ws: Workspace, reader: DatasetReader, a: { model: string }): Promise<ChallengerReport> {
  const model = findModelVersion(ws.db, a.model).model;
  const prod = productionOf(ws.db, model), chall = challengerOf(ws, model);
  const side = (v: ModelVersionRecord | null, metrics?: Record<string, number>) => (v ? { version: v.version, metrics: metrics ?? v.metrics } : null);
  const base = { model, holdout: null, episodes: null, shadows: chall ? shadowSide.summaries(ws, chall) : [] };
  if (!chall) {
    return { ...base, production: side(prod), challenger: null, metric: prod?.metric ?? null, sentence: `"${model}" has no challenger yet: retrain it on your answers, or make one with a new alarm level.` };
  }
  if (!prod) {
    return { ...base, production: null, challenger: side(chall), metric: chall.metric, sentence: `"${model}" has no production version yet; the challenger (v${chall.version}) can be promoted to become it.` };
  }
  const c = await compareVersions(ws, reader, `${model}@${prod.version}`, `${model}@${chall.version}`);
  const metricsOf = (v: ModelVersionRecord) => (c.a.version === v.version ? c.metrics.a : c.metrics.b);
  let episodes: ChallengerReport['episodes'] = null;
  let sentence = c.sentence;
  try {
    episodes = await episodeTallies(ws, reader, prod, chall);
  } catch (e) {
    // Data that cannot be scored by both (an input missing in the newest version) leaves the episodes out, said why.
    if (!(e instanceof AppError && e.code === 'bad_input')) throw e;
    sentence = `${c.sentence} The answered episodes were not compared: ${e.message}`;
  }
  if (episodes) {
    const p = episodes.production, ch = episodes.challenger;
    const lead = `The challenger (v${chall.version}) ${fares(ch, episodes.real)} on the answered episodes`;
    sentence = `${p.caught === ch.caught ? `${lead}, against ${p.falseAlarms} for production (v${prod.version})` : `${lead}; production (v${prod.version}) ${fares(p, episodes.real)}`}. ${c.sentence}`;
  }
  return {
    ...base,
    production: side(prod, metricsOf(prod)),
    challenger: side(chall, metricsOf(chall)),
    holdout: { dataset: c.holdout.dataset, datasetVersion: c.holdout.datasetVersion, rows: c.holdout.rows },
    metric: c.metric,
    episodes,
    sentence,
  };
}

function requireChallenger(ws: Workspace, model: string): ModelVersionRecord {
  const chall = challengerOf(ws, model);
  if (!chall) throw new AppError('not_found', `"${findModelVersion(ws.db, model).model}" has no challenger: retrain it on your answers, or make one with a new alarm level, first.`, 'model');
  return chall;
}

/**
 * The challenger becomes production (audited with the reason), its shadow
 * runs end, and, unless told otherwise, it is deployed to every endpoint
 * that served the production version it replaces.
 */
export async function promoteChallenger(ws: Workspace, deploy: DeployService, a: { model: string; reason: string; deploy?: boolean }): Promise<ModelVersionInfo> {
  const chall = requireChallenger(ws, a.model);
  const old = productionOf(ws.db, chall.model);
  const serving = old ? deploy.list().filter((e) => e.model?.name === chall.model && Number(e.model.version) === old.version).map((e) => e.name) : [];
  const promoted = setAlias(ws, { model: chall.model, version: chall.version, alias: 'production', reason: a.reason });
  // Its shadow runs end before it is deployed, so no endpoint runs it beside itself.
  const shadows = await shadowSide.stop(ws, deploy, chall, `Version ${chall.version} became production`);
  const deployTo = a.deploy === false ? [] : serving;
  ws.audit.record('challenger.promote', { model: chall.model, from: old?.version ?? null, to: chall.version, reason: a.reason.trim(), shadowsEnded: shadows.ended, ...(shadows.notes.length ? { notes: shadows.notes } : {}), deployTo });
  const failed: string[] = [];
  for (const name of deployTo) {
    try {
      const r = await deploy.run({ model: chall.model, version: chall.version, target: { kind: 'endpoint', name } });
      if (!r.ok) failed.push(`"${name}" (${r.checks.filter((x) => !x.ok).map((x) => x.detail).join(' ')})`);
    } catch (e) {
      failed.push(`"${name}" (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  if (failed.length) {
    throw new AppError('conflict', `Version ${chall.version} of "${chall.model}" is production now, but deploying it failed on ${failed.join(', ')}. Deploy it there again from the Deploy page.`, 'deploy');
  }
  return publicInfo(promoted);
}

/** The challenger is no longer on trial (audited with the reason) and its shadow runs end; the version stays in the registry. */
export async function discardChallenger(ws: Workspace, deploy: DeployService, a: { model: string; reason: string }): Promise<ModelVersionInfo> {
  const chall = requireChallenger(ws, a.model);
  clearAlias(ws, { model: chall.model, alias: 'challenger', reason: a.reason });
  const shadows = await shadowSide.stop(ws, deploy, chall, `Challenger discarded: ${a.reason.trim()}`);
  ws.audit.record('challenger.discard', { model: chall.model, version: chall.version, reason: a.reason.trim(), shadowsEnded: shadows.ended, ...(shadows.notes.length ? { notes: shadows.notes } : {}) });
  return publicInfo(findModelVersion(ws.db, chall.model, chall.version));
}
