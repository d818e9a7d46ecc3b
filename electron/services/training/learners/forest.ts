/**
 * Random forests (sklearn's RandomForestClassifier / RandomForestRegressor):
 * bagged CART trees (tree.ts) on features binned once for the whole forest.
 *
 * - Bootstrap: each tree draws `maxSamples` rows with replacement from its own
 *   seeded RNG; the draw counts (× sample weights) become row weights, so no data
 *   is copied. Rows drawn 0 times are left out of the tree, as in sklearn.
 * - maxFeatures defaults like sklearn >= 1.1: 'sqrt' for classification, 'all'
 *   for regression, drawn per node.
 * - Prediction is the mean over trees of the leaf values: class probabilities
 *   (leaf class frequencies) for classification, means for regression, i.e. an
 *   ONNX TreeEnsemble with aggregate AVERAGE.
 * - Deterministic: tree t is grown from a seed drawn from createRng(seed), so the
 *   same inputs and seed give the same trees (and JSON) on every machine.
 */
import type { Features, FitHooks, TreeNodes } from './types';
import { createRng } from './rng';
import { fitBins } from './binning';
import {
  checkFeatureCount, checkShapes, classLabels, growTree, leafIndex, regressionTarget, resolveClassCount, rowsWithWeight,
  TREE_DEFAULTS, type TreeParams, type TreeTask,
} from './tree';

export interface ForestParams {
  trees: number;
  maxDepth: number | null;
  minSamplesLeaf: number;
  /** Default: 'sqrt' for classification, 'all' for regression (sklearn). */
  maxFeatures: number | 'sqrt' | 'all';
  bootstrap: boolean;
  seed: number;
  /**
   * Rows drawn per tree when bootstrapping: a fraction (0, 1] of the rows or a
   * count (> 1). 'auto' (default) is every row, like sklearn's max_samples=None, up to
   * 200,000 rows: on bigger data each tree sees a bootstrap sample of 200,000 rows,
   * which keeps a 100-tree fit workable in a desktop app at a small cost in accuracy.
   */
  maxSamples?: number | 'auto';
  minSamplesSplit?: number;
  maxLeafNodes?: number | null;
  criterion?: 'gini' | 'entropy';
}

/** Bootstrap sample cap per tree for maxSamples 'auto' on big data. */
export const AUTO_MAX_SAMPLES = 200_000;

export interface ForestModel {
  kind: 'forest';
  task: TreeTask;
  classCount: number;
  trees: TreeNodes[];
  featureCount: number;
}

export function forestDefaults(task: TreeTask): ForestParams {
  return {
    trees: 100,
    maxDepth: null,
    minSamplesLeaf: 1,
    maxFeatures: task === 'classification' ? 'sqrt' : 'all',
    bootstrap: true,
    seed: 0,
    maxSamples: 'auto',
    minSamplesSplit: 2,
    maxLeafNodes: null,
    criterion: 'gini',
  };
}

export function fitForest(
  x: Features,
  y: Float64Array | Int32Array,
  task: TreeTask,
  params: Partial<ForestParams> = {},
  opts: { sampleWeight?: Float64Array; classCount?: number; hooks?: FitHooks } = {},
): ForestModel {
  checkShapes(x, y, opts.sampleWeight);
  const p: ForestParams = { ...forestDefaults(task), ...stripUndefined(params) };
  if (!(p.trees >= 1)) throw new Error('A forest needs at least one tree');
  const classCount = task === 'classification' ? resolveClassCount(y, opts.classCount) : 1;
  const target = task === 'classification' ? classLabels(y, classCount) : regressionTarget(y);
  const n = x.rows;
  const hooks = opts.hooks ?? {};
  const sw = opts.sampleWeight;
  if (sw) rowsWithWeight(n, sw); // validates the weights
  hooks.checkCancelled?.();
  const binned = fitBins(x, { seed: p.seed });
  const treeParams: TreeParams = {
    ...TREE_DEFAULTS,
    maxDepth: p.maxDepth,
    minSamplesLeaf: p.minSamplesLeaf,
    minSamplesSplit: p.minSamplesSplit ?? 2,
    maxFeatures: p.maxFeatures,
    maxLeafNodes: p.maxLeafNodes ?? null,
    criterion: p.criterion ?? 'gini',
  };
  const draws = bootstrapSize(n, p.maxSamples ?? 'auto');
  const master = createRng(p.seed);
  const trees: TreeNodes[] = [];
  const weight = new Float64Array(n);
  const allRows = p.bootstrap ? null : rowsWithWeight(n, sw);
  for (let t = 0; t < p.trees; t++) {
    hooks.checkCancelled?.();
    const rng = createRng(master.int(0x7fffffff));
    let rows: Int32Array;
    let w: Float64Array | undefined;
    if (p.bootstrap) {
      weight.fill(0);
      for (let d = 0; d < draws; d++) { const r = rng.int(n); weight[r] = weight[r]! + 1; }
      if (sw) for (let i = 0; i < n; i++) weight[i] = weight[i]! * sw[i]!;
      rows = rowsWithWeight(n, weight);
      w = weight;
    } else {
      rows = allRows!;
      w = sw;
    }
    trees.push(growTree(binned, rows, target, { task, classCount, params: treeParams, rng, ...(w ? { weight: w } : {}) }));
    hooks.progress?.((t + 1) / p.trees);
  }
  return { kind: 'forest', task, classCount, trees, featureCount: x.columns.length };
}

/** Mean over trees of the leaf values: n values (regression) or n × classCount probabilities, row-major. */
export function predictForest(model: ForestModel, x: Features): Float64Array {
  checkFeatureCount(model.featureCount, x);
  const k = model.task === 'classification' ? model.classCount : 1;
  const out = new Float64Array(x.rows * k);
  for (const tree of model.trees) {
    const value = tree.value;
    for (let i = 0; i < x.rows; i++) {
      const leaf = leafIndex(tree, x, i) * k;
      for (let c = 0; c < k; c++) out[i * k + c] = out[i * k + c]! + value[leaf + c]!;
    }
  }
  const m = model.trees.length;
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / m;
  return out;
}

function bootstrapSize(n: number, maxSamples: number | 'auto'): number {
  if (maxSamples === 'auto') return Math.min(n, AUTO_MAX_SAMPLES);
  if (!(maxSamples > 0)) throw new Error(`maxSamples must be positive, got ${maxSamples}`);
  if (maxSamples <= 1) return Math.max(1, Math.round(maxSamples * n));
  return Math.floor(maxSamples);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
