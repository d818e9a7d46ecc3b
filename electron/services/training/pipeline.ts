import type { Algorithm, ModelKind, Task } from '../../../shared/training';
import type { FeaturePlan, Scaling } from './features';
import { applyScaling } from './features';
import { predictForest, type ForestModel } from './learners/forest';
import { predictHgb, type HgbModel } from './learners/hgb';
import { scoreIForest, type IForestModel } from './learners/iforest';
import { predictLinear, predictLogistic, type LinearModel, type LogisticModel } from './learners/linear';
import { scorePca, type PcaModel } from './learners/pca';
import { predictTree, type TreeModel } from './learners/tree';
import type { Features } from './learners/types';

export type SingleLearner = HgbModel | ForestModel | TreeModel | LinearModel | LogisticModel | IForestModel | PcaModel;

/**
 * One model of a blend, with its own preparation. It reads the first
 * `features` columns of the pipeline's features: a plan with differences and
 * products of inputs only appends columns, so every member shares one plan.
 */
export interface EnsembleMember {
  algorithm: Algorithm;
  params: Record<string, number | string | boolean | null>;
  weight: number;
  features: number;
  prep: Prep;
  scaling: Scaling | null;
  learner: SingleLearner;
}

/** A weighted average of the members' outputs (probabilities, or values for regression). Weights sum to 1. */
export interface EnsembleModel {
  kind: 'ensemble';
  members: EnsembleMember[];
}

export type Learner = SingleLearner | EnsembleModel;

/** How a learner wants its features: as they are (NaN allowed), imputed, or imputed and standardised. */
export type Prep = 'none' | 'impute' | 'standardise';

export const PREP: Record<Algorithm, Prep> = {
  hgb: 'none',
  forest: 'none',
  tree: 'none',
  linear: 'standardise',
  logistic: 'standardise',
  iforest: 'impute',
  pca: 'impute',
};

/**
 * A model version's whole fitted state, from raw input columns to the
 * answer: the feature plan, the imputation and scaling fitted on training
 * rows, the learner, and the decision threshold. Plain JSON, so the same fit
 * gives the same bytes and the ONNX export has everything it needs.
 */
export interface FittedPipeline {
  format: 1;
  task: Task;
  algorithm: ModelKind;
  params: Record<string, number | string | boolean | null>;
  target: { name: string; classes: string[] | null } | null;
  timeColumn: string | null;
  plan: FeaturePlan;
  prep: Prep;
  scaling: Scaling | null;
  learner: Learner;
  /** Binary: probability of the positive class at or above which the answer is positive. Anomaly: score above which a row is flagged. */
  threshold: number | null;
}

export interface Prediction {
  /** Regression values. */
  value?: Float64Array;
  /** Classification: n × classCount probabilities, row-major. */
  proba?: Float64Array;
  /** Classification: index of the predicted class. */
  label?: Int32Array;
  /** Anomaly: score (higher = more unusual) and flag. */
  score?: Float64Array;
  flag?: Uint8Array;
}

export function prepare(p: Pick<FittedPipeline, 'prep' | 'scaling'>, x: Features): Features {
  return p.prep === 'none' || !p.scaling ? x : applyScaling(x, p.scaling, p.prep === 'standardise');
}

/** Raw learner output on prepared features. */
export function learnerOutput(learner: Learner, x: Features): Float64Array | { t2: Float64Array; spe: Float64Array } {
  switch (learner.kind) {
    case 'ensemble': return ensembleOutput(learner, x);
    case 'hgb': return predictHgb(learner, x);
    case 'forest': return predictForest(learner, x);
    case 'tree': return predictTree(learner, x);
    case 'linear': return predictLinear(learner, x);
    case 'logistic': return predictLogistic(learner, x);
    case 'iforest': return scoreIForest(learner, x);
    case 'pca': return scorePca(learner, x);
  }
}

/** The first `k` feature columns (no copy). */
export function leadingColumns(x: Features, k: number): Features {
  return k >= x.columns.length ? x : { rows: x.rows, columns: x.columns.slice(0, k), names: x.names.slice(0, k) };
}

function ensembleOutput(m: EnsembleModel, x: Features): Float64Array {
  let sum: Float64Array | null = null;
  for (const member of m.members) {
    const out = learnerOutput(member.learner, prepare(member, leadingColumns(x, member.features)));
    if (!(out instanceof Float64Array)) throw new Error('A blend can only hold models that give probabilities or values.');
    if (!sum) sum = new Float64Array(out.length);
    for (let i = 0; i < out.length; i++) sum[i]! += member.weight * out[i]!;
  }
  return sum!;
}

/** PCA's anomaly score: the larger of T² and SPE relative to their control limits (1 = on the limit). */
export function pcaScore(m: PcaModel, out: { t2: Float64Array; spe: Float64Array }): Float64Array {
  const s = new Float64Array(out.t2.length);
  for (let i = 0; i < s.length; i++) s[i] = Math.max(out.t2[i]! / m.t2Limit, out.spe[i]! / m.speLimit);
  return s;
}

/** Predicts from already-built features (all rows of `x`). */
export function predictFeatures(p: FittedPipeline, x: Features): Prediction {
  return finishPrediction(p, learnerOutput(p.learner, prepare(p, x)), x.rows);
}

/** From a learner's raw output to the answer: anomaly flags, or labels from probabilities and the threshold. */
export function finishPrediction(
  p: Pick<FittedPipeline, 'task' | 'threshold' | 'target' | 'learner'>,
  out: Float64Array | { t2: Float64Array; spe: Float64Array },
  rows: number,
): Prediction {
  if (p.task === 'anomaly') {
    const score = out instanceof Float64Array ? out : pcaScore(p.learner as PcaModel, out);
    const flag = new Uint8Array(score.length);
    for (let i = 0; i < score.length; i++) flag[i] = score[i]! > p.threshold! ? 1 : 0;
    return { score, flag };
  }
  const v = out as Float64Array;
  if (p.task === 'regression') return { value: v };
  const k = p.target!.classes!.length;
  const label = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    if (k === 2) label[i] = v[i * 2 + 1]! >= p.threshold! ? 1 : 0;
    else {
      let best = 0;
      for (let c = 1; c < k; c++) if (v[i * k + c]! > v[i * k + best]!) best = c;
      label[i] = best;
    }
  }
  return { proba: v, label };
}
