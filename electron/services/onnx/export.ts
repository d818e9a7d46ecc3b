/**
 * One ONNX model per model version (DESIGN.md section 7): from the raw input
 * columns to the answer, written so that ONNX Runtime gives what
 * `predictFeatures(p, buildFeatures(p.plan, frame))` gives.
 *
 * How the graph keeps to the training code's numbers:
 * - Numbers enter as float32 (training rounds them so too) and are cast to
 *   double; differences, products, lags, windows, imputation, scaling and the
 *   linear, logistic and PCA arithmetic run in double, as in TypeScript.
 * - Trees compare float32, as in training: features are cast to float32 right
 *   before each TreeEnsembleRegressor.
 * - Window statistics use the same formulas as features.ts, and every sum
 *   over a window adds in the same (pairwise) order, so features come out
 *   bit for bit as in training, and a tree's float32 threshold sees the same
 *   value.
 * - All trees of a learner are one TreeEnsembleRegressor with double
 *   thresholds and leaf values (the `_as_tensor` attributes), fed float32
 *   features cast to double: ONNX Runtime adds the leaf values in double and
 *   only its output is float32, half a float32 step from the learner's sum at
 *   most (under 1e-7 on a probability). One operator per learner keeps a
 *   single row's latency low.
 * - Sigmoid and softmax are written out as the learners compute them; labels
 *   and anomaly flags are decided in double; only the outputs are float32.
 *
 * Standard ai.onnx (opset 17) and ai.onnx.ml (opset 3) operators only, IR 8,
 * no ZipMap (onnxruntime-node cannot return maps).
 */
import type { onnx } from 'onnx-proto';
import { AppError } from '../../../shared/errors';
import { ALGORITHM_TITLES, type Task } from '../../../shared/training';
import { minutesPerRow, pairwiseSize, WINDOW_OPS, type FeaturePlan, type FeatureSpec, type InputSpec, type Scaling, type WindowOp } from '../training/features';
import type { ForestModel } from '../training/learners/forest';
import type { HgbModel } from '../training/learners/hgb';
import type { IForestModel } from '../training/learners/iforest';
import type { LinearModel, LogisticModel } from '../training/learners/linear';
import type { PcaModel } from '../training/learners/pca';
import type { TreeNodes } from '../training/learners/types';
import type { FittedPipeline, Learner, Prep } from '../training/pipeline';
import { attr, ELEM_TYPE, encodeModel, GraphBuilder, tensor, valueInfo } from './proto';

/** Who the model is, written into its metadata. */
export interface OnnxMeta {
  modelName: string;
  modelVersion: number;
  appVersion: string;
}

/** One graph input: a dataset column, 1-D of length N. Numbers and booleans are float32 (NaN = missing; booleans 0/1); categories are strings ('' = missing). */
export interface OnnxInput {
  name: string;
  type: 'float32' | 'string';
  kind: 'number' | 'boolean' | 'category';
  unit: string | null;
  /** Categories: the levels the model knows; any other value counts as none of them. */
  levels?: string[];
}

export interface OnnxOutput {
  name: string;
  type: 'float32' | 'int64' | 'string';
  shape: (string | number)[];
}

/** What a caller needs to feed the model and read its answer; also stored in the model as `millwright.signature`. */
export interface OnnxSignature {
  inputs: OnnxInput[];
  outputs: OnnxOutput[];
  task: Task;
  classes: string[] | null;
  threshold: number | null;
  target: string | null;
  /** Rows of past history a window/lag model needs before the first row it scores; 0 otherwise. */
  historyRows: number;
  /**
   * The packed variant only (`exportOnnx(p, meta, { packed: true })`): every
   * numeric input in one float32 [N, columns] tensor named `name`, columns in
   * this order; category inputs stay named by column. Absent in the graph
   * that is exported and deployed.
   */
  packed?: { name: string; columns: string[] };
}

/** The packed variant's numeric input; a column of that name moves it to `numeric_inputs_1` and so on. */
function packedName(sig: OnnxSignature): string {
  const taken = new Set([...sig.inputs.map((i) => i.name), ...sig.outputs.map((o) => o.name)]);
  let name = 'numeric_inputs';
  for (let k = 1; taken.has(name); k++) name = `numeric_inputs_${k}`;
  return name;
}

/**
 * The signature of the packed variant: as `onnxSignature`, plus where the
 * numeric inputs go. One tensor instead of one per input saves ONNX Runtime
 * about 3 µs per input on every call, which is most of a single row's time.
 */
export function packedSignature(p: FittedPipeline): OnnxSignature {
  const sig = onnxSignature(p);
  const columns = sig.inputs.filter((i) => i.type === 'float32').map((i) => i.name);
  return columns.length ? { ...sig, packed: { name: packedName(sig), columns } } : sig;
}

/**
 * The graph's inputs and outputs. Outputs by task:
 * - regression: `value` float32 [N];
 * - binary and multiclass: `label` string [N] (the class name; binary: the
 *   positive class `classes[1]` when its probability is at least `threshold`)
 *   and `probabilities` float32 [N, k] in `classes` order;
 * - anomaly: `score` float32 [N] (higher is more unusual) and `anomaly` int64
 *   [N], 1 when the score is above `threshold`.
 * A single linear or binary logistic model also gives `contributions` float32
 * [N, inputs]: per input, in `inputs` order, Σ coefficient × prepared value
 * over its features (logistic: in log-odds of the positive class). A
 * difference or product of two inputs counts half to each, so a row's
 * contributions add up to its value (log-odds) less the intercept.
 */
export function onnxSignature(p: FittedPipeline): OnnxSignature {
  const inputs = p.plan.inputs.map((i): OnnxInput => ({
    name: i.name,
    type: i.kind === 'category' ? 'string' : 'float32',
    kind: i.kind,
    unit: i.unit,
    ...(i.kind === 'category' ? { levels: [...(i.levels ?? [])] } : {}),
  }));
  const outputs: OnnxOutput[] = [];
  if (p.task === 'regression') outputs.push({ name: 'value', type: 'float32', shape: ['N'] });
  else if (p.task === 'anomaly') outputs.push({ name: 'score', type: 'float32', shape: ['N'] }, { name: 'anomaly', type: 'int64', shape: ['N'] });
  else outputs.push({ name: 'label', type: 'string', shape: ['N'] }, { name: 'probabilities', type: 'float32', shape: ['N', classesOf(p).length] });
  if (hasContributions(p)) outputs.push({ name: 'contributions', type: 'float32', shape: ['N', inputs.length] });
  return {
    inputs,
    outputs,
    task: p.task,
    classes: p.target?.classes ? [...p.target.classes] : null,
    threshold: p.threshold,
    target: p.target?.name ?? null,
    historyRows: historyRows(p.plan),
  };
}

/**
 * The whole pipeline as one ONNX model. The same pipeline and meta always
 * give the same bytes. `packed`: the in-process variant whose numeric inputs
 * come as one [N, columns] tensor (see `packedSignature`); same operators
 * after the inputs, so the same answers to the bit.
 */
export function exportOnnx(p: FittedPipeline, meta: OnnxMeta, opts: { packed?: boolean } = {}): Uint8Array {
  const sig = opts.packed ? packedSignature(p) : onnxSignature(p);
  for (const o of sig.outputs) {
    if (sig.inputs.some((i) => i.name === o.name)) {
      throw new AppError('bad_input', `The input column "${o.name}" has the name of one of the model's answers; rename the column and train again to export the model.`, 'inputs');
    }
  }
  const g = new GraphBuilder([...sig.inputs.map((i) => i.name), ...sig.outputs.map((o) => o.name), ...(sig.packed ? [sig.packed.name] : [])]);
  const w = new GraphWriter(g, p.plan, sig.packed?.name ?? null);
  const x = w.features();
  const xp = w.prepare(x, p.prep, p.scaling);
  const out = w.learner(p.learner, xp);
  w.finish(p, out, xp);
  const graph = g.graph(
    `${meta.modelName} v${meta.modelVersion}`,
    sig.packed
      ? [valueInfo(sig.packed.name, 'float32', ['N', sig.packed.columns.length]), ...sig.inputs.filter((i) => i.type === 'string').map((i) => valueInfo(i.name, i.type, ['N']))]
      : sig.inputs.map((i) => valueInfo(i.name, i.type, ['N'])),
    sig.outputs.map((o) => valueInfo(o.name, o.type, o.shape)),
    `Inputs: ${sig.inputs.map((i) => i.name).join(', ')}. Outputs: ${sig.outputs.map((o) => o.name).join(', ')}.`,
  );
  return encodeModel({
    graph,
    producerVersion: meta.appVersion,
    modelVersion: meta.modelVersion,
    docString: describe(p, meta, sig),
    metadata: [
      ['millwright.signature', JSON.stringify(sig)],
      ['millwright.model', meta.modelName],
      ['millwright.version', String(meta.modelVersion)],
      ['millwright.app_version', meta.appVersion],
      ['millwright.task', p.task],
    ],
  });
}

function classesOf(p: FittedPipeline): string[] {
  const classes = p.target?.classes;
  if (!classes || classes.length < 2) throw new Error(`A ${p.task} model needs at least two classes.`);
  return classes;
}

function hasContributions(p: FittedPipeline): boolean {
  return (p.task === 'regression' && p.learner.kind === 'linear') || (p.task === 'binary' && p.learner.kind === 'logistic' && p.learner.classCount === 2);
}

function historyRows(plan: FeaturePlan): number {
  let rows = 0;
  for (const f of plan.features) {
    if (f.op === 'lag') rows = Math.max(rows, f.lag!);
    else if ((WINDOW_OPS as readonly string[]).includes(f.op)) rows = Math.max(rows, (plan.windowRows ?? 1) - 1);
  }
  return rows;
}

/** The model's doc_string: what it answers, from what, in plain words. */
function describe(p: FittedPipeline, meta: OnnxMeta, sig: OnnxSignature): string {
  const target = sig.target ? `"${sig.target}"` : '';
  const what =
    p.task === 'regression' ? `predicts ${target} as a number (output "value")`
    : p.task === 'anomaly' ? `scores how unusual each row is (output "score", higher is more unusual) and flags rows scoring above ${sig.threshold} (output "anomaly", 1 = unusual)`
    : `predicts ${target}, one of ${sig.classes!.map((c) => `"${c}"`).join(', ')} (output "label"), with the probability of each (output "probabilities")`;
  const history = sig.historyRows ? ` Rows must be given in time order; each row's answer uses up to ${sig.historyRows} rows before it in the same call, and rows before the first one count as missing.` : '';
  return `Model "${meta.modelName}" version ${meta.modelVersion} (${ALGORITHM_TITLES[p.algorithm]}), made with Millwright ${meta.appVersion}. It ${what} from ${sig.inputs.length} inputs, one value per row each: numbers and yes/no values as float32 (NaN when missing), categories as text ('' when missing).${history}`;
}

/** Builds the graph's pieces; every tensor named here is double unless said otherwise. */
class GraphWriter {
  private readonly inputs: Map<string, InputSpec>;
  private readonly numbers = new Map<string, string>();
  private readonly onehots = new Map<string, string>();
  private readonly windows = new Map<string, Record<WindowOp, string>>();
  /** Double values that are float32 inputs widened, so a cast to float32 and back gives them unchanged (and can be left out). */
  private readonly widened = new Set<string>();
  private count: string | null = null;

  /** `packed`: the name of the one [N, m] float32 input holding every numeric input, or null when each has its own. */
  constructor(private readonly g: GraphBuilder, private readonly plan: FeaturePlan, private readonly packed: string | null = null) {
    this.inputs = new Map(plan.inputs.map((i) => [i.name, i]));
  }

  /**
   * [N, F]: every planned feature, in plan order. Runs of plain values come
   * from one matrix of all numeric inputs (a handful of operators however
   * many inputs there are: each operator costs a row's latency), and runs of
   * one category's indicators from its one-hot matrix.
   */
  features(): string {
    const g = this.g;
    const pieces: string[] = [];
    const fs = this.plan.features;
    for (let i = 0; i < fs.length; ) {
      const f = fs[i]!;
      let j = i + 1;
      if (f.op === 'value') {
        while (j < fs.length && fs[j]!.op === 'value') j++;
        const cols = fs.slice(i, j).map((x) => this.numericIndex(x.input));
        const all = cols.length === this.numericNames().length && cols.every((c, k) => c === k);
        pieces.push(all ? this.stack() : this.keepWidened(g.op('Gather', [this.stack(), g.int64s(cols)], [attr.int('axis', 1)])));
      } else if (f.op === 'onehot') {
        const levels = this.inputs.get(f.input)?.levels ?? [];
        while (j < fs.length && fs[j]!.op === 'onehot' && fs[j]!.input === f.input) j++;
        const at = fs.slice(i, j).map((x) => levels.indexOf(x.level!));
        if (at.some((a) => a < 0)) throw new Error(`A feature of "${f.input}" names a level its input does not list.`);
        const all = at.length === levels.length && at.every((a, k) => a === k);
        pieces.push(all ? this.onehot(f.input, levels) : this.keepWidened(g.op('Gather', [this.onehot(f.input, levels), g.int64s(at)], [attr.int('axis', 1)])));
      } else pieces.push(this.feature(f));
      i = j;
    }
    if (pieces.length === 1) return pieces[0]!;
    const all = g.op('Concat', pieces, [attr.int('axis', 1)]);
    if (pieces.every((p) => this.widened.has(p))) this.widened.add(all);
    return all;
  }

  /** Marks a Gather of float32-exact values as float32-exact too. */
  private keepWidened(v: string): string {
    this.widened.add(v);
    return v;
  }

  /** The numeric and yes/no inputs, in plan order: the columns of `stack()`. */
  private numericNames(): string[] {
    return this.plan.inputs.filter((i) => i.kind !== 'category').map((i) => i.name);
  }

  private numericIndex(name: string): number {
    const at = this.numericNames().indexOf(name);
    if (at < 0) throw new Error(`"${name}" is not a numeric input of the model.`);
    return at;
  }

  private stacked: string | null = null;

  /** [N, m] double: every numeric input side by side (Concat, Reshape, Transpose, Cast: four operators). */
  private stack(): string {
    if (!this.stacked) {
      const g = this.g;
      const names = this.numericNames();
      const m = this.packed
        ? this.packed
        : names.length === 1
        ? g.op('Unsqueeze', [names[0]!, g.int64s([1])])
        : g.op('Transpose', [g.op('Reshape', [g.op('Concat', names, [attr.int('axis', 0)]), g.int64s([names.length, -1])])], [attr.ints('perm', [1, 0])]);
      this.stacked = g.cast(m, 'float64');
      this.widened.add(this.stacked);
    }
    return this.stacked;
  }

  /** Imputation with the training medians and, for 'standardise', scaling, exactly as applyScaling. */
  prepare(x: string, prep: Prep, s: Scaling | null): string {
    if (prep === 'none' || !s) return x;
    const g = this.g;
    const f = s.median.length;
    const imputed = g.op('Where', [g.op('IsNaN', [x]), g.constant('float64', s.median, [f], 'median'), x]);
    if (prep !== 'standardise') return imputed;
    return g.op('Div', [g.op('Sub', [imputed, g.constant('float64', s.mean, [f], 'mean')]), g.constant('float64', s.scale, [f], 'scale')]);
  }

  /** [N, k]: values (k = 1), class probabilities, or the anomaly score (k = 1). */
  learner(l: Learner, x: string): string {
    const g = this.g;
    switch (l.kind) {
      case 'linear':
        return g.op('Add', [g.op('MatMul', [x, g.constant('float64', l.coef, [l.coef.length, 1], 'coef')]), g.scalar('float64', l.intercept)]);
      case 'logistic':
        return this.logistic(l, x);
      case 'tree':
        return this.treeEnsemble(x, [l.tree], l.tree.outputs, 'SUM');
      case 'forest':
        return this.forest(l, x);
      case 'hgb':
        return this.hgb(l, x);
      case 'iforest':
        return this.iforest(l, x);
      case 'pca':
        return this.pca(l, x);
      case 'ensemble': {
        const width = this.plan.features.length;
        let sum: string | null = null;
        for (const m of l.members) {
          const xm = m.features < width ? g.op('Slice', [x, g.int64s([0]), g.int64s([m.features]), g.int64s([1])]) : x;
          const weighted = g.op('Mul', [this.learner(m.learner, this.prepare(xm, m.prep, m.scaling)), g.scalar('float64', m.weight)]);
          sum = sum ? g.op('Add', [sum, weighted]) : weighted;
        }
        if (!sum) throw new Error('A blend needs at least one model.');
        return sum;
      }
    }
  }

  /** The named outputs from the learner's [N, k] output `out` (and the prepared features `xp`, for contributions). */
  finish(p: FittedPipeline, out: string, xp: string): void {
    const g = this.g;
    const named = (op: string, inputs: string[], name: string, attributes: onnx.IAttributeProto[] = []) => g.node(op, inputs, attributes, { outputNames: [name] });
    const toFloat = [attr.int('to', ELEM_TYPE.float32)];
    if (p.task === 'regression') {
      named('Cast', [g.op('Squeeze', [out, g.int64s([1])])], 'value', toFloat);
    } else if (p.task === 'anomaly') {
      const score = g.op('Squeeze', [out, g.int64s([1])]);
      named('Cast', [score], 'score', toFloat);
      named('Cast', [g.op('Greater', [score, g.scalar('float64', thresholdOf(p))])], 'anomaly', [attr.int('to', ELEM_TYPE.int64)]);
    } else {
      const classes = classesOf(p);
      if (classes.length === 2) {
        // The positive class at or above the threshold: one Where on the class names.
        const positive = g.op('GreaterOrEqual', [g.op('Gather', [out, g.scalar('int64', 1)], [attr.int('axis', 1)]), g.scalar('float64', thresholdOf(p))]);
        named('Where', [positive, g.constant('string', [classes[1]!], [1], 'positive_class'), g.constant('string', [classes[0]!], [1], 'negative_class')], 'label');
      } else {
        const index = g.op('ArgMax', [out], [attr.int('axis', 1), attr.int('keepdims', 0)]);
        named('Gather', [g.constant('string', classes, [classes.length], 'classes'), index], 'label', [attr.int('axis', 0)]);
      }
      named('Cast', [out], 'probabilities', toFloat);
    }
    if (hasContributions(p)) {
      const coef = (p.learner as LinearModel | LogisticModel).coef;
      const terms = g.op('Mul', [xp, g.constant('float64', coef, [coef.length], 'coef')]);
      named('Cast', [g.op('MatMul', [terms, g.constant('float64', this.inputShares(), [this.plan.features.length, this.plan.inputs.length], 'shares')])], 'contributions', toFloat);
    }
  }

  /** F × inputs: how much of each feature belongs to each input (1, or ½ each for a difference or product). */
  private inputShares(): number[] {
    const k = this.plan.inputs.length;
    const at = new Map(this.plan.inputs.map((i, j) => [i.name, j]));
    const share = new Array<number>(this.plan.features.length * k).fill(0);
    this.plan.features.forEach((f, r) => {
      const owners = f.other ? [f.input, f.other] : [f.input];
      for (const o of owners) share[r * k + at.get(o)!]! += 1 / owners.length;
    });
    return share;
  }

  /** [N, 1]: one feature column. */
  private feature(f: FeatureSpec): string {
    const g = this.g;
    const column = (v: string) => g.op('Unsqueeze', [v, g.int64s([1])]);
    switch (f.op) {
      case 'value':
        return column(this.number(f.input));
      case 'onehot': {
        const levels = this.inputs.get(f.input)?.levels ?? [];
        const at = levels.indexOf(f.level!);
        if (at < 0) throw new Error(`The feature "${f.name}" names a level its input does not list.`);
        return g.op('Gather', [this.onehot(f.input, levels), g.int64s([at])], [attr.int('axis', 1)]);
      }
      case 'diff':
      case 'product':
        return column(g.op(f.op === 'diff' ? 'Sub' : 'Mul', [this.number(f.input), this.number(f.other!)]));
      case 'lag':
        return column(this.lag(f.input, f.lag!));
      default:
        return this.window(f.input)[f.op];
    }
  }

  /** [N]: a numeric input as double (float32 values, so the same numbers training used), a column of `stack()`. */
  private number(name: string): string {
    let v = this.numbers.get(name);
    if (!v) this.numbers.set(name, (v = this.g.op('Gather', [this.stack(), this.g.scalar('int64', this.numericIndex(name))], [attr.int('axis', 1)])));
    return v;
  }

  /** [N, levels]: 1 where the category equals the level; any other text (or '') gives a row of zeros. */
  private onehot(name: string, levels: string[]): string {
    let v = this.onehots.get(name);
    if (!v) {
      const codes = this.g.ml('OneHotEncoder', [name], [attr.strings('cats_strings', levels), attr.int('zeros', 1)]);
      this.onehots.set(name, (v = this.g.cast(codes, 'float64')));
      this.widened.add(v);
    }
    return v;
  }

  /** [1] int64: N, the batch's row count. */
  private rowCount(): string {
    const first = this.plan.inputs[0]!;
    this.count ??= this.packed && first.kind !== 'category' ? this.g.op('Shape', [this.packed], [attr.int('end', 1)]) : this.g.op('Shape', [first.name]);
    return this.count;
  }

  /** [back + N]: `back` missing values, then `x` ([N]): the rows before the batch count as missing, as at the start of a frame. */
  private withHistory(x: string, back: number): string {
    return this.g.op('Concat', [this.g.constant('float64', new Array<number>(back).fill(NaN), [back], 'before'), x], [attr.int('axis', 0)]);
  }

  /** [N]: the value `lag` rows before (NaN for the first `lag` rows). */
  private lag(name: string, lag: number): string {
    const g = this.g;
    return g.op('Slice', [this.withHistory(this.number(name), lag), g.int64s([0]), this.rowCount(), g.int64s([0])]);
  }

  /**
   * [N, 1] each: the trailing-window statistics of features.ts `windowFeatures`,
   * with the same formulas and the same order of additions (pairwise over the
   * window padded to a power of two), so the same bits.
   */
  private window(name: string): Record<WindowOp, string> {
    const cached = this.windows.get(name);
    if (cached) return cached;
    const g = this.g;
    const w = this.plan.windowRows;
    if (!w) throw new Error('The plan has window features but no window length.');
    const size = pairwiseSize(w);
    // Row i's window is rows i−w+1..i: positions i..i+w−1 after w−1 missing values; then padded with missing values to `size`.
    const rows = g.op('Range', [g.scalar('int64', 0), g.op('Squeeze', [this.rowCount(), g.int64s([0])]), g.scalar('int64', 1)]);
    const idx = g.op('Add', [g.op('Unsqueeze', [rows, g.int64s([1])]), g.constant('int64', Array.from({ length: w }, (_, j) => j), [1, w], 'positions')]);
    const gathered = g.op('Gather', [this.withHistory(this.number(name), w - 1), idx], [attr.int('axis', 0)]);
    const values = size === w ? gathered : g.op('Pad', [gathered, g.int64s([0, 0, 0, size - w]), g.scalar('float64', NaN)]);
    const zero = g.scalar('float64', 0), nan = g.scalar('float64', NaN);
    const valid = g.op('Not', [g.op('IsNaN', [values])]);
    const only = (v: string) => g.op('Where', [valid, v, zero]);
    const total = (v: string) => this.pairwiseSum(v, size);
    const positions = Array.from({ length: size }, (_, j) => j);
    const ones = g.cast(valid, 'float64');
    // Counts and position sums are whole numbers: exact in any order.
    const cnt = g.op('ReduceSum', [ones, g.int64s([1])], [attr.int('keepdims', 1)]);
    const tMean = g.op('Div', [g.op('MatMul', [ones, g.constant('float64', positions, [size, 1], 'position')]), cnt]);
    const lo = g.op('ReduceMin', [g.op('Where', [valid, values, g.scalar('float64', Infinity)])], [attr.ints('axes', [1]), attr.int('keepdims', 1)]);
    const hi = g.op('ReduceMax', [g.op('Where', [valid, values, g.scalar('float64', -Infinity)])], [attr.ints('axes', [1]), attr.int('keepdims', 1)]);
    const some = g.op('Greater', [cnt, zero]);
    const constant = g.op('Equal', [lo, hi]);
    const mean = g.op('Div', [total(only(values)), cnt]);
    const dy = only(g.op('Sub', [values, mean]));
    const dt = only(g.op('Sub', [g.constant('float64', positions, [1, size], 'position'), tMean]));
    const stt = total(g.op('Mul', [dt, dt]));
    const slope = g.op('Div', [g.op('Div', [total(g.op('Mul', [dt, dy])), stt]), g.scalar('float64', minutesPerRow(this.plan))]);
    const out: Record<WindowOp, string> = {
      mean: g.op('Where', [constant, lo, mean]),
      std: g.op('Where', [constant, zero, g.op('Sqrt', [g.op('Div', [total(g.op('Mul', [dy, dy])), cnt])])]),
      min: g.op('Where', [some, lo, nan]),
      max: g.op('Where', [some, hi, nan]),
      slope: g.op('Where', [g.op('Greater', [stt, zero]), g.op('Where', [constant, zero, slope]), nan]),
    };
    this.windows.set(name, out);
    return out;
  }

  /** [N, 1]: the sum of each row of `v` ([N, size], size a power of two) as features.ts `pairwiseSum` adds it. */
  private pairwiseSum(v: string, size: number): string {
    const g = this.g;
    let cur = v;
    for (let half = size >> 1; half >= 1; half >>= 1) {
      const axis = g.int64s([1]);
      cur = g.op('Add', [g.op('Slice', [cur, g.int64s([0]), g.int64s([half]), axis]), g.op('Slice', [cur, g.int64s([half]), g.int64s([2 * half]), axis])]);
    }
    return cur;
  }

  /**
   * [N, k] double: one TreeEnsembleRegressor for all the trees, comparing
   * float32 features (cast to double, so thresholds and leaf values stay
   * double), adding the trees' leaf values (SUM from `base`, or AVERAGE) in
   * one operator. Its output is float32: a sum is off from the learner's by at
   * most half a float32 step, which moves a probability by under 1e-7.
   * `targetOf` sends tree t's single value to a target (boosting: class t mod
   * T); otherwise a leaf's k values go to targets 0..k−1.
   */
  private treeEnsemble(x: string, trees: TreeNodes[], k: number, aggregate: 'SUM' | 'AVERAGE', base?: number[], targetOf?: (tree: number) => number): string {
    const g = this.g;
    const a = { treeIds: [] as number[], nodeIds: [] as number[], features: [] as number[], modes: [] as string[], thresholds: [] as number[], left: [] as number[], right: [] as number[], missing: [] as number[] };
    const leaf = { treeIds: [] as number[], nodeIds: [] as number[], targets: [] as number[], weights: [] as number[] };
    trees.forEach((tree, t) => {
      const outputs = targetOf ? 1 : k;
      if (tree.outputs !== outputs) throw new Error(`A tree gives ${tree.outputs} values per leaf where ${outputs} were expected.`);
      for (let id = 0; id < tree.feature.length; id++) {
        const isLeaf = tree.feature[id]! < 0;
        a.treeIds.push(t); a.nodeIds.push(id);
        a.features.push(isLeaf ? 0 : tree.feature[id]!);
        a.modes.push(isLeaf ? 'LEAF' : 'BRANCH_LEQ');
        a.thresholds.push(isLeaf ? 0 : tree.threshold[id]!);
        a.left.push(isLeaf ? 0 : tree.left[id]!);
        a.right.push(isLeaf ? 0 : tree.right[id]!);
        a.missing.push(isLeaf ? 0 : tree.missingLeft[id]!);
        if (!isLeaf) continue;
        for (let c = 0; c < outputs; c++) {
          leaf.treeIds.push(t); leaf.nodeIds.push(id); leaf.targets.push(targetOf ? targetOf(t) : c); leaf.weights.push(tree.value[id * outputs + c]!);
        }
      }
    });
    // Features are compared as float32 values (as training does); the numeric inputs already are.
    // (ONNX Runtime takes double thresholds only with double input.)
    const xf = this.widened.has(x) ? x : g.cast(g.cast(x, 'float32'), 'float64');
    const out = g.ml('TreeEnsembleRegressor', [xf], [
      attr.string('aggregate_function', aggregate),
      ...(base ? [attr.tensor('base_values_as_tensor', tensor('float64', base, [base.length]))] : []),
      attr.int('n_targets', k),
      attr.ints('nodes_falsenodeids', a.right),
      attr.ints('nodes_featureids', a.features),
      attr.ints('nodes_missing_value_tracks_true', a.missing),
      attr.strings('nodes_modes', a.modes),
      attr.ints('nodes_nodeids', a.nodeIds),
      attr.ints('nodes_treeids', a.treeIds),
      attr.ints('nodes_truenodeids', a.left),
      attr.tensor('nodes_values_as_tensor', tensor('float64', a.thresholds, [a.thresholds.length])),
      attr.string('post_transform', 'NONE'),
      attr.ints('target_ids', leaf.targets),
      attr.ints('target_nodeids', leaf.nodeIds),
      attr.ints('target_treeids', leaf.treeIds),
      attr.tensor('target_weights_as_tensor', tensor('float64', leaf.weights, [leaf.weights.length])),
    ]);
    return g.cast(out, 'float64');
  }

  private logistic(m: LogisticModel, x: string): string {
    const g = this.g;
    const p = m.coef.length / (m.classCount === 2 ? 1 : m.classCount);
    if (m.classCount === 2) {
      // As predictLogistic's sigmoid: 1 / (1 + e) or e / (1 + e) with e = exp(−|z|), and 1 − p1 only for z < 0.
      const z = g.op('Add', [g.op('MatMul', [x, g.constant('float64', m.coef, [p, 1], 'coef')]), g.scalar('float64', m.intercept[0]!)]);
      const one = g.scalar('float64', 1);
      const e = g.op('Exp', [g.op('Neg', [g.op('Abs', [z])])]);
      const big = g.op('Div', [one, g.op('Add', [one, e])]);
      const small = g.op('Div', [e, g.op('Add', [one, e])]);
      const positive = g.op('GreaterOrEqual', [z, g.scalar('float64', 0)]);
      const p1 = g.op('Where', [positive, big, small]);
      return g.op('Concat', [g.op('Where', [positive, small, g.op('Sub', [one, p1])]), p1], [attr.int('axis', 1)]);
    }
    const k = m.classCount;
    const wt = new Array<number>(p * k);
    for (let c = 0; c < k; c++) for (let j = 0; j < p; j++) wt[j * k + c] = m.coef[c * p + j]!;
    const z = g.op('Add', [g.op('MatMul', [x, g.constant('float64', wt, [p, k], 'coef')]), g.constant('float64', m.intercept, [k], 'intercept')]);
    return this.softmax(z, k);
  }

  private forest(m: ForestModel, x: string): string {
    const k = m.task === 'classification' ? m.classCount : 1;
    return this.treeEnsemble(x, m.trees, k, 'AVERAGE');
  }

  private hgb(m: HgbModel, x: string): string {
    const g = this.g;
    const T = m.treesPerIteration;
    const iterations = m.trees.length / T;
    if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`A boosted model has ${m.trees.length} trees for ${T} per iteration.`);
    // Trees are iteration-major: tree it·T + c adds to class c, from the baseline.
    const raw = this.treeEnsemble(x, m.trees, T, 'SUM', m.baseline, (t) => t % T);
    if (m.task === 'regression') return raw;
    if (m.task === 'multiclass') return this.softmax(raw, T);
    // As predictHgb: p = 1 / (1 + exp(−raw)) (one Sigmoid: each operator costs a single row about 3 µs), and 1 − p.
    const one = g.scalar('float64', 1);
    const p1 = g.op('Sigmoid', [raw]);
    return g.op('Concat', [g.op('Sub', [one, p1]), p1], [attr.int('axis', 1)]);
  }

  private iforest(m: IForestModel, x: string): string {
    const g = this.g;
    const mean = this.treeEnsemble(x, m.trees, 1, 'AVERAGE');
    const exponent = g.op('Div', [g.op('Neg', [mean]), g.scalar('float64', m.normaliser)]);
    return g.op('Pow', [g.scalar('float64', 2), exponent]);
  }

  /** [N, k]: as predictHgb and predictLogistic: exp(z − max) over their sum, added class by class. */
  private softmax(z: string, k: number): string {
    const g = this.g;
    const e = g.op('Exp', [g.op('Sub', [z, g.op('ReduceMax', [z], [attr.ints('axes', [1]), attr.int('keepdims', 1)])])]);
    const parts = g.node('Split', [e], [attr.int('axis', 1)], { outputs: k });
    let sum = parts[0]!;
    for (const part of parts.slice(1)) sum = g.op('Add', [sum, part]);
    return g.op('Div', [e, sum]);
  }

  private pca(m: PcaModel, x: string): string {
    const g = this.g;
    const p = m.mean.length, k = m.k;
    const ct = new Array<number>(p * k);
    for (let a = 0; a < k; a++) for (let j = 0; j < p; j++) ct[j * k + a] = m.components[a * p + j]!;
    const z = g.op('Div', [g.op('Sub', [x, g.constant('float64', m.mean, [p], 'pca_mean')]), g.constant('float64', m.scale, [p], 'pca_scale')]);
    const scores = g.op('MatMul', [z, g.constant('float64', ct, [p, k], 'loadings')]);
    const sum = (v: string) => g.op('ReduceSum', [v, g.int64s([1])], [attr.int('keepdims', 1)]);
    const t2 = sum(g.op('Div', [g.op('Mul', [scores, scores]), g.constant('float64', m.eigenvalues, [k], 'eigenvalues')]));
    const resid = g.op('Sub', [z, g.op('MatMul', [scores, g.constant('float64', m.components, [k, p], 'components')])]);
    const spe = sum(g.op('Mul', [resid, resid]));
    return g.op('Max', [g.op('Div', [t2, g.scalar('float64', m.t2Limit)]), g.op('Div', [spe, g.scalar('float64', m.speLimit)])]);
  }
}

function thresholdOf(p: FittedPipeline): number {
  if (p.threshold === null || !Number.isFinite(p.threshold)) throw new Error(`A ${p.task} model needs a threshold.`);
  return p.threshold;
}
