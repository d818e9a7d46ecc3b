/**
 * Isolation forest (Liu, Ting & Zhou 2008), as sklearn's IsolationForest does it:
 *
 * - each tree is grown on min(sampleSize, n) rows drawn without replacement;
 * - at each node a feature is drawn at random among those not constant in the
 *   node (a node where every feature is constant becomes a leaf), and the split
 *   point is drawn uniformly between the node's min and max of that feature;
 * - trees stop at depth ceil(log2(sampleSize)) or at single rows;
 * - a leaf at depth d holding m training rows has the value d + c(m), the path
 *   length plus the expected path length of an unbuilt tree on m rows, so
 *   the anomaly score 2^(-mean over trees of the leaf value / c(sampleSize)) is an
 *   ONNX TreeEnsembleRegressor (aggregate AVERAGE) followed by Div and Pow.
 *   It equals sklearn's -score_samples: in (0, 1], higher is more unusual.
 *
 * Values are compared as float32 (sklearn casts X to float32 too). Thresholds are
 * float32-exact with min <= threshold < max, so both children are non-empty.
 * Missing values (NaN) always go left (missingLeft = 1) and are ignored when the
 * node's min and max are found; the training pipeline imputes before the
 * isolation forest, so this only keeps stray NaNs from failing.
 */
import type { Features, FitHooks, TreeNodes } from './types';
import { createRng, type Rng } from './rng';
import { checkFeatureCount, leafIndex } from './tree';

export interface IForestParams {
  trees: number;
  sampleSize: number;
  seed: number;
}

export const IFOREST_DEFAULTS: IForestParams = { trees: 100, sampleSize: 256, seed: 0 };

export interface IForestModel {
  kind: 'iforest';
  trees: TreeNodes[];
  /** Rows each tree was grown on: min(params.sampleSize, training rows) (sklearn's max_samples_). */
  sampleSize: number;
  featureCount: number;
  /** c(sampleSize): the score is 2^(-mean leaf value / normaliser). */
  normaliser: number;
}

const EULER_GAMMA = 0.5772156649015329;

/**
 * Average path length of an unsuccessful search in a binary search tree of n
 * nodes: c(n) = 2 H(n-1) - 2(n-1)/n with H(i) ≈ ln(i) + γ; c(1) = 0, c(2) = 1
 * (sklearn's _average_path_length).
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

export function fitIForest(x: Features, params: Partial<IForestParams> = {}, hooks: FitHooks = {}): IForestModel {
  const p: IForestParams = { ...IFOREST_DEFAULTS };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) (p as unknown as Record<string, unknown>)[k] = v;
  const n = x.rows;
  const featureCount = x.columns.length;
  if (featureCount === 0) throw new Error('No features to learn from');
  for (const col of x.columns) if (col.length !== n) throw new Error('Every feature column must have one value per row');
  if (n < 2) throw new Error('An isolation forest needs at least 2 rows');
  if (!(p.trees >= 1)) throw new Error('An isolation forest needs at least one tree');
  if (!(p.sampleSize >= 2)) throw new Error('sampleSize must be at least 2');
  const sampleSize = Math.min(Math.floor(p.sampleSize), n);
  const maxDepth = Math.ceil(Math.log2(Math.max(sampleSize, 2)));
  // The sample's values as float32, column-major, reused by every tree.
  const sample = x.columns.map(() => new Float64Array(sampleSize));
  const pool = new Int32Array(n);
  const master = createRng(p.seed);
  const trees: TreeNodes[] = [];
  for (let t = 0; t < p.trees; t++) {
    hooks.checkCancelled?.();
    const rng = createRng(master.int(0x7fffffff));
    // Partial Fisher–Yates: the first sampleSize entries of pool are a uniform sample without replacement.
    for (let i = 0; i < n; i++) pool[i] = i;
    for (let i = 0; i < sampleSize; i++) {
      const j = i + rng.int(n - i);
      const r = pool[j]!;
      pool[j] = pool[i]!;
      pool[i] = r;
      for (let f = 0; f < featureCount; f++) sample[f]![i] = Math.fround(x.columns[f]![r]!);
    }
    trees.push(growIsolationTree(sample, sampleSize, maxDepth, rng));
    hooks.progress?.((t + 1) / p.trees);
  }
  return { kind: 'iforest', trees, sampleSize, featureCount, normaliser: averagePathLength(sampleSize) };
}

/** Anomaly score per row in (0, 1]: 2^(-mean leaf value / c(sampleSize)); higher = more unusual. */
export function scoreIForest(model: IForestModel, x: Features): Float64Array {
  checkFeatureCount(model.featureCount, x);
  const sum = new Float64Array(x.rows);
  for (const tree of model.trees) {
    const value = tree.value;
    for (let i = 0; i < x.rows; i++) sum[i] = sum[i]! + value[leafIndex(tree, x, i)]!;
  }
  const denom = model.trees.length * model.normaliser;
  for (let i = 0; i < x.rows; i++) sum[i] = Math.pow(2, -sum[i]! / denom);
  return sum;
}

/**
 * One isolation tree on `cols` (float32 values, `m` rows each). Exported for tests;
 * fitIForest draws the sample.
 */
export function growIsolationTree(cols: Float64Array[], m: number, maxDepth: number, rng: Rng): TreeNodes {
  const p = cols.length;
  const idx = new Int32Array(m);
  for (let i = 0; i < m; i++) idx[i] = i;
  const feats = new Int32Array(p);
  for (let j = 0; j < p; j++) feats[j] = j;
  const out: TreeNodes = { feature: [], threshold: [], missingLeft: [], left: [], right: [], value: [], outputs: 1 };
  const addLeaf = (depth: number, size: number): number => {
    out.feature.push(-1); out.threshold.push(0); out.missingLeft.push(0); out.left.push(-1); out.right.push(-1);
    out.value.push(depth + averagePathLength(size));
    return out.feature.length - 1;
  };
  // Depth-first with an explicit stack; a node is appended when it is taken off the stack.
  interface Pending { start: number; end: number; depth: number; parent: number; isLeft: boolean }
  const stack: Pending[] = [{ start: 0, end: m, depth: 0, parent: -1, isLeft: false }];
  while (stack.length > 0) {
    const { start, end, depth, parent, isLeft } = stack.pop()!;
    const size = end - start;
    let feature = -1, lo = 0, hi = 0;
    if (depth < maxDepth && size > 1) {
      // Draw features without replacement until one is not constant in the node (sklearn's random splitter, max_features = 1).
      for (let i = 0; i < p; i++) {
        const j = i + rng.int(p - i);
        const f = feats[j]!;
        feats[j] = feats[i]!;
        feats[i] = f;
        const col = cols[f]!;
        let a = Infinity, b = -Infinity;
        for (let k = start; k < end; k++) {
          const v = col[idx[k]!]!;
          if (v < a) a = v;
          if (v > b) b = v;
        }
        if (a < b) { feature = f; lo = a; hi = b; break; }
      }
    }
    let id: number;
    if (feature < 0) {
      id = addLeaf(depth, size);
    } else {
      // Uniform in [lo, hi), rounded to float32; a draw that rounds up to hi falls back to lo (as sklearn does).
      let threshold = Math.fround(lo + rng.next() * (hi - lo));
      if (threshold >= hi || threshold < lo) threshold = lo;
      const col = cols[feature]!;
      let i = start, j = end - 1;
      while (i <= j) {
        const r = idx[i]!;
        const v = col[r]!;
        if (v !== v || v <= threshold) i++;
        else { idx[i] = idx[j]!; idx[j] = r; j--; }
      }
      out.feature.push(feature); out.threshold.push(threshold); out.missingLeft.push(1);
      out.left.push(-1); out.right.push(-1); out.value.push(0);
      id = out.feature.length - 1;
      stack.push({ start: i, end, depth: depth + 1, parent: id, isLeft: false });
      stack.push({ start, end: i, depth: depth + 1, parent: id, isLeft: true });
    }
    if (parent >= 0) {
      if (isLeft) out.left[parent] = id; else out.right[parent] = id;
    }
  }
  return out;
}
