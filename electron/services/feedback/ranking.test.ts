import { describe, expect, it } from 'vitest';
import type { EpisodeInput } from '../../../shared/feedback';
import { profileOf, rankEpisodes, type Rankable } from './ranking';

/** The ranking orders episodes as its words say: near the alarm level, unlike anything answered, most severe. */

const T0 = Date.parse('2024-03-04T08:00:00Z');
const input = (name: string, deviation: number): EpisodeInput => ({ name, deviation, value: 0, normalLow: null, normalHigh: null });

function episode(id: number, o: Partial<Rankable> & { minutes?: number } = {}): Rankable {
  const minutes = o.minutes ?? 10;
  return { id, model: 'Kiln', peakScore: 0.7, threshold: 0.6, start: new Date(T0).toISOString(), end: new Date(T0 + minutes * 60_000).toISOString(), rows: 3, inputs: [input('Temp', 4)], ...o };
}

const order = (ranked: Map<number, { rank: number }>) => [...ranked].sort((a, b) => b[1].rank - a[1].rank).map(([id]) => id);

describe('ranking unanswered episodes', () => {
  it('an episode whose peak is just over the alarm level comes before one far over it, and says so first', () => {
    // Both like an answered episode, so novelty does not tell them apart.
    const answered = new Map([['Kiln', [profileOf([input('Temp', 4)])]]]);
    const r = rankEpisodes([episode(1, { peakScore: 0.95 }), episode(2, { peakScore: 0.61 })], answered);
    expect(order(r)).toEqual([2, 1]);
    expect(r.get(2)!.reason).toMatch(/^Close to the alarm level \(peak 0\.61, level 0\.6\)/);
    expect(r.get(1)!.reason).not.toMatch(/alarm level/);
  });

  it('an episode unlike any answered one comes before one like an answered one', () => {
    const answered = new Map([['Kiln', [profileOf([input('Temp', 4)])]]]);
    const r = rankEpisodes([episode(1, { inputs: [input('Temp', 4.2)] }), episode(2, { inputs: [input('Flow', 6)] })], answered);
    expect(order(r)).toEqual([2, 1]);
    expect(r.get(2)!.reason).toBe('Unlike any answered episode of Kiln');
    expect(r.get(1)!.reason).not.toMatch(/unlike/i);
    expect(r.get(2)!.novelty).toBeGreaterThan(0.9);
    expect(r.get(1)!.novelty).toBeLessThan(0.1);
    // Answers about another model do not make these less new.
    const other = rankEpisodes([episode(1, { inputs: [input('Temp', 4.2)] })], new Map([['Pump', [profileOf([input('Temp', 4)])]]]));
    expect(other.get(1)!.novelty).toBe(1);
    expect(other.get(1)!.reason).toMatch(/^Nothing of Kiln answered yet/);
  });

  it('of two episodes alike otherwise, the longer and higher one comes first, said as severe with its peak and duration', () => {
    const answered = new Map([['Kiln', [profileOf([input('Temp', 4)])]]]);
    const r = rankEpisodes([episode(1, { peakScore: 0.9, minutes: 10 }), episode(2, { peakScore: 1.5, minutes: 190, rows: 39 })], answered);
    expect(order(r)).toEqual([2, 1]);
    expect(r.get(2)!.reason).toBe('Severe (peak 1.5, 3 h 10 min, 39 rows)');
    expect(r.get(2)!.severity).toBeGreaterThan(r.get(1)!.severity);
  });

  it('ranks are 0..1; the factors said are the ones that count most, largest first', () => {
    const r = rankEpisodes([episode(1, { peakScore: 0.62, minutes: 300 }), episode(2, { threshold: null })], new Map());
    for (const k of r.values()) {
      expect(k.rank).toBeGreaterThanOrEqual(0);
      expect(k.rank).toBeLessThanOrEqual(1);
    }
    // Near 0.83, nothing answered 1, severe (5 h) 0.43: novelty first, then nearness; severity under a half is not said.
    expect(r.get(1)!.reason).toBe('Nothing of Kiln answered yet; close to the alarm level (peak 0.62, level 0.6)');
    expect(r.get(1)!.rank).toBeGreaterThan(r.get(2)!.rank);
  });
});
