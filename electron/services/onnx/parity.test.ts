import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Candidate } from '../training/automl';
import type { Frame } from '../training/frame';
import type { EnsembleMember, FittedPipeline } from '../training/pipeline';
import { parity, plantFrame, settings, sliceFrame, train, withOddRows, type Parity } from './parity-harness';

/**
 * Every learner and task: ONNX Runtime on the exported graph against
 * predictFeatures on the same rows (training rows, then rows with gaps,
 * unseen categories, ±1e30 and values far outside training; and a short
 * batch scored on its own, where windows reach before the batch).
 *
 * Tolerances: probabilities and scores up to 1 within 1e-5 absolute; values,
 * scores and contributions above 1 within 1e-5 relative (the outputs are
 * float32, which holds about 7 digits); labels and anomaly flags identical.
 */

const HGB: Candidate = { algorithm: 'hgb', params: { maxIter: 60, learningRate: 0.1, maxLeafNodes: 15, minSamplesLeaf: 10, l2: 0, balanced: false } };
const HGB_DERIVED: Candidate = { algorithm: 'hgb', params: { ...HGB.params, derived: true } };
const FOREST: Candidate = { algorithm: 'forest', params: { trees: 20, maxDepth: null, minSamplesLeaf: 1 } };
const TREE: Candidate = { algorithm: 'tree', params: { maxDepth: 8, minSamplesLeaf: 5 } };
const LINEAR: Candidate = { algorithm: 'linear', params: { alpha: 1 } };
const LINEAR_DERIVED: Candidate = { algorithm: 'linear', params: { alpha: 1, derived: true } };
const LOGISTIC: Candidate = { algorithm: 'logistic', params: { C: 1 } };
const IFOREST: Candidate = { algorithm: 'iforest', params: { trees: 100, sampleSize: 256 } };
const PCA: Candidate = { algorithm: 'pca', params: { varianceToExplain: 0.9, alpha: 0.99 } };

let frame: Frame;
let scoring: Frame;
const results: Record<string, Parity> = {};

beforeAll(() => {
  frame = plantFrame(900);
  scoring = withOddRows(frame);
});

afterAll(() => {
  const table = Object.entries(results).map(([k, r]) => `${k}: abs ${r.maxAbs.toExponential(1)}, rel ${r.maxRel.toExponential(1)}, float32 steps ${r.maxSteps}${r.thresholdMargin === null ? '' : `, closest to threshold ${r.thresholdMargin.toExponential(1)}`}`);
  console.log(`ONNX parity, largest differences:\n${table.join('\n')}`);
});

/**
 * Scores all rows, then the last 8 alone (their windows and lags reach before
 * the batch). Trees and forests give probabilities of exactly ½ (a leaf or a
 * vote split evenly), which the graph reproduces bit for bit; a probability
 * through exp() may differ in its last bit, so for those no row may sit on
 * the threshold.
 */
async function expectParity(p: FittedPipeline, name: string, rowsToScore = scoring): Promise<void> {
  const throughExp = p.learner.kind === 'ensemble' ? p.learner.members.some((m) => m.algorithm === 'hgb' || m.algorithm === 'logistic') : p.learner.kind === 'hgb' || p.learner.kind === 'logistic';
  for (const [what, rows] of [['all rows', rowsToScore], ['short batch', sliceFrame(rowsToScore, rowsToScore.rows - 8, rowsToScore.rows)]] as const) {
    const r = await parity(p, rows, `${name} ${what}`);
    results[`${name}, ${what}`] = r;
    expect(r.problems, `${name}, ${what}`).toEqual([]);
    expect(r.labelMismatches, `${name}, ${what}: labels`).toBe(0);
    expect(r.packedMismatches, `${name}, ${what}: the packed variant`).toBe(0);
    if (p.task !== 'regression' && what === 'all rows') expect(Object.keys(r.labelCounts).length, `${name}: one answer for every row`).toBeGreaterThan(1);
    expect(r.maxAbs, `${name}, ${what}: absolute`).toBeLessThanOrEqual(1e-5);
    expect(r.maxRel, `${name}, ${what}: relative`).toBeLessThanOrEqual(1e-5);
    if (r.thresholdMargin !== null && throughExp) expect(r.thresholdMargin, `${name}: a row sits on the threshold`).toBeGreaterThan(1e-9);
  }
}

/** A blend built from separately trained pipelines; the last one's plan (the widest) is shared. */
function blend(pipelines: FittedPipeline[], weights: number[]): FittedPipeline {
  const widest = pipelines.at(-1)!;
  const members = pipelines.map((p, i): EnsembleMember => {
    if (p.learner.kind === 'ensemble') throw new Error('nested blend');
    expect(widest.plan.features.slice(0, p.plan.features.length)).toEqual(p.plan.features);
    return { algorithm: p.algorithm as EnsembleMember['algorithm'], params: p.params, weight: weights[i]!, features: p.plan.features.length, prep: p.prep, scaling: p.scaling, learner: p.learner };
  });
  return { ...widest, algorithm: 'ensemble', params: {}, prep: 'none', scaling: null, learner: { kind: 'ensemble', members } };
}

describe.each([
  ['regression', [HGB, FOREST, TREE, LINEAR, LINEAR_DERIVED, HGB_DERIVED]],
  ['binary', [HGB, FOREST, TREE, LOGISTIC, HGB_DERIVED]],
  ['multiclass', [HGB, FOREST, TREE, LOGISTIC]],
] as const)('%s: ONNX Runtime gives what training predicts', (task, candidates) => {
  const trained: FittedPipeline[] = [];
  for (const cand of candidates) {
    const label = `${cand.algorithm}${cand.params.derived ? ' with differences and products' : ''}`;
    it(label, async () => {
      const p = train(frame, settings(task), [cand]);
      expect(p.learner.kind).toBe(cand.algorithm);
      expect(p.plan.windowRows).toBe(15);
      trained.push(p);
      await expectParity(p, `${task} ${label}`);
    });
  }

  it('a blend of a linear model, trees and boosting on differences and products', async () => {
    const byKind = (k: string, derived = false) => trained.find((p) => p.learner.kind === k && !!p.plan.derived === derived)!;
    const members = task === 'multiclass'
      ? [byKind('logistic'), byKind('forest'), byKind('hgb')]
      : [byKind(task === 'regression' ? 'linear' : 'logistic'), byKind('tree'), byKind('hgb', true)];
    await expectParity(blend(members, [0.45, 0.2, 0.35]), `${task} blend`);
  });
});

describe('anomaly detection: ONNX Runtime gives the same scores and flags', () => {
  it('isolation forest', async () => {
    await expectParity(train(frame, settings('anomaly'), [IFOREST]), 'anomaly iforest');
  });

  it('PCA monitoring', async () => {
    await expectParity(train(frame, settings('anomaly'), [PCA]), 'anomaly pca');
  });

  it('PCA on a four-hour window (longer than a short batch) with differences and products', async () => {
    const p = train(frame, settings('anomaly', { windowMinutes: 240, lags: [5] }), [{ algorithm: 'pca', params: { ...PCA.params, derived: true } }]);
    expect(p.plan.windowRows).toBe(240);
    await expectParity(p, 'anomaly pca, long window');
  });
});

describe('the blend AutoML keeps', () => {
  it('exports with the members AutoML chose, and agrees with training', async () => {
    const table = plantFrame(1200, 7, false);
    const p = train(table, settings('binary', { timeColumn: null, windowMinutes: null, lags: [], algorithms: ['logistic', 'tree'] }), [LOGISTIC, TREE, { algorithm: 'tree', params: { maxDepth: 4, minSamplesLeaf: 20 } }]);
    expect(p.learner.kind).toBe('ensemble');
    await expectParity(p, 'automl blend', withOddRows(table));
  });
});

describe('numbers only, no windows: the inputs go to the trees without a round trip through float32', () => {
  const numeric = { timeColumn: null, windowMinutes: null, lags: [], inputs: ['Inlet', 'Outlet', 'Pressure', 'Pump'] };
  it.each([
    ['binary', 'boosting', HGB],
    ['regression', 'boosting', HGB],
    ['multiclass', 'forest', FOREST],
    ['anomaly', 'isolation forest', IFOREST],
  ] as const)('%s, %s', async (task, _title, cand) => {
    const p = train(frame, settings(task, numeric), [cand]);
    // Nothing but the inputs themselves, in order: the graph's features are the stacked inputs.
    expect(p.plan.features.every((f, j) => f.op === 'value' && f.input === numeric.inputs[j])).toBe(true);
    await expectParity(p, `${task} ${cand.algorithm}, numbers only`);
  });
});
