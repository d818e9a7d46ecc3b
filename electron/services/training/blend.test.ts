import { describe, expect, it } from 'vitest';
import { selectBlend } from './automl';
import { rocAuc } from './metrics';
import { predictFeatures, type FittedPipeline } from './pipeline';
import { fitLinear } from './learners/linear';
import { fitTree } from './learners/tree';
import { createRng } from './learners/rng';
import type { Features } from './learners/types';

type BlendInput = Parameters<typeof selectBlend>[0][number];

/** A candidate whose only field the selection reads is its out-of-fold output. */
function candidate(title: string, oof: number[]): BlendInput {
  return { cand: { algorithm: 'hgb', params: {} }, title, fitted: null as unknown as BlendInput['fitted'], oof: Float64Array.from(oof), value: 0, fitSeconds: 0 };
}

const higher = (a: number, b: number) => a > b;

describe('choosing a blend from out-of-fold predictions', () => {
  // 400 rows, half positives. Model A knows the truth on the first half and
  // guesses on the second; model B the other way round; C is pure noise.
  const n = 400;
  const rng = createRng(7);
  const y = Uint8Array.from({ length: n }, (_, i) => i % 2);
  const a = Array.from({ length: n }, (_, i) => (i < n / 2 ? 0.2 + 0.6 * y[i]! + 0.1 * rng.next() : rng.next()));
  const b = Array.from({ length: n }, (_, i) => (i >= n / 2 ? 0.2 + 0.6 * y[i]! + 0.1 * rng.next() : rng.next()));
  const c = Array.from({ length: n }, () => rng.next());
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const auc = (out: Float64Array) => rocAuc(y, out);

  it('blends two models that are right on different rows and leaves the noise out', () => {
    const blend = selectBlend([candidate('A', a), candidate('B', b), candidate('C', c)], rows, 1, auc, higher)!;
    expect(blend).not.toBeNull();
    expect(blend.members.map((m) => m.title).sort()).toEqual(['A', 'B']);
    expect(blend.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
    for (const w of blend.weights) expect(w).toBeGreaterThanOrEqual(0.25);
    expect(blend.value).toBeGreaterThan(Math.max(auc(Float64Array.from(a)), auc(Float64Array.from(b))) + 0.1);
  });

  it('keeps no blend when one model alone cannot be improved on', () => {
    const perfect = Array.from(y, (v) => v);
    expect(selectBlend([candidate('perfect', perfect), candidate('A', a), candidate('C', c)], rows, 1, auc, higher)).toBeNull();
  });

  it('only reads the rows it is given, and each row\'s `width` outputs', () => {
    // Two outputs per row (class probabilities); the score reads the second.
    const two = (v: number[]) => v.flatMap((p) => [1 - p, p]);
    const firstHalf = rows.subarray(0, n / 2);
    const blend = selectBlend([candidate('A', two(a)), candidate('B', two(b))], firstHalf, 2, (out) => rocAuc(y.subarray(0, n / 2), Float64Array.from({ length: n / 2 }, (_, i) => out[i * 2 + 1]!)), higher);
    // On the first half A is right and B guesses: A alone is best.
    expect(blend).toBeNull();
  });
});

describe('a blended pipeline', () => {
  it('predicts the weighted average of its members, each on its own leading columns and preparation', () => {
    const rng = createRng(3);
    const rows = 300;
    const x1 = Float64Array.from({ length: rows }, () => rng.next() * 10);
    const x2 = Float64Array.from({ length: rows }, () => rng.next() * 10);
    const x3 = Float64Array.from({ length: rows }, (_, i) => x1[i]! * x2[i]!);
    const y = Float64Array.from({ length: rows }, (_, i) => 2 * x1[i]! - x2[i]! + 0.05 * x3[i]!);
    const narrow: Features = { rows, columns: [x1, x2], names: ['a', 'b'] };
    const wide: Features = { rows, columns: [x1, x2, x3], names: ['a', 'b', 'a × b'] };
    const linear = fitLinear(narrow, y, { alpha: 0 });
    const tree = fitTree(wide, y, 'regression', { maxDepth: 4, minSamplesLeaf: 5 }, { classCount: 1, seed: 0 });
    const base = { format: 1, task: 'regression', params: {}, target: { name: 'y', classes: null }, timeColumn: null, plan: { inputs: [], features: [], windowMinutes: null, windowRows: null, intervalMs: null, lags: [] } as FittedPipeline['plan'], threshold: null } as const;
    const single = (learner: FittedPipeline['learner'], algorithm: 'linear' | 'tree'): FittedPipeline => ({ ...base, algorithm, prep: 'none', scaling: null, learner });
    const blended: FittedPipeline = {
      ...base,
      algorithm: 'ensemble',
      prep: 'none',
      scaling: null,
      learner: {
        kind: 'ensemble',
        members: [
          { algorithm: 'linear', params: {}, weight: 0.75, features: 2, prep: 'none', scaling: null, learner: linear },
          { algorithm: 'tree', params: {}, weight: 0.25, features: 3, prep: 'none', scaling: null, learner: tree },
        ],
      },
    };
    const pl = predictFeatures(single(linear, 'linear'), narrow).value!;
    const pt = predictFeatures(single(tree, 'tree'), wide).value!;
    const pb = predictFeatures(blended, wide).value!;
    let differs = 0;
    for (let i = 0; i < rows; i++) {
      expect(pb[i]).toBeCloseTo(0.75 * pl[i]! + 0.25 * pt[i]!, 10);
      if (Math.abs(pl[i]! - pt[i]!) > 1e-6) differs++;
    }
    expect(differs).toBeGreaterThan(rows / 2);
  });
});
