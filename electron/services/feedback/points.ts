import type { EpisodeDetail, EpisodeInput } from '../../../shared/feedback';

/**
 * An episode's chart rows, kept with it (the `points` column) because the
 * anomaly events they come from are pruned after 30 days and answers are
 * kept for good.
 */

/** At most this many rows are kept for an episode's chart. */
export const MAX_POINTS = 400;

/** A row kept for an episode's chart: data time (ms), score, flagged (1) or context (0), inputs by name. */
export interface PointRow {
  t: number;
  s: number | null;
  f: 0 | 1;
  x: Record<string, number | string | null>;
}

/** What an episode keeps about its rows so it can grow without them. */
export interface EpisodeBody {
  /** Chart rows, time order, at most MAX_POINTS (the peak always among them). */
  rows: PointRow[];
  /** The largest deviation from training seen per input over the flagged rows. */
  devs: Record<string, number>;
  /** The flagged row with the highest score. */
  peak: PointRow | null;
}

export const emptyBody = (): EpisodeBody => ({ rows: [], devs: {}, peak: null });

/** The body kept in the table; an episode stored without one (or with one this version cannot read) reads as empty. */
export function parseBody(json: string): EpisodeBody {
  try {
    const b = JSON.parse(json) as Partial<EpisodeBody>;
    return { rows: Array.isArray(b.rows) ? b.rows : [], devs: b.devs && typeof b.devs === 'object' ? b.devs : {}, peak: b.peak ?? null };
  } catch {
    return emptyBody();
  }
}

export function pointOf(r: { t: number; score: number | null; flagged: boolean; inputs: Record<string, unknown> }): PointRow {
  const x: PointRow['x'] = {};
  for (const [k, v] of Object.entries(r.inputs)) x[k] = typeof v === 'number' || typeof v === 'string' ? v : null;
  return { t: r.t, s: r.score, f: r.flagged ? 1 : 0, x };
}

/**
 * At most `max` rows in time order: the rows split into `max` runs of
 * neighbours and the highest of each kept (flagged rows before context rows,
 * then by score), so the peak and every spike survive.
 */
export function downsample(rows: PointRow[], max = MAX_POINTS): PointRow[] {
  if (rows.length <= max) return rows;
  const out: PointRow[] = [];
  for (let k = 0; k < max; k++) {
    const from = Math.floor((k * rows.length) / max), to = Math.floor(((k + 1) * rows.length) / max);
    let best = rows[from]!;
    for (let i = from + 1; i < to; i++) if (higher(rows[i]!, best)) best = rows[i]!;
    out.push(best);
  }
  return out;
}

const higher = (a: PointRow, b: PointRow): boolean => a.f > b.f || (a.f === b.f && (a.s ?? -Infinity) > (b.s ?? -Infinity));

const iso = (t: number) => new Date(t).toISOString();

/** The card's chart: the score with flagged rows marked, and each contributing input that has numbers, with its normal band. */
export function chartOf(body: EpisodeBody, inputs: EpisodeInput[], start: string, end: string): EpisodeDetail['chart'] {
  const rows = body.rows;
  return {
    from: rows.length ? iso(rows[0]!.t) : start,
    to: rows.length ? iso(rows.at(-1)!.t) : end,
    score: rows.map((r) => ({ t: iso(r.t), v: r.s, flagged: r.f === 1 })),
    inputs: inputs
      .filter((i) => rows.some((r) => typeof r.x[i.name] === 'number'))
      .map((i) => ({
        name: i.name,
        points: rows.map((r) => {
          const v = r.x[i.name];
          return { t: iso(r.t), v: typeof v === 'number' ? v : null };
        }),
        normalLow: i.normalLow,
        normalHigh: i.normalHigh,
      })),
  };
}
