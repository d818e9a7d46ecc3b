/**
 * Histogram gradient boosting (scikit-learn's HistGradientBoosting{Regressor,Classifier},
 * itself after LightGBM), in plain TypeScript.
 *
 * - Losses: half squared error (regression), binary log-loss, multinomial log-loss; second
 *   order (leaf value = -G / (H + l2), times the learning rate).
 * - Features are binned once on the training rows (binning.ts's edges: up to 255 value bins
 *   plus a missing bin). Trees grow best-first (leaf-wise) on per-node histograms of gradient
 *   and hessian sums, building only the smaller child's histogram and getting its sibling by
 *   subtraction; sklearn's split rules (min_samples_leaf, min_hessian_to_split = 1e-3, gain
 *   G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) > 0, ties to the first feature and bin).
 * - Missing values are native: every split tries missing-left and missing-right; a feature
 *   with no missing value in training sends missing values to the child with more samples.
 * - Early stopping on the validation loss (sklearn's rule: patience nIterNoChange, tol).
 *
 * Fitted trees carry real float32-exact thresholds, so prediction (and the validation score
 * during the fit) only ever walks TreeNodes: `Math.fround(x) <= threshold` goes left. A split
 * that puts every non-missing value left (a "split on missing") gets threshold MAX_FLOAT32,
 * which JSON can hold where Infinity cannot; the one difference is that +Infinity goes right.
 *
 * Speed. Histograms take most of the time. The bin codes are kept twice: row-major, four codes
 * to a Uint32 word (a pass over a node's rows reads each row's gradient pair once and one
 * cache line of codes), and column-major for partitioning. Rows of a node stay in increasing
 * order (stable partition), so memory is walked forwards. Only the root's histogram counts
 * rows per bin (once per fit); below it the count checks are settled for the winning split
 * alone (see findSplit), which saves a third of the histogram work and changes no split.
 *
 * Every pass over the rows (histograms, partitions, gradients, leaf values, validation
 * scores) is cut into two fixed halves ("lanes"); when a worker thread is available it runs
 * the second half in parallel over SharedArrayBuffers, and otherwise the main thread runs
 * both (while binning, the worker codes one feature as the main thread finds the next one's
 * edges). The lanes depend on the data alone, so the fitted model is byte-identical with or
 * without the worker, on any machine. The kernels are self-contained functions whose source
 * text the worker runs (no file to find, in Node, Electron or vitest alike).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Features, FitHooks, TreeNodes } from './types';
import { createRng } from './rng';
import { findEdges, MISSING_BIN } from './binning';

export type HgbTask = 'regression' | 'binary' | 'multiclass';

export interface HgbParams {
  maxIter: number;
  learningRate: number;
  maxLeafNodes: number;
  maxDepth: number | null;
  minSamplesLeaf: number;
  /** l2_regularization. */
  l2: number;
  /** Value bins per feature (at most 255); missing values get a bin of their own. */
  maxBins: number;
  /** 'auto' = on when the data has more than 10,000 rows (sklearn's rule). */
  earlyStopping: boolean | 'auto';
  /** Held out for early stopping (stratified for classification); unused when `valid` is given. */
  validationFraction: number;
  nIterNoChange: number;
  tol: number;
  seed: number;
}

export const HGB_DEFAULTS: HgbParams = {
  maxIter: 100,
  learningRate: 0.1,
  maxLeafNodes: 31,
  maxDepth: null,
  minSamplesLeaf: 20,
  l2: 0,
  maxBins: 255,
  earlyStopping: 'auto',
  validationFraction: 0.1,
  nIterNoChange: 10,
  tol: 1e-7,
  seed: 0,
};

export interface HgbModel {
  kind: 'hgb';
  task: HgbTask;
  /** 1 for regression, 2 for binary, K for multiclass. */
  classCount: number;
  /** 1 for regression and binary, K for multiclass. */
  treesPerIteration: number;
  /** Raw score before any tree, one per treesPerIteration. */
  baseline: number[];
  /** Iteration-major: trees[it * treesPerIteration + k]. Learning rate folded into leaf values; outputs = 1. */
  trees: TreeNodes[];
  iterations: number;
  featureCount: number;
}

export interface HgbFitOptions {
  /** Per-row weights (e.g. class weights for rare failures). */
  sampleWeight?: Float64Array;
  /** Used for early stopping instead of an internal split (when early stopping is on). */
  valid?: { x: Features; y: Float64Array | Int32Array };
  hooks?: FitHooks;
  /** Class count for classification; defaults to the largest label + 1 (2 for binary). */
  classCount?: number;
  /**
   * Share the passes over rows with a worker thread. Default: when the machine has two or
   * more cores and the training part has at least 2,000,000 cells (rows × features). The
   * model is byte-identical either way.
   */
  parallel?: boolean;
}

/** Largest finite float32: the threshold of a split that sends every non-missing value left. */
const MAX_FLOAT32 = 3.4028234663852886e38;
/** sklearn's min_hessian_to_split. */
const MIN_HESSIAN = 1e-3;
/** Histogram slots per feature: 256 bins × (sum of gradients, sum of hessians). */
const FEATURE_STRIDE = 512;
/** Rows that bin edges are found on (sklearn's subsample). */
const BIN_SAMPLE_ROWS = 200_000;
/** Nodes with at least this many rows build their histogram in two lanes (halves). */
const LANE_MIN_ROWS = 2048;
/** Cells (rows × features) from which a worker thread pays for its start-up. */
const PARALLEL_MIN_CELLS = 2_000_000;

// partKernel() maps the missing code to 0 with `(code + 1) & 255`; the kernels hard-code
// FEATURE_STRIDE because they also run, as source text, in the worker. The row-major codes
// are read as little-endian Uint32 words.
if (MISSING_BIN !== 255 || FEATURE_STRIDE !== 512 || new Uint8Array(Uint32Array.of(1).buffer)[0] !== 1) {
  throw new Error('hgb.ts: unexpected bin layout or byte order');
}

// ---------------------------------------------------------------------------------------------
// Fitting

export function fitHgb(
  x: Features,
  y: Float64Array | Int32Array,
  task: HgbTask,
  params: Partial<HgbParams> = {},
  opts: HgbFitOptions = {},
): HgbModel {
  const p: HgbParams = { ...HGB_DEFAULTS, ...params };
  checkParams(p);
  const n = x.rows;
  const nf = x.columns.length;
  checkFeatures(x, 'x');
  if (n < 1) throw new Error('fitHgb: no rows');
  if (nf < 1) throw new Error('fitHgb: no features');
  if (y.length !== n) throw new Error(`fitHgb: y has ${y.length} entries for ${n} rows`);
  const weight = opts.sampleWeight;
  if (weight) {
    if (weight.length !== n) throw new Error(`fitHgb: sampleWeight has ${weight.length} entries for ${n} rows`);
    for (let i = 0; i < n; i++) {
      const w = weight[i]!;
      if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`fitHgb: sampleWeight[${i}] = ${w} is not a finite non-negative number`);
    }
  }

  // Targets and classes.
  const classification = task !== 'regression';
  let classCount = 1;
  if (classification) {
    let maxLabel = maxClassLabel(y, 'y');
    if (opts.valid) maxLabel = Math.max(maxLabel, maxClassLabel(opts.valid.y, 'valid.y'));
    classCount = opts.classCount ?? Math.max(maxLabel + 1, 2);
    if (!Number.isInteger(classCount) || classCount < 2) throw new Error(`fitHgb: invalid classCount ${classCount}`);
    if (task === 'binary' && classCount !== 2) throw new Error(`fitHgb: binary task with ${classCount} classes`);
    if (maxLabel >= classCount) throw new Error(`fitHgb: label ${maxLabel} is not below classCount ${classCount}`);
  } else {
    checkFinite(y, 'y');
  }
  const T = task === 'multiclass' ? classCount : 1;

  // Train / validation split.
  const early = p.earlyStopping === 'auto' ? n > 10_000 : p.earlyStopping;
  let trainRows: Int32Array | null = null;
  let valRows: Int32Array | null = null;
  if (early && !opts.valid) {
    const parts = splitRows(n, p.validationFraction, classification ? y : null, classCount, p.seed);
    trainRows = parts.train;
    valRows = parts.valid;
  }
  const nTrain = trainRows ? trainRows.length : n;

  const parallel = (opts.parallel ?? nTrain * nf >= PARALLEL_MIN_CELLS) && cpuCount() >= 2 && typeof SharedArrayBuffer === 'function';

  if (early && opts.valid) {
    const v = opts.valid;
    checkFeatures(v.x, 'valid.x');
    if (v.x.columns.length !== nf) throw new Error('fitHgb: valid.x has a different feature count');
    if (v.y.length !== v.x.rows) throw new Error('fitHgb: valid.y does not match valid.x');
    if (!classification) checkFinite(v.y, 'valid.y');
  }
  // Validation rows for early stopping (the given ones, or the held-out part).
  const validX = early ? opts.valid?.x ?? null : null;
  const nv = !early ? 0 : validX ? validX.rows : valRows ? valRows.length : 0;

  // Training state, shared with the worker when there is one: allocated first, so that the
  // worker (started with it) can help from the binning on.
  const shared = (bytes: number): ArrayBuffer | SharedArrayBuffer => newBuffer(bytes, parallel);
  const words = (nf + 3) >> 2;
  const rm32 = new Uint32Array(shared(nTrain * words * 4));
  const treeCap = 2 * p.maxLeafNodes + 1;
  const state: Shared = {
    ctrl: new Int32Array(shared(CTRL.size * 4)),
    layout: CTRL,
    n: nTrain,
    T,
    words,
    loss: task === 'regression' ? 0 : task === 'binary' ? 1 : 2,
    rm32,
    rm8: new Uint8Array(rm32.buffer),
    codes: new Uint8Array(shared(nTrain * nf)),
    stage: new Float64Array(shared(2 * nTrain * 8)),
    edges: new Float64Array(shared(2 * 256 * 8)),
    missing: new Uint8Array(shared(nf)),
    gh: new Float32Array(shared(nTrain * T * 2 * 4)),
    idx: new Int32Array(shared(nTrain * 4)),
    tmp: new Int32Array(shared(nTrain * 4)),
    scratch: new Float64Array(shared(words * 4 * FEATURE_STRIDE * 8)),
    raw: new Float64Array(shared(nTrain * T * 8)),
    y: new Float64Array(shared(nTrain * 8)),
    w: new Float64Array(shared(weight ? nTrain * 8 : 0)),
    leaves: new Float64Array(shared((p.maxLeafNodes + 1) * 3 * 8)),
    vn: nv,
    vcols: new Float32Array(shared(nv * nf * 4)),
    vraw: new Float64Array(shared(nv * T * 8)),
    vy: new Float64Array(shared(nv * 8)),
    vw: new Float64Array(shared(weight && !validX ? nv * 8 : 0)),
    treeI: new Int32Array(shared(treeCap * 3 * 4)),
    treeF: new Float64Array(shared(treeCap * 2 * 8)),
    treeCap,
    sums: new Float64Array(shared(4 * 8)),
    hmax: new Float64Array(shared(2 * T * 8)),
  };
  const lanes = new Lanes(state, parallel);
  try {
    const bins = binTrainingRows(x, trainRows, p, state, lanes);

    const yTrain = trainRows ? gatherLabels(y, trainRows) : y;
    const wTrain = weight ? (trainRows ? gather(new Float64Array(nTrain), weight, trainRows) : weight) : null;
    let totalWeight = nTrain;
    if (wTrain) {
      totalWeight = 0;
      for (let i = 0; i < nTrain; i++) totalWeight += wTrain[i]!;
      if (!(totalWeight > 0)) throw new Error('fitHgb: the training sample weights sum to zero');
    }
    const baseline = computeBaseline(task, yTrain, wTrain, totalWeight, classCount);

    const { raw, vcols, vy, vw, vraw } = state;
    for (let i = 0; i < raw.length; i++) raw[i] = baseline[i % T]!;
    state.y.set(yTrain);
    if (wTrain) state.w.set(wTrain);
    // Validation features as float32 (what the trees compare), column-major; labels, weights, raw scores.
    if (nv > 0) {
      for (let j = 0; j < nf; j++) {
        const col = validX ? validX.columns[j]! : x.columns[j]!;
        const out = vcols.subarray(j * nv, (j + 1) * nv);
        if (validX) out.set(col);
        else for (let i = 0; i < nv; i++) out[i] = col[valRows![i]!]!;
      }
      if (validX) vy.set(opts.valid!.y);
      else for (let i = 0; i < nv; i++) vy[i] = y[valRows![i]!]!;
      if (vw.length > 0) for (let i = 0; i < nv; i++) vw[i] = weight![valRows![i]!]!;
      for (let i = 0; i < vraw.length; i++) vraw[i] = baseline[i % T]!;
    }

    const grower = new TreeGrower(bins, state, lanes, p);
    const trees: TreeNodes[] = [];
    const scores: number[] = [];
    if (nv > 0) scores.push(-lanes.validationLoss());
    const hooks = opts.hooks;
    let iterations = 0;
    for (let it = 0; it < p.maxIter; it++) {
      hooks?.checkCancelled?.();
      lanes.gradients();
      for (let k = 0; k < T; k++) {
        const tree = grower.grow(k);
        trees.push(tree);
        if (nv > 0) lanes.validate(tree, k);
      }
      iterations = it + 1;
      let stop = false;
      if (nv > 0) {
        scores.push(-lanes.validationLoss());
        stop = shouldStop(scores, p.nIterNoChange, p.tol);
      }
      hooks?.progress?.(stop ? 1 : iterations / p.maxIter);
      if (stop) break;
    }
    return { kind: 'hgb', task, classCount, treesPerIteration: T, baseline, trees, iterations, featureCount: nf };
  } finally {
    lanes.close();
  }
}

function checkParams(p: HgbParams): void {
  const bad = (name: string, v: unknown): never => { throw new Error(`fitHgb: invalid ${name}: ${String(v)}`); };
  if (!Number.isInteger(p.maxIter) || p.maxIter < 1) bad('maxIter', p.maxIter);
  if (!(p.learningRate > 0) || !Number.isFinite(p.learningRate)) bad('learningRate', p.learningRate);
  if (!Number.isInteger(p.maxLeafNodes) || p.maxLeafNodes < 2) bad('maxLeafNodes', p.maxLeafNodes);
  if (p.maxDepth !== null && (!Number.isInteger(p.maxDepth) || p.maxDepth < 1)) bad('maxDepth', p.maxDepth);
  if (!Number.isInteger(p.minSamplesLeaf) || p.minSamplesLeaf < 1) bad('minSamplesLeaf', p.minSamplesLeaf);
  if (!(p.l2 >= 0) || !Number.isFinite(p.l2)) bad('l2', p.l2);
  if (!Number.isInteger(p.maxBins) || p.maxBins < 2 || p.maxBins > 255) bad('maxBins', p.maxBins);
  if (p.earlyStopping !== 'auto' && typeof p.earlyStopping !== 'boolean') bad('earlyStopping', p.earlyStopping);
  if (!(p.validationFraction > 0 && p.validationFraction < 1)) bad('validationFraction', p.validationFraction);
  if (!Number.isInteger(p.nIterNoChange) || p.nIterNoChange < 1) bad('nIterNoChange', p.nIterNoChange);
  if (!(p.tol >= 0) || !Number.isFinite(p.tol)) bad('tol', p.tol);
  if (!Number.isFinite(p.seed)) bad('seed', p.seed);
}

function checkFeatures(x: Features, what: string): void {
  for (let j = 0; j < x.columns.length; j++) {
    const len = x.columns[j]!.length;
    if (len !== x.rows) throw new Error(`hgb: ${what}.columns[${j}] has ${len} entries for ${x.rows} rows`);
  }
}

function checkFinite(y: ArrayLike<number>, what: string): void {
  for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i]!)) throw new Error(`fitHgb: ${what}[${i}] = ${y[i]} is not finite`);
}

/** Checks that class labels are non-negative integers; returns the largest. */
function maxClassLabel(y: ArrayLike<number>, what: string): number {
  let max = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (!Number.isInteger(v) || v < 0) throw new Error(`fitHgb: ${what}[${i}] = ${v} is not a class index`);
    if (v > max) max = v;
  }
  return max;
}

function cpuCount(): number {
  try {
    return availableParallelism();
  } catch {
    return 1;
  }
}

function newBuffer(bytes: number, shared: boolean): ArrayBuffer | SharedArrayBuffer {
  return shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

function gather(out: Float64Array, src: Float64Array, rows: Int32Array): Float64Array {
  for (let i = 0; i < rows.length; i++) out[i] = src[rows[i]!]!;
  return out;
}

function gatherLabels(src: Float64Array | Int32Array, rows: Int32Array): Float64Array | Int32Array {
  const out = src instanceof Int32Array ? new Int32Array(rows.length) : new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = src[rows[i]!]!;
  return out;
}

/**
 * sklearn's train_test_split(test_size=fraction, stratify=y for classification), with our own
 * seeded shuffle: ceil(fraction · n) validation rows, shared among classes in proportion to
 * their sizes (largest remainders first). Both parts come back in increasing row order.
 */
function splitRows(n: number, fraction: number, labels: ArrayLike<number> | null, classCount: number, seed: number): { train: Int32Array; valid: Int32Array } {
  const nVal = Math.ceil(fraction * n);
  if (nVal >= n) throw new Error(`fitHgb: ${n} rows are too few to hold out ${fraction} of them for early stopping`);
  const rng = createRng(seed);
  const isVal = new Uint8Array(n);
  const pick = (members: Int32Array, count: number): void => {
    // The first `count` of a seeded Fisher–Yates shuffle.
    for (let i = 0; i < count; i++) {
      const j = i + rng.int(members.length - i);
      const t = members[i]!; members[i] = members[j]!; members[j] = t;
      isVal[members[i]!] = 1;
    }
  };
  if (labels) {
    const counts = new Int32Array(classCount);
    for (let i = 0; i < n; i++) counts[labels[i]!]!++;
    const take = new Int32Array(classCount);
    const rest: { k: number; r: number }[] = [];
    let taken = 0;
    for (let k = 0; k < classCount; k++) {
      const ideal = (counts[k]! * nVal) / n;
      take[k] = Math.floor(ideal);
      taken += take[k]!;
      rest.push({ k, r: ideal - take[k]! });
    }
    rest.sort((a, b) => b.r - a.r || a.k - b.k);
    for (let i = 0; taken < nVal && i < rest.length; i++) {
      const k = rest[i]!.k;
      if (take[k]! < counts[k]!) { take[k]!++; taken++; }
    }
    const members = Array.from(counts, (c) => new Int32Array(c));
    const fill = new Int32Array(classCount);
    for (let i = 0; i < n; i++) { const k = labels[i]!; members[k]![fill[k]!++] = i; }
    for (let k = 0; k < classCount; k++) pick(members[k]!, take[k]!);
  } else {
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    pick(all, nVal);
  }
  const train = new Int32Array(n - nVal);
  const valid = new Int32Array(nVal);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (isVal[i]) valid[b++] = i; else train[a++] = i;
  }
  return { train, valid };
}

/** The training rows binned: codes column-major (partitioning) and row-major in words (histograms). */
interface TrainingBins {
  featureCount: number;
  /** Uint32 words per row in rm32: four codes to a word, feature 4w + b in byte b of word w. */
  words: number;
  rm32: Uint32Array;
  /** codes[j * n + i]: the code of feature j for training row i. */
  codes: Uint8Array;
  thresholds: Float64Array[];
  /** Value bins per feature (the missing bin excluded). */
  binCounts: Int32Array;
  hasMissing: Uint8Array;
}

/**
 * Bins the training rows into s.codes and s.rm32. Edges come from binning.ts's findEdges on at
 * most BIN_SAMPLE_ROWS training rows, the same rows for every feature (as sklearn does), so
 * findEdges is handed the sample and need not draw one per feature. The main thread finds a
 * feature's edges while the worker codes the previous feature (codeKernel).
 */
function binTrainingRows(x: Features, trainRows: Int32Array | null, p: HgbParams, s: Shared, lanes: Lanes): TrainingBins {
  const nf = x.columns.length;
  const n = s.n;
  const thresholds: Float64Array[] = [];
  const binCounts = new Int32Array(nf);
  const hasMissing = new Uint8Array(nf);
  const sample = sampleRows(n, p.seed);
  const sampleValues = new Float64Array(sample ? sample.length : 0);
  for (let j = 0; j < nf; j++) {
    const col = x.columns[j]!;
    // The training rows of feature j, staged where the worker can read them.
    const slot = j & 1;
    const stage = s.stage.subarray(slot * n, (slot + 1) * n);
    if (trainRows) gather(stage, col, trainRows);
    else stage.set(col);
    let edges: Float64Array;
    if (sample) {
      for (let i = 0; i < sample.length; i++) sampleValues[i] = stage[sample[i]!]!;
      edges = findEdges(sampleValues, { maxBins: p.maxBins, sampleRows: BIN_SAMPLE_ROWS });
    } else {
      edges = findEdges(stage, { maxBins: p.maxBins, sampleRows: BIN_SAMPLE_ROWS });
    }
    s.edges.set(edges, slot * 256);
    thresholds.push(edges);
    binCounts[j] = edges.length + 1;
    if (j > 0) lanes.joinCoding();
    lanes.postCoding(j, slot, edges.length);
  }
  if (nf > 0) lanes.joinCoding();
  for (let j = 0; j < nf; j++) hasMissing[j] = s.missing[j]!;
  return { featureCount: nf, words: s.words, rm32: s.rm32, codes: s.codes, thresholds, binCounts, hasMissing };
}

/** Rows to find bin edges on (sklearn's subsample = 200,000), or null for all. Sorted. */
function sampleRows(n: number, seed: number): Int32Array | null {
  if (n <= BIN_SAMPLE_ROWS) return null;
  const rng = createRng(seed);
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  for (let i = 0; i < BIN_SAMPLE_ROWS; i++) {
    const j = i + rng.int(n - i);
    const t = all[i]!; all[i] = all[j]!; all[j] = t;
  }
  return all.slice(0, BIN_SAMPLE_ROWS).sort();
}

/** sklearn's fit_intercept_only: mean, log-odds, or centred log-priors. */
function computeBaseline(task: HgbTask, y: ArrayLike<number>, w: Float64Array | null, totalWeight: number, classCount: number): number[] {
  const n = y.length;
  if (task !== 'multiclass') {
    let s = 0;
    for (let i = 0; i < n; i++) s += w ? w[i]! * y[i]! : y[i]!;
    const mean = s / totalWeight;
    if (task === 'regression') return [mean];
    const eps = 10 * Number.EPSILON;
    const pr = Math.min(Math.max(mean, eps), 1 - eps);
    return [Math.log(pr / (1 - pr))];
  }
  const prior = new Float64Array(classCount);
  for (let i = 0; i < n; i++) prior[y[i]!]! += w ? w[i]! : 1;
  const logs: number[] = [];
  let meanLog = 0;
  for (let k = 0; k < classCount; k++) {
    const pk = Math.min(Math.max(prior[k]! / totalWeight, Number.EPSILON), 1 - Number.EPSILON);
    logs.push(Math.log(pk));
    meanLog += Math.log(pk);
  }
  meanLog /= classCount;
  return logs.map((l) => l - meanLog);
}

/** sklearn's _should_stop: none of the last n scores beats the one before them by more than tol. */
function shouldStop(scores: number[], nIterNoChange: number, tol: number): boolean {
  const ref = nIterNoChange + 1;
  if (scores.length < ref) return false;
  const reference = scores[scores.length - ref]! + tol;
  for (let i = scores.length - ref + 1; i < scores.length; i++) if (scores[i]! > reference) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Tree growing

/**
 * Grows one tree at a time on the binned training rows, reusing its buffers across trees.
 * Nodes live in parallel typed arrays; the rows of node i are idx[start[i] .. end[i]).
 */
class TreeGrower {
  private readonly cap: number;
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  private readonly depth: Int32Array;
  private readonly sumG: Float64Array;
  private readonly sumH: Float64Array;
  /** Index of the node's histogram in `pool`, or -1. */
  private readonly hist: Int32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  // The best split found for each node.
  private readonly gain: Float64Array;
  private readonly feat: Int32Array;
  private readonly bin: Int32Array;
  private readonly missLeft: Uint8Array;
  private readonly gl: Float64Array;
  private readonly hl: Float64Array;
  /** Rows going left, or -1 when not counted (the partition counts them). */
  private readonly nl: Int32Array;
  private readonly pool: Float64Array[] = [];
  private readonly free: number[] = [];
  private readonly splittable: number[] = [];
  private nodeCount = 0;
  private leafCount = 0;
  /** Offset of the current class's (gradient, hessian) pairs in gh. */
  private ghOff = 0;
  /** Rows per feature and bin (feature · 256 + bin) of the root (the same for every tree), once known. */
  private rootCounts: Float64Array | null = null;
  /** Rows per feature and bin of a node below the root, when its winning split needs them. */
  private readonly counts: Float64Array;
  /** Zero counts, for a scan without them. */
  private readonly noCounts: Float64Array;
  /** The largest hessian of a row for the current tree: bounds counts from below (count ≥ H / hMax). */
  private hMax = 0;

  constructor(
    private readonly bins: TrainingBins,
    private readonly s: Shared,
    private readonly lanes: Lanes,
    private readonly p: HgbParams,
  ) {
    const cap = 2 * p.maxLeafNodes + 1;
    this.cap = cap;
    this.start = new Int32Array(cap);
    this.end = new Int32Array(cap);
    this.depth = new Int32Array(cap);
    this.sumG = new Float64Array(cap);
    this.sumH = new Float64Array(cap);
    this.hist = new Int32Array(cap);
    this.left = new Int32Array(cap);
    this.right = new Int32Array(cap);
    this.gain = new Float64Array(cap);
    this.feat = new Int32Array(cap);
    this.bin = new Int32Array(cap);
    this.missLeft = new Uint8Array(cap);
    this.gl = new Float64Array(cap);
    this.hl = new Float64Array(cap);
    this.nl = new Int32Array(cap);
    this.counts = new Float64Array(bins.words * 4 * 256);
    this.noCounts = new Float64Array(bins.words * 4 * 256);
  }

  /** Grows the tree of class k on the current gradients, adds it to the raw scores and returns it. */
  grow(k: number): TreeNodes {
    const { p, s } = this;
    const { n, idx } = s;
    this.ghOff = 2 * n * k;
    for (let i = 0; i < n; i++) idx[i] = i;
    this.nodeCount = 0;
    this.leafCount = 0;
    this.splittable.length = 0;
    this.hMax = this.lanes.maxHessian(k);
    const root = this.newNode(0, n, 0, 0, 0);
    const b = this.allocHist();
    this.hist[root] = b;
    const hist = this.pool[b]!;
    this.lanes.rootHistogram(hist, this.ghOff);
    if (this.rootCounts === null) {
      // idx is the identity here.
      this.rootCounts = new Float64Array(this.bins.words * 4 * 256);
      countKernel(this.rootCounts, this.s.rm32, this.bins.words, idx, 0, n);
    }
    // The root's sums: those of feature 0's bins.
    let G = 0, H = 0;
    for (let o = 0; o < FEATURE_STRIDE; o += 2) { G += hist[o]!; H += hist[o + 1]!; }
    this.sumG[root] = G;
    this.sumH[root] = H;
    if (n < 2 * p.minSamplesLeaf || H < MIN_HESSIAN) this.makeLeaf(root);
    else this.findSplit(root);
    while (this.splittable.length > 0) this.splitNext();
    return this.finish(k);
  }

  private newNode(start: number, end: number, depth: number, G: number, H: number): number {
    const i = this.nodeCount++;
    if (i >= this.cap) throw new Error('hgb: node capacity exceeded');
    this.start[i] = start;
    this.end[i] = end;
    this.depth[i] = depth;
    this.sumG[i] = G;
    this.sumH[i] = H;
    this.hist[i] = -1;
    this.left[i] = -1;
    this.right[i] = -1;
    this.gain[i] = 0;
    this.feat[i] = -1;
    this.nl[i] = -1;
    return i;
  }

  private allocHist(): number {
    const b = this.free.pop();
    if (b !== undefined) return b;
    this.pool.push(new Float64Array(this.bins.words * 4 * FEATURE_STRIDE));
    return this.pool.length - 1;
  }

  private releaseHist(node: number): void {
    const b = this.hist[node]!;
    if (b >= 0) { this.free.push(b); this.hist[node] = -1; }
  }

  private makeLeaf(node: number): void {
    this.leafCount++;
    this.releaseHist(node);
  }

  /**
   * Finds the node's best split (sklearn's: the first candidate with the largest gain, scanning
   * features in order, each left to right with missing values right, then right to left with
   * missing values left; both sides need minSamplesLeaf rows and MIN_HESSIAN hessian) and
   * queues the node, or makes it a leaf when no split gains.
   *
   * Histograms below the root carry no counts (a third of the work of building them). The
   * scan then skips the count checks, and the winner's counts are checked afterwards: from
   * below by its hessians (count ≥ H / hMax), else by counting its rows. If the winner passes,
   * it is also the best of the splits that pass, since those are among the ones scanned; if
   * not, the node's counts are taken and the scan is run again with them.
   */
  private findSplit(node: number): void {
    // The root (node 0) has its counts; the other nodes are scanned without, then checked.
    const rootCounts = node === 0 ? this.rootCounts : null;
    if (!this.scan(node, rootCounts)) { this.makeLeaf(node); return; }
    if (!rootCounts && !this.winnerHasRows(node)) {
      countKernel(this.counts, this.s.rm32, this.bins.words, this.s.idx, this.start[node]!, this.end[node]!);
      if (!this.scan(node, this.counts)) { this.makeLeaf(node); return; }
    }
    this.splittable.push(node);
  }

  /**
   * The scan of findSplit, with the node's counts per feature and bin (feature · 256 + bin) or
   * without (null: the count checks pass); false when no split gains.
   */
  private scan(node: number, counts: Float64Array | null): boolean {
    const hist = this.pool[this.hist[node]!]!;
    const { binCounts, hasMissing, featureCount } = this.bins;
    const l2 = this.p.l2;
    // Without counts, every count is 0, and so are msl and the node's count: the checks pass.
    const cnt = counts ?? this.noCounts;
    const msl = counts ? this.p.minSamplesLeaf : 0;
    const count = counts ? this.end[node]! - this.start[node]! : 0;
    const G = this.sumG[node]!, H = this.sumH[node]!;
    const parent = (G * G) / (H + l2);
    let best = 0, bestF = -1, bestB = 0, bestML = 0, bestGL = 0, bestHL = 0, bestNL = 0;
    for (let f = 0; f < featureCount; f++) {
      const base = f * FEATURE_STRIDE;
      const cb = f * 256;
      const nb = binCounts[f]!;
      const hm = hasMissing[f]!;
      // Left to right, missing values going right. With missing values, the last candidate
      // sends every non-missing value left.
      const stop = nb - 1 + hm;
      let sgl = 0, shl = 0, snl = 0;
      for (let b = 0; b < stop; b++) {
        const o = base + b * 2;
        sgl += hist[o]!; shl += hist[o + 1]!; snl += cnt[cb + b]!;
        if (snl < msl) continue;
        if (count - snl < msl) break;
        if (shl < MIN_HESSIAN) continue;
        const shr = H - shl;
        if (shr < MIN_HESSIAN) break;
        const sgr = G - sgl;
        const gain = (sgl * sgl) / (shl + l2) + (sgr * sgr) / (shr + l2) - parent;
        if (gain > best) { best = gain; bestF = f; bestB = b; bestML = 0; bestGL = sgl; bestHL = shl; bestNL = snl; }
      }
      if (hm) {
        // Right to left, missing values going left.
        let sgr = 0, shr = 0, snr = 0;
        for (let b = nb - 2; b >= 0; b--) {
          const o = base + (b + 1) * 2;
          sgr += hist[o]!; shr += hist[o + 1]!; snr += cnt[cb + b + 1]!;
          if (snr < msl) continue;
          if (count - snr < msl) break;
          if (shr < MIN_HESSIAN) continue;
          const shl = H - shr;
          if (shl < MIN_HESSIAN) break;
          const sgl = G - sgr;
          const gain = (sgl * sgl) / (shl + l2) + (sgr * sgr) / (shr + l2) - parent;
          if (gain > best) { best = gain; bestF = f; bestB = b; bestML = 1; bestGL = sgl; bestHL = shl; bestNL = count - snr; }
        }
      }
    }
    if (bestF < 0) return false;
    this.gain[node] = best;
    this.feat[node] = bestF;
    this.bin[node] = bestB;
    this.missLeft[node] = bestML;
    this.gl[node] = bestGL;
    this.hl[node] = bestHL;
    this.nl[node] = counts ? bestNL : -1;
    return true;
  }

  /** Whether both sides of the node's (uncounted) winning split have minSamplesLeaf rows. */
  private winnerHasRows(node: number): boolean {
    const msl = this.p.minSamplesLeaf;
    const H = this.sumH[node]!, hl = this.hl[node]!, hr = H - hl;
    // count ≥ H / hMax for either side; the margin covers rounding in the sums.
    const need = (msl - 0.5) * this.hMax + 1e-9 * H;
    if (hl >= need && hr >= need) return true;
    const s = this.start[node]!, e = this.end[node]!;
    const f = this.feat[node]!;
    const nl = countLeftKernel(this.bins.codes, f * this.s.n, this.bin[node]!, this.missLeft[node]!, this.s.idx, s, e);
    this.nl[node] = nl;
    return nl >= msl && e - s - nl >= msl;
  }

  /** Splits the queued node with the largest gain (the earliest node on ties). */
  private splitNext(): void {
    const q = this.splittable;
    let bi = 0;
    for (let i = 1; i < q.length; i++) {
      const a = q[i]!, b = q[bi]!;
      if (this.gain[a]! > this.gain[b]! || (this.gain[a] === this.gain[b] && a < b)) bi = i;
    }
    const node = q[bi]!;
    q.splice(bi, 1);
    const { p } = this;
    const f = this.feat[node]!;
    const s = this.start[node]!, e = this.end[node]!;
    const nl = this.lanes.partition(f, this.bin[node]!, this.missLeft[node]!, s, e);
    const nr = e - s - nl;
    if (this.nl[node]! >= 0 && nl !== this.nl[node]) throw new Error('hgb: partition does not match the histogram');
    const depth = this.depth[node]! + 1;
    const G = this.sumG[node]!, H = this.sumH[node]!;
    const L = this.newNode(s, s + nl, depth, this.gl[node]!, this.hl[node]!);
    const R = this.newNode(s + nl, e, depth, G - this.gl[node]!, H - this.hl[node]!);
    this.left[node] = L;
    this.right[node] = R;
    // sklearn: with no missing value in training, missing values follow the larger child.
    if (!this.bins.hasMissing[f]) this.missLeft[node] = nl > nr ? 1 : 0;

    if (this.leafCount + q.length + 2 >= p.maxLeafNodes || (p.maxDepth !== null && depth >= p.maxDepth)) {
      this.releaseHist(node);
      this.makeLeaf(L);
      this.makeLeaf(R);
      if (this.leafCount + q.length >= p.maxLeafNodes) while (q.length > 0) this.makeLeaf(q.pop()!);
      return;
    }
    const leafL = nl < 2 * p.minSamplesLeaf;
    const leafR = nr < 2 * p.minSamplesLeaf;
    if (leafL && leafR) {
      this.releaseHist(node);
      this.makeLeaf(L);
      this.makeLeaf(R);
      return;
    }
    // The smaller child's histogram by a pass over its rows; the larger one's by subtraction,
    // in place in the parent's buffer.
    const small = nl < nr ? L : R;
    const large = small === L ? R : L;
    const sb = this.allocHist();
    const parentBuf = this.hist[node]!;
    this.hist[node] = -1;
    const smallHist = this.pool[sb]!;
    this.lanes.histogram(smallHist, this.ghOff, this.start[small]!, this.end[small]!);
    subtractInto(this.pool[parentBuf]!, smallHist);
    this.hist[small] = sb;
    this.hist[large] = parentBuf;
    if (leafL) this.makeLeaf(L); else this.findSplit(L);
    if (leafR) this.makeLeaf(R); else this.findSplit(R);
  }

  /** Adds the leaf values to the raw scores of the training rows; returns the tree in preorder. */
  private finish(k: number): TreeNodes {
    const { learningRate, l2 } = this.p;
    const { bins } = this;
    const leaves = this.s.leaves;
    let leafCount = 0;
    const out: TreeNodes = { feature: [], threshold: [], missingLeft: [], left: [], right: [], value: [], outputs: 1 };
    // Iterative preorder; the stack holds triples (grower node, parent's output index, 0 = left / 1 = right).
    const stack: number[] = [0, -1, 0];
    while (stack.length > 0) {
      const side = stack.pop()!, parentOut = stack.pop()!, node = stack.pop()!;
      const o = out.feature.length;
      if (parentOut >= 0) {
        if (side === 0) out.left[parentOut] = o; else out.right[parentOut] = o;
      }
      out.left.push(-1);
      out.right.push(-1);
      if (this.left[node]! < 0) {
        const v = (-this.sumG[node]! / (this.sumH[node]! + l2)) * learningRate;
        const value = Number.isFinite(v) ? v : 0;
        out.feature.push(-1);
        out.threshold.push(0);
        out.missingLeft.push(0);
        out.value.push(value);
        leaves[3 * leafCount] = this.start[node]!;
        leaves[3 * leafCount + 1] = this.end[node]!;
        leaves[3 * leafCount + 2] = value;
        leafCount++;
      } else {
        const f = this.feat[node]!, b = this.bin[node]!;
        out.feature.push(f);
        out.threshold.push(b < bins.binCounts[f]! - 1 ? bins.thresholds[f]![b]! : MAX_FLOAT32);
        out.missingLeft.push(this.missLeft[node]!);
        out.value.push(0);
        stack.push(this.right[node]!, o, 1, this.left[node]!, o, 0);
      }
    }
    this.lanes.addLeaves(leafCount, k);
    return out;
  }
}

function subtractInto(parent: Float64Array, child: Float64Array): void {
  for (let i = 0; i < parent.length; i++) parent[i]! -= child[i]!;
}

// ---------------------------------------------------------------------------------------------
// Kernels. Each is self-contained (no outside names, constants inlined), because the worker
// runs their source text.

/**
 * Sums (gradient, hessian) per feature and bin over the rows idx[lo..hi) into `hist`, slots
 * feature · 512 + bin · 2 and the next one. rm32
 * holds `words` Uint32 words per row, four codes to a word; gh holds (gradient, hessian) pairs
 * from ghOff. Four rows at a time, so that the cache misses of scattered rows overlap.
 */
function histKernel(hist: Float64Array, rm32: Uint32Array, words: number, gh: Float32Array, ghOff: number, idx: Int32Array, lo: number, hi: number): void {
  hist.fill(0);
  let k = lo;
  for (; k + 3 < hi; k += 4) {
    const r1 = idx[k]!, r2 = idx[k + 1]!, r3 = idx[k + 2]!, r4 = idx[k + 3]!;
    const q1 = ghOff + 2 * r1, q2 = ghOff + 2 * r2, q3 = ghOff + 2 * r3, q4 = ghOff + 2 * r4;
    const g1 = gh[q1]!, h1 = gh[q1 + 1]!, g2 = gh[q2]!, h2 = gh[q2 + 1]!;
    const g3 = gh[q3]!, h3 = gh[q3 + 1]!, g4 = gh[q4]!, h4 = gh[q4 + 1]!;
    let row1 = r1 * words, row2 = r2 * words, row3 = r3 * words, row4 = r4 * words;
    for (let base = 0, w = 0; w < words; w++, row1++, row2++, row3++, row4++, base += 2048) {
      const w1 = rm32[row1]!, w2 = rm32[row2]!, w3 = rm32[row3]!, w4 = rm32[row4]!;
      let o: number;
      o = base + (w1 & 255) * 2;
      hist[o]! += g1; hist[o + 1]! += h1;
      o = base + 512 + ((w1 >>> 8) & 255) * 2;
      hist[o]! += g1; hist[o + 1]! += h1;
      o = base + 1024 + ((w1 >>> 16) & 255) * 2;
      hist[o]! += g1; hist[o + 1]! += h1;
      o = base + 1536 + (w1 >>> 24) * 2;
      hist[o]! += g1; hist[o + 1]! += h1;
      o = base + (w2 & 255) * 2;
      hist[o]! += g2; hist[o + 1]! += h2;
      o = base + 512 + ((w2 >>> 8) & 255) * 2;
      hist[o]! += g2; hist[o + 1]! += h2;
      o = base + 1024 + ((w2 >>> 16) & 255) * 2;
      hist[o]! += g2; hist[o + 1]! += h2;
      o = base + 1536 + (w2 >>> 24) * 2;
      hist[o]! += g2; hist[o + 1]! += h2;
      o = base + (w3 & 255) * 2;
      hist[o]! += g3; hist[o + 1]! += h3;
      o = base + 512 + ((w3 >>> 8) & 255) * 2;
      hist[o]! += g3; hist[o + 1]! += h3;
      o = base + 1024 + ((w3 >>> 16) & 255) * 2;
      hist[o]! += g3; hist[o + 1]! += h3;
      o = base + 1536 + (w3 >>> 24) * 2;
      hist[o]! += g3; hist[o + 1]! += h3;
      o = base + (w4 & 255) * 2;
      hist[o]! += g4; hist[o + 1]! += h4;
      o = base + 512 + ((w4 >>> 8) & 255) * 2;
      hist[o]! += g4; hist[o + 1]! += h4;
      o = base + 1024 + ((w4 >>> 16) & 255) * 2;
      hist[o]! += g4; hist[o + 1]! += h4;
      o = base + 1536 + (w4 >>> 24) * 2;
      hist[o]! += g4; hist[o + 1]! += h4;
    }
  }
  for (; k < hi; k++) {
    const r = idx[k]!;
    const g = gh[ghOff + 2 * r]!, h = gh[ghOff + 2 * r + 1]!;
    for (let f = 0, row = r * words; f < 4 * words; f++) {
      const o = f * 512 + ((rm32[row + (f >> 2)]! >>> (8 * (f & 3))) & 255) * 2;
      hist[o]! += g; hist[o + 1]! += h;
    }
  }
}

/** histKernel for the root: rows lo..hi in order. */
function rootKernel(hist: Float64Array, rm32: Uint32Array, words: number, gh: Float32Array, ghOff: number, lo: number, hi: number): void {
  hist.fill(0);
  let k = lo;
  for (; k + 1 < hi; k += 2) {
    const q = ghOff + 2 * k;
    const g1 = gh[q]!, h1 = gh[q + 1]!, g2 = gh[q + 2]!, h2 = gh[q + 3]!;
    let row1 = k * words, row2 = row1 + words;
    for (let base = 0, w = 0; w < words; w++, row1++, row2++, base += 2048) {
      const w1 = rm32[row1]!, w2 = rm32[row2]!;
      let o = base + (w1 & 255) * 2;
      hist[o]! += g1; hist[o + 1]! += h1;
      o = base + 512 + ((w1 >>> 8) & 255) * 2;
      hist[o]! += g1; hist[o + 1]! += h1;
      o = base + 1024 + ((w1 >>> 16) & 255) * 2;
      hist[o]! += g1; hist[o + 1]! += h1;
      o = base + 1536 + (w1 >>> 24) * 2;
      hist[o]! += g1; hist[o + 1]! += h1;
      o = base + (w2 & 255) * 2;
      hist[o]! += g2; hist[o + 1]! += h2;
      o = base + 512 + ((w2 >>> 8) & 255) * 2;
      hist[o]! += g2; hist[o + 1]! += h2;
      o = base + 1024 + ((w2 >>> 16) & 255) * 2;
      hist[o]! += g2; hist[o + 1]! += h2;
      o = base + 1536 + (w2 >>> 24) * 2;
      hist[o]! += g2; hist[o + 1]! += h2;
    }
  }
  if (k < hi) {
    const g = gh[ghOff + 2 * k]!, h = gh[ghOff + 2 * k + 1]!;
    for (let f = 0, row = k * words; f < 4 * words; f++) {
      const o = f * 512 + ((rm32[row + (f >> 2)]! >>> (8 * (f & 3))) & 255) * 2;
      hist[o]! += g; hist[o + 1]! += h;
    }
  }
}

/** Counts rows idx[lo..hi) per feature and bin into counts[feature · 256 + bin]. */
function countKernel(counts: Float64Array, rm32: Uint32Array, words: number, idx: Int32Array, lo: number, hi: number): void {
  counts.fill(0);
  for (let k = lo; k < hi; k++) {
    for (let f = 0, row = idx[k]! * words; f < 4 * words; f++) {
      counts[f * 256 + ((rm32[row + (f >> 2)]! >>> (8 * (f & 3))) & 255)]! += 1;
    }
  }
}

/** The rows of idx[lo..hi) that a split on one feature's codes (codes[off + row]) sends left. */
function countLeftKernel(codes: Uint8Array, off: number, bin: number, missingLeft: number, idx: Int32Array, lo: number, hi: number): number {
  const t = bin + missingLeft;
  let nl = 0;
  for (let k = lo; k < hi; k++) nl += ((t - ((codes[off + idx[k]!]! + missingLeft) & 255)) >>> 31) ^ 1;
  return nl;
}

/**
 * Gradient and hessian of the loss (0 half squared error, 1 binary log-loss, 2 multinomial)
 * at raw scores raw[i · T + k], times the weights (none when w is empty), for rows lo..hi,
 * into gh[2 (k n + i)] and gh[2 (k n + i) + 1].
 */
function gradKernel(loss: number, y: Float64Array, w: Float64Array, raw: Float64Array, gh: Float32Array, n: number, T: number, lo: number, hi: number, hmax: Float64Array, hoff: number): void {
  const weighted = w.length > 0;
  if (loss === 0) {
    let mx = 0;
    for (let i = lo; i < hi; i++) {
      const wi = weighted ? w[i]! : 1;
      gh[2 * i] = wi * (raw[i]! - y[i]!);
      gh[2 * i + 1] = wi;
      if (gh[2 * i + 1]! > mx) mx = gh[2 * i + 1]!;
    }
    hmax[hoff] = mx;
  } else if (loss === 1) {
    let mx = 0;
    for (let i = lo; i < hi; i++) {
      const pr = 1 / (1 + Math.exp(-raw[i]!));
      const wi = weighted ? w[i]! : 1;
      gh[2 * i] = wi * (pr - y[i]!);
      gh[2 * i + 1] = wi * pr * (1 - pr);
      if (gh[2 * i + 1]! > mx) mx = gh[2 * i + 1]!;
    }
    hmax[hoff] = mx;
  } else {
    for (let k = 0; k < T; k++) hmax[hoff + k] = 0;
    const e = new Float64Array(T);
    for (let i = lo; i < hi; i++) {
      const o = i * T;
      let mx = -Infinity;
      for (let k = 0; k < T; k++) mx = Math.max(mx, raw[o + k]!);
      let sum = 0;
      for (let k = 0; k < T; k++) { const v = Math.exp(raw[o + k]! - mx); e[k] = v; sum += v; }
      const wi = weighted ? w[i]! : 1;
      const yi = y[i]!;
      for (let k = 0; k < T; k++) {
        const pk = e[k]! / sum;
        const q = 2 * (k * n + i);
        gh[q] = wi * (pk - (yi === k ? 1 : 0));
        gh[q + 1] = wi * pk * (1 - pk);
        if (gh[q + 1]! > hmax[hoff + k]!) hmax[hoff + k] = gh[q + 1]!;
      }
    }
  }
}

/**
 * Stable partition of idx[lo..hi) on one feature's codes (codes[off + row]): rows with code
 * <= bin, and missing rows when missingLeft, are packed into idx[lo..], the others into
 * tmp[lo..]. Returns the left count. Branch-free: a missing code (255) becomes 0 when it goes
 * left, and `code <= bin` is the sign bit of bin - code.
 */
function partKernel(idx: Int32Array, tmp: Int32Array, codes: Uint8Array, off: number, bin: number, missingLeft: number, lo: number, hi: number): number {
  const t = bin + missingLeft;
  let nl = lo, nr = lo;
  for (let k = lo; k < hi; k++) {
    const r = idx[k]!;
    const l = ((t - ((codes[off + r]! + missingLeft) & 255)) >>> 31) ^ 1;
    idx[nl] = r;
    tmp[nr] = r;
    nl += l;
    nr += 1 - l;
  }
  return nl - lo;
}

/** Adds each leaf's value (leaves: start, end, value triples) to raw[idx[j] · T + k] for positions j in lo..hi. */
function rawKernel(raw: Float64Array, idx: Int32Array, leaves: Float64Array, leafCount: number, T: number, k: number, lo: number, hi: number): void {
  for (let l = 0; l < leafCount; l++) {
    const a = Math.max(leaves[3 * l]!, lo), b = Math.min(leaves[3 * l + 1]!, hi), v = leaves[3 * l + 2]!;
    for (let j = a; j < b; j++) raw[idx[j]! * T + k]! += v;
  }
}

/**
 * Codes the training values of feature f (col[colOff ..], n rows) as binning.ts's applyBins
 * does: the number of edges below fround(x) (bin b holds edges[b-1] < fround(x) <= edges[b]),
 * 255 for NaN; into codes[f · n + i] and rm8[i · stride + f]. Returns 1 when a value was
 * missing. The order keys (uint32s that sort float32 values as numbers; -0 counts as +0)
 * between the first and the last edge are cut into at most 65,536 buckets, and a table gives
 * the edges below each bucket, so a value is compared with the few edges in its own bucket.
 */
function codeKernel(col: Float64Array, colOff: number, n: number, edgeBuf: Float64Array, edgeOff: number, ne: number, codes: Uint8Array, rm8: Uint8Array, stride: number, f: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const key = (v: number): number => {
    f32[0] = v;
    const u = u32[0]!;
    return (u ^ ((u >> 31) | 0x80000000)) >>> 0;
  };
  const e = new Float64Array(ne);
  for (let j = 0; j < ne; j++) e[j] = edgeBuf[edgeOff + j]! + 0;
  const kmin = ne > 0 ? key(e[0]!) : 0;
  const kmax = ne > 0 ? key(e[ne - 1]!) : 0;
  let shift = 0;
  while ((kmax - kmin) / 2 ** shift >= 65535) shift++;
  const buckets = Math.floor((kmax - kmin) / 2 ** shift) + 1;
  // below[b]: the number of edges in buckets before b.
  const below = new Uint8Array(buckets + 1);
  for (let j = 0; j < ne; j++) below[((key(e[j]!) - kmin) >>> shift) + 1]!++;
  for (let b = 1; b <= buckets; b++) below[b]! += below[b - 1]!;
  let missing = 0;
  const out = f * n;
  for (let i = 0; i < n; i++) {
    const raw = col[colOff + i]!;
    let code: number;
    if (raw !== raw) {
      code = 255;
      missing = 1;
    } else {
      const v = Math.fround(raw) + 0;
      f32[0] = v;
      const u = u32[0]!;
      const k = (u ^ ((u >> 31) | 0x80000000)) >>> 0;
      if (k < kmin || ne === 0) {
        code = 0;
      } else if (k > kmax) {
        code = ne;
      } else {
        const bucket = (k - kmin) >>> shift;
        let lo = below[bucket]!, hi = below[bucket + 1]!;
        if (hi - lo <= 8) {
          while (lo < hi && e[lo]! < v) lo++;
        } else {
          while (lo < hi) {
            const m = (lo + hi) >>> 1;
            if (e[m]! < v) lo = m + 1; else hi = m;
          }
        }
        code = lo;
      }
    }
    codes[out + i] = code;
    rm8[i * stride + f] = code;
  }
  return missing;
}

/**
 * Adds a tree's leaf values to raw[i · T + k] for rows lo..hi. cols holds the rows' float32
 * values column-major; the tree is in preorder (a node's left child is the next node), as
 * ti = [column offset in cols (feature · rows, -1 at leaves) | right child | missingLeft] and
 * tf = [threshold | value], each part `cap` long. `x <= threshold` goes left, NaN follows
 * missingLeft. Used for the validation rows during the fit and for prediction.
 */
function treeKernel(cols: Float32Array, ti: Int32Array, tf: Float64Array, cap: number, raw: Float64Array, T: number, k: number, lo: number, hi: number): void {
  const rgt = cap, miss = 2 * cap, val = cap;
  for (let i = lo; i < hi; i++) {
    let node = 0;
    let off = ti[0]!;
    while (off >= 0) {
      const v = cols[off + i]!;
      node = v <= tf[node]! || (v !== v && ti[miss + node] === 1) ? node + 1 : ti[rgt + node]!;
      off = ti[node]!;
    }
    raw[i * T + k]! += tf[val + node]!;
  }
}

/** Packs a tree for treeKernel, its features at column offsets feature · stride. */
function packTree(tree: TreeNodes, stride: number, ti: Int32Array, tf: Float64Array, cap: number): void {
  const nodes = tree.feature.length;
  for (let i = 0; i < nodes; i++) {
    const f = tree.feature[i]!;
    ti[i] = f < 0 ? -1 : f * stride;
    ti[cap + i] = tree.right[i]!;
    ti[2 * cap + i] = tree.missingLeft[i]!;
    tf[i] = tree.threshold[i]!;
    tf[cap + i] = tree.value[i]!;
    if (f >= 0 && tree.left[i] !== i + 1) throw new Error('hgb: a tree is not in preorder');
  }
}

/**
 * Sums sklearn's half losses (0 squared error, 1 binary, 2 multinomial) at raw scores
 * raw[i · T + k], and the weights, for rows lo..hi into sums[off] and sums[off + 1].
 */
function valLossKernel(loss: number, y: Float64Array, w: Float64Array, raw: Float64Array, T: number, lo: number, hi: number, sums: Float64Array, off: number): void {
  const weighted = w.length > 0;
  let s = 0, sw = 0;
  for (let i = lo; i < hi; i++) {
    let l: number;
    if (loss === 0) {
      const d = raw[i]! - y[i]!;
      l = 0.5 * d * d;
    } else if (loss === 1) {
      const r = raw[i]!;
      l = (r > 0 ? r + Math.log1p(Math.exp(-r)) : Math.log1p(Math.exp(r))) - y[i]! * r;
    } else {
      const o = i * T;
      let mx = -Infinity;
      for (let k = 0; k < T; k++) mx = Math.max(mx, raw[o + k]!);
      let e = 0;
      for (let k = 0; k < T; k++) e += Math.exp(raw[o + k]! - mx);
      l = mx + Math.log(e) - raw[o + y[i]!]!;
    }
    const wi = weighted ? w[i]! : 1;
    s += wi * l;
    sw += wi;
  }
  sums[off] = s;
  sums[off + 1] = sw;
}

// ---------------------------------------------------------------------------------------------
// Lanes: every pass over rows is split in two fixed halves; a worker thread, when there is
// one, takes the second while the main thread does the first, and the main thread takes it
// back if the worker has not started on it. Who did a lane never changes its result.

/** Int32 slots of the control block. */
const CTRL = {
  seq: 0, // bumped for every task
  lane: 1, // the second lane: 0 open, 1 taken, 2 done, 3 failed in the worker
  quit: 2,
  task: 3, // 1 histogram, 2 gradients, 3 partition, 4 leaf values, 5 root histogram, 6 validation tree, 7 validation loss, 8 binning
  lo: 4,
  hi: 5,
  a: 6,
  b: 7,
  c: 8,
  r0: 9, // left counts of a partition's lanes
  r1: 10,
  size: 12,
};

/** The training state the kernels work on: on the main thread, and (shared) in the worker. */
interface Shared {
  ctrl: Int32Array;
  layout: typeof CTRL;
  n: number;
  T: number;
  words: number;
  /** 0 half squared error, 1 binary log-loss, 2 multinomial log-loss. */
  loss: number;
  rm32: Uint32Array;
  /** rm32's bytes: the code of feature f for row r is rm8[r · 4 · words + f]. */
  rm8: Uint8Array;
  /** codes[f · n + r]: the code of feature f for row r (column-major). */
  codes: Uint8Array;
  /** Two staging slots of n values (a feature's training values while it is binned), their edges (256 apart), missing flags per feature. */
  stage: Float64Array;
  edges: Float64Array;
  missing: Uint8Array;
  gh: Float32Array;
  idx: Int32Array;
  tmp: Int32Array;
  /** The second lane's histogram. */
  scratch: Float64Array;
  raw: Float64Array;
  y: Float64Array;
  /** Empty when unweighted. */
  w: Float64Array;
  /** Leaves of the last tree: (start, end, value) triples. */
  leaves: Float64Array;
  /** Validation rows (0 without early stopping), their float32 features column-major, raw scores, labels, weights. */
  vn: number;
  vcols: Float32Array;
  vraw: Float64Array;
  vy: Float64Array;
  vw: Float64Array;
  /** The last tree, as treeKernel reads it. */
  treeI: Int32Array;
  treeF: Float64Array;
  treeCap: number;
  /** Validation loss sums of the lanes. */
  sums: Float64Array;
  /** The largest hessian per class, of the first lane (T slots) and the second (T more). */
  hmax: Float64Array;
}

interface Kernels {
  hist: typeof histKernel;
  root: typeof rootKernel;
  grad: typeof gradKernel;
  part: typeof partKernel;
  raw: typeof rawKernel;
  tree: typeof treeKernel;
  valLoss: typeof valLossKernel;
  code: typeof codeKernel;
}

const KERNELS: Kernels = { hist: histKernel, root: rootKernel, grad: gradKernel, part: partKernel, raw: rawKernel, tree: treeKernel, valLoss: valLossKernel, code: codeKernel };

/**
 * Runs lane 0 (first half), 1 (second half) or 2 (all) of the task in the control block.
 * A histogram lane writes into `out`.
 */
function runLane(s: Shared, k: Kernels, lane: number, out: Float64Array): void {
  const c = s.ctrl, L = s.layout;
  const lo0 = c[L.lo]!, hi0 = c[L.hi]!;
  const mid = lo0 + ((hi0 - lo0) >> 1);
  const lo = lane === 1 ? mid : lo0;
  const hi = lane === 0 ? mid : hi0;
  const task = c[L.task];
  if (task === 1) k.hist(out, s.rm32, s.words, s.gh, c[L.a]!, s.idx, lo, hi);
  else if (task === 5) k.root(out, s.rm32, s.words, s.gh, c[L.a]!, lo, hi);
  else if (task === 2) k.grad(s.loss, s.y, s.w, s.raw, s.gh, s.n, s.T, lo, hi, s.hmax, lane === 1 ? s.T : 0);
  else if (task === 3) c[lane === 1 ? L.r1 : L.r0] = k.part(s.idx, s.tmp, s.codes, c[L.a]! * s.n, c[L.b]!, c[L.c]!, lo, hi);
  else if (task === 4) k.raw(s.raw, s.idx, s.leaves, c[L.a]!, s.T, c[L.b]!, lo, hi);
  else if (task === 6) k.tree(s.vcols, s.treeI, s.treeF, s.treeCap, s.vraw, s.T, c[L.a]!, lo, hi);
  else if (task === 7) k.valLoss(s.loss, s.vy, s.vw, s.vraw, s.T, lo, hi, s.sums, lane === 1 ? 2 : 0);
  else if (task === 8 && lane !== 0) {
    // Feature a from staging slot b (c edges), whole, in lane 1 (the worker's).
    const f = c[L.a]!, slot = c[L.b]!;
    s.missing[f] = k.code(s.stage, slot * s.n, s.n, s.edges, slot * 256, c[L.c]!, s.codes, s.rm8, 4 * s.words, f);
  }
}

/** The worker: waits for a task, takes the second lane unless the main thread already has. */
function workerLoop(s: Shared, k: Kernels, run: typeof runLane): void {
  const c = s.ctrl, L = s.layout;
  let seen = 0;
  for (;;) {
    // Tasks come in bursts (a tree's nodes, then the next tree's): spin for up to ~2 ms before sleeping.
    let seq = Atomics.load(c, L.seq);
    for (let i = 0; seq === seen && i < 200_000; i++) seq = Atomics.load(c, L.seq);
    if (seq === seen) {
      Atomics.wait(c, L.seq, seen);
      continue;
    }
    seen = seq;
    if (Atomics.load(c, L.quit) !== 0) return;
    if (Atomics.compareExchange(c, L.lane, 0, 1) !== 0) continue;
    // The kernels do not throw short of a bug or an allocation failure; then the main thread
    // runs the lane again itself (state 3).
    let state = 2;
    try {
      run(s, k, 1, s.scratch);
    } catch {
      state = 3;
    }
    Atomics.store(c, L.lane, state);
    Atomics.notify(c, L.lane);
  }
}

class Lanes {
  private worker: Worker | null = null;

  constructor(private readonly s: Shared, parallel: boolean) {
    if (!parallel) return;
    const source = [
      "'use strict';",
      'const KERNELS = {',
      ...Object.entries(KERNELS).map(([name, fn]) => `  ${name}: ${fn.toString()},`),
      '};',
      `const runLane = ${runLane.toString()};`,
      `const workerLoop = ${workerLoop.toString()};`,
      "workerLoop(require('node:worker_threads').workerData, KERNELS, runLane);",
    ].join('\n');
    try {
      const w = new Worker(source, { eval: true, workerData: s });
      w.unref();
      // A worker that fails leaves its lanes to the main thread (lanes are taken by CAS).
      w.on('error', () => undefined);
      this.worker = w;
    } catch {
      this.worker = null;
    }
  }

  /**
   * Runs the task set in the control block: lanes 0 and 1 for LANE_MIN_ROWS rows or more
   * (lane 1's histogram into scratch), else lane 2. Returns whether it ran two lanes.
   */
  private run(task: number, lo: number, hi: number, a: number, b: number, cc: number, out: Float64Array): boolean {
    const { s } = this;
    const c = s.ctrl, L = s.layout;
    c[L.task] = task;
    c[L.lo] = lo;
    c[L.hi] = hi;
    c[L.a] = a;
    c[L.b] = b;
    c[L.c] = cc;
    if (hi - lo < LANE_MIN_ROWS) {
      runLane(s, KERNELS, 2, out);
      return false;
    }
    this.post();
    runLane(s, KERNELS, 0, out);
    this.join();
    return true;
  }

  /** Offers lane 1 of the task in the control block to the worker. */
  private post(): void {
    const { ctrl: c, layout: L } = this.s;
    if (this.worker) {
      Atomics.store(c, L.lane, 0);
      Atomics.add(c, L.seq, 1);
      Atomics.notify(c, L.seq);
    } else {
      c[L.lane] = 0;
    }
  }

  /** Runs lane 1 here unless the worker took it, then waits until it is done. */
  private join(): void {
    const { s } = this;
    const c = s.ctrl, L = s.layout;
    if (Atomics.compareExchange(c, L.lane, 0, 1) === 0) {
      runLane(s, KERNELS, 1, s.scratch);
      return;
    }
    let state = Atomics.load(c, L.lane);
    for (let i = 0; state === 1 && i < 20_000; i++) state = Atomics.load(c, L.lane);
    while (state === 1) {
      Atomics.wait(c, L.lane, 1, 50);
      state = Atomics.load(c, L.lane);
    }
    if (state !== 2) runLane(s, KERNELS, 1, s.scratch);
  }

  /**
   * Starts coding feature f from staging slot `slot` (ne edges in s.edges); nothing else may
   * run on the lanes until joinCoding().
   */
  postCoding(f: number, slot: number, ne: number): void {
    const { ctrl: c, layout: L } = this.s;
    c[L.task] = 8;
    c[L.a] = f;
    c[L.b] = slot;
    c[L.c] = ne;
    this.post();
  }

  joinCoding(): void {
    this.join();
  }

  /** The histogram of rows idx[lo..hi) into `hist`. */
  histogram(hist: Float64Array, ghOff: number, lo: number, hi: number): void {
    if (this.run(1, lo, hi, ghOff, 0, 0, hist)) this.addScratch(hist);
  }

  /** The histogram of all rows, in order, without counts (rootKernel). */
  rootHistogram(hist: Float64Array, ghOff: number): void {
    if (this.run(5, 0, this.s.n, ghOff, 0, 0, hist)) this.addScratch(hist);
  }

  private addScratch(hist: Float64Array): void {
    const scratch = this.s.scratch;
    for (let i = 0; i < hist.length; i++) hist[i]! += scratch[i]!;
  }

  /** Gradients and hessians of every class at the current raw scores. */
  gradients(): void {
    this.s.hmax.fill(0);
    this.run(2, 0, this.s.n, 0, 0, 0, this.s.scratch);
  }

  /** The largest hessian of a row for class k, from the last gradients. */
  maxHessian(k: number): number {
    return Math.max(this.s.hmax[k]!, this.s.hmax[this.s.T + k]!);
  }

  /** Stable partition of idx[lo..hi) on feature f (code <= bin left); returns the left count. */
  partition(f: number, bin: number, missingLeft: number, lo: number, hi: number): number {
    const { s } = this;
    const { idx, tmp, ctrl: c, layout: L } = s;
    if (!this.run(3, lo, hi, f, bin, missingLeft, s.scratch)) {
      const nl = c[L.r0]!;
      idx.set(tmp.subarray(lo, hi - nl), lo + nl);
      return nl;
    }
    // Lane results: lefts at idx[lo..lo+l0) and idx[mid..mid+l1), rights at tmp[lo..) and tmp[mid..).
    const mid = lo + ((hi - lo) >> 1);
    const l0 = c[L.r0]!, l1 = c[L.r1]!;
    const r0 = mid - lo - l0, r1 = hi - mid - l1;
    idx.copyWithin(lo + l0, mid, mid + l1);
    idx.set(tmp.subarray(lo, lo + r0), lo + l0 + l1);
    idx.set(tmp.subarray(mid, mid + r1), lo + l0 + l1 + r0);
    return l0 + l1;
  }

  /** Adds the values of the first leafCount leaves in s.leaves to the raw scores of class k. */
  addLeaves(leafCount: number, k: number): void {
    this.run(4, 0, this.s.n, leafCount, k, 0, this.s.scratch);
  }

  /** Adds a tree (of class k) to the validation rows' raw scores. */
  validate(tree: TreeNodes, k: number): void {
    const { s } = this;
    packTree(tree, s.vn, s.treeI, s.treeF, s.treeCap);
    this.run(6, 0, s.vn, k, 0, 0, s.scratch);
  }

  /** The (weighted) mean loss of the validation rows. */
  validationLoss(): number {
    const sums = this.s.sums;
    const two = this.run(7, 0, this.s.vn, 0, 0, 0, this.s.scratch);
    const s = two ? sums[0]! + sums[2]! : sums[0]!;
    const w = two ? sums[1]! + sums[3]! : sums[1]!;
    return w > 0 ? s / w : 0;
  }

  close(): void {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    const { ctrl: c, layout: L } = this.s;
    Atomics.store(c, L.quit, 1);
    Atomics.add(c, L.seq, 1);
    Atomics.notify(c, L.seq);
    void w.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// Prediction

/**
 * Index of the leaf node that row `row` of `x` reaches in `tree` (its outputs are
 * tree.value[leaf * tree.outputs ...]). `Math.fround(x) <= threshold` goes left; NaN follows
 * missingLeft.
 */
export function predictTree(tree: TreeNodes, x: Features, row: number): number {
  const { feature, threshold, missingLeft, left, right } = tree;
  let node = 0;
  for (;;) {
    const f = feature[node]!;
    if (f < 0) return node;
    const v = Math.fround(x.columns[f]![row]!);
    const goLeft = v !== v ? missingLeft[node] === 1 : v <= threshold[node]!;
    node = goLeft ? left[node]! : right[node]!;
  }
}

/** Rows predicted at a time: their float32 features stay in cache across the trees. */
const PREDICT_BLOCK = 4096;

/** n × treesPerIteration raw scores, row-major. Uses only the model's TreeNodes. */
export function predictHgbRaw(model: HgbModel, x: Features): Float64Array {
  const nf = model.featureCount;
  if (x.columns.length !== nf) throw new Error(`predictHgb: ${x.columns.length} features, the model has ${nf}`);
  checkFeatures(x, 'x');
  const n = x.rows;
  const T = model.treesPerIteration;
  const out = new Float64Array(n * T);
  for (let i = 0; i < n; i++) for (let k = 0; k < T; k++) out[i * T + k] = model.baseline[k]!;
  const B = PREDICT_BLOCK;
  const trees = model.trees.map((tree) => {
    const cap = tree.feature.length;
    const ti = new Int32Array(3 * cap), tf = new Float64Array(2 * cap);
    packTree(tree, B, ti, tf, cap);
    return { ti, tf, cap };
  });
  // Float32 values (what the trees compare; Float32Array rounds as Math.fround), column-major, B apart.
  const cols = new Float32Array(nf * B);
  for (let lo = 0; lo < n; lo += B) {
    const m = Math.min(B, n - lo);
    for (let j = 0; j < nf; j++) cols.set(x.columns[j]!.subarray(lo, lo + m), j * B);
    const raw = out.subarray(lo * T, (lo + m) * T);
    for (let t = 0; t < trees.length; t++) treeKernel(cols, trees[t]!.ti, trees[t]!.tf, trees[t]!.cap, raw, T, t % T, 0, m);
  }
  return out;
}

/** Regression: n values. Classification: n × classCount probabilities, row-major (binary [1 - p, p]). */
export function predictHgb(model: HgbModel, x: Features): Float64Array {
  const raw = predictHgbRaw(model, x);
  if (model.task === 'regression') return raw;
  const n = x.rows;
  if (model.task === 'binary') {
    const out = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const pr = 1 / (1 + Math.exp(-raw[i]!));
      out[2 * i] = 1 - pr;
      out[2 * i + 1] = pr;
    }
    return out;
  }
  const K = model.classCount;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let mx = -Infinity;
    for (let k = 0; k < K; k++) mx = Math.max(mx, raw[o + k]!);
    let s = 0;
    for (let k = 0; k < K; k++) { const e = Math.exp(raw[o + k]! - mx); out[o + k] = e; s += e; }
    for (let k = 0; k < K; k++) out[o + k]! /= s;
  }
  return out;
}
