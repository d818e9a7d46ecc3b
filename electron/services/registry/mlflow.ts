import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { AppError } from '../../../shared/errors';
import type { Cell } from '../../../shared/scoring';
import type { OnnxSignature } from '../onnx/export';
import { tensor, valueInfo } from '../onnx/proto';
import { modelOnnx } from '../scoring/onnx-store';
import type { ModelVersionRecord } from '../training/models';
import type { Workspace } from '../workspace/workspace';

/**
 * An MLflow model directory for a model version (DESIGN.md section 8), so a
 * data-science team that uses MLflow can load it with mlflow.pyfunc or
 * mlflow.onnx: MLmodel (onnx and python_function flavors, signature, input
 * example), model.onnx, and the environment files MLflow reads.
 */

/** The MLflow and Python versions the directory says it was written for (Debian 12's Python). */
export const MLFLOW_VERSION = '2.9.2';
const PYTHON_VERSION = '3.11.2';
const ONNX_VERSION = '1.12.0';
export const MLFLOW_REQUIREMENTS = [`mlflow==${MLFLOW_VERSION}`, `onnx==${ONNX_VERSION}`, 'onnxruntime>=1.16', 'numpy', 'pandas'];

/**
 * The version's graph with one-dimensional outputs only: mlflow.pyfunc turns
 * every output into one DataFrame column, so probabilities become
 * `probability_<class>` and the per-input contributions are left out.
 */
export function pyfuncGraph(bytes: Uint8Array, sig: OnnxSignature): { bytes: Uint8Array; outputs: { name: string; type: string }[] } {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const outputs: { name: string; type: string }[] = [];
  const keep: onnx.IValueInfoProto[] = [];
  for (const o of g.output ?? []) {
    if (o.name === 'contributions') continue;
    if (o.name === 'probabilities' && sig.classes) {
      const parts = sig.classes.map((_, c) => `mlflow_probability_part_${c}`);
      g.node!.push(onnx.NodeProto.create({ name: 'mlflow_split_probabilities', opType: 'Split', input: ['probabilities'], output: parts, attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] }));
      g.initializer!.push(tensor('int64', [1], [1], 'mlflow_axis_1') as onnx.TensorProto);
      sig.classes.forEach((cls, c) => {
        const name = `probability_${cls}`;
        g.node!.push(onnx.NodeProto.create({ name: `mlflow_squeeze_${c}`, opType: 'Squeeze', input: [parts[c]!, 'mlflow_axis_1'], output: [name] }));
        keep.push(valueInfo(name, 'float32', ['N']));
        outputs.push({ name, type: 'float' });
      });
      continue;
    }
    keep.push(o);
    const t = sig.outputs.find((x) => x.name === o.name)?.type;
    outputs.push({ name: o.name!, type: t === 'string' ? 'string' : t === 'int64' ? 'long' : 'float' });
  }
  g.output = keep as onnx.ValueInfoProto[];
  return { bytes: onnx.ModelProto.encode(model).finish(), outputs };
}

/** YAML for the plain structures MLflow's files hold (maps, lists, strings, numbers, null). */
function yaml(value: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  const scalar = (v: unknown): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    const s = String(v);
    return /^[A-Za-z_][\w./-]*$/.test(s) && !/^(null|true|false|yes|no|on|off|~)$/i.test(s) ? s : `'${s.replace(/'/g, "''")}'`;
  };
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v !== null ? `${pad}-\n${yaml(v, indent + 2)}` : `${pad}- ${scalar(v)}`)).join('\n');
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => {
      if (v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length : Object.keys(v).length)) return `${pad}${k}:\n${yaml(v, indent + 2)}`;
      if (v !== null && typeof v === 'object') return `${pad}${k}: ${Array.isArray(v) ? '[]' : '{}'}`;
      return `${pad}${k}: ${scalar(v)}`;
    })
    .join('\n');
}

/** The column types of MLflow's ColSpec. */
function colType(i: OnnxSignature['inputs'][number]): string {
  return i.type === 'string' ? 'string' : 'float';
}

export interface MlflowExport {
  dir: string;
  files: string[];
  modelUuid: string;
}

export function writeMlflow(ws: Workspace, v: ModelVersionRecord, outDir: string, example: Record<string, Cell>): MlflowExport {
  const dir = path.resolve(outDir);
  if (fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length)) {
    throw new AppError('bad_input', `${dir} already exists and is not an empty folder. Choose a new folder for the MLflow model.`, 'out');
  }
  const parent = path.dirname(dir);
  if (!fs.existsSync(parent)) throw new AppError('bad_input', `Cannot write ${dir}: the folder ${parent} does not exist.`, 'out');
  const stored = modelOnnx(ws, v);
  const sig = stored.signature;
  const graph = pyfuncGraph(stored.bytes, sig);
  // Deterministic: the same version gives the same directory.
  const uuid = crypto.createHash('sha256').update(`${v.onnxHash}:${v.model}:${v.version}`).digest('hex').slice(0, 32);
  const inputs = sig.inputs.map((i) => ({ type: colType(i), name: i.name, required: true }));
  const outputs = graph.outputs.map((o) => ({ type: o.type, name: o.name, required: true }));
  const exampleRow = sig.inputs.map((i) => {
    const c = example[i.name] ?? null;
    return i.type === 'string' ? (c === null ? '' : String(c)) : typeof c === 'number' ? c : c === true ? 1 : c === false ? 0 : null;
  });
  const files: Record<string, string | Uint8Array> = {
    'model.onnx': graph.bytes,
    'input_example.json': JSON.stringify({ columns: sig.inputs.map((i) => i.name), data: [exampleRow] }),
    'requirements.txt': MLFLOW_REQUIREMENTS.join('\n') + '\n',
    'python_env.yaml': yaml({ python: PYTHON_VERSION, build_dependencies: ['pip'], dependencies: ['-r requirements.txt'] }) + '\n',
    'conda.yaml': yaml({ channels: ['conda-forge'], dependencies: [`python=${PYTHON_VERSION}`, 'pip', { pip: MLFLOW_REQUIREMENTS }], name: 'mlflow-env' }) + '\n',
  };
  const size = Object.values(files).reduce((a, f) => a + (typeof f === 'string' ? Buffer.byteLength(f) : f.length), 0);
  files.MLmodel =
    yaml({
      flavors: {
        onnx: { code: null, data: 'model.onnx', onnx_version: ONNX_VERSION, providers: ['CPUExecutionProvider'] },
        python_function: { data: 'model.onnx', env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' }, loader_module: 'mlflow.onnx', python_version: PYTHON_VERSION },
      },
      metadata: {
        millwright_model: v.model,
        millwright_version: v.version,
        millwright_app_version: v.appVersion,
        task: sig.task,
        target: sig.target,
        classes: sig.classes ? JSON.stringify(sig.classes) : null,
        threshold: sig.threshold,
        trained_on: `${v.dataset}@${v.datasetVersion}`,
        onnx_sha256: crypto.createHash('sha256').update(graph.bytes).digest('hex'),
      },
      mlflow_version: MLFLOW_VERSION,
      model_size_bytes: size,
      model_uuid: uuid,
      saved_input_example_info: { artifact_path: 'input_example.json', pandas_orient: 'split', type: 'dataframe' },
      signature: { inputs: JSON.stringify(inputs), outputs: JSON.stringify(outputs), params: null },
      utc_time_created: v.createdAt.replace('T', ' ').replace('Z', ''),
    }) + '\n';
  // Written into a temporary folder and renamed, so a failure leaves no half directory.
  const tmp = `${dir}.part-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  try {
    for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), data);
    if (fs.existsSync(dir)) fs.rmdirSync(dir);
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  ws.audit.record('model.export_mlflow', { model: v.model, version: v.version, dir });
  return { dir, files: Object.keys(files).sort(), modelUuid: uuid };
}
