import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { alarmLevel } from '../training/automl';
import type { Frame } from '../training/frame';
import { buildFeatures } from '../training/features';
import { predictFeatures, type FittedPipeline } from '../training/pipeline';
import { exportOnnx, onnxSignature, type OnnxMeta } from './export';
import { expectValidOnnx, feeds, plantFrame, settings, train } from './parity-harness';

const META: OnnxMeta = { modelName: 'Line 3 yield', modelVersion: 4, appVersion: '1.2.3' };

let frame: Frame;
let logistic: FittedPipeline;
let linear: FittedPipeline;
let iforest: FittedPipeline;

beforeAll(() => {
  frame = plantFrame(400, 11);
  logistic = train(frame, settings('binary'), [{ algorithm: 'logistic', params: { C: 1, derived: true } }]);
  linear = train(frame, settings('regression', { windowMinutes: null, lags: [] }), [{ algorithm: 'linear', params: { alpha: 1 } }]);
  iforest = train(frame, settings('anomaly', { lags: [2, 7] }), [{ algorithm: 'iforest', params: { trees: 30, sampleSize: 128 } }]);
});

const decode = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes);

describe('the exported model', () => {
  it('is the same bytes for the same pipeline and meta, also after the pipeline went through JSON', () => {
    for (const p of [logistic, linear, iforest]) {
      const a = exportOnnx(p, META);
      expectValidOnnx(a, `${p.task} ${p.algorithm}`);
      expect(Buffer.from(exportOnnx(p, META)).equals(Buffer.from(a))).toBe(true);
      expect(Buffer.from(exportOnnx(JSON.parse(JSON.stringify(p)) as FittedPipeline, META)).equals(Buffer.from(a))).toBe(true);
      expect(Buffer.from(exportOnnx(p, { ...META, modelVersion: 5 })).equals(Buffer.from(a))).toBe(false);
    }
  });

  it('declares IR 8, ai.onnx 17 and ai.onnx.ml 3, standard operators only and no ZipMap', () => {
    const m = decode(exportOnnx(iforest, META));
    expect(Number(m.irVersion)).toBe(8);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17], ['ai.onnx.ml', 3]]);
    const ops = new Set(m.graph!.node!.map((n) => `${n.domain || 'ai.onnx'}:${n.opType}`));
    expect(ops).toContain('ai.onnx.ml:TreeEnsembleRegressor');
    for (const op of ops) expect(op).toMatch(/^(ai\.onnx|ai\.onnx\.ml):/);
    expect([...ops].some((op) => op.endsWith('ZipMap'))).toBe(false);
  });

  it('carries its signature, name, version, app version and task as metadata, and says what it does in plain words', () => {
    const m = decode(exportOnnx(logistic, META));
    const props = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(props['millwright.signature']!)).toEqual(onnxSignature(logistic));
    expect(props['millwright.model']).toBe('Line 3 yield');
    expect(props['millwright.version']).toBe('4');
    expect(props['millwright.app_version']).toBe('1.2.3');
    expect(props['millwright.task']).toBe('binary');
    expect(m.producerName).toBe('Millwright');
    expect(m.producerVersion).toBe('1.2.3');
    expect(Number(m.modelVersion)).toBe(4);
    expect(m.graph!.name).toBe('Line 3 yield v4');
    expect(m.docString).toMatch(/^Model "Line 3 yield" version 4 \(Logistic regression\), made with Millwright 1\.2\.3\. It predicts "Failure", one of "no", "yes"/);
    expect(m.docString).toMatch(/up to 14 rows before it/);
  });

  it('names its inputs after the columns and its outputs by task', () => {
    const sig = onnxSignature(logistic);
    expect(sig.inputs).toEqual([
      { name: 'Inlet', type: 'float32', kind: 'number', unit: '°C' },
      { name: 'Outlet', type: 'float32', kind: 'number', unit: '°C' },
      { name: 'Pressure', type: 'float32', kind: 'number', unit: 'bar' },
      { name: 'Pump', type: 'float32', kind: 'boolean', unit: null },
      { name: 'Grade', type: 'string', kind: 'category', unit: null, levels: ['A', 'B', 'C'] },
    ]);
    expect(sig.outputs).toEqual([
      { name: 'label', type: 'string', shape: ['N'] },
      { name: 'probabilities', type: 'float32', shape: ['N', 2] },
      { name: 'contributions', type: 'float32', shape: ['N', 5] },
    ]);
    expect(sig).toMatchObject({ task: 'binary', classes: ['no', 'yes'], threshold: 0.5, target: 'Failure', historyRows: 14 });
    expect(onnxSignature(linear)).toMatchObject({ outputs: [{ name: 'value', type: 'float32', shape: ['N'] }, { name: 'contributions', type: 'float32', shape: ['N', 5] }], historyRows: 0, classes: null });
    expect(onnxSignature(iforest)).toMatchObject({ outputs: [{ name: 'score', type: 'float32', shape: ['N'] }, { name: 'anomaly', type: 'int64', shape: ['N'] }], target: null, historyRows: 14 });
    const m = decode(exportOnnx(linear, META));
    expect(m.graph!.input!.map((i) => i.name)).toEqual(['Inlet', 'Outlet', 'Pressure', 'Pump', 'Grade']);
    expect(m.graph!.output!.map((o) => o.name)).toEqual(['value', 'contributions']);
  });

  it('explains a linear answer: the contributions add up to the value (log-odds) less the intercept', async () => {
    for (const p of [linear, logistic]) {
      const session = await ort.InferenceSession.create(Buffer.from(exportOnnx(p, META)));
      const out = await session.run(feeds(onnxSignature(p), frame));
      const c = out.contributions!.data as Float32Array;
      const k = p.plan.inputs.length;
      const intercept = p.learner.kind === 'linear' ? p.learner.intercept : (p.learner as { intercept: number[] }).intercept[0]!;
      for (let i = 0; i < frame.rows; i += 7) {
        let sum = intercept;
        for (let j = 0; j < k; j++) sum += c[i * k + j]!;
        const want = p.task === 'regression' ? (out.value!.data as Float32Array)[i]! : Math.log((out.probabilities!.data as Float32Array)[2 * i + 1]! / (out.probabilities!.data as Float32Array)[2 * i]!);
        expect(Math.abs(sum - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));
      }
    }
  });

  it('answers an empty batch with empty outputs', async () => {
    const hgb = train(frame, settings('multiclass'), [{ algorithm: 'hgb', params: { maxIter: 5, learningRate: 0.1, maxLeafNodes: 7, minSamplesLeaf: 20, l2: 0, balanced: false } }]);
    for (const p of [iforest, hgb]) {
      const session = await ort.InferenceSession.create(Buffer.from(exportOnnx(p, META)));
      const empty: Record<string, ort.Tensor> = {};
      for (const i of onnxSignature(p).inputs) empty[i.name] = i.type === 'string' ? new ort.Tensor('string', [], [0]) : new ort.Tensor('float32', new Float32Array(0), [0]);
      const out = await session.run(empty);
      for (const o of onnxSignature(p).outputs) expect(out[o.name]!.dims[0], o.name).toBe(0);
    }
  });

  it('refuses an input column named like one of its answers', () => {
    const rename = (n: string) => (n === 'Inlet' ? 'label' : n);
    const p: FittedPipeline = {
      ...logistic,
      plan: {
        ...logistic.plan,
        inputs: logistic.plan.inputs.map((i) => ({ ...i, name: rename(i.name) })),
        features: logistic.plan.features.map((f) => ({ ...f, input: rename(f.input), ...(f.other ? { other: rename(f.other) } : {}) })),
      },
    };
    expect(() => exportOnnx(p, META)).toThrow(/input column "label" has the name of one of the model's answers/);
  });
});

describe('the anomaly threshold', () => {
  it('lies strictly between training scores, so no row sits on it, and flags the same rows as the quantile', () => {
    const scores = Float64Array.from({ length: 1000 }, (_, i) => ((i * 37) % 1000) / 7);
    const level = alarmLevel(scores, 0.995);
    const q = 994.005 / 7;
    expect(level).toBeCloseTo((q + 995 / 7) / 2, 12);
    expect(scores.filter((v) => v > level).length).toBe(5);
    expect(scores.filter((v) => v > q).length).toBe(5);
    // Ties at the top: just above them.
    const flat = Float64Array.from({ length: 10 }, () => 0.25);
    expect(alarmLevel(flat, 0.995)).toBeGreaterThan(0.25);
    expect(alarmLevel(flat, 0.995)).toBeLessThan(0.2501);
  });

  it('of a trained model is no row\'s score', () => {
    const scores = predictFeatures(iforest, buildFeatures(iforest.plan, frame)).score!;
    expect(scores.includes(iforest.threshold!)).toBe(false);
    expect(scores.some((v) => v > iforest.threshold!)).toBe(true);
  });
});
