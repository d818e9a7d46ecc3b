import type { EndpointSummary } from '../../../shared/deploy';
import { LABEL_COLUMNS, type FeedbackSuggestion } from '../../../shared/feedback';
import { listAlerts } from '../monitor/alerts';
import { findModelVersion, listModels } from '../training/models';
import type { Workspace } from '../workspace/workspace';
import { answeredEpisodes, causeSpellings, productionOrNewest } from './labels';
import { recalibration } from './recalibrate';

/** Confirmed real problems of one cause before a model that names the cause is offered. */
export const CAUSE_MODEL_MIN = 3;
/** Answers since the production version was trained before retraining is offered. */
export const RETRAIN_ANSWERS_MIN = 10;

/** Causes of the episodes answered real, most confirmed first (ties by name); spellings differing only in case count as one, written as first given. */
export function confirmedCauses(ws: Workspace, model: string): { cause: string; count: number }[] {
  const episodes = answeredEpisodes(ws.db, model);
  const spelling = causeSpellings(episodes);
  const counts = new Map<string, number>();
  for (const e of episodes) {
    if (e.verdict !== 'real' || !e.cause) continue;
    const name = spelling.get(e.cause.toLocaleLowerCase())!;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([cause, count]) => ({ cause, count })).sort((a, b) => b.count - a.count || (a.cause < b.cause ? -1 : 1));
}

/**
 * What the answers and monitoring suggest for each model (DESIGN.md section
 * 10), one sentence each: a new alarm level, a model that names the cause,
 * or retraining when an endpoint serving it drifted or many answers came in
 * since its production version was trained.
 */
export function feedbackSuggestions(ws: Workspace, endpoints: EndpointSummary[], a: { model?: string }): FeedbackSuggestion[] {
  const models = a.model ? [findModelVersion(ws.db, a.model).model] : listModels(ws.db).map((m) => m.name);
  const drifting = listAlerts(ws.db, { limit: 1000 }).filter((al) => al.kind === 'drift' && al.state === 'firing');
  const out: FeedbackSuggestion[] = [];
  for (const model of models) {
    const prod = productionOrNewest(ws.db, model);
    if (prod.task === 'anomaly') {
      const r = recalibration(ws, { model });
      if (r.suggested !== null) out.push({ kind: 'recalibrate', model, sentence: r.sentence, detail: { version: r.version, current: r.current, suggested: r.suggested } });
    }

    const top = confirmedCauses(ws, model)[0];
    if (top && top.count >= CAUSE_MODEL_MIN) {
      out.push({
        kind: 'cause_model',
        model,
        sentence: `${top.count} episodes of "${model}" were confirmed as real problems caused by "${top.cause}". Add your answers to the data and train a model that names the cause from "${LABEL_COLUMNS.cause}", so the next alarm says what is likely wrong.`,
        detail: { cause: top.cause, count: top.count },
      });
    }

    const served = new Set(endpoints.filter((e) => e.model?.name === model).map((e) => e.name));
    const drift = drifting.find((al) => served.has(al.endpoint));
    const since = answeredEpisodes(ws.db, model).filter((e) => e.verdict !== 'unsure' && e.answeredAt !== null && e.answeredAt > prod.createdAt).length;
    if (drift) {
      out.push({
        kind: 'retrain',
        model,
        sentence: `The data reaching ${drift.endpoint} has changed since "${model}" version ${prod.version} was trained; retrain it on recent data${since ? ` and your ${since} new answers` : ''}.`,
        detail: { reason: 'drift', endpoint: drift.endpoint, answers: since },
      });
    } else if (since >= RETRAIN_ANSWERS_MIN) {
      out.push({
        kind: 'retrain',
        model,
        sentence: `${since} episodes of "${model}" were answered since version ${prod.version} was trained; retrain it on them so it learns what you told it.`,
        detail: { reason: 'answers', endpoint: null, answers: since },
      });
    }
  }
  return out;
}
