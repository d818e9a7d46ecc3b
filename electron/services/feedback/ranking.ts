import type { EpisodeInput } from '../../../shared/feedback';

/**
 * Which unanswered episodes an answer would teach most (DESIGN.md section
 * 10: "most informative first"), 0..1 with the reason in words. Three
 * things count, equally:
 * - near the alarm level: a peak just over the threshold is where the model
 *   is least sure, so an answer there moves the level most;
 * - unlike anything answered: the episode's inputs went off in a way no
 *   answered episode of the model did (nothing answered yet: as new as can be);
 * - severe: a peak far over the threshold, or a long episode.
 */

export interface Rankable {
  id: number;
  model: string;
  peakScore: number;
  threshold: number | null;
  start: string;
  end: string;
  rows: number;
  inputs: EpisodeInput[];
}

export interface Ranked {
  rank: number;
  reason: string;
  near: number;
  novelty: number;
  severity: number;
}

/** A peak this far over (or under) the threshold, as a share of it, is no longer near. */
const NEAR_SHARE = 0.2;
/** The distance between two episodes' deviation profiles at which one is as good as unlike the other. */
const NOVELTY_SCALE = 1;
/** Severity's half points: a peak half the threshold over it, an episode of an hour. */
const EXCESS_HALF = 0.5;
const MINUTES_HALF = 60;

/** How an episode's inputs went off: log(1 + deviation) per input, so ten and twenty standard deviations are close and zero and two are not. */
export function profileOf(inputs: EpisodeInput[]): Map<string, number> {
  return new Map(inputs.map((i) => [i.name, Math.log1p(Math.max(0, i.deviation))]));
}

function distance(a: Map<string, number>, b: Map<string, number>): number {
  let ss = 0;
  for (const name of new Set([...a.keys(), ...b.keys()])) ss += ((a.get(name) ?? 0) - (b.get(name) ?? 0)) ** 2;
  return Math.sqrt(ss);
}

export function nearness(peak: number, threshold: number | null): number {
  if (threshold === null) return 0;
  const scale = NEAR_SHARE * Math.max(Math.abs(threshold), 1e-9);
  return Math.max(0, 1 - Math.abs(peak - threshold) / scale);
}

/** 1 − e^(−d / scale) of the distance to the nearest answered episode of the model; 1 when none is answered. */
export function novelty(e: Rankable, answered: Map<string, number>[]): number {
  if (!answered.length) return 1;
  const mine = profileOf(e.inputs);
  const d = Math.min(...answered.map((a) => distance(mine, a)));
  return 1 - Math.exp(-d / NOVELTY_SCALE);
}

export function severity(e: Rankable): number {
  const minutes = Math.max(0, Date.parse(e.end) - Date.parse(e.start)) / 60_000;
  const long = minutes / (minutes + MINUTES_HALF);
  if (e.threshold === null) return long;
  const excess = Math.max(0, e.peakScore - e.threshold) / Math.max(Math.abs(e.threshold), 1e-9);
  return (excess / (excess + EXCESS_HALF) + long) / 2;
}

const r2 = (x: number) => Math.round(x * 100) / 100;
/** Scores in words: three significant digits, whatever their scale. */
const say = (x: number) => String(Number(x.toPrecision(3)));

function minutesText(m: number): string {
  if (m < 1) return 'under a minute';
  if (m < 90) return `${Math.round(m)} min`;
  const h = Math.floor(m / 60), rest = Math.round(m % 60);
  return rest ? `${h} h ${rest} min` : `${h} h`;
}

/**
 * Each episode's rank and reason. `answered`: the deviation profiles of the
 * answered episodes, by model. The reason names what counts, the largest
 * share first ("close to the alarm level (peak 0.62, level 0.6); unlike any
 * answered episode of Pump").
 */
export function rankEpisodes(episodes: Rankable[], answered: Map<string, Map<string, number>[]>): Map<number, Ranked> {
  const out = new Map<number, Ranked>();
  for (const e of episodes) {
    const near = nearness(e.peakScore, e.threshold);
    const seen = answered.get(e.model) ?? [];
    const nov = novelty(e, seen);
    const sev = severity(e);
    const rank = r2((near + nov + sev) / 3);
    const minutes = Math.max(0, Date.parse(e.end) - Date.parse(e.start)) / 60_000;
    const words: [number, string][] = [
      [near, `close to the alarm level (peak ${say(e.peakScore)}, level ${e.threshold === null ? '?' : say(e.threshold)})`],
      [nov, seen.length ? `unlike any answered episode of ${e.model}` : `nothing of ${e.model} answered yet`],
      [sev, `severe (peak ${say(e.peakScore)}, ${minutesText(minutes)}, ${e.rows} row${e.rows === 1 ? '' : 's'})`],
    ];
    const said = words.filter(([w]) => w >= 0.5).sort((a, b) => b[0] - a[0]);
    const top = [...words].sort((a, b) => b[0] - a[0])[0]!;
    const reason = said.length ? said.map(([, t]) => t).join('; ') : top[0] > 0 ? `somewhat ${top[1]}` : `like episodes of ${e.model} answered before`;
    out.set(e.id, { rank, reason: reason[0]!.toUpperCase() + reason.slice(1), near, novelty: nov, severity: sev });
  }
  return out;
}
