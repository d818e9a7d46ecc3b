import * as ort from 'onnxruntime-node';
import type { ColumnData } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import type { Comparison, InputShift, SideSummary } from '../../../shared/registry';
import type { TrainingReport, TrainSettings } from '../../../shared/training';
import { cellValue } from '../datasets/column-store';
import type { DatasetReader } from '../datasets/reader';
import { scoreColumns, type Scored } from '../scoring/inference';
import { modelOnnx } from '../scoring/onnx-store';
import { splitRows } from '../training/automl';
import { ksDistance, scoreMetrics, type Truth } from '../training/evaluate';
import { loadFrame, numericValues, type Frame } from '../training/frame';
import { findModelVersion, type ModelVersionRecord } from '../training/models';
import type { Prediction } from '../training/pipeline';
import { encodeTarget } from '../training/target';
import type { Workspace } from '../workspace/workspace';

/**
 * "What changed?" between two model versions (DESIGN.md section 8): the
 * settings that differ, the data that differs, both re-scored by ONNX Runtime
 * on the same, newer holdout, and the rows where they disagree most.
 */

function describeSetting(s: TrainSettings, key: keyof TrainSettings): string {
  const v = s[key];
  if (Array.isArray(v)) return v.length ? v.join(', ') : key === 'algorithms' ? 'all that fit' : 'none';
  if (v === null || v === undefined) return 'none';
  if (key === 'holdoutFraction') return `${Math.round(Number(v) * 100)}%`;
  if (key === 'timeBudgetSeconds') return `${v} s`;
  if (key === 'windowMinutes') return `${v} min`;
  return String(v);
}

const SETTING_NAMES: [keyof TrainSettings, string][] = [
  ['task', 'Goal'],
  ['target', 'Predicts'],
  ['inputs', 'Inputs'],
  ['timeColumn', 'Time column'],
  ['windowMinutes', 'Window'],
  ['lags', 'Lags'],
  ['holdoutFraction', 'Checked on'],
  ['seed', 'Seed'],
  ['timeBudgetSeconds', 'Time budget'],
  ['algorithms', 'Algorithms tried'],
];

function summary(v: ModelVersionRecord, reader: DatasetReader): SideSummary {
  const dv = reader.version(v.dataset, v.datasetVersion);
  return { model: v.model, version: v.version, algorithm: v.algorithmTitle, createdAt: v.createdAt, createdBy: v.createdBy, dataset: v.dataset, datasetVersion: v.datasetVersion, rows: dv.rowCount, timeStart: dv.timeStart, timeEnd: dv.timeEnd };
}

function stats(col: ColumnData | null): InputShift['a'] {
  if (!col || 'codes' in col) return null;
  const v = Float64Array.from(numericValues(col).filter((x) => !Number.isNaN(x))).sort();
  if (!v.length) return null;
  const q = (p: number) => v[Math.min(v.length - 1, Math.floor(p * (v.length - 1)))]!;
  let sum = 0;
  for (const x of v) sum += x;
  return { mean: sum / v.length, p5: q(0.05), median: q(0.5), p95: q(0.95) };
}

function fmt(x: number): string {
  return String(Math.abs(x) >= 100 ? Math.round(x) : Math.abs(x) >= 1 ? Number(x.toFixed(2)) : Number(x.toPrecision(3)));
}

/** A metric in the verdict sentence: three figures below 1 with trailing zeros kept ("0.500 against 0.286"), as the tables beside it show them. */
function metricText(x: number): string {
  return Math.abs(x) >= 1 || x === 0 ? fmt(x) : x.toPrecision(3);
}

/** The answer in words, and the number the two models are compared on (positive-class probability, value, or score). */
function answerOf(s: Scored, i: number, k: number): { text: string; value: number } {
  if (s.value) return { text: fmt(s.value[i]!), value: s.value[i]! };
  if (s.score) return { text: `${s.anomaly![i] ? 'unusual' : 'normal'} (score ${fmt(s.score[i]!)})`, value: s.score[i]! };
  const p = s.probabilities!;
  let best = 0;
  for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + best]!) best = c;
  return { text: `${s.label![i]} (${Math.round(p[i * k + best]! * 100)}% sure)`, value: k === 2 ? p[i * 2 + 1]! : p[i * k + best]! };
}

/** Every row of a frame scored by a model version's ONNX graph (ONNX Runtime), in row order. */
export async function scoreAll(v: ModelVersionRecord, ws: Workspace, frame: Frame): Promise<Scored> {
  const stored = modelOnnx(ws, v);
  const missing = stored.signature.inputs.filter((i) => !frame.columns.has(i.name)).map((i) => `"${i.name}"`);
  if (missing.length) throw new AppError('bad_input', `${v.model}@${v.version} needs ${missing.join(', ')}, which the newer data does not have, so the two cannot be scored on the same rows.`, 'a');
  const session = await ort.InferenceSession.create(stored.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const parts: Scored[] = [];
  try {
    await scoreColumns(session, stored.signature, frame.columns, frame.rows, (b) => { parts.push(b); });
  } finally {
    await session.release();
  }
  const k = stored.signature.classes?.length ?? 0;
  const cat = <T extends Float32Array | Uint8Array>(get: (s: Scored) => T | undefined, Ctor: new (n: number) => T, width: number): T | undefined => {
    if (!get(parts[0]!)) return undefined;
    const out = new Ctor(frame.rows * width);
    let at = 0;
    for (const p of parts) { out.set(get(p)! as never, at); at += p.rows * width; }
    return out;
  };
  const out: Scored = { rows: frame.rows };
  if (parts[0]?.label) out.label = parts.flatMap((p) => p.label!);
  const pr = cat((p) => p.probabilities, Float32Array, k), va = cat((p) => p.value, Float32Array, 1), sc = cat((p) => p.score, Float32Array, 1), an = cat((p) => p.anomaly, Uint8Array, 1);
  if (pr) out.probabilities = pr;
  if (va) out.value = va;
  if (sc) out.score = sc;
  if (an) out.anomaly = an;
  return out;
}

function predictionOn(s: Scored, rows: Int32Array, classes: string[] | null): Prediction {
  const k = classes?.length ?? 0;
  if (s.value) return { value: Float64Array.from(rows, (i) => s.value![i]!) };
  if (s.score) return { score: Float64Array.from(rows, (i) => s.score![i]!), flag: Uint8Array.from(rows, (i) => s.anomaly![i]!) };
  const proba = new Float64Array(rows.length * k);
  rows.forEach((i, r) => { for (let c = 0; c < k; c++) proba[r * k + c] = s.probabilities![i * k + c]!; });
  const index = new Map(classes!.map((c, j) => [c, j]));
  return { proba, label: Int32Array.from(rows, (i) => index.get(s.label![i]!) ?? -1) };
}

export async function compareVersions(ws: Workspace, reader: DatasetReader, refA: string, refB: string): Promise<Comparison> {
  let va = findModelVersion(ws.db, refA);
  let vb = findModelVersion(ws.db, refB);
  if (va.id === vb.id) throw new AppError('bad_input', `Both sides are ${va.model}@${va.version}. Choose two different versions.`, 'b');
  if (va.task !== vb.task) throw new AppError('bad_input', `${va.model}@${va.version} and ${vb.model}@${vb.version} have different goals (${va.task}, ${vb.task}), so their answers cannot be compared.`, 'b');
  if (va.createdAt > vb.createdAt) [va, vb] = [vb, va];
  const settings: Comparison['settings'] = [];
  for (const [key, name] of SETTING_NAMES) {
    const a = describeSetting(va.settings, key), b = describeSetting(vb.settings, key);
    if (a !== b) settings.push({ name, a, b });
  }
  if (va.algorithmTitle !== vb.algorithmTitle) settings.push({ name: 'Kept model', a: va.algorithmTitle, b: vb.algorithmTitle });
  if (va.appVersion !== vb.appVersion) settings.push({ name: 'App version', a: va.appVersion, b: vb.appVersion });

  // The newer version's data and holdout: both models answer the same rows.
  const dvA = reader.version(va.dataset, va.datasetVersion);
  const dvB = reader.version(vb.dataset, vb.datasetVersion);
  const s = vb.settings;
  const sigA = modelOnnx(ws, va).signature, sigB = modelOnnx(ws, vb).signature;
  const names = [...new Set([...sigA.inputs.map((i) => i.name), ...sigB.inputs.map((i) => i.name), ...(s.target ? [s.target] : []), ...(s.labelColumn ? [s.labelColumn] : [])])].filter((n) => dvB.schema.some((c) => c.name === n));
  const frame = loadFrame(ws.blobs, dvB.schema, dvB.rowCount, names, s.timeColumn);
  const target = s.target ? encodeTarget(frame.columns.get(s.target)!, s.target, s.task) : null;
  const usable = target ? target.usable : Int32Array.from({ length: frame.rows }, (_, i) => i);
  const split = splitRows(frame, s, target, usable);
  const hold = split.holdout;
  const [scA, scB] = [await scoreAll(va, ws, frame), await scoreAll(vb, ws, frame)];
  let truth: Truth;
  if (target?.kind === 'classes') {
    // Both models' classes must line up with the newer target's.
    truth = { kind: 'classes', y: Int32Array.from(hold, (i) => target.y[i]!), classCount: target.classes.length };
  } else if (target) truth = { kind: 'values', y: Float64Array.from(hold, (i) => target.y[i]!) };
  else {
    const lab = s.labelColumn ? numericValues(frame.columns.get(s.labelColumn)!) : null;
    truth = { kind: 'label', y: lab ? Uint8Array.from(hold, (i) => (lab[i]! > 0 ? 1 : 0)) : null };
  }
  const classes = target?.kind === 'classes' ? target.classes : null;
  const metrics = { a: scoreMetrics(s.task, truth, predictionOn(scA, hold, classes)), b: scoreMetrics(s.task, truth, predictionOn(scB, hold, classes)) };

  const k = classes?.length ?? 0;
  const gaps = Array.from(hold, (i) => ({ i, gap: Math.abs(answerOf(scA, i, k).value - answerOf(scB, i, k).value) + (scA.label && scA.label[i] !== scB.label![i] ? 1 : 0) + (scA.anomaly && scA.anomaly[i] !== scB.anomaly![i] ? 1 : 0) }));
  gaps.sort((x, y) => y.gap - x.gap || x.i - y.i);
  const inputNames = [...new Set([...sigA.inputs, ...sigB.inputs].map((i) => i.name))];
  const disagreements = gaps.slice(0, 10).filter((g) => g.gap > 0).map((g) => ({
    row: g.i,
    a: answerOf(scA, g.i, k).text,
    b: answerOf(scB, g.i, k).text,
    actual: s.target ? (() => { const c = cellValue(frame.columns.get(s.target!)!, g.i); return c === null ? null : String(c); })() : null,
    gap: g.gap,
    values: Object.fromEntries(inputNames.map((n) => [n, frame.columns.has(n) ? cellValue(frame.columns.get(n)!, g.i) : null])),
  }));

  // Data: columns, rows, and how the most important inputs moved between the two dataset versions.
  const colsA = new Set(dvA.schema.map((c) => c.name)), colsB = new Set(dvB.schema.map((c) => c.name));
  const report = JSON.parse(ws.blobs.read(vb.reportBlob).toString('utf8')) as TrainingReport;
  const important = [...new Set([...report.importance.map((x) => x.input), ...sigB.inputs.map((i) => i.name)])].slice(0, 5);
  const sameData = dvA.id === dvB.id;
  const inputs: InputShift[] = important.map((input) => {
    const colA = colsA.has(input) ? reader.column(dvA, input) : null;
    const colB = colsB.has(input) ? reader.column(dvB, input) : null;
    const a = stats(colA), b = stats(colB);
    let ks: number | null = null;
    if (colA && colB && a && b) ks = ksDistance(Float64Array.from(numericValues(colA).filter((x) => !Number.isNaN(x))), Float64Array.from(numericValues(colB).filter((x) => !Number.isNaN(x))));
    const unit = dvB.schema.find((c) => c.name === input)?.unit;
    const u = unit ? ` ${unit}` : '';
    const sentence = !a || !b
      ? `${input}: ${!colA ? 'not in the older data' : !colB ? 'not in the newer data' : 'text values, compared by the models only'}.`
      : sameData
        ? `${input}: the same data.`
        : `${input}: median ${fmt(a.median)}${u} → ${fmt(b.median)}${u}, 90% of values ${fmt(a.p5)}–${fmt(a.p95)} → ${fmt(b.p5)}–${fmt(b.p95)}${u}${ks !== null && ks >= 0.1 ? ' (clearly shifted)' : ks !== null && ks >= 0.05 ? ' (slightly shifted)' : ' (about the same)'}.`;
    return { input, a, b, ks, sentence };
  });

  const m = vb.metric;
  const ma = metrics.a[m.key], mb = metrics.b[m.key];
  const better = ma === undefined || mb === undefined ? null : ma === mb ? 'equal' : (mb > ma) === m.higherIsBetter ? 'b' : 'a';
  const sentence = better === null
    ? `Both were scored on the same ${hold.length.toLocaleString('en-US')} rows of ${vb.dataset}, version ${vb.datasetVersion}, set aside when version ${vb.version} was trained.`
    : better === 'equal'
      ? `On the same ${hold.length.toLocaleString('en-US')} rows, both score ${m.label} ${metricText(mb!)}.`
      : `On the same ${hold.length.toLocaleString('en-US')} rows, version ${better === 'b' ? vb.version : va.version} does better: ${m.label} ${metricText(better === 'b' ? mb! : ma!)} against ${metricText(better === 'b' ? ma! : mb!)}.`;
  // The kept model of a classifier or value model was retrained on every row, these included.
  const own = vb.metrics[m.key];
  const caveat = vb.task !== 'anomaly' && own !== undefined
    ? ` Version ${vb.version} learned from these rows when it was retrained on all its data, so its figures here are better than it will do on new data; judged before that, its ${m.label} was ${metricText(own)}.`
    : '';
  return {
    a: summary(va, reader),
    b: summary(vb, reader),
    settings,
    data: { columnsAdded: [...colsB].filter((c) => !colsA.has(c)), columnsRemoved: [...colsA].filter((c) => !colsB.has(c)), rowsA: dvA.rowCount, rowsB: dvB.rowCount, sameData, inputs },
    holdout: { dataset: vb.dataset, datasetVersion: vb.datasetVersion, rows: hold.length, kind: split.kind, of: `${vb.model}@${vb.version}` },
    metric: m,
    metrics,
    disagreements,
    sentence: sentence + caveat,
  };
}
