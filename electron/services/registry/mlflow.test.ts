import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Input, MethodName, Output } from '../../../shared/api';
import type { Prediction } from '../../../shared/scoring';
import { createCore, type Core } from '../compose';
import { checkOnnxModel } from '../onnx/check-model';
import { MLFLOW_REQUIREMENTS, MLFLOW_VERSION } from './mlflow';

let root: string;
let core: Core;

async function call<K extends MethodName>(name: K, arg: Input<K> | Record<string, unknown>): Promise<Output<K>> {
  const env = await core.call(name, arg);
  if (!env.ok) throw Object.assign(new Error(env.error.message), { code: env.error.code });
  return env.value as Output<K>;
}

/** The YAML files parsed by Python's yaml module (python3-yaml), as MLflow reads them. */
function readYaml(file: string): Record<string, unknown> {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1])), default=str))', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`yaml could not read ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-mlflow-'));
  core = createCore({ workspaceDir: path.join(root, 'ws') });
  const file = path.join(root, 'pumps.csv');
  const lines = ['Line,Flow [m3/h],Vibration [mm/s],Trip'];
  for (let i = 0; i < 600; i++) {
    const flow = (i * 37) % 101, vib = ((i * 53) % 89) / 10, line = ['A', 'B', 'C'][i % 3]!;
    lines.push(`${line},${flow},${vib},${flow > 60 && vib > 3 ? 'trip' : 'ok'}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const inspected = await call('imports.inspect', { paths: [file] });
  const imp = await call('imports.analyze', { paths: [file], settings: inspected.settings, save: { name: 'pumps' } });
  expect((await core.jobs.wait(imp.id)).state).toBe('done');
  const job = await call('training.start', { dataset: 'pumps', task: 'binary', target: 'Trip', algorithms: ['hgb'], timeBudgetSeconds: 10, model: 'P-101' });
  expect((await core.jobs.wait(job.id)).state).toBe('done');
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('MLflow export', () => {
  it('writes an MLmodel with the onnx and python_function flavors, the signature and an input example', async () => {
    const dir = path.join(root, 'mlflow-model');
    const r = await call('models.exportMlflow', { model: 'P-101@1', out: dir });
    expect(r.files).toEqual(['MLmodel', 'conda.yaml', 'input_example.json', 'model.onnx', 'python_env.yaml', 'requirements.txt']);
    expect(fs.readdirSync(dir).sort()).toEqual(r.files);
    const m = readYaml(path.join(dir, 'MLmodel')) as {
      flavors: { onnx: Record<string, unknown>; python_function: Record<string, unknown> };
      signature: { inputs: string; outputs: string; params: null };
      saved_input_example_info: Record<string, unknown>;
      mlflow_version: string;
      model_uuid: string;
      model_size_bytes: number;
      utc_time_created: string;
      metadata: Record<string, unknown>;
    };
    expect(m.flavors.onnx).toEqual({ code: null, data: 'model.onnx', onnx_version: '1.12.0', providers: ['CPUExecutionProvider'] });
    expect(m.flavors.python_function).toEqual({ data: 'model.onnx', env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' }, loader_module: 'mlflow.onnx', python_version: '3.11.2' });
    expect(m.mlflow_version).toBe(MLFLOW_VERSION);
    expect(m.model_uuid).toMatch(/^[0-9a-f]{32}$/);
    expect(m.model_size_bytes).toBeGreaterThan(fs.statSync(path.join(dir, 'model.onnx')).size);
    expect(m.utc_time_created).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(m.saved_input_example_info).toEqual({ artifact_path: 'input_example.json', pandas_orient: 'split', type: 'dataframe' });
    expect(JSON.parse(m.signature.inputs)).toEqual([
      { type: 'string', name: 'Line', required: true },
      { type: 'float', name: 'Flow', required: true },
      { type: 'float', name: 'Vibration', required: true },
    ]);
    expect(JSON.parse(m.signature.outputs)).toEqual([
      { type: 'string', name: 'label', required: true },
      { type: 'float', name: 'probability_ok', required: true },
      { type: 'float', name: 'probability_trip', required: true },
    ]);
    expect(m.signature.params).toBeNull();
    expect(m.metadata).toEqual(expect.objectContaining({ millwright_model: 'P-101', millwright_version: 1, task: 'binary', target: 'Trip', trained_on: 'pumps@1' }));
    expect(fs.readFileSync(path.join(dir, 'requirements.txt'), 'utf8').trim().split('\n')).toEqual(MLFLOW_REQUIREMENTS);
    expect(readYaml(path.join(dir, 'python_env.yaml'))).toEqual({ python: '3.11.2', build_dependencies: ['pip'], dependencies: ['-r requirements.txt'] });
    expect(readYaml(path.join(dir, 'conda.yaml'))).toEqual({ channels: ['conda-forge'], dependencies: ['python=3.11.2', 'pip', { pip: MLFLOW_REQUIREMENTS }], name: 'mlflow-env' });
  });

  it('holds a valid graph whose outputs are one column each, giving the app\'s answer for the input example', async () => {
    const dir = path.join(root, 'mlflow-model');
    checkOnnxModel(path.join(dir, 'model.onnx'));
    const example = JSON.parse(fs.readFileSync(path.join(dir, 'input_example.json'), 'utf8')) as { columns: string[]; data: (string | number)[][] };
    expect(example.columns).toEqual(['Line', 'Flow', 'Vibration']);
    const session = await ort.InferenceSession.create(fs.readFileSync(path.join(dir, 'model.onnx')));
    expect(session.outputNames).toEqual(['label', 'probability_ok', 'probability_trip']);
    const row = example.data[0]!;
    const out = await session.run({
      Line: new ort.Tensor('string', [String(row[0])], [1]),
      Flow: new ort.Tensor('float32', Float32Array.of(Number(row[1])), [1]),
      Vibration: new ort.Tensor('float32', Float32Array.of(Number(row[2])), [1]),
    });
    for (const name of session.outputNames) expect(out[name]!.dims).toEqual([1]);
    const [app] = (await call('models.predict', { model: 'P-101', rows: [{ Line: row[0]!, Flow: row[1]!, Vibration: row[2]! }] })) as Prediction[];
    expect(out.label!.data[0]).toBe(app!.prediction);
    expect(Number(out.probability_trip!.data[0])).toBeCloseTo(app!.probabilities!.trip!, 6);
    await session.release();
  });

  it('is the same directory every time, and refuses a folder that is not empty', async () => {
    const again = path.join(root, 'again');
    await call('models.exportMlflow', { model: 'P-101', out: again });
    for (const f of fs.readdirSync(again)) expect(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(root, 'mlflow-model', f)))).toBe(true);
    await expect(call('models.exportMlflow', { model: 'P-101', out: again })).rejects.toThrow(/already exists and is not an empty folder/);
    await expect(call('models.exportMlflow', { model: 'P-101', out: path.join(root, 'no', 'such') })).rejects.toThrow(/does not exist/);
  });
});
