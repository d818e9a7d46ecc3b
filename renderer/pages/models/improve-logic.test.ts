import { describe, expect, it } from 'vitest';
import type { EndpointSummary } from '../../../shared/deploy';
import type { ChallengerReport, ShadowSummary } from '../../../shared/feedback';
import { agreementWords, episodePairs, metricSides, promoteWarnings, shadowTargets, suggestionOf, tallyPairs } from './improve-logic';

const tally = (caught: number, missed: number, falseAlarms: number, quiet: number) => ({ caught, missed, falseAlarms, quiet });

const report = (p: Partial<ChallengerReport> = {}): ChallengerReport => ({
  model: 'Kiln watch',
  production: { version: 1, metrics: { event_f1: 0.61234 } },
  challenger: { version: 3, metrics: { event_f1: 0.7 } },
  holdout: { dataset: 'Kiln', datasetVersion: 2, rows: 1200 },
  metric: { key: 'event_f1', label: 'Event F1', higherIsBetter: true },
  episodes: { real: 5, normal: 4, production: tally(5, 0, 4, 0), challenger: tally(5, 0, 1, 3) },
  shadows: [],
  sentence: 'The challenger catches the same 5 real problems with 3 fewer false alarms.',
  ...p,
});

const endpoint = (name: string, model: string | null): EndpointSummary => ({
  name,
  url: `http://127.0.0.1:1/${name}`,
  kind: 'local',
  canDeploy: true,
  status: 'up',
  model: model ? { name: model, version: 1 } : null,
  previous: null,
  lastContact: null,
  lastError: null,
  requests: 0,
  errors: 0,
  addedAt: '2026-11-26T10:00:00Z',
  addedBy: 'ana',
});

const shadow = (endpoint: string, model: string, p: Partial<ShadowSummary> = {}): ShadowSummary => ({
  endpoint,
  model,
  version: 3,
  since: '2026-11-26T10:00:00Z',
  rows: 1204,
  agreed: 1186,
  productionAnomalies: 10,
  shadowAnomalies: 4,
  sentence: '',
  ...p,
});

describe('tallies', () => {
  it('pairs false alarms and real problems caught, before above after', () => {
    expect(tallyPairs(tally(5, 0, 4, 0), tally(5, 0, 1, 3))).toEqual([
      { label: 'False alarms', reference: 4, current: 1 },
      { label: 'Real problems caught', reference: 5, current: 5 },
    ]);
  });
  it('pairs production and challenger on the answered episodes', () => {
    expect(episodePairs(report())).toEqual([
      { label: 'Real problems caught', reference: 5, current: 5 },
      { label: 'False alarms', reference: 4, current: 1 },
    ]);
    expect(episodePairs(report({ episodes: null }))).toBeNull();
    expect(episodePairs(report({ episodes: { real: 0, normal: 0, production: tally(0, 0, 0, 0), challenger: tally(0, 0, 0, 0) } }))).toBeNull();
  });
});

describe('metricSides', () => {
  it('says which is better by the metric’s own direction, named in plain words', () => {
    expect(metricSides(report({ metric: { key: 'event_f1', label: 'event F1', higherIsBetter: true } }))).toMatchObject({ label: 'Event F1', production: { version: 1, text: '0.612' }, challenger: { version: 3, text: '0.700' }, better: 'challenger' });
    const lowerBetter = report({ metric: { key: 'rmse', label: 'RMSE', higherIsBetter: false }, production: { version: 1, metrics: { rmse: 2 } }, challenger: { version: 3, metrics: { rmse: 3 } } });
    expect(metricSides(lowerBetter)?.better).toBe('production');
  });
  it('calls figures that read the same the same, and a missing one not measured', () => {
    expect(metricSides(report({ challenger: { version: 3, metrics: { event_f1: 0.61241 } } }))?.better).toBe('same');
    expect(metricSides(report({ challenger: { version: 3, metrics: {} } }))).toMatchObject({ challenger: { text: 'not measured' }, better: null });
    expect(metricSides(report({ challenger: null }))).toBeNull();
    // Neither measured: no table of two blanks.
    expect(metricSides(report({ production: { version: 1, metrics: {} }, challenger: { version: 2, metrics: {} } }))).toBeNull();
  });
});

describe('shadow targets', () => {
  it('offers the endpoints that serve the model, with the run on each', () => {
    const eps = [endpoint('line-2', 'Kiln watch'), endpoint('line-1', 'Kiln watch'), endpoint('other', 'Pump')];
    const runs = [shadow('line-2', 'Kiln watch'), shadow('other', 'Pump')];
    const t = shadowTargets(eps, 'Kiln watch', runs);
    expect(t.map((x) => x.endpoint)).toEqual(['line-1', 'line-2']);
    expect(t[0]!.run).toBeNull();
    expect(t[1]!.run?.endpoint).toBe('line-2');
    // A shadow run on an endpoint not loaded yet still shows, so it can be stopped.
    expect(shadowTargets(null, 'Kiln watch', runs).map((x) => x.endpoint)).toEqual(['line-2']);
  });
  it('says how often the two agreed', () => {
    expect(agreementWords(shadow('a', 'm'))).toBe('Agreed on 98.5 % of 1,204 rows.');
    expect(agreementWords(shadow('a', 'm', { rows: 10, agreed: 10 }))).toBe('Agreed on 100 % of 10 rows.');
    expect(agreementWords(shadow('a', 'm', { rows: 0, agreed: 0 }))).toBe('No rows scored by both yet.');
  });
});

describe('suggestionOf', () => {
  it('finds the suggestion of a kind', () => {
    const list = [{ kind: 'retrain' as const, model: 'm', sentence: 's', detail: {} }];
    expect(suggestionOf(list, 'retrain')?.sentence).toBe('s');
    expect(suggestionOf(list, 'recalibrate')).toBeNull();
    expect(suggestionOf(null, 'retrain')).toBeNull();
  });
});

describe('promoteWarnings', () => {
  it('says nothing when the challenger is at least as good, and says which real problems it would miss and a worse holdout score', () => {
    expect(promoteWarnings(report())).toEqual([]);
    const worse = report({
      challenger: { version: 3, metrics: { event_f1: 0.286 } },
      production: { version: 1, metrics: { event_f1: 0.5 } },
      episodes: { real: 6, normal: 22, production: tally(6, 0, 22, 0), challenger: tally(3, 3, 15, 7) },
    });
    const w = promoteWarnings(worse);
    expect(w).toHaveLength(2);
    expect(w[0]).toBe('On the answered episodes it catches fewer real problems than production (version 1): 3 of 6, against 6.');
    expect(w[1]).toMatch(/^Its .+ on the same holdout is .+, against .+ for production\.$/);
    expect(promoteWarnings(report({ episodes: { real: 2, normal: 0, production: tally(2, 0, 0, 0), challenger: tally(1, 1, 0, 0) } }))[0]).toMatch(/: 1 of 2, against 2\.$/);
    // No holdout figure for the challenger: said, not taken as good.
    expect(promoteWarnings(report({ challenger: { version: 3, metrics: {} } }))).toEqual([expect.stringMatching(/was not measured, so it cannot be compared with production's /)]);
  });
});
