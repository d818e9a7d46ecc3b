/**
 * CART decision trees (sklearn's DecisionTreeClassifier / DecisionTreeRegressor)
 * grown on binned features, written as TreeNodes so that prediction and the ONNX
 * export need nothing but the flat node arrays.
 *
 * - Splits are searched on the bins of binning.ts (at most 255 per feature), so a
 *   feature with up to 255 distinct values is split exactly like sklearn (float32
 *   midpoints between neighbouring values); a feature with more is split at its
 *   quantile edges. Thresholds come from the bin edges and are float32-exact.
 * - Criterion: gini (default) or entropy for classification, squared error for
 *   regression. Like sklearn, a node is split whenever some split is allowed
 *   (even one that does not lower the impurity: that is how XOR is learned), and
 *   with maxFeatures below the feature count, features are drawn per node with the
 *   seeded RNG, drawing further while every drawn feature was constant in the node.
 * - Missing values (NaN): when the node has missing values in a feature, both
 *   directions are tried for every threshold, and also the split "all values left,
 *   missing right" (threshold FLOAT32_MAX). When it has none, missing values go to
 *   the child with the larger weight.
 * - Leaves of classification trees hold the weighted class frequencies
 *   (outputs = classCount); regression leaves hold the weighted mean (outputs = 1).
 *   Inner nodes hold zeros.
 * - With maxLeafNodes, nodes are expanded best first (largest weighted impurity
 *   decrease first), as sklearn's BestFirstTreeBuilder does; otherwise depth first.
 */
import type { Features, TreeNodes } from './types';
import { createRng, type Rng } from './rng';
import { fitBins, MISSING_BIN, type BinnedFeatures } from './binning';

export type TreeTask = 'regression' | 'classification';

export interface TreeParams {
  /** null: grow until the leaves are pure or too small to split. */
  maxDepth: number | null;
  minSamplesLeaf: number;
  minSamplesSplit: number;
  /**
   * Features considered per split: an integer >= 1 is a count, a number in (0, 1)
   * a fraction of the features (at least one), 'sqrt' is floor(sqrt(p)).
   */
  maxFeatures: number | 'sqrt' | 'all';
  maxLeafNodes: number | null;
  criterion?: 'gini' | 'entropy';
}

export const TREE_DEFAULTS: TreeParams = Object.freeze({
  maxDepth: null,
  minSamplesLeaf: 1,
  minSamplesSplit: 2,
  maxFeatures: 'all',
  maxLeafNodes: null,
  criterion: 'gini',
});

export interface TreeModel {
  kind: 'tree';
  task: TreeTask;
  classCount: number;
  tree: TreeNodes;
  featureCount: number;
}

/** Largest finite float32: the threshold of a split that sends every value left and missing values right. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** Fits one tree on all rows of `x`. Bins are fitted on `x` first (see growTree for the splitting). */
export function fitTree(
  x: Features,
  y: Float64Array | Int32Array,
  task: TreeTask,
  params: Partial<TreeParams> = {},
  opts: { sampleWeight?: Float64Array; classCount?: number; seed?: number } = {},
): TreeModel {
  checkShapes(x, y, opts.sampleWeight);
  const p: TreeParams = { ...TREE_DEFAULTS, ...params };
  const classCount = task === 'classification' ? resolveClassCount(y, opts.classCount) : 1;
  const target = task === 'classification' ? classLabels(y, classCount) : regressionTarget(y);
  const binned = fitBins(x, { seed: opts.seed ?? 0 });
  const w = opts.sampleWeight;
  const rows = rowsWithWeight(x.rows, w);
  const tree = growTree(binned, rows, target, {
    task,
    classCount,
    params: p,
    rng: createRng(opts.seed ?? 0),
    ...(w ? { weight: w } : {}),
  });
  return { kind: 'tree', task, classCount, tree, featureCount: x.columns.length };
}

/** Regression: one value per row. Classification: rows × classCount probabilities, row-major. */
export function predictTree(model: TreeModel, x: Features): Float64Array {
  checkFeatureCount(model.featureCount, x);
  const k = model.tree.outputs;
  const out = new Float64Array(x.rows * k);
  const value = model.tree.value;
  for (let i = 0; i < x.rows; i++) {
    const leaf = leafIndex(model.tree, x, i);
    for (let c = 0; c < k; c++) out[i * k + c] = value[leaf * k + c]!;
  }
  return out;
}

/** The node (a leaf) that row `row` of `x` reaches: NaN follows missingLeft, else fround(x) <= threshold goes left. */
export function leafIndex(tree: TreeNodes, x: Features, row: number): number {
  const { feature, threshold, missingLeft, left, right } = tree;
  let node = 0;
  let f = feature[0]!;
  while (f >= 0) {
    const v = x.columns[f]![row]!;
    if (v !== v) node = missingLeft[node] === 1 ? left[node]! : right[node]!;
    else node = Math.fround(v) <= threshold[node]! ? left[node]! : right[node]!;
    f = feature[node]!;
  }
  return node;
}

export interface GrowOptions {
  task: TreeTask;
  /** Class count for classification (labels 0..classCount-1); ignored for regression. */
  classCount: number;
  params: TreeParams;
  /** Draws the features considered at each node. */
  rng: Rng;
  /**
   * Weight per row id (length binned.rows), e.g. bootstrap counts × sample
   * weights. Absent: every listed row weighs 1. Rows of weight 0 should not be
   * listed in `rows` (sklearn drops them too; they would count for minSamplesLeaf).
   */
  weight?: Float64Array;
}

/**
 * Grows one tree on already-binned features (so that a forest bins once).
 * `rows` lists the row ids to learn from (a row may be listed more than once,
 * which counts like a weight; the array is not modified). `y` holds class ids
 * 0..classCount-1 (classification) or values (regression), indexed by row id.
 * minSamplesLeaf / minSamplesSplit count listed rows, as sklearn counts rows
 * whatever their weight.
 */
export function growTree(binned: BinnedFeatures, rows: Int32Array, y: ArrayLike<number>, opts: GrowOptions): TreeNodes {
  return new Grower(binned, rows, y, opts).grow();
}

/** Features considered per node for `maxFeatures` out of `p` (sklearn's rules). */
export function resolveMaxFeatures(maxFeatures: number | 'sqrt' | 'all', p: number): number {
  if (maxFeatures === 'all') return p;
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(p)));
  if (!(maxFeatures > 0)) throw new Error(`maxFeatures must be positive, got ${maxFeatures}`);
  if (maxFeatures < 1) return Math.max(1, Math.floor(maxFeatures * p));
  return Math.min(p, Math.floor(maxFeatures));
}

// ---------------------------------------------------------------------------
// Shared helpers (forest.ts uses them too).

export function checkShapes(x: Features, y: ArrayLike<number>, w?: Float64Array): void {
  if (x.columns.length === 0) throw new Error('No features to learn from');
  for (const col of x.columns) if (col.length !== x.rows) throw new Error('Every feature column must have one value per row');
  if (y.length !== x.rows) throw new Error(`Target has ${y.length} values for ${x.rows} rows`);
  if (w && w.length !== x.rows) throw new Error(`sampleWeight has ${w.length} values for ${x.rows} rows`);
  if (x.rows === 0) throw new Error('No rows to learn from');
}

export function checkFeatureCount(featureCount: number, x: Features): void {
  if (x.columns.length !== featureCount) throw new Error(`Model expects ${featureCount} features, got ${x.columns.length}`);
}

export function resolveClassCount(y: ArrayLike<number>, classCount?: number): number {
  if (classCount !== undefined) return classCount;
  let max = 0;
  for (let i = 0; i < y.length; i++) if (y[i]! > max) max = y[i]!;
  return Math.max(2, Math.floor(max) + 1);
}

/** Class ids as Int32Array, checked to be integers in 0..classCount-1. */
export function classLabels(y: ArrayLike<number>, classCount: number): Int32Array {
  const out = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= classCount) throw new Error(`Class labels must be integers 0..${classCount - 1}, got ${v} in row ${i}`);
    out[i] = v;
  }
  return out;
}

/** Regression targets as a Float64Array copy, checked to be finite. */
export function regressionTarget(y: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(y);
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i]!)) throw new Error(`Regression targets must be finite numbers, got ${out[i]} in row ${i}`);
  return out;
}

/** Row ids 0..n-1, leaving out rows whose weight is 0. */
export function rowsWithWeight(n: number, w?: Float64Array): Int32Array {
  if (!w) {
    const rows = new Int32Array(n);
    for (let i = 0; i < n; i++) rows[i] = i;
    return rows;
  }
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (!(w[i]! >= 0) || !Number.isFinite(w[i]!)) throw new Error(`sampleWeight must be finite and >= 0 (row ${i})`);
    if (w[i]! > 0) m++;
  }
  if (m === 0) throw new Error('Every sample weight is 0');
  const rows = new Int32Array(m);
  m = 0;
  for (let i = 0; i < n; i++) if (w[i]! > 0) rows[m++] = i;
  return rows;
}

// ---------------------------------------------------------------------------
// The grower.

const rowMajorCache = new WeakMap<BinnedFeatures, Uint8Array>();

/**
 * The bin codes row-major, made once per BinnedFeatures (a forest's trees share
 * it). Nodes list scattered row ids; reading a row's codes from one cache line
 * instead of one line per feature speeds up split search on big data.
 */
function rowMajorCodes(binned: BinnedFeatures): Uint8Array {
  let rm = rowMajorCache.get(binned);
  if (rm) return rm;
  const p = binned.codes.length;
  const n = binned.rows;
  rm = new Uint8Array(n * p);
  for (let f = 0; f < p; f++) {
    const col = binned.codes[f]!;
    for (let r = 0; r < n; r++) rm[r * p + f] = col[r]!;
  }
  rowMajorCache.set(binned, rm);
  return rm;
}

const BINS = 256; // value bins 0..254 and MISSING_BIN = 255

interface Split {
  feature: number;
  /** Rows with code <= cut go left; cut = -1 means "every non-missing value left". */
  cut: number;
  threshold: number;
  missingLeft: number;
  /** Larger is better: -(weighted impurity of the children) + a constant; see Grower.classProxy. */
  proxy: number;
}

interface NodeRec {
  id: number;
  start: number;
  end: number;
  depth: number;
  split: Split | null;
  /** Weighted impurity decrease of `split` (for best-first growth). */
  gain: number;
}

class Grower {
  /** Bin codes row-major (row r, feature f at r * p + f): one cache line serves all features of a row. */
  private readonly codes: Uint8Array;
  private readonly edges: Float64Array[];
  private readonly p: number;
  private readonly cls: boolean;
  private readonly entropy: boolean;
  private readonly k: number;
  private readonly yc: Int32Array | null;
  private readonly yr: Float64Array | null;
  private readonly w: Float64Array | null;
  private readonly idx: Int32Array;
  private readonly feats: Int32Array;
  private readonly mtry: number;
  private readonly maxDepth: number;
  private readonly minLeaf: number;
  private readonly minSplit: number;
  private readonly maxLeaves: number;
  private readonly rng: Rng;
  private readonly out: TreeNodes;
  // Scratch.
  private readonly histW: Float64Array; // class weights per bin (k per bin) or weights per bin
  private readonly histS: Float64Array; // regression: weighted sums of y per bin
  private readonly histN: Int32Array; // listed rows per bin
  private readonly totK: Float64Array; // class weights of the node
  private readonly leftK: Float64Array;
  private readonly missK: Float64Array;
  private readonly scratchR: Float64Array;
  private readonly present = new Uint8Array(BINS); // bins present in the node
  private totW = 0;
  private totS = 0;
  private rootW = 1;

  constructor(binned: BinnedFeatures, rows: Int32Array, y: ArrayLike<number>, opts: GrowOptions) {
    const { params } = opts;
    this.codes = rowMajorCodes(binned);
    this.edges = binned.thresholds;
    this.p = binned.codes.length;
    this.cls = opts.task === 'classification';
    this.entropy = this.cls && params.criterion === 'entropy';
    this.k = this.cls ? opts.classCount : 1;
    if (this.cls) {
      this.yc = y instanceof Int32Array ? y : classLabels(y, this.k);
      this.yr = null;
    } else {
      this.yc = null;
      this.yr = y instanceof Float64Array ? y : Float64Array.from(y);
    }
    this.w = opts.weight ?? null;
    this.idx = Int32Array.from(rows);
    this.feats = new Int32Array(this.p);
    for (let j = 0; j < this.p; j++) this.feats[j] = j;
    this.mtry = resolveMaxFeatures(params.maxFeatures, this.p);
    this.maxDepth = params.maxDepth ?? Infinity;
    this.minLeaf = Math.max(1, params.minSamplesLeaf);
    this.minSplit = Math.max(2, params.minSamplesSplit);
    this.maxLeaves = params.maxLeafNodes ?? Infinity;
    if (this.maxLeaves < 2 && params.maxLeafNodes !== null) throw new Error('maxLeafNodes must be at least 2');
    this.rng = opts.rng;
    this.out = { feature: [], threshold: [], missingLeft: [], left: [], right: [], value: [], outputs: this.k };
    this.histW = new Float64Array(BINS * this.k);
    this.histS = new Float64Array(BINS);
    this.histN = new Int32Array(BINS);
    this.totK = new Float64Array(this.k);
    this.leftK = new Float64Array(this.k);
    this.missK = new Float64Array(this.k);
    this.scratchR = new Float64Array(this.k);
  }

  grow(): TreeNodes {
    if (this.idx.length === 0) throw new Error('No rows to grow a tree on');
    const root = this.makeNode(0, this.idx.length, 0);
    this.rootW = this.totW;
    root.gain /= this.rootW;
    if (this.maxLeaves === Infinity) {
      const stack: NodeRec[] = [root];
      while (stack.length > 0) {
        const rec = stack.pop()!;
        if (!rec.split) continue;
        const [l, r] = this.expand(rec);
        stack.push(r, l);
      }
    } else {
      const heap = new NodeHeap();
      if (root.split) heap.push(root);
      let leaves = 1;
      while (heap.size > 0 && leaves < this.maxLeaves) {
        const rec = heap.pop();
        const [l, r] = this.expand(rec);
        leaves++;
        if (l.split) heap.push(l);
        if (r.split) heap.push(r);
      }
    }
    return this.out;
  }

  /** Appends a leaf for rows idx[start..end) and finds its best split (if it may be split). */
  private makeNode(start: number, end: number, depth: number): NodeRec {
    const id = this.out.feature.length;
    const pure = this.nodeStats(start, end);
    const o = this.out;
    o.feature.push(-1); o.threshold.push(0); o.missingLeft.push(0); o.left.push(-1); o.right.push(-1);
    if (this.cls) for (let c = 0; c < this.k; c++) o.value.push(this.totK[c]! / this.totW);
    else o.value.push(this.totS / this.totW);
    const rec: NodeRec = { id, start, end, depth, split: null, gain: 0 };
    const n = end - start;
    if (pure || depth >= this.maxDepth || n < this.minSplit || n < 2 * this.minLeaf) return rec;
    const parentProxy = this.parentProxy();
    const split = this.findSplit(start, end);
    if (split) {
      rec.split = split;
      rec.gain = (split.proxy - parentProxy) / this.rootW;
    }
    return rec;
  }

  /** Fills totW/totS/totK for the node; returns true when it is pure. */
  private nodeStats(start: number, end: number): boolean {
    const { idx, w } = this;
    let tw = 0;
    if (this.cls) {
      const yc = this.yc!;
      const tk = this.totK;
      tk.fill(0);
      for (let i = start; i < end; i++) {
        const r = idx[i]!;
        const wi = w ? w[r]! : 1;
        { const c = yc[r]!; tk[c] = tk[c]! + wi; }
        tw += wi;
      }
      this.totW = tw;
      let nonzero = 0;
      for (let c = 0; c < this.k; c++) if (tk[c]! > 0) nonzero++;
      return nonzero <= 1;
    }
    const yr = this.yr!;
    let ts = 0;
    let lo = Infinity, hi = -Infinity;
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      const wi = w ? w[r]! : 1;
      const v = yr[r]!;
      tw += wi;
      ts += wi * v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.totW = tw;
    this.totS = ts;
    return lo === hi;
  }

  /** The node's own impurity in the units of proxy(): proxy(children) - parentProxy = weighted impurity decrease. */
  private parentProxy(): number {
    if (!this.cls) return (this.totS * this.totS) / this.totW;
    return this.classProxy(this.totK, this.totW);
  }

  /** Gini: sum_c w_c^2 / W. Entropy: sum_c w_c ln(w_c / W). Both = -(W × impurity) + const. */
  private classProxy(wk: Float64Array, w: number): number {
    let s = 0;
    if (this.entropy) {
      for (let c = 0; c < this.k; c++) {
        const v = wk[c]!;
        if (v > 0) s += v * Math.log(v / w);
      }
      return s;
    }
    for (let c = 0; c < this.k; c++) s += wk[c]! * wk[c]!;
    return s / w;
  }

  private findSplit(start: number, end: number): Split | null {
    const { feats, p, rng } = this;
    let best: Split | null = null;
    let visited = 0;
    let nonConstant = 0;
    for (let i = 0; i < p && (visited < this.mtry || nonConstant === 0); i++) {
      // Partial Fisher–Yates: feats[i] becomes a uniform draw from the features not drawn yet.
      const j = i + rng.int(p - i);
      const f = feats[j]!;
      feats[j] = feats[i]!;
      feats[i] = f;
      visited++;
      const r: Split | null | 'constant' = this.cls ? this.splitClassification(f, start, end, best) : this.splitRegression(f, start, end, best);
      if (r === 'constant') continue;
      nonConstant++;
      if (r) best = r;
    }
    return best;
  }

  /**
   * Lists the bins present in the node (present[0..np), ascending, without the
   * missing bin) after the histograms were filled: sorts the few bins recorded
   * on first touch when the node is small, else rescans the occupied range.
   * Keeps small nodes from paying for all 255 bins.
   */
  private sortPresent(np: number, lo: number, hi: number): number {
    const { present, histN } = this;
    if (np * 8 >= hi - lo + 1) {
      np = 0;
      for (let b = lo; b <= hi; b++) if (histN[b] !== 0) present[np++] = b;
    } else if (np <= 24) {
      for (let i = 1; i < np; i++) {
        const v = present[i]!;
        let j = i - 1;
        while (j >= 0 && present[j]! > v) { present[j + 1] = present[j]!; j--; }
        present[j + 1] = v;
      }
    } else {
      present.subarray(0, np).sort();
    }
    return np;
  }

  private splitClassification(f: number, start: number, end: number, best: Split | null): Split | null | 'constant' {
    const { idx, w, k, histW, histN, leftK, missK, totK, minLeaf, scratchR, present } = this;
    const yc = this.yc!;
    const { codes, p } = this;
    let lo = BINS, hi = -1, np = 0;
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      const b = codes[r * p + f]!;
      const h = b * k + yc[r]!;
      histW[h] = histW[h]! + (w ? w[r]! : 1);
      if (histN[b] === 0 && b !== MISSING_BIN) {
        present[np++] = b;
        if (b < lo) lo = b;
        if (b > hi) hi = b;
      }
      histN[b] = histN[b]! + 1;
    }
    const n = end - start;
    const nMiss = histN[MISSING_BIN]!;
    let missW = 0;
    for (let c = 0; c < k; c++) {
      missK[c] = histW[MISSING_BIN * k + c]!;
      missW += missK[c]!;
    }
    let result: Split | null | 'constant' = null;
    if (np === 0 || (np === 1 && nMiss === 0)) {
      result = 'constant';
    } else {
      np = this.sortPresent(np, lo, hi);
      let bestProxy = best ? best.proxy : -Infinity;
      let cutPrev = -2, cutNext = -2, cutMissLeft = 0;
      const totW = this.totW;
      leftK.fill(0);
      let lw = 0, ln = 0;
      let prev = -1;
      for (let t = 0; t < np; t++) {
        const b = present[t]!;
        if (t > 0) {
          // Cut between present bins prev and b: left holds the bins up to prev.
          if (ln >= minLeaf && n - ln >= minLeaf) { // missing right
            for (let c = 0; c < k; c++) scratchR[c] = totK[c]! - leftK[c]!;
            const q = this.classProxy(leftK, lw) + this.classProxy(scratchR, totW - lw);
            if (q > bestProxy) { bestProxy = q; cutPrev = prev; cutNext = b; cutMissLeft = 0; }
          }
          if (nMiss > 0 && ln + nMiss >= minLeaf && n - ln - nMiss >= minLeaf) { // missing left
            for (let c = 0; c < k; c++) { scratchR[c] = totK[c]! - leftK[c]! - missK[c]!; leftK[c] = leftK[c]! + missK[c]!; }
            const q = this.classProxy(leftK, lw + missW) + this.classProxy(scratchR, totW - lw - missW);
            for (let c = 0; c < k; c++) leftK[c] = leftK[c]! - missK[c]!;
            if (q > bestProxy) { bestProxy = q; cutPrev = prev; cutNext = b; cutMissLeft = 1; }
          }
        }
        for (let c = 0; c < k; c++) { const v = histW[b * k + c]!; leftK[c] = leftK[c]! + v; lw += v; }
        ln += histN[b]!;
        prev = b;
      }
      // Every value left, missing right.
      if (nMiss > 0 && n - nMiss >= minLeaf && nMiss >= minLeaf) {
        for (let c = 0; c < k; c++) scratchR[c] = totK[c]! - missK[c]!;
        const q = this.classProxy(scratchR, totW - missW) + this.classProxy(missK, missW);
        if (q > bestProxy) { bestProxy = q; cutPrev = -1; cutMissLeft = 0; }
      }
      if (cutPrev !== -2) result = this.makeSplit(f, cutPrev, cutNext, cutMissLeft, bestProxy, nMiss);
    }
    // Clear the bins used.
    for (let t = 0; t < np; t++) {
      const b = present[t]!;
      histW.fill(0, b * k, (b + 1) * k);
      histN[b] = 0;
    }
    histW.fill(0, MISSING_BIN * k, (MISSING_BIN + 1) * k);
    histN[MISSING_BIN] = 0;
    return result;
  }

  private splitRegression(f: number, start: number, end: number, best: Split | null): Split | null | 'constant' {
    const { idx, w, histW, histS, histN, minLeaf, present } = this;
    const yr = this.yr!;
    const { codes, p } = this;
    let lo = BINS, hi = -1, np = 0;
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      const b = codes[r * p + f]!;
      const wi = w ? w[r]! : 1;
      histW[b] = histW[b]! + wi;
      histS[b] = histS[b]! + wi * yr[r]!;
      if (histN[b] === 0 && b !== MISSING_BIN) {
        present[np++] = b;
        if (b < lo) lo = b;
        if (b > hi) hi = b;
      }
      histN[b] = histN[b]! + 1;
    }
    const n = end - start;
    const nMiss = histN[MISSING_BIN]!;
    const missW = histW[MISSING_BIN]!;
    const missS = histS[MISSING_BIN]!;
    let result: Split | null | 'constant' = null;
    if (np === 0 || (np === 1 && nMiss === 0)) {
      result = 'constant';
    } else {
      np = this.sortPresent(np, lo, hi);
      let bestProxy = best ? best.proxy : -Infinity;
      let cutPrev = -2, cutNext = -2, cutMissLeft = 0;
      const totW = this.totW, totS = this.totS;
      let lw = 0, ls = 0, ln = 0;
      let prev = -1;
      for (let t = 0; t < np; t++) {
        const b = present[t]!;
        if (t > 0) {
          if (ln >= minLeaf && n - ln >= minLeaf) { // missing right
            const rw = totW - lw, rs = totS - ls;
            const q = (ls * ls) / lw + (rs * rs) / rw;
            if (q > bestProxy) { bestProxy = q; cutPrev = prev; cutNext = b; cutMissLeft = 0; }
          }
          if (nMiss > 0 && ln + nMiss >= minLeaf && n - ln - nMiss >= minLeaf) { // missing left
            const aw = lw + missW, as = ls + missS;
            const rw = totW - aw, rs = totS - as;
            const q = (as * as) / aw + (rs * rs) / rw;
            if (q > bestProxy) { bestProxy = q; cutPrev = prev; cutNext = b; cutMissLeft = 1; }
          }
        }
        lw += histW[b]!; ls += histS[b]!; ln += histN[b]!;
        prev = b;
      }
      if (nMiss > 0 && n - nMiss >= minLeaf && nMiss >= minLeaf) {
        const aw = totW - missW, as = totS - missS;
        const q = (as * as) / aw + (missS * missS) / missW;
        if (q > bestProxy) { bestProxy = q; cutPrev = -1; cutMissLeft = 0; }
      }
      if (cutPrev !== -2) result = this.makeSplit(f, cutPrev, cutNext, cutMissLeft, bestProxy, nMiss);
    }
    for (let t = 0; t < np; t++) {
      const b = present[t]!;
      histW[b] = 0; histS[b] = 0; histN[b] = 0;
    }
    histW[MISSING_BIN] = 0; histS[MISSING_BIN] = 0; histN[MISSING_BIN] = 0;
    return result;
  }

  /**
   * Turns the winning cut between present bins `prev` and `next` into a split.
   * The bins between are empty in this node, so the threshold is the middle edge of
   * the gap: the cut sits between the node's values, like sklearn's midpoints.
   * prev = -1: every value left, missing right.
   */
  private makeSplit(f: number, prev: number, next: number, missingLeft: number, proxy: number, nMiss: number): Split {
    if (prev === -1) return { feature: f, cut: -1, threshold: FLOAT32_MAX, missingLeft: 0, proxy };
    const cut = (prev + next - 1) >> 1;
    const split: Split = { feature: f, cut, threshold: this.edges[f]![cut]!, missingLeft, proxy };
    if (nMiss === 0) split.missingLeft = -1; // decided in expand(): towards the heavier child
    return split;
  }
  /** Splits node `rec`: partitions its rows and appends both children. */
  private expand(rec: NodeRec): [NodeRec, NodeRec] {
    const s = rec.split!;
    const { idx, w } = this;
    const { codes, p } = this;
    const f = s.feature;
    const missLeft = s.missingLeft === 1;
    let i = rec.start, j = rec.end - 1;
    let leftW = 0, rightW = 0;
    while (i <= j) {
      const r = idx[i]!;
      const b = codes[r * p + f]!;
      const goLeft = b === MISSING_BIN ? missLeft : s.cut < 0 || b <= s.cut;
      if (goLeft) { leftW += w ? w[r]! : 1; i++; } else {
        rightW += w ? w[r]! : 1;
        idx[i] = idx[j]!; idx[j] = r; j--;
      }
    }
    const o = this.out;
    const id = rec.id;
    o.feature[id] = s.feature;
    o.threshold[id] = s.threshold;
    o.missingLeft[id] = s.missingLeft === -1 ? (leftW >= rightW ? 1 : 0) : s.missingLeft;
    for (let c = 0; c < this.k; c++) o.value[id * this.k + c] = 0;
    const l = this.makeNode(rec.start, i, rec.depth + 1);
    o.left[id] = l.id;
    const r = this.makeNode(i, rec.end, rec.depth + 1);
    o.right[id] = r.id;
    return [l, r];
  }
}

/** Max-heap of nodes by gain (ties: smaller id first), for best-first growth. */
class NodeHeap {
  private readonly a: NodeRec[] = [];
  get size(): number { return this.a.length; }
  private better(x: NodeRec, y: NodeRec): boolean {
    return x.gain > y.gain || (x.gain === y.gain && x.id < y.id);
  }
  push(v: NodeRec): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const pi = (i - 1) >> 1;
      if (!this.better(a[i]!, a[pi]!)) break;
      const t = a[i]!; a[i] = a[pi]!; a[pi] = t;
      i = pi;
    }
  }
  pop(): NodeRec {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && this.better(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.better(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        const t = a[i]!; a[i] = a[m]!; a[m] = t;
        i = m;
      }
    }
    return top;
  }
}
