import { AppError } from '../../../shared/errors';
import { ALGORITHM_TITLES, ANOMALY_LABELLED_METRIC, RANKING_METRIC, type Algorithm, type LeaderboardEntry, type MetricInfo, type Task, type TrainSettings } from '../../../shared/training';
import { ksDistance, quantile, scoreMetrics, type Truth } from './evaluate';
import { applyScaling, buildFeatures, fitScaling, planFeatures, selectRows, withDerived, type FeaturePlan, type Scaling } from './features';
import { medianInterval, numericValues, type Frame } from './frame';
import { fitForest } from './learners/forest';
import { fitHgb } from './learners/hgb';
import { fitIForest } from './learners/iforest';
import { fitLinear, fitLogistic } from './learners/linear';
import { fitPca } from './learners/pca';
import { fitTree } from './learners/tree';
import { createRng, permutation } from './learners/rng';
import type { Features } from './learners/types';
import { PREP, finishPrediction, pcaScore, predictFeatures, learnerOutput, type EnsembleModel, type FittedPipeline, type Prediction, type SingleLearner } from './pipeline';
import { randomSplit, tailSplit, timeSplit, type Split } from './split';
import { encodeTarget, type Target } from './target';

export type Params = Record<string, number | string | boolean | null>;
export interface Candidate {
  algorithm: Algorithm;
  params: Params;
}

/** Thrown inside a fit when the time budget is spent. */
class OutOfTime extends Error {}

/**
 * The learners tried for a goal, best bets first, each with a small search of
 * its settings. Under a short budget only the first few run.
 */
export function candidatesFor(task: Task, rareShare: number | null, only: Algorithm[]): Candidate[] {
  const list: Candidate[] = [];
  const add = (algorithm: Algorithm, params: Params) => { if (!only.length || only.includes(algorithm)) list.push({ algorithm, params }); };
  if (task === 'anomaly') {
    add('pca', { varianceToExplain: 0.9, alpha: 0.99 });
    add('iforest', { trees: 200, sampleSize: 256 });
    add('iforest', { trees: 200, sampleSize: 1024 });
    add('pca', { varianceToExplain: 0.95, alpha: 0.995 });
    return list;
  }
  const cls = task !== 'regression';
  add('hgb', { maxIter: 100, learningRate: 0.1, maxLeafNodes: 31, minSamplesLeaf: 20, l2: 0, balanced: false });
  if (cls) add('logistic', { C: 1 });
  else add('linear', { alpha: 1 });
  add('forest', { trees: 100, maxDepth: null, minSamplesLeaf: 1 });
  // XGBoost's "hist" settings: depth-limited trees, more rounds, little leaf size limit.
  add('hgb', { maxIter: 300, learningRate: 0.1, maxLeafNodes: 64, maxDepth: 6, minSamplesLeaf: 1, l2: 1, balanced: false });
  add('hgb', { maxIter: 100, learningRate: 0.1, maxLeafNodes: 31, minSamplesLeaf: 20, l2: 0, balanced: false, derived: true });
  if (cls && rareShare !== null && rareShare < 0.2) add('hgb', { maxIter: 100, learningRate: 0.1, maxLeafNodes: 31, minSamplesLeaf: 20, l2: 0, balanced: true });
  add('hgb', { maxIter: 300, learningRate: 0.05, maxLeafNodes: 63, minSamplesLeaf: 20, l2: 1, balanced: false });
  add('hgb', { maxIter: 300, learningRate: 0.05, maxLeafNodes: 63, minSamplesLeaf: 20, l2: 1, balanced: false, derived: true });
  add('tree', { maxDepth: 8, minSamplesLeaf: 20 });
  add('hgb', { maxIter: 200, learningRate: 0.1, maxLeafNodes: 15, minSamplesLeaf: 50, l2: 1, balanced: false });
  if (!cls) add('linear', { alpha: 0 });
  if (cls) add('logistic', { C: 0.1 });
  return list;
}

export interface TrainHooks {
  progress(fraction: number, message: string): void;
  throwIfCancelled(): void;
  now(): number;
}

export interface TrainOutcome {
  /** The kept model: the winner retrained on all usable rows (anomaly models: on the rows it was judged from). */
  pipeline: FittedPipeline;
  finalRows: number;
  leaderboard: LeaderboardEntry[];
  bestIndex: number;
  metric: MetricInfo;
  metrics: Record<string, number>;
  /** Everything the report needs about the holdout. */
  x: Features;
  split: Split;
  target: Target | null;
  truth: Truth;
  holdoutPred: Prediction;
  warnings: string[];
  trainFlagRate: number | null;
}

interface Fitted {
  learner: SingleLearner;
  scaling: Scaling | null;
  threshold: number | null;
  extra: Record<string, number>;
}

const MIN_TRAIN_ROWS = 20;
const CV_MAX_ROWS = 30_000;
const CV_FOLDS = 5;

/** Training rows dealt into k folds, each class spread evenly (seeded). */
function stratifiedFolds(rows: Int32Array, k: number, seed: number, target: Target | null): Int32Array[] {
  const rng = createRng(seed + 1);
  const groups = new Map<number, number[]>();
  for (const i of rows) {
    const g = target?.kind === 'classes' ? target.y[i]! : 0;
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(i);
  }
  const out: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const g of [...groups.keys()].sort((a, b) => a - b)) {
    const list = groups.get(g)!;
    const p = permutation(list.length, rng);
    for (let j = 0; j < list.length; j++) out[next++ % k]!.push(list[p[j]!]!);
  }
  return out.map((f) => Int32Array.from(f).sort());
}
const MIN_HOLDOUT_ROWS = 5;

/** Training and holdout rows: the last part of the time range for time-ordered data, else a stratified random part by seed. */
export function splitRows(frame: Frame, s: TrainSettings, target: Target | null, usable: Int32Array): Split {
  return frame.time && s.timeColumn
    ? timeSplit(frame.time, usable, s.holdoutFraction)
    : randomSplit(usable, s.holdoutFraction, s.seed, target?.kind === 'classes' && s.task !== 'regression' ? target.y : undefined);
}

export function trainAutoml(frame: Frame, s: TrainSettings, hooks: TrainHooks, opts: { candidates?: Candidate[] } = {}): TrainOutcome {
  const warnings: string[] = [];
  if (frame.droppedNoTime) warnings.push(`${frame.droppedNoTime} rows have no time and were left out.`);
  const target = s.task === 'anomaly' ? null : encodeTarget(frame.columns.get(s.target!)!, s.target!, s.task);
  let label: Uint8Array | null = null;
  if (s.task === 'anomaly' && s.labelColumn) {
    const v = numericValues(frame.columns.get(s.labelColumn)!);
    label = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) label[i] = v[i]! > 0 ? 1 : 0;
  }
  const usable = target ? target.usable : Int32Array.from({ length: frame.rows }, (_, i) => i);
  if (target && usable.length < frame.rows) warnings.push(`${frame.rows - usable.length} rows have no value for "${s.target}" and were left out.`);
  const split = splitRows(frame, s, target, usable);
  if (split.train.length < MIN_TRAIN_ROWS || split.holdout.length < MIN_HOLDOUT_ROWS) {
    throw new AppError('bad_input', `Too few rows to train and check a model: ${split.train.length} for training and ${split.holdout.length} for checking (at least ${MIN_TRAIN_ROWS} and ${MIN_HOLDOUT_ROWS} are needed).`, 'dataset');
  }
  if (target?.kind === 'classes') {
    const seen = (rows: Int32Array) => new Set(Array.from(rows, (i) => target.y[i]!));
    const inTrain = seen(split.train), inHold = seen(split.holdout);
    if (inTrain.size < 2) throw new AppError('bad_input', `The training part holds only one value of "${s.target}", so there is nothing to learn.`, 'target');
    for (let c = 0; c < target.classes.length; c++) {
      if (!inHold.has(c)) warnings.push(`The holdout has no rows where "${s.target}" is ${target.classes[c]}; figures about that value cannot be checked.`);
      if (!inTrain.has(c)) warnings.push(`No training row has "${s.target}" = ${target.classes[c]}; the model cannot predict it.`);
    }
    if (s.task === 'binary' && !inHold.has(1)) {
      throw new AppError('bad_input', `The holdout (${split.kind === 'time' ? 'the last part of the time range' : 'the rows kept aside'}) has no rows where "${s.target}" is ${target.classes[1]}, so the model cannot be judged. Use a larger holdout.`, 'holdoutFraction');
    }
  }

  hooks.progress(0.02, 'Working out features…');
  const intervalMs = medianInterval(frame.time);
  const plan = planFeatures(frame, s.inputs, split.train, { windowMinutes: s.windowMinutes, lags: s.lags, intervalMs });
  if (s.windowMinutes && !plan.windowRows) warnings.push('Window features need a time column; they were left out.');
  const x = buildFeatures(plan, frame);

  const rareShare = target?.kind === 'classes' ? Math.min(...target.counts) / usable.length : null;
  const candidates = opts.candidates ?? candidatesFor(s.task, rareShare, s.algorithms);
  if (!candidates.length) throw new AppError('bad_input', `None of the chosen algorithms fits the goal "${s.task}".`, 'algorithms');
  const metric: MetricInfo = s.task === 'anomaly' && label ? ANOMALY_LABELLED_METRIC : RANKING_METRIC[s.task];

  const hold = split.holdout;
  const xHold = selectRows(x, hold);
  const featureSets = new Map<boolean, { plan: FeaturePlan; x: Features; xHold: Features }>([[false, { plan, x, xHold }]]);
  const featuresFor = (cand: Candidate) => {
    const derived = cand.params.derived === true;
    let f = featureSets.get(derived);
    if (!f) {
      const p2 = withDerived(plan);
      const x2 = buildFeatures(p2, frame);
      featureSets.set(derived, (f = { plan: p2, x: x2, xHold: selectRows(x2, hold) }));
    }
    return f;
  };
  const truthOf = (rows: Int32Array): Truth =>
    target?.kind === 'classes'
      ? { kind: 'classes', y: Int32Array.from(rows, (i) => target.y[i]!), classCount: target.classes.length }
      : target
        ? { kind: 'values', y: Float64Array.from(rows, (i) => target.y[i]!) }
        : { kind: 'label', y: label ? Uint8Array.from(rows, (i) => label[i]!) : null };
  const truth = truthOf(hold);
  // Small tables without time order: candidates are ranked by cross-validation
  // on the training rows, so the holdout stays untouched for the report and one
  // lucky split does not pick the winner.
  const folds = split.kind === 'random' && s.task !== 'anomaly' && usable.length <= CV_MAX_ROWS ? stratifiedFolds(split.train, CV_FOLDS, s.seed, target) : null;

  // Rows the learners fit on. Time-ordered data keeps the last 10% of training
  // for early stopping (boosting) and for the stability check (anomaly).
  const tail = tailSplit(split.train, 0.1);
  const anomalyFitRows = s.task === 'anomaly' ? (label ? tail.fit.filter((i) => !label[i]) : tail.fit) : null;

  const start = hooks.now();
  const deadline = start + s.timeBudgetSeconds * 1000;
  const entries: LeaderboardEntry[] = [];
  let best: { index: number; cand: Candidate; pipeline: FittedPipeline; pred: Prediction; value: number; trainFlagRate: number | null; blend: Blend | null } | null = null;
  // Out-of-fold predictions of every finished candidate, for the blend.
  const width = target?.kind === 'classes' ? target.classes.length : 1;
  const done: BlendCandidate[] = [];
  const pipelineOf = (cand: Candidate, fitted: Fitted): FittedPipeline => ({
    format: 1,
    task: s.task,
    algorithm: cand.algorithm,
    params: cand.params,
    target: target ? { name: s.target!, classes: target.kind === 'classes' ? target.classes : null } : null,
    timeColumn: plan.windowRows || plan.lags.length ? frame.timeColumn : null,
    plan: featuresFor(cand).plan,
    prep: PREP[cand.algorithm],
    scaling: fitted.scaling,
    learner: fitted.learner,
    threshold: fitted.threshold,
  });
  const better = (a: number, b: number) => (metric.higherIsBetter ? a > b : a < b);

  for (let c = 0; c < candidates.length; c++) {
    const cand = candidates[c]!;
    const title = ALGORITHM_TITLES[cand.algorithm] + variantLabel(cand, candidates);
    hooks.throwIfCancelled();
    if (best && hooks.now() > deadline) {
      entries.push({ algorithm: cand.algorithm, title, params: cand.params, metrics: {}, fitSeconds: 0, predictSeconds: 0, status: 'out_of_time', note: null });
      continue;
    }
    hooks.progress(0.05 + (0.85 * c) / candidates.length, `Trying ${title} (${c + 1} of ${candidates.length})…`);
    const t0 = hooks.now();
    const fitHooks = {
      progress: (f: number) => hooks.progress(0.05 + (0.85 * (c + Math.min(1, f))) / candidates.length, `Trying ${title} (${c + 1} of ${candidates.length})…`),
      checkCancelled: () => {
        hooks.throwIfCancelled();
        if (best && hooks.now() > deadline) throw new OutOfTime();
      },
    };
    let fitted: Fitted;
    let cvValue: number | null = null;
    let oof: Float64Array | null = null;
    try {
      const fs = featuresFor(cand);
      fitted = fitCandidate(cand, fs.x, split, tail, anomalyFitRows, target, s, fitHooks);
      if (folds) {
        let sum = 0;
        for (let f = 0; f < folds.length; f++) {
          const valid = folds[f]!;
          const fitRows = Int32Array.from(folds.filter((_, g) => g !== f).flatMap((r) => Array.from(r))).sort();
          const foldFit = fitCandidate(cand, fs.x, { kind: 'random', train: fitRows, holdout: valid }, tailSplit(fitRows, 0.1), null, target, s, fitHooks);
          const foldPred = predictFeatures(pipelineOf(cand, foldFit), selectRows(fs.x, valid));
          sum += scoreMetrics(s.task, truthOf(valid), foldPred)[metric.key] ?? NaN;
          const out = foldPred.proba ?? foldPred.value!;
          oof ??= new Float64Array(frame.rows * width).fill(NaN);
          for (let r = 0; r < valid.length; r++) for (let k = 0; k < width; k++) oof[valid[r]! * width + k] = out[r * width + k]!;
        }
        cvValue = sum / folds.length;
      }
    } catch (e) {
      if (e instanceof OutOfTime) {
        entries.push({ algorithm: cand.algorithm, title, params: cand.params, metrics: {}, fitSeconds: (hooks.now() - t0) / 1000, predictSeconds: 0, status: 'out_of_time', note: 'stopped when the time budget ran out' });
        continue;
      }
      if (e instanceof AppError && e.code === 'cancelled') throw e;
      if ((e as Error)?.name === 'CancelledError' || (e as { code?: string })?.code === 'cancelled') throw e;
      entries.push({ algorithm: cand.algorithm, title, params: cand.params, metrics: {}, fitSeconds: (hooks.now() - t0) / 1000, predictSeconds: 0, status: 'failed', note: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const fitSeconds = (hooks.now() - t0) / 1000;
    const pipeline = pipelineOf(cand, fitted);
    const t1 = hooks.now();
    const pred = predictFeatures(pipeline, featuresFor(cand).xHold);
    const predictSeconds = (hooks.now() - t1) / 1000;
    const metrics: Record<string, number> = { ...scoreMetrics(s.task, truth, pred), ...fitted.extra };
    if (cvValue !== null) metrics[`cv_${metric.key}`] = cvValue;
    const value = cvValue ?? metrics[metric.key] ?? NaN;
    entries.push({ algorithm: cand.algorithm, title, params: cand.params, metrics, fitSeconds, predictSeconds, status: 'done', note: null });
    hooks.progress(0.05 + (0.85 * (c + 1)) / candidates.length, `Done: ${title} — ${metric.label} ${formatMetric(value)}`);
    if (oof && Number.isFinite(value)) done.push({ cand, title, fitted, oof, value, fitSeconds });
    if (!best || (Number.isFinite(value) && (!Number.isFinite(best.value) || better(value, best.value)))) {
      best = { index: entries.length - 1, cand, pipeline, pred, value, trainFlagRate: fitted.extra.train_flag_rate ?? null, blend: null };
    }
  }
  // A weighted blend of the best candidates, chosen on their out-of-fold
  // predictions (Caruana's greedy selection), kept when it beats the best single
  // model. Not when the user asked for one algorithm only: the kept model is then that algorithm.
  if (best && folds && done.length >= 2 && s.algorithms.length !== 1) {
    hooks.progress(0.88, 'Trying a blend of the best models…');
    const t0 = hooks.now();
    const shape = pipelineOf(done[0]!.cand, done[0]!.fitted);
    const scoreOn = (rows: Int32Array) => {
      const t = truthOf(rows);
      return (out: Float64Array) => scoreMetrics(s.task, t, finishPrediction(shape, out, rows.length))[metric.key] ?? NaN;
    };
    const blend = selectBlend(done, split.train, width, scoreOn(split.train), better);
    const features = blend ? blendFeatures(blend.members.map((m) => featuresFor(m.cand))) : null;
    if (blend) {
      // Judged like every other candidate: the mean of its per-fold metrics.
      let sum = 0;
      for (const valid of folds) sum += scoreOn(valid)(blendOutput(blend, valid, width));
      blend.value = sum / folds.length;
    }
    if (blend && features && better(blend.value, best.value)) {
      const pipeline = blendPipeline(pipelineOf(done[0]!.cand, done[0]!.fitted), blend, blend.members.map((m) => m.fitted), features.plan, (c) => featuresFor(c).x.columns.length);
      const pred = predictFeatures(pipeline, features.xHold);
      const metrics: Record<string, number> = { ...scoreMetrics(s.task, truth, pred), [`cv_${metric.key}`]: blend.value };
      const params: Candidate['params'] = {};
      blend.members.forEach((m, i) => { params[m.title] = Math.round(blend.weights[i]! * 1000) / 1000; });
      const title = `Blend of ${blend.members.length} models`;
      entries.push({ algorithm: 'ensemble', title, params, metrics, fitSeconds: blend.members.reduce((a, m) => a + m.fitSeconds, 0) + (hooks.now() - t0) / 1000, predictSeconds: 0, status: 'done', note: null });
      hooks.progress(0.89, `Done: ${title} — ${metric.label} ${formatMetric(blend.value)}`);
      best = { index: entries.length - 1, cand: blend.members[0]!.cand, pipeline, pred, value: blend.value, trainFlagRate: null, blend };
    }
  }
  if (!best) {
    const reasons = entries.filter((e) => e.note).map((e) => `${e.title}: ${e.note}`);
    throw new AppError('job_failed', `No model could be trained. ${reasons.join(' ')}`);
  }
  // The winner is judged on the holdout, then retrained on every usable row
  // (holdout included) so the kept model has seen the most recent data.
  let finalRows = s.task === 'anomaly' ? (anomalyFitRows?.length ?? 0) : split.train.length;
  let pipeline = best.pipeline;
  if (s.task !== 'anomaly') {
    const all = Int32Array.from([...split.train, ...split.holdout]);
    if (split.kind === 'random') all.sort();
    hooks.progress(0.9, `Retraining ${entries[best.index]!.title} on all ${all.length.toLocaleString('en-US')} rows…`);
    const refit = (cand: Candidate) => fitCandidate(cand, featuresFor(cand).x, { kind: split.kind, train: all, holdout: new Int32Array(0) }, tailSplit(all, 0.1), null, target, s, {
      progress: () => undefined,
      checkCancelled: () => hooks.throwIfCancelled(),
    });
    const blend = best.blend;
    pipeline = blend
      ? blendPipeline(best.pipeline, blend, blend.members.map((m) => refit(m.cand)), best.pipeline.plan, (c) => featuresFor(c).x.columns.length)
      : pipelineOf(best.cand, refit(best.cand));
    finalRows = all.length;
  }
  return {
    finalRows,
    pipeline,
    leaderboard: entries,
    bestIndex: best.index,
    metric,
    metrics: entries[best.index]!.metrics,
    x: best.blend ? blendFeatures(best.blend.members.map((m) => featuresFor(m.cand)))!.x : featuresFor(best.cand).x,
    split,
    target,
    truth,
    holdoutPred: best.pred,
    warnings,
    trainFlagRate: best.trainFlagRate,
  };
}

interface BlendCandidate {
  cand: Candidate;
  title: string;
  fitted: Fitted;
  /** Out-of-fold outputs, `width` per row, indexed by row of the frame. */
  oof: Float64Array;
  value: number;
  fitSeconds: number;
}

interface Blend {
  members: BlendCandidate[];
  weights: number[];
  /** The blend's out-of-fold metric (pooled while selecting, then the mean over folds). */
  value: number;
}

const BLEND_STEPS = 20;
const BLEND_MAX_MEMBERS = 5;

/**
 * Caruana et al.'s ensemble selection (as in auto-sklearn and AutoGluon):
 * add, with replacement, the candidate that most improves the average of
 * out-of-fold outputs, and keep the best prefix. Null when one model alone is best.
 */
export function selectBlend(
  candidates: BlendCandidate[],
  rows: Int32Array,
  width: number,
  score: (out: Float64Array) => number,
  better: (a: number, b: number) => boolean,
): Blend | null {
  const n = rows.length * width;
  const oofs = candidates.map((c) => {
    const o = new Float64Array(n);
    for (let r = 0; r < rows.length; r++) for (let k = 0; k < width; k++) o[r * width + k] = c.oof[rows[r]! * width + k]!;
    return o;
  });
  const sum = new Float64Array(n);
  const trial = new Float64Array(n);
  const counts = new Array<number>(candidates.length).fill(0);
  let bestCounts: number[] | null = null;
  let bestValue = NaN;
  for (let step = 1; step <= BLEND_STEPS; step++) {
    let pick = -1;
    let pickValue = NaN;
    const distinct = counts.filter((c) => c > 0).length;
    for (let j = 0; j < oofs.length; j++) {
      if (counts[j] === 0 && distinct >= BLEND_MAX_MEMBERS) continue;
      const o = oofs[j]!;
      for (let i = 0; i < n; i++) trial[i] = (sum[i]! + o[i]!) / step;
      const v = score(trial);
      if (Number.isFinite(v) && (pick < 0 || better(v, pickValue))) { pick = j; pickValue = v; }
    }
    if (pick < 0) break;
    const o = oofs[pick]!;
    for (let i = 0; i < n; i++) sum[i]! += o[i]!;
    counts[pick]!++;
    if (bestCounts === null || better(pickValue, bestValue)) { bestValue = pickValue; bestCounts = [...counts]; }
  }
  if (!bestCounts || bestCounts.filter((c) => c > 0).length < 2) return null;
  const total = bestCounts.reduce((a, b) => a + b, 0);
  const members: BlendCandidate[] = [];
  const weights: number[] = [];
  bestCounts.forEach((c, j) => { if (c > 0) { members.push(candidates[j]!); weights.push(c / total); } });
  return { members, weights, value: bestValue };
}

/** The blend's weighted out-of-fold outputs on `rows`. */
function blendOutput(blend: Blend, rows: Int32Array, width: number): Float64Array {
  const out = new Float64Array(rows.length * width);
  blend.members.forEach((m, j) => {
    const w = blend.weights[j]!;
    for (let r = 0; r < rows.length; r++) for (let k = 0; k < width; k++) out[r * width + k]! += w * m.oof[rows[r]! * width + k]!;
  });
  return out;
}

/** The feature set a blend reads: the widest of its members', when the others' columns are its leading ones. */
function blendFeatures<F extends { x: Features; plan: FeaturePlan }>(sets: F[]): F | null {
  const widest = sets.reduce((a, b) => (b.x.columns.length > a.x.columns.length ? b : a));
  for (const f of sets) if (f.x.names.some((name, j) => widest.x.names[j] !== name)) return null;
  return widest;
}

function blendPipeline(
  base: FittedPipeline,
  blend: Blend,
  fitted: Fitted[],
  plan: FeaturePlan,
  featureCount: (c: Candidate) => number,
): FittedPipeline {
  const learner: EnsembleModel = {
    kind: 'ensemble',
    members: blend.members.map((m, i) => ({
      algorithm: m.cand.algorithm,
      params: m.cand.params,
      weight: blend.weights[i]!,
      features: featureCount(m.cand),
      prep: PREP[m.cand.algorithm],
      scaling: fitted[i]!.scaling,
      learner: fitted[i]!.learner,
    })),
  };
  return { ...base, algorithm: 'ensemble', params: {}, plan, prep: 'none', scaling: null, learner };
}

function variantLabel(c: Candidate, all: Candidate[]): string {
  const kind = (o: Candidate) => (o.params.balanced === true ? 'rare classes weighted up' : o.params.derived === true ? 'with differences and products of inputs' : '');
  const same = all.filter((o) => o.algorithm === c.algorithm && kind(o) === kind(c));
  const i = same.indexOf(c);
  const parts = [kind(c), i > 0 ? `variant ${i + 1}` : ''].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export function formatMetric(v: number): string {
  return Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4)) : '–';
}

/**
 * The `q` quantile of the scores, moved up to midway between it and the next
 * higher score, so that the same rows lie above it and none lies on it: a row
 * on the threshold would be flagged or not by the last bit of its score, and
 * the ONNX graph's arithmetic may differ from ours in that bit.
 */
export function alarmLevel(scores: Float64Array, q: number): number {
  const level = quantile(scores, q);
  let next = Infinity;
  for (const v of scores) if (v > level && v < next) next = v;
  return Number.isFinite(next) ? level + (next - level) / 2 : level + Math.max(Math.abs(level) * 1e-9, 1e-12);
}

function fitCandidate(
  cand: Candidate,
  x: Features,
  split: Split,
  tail: { fit: Int32Array; valid: Int32Array },
  anomalyFitRows: Int32Array | null,
  target: Target | null,
  s: TrainSettings,
  hooks: { progress(f: number): void; checkCancelled(): void },
): Fitted {
  const p = cand.params;
  const num = (k: string) => p[k] as number;
  if (cand.algorithm === 'iforest' || cand.algorithm === 'pca') {
    const fitRows = anomalyFitRows!;
    const scaling = fitScaling(x, fitRows);
    const xFit = applyScaling(x, scaling, false, fitRows);
    const xValid = applyScaling(x, scaling, false, tail.valid);
    let learner: SingleLearner;
    let scoreOf: (f: Features) => Float64Array;
    if (cand.algorithm === 'iforest') {
      learner = fitIForest(xFit, { trees: num('trees'), sampleSize: num('sampleSize'), seed: s.seed }, hooks);
      scoreOf = (f) => learnerOutput(learner, f) as Float64Array;
    } else {
      const pca = fitPca(xFit, { varianceToExplain: num('varianceToExplain'), alpha: num('alpha') });
      learner = pca;
      scoreOf = (f) => pcaScore(pca, learnerOutput(pca, f) as { t2: Float64Array; spe: Float64Array });
    }
    const fitScores = scoreOf(xFit);
    const validScores = scoreOf(xValid);
    // The alarm level: 0.5% of the rows learned from lie above it. For PCA it is
    // never below the textbook control limits (score 1), only above them when
    // the data are less Gaussian than the limits assume (window features are).
    const q = alarmLevel(fitScores, 0.995);
    const threshold = cand.algorithm === 'pca' ? Math.max(1, q) : q;
    let flagged = 0;
    for (const v of fitScores) if (v > threshold) flagged++;
    return {
      learner,
      scaling,
      threshold,
      extra: { stability: 1 - ksDistance(fitScores, validScores), train_flag_rate: flagged / fitScores.length },
    };
  }
  const timeOrdered = split.kind === 'time';
  const trainRows = split.train;
  if (cand.algorithm === 'linear' || cand.algorithm === 'logistic') {
    const scaling = fitScaling(x, trainRows);
    const xs = applyScaling(x, scaling, true, trainRows);
    if (cand.algorithm === 'linear') {
      const y = Float64Array.from(trainRows, (i) => (target as Extract<Target, { kind: 'regression' }>).y[i]!);
      return { learner: fitLinear(xs, y, { alpha: num('alpha') }), scaling, threshold: null, extra: {} };
    }
    const t = target as Extract<Target, { kind: 'classes' }>;
    const y = Int32Array.from(trainRows, (i) => t.y[i]!);
    return { learner: fitLogistic(xs, y, { C: num('C'), maxIter: 500 }, { classCount: t.classes.length, hooks }), scaling, threshold: s.task === 'binary' ? 0.5 : null, extra: {} };
  }
  const cls = target!.kind === 'classes';
  const classCount = cls ? (target as Extract<Target, { kind: 'classes' }>).classes.length : 1;
  const yOf = (rows: Int32Array) => (cls ? Int32Array.from(rows, (i) => (target as Extract<Target, { kind: 'classes' }>).y[i]!) : Float64Array.from(rows, (i) => target!.y[i]!));
  const weightsOf = (rows: Int32Array): Float64Array | undefined => {
    if (!cls || p.balanced !== true) return undefined;
    const y = (target as Extract<Target, { kind: 'classes' }>).y;
    const counts = new Array<number>(classCount).fill(0);
    for (const i of rows) counts[y[i]!]!++;
    return Float64Array.from(rows, (i) => rows.length / (classCount * counts[y[i]!]!));
  };
  const threshold = s.task === 'binary' ? 0.5 : null;
  if (cand.algorithm === 'hgb') {
    const hgbTask = s.task === 'regression' ? 'regression' : s.task === 'binary' ? 'binary' : 'multiclass';
    const params = { maxIter: num('maxIter'), learningRate: num('learningRate'), maxLeafNodes: num('maxLeafNodes'), maxDepth: typeof p.maxDepth === 'number' ? p.maxDepth : null, minSamplesLeaf: num('minSamplesLeaf'), l2: num('l2'), seed: s.seed };
    if (timeOrdered) {
      // Early stopping on the most recent training rows, never on a shuffle.
      const sw = weightsOf(tail.fit);
      const learner = fitHgb(selectRows(x, tail.fit), yOf(tail.fit), hgbTask, { ...params, earlyStopping: true }, {
        valid: { x: selectRows(x, tail.valid), y: yOf(tail.valid) },
        classCount,
        hooks,
        ...(sw ? { sampleWeight: sw } : {}),
      });
      return { learner, scaling: null, threshold, extra: {} };
    }
    const sw = weightsOf(trainRows);
    return { learner: fitHgb(selectRows(x, trainRows), yOf(trainRows), hgbTask, { ...params, earlyStopping: p.earlyStopping === false ? false : 'auto' }, { classCount, hooks, ...(sw ? { sampleWeight: sw } : {}) }), scaling: null, threshold, extra: {} };
  }
  const treeTask = cls ? 'classification' : 'regression';
  if (cand.algorithm === 'forest') {
    const learner = fitForest(selectRows(x, trainRows), yOf(trainRows), treeTask, { trees: num('trees'), maxDepth: p.maxDepth as number | null, minSamplesLeaf: num('minSamplesLeaf'), seed: s.seed }, { classCount, hooks });
    return { learner, scaling: null, threshold, extra: {} };
  }
  const learner = fitTree(selectRows(x, trainRows), yOf(trainRows), treeTask, { maxDepth: num('maxDepth'), minSamplesLeaf: num('minSamplesLeaf') }, { classCount, seed: s.seed });
  return { learner, scaling: null, threshold, extra: {} };
}
